//! The persistent outbox: messages written here and not yet acknowledged by the server.
//!
//! Writing a message ([`Store::enqueue_message`]) stores it twice in one transaction: as an
//! optimistic row in `messages` (state pending, shown at once) and as an outbox entry. The sender
//! task in the core asks for [`Store::outbox_due`], posts each entry, and then either applies the
//! server's answer with [`Store::apply_message`] (which upgrades the row and removes the entry),
//! reschedules it after a transient failure ([`Store::outbox_reschedule`]), or marks it failed
//! after a refusal ([`Store::outbox_fail`]) until the user retries or discards it.
//!
//! Order: entries of one conversation are delivered in the order they were written; only the
//! oldest queued entry of each conversation is ever due. Failed entries wait for the user and do
//! not hold back later ones.

use confab_model::ipc::ChatMessage;
use confab_model::ConversationId;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Result, StoreError};
use crate::local::require_conversation;
use crate::query::{chat_message_from_row, CHAT_COLUMNS};
use crate::store::Store;

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Waiting for its turn or its next attempt.
    Queued,
    /// Refused by the server; waits for the user to retry or discard it.
    Failed,
}

/// A message waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The idempotency key sent with every attempt.
    pub client_id: String,
    /// Where it goes.
    pub conversation_id: ConversationId,
    /// The text.
    pub content: String,
    /// When the user wrote it (RFC 3339, as the caller gave it).
    pub created_at: String,
    /// Attempts that failed so far.
    pub attempts: u32,
    /// Not before this time (epoch milliseconds).
    pub next_attempt_at: i64,
    /// Queued or failed.
    pub state: OutboxState,
    /// The last failure, as a sentence.
    pub last_error: Option<String>,
}

const ITEM_COLUMNS: &str = "o.client_id, o.conversation_id, o.content, o.created_at, o.attempts, \
     o.next_attempt_at, o.state, o.last_error";

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        client_id: r.get(0)?,
        conversation_id: r.get(1)?,
        content: r.get(2)?,
        created_at: r.get(3)?,
        attempts: r.get(4)?,
        next_attempt_at: r.get(5)?,
        state: if r.get::<_, String>(6)? == "failed" {
            OutboxState::Failed
        } else {
            OutboxState::Queued
        },
        last_error: r.get(7)?,
    })
}

/// "This entry is the oldest queued one of its conversation."
const IS_HEAD: &str = "o.state = 'queued' AND o.position = (SELECT min(h.position) FROM outbox h
     WHERE h.conversation_id = o.conversation_id AND h.state = 'queued')";

/// Moves a conversation to the top of the list for a message not sent yet: above everything
/// received so far (the highest known seq plus one half), below anything the server sends next.
fn bump_for_unsent(conn: &Connection, id: ConversationId, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET
             activity_seq = (SELECT CAST(max(activity_seq) AS INTEGER) FROM conversations) + 0.5,
             activity_bump = (SELECT max(activity_bump) FROM conversations) + 1,
             activity_at = ?2
         WHERE id = ?1",
    )?
    .execute(params![id, at])?;
    Ok(())
}

