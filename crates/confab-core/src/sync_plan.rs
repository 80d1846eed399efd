//! When to catch up from the backend: a sans-IO planner. The rule: the backend's database is
//! the truth and Pusher is a fast poke, so every (re)connect, wake and poke leads to a
//! `GET /api/sync` from the cursor, page by page, one page in flight at a time.

use std::time::{Duration, Instant};

/// How long a burst of self-contained realtime events may go unconfirmed by a sync.
const SOON: Duration = Duration::from_millis(1500);
/// Retry delays after failed pages: 1 s doubling to 30 s.
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// The wait before retrying after `failures` failed pages in a row (0: the first retry):
/// 1 s doubling to 30 s. The history load backs off the same way.
pub(crate) fn backoff(failures: u32) -> Duration {
    RETRY_MIN
        .saturating_mul(1u32 << failures.min(10))
        .min(RETRY_MAX)
}

/// Decides when the driver fetches the next sync page.
#[derive(Debug, Default)]
pub struct SyncPlanner {
    in_flight: bool,
    /// A catch-up was asked for while a page was in flight: run again after it.
    again: bool,
    soon_at: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    start: bool,
}

impl SyncPlanner {
    /// A planner with nothing to do.
    pub fn new() -> Self {
        Self::default()
    }

    /// Catch up now: after a (re)connect or resubscription, a wake, or an event that only
    /// pokes (e.g. a knowledge request whose full row lives on the backend).
    pub fn request_now(&mut self, _now: Instant) {
        self.soon_at = None;
        if self.in_flight {
            self.again = true;
        } else if self.retry_at.is_none() {
            self.start = true;
        }
    }

    /// Confirm soon: after a self-contained event was applied directly. Bursts coalesce.
    pub fn request_soon(&mut self, now: Instant) {
        if self.soon_at.is_none() && !self.start {
            self.soon_at = Some(now + SOON);
        }
    }

    /// Whether the driver should fetch a page now (consumes the decision).
    pub fn poll_start(&mut self) -> bool {
        if std::mem::take(&mut self.start) {
            self.in_flight = true;
            true
        } else {
            false
        }
    }

    /// A page was applied. `has_more`: fetch the next one at once.
    pub fn page_done(&mut self, _now: Instant, has_more: bool) {
        self.in_flight = false;
        self.failures = 0;
        if has_more || std::mem::take(&mut self.again) {
            self.start = true;
        }
    }

    /// A page failed. Transient failures retry with backoff; others wait for the next poke.
    pub fn page_failed(&mut self, now: Instant, transient: bool) {
        self.in_flight = false;
        if transient {
            self.retry_at = Some(now + backoff(self.failures));
            self.failures = self.failures.saturating_add(1);
        }
        self.again = false;
    }

    /// Whether a page is being fetched.
    pub fn is_busy(&self) -> bool {
        self.in_flight || self.start
    }

    /// The next instant [`SyncPlanner::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.soon_at, self.retry_at].into_iter().flatten().min()
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.request_now(now);
        }
        if self.soon_at.is_some_and(|t| t <= now) {
            self.soon_at = None;
            self.request_now(now);
        }
    }
}

