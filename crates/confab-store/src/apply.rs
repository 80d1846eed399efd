//! Applying what the server says: messages, read marks, share requests, conversations, users and
//! whole sync pages. Every function is idempotent and keyed by id and seq, so the same item
//! arriving by the realtime event and again by sync is stored once, and an older state never
//! overwrites a newer one.

use confab_model::events::{KnowledgeResponseEvent, ReadReceipt};
use confab_model::{
    Change, Conversation, ConversationId, KnowledgeRequest, KnowledgeStatus, LeftChange, Message,
    MuteChange, Seq, User, UserId,
};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::store::{Store, StoreTx};

/// What applying one item from the server did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// It was new and is now stored.
    Inserted,
    /// It replaced an older state (for a message: an optimistic copy was upgraded to sent).
    Updated,
    /// It was already known in this or a newer state; nothing changed.
    Unchanged,
}

impl Applied {
    /// Whether the cache changed (the UI should hear about it).
    pub fn changed(self) -> bool {
        self != Self::Unchanged
    }
}

/// Adds a user or refreshes their name (and email, when given). Returns whether a row changed.
pub(crate) fn upsert_user(
    conn: &Connection,
    id: UserId,
    name: &str,
    email: Option<&str>,
) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO users (id, name, email) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE
             SET name = excluded.name, email = coalesce(excluded.email, users.email)
             WHERE users.name IS NOT excluded.name
                OR (excluded.email IS NOT NULL AND users.email IS NOT excluded.email)",
        )?
        .execute(params![id, name, email])?;
    Ok(changed > 0)
}

/// Makes sure a conversation row exists, as an untitled placeholder if it is not known yet (a
/// message can arrive before its conversation; `apply_conversation` fills the placeholder in).
fn ensure_conversation(cx: &StoreTx<'_>, id: ConversationId) -> Result<()> {
    if cx.cache.borrow().conversations.contains(&id) {
        return Ok(());
    }
    cx.conn()
        .prepare_cached("INSERT OR IGNORE INTO conversations (id) VALUES (?1)")?
        .execute([id])?;
    cx.cache.borrow_mut().conversations.insert(id);
    Ok(())
}

/// Stores a message sender's name, once per transaction per sender.
fn ensure_sender(cx: &StoreTx<'_>, id: UserId, name: &str) -> Result<()> {
    if cx
        .cache
        .borrow()
        .users
        .get(&id)
        .is_some_and(|known| known == name)
    {
        return Ok(());
    }
    upsert_user(cx.conn(), id, name, None)?;
    cx.cache.borrow_mut().users.insert(id, name.to_owned());
    Ok(())
}

/// Raises a conversation's activity to `seq` if that is newer.
fn bump_activity(conn: &Connection, id: ConversationId, seq: Seq, at: Option<&str>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET activity_seq = ?2, activity_at = coalesce(?3, activity_at)
         WHERE id = ?1 AND activity_seq < ?2",
    )?
    .execute(params![id, seq, at])?;
    Ok(())
}

/// Writes the activity collected by [`apply_message`] in this transaction: one update per
/// conversation instead of one per message. Called before every commit.
pub(crate) fn flush_activity(cx: &StoreTx<'_>) -> Result<()> {
    let pending = std::mem::take(&mut cx.cache.borrow_mut().activity);
    for (id, (seq, at)) in pending {
        bump_activity(cx.conn(), id, seq, Some(&at))?;
    }
    Ok(())
}

/// Moves the account's own read position in a conversation forward. Returns whether it moved.
pub(crate) fn advance_my_read_seq(conn: &Connection, id: ConversationId, seq: Seq) -> Result<bool> {
    let moved = conn
        .prepare_cached(
            "UPDATE conversations SET last_read_seq = ?2 WHERE id = ?1 AND last_read_seq < ?2",
        )?
        .execute(params![id, seq])?;
    Ok(moved > 0)
}

