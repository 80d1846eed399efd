//! The `/api/sync` page: every change visible to the caller after a cursor, in sequence order.

use serde::{Deserialize, Serialize};

use crate::events::ReadReceipt;
use crate::{Conversation, ConversationId, KnowledgeRequest, Message, Seq, UserId};

/// One page of changes. Apply them in order, then ask again with `since = nextSince` while
/// `hasMore` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncPage {
    /// Changes with strictly increasing sequence numbers, all above the requested `since`.
    pub changes: Vec<Change>,
    /// The cursor to pass as `since` next time: the last change's seq, or, on the last page
    /// (`hasMore` false), the server's newest seq when that is higher (the changes between are
    /// not the caller's), so a cursor stays close to the head of the log and survives its
    /// compaction. Never below `since`.
    pub next_since: Seq,
    /// Whether more changes are waiting after this page.
    pub has_more: bool,
}

/// `GET /api/sync/head`: the newest seq. A client reloading its state from scratch (after a
/// `cursor_expired` answer) reads it before the lists, then syncs from it: whatever changed
/// after it comes through sync, and whatever came before it is in the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncHead {
    /// The newest seq stored; a valid `since` for `/api/sync`.
    pub seq: Seq,
    /// How many changes up to `seq` the caller may see: what paging the history below the head
    /// walks through (a first sync's progress bar). Absent from servers before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// A stored change, tagged by `type`: `{"type":"message","seq":5,"message":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Change {
    /// A message was posted in one of the caller's conversations.
    Message(MessageChange),
    /// A member of one of the caller's conversations moved their read mark.
    ReadReceipt(ReadChange),
    /// A knowledge request was made by or to the caller.
    KnowledgeRequest(KnowledgeChange),
    /// A knowledge request made by or to the caller was answered.
    KnowledgeResponse(KnowledgeChange),
    /// The caller became a member of a new conversation.
    ConversationCreated(ConversationChange),
    /// A conversation of the caller's changed: renamed, members added, a member left. For a
    /// member just added, this is how the conversation arrives.
    ConversationUpdated(ConversationChange),
    /// The caller left a conversation (or was removed): drop it and everything in it.
    ConversationLeft(LeftChange),
    /// The caller muted or unmuted a conversation (on any of their devices).
    ConversationMuted(MuteChange),
    /// The caller (the requester) opened the answer to one of their requests.
    KnowledgeAnswerSeen(KnowledgeChange),
}

impl Change {
    /// The change's sequence number.
    pub fn seq(&self) -> Seq {
        match self {
            Self::Message(c) => c.seq,
            Self::ReadReceipt(c) => c.seq,
            Self::KnowledgeRequest(c) | Self::KnowledgeResponse(c) => c.seq,
            Self::ConversationCreated(c) | Self::ConversationUpdated(c) => c.seq,
            Self::ConversationLeft(c) => c.seq,
            Self::ConversationMuted(c) => c.seq,
            Self::KnowledgeAnswerSeen(c) => c.seq,
        }
    }
}

/// See [`Change::Message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageChange {
    /// The change's sequence number (equal to `message.seq`).
    pub seq: Seq,
    /// The message.
    pub message: Message,
}

/// See [`Change::ReadReceipt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadChange {
    /// The change's sequence number (not the read position, which is `receipt.seq`).
    pub seq: Seq,
    /// Who read how far in which conversation.
    pub receipt: ReadReceipt,
}

/// See [`Change::KnowledgeRequest`] and [`Change::KnowledgeResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KnowledgeChange {
    /// The change's sequence number (equal to `request.seq`).
    pub seq: Seq,
    /// The request as it stood right after this change.
    pub request: KnowledgeRequest,
}

/// See [`Change::ConversationLeft`]; also the payload of the `conversation-left` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeftChange {
    /// The change's sequence number.
    pub seq: Seq,
    /// The conversation the user is no longer in.
    pub conversation_id: ConversationId,
    /// Who left.
    pub user_id: UserId,
}

/// See [`Change::ConversationMuted`]; also the payload of the `conversation-muted` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MuteChange {
    /// The change's sequence number.
    pub seq: Seq,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Muted (no notifications except mentions) or not.
    pub muted: bool,
}

/// See [`Change::ConversationCreated`] and [`Change::ConversationUpdated`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationChange {
    /// The change's sequence number.
    pub seq: Seq,
    /// The conversation as it stands after the change (no messages, nothing read, no
    /// per-user settings: those travel in their own changes).
    pub conversation: Conversation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_tagged_by_type_and_round_trips() {
        let change = Change::ReadReceipt(ReadChange {
            seq: 9,
            receipt: ReadReceipt {
                conversation_id: 2,
                user_id: 3,
                seq: 8,
            },
        });
        let json = serde_json::to_value(&change).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"type": "read-receipt", "seq": 9,
                "receipt": {"conversationId": 2, "userId": 3, "seq": 8}})
        );
        let back: Change = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, change);
        assert_eq!(back.seq(), 9);
    }
}
