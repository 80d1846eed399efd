//! Membership checks, messages and read marks (conversations themselves are in
//! [`crate::store::conversations`]).

use crate::args;
use crate::sql::{OptionalExt, Sql};
use confab_model::events::ReadReceipt;
use confab_model::{
    Change, ConversationId, Message, MessageChange, ReadChange, Seq, User, UserId, UserSummary,
};

use crate::db::next_seq;
use crate::store::sync::{record_change, Visibility};
use crate::store::{validate_text, StoreError};

/// The longest `clientId`, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 100;

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_id, u.name, m.content, \
     m.client_id, m.created_at FROM messages m JOIN users u ON u.id = m.sender_id";

fn message_from_row(r: &crate::sql::Row) -> Result<Message, crate::sql::SqlError> {
    let sender_id: UserId = r.get(3)?;
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        seq: r.get(2)?,
        sender_id,
        sender: UserSummary {
            id: sender_id,
            name: r.get(4)?,
        },
        content: r.get(5)?,
        client_id: r.get(6)?,
        created_at: r.get(7)?,
    })
}

/// Fails unless the conversation exists and `user` is a member of it.
///
/// # Errors
/// [`StoreError::NotFound`], [`StoreError::NotAllowed`], SQLite errors.
pub fn require_member(c: &dyn Sql, conv: ConversationId, user: UserId) -> Result<(), StoreError> {
    let row: Option<Option<i64>> = c
        .query_row(
            "SELECT (SELECT 1 FROM members WHERE conversation_id = ?1 AND user_id = ?2)
             FROM conversations WHERE id = ?1",
            args![conv, user],
            |r| r.get(0),
        )
        .optional()?;
    match row {
        None => Err(StoreError::NotFound("no such conversation")),
        Some(None) => Err(StoreError::NotAllowed("not a member of this conversation")),
        Some(Some(_)) => Ok(()),
    }
}

/// Whether `user` is a member of `conv` (false if it does not exist).
///
/// # Errors
/// SQLite errors.
pub fn is_member(c: &dyn Sql, conv: ConversationId, user: UserId) -> Result<bool, StoreError> {
    Ok(c.query_row(
        "SELECT 1 FROM members WHERE conversation_id = ?1 AND user_id = ?2",
        args![conv, user],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

/// The member ids of a conversation, ascending.
///
/// # Errors
/// SQLite errors.
pub fn member_ids(c: &dyn Sql, conv: ConversationId) -> Result<Vec<UserId>, StoreError> {
    Ok(c.query_map(
        "SELECT user_id FROM members WHERE conversation_id = ?1 ORDER BY user_id",
        args![conv],
        |r| r.get(0),
    )?)
}

/// The message stored under `seq`, if any.
///
/// # Errors
/// SQLite errors.
pub(crate) fn message_by_seq(c: &dyn Sql, seq: Seq) -> Result<Option<Message>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {MESSAGE_COLUMNS} WHERE m.seq = ?1"),
        args![seq],
        message_from_row,
    )
    .optional()?)
}

/// A page of messages, ascending by seq: the newest `limit` below `before` (or overall).
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`]; SQLite errors.
pub fn messages(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    before: Option<Seq>,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    require_member(c, conv, user)?;
    let mut page: Vec<Message> = c.query_map(
        &format!(
            "SELECT {MESSAGE_COLUMNS} WHERE m.conversation_id = ?1 AND m.seq < ?2
             ORDER BY m.seq DESC LIMIT ?3"
        ),
        args![conv, before.unwrap_or(i64::MAX), limit],
        message_from_row,
    )?;
    page.reverse();
    Ok(page)
}

/// Stores a message, or returns the one already stored for `(sender, client_id)`.
/// The flag is `true` when it was stored now (201 and a trigger), `false` for a retry (200).
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`];
/// [`StoreError::Invalid`] for bad content or client id; [`StoreError::Conflict`] if the client
/// id was used in another conversation; SQLite errors.
pub fn post_message(
    c: &dyn Sql,
    conv: ConversationId,
    sender: &User,
    content: &str,
    client_id: &str,
) -> Result<(Message, bool), StoreError> {
    validate_text("content", content)?;
    if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(StoreError::Invalid(format!(
            "clientId must be 1 to {MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    require_member(c, conv, sender.id)?;
    let existing = c
        .query_row(
            &format!("SELECT {MESSAGE_COLUMNS} WHERE m.sender_id = ?1 AND m.client_id = ?2"),
            args![sender.id, client_id],
            message_from_row,
        )
        .optional()?;
    if let Some(message) = existing {
        if message.conversation_id != conv {
            return Err(StoreError::Conflict(
                "this clientId was already used in another conversation".into(),
            ));
        }
        return Ok((message, false));
    }
    let seq = next_seq(c)?;
    let created_at = crate::time::now_rfc3339();
    let id = c.query_row(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, client_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        args![conv, seq, sender.id, content, client_id, created_at],
        |r| r.get(0),
    )?;
    c.execute(
        "UPDATE conversations SET last_message_seq = ?2 WHERE id = ?1",
        args![conv, seq],
    )?;
    let message = Message {
        id,
        conversation_id: conv,
        seq,
        sender_id: sender.id,
        sender: UserSummary {
            id: sender.id,
            name: sender.name.clone(),
        },
        content: content.to_owned(),
        client_id: client_id.to_owned(),
        created_at,
    };
    record_change(
        c,
        seq,
        Visibility::Conversation(conv),
        &Change::Message(MessageChange {
            seq,
            message: message.clone(),
        }),
    )?;
    Ok((message, true))
}

/// Moves `user`'s read mark in `conv` forward to `seq` (capped at the newest message). Returns
/// the receipt when the mark moved, `None` when it was already there or beyond.
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`];
/// [`StoreError::Invalid`] for a negative seq; SQLite errors.
pub fn mark_read(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    seq: Seq,
) -> Result<Option<ReadReceipt>, StoreError> {
    if seq < 0 {
        return Err(StoreError::Invalid("seq must not be negative".into()));
    }
    require_member(c, conv, user)?;
    let (current, newest): (Seq, Seq) = c.query_row(
        "SELECT m.last_read_seq, cv.last_message_seq FROM members m
             JOIN conversations cv ON cv.id = m.conversation_id
             WHERE m.conversation_id = ?1 AND m.user_id = ?2",
        args![conv, user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let target = seq.min(newest);
    if target <= current {
        return Ok(None);
    }
    c.execute(
        "UPDATE members SET last_read_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
        args![conv, user, target],
    )?;
    let receipt = ReadReceipt {
        conversation_id: conv,
        user_id: user,
        seq: target,
    };
    let change_seq = next_seq(c)?;
    record_change(
        c,
        change_seq,
        Visibility::Conversation(conv),
        &Change::ReadReceipt(ReadChange {
            seq: change_seq,
            receipt: receipt.clone(),
        }),
    )?;
    Ok(Some(receipt))
}