/// The server has the account's read mark in a conversation at `seq` or beyond: an unsent mark
/// at or below it need not be sent any more. A newer unsent mark stays. Returns whether a row
/// went.
pub(crate) fn forget_unsent_read_mark(
    conn: &Connection,
    conversation_id: ConversationId,
    seq: Seq,
) -> Result<bool> {
    let gone = conn
        .prepare_cached("DELETE FROM unsent_read_marks WHERE conversation_id = ?1 AND seq <= ?2")?
        .execute(params![conversation_id, seq])?;
    Ok(gone > 0)
}

/// Moves a member's read mark forward (never back).
pub(crate) fn upsert_read_mark(
    conn: &Connection,
    conversation_id: ConversationId,
    user_id: UserId,
    seq: Seq,
) -> Result<Applied> {
    let current: Option<Seq> = conn
        .prepare_cached("SELECT seq FROM read_marks WHERE conversation_id = ?1 AND user_id = ?2")?
        .query_row(params![conversation_id, user_id], |r| r.get(0))
        .optional()?;
    let outcome = match current {
        None => Applied::Inserted,
        Some(old) if old < seq => Applied::Updated,
        Some(_) => return Ok(Applied::Unchanged),
    };
    conn.prepare_cached(
        "INSERT INTO read_marks (conversation_id, user_id, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![conversation_id, user_id, seq])?;
    Ok(outcome)
}

/// The stored copy of a message, for deciding what an incoming copy changes.
struct StoredCopy {
    local_id: i64,
    id: Option<i64>,
    conversation_id: ConversationId,
    seq: Option<Seq>,
    sender_name: String,
    content: String,
    created_at: String,
    sent: bool,
}

impl StoredCopy {
    fn same_as(&self, m: &Message) -> bool {
        self.sent
            && self.id == Some(m.id)
            && self.seq == Some(m.seq)
            && self.conversation_id == m.conversation_id
            && self.sender_name == m.sender.name
            && self.content == m.content
            && self.created_at == m.created_at
    }
}

const STORED_COPY_BY_ID: &str = "SELECT local_id, id, conversation_id, seq, sender_name, content,
     created_at, state = 'sent' FROM messages WHERE id = ?1";
const STORED_COPY_BY_CLIENT_ID: &str = "SELECT local_id, id, conversation_id, seq, sender_name,
     content, created_at, state = 'sent' FROM messages WHERE sender_id = ?1 AND client_id = ?2";

/// The row the message collides with: by server id first, else by (sender, client id).
fn stored_copy(conn: &Connection, m: &Message) -> Result<Option<StoredCopy>> {
    let read = |r: &rusqlite::Row<'_>| {
        Ok(StoredCopy {
            local_id: r.get(0)?,
            id: r.get(1)?,
            conversation_id: r.get(2)?,
            seq: r.get(3)?,
            sender_name: r.get(4)?,
            content: r.get(5)?,
            created_at: r.get(6)?,
            sent: r.get(7)?,
        })
    };
    let by_id = conn
        .prepare_cached(STORED_COPY_BY_ID)?
        .query_row([m.id], read)
        .optional()?;
    if by_id.is_some() {
        return Ok(by_id);
    }
    Ok(conn
        .prepare_cached(STORED_COPY_BY_CLIENT_ID)?
        .query_row(params![m.sender_id, m.client_id], read)
        .optional()?)
}

/// The account's display name (what `@` mentions of it spell), read once per transaction.
fn my_name(cx: &StoreTx<'_>) -> Result<Option<String>> {
    let Some(me) = cx.me else { return Ok(None) };
    if let Some(name) = cx.cache.borrow().users.get(&me) {
        return Ok(Some(name.clone()));
    }
    let name: Option<String> = cx
        .conn()
        .prepare_cached("SELECT name FROM users WHERE id = ?1")?
        .query_row([me], |r| r.get(0))
        .optional()?;
    if let Some(name) = &name {
        cx.cache.borrow_mut().users.insert(me, name.clone());
    }
    Ok(name)
}

