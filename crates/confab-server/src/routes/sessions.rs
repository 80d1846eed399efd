//! A user's own password and sessions: `POST /api/account/password` (change it; every other
//! session ends) and `POST /api/account/sessions/revoke` ("sign out everywhere").
//!
//! What it does: revokes tokens in the database first, then has [`crate::realtime`] close the
//! user's live sockets, so a socket that reconnects is refused its auth. What it never does:
//! fail a request because closing sockets failed (that is logged and retried), or log or echo
//! a password.

use axum::extract::State;
use axum::http::StatusCode;
use confab_model::api::ChangePasswordRequest;
use confab_model::ErrorBody;

use crate::auth::{self, AuthUser, ClientIp};
use crate::db::DbError;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store;
use crate::throttle;

/// Changes the caller's password. The current one must be given; a wrong one counts as a
/// failed login for the caller's email and address (so guessing through here is limited as
/// login is). On success every other session of the user is revoked and their sockets closed
/// (this device's socket too: it reconnects with its still-valid token).
#[utoipa::path(post, path = "/api/account/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other session is revoked"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "`forbidden`: the current password is wrong", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the new password is too short or too long", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    me: AuthUser,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    // A wrong current password is a failed sign-in: the same throttle, counted before hashing.
    auth::check_new_password(&body.new_password)?;
    let email_key = throttle::email_key(&me.user.email);
    let address = throttle::address_key(ip);
    super::account::admit(&state, &email_key, &address).await?;
    let user = me.id();
    let hash = state
        .db()
        .read(move |c| store::users::password_hash(c, user))
        .await?
        .ok_or(AppError::Unauthorized)?;
    let verified = match auth::verify_on_pool(body.current_password, Some(hash)).await {
        Ok(v) => v,
        Err(e) => {
            let (e2, a2) = (email_key, address);
            state
                .db()
                .write(move |c| -> Result<_, AppError> {
                    Ok(throttle::store::unreserve(c, &e2, &a2).map_err(DbError::from)?)
                })
                .await?;
            return Err(e.into());
        }
    };
    if !verified {
        // The reservation stays: it was this failure.
        return Err(AppError::Forbidden("the current password is wrong"));
    }
    let new_hash = auth::hash_on_pool(body.new_password).await?;
    let keep = me.token_hash;
    state
        .db()
        .write(move |c| -> Result<_, AppError> {
            throttle::store::succeeded(c, &email_key, &address).map_err(DbError::from)?;
            Ok(store::users::set_password(c, user, &new_hash, Some(&keep))?)
        })
        .await?
        .ok_or(AppError::Unauthorized)?;
    state.realtime().terminate_user(user);
    Ok(StatusCode::NO_CONTENT)
}

/// Signs the caller out everywhere: every token of theirs is revoked, this one included, and
/// their live sockets are closed.
#[utoipa::path(post, path = "/api/account/sessions/revoke", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Every session of the caller is revoked"),
        (status = 401, body = ErrorBody)))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<StatusCode, AppError> {
    let user = me.id();
    state
        .db()
        .write(move |c| store::users::revoke_tokens(c, user, None))
        .await?;
    state.realtime().terminate_user(user);
    Ok(StatusCode::NO_CONTENT)
}
