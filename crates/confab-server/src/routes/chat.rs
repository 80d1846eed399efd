//! Messages and read marks (conversations themselves are in [`super::conversations`]).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use confab_model::api::{MarkRead, MessagesQuery, SendMessage};
use confab_model::events;
use confab_model::{
    ChannelName, ConversationId, ErrorBody, Message, MESSAGES_PAGE_DEFAULT, MESSAGES_PAGE_MAX,
};

use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError};
use crate::routes::triggers::{socket_id_header, trigger};
use crate::state::AppState;
use crate::store;
use crate::time::now_ms;
use crate::write_limit::{self, WriteKind};

/// A page of messages, ascending by seq (the newest page when `before` is absent).
#[utoipa::path(get, path = "/api/conversations/{id}/messages", tag = "chat",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), MessagesQuery),
    responses((status = 200, body = Vec<Message>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<MessagesQuery>,
) -> Result<Json<Vec<Message>>, AppError> {
    let limit = query
        .limit
        .unwrap_or(MESSAGES_PAGE_DEFAULT)
        .clamp(1, MESSAGES_PAGE_MAX);
    let user = me.id();
    Ok(Json(
        state
            .db()
            .read(move |c| store::chat::messages(c, id, user, query.before, limit))
            .await?,
    ))
}

/// Posts a message; idempotent on `(sender, clientId)`. Triggers `new-message` on
/// `presence-chat-room-{id}`, excluding the `X-Socket-Id` connection.
#[utoipa::path(post, path = "/api/conversations/{id}/messages", tag = "chat",
    security(("bearer" = [])), request_body = SendMessage,
    params(("id" = i64, Path, description = "Conversation id"),
        ("X-Socket-Id" = Option<String>, Header, description = "The sender's Pusher socket id, excluded from the event")),
    responses((status = 201, description = "Stored now", body = Message),
        (status = 200, description = "A retry: the message stored before", body = Message),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "Over the account's message limit; nothing stored",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn send_message(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<Message>), AppError> {
    let socket_id = socket_id_header(&headers)?;
    let sender = me.user;
    let limits = *state.write_limits();
    let (message, created) = state
        .db()
        .write(move |c| {
            let posted = store::chat::post_message(c, id, &sender, &body.content, &body.client_id)?;
            // Charged after the idempotency check: a retry of a stored message costs nothing.
            if posted.1 {
                write_limit::spend(c, &limits, sender.id, WriteKind::Message, now_ms())?;
            }
            Ok::<_, AppError>(posted)
        })
        .await?;
    if !created {
        return Ok((StatusCode::OK, Json(message)));
    }
    trigger(
        &state,
        vec![ChannelName::chat_room(id)],
        events::NEW_MESSAGE,
        &message,
        socket_id,
    )?;
    Ok((StatusCode::CREATED, Json(message)))
}

/// Moves the caller's read mark forward. Triggers `read-receipt` on the room when it moved.
#[utoipa::path(post, path = "/api/conversations/{id}/read", tag = "chat",
    security(("bearer" = [])), request_body = MarkRead,
    params(("id" = i64, Path, description = "Conversation id"),
        ("X-Socket-Id" = Option<String>, Header, description = "Excluded from the event")),
    responses((status = 204, description = "Stored (or already there)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<StatusCode, AppError> {
    let socket_id = socket_id_header(&headers)?;
    let user = me.id();
    let receipt = state
        .db()
        .write(move |c| store::chat::mark_read(c, id, user, body.seq))
        .await?;
    if let Some(receipt) = receipt {
        trigger(
            &state,
            vec![ChannelName::chat_room(id)],
            events::READ_RECEIPT,
            &receipt,
            socket_id,
        )?;
    }
    Ok(StatusCode::NO_CONTENT)
}
