//! Retention's queries: expired tokens purged, the oldest changes of the sync log compacted
//! under a horizon that only moves up, and the two bounds `/api/sync` checks a cursor against.
//!
//! What it never does: delete anything but expired tokens and changes older than the cutoff it
//! is given, or touch messages, conversations or requests (the log is a second copy of them;
//! the tables themselves are the truth). It reads no clock: callers pass the times.

use crate::args;
use crate::sql::{OptionalExt, Sql};

use confab_model::Seq;

use crate::store::StoreError;

/// The lowest `since` still served: changes at or below it may be gone.
///
/// # Errors
/// SQLite errors.
pub fn horizon(c: &dyn Sql) -> Result<Seq, StoreError> {
    Ok(
        c.query_row("SELECT seq FROM sync_horizon WHERE id = 1", args![], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0),
    )
}

/// The newest seq taken from the counter.
///
/// # Errors
/// SQLite errors.
pub fn head(c: &dyn Sql) -> Result<Seq, StoreError> {
    Ok(
        c.query_row("SELECT value FROM counter WHERE id = 1", args![], |r| {
            r.get(0)
        })?,
    )
}

/// Deletes the tokens whose expiry is at or before `now_ms`; returns how many.
///
/// # Errors
/// SQLite errors.
pub fn purge_expired_tokens(c: &dyn Sql, now_ms: i64) -> Result<usize, StoreError> {
    Ok(c.execute("DELETE FROM tokens WHERE expires_ms <= ?1", args![now_ms])?)
}

/// One step of compaction: among the oldest `batch` changes, deletes the leading run recorded
/// at or before `cutoff_ms` and raises the horizon to the last seq deleted. Returns how many
/// were deleted (fewer than `batch` means nothing older is left).
///
/// Deleting a prefix by seq (never a change with a newer one kept below it) is what makes the
/// horizon exact: a cursor at or above it has missed nothing that was deleted.
///
/// # Errors
/// SQLite errors.
pub fn compact_changes_step(c: &dyn Sql, cutoff_ms: i64, batch: u32) -> Result<usize, StoreError> {
    let oldest: Vec<(Seq, i64)> = c.query_map(
        "SELECT seq, at_ms FROM changes ORDER BY seq LIMIT ?1",
        args![batch],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Some(upto) = oldest
        .iter()
        .take_while(|(_, at)| *at <= cutoff_ms)
        .map(|(seq, _)| *seq)
        .last()
    else {
        return Ok(0);
    };
    let deleted = c.execute("DELETE FROM changes WHERE seq <= ?1", args![upto])?;
    c.execute(
        "UPDATE sync_horizon SET seq = CASE WHEN seq > ?1 THEN seq ELSE ?1 END WHERE id = 1",
        args![upto],
    )?;
    Ok(deleted)
}