impl Store {
    /// Writes a message from the account: shown at once as pending and queued for delivery,
    /// due at `now_ms`. Returns the message as the UI shows it.
    ///
    /// # Errors
    /// [`StoreError::NoAccount`]; [`StoreError::UnknownConversation`];
    /// [`StoreError::DuplicateClientId`]; [`StoreError::DiskFull`] (then nothing was queued and
    /// the UI must keep the text).
    pub fn enqueue_message(
        &mut self,
        conversation_id: ConversationId,
        client_id: &str,
        content: &str,
        created_at: &str,
        now_ms: i64,
    ) -> Result<ChatMessage> {
        let me = self.me.ok_or(StoreError::NoAccount)?;
        self.write(|tx| {
            let conn = tx.conn();
            require_conversation(conn, conversation_id)?;
            let taken = conn
                .prepare_cached("SELECT 1 FROM messages WHERE sender_id = ?1 AND client_id = ?2")?
                .exists(params![me, client_id])?
                || conn
                    .prepare_cached("SELECT 1 FROM outbox WHERE client_id = ?1")?
                    .exists([client_id])?;
            if taken {
                return Err(StoreError::DuplicateClientId(client_id.to_owned()));
            }
            let name: String = conn
                .prepare_cached("SELECT name FROM users WHERE id = ?1")?
                .query_row([me], |r| r.get(0))
                .optional()?
                .unwrap_or_default();
            conn.prepare_cached(
                "INSERT INTO messages (conversation_id, sender_id, sender_name, content, client_id,
                     created_at, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            )?
            .execute(params![
                conversation_id,
                me,
                name,
                content,
                client_id,
                created_at
            ])?;
            conn.prepare_cached(
                "INSERT INTO outbox (client_id, conversation_id, sender_id, content, created_at,
                     next_attempt_at, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued')",
            )?
            .execute(params![
                client_id,
                conversation_id,
                me,
                content,
                created_at,
                now_ms
            ])?;
            bump_for_unsent(conn, conversation_id, created_at)?;
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
                ))?
                .query_row(params![me, client_id], chat_message_from_row)?)
        })
    }

    /// The entries to send now: for each conversation its oldest queued entry, if it is due at
    /// `now_ms`. Send them in the order returned; at most one per conversation is in flight.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox_due(&self, now_ms: i64) -> Result<Vec<OutboxItem>> {
        self.outbox_due_respecting_holds(now_ms, now_ms)
    }

    /// Like [`Store::outbox_due`] with the backoff horizon and the clock apart: when the network
    /// is back every entry is due (`horizon` far ahead) except those the server itself asked to
    /// wait ([`Store::outbox_hold`]) until after `now_ms`: trying them sooner only earns
    /// another refusal.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox_due_respecting_holds(
        &self,
        horizon: i64,
        now_ms: i64,
    ) -> Result<Vec<OutboxItem>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM outbox o
                 WHERE {IS_HEAD} AND o.next_attempt_at <= ?1
                   AND coalesce(o.held_until, 0) <= ?2
                 ORDER BY o.position"
            ))?
            .query_map([horizon, now_ms], item_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// When the next entry becomes due (epoch milliseconds), for the sender task's sleep; `None`
    /// when nothing is queued.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox_next_due_at(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT min(o.next_attempt_at) FROM outbox o WHERE {IS_HEAD}"
            ))?
            .query_row([], |r| r.get(0))?)
    }

    /// Every entry, queued and failed, in the order written.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM outbox o ORDER BY o.position"
            ))?
            .query_map([], item_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A transient failure (network, 5xx): counts the attempt, remembers `error`, and makes the
    /// entry due again at `next_attempt_at` (the caller's backoff). Returns the attempts so far.
    ///
    /// # Errors
    /// [`StoreError::NotInOutbox`] when it was delivered or discarded meanwhile.
    pub fn outbox_reschedule(
        &mut self,
        client_id: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<u32> {
        self.write(|tx| {
            tx.conn()
                .prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                         next_attempt_at = ?3
                     WHERE client_id = ?1 AND state = 'queued' RETURNING attempts",
                )?
                .query_row(params![client_id, error, next_attempt_at], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotInOutbox(client_id.to_owned()))
        })
    }

    /// The server asked to wait (429 with `Retry-After`): the entry is not sent before
    /// `until_ms`, even when the network comes back, and its message stays pending with `reason`
    /// and `until_ms` for the window to show. Not a failed attempt: the backoff does not grow.
    /// Returns the message as now shown.
    ///
    /// # Errors
    /// [`StoreError::NotInOutbox`] when it was delivered or discarded meanwhile.
    pub fn outbox_hold(
        &mut self,
        client_id: &str,
        reason: &str,
        until_ms: i64,
    ) -> Result<ChatMessage> {
        self.write(|tx| {
            let conn = tx.conn();
            let sender: i64 = conn
                .prepare_cached(
                    "UPDATE outbox SET last_error = ?2, next_attempt_at = ?3, held_until = ?3
                     WHERE client_id = ?1 AND state = 'queued' RETURNING sender_id",
                )?
                .query_row(params![client_id, reason, until_ms], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotInOutbox(client_id.to_owned()))?;
            conn.prepare_cached(
                "UPDATE messages SET failure_reason = ?3, held_until = ?4
                 WHERE sender_id = ?1 AND client_id = ?2 AND state = 'pending'",
            )?
            .execute(params![sender, client_id, reason, until_ms])?;
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
                ))?
                .query_row(params![sender, client_id], chat_message_from_row)?)
        })
    }

    /// A refusal (4xx): the entry and its message become failed with `reason` and stay until
    /// [`Store::outbox_retry`] or [`Store::outbox_discard`]. Returns the message as now shown.
    ///
    /// # Errors
    /// [`StoreError::NotInOutbox`] when it was delivered or discarded meanwhile.
    pub fn outbox_fail(&mut self, client_id: &str, reason: &str) -> Result<ChatMessage> {
        self.set_unsent_state(client_id, "failed", Some(reason), None)
    }

    /// The user retries a failed (or queued) entry: it becomes queued and due at `now_ms`, with
    /// its attempts reset, and its message pending again. Returns the message as now shown.
    ///
    /// # Errors
    /// [`StoreError::NotInOutbox`] when it was delivered or discarded meanwhile.
    pub fn outbox_retry(&mut self, client_id: &str, now_ms: i64) -> Result<ChatMessage> {
        self.set_unsent_state(client_id, "queued", None, Some(now_ms))
    }

    fn set_unsent_state(
        &mut self,
        client_id: &str,
        state: &str,
        reason: Option<&str>,
        due_at: Option<i64>,
    ) -> Result<ChatMessage> {
        self.write(|tx| {
            let conn = tx.conn();
            let sender: i64 = conn
                .prepare_cached(
                    "UPDATE outbox SET state = ?2, last_error = ?3, held_until = NULL,
                         attempts = CASE WHEN ?4 IS NULL THEN attempts + 1 ELSE 0 END,
                         next_attempt_at = coalesce(?4, next_attempt_at)
                     WHERE client_id = ?1 RETURNING sender_id",
                )?
                .query_row(params![client_id, state, reason, due_at], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotInOutbox(client_id.to_owned()))?;
            let message_state = if state == "failed" {
                "failed"
            } else {
                "pending"
            };
            conn.prepare_cached(
                "UPDATE messages SET state = ?3, failure_reason = ?4, held_until = NULL
                 WHERE sender_id = ?1 AND client_id = ?2 AND state != 'sent'",
            )?
            .execute(params![sender, client_id, message_state, reason])?;
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
                ))?
                .query_row(params![sender, client_id], chat_message_from_row)?)
        })
    }

    /// The user gives up on an unsent message: removes the entry and its optimistic message.
    /// Returns the conversation it was in (for the UI's "message removed" event).
    ///
    /// # Errors
    /// [`StoreError::NotInOutbox`] when it was delivered or discarded meanwhile.
    pub fn outbox_discard(&mut self, client_id: &str) -> Result<ConversationId> {
        self.write(|tx| {
            let conn = tx.conn();
            let (conversation_id, sender): (ConversationId, i64) = conn
                .prepare_cached(
                    "DELETE FROM outbox WHERE client_id = ?1 RETURNING conversation_id, sender_id",
                )?
                .query_row([client_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| StoreError::NotInOutbox(client_id.to_owned()))?;
            conn.prepare_cached(
                "DELETE FROM messages WHERE sender_id = ?1 AND client_id = ?2 AND state != 'sent'",
            )?
            .execute(params![sender, client_id])?;
            Ok(conversation_id)
        })
    }
}

#[cfg(test)]
mod tests;
