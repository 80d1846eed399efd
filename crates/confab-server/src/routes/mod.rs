//! The HTTP routes, one module per area, and the OpenAPI document describing them.

pub mod account;
pub mod chat;
pub mod conversations;
pub mod knowledge;
pub mod openapi;
pub mod pusher;
pub mod sessions;
pub mod sync;
pub mod triggers;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post, put};
use axum::Router;

use crate::error::AppError;
use crate::state::AppState;

/// The largest request body accepted, in bytes (a 4,000-character message is at most 16 KB).
const MAX_BODY: usize = 64 * 1024;

/// Builds the router for `state`: every `/api` route, `/healthz`, JSON 404/405 fallbacks.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(account::healthz))
        .route("/api/auth/login", post(account::login))
        .route("/api/auth/logout", post(account::logout))
        .route("/api/me", get(account::me))
        .route("/api/users", get(account::users))
        .route("/api/config", get(account::config))
        .route(
            "/api/conversations",
            get(conversations::list_conversations).post(conversations::create_conversation),
        )
        .route(
            "/api/conversations/{id}",
            patch(conversations::rename_conversation),
        )
        .route(
            "/api/conversations/{id}/members",
            post(conversations::add_members),
        )
        .route(
            "/api/conversations/{id}/leave",
            post(conversations::leave_conversation),
        )
        .route(
            "/api/conversations/{id}/mute",
            put(conversations::set_muted),
        )
        .route(
            "/api/conversations/{id}/messages",
            get(chat::list_messages).post(chat::send_message),
        )
        .route("/api/conversations/{id}/read", post(chat::mark_read))
        .route("/api/knowledge/request", post(knowledge::create_request))
        .route("/api/knowledge/requests", get(knowledge::list_requests))
        .route("/api/knowledge/respond", post(knowledge::respond))
        .route(
            "/api/knowledge/requests/{id}/seen",
            post(knowledge::mark_answer_seen),
        )
        .route("/api/sync", get(sync::sync))
        .route("/api/pusher/auth", post(pusher::authorize))
        .route("/api/pusher/user-auth", post(pusher::authenticate))
        .route("/api/account/password", post(sessions::change_password))
        .route(
            "/api/account/sessions/revoke",
            post(sessions::revoke_sessions),
        )
        .route("/api/openapi.json", get(openapi::openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
