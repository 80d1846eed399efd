//! Reconnecting: what a close code means, jittered exponential backoff, and the two ways the
//! application cuts a wait short.
//!
//! - [`Connection::check_now`]: the machine woke or the network changed. The old backoff says
//!   nothing about the new network, so it starts again from `backoff_min`.
//! - [`Connection::retry_now`]: the application has evidence the server is reachable again (a
//!   request to the same backend just succeeded). The wait is skipped but the backoff is kept:
//!   if the attempt fails again, the next wait is longer than the one before, not reset to a
//!   second.
//!
//! Both only ever start an attempt while waiting for one (never a second attempt in flight),
//! never undo a refusal (4000-4099) or [`Connection::disconnect`], never cut a 4004 (over
//! quota) wait short, and start attempts at most once per `min_retry_interval`: a storm of
//! calls becomes at most one attempt a second.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Connection, Event, ProtocolError, Socket, State};
use crate::frame;

/// What to do after a close or a refusing `pusher:error`, by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseAction {
    /// 4000-4099 (but 4004): the server will not accept us; stop.
    Refuse,
    /// 4004 over quota: retry much later.
    OverQuota,
    /// 4100-4199 and unknown closes: back off.
    Backoff,
    /// 4200-4299: reconnect at once.
    Immediate,
}

fn close_action(code: Option<u16>) -> CloseAction {
    match code {
        Some(4004) => CloseAction::OverQuota,
        Some(4000..=4099) => CloseAction::Refuse,
        Some(4200..=4299) => CloseAction::Immediate,
        _ => CloseAction::Backoff,
    }
}

impl Connection {
    /// Force a liveness check now (on wake from sleep or a network change): when connected, a
    /// ping that must be answered within `check_timeout`; when waiting to retry, an attempt now
    /// with the backoff started afresh. Within `min_retry_interval` of the last attempt's start
    /// the attempt only moves to the end of that interval (and the backoff is kept). Otherwise
    /// nothing, as for [`Connection::retry_now`].
    pub fn check_now(&mut self, now: Instant) {
        if self.state == State::Connected {
            self.ping_now(now);
        } else if self.waiting_to_retry() {
            // The network changed: the old backoff says nothing about the new one.
            if self.retry_soon(now) {
                self.attempts = 0;
            }
        }
    }

    /// The server is reachable again, as far as the application can tell (a request to the
    /// same backend just succeeded after failures): stop waiting out the backoff.
    ///
    /// - Waiting to retry (`Connecting` or `Unavailable` between attempts): attempt now, or,
    ///   when the last attempt started less than `min_retry_interval` ago, when that interval
    ///   ends. The backoff is kept: an attempt that fails again waits longer than the last one.
    /// - `Connected`: as [`Connection::check_now`], a ping answered within `check_timeout`.
    /// - An attempt in flight, `Initialized`, `Disconnected` (stopped by the application or
    ///   refused by the server with 4000-4099), or a wait imposed by a 4004 (over quota):
    ///   nothing.
    pub fn retry_now(&mut self, now: Instant) {
        if self.state == State::Connected {
            self.ping_now(now);
        } else if self.waiting_to_retry() {
            let _ = self.retry_soon(now);
        }
    }

    /// A ping that must be answered within `check_timeout` (sooner than the idle ping's).
    fn ping_now(&mut self, now: Instant) {
        self.send(frame::encode("pusher:ping", None, &json!({})));
        let deadline = now + self.config.check_timeout;
        self.pong_deadline = Some(self.pong_deadline.map_or(deadline, |d| d.min(deadline)));
        self.ping_at = None;
    }

    /// Between two attempts, with a wait the application may cut short.
    fn waiting_to_retry(&self) -> bool {
        matches!(self.state, State::Connecting | State::Unavailable)
            && self.socket == Socket::None
            && !self.quota_wait
    }

    /// Starts an attempt now (true), unless the last one started less than `min_retry_interval`
    /// ago: then the retry moves to the end of that interval (never later than it was).
    fn retry_soon(&mut self, now: Instant) -> bool {
        let earliest = self
            .last_attempt_at
            .map_or(now, |t| t + self.config.min_retry_interval);
        if earliest <= now {
            self.retry_at = None;
            self.open_socket(now);
            true
        } else {
            let at = self.retry_at.map_or(earliest, |t| t.min(earliest));
            self.retry_at = Some(at);
            let state = self.state;
            self.set_state(state, Some(at - now));
            false
        }
    }

    /// Full jitter: uniform in [0, min(max, min_delay * 2^attempts)].
    pub(super) fn next_backoff(&mut self) -> Duration {
        let ceiling = self
            .config
            .backoff_min
            .saturating_mul(1u32 << self.attempts.min(16))
            .min(self.config.backoff_max);
        self.attempts = self.attempts.saturating_add(1);
        ceiling.mul_f64(self.next_unit())
    }

    /// xorshift64*: deterministic for a seed, good enough for jitter.
    fn next_unit(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The socket is gone (closed, refused, timed out): stop, reconnect at once, or schedule
    /// the next attempt, by close code.
    pub(super) fn after_socket_lost(&mut self, now: Instant, code: Option<u16>, reason: &str) {
        if self.state == State::Disconnected {
            return;
        }
        let delay = match close_action(code) {
            CloseAction::Refuse => {
                self.clear_timers();
                self.set_state(State::Disconnected, None);
                self.events.push_back(Event::Error(ProtocolError::Refused {
                    code: code.unwrap_or_default(),
                    message: reason.to_owned(),
                }));
                return;
            }
            CloseAction::Immediate => Duration::ZERO,
            CloseAction::OverQuota => {
                self.quota_wait = true;
                self.config.over_quota_backoff + self.config.backoff_max.mul_f64(self.next_unit())
            }
            CloseAction::Backoff => self.next_backoff(),
        };
        if self.state == State::Connected {
            // Say so at once: the socket is gone, we are connecting again.
            self.unavailable_at = Some(now + self.config.unavailable_after);
        }
        let state = if self.state == State::Unavailable {
            State::Unavailable
        } else {
            State::Connecting
        };
        if delay.is_zero() {
            self.set_state(state, None);
            self.open_socket(now);
        } else {
            self.retry_at = Some(now + delay);
            self.set_state(state, Some(delay));
        }
    }
}
