//! What the handlers that change things share: queueing a realtime event after the commit, and
//! reading the `X-Socket-Id` header that names the sender's connection to leave out of it.
//!
//! What it never does: wait for the event to be delivered, or fail a request because delivery
//! failed (the [`crate::realtime`] queue sends it later; clients catch up with `/api/sync`).

use axum::http::HeaderMap;
use pusher_channels::sign::is_valid_socket_id;

use crate::error::AppError;
use crate::realtime::OutEvent;
use crate::state::AppState;

/// The optional `X-Socket-Id` header: the sender's Pusher connection, excluded from the event.
///
/// # Errors
/// [`AppError::BadRequest`] if present but not a valid socket id.
pub fn socket_id_header(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    match headers.get("x-socket-id") {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .ok()
                .filter(|s| is_valid_socket_id(s))
                .ok_or_else(|| AppError::BadRequest("malformed X-Socket-Id".into()))?;
            Ok(Some(s.to_owned()))
        }
    }
}

/// Serializes `payload` and queues it for `channels` after the commit.
///
/// # Errors
/// [`AppError::Internal`] if the payload cannot be serialized (it always can).
pub fn trigger<T: serde::Serialize>(
    state: &AppState,
    channels: Vec<String>,
    name: &'static str,
    payload: &T,
    exclude_socket_id: Option<String>,
) -> Result<(), AppError> {
    state.realtime().send(OutEvent {
        channels,
        name,
        data: serde_json::to_string(payload)?,
        exclude_socket_id,
    });
    Ok(())
}
