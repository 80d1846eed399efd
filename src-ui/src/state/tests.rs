//! The reducer's tests: actions and events on a plain `AppState`, run natively.

use super::*;
use crate::logic::timeline::tests::msg;
use confab_model::ipc::{DeliveryState, ShareRequestView};

fn session() -> SessionInfo {
    SessionInfo {
        server_url: "http://127.0.0.1:8080".into(),
        user_id: 1,
        name: "Alice".into(),
        email: "alice@example.com".into(),
        persisted: true,
    }
}

pub(crate) fn conv(id: i64, unread: i64) -> ConversationSummary {
    ConversationSummary {
        id,
        title: format!("c{id}"),
        kind: confab_model::ConversationKind::Direct,
        mention_count: 0,
        member_count: 2,
        last_message_preview: None,
        last_activity_at: None,
        unread_count: unread,
        muted: false,
        direct_peer_id: Some(2),
        // Listed in the order the tests give them (the core's order).
        sort_key: (0, -id),
    }
}

/// The whole list, as the core publishes it.
fn list(conversations: Vec<ConversationSummary>) -> Action {
    Action::Event(UiEvent::Conversations(ConversationsUpdate {
        complete: true,
        conversations,
        removed: Vec::new(),
    }))
}

fn started(session: Option<SessionInfo>, server_url: Option<&str>, notice: Option<&str>) -> Action {
    Action::Started(Startup {
        session,
        server_url: server_url.map(str::to_owned),
        notice: notice.map(str::to_owned),
        connection: ConnectionStatus::Offline,
        history: None,
        clock: confab_model::ipc::LocalClock::default(),
    })
}

fn request(id: i64) -> ShareRequestView {
    ShareRequestView {
        id,
        requester_id: 2,
        requester_name: "Bob".into(),
        owner_id: 1,
        owner_name: Some("Alice".into()),
        question: "Where are the deploy keys?".into(),
        status: KnowledgeStatus::Pending,
        response_content: None,
        created_at: "2025-03-05T10:00:00Z".into(),
        answered_at: None,
        unread: false,
    }
}

fn run(actions: impl IntoIterator<Item = Action>) -> Rc<AppState> {
    actions
        .into_iter()
        .fold(Rc::new(AppState::default()), |s, a| s.reduce(a))
}

#[test]
fn opening_a_dialog_puts_the_last_toast_away() {
    let s = run([
        started(Some(session()), Some("https://chat.example.com"), None),
        Action::Toast("Password changed.".into()),
        Action::Open(Dialog::Account),
    ]);
    assert_eq!(s.dialog, Some(Dialog::Account));
    assert_eq!(s.toast, None);
}

#[test]
fn a_restored_session_opens_the_main_window_directly() {
    let s = run([started(Some(session()), None, None)]);
    assert_eq!(s.screen, Screen::Main);
    assert_eq!(s.server_url, "http://127.0.0.1:8080");
}

#[test]
fn a_restored_session_whose_cache_was_rebuilt_says_so_once_in_passing() {
    let s = run([started(
        Some(session()),
        None,
        Some("The cache was rebuilt."),
    )]);
    assert_eq!(s.screen, Screen::Main);
    assert_eq!(s.toast.as_deref(), Some("The cache was rebuilt."));
    assert_eq!(s.sign_in_notice, None);
    let s = s.reduce(Action::ClearToast);
    let s = s.reduce(Action::Event(UiEvent::Notice {
        message: "Rebuilt at sign-in.".into(),
    }));
    assert_eq!(s.toast.as_deref(), Some("Rebuilt at sign-in."));
    assert_eq!(s.screen, Screen::Main);
}

#[test]
fn without_a_session_the_sign_in_form_is_prefilled_with_the_last_server() {
    let s = run([started(None, Some("https://chat.example.com"), None)]);
    assert_eq!(s.screen, Screen::SignIn);
    assert_eq!(s.server_url, "https://chat.example.com");
}

#[test]
fn a_session_that_ended_before_the_window_listened_still_says_why_on_the_sign_in_form() {
    let s = run([started(None, None, Some("Your session has expired."))]);
    assert_eq!(s.screen, Screen::SignIn);
    assert_eq!(
        s.sign_in_notice.as_deref(),
        Some("Your session has expired.")
    );
}

#[test]
fn the_first_conversation_opens_once_the_list_arrives_and_loses_its_unread_badge() {
    let s = run([
        Action::SignedIn(session()),
        list(vec![conv(7, 3), conv(8, 1)]),
    ]);
    assert_eq!(s.selected, Some(7));
    assert_eq!(s.conversations[0].unread_count, 0);
    assert_eq!(s.conversations[1].unread_count, 1);
    assert_eq!(s.unread_total(), 1);
}

