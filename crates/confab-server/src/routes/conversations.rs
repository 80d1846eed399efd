//! Conversations: listing, starting (direct or group), renaming, adding people, leaving, muting.
//!
//! Each write answers after its commit and then queues its events on the members'
//! `private-user-{id}` channels; what a member's app misses there it gets from `/api/sync`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use confab_model::api::{AddMembers, CreateConversation, RenameConversation, SetMuted};
use confab_model::events::{self, ConversationCreated};
use confab_model::{ChannelName, Conversation, ConversationId, ErrorBody};

use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, AppError};
use crate::routes::triggers::trigger;
use crate::state::AppState;
use crate::store;
use crate::store::conversations::{Created, Updated};
use crate::time::now_ms;
use crate::write_limit::{self, WriteKind};

/// The caller's conversations, most recently active first, each with the caller's read state
/// and own `muted` setting.
#[utoipa::path(get, path = "/api/conversations", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = Vec<Conversation>), (status = 401, body = ErrorBody)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<Vec<Conversation>>, AppError> {
    let id = me.id();
    Ok(Json(
        state
            .db()
            .read(move |c| store::conversations::list(c, id))
            .await?,
    ))
}

/// Starts a conversation; the caller is a member. Without `kind`, one other member and no title
/// make a direct conversation, anything else a group. A pair has one direct conversation: asking
/// for it again, from either side, answers the existing one with 200 and announces nothing. A
/// new one triggers `conversation-created` on every member's `private-user-{id}`.
#[utoipa::path(post, path = "/api/conversations", tag = "chat", security(("bearer" = [])),
    request_body = CreateConversation,
    responses((status = 201, description = "Created now", body = Conversation),
        (status = 200, description = "The pair's existing direct conversation, as the caller sees it",
            body = Conversation),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "Over the account's limit for new conversations; nothing created",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn create_conversation(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(body): ApiJson<CreateConversation>,
) -> Result<(StatusCode, Json<Conversation>), AppError> {
    let creator = me.user;
    let limits = *state.write_limits();
    let created = state
        .db()
        .write(move |c| {
            let created = store::conversations::create(
                c,
                &creator,
                body.title.as_deref(),
                &body.member_ids,
                body.kind,
            )?;
            // Opening the pair's existing direct conversation creates nothing and costs nothing.
            if matches!(created, Created::New(_)) {
                write_limit::spend(c, &limits, creator.id, WriteKind::Conversation, now_ms())?;
            }
            Ok::<_, AppError>(created)
        })
        .await?;
    match created {
        Created::Existing(conversation) => Ok((StatusCode::OK, Json(conversation))),
        Created::New(event) => {
            announce(&state, &event, events::CONVERSATION_CREATED)?;
            Ok((StatusCode::CREATED, Json(event.conversation)))
        }
    }
}

/// Renames a group (a direct conversation keeps its people's names: 422). Triggers
/// `conversation-updated` on every member's `private-user-{id}` when the title changed.
#[utoipa::path(patch, path = "/api/conversations/{id}", tag = "chat", security(("bearer" = [])),
    request_body = RenameConversation,
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation as the caller sees it", body = Conversation),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rename_conversation(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<RenameConversation>,
) -> Result<Json<Conversation>, AppError> {
    let user = me.id();
    let updated = state
        .db()
        .write(move |c| store::conversations::rename(c, id, user, &body.title))
        .await?;
    answer_updated(&state, updated)
}

/// Adds people to a group (members already in it are ignored; a direct conversation: 422).
/// Triggers `conversation-updated` on every member's `private-user-{id}`, the new ones
/// included: that is how the conversation reaches them. Nothing new: 200, nothing announced.
#[utoipa::path(post, path = "/api/conversations/{id}/members", tag = "chat",
    security(("bearer" = [])), request_body = AddMembers,
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation as the caller sees it", body = Conversation),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<AddMembers>,
) -> Result<Json<Conversation>, AppError> {
    let user = me.id();
    let updated = state
        .db()
        .write(move |c| store::conversations::add_members(c, id, user, &body.member_ids))
        .await?;
    answer_updated(&state, updated)
}

/// Leaves a group (a direct conversation cannot be left: 422). Triggers `conversation-updated`
/// on the remaining members' `private-user-{id}` and `conversation-left` on the caller's. The
/// caller can no longer read it, subscribe to its room or sync its changes.
#[utoipa::path(post, path = "/api/conversations/{id}/leave", tag = "chat",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 204, description = "Left"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn leave_conversation(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<StatusCode, AppError> {
    let user = me.id();
    let left = state
        .db()
        .write(move |c| store::conversations::leave(c, id, user))
        .await?;
    if !left.updated.conversation.member_ids.is_empty() {
        announce(&state, &left.updated, events::CONVERSATION_UPDATED)?;
    }
    trigger(
        &state,
        vec![ChannelName::private_user(user)],
        events::CONVERSATION_LEFT,
        &left.left,
        None,
    )?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mutes or unmutes a conversation for the caller alone. Triggers `conversation-muted` on the
/// caller's `private-user-{id}` (their other devices) when the setting changed.
#[utoipa::path(put, path = "/api/conversations/{id}/mute", tag = "chat",
    security(("bearer" = [])), request_body = SetMuted,
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 204, description = "Stored (or already so)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_muted(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<SetMuted>,
) -> Result<StatusCode, AppError> {
    let user = me.id();
    let change = state
        .db()
        .write(move |c| store::conversations::set_muted(c, id, user, body.muted))
        .await?;
    if let Some(change) = change {
        trigger(
            &state,
            vec![ChannelName::private_user(user)],
            events::CONVERSATION_MUTED,
            &change,
            None,
        )?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Announces a rename or new members when there was one, and answers the caller's view.
fn answer_updated(state: &AppState, updated: Updated) -> Result<Json<Conversation>, AppError> {
    if let Some(change) = &updated.change {
        announce(state, change, events::CONVERSATION_UPDATED)?;
    }
    Ok(Json(updated.view))
}

/// Queues `name` with `payload` on the private channel of every member it lists.
fn announce(
    state: &AppState,
    payload: &ConversationCreated,
    name: &'static str,
) -> Result<(), AppError> {
    let channels = payload
        .conversation
        .member_ids
        .iter()
        .map(|&m| ChannelName::private_user(m))
        .collect();
    trigger(state, channels, name, payload, None)
}
