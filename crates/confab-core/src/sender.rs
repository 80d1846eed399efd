//! The outbox sender: delivers queued messages in order per conversation, survives restarts
//! (the queue is in the cache), retries on network trouble and server failures with backoff,
//! parks refusals as failed, and stops (keeping everything) when the session ends. When the
//! network is back (the engine says so: a realtime connect, or the backend answering again),
//! messages waiting out a backoff are sent at once; one that fails again backs off further.
//!
//! It also sends the account's unsent read marks (recorded by the cache with every move of a
//! mark, so they survive failures and restarts): at its first round (marks left by the last
//! run), whenever a new mark is recorded, and when the network is back; one after another,
//! stopping at the first failure that may pass, which backs them all off (in memory: a restart
//! tries at once anyway). Running them here rather than in a task of their own keeps one task
//! that the core aborts, so nothing posts or writes the cache after the session stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::db::Db;
use crate::feed::{Changes, Feed};
use crate::outbox::{verdict, Verdict};
use crate::rest::Api;
use crate::shared::Shared;
use crate::views::{chat_message, now_ms};

/// How long the sender sleeps when nothing is due and nobody kicks it: a safety net only.
const IDLE: Duration = Duration::from_secs(300);

/// Runs until the session ends (or the core aborts it).
pub(crate) async fn run(api: Api, db: Db, feed: Feed, shared: Arc<Shared>, kick: Arc<Notify>) {
    let mut marks = MarksBackoff::default();
    loop {
        if shared.is_ended() {
            return;
        }
        // When the network is back, every queued message is due, whatever its backoff said.
        let network_back = shared.take_outbox_now();
        // Taken at every round, so a request made while the marks are tried anyway is not left
        // over for a later round.
        let new_mark = shared.take_read_marks_now();
        let now = now_ms();
        let horizon = if network_back { i64::MAX } else { now };
        let due = match db
            .run(move |s| s.outbox_due_respecting_holds(horizon, now))
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                Vec::new()
            }
        };
        for item in due {
            let socket = shared.socket_id();
            let result = api
                .send_message(
                    item.conversation_id,
                    &item.content,
                    &item.client_id,
                    socket.as_deref(),
                )
                .await;
            match verdict(&result, item.attempts, rand::random::<f64>()) {
                Verdict::Delivered => {
                    if let Ok(m) = result {
                        let msg = m.clone();
                        if db.run(move |s| s.apply_message(&msg)).await.is_ok() {
                            feed.send(
                                Changes::rows(m.conversation_id, vec![chat_message(&m)])
                                    .and_conversation(m.conversation_id),
                            );
                        }
                    }
                }
                Verdict::RetryAfter(delay) => {
                    let reason = result.err().map(|e| e.to_string()).unwrap_or_default();
                    let at = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(60_000);
                    let id = item.client_id.clone();
                    let _ = db.run(move |s| s.outbox_reschedule(&id, &reason, at)).await;
                }
                Verdict::Held { wait, reason } => {
                    tracing::info!(?wait, "the server asked to wait before the next message");
                    let until = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    let id = item.client_id.clone();
                    if let Ok(m) = db.run(move |s| s.outbox_hold(&id, &reason, until)).await {
                        feed.send(Changes::rows(m.conversation_id, vec![m]));
                    }
                }
                Verdict::Failed(reason) => {
                    let id = item.client_id.clone();
                    if let Ok(m) = db.run(move |s| s.outbox_fail(&id, &reason)).await {
                        feed.send(Changes::rows(m.conversation_id, vec![m]));
                    }
                }
                Verdict::SessionEnded => {
                    shared.end_session();
                    return;
                }
            }
        }
        if network_back || new_mark || marks.due(Instant::now()) {
            match send_read_marks(&api, &db, marks.attempts).await {
                MarksSent::All => marks = MarksBackoff::default(),
                MarksSent::RetryAfter(delay) => marks.failed(Instant::now(), delay),
                MarksSent::SessionEnded => {
                    shared.end_session();
                    return;
                }
            }
        }
        let next = db.run(|s| s.outbox_next_due_at()).await.ok().flatten();
        let mut wait = next.map_or(IDLE, |at| {
            Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
        });
        if let Some(marks_wait) = marks.wait(Instant::now()) {
            wait = wait.min(marks_wait);
        }
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = kick.notified() => {}
        }
    }
}

