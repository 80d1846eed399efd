//! `/api/pusher/auth` (channel authorization) and `/api/pusher/user-auth` (user
//! authentication for `pusher:signin`), in pusher-js's standard request format.

use axum::extract::State;
use axum::Json;
use confab_model::api::{
    PusherAuthForm, PusherAuthResponse, PusherUserAuthForm, PusherUserAuthResponse,
};
use confab_model::{ChannelName, ErrorBody};
use pusher_channels::sign::{
    authenticate_user, authorize_channel, is_valid_socket_id, PresenceMember,
};

use crate::auth::AuthUser;
use crate::error::{ApiForm, AppError};
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
    let channel = ChannelName::parse(&form.channel_name)
        .ok_or(AppError::Forbidden("not a channel you may subscribe to"))?;
    match channel {
        ChannelName::PrivateUser(id) if id == me.id() => {}
        ChannelName::PrivateUser(_) => {
            return Err(AppError::Forbidden("this is another user's channel"))
        }
        ChannelName::ChatRoom(conv) => {
            let user = me.id();
            let member = state
                .db()
                .read(move |c| store::chat::is_member(c, conv, user))
                .await?;
            if !member {
                return Err(AppError::Forbidden("not a member of this conversation"));
            }
        }
    }
    let presence = PresenceMember {
        user_id: me.id().to_string(),
        user_info: serde_json::json!({ "name": me.user.name }),
    };
    let signed = authorize_channel(
        state.creds(),
        &form.socket_id,
        &form.channel_name,
        Some(&presence),
        None,
    )
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(Json(PusherAuthResponse {
        auth: signed.auth,
        channel_data: signed.channel_data,
    }))
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
