//! Conversations: starting them (a direct one is kept once per pair), renaming a group, adding
//! people to it, leaving it, muting, and listing them as one member sees them.
//!
//! Every change is recorded under its own sequence number in the transaction that makes it.
//! What it never does: trigger realtime events (the routes do, after the commit) or decide
//! HTTP statuses (they come from the [`StoreError`] variants).

use crate::args;
use crate::sql::{OptionalExt, Sql};
use confab_model::events::ConversationCreated;
use confab_model::{
    Change, Conversation, ConversationChange, ConversationId, ConversationKind, LeftChange,
    MuteChange, Seq, User, UserId,
};

use crate::db::next_seq;
use crate::store::chat::{member_ids, message_by_seq, require_member};
use crate::store::sync::{record_change, Visibility};
use crate::store::{users, StoreError};

/// The most members a conversation may have.
pub const MAX_MEMBERS: usize = 100;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most people one `POST /api/conversations/{id}/members` may name.
pub const MAX_ADDED_MEMBERS: usize = 100;

/// What [`create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new conversation and its recorded `conversation-created` change: answer 201 and
    /// announce it to every member.
    New(ConversationCreated),
    /// The pair's direct conversation, which already existed, as the caller sees it: answer 200
    /// and announce nothing.
    Existing(Conversation),
}

impl Created {
    /// The conversation, new or existing (a new one as every member receives it).
    pub fn into_conversation(self) -> Conversation {
        match self {
            Self::New(event) => event.conversation,
            Self::Existing(conversation) => conversation,
        }
    }
}

/// What a change to a group did, for the route to answer and announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The conversation as the caller sees it now (read state included, `muted` absent: that is
    /// only listed).
    pub view: Conversation,
    /// The recorded `conversation-updated` change for every member; `None` when nothing changed
    /// (nothing recorded, nothing to announce).
    pub change: Option<ConversationCreated>,
}

/// What [`leave`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    /// The leaver's own change (visible to them alone).
    pub left: LeftChange,
    /// The conversation without them, for the members who remain.
    pub updated: ConversationCreated,
}

/// The key that makes a direct conversation unique: `"lo:hi"` of the two user ids.
pub fn direct_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

/// Decides the kind of a new conversation: a direct one when asked for (or, when nothing was
/// asked, when there is exactly one other member and no title), else a group.
///
/// # Errors
/// [`StoreError::Invalid`] for a direct conversation with a title or not exactly one other
/// member.
pub fn resolve_kind(
    asked: Option<ConversationKind>,
    titled: bool,
    others: usize,
) -> Result<ConversationKind, StoreError> {
    match asked {
        None if others == 1 && !titled => Ok(ConversationKind::Direct),
        None => Ok(ConversationKind::Group),
        Some(ConversationKind::Direct) if titled => Err(StoreError::Invalid(
            "a direct conversation has no title: leave the title out, or start a group".into(),
        )),
        Some(ConversationKind::Direct) if others != 1 => Err(StoreError::Invalid(
            "a direct conversation has exactly one other member: start a group for more".into(),
        )),
        Some(kind) => Ok(kind),
    }
}

