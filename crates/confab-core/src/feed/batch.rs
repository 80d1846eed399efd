//! What changed since the UI last heard, and when it may hear again: sans-IO (the driver passes
//! `now`), so the coalescing rules are tested with a simulated clock.
//!
//! The rule: a change goes out at once when nothing went out within the last [`FRAME`];
//! otherwise it waits for the frame to end, gathering everything else that changes meanwhile.
//! So a lone message costs no delay, and a burst of any size costs at most one conversation-list
//! event and one messages event per conversation per frame.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use confab_model::ipc::ChatMessage;
use confab_model::ConversationId;

/// One frame of the window (60 Hz): the UI never hears about the same kind of change twice
/// within it.
pub const FRAME: Duration = Duration::from_millis(16);

/// A change to announce: built by whoever changed the cache, merged into the [`Batch`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Message rows as they are now, per conversation.
    pub rows: BTreeMap<ConversationId, Vec<ChatMessage>>,
    /// Messages discarded from the outbox: (conversation, client id).
    pub removed: Vec<(ConversationId, String)>,
    /// Conversations whose summary changed (preview, order, unread count, title).
    pub conversations: BTreeSet<ConversationId>,
    /// The whole conversation list, request lists and directory (a new listener, a new session).
    pub everything: bool,
    /// The request lists changed.
    pub requests: bool,
    /// The directory changed.
    pub teammates: bool,
}

impl Changes {
    /// Message rows of one conversation, as they are now.
    pub fn rows(conversation_id: ConversationId, rows: Vec<ChatMessage>) -> Self {
        Changes {
            rows: BTreeMap::from([(conversation_id, rows)]),
            ..Changes::default()
        }
    }

    /// Also the summary of `conversation_id`.
    pub fn and_conversation(mut self, conversation_id: ConversationId) -> Self {
        self.conversations.insert(conversation_id);
        self
    }

    /// The summary of one conversation.
    pub fn conversation(conversation_id: ConversationId) -> Self {
        Changes::default().and_conversation(conversation_id)
    }

    /// The request lists.
    pub fn requests() -> Self {
        Changes {
            requests: true,
            ..Changes::default()
        }
    }

    /// The directory.
    pub fn teammates() -> Self {
        Changes {
            teammates: true,
            ..Changes::default()
        }
    }

    /// Every list, whole.
    pub fn everything() -> Self {
        Changes {
            everything: true,
            ..Changes::default()
        }
    }

    /// A message left the outbox unsent: its row goes and its conversation's preview changes.
    pub fn removed(conversation_id: ConversationId, client_id: String) -> Self {
        Changes {
            removed: vec![(conversation_id, client_id)],
            ..Changes::default()
        }
        .and_conversation(conversation_id)
    }

    /// Nothing to announce.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Adds `later` to these: a row given again replaces the earlier one in place (the newest
    /// state wins; the order of first appearance is kept), a removed message drops its row.
    pub fn merge(&mut self, later: Changes) {
        for (conversation_id, rows) in later.rows {
            let held = self.rows.entry(conversation_id).or_default();
            for row in rows {
                match held.iter_mut().find(|h| h.client_id == row.client_id) {
                    Some(h) => *h = row,
                    None => held.push(row),
                }
            }
        }
        for (conversation_id, client_id) in later.removed {
            if let Some(held) = self.rows.get_mut(&conversation_id) {
                held.retain(|h| h.client_id != client_id);
                if held.is_empty() {
                    self.rows.remove(&conversation_id);
                }
            }
            self.removed.push((conversation_id, client_id));
        }
        self.conversations.extend(later.conversations);
        self.everything |= later.everything;
        self.requests |= later.requests;
        self.teammates |= later.teammates;
    }
}

/// The changes waiting to go out and when the last ones went.
#[derive(Debug, Default)]
pub struct Batch {
    waiting: Changes,
    last_flush: Option<Instant>,
}

impl Batch {
    /// Records changes (made at any time; `now` is not needed to gather them).
    pub fn push(&mut self, changes: Changes) {
        self.waiting.merge(changes);
    }

