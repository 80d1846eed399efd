//! `/api/sync`: what the caller missed.

use axum::extract::State;
use axum::Json;
use confab_model::api::SyncQuery;
use confab_model::{ErrorBody, SyncPage, SYNC_PAGE_DEFAULT, SYNC_PAGE_MAX};

use crate::auth::AuthUser;
use crate::error::{ApiQuery, AppError};
use crate::state::AppState;
use crate::store;

/// Every change visible to the caller with a seq above `since`, in order, paged.
#[utoipa::path(get, path = "/api/sync", tag = "sync", security(("bearer" = [])),
    params(SyncQuery),
    responses((status = 200, body = SyncPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
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
    Ok(Json(
        state
            .db()
            .read(move |c| store::sync::changes_since(c, user, since, limit))
            .await?,
    ))
}