#[test]
fn history_loading_in_the_background_has_a_short_open_timeline_read_again_but_not_a_long_one() {
    let page = |n: i64| -> Vec<ChatMessage> {
        (1..=n)
            .map(|i| msg(&format!("m{i}"), Some(i), 2, "2025-03-05T10:00:00Z"))
            .collect()
    };
    let history = || {
        Action::Event(UiEvent::History {
            progress: Some(confab_model::ipc::HistoryProgress {
                done: 10,
                total: 100,
            }),
        })
    };
    // The snapshot gave the open conversation 3 messages: all it knew of, then.
    let s = run([
        list(vec![conv(1, 0)]),
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: page(3),
            limit: 50,
        },
        history(),
    ]);
    assert!(
        !s.timelines[&1].page_loaded,
        "read again: older messages may have arrived"
    );
    assert_eq!(
        s.timelines[&1].messages.len(),
        3,
        "kept until the page lands"
    );
    // A full page asks for older pages itself as the reader scrolls: left as it is.
    let s = run([
        list(vec![conv(1, 0)]),
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: page(50),
            limit: 50,
        },
        history(),
    ]);
    assert!(s.timelines[&1].page_loaded);
}

#[test]
fn live_messages_go_into_loaded_timelines_only() {
    let s = run([
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: vec![],
            limit: 50,
        },
        Action::Event(UiEvent::MessagesChanged {
            conversation_id: 1,
            messages: vec![msg("a", Some(1), 2, "2025-03-05T10:00:00Z")],
        }),
        Action::Event(UiEvent::MessagesChanged {
            conversation_id: 2,
            messages: vec![msg("b", Some(2), 2, "2025-03-05T10:00:00Z")],
        }),
    ]);
    assert_eq!(s.timelines[&1].messages.len(), 1);
    assert!(!s.timelines.contains_key(&2));
}

#[test]
fn messages_arriving_while_the_open_conversations_page_is_read_are_kept() {
    // Opened, its newest page on its way; a catch-up delivers newer rows meanwhile.
    let opened = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 0)]),
        Action::Select(1),
        Action::Event(UiEvent::MessagesChanged {
            conversation_id: 1,
            messages: vec![msg("late", Some(9), 2, "2025-03-05T10:01:00Z")],
        }),
    ]);
    assert!(
        !opened.timelines[&1].page_loaded,
        "live rows alone do not make the page loaded: the chat pane still reads it"
    );
    // The page was read before the catch-up stored the newer row.
    let s = opened.reduce(Action::MessagesLoaded {
        conversation_id: 1,
        messages: vec![msg("early", Some(3), 2, "2025-03-05T10:00:00Z")],
        limit: 50,
    });
    assert!(s.timelines[&1].page_loaded);
    let ids: Vec<&str> = s.timelines[&1]
        .messages
        .iter()
        .map(|m| m.client_id.as_str())
        .collect();
    assert_eq!(ids, ["early", "late"]);
}

#[test]
fn my_message_shows_pending_then_sent_exactly_once() {
    let pending = msg("mine", None, 1, "2025-03-05T10:00:00Z");
    let mut sent = pending.clone();
    sent.seq = Some(9);
    sent.id = Some(90);
    sent.delivery = DeliveryState::Sent;
    let s = run([
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: vec![],
            limit: 50,
        },
        Action::MessageUpserted(pending),
    ]);
    assert_eq!(s.timelines[&1].messages[0].delivery, DeliveryState::Pending);
    let s = s.reduce(Action::Event(UiEvent::MessagesChanged {
        conversation_id: 1,
        messages: vec![sent.clone(), sent],
    }));
    assert_eq!(s.timelines[&1].messages.len(), 1);
    assert_eq!(s.timelines[&1].messages[0].delivery, DeliveryState::Sent);
}

#[test]
fn a_message_held_by_the_server_before_the_send_answer_arrived_stays_held() {
    let pending = msg("mine", None, 1, "2025-03-05T10:00:00Z");
    let mut held = pending.clone();
    held.delivery = DeliveryState::Held {
        reason: "You are sending messages faster than the server allows".into(),
        until_ms: 1_000,
    };
    let s = run([
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: vec![],
            limit: 50,
        },
        Action::Event(UiEvent::MessagesChanged {
            conversation_id: 1,
            messages: vec![held.clone()],
        }),
        // The answer to the send command, written before the server was asked.
        Action::MessageUpserted(pending),
    ]);
    assert_eq!(s.timelines[&1].messages, vec![held]);
}