    /// When the waiting changes may go out: `None` when nothing waits.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.waiting.is_empty() {
            return None;
        }
        // Never flushed: due at once, which any `now` satisfies.
        self.last_flush.map(|at| at + FRAME)
    }

    /// The waiting changes, if they may go out at `now`; the frame restarts.
    pub fn poll_flush(&mut self, now: Instant) -> Option<Changes> {
        if self.waiting.is_empty() || self.poll_timeout().is_some_and(|due| now < due) {
            return None;
        }
        self.last_flush = Some(now);
        Some(std::mem::take(&mut self.waiting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_model::ipc::DeliveryState;

    fn row(
        conversation_id: ConversationId,
        client_id: &str,
        delivery: DeliveryState,
    ) -> ChatMessage {
        ChatMessage {
            client_id: client_id.into(),
            id: None,
            conversation_id,
            seq: None,
            sender_id: 1,
            sender_name: "Ada".into(),
            content: format!("text of {client_id}"),
            created_at: "2026-12-05T10:00:00Z".into(),
            delivery,
        }
    }

    fn message(conversation_id: ConversationId, client_id: &str) -> Changes {
        Changes::rows(
            conversation_id,
            vec![row(conversation_id, client_id, DeliveryState::Sent)],
        )
        .and_conversation(conversation_id)
    }

    #[test]
    fn a_lone_change_goes_out_at_once() {
        let t0 = Instant::now();
        let mut b = Batch::default();
        assert_eq!(b.poll_flush(t0), None, "nothing waits");
        b.push(message(1, "a"));
        let out = b.poll_flush(t0).expect("due at once");
        assert_eq!(out.rows[&1].len(), 1);
        assert_eq!(b.poll_timeout(), None);
    }

    #[test]
    fn a_burst_within_a_frame_goes_out_as_one_change_per_kind_and_conversation() {
        let t0 = Instant::now();
        let mut b = Batch::default();
        b.push(message(1, "first"));
        assert!(b.poll_flush(t0).is_some());
        // 1,000 messages over the next frame, in two conversations.
        let mut flushes = vec![];
        for i in 0..1000u32 {
            let now = t0 + FRAME * i / 1000;
            b.push(message(ConversationId::from(i % 2), &format!("m{i}")));
            if let Some(out) = b.poll_flush(now) {
                flushes.push(out);
            }
        }
        assert!(flushes.is_empty(), "nothing more within the frame");
        assert_eq!(b.poll_timeout(), Some(t0 + FRAME));
        let out = b.poll_flush(t0 + FRAME).expect("due when the frame ends");
        assert_eq!(out.rows.len(), 2, "one messages event per conversation");
        assert_eq!(out.rows[&0].len() + out.rows[&1].len(), 1000);
        assert_eq!(out.conversations, BTreeSet::from([0, 1]));
    }

    #[test]
    fn the_newest_state_of_a_row_wins_and_keeps_its_place() {
        let mut c = Changes::rows(1, vec![row(1, "a", DeliveryState::Pending)]);
        c.merge(Changes::rows(1, vec![row(1, "b", DeliveryState::Pending)]));
        c.merge(Changes::rows(1, vec![row(1, "a", DeliveryState::Sent)]));
        let ids: Vec<_> = c.rows[&1].iter().map(|r| r.client_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(c.rows[&1][0].delivery, DeliveryState::Sent);
    }

    #[test]
    fn a_discarded_message_drops_its_waiting_row() {
        let mut c = Changes::rows(1, vec![row(1, "a", DeliveryState::Pending)]);
        c.merge(Changes::removed(1, "a".into()));
        assert!(c.rows.is_empty());
        assert_eq!(c.removed, [(1, "a".to_owned())]);
        assert!(c.conversations.contains(&1));
    }

    #[test]
    fn after_a_quiet_frame_the_next_change_goes_out_at_once_again() {
        let t0 = Instant::now();
        let mut b = Batch::default();
        b.push(Changes::requests());
        assert!(b.poll_flush(t0).is_some());
        b.push(Changes::teammates());
        assert!(b.poll_flush(t0 + FRAME * 3).is_some());
    }
}
