//! REST request and response bodies that are not domain objects themselves.

use serde::{Deserialize, Serialize};

use crate::{ConversationKind, KnowledgeDecision, KnowledgeRequest, RequestId, Seq, User, UserId};

/// `POST /api/auth/login` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /api/auth/login` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The bearer token for `Authorization: Bearer …` (opaque, 256 random bits).
    pub token: String,
    /// Who logged in.
    pub user: User,
}

/// `GET /api/config` answer: what a client needs to connect to the realtime server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// Pusher connection settings (never the secret).
    pub pusher: PusherClientConfig,
}

/// The public half of the Pusher settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PusherClientConfig {
    /// The app key.
    pub key: String,
    /// Hosted Pusher cluster (e.g. `eu`), when not self-hosted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Self-hosted WebSocket host (Sockudo, Soketi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Self-hosted WebSocket port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Whether to connect with TLS (`wss`).
    #[serde(rename = "useTLS")]
    pub use_tls: bool,
}

/// `POST /api/conversations` body.
///
/// A direct conversation (one other member, no title) is kept once per pair: asking for it
/// again, from either side or at the same moment, answers the existing one with 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateConversation {
    /// Title, up to 200 characters; a group's defaults to the members' names. A direct
    /// conversation has none.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(max_length = 200))]
    pub title: Option<String>,
    /// The other members (the creator is always added).
    pub member_ids: Vec<UserId>,
    /// `direct` (exactly one other member, no title) or `group`. Absent: direct for one other
    /// member without a title, else group.
    #[serde(default)]
    pub kind: Option<ConversationKind>,
}

/// `PATCH /api/conversations/{id}` body: renames a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RenameConversation {
    /// The new title, 1 to 200 characters (not only whitespace).
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 200))]
    pub title: String,
}

/// `POST /api/conversations/{id}/members` body: adds people to a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddMembers {
    /// Who joins (members already in it are ignored); at least one.
    #[cfg_attr(feature = "utoipa", schema(min_items = 1, max_items = 100))]
    pub member_ids: Vec<UserId>,
}

/// `PUT /api/conversations/{id}/mute` body: the caller's own notification setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SetMuted {
    /// Muted: no notifications from it, except messages that mention the caller.
    pub muted: bool,
}

/// Query of `GET /api/conversations/{id}/messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct MessagesQuery {
    /// Only messages with a smaller seq; the newest page when absent.
    #[serde(default)]
    pub before: Option<Seq>,
    /// Page size, 1–200 (default 50); a larger one is capped at 200.
    // The schema's numbers are literals (utoipa takes no paths); the server's tests hold them
    // equal to [`crate::MESSAGES_PAGE_MAX`] and [`crate::MESSAGES_PAGE_DEFAULT`].
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 200, default = 50))]
    pub limit: Option<u32>,
}

/// `POST /api/conversations/{id}/messages` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The text, 1 to [`crate::MAX_MESSAGE_CHARS`] characters (not only whitespace).
    // The schema's limits are literals (utoipa takes no paths); the server's tests hold them
    // equal to the constants the server enforces.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 4000))]
    pub content: String,
    /// The sender's idempotency key (1–100 characters), e.g. a UUID made before the first try.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 100))]
    pub client_id: String,
}

/// `POST /api/conversations/{id}/read` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    /// The message seq read up to (inclusive). A mark never moves backwards.
    pub seq: Seq,
}

/// `POST /api/knowledge/request` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateKnowledgeRequest {
    /// Who is asked (not the caller).
    pub owner_id: UserId,
    /// What is asked, 1 to [`crate::MAX_MESSAGE_CHARS`] characters.
    #[cfg_attr(feature = "utoipa", schema(min_length = 1, max_length = 4000))]
    pub question: String,
}

/// `GET /api/knowledge/requests` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeRequestLists {
    /// Requests to the caller, newest first.
    pub incoming: Vec<KnowledgeRequest>,
    /// Requests by the caller, newest first.
    pub outgoing: Vec<KnowledgeRequest>,
}

/// `POST /api/knowledge/respond` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RespondKnowledgeRequest {
    /// Which request.
    pub request_id: RequestId,
    /// The answer.
    pub status: KnowledgeDecision,
    /// Optional text, up to [`crate::MAX_MESSAGE_CHARS`] characters: the answer when approving,
    /// the reason when declining.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", schema(max_length = 4000))]
    pub response_content: Option<String>,
}

/// Query of `GET /api/sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct SyncQuery {
    /// Return changes with a seq strictly greater than this (default 0).
    #[serde(default)]
    pub since: Option<Seq>,
    /// Page size, 1–500 (default 100); a larger one is capped at 500.
    // The schema's numbers are literals (utoipa takes no paths); the server's tests hold them
    // equal to [`crate::SYNC_PAGE_MAX`] and [`crate::SYNC_PAGE_DEFAULT`].
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 500, default = 100))]
    pub limit: Option<u32>,
    /// Return changes with a seq at most this (a history page: a client that loaded the
    /// current state at a head pages the history below it). Must be at least `since` and at
    /// most the newest seq. A `since` below the retention horizon is then served from the
    /// horizon (what is older was compacted) instead of answering `cursor_expired`; the last
    /// page's `nextSince` is `until`.
    #[serde(default)]
    #[cfg_attr(feature = "utoipa", param(minimum = 0))]
    pub until: Option<Seq>,
}