#[test]
fn a_page_read_while_messages_arrived_keeps_them() {
    let s = run([
        Action::MessageUpserted(msg("live", None, 1, "2025-03-05T10:05:00Z")),
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: vec![msg("old", Some(1), 2, "2025-03-05T10:00:00Z")],
            limit: 50,
        },
    ]);
    let ids: Vec<_> = s.timelines[&1]
        .messages
        .iter()
        .map(|m| m.client_id.as_str())
        .collect();
    assert_eq!(ids, ["old", "live"]);
}

#[test]
fn a_left_conversation_leaves_the_list_and_another_opens() {
    let s = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 0), conv(2, 0)]),
        Action::Select(1),
        Action::Event(UiEvent::Conversations(ConversationsUpdate {
            complete: false,
            conversations: vec![],
            removed: vec![1],
        })),
    ]);
    assert_eq!(s.conversations.len(), 1);
    assert_eq!(
        s.selected,
        Some(2),
        "the left conversation closes, the next one opens"
    );
}

#[test]
fn a_search_hit_opens_its_conversation_with_the_message_highlighted_until_another_opens() {
    let s = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 3), conv(2, 0)]),
        Action::Open(Dialog::Search),
        Action::JumpTo {
            conversation_id: 2,
            seq: 40,
        },
    ]);
    assert_eq!(s.selected, Some(2));
    assert_eq!(s.highlight, Some((2, 40)));
    assert_eq!(s.dialog, None);
    let s = s.reduce(Action::Select(1));
    assert_eq!(s.highlight, None);
}

#[test]
fn an_answered_request_leaves_the_list_and_its_dialog_closes() {
    let s = run([
        Action::Event(UiEvent::Requests(RequestLists {
            incoming: vec![request(4), request(5)],
            outgoing: vec![],
            answered: vec![],
        })),
        Action::Open(Dialog::Respond(4)),
        Action::Answered(4),
    ]);
    assert_eq!(s.pending_incoming().count(), 1);
    assert_eq!(s.dialog, None);
}

#[test]
fn a_notification_opens_its_target() {
    let s = run([
        list(vec![conv(1, 0), conv(2, 4)]),
        Action::Open(Dialog::Search),
        Action::Event(UiEvent::Navigate(NavigateTarget::Conversation(2))),
    ]);
    assert_eq!(s.selected, Some(2));
    assert_eq!(s.dialog, None);
    assert_eq!(s.conversations[1].unread_count, 0);
    let s = s.reduce(Action::Event(UiEvent::Navigate(NavigateTarget::Request(5))));
    assert_eq!(s.dialog, Some(Dialog::Respond(5)));
    let s = s.reduce(Action::Event(UiEvent::Navigate(NavigateTarget::Answer(6))));
    assert_eq!(s.dialog, Some(Dialog::Requests(Some(6))));
}

#[test]
fn an_ended_session_returns_to_sign_in_with_the_reason_and_forgets_the_account() {
    let s = run([
        Action::SignedIn(session()),
        list(vec![conv(1, 0)]),
        Action::Event(UiEvent::SessionEnded {
            reason: "Your session expired.".into(),
        }),
    ]);
    assert_eq!(s.screen, Screen::SignIn);
    assert_eq!(s.sign_in_notice.as_deref(), Some("Your session expired."));
    assert!(s.conversations.is_empty());
    assert_eq!(s.server_url, "http://127.0.0.1:8080");
}

#[test]
fn read_receipts_only_move_forward() {
    let receipt = |seq| {
        Action::Event(UiEvent::ReadReceipt {
            conversation_id: 1,
            user_id: 2,
            seq,
        })
    };
    let s = run([receipt(9), receipt(4)]);
    assert_eq!(s.receipts[&1][&2], 9);
}

#[test]
fn presence_and_directory_both_say_who_is_online() {
    let s = run([
        Action::Event(UiEvent::Teammates {
            teammates: vec![Teammate {
                id: 3,
                name: "Cleo".into(),
                online: true,
            }],
        }),
        Action::Event(UiEvent::Presence {
            conversation_id: 1,
            online: vec![2],
        }),
    ]);
    assert!(s.is_online(2));
    assert!(s.is_online(3));
    assert!(!s.is_online(4));
}

