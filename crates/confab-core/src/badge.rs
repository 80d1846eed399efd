//! The counts a tray icon or a dock badge shows, folded from the UI event stream: the unread
//! counts the core computed for the window's conversation list and its pending requests. A
//! listener never queries the cache for them.

use std::collections::HashMap;

use confab_model::ipc::UiEvent;
use confab_model::{ConversationId, KnowledgeStatus};

/// Unread and pending counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BadgeCounts {
    /// Incoming share requests waiting for an answer.
    pub pending_requests: usize,
    /// Unread messages from others, all conversations.
    pub unread_messages: i64,
}

/// The counts as the events so far say.
#[derive(Debug, Clone, Default)]
pub struct Badge {
    unread: HashMap<ConversationId, i64>,
    pending_requests: usize,
}

impl Badge {
    /// Folds one event in; true when the counts changed.
    pub fn apply(&mut self, ev: &UiEvent) -> bool {
        let before = self.counts();
        match ev {
            UiEvent::Conversations(update) => {
                if update.complete {
                    self.unread.clear();
                }
                self.unread
                    .extend(update.conversations.iter().map(|c| (c.id, c.unread_count)));
            }
            UiEvent::Requests(lists) => {
                self.pending_requests = lists
                    .incoming
                    .iter()
                    .filter(|r| r.status == KnowledgeStatus::Pending)
                    .count();
            }
            UiEvent::SessionEnded { .. } | UiEvent::SignedOut => *self = Badge::default(),
            _ => {}
        }
        self.counts() != before
    }

    /// The counts now.
    pub fn counts(&self) -> BadgeCounts {
        BadgeCounts {
            pending_requests: self.pending_requests,
            unread_messages: self.unread.values().sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_model::ipc::{ConversationSummary, ConversationsUpdate, RequestLists};

    fn summary(id: ConversationId, unread_count: i64) -> ConversationSummary {
        ConversationSummary {
            id,
            title: format!("c{id}"),
            member_ids: vec![1, 2],
            last_message_preview: None,
            last_activity_at: None,
            unread_count,
            muted: false,
            direct_peer_id: None,
            sort_key: (id, 0),
        }
    }

    fn update(complete: bool, list: Vec<ConversationSummary>) -> UiEvent {
        UiEvent::Conversations(ConversationsUpdate {
            complete,
            conversations: list,
        })
    }

    #[test]
    fn unread_counts_follow_whole_lists_and_changed_summaries() {
        let mut b = Badge::default();
        assert!(b.apply(&update(true, vec![summary(1, 2), summary(2, 3)])));
        assert_eq!(b.counts().unread_messages, 5);
        assert!(b.apply(&update(false, vec![summary(2, 0)])), "read");
        assert_eq!(b.counts().unread_messages, 2);
        assert!(!b.apply(&update(false, vec![summary(1, 2)])), "no change");
        assert!(
            b.apply(&update(true, vec![summary(3, 1)])),
            "a whole list replaces"
        );
        assert_eq!(b.counts().unread_messages, 1);
    }

    #[test]
    fn pending_requests_are_counted_and_an_ended_session_clears_everything() {
        let mut b = Badge::default();
        assert!(!b.apply(&UiEvent::Requests(RequestLists::default())));
        assert!(b.apply(&update(true, vec![summary(1, 4)])));
        assert!(b.apply(&UiEvent::SignedOut));
        assert_eq!(b.counts(), BadgeCounts::default());
    }
}
