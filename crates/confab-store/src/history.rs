//! The history below a first sync's snapshot, loaded in the background. A fresh cache is
//! filled newest first ([`crate::Reload`] at the server's head), then the change log below that
//! head is paged oldest first into it. Where that paging stands (`history_*` in `meta`) lives
//! in the cache, so a restart resumes it, and signing out (which deletes the cache) ends it.
//!
//! What a history page never does: overwrite what the snapshot or sync already hold. The
//! snapshot is the account's current state, and the log below it is the past: an old
//! `conversation-left` must not drop a conversation rejoined since, an old read receipt or
//! request state is superseded. So only messages are taken, and only those absent from the
//! cache, in conversations it still holds.

use std::collections::BTreeSet;

use confab_model::{Change, ConversationId, Seq};
use rusqlite::Connection;

use crate::local::{meta_get, meta_set};
use crate::{Result, Store, StoreTx};

const CURSOR: &str = "history_cursor";
const END: &str = "history_end";
const DONE: &str = "history_done";
const TOTAL: &str = "history_total";

/// Where the background history load stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryState {
    /// Every change up to it has been walked through (the next page's `since`).
    pub cursor: Seq,
    /// The snapshot's head: history ends here, sync goes on from it.
    pub end: Seq,
    /// Changes walked through so far.
    pub done: u64,
    /// Changes to walk through in all (the server's count at `end`).
    pub total: u64,
}

/// What a history page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryApplied {
    /// Conversations that gained older messages.
    pub conversations: BTreeSet<ConversationId>,
    /// Messages stored.
    pub inserted: usize,
    /// Where the load stands now; `None` when the history is complete.
    pub state: Option<HistoryState>,
}

fn number<T: std::str::FromStr>(conn: &Connection, key: &str) -> Result<Option<T>> {
    Ok(meta_get(conn, key)?.and_then(|v| v.parse().ok()))
}

fn state(conn: &Connection) -> Result<Option<HistoryState>> {
    let (Some(cursor), Some(end)) = (number(conn, CURSOR)?, number(conn, END)?) else {
        return Ok(None);
    };
    Ok(Some(HistoryState {
        cursor,
        end,
        done: number(conn, DONE)?.unwrap_or(0),
        total: number(conn, TOTAL)?.unwrap_or(0),
    }))
}

fn finish(tx: &StoreTx<'_>) -> Result<()> {
    tx.conn()
        .prepare_cached("DELETE FROM meta WHERE key IN (?1, ?2, ?3, ?4)")?
        .execute([CURSOR, END, DONE, TOTAL])?;
    Ok(())
}

impl StoreTx<'_> {
    /// Starts (or restarts) loading the history below `end` with `total` changes to walk
    /// through, from the start of the log. Nothing to load (`end` or `total` zero) leaves none
    /// pending. Call it in the transaction that stores the snapshot taken at `end`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_history(&self, end: Seq, total: u64) -> Result<()> {
        finish(self)?;
        if end > 0 && total > 0 {
            meta_set(self.conn(), CURSOR, "0")?;
            meta_set(self.conn(), END, &end.to_string())?;
            meta_set(self.conn(), DONE, "0")?;
            meta_set(self.conn(), TOTAL, &total.to_string())?;
        }
        Ok(())
    }

    /// Where the history load stands; `None` when none is pending.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn history(&self) -> Result<Option<HistoryState>> {
        state(self.conn())
    }

    /// Applies a page of the history below the snapshot: messages absent from the cache, in
    /// conversations it holds, are stored (as history: nothing here is news); every other
    /// change is already reflected in the snapshot and is skipped. The cursor moves to
    /// `next_cursor` and the page's changes count as done; reaching the end completes the load.
    /// A page when none is pending changes nothing.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_history_page(
        &self,
        changes: &[Change],
        next_cursor: Seq,
    ) -> Result<HistoryApplied> {
        let Some(mut state) = self.history()? else {
            return Ok(HistoryApplied::default());
        };
        let mut applied = HistoryApplied::default();
        for change in changes {
            let Change::Message(mc) = change else {
                continue;
            };
            let m = &mc.message;
            let held = self
                .conn()
                .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
                .exists([m.conversation_id])?;
            let known = self
                .conn()
                .prepare_cached("SELECT 1 FROM messages WHERE id = ?1")?
                .exists([m.id])?;
            if held && !known && self.apply_message(m)?.changed() {
                applied.inserted += 1;
                applied.conversations.insert(m.conversation_id);
            }
        }
        state.cursor = state.cursor.max(next_cursor);
        state.done = (state.done + changes.len() as u64).min(state.total);
        if state.cursor >= state.end {
            finish(self)?;
            return Ok(applied);
        }
        meta_set(self.conn(), CURSOR, &state.cursor.to_string())?;
        meta_set(self.conn(), DONE, &state.done.to_string())?;
        applied.state = Some(state);
        Ok(applied)
    }
}

