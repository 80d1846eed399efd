//! The catch-up path through the public API, on a real cache file: 10,000 messages in sync pages
//! of 500, some of them already delivered by realtime, one of them my own optimistic message.

use confab_model::events::ReadReceipt;
use confab_model::ipc::DeliveryState;
use confab_model::{
    Change, Conversation, ConversationChange, Message, MessageChange, ReadChange, User, UserSummary,
};
use confab_store::{Applied, Store};

const ME: i64 = 1;
const BOB: i64 = 2;

fn message(seq: i64, sender: i64) -> Message {
    Message {
        id: seq,
        conversation_id: 1 + seq % 3,
        seq,
        sender_id: sender,
        sender: UserSummary {
            id: sender,
            name: if sender == ME { "Me" } else { "Bob" }.into(),
        },
        content: format!("number {seq}"),
        client_id: format!("client-{seq}"),
        created_at: format!("2024-01-01T00:00:{:02}Z", seq % 60),
    }
}

#[test]
fn ten_thousand_missed_messages_arrive_exactly_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice").join("cache.db");
    let mut store = Store::open(&path).unwrap();
    store
        .set_account(&User {
            id: ME,
            name: "Me".into(),
            email: "me@example.com".into(),
        })
        .unwrap();

    // The server's log: three conversations, then 10,000 messages (every 7th mine), and a read
    // receipt from Bob at the end.
    let mut log: Vec<Change> = (1..=3)
        .map(|id| {
            Change::ConversationCreated(ConversationChange {
                seq: id,
                conversation: Conversation {
                    id,
                    title: format!("room {id}"),
                    member_ids: vec![ME, BOB],
                    last_message: None,
                    unread_count: 0,
                    last_read_seq: 0,
                    kind: confab_model::ConversationKind::Group,
                    muted: None,
                },
            })
        })
        .collect();
    log.extend((4..10_004).map(|seq| {
        let sender = if seq % 7 == 0 { ME } else { BOB };
        Change::Message(MessageChange {
            seq,
            message: message(seq, sender),
        })
    }));
    log.push(Change::ReadReceipt(ReadChange {
        seq: 10_004,
        receipt: ReadReceipt {
            conversation_id: 2,
            user_id: BOB,
            seq: 10_003,
        },
    }));

    // Before the catch-up: realtime delivered a few, and I wrote seq 7007 offline.
    for seq in [5, 6, 9_000] {
        // Their conversations are not known yet: they get placeholder rows.
        assert_eq!(
            store.apply_message(&message(seq, BOB)).unwrap(),
            Applied::Inserted
        );
    }
    let conversation_of_7007 = 1 + 7007 % 3;
    store
        .apply_conversation(
            &Conversation {
                id: conversation_of_7007,
                title: "room".into(),
                member_ids: vec![ME, BOB],
                last_message: None,
                unread_count: 0,
                last_read_seq: 0,
                kind: confab_model::ConversationKind::Group,
                muted: None,
            },
            None,
        )
        .unwrap();
    store
        .enqueue_message(conversation_of_7007, "client-7007", "number 7007", "now", 0)
        .unwrap();

    // The catch-up, page by page, with the cursor.
    let mut cursor = store.sync_cursor().unwrap();
    let mut inserted = 0;
    for page in log.chunks(500) {
        let next = page.last().unwrap().seq();
        let outcomes = store.apply_changes(page, next).unwrap();
        inserted += outcomes.iter().filter(|o| **o == Applied::Inserted).count();
        cursor = store.sync_cursor().unwrap();
        assert_eq!(cursor, next);
    }
    assert_eq!(cursor, 10_004);
    // Everything new was inserted once: 10,000 messages less the 3 from realtime and my upgraded
    // one, plus conversation 2 (1 and 3 were placeholders, filled in) and Bob's read mark.
    assert_eq!(inserted, 10_000 - 3 - 1 + 1 + 1);

    drop(store);
    let store = Store::open(&path).unwrap();
    let mut total = 0;
    for id in 1..=3 {
        let page = store.messages_before(id, None, 20_000).unwrap();
        total += page.len();
        assert!(
            page.windows(2).all(|w| w[0].seq < w[1].seq),
            "ascending seq"
        );
        assert!(page.iter().all(|m| m.delivery == DeliveryState::Sent));
    }
    assert_eq!(total, 10_000);
    assert!(
        store.outbox().unwrap().is_empty(),
        "my message was delivered"
    );
    let mine = store
        .message_by_client_id(ME, "client-7007")
        .unwrap()
        .unwrap();
    assert_eq!(mine.seq, Some(7007));
    let unread: i64 = store
        .conversation_list()
        .unwrap()
        .iter()
        .map(|c| c.unread_count)
        .sum();
    assert_eq!(unread, (4..10_004).filter(|s| s % 7 != 0).count() as i64);
    assert_eq!(store.search("10003", None, 5).unwrap().len(), 1);
}
