//! When to fetch the next page of a first sync's history, and when to tell the window how far
//! it has come: a sans-IO planner fed with explicit `now`.
//!
//! A first sign-in stores the newest screen first (a snapshot at the server's head) and then
//! pages the change log below that head, oldest first, in the background. Live sync pages have
//! priority: a history page starts only while no sync page is wanted or in flight, one at a
//! time. Failures that may pass back off (1 s doubling to 30 s); others give the load up (what
//! is missing can still be paged from the server by scrolling). Progress reaches the window at
//! most every [`PROGRESS_EVERY`], except the first report and the end, which go at once.

use std::time::{Duration, Instant};

use confab_model::ipc::HistoryProgress;

/// The least time between two progress reports to the window.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Decides when the driver fetches the next history page and reports progress.
#[derive(Debug, Default)]
pub struct HistoryPlanner {
    /// History remains to be loaded.
    pending: bool,
    in_flight: bool,
    retry_at: Option<Instant>,
    failures: u32,
    /// The newest progress not yet reported (`Some(None)`: the end).
    unreported: Option<Option<HistoryProgress>>,
    /// When progress was last reported.
    reported_at: Option<Instant>,
}

impl HistoryPlanner {
    /// A planner with no history to load.
    pub fn new() -> Self {
        Self::default()
    }

    /// History is pending at `progress` (a first sign-in began it, or a restart found it
    /// unfinished in the cache): pages start and the window hears where it stands.
    pub fn begin(&mut self, progress: HistoryProgress) {
        self.pending = true;
        self.retry_at = None;
        self.failures = 0;
        self.progress(Some(progress));
    }

    /// Whether the driver should fetch a history page now (consumes the decision). `live_busy`:
    /// a live sync page is wanted or in flight, and goes first.
    pub fn poll_start(&mut self, live_busy: bool) -> bool {
        if self.is_ready() && !live_busy {
            self.in_flight = true;
            true
        } else {
            false
        }
    }

    fn is_ready(&self) -> bool {
        self.pending && !self.in_flight && self.retry_at.is_none()
    }

    /// A page was applied; `progress` is where the load stands now (`None`: complete).
    pub fn page_done(&mut self, _now: Instant, progress: Option<HistoryProgress>) {
        self.in_flight = false;
        self.failures = 0;
        self.pending = progress.is_some();
        self.progress(progress);
    }

    /// A page failed. Transient failures retry with backoff; others end the load (reported as
    /// the end: the bar goes).
    pub fn page_failed(&mut self, now: Instant, transient: bool) {
        self.in_flight = false;
        if transient {
            self.retry_at = Some(now + crate::sync_plan::backoff(self.failures));
            self.failures = self.failures.saturating_add(1);
        } else {
            self.pending = false;
            self.progress(None);
        }
    }

    /// Records where the load stands, for the next report.
    fn progress(&mut self, progress: Option<HistoryProgress>) {
        self.unreported = Some(progress);
    }

    /// What to tell the window now, if anything: the first report and the end at once, others
    /// at most every [`PROGRESS_EVERY`] (the newest wins). `Some(None)`: history is complete.
    pub fn poll_progress(&mut self, now: Instant) -> Option<Option<HistoryProgress>> {
        let due = match (self.unreported, self.reported_at) {
            (None, _) => false,
            (Some(None), _) | (Some(Some(_)), None) => true,
            (Some(Some(_)), Some(at)) => now >= at + PROGRESS_EVERY,
        };
        if !due {
            return None;
        }
        self.reported_at = Some(now);
        let report = self.unreported.take();
        if report == Some(None) {
            // The next load (a later first sign-in) reports its first progress at once again.
            self.reported_at = None;
        }
        report
    }

    /// The next instant the planner has work: a page to start (now, when ready), a retry, or a
    /// held-back progress report.
    pub fn poll_timeout(&self, now: Instant) -> Option<Instant> {
        let start = self.is_ready().then_some(now);
        let report = match (self.unreported, self.reported_at) {
            (Some(_), Some(at)) => Some(at + PROGRESS_EVERY),
            (Some(_), None) => Some(now),
            (None, _) => None,
        };
        [start, self.retry_at, report].into_iter().flatten().min()
    }

