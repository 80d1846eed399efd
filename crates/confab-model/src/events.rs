//! Realtime event names and payloads, as triggered by the server after each commit.
//!
//! | channel | event | payload |
//! |---|---|---|
//! | `private-user-{owner}` | [`KNOWLEDGE_REQUEST`] | [`UserNotice::KnowledgeRequest`] |
//! | `private-user-{requester}` | [`KNOWLEDGE_RESPONSE`] | [`UserNotice::KnowledgeResponse`] |
//! | `private-user-{member}` | [`CONVERSATION_CREATED`] | [`ConversationCreated`] |
//! | `private-user-{member}` | [`CONVERSATION_UPDATED`] | [`ConversationCreated`] (same shape) |
//! | `private-user-{leaver}` | [`CONVERSATION_LEFT`] | [`crate::LeftChange`] |
//! | `private-user-{user}` | [`CONVERSATION_MUTED`] | [`crate::MuteChange`] |
//! | `presence-chat-room-{id}` | [`NEW_MESSAGE`] | [`crate::Message`] |
//! | `presence-chat-room-{id}` | [`READ_RECEIPT`] | [`ReadReceipt`] |
//! | `presence-chat-room-{id}` | [`CLIENT_TYPING`] (client event) | [`Typing`] |

use serde::{Deserialize, Serialize};

use crate::{Conversation, ConversationId, KnowledgeStatus, RequestId, Seq, UserId};

/// Someone asked the channel's user to share knowledge.
pub const KNOWLEDGE_REQUEST: &str = "knowledge-request";
/// The owner answered a request the channel's user made.
pub const KNOWLEDGE_RESPONSE: &str = "knowledge-response";
/// The channel's user was made a member of a new conversation.
pub const CONVERSATION_CREATED: &str = "conversation-created";
/// A conversation of the channel's user was renamed or changed members (added members get
/// this too: it is how the conversation reaches them).
pub const CONVERSATION_UPDATED: &str = "conversation-updated";
/// The channel's user left a conversation: the app drops it and unsubscribes from its room.
pub const CONVERSATION_LEFT: &str = "conversation-left";
/// The channel's user muted or unmuted a conversation (from another device too).
pub const CONVERSATION_MUTED: &str = "conversation-muted";
/// A message was posted in the room (the sender's own socket is excluded).
pub const NEW_MESSAGE: &str = "new-message";
/// A member moved their read mark in the room.
pub const READ_RECEIPT: &str = "read-receipt";
/// A member started or stopped typing (sent by clients, never by the server).
pub const CLIENT_TYPING: &str = "client-typing";

/// The payloads on `private-user-{id}` that carry a `type` field naming the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum UserNotice {
    /// Payload of [`KNOWLEDGE_REQUEST`]: `{"type":"knowledge-request", …}`.
    KnowledgeRequest(KnowledgeRequestEvent),
    /// Payload of [`KNOWLEDGE_RESPONSE`]: `{"type":"knowledge-response", …}`.
    KnowledgeResponse(KnowledgeResponseEvent),
}

impl UserNotice {
    /// The event name this payload is triggered under.
    pub fn event_name(&self) -> &'static str {
        match self {
            Self::KnowledgeRequest(_) => KNOWLEDGE_REQUEST,
            Self::KnowledgeResponse(_) => KNOWLEDGE_RESPONSE,
        }
    }
}

/// A new request for the channel's user (the owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeRequestEvent {
    /// The request's id.
    pub request_id: RequestId,
    /// What is asked.
    pub question: String,
    /// Who asks.
    pub requester_name: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// The change's sequence number.
    pub seq: Seq,
}

/// The owner's answer, for the requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeResponseEvent {
    /// The request's id.
    pub request_id: RequestId,
    /// `approved` or `denied`.
    pub status: KnowledgeStatus,
    /// The owner's answer text (or the reason they declined), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_content: Option<String>,
    /// When the owner answered (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    /// The change's sequence number.
    pub seq: Seq,
}

/// Payload of [`CONVERSATION_CREATED`] and [`CONVERSATION_UPDATED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationCreated {
    /// The conversation as it stands (no messages, nothing unread, no per-user settings).
    pub conversation: Conversation,
    /// The change's sequence number.
    pub seq: Seq,
}

/// Payload of [`READ_RECEIPT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadReceipt {
    /// The room.
    pub conversation_id: ConversationId,
    /// Who read.
    pub user_id: UserId,
    /// The message sequence number they have read up to (inclusive).
    pub seq: Seq,
}

/// Payload of the client event [`CLIENT_TYPING`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    /// Who is typing.
    pub user_id: UserId,
    /// Their display name.
    pub name: String,
    /// `true` when they started, `false` when they stopped.
    pub typing: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_knowledge_request_notice_carries_its_type_and_camel_case_fields() {
        let notice = UserNotice::KnowledgeRequest(KnowledgeRequestEvent {
            request_id: 4,
            question: "How do I deploy?".into(),
            requester_name: "Ada".into(),
            created_at: "2024-01-01T00:00:00Z".into(),
            seq: 12,
        });
        assert_eq!(notice.event_name(), KNOWLEDGE_REQUEST);
        assert_eq!(
            serde_json::to_value(&notice).expect("serializes"),
            serde_json::json!({
                "type": "knowledge-request", "requestId": 4, "question": "How do I deploy?",
                "requesterName": "Ada", "createdAt": "2024-01-01T00:00:00Z", "seq": 12
            })
        );
    }

    #[test]
    fn a_knowledge_response_without_content_omits_it() {
        let notice = UserNotice::KnowledgeResponse(KnowledgeResponseEvent {
            request_id: 4,
            status: KnowledgeStatus::Denied,
            response_content: None,
            answered_at: None,
            seq: 13,
        });
        assert_eq!(
            serde_json::to_value(&notice).expect("serializes"),
            serde_json::json!({"type": "knowledge-response", "requestId": 4, "status": "denied", "seq": 13})
        );
    }
}
