//! Local facts that never come from sync: the account, the cursors, UI settings, drafts, the
//! muted flag, the account's own read position and which of its moves the server has yet to
//! hear about.

use confab_model::{ConversationId, Seq, User, UserId};
use rusqlite::{params, Connection, OptionalExtension};

use crate::apply;
use crate::error::{Result, StoreError};
use crate::store::{Store, StoreTx};

const ACCOUNT_ID: &str = "account_id";
pub(crate) const SYNC_CURSOR: &str = "sync_cursor";
pub(crate) const NOTIFIED_CURSOR: &str = "notified_cursor";
/// UI settings live in `meta` under this prefix, apart from the store's own keys.
const SETTING_PREFIX: &str = "ui.";

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

fn cursor(conn: &Connection, key: &str) -> Result<Seq> {
    Ok(meta_get(conn, key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Moves a cursor to `seq` if that is further; returns whether it moved.
fn advance_cursor(conn: &Connection, key: &str, seq: Seq) -> Result<bool> {
    let moved = conn
        .prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value
             WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        )?
        .execute(params![key, seq.to_string()])?;
    Ok(moved > 0)
}

/// The account's user id recorded in the file.
pub(crate) fn account_id(conn: &Connection) -> Result<Option<UserId>> {
    Ok(meta_get(conn, ACCOUNT_ID)?.and_then(|v| v.parse().ok()))
}

/// Fails with [`StoreError::UnknownConversation`] unless the conversation is cached.
pub(crate) fn require_conversation(conn: &Connection, id: ConversationId) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
        .exists([id])?;
    if found {
        Ok(())
    } else {
        Err(StoreError::UnknownConversation(id))
    }
}

impl StoreTx<'_> {
    /// The sync cursor: every server change up to it has been applied (`0` before the first sync).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sync_cursor(&self) -> Result<Seq> {
        cursor(self.conn(), SYNC_CURSOR)
    }

    /// Moves the sync cursor forward to `seq` (never back); returns whether it moved.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn advance_sync_cursor(&self, seq: Seq) -> Result<bool> {
        advance_cursor(self.conn(), SYNC_CURSOR, seq)
    }

    /// Moves the notified cursor forward to `seq` (never back); returns whether it moved.
    /// Advance it in the same transaction that applies what was notified.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn advance_notified_cursor(&self, seq: Seq) -> Result<bool> {
        advance_cursor(self.conn(), NOTIFIED_CURSOR, seq)
    }
}

impl Store {
    /// Records whose cache this is (and stores the user). Idempotent for the same user id.
    ///
    /// # Errors
    /// [`StoreError::AccountMismatch`] when the file belongs to another user id.
    pub fn set_account(&mut self, user: &User) -> Result<()> {
        if let Some(stored) = self.me.filter(|&id| id != user.id) {
            return Err(StoreError::AccountMismatch {
                stored,
                given: user.id,
            });
        }
        self.write(|tx| {
            apply::upsert_user(tx.conn(), user.id, &user.name, Some(&user.email))?;
            meta_set(tx.conn(), ACCOUNT_ID, &user.id.to_string())
        })?;
        self.me = Some(user.id);
        Ok(())
    }

