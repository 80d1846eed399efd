//! The counts a tray icon or a dock badge shows, folded from the UI event stream: the unread
//! counts the core computed for the window's conversation list (unread messages, mentions of
//! me), its pending requests and the answers to my questions I have not opened. A listener
//! never queries the cache for them.

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
    /// Unread messages that mention me, all conversations.
    pub mentions: i64,
    /// Answers to my questions I have not opened yet.
    pub new_answers: usize,
}

/// The counts as the events so far say.
#[derive(Debug, Clone, Default)]
pub struct Badge {
    /// Unread messages and mentions per conversation.
    unread: HashMap<ConversationId, (i64, i64)>,
    pending_requests: usize,
    new_answers: usize,
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
                for gone in &update.removed {
                    self.unread.remove(gone);
                }
                self.unread.extend(
                    update
                        .conversations
                        .iter()
                        .map(|c| (c.id, (c.unread_count, c.mention_count))),
                );
            }
            UiEvent::Requests(lists) => {
                self.pending_requests = lists
                    .incoming
                    .iter()
                    .filter(|r| r.status == KnowledgeStatus::Pending)
                    .count();
                self.new_answers = lists.unread_answers();
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
            unread_messages: self.unread.values().map(|(u, _)| u).sum(),
            mentions: self.unread.values().map(|(_, m)| m).sum(),
            new_answers: self.new_answers,
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
            kind: confab_model::ConversationKind::Direct,
            mention_count: 0,
            member_count: 2,
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
            removed: Vec::new(),
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
        let left = UiEvent::Conversations(ConversationsUpdate {
            complete: false,
            conversations: vec![],
            removed: vec![3],
        });
        assert!(b.apply(&left), "a left conversation's unread go with it");
        assert_eq!(b.counts().unread_messages, 0);
    }

    #[test]
    fn mentions_and_unopened_answers_are_counted() {
        let mut b = Badge::default();
        let mut mentioned = summary(1, 3);
        mentioned.mention_count = 2;
        assert!(b.apply(&update(true, vec![mentioned])));
        assert_eq!(b.counts().mentions, 2);
        let answer = confab_model::ipc::ShareRequestView {
            id: 9,
            requester_id: 1,
            requester_name: "Me".into(),
            owner_id: 2,
            owner_name: Some("Ada".into()),
            question: "where?".into(),
            status: KnowledgeStatus::Approved,
            response_content: Some("here".into()),
            created_at: "2025-01-01T00:00:00Z".into(),
            answered_at: Some("2025-01-01T00:01:00Z".into()),
            unread: true,
        };
        let lists = RequestLists {
            outgoing: vec![answer],
            ..RequestLists::default()
        };
        assert!(b.apply(&UiEvent::Requests(lists)));
        assert_eq!(b.counts().new_answers, 1);
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
