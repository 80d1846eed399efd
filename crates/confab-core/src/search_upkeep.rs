//! When to merge the search index (`Store::optimize_search`), sans-IO. Every sync page and
//! realtime message adds a small segment to the FTS5 index (FTS5 merges some on its own as they
//! pile up), and a search reads one b-tree per segment; merging them all into one makes searches
//! over a big cache cheaper. But a merge rewrites the whole index: about a second for a million
//! messages (`BENCHMARKS.md`, `bench_search`), holding the cache meanwhile. So it waits for
//! enough new messages to matter, a quiet moment (nothing synced for a while, no catch-up
//! running) and a minimum gap since the last one, and runs on the cache's blocking thread.

use std::time::{Duration, Instant};

/// Messages written since the last merge before another is worth its cost.
pub(crate) const MIN_MESSAGES: u64 = 10_000;
/// The least time between two merges (a long catch-up merges once, not every page).
pub(crate) const MIN_GAP: Duration = Duration::from_secs(10 * 60);
/// How long nothing must have been written before a merge: it waits for the end of a burst.
pub(crate) const QUIET: Duration = Duration::from_secs(30);

/// Counts what was written to the index and says when a merge is due.
#[derive(Debug, Default, Clone)]
pub(crate) struct SearchUpkeep {
    /// Messages written (new or changed) since the last merge started.
    written: u64,
    last_write: Option<Instant>,
    last_merge: Option<Instant>,
}

impl SearchUpkeep {
    /// `messages` were written to the cache (and so to the index) at `now`.
    pub(crate) fn written(&mut self, now: Instant, messages: usize) {
        if messages > 0 {
            self.written = self
                .written
                .saturating_add(u64::try_from(messages).unwrap_or(u64::MAX));
            self.last_write = Some(now);
        }
    }

    /// Whether to merge now; when it says so it counts the merge as started (whatever its
    /// outcome: a failed merge, such as on a full disk, is tried again after [`MIN_GAP`]).
    pub(crate) fn poll_merge(&mut self, now: Instant) -> bool {
        let due = self.written >= MIN_MESSAGES
            && self.last_merge.is_none_or(|t| now >= t + MIN_GAP)
            && self.last_write.is_none_or(|t| now >= t + QUIET);
        if due {
            self.written = 0;
            self.last_merge = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_waits_for_enough_messages_and_a_quiet_moment() {
        let t0 = Instant::now();
        let mut upkeep = SearchUpkeep::default();
        assert!(!upkeep.poll_merge(t0), "nothing written");
        upkeep.written(t0, 9_999);
        assert!(!upkeep.poll_merge(t0 + QUIET), "too few messages");
        upkeep.written(t0 + QUIET, 1);
        assert!(!upkeep.poll_merge(t0 + QUIET), "still writing");
        assert!(upkeep.poll_merge(t0 + QUIET * 2), "quiet and enough");
        assert!(!upkeep.poll_merge(t0 + QUIET * 3), "once");
    }

    #[test]
    fn merges_are_at_least_the_gap_apart_however_much_is_written() {
        let t0 = Instant::now();
        let mut upkeep = SearchUpkeep::default();
        upkeep.written(t0, 50_000);
        assert!(upkeep.poll_merge(t0 + QUIET));
        upkeep.written(t0 + QUIET, 50_000);
        assert!(!upkeep.poll_merge(t0 + MIN_GAP));
        assert!(upkeep.poll_merge(t0 + QUIET + MIN_GAP));
    }

    #[test]
    fn writing_nothing_neither_counts_nor_delays_a_merge() {
        let t0 = Instant::now();
        let mut upkeep = SearchUpkeep::default();
        upkeep.written(t0, MIN_MESSAGES as usize);
        upkeep.written(t0 + QUIET, 0);
        assert!(upkeep.poll_merge(t0 + QUIET));
    }
}
