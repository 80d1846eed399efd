//! Counters of what the writer has done, for the metrics; reading them never waits for it.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// What the writer thread has done, for the metrics: jobs waiting, group commits and their
/// sizes. Counters only; reading them never waits for the writer.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Jobs sent to the writer and not yet run.
    pub(super) waiting: AtomicI64,
    /// Group commits attempted.
    commits: AtomicU64,
    /// Group commits that failed (rolled back).
    failed_commits: AtomicU64,
    /// Commits by number of jobs: at most 1, 2, 4, 8, 16, 32, 64, 128 ([`COMMIT_SIZE_BOUNDS`]).
    sizes: [AtomicU64; COMMIT_SIZE_BOUNDS.len()],
    /// Jobs committed in all.
    jobs: AtomicU64,
}

/// The upper bounds of the commit-size histogram (jobs per group commit).
pub const COMMIT_SIZE_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

impl WriterStats {
    /// Jobs waiting for the writer now.
    pub fn waiting(&self) -> i64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Group commits so far, and how many of them failed.
    pub fn commits(&self) -> (u64, u64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.failed_commits.load(Ordering::Relaxed),
        )
    }

    /// Commit sizes as cumulative bucket counts over [`COMMIT_SIZE_BOUNDS`], and the total
    /// number of jobs committed.
    pub fn sizes(&self) -> ([u64; COMMIT_SIZE_BOUNDS.len()], u64) {
        let mut cumulative = [0; COMMIT_SIZE_BOUNDS.len()];
        let mut sum = 0;
        for (i, n) in self.sizes.iter().enumerate() {
            sum += n.load(Ordering::Relaxed);
            cumulative[i] = sum;
        }
        (cumulative, self.jobs.load(Ordering::Relaxed))
    }

    pub(super) fn committed(&self, jobs: usize, ok: bool) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed_commits.fetch_add(1, Ordering::Relaxed);
        }
        let n = jobs as u64;
        let bucket = COMMIT_SIZE_BOUNDS
            .iter()
            .position(|b| n <= *b)
            .unwrap_or(COMMIT_SIZE_BOUNDS.len() - 1);
        self.sizes[bucket].fetch_add(1, Ordering::Relaxed);
        self.jobs.fetch_add(n, Ordering::Relaxed);
    }
}