    /// The account this cache belongs to, when recorded.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn account(&self) -> Result<Option<User>> {
        let Some(id) = self.me else { return Ok(None) };
        Ok(self
            .conn
            .prepare_cached("SELECT id, name, email FROM users WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                })
            })
            .optional()?)
    }

    /// The sync cursor: every server change up to it has been applied (`0` before the first sync).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sync_cursor(&self) -> Result<Seq> {
        cursor(&self.conn, SYNC_CURSOR)
    }

    /// Moves the sync cursor forward to `seq` (never back); returns whether it moved.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::DiskFull`].
    pub fn advance_sync_cursor(&mut self, seq: Seq) -> Result<bool> {
        self.write(|tx| tx.advance_sync_cursor(seq))
    }

    /// The notified cursor: nothing at or below it may raise a notification again (survives
    /// restarts, so waking from sleep never replays old notifications).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn notified_cursor(&self) -> Result<Seq> {
        cursor(&self.conn, NOTIFIED_CURSOR)
    }

    /// Moves the notified cursor forward to `seq` (never back); returns whether it moved.
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::DiskFull`].
    pub fn advance_notified_cursor(&mut self, seq: Seq) -> Result<bool> {
        self.write(|tx| tx.advance_notified_cursor(seq))
    }

    /// A remembered UI setting (window size, theme, ...), as the UI stored it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        meta_get(&self.conn, &format!("{SETTING_PREFIX}{key}"))
    }

    /// Remembers a UI setting (the value is opaque: JSON, a number, ...).
    ///
    /// # Errors
    /// SQLite errors; [`StoreError::DiskFull`].
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        let key = format!("{SETTING_PREFIX}{key}");
        self.write(|tx| meta_set(tx.conn(), &key, value))
    }

    /// Forgets a UI setting.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remove_setting(&mut self, key: &str) -> Result<()> {
        let key = format!("{SETTING_PREFIX}{key}");
        self.write(|tx| {
            tx.conn()
                .prepare_cached("DELETE FROM meta WHERE key = ?1")?
                .execute([key])?;
            Ok(())
        })
    }

    /// The unsent text of a conversation's composer.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn draft(&self, conversation_id: ConversationId) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT content FROM drafts WHERE conversation_id = ?1")?
            .query_row([conversation_id], |r| r.get(0))
            .optional()?)
    }

    /// Saves a conversation's draft; an empty or all-blank `content` deletes it.
    ///
    /// # Errors
    /// [`StoreError::UnknownConversation`]; SQLite errors.
    pub fn set_draft(
        &mut self,
        conversation_id: ConversationId,
        content: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.write(|tx| {
            let conn = tx.conn();
            require_conversation(conn, conversation_id)?;
            if content.trim().is_empty() {
                conn.prepare_cached("DELETE FROM drafts WHERE conversation_id = ?1")?
                    .execute([conversation_id])?;
            } else {
                conn.prepare_cached(
                    "INSERT INTO drafts (conversation_id, content, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (conversation_id) DO UPDATE
                     SET content = excluded.content, updated_at = excluded.updated_at",
                )?
                .execute(params![conversation_id, content, now_ms])?;
            }
            Ok(())
        })
    }

    /// Mutes or unmutes a conversation's notifications.
    ///
    /// # Errors
    /// [`StoreError::UnknownConversation`]; SQLite errors.
    pub fn set_muted(&mut self, conversation_id: ConversationId, muted: bool) -> Result<()> {
        self.write(|tx| {
            require_conversation(tx.conn(), conversation_id)?;
            tx.conn()
                .prepare_cached("UPDATE conversations SET muted = ?2 WHERE id = ?1")?
                .execute(params![conversation_id, muted])?;
            Ok(())
        })
    }

    /// The account opened the answer to one of its requests: it is no longer unread. Returns
    /// whether it was unread (whether to tell the server).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn mark_answer_seen(&mut self, request_id: confab_model::RequestId) -> Result<bool> {
        self.write(|tx| {
            Ok(tx
                .conn()
                .prepare_cached(
                    "UPDATE share_requests SET answer_seen = 1
                     WHERE id = ?1 AND answer_seen = 0 AND status != 'pending'",
                )?
                .execute([request_id])?
                > 0)
        })
    }

    /// The account has seen a conversation up to message `seq`: moves its read mark forward
    /// (never back). Returns whether it moved, i.e. whether to tell the server. A mark that
    /// moved is also recorded as unsent, in the same transaction, until
    /// [`Store::confirm_read_mark`] or the server's own view of it settles it; so a mark is
    /// never lost to a failed request or a restart.
    ///
    /// # Errors
    /// [`StoreError::UnknownConversation`]; SQLite errors.
    pub fn mark_read(&mut self, conversation_id: ConversationId, seq: Seq) -> Result<bool> {
        let me = self.me;
        self.write(|tx| {
            let conn = tx.conn();
            require_conversation(conn, conversation_id)?;
            let moved = apply::advance_my_read_seq(conn, conversation_id, seq)?;
            if let Some(me) = me {
                apply::upsert_read_mark(conn, conversation_id, me, seq)?;
            }
            if moved {
                conn.prepare_cached(
                    "INSERT INTO unsent_read_marks (conversation_id, seq) VALUES (?1, ?2)
                     ON CONFLICT (conversation_id) DO UPDATE SET seq = excluded.seq
                     WHERE excluded.seq > unsent_read_marks.seq",
                )?
                .execute(params![conversation_id, seq])?;
            }
            Ok(moved)
        })
    }

    /// The read marks the server has not confirmed, one per conversation (the newest), in
    /// conversation order. Send each, then [`Store::confirm_read_mark`] it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unsent_read_marks(&self) -> Result<Vec<UnsentReadMark>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT conversation_id, seq FROM unsent_read_marks ORDER BY conversation_id",
            )?
            .query_map([], |r| {
                Ok(UnsentReadMark {
                    conversation_id: r.get(0)?,
                    seq: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The server has the mark at `seq` (its answer to the request came back, or it refused the
    /// mark for good): settles the unsent mark if it is still `seq` or lower. A newer mark
    /// written while the request was in flight stays, to be sent in turn. Returns whether a
    /// row went.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn confirm_read_mark(&mut self, conversation_id: ConversationId, seq: Seq) -> Result<bool> {
        self.write(|tx| apply::forget_unsent_read_mark(tx.conn(), conversation_id, seq))
    }
}

/// A read mark of the account that the server has not confirmed yet (see [`Store::mark_read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsentReadMark {
    /// The conversation read.
    pub conversation_id: ConversationId,
    /// Read up to this message seq.
    pub seq: Seq,
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{StoreError, UnsentReadMark};

    #[test]
    fn cursors_start_at_zero_and_only_move_forward() {
        let mut store = store_with_account();
        assert_eq!(store.sync_cursor().unwrap(), 0);
        assert!(store.advance_sync_cursor(20).unwrap());
        assert!(!store.advance_sync_cursor(7).unwrap());
        assert!(store.advance_sync_cursor(100).unwrap());
        assert_eq!(store.sync_cursor().unwrap(), 100);
        assert!(store.advance_notified_cursor(9).unwrap());
        assert!(!store.advance_notified_cursor(9).unwrap());
        assert_eq!(store.notified_cursor().unwrap(), 9);
        assert_eq!(store.sync_cursor().unwrap(), 100);
    }

    #[test]
    fn a_cache_refuses_to_be_claimed_by_a_second_account() {
        let mut store = store_with_account();
        store.set_account(&me()).unwrap();
        let err = store.set_account(&ada_user()).unwrap_err();
        assert!(matches!(
            err,
            StoreError::AccountMismatch {
                stored: ME,
                given: ADA
            }
        ));
        assert_eq!(store.account().unwrap().unwrap().email, "me@example.com");
    }

    #[test]
    fn settings_are_remembered_and_forgotten_without_touching_the_cursors() {
        let mut store = store_with_account();
        store.set_setting("sync_cursor", "999").unwrap();
        store.set_setting("theme", "dark").unwrap();
        store.set_setting("theme", "light").unwrap();
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("light"));
        assert_eq!(store.sync_cursor().unwrap(), 0);
        store.remove_setting("theme").unwrap();
        assert_eq!(store.setting("theme").unwrap(), None);
    }

    #[test]
    fn a_draft_is_saved_replaced_and_cleared_by_blank_text() {
        let mut store = store_with_conversation();
        store.set_draft(CONV, "hello", 1).unwrap();
        store.set_draft(CONV, "hello again", 2).unwrap();
        assert_eq!(store.draft(CONV).unwrap().as_deref(), Some("hello again"));
        store.set_draft(CONV, "  \n", 3).unwrap();
        assert_eq!(store.draft(CONV).unwrap(), None);
        assert!(matches!(
            store.set_draft(999, "x", 4),
            Err(StoreError::UnknownConversation(999))
        ));
    }

    #[test]
    fn marking_read_moves_my_mark_forward_only_and_clears_unread() {
        let mut store = store_with_conversation();
        for seq in 2..=4 {
            store.apply_message(&message_from_ada(seq)).unwrap();
        }
        assert_eq!(store.conversation_list().unwrap()[0].unread_count, 3);
        assert!(store.mark_read(CONV, 3).unwrap());
        assert!(!store.mark_read(CONV, 2).unwrap());
        assert_eq!(store.conversation_list().unwrap()[0].unread_count, 1);
        let marks = store.read_marks(CONV).unwrap();
        assert!(marks.iter().any(|m| m.user_id == ME && m.seq == 3));
    }

    fn unsent(seq: i64) -> Vec<UnsentReadMark> {
        vec![UnsentReadMark {
            conversation_id: CONV,
            seq,
        }]
    }

    #[test]
    fn a_mark_that_moves_waits_as_unsent_and_only_the_newest_is_kept() {
        // Given a conversation with messages up to seq 5,
        let mut store = store_with_conversation();
        for seq in 2..=5 {
            store.apply_message(&message_from_ada(seq)).unwrap();
        }
        assert!(store.unsent_read_marks().unwrap().is_empty());
        // when my mark moves to 3, then to 5,
        store.mark_read(CONV, 3).unwrap();
        assert_eq!(store.unsent_read_marks().unwrap(), unsent(3));
        store.mark_read(CONV, 5).unwrap();
        // then one mark per conversation waits, the newest,
        assert_eq!(store.unsent_read_marks().unwrap(), unsent(5));
        // and a mark that does not move records nothing, nor lowers the waiting one.
        assert!(!store.mark_read(CONV, 4).unwrap());
        assert_eq!(store.unsent_read_marks().unwrap(), unsent(5));
    }

    #[test]
    fn a_mark_that_does_not_move_is_not_sent_again() {
        // Given a mark the server has confirmed,
        let mut store = store_with_conversation();
        store.mark_read(CONV, 4).unwrap();
        assert!(store.confirm_read_mark(CONV, 4).unwrap());
        // when the same conversation is marked read at the same seq again,
        assert!(!store.mark_read(CONV, 4).unwrap());
        // then nothing waits to be sent.
        assert!(store.unsent_read_marks().unwrap().is_empty());
    }

    #[test]
    fn confirming_a_sent_mark_keeps_a_newer_one_written_meanwhile() {
        // Given a mark at 3 being sent,
        let mut store = store_with_conversation();
        store.mark_read(CONV, 3).unwrap();
        let sending = store.unsent_read_marks().unwrap()[0];
        // when the mark moves to 7 before the server's answer to 3 comes back,
        store.mark_read(CONV, 7).unwrap();
        // then confirming 3 leaves 7 waiting,
        assert!(!store
            .confirm_read_mark(sending.conversation_id, sending.seq)
            .unwrap());
        assert_eq!(store.unsent_read_marks().unwrap(), unsent(7));
        // and confirming 7 settles it.
        assert!(store.confirm_read_mark(CONV, 7).unwrap());
        assert!(store.unsent_read_marks().unwrap().is_empty());
    }

    #[test]
    fn a_mark_in_an_unknown_conversation_is_refused_and_nothing_waits() {
        let mut store = store_with_conversation();
        assert!(matches!(
            store.mark_read(999, 3),
            Err(StoreError::UnknownConversation(999))
        ));
        assert!(store.unsent_read_marks().unwrap().is_empty());
    }

    #[test]
    fn muting_shows_in_the_conversation_list() {
        let mut store = store_with_conversation();
        store.set_muted(CONV, true).unwrap();
        assert!(store.conversation_list().unwrap()[0].muted);
        store.set_muted(CONV, false).unwrap();
        assert!(!store.conversation_list().unwrap()[0].muted);
    }
}
