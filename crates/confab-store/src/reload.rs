//! A reload from scratch: the server's current state (conversations, recent history, share
//! requests) replaces what the cache learned by syncing, when the server can no longer serve
//! the sync cursor (its change log was compacted past it, or the server was restored from an
//! older backup).
//!
//! What it never does: touch the outbox or the messages waiting in it (a conversation that
//! still holds unsent messages is kept even when the server no longer lists it, so the user
//! sees them refused rather than silently lost), drafts, or unsent read marks.

use confab_model::{Conversation, KnowledgeRequest, LeftChange, Message, Seq};
use rusqlite::params;

use crate::apply::apply_answer_seen;
use crate::local::{NOTIFIED_CURSOR, SYNC_CURSOR};
use crate::{Result, StoreTx};

/// The server's state, read after `head` (so whatever changed since comes by sync from it).
#[derive(Debug, Clone, Copy)]
pub struct Reload<'a> {
    /// `GET /api/sync/head`, read before the lists: the new sync cursor.
    pub head: Seq,
    /// Every conversation the account is a member of.
    pub conversations: &'a [Conversation],
    /// Recent history of those conversations.
    pub messages: &'a [Message],
    /// Share requests to and by the account.
    pub requests: &'a [KnowledgeRequest],
}

impl StoreTx<'_> {
    /// Replaces the synced state with `reload`: conversations, messages and requests are
    /// stored as from sync (idempotently: an optimistic copy of a message the server already
    /// has is upgraded in place), conversations the server no longer lists are dropped unless
    /// they hold unsent messages, and both the sync cursor and the notified cursor are set to
    /// `reload.head` (set, not advanced: a server restored from a backup numbers from lower;
    /// and what the reload brings is history, not news). Returns how many conversations were
    /// dropped.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn replace_synced(&self, reload: Reload<'_>) -> Result<usize> {
        for c in reload.conversations {
            self.apply_conversation(c, None)?;
        }
        for m in reload.messages {
            self.apply_message(m)?;
        }
        for r in reload.requests {
            if r.answer_seen && r.response_content.is_some() {
                apply_answer_seen(self.conn(), r)?;
            } else {
                self.apply_request(r)?;
            }
        }
        let listed: std::collections::HashSet<_> =
            reload.conversations.iter().map(|c| c.id).collect();
        let held: Vec<i64> = self
            .conn()
            .prepare(
                "SELECT id FROM conversations c
                 WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.conversation_id = c.id)",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut dropped = 0;
        if let Some(me) = self.me {
            for id in held.into_iter().filter(|id| !listed.contains(id)) {
                let left = LeftChange {
                    seq: reload.head,
                    conversation_id: id,
                    user_id: me,
                };
                dropped += usize::from(self.apply_left(&left)?.changed());
            }
        }
        for key in [SYNC_CURSOR, NOTIFIED_CURSOR] {
            self.conn()
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![key, reload.head.to_string()])?;
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn a_reload_keeps_unsent_messages_drops_unlisted_conversations_and_sets_both_cursors_back() {
        let mut store = store_with_conversation();
        // A second conversation the server no longer lists, and a third holding an unsent
        // message although the server no longer lists it either.
        store
            .apply_conversation(&conversation(11, "Gone", &[ME, ADA, 3]), Some(2))
            .unwrap();
        store
            .apply_conversation(&conversation(12, "Pending", &[ME, ADA, 3]), Some(3))
            .unwrap();
        store
            .enqueue_message(12, "c-12", "still mine", "2024-01-01T00:00:00Z", 0)
            .unwrap();
        store
            .enqueue_message(CONV, "c-10", "queued here", "2024-01-01T00:00:00Z", 0)
            .unwrap();
        store.advance_sync_cursor(900).unwrap();
        store.advance_notified_cursor(900).unwrap();

        // The server (restored from a backup) lists CONV only, numbered below the old cursor.
        let listed = [conversation(CONV, "Ada", &[ME, ADA])];
        let history = [message_from_ada(40), message_from_ada(41)];
        let asked = [request(7, true, confab_model::KnowledgeStatus::Pending, 42)];
        let dropped = store
            .write(|tx| {
                tx.replace_synced(Reload {
                    head: 50,
                    conversations: &listed,
                    messages: &history,
                    requests: &asked,
                })
            })
            .unwrap();

        assert_eq!(dropped, 1, "only the conversation without unsent messages");
        let mut ids = store.conversation_ids().unwrap();
        ids.sort_unstable();
        assert_eq!(ids, vec![CONV, 12]);
        assert_eq!(store.sync_cursor().unwrap(), 50);
        assert_eq!(store.notified_cursor().unwrap(), 50);
        let queued: Vec<_> = store
            .outbox()
            .unwrap()
            .into_iter()
            .map(|o| o.client_id)
            .collect();
        assert_eq!(queued.len(), 2, "{queued:?}");
        let shown = store.messages_before(CONV, None, 10).unwrap();
        assert_eq!(shown.len(), 3, "two from the server and the queued one");
        assert_eq!(store.incoming_requests().unwrap().len(), 1);
    }
}