fn apply_message(cx: &StoreTx<'_>, m: &Message) -> Result<Applied> {
    let conn = cx.conn();
    ensure_sender(cx, m.sender_id, &m.sender.name)?;
    ensure_conversation(cx, m.conversation_id)?;
    let mentions_me = cx.me != Some(m.sender_id)
        && my_name(cx)?.is_some_and(|name| crate::mention::mentions(&m.content, &name));
    // Fast path, the common case of a catch-up: a message never seen is one insert.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, conversation_id, seq, sender_id, sender_name, content,
                 client_id, created_at, state, mentions_me)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sent', ?9)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            m.id,
            m.conversation_id,
            m.seq,
            m.sender_id,
            m.sender.name,
            m.content,
            m.client_id,
            m.created_at,
            mentions_me
        ])?;
    let outcome = if inserted > 0 {
        Applied::Inserted
    } else {
        match stored_copy(conn, m)? {
            Some(copy) if copy.same_as(m) => Applied::Unchanged,
            Some(copy) => {
                // The optimistic copy (or an older server copy) becomes the server's, in place:
                // the row keeps its local id, so the search index entry stays its own.
                conn.prepare_cached(
                    "UPDATE messages SET id = ?2, conversation_id = ?3, seq = ?4, sender_name = ?5,
                         content = ?6, created_at = ?7, state = 'sent', failure_reason = NULL,
                         held_until = NULL
                     WHERE local_id = ?1",
                )?
                .execute(params![
                    copy.local_id,
                    m.id,
                    m.conversation_id,
                    m.seq,
                    m.sender.name,
                    m.content,
                    m.created_at
                ])?;
                Applied::Updated
            }
            // A conflict without a colliding row cannot happen; report it as SQLite would.
            None => return Err(rusqlite::Error::QueryReturnedNoRows.into()),
        }
    };
    if outcome.changed() {
        let mut cache = cx.cache.borrow_mut();
        let entry = cache
            .activity
            .entry(m.conversation_id)
            .or_insert((m.seq, m.created_at.clone()));
        if entry.0 < m.seq {
            *entry = (m.seq, m.created_at.clone());
        }
    }
    if cx.me == Some(m.sender_id) {
        // Delivered, whichever path told us first: the outbox must not send it again.
        conn.prepare_cached("DELETE FROM outbox WHERE client_id = ?1 AND sender_id = ?2")?
            .execute(params![m.client_id, m.sender_id])?;
    }
    Ok(outcome)
}

fn apply_read_mark(cx: &StoreTx<'_>, r: &ReadReceipt) -> Result<Applied> {
    let (conn, me) = (cx.conn(), cx.me);
    ensure_conversation(cx, r.conversation_id)?;
    let mut outcome = upsert_read_mark(conn, r.conversation_id, r.user_id, r.seq)?;
    if me == Some(r.user_id) {
        // The server's own view of my mark: what it already has needs no sending.
        forget_unsent_read_mark(conn, r.conversation_id, r.seq)?;
        if advance_my_read_seq(conn, r.conversation_id, r.seq)? && !outcome.changed() {
            outcome = Applied::Updated;
        }
    }
    Ok(outcome)
}

