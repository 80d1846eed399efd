//! What the UI reads: the conversation list, message pages, share requests, users, read marks.

use std::collections::HashMap;

use confab_model::events::ReadReceipt;
use confab_model::ipc::{ChatMessage, ConversationSummary, DeliveryState};
use confab_model::{
    Conversation, ConversationId, ConversationKind, KnowledgeRequest, KnowledgeStatus, Message,
    RequestId, Seq, UserId, UserSummary,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Result, StoreError};
use crate::store::{QueryCounts, Store};

/// The longest conversation-list preview, in characters, before it is cut with an ellipsis.
pub const PREVIEW_CHARS: usize = 100;

/// A conversation as a notification names it ([`Store::conversation_label`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationLabel {
    /// The title the list shows (for a direct chat, the other person's name).
    pub title: String,
    /// Notifications muted for it.
    pub muted: bool,
    /// The account's read position.
    pub last_read_seq: Seq,
}

/// Columns read by [`chat_message_from_row`], in order.
pub(crate) const CHAT_COLUMNS: &str =
    "client_id, id, conversation_id, seq, sender_id, sender_name, \
     content, created_at, state, failure_reason, held_until";

/// Reads a [`ChatMessage`] from a row selected with [`CHAT_COLUMNS`].
pub(crate) fn chat_message_from_row(r: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    let state: String = r.get(8)?;
    let delivery = match state.as_str() {
        "sent" => DeliveryState::Sent,
        "failed" => DeliveryState::Failed {
            reason: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        },
        _ => match (r.get::<_, Option<i64>>(10)?, r.get::<_, Option<String>>(9)?) {
            (Some(until_ms), Some(reason)) => DeliveryState::Held { reason, until_ms },
            _ => DeliveryState::Pending,
        },
    };
    Ok(ChatMessage {
        client_id: r.get(0)?,
        id: r.get(1)?,
        conversation_id: r.get(2)?,
        seq: r.get(3)?,
        sender_id: r.get(4)?,
        sender_name: r.get(5)?,
        content: r.get(6)?,
        created_at: r.get(7)?,
        delivery,
    })
}

/// Columns read by [`request_from_row`], in order (the owner's name from the directory when the
/// request itself did not carry it).
pub(crate) const REQUEST_COLUMNS: &str = "r.id, r.requester_id, r.requester_name, r.owner_id, \
     r.question, r.status, r.response_content, r.created_at, r.seq, \
     coalesce(r.owner_name, (SELECT name FROM users WHERE users.id = r.owner_id), ''), \
     r.answered_at, r.answer_seen";

/// Reads a [`KnowledgeRequest`] from a row selected with [`REQUEST_COLUMNS`].
pub(crate) fn request_from_row(r: &Row<'_>) -> rusqlite::Result<KnowledgeRequest> {
    let status: String = r.get(5)?;
    Ok(KnowledgeRequest {
        id: r.get(0)?,
        requester_id: r.get(1)?,
        requester_name: r.get(2)?,
        owner_id: r.get(3)?,
        question: r.get(4)?,
        // The CHECK constraint admits only the three spellings.
        status: KnowledgeStatus::parse(&status).unwrap_or(KnowledgeStatus::Pending),
        response_content: r.get(6)?,
        created_at: r.get(7)?,
        seq: r.get(8)?,
        owner_name: r.get(9)?,
        answered_at: r.get(10)?,
        answer_seen: r.get(11)?,
    })
}

/// The stored spelling of a conversation kind; anything unknown reads as a group (the CHECK
/// constraint admits only the two).
pub(crate) fn kind_from_sql(kind: &str) -> ConversationKind {
    ConversationKind::parse(kind).unwrap_or(ConversationKind::Group)
}

