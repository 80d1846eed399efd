//! The change log behind `/api/sync`.

use crate::args;
use crate::sql::Sql;
use confab_model::{Change, ConversationId, Seq, SyncPage, UserId};

use crate::store::StoreError;

/// Who may see a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every current member of the conversation who was already a member at the change (see
    /// `members.joined_seq`); someone who left no longer sees it.
    Conversation(ConversationId),
    /// Exactly these two users (requester and owner of a knowledge request).
    Users(UserId, UserId),
    /// This user alone (their own settings, a conversation they left, answers they opened),
    /// whether or not they are still a member of anything.
    User(UserId),
}

/// Appends a change to the log under `seq` (which must come from [`crate::db::next_seq`] in
/// the same transaction).
///
/// # Errors
/// SQLite or JSON errors.
pub fn record_change(
    c: &dyn Sql,
    seq: Seq,
    visibility: Visibility,
    change: &Change,
) -> Result<(), StoreError> {
    let (conv, a, b) = match visibility {
        Visibility::Conversation(id) => (Some(id), None, None),
        Visibility::Users(a, b) => (None, Some(a), Some(b)),
        Visibility::User(a) => (None, Some(a), None),
    };
    let payload = serde_json::to_string(change)?;
    c.execute(
        "INSERT INTO changes (seq, conversation_id, user_a, user_b, payload, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![seq, conv, a, b, payload, crate::time::now_ms()],
    )?;
    Ok(())
}

/// Why a sync cursor cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorProblem {
    /// Below the horizon: changes the caller may need were compacted away.
    Compacted,
    /// Above the newest seq: the database is older than the client's view (restored from a
    /// backup), so changes numbered up to the cursor would never reach it.
    AheadOfLog,
}

/// The page after `since` as [`changes_since`], read in one snapshot with the horizon and the
/// counter: `Err(problem)` when the cursor cannot be served (the client must reload), else the
/// page, whose `next_since` on the last page is moved up to the counter (see
/// [`confab_model::SyncPage::next_since`]).
///
/// # Errors
/// As [`changes_since`].
pub fn page_after(
    c: &dyn Sql,
    user: UserId,
    since: Seq,
    limit: u32,
) -> Result<Result<SyncPage, CursorProblem>, StoreError> {
    // `c` is one snapshot (`Db::read` runs in one read transaction): the horizon, the counter
    // and the changes agree, so a compaction or a write committed meanwhile cannot slip between
    // them.
    let horizon = crate::store::retention::horizon(c)?;
    let head = crate::store::retention::head(c)?;
    if since < horizon {
        return Ok(Err(CursorProblem::Compacted));
    }
    if since > head {
        return Ok(Err(CursorProblem::AheadOfLog));
    }
    let mut page = changes_since(c, user, since, limit)?;
    if !page.has_more {
        // Every change up to `head` is committed in this snapshot and the caller has all of
        // those visible to them: the rest are not theirs.
        page.next_since = page.next_since.max(head);
    }
    Ok(Ok(page))
}

/// A history page: the changes visible to `user` with `since < seq <= until`, read in one
/// snapshot with the horizon and the counter. `Err(AheadOfLog)` when `until` is above the newest
/// seq (the database is older than the client's view). A `since` below the horizon is served
/// from the horizon: what is older was compacted, and a client paging history wants what is
/// left rather than a reload. The last page's `next_since` is `until`.
///
/// # Errors
/// As [`changes_since`].
pub fn history_page(
    c: &dyn Sql,
    user: UserId,
    since: Seq,
    until: Seq,
    limit: u32,
) -> Result<Result<SyncPage, CursorProblem>, StoreError> {
    let horizon = crate::store::retention::horizon(c)?;
    let head = crate::store::retention::head(c)?;
    if until > head {
        return Ok(Err(CursorProblem::AheadOfLog));
    }
    let mut page = changes_between(c, user, since.max(horizon), until, limit)?;
    page.next_since = page.next_since.max(since);
    if !page.has_more {
        page.next_since = until;
    }
    Ok(Ok(page))
}

/// How many changes up to `until` (and above the horizon: older ones were compacted) `user`
/// may see: the total a client paging the history below `until` walks through.
///
/// # Errors
/// SQLite errors.
pub fn count_visible(c: &dyn Sql, user: UserId, until: Seq) -> Result<u64, StoreError> {
    let n: i64 = c.query_row(
        &format!("SELECT COUNT(*) FROM changes ch WHERE seq <= ?2 AND {VISIBLE}"),
        args![user, until],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether the change `ch` is visible to the user `?1`. A conversation's change is visible to
/// its members from the change that made them members on (`joined_seq`): one primary-key
/// lookup per candidate change.
const VISIBLE: &str = "(user_a = ?1 OR user_b = ?1 OR EXISTS
    (SELECT 1 FROM members m WHERE m.conversation_id = ch.conversation_id
       AND m.user_id = ?1 AND m.joined_seq <= ch.seq))";

/// The changes visible to `user` with seq above `since`, ascending, at most `limit`.
///
/// # Errors
/// SQLite errors, or [`StoreError::Encoding`] for a stored payload that no longer parses.
pub fn changes_since(
    c: &dyn Sql,
    user: UserId,
    since: Seq,
    limit: u32,
) -> Result<SyncPage, StoreError> {
    changes_between(c, user, since, Seq::MAX, limit)
}

/// The changes visible to `user` with `since < seq <= until`, ascending, at most `limit`.
fn changes_between(
    c: &dyn Sql,
    user: UserId,
    since: Seq,
    until: Seq,
    limit: u32,
) -> Result<SyncPage, StoreError> {
    let rows: Vec<(Seq, String)> = c.query_map(
        &format!(
            "SELECT seq, payload FROM changes ch WHERE seq > ?2 AND seq <= ?4 AND {VISIBLE}
             ORDER BY seq LIMIT ?3"
        ),
        args![user, since, i64::from(limit) + 1, until],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let has_more = rows.len() > limit as usize;
    let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
    for (_, payload) in rows.into_iter().take(limit as usize) {
        changes.push(serde_json::from_str::<Change>(&payload)?);
    }
    let next_since = changes.last().map_or(since, Change::seq);
    Ok(SyncPage {
        changes,
        next_since,
        has_more,
    })
}