/// `POST /api/pusher/auth` form body, exactly as pusher-js sends it (snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PusherAuthForm {
    /// The connection's socket id, `digits.digits`.
    pub socket_id: String,
    /// The channel to authorize.
    pub channel_name: String,
}

/// `POST /api/pusher/auth` answer, in the shape pusher-js expects (snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PusherAuthResponse {
    /// `key:hex(hmac)`.
    pub auth: String,
    /// For presence channels: the JSON string `{"user_id":"…","user_info":{"name":"…"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
}

/// The most channels one `POST /api/pusher/auth/batch` signs.
pub const PUSHER_BATCH_MAX: usize = 500;

/// `POST /api/pusher/auth/batch` body: many channels of one socket in one request. A client in
/// 2,000 rooms joins them all at every connect; one request a channel was 2,000 requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PusherBatchAuthRequest {
    /// The connection's socket id, `digits.digits`.
    pub socket_id: String,
    /// The channels to authorize: 1 to [`PUSHER_BATCH_MAX`].
    pub channel_names: Vec<String>,
}

/// One channel's answer in a batch: signed (`auth`, and `channelData` for presence channels),
/// or refused (`error`, the sentence `/api/pusher/auth` would answer with its 403).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PusherBatchAuthAnswer {
    /// `key:hex(hmac)` when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// For presence channels: the JSON string `{"user_id":"…","user_info":{"name":"…"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /api/pusher/auth/batch` answer: every channel asked for, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PusherBatchAuthResponse {
    /// Channel name → its answer.
    pub channels: std::collections::BTreeMap<String, PusherBatchAuthAnswer>,
}

/// `POST /api/account/password` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    /// The password the account has now.
    pub current_password: String,
    /// The new password: 8 to 1,024 characters
    /// ([`crate::MIN_PASSWORD_CHARS`], [`crate::MAX_PASSWORD_CHARS`]).
    #[cfg_attr(feature = "utoipa", schema(min_length = 8, max_length = 1024))]
    pub new_password: String,
}

impl ChangePasswordRequest {
    /// Why the server would refuse this change before looking at the account (no current
    /// password, a new one too short, too long, or unchanged), as a sentence for the form; or
    /// `None`. The app checks it first so the form answers at once and no try of the sign-in
    /// throttle is spent on a change that cannot succeed.
    pub fn problem(&self) -> Option<String> {
        let n = self.new_password.chars().count();
        if self.current_password.is_empty() {
            Some("Type your current password.".into())
        } else if n < crate::MIN_PASSWORD_CHARS {
            Some(format!(
                "The new password needs at least {} characters.",
                crate::MIN_PASSWORD_CHARS
            ))
        } else if n > crate::MAX_PASSWORD_CHARS {
            Some(format!(
                "The new password can have at most {} characters.",
                crate::MAX_PASSWORD_CHARS
            ))
        } else if self.new_password == self.current_password {
            Some("The new password is the one you have now.".into())
        } else {
            None
        }
    }
}

/// `POST /api/pusher/user-auth` form body, exactly as pusher-js sends it for
/// `pusher:signin` (snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PusherUserAuthForm {
    /// The connection's socket id, `digits.digits`.
    pub socket_id: String,
}

/// `POST /api/pusher/user-auth` answer, in the shape pusher-js expects (snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PusherUserAuthResponse {
    /// `key:hex(hmac)` over `socket_id::user::user_data`.
    pub auth: String,
    /// The JSON string `{"id":"…","user_info":{"name":"…"}}`, exactly as signed.
    pub user_data: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(current: &str, new: &str) -> Option<String> {
        ChangePasswordRequest {
            current_password: current.into(),
            new_password: new.into(),
        }
        .problem()
    }

    #[test]
    fn a_password_change_the_server_would_refuse_is_named_before_it_is_sent() {
        let said = |c: &str, n: &str| problem(c, n).unwrap_or_default();
        assert!(said("old-secret", "short").contains("at least 8"));
        let long = "x".repeat(crate::MAX_PASSWORD_CHARS + 1);
        assert!(said("old-secret", &long).contains("at most"));
        assert!(said("", "long-enough-new").contains("current password"));
        assert!(said("same-as-before", "same-as-before").contains("the one you have now"));
        assert_eq!(problem("old-secret", "a-new-secret"), None);
    }

    #[test]
    fn a_new_password_is_measured_in_characters_not_bytes() {
        // Eight characters in sixteen bytes: long enough; four in eight: too short.
        assert_eq!(problem("old-secret", "éééééééé"), None);
        assert!(problem("old-secret", "éééé").is_some());
    }
}
