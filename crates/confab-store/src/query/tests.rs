use confab_model::ipc::DeliveryState;
use confab_model::KnowledgeStatus;

use crate::testing::*;
use crate::{Store, StoreError};

#[test]
fn the_list_is_ordered_by_latest_activity_with_previews_and_unread_counts() {
    let mut store = store_with_conversation();
    store
        .apply_conversation(&conversation(20, "Team", &[ME, ADA, 3]), Some(3))
        .unwrap();
    store
        .apply_conversation(&conversation(30, "Empty", &[ME, 3]), Some(4))
        .unwrap();
    store.apply_message(&message_from_ada(5)).unwrap();
    let mut in_team = message_from_ada(6);
    in_team.conversation_id = 20;
    in_team.content = "line one\n  line two".into();
    store.apply_message(&in_team).unwrap();

    let list = store.conversation_list().unwrap();
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![20, CONV, 30]);
    assert_eq!(
        list[0].last_message_preview.as_deref(),
        Some("Ada: line one line two")
    );
    assert_eq!(list[0].last_activity_at.as_deref(), Some(time(6).as_str()));
    assert_eq!(list[0].unread_count, 1);
    assert_eq!(list[0].direct_peer_id, None);
    assert_eq!(list[1].direct_peer_id, Some(ADA));
    assert_eq!(list[2].last_message_preview, None);
    assert_eq!(list[2].unread_count, 0);
}

#[test]
fn the_list_counts_members_and_their_ids_are_read_for_one_conversation_at_a_time() {
    let mut store = store_with_conversation();
    let team: Vec<i64> = std::iter::once(ME).chain(100..600).collect();
    store
        .apply_conversation(&conversation(20, "Everyone", &team), Some(3))
        .unwrap();

    let list = store.conversation_list().unwrap();
    let everyone = list.iter().find(|c| c.id == 20).unwrap();
    assert_eq!(everyone.member_count, 501);
    assert_eq!(everyone.direct_peer_id, None);
    let direct = list.iter().find(|c| c.id == CONV).unwrap();
    assert_eq!(direct.member_count, 2);
    assert_eq!(direct.direct_peer_id, Some(ADA));

    let mut sorted = team.clone();
    sorted.sort_unstable();
    assert_eq!(store.conversation_members(20).unwrap(), sorted);
    assert!(store.conversation_members(999).unwrap().is_empty());
}

#[test]
fn my_own_messages_are_never_unread() {
    let mut store = store_with_conversation();
    store.apply_message(&message_from_me(2, "c-2")).unwrap();
    store.apply_message(&message_from_ada(3)).unwrap();
    assert_eq!(store.conversation_list().unwrap()[0].unread_count, 1);
}

#[test]
fn a_message_waiting_in_the_outbox_lifts_its_conversation_to_the_top() {
    let mut store = store_with_conversation();
    store
        .apply_conversation(&conversation(20, "Team", &[ME, ADA, 3]), Some(3))
        .unwrap();
    let mut newer = message_from_ada(9);
    newer.conversation_id = 20;
    store.apply_message(&newer).unwrap();
    assert_eq!(store.conversation_list().unwrap()[0].id, 20);
    // Given I write in the older conversation while offline,
    store
        .enqueue_message(CONV, "c-1", "I am offline", &time(10), 0)
        .unwrap();
    // then it comes first, showing my pending text,
    let list = store.conversation_list().unwrap();
    assert_eq!(list[0].id, CONV);
    assert_eq!(
        list[0].last_message_preview.as_deref(),
        Some("Me: I am offline")
    );
    // and anything the server sends afterwards goes above it again.
    let mut later = message_from_ada(10);
    later.conversation_id = 20;
    store.apply_message(&later).unwrap();
    assert_eq!(store.conversation_list().unwrap()[0].id, 20);
}

#[test]
fn a_long_preview_is_cut_with_an_ellipsis() {
    let mut store = store_with_conversation();
    let mut m = message_from_ada(2);
    m.content = "é".repeat(300);
    store.apply_message(&m).unwrap();
    let preview = store.conversation_list().unwrap()[0]
        .last_message_preview
        .clone()
        .unwrap();
    assert_eq!(
        preview.chars().count(),
        "Ada: ".len() + crate::query::PREVIEW_CHARS + 1
    );
    assert!(preview.ends_with('…'));
}

