//! A first sync's history, loaded in the background after the newest screen: the change log
//! below the snapshot's head (`GET /api/sync?until=head`), page by page, oldest first, into the
//! cache (`confab-store` `apply_history_page`: messages the cache lacks, nothing else, never
//! news). Where it stands is kept in the cache, so a restart resumes it; signing out deletes
//! the cache and aborts the engine that runs this, which ends it.
//!
//! [`HistoryPlanner`] decides when (live sync pages first, backoff after failures) and how
//! often the window hears the progress; this module does the I/O. It runs inside the engine's
//! task, so a history page and a sync page or realtime event are never applied at once.

use std::sync::Arc;
use std::time::Instant;

use confab_model::ipc::HistoryProgress;
use confab_model::{Change, SYNC_PAGE_MAX};
use confab_store::HistoryState;

use crate::db::Db;
use crate::feed::{Changes, Feed};
use crate::history_plan::HistoryPlanner;
use crate::rest::{Api, ApiError};
use crate::shared::Shared;

fn progress(state: HistoryState) -> HistoryProgress {
    HistoryProgress {
        done: state.done.min(state.total),
        total: state.total,
    }
}

/// The background history load of one session.
pub(crate) struct Backfill {
    api: Api,
    db: Db,
    feed: Feed,
    shared: Arc<Shared>,
    plan: HistoryPlanner,
}

impl Backfill {
    pub fn new(api: Api, db: Db, feed: Feed, shared: Arc<Shared>) -> Self {
        Backfill {
            api,
            db,
            feed,
            shared,
            plan: HistoryPlanner::new(),
        }
    }

    /// Picks up a load the cache holds unfinished (an earlier run stopped in the middle).
    pub async fn resume(&mut self, now: Instant) {
        match self.db.run(|s| s.history()).await {
            Ok(Some(state)) => {
                tracing::info!(
                    cursor = state.cursor,
                    end = state.end,
                    "resuming the history load"
                );
                self.plan.begin(progress(state));
            }
            Ok(None) => self.shared.set_history(None),
            Err(e) => tracing::error!(error = %e, "cannot read the history load's state"),
        }
        self.report(now);
    }

    /// A first sign-in stored its snapshot and began the load at `state` (`None`: nothing
    /// below the head).
    pub fn begun(&mut self, now: Instant, state: Option<HistoryState>) {
        match state {
            Some(state) => self.plan.begin(progress(state)),
            None => self.shared.set_history(None),
        }
        self.report(now);
    }

    /// The next instant there is work (see [`HistoryPlanner::poll_timeout`]).
    pub fn poll_timeout(&self, now: Instant) -> Option<Instant> {
        self.plan.poll_timeout(now)
    }

    /// Time passed: retries come due, held-back progress goes out.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.plan.handle_timeout(now);
        self.report(now);
    }

    /// Fetches and applies the next page if one is due and no live page (`live_busy`) goes
    /// first. Answers how many messages the page brought (for the search index's upkeep).
    pub async fn run_due(&mut self, live_busy: bool) -> usize {
        if self.plan.poll_start(live_busy) {
            let brought = self.page().await;
            self.report(Instant::now());
            brought
        } else {
            0
        }
    }

    fn report(&mut self, now: Instant) {
        if let Some(progress) = self.plan.poll_progress(now) {
            self.shared.set_history(progress);
        }
    }

    async fn page(&mut self) -> usize {
        self.try_page().await.unwrap_or(0)
    }

    /// One page; `None` when none was stored.
    async fn try_page(&mut self) -> Option<usize> {
        let state = match self.db.run(|s| s.history()).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.plan.page_done(Instant::now(), None);
                return None;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the history load's state");
                self.plan.page_failed(Instant::now(), true);
                return None;
            }
        };
        let fetched = self
            .api
            .sync_history(state.cursor, state.end, SYNC_PAGE_MAX)
            .await;
        let now = Instant::now();
        let page = match fetched {
            Ok(p) => p,
            Err(ApiError::Unauthorized) => {
                self.plan.page_failed(now, false);
                self.shared.end_session();
                return None;
            }
            Err(e) if e.is_transient() => {
                tracing::info!(error = %e, "a history page failed; retrying later");
                self.plan.page_failed(now, true);
                return None;
            }
            Err(e) => {
                // The server cannot serve history up to the head this load began at (restored
                // from an older backup): what is missing is paged by scrolling instead.
                tracing::warn!(error = %e, "history cannot be loaded; giving it up");
                let _ = self.db.run(|s| s.write(|tx| tx.begin_history(0, 0))).await;
                self.plan.page_failed(now, false);
                return None;
            }
        };
        let problem = crate::sync_plan::page_problem(state.cursor, &page)
            .or((page.next_since > state.end).then_some("a next cursor beyond the history's end"));
        if let Some(problem) = problem {
            tracing::warn!(cursor = state.cursor, problem, "refused a history page");
            self.plan.page_failed(now, true);
            return None;
        }
        let next = page.next_since;
        let messages = page
            .changes
            .iter()
            .filter(|c| matches!(c, Change::Message(_)))
            .count();
        let applied = self
            .db
            .run(move |s| s.apply_history_page(&page.changes, next))
            .await;
        let now = Instant::now();
        match applied {
            Ok(applied) => {
                // Older rows are not news and the window may not even show them: it hears that
                // these conversations changed (their counts may have), never 500 rows each.
                let announce = Changes {
                    conversations: applied.conversations,
                    ..Changes::default()
                };
                if !announce.is_empty() {
                    self.feed.send(announce);
                }
                self.plan.page_done(now, applied.state.map(progress));
                Some(messages)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot apply a history page");
                self.plan.page_failed(now, true);
                None
            }
        }
    }
}