    /// Time passed: a retry whose time has come makes the next page ready.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(done: u64) -> HistoryProgress {
        HistoryProgress { done, total: 1000 }
    }

    #[test]
    fn pages_follow_one_another_one_at_a_time_until_the_history_is_complete() {
        let now = Instant::now();
        let mut p = HistoryPlanner::new();
        assert!(!p.poll_start(false), "nothing to load");
        p.begin(at(0));
        assert!(p.poll_start(false));
        assert!(!p.poll_start(false), "one page in flight at a time");
        p.page_done(now, Some(at(500)));
        assert_eq!(
            p.poll_timeout(now),
            Some(now),
            "the next page is due at once"
        );
        assert!(p.poll_start(false));
        p.page_done(now, None);
        assert!(!p.poll_start(false));
    }

    #[test]
    fn live_sync_pages_go_before_history_pages() {
        let mut p = HistoryPlanner::new();
        p.begin(at(0));
        assert!(!p.poll_start(true), "a live page is wanted or in flight");
        assert!(p.poll_start(false));
    }

    #[test]
    fn a_transient_failure_backs_off_and_retries_by_itself_with_growing_delays() {
        let t0 = Instant::now();
        let mut p = HistoryPlanner::new();
        p.begin(at(0));
        let _ = p.poll_progress(t0);
        assert!(p.poll_start(false));
        p.page_failed(t0, true);
        assert!(!p.poll_start(false));
        assert_eq!(p.poll_timeout(t0), Some(t0 + Duration::from_secs(1)));
        p.handle_timeout(t0 + Duration::from_millis(999));
        assert!(!p.poll_start(false), "not before its time");
        let t1 = t0 + Duration::from_secs(1);
        p.handle_timeout(t1);
        assert!(p.poll_start(false));
        p.page_failed(t1, true);
        assert_eq!(p.poll_timeout(t1), Some(t1 + Duration::from_secs(2)));
        let t2 = t1 + Duration::from_secs(2);
        p.handle_timeout(t2);
        assert!(p.poll_start(false));
        p.page_done(t2, Some(at(500)));
        assert_eq!(p.poll_progress(t2), Some(Some(at(500))));
        assert!(p.poll_start(false), "a success resets the backoff");
        p.page_failed(t2, true);
        assert_eq!(p.poll_timeout(t2), Some(t2 + Duration::from_secs(1)));
    }

    #[test]
    fn a_permanent_failure_ends_the_load_and_reports_the_end() {
        let now = Instant::now();
        let mut p = HistoryPlanner::new();
        p.begin(at(0));
        assert_eq!(p.poll_progress(now), Some(Some(at(0))));
        assert!(p.poll_start(false));
        p.page_failed(now, false);
        assert!(!p.poll_start(false));
        assert_eq!(p.poll_progress(now), Some(None), "the bar goes at once");
        assert_eq!(p.poll_timeout(now), None);
    }

    #[test]
    fn progress_is_reported_at_most_every_interval_but_the_first_and_the_end_at_once() {
        let t0 = Instant::now();
        let mut p = HistoryPlanner::new();
        p.begin(at(0));
        assert_eq!(p.poll_progress(t0), Some(Some(at(0))), "the first at once");
        assert_eq!(p.poll_progress(t0), None, "nothing new");
        // Ten fast pages within the interval: one report, of the newest, when it ends.
        let mut now = t0;
        for i in 1..=10 {
            now = t0 + Duration::from_millis(10 * i);
            assert!(p.poll_start(false));
            p.page_done(now, Some(at(50 * i)));
            assert_eq!(p.poll_progress(now), None, "held back");
        }
        assert_eq!(p.poll_timeout(now), Some(now), "the next page is due now");
        assert!(p.poll_start(false));
        assert_eq!(p.poll_timeout(now), Some(t0 + PROGRESS_EVERY));
        p.handle_timeout(t0 + PROGRESS_EVERY);
        assert_eq!(
            p.poll_progress(t0 + PROGRESS_EVERY),
            Some(Some(at(500))),
            "the newest"
        );
        // The end goes at once, however soon after the last report.
        let end = t0 + PROGRESS_EVERY + Duration::from_millis(1);
        p.page_done(end, None);
        assert_eq!(p.poll_progress(end), Some(None));
        assert_eq!(p.poll_progress(end), None);
        assert_eq!(p.poll_timeout(end), None);
    }
}
