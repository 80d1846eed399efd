//! Conversions from the backend's objects to what the UI shows, and small clock helpers.

use confab_model::ipc::{ChatMessage, DeliveryState, ShareRequestView};
use confab_model::{KnowledgeRequest, Message, UserSummary};

/// A stored message as the UI shows it.
pub(crate) fn chat_message(m: &Message) -> ChatMessage {
    ChatMessage {
        client_id: m.client_id.clone(),
        id: Some(m.id),
        conversation_id: m.conversation_id,
        seq: Some(m.seq),
        sender_id: m.sender_id,
        sender_name: m.sender.name.clone(),
        content: m.content.clone(),
        created_at: m.created_at.clone(),
        delivery: DeliveryState::Sent,
    }
}

/// A request with the owner's name looked up in the directory.
pub(crate) fn request_view(r: &KnowledgeRequest, users: &[UserSummary]) -> ShareRequestView {
    ShareRequestView {
        id: r.id,
        requester_id: r.requester_id,
        requester_name: r.requester_name.clone(),
        owner_id: r.owner_id,
        owner_name: users
            .iter()
            .find(|u| u.id == r.owner_id)
            .map(|u| u.name.clone()),
        question: r.question.clone(),
        status: r.status,
        response_content: r.response_content.clone(),
        created_at: r.created_at.clone(),
    }
}

/// Milliseconds since the Unix epoch (for outbox scheduling, stored in the cache).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Now as RFC 3339 (UTC), for messages written here.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A fresh client id: 128 random bits, hex.
pub(crate) fn new_client_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
