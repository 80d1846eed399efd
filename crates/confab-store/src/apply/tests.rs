use confab_model::events::KnowledgeResponseEvent;
use confab_model::ipc::DeliveryState;
use confab_model::{
    Change, ConversationChange, KnowledgeChange, KnowledgeStatus, MessageChange, ReadChange,
};

use crate::testing::*;
use crate::{Applied, StoreError};

fn message_change(m: confab_model::Message) -> Change {
    Change::Message(MessageChange {
        seq: m.seq,
        message: m,
    })
}

fn count_messages(store: &crate::Store) -> i64 {
    store
        .conn
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_same_message_from_realtime_then_sync_is_stored_once() {
    let mut store = store_with_conversation();
    let m = message_from_ada(5);
    assert_eq!(store.apply_message(&m).unwrap(), Applied::Inserted);
    let outcomes = store
        .apply_changes(&[message_change(m.clone())], 5)
        .unwrap();
    assert_eq!(outcomes, vec![Applied::Unchanged]);
    assert_eq!(count_messages(&store), 1);
    assert_eq!(store.messages_before(CONV, None, 10).unwrap().len(), 1);
}

#[test]
fn an_optimistic_message_is_upgraded_in_place_when_the_echo_arrives() {
    // Given a message written offline,
    let mut store = store_with_conversation();
    let written = store
        .enqueue_message(CONV, "c-42", "message 9", &time(8), 0)
        .unwrap();
    assert_eq!(written.delivery, DeliveryState::Pending);
    // when the server's copy arrives by sync,
    let echo = message_from_me(9, "c-42");
    let outcomes = store
        .apply_changes(&[message_change(echo.clone())], 9)
        .unwrap();
    // then the same row is now sent, with the server's id and seq, and the outbox is empty.
    assert_eq!(outcomes, vec![Applied::Updated]);
    let page = store.messages_before(CONV, None, 10).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].client_id, "c-42");
    assert_eq!(page[0].id, Some(echo.id));
    assert_eq!(page[0].seq, Some(9));
    assert_eq!(page[0].delivery, DeliveryState::Sent);
    assert!(store.outbox().unwrap().is_empty());
    // And the answer to the POST arriving afterwards changes nothing.
    assert_eq!(store.apply_message(&echo).unwrap(), Applied::Unchanged);
    assert_eq!(count_messages(&store), 1);
}

#[test]
fn a_failed_message_that_the_server_did_store_becomes_sent() {
    let mut store = store_with_conversation();
    store
        .enqueue_message(CONV, "c-1", "hi", &time(1), 0)
        .unwrap();
    store.outbox_fail("c-1", "refused").unwrap();
    store.apply_message(&message_from_me(3, "c-1")).unwrap();
    let m = store.message_by_client_id(ME, "c-1").unwrap().unwrap();
    assert_eq!(m.delivery, DeliveryState::Sent);
    assert!(store.outbox().unwrap().is_empty());
}

#[test]
fn a_message_for_an_unknown_conversation_creates_a_placeholder_filled_in_later() {
    let mut store = store_with_account();
    let mut m = message_from_ada(4);
    m.conversation_id = 77;
    store.apply_message(&m).unwrap();
    let list = store.conversation_list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].title, "");
    let applied = store
        .apply_conversation(&conversation(77, "Launch", &[ME, ADA]), Some(2))
        .unwrap();
    assert_eq!(applied, Applied::Updated);
    let list = store.conversation_list().unwrap();
    assert_eq!(list[0].title, "Launch");
    assert_eq!(list[0].unread_count, 1);
    assert_eq!(list[0].direct_peer_id, Some(ADA));
}

#[test]
fn applying_a_conversation_twice_changes_nothing_the_second_time() {
    let mut store = store_with_account();
    let c = conversation(5, "Team", &[3, ME, ADA]);
    assert_eq!(
        store.apply_conversation(&c, Some(8)).unwrap(),
        Applied::Inserted
    );
    assert_eq!(
        store.apply_conversation(&c, Some(8)).unwrap(),
        Applied::Unchanged
    );
    assert_eq!(
        store.apply_conversation(&c, None).unwrap(),
        Applied::Unchanged
    );
    let mut renamed = c.clone();
    renamed.title = "Team!".into();
    renamed.member_ids.push(4);
    assert_eq!(
        store.apply_conversation(&renamed, None).unwrap(),
        Applied::Updated
    );
    let stored = store.conversation(5).unwrap().unwrap();
    assert_eq!(stored.title, "Team!");
    assert_eq!(stored.member_ids, vec![ME, ADA, 3, 4]);
}

