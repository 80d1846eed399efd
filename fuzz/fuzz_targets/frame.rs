//! Feeds arbitrary text to the frame decoder and to a connected protocol state machine:
//! neither may panic, whatever the server sends.
//!
//! Input: one flag byte, then text holding one server frame per line. The flags choose how far
//! the connection got before the frames arrive, so the fuzzer reaches the subscribed, presence,
//! encrypted and signed-in paths, not only the first frames of a connection:
//! - bit 0: the auth endpoint answered for `presence-room` and `private-encrypted-x` (their
//!   `pusher:subscribe` is pending; the encrypted channel's shared secret is
//!   [`SHARED_SECRET_B64`], so seeds can carry events that decrypt);
//! - bit 1: every channel is already subscribed (with bit 0: the presence channel has members);
//! - bit 2: the user asked to sign in and the auth endpoint answered;
//! - bit 3: time moves on by one second per byte of each line, and timers fire between lines
//!   (pings, pong timeouts, reconnects: a new socket opens and is established again);
//! - bit 4: the app sends a client event on `presence-room` after each line.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use pusher_channels::frame::{Data, Frame};
use pusher_channels::proto::{AuthRequest, Config, Connection, Endpoint, Transmit};
use pusher_channels::sign::{ChannelAuthorization, UserAuthentication};

/// 32 zero bytes, base64: the encrypted channel's key.
const SHARED_SECRET_B64: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const ESTABLISHED: &str = r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.1\",\"activity_timeout\":30}"}"#;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = Frame::decode(text, 64 * 1024);

    let mut conn = Connection::new(Config::new(
        "k",
        Endpoint::Host {
            host: "127.0.0.1".into(),
            port: 1,
            tls: false,
        },
    ));
    let mut now = Instant::now();
    for channel in ["presence-room", "private-encrypted-x", "news"] {
        let _ = conn.subscribe(now, channel);
    }
    if flags & 4 != 0 {
        conn.signin(now);
    }
    conn.connect(now);
    conn.handle_open(now);
    conn.handle_frame(now, ESTABLISHED);
    answer_auths(&mut conn, now, flags);
    if flags & 2 != 0 {
        for line in [
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"news","data":"{}"}"#,
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"private-encrypted-x","data":"{}"}"#,
            r#"{"event":"pusher_internal:subscription_succeeded","channel":"presence-room","data":"{\"presence\":{\"ids\":[\"1\",\"2\"],\"hash\":{\"1\":{},\"2\":{\"n\":2}},\"count\":2}}"}"#,
        ] {
            conn.handle_frame(now, line);
        }
    }

    for line in text.lines() {
        if flags & 8 != 0 {
            now += Duration::from_secs(line.len() as u64);
            conn.handle_timeout(now);
            // A reconnect opens a new socket: let it succeed, as the server usually does.
            while let Some(t) = conn.poll_transmit() {
                if matches!(t, Transmit::Open { .. }) {
                    conn.handle_open(now);
                    conn.handle_frame(now, ESTABLISHED);
                }
            }
            answer_auths(&mut conn, now, flags);
        }
        conn.handle_frame(now, line);
        if flags & 16 != 0 {
            let _ = conn.trigger(
                now,
                "presence-room",
                "client-typing",
                &Data::None.to_value(),
            );
        }
        while conn.poll_event().is_some() {}
    }
    conn.handle_timeout(now + Duration::from_secs(3600));
    while conn.poll_event().is_some() {}
    while conn.poll_transmit().is_some() {}
});

/// Hands back a signature for every pending request, when flag bit 0 (channels) or bit 2 (user)
/// says the auth endpoint answers; the protocol never checks the signatures themselves.
fn answer_auths(conn: &mut Connection, now: Instant, flags: u8) {
    while let Some(request) = conn.poll_auth() {
        match request {
            AuthRequest::Channel { channel, socket_id } if flags & 1 != 0 => {
                let auth = ChannelAuthorization {
                    auth: "k:signature".into(),
                    channel_data: channel
                        .starts_with("presence-")
                        .then(|| r#"{"user_id":"1","user_info":{"name":"me"}}"#.into()),
                    shared_secret: channel
                        .starts_with("private-encrypted-")
                        .then(|| SHARED_SECRET_B64.into()),
                };
                conn.handle_channel_auth(now, &channel, &socket_id, Ok(auth));
            }
            AuthRequest::User { socket_id } if flags & 4 != 0 => {
                let auth = UserAuthentication {
                    auth: "k:signature".into(),
                    user_data: r#"{"id":"1"}"#.into(),
                };
                conn.handle_user_auth(now, &socket_id, Ok(auth));
            }
            _ => {}
        }
    }
}
