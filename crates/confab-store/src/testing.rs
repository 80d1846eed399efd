//! Builders shared by the unit tests.

use confab_model::events::ReadReceipt;
use confab_model::{
    Conversation, KnowledgeRequest, KnowledgeStatus, Message, Seq, User, UserId, UserSummary,
};

use crate::Store;

/// The account's user id.
pub(crate) const ME: UserId = 1;
/// A teammate.
pub(crate) const ADA: UserId = 2;
/// A conversation between the two.
pub(crate) const CONV: i64 = 10;

pub(crate) fn me() -> User {
    User {
        id: ME,
        name: "Me".into(),
        email: "me@example.com".into(),
    }
}

pub(crate) fn ada_user() -> User {
    User {
        id: ADA,
        name: "Ada".into(),
        email: "ada@example.com".into(),
    }
}

/// An RFC 3339 time that grows with `seq`.
pub(crate) fn time(seq: Seq) -> String {
    format!("2024-01-01T00:{:02}:{:02}Z", (seq / 60) % 60, seq % 60)
}

pub(crate) fn store_with_account() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store.set_account(&me()).unwrap();
    store
}

pub(crate) fn conversation(id: i64, title: &str, members: &[UserId]) -> Conversation {
    Conversation {
        id,
        title: title.into(),
        // Two people are a direct conversation, as the server makes them.
        kind: if members.len() == 2 {
            confab_model::ConversationKind::Direct
        } else {
            confab_model::ConversationKind::Group
        },
        member_ids: members.to_vec(),
        last_message: None,
        unread_count: 0,
        last_read_seq: 0,
        muted: None,
    }
}

/// The account with conversation [`CONV`] ("Ada", members me and Ada, created at seq 1).
pub(crate) fn store_with_conversation() -> Store {
    let mut store = store_with_account();
    store
        .apply_conversation(&conversation(CONV, "Ada", &[ME, ADA]), Some(1))
        .unwrap();
    store
}

pub(crate) fn message(seq: Seq, sender: &User, client_id: &str) -> Message {
    Message {
        id: 1000 + seq,
        conversation_id: CONV,
        seq,
        sender_id: sender.id,
        sender: UserSummary {
            id: sender.id,
            name: sender.name.clone(),
        },
        content: format!("message {seq}"),
        client_id: client_id.into(),
        created_at: time(seq),
    }
}

pub(crate) fn message_from_ada(seq: Seq) -> Message {
    message(seq, &ada_user(), &format!("ada-{seq}"))
}

pub(crate) fn message_from_me(seq: Seq, client_id: &str) -> Message {
    message(seq, &me(), client_id)
}

pub(crate) fn receipt(user_id: UserId, seq: Seq) -> ReadReceipt {
    ReadReceipt {
        conversation_id: CONV,
        user_id,
        seq,
    }
}

/// Ada asks me (`incoming`) or I ask Ada.
pub(crate) fn request(
    id: i64,
    incoming: bool,
    status: KnowledgeStatus,
    seq: Seq,
) -> KnowledgeRequest {
    let (requester, owner) = if incoming {
        (ada_user(), me())
    } else {
        (me(), ada_user())
    };
    KnowledgeRequest {
        id,
        requester_id: requester.id,
        requester_name: requester.name,
        owner_id: owner.id,
        question: format!("question {id}"),
        status,
        response_content: (status == KnowledgeStatus::Approved).then(|| format!("answer {id}")),
        created_at: time(id),
        seq,
        owner_name: owner.name,
        answered_at: (status != KnowledgeStatus::Pending).then(|| time(id + 1)),
        answer_seen: true,
    }
}