#[test]
fn a_conversation_snapshot_brings_its_last_message_and_my_read_position() {
    let mut store = store_with_account();
    let mut c = conversation(CONV, "Ada", &[ME, ADA]);
    c.last_message = Some(message_from_ada(6));
    c.last_read_seq = 4;
    store.apply_conversation(&c, None).unwrap();
    let stored = store.conversation(CONV).unwrap().unwrap();
    assert_eq!(stored.last_message, Some(message_from_ada(6)));
    assert_eq!(stored.last_read_seq, 4);
    assert_eq!(stored.unread_count, 1);
    // An older snapshot never moves the read position back.
    c.last_read_seq = 2;
    store.apply_conversation(&c, None).unwrap();
    assert_eq!(store.conversation(CONV).unwrap().unwrap().last_read_seq, 4);
}

#[test]
fn read_marks_only_move_forward_and_mine_clears_unread() {
    let mut store = store_with_conversation();
    for seq in 2..=5 {
        store.apply_message(&message_from_ada(seq)).unwrap();
    }
    assert_eq!(
        store.apply_read_mark(&receipt(ADA, 5)).unwrap(),
        Applied::Inserted
    );
    assert_eq!(
        store.apply_read_mark(&receipt(ADA, 3)).unwrap(),
        Applied::Unchanged
    );
    assert_eq!(
        store.apply_read_mark(&receipt(ADA, 5)).unwrap(),
        Applied::Unchanged
    );
    assert_eq!(store.read_marks(CONV).unwrap(), vec![receipt(ADA, 5)]);
    // My mark read on another device arrives by sync.
    assert_eq!(
        store.apply_read_mark(&receipt(ME, 4)).unwrap(),
        Applied::Inserted
    );
    assert_eq!(store.conversation_list().unwrap()[0].unread_count, 1);
}

#[test]
fn an_answered_request_never_goes_back_to_pending() {
    let mut store = store_with_account();
    let pending = request(7, true, KnowledgeStatus::Pending, 10);
    let approved = request(7, true, KnowledgeStatus::Approved, 12);
    assert_eq!(store.apply_request(&pending).unwrap(), Applied::Inserted);
    assert_eq!(store.apply_request(&approved).unwrap(), Applied::Updated);
    // The creation arrives again (sync after the realtime answer), even with a bogus higher seq.
    assert_eq!(store.apply_request(&pending).unwrap(), Applied::Unchanged);
    let mut replayed = pending.clone();
    replayed.seq = 20;
    assert_eq!(store.apply_request(&replayed).unwrap(), Applied::Unchanged);
    let stored = store.request(7).unwrap().unwrap();
    assert_eq!(stored.status, KnowledgeStatus::Approved);
    assert_eq!(stored.response_content.as_deref(), Some("answer 7"));
    assert!(store.incoming_requests().unwrap().is_empty());
}

#[test]
fn a_realtime_answer_updates_a_known_request_and_reports_an_unknown_one() {
    let mut store = store_with_account();
    store
        .apply_request(&request(8, false, KnowledgeStatus::Pending, 3))
        .unwrap();
    let answer = KnowledgeResponseEvent {
        request_id: 8,
        status: KnowledgeStatus::Denied,
        response_content: Some("not mine to share".into()),
        answered_at: Some("2024-01-01T00:00:09Z".into()),
        seq: 4,
    };
    assert_eq!(
        store.apply_request_response(&answer).unwrap(),
        Some(Applied::Updated)
    );
    assert_eq!(
        store.apply_request_response(&answer).unwrap(),
        Some(Applied::Unchanged)
    );
    let stored = store.request(8).unwrap().unwrap();
    assert_eq!(stored.status, KnowledgeStatus::Denied);
    assert_eq!(
        stored.response_content.as_deref(),
        Some("not mine to share")
    );
    assert_eq!(stored.answered_at.as_deref(), Some("2024-01-01T00:00:09Z"));
    assert!(!stored.answer_seen, "a new answer is unread until opened");
    assert!(store.mark_answer_seen(8).unwrap());
    assert!(!store.mark_answer_seen(8).unwrap(), "seen once");
    assert!(store.request(8).unwrap().unwrap().answer_seen);
    let unknown = KnowledgeResponseEvent {
        request_id: 99,
        ..answer
    };
    assert_eq!(store.apply_request_response(&unknown).unwrap(), None);
}

