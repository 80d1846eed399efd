//! The conversation list's tests: whole lists and changed summaries folded in.

use super::*;

/// The other tests' conversation, last active at `last`.
fn conv(id: i64, unread: i64, last: i64) -> ConversationSummary {
    ConversationSummary {
        sort_key: (last, id),
        ..super::tests::conv(id, unread)
    }
}

fn update(complete: bool, conversations: Vec<ConversationSummary>) -> Action {
    Action::Event(UiEvent::Conversations(ConversationsUpdate {
        complete,
        conversations,
        removed: Vec::new(),
    }))
}

fn ids(s: &AppState) -> Vec<i64> {
    s.conversations.iter().map(|c| c.id).collect()
}

#[test]
fn a_changed_summary_replaces_its_own_and_moves_the_conversation_to_the_top() {
    let s = Rc::new(AppState::default()).reduce(update(
        true,
        vec![conv(1, 0, 30), conv(2, 0, 20), conv(3, 0, 10)],
    ));
    assert_eq!(ids(&s), [1, 2, 3]);
    let s = s.reduce(update(false, vec![conv(3, 2, 40)]));
    assert_eq!(ids(&s), [3, 1, 2]);
    assert_eq!(s.conversations[0].unread_count, 2);
    assert_eq!(s.unread_total(), 2);
}

#[test]
fn the_open_conversation_shows_no_unread_messages_when_its_summary_changes() {
    let s = Rc::new(AppState::default()).reduce(update(true, vec![conv(1, 0, 30), conv(2, 0, 20)]));
    assert_eq!(s.selected, Some(1));
    let s = s.reduce(update(false, vec![conv(1, 4, 50), conv(2, 1, 45)]));
    assert_eq!(s.conversations[0].unread_count, 0);
    assert_eq!(s.unread_total(), 1);
}

#[test]
fn nothing_opens_until_the_whole_list_is_known_and_a_vanished_one_closes() {
    let s = Rc::new(AppState::default()).reduce(update(false, vec![conv(5, 1, 9)]));
    assert_eq!(s.selected, None);
    assert!(!s.conversations_loaded);
    let s = s.reduce(update(true, vec![conv(5, 1, 9), conv(6, 0, 8)]));
    assert_eq!(s.selected, Some(5));
    let s = s.reduce(update(true, vec![conv(6, 0, 8)]));
    assert_eq!(s.selected, Some(6));
}

#[test]
fn signing_out_elsewhere_in_the_core_returns_to_the_sign_in_form() {
    let s = Rc::new(AppState::default())
        .reduce(update(true, vec![conv(1, 3, 9)]))
        .reduce(Action::Event(UiEvent::SignedOut));
    assert_eq!(s.screen, Screen::SignIn);
    assert!(s.conversations.is_empty() && s.selected.is_none());
}
