//! Every protocol rule, driven with a simulated clock.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;
use crate::sign::ChannelAuthorization;

pub(super) struct Sim {
    pub(super) conn: Connection,
    pub(super) now: Instant,
}

fn config() -> Config {
    Config::new(
        "key",
        Endpoint::Host {
            host: "127.0.0.1".into(),
            port: 6001,
            tls: false,
        },
    )
}

impl Sim {
    fn new() -> Self {
        Sim {
            conn: Connection::new(config()),
            now: Instant::now(),
        }
    }

    fn with(config: Config) -> Self {
        Sim {
            conn: Connection::new(config),
            now: Instant::now(),
        }
    }

    fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        // Fire every deadline in order, as a driver would.
        while let Some(t) = self.conn.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.conn.handle_timeout(self.now);
        }
        self.now = target;
    }

    fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.conn.poll_transmit()).collect()
    }

    fn sent(&mut self) -> Vec<Value> {
        self.transmits()
            .into_iter()
            .filter_map(|t| match t {
                Transmit::Send(s) => Some(serde_json::from_str(&s).unwrap()),
                _ => None,
            })
            .collect()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }

    fn auths(&mut self) -> Vec<AuthRequest> {
        std::iter::from_fn(|| self.conn.poll_auth()).collect()
    }

    fn frame(&mut self, v: Value) {
        self.conn.handle_frame(self.now, &v.to_string());
    }

    fn establish(&mut self, socket_id: &str, activity_timeout: u64) {
        self.conn.handle_open(self.now);
        self.frame(json!({
            "event": "pusher:connection_established",
            "data": json!({"socket_id": socket_id, "activity_timeout": activity_timeout}).to_string()
        }));
    }

    fn connect(&mut self, socket_id: &str) {
        self.conn.connect(self.now);
        assert!(matches!(
            self.transmits().as_slice(),
            [Transmit::Open { .. }]
        ));
        self.establish(socket_id, 120);
        assert_eq!(self.conn.state(), State::Connected);
    }

    fn close(&mut self, code: Option<u16>) {
        self.conn.handle_close(self.now, code, "bye");
    }

    fn succeed(&mut self, channel: &str, data: Value) {
        self.frame(json!({
            "event": "pusher_internal:subscription_succeeded",
            "channel": channel,
            "data": data.to_string()
        }));
    }

    fn auth_ok(&mut self, channel: &str, socket_id: &str, channel_data: Option<&str>) {
        self.conn.handle_channel_auth(
            self.now,
            channel,
            socket_id,
            Ok(ChannelAuthorization {
                auth: "key:sig".into(),
                channel_data: channel_data.map(str::to_owned),
                shared_secret: None,
            }),
        );
    }

    fn state_changes(&mut self) -> Vec<(State, Option<Duration>)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::StateChanged {
                    current, retry_in, ..
                } => Some((current, retry_in)),
                _ => None,
            })
            .collect()
    }
}

fn opens(ts: &[Transmit]) -> usize {
    ts.iter()
        .filter(|t| matches!(t, Transmit::Open { .. }))
        .count()
}

// ---- connecting -------------------------------------------------------------------------

#[test]
fn url_for_hosted_pusher_uses_the_cluster_and_protocol_7() {
    let c = Config::new("abc", Endpoint::Cluster("eu".into()));
    let url = c.url();
    assert!(url.starts_with("wss://ws-eu.pusher.com:443/app/abc?protocol=7&client="));
    assert!(url.contains("&version="));
}

#[test]
fn url_for_a_self_hosted_server_honours_host_port_and_tls() {
    let c = Config::new(
        "k",
        Endpoint::Host {
            host: "chat.example".into(),
            port: 6001,
            tls: false,
        },
    );
    assert!(c
        .url()
        .starts_with("ws://chat.example:6001/app/k?protocol=7"));
}

#[test]
fn connect_goes_initialized_connecting_connected_and_reports_the_socket_id() {
    let mut s = Sim::new();
    assert_eq!(s.conn.state(), State::Initialized);
    s.connect("1.2");
    let events = s.events();
    assert!(events.contains(&Event::StateChanged {
        previous: State::Initialized,
        current: State::Connecting,
        retry_in: None
    }));
    assert!(events.contains(&Event::Connected {
        socket_id: "1.2".into(),
        reconnect: false
    }));
    assert_eq!(s.conn.socket_id(), Some("1.2"));
}

#[test]
fn no_connection_for_ten_seconds_makes_the_state_unavailable_while_retrying_goes_on() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.events();
    // Every attempt fails at once.
    for _ in 0..20 {
        s.transmits();
        s.close(None);
        let next = s.conn.poll_timeout().unwrap();
        if next > s.now + Duration::from_secs(10) {
            break;
        }
        s.advance(next - s.now);
        if s.conn.state() == State::Unavailable {
            break;
        }
    }
    s.advance(Duration::from_secs(11));
    assert_eq!(s.conn.state(), State::Unavailable);
    // And it keeps trying.
    s.transmits();
    s.advance(Duration::from_secs(61));
    assert!(opens(&s.transmits()) >= 1);
}