#[test]
fn a_burst_of_presence_changes_applied_together_ends_as_the_last_of_each_room_says() {
    let presence = |conversation_id, online: Vec<i64>| UiEvent::Presence {
        conversation_id,
        online,
    };
    let s = run([Action::Events(vec![
        presence(1, vec![2]),
        presence(2, vec![3]),
        presence(1, vec![]),
    ])]);
    assert_eq!(s.presence[&1], Vec::<i64>::new());
    assert_eq!(s.presence[&2], vec![3]);
    assert!(!s.is_online(2));
    assert!(s.is_online(3));
}

#[test]
fn a_teammate_online_in_two_rooms_stays_online_until_both_rooms_drop_them() {
    let presence = |conversation_id, online: Vec<i64>| {
        Action::Event(UiEvent::Presence {
            conversation_id,
            online,
        })
    };
    let both = run([presence(1, vec![2, 5]), presence(2, vec![2])]);
    let one_left = run([
        presence(1, vec![2, 5]),
        presence(2, vec![2]),
        // The same room said again (a reconnect) must not count Ada twice.
        presence(1, vec![2, 5]),
        presence(1, vec![5]),
    ]);
    let none_left = run([
        presence(1, vec![2, 5]),
        presence(2, vec![2]),
        presence(1, vec![5]),
        presence(2, vec![]),
    ]);
    assert!(both.is_online(2));
    assert!(one_left.is_online(2), "still in room 2");
    assert!(!none_left.is_online(2), "in no room");
    assert!(none_left.is_online(5));
    assert_eq!(none_left.online_rooms.get(&2), None);
}

#[test]
fn an_action_that_is_not_about_presence_shares_the_rooms_instead_of_copying_them() {
    let before = run([Action::Event(UiEvent::Presence {
        conversation_id: 1,
        online: vec![2],
    })]);
    let after = before.clone().reduce(Action::Toast("Saved".into()));
    assert!(Rc::ptr_eq(&before.presence, &after.presence));
    assert!(Rc::ptr_eq(&before.online_rooms, &after.online_rooms));
    assert!(Rc::ptr_eq(&before.receipts, &after.receipts));
}

#[test]
fn the_divider_stays_within_bounds() {
    let s = run([Action::SetSplit(0.01)]);
    assert_eq!(s.split, 0.2);
    let s = s.reduce(Action::SetSplit(f64::NAN));
    assert_eq!(s.split, DEFAULT_SPLIT);
}

#[test]
fn ticks_do_not_rerender_while_connected_until_ages_need_it() {
    let s = run([
        Action::Event(UiEvent::Connection(ConnectionStatus::Connected)),
        Action::Tick {
            now_ms: 100_000,
            offset_min: 0,
        },
    ]);
    let same = s.clone().reduce(Action::Tick {
        now_ms: 101_000,
        offset_min: 0,
    });
    assert!(Rc::ptr_eq(&s, &same));
    let later = s.clone().reduce(Action::Tick {
        now_ms: 140_000,
        offset_min: 0,
    });
    assert!(!Rc::ptr_eq(&s, &later));
}

#[test]
fn the_connection_status_records_when_it_changed() {
    let s = run([
        Action::Tick {
            now_ms: 5_000,
            offset_min: 0,
        },
        Action::Event(UiEvent::Connection(ConnectionStatus::Unavailable {
            retry_in_secs: Some(8),
        })),
    ]);
    assert_eq!(s.connection_since_ms, 5_000);
}

#[test]
fn ctrl_digits_switch_conversations_and_ctrl_r_toggles_the_request_list() {
    let s = run([
        Action::SignedIn(session()),
        list(vec![conv(1, 0), conv(2, 5), conv(3, 0)]),
        Action::Shortcut(Shortcut::Conversation(1)),
    ]);
    assert_eq!(s.selected, Some(2));
    let s = s.reduce(Action::Shortcut(Shortcut::Conversation(8)));
    assert_eq!(s.selected, Some(2));
    let s = s.reduce(Action::Shortcut(Shortcut::Requests));
    assert_eq!(s.dialog, Some(Dialog::Requests(None)));
    let s = s.reduce(Action::Shortcut(Shortcut::Requests));
    assert_eq!(s.dialog, None);
    let s = s.reduce(Action::Shortcut(Shortcut::Switcher));
    let s = s.reduce(Action::Shortcut(Shortcut::FocusComposer));
    assert_eq!(s.dialog, None);
    assert_eq!(s.composer_focus, 1);
}

#[test]
fn shortcuts_do_nothing_on_the_sign_in_screen() {
    let s = run([
        started(None, None, None),
        Action::Shortcut(Shortcut::Switcher),
    ]);
    assert_eq!(s.dialog, None);
}