fn apply_request(conn: &Connection, r: &KnowledgeRequest) -> Result<Applied> {
    upsert_user(conn, r.requester_id, &r.requester_name, None)?;
    if !r.owner_name.is_empty() {
        upsert_user(conn, r.owner_id, &r.owner_name, None)?;
    }
    let stored: Option<(String, Seq)> = conn
        .prepare_cached("SELECT status, seq FROM share_requests WHERE id = ?1")?
        .query_row([r.id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let outcome = match stored {
        None => Applied::Inserted,
        Some((_, seq)) if r.seq <= seq => return Ok(Applied::Unchanged),
        // An answer is final: a late copy of the pending request never reopens it.
        Some((status, _))
            if status != KnowledgeStatus::Pending.as_str()
                && r.status == KnowledgeStatus::Pending =>
        {
            return Ok(Applied::Unchanged)
        }
        Some(_) => Applied::Updated,
    };
    conn.prepare_cached(
        "INSERT INTO share_requests (id, requester_id, requester_name, owner_id, question, status,
             response_content, created_at, seq, owner_name, answered_at, answer_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, ''), ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET requester_id = excluded.requester_id,
             requester_name = excluded.requester_name, owner_id = excluded.owner_id,
             question = excluded.question, status = excluded.status,
             response_content = excluded.response_content, created_at = excluded.created_at,
             seq = excluded.seq, owner_name = coalesce(excluded.owner_name, owner_name),
             answered_at = coalesce(excluded.answered_at, answered_at),
             -- An answer arriving is as unread as the server says; after that, seen is final:
             -- an answer opened here (or on another device) stays opened.
             answer_seen = CASE WHEN share_requests.status = 'pending'
                 THEN excluded.answer_seen ELSE max(answer_seen, excluded.answer_seen) END",
    )?
    .execute(params![
        r.id,
        r.requester_id,
        r.requester_name,
        r.owner_id,
        r.question,
        r.status.as_str(),
        r.response_content,
        r.created_at,
        r.seq,
        r.owner_name,
        r.answered_at,
        r.answer_seen
    ])?;
    Ok(outcome)
}

fn apply_request_response(
    conn: &Connection,
    ev: &KnowledgeResponseEvent,
) -> Result<Option<Applied>> {
    let stored: Option<Seq> = conn
        .prepare_cached("SELECT seq FROM share_requests WHERE id = ?1")?
        .query_row([ev.request_id], |row| row.get(0))
        .optional()?;
    match stored {
        None => Ok(None),
        Some(seq) if ev.seq <= seq || ev.status == KnowledgeStatus::Pending => {
            Ok(Some(Applied::Unchanged))
        }
        Some(_) => {
            // A new answer to my question: unread until I open it.
            conn.prepare_cached(
                "UPDATE share_requests SET status = ?2, response_content = ?3, seq = ?4,
                     answered_at = ?5, answer_seen = 0
                 WHERE id = ?1",
            )?
            .execute(params![
                ev.request_id,
                ev.status.as_str(),
                ev.response_content,
                ev.seq,
                ev.answered_at
            ])?;
            Ok(Some(Applied::Updated))
        }
    }
}

fn apply_conversation(
    cx: &StoreTx<'_>,
    c: &Conversation,
    created_seq: Option<Seq>,
) -> Result<Applied> {
    let (conn, me) = (cx.conn(), cx.me);
    let stored: Option<(String, Seq, String)> = conn
        .prepare_cached("SELECT title, created_seq, kind FROM conversations WHERE id = ?1")?
        .query_row([c.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let created_seq = created_seq.unwrap_or(0);
    let kind = c.kind.as_str();
    let mut outcome = match stored {
        None => {
            conn.prepare_cached(
                "INSERT INTO conversations (id, title, created_seq, activity_seq, kind)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
            )?
            .execute(params![c.id, c.title, created_seq, kind])?;
            Applied::Inserted
        }
        Some((title, seq, stored_kind))
            if title != c.title || seq < created_seq || stored_kind != kind =>
        {
            conn.prepare_cached(
                "UPDATE conversations SET title = ?2, created_seq = max(created_seq, ?3), kind = ?4
                 WHERE id = ?1",
            )?
            .execute(params![c.id, c.title, created_seq, kind])?;
            bump_activity(conn, c.id, created_seq, None)?;
            Applied::Updated
        }
        Some(_) => Applied::Unchanged,
    };
    if let Some(muted) = c.muted {
        if set_muted(conn, c.id, muted)? {
            outcome = outcome.max_with(Applied::Updated);
        }
    }
    let mut members = c.member_ids.clone();
    members.sort_unstable();
    members.dedup();
    let stored_members = conn
        .prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1 ORDER BY user_id")?
        .query_map([c.id], |r| r.get::<_, UserId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if stored_members != members {
        conn.prepare_cached("DELETE FROM members WHERE conversation_id = ?1")?
            .execute([c.id])?;
        let mut insert =
            conn.prepare_cached("INSERT INTO members (conversation_id, user_id) VALUES (?1, ?2)")?;
        for user in &members {
            insert.execute(params![c.id, user])?;
        }
        outcome = outcome.max_with(Applied::Updated);
    }
    if advance_my_read_seq(conn, c.id, c.last_read_seq)? {
        outcome = outcome.max_with(Applied::Updated);
    }
    if c.last_read_seq > 0 {
        // The server's view of my mark, as for a read receipt of mine.
        forget_unsent_read_mark(conn, c.id, c.last_read_seq)?;
        if let Some(me) = me {
            upsert_read_mark(conn, c.id, me, c.last_read_seq)?;
        }
    }
    if let Some(last) = &c.last_message {
        if apply_message(cx, last)?.changed() {
            outcome = outcome.max_with(Applied::Updated);
        }
    }
    Ok(outcome)
}

/// Sets a conversation's mute flag; returns whether it changed.
fn set_muted(conn: &Connection, id: ConversationId, muted: bool) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE conversations SET muted = ?2 WHERE id = ?1 AND muted != ?2")?
        .execute(params![id, muted])?
        > 0)
}

/// A change to a conversation the account is in (renamed, members added or gone). For a member
/// just added it is the conversation's arrival, placed in the list by the change's seq; a known
/// one keeps its place (a rename is no activity).
fn apply_conversation_update(cx: &StoreTx<'_>, c: &Conversation, seq: Seq) -> Result<Applied> {
    let known = cx
        .conn()
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1 AND title != ''")?
        .exists([c.id])?;
    apply_conversation(cx, c, (!known).then_some(seq))
}

/// The account left a conversation (here or on another device): it goes, with its messages,
/// drafts, outbox entries and read marks (the foreign keys cascade).
fn apply_left(cx: &StoreTx<'_>, left: &LeftChange) -> Result<Applied> {
    if cx.me.is_some_and(|me| me != left.user_id) {
        // Someone else left: the conversation-updated change carries the new member list.
        return Ok(Applied::Unchanged);
    }
    let gone = cx
        .conn()
        .prepare_cached("DELETE FROM conversations WHERE id = ?1")?
        .execute([left.conversation_id])?;
    cx.cache
        .borrow_mut()
        .conversations
        .remove(&left.conversation_id);
    cx.cache.borrow_mut().activity.remove(&left.conversation_id);
    Ok(if gone > 0 {
        Applied::Updated
    } else {
        Applied::Unchanged
    })
}

fn apply_muted(cx: &StoreTx<'_>, m: &MuteChange) -> Result<Applied> {
    Ok(if set_muted(cx.conn(), m.conversation_id, m.muted)? {
        Applied::Updated
    } else {
        Applied::Unchanged
    })
}

/// The requester opened an answer (on any device): it is read, whatever the seqs say.
pub(crate) fn apply_answer_seen(conn: &Connection, r: &KnowledgeRequest) -> Result<Applied> {
    let outcome = apply_request(conn, r)?;
    let seen = conn
        .prepare_cached(
            "UPDATE share_requests SET answer_seen = 1 WHERE id = ?1 AND answer_seen = 0",
        )?
        .execute([r.id])?;
    Ok(if seen > 0 {
        outcome.max_with(Applied::Updated)
    } else {
        outcome
    })
}

impl Applied {
    /// Combines two outcomes of one item: inserted beats updated beats unchanged.
    fn max_with(self, other: Applied) -> Applied {
        match (self, other) {
            (Applied::Inserted, _) | (_, Applied::Inserted) => Applied::Inserted,
            (Applied::Updated, _) | (_, Applied::Updated) => Applied::Updated,
            _ => Applied::Unchanged,
        }
    }
}

impl StoreTx<'_> {
    /// Stores a message from the server (realtime event, sync, or the answer to our `POST`).
    ///
    /// Found by server id, else by (sender, client id): an optimistic copy is upgraded in place
    /// to "sent" and its outbox entry removed, never duplicated. The conversation's activity moves
    /// to the message's seq; an unknown conversation gets an untitled placeholder row.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_message(&self, message: &Message) -> Result<Applied> {
        apply_message(self, message)
    }

    /// Moves a member's read mark forward (never back); the account's own mark also sets its
    /// read position, and so its unread counts, and settles any unsent mark at or below it (the
    /// server has it).
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_read_mark(&self, receipt: &ReadReceipt) -> Result<Applied> {
        apply_read_mark(self, receipt)
    }

    /// Stores a share request in the state of its latest change: applied only when its seq is
    /// newer than the stored one, and an answered request never goes back to pending.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_request(&self, request: &KnowledgeRequest) -> Result<Applied> {
        apply_request(self.conn(), request)
    }

    /// Applies the realtime answer to one of the account's requests. `None` when the request is
    /// not cached (sync to fetch it whole).
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_request_response(
        &self,
        event: &KnowledgeResponseEvent,
    ) -> Result<Option<Applied>> {
        apply_request_response(self.conn(), event)
    }

    /// Stores a conversation: title, members (replaced by the given set), the account's read
    /// position (forward only; an unsent mark at or below the server's is settled) and its last
    /// message, if any. `created_seq` is the seq of its `conversation-created` change when
    /// known: it places a conversation without messages in the list.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_conversation(
        &self,
        conversation: &Conversation,
        created_seq: Option<Seq>,
    ) -> Result<Applied> {
        apply_conversation(self, conversation, created_seq)
    }

    /// A conversation renamed or with changed members ([`Change::ConversationUpdated`], or the
    /// `conversation-updated` event); the arrival of one the account was just added to.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_conversation_update(
        &self,
        conversation: &Conversation,
        seq: Seq,
    ) -> Result<Applied> {
        apply_conversation_update(self, conversation, seq)
    }

    /// Stores older history fetched from the server because the cache lacked it (a
    /// conversation the account was added to, whose earlier messages sync does not bring).
    /// History is not news: the account's read position moves up to the newest of these (here
    /// only; nothing is sent), so paging back never raises the unread or mention counts.
    /// Returns how many messages were new.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_history(&self, messages: &[Message]) -> Result<usize> {
        let mut new = 0;
        for m in messages {
            new += usize::from(apply_message(self, m)? == Applied::Inserted);
        }
        let mut newest: std::collections::HashMap<ConversationId, Seq> =
            std::collections::HashMap::new();
        for m in messages {
            let at = newest.entry(m.conversation_id).or_insert(m.seq);
            *at = (*at).max(m.seq);
        }
        for (conversation, seq) in newest {
            advance_my_read_seq(self.conn(), conversation, seq)?;
        }
        Ok(new)
    }

    /// The account left a conversation: it is dropped with everything in it.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_left(&self, left: &LeftChange) -> Result<Applied> {
        apply_left(self, left)
    }

    /// The account muted or unmuted a conversation (on any device).
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_muted(&self, change: &MuteChange) -> Result<Applied> {
        apply_muted(self, change)
    }

    /// Stores a user from the directory (name and email).
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_user(&self, user: &User) -> Result<Applied> {
        self.cache.borrow_mut().users.remove(&user.id);
        let known = self
            .conn()
            .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
            .exists([user.id])?;
        Ok(
            match upsert_user(self.conn(), user.id, &user.name, Some(&user.email))? {
                false => Applied::Unchanged,
                true if known => Applied::Updated,
                true => Applied::Inserted,
            },
        )
    }

    /// Applies a page of sync changes in order and moves the sync cursor forward to
    /// `next_cursor`. Returns one outcome per change, in the same order.
    ///
    /// Call it inside one transaction per page (as [`Store::apply_changes`] does): either the
    /// whole page and the new cursor are stored, or nothing is and the page can be fetched again.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_changes(&self, changes: &[Change], next_cursor: Seq) -> Result<Vec<Applied>> {
        let mut outcomes = Vec::with_capacity(changes.len());
        for change in changes {
            outcomes.push(match change {
                Change::Message(c) => apply_message(self, &c.message)?,
                Change::ReadReceipt(c) => apply_read_mark(self, &c.receipt)?,
                Change::KnowledgeRequest(c) | Change::KnowledgeResponse(c) => {
                    apply_request(self.conn(), &c.request)?
                }
                Change::ConversationCreated(c) => {
                    apply_conversation(self, &c.conversation, Some(c.seq))?
                }
                Change::ConversationUpdated(c) => {
                    apply_conversation_update(self, &c.conversation, c.seq)?
                }
                Change::ConversationLeft(c) => apply_left(self, c)?,
                Change::ConversationMuted(c) => apply_muted(self, c)?,
                Change::KnowledgeAnswerSeen(c) => apply_answer_seen(self.conn(), &c.request)?,
            });
        }
        self.advance_sync_cursor(next_cursor)?;
        Ok(outcomes)
    }
}

