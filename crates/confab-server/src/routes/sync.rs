//! `/api/sync`: what the caller missed, or (with `until`) the history below a head;
//! `/api/sync/head`: where a client that reloads or signs in for the first time starts.

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
/// `GET /api/sync/head` and the lists. With `until` (at least `since`, else 400), only changes
/// up to it: the history below a head a client loaded the lists at, served from the horizon
/// when `since` is below it; an `until` above the newest seq is 410 `cursor_expired`.
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
    let page = match query.until {
        Some(until) if until < since => {
            return Err(AppError::BadRequest(format!(
                "until ({until}) must not be below since ({since})"
            )))
        }
        Some(until) => {
            state
                .db()
                .read(move |c| store::sync::history_page(c, user, since, until, limit))
                .await?
        }
        None => {
            state
                .db()
                .read(move |c| store::sync::page_after(c, user, since, limit))
                .await?
        }
    };
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

/// The newest seq and how many changes up to it the caller may see: read it first when
/// reloading from scratch or signing in for the first time, load the lists, then sync from it
/// (and page the history below it, counting up to the total).
#[utoipa::path(get, path = "/api/sync/head", tag = "sync", security(("bearer" = [])),
    responses((status = 200, body = SyncHead), (status = 401, body = ErrorBody)))]
pub async fn head(State(state): State<AppState>, me: AuthUser) -> Result<Json<SyncHead>, AppError> {
    let user = me.id();
    // One snapshot: the count is of exactly the changes up to this head.
    let (seq, total) = state
        .db()
        .read(move |c| {
            let seq = store::retention::head(c)?;
            Ok::<_, AppError>((seq, store::sync::count_visible(c, user, seq)?))
        })
        .await?;
    Ok(Json(SyncHead {
        seq,
        total: Some(total),
    }))
}
