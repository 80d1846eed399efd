//! Cutting a backoff wait short: `retry_now` (evidence the server is back) and `check_now`
//! (wake, network change), with a simulated clock and attempts that fail at once.

use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

/// A connection whose every attempt failed at once, now waiting at least `min_wait` for its
/// next attempt (the backoff has grown).
fn waiting_at_least(min_wait: Duration) -> Sim {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    for _ in 0..100 {
        assert_eq!(opens(&s.transmits()), 1, "one attempt at a time");
        s.close(None);
        let at = s.conn.retry_at.unwrap();
        if at - s.now >= min_wait {
            s.events();
            return s;
        }
        s.advance(at - s.now);
    }
    panic!("the backoff never grew to {min_wait:?}");
}

type Poke = fn(&mut Connection, Instant);

#[test]
fn retry_now_while_waiting_out_the_backoff_attempts_at_once() {
    let mut s = waiting_at_least(Duration::from_secs(10));
    s.advance(Duration::from_secs(2));
    assert_eq!(opens(&s.transmits()), 0, "still waiting");

    s.conn.retry_now(s.now);
    assert_eq!(opens(&s.transmits()), 1, "attempted at once");
    assert_eq!(s.conn.retry_at, None, "the scheduled attempt is cancelled");
    assert!(
        s.state_changes()
            .iter()
            .any(|(_, retry_in)| retry_in.is_none()),
        "the state no longer announces a later retry"
    );
    s.establish("2.2", 120);
    assert_eq!(s.conn.state(), State::Connected);
}

#[test]
fn an_attempt_brought_forward_that_fails_again_continues_the_backoff() {
    let mut s = waiting_at_least(Duration::from_secs(10));
    let before = s.conn.attempts;
    assert!(before >= 4, "the backoff has grown: {before}");
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    assert_eq!(opens(&s.transmits()), 1);
    s.close(None);
    assert_eq!(
        s.conn.attempts,
        before + 1,
        "the next wait's ceiling doubles, it is not reset to a second"
    );

    // check_now, by contrast, is for a new network: its backoff starts afresh.
    let mut s = waiting_at_least(Duration::from_secs(10));
    s.advance(Duration::from_secs(2));
    s.conn.check_now(s.now);
    assert_eq!(opens(&s.transmits()), 1);
    s.close(None);
    assert_eq!(s.conn.attempts, 1);
    assert!(s.conn.retry_at.unwrap() - s.now <= Duration::from_secs(1));
}

#[test]
fn a_storm_of_retry_now_or_check_now_makes_one_attempt_at_a_time_and_at_most_one_a_second() {
    for (name, poke) in [
        ("retry_now", Connection::retry_now as Poke),
        ("check_now", Connection::check_now as Poke),
    ] {
        let mut s = waiting_at_least(Duration::from_secs(30));
        let start = s.now;
        let mut attempts = 0;
        // A call every 10 ms for 10 s; every attempt fails at once.
        while s.now < start + Duration::from_secs(10) {
            poke(&mut s.conn, s.now);
            let n = opens(&s.transmits());
            assert!(n <= 1, "{name}: one attempt at a time");
            if n == 1 {
                attempts += 1;
                s.close(None);
            }
            s.advance(Duration::from_millis(10));
        }
        assert!(
            (9..=11).contains(&attempts),
            "{name}: {attempts} attempts in 10 s"
        );
    }
}

#[test]
fn retry_now_within_a_second_of_the_last_attempt_moves_the_retry_to_the_end_of_that_second() {
    let mut s = waiting_at_least(Duration::from_secs(10));
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    assert_eq!(opens(&s.transmits()), 1);
    s.close(None); // failed at once
    let drawn = s.conn.retry_at.unwrap();
    s.events();

    s.conn.retry_now(s.now);
    assert_eq!(
        opens(&s.transmits()),
        0,
        "not a second attempt within the second"
    );
    let at = drawn.min(s.now + Duration::from_secs(1));
    assert_eq!(s.conn.retry_at, Some(at));
    assert_eq!(
        s.state_changes().last().and_then(|(_, retry_in)| *retry_in),
        Some(at - s.now),
        "the state announces the new retry time"
    );
    s.advance(at - s.now);
    assert_eq!(opens(&s.transmits()), 1);
}

#[test]
fn retry_now_does_nothing_while_an_attempt_is_in_flight() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    assert_eq!(opens(&s.transmits()), 1);
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    assert!(s.transmits().is_empty());
    s.conn.handle_open(s.now);
    s.conn.retry_now(s.now);
    assert!(
        s.transmits().is_empty(),
        "open, not yet established: still in flight"
    );
}

#[test]
fn retry_now_when_connected_is_a_liveness_check_like_check_now() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.transmits();
    s.conn.retry_now(s.now);
    assert_eq!(s.sent(), vec![json!({"event":"pusher:ping","data":{}})]);
    s.advance(Duration::from_secs(5));
    assert_eq!(s.transmits().first(), Some(&Transmit::Close));
}

#[test]
fn retry_now_never_undoes_a_refusal_or_a_disconnect_nor_starts_a_connection() {
    let mut s = Sim::new();
    s.conn.retry_now(s.now);
    assert!(s.transmits().is_empty());
    assert_eq!(s.conn.state(), State::Initialized);

    s.connect("1.1");
    s.close(Some(4001));
    s.transmits();
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    assert!(s.transmits().is_empty());
    assert_eq!(s.conn.state(), State::Disconnected);

    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.disconnect(s.now);
    s.transmits();
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    assert!(s.transmits().is_empty());
    assert_eq!(s.conn.state(), State::Disconnected);
}

#[test]
fn nothing_cuts_an_over_quota_wait_short() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.close(Some(4004));
    s.transmits();
    let at = s.conn.retry_at.unwrap();
    assert!(at - s.now >= Duration::from_secs(300));
    s.advance(Duration::from_secs(2));
    s.conn.retry_now(s.now);
    s.conn.check_now(s.now);
    assert_eq!(opens(&s.transmits()), 0);
    assert_eq!(s.conn.retry_at, Some(at));
    s.advance(at - s.now);
    assert_eq!(opens(&s.transmits()), 1, "the long wait still ends");
}
