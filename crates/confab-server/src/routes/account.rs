//! Login, logout, the caller, the directory, public config and health.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use confab_model::api::{ClientConfig, LoginRequest, LoginResponse};
use confab_model::{ErrorBody, User};

use crate::auth::{self, AuthUser, ClientIp};
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store;
use crate::time::now_ms;

/// Liveness: always `{"status":"ok"}`.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The server is up", body = serde_json::Value)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Exchanges email and password for a bearer token.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    if state.limiter().is_limited(&body.email, ip) {
        return Err(AppError::RateLimited);
    }
    let email = body.email.clone();
    let found = state
        .db()
        .read(move |c| store::users::find_login(c, &email))
        .await?;
    let hash = found
        .as_ref()
        .map_or_else(|| auth::decoy_hash().to_owned(), |(_, h)| h.clone());
    let password = body.password.clone();
    let verified = auth::verify_password_off_workers(password, hash).await?;
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            state.limiter().record_failure(&body.email, ip);
            return Err(AppError::InvalidCredentials);
        }
    };
    state.limiter().record_success(&body.email);
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let user_id = user.id;
    let now = now_ms();
    let expires = now + auth::TOKEN_TTL.as_millis() as i64;
    state
        .db()
        .write(move |c| store::users::insert_token(c, &hash, user_id, expires, now))
        .await?;
    Ok(Json(LoginResponse { token, user }))
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

/// The directory of enabled users.
#[utoipa::path(get, path = "/api/users", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    _me: AuthUser,
) -> Result<Json<Vec<User>>, AppError> {
    Ok(Json(state.db().read(store::users::directory).await?))
}

/// The public realtime settings (never the secret).
#[utoipa::path(get, path = "/api/config", tag = "meta", security(("bearer" = [])),
    responses((status = 200, body = ClientConfig), (status = 401, body = ErrorBody)))]
pub async fn config(State(state): State<AppState>, _me: AuthUser) -> Json<ClientConfig> {
    Json(state.client_config().clone())
}
