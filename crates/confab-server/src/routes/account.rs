//! Login, logout, the caller, the directory, public config and health.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use confab_model::api::{ClientConfig, LoginRequest, LoginResponse};
use confab_model::{ErrorBody, User, UserSummary};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::{self, AuthUser, ClientIp};
use crate::db::DbError;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store;
use crate::throttle;
use crate::time::now_ms;

/// Liveness: always `{"status":"ok"}`.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The server is up", body = serde_json::Value)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// How often (in sign-in attempts) stale throttle rows are purged along the way.
const PURGE_EVERY: u64 = 64;

/// Exchanges email and password for a bearer token.
///
/// Throttled per (email, client address) and per address before the password is looked at;
/// see [`crate::throttle`]. The client address is the TCP peer unless it is a trusted proxy.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody,
            description = "Too many failed sign-ins for this email from this address (a few are \
                free, then each waits twice as long, up to 15 minutes), too many from this \
                address across all emails, or the server is busy checking passwords. The \
                attempt was not looked at. Other addresses are not affected.",
            headers(("Retry-After" = u64, description = "Seconds until an attempt will be looked at")))))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let email_key = throttle::email_key(&body.email);
    let address = throttle::address_key(ip);
    admit(&state, &email_key, &address).await?;
    let email = body.email.clone();
    let found = state
        .db()
        .read(move |c| store::users::find_login(c, &email))
        .await?;
    let (user, hash) = found.map_or((None, None), |(u, h)| (Some(u), Some(h)));
    let verified = match auth::verify_on_pool(body.password, hash).await {
        Ok(v) => v,
        Err(e) => {
            // Never looked at: give the attempt back, so a busy server costs the caller nothing.
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
    let user = match user {
        Some(user) if verified => user,
        // The reservation stays: it was this failure.
        _ => return Err(AppError::InvalidCredentials),
    };
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let user_id = user.id;
    let now = now_ms();
    let expires = now + auth::TOKEN_TTL.as_millis() as i64;
    state
        .db()
        .write(move |c| -> Result<_, AppError> {
            throttle::store::succeeded(c, &email_key, &address).map_err(DbError::from)?;
            Ok(store::users::insert_token(c, &hash, user_id, expires, now)?)
        })
        .await?;
    Ok(Json(LoginResponse { token, user }))
}

/// Lets a sign-in attempt through the throttle, counting it, or refuses it with 429.
///
/// Refused attempts are answered from a read, off the one writer every other change shares;
/// the writer decides again, atomically, for those that pass (so concurrent ones are counted
/// one after the other and none slips past).
pub(crate) async fn admit(
    state: &AppState,
    email_key: &str,
    address: &str,
) -> Result<(), AppError> {
    let now = now_ms();
    let policy = *state.throttle_policy();
    let purge = next_attempt().is_multiple_of(PURGE_EVERY);
    let (e, a) = (email_key.to_owned(), address.to_owned());
    let peeked = state
        .db()
        .read(move |c| -> Result<_, AppError> {
            Ok(throttle::store::peek(c, &policy, &e, &a, now).map_err(DbError::from)?)
        })
        .await?;
    let decision = match peeked {
        throttle::Decision::Allow { .. } => {
            let (e, a) = (email_key.to_owned(), address.to_owned());
            state
                .db()
                .write(move |c| -> Result<_, AppError> {
                    if purge {
                        throttle::store::purge(c, &policy, now).map_err(DbError::from)?;
                    }
                    Ok(throttle::store::reserve(c, &policy, &e, &a, now).map_err(DbError::from)?)
                })
                .await?
        }
        refused => refused,
    };
    match decision {
        throttle::Decision::Allow { .. } => Ok(()),
        throttle::Decision::Throttle { retry_after } => Err(AppError::RateLimited {
            retry_after_secs: retry_after.as_secs(),
        }),
    }
}

/// A process-wide count of sign-in attempts, to purge throttle rows now and then.
fn next_attempt() -> u64 {
    static ATTEMPTS: AtomicU64 = AtomicU64::new(0);
    ATTEMPTS.fetch_add(1, Ordering::Relaxed)
}

/// Revokes the token used for this request and closes the user's live realtime sockets (all
/// their devices: the others reconnect and sign in again with their own tokens).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, me: AuthUser) -> Result<StatusCode, AppError> {
    let hash = me.token_hash;
    state
        .db()
        .write(move |c| store::users::delete_token(c, &hash))
        .await?;
    // After the commit: a socket that reconnects now is refused with this token.
    state.realtime().terminate_user(me.user.id);
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = ErrorBody)))]
pub async fn me(me: AuthUser) -> Json<User> {
    Json(me.user)
}

/// The directory of enabled users: ids and names, what the app shows. Never emails: a
/// teammate's email is a sign-in name, and handing every user all of them would hand a guesser
/// the list (`GET /api/me` keeps the caller's own).
#[utoipa::path(get, path = "/api/users", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<UserSummary>,
            description = "Enabled users by name: id and name only, never emails"),
        (status = 401, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    _me: AuthUser,
) -> Result<Json<Vec<UserSummary>>, AppError> {
    Ok(Json(state.db().read(store::users::directory).await?))
}

/// The public realtime settings (never the secret).
#[utoipa::path(get, path = "/api/config", tag = "meta", security(("bearer" = [])),
    responses((status = 200, body = ClientConfig), (status = 401, body = ErrorBody)))]
pub async fn config(State(state): State<AppState>, _me: AuthUser) -> Json<ClientConfig> {
    Json(state.client_config().clone())
}
