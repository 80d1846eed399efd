//! Requests in flight per client address: one address may hold at most a share of the
//! process's capacity, so a single client (or a script behind one address) slowing its own
//! requests down cannot occupy every slot of the global cap and stall everyone else.
//!
//! What it does: counts requests being handled per client address (the trusted-proxy-aware
//! `ClientIp`); the `routes::observe::limit_in_flight` middleware answers 429 with
//! `Retry-After: 1` past [`PER_ADDRESS`].
//! What it never does: limit by anything one stranger could exhaust for others (a global
//! counter), or keep an entry for an address with nothing in flight.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Requests one address may have in flight: a team behind one office NAT runs a few each per
/// app, far below this; a quarter of the process-wide cap (`routes::MAX_IN_FLIGHT`).
pub const PER_ADDRESS: usize = 256;

/// The counters, shared by the app state.
#[derive(Debug, Default)]
pub struct InFlight {
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

impl InFlight {
    /// Takes a slot for `ip` unless it holds `limit` already.
    pub fn enter(&self, ip: IpAddr, limit: usize) -> bool {
        let Ok(mut map) = self.by_address.lock() else {
            return true;
        };
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return false;
        }
        *n += 1;
        true
    }

    /// Gives a slot of `ip` back.
    pub fn leave(&self, ip: IpAddr) {
        if let Ok(mut map) = self.by_address.lock() {
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }

    /// Requests in flight from `ip` now.
    pub fn of(&self, ip: IpAddr) -> usize {
        self.by_address
            .lock()
            .map_or(0, |m| m.get(&ip).copied().unwrap_or(0))
    }

    /// Addresses with requests in flight now.
    pub fn addresses(&self) -> usize {
        self.by_address.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_is_capped_while_another_still_gets_in_and_slots_come_back() {
        let f = InFlight::default();
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        assert!(f.enter(a, 2) && f.enter(a, 2));
        assert!(!f.enter(a, 2), "the third from one address waits its turn");
        assert!(f.enter(b, 2), "another address is not affected");
        f.leave(a);
        assert!(f.enter(a, 2));
        for ip in [a, a, b] {
            f.leave(ip);
        }
        assert_eq!(f.addresses(), 0, "nothing kept for idle addresses");
    }
}