/// "Name: text" on one line, cut to [`PREVIEW_CHARS`].
fn preview(sender_name: &str, content: &str) -> String {
    let line = content.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = format!("{sender_name}: ");
    let mut chars = line.chars();
    out.extend(chars.by_ref().take(PREVIEW_CHARS));
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

fn members(conn: &Connection, id: ConversationId) -> Result<Vec<UserId>> {
    Ok(conn
        .prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1 ORDER BY user_id")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// What a direct conversation is called here: the other person's name when the stored title is
/// the server's default ("Ada Lovelace, Grace Hopper", the same for both sides), so each side
/// sees who they talk to; a title someone chose is kept.
fn direct_title(conn: &Connection, title: String, me: UserId, peer: UserId) -> Result<String> {
    Ok(titled(title, user_name(conn, me)?, user_name(conn, peer)?))
}

/// [`direct_title`] given both names (`None`: not cached, the stored title stays).
fn titled(title: String, mine: Option<String>, theirs: Option<String>) -> String {
    let (Some(mine), Some(theirs)) = (mine, theirs) else {
        return title;
    };
    let default_title = [format!("{mine}, {theirs}"), format!("{theirs}, {mine}")];
    if title.is_empty() || default_title.contains(&title) {
        theirs
    } else {
        title
    }
}

fn user_name(conn: &Connection, id: UserId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?)
}

/// [`user_name`], remembered in `names` for the rest of one list.
fn cached_name(
    conn: &Connection,
    names: &mut HashMap<UserId, Option<String>>,
    id: UserId,
) -> Result<Option<String>> {
    if let Some(name) = names.get(&id) {
        return Ok(name.clone());
    }
    let name = user_name(conn, id)?;
    names.insert(id, name.clone());
    Ok(name)
}

/// SQL for "messages from others above the account's read position" of conversation `c`, with
/// the account's id as `?1` (NULL when unknown: then every message counts).
const UNREAD: &str = "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id
     AND m.seq > c.last_read_seq AND m.sender_id IS NOT ?1)";

/// SQL for the `local_id` of conversation `c`'s message in its preview: the last unsent one if
/// any (what the user just wrote, not yet sent), else the one with the highest seq.
const PREVIEW_ID: &str = "coalesce(
     (SELECT local_id FROM messages WHERE conversation_id = c.id AND seq IS NULL
      ORDER BY local_id DESC LIMIT 1),
     (SELECT local_id FROM messages WHERE conversation_id = c.id AND seq IS NOT NULL
      ORDER BY seq DESC LIMIT 1))";

/// SQL for "unread messages that mention the account" of conversation `c` (only messages from
/// others are ever marked as mentions).
const UNREAD_MENTIONS: &str = "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id
     AND m.seq > c.last_read_seq AND m.mentions_me = 1)";

impl Store {
    fn require_me(&self) -> Result<UserId> {
        self.me.ok_or(StoreError::NoAccount)
    }

    fn count(&self, f: impl FnOnce(&mut QueryCounts)) {
        let mut c = self.counts.get();
        f(&mut c);
        self.counts.set(c);
    }

    /// How often the list queries ran on this store since it was opened.
    pub fn query_counts(&self) -> QueryCounts {
        self.counts.get()
    }