/// Starts a conversation of `creator` and `member_ids` (deduplicated; the creator is added),
/// or answers the pair's existing direct conversation.
///
/// # Errors
/// [`StoreError::Invalid`] for no other member, too many, an unknown or disabled member, a
/// too-long title, or a direct conversation asked for with a title or more than one other
/// member; SQLite errors.
pub fn create(
    c: &dyn Sql,
    creator: &User,
    title: Option<&str>,
    member_ids: &[UserId],
    kind: Option<ConversationKind>,
) -> Result<Created, StoreError> {
    let mut members: Vec<UserId> = member_ids.to_vec();
    members.push(creator.id);
    members.sort_unstable();
    members.dedup();
    if members.len() < 2 {
        return Err(StoreError::Invalid(
            "memberIds must name at least one other user".into(),
        ));
    }
    if members.len() > MAX_MEMBERS {
        return Err(StoreError::Invalid(format!(
            "a conversation has at most {MAX_MEMBERS} members"
        )));
    }
    let mut names = Vec::with_capacity(members.len());
    for &id in &members {
        let summary = users::summary(c, id)?
            .ok_or_else(|| StoreError::Invalid(format!("unknown user id {id}")))?;
        names.push(summary.name);
    }
    let title = title.map(str::trim).filter(|t| !t.is_empty());
    if title.is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS) {
        return Err(StoreError::Invalid(format!(
            "title must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    let kind = resolve_kind(kind, title.is_some(), members.len() - 1)?;
    let key = match kind {
        ConversationKind::Direct => Some(direct_key(members[0], members[1])),
        ConversationKind::Group => None,
    };
    // Jobs run one at a time on the writer thread, so this lookup sees every direct
    // conversation committed or written before; two people starting one at the same moment
    // are simply two jobs in a row.
    if let Some(key) = &key {
        if let Some(id) = direct_by_key(c, key)? {
            return Ok(Created::Existing(caller_view(c, id, creator.id)?));
        }
    }
    let title = title.map_or_else(|| names.join(", "), str::to_owned);
    let seq = next_seq(c)?;
    let Some(id) = insert_conversation(c, &title, kind, key.as_deref(), creator.id, seq)? else {
        // The unique index refused a second row for the pair. The lookup above runs in this
        // same write transaction, so today this is not reached; it is here so that the
        // database's own guarantee, not only the order of this code, decides: answer the row
        // that holds the pair. A conflict on anything else cannot happen: a database error.
        let id = match &key {
            Some(key) => direct_by_key(c, key)?,
            None => None,
        }
        .ok_or(crate::sql::SqlError::NoRows)?;
        return Ok(Created::Existing(caller_view(c, id, creator.id)?));
    };
    for &m in &members {
        c.execute(
            "INSERT INTO members (conversation_id, user_id, joined_seq) VALUES (?1, ?2, ?3)",
            args![id, m, seq],
        )?;
    }
    let conversation = shared_view(c, id)?;
    record_change(
        c,
        seq,
        Visibility::Conversation(id),
        &Change::ConversationCreated(ConversationChange {
            seq,
            conversation: conversation.clone(),
        }),
    )?;
    Ok(Created::New(ConversationCreated { conversation, seq }))
}

/// Inserts a conversation row; `None` when the unique index already holds `direct_key`.
fn insert_conversation(
    c: &dyn Sql,
    title: &str,
    kind: ConversationKind,
    direct_key: Option<&str>,
    creator: UserId,
    seq: Seq,
) -> Result<Option<ConversationId>, StoreError> {
    Ok(c.query_row(
        "INSERT INTO conversations (title, kind, direct_key, creator_id, created_at, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO NOTHING RETURNING id",
        args![
            title,
            kind.as_str(),
            direct_key,
            creator,
            crate::time::now_rfc3339(),
            seq
        ],
        |r| r.get(0),
    )
    .optional()?)
}

fn direct_by_key(c: &dyn Sql, key: &str) -> Result<Option<ConversationId>, StoreError> {
    Ok(c.query_row(
        "SELECT id FROM conversations WHERE direct_key = ?1",
        args![key],
        |r| r.get(0),
    )
    .optional()?)
}

fn kind_of(c: &dyn Sql, conv: ConversationId) -> Result<ConversationKind, StoreError> {
    let kind: String = c
        .query_row(
            "SELECT kind FROM conversations WHERE id = ?1",
            args![conv],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound("no such conversation"))?;
    // The column's CHECK constraint admits only the two spellings.
    Ok(ConversationKind::parse(&kind).unwrap_or_default())
}

/// Fails unless the conversation exists, `user` is a member and it is a group; `refusal` is the
/// sentence for a direct conversation.
fn require_group_member(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    refusal: &str,
) -> Result<(), StoreError> {
    require_member(c, conv, user)?;
    match kind_of(c, conv)? {
        ConversationKind::Group => Ok(()),
        ConversationKind::Direct => Err(StoreError::Invalid(refusal.to_owned())),
    }
}

/// The conversation as every member receives it in changes and events: title, kind and
/// members, no messages, nothing read, no per-user settings.
///
/// # Errors
/// [`StoreError::NotFound`]; SQLite errors.
pub fn shared_view(c: &dyn Sql, conv: ConversationId) -> Result<Conversation, StoreError> {
    let (title, kind): (String, String) = c
        .query_row(
            "SELECT title, kind FROM conversations WHERE id = ?1",
            args![conv],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(StoreError::NotFound("no such conversation"))?;
    Ok(Conversation {
        id: conv,
        title,
        kind: ConversationKind::parse(&kind).unwrap_or_default(),
        member_ids: member_ids(c, conv)?,
        last_message: None,
        unread_count: 0,
        last_read_seq: 0,
        muted: None,
    })
}

/// One row of [`LIST`], before its members and last message are looked up.
struct Row {
    id: ConversationId,
    title: String,
    kind: String,
    last_read_seq: Seq,
    last_message_seq: Seq,
    muted: bool,
    unread_count: i64,
}

/// The conversations of `?1` as that member sees them; `?2` limits it to one id (or NULL).
const LIST: &str = "SELECT cv.id, cv.title, cv.kind, m.last_read_seq, cv.last_message_seq, m.muted,
        (SELECT COUNT(*) FROM messages x WHERE x.conversation_id = cv.id
           AND x.seq > m.last_read_seq AND x.sender_id != m.user_id)
     FROM members m JOIN conversations cv ON cv.id = m.conversation_id
     WHERE m.user_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR cv.id = ?2)
     ORDER BY CASE WHEN cv.last_message_seq > cv.seq THEN cv.last_message_seq ELSE cv.seq END DESC";

fn rows(
    c: &dyn Sql,
    user: UserId,
    only: Option<ConversationId>,
) -> Result<Vec<Conversation>, StoreError> {
    let rows: Vec<Row> = c.query_map(LIST, args![user, only], |r| {
        Ok(Row {
            id: r.get(0)?,
            title: r.get(1)?,
            kind: r.get(2)?,
            last_read_seq: r.get(3)?,
            last_message_seq: r.get(4)?,
            muted: r.get(5)?,
            unread_count: r.get(6)?,
        })
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let last_message = if row.last_message_seq > 0 {
            message_by_seq(c, row.last_message_seq)?
        } else {
            None
        };
        out.push(Conversation {
            id: row.id,
            title: row.title,
            kind: ConversationKind::parse(&row.kind).unwrap_or_default(),
            member_ids: member_ids(c, row.id)?,
            last_message,
            unread_count: row.unread_count,
            last_read_seq: row.last_read_seq,
            muted: Some(row.muted),
        });
    }
    Ok(out)
}

/// The caller's conversations, most recently active first, each with the caller's read state
/// and `muted` setting.
///
/// # Errors
/// SQLite errors.
pub fn list(c: &dyn Sql, user: UserId) -> Result<Vec<Conversation>, StoreError> {
    rows(c, user, None)
}

/// One conversation as its member `user` sees it, for the answer of a write: read state
/// included, `muted` left out (it is only listed, see [`Conversation::muted`]).
///
/// # Errors
/// [`StoreError::NotAllowed`] if `user` is not a member; SQLite errors.
pub fn caller_view(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
) -> Result<Conversation, StoreError> {
    let mut view = rows(c, user, Some(conv))?
        .pop()
        .ok_or(StoreError::NotAllowed("not a member of this conversation"))?;
    view.muted = None;
    Ok(view)
}

/// Records a `conversation-updated` change under `seq` (from [`next_seq`] in this job) for the
/// conversation's current members.
fn record_updated(
    c: &dyn Sql,
    conv: ConversationId,
    seq: Seq,
) -> Result<ConversationCreated, StoreError> {
    let conversation = shared_view(c, conv)?;
    record_change(
        c,
        seq,
        Visibility::Conversation(conv),
        &Change::ConversationUpdated(ConversationChange {
            seq,
            conversation: conversation.clone(),
        }),
    )?;
    Ok(ConversationCreated { conversation, seq })
}

/// Renames a group. The same title again changes nothing.
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`];
/// [`StoreError::Invalid`] for a direct conversation or a title that is blank or longer than
/// [`MAX_TITLE_CHARS`]; SQLite errors.
pub fn rename(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    title: &str,
) -> Result<Updated, StoreError> {
    require_group_member(
        c,
        conv,
        user,
        "a direct conversation cannot be renamed: it is named after the two people in it",
    )?;
    let title = title.trim();
    if title.is_empty() {
        return Err(StoreError::Invalid("title must not be empty".into()));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(StoreError::Invalid(format!(
            "title must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    let changed = c.execute(
        "UPDATE conversations SET title = ?2 WHERE id = ?1 AND title != ?2",
        args![conv, title],
    )? > 0;
    let change = if changed {
        Some(record_updated(c, conv, next_seq(c)?)?)
    } else {
        None
    };
    Ok(Updated {
        view: caller_view(c, conv, user)?,
        change,
    })
}

/// Adds people to a group; those already in it are ignored.
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`];
/// [`StoreError::Invalid`] for a direct conversation, no ids or more than
/// [`MAX_ADDED_MEMBERS`], an unknown or disabled user, or more than [`MAX_MEMBERS`] in all;
/// SQLite errors.
pub fn add_members(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    ids: &[UserId],
) -> Result<Updated, StoreError> {
    require_group_member(
        c,
        conv,
        user,
        "people cannot be added to a direct conversation: start a group with them instead",
    )?;
    if ids.is_empty() || ids.len() > MAX_ADDED_MEMBERS {
        return Err(StoreError::Invalid(format!(
            "memberIds must name 1 to {MAX_ADDED_MEMBERS} users"
        )));
    }
    for &id in ids {
        if users::summary(c, id)?.is_none() {
            return Err(StoreError::Invalid(format!("unknown user id {id}")));
        }
    }
    let current = member_ids(c, conv)?;
    let mut joining: Vec<UserId> = ids
        .iter()
        .copied()
        .filter(|id| !current.contains(id))
        .collect();
    joining.sort_unstable();
    joining.dedup();
    if joining.is_empty() {
        return Ok(Updated {
            view: caller_view(c, conv, user)?,
            change: None,
        });
    }
    if current.len() + joining.len() > MAX_MEMBERS {
        return Err(StoreError::Invalid(format!(
            "a conversation has at most {MAX_MEMBERS} members"
        )));
    }
    // The change that announces them is the one they join with: they see it and what follows.
    let seq = next_seq(c)?;
    for &id in &joining {
        c.execute(
            "INSERT INTO members (conversation_id, user_id, joined_seq) VALUES (?1, ?2, ?3)",
            args![conv, id, seq],
        )?;
    }
    let change = record_updated(c, conv, seq)?;
    Ok(Updated {
        view: caller_view(c, conv, user)?,
        change: Some(change),
    })
}

/// Takes `user` out of a group: the remaining members get a `conversation-updated` change,
/// the leaver a `conversation-left` change of their own (they no longer see the conversation's
/// changes, so it could not reach them otherwise).
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`];
/// [`StoreError::Invalid`] for a direct conversation; SQLite errors.
pub fn leave(c: &dyn Sql, conv: ConversationId, user: UserId) -> Result<Left, StoreError> {
    require_group_member(
        c,
        conv,
        user,
        "a direct conversation cannot be left: mute it instead",
    )?;
    c.execute(
        "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2",
        args![conv, user],
    )?;
    let updated = record_updated(c, conv, next_seq(c)?)?;
    let seq = next_seq(c)?;
    let left = LeftChange {
        seq,
        conversation_id: conv,
        user_id: user,
    };
    record_change(
        c,
        seq,
        Visibility::User(user),
        &Change::ConversationLeft(left.clone()),
    )?;
    Ok(Left { left, updated })
}

/// Sets `user`'s own mute setting of a conversation; returns the recorded change when it
/// changed, `None` when it already was so.
///
/// # Errors
/// [`StoreError::NotFound`] / [`StoreError::NotAllowed`] as [`require_member`]; SQLite errors.
pub fn set_muted(
    c: &dyn Sql,
    conv: ConversationId,
    user: UserId,
    muted: bool,
) -> Result<Option<MuteChange>, StoreError> {
    require_member(c, conv, user)?;
    let changed = c.execute(
        "UPDATE members SET muted = ?3
             WHERE conversation_id = ?1 AND user_id = ?2 AND muted != ?3",
        args![conv, user, muted],
    )? > 0;
    if !changed {
        return Ok(None);
    }
    let seq = next_seq(c)?;
    let change = MuteChange {
        seq,
        conversation_id: conv,
        muted,
    };
    record_change(
        c,
        seq,
        Visibility::User(user),
        &Change::ConversationMuted(change.clone()),
    )?;
    Ok(Some(change))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn the_kind_follows_from_the_members_and_title_unless_asked_for() {
        use ConversationKind::{Direct, Group};
        let kind = |asked, titled, others| resolve_kind(asked, titled, others).ok();
        assert_eq!(kind(None, false, 1), Some(Direct));
        assert_eq!(kind(None, true, 1), Some(Group), "a title makes a group");
        assert_eq!(kind(None, false, 2), Some(Group));
        assert_eq!(kind(Some(Group), false, 1), Some(Group));
        assert_eq!(kind(Some(Direct), false, 1), Some(Direct));
        assert_eq!(
            kind(Some(Direct), true, 1),
            None,
            "a direct one has no title"
        );
        assert_eq!(
            kind(Some(Direct), false, 2),
            None,
            "a direct one has two people"
        );
    }

    #[test]
    fn the_database_refuses_a_second_direct_conversation_for_a_pair() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("t.db"))?;
        db.write_blocking(|c| -> Result<(), StoreError> {
            let mut ids = Vec::new();
            for who in ["a", "b"] {
                let user = users::create_user(c, &format!("{who}@x.test"), who, "hash")?;
                ids.push(user.id);
            }
            let key = direct_key(ids[1], ids[0]);
            assert_eq!(key, format!("{}:{}", ids[0], ids[1]), "lo:hi, whoever asks");
            let first =
                insert_conversation(c, "a, b", ConversationKind::Direct, Some(&key), ids[0], 1)?;
            let second =
                insert_conversation(c, "b, a", ConversationKind::Direct, Some(&key), ids[1], 2)?;
            assert!(first.is_some());
            assert_eq!(second, None, "the unique index holds the pair");
            let groups = [
                insert_conversation(c, "g", ConversationKind::Group, None, ids[0], 3)?,
                insert_conversation(c, "g", ConversationKind::Group, None, ids[0], 4)?,
            ];
            assert!(groups.iter().all(Option::is_some), "groups have no key");
            Ok(())
        })?;
        Ok(())
    }
}