impl Store {
    /// [`StoreTx::apply_message`] in its own transaction.
    ///
    /// # Errors
    /// As [`StoreTx::apply_message`].
    pub fn apply_message(&mut self, message: &Message) -> Result<Applied> {
        self.write(|tx| tx.apply_message(message))
    }

    /// [`StoreTx::apply_read_mark`] in its own transaction.
    ///
    /// # Errors
    /// As [`StoreTx::apply_read_mark`].
    pub fn apply_read_mark(&mut self, receipt: &ReadReceipt) -> Result<Applied> {
        self.write(|tx| tx.apply_read_mark(receipt))
    }

    /// [`StoreTx::apply_request`] in its own transaction.
    ///
    /// # Errors
    /// As [`StoreTx::apply_request`].
    pub fn apply_request(&mut self, request: &KnowledgeRequest) -> Result<Applied> {
        self.write(|tx| tx.apply_request(request))
    }

    /// [`StoreTx::apply_request_response`] in its own transaction.
    ///
    /// # Errors
    /// As [`StoreTx::apply_request_response`].
    pub fn apply_request_response(
        &mut self,
        event: &KnowledgeResponseEvent,
    ) -> Result<Option<Applied>> {
        self.write(|tx| tx.apply_request_response(event))
    }

    /// [`StoreTx::apply_conversation`] in its own transaction.
    ///
    /// # Errors
    /// As [`StoreTx::apply_conversation`].
    pub fn apply_conversation(
        &mut self,
        conversation: &Conversation,
        created_seq: Option<Seq>,
    ) -> Result<Applied> {
        self.write(|tx| tx.apply_conversation(conversation, created_seq))
    }

    /// Stores directory users in one transaction; returns how many rows changed.
    ///
    /// # Errors
    /// SQLite errors; [`crate::StoreError::DiskFull`].
    pub fn apply_users(&mut self, users: &[User]) -> Result<usize> {
        self.write(|tx| {
            let mut changed = 0;
            for user in users {
                changed += usize::from(tx.apply_user(user)?.changed());
            }
            Ok(changed)
        })
    }

    /// [`StoreTx::apply_changes`] in its own transaction: a sync page and its cursor, all or
    /// nothing.
    ///
    /// # Errors
    /// As [`StoreTx::apply_changes`]; on error the cursor has not moved.
    pub fn apply_changes(&mut self, changes: &[Change], next_cursor: Seq) -> Result<Vec<Applied>> {
        self.write(|tx| tx.apply_changes(changes, next_cursor))
    }
}

#[cfg(test)]
mod tests;
