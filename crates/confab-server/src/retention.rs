//! Maintenance: what keeps the database from growing without bound. One plain function,
//! [`run_maintenance`], purges expired login tokens and compacts the sync change log older than
//! the retention window (raising the horizon below which `/api/sync` answers 410
//! `cursor_expired`); [`spawn_maintenance`] runs it periodically for `serve` and `demo`.
//!
//! What it never does: read the clock inside the work (callers pass `now`, so tests choose the
//! time), delete messages, conversations or requests, or hold the writer for long (the log is
//! compacted in batches, one write job each, so requests keep being served in between).

use std::time::Duration;

use confab_model::Seq;

use crate::db::Db;
use crate::state::AppState;
use crate::store::{self, StoreError};

/// How long changes are kept by default (`CONFAB_CHANGES_RETENTION_DAYS`).
pub const DEFAULT_CHANGES_RETENTION_DAYS: u32 = 90;
/// How often `serve` and `demo` run maintenance.
pub const MAINTENANCE_EVERY: Duration = Duration::from_secs(60 * 60);
/// The most changes deleted in one write job.
const BATCH: u32 = 5_000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What maintenance keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Changes recorded longer ago than this many days are compacted; a client whose last sync
    /// is more recent than that never notices.
    pub changes_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            changes_days: DEFAULT_CHANGES_RETENTION_DAYS,
        }
    }
}

impl RetentionPolicy {
    /// The newest recording time (epoch ms) compacted at `now_ms`.
    pub fn cutoff_ms(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(i64::from(self.changes_days).saturating_mul(DAY_MS))
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Expired tokens deleted.
    pub tokens_purged: usize,
    /// Changes deleted from the sync log.
    pub changes_compacted: usize,
    /// The horizon after the run: a sync with `since` below it gets 410 `cursor_expired`.
    pub horizon: Seq,
}

/// Purges the tokens expired at `now_ms` and compacts the changes recorded at or before
/// `policy.cutoff_ms(now_ms)`.
///
/// # Errors
/// A database failure; what earlier batches deleted stays deleted (each batch is whole).
pub async fn run_maintenance(
    db: &Db,
    policy: RetentionPolicy,
    now_ms: i64,
) -> Result<MaintenanceReport, StoreError> {
    let tokens_purged = db
        .write(move |c| store::retention::purge_expired_tokens(c, now_ms))
        .await?;
    let (changes_compacted, horizon) = compact_changes(db, policy.cutoff_ms(now_ms)).await?;
    Ok(MaintenanceReport {
        tokens_purged,
        changes_compacted,
        horizon,
    })
}

/// Compacts the change log: deletes, in batches, the changes recorded at or before
/// `cutoff_ms` and raises the horizon over them. Returns how many were deleted and the horizon.
///
/// # Errors
/// A database failure; what earlier batches deleted stays deleted (each batch is whole).
pub async fn compact_changes(db: &Db, cutoff_ms: i64) -> Result<(usize, Seq), StoreError> {
    let mut compacted = 0;
    loop {
        let deleted = db
            .write(move |c| store::retention::compact_changes_step(c, cutoff_ms, BATCH))
            .await?;
        compacted += deleted;
        if deleted < BATCH as usize {
            break;
        }
    }
    let horizon = db.read(store::retention::horizon).await?;
    Ok((compacted, horizon))
}

/// Runs [`run_maintenance`] now and then every `every`, with the wall clock, until the task is
/// aborted or the database closes. Failures are logged and retried at the next round.
pub fn spawn_maintenance(
    state: AppState,
    policy: RetentionPolicy,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let db = state.db().clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match run_maintenance(&db, policy, crate::time::now_ms()).await {
                Ok(r) if r.tokens_purged > 0 || r.changes_compacted > 0 => tracing::info!(
                    tokens_purged = r.tokens_purged,
                    changes_compacted = r.changes_compacted,
                    horizon = r.horizon,
                    "maintenance"
                ),
                Ok(_) => tracing::debug!("maintenance: nothing to do"),
                Err(StoreError::Db(crate::db::DbError::WriterGone)) => return,
                Err(e) => tracing::warn!(error = %e, "maintenance failed; retried next round"),
            }
            // Sign-in throttle records past their use (a day without failures).
            match state.purge_login_throttle().await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "login throttle records forgotten"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging the login throttle failed"),
            }
        }
    })
}