    /// The conversation list, most recent activity first (a conversation with a message still in
    /// the outbox sorts above everything received so far). Unread counts are messages from
    /// others above the account's read position; without a recorded account every message counts.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation_list(&self) -> Result<Vec<ConversationSummary>> {
        self.count(|c| c.conversation_lists += 1);
        self.summaries_where(None)
    }

    /// Every conversation's id (the rooms to join).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation_ids(&self) -> Result<Vec<ConversationId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM conversations ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// The summaries of some conversations (those of `ids` that exist), in the list's order:
    /// what changed, for the UI to fold into the list it holds.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation_summaries(
        &self,
        ids: &[ConversationId],
    ) -> Result<Vec<ConversationSummary>> {
        self.count(|c| c.conversation_summaries += 1);
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let ids = format!("[{}]", ids.join(","));
        self.summaries_where(Some(&ids))
    }

    /// Summaries in the list's order: of every conversation, or of those whose ids the JSON
    /// array `ids` holds.
    fn summaries_where(&self, ids: Option<&str>) -> Result<Vec<ConversationSummary>> {
        // Each statement binds exactly the parameters it names (SQLite refuses more).
        let (filter, args): (_, &[&dyn rusqlite::ToSql]) = match &ids {
            None => ("", &[&self.me]),
            Some(ids) => (
                "WHERE c.id IN (SELECT value FROM json_each(?2))",
                &[&self.me, ids],
            ),
        };
        // One statement for the whole list: the members and the preview come from correlated
        // subqueries inside SQLite, not from two or three statements a conversation (2,000
        // conversations were 6,000 round trips through the statement cache).
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT c.id, c.title, c.activity_at, c.muted, {UNREAD},
                     CAST(round(c.activity_seq * 2) AS INTEGER), c.activity_bump, c.kind,
                     {UNREAD_MENTIONS},
                     (SELECT count(*) FROM members WHERE conversation_id = c.id),
                     CASE c.kind WHEN 'direct' THEN
                         (SELECT group_concat(user_id) FROM members WHERE conversation_id = c.id)
                     END,
                     p.sender_name, p.content
                 FROM conversations c
                 LEFT JOIN messages p ON p.local_id = {PREVIEW_ID}
                 {filter}
                 ORDER BY c.activity_seq DESC, c.activity_bump DESC, c.id DESC"
            ))?
            .query_map(args, |r| {
                Ok((
                    (
                        r.get::<_, ConversationId>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, bool>(3)?,
                        r.get::<_, i64>(4)?,
                    ),
                    (r.get::<_, i64>(5)?, r.get::<_, i64>(6)?),
                    kind_from_sql(&r.get::<_, String>(7)?),
                    r.get::<_, i64>(8)?,
                    (r.get::<_, u32>(9)?, r.get::<_, Option<String>>(10)?),
                    (
                        r.get::<_, Option<String>>(11)?,
                        r.get::<_, Option<String>>(12)?,
                    ),
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // Names for direct conversations' titles, each read once per list.
        let mut names: HashMap<UserId, Option<String>> = HashMap::new();
        let mut list = Vec::with_capacity(rows.len());
        for (
            (id, title, last_activity_at, muted, unread_count),
            sort_key,
            kind,
            mention_count,
            (member_count, direct_members),
            last,
        ) in rows
        {
            // Ids only for a direct conversation (two): a group's can be the whole team.
            let mut member_ids: Vec<UserId> = direct_members
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|m| m.parse().ok())
                .collect();
            member_ids.sort_unstable();
            let direct_peer_id = self.direct_peer(kind, &member_ids);
            let title = match (self.me, direct_peer_id) {
                (Some(me), Some(peer)) => {
                    let mine = cached_name(&self.conn, &mut names, me)?;
                    let theirs = cached_name(&self.conn, &mut names, peer)?;
                    titled(title, mine, theirs)
                }
                _ => title,
            };
            let last_message_preview = match last {
                (Some(name), Some(content)) => Some(preview(&name, &content)),
                _ => None,
            };
            list.push(ConversationSummary {
                id,
                title,
                kind,
                mention_count,
                last_message_preview,
                member_count,
                last_activity_at,
                unread_count,
                muted,
                direct_peer_id,
                sort_key,
            });
        }
        Ok(list)
    }

    /// The other member of a direct conversation (two members, one of them the account). A group
    /// has none, even with two members left.
    fn direct_peer(&self, kind: ConversationKind, member_ids: &[UserId]) -> Option<UserId> {
        if kind != ConversationKind::Direct {
            return None;
        }
        match (self.me, member_ids) {
            (Some(me), &[a, b]) if a == me => Some(b),
            (Some(me), &[a, b]) if b == me => Some(a),
            _ => None,
        }
    }

    /// What a notification about a conversation needs: its title as the list shows it, whether
    /// it is muted, and the account's read position. A keyed lookup, not a summary.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation_label(&self, id: ConversationId) -> Result<Option<ConversationLabel>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT title, muted, last_read_seq, kind FROM conversations WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, Seq>(2)?,
                    kind_from_sql(&r.get::<_, String>(3)?),
                ))
            })
            .optional()?;
        let Some((title, muted, last_read_seq, kind)) = row else {
            return Ok(None);
        };
        let title = match (self.me, self.direct_peer(kind, &members(&self.conn, id)?)) {
            (Some(me), Some(peer)) => direct_title(&self.conn, title, me, peer)?,
            _ => title,
        };
        Ok(Some(ConversationLabel {
            title,
            muted,
            last_read_seq,
        }))
    }

    /// Where the account's view of a conversation starts: the seq of the change that brought it
    /// here (its creation, or being added to it); `0` when unknown. Sync brings everything
    /// above it; anything older is history only the server's message pages have.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn joined_seq(&self, id: ConversationId) -> Result<Seq> {
        Ok(self
            .conn
            .prepare_cached("SELECT created_seq FROM conversations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Who is in a conversation, ascending ids (none for one not cached).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation_members(&self, id: ConversationId) -> Result<Vec<UserId>> {
        members(&self.conn, id)
    }

    /// One conversation in the server's shape (its last message is the newest sent one).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT c.title, c.last_read_seq, {UNREAD}, c.kind, c.muted
                 FROM conversations c WHERE c.id = ?2"
            ))?
            .query_row(params![self.me, id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    kind_from_sql(&r.get::<_, String>(3)?),
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()?;
        let Some((title, last_read_seq, unread_count, kind, muted)) = row else {
            return Ok(None);
        };
        let last_message = self
            .conn
            .prepare_cached(
                "SELECT id, conversation_id, seq, sender_id, sender_name, content, client_id,
                     created_at
                 FROM messages WHERE conversation_id = ?1 AND seq IS NOT NULL
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([id], |r| {
                Ok(Message {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    seq: r.get(2)?,
                    sender_id: r.get(3)?,
                    sender: UserSummary {
                        id: r.get(3)?,
                        name: r.get(4)?,
                    },
                    content: r.get(5)?,
                    client_id: r.get(6)?,
                    created_at: r.get(7)?,
                })
            })
            .optional()?;
        Ok(Some(Conversation {
            id,
            title,
            kind,
            member_ids: members(&self.conn, id)?,
            last_message,
            unread_count,
            last_read_seq,
            muted: Some(muted),
        }))
    }

    /// A page of a conversation's messages, ascending.
    ///
    /// With `before: None`, the newest page: the last `limit` messages, sent ones by seq followed
    /// by unsent ones (pending or failed) in the order they were written. With `Some(seq)`, the
    /// `limit` sent messages just below `seq` (pass the smallest seq of the page shown to scroll
    /// back).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn messages_before(
        &self,
        conversation_id: ConversationId,
        before: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut page = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CHAT_COLUMNS} FROM messages
                 WHERE conversation_id = ?1 AND seq IS NOT NULL AND seq < ?2
                 ORDER BY seq DESC LIMIT ?3"
            ))?
            .query_map(
                params![conversation_id, before.unwrap_or(Seq::MAX), limit],
                chat_message_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        page.reverse();
        if before.is_none() {
            let unsent = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq IS NULL ORDER BY local_id LIMIT ?2"
                ))?
                .query_map(params![conversation_id, limit], chat_message_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            page.extend(unsent);
            let excess = page
                .len()
                .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
            page.drain(..excess);
        }
        Ok(page)
    }

    /// The `limit` sent messages just above `after`, ascending: scrolling forward through a
    /// window of history (a search hit far back) towards the newest. When fewer than `limit`
    /// sent ones are left, the page reaches the newest message and ends, like the newest page,
    /// with every unsent one: fewer than `limit` sent rows means the live end.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn messages_after(
        &self,
        conversation_id: ConversationId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<ChatMessage>> {
        let want = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut page = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CHAT_COLUMNS} FROM messages
                 WHERE conversation_id = ?1 AND seq IS NOT NULL AND seq > ?2
                 ORDER BY seq LIMIT ?3"
            ))?
            .query_map(params![conversation_id, after, want], chat_message_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if page.len() < limit {
            // All of them (the outbox holds few): a page full of unsent rows would read as
            // "more to come" and be asked for again.
            let unsent = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLUMNS} FROM messages
                     WHERE conversation_id = ?1 AND seq IS NULL ORDER BY local_id"
                ))?
                .query_map(params![conversation_id], chat_message_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            page.extend(unsent);
        }
        Ok(page)
    }

    /// One message by its sender and client id (the key of an optimistic message).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn message_by_client_id(
        &self,
        sender_id: UserId,
        client_id: &str,
    ) -> Result<Option<ChatMessage>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {CHAT_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
            ))?
            .query_row(params![sender_id, client_id], chat_message_from_row)
            .optional()?)
    }

    /// Pending requests addressed to the account, oldest first.
    ///
    /// # Errors
    /// [`StoreError::NoAccount`]; SQLite errors.
    pub fn incoming_requests(&self) -> Result<Vec<KnowledgeRequest>> {
        let me = self.require_me()?;
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests r
                 WHERE r.owner_id = ?1 AND r.status = 'pending' ORDER BY r.seq, r.id"
            ))?
            .query_map([me], request_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Requests addressed to the account that it answered (approved or declined), newest first.
    ///
    /// # Errors
    /// [`StoreError::NoAccount`]; SQLite errors.
    pub fn answered_requests(&self) -> Result<Vec<KnowledgeRequest>> {
        let me = self.require_me()?;
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests r
                 WHERE r.owner_id = ?1 AND r.status != 'pending' ORDER BY r.id DESC"
            ))?
            .query_map([me], request_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Requests the account made, newest first, answered or not.
    ///
    /// # Errors
    /// [`StoreError::NoAccount`]; SQLite errors.
    pub fn outgoing_requests(&self) -> Result<Vec<KnowledgeRequest>> {
        let me = self.require_me()?;
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests r
                 WHERE r.requester_id = ?1 ORDER BY r.id DESC"
            ))?
            .query_map([me], request_from_row)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// One request by id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn request(&self, id: RequestId) -> Result<Option<KnowledgeRequest>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM share_requests r WHERE r.id = ?1"
            ))?
            .query_row([id], request_from_row)
            .optional()?)
    }

    /// Every known user, by name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn users(&self) -> Result<Vec<UserSummary>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, name FROM users ORDER BY name COLLATE NOCASE, id")?
            .query_map([], |r| {
                Ok(UserSummary {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Where each member has read a conversation up to (for "seen" receipts), by user id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn read_marks(&self, conversation_id: ConversationId) -> Result<Vec<ReadReceipt>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT conversation_id, user_id, seq FROM read_marks
                 WHERE conversation_id = ?1 ORDER BY user_id",
            )?
            .query_map([conversation_id], |r| {
                Ok(ReadReceipt {
                    conversation_id: r.get(0)?,
                    user_id: r.get(1)?,
                    seq: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests;
