//! The login throttle's records in the server's SQLite database (migration 003), so a restart
//! forgets nothing.
//!
//! What it does: reads the two records of an attempt, asks [`super::decide`], and stores its
//! verdict in the same write job (one writer, so concurrent attempts are counted one after the
//! other and none slips past); clears and refunds on success; purges records nobody needs.
//!
//! What it never does: decide anything itself, or read a clock (callers pass `now`). Call these
//! only inside `Db::write` (they write).

use crate::args;
use crate::sql::{OptionalExt, Sql};

use super::{decide, refund, AddressRecord, Decision, PairRecord, Policy};

/// The verdict [`reserve`] would give now, without counting anything: a read (on any
/// connection), so a flood of refused attempts is answered without queueing on the writer.
///
/// # Errors
/// SQLite errors.
pub fn peek(
    c: &dyn Sql,
    policy: &Policy,
    email: &str,
    address: &str,
    now: i64,
) -> Result<Decision, crate::sql::SqlError> {
    let (pair, budget) = load(c, email, address)?;
    Ok(decide(policy, pair, budget, now))
}

/// Decides on an attempt for (`email`, `address`) keys (see [`super::email_key`],
/// [`super::address_key`]) at `now` (ms) and, when it is let through, counts it. Call it on
/// the writer, so concurrent attempts are decided one after the other.
///
/// # Errors
/// SQLite errors.
pub fn reserve(
    c: &dyn Sql,
    policy: &Policy,
    email: &str,
    address: &str,
    now: i64,
) -> Result<Decision, crate::sql::SqlError> {
    let (pair, budget) = load(c, email, address)?;
    let decision = decide(policy, pair, budget, now);
    if let Decision::Allow { pair, address: a } = decision {
        c.execute(
            "INSERT INTO login_throttle_pairs (email, address, failures, last_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (email, address) DO UPDATE SET
                 failures = excluded.failures, last_at = excluded.last_at",
            args![email, address, pair.failures, pair.last_at],
        )?;
        store_address(c, address, a)?;
    }
    Ok(decision)
}

fn load(
    c: &dyn Sql,
    email: &str,
    address: &str,
) -> Result<(Option<PairRecord>, Option<AddressRecord>), crate::sql::SqlError> {
    let pair = c
        .query_row(
            "SELECT failures, last_at FROM login_throttle_pairs WHERE email = ?1 AND address = ?2",
            args![email, address],
            |r| {
                Ok(PairRecord {
                    failures: r.get(0)?,
                    last_at: r.get(1)?,
                })
            },
        )
        .optional()?;
    Ok((pair, address_record(c, address)?))
}

/// After a correct password: forgets the (email, address) record and gives the attempt's place
/// in the address's budget back (so a team behind one NAT does not spend it by signing in).
///
/// # Errors
/// SQLite errors.
pub fn succeeded(c: &dyn Sql, email: &str, address: &str) -> Result<(), crate::sql::SqlError> {
    c.execute(
        "DELETE FROM login_throttle_pairs WHERE email = ?1 AND address = ?2",
        args![email, address],
    )?;
    give_back_address(c, address)
}

