//! The login throttle's rules: when a sign-in attempt may be looked at, as a pure function of
//! the stored records and `now`.
//!
//! What it does: per (normalised email, client address) a few free failures, then a delay that
//! doubles with each further failure (1 s, 2 s, 4 s … capped at 15 minutes) before the next
//! attempt is even looked at; per client address a budget of failures across all emails per
//! window. An attempt is counted when it is let through (before the password is hashed), so
//! concurrent guesses cannot all slip past; a success clears its (email, address) record and
//! refunds its place in the address's budget.
//!
//! What it never does: lock an email from everywhere, or let one address's failures delay
//! anyone else (every record is keyed by the address it came from); read a clock (callers pass
//! `now`); touch the database (that glue is [`store`]).

pub mod store;

use std::net::IpAddr;
use std::time::Duration;

/// Failures of one (email, address) that cost nothing.
pub const FREE_FAILURES: u32 = 3;
/// The first delay after the free failures; each further failure doubles it.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay between attempts of one (email, address).
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// After this long without an attempt an (email, address) record is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Failures one address may spend across all emails per [`ADDRESS_WINDOW`].
pub const ADDRESS_BUDGET: u32 = 50;
/// The window of the per-address budget.
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The throttle's numbers. [`Policy::default`] is what the server runs with (the constants
/// above); tests that must not depend on how fast the machine is stretch the delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures of one (email, address) that cost nothing.
    pub free_failures: u32,
    /// The first delay after the free failures; each further failure doubles it.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// After this long without an attempt an (email, address) record is forgotten.
    pub forget_after: Duration,
    /// Failures one address may spend across all emails per window.
    pub address_budget: u32,
    /// The window of the per-address budget.
    pub address_window: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            free_failures: FREE_FAILURES,
            first_delay: FIRST_DELAY,
            max_delay: MAX_DELAY,
            forget_after: FORGET_AFTER,
            address_budget: ADDRESS_BUDGET,
            address_window: ADDRESS_WINDOW,
        }
    }
}

/// What is stored per (email, address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairRecord {
    /// Attempts let through and not (yet) followed by a success.
    pub failures: u32,
    /// When the last one was let through, ms since the Unix epoch.
    pub last_at: i64,
}

/// What is stored per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRecord {
    /// Attempts let through in the current window, minus refunds for successes.
    pub failures: u32,
    /// When the current window began, ms since the Unix epoch.
    pub window_start: i64,
}

/// The verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Look at it; store these records (the attempt already counted as a failure).
    Allow {
        /// The (email, address) record to store.
        pair: PairRecord,
        /// The address record to store.
        address: AddressRecord,
    },
    /// Refuse it unseen; nothing changes. `retry_after` is at least one second.
    Throttle {
        /// When to come back.
        retry_after: Duration,
    },
}

/// The verdict on an attempt at `now` (ms) given the stored records (`None`: none stored).
pub fn decide(
    policy: &Policy,
    pair: Option<PairRecord>,
    address: Option<AddressRecord>,
    now: i64,
) -> Decision {
    let pair = pair
        .filter(|p| now.saturating_sub(p.last_at) < ms(policy.forget_after))
        .unwrap_or(PairRecord {
            failures: 0,
            last_at: now,
        });
    let address = address
        .filter(|a| now.saturating_sub(a.window_start) < ms(policy.address_window))
        .unwrap_or(AddressRecord {
            failures: 0,
            window_start: now,
        });
    let pair_free_at = pair
        .last_at
        .saturating_add(ms(policy.delay_after(pair.failures)));
    let address_free_at = if address.failures >= policy.address_budget {
        address
            .window_start
            .saturating_add(ms(policy.address_window))
    } else {
        now
    };
    let free_at = pair_free_at.max(address_free_at);
    if free_at > now {
        // Rounded up: coming back after `Retry-After` seconds must be early enough.
        let wait_ms = u64::try_from(free_at - now).unwrap_or(u64::MAX);
        return Decision::Throttle {
            retry_after: Duration::from_secs(wait_ms.div_ceil(1000).max(1)),
        };
    }
    Decision::Allow {
        pair: PairRecord {
            failures: pair.failures.saturating_add(1),
            last_at: now,
        },
        address: AddressRecord {
            failures: address.failures.saturating_add(1),
            window_start: address.window_start,
        },
    }
}

/// The address record after a success from it: the attempt's place in the budget given back.
pub fn refund(address: AddressRecord) -> AddressRecord {
    AddressRecord {
        failures: address.failures.saturating_sub(1),
        ..address
    }
}