#[test]
fn a_first_frame_pusher_error_with_a_refusing_code_disconnects_without_retry() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.transmits();
    s.conn.handle_open(s.now);
    s.frame(json!({"event":"pusher:error","data":{"code":4001,"message":"App disabled"}}));
    assert_eq!(s.conn.state(), State::Disconnected);
    assert!(s
        .events()
        .iter()
        .any(|e| matches!(e, Event::Error(ProtocolError::Refused { code: 4001, .. }))));
    assert!(s.transmits().contains(&Transmit::Close));
    s.advance(Duration::from_secs(3600));
    assert_eq!(opens(&s.transmits()), 0);
}

#[test]
fn a_first_frame_pusher_error_in_the_reconnect_range_reconnects_at_once() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.transmits();
    s.conn.handle_open(s.now);
    s.frame(json!({"event":"pusher:error","data":{"code":4200,"message":"reconnect"}}));
    let t = s.transmits();
    assert_eq!(t.first(), Some(&Transmit::Close));
    assert_eq!(opens(&t), 1);
}

#[test]
fn an_attempt_that_hangs_is_abandoned_after_the_attempt_timeout() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.transmits();
    s.advance(Duration::from_secs(10));
    let t = s.transmits();
    assert_eq!(t.first(), Some(&Transmit::Close));
    assert_ne!(s.conn.state(), State::Connected);
    s.advance(Duration::from_secs(2));
    assert!(opens(&s.transmits()) >= 1);
}

// ---- closes and backoff -----------------------------------------------------------------

#[test]
fn a_closed_socket_switches_to_connecting_at_once() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.events();
    s.close(Some(1006));
    assert_eq!(s.conn.state(), State::Connecting);
    let changes = s.state_changes();
    assert_eq!(changes[0].0, State::Connecting);
    assert!(changes[0].1.is_some(), "it says when it retries");
}

#[test]
fn close_codes_4000_to_4099_stop_and_surface_the_error() {
    for code in [4000, 4001, 4003, 4007, 4099] {
        let mut s = Sim::new();
        s.connect("1.1");
        s.events();
        s.close(Some(code));
        assert_eq!(s.conn.state(), State::Disconnected, "code {code}");
        assert!(s.events().iter().any(
            |e| matches!(e, Event::Error(ProtocolError::Refused { code: c, .. }) if *c == code)
        ));
        s.advance(Duration::from_secs(3600));
        assert_eq!(opens(&s.transmits()), 0, "code {code} must not retry");
    }
}

#[test]
fn close_code_4004_over_quota_retries_only_after_a_long_wait() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.close(Some(4004));
    assert_eq!(s.conn.state(), State::Connecting);
    s.transmits();
    s.advance(Duration::from_secs(299));
    assert_eq!(opens(&s.transmits()), 0);
    s.advance(Duration::from_secs(61));
    assert!(opens(&s.transmits()) >= 1);
}

#[test]
fn close_codes_4200_to_4299_reconnect_immediately() {
    for code in [4200, 4201, 4299] {
        let mut s = Sim::new();
        s.connect("1.1");
        s.transmits();
        s.close(Some(code));
        assert_eq!(opens(&s.transmits()), 1, "code {code}");
    }
}

#[test]
fn close_codes_4100_to_4199_and_unknown_closes_back_off() {
    for code in [Some(4100), Some(4199), Some(1006), None] {
        let mut s = Sim::new();
        s.connect("1.1");
        s.transmits();
        s.close(code);
        let retry = s.conn.poll_timeout().unwrap() - s.now;
        assert!(retry <= Duration::from_secs(1), "{code:?}: {retry:?}");
        // The retry is scheduled, not immediate (unless jitter drew ~0).
        s.advance(Duration::from_secs(1));
        assert_eq!(opens(&s.transmits()), 1, "{code:?}");
    }
}

#[test]
fn backoff_grows_exponentially_with_full_jitter_capped_at_sixty_seconds() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    let mut delays = vec![];
    for _ in 0..12 {
        s.transmits();
        s.close(None);
        let retry_at = s.conn.retry_at.unwrap();
        delays.push(retry_at - s.now);
        s.now = retry_at;
        s.conn.handle_timeout(s.now);
    }
    for (n, d) in delays.iter().enumerate() {
        let ceiling = Duration::from_secs(1 << n.min(6)).min(Duration::from_secs(60));
        assert!(*d <= ceiling, "attempt {n}: {d:?} > {ceiling:?}");
    }
    // Jitter: not every delay sits at its ceiling, and late ones spread under 60 s.
    assert!(delays[6..].iter().any(|d| *d < Duration::from_secs(59)));
    assert!(delays[6..].iter().any(|d| *d > Duration::from_secs(5)));
}

