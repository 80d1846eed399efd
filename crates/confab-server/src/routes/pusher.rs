//! `/api/pusher/auth` (channel authorization) and `/api/pusher/user-auth` (user
//! authentication for `pusher:signin`), in pusher-js's standard request format; and
//! `/api/pusher/auth/batch`, many channels of one socket in one request, by the same rule.

use std::collections::HashSet;

use axum::extract::State;
use axum::Json;
use confab_model::api::{
    PusherAuthForm, PusherAuthResponse, PusherBatchAuthAnswer, PusherBatchAuthRequest,
    PusherBatchAuthResponse, PusherUserAuthForm, PusherUserAuthResponse, PUSHER_BATCH_MAX,
};
use confab_model::{ChannelName, ConversationId, ErrorBody, UserId};
use pusher_channels::sign::{
    authenticate_user, authorize_channel, is_valid_socket_id, PresenceMember,
};

use crate::auth::AuthUser;
use crate::error::{ApiForm, ApiJson, AppError};
use crate::state::AppState;
use crate::store;

/// Signs a subscription: `private-user-{id}` for that user only, `presence-chat-room-{id}` for
/// members only (with `channel_data` `{user_id, user_info:{name}}`), anything else 403.
#[utoipa::path(post, path = "/api/pusher/auth", tag = "realtime", security(("bearer" = [])),
    request_body(content = PusherAuthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = PusherAuthResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    me: AuthUser,
    ApiForm(form): ApiForm<PusherAuthForm>,
) -> Result<Json<PusherAuthResponse>, AppError> {
    if !is_valid_socket_id(&form.socket_id) {
        return Err(AppError::BadRequest("malformed socket_id".into()));
    }
    let channel = ChannelName::parse(&form.channel_name);
    let joined = joined_rooms(&state, me.id(), channel.iter()).await?;
    may_subscribe(channel.as_ref(), me.id(), &joined).map_err(AppError::Forbidden)?;
    let signed = sign(&state, &me, &form.socket_id, &form.channel_name)?;
    Ok(Json(PusherAuthResponse {
        auth: signed.auth,
        channel_data: signed.channel_data,
    }))
}

/// Whether `user` may subscribe to `channel` (`None`: a name that is no channel of ours), given
/// the rooms among those asked for that they are in: the one rule both endpoints apply. The
/// error is the refusal's sentence.
fn may_subscribe(
    channel: Option<&ChannelName>,
    user: UserId,
    joined: &HashSet<ConversationId>,
) -> Result<(), &'static str> {
    match channel {
        None => Err("not a channel you may subscribe to"),
        Some(ChannelName::PrivateUser(id)) if *id == user => Ok(()),
        Some(ChannelName::PrivateUser(_)) => Err("this is another user's channel"),
        Some(ChannelName::ChatRoom(conv)) if joined.contains(conv) => Ok(()),
        Some(ChannelName::ChatRoom(_)) => Err("not a member of this conversation"),
    }
}

/// The rooms among `channels` that `user` is a member of, read in one visit to the database.
async fn joined_rooms<'a>(
    state: &AppState,
    user: UserId,
    channels: impl Iterator<Item = &'a ChannelName>,
) -> Result<HashSet<ConversationId>, AppError> {
    let rooms: Vec<ConversationId> = channels
        .filter_map(|c| match c {
            ChannelName::ChatRoom(conv) => Some(*conv),
            ChannelName::PrivateUser(_) => None,
        })
        .collect();
    if rooms.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(state
        .db()
        .read(move |c| {
            let mut joined = HashSet::new();
            for conv in rooms {
                if store::chat::is_member(c, conv, user)? {
                    joined.insert(conv);
                }
            }
            Ok::<_, store::StoreError>(joined)
        })
        .await?)
}

/// Signs `channel` for `socket_id` as `me` (`channel_data` naming them, for presence).
fn sign(
    state: &AppState,
    me: &AuthUser,
    socket_id: &str,
    channel: &str,
) -> Result<pusher_channels::sign::ChannelAuthorization, AppError> {
    let presence = PresenceMember {
        user_id: me.id().to_string(),
        user_info: serde_json::json!({ "name": me.user.name }),
    };
    authorize_channel(state.creds(), socket_id, channel, Some(&presence), None)
        .map_err(|e| AppError::BadRequest(e.to_string()))
}

/// Signs many channels of one socket at once (1 to 500), each by the rule of `/api/pusher/auth`:
/// a channel the caller may not have is refused in its own answer, the others are signed.
/// Room memberships are read in one visit to the database.
#[utoipa::path(post, path = "/api/pusher/auth/batch", tag = "realtime", security(("bearer" = [])),
    request_body = PusherBatchAuthRequest,
    responses((status = 200, body = PusherBatchAuthResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn authorize_batch(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(body): ApiJson<PusherBatchAuthRequest>,
) -> Result<ApiJson<PusherBatchAuthResponse>, AppError> {
    if !is_valid_socket_id(&body.socket_id) {
        return Err(AppError::BadRequest("malformed socket_id".into()));
    }
    if body.channel_names.is_empty() || body.channel_names.len() > PUSHER_BATCH_MAX {
        return Err(AppError::BadRequest(format!(
            "ask for 1 to {PUSHER_BATCH_MAX} channels"
        )));
    }
    let parsed: Vec<(String, Option<ChannelName>)> = body
        .channel_names
        .into_iter()
        .map(|name| {
            let channel = ChannelName::parse(&name);
            (name, channel)
        })
        .collect();
    let user = me.id();
    let joined = joined_rooms(&state, user, parsed.iter().filter_map(|(_, c)| c.as_ref())).await?;
    let mut channels = std::collections::BTreeMap::new();
    for (name, channel) in parsed {
        let allowed = may_subscribe(channel.as_ref(), user, &joined);
        let answer = match allowed {
            Ok(()) => {
                let signed = sign(&state, &me, &body.socket_id, &name)?;
                PusherBatchAuthAnswer {
                    auth: Some(signed.auth),
                    channel_data: signed.channel_data,
                    error: None,
                }
            }
            Err(why) => PusherBatchAuthAnswer {
                auth: None,
                channel_data: None,
                error: Some(why.into()),
            },
        };
        channels.insert(name, answer);
    }
    Ok(ApiJson(PusherBatchAuthResponse { channels }))
}

/// Signs a socket in as the caller (`pusher:signin`): `user_data` is
/// `{"id":"<user id>","user_info":{"name":…}}`. A signed-in socket is the caller's to the
/// Pusher server, so revoking the caller's sessions can close it.
#[utoipa::path(post, path = "/api/pusher/user-auth", tag = "realtime", security(("bearer" = [])),
    request_body(content = PusherUserAuthForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = PusherUserAuthResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn authenticate(
    State(state): State<AppState>,
    me: AuthUser,
    ApiForm(form): ApiForm<PusherUserAuthForm>,
) -> Result<Json<PusherUserAuthResponse>, AppError> {
    if !is_valid_socket_id(&form.socket_id) {
        return Err(AppError::BadRequest("malformed socket_id".into()));
    }
    let user_data = serde_json::json!({
        "id": me.id().to_string(),
        "user_info": { "name": me.user.name },
    });
    let signed = authenticate_user(state.creds(), &form.socket_id, &user_data)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(Json(PusherUserAuthResponse {
        auth: signed.auth,
        user_data: signed.user_data,
    }))
}
