use confab_model::ipc::DeliveryState;

use crate::testing::*;
use crate::{OutboxState, Store, StoreError};

fn second_conversation(store: &mut Store) {
    store
        .apply_conversation(&conversation(20, "Team", &[ME, ADA, 3]), Some(2))
        .unwrap();
}

#[test]
fn a_written_message_is_shown_pending_and_queued_at_once() {
    let mut store = store_with_conversation();
    let shown = store
        .enqueue_message(CONV, "c-1", "hello", &time(1), 1_000)
        .unwrap();
    assert_eq!(shown.delivery, DeliveryState::Pending);
    assert_eq!(shown.sender_name, "Me");
    assert_eq!(shown.id, None);
    let due = store.outbox_due(1_000).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].content, "hello");
    assert_eq!(due[0].state, OutboxState::Queued);
    assert!(store.outbox_due(999).unwrap().is_empty());
    assert_eq!(store.outbox_next_due_at().unwrap(), Some(1_000));
}

#[test]
fn only_the_oldest_entry_of_each_conversation_is_due() {
    let mut store = store_with_conversation();
    second_conversation(&mut store);
    store.enqueue_message(CONV, "a1", "1", &time(1), 0).unwrap();
    store.enqueue_message(20, "b1", "2", &time(2), 0).unwrap();
    store.enqueue_message(CONV, "a2", "3", &time(3), 0).unwrap();
    let due: Vec<String> = store
        .outbox_due(0)
        .unwrap()
        .into_iter()
        .map(|i| i.client_id)
        .collect();
    assert_eq!(due, vec!["a1", "b1"]);
    // The head backs off: nothing else of its conversation may overtake it.
    assert_eq!(store.outbox_reschedule("a1", "timed out", 500).unwrap(), 1);
    let due: Vec<String> = store
        .outbox_due(100)
        .unwrap()
        .into_iter()
        .map(|i| i.client_id)
        .collect();
    assert_eq!(due, vec!["b1"]);
    assert_eq!(store.outbox_next_due_at().unwrap(), Some(0));
    // Delivered: the next one of that conversation becomes due.
    store.apply_message(&message_from_me(5, "b1")).unwrap();
    assert_eq!(store.outbox_next_due_at().unwrap(), Some(500));
    store.outbox_reschedule("a1", "timed out", 600).unwrap();
    let a1 = store.outbox_due(600).unwrap().remove(0);
    assert_eq!((a1.client_id.as_str(), a1.attempts), ("a1", 2));
    assert_eq!(a1.last_error.as_deref(), Some("timed out"));
}

#[test]
fn a_refused_message_fails_with_its_reason_without_holding_back_the_next() {
    let mut store = store_with_conversation();
    store
        .enqueue_message(CONV, "a1", "too long", &time(1), 0)
        .unwrap();
    store
        .enqueue_message(CONV, "a2", "fine", &time(2), 0)
        .unwrap();
    let shown = store.outbox_fail("a1", "The message is too long.").unwrap();
    assert_eq!(
        shown.delivery,
        DeliveryState::Failed {
            reason: "The message is too long.".into()
        }
    );
    let due = store.outbox_due(0).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].client_id, "a2");
    assert_eq!(store.outbox().unwrap()[0].state, OutboxState::Failed);
    // The user retries: it is pending and due again, ahead of the later one.
    let shown = store.outbox_retry("a1", 50).unwrap();
    assert_eq!(shown.delivery, DeliveryState::Pending);
    let due = store.outbox_due(50).unwrap();
    assert_eq!(due[0].client_id, "a1");
    assert_eq!(due[0].attempts, 0);
}

#[test]
fn discarding_removes_the_entry_and_its_message() {
    let mut store = store_with_conversation();
    store
        .enqueue_message(CONV, "a1", "oops", &time(1), 0)
        .unwrap();
    assert_eq!(store.outbox_discard("a1").unwrap(), CONV);
    assert!(store.outbox().unwrap().is_empty());
    assert!(store.messages_before(CONV, None, 10).unwrap().is_empty());
    assert!(store.search("oops", None, 10).unwrap().is_empty());
    assert!(matches!(
        store.outbox_discard("a1"),
        Err(StoreError::NotInOutbox(id)) if id == "a1"
    ));
}

#[test]
fn operations_on_a_delivered_entry_report_it_is_gone() {
    let mut store = store_with_conversation();
    store
        .enqueue_message(CONV, "a1", "hi", &time(1), 0)
        .unwrap();
    store.apply_message(&message_from_me(4, "a1")).unwrap();
    assert!(matches!(
        store.outbox_reschedule("a1", "x", 1),
        Err(StoreError::NotInOutbox(_))
    ));
    assert!(matches!(
        store.outbox_fail("a1", "x"),
        Err(StoreError::NotInOutbox(_))
    ));
    assert!(matches!(
        store.outbox_retry("a1", 1),
        Err(StoreError::NotInOutbox(_))
    ));
    let m = store.message_by_client_id(ME, "a1").unwrap().unwrap();
    assert_eq!(m.delivery, DeliveryState::Sent);
}

#[test]
fn a_client_id_can_be_used_once_and_only_in_a_known_conversation() {
    let mut store = store_with_conversation();
    store
        .enqueue_message(CONV, "a1", "hi", &time(1), 0)
        .unwrap();
    assert!(matches!(
        store.enqueue_message(CONV, "a1", "again", &time(2), 0),
        Err(StoreError::DuplicateClientId(_))
    ));
    assert!(matches!(
        store.enqueue_message(404, "a2", "hi", &time(2), 0),
        Err(StoreError::UnknownConversation(404))
    ));
    let mut anonymous = Store::open_in_memory().unwrap();
    assert!(matches!(
        anonymous.enqueue_message(CONV, "a3", "hi", &time(2), 0),
        Err(StoreError::NoAccount)
    ));
}
