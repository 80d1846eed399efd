//! `/api/sync`: what the caller missed; `/api/sync/head`: where a client that reloads starts.

use axum::extract::State;
use axum::Json;
use confab_model::api::SyncQuery;
use confab_model::{ErrorBody, SyncHead, SyncPage, SYNC_PAGE_DEFAULT, SYNC_PAGE_MAX};

use crate::auth::AuthUser;
use crate::error::{ApiQuery, AppError};
use crate::state::AppState;
use crate::store;
use crate::store::sync::CursorProblem;

/// Every change visible to the caller with a seq above `since`, in order, paged. A `since`
/// below the horizon (older changes were compacted by retention) or above the newest seq (the
/// database was restored from an older backup) is answered 410 `cursor_expired`: reload from
/// `GET /api/sync/head` and the lists.
#[utoipa::path(get, path = "/api/sync", tag = "sync", security(("bearer" = [])),
    params(SyncQuery),
    responses((status = 200, body = SyncPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 410, body = ErrorBody,
            description = "`cursor_expired`: the cursor can no longer be served; reload")))]
pub async fn sync(
    State(state): State<AppState>,
    me: AuthUser,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> Result<Json<SyncPage>, AppError> {
    let since = query.since.unwrap_or(0).max(0);
    let limit = query
        .limit
        .unwrap_or(SYNC_PAGE_DEFAULT)
        .clamp(1, SYNC_PAGE_MAX);
    let user = me.id();
    let page = state
        .db()
        .read(move |c| store::sync::page_after(c, user, since, limit))
        .await?;
    match page {
        Ok(page) => Ok(Json(page)),
        Err(CursorProblem::Compacted) => Err(AppError::CursorExpired(
            "the changes after this cursor were compacted; reload from /api/sync/head",
        )),
        Err(CursorProblem::AheadOfLog) => Err(AppError::CursorExpired(
            "this cursor is ahead of the server's log (restored from a backup); reload from \
             /api/sync/head",
        )),
    }
}

/// The newest seq: read it first when reloading from scratch, load the lists, then sync from
/// it.
#[utoipa::path(get, path = "/api/sync/head", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = SyncHead), (status = 401, body = ErrorBody)))]
pub async fn head(
    State(state): State<AppState>,
    _me: AuthUser,
) -> Result<Json<SyncHead>, AppError> {
    let seq = state.db().read(store::retention::head).await?;
    Ok(Json(SyncHead { seq }))
}