fn history(from: Seq, to: Seq) -> Vec<ChatMessage> {
    (from..to)
        .map(|s| msg(&format!("m{s}"), Some(s), 2, "2025-03-05T10:00:00Z"))
        .collect()
}

#[test]
fn only_the_open_conversations_timeline_is_kept_in_memory() {
    let s = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 0), conv(2, 0)]),
        Action::Select(1),
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: history(1, 51),
            limit: 50,
        },
        Action::Select(2),
        Action::MessagesLoaded {
            conversation_id: 2,
            messages: history(60, 110),
            limit: 50,
        },
    ]);
    assert_eq!(s.timelines.keys().collect::<Vec<_>>(), [&2]);
    // Back to the first: read again from the cache (the chat pane sees it unloaded).
    let s = s.reduce(Action::Select(1));
    assert!(!s.timelines.contains_key(&1));
    assert!(!s.timelines.contains_key(&2));
}

#[test]
fn a_search_hit_far_back_opens_a_window_and_going_to_the_newest_reads_the_newest_page_again() {
    let s = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 0)]),
        Action::Select(1),
        Action::MessagesLoaded {
            conversation_id: 1,
            messages: history(99_950, 100_000),
            limit: 50,
        },
        Action::JumpTo {
            conversation_id: 1,
            seq: 50_000,
        },
        Action::AroundLoaded {
            conversation_id: 1,
            seq: 50_000,
            older: history(49_951, 50_001),
            newer: history(50_001, 50_051),
            limit: 50,
        },
    ]);
    let t = &s.timelines[&1];
    assert_eq!(t.messages.len(), 100);
    assert!(t.has_newer && t.has_more && t.page_loaded);
    // A message written while reading the past sends the list to the newest page.
    let s = s.reduce(Action::MessageUpserted(msg(
        "mine",
        None,
        1,
        "2025-03-05T11:00:00Z",
    )));
    assert!(!s.timelines[&1].page_loaded, "the chat pane reads it again");
    assert_eq!(s.timelines[&1].messages.len(), 100, "shown until it comes");
    let mut newest = history(99_951, 100_000);
    newest.push(msg("mine", None, 1, "2025-03-05T11:00:00Z"));
    let s = s.reduce(Action::MessagesLoaded {
        conversation_id: 1,
        messages: newest,
        limit: 50,
    });
    let t = &s.timelines[&1];
    assert_eq!(t.oldest_seq(), Some(99_951));
    assert!(!t.has_newer);
    assert_eq!(t.messages.last().unwrap().client_id, "mine");
    // "Jump to newest" at the live end changes nothing to read.
    assert!(s.reduce(Action::ToNewest(1)).timelines[&1].page_loaded);
}

#[test]
fn a_window_around_a_hit_arriving_after_another_conversation_opened_is_dropped() {
    let s = run([
        started(Some(session()), None, None),
        list(vec![conv(1, 0), conv(2, 0)]),
        Action::Select(2),
        Action::AroundLoaded {
            conversation_id: 1,
            seq: 10,
            older: history(1, 11),
            newer: vec![],
            limit: 50,
        },
    ]);
    assert!(!s.timelines.contains_key(&1));
}

fn history_progress(done: u64, total: u64) -> Action {
    Action::Event(UiEvent::History {
        progress: Some(confab_model::ipc::HistoryProgress { done, total }),
    })
}

#[test]
fn history_progress_rises_with_its_events_and_goes_when_the_history_is_complete() {
    let s = Rc::new(AppState::default()).reduce(started(Some(session()), None, None));
    assert_eq!(s.history, None);
    let s = s.reduce(history_progress(0, 100_000));
    let s = s.reduce(history_progress(12_500, 100_000));
    assert_eq!(
        s.history.map(|h| (h.done, h.total)),
        Some((12_500, 100_000))
    );
    let s = s.reduce(Action::Event(UiEvent::History { progress: None }));
    assert_eq!(s.history, None, "the bar goes");
}

#[test]
fn a_window_that_starts_mid_load_shows_the_progress_and_signing_out_clears_it() {
    let s = Rc::new(AppState::default()).reduce(Action::Started(Startup {
        session: Some(session()),
        server_url: None,
        notice: None,
        connection: ConnectionStatus::Connected,
        history: Some(confab_model::ipc::HistoryProgress {
            done: 40,
            total: 90,
        }),
        clock: confab_model::ipc::LocalClock::default(),
    }));
    assert_eq!(s.history.map(|h| (h.done, h.total)), Some((40, 90)));
    let s = s.reduce(Action::Event(UiEvent::SignedOut));
    assert_eq!(s.history, None);
}