#[test]
fn a_sync_page_applies_every_kind_of_change_and_moves_the_cursor() {
    let mut store = store_with_account();
    let page = vec![
        Change::ConversationCreated(ConversationChange {
            seq: 1,
            conversation: conversation(CONV, "Ada", &[ME, ADA]),
        }),
        message_change(message_from_ada(2)),
        Change::ReadReceipt(ReadChange {
            seq: 3,
            receipt: receipt(ADA, 2),
        }),
        Change::KnowledgeRequest(KnowledgeChange {
            seq: 4,
            request: request(1, true, KnowledgeStatus::Pending, 4),
        }),
        Change::KnowledgeResponse(KnowledgeChange {
            seq: 5,
            request: request(1, true, KnowledgeStatus::Denied, 5),
        }),
    ];
    let outcomes = store.apply_changes(&page, 5).unwrap();
    assert_eq!(
        outcomes,
        vec![
            Applied::Inserted,
            Applied::Inserted,
            Applied::Inserted,
            Applied::Inserted,
            Applied::Updated
        ]
    );
    assert_eq!(store.sync_cursor().unwrap(), 5);
    // The same page again (a retried fetch) is all unchanged, and the cursor stays.
    let outcomes = store.apply_changes(&page, 5).unwrap();
    assert!(outcomes.iter().all(|o| *o == Applied::Unchanged));
    assert_eq!(store.sync_cursor().unwrap(), 5);
}

#[test]
fn a_page_that_fails_midway_keeps_nothing_and_leaves_the_cursor() {
    let mut store = store_with_conversation();
    store.advance_sync_cursor(1).unwrap();
    let result = store.write(|tx| {
        tx.apply_changes(&[message_change(message_from_ada(2))], 2)?;
        Err::<(), _>(StoreError::Busy)
    });
    assert!(matches!(result, Err(StoreError::Busy)));
    assert_eq!(count_messages(&store), 0);
    assert_eq!(store.sync_cursor().unwrap(), 1);
}

#[test]
fn one_transaction_can_apply_several_kinds_of_items() {
    let mut store = store_with_conversation();
    let tx = store.transaction().unwrap();
    assert_eq!(tx.me(), Some(ME));
    tx.apply_message(&message_from_ada(2)).unwrap();
    tx.apply_read_mark(&receipt(ADA, 2)).unwrap();
    tx.apply_user(&ada_user()).unwrap();
    tx.advance_notified_cursor(2).unwrap();
    drop(tx);
    assert_eq!(count_messages(&store), 0, "dropped without commit");
    let tx = store.transaction().unwrap();
    tx.apply_message(&message_from_ada(2)).unwrap();
    tx.commit().unwrap();
    assert_eq!(count_messages(&store), 1);
}

#[test]
fn users_from_the_directory_and_from_messages_share_one_row() {
    let mut store = store_with_account();
    assert_eq!(store.apply_users(&[ada_user()]).unwrap(), 1);
    assert_eq!(store.apply_users(&[ada_user()]).unwrap(), 0);
    let mut m = message_from_ada(3);
    m.sender.name = "Ada L.".into();
    store.apply_message(&m).unwrap();
    let users = store.users().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].name, "Ada L.");
}

#[test]
fn a_message_seen_again_with_other_content_takes_the_servers_version() {
    let mut store = store_with_conversation();
    store.apply_message(&message_from_ada(2)).unwrap();
    let mut edited = message_from_ada(2);
    edited.content = "corrected".into();
    assert_eq!(store.apply_message(&edited).unwrap(), Applied::Updated);
    assert_eq!(store.search("corrected", None, 5).unwrap().len(), 1);
    assert_eq!(store.search("message", None, 5).unwrap().len(), 0);
}

fn unsent_seqs(store: &crate::Store) -> Vec<i64> {
    store
        .unsent_read_marks()
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect()
}

#[test]
fn my_read_receipt_from_the_server_settles_an_unsent_mark_at_or_below_it() {
    // Given my mark at 5, not sent yet,
    let mut store = store_with_conversation();
    store.mark_read(CONV, 5).unwrap();
    // when the server tells of Ada's mark, or of an older mark of mine,
    store.apply_read_mark(&receipt(ADA, 9)).unwrap();
    store.apply_read_mark(&receipt(ME, 4)).unwrap();
    // then mine still waits;
    assert_eq!(unsent_seqs(&store), [5]);
    // when the server tells of my mark at 5 (my request got through, or another device's),
    store.apply_read_mark(&receipt(ME, 5)).unwrap();
    // then nothing waits.
    assert!(unsent_seqs(&store).is_empty());
}