/// Undoes a [`reserve`] whose password was never checked (the hashing pool was full): the
/// attempt costs the caller nothing.
///
/// # Errors
/// SQLite errors.
pub fn unreserve(c: &dyn Sql, email: &str, address: &str) -> Result<(), crate::sql::SqlError> {
    c.execute(
"UPDATE login_throttle_pairs SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END
         WHERE email = ?1 AND address = ?2", args![email, address])?;
    give_back_address(c, address)
}

/// Deletes (email, address) records idle for the policy's `forget_after` and address records
/// whose window ended: [`super::decide`] would ignore them anyway. Returns how many rows went.
/// The lead's periodic task can call it; logins also call it now and then.
///
/// # Errors
/// SQLite errors.
pub fn purge(c: &dyn Sql, policy: &Policy, now: i64) -> Result<usize, crate::sql::SqlError> {
    let forget = i64::try_from(policy.forget_after.as_millis()).unwrap_or(i64::MAX);
    let window = i64::try_from(policy.address_window.as_millis()).unwrap_or(i64::MAX);
    let pairs = c.execute(
        "DELETE FROM login_throttle_pairs WHERE last_at <= ?1",
        args![now.saturating_sub(forget)],
    )?;
    let addresses = c.execute(
        "DELETE FROM login_throttle_addresses WHERE window_start <= ?1",
        args![now.saturating_sub(window)],
    )?;
    Ok(pairs + addresses)
}

fn address_record(
    c: &dyn Sql,
    address: &str,
) -> Result<Option<AddressRecord>, crate::sql::SqlError> {
    c.query_row(
        "SELECT failures, window_start FROM login_throttle_addresses WHERE address = ?1",
        args![address],
        |r| {
            Ok(AddressRecord {
                failures: r.get(0)?,
                window_start: r.get(1)?,
            })
        },
    )
    .optional()
}

fn store_address(c: &dyn Sql, address: &str, a: AddressRecord) -> Result<(), crate::sql::SqlError> {
    c.execute(
        "INSERT INTO login_throttle_addresses (address, failures, window_start)
         VALUES (?1, ?2, ?3)
         ON CONFLICT (address) DO UPDATE SET
             failures = excluded.failures, window_start = excluded.window_start",
        args![address, a.failures, a.window_start],
    )?;
    Ok(())
}

fn give_back_address(c: &dyn Sql, address: &str) -> Result<(), crate::sql::SqlError> {
    if let Some(a) = address_record(c, address)? {
        store_address(c, address, refund(a))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::sqlite::Lite;
    use crate::throttle::{ADDRESS_BUDGET, ADDRESS_WINDOW, FORGET_AFTER, FREE_FAILURES};

    const T0: i64 = 1_800_000_000_000;

    fn conn() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().expect("sqlite");
        c.execute_batch(include_str!("../../migrations/003_login_throttle.sql"))
            .expect("migration");
        c
    }

    fn allowed(c: &dyn Sql, email: &str, address: &str, now: i64) -> bool {
        matches!(
            reserve(c, &Policy::default(), email, address, now).expect("reserve"),
            Decision::Allow { .. }
        )
    }

    #[test]
    fn reservations_are_stored_so_the_next_attempt_sees_them() {
        let c = conn();
        for _ in 0..FREE_FAILURES {
            assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0));
        }
        assert!(!allowed(&Lite(&c), "v@x", "192.0.2.1", T0));
        assert!(
            allowed(&Lite(&c), "v@x", "192.0.2.2", T0),
            "another address is not delayed"
        );
        assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0 + 1_000));
    }

    #[test]
    fn peeking_tells_the_verdict_and_counts_nothing() {
        let c = conn();
        for _ in 0..FREE_FAILURES {
            let peeked = peek(&Lite(&c), &Policy::default(), "v@x", "192.0.2.1", T0).expect("peek");
            assert!(matches!(peeked, Decision::Allow { .. }));
        }
        let rows: i64 = c
            .query_row("SELECT count(*) FROM login_throttle_pairs", [], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(rows, 0);
        for _ in 0..FREE_FAILURES {
            assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0));
        }
        let peeked = peek(&Lite(&c), &Policy::default(), "v@x", "192.0.2.1", T0).expect("peek");
        assert!(matches!(peeked, Decision::Throttle { .. }));
    }

    #[test]
    fn a_success_clears_its_pair_and_refunds_the_address() {
        let c = conn();
        for _ in 0..FREE_FAILURES {
            assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0));
        }
        succeeded(&Lite(&c), "v@x", "192.0.2.1").expect("clear");
        assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0), "cleared");
        let spent: u32 = c
            .query_row("SELECT failures FROM login_throttle_addresses", [], |r| {
                r.get(0)
            })
            .expect("row");
        assert_eq!(spent, FREE_FAILURES, "four counted, one refunded");
    }

    #[test]
    fn an_unreserved_attempt_costs_nothing() {
        let c = conn();
        for _ in 0..ADDRESS_BUDGET {
            assert!(allowed(&Lite(&c), "v@x", "192.0.2.1", T0 + 10_000_000));
            unreserve(&Lite(&c), "v@x", "192.0.2.1").expect("unreserve");
        }
        assert!(allowed(&Lite(&c), "w@x", "192.0.2.1", T0 + 10_000_000));
    }

    #[test]
    fn purging_drops_only_what_decide_would_ignore() {
        let c = conn();
        assert!(allowed(&Lite(&c), "old@x", "192.0.2.1", T0));
        let later = T0 + i64::try_from(ADDRESS_WINDOW.as_millis()).expect("ms");
        assert!(allowed(&Lite(&c), "new@x", "192.0.2.2", later));
        assert_eq!(
            purge(&Lite(&c), &Policy::default(), later).expect("purge"),
            1,
            "the first address's window ended"
        );
        let forget = T0 + i64::try_from(FORGET_AFTER.as_millis()).expect("ms");
        assert_eq!(
            purge(&Lite(&c), &Policy::default(), forget).expect("purge"),
            2,
            "old@x and 192.0.2.2"
        );
        let left: i64 = c
            .query_row("SELECT count(*) FROM login_throttle_pairs", [], |r| {
                r.get(0)
            })
            .expect("count");
        assert_eq!(left, 1, "new@x was used within the day");
    }
}