/// What is wrong with a sync page asked for after `cursor`, if anything: a client that trusted a
/// page claiming more without moving on would ask again at once, forever. Changes must be above
/// the cursor and ascending, the next cursor must not go back, and a page that says more
/// follows must move the cursor. A bad page is treated as a server failure (retried with
/// backoff), never applied.
pub fn page_problem(cursor: i64, page: &confab_model::SyncPage) -> Option<&'static str> {
    let seqs: Vec<i64> = page.changes.iter().map(confab_model::Change::seq).collect();
    if seqs.first().is_some_and(|&first| first <= cursor) {
        return Some("a change at or below the cursor");
    }
    if seqs.windows(2).any(|w| w[0] >= w[1]) {
        return Some("changes out of order");
    }
    if page.next_since < seqs.last().copied().unwrap_or(cursor) {
        return Some("a next cursor behind the page's changes");
    }
    if page.has_more && page.next_since <= cursor {
        return Some("more announced without progress");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_starts_one_page_and_pages_continue_while_there_are_more() {
        let now = Instant::now();
        let mut p = SyncPlanner::new();
        p.request_now(now);
        assert!(p.poll_start());
        assert!(!p.poll_start(), "one page in flight at a time");
        p.page_done(now, true);
        assert!(p.poll_start());
        p.page_done(now, false);
        assert!(!p.poll_start());
        assert!(!p.is_busy());
    }

    #[test]
    fn requests_during_a_page_run_once_more_after_it() {
        let now = Instant::now();
        let mut p = SyncPlanner::new();
        p.request_now(now);
        assert!(p.poll_start());
        p.request_now(now);
        p.request_now(now);
        assert!(!p.poll_start());
        p.page_done(now, false);
        assert!(p.poll_start());
        p.page_done(now, false);
        assert!(!p.poll_start());
    }

    #[test]
    fn a_burst_of_events_is_confirmed_by_one_sync_shortly_after() {
        let now = Instant::now();
        let mut p = SyncPlanner::new();
        for i in 0..100 {
            p.request_soon(now + Duration::from_millis(i));
        }
        assert!(!p.poll_start());
        let t = p.poll_timeout().unwrap();
        assert_eq!(t, now + SOON);
        p.handle_timeout(t);
        assert!(p.poll_start());
        assert!(!p.poll_start());
    }

    #[test]
    fn transient_failures_back_off_and_retry_by_themselves() {
        let now = Instant::now();
        let mut p = SyncPlanner::new();
        p.request_now(now);
        assert!(p.poll_start());
        p.page_failed(now, true);
        assert_eq!(p.poll_timeout(), Some(now + Duration::from_secs(1)));
        p.request_now(now); // a poke during backoff waits for the retry
        assert!(!p.poll_start());
        p.handle_timeout(now + Duration::from_secs(1));
        assert!(p.poll_start());
        p.page_failed(now, true);
        assert_eq!(p.poll_timeout(), Some(now + Duration::from_secs(2)));
    }

    #[test]
    fn a_permanent_failure_waits_for_the_next_request() {
        let now = Instant::now();
        let mut p = SyncPlanner::new();
        p.request_now(now);
        assert!(p.poll_start());
        p.page_failed(now, false);
        assert_eq!(p.poll_timeout(), None);
        p.request_now(now);
        assert!(p.poll_start());
    }

    fn page(seqs: &[i64], next_since: i64, has_more: bool) -> confab_model::SyncPage {
        use confab_model::{Change, ReadChange};
        confab_model::SyncPage {
            changes: seqs
                .iter()
                .map(|&seq| {
                    Change::ReadReceipt(ReadChange {
                        seq,
                        receipt: confab_model::events::ReadReceipt {
                            conversation_id: 1,
                            user_id: 2,
                            seq: 1,
                        },
                    })
                })
                .collect(),
            next_since,
            has_more,
        }
    }

    #[test]
    fn a_page_that_claims_more_without_progress_or_goes_back_is_refused() {
        assert_eq!(page_problem(10, &page(&[11, 12], 12, true)), None);
        assert_eq!(page_problem(10, &page(&[], 10, false)), None, "nothing new");
        assert!(
            page_problem(10, &page(&[], 10, true)).is_some(),
            "more, no progress"
        );
        assert!(page_problem(10, &page(&[], 9, true)).is_some());
        assert!(
            page_problem(10, &page(&[9, 11], 11, false)).is_some(),
            "below the cursor"
        );
        assert!(
            page_problem(10, &page(&[12, 11], 12, false)).is_some(),
            "out of order"
        );
        assert!(
            page_problem(10, &page(&[11, 12], 11, false)).is_some(),
            "cursor behind"
        );
    }
}
