//! Conversions from the backend's objects and the cache to what the UI shows, and small clock
//! helpers.

use std::collections::BTreeMap;

use confab_model::ipc::{
    ChatMessage, DeliveryState, RequestHit, RequestLists, ShareRequestView, Teammate,
};
use confab_model::{
    ConversationId, KnowledgeRequest, KnowledgeStatus, Message, UserId, UserSummary,
};
use confab_store::{Store, StoreError};

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

/// Who was asked: the name the request carried, else the directory's.
pub(crate) fn owner_name(r: &KnowledgeRequest, users: &[UserSummary]) -> Option<String> {
    Some(r.owner_name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| {
            users
                .iter()
                .find(|u| u.id == r.owner_id)
                .map(|u| u.name.clone())
        })
}

/// A request as the library shows it: the owner's name as the request carried it, else from the
/// directory; an answer is unread only for me, the requester.
pub(crate) fn request_view(
    r: &KnowledgeRequest,
    users: &[UserSummary],
    me: Option<UserId>,
) -> ShareRequestView {
    let owner_name = owner_name(r, users);
    ShareRequestView {
        id: r.id,
        requester_id: r.requester_id,
        requester_name: r.requester_name.clone(),
        owner_id: r.owner_id,
        owner_name,
        question: r.question.clone(),
        status: r.status,
        response_content: r.response_content.clone(),
        created_at: r.created_at.clone(),
        answered_at: r.answered_at.clone(),
        unread: me == Some(r.requester_id)
            && r.status != KnowledgeStatus::Pending
            && !r.answer_seen,
    }
}

/// Incoming pending requests, the account's own, and those it answered, with names looked up in
/// the directory.
pub(crate) fn request_lists(s: &Store) -> Result<RequestLists, StoreError> {
    let users = s.users()?;
    let me = s.account()?.map(|u| u.id);
    let views = |list: Vec<KnowledgeRequest>| -> Vec<ShareRequestView> {
        list.iter().map(|r| request_view(r, &users, me)).collect()
    };
    Ok(RequestLists {
        // The store returns only pending incoming requests.
        incoming: views(s.incoming_requests()?),
        outgoing: views(s.outgoing_requests()?),
        answered: views(s.answered_requests()?),
    })
}

/// A stored search match as the UI shows it.
pub(crate) fn request_hit(
    m: &confab_store::RequestMatch,
    users: &[UserSummary],
    me: Option<UserId>,
) -> RequestHit {
    RequestHit {
        request: request_view(&m.request, users, me),
        excerpt: m.excerpt.clone(),
        in_answer: m.in_answer,
    }
}

/// The directory without me, with who is online in any room right now (`online`: per room).
pub(crate) fn teammates(
    users: Vec<UserSummary>,
    me: UserId,
    online: &BTreeMap<ConversationId, Vec<UserId>>,
) -> Vec<Teammate> {
    users
        .into_iter()
        .filter(|u| u.id != me)
        .map(|u| Teammate {
            online: online.values().any(|v| v.contains(&u.id)),
            id: u.id,
            name: u.name,
        })
        .collect()
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
