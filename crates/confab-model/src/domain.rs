//! Domain objects as the REST API returns them.

use serde::{Deserialize, Serialize};

use crate::{ConversationId, MessageId, RequestId, Seq, UserId};

/// A member of the team, as the directory and login return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Login email (unique, case-insensitive).
    pub email: String,
}

/// The short form of a user embedded in other objects (a message's `sender`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    /// The user's id.
    pub id: UserId,
    /// Display name.
    pub name: String,
}

/// What kind of conversation it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Exactly two people; the server keeps one per pair. Cannot be renamed, grown or left.
    Direct,
    /// Any number of members with a title; members can rename it, add people and leave.
    #[default]
    Group,
}

impl ConversationKind {
    /// The wire spelling (`"direct"`, `"group"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }

    /// Parses the wire spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(Self::Direct),
            "group" => Some(Self::Group),
            _ => None,
        }
    }
}

/// A conversation as seen by one user (`unreadCount`, `lastReadSeq` and `muted` are that user's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// The conversation's id; its realtime room is `presence-chat-room-{id}`.
    pub id: ConversationId,
    /// Title shown in the sidebar (for a direct conversation, both names; clients show the
    /// other person's).
    pub title: String,
    /// Direct (one per pair) or group. Changes stored before kinds existed read as `group`.
    #[serde(default)]
    pub kind: ConversationKind,
    /// Every member, the creator included, ascending.
    pub member_ids: Vec<UserId>,
    /// The newest message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// Messages from others with a sequence number above `last_read_seq`.
    pub unread_count: i64,
    /// The highest message sequence number this user has marked read (`0` for none).
    pub last_read_seq: Seq,
    /// Whether this user muted it: present in `GET /api/conversations` (the caller's own
    /// setting), absent from events and sync changes that every member receives alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
}

/// One chat message. Also the payload of the `new-message` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Its change sequence number; messages of a conversation are ordered by it.
    pub seq: Seq,
    /// Who sent it.
    pub sender_id: UserId,
    /// The sender's id and name.
    pub sender: UserSummary,
    /// The text, 1 to [`crate::MAX_MESSAGE_CHARS`] characters.
    pub content: String,
    /// The sender's idempotency key: a retry with the same key returns this message.
    pub client_id: String,
    /// When the server stored it (RFC 3339, UTC).
    pub created_at: String,
}

/// Where a knowledge-share request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KnowledgeStatus {
    /// Waiting for the owner's answer.
    Pending,
    /// The owner shared the knowledge.
    Approved,
    /// The owner declined.
    Denied,
}

impl KnowledgeStatus {
    /// The wire spelling (`"pending"`, `"approved"`, `"denied"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }

    /// Parses the wire spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }
}

/// The owner's answer to a request: the two final [`KnowledgeStatus`] values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KnowledgeDecision {
    /// Share it.
    Approved,
    /// Decline.
    Denied,
}

impl From<KnowledgeDecision> for KnowledgeStatus {
    fn from(d: KnowledgeDecision) -> Self {
        match d {
            KnowledgeDecision::Approved => Self::Approved,
            KnowledgeDecision::Denied => Self::Denied,
        }
    }
}

/// A request from one user to another to share some knowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeRequest {
    /// The request's id.
    pub id: RequestId,
    /// Who asks.
    pub requester_id: UserId,
    /// The requester's display name.
    pub requester_name: String,
    /// Who is asked (the only user who may answer).
    pub owner_id: UserId,
    /// What is asked.
    pub question: String,
    /// Pending until the owner answers, then final.
    pub status: KnowledgeStatus,
    /// The owner's display name.
    #[serde(default)]
    pub owner_name: String,
    /// The owner's answer text when approved, or the reason they gave when they declined;
    /// `null` while pending or when none was given.
    pub response_content: Option<String>,
    /// When it was asked (RFC 3339, UTC).
    pub created_at: String,
    /// When the owner answered (RFC 3339, UTC); `null` while pending.
    #[serde(default)]
    pub answered_at: Option<String>,
    /// Whether the requester has opened the answer (`false` only for an answer they have not
    /// seen yet). Changes stored before this field existed read as seen.
    #[serde(default = "seen_by_default")]
    pub answer_seen: bool,
    /// The sequence number of its latest change (creation, then the answer).
    pub seq: Seq,
}

fn seen_by_default() -> bool {
    true
}