impl Store {
    /// [`StoreTx::history`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn history(&self) -> Result<Option<HistoryState>> {
        state(&self.conn)
    }

    /// [`StoreTx::apply_history_page`] in its own transaction: the page and the cursor, all
    /// or nothing.
    ///
    /// # Errors
    /// As [`StoreTx::apply_history_page`].
    pub fn apply_history_page(
        &mut self,
        changes: &[Change],
        next_cursor: Seq,
    ) -> Result<HistoryApplied> {
        self.write(|tx| tx.apply_history_page(changes, next_cursor))
    }
}

#[cfg(test)]
mod tests {
    use confab_model::{LeftChange, MessageChange, ReadChange};

    use super::*;
    use crate::testing::*;
    use crate::Reload;

    fn msg(seq: Seq) -> Change {
        Change::Message(MessageChange {
            seq,
            message: message_from_ada(seq),
        })
    }

    /// A fresh cache that took the snapshot at head 100: conversation CONV with its newest
    /// messages 90 and 95, read up to 95; history below 100 with 40 changes to walk through.
    fn snapshot_store() -> Store {
        let mut store = store_with_account();
        let mut conv = conversation(CONV, "Ada", &[ME, ADA]);
        conv.last_read_seq = 95;
        let newest = [message_from_ada(90), message_from_ada(95)];
        store
            .write(|tx| {
                tx.replace_synced(Reload {
                    head: 100,
                    conversations: &[conv],
                    messages: &newest,
                    requests: &[],
                })?;
                tx.begin_history(100, 40)
            })
            .unwrap();
        store
    }

    #[test]
    fn the_history_cursor_survives_reopening_the_cache_and_ends_at_the_snapshot_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.sqlite3");
        {
            let mut store = Store::open(&path).unwrap();
            store.set_account(&me()).unwrap();
            store
                .apply_conversation(&conversation(CONV, "Ada", &[ME, ADA]), Some(1))
                .unwrap();
            store.write(|tx| tx.begin_history(100, 4)).unwrap();
            let applied = store.apply_history_page(&[msg(10), msg(20)], 20).unwrap();
            assert_eq!(
                applied.state,
                Some(HistoryState {
                    cursor: 20,
                    end: 100,
                    done: 2,
                    total: 4
                })
            );
        }
        let mut store = Store::open(&path).unwrap();
        let state = store.history().unwrap().unwrap();
        assert_eq!(
            (state.cursor, state.done),
            (20, 2),
            "resumed, not restarted"
        );
        let applied = store.apply_history_page(&[msg(30), msg(40)], 100).unwrap();
        assert_eq!(applied.state, None, "complete at the head");
        assert_eq!(store.history().unwrap(), None);
        assert_eq!(store.messages_before(CONV, None, 10).unwrap().len(), 4);
    }

    #[test]
    fn a_history_page_never_overwrites_the_snapshots_newer_state() {
        let mut store = snapshot_store();
        let before = store.conversation_list().unwrap();
        // The past: Ada's old read receipt, my old leaving of the conversation (I rejoined since),
        // an old message, one the snapshot already holds, and one in a conversation I am no
        // longer in.
        let mut elsewhere = message_from_ada(7);
        elsewhere.conversation_id = 99;
        elsewhere.id = 7777;
        let page = [
            Change::ReadReceipt(ReadChange {
                seq: 3,
                receipt: receipt(ME, 2),
            }),
            Change::ConversationLeft(LeftChange {
                seq: 4,
                conversation_id: CONV,
                user_id: ME,
            }),
            msg(5),
            Change::Message(MessageChange {
                seq: 7,
                message: elsewhere,
            }),
            msg(90),
        ];
        let applied = store.apply_history_page(&page, 90).unwrap();

        assert_eq!(applied.inserted, 1, "only the old message");
        assert_eq!(applied.conversations, BTreeSet::from([CONV]));
        assert_eq!(applied.state.map(|s| (s.cursor, s.done)), Some((90, 5)));
        assert_eq!(store.conversation_ids().unwrap(), vec![CONV], "still in it");
        let shown: Vec<Seq> = store
            .messages_before(CONV, None, 10)
            .unwrap()
            .iter()
            .filter_map(|m| m.seq)
            .collect();
        assert_eq!(shown, vec![5, 90, 95]);
        let after = store.conversation_list().unwrap();
        assert_eq!(
            after, before,
            "read position, unread counts and order unchanged"
        );
        assert_eq!(
            store.sync_cursor().unwrap(),
            100,
            "sync goes on from the head"
        );
    }

    #[test]
    fn nothing_to_load_leaves_no_history_pending_and_a_stray_page_changes_nothing() {
        let mut store = store_with_conversation();
        store.write(|tx| tx.begin_history(100, 0)).unwrap();
        assert_eq!(store.history().unwrap(), None);
        let applied = store.apply_history_page(&[msg(5)], 50).unwrap();
        assert_eq!(applied, HistoryApplied::default());
        assert!(store.messages_before(CONV, None, 10).unwrap().is_empty());
    }
}