#[test]
fn my_read_receipt_in_a_sync_page_settles_an_unsent_mark() {
    // Given my mark at 5, not sent yet,
    let mut store = store_with_conversation();
    store.mark_read(CONV, 5).unwrap();
    // when a catch-up brings my mark at 6 (read on another device),
    let change = Change::ReadReceipt(ReadChange {
        seq: 20,
        receipt: receipt(ME, 6),
    });
    store.apply_changes(&[change], 20).unwrap();
    // then the server has more than mine: nothing waits.
    assert!(unsent_seqs(&store).is_empty());
}

#[test]
fn a_conversation_from_the_server_settles_an_unsent_mark_at_or_below_its_read_position() {
    // Given my mark at 5, not sent yet,
    let mut store = store_with_conversation();
    store.mark_read(CONV, 5).unwrap();
    let mut c = conversation(CONV, "Ada", &[ME, ADA]);
    // when the server's copy of the conversation says I read up to 4,
    c.last_read_seq = 4;
    store.apply_conversation(&c, Some(1)).unwrap();
    // then mine still waits;
    assert_eq!(unsent_seqs(&store), [5]);
    // when it says 5,
    c.last_read_seq = 5;
    store.apply_conversation(&c, Some(1)).unwrap();
    // then nothing waits.
    assert!(unsent_seqs(&store).is_empty());
}

#[test]
fn an_answer_arriving_by_sync_is_unread_and_an_older_copy_never_unreads_it() {
    let mut store = store_with_account();
    let pending = request(9, false, KnowledgeStatus::Pending, 3);
    store.apply_request(&pending).unwrap();
    let mut answered = request(9, false, KnowledgeStatus::Approved, 5);
    answered.answer_seen = false;
    store.apply_request(&answered).unwrap();
    assert!(!store.request(9).unwrap().unwrap().answer_seen);
    store.mark_answer_seen(9).unwrap();
    store.apply_request(&answered).unwrap();
    assert!(store.request(9).unwrap().unwrap().answer_seen);
}

#[test]
fn leaving_a_conversation_drops_it_with_its_messages_and_search_entries() {
    let mut store = store_with_conversation();
    let mut m = message_from_ada(2);
    m.content = "secret plans".into();
    store.apply_message(&m).unwrap();
    let left = confab_model::LeftChange {
        seq: 3,
        conversation_id: CONV,
        user_id: ME,
    };
    let outcome = store.write(|tx| tx.apply_left(&left)).unwrap();
    assert_eq!(outcome, Applied::Updated);
    assert!(store.conversation_list().unwrap().is_empty());
    assert!(store.search("secret", None, 10).unwrap().is_empty());
    assert_eq!(
        store.write(|tx| tx.apply_left(&left)).unwrap(),
        Applied::Unchanged
    );
}

#[test]
fn a_rename_keeps_the_place_in_the_list_and_an_added_member_sees_the_conversation_arrive() {
    let mut store = store_with_conversation();
    let mut group = conversation(40, "Ops", &[ME, ADA, 3]);
    store
        .write(|tx| tx.apply_conversation_update(&group, 7))
        .unwrap();
    let list = store.conversation_list().unwrap();
    assert_eq!(list[0].id, 40, "arrived at the change's place");
    assert_eq!(list[0].kind, confab_model::ConversationKind::Group);
    assert_eq!(list[0].direct_peer_id, None);
    let m = message_from_ada(8);
    store.apply_message(&m).unwrap();
    group.title = "Ops on call".into();
    store
        .write(|tx| tx.apply_conversation_update(&group, 9))
        .unwrap();
    let list = store.conversation_list().unwrap();
    assert_eq!(list[0].id, CONV, "a rename is no activity");
    assert_eq!(list[1].title, "Ops on call");
}

#[test]
fn mute_follows_the_server_and_a_mention_of_me_counts_even_when_muted() {
    let mut store = store_with_conversation();
    let muted = confab_model::MuteChange {
        seq: 2,
        conversation_id: CONV,
        muted: true,
    };
    assert_eq!(
        store.write(|tx| tx.apply_muted(&muted)).unwrap(),
        Applied::Updated
    );
    let mut plain = message_from_ada(3);
    plain.content = "lunch?".into();
    store.apply_message(&plain).unwrap();
    let mut mention = message_from_ada(4);
    mention.content = format!("@{} can you review?", me().name);
    store.apply_message(&mention).unwrap();
    let summary = &store.conversation_list().unwrap()[0];
    assert!(summary.muted);
    assert_eq!(summary.unread_count, 2);
    assert_eq!(summary.mention_count, 1);
}