#[test]
fn pages_scroll_back_by_seq_and_unsent_messages_come_last_in_the_newest_page() {
    let mut store = store_with_conversation();
    for seq in 2..=11 {
        store.apply_message(&message_from_ada(seq)).unwrap();
    }
    store
        .enqueue_message(CONV, "c-1", "pending one", &time(12), 0)
        .unwrap();
    let newest = store.messages_before(CONV, None, 4).unwrap();
    let seqs: Vec<Option<i64>> = newest.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![Some(9), Some(10), Some(11), None]);
    assert_eq!(newest[3].delivery, DeliveryState::Pending);
    let older = store.messages_before(CONV, Some(9), 4).unwrap();
    let seqs: Vec<Option<i64>> = older.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![Some(5), Some(6), Some(7), Some(8)]);
    let oldest = store.messages_before(CONV, Some(5), 4).unwrap();
    assert_eq!(oldest.len(), 3);
    assert!(store.messages_before(CONV, Some(2), 4).unwrap().is_empty());
    assert!(store.messages_before(999, None, 4).unwrap().is_empty());
}

#[test]
fn pages_scroll_forward_from_far_back_and_the_last_one_ends_with_the_unsent_messages() {
    let mut store = store_with_conversation();
    for seq in 2..=11 {
        store.apply_message(&message_from_ada(seq)).unwrap();
    }
    for n in 0..5 {
        store
            .enqueue_message(CONV, &format!("c-{n}"), "pending", &time(12 + n), 0)
            .unwrap();
    }
    let seqs = |page: &[confab_model::ipc::ChatMessage]| -> Vec<Option<i64>> {
        page.iter().map(|m| m.seq).collect()
    };
    // A full page of sent messages: more may follow, nothing unsent yet.
    let page = store.messages_after(CONV, 3, 4).unwrap();
    assert_eq!(seqs(&page), vec![Some(4), Some(5), Some(6), Some(7)]);
    // The last page: the sent ones left, then every unsent one (more than the page size,
    // so the page is long but its few sent rows still say it is the end).
    let page = store.messages_after(CONV, 8, 4).unwrap();
    assert_eq!(
        seqs(&page),
        vec![Some(9), Some(10), Some(11), None, None, None, None, None]
    );
    assert_eq!(page[3].client_id, "c-0");
    assert!(store.messages_after(999, 0, 4).unwrap().is_empty());
}

#[test]
fn incoming_lists_pending_requests_to_me_and_outgoing_lists_mine_newest_first() {
    let mut store = store_with_account();
    store
        .apply_request(&request(1, true, KnowledgeStatus::Pending, 1))
        .unwrap();
    store
        .apply_request(&request(2, true, KnowledgeStatus::Approved, 5))
        .unwrap();
    store
        .apply_request(&request(3, true, KnowledgeStatus::Pending, 3))
        .unwrap();
    store
        .apply_request(&request(4, false, KnowledgeStatus::Pending, 4))
        .unwrap();
    store
        .apply_request(&request(5, false, KnowledgeStatus::Approved, 6))
        .unwrap();
    let incoming: Vec<i64> = store
        .incoming_requests()
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(incoming, vec![1, 3]);
    let outgoing = store.outgoing_requests().unwrap();
    let ids: Vec<i64> = outgoing.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![5, 4]);
    assert_eq!(outgoing[0].response_content.as_deref(), Some("answer 5"));
}

#[test]
fn request_lists_need_to_know_the_account() {
    let store = Store::open_in_memory().unwrap();
    assert!(matches!(
        store.incoming_requests(),
        Err(StoreError::NoAccount)
    ));
    assert!(matches!(
        store.outgoing_requests(),
        Err(StoreError::NoAccount)
    ));
}

#[test]
fn an_unknown_conversation_reads_as_none() {
    let store = store_with_account();
    assert_eq!(store.conversation(5).unwrap(), None);
    assert!(store.read_marks(5).unwrap().is_empty());
}

#[test]
fn a_direct_conversation_with_the_default_title_is_named_after_the_other_person() {
    let mut store = store_with_account();
    store.apply_users(&[ada_user()]).unwrap();
    store
        .apply_conversation(&conversation(CONV, "Me, Ada", &[ME, ADA]), Some(1))
        .unwrap();
    store
        .apply_conversation(&conversation(11, "Ada, Me", &[ADA, ME]), Some(2))
        .unwrap();
    store
        .apply_conversation(&conversation(12, "Release prep", &[ME, ADA]), Some(3))
        .unwrap();
    store
        .apply_conversation(&conversation(13, "Me, Ada, Bob", &[ME, ADA, 3]), Some(4))
        .unwrap();
    let titles: Vec<(i64, String)> = store
        .conversation_list()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    assert_eq!(
        titles,
        vec![
            (13, "Me, Ada, Bob".to_owned()),
            (12, "Release prep".to_owned()),
            (11, "Ada".to_owned()),
            (CONV, "Ada".to_owned()),
        ]
    );
}