impl Policy {
    /// How long after the last of `failures` counted attempts the next one waits.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// The email as throttled: trimmed, lowercased, at most 320 bytes (longer ones share a key with
/// their prefix, which only throttles their sender sooner).
pub fn email_key(email: &str) -> String {
    let mut key = email.trim().to_lowercase();
    if key.len() > 320 {
        let mut cut = 320;
        while !key.is_char_boundary(cut) {
            cut -= 1;
        }
        key.truncate(cut);
    }
    key
}

/// The address as throttled: an IPv4 address itself; an IPv6 address by its /64, the block one
/// subscriber gets (else one machine could pick a fresh address per attempt).
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", std::net::Ipv6Addr::from(net))
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    fn allow(
        pair: Option<PairRecord>,
        address: Option<AddressRecord>,
        now: i64,
    ) -> (PairRecord, AddressRecord) {
        match decide(&Policy::default(), pair, address, now) {
            Decision::Allow { pair, address } => (pair, address),
            Decision::Throttle { retry_after } => panic!("throttled for {retry_after:?} at {now}"),
        }
    }

    fn retry_after(pair: Option<PairRecord>, address: Option<AddressRecord>, now: i64) -> Duration {
        match decide(&Policy::default(), pair, address, now) {
            Decision::Throttle { retry_after } => retry_after,
            Decision::Allow { .. } => panic!("allowed at {now}"),
        }
    }

    #[test]
    fn the_free_failures_pass_at_once_and_each_counts_before_it_is_hashed() {
        let (mut pair, mut address) = (None, None);
        for n in 1..=FREE_FAILURES {
            let (p, a) = allow(pair, address, T0);
            assert_eq!((p.failures, a.failures), (n, n));
            (pair, address) = (Some(p), Some(a));
        }
        assert_eq!(retry_after(pair, address, T0), Duration::from_secs(1));
    }

    #[test]
    fn delays_double_after_the_free_failures_and_stop_at_fifteen_minutes() {
        let delays: Vec<u64> = (0..16)
            .map(|f| Policy::default().delay_after(f).as_secs())
            .collect();
        assert_eq!(
            delays,
            [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
        );
        assert_eq!(Policy::default().delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn a_throttled_attempt_changes_nothing_and_the_next_one_after_the_delay_passes() {
        let pair = PairRecord {
            failures: FREE_FAILURES + 2,
            last_at: T0,
        };
        assert_eq!(
            retry_after(Some(pair), None, T0 + 1),
            Duration::from_secs(4)
        );
        assert_eq!(
            retry_after(Some(pair), None, T0 + 3_001),
            Duration::from_secs(1),
            "rounded up, never 0"
        );
        let (p, _) = allow(Some(pair), None, T0 + 4_000);
        assert_eq!(
            p,
            PairRecord {
                failures: FREE_FAILURES + 3,
                last_at: T0 + 4_000
            }
        );
    }

    #[test]
    fn a_day_old_record_is_forgotten() {
        let pair = PairRecord {
            failures: 40,
            last_at: T0,
        };
        assert_eq!(
            retry_after(Some(pair), None, T0 + 60_000),
            MAX_DELAY - Duration::from_secs(60)
        );
        let (p, _) = allow(Some(pair), None, T0 + ms(FORGET_AFTER));
        assert_eq!(p.failures, 1);
    }

    #[test]
    fn an_address_that_spent_its_budget_waits_for_the_window_whatever_the_email() {
        let address = AddressRecord {
            failures: ADDRESS_BUDGET,
            window_start: T0,
        };
        assert_eq!(
            retry_after(None, Some(address), T0 + 60_000),
            ADDRESS_WINDOW - Duration::from_secs(60)
        );
        let (_, a) = allow(None, Some(address), T0 + ms(ADDRESS_WINDOW));
        assert_eq!(
            a,
            AddressRecord {
                failures: 1,
                window_start: T0 + ms(ADDRESS_WINDOW)
            }
        );
        let (_, a) = allow(None, Some(refund(address)), T0 + 1);
        assert_eq!(a.failures, ADDRESS_BUDGET, "a success gave its place back");
    }

    #[test]
    fn the_longer_of_the_two_waits_is_the_answer() {
        let pair = PairRecord {
            failures: FREE_FAILURES,
            last_at: T0,
        };
        let address = AddressRecord {
            failures: ADDRESS_BUDGET,
            window_start: T0 - 1_000,
        };
        assert_eq!(
            retry_after(Some(pair), Some(address), T0),
            ADDRESS_WINDOW - Duration::from_secs(1)
        );
    }

    #[test]
    fn emails_and_addresses_are_normalised_into_keys() {
        assert_eq!(email_key("  Ada@Example.TEST "), "ada@example.test");
        assert_eq!(email_key(&"é".repeat(400)).len(), 320);
        assert_eq!(address_key("192.0.2.1".parse().expect("ip")), "192.0.2.1");
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().expect("ip")),
            "192.0.2.1"
        );
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().expect("ip")),
            address_key("2001:db8:1:2:bbbb::9".parse().expect("ip")),
            "one /64, one budget"
        );
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1".parse().expect("ip")),
            "2001:db8:1:2::/64"
        );
    }
}
