//! Feeds arbitrary text to the frame decoder and to a connected protocol state machine:
//! neither may panic, whatever the server sends.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use pusher_channels::frame::Frame;
use pusher_channels::proto::{Config, Connection, Endpoint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Frame::decode(text, 64 * 1024);

    let mut conn = Connection::new(Config::new(
        "k",
        Endpoint::Host { host: "127.0.0.1".into(), port: 1, tls: false },
    ));
    let now = Instant::now();
    let _ = conn.subscribe(now, "presence-room");
    let _ = conn.subscribe(now, "private-encrypted-x");
    let _ = conn.subscribe(now, "news");
    conn.connect(now);
    conn.handle_open(now);
    conn.handle_frame(
        now,
        r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":30}"}"#,
    );
    // The input may hold several frames, one per line.
    for line in text.lines() {
        conn.handle_frame(now, line);
    }
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
    while conn.poll_transmit().is_some() {}
});
