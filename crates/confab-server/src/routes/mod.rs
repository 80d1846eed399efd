//! The HTTP routes, one module per area, and the OpenAPI document describing them.

pub mod account;
pub mod chat;
pub mod conversations;
pub mod health;
pub mod knowledge;
pub mod observe;
pub mod openapi;
pub mod pusher;
pub mod sessions;
pub mod sync;
pub mod triggers;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, patch, post, put};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::AppError;
use crate::state::AppState;

/// The largest request body accepted, in bytes (a 4,000-character message is at most 16 KB).
const MAX_BODY: usize = 64 * 1024;
/// The longest a request may take before it is answered 503: every route is a few database
/// statements, so a request this slow is stuck, and holding it only holds memory.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests handled at once by this process; more wait their turn (under the timeout). A
/// safety net for memory, far above what a team's apps send; per-account and per-address
/// limits are what keep one client from taking it.
pub const MAX_IN_FLIGHT: usize = 1024;
/// Responses smaller than this are sent as they are: compressing them costs more than it saves.
const COMPRESS_ABOVE: u16 = 1024;

/// Builds the router for `state`: every `/api` route, `/healthz`, JSON 404/405 fallbacks.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(account::healthz))
        .route("/readyz", get(health::readyz))
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
        .route("/api/sync/head", get(sync::head))
        .route("/api/pusher/auth", post(pusher::authorize))
        .route("/api/pusher/auth/batch", post(pusher::authorize_batch))
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
        // JSON (sync pages, message pages) compresses about tenfold; clients that send
        // `Accept-Encoding: gzip` (the app does) get it.
        .layer(CompressionLayer::new().gzip(true).compress_when(
            SizeAbove::new(COMPRESS_ABOVE).and(NotForContentType::const_new("text/event-stream")),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(GlobalConcurrencyLimitLayer::new(MAX_IN_FLIGHT))
        // Outside the global cap: an address over its share is answered at once rather than
        // queueing for a slot it would then hold.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::limit_in_flight,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::track,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound("no such route")
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