/// When the unsent read marks are tried: at every round, except after a failure that may pass,
/// which sets a backoff (cut short by news of the network or a new mark, see [`run`]).
#[derive(Debug, Default)]
struct MarksBackoff {
    /// Failed attempts in a row (grows the next delay).
    attempts: u32,
    /// Not before this instant; `None` when not backing off.
    not_before: Option<Instant>,
}

impl MarksBackoff {
    fn due(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|at| at <= now)
    }

    fn failed(&mut self, now: Instant, delay: Duration) {
        self.attempts = self.attempts.saturating_add(1);
        self.not_before = Some(now + delay);
    }

    /// How long until the marks are due again, when backing off.
    fn wait(&self, now: Instant) -> Option<Duration> {
        self.not_before.map(|at| at.saturating_duration_since(now))
    }
}

/// How a round of sending read marks ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarksSent {
    /// None is left of those listed at the start (each confirmed, or refused for good).
    All,
    /// A failure that may pass (network, 5xx): the rest wait this long.
    RetryAfter(Duration),
    /// The token is no longer valid: the marks are kept for the next sign-in.
    SessionEnded,
}

/// Posts every unsent read mark, one after another, and settles each the server took.
/// `attempts` counts the rounds that failed before, for the backoff.
async fn send_read_marks(api: &Api, db: &Db, attempts: u32) -> MarksSent {
    let unsent = match db.run(|s| s.unsent_read_marks()).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the unsent read marks");
            return MarksSent::All;
        }
    };
    for mark in unsent {
        let result = api.mark_read(mark.conversation_id, mark.seq).await;
        match verdict(&result, attempts, rand::random::<f64>()) {
            Verdict::Delivered => {}
            Verdict::Failed(reason) => {
                // Refused for good (the conversation is gone, or I left it): sending it again
                // would be refused again, and nobody can see that mark anyway.
                tracing::warn!(
                    conversation = mark.conversation_id,
                    %reason,
                    "read mark refused; dropped"
                );
            }
            Verdict::RetryAfter(delay) => {
                if let Err(e) = &result {
                    tracing::info!(error = %e, ?delay, "read marks not sent; retrying later");
                }
                return MarksSent::RetryAfter(delay);
            }
            // A limit on read marks is not one the server has, but if a proxy says so, its
            // wait is the backoff.
            Verdict::Held { wait, .. } => return MarksSent::RetryAfter(wait),
            Verdict::SessionEnded => return MarksSent::SessionEnded,
        }
        // Settles this mark only: a newer one written meanwhile stays for the next round.
        let (conversation_id, seq) = (mark.conversation_id, mark.seq);
        if let Err(e) = db
            .run(move |s| s.confirm_read_mark(conversation_id, seq))
            .await
        {
            tracing::error!(error = %e, "cannot settle a sent read mark");
        }
    }
    MarksSent::All
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_marks_are_due_until_a_failure_then_after_its_delay() {
        let now = Instant::now();
        let mut b = MarksBackoff::default();
        assert!(b.due(now));
        assert_eq!(b.wait(now), None, "nothing to wait for while all is well");
        b.failed(now, Duration::from_secs(2));
        assert_eq!(b.attempts, 1);
        assert!(!b.due(now + Duration::from_secs(1)));
        assert_eq!(
            b.wait(now + Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
        assert!(b.due(now + Duration::from_secs(2)));
        assert_eq!(b.wait(now + Duration::from_secs(3)), Some(Duration::ZERO));
    }
}