#[test]
fn retries_go_on_forever() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    let mut attempts = 0;
    for _ in 0..200 {
        attempts += opens(&s.transmits());
        s.close(None);
        s.advance(Duration::from_secs(61));
    }
    attempts += opens(&s.transmits());
    assert!(attempts >= 200);
}

#[test]
fn a_stable_connection_resets_the_backoff() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    for _ in 0..8 {
        s.transmits();
        s.close(None);
        s.advance(Duration::from_secs(61));
    }
    assert!(s.conn.attempts >= 8);
    s.establish("2.2", 120);
    s.advance(Duration::from_secs(31));
    assert_eq!(s.conn.attempts, 0);
    s.close(None);
    assert!(s.conn.retry_at.unwrap() - s.now <= Duration::from_secs(1));
}

#[test]
fn a_connection_that_drops_quickly_does_not_reset_the_backoff() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    for _ in 0..5 {
        s.transmits();
        s.close(None);
        s.advance(Duration::from_secs(61));
    }
    s.establish("2.2", 120);
    s.advance(Duration::from_secs(5));
    s.close(None);
    assert!(s.conn.attempts >= 5);
}

#[test]
fn disconnect_stops_everything_until_connect() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.transmits();
    s.conn.disconnect(s.now);
    assert_eq!(s.conn.state(), State::Disconnected);
    assert_eq!(s.transmits(), vec![Transmit::Close]);
    assert_eq!(s.conn.poll_timeout(), None);
    s.conn.connect(s.now);
    assert_eq!(opens(&s.transmits()), 1);
}

// ---- activity, ping and pong ------------------------------------------------------------

#[test]
fn the_activity_timeout_is_the_lower_of_the_server_value_and_120_seconds() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.establish("1.1", 30);
    assert_eq!(
        s.conn.poll_timeout().unwrap() - s.now,
        Duration::from_secs(30)
    );

    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.establish("1.1", 500);
    s.transmits();
    s.advance(Duration::from_secs(119));
    assert!(s.sent().is_empty());
    s.advance(Duration::from_secs(1));
    assert_eq!(s.sent(), vec![json!({"event":"pusher:ping","data":{}})]);
}

#[test]
fn any_inbound_frame_postpones_the_ping() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.establish("1.1", 60);
    s.transmits();
    for _ in 0..5 {
        s.advance(Duration::from_secs(50));
        s.frame(json!({"event":"anything","channel":"x","data":{}}));
    }
    assert!(s.sent().is_empty());
}

#[test]
fn no_pong_within_30_seconds_drops_the_socket_and_reconnects_at_once() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.establish("1.1", 60);
    s.transmits();
    s.advance(Duration::from_secs(60));
    assert_eq!(s.sent().len(), 1);
    s.events();
    s.advance(Duration::from_secs(29));
    assert_eq!(s.conn.state(), State::Connected);
    s.advance(Duration::from_secs(1));
    let t = s.transmits();
    assert_eq!(t.first(), Some(&Transmit::Close));
    assert_eq!(opens(&t), 1, "reconnects without waiting");
    assert_eq!(s.conn.state(), State::Connecting);
}

#[test]
fn a_pong_keeps_the_connection() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    s.establish("1.1", 60);
    s.advance(Duration::from_secs(60));
    s.transmits();
    s.advance(Duration::from_secs(10));
    s.frame(json!({"event":"pusher:pong","data":{}}));
    s.advance(Duration::from_secs(45));
    assert_eq!(s.conn.state(), State::Connected);
    assert!(!s.transmits().contains(&Transmit::Close));
}

#[test]
fn a_server_ping_is_answered_with_a_pong() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.transmits();
    s.frame(json!({"event":"pusher:ping","data":{}}));
    assert_eq!(s.sent(), vec![json!({"event":"pusher:pong","data":{}})]);
}

#[test]
fn check_now_pings_and_drops_a_dead_socket_within_the_check_timeout() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.transmits();
    s.conn.check_now(s.now);
    assert_eq!(s.sent(), vec![json!({"event":"pusher:ping","data":{}})]);
    s.advance(Duration::from_secs(5));
    assert_eq!(s.transmits().first(), Some(&Transmit::Close));
}

#[test]
fn check_now_while_waiting_to_retry_retries_immediately() {
    let mut s = Sim::new();
    s.conn.connect(s.now);
    for _ in 0..6 {
        s.transmits();
        s.close(None);
        s.advance(Duration::from_secs(61));
    }
    s.transmits();
    s.close(None);
    s.conn.check_now(s.now);
    assert_eq!(opens(&s.transmits()), 1);
}

mod channels;
mod retry;
