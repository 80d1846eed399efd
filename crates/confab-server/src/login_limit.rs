//! The failed-login limiter: counts failed logins per email and per client IP in a fixed window,
//! so password guessing is refused with 429 before it gets far.
//!
//! What it does: keeps counters in memory, behind one mutex, for one server process.
//! What it never does: look at passwords, tokens or the database, or persist anything (a restart
//! forgets every counter); it depends on nothing else in this crate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per email within [`LIMIT_WINDOW`].
const FAILURES_PER_EMAIL: u32 = 5;
/// Failed logins allowed per client IP within [`LIMIT_WINDOW`].
const FAILURES_PER_IP: u32 = 30;
/// The window failed logins are counted in.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed logins per email and per IP in a fixed window.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn keys(email: &str, ip: Option<IpAddr>) -> Vec<(String, u32)> {
        let mut keys = vec![(
            format!("email:{}", email.trim().to_lowercase()),
            FAILURES_PER_EMAIL,
        )];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), FAILURES_PER_IP));
        }
        keys
    }

    /// Whether another attempt for this email from this IP is refused right now.
    pub fn is_limited(&self, email: &str, ip: Option<IpAddr>) -> bool {
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        Self::keys(email, ip).iter().any(|(key, limit)| {
            map.get(key)
                .is_some_and(|(count, since)| since.elapsed() < LIMIT_WINDOW && count >= limit)
        })
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < LIMIT_WINDOW);
        }
        for (key, _) in Self::keys(email, ip) {
            let entry = map.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= LIMIT_WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    /// Forgets the failures for this email after a successful login.
    pub fn record_success(&self, email: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("email:{}", email.trim().to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_after_five_failures_for_one_email_only() {
        let limiter = LoginLimiter::default();
        for _ in 0..FAILURES_PER_EMAIL {
            assert!(!limiter.is_limited("a@x", None));
            limiter.record_failure("A@x ", None);
        }
        assert!(limiter.is_limited("a@x", None));
        assert!(!limiter.is_limited("b@x", Some(IpAddr::from([10, 0, 0, 1]))));
    }
}
