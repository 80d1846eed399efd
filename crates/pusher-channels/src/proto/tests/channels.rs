//! Channel rules: subscriptions, presence, client events, sign-in, cache and encrypted channels.

use serde_json::{json, Value};

use super::*;
use crate::sign::ChannelAuthorization;
use std::time::Duration;

// ---- channels ---------------------------------------------------------------------------

#[test]
fn subscriptions_made_offline_are_sent_when_connected() {
    let mut s = Sim::new();
    s.conn.subscribe(s.now, "news").unwrap();
    s.connect("1.1");
    assert_eq!(
        s.sent(),
        vec![json!({"event":"pusher:subscribe","data":{"channel":"news"}})]
    );
    s.succeed("news", json!({}));
    assert!(s.events().contains(&Event::Subscribed {
        channel: "news".into(),
        resubscribed: false,
        members: None
    }));
    assert!(s.conn.is_subscribed("news"));
}

#[test]
fn invalid_channel_names_are_refused_at_once() {
    let mut s = Sim::new();
    for bad in [
        "",
        "has space",
        "#server-to-user-1",
        &"x".repeat(165),
        "emoji-😀",
    ] {
        assert!(s.conn.subscribe(s.now, bad).is_err(), "{bad:?}");
    }
}

#[test]
fn private_channels_are_authorized_with_the_current_socket_id() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "private-a").unwrap();
    assert_eq!(
        s.auths(),
        vec![AuthRequest::Channel {
            channel: "private-a".into(),
            socket_id: "1.1".into()
        }]
    );
    s.auth_ok("private-a", "1.1", None);
    assert_eq!(
        s.sent(),
        vec![json!({"event":"pusher:subscribe","data":{"channel":"private-a","auth":"key:sig"}})]
    );
}

#[test]
fn every_channel_is_reauthorized_and_resubscribed_after_a_reconnect_and_the_app_is_told() {
    let mut s = Sim::new();
    s.conn.subscribe(s.now, "news").unwrap();
    s.conn.subscribe(s.now, "private-a").unwrap();
    s.connect("1.1");
    s.auths();
    s.auth_ok("private-a", "1.1", None);
    s.succeed("news", json!({}));
    s.succeed("private-a", json!({}));
    s.transmits();
    s.events();

    s.close(Some(4200));
    s.transmits();
    s.establish("2.2", 120);
    assert!(s.events().contains(&Event::Connected {
        socket_id: "2.2".into(),
        reconnect: true
    }));
    assert_eq!(
        s.auths(),
        vec![AuthRequest::Channel {
            channel: "private-a".into(),
            socket_id: "2.2".into()
        }]
    );
    s.auth_ok("private-a", "2.2", None);
    let subs: Vec<_> = s
        .sent()
        .iter()
        .map(|f| f["data"]["channel"].clone())
        .collect();
    assert_eq!(subs, vec![json!("news"), json!("private-a")]);
    s.succeed("news", json!({}));
    s.succeed("private-a", json!({}));
    let resubscribed: Vec<_> = s
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Subscribed {
                channel,
                resubscribed: true,
                ..
            } => Some(channel),
            _ => None,
        })
        .collect();
    assert_eq!(resubscribed, vec!["news", "private-a"]);
}

#[test]
fn an_authorization_fetched_for_an_old_socket_id_is_discarded() {
    let mut s = Sim::new();
    s.conn.subscribe(s.now, "private-a").unwrap();
    s.connect("1.1");
    s.auths();
    s.close(Some(4200));
    s.transmits();
    s.establish("2.2", 120);
    s.auths();
    s.transmits();
    // The old answer arrives late.
    s.auth_ok("private-a", "1.1", None);
    assert!(s.sent().is_empty());
    s.auth_ok("private-a", "2.2", None);
    assert_eq!(s.sent().len(), 1);
}

#[test]
fn a_subscription_without_an_answer_in_30_seconds_fails() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "news").unwrap();
    s.events();
    s.advance(Duration::from_secs(29));
    assert!(s.events().is_empty());
    s.frame(json!({"event":"pusher:pong"})); // activity does not help a subscription
    s.advance(Duration::from_secs(1));
    assert!(s.events().contains(&Event::SubscriptionFailed {
        channel: "news".into(),
        error: SubscriptionError::Timeout
    }));
    // A late success is ignored; a new subscribe retries.
    s.succeed("news", json!({}));
    assert!(!s.conn.is_subscribed("news"));
    s.transmits();
    s.conn.subscribe(s.now, "news").unwrap();
    assert_eq!(s.sent().len(), 1);
}

#[test]
fn unsubscribe_while_authorizing_discards_the_authorization() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "private-a").unwrap();
    s.auths();
    s.conn.unsubscribe(s.now, "private-a");
    s.auth_ok("private-a", "1.1", None);
    assert!(s.sent().is_empty());
}

#[test]
fn unsubscribe_while_pending_is_sent_and_a_late_success_is_ignored() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "news").unwrap();
    s.transmits();
    s.conn.unsubscribe(s.now, "news");
    assert_eq!(
        s.sent(),
        vec![json!({"event":"pusher:unsubscribe","data":{"channel":"news"}})]
    );
    s.events();
    s.succeed("news", json!({}));
    assert!(s.events().is_empty());
    s.frame(json!({"event":"e","channel":"news","data":{}}));
    assert!(s.events().is_empty(), "no events for unsubscribed channels");
}

#[test]
fn auth_endpoint_refusals_surface_as_subscription_errors_with_the_status() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "private-b").unwrap();
    s.events();
    s.conn.handle_channel_auth(
        s.now,
        "private-b",
        "1.1",
        Err(AuthError {
            status: Some(403),
            message: "forbidden".into(),
        }),
    );
    assert_eq!(
        s.events(),
        vec![Event::SubscriptionFailed {
            channel: "private-b".into(),
            error: SubscriptionError::Auth(AuthError {
                status: Some(403),
                message: "forbidden".into()
            })
        }]
    );
}

#[test]
fn subscription_error_and_channel_less_pusher_error_both_surface() {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "private-a").unwrap();
    s.conn.subscribe(s.now, "private-b").unwrap();
    s.auth_ok("private-a", "1.1", None);
    s.auth_ok("private-b", "1.1", None);
    s.events();
    s.frame(
        json!({"event":"pusher:subscription_error","channel":"private-a",
        "data":{"type":"AuthError","error":"bad","status":401}}),
    );
    s.frame(json!({"event":"pusher:error",
        "data":{"code":4009,"message":"Invalid signature for channel private-b"}}));
    let ev = s.events();
    assert!(ev.contains(&Event::SubscriptionFailed {
        channel: "private-a".into(),
        error: SubscriptionError::Server {
            status: Some(401),
            message: "bad".into()
        }
    }));
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::SubscriptionFailed { channel, .. } if channel == "private-b")));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::Error(ProtocolError::Server {
            code: Some(4009),
            ..
        })
    )));
    assert_eq!(s.conn.state(), State::Connected);
}

#[test]
fn channel_events_are_delivered_with_every_data_shape() {
    let mut s = Sim::new();
    s.conn.subscribe(s.now, "news").unwrap();
    s.connect("1.1");
    s.succeed("news", json!({}));
    s.events();
    s.frame(json!({"event":"a","channel":"news","data":"{\"x\":1}"}));
    s.frame(json!({"event":"b","channel":"news","data":{"x":2}}));
    s.frame(json!({"event":"c","channel":"news","data":"plain"}));
    s.frame(json!({"event":"d","channel":"news"}));
    let data: Vec<Data> = s
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(data),
            _ => None,
        })
        .collect();
    assert_eq!(
        data,
        vec![
            Data::Json(json!({"x":1})),
            Data::Json(json!({"x":2})),
            Data::Text("plain".into()),
            Data::None
        ]
    );
}

#[test]
fn oversized_and_malformed_frames_are_dropped_with_an_error_and_the_connection_stays() {
    let mut c = config();
    c.max_frame_bytes = 100;
    let mut s = Sim::with(c);
    s.conn.connect(s.now);
    s.establish("1.1", 120);
    s.events();
    s.conn.handle_frame(s.now, &"x".repeat(101));
    s.conn.handle_frame(s.now, "{not json");
    s.conn.handle_frame(s.now, "[1,2]");
    let ev = s.events();
    assert_eq!(ev.len(), 3);
    assert!(ev
        .iter()
        .all(|e| matches!(e, Event::Error(ProtocolError::Frame(_)))));
    assert_eq!(s.conn.state(), State::Connected);
}

// ---- presence ---------------------------------------------------------------------------

fn presence_sim() -> Sim {
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "presence-room").unwrap();
    s.auth_ok(
        "presence-room",
        "1.1",
        Some(r#"{"user_id":"1","user_info":{"name":"Alice"}}"#),
    );
    s.succeed(
        "presence-room",
        json!({"presence":{"ids":["1","2"],"hash":{"1":{"name":"Alice"},"2":{"name":"Bob"}},"count":2}}),
    );
    s
}

#[test]
fn presence_members_come_from_subscription_succeeded_with_me() {
    let mut s = presence_sim();
    let m = s.conn.members("presence-room").unwrap();
    assert_eq!(m.count(), 2);
    assert_eq!(m.me.as_deref(), Some("1"));
    assert_eq!(m.get("2").unwrap().info, json!({"name":"Bob"}));
    assert!(s.events().iter().any(|e| matches!(e,
        Event::Subscribed { members: Some(m), .. } if m.count() == 2)));
}

#[test]
fn member_added_counts_only_new_ids_and_member_removed_removes() {
    let mut s = presence_sim();
    s.events();
    let add = |id: &str| {
        json!({"event":"pusher_internal:member_added","channel":"presence-room",
        "data": json!({"user_id": id, "user_info": {"name": "C"}}).to_string()})
    };
    s.frame(add("3"));
    s.frame(add("3")); // second connection of the same user
    s.frame(add("2"));
    let added: Vec<_> = s
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::MemberAdded { .. }))
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(s.conn.members("presence-room").unwrap().count(), 3);
    s.frame(
        json!({"event":"pusher_internal:member_removed","channel":"presence-room",
        "data":{"user_id":"2"}}),
    );
    assert!(
        matches!(s.events().as_slice(), [Event::MemberRemoved { member, .. }] if member.id == "2")
    );
    assert_eq!(s.conn.members("presence-room").unwrap().count(), 2);
}

// ---- client events ----------------------------------------------------------------------

#[test]
fn client_events_need_the_prefix_an_allowed_channel_and_a_subscription() {
    let mut s = presence_sim();
    s.conn.subscribe(s.now, "news").unwrap();
    s.succeed("news", json!({}));
    s.transmits();
    let d = json!({"typing":true});
    assert_eq!(
        s.conn.trigger(s.now, "presence-room", "typing", &d),
        Err(TriggerError::NotClientEvent)
    );
    assert_eq!(
        s.conn.trigger(s.now, "news", "client-typing", &d),
        Err(TriggerError::ChannelNotAllowed)
    );
    assert_eq!(
        s.conn
            .trigger(s.now, "private-encrypted-x", "client-typing", &d),
        Err(TriggerError::ChannelNotAllowed)
    );
    assert!(matches!(
        s.conn.trigger(s.now, "private-other", "client-typing", &d),
        Err(TriggerError::NotSubscribed(_))
    ));
    assert!(s.sent().is_empty());
    s.conn
        .trigger(s.now, "presence-room", "client-typing", &d)
        .unwrap();
    assert_eq!(
        s.sent(),
        vec![json!({"event":"client-typing","channel":"presence-room","data":{"typing":true}})]
    );
}

#[test]
fn client_events_are_limited_to_ten_per_second_per_connection() {
    let mut s = presence_sim();
    s.transmits();
    let d = json!({});
    for _ in 0..10 {
        s.conn
            .trigger(s.now, "presence-room", "client-x", &d)
            .unwrap();
        s.now += Duration::from_millis(50);
    }
    assert_eq!(
        s.conn.trigger(s.now, "presence-room", "client-x", &d),
        Err(TriggerError::RateLimited)
    );
    assert_eq!(s.sent().len(), 10);
    s.now += Duration::from_millis(600);
    assert!(s
        .conn
        .trigger(s.now, "presence-room", "client-x", &d)
        .is_ok());
}

#[test]
fn received_client_events_carry_the_sender_user_id() {
    let mut s = presence_sim();
    s.events();
    s.frame(json!({"event":"client-typing","channel":"presence-room","user_id":"2","data":{"typing":true}}));
    assert!(matches!(s.events().as_slice(),
        [Event::Message { user_id: Some(u), .. }] if u == "2"));
}

// ---- sign-in, cache, counts, encryption -------------------------------------------------

#[test]
fn signin_is_sent_after_every_reconnect_and_joins_the_user_channel() {
    let mut s = Sim::new();
    s.conn.signin(s.now);
    s.connect("1.1");
    assert_eq!(
        s.auths(),
        vec![AuthRequest::User {
            socket_id: "1.1".into()
        }]
    );
    s.conn.handle_user_auth(
        s.now,
        "1.1",
        Ok(crate::sign::UserAuthentication {
            auth: "key:sig".into(),
            user_data: r#"{"id":"7"}"#.into(),
        }),
    );
    assert_eq!(s.sent()[0]["event"], "pusher:signin");
    s.frame(json!({"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"7\"}"}}));
    assert_eq!(
        s.sent(),
        vec![json!({"event":"pusher:subscribe","data":{"channel":"#server-to-user-7"}})]
    );
    s.events();
    s.frame(json!({"event":"hello","channel":"#server-to-user-7","data":{"a":1}}));
    assert_eq!(
        s.events(),
        vec![Event::UserMessage {
            event: "hello".into(),
            data: Data::Json(json!({"a":1}))
        }]
    );
    s.close(Some(4200));
    s.transmits();
    s.establish("2.2", 120);
    assert_eq!(
        s.auths(),
        vec![AuthRequest::User {
            socket_id: "2.2".into()
        }]
    );
}

#[test]
fn cache_miss_and_subscription_count_are_reported() {
    let mut s = Sim::new();
    s.conn.subscribe(s.now, "cache-prices").unwrap();
    s.connect("1.1");
    s.succeed("cache-prices", json!({}));
    s.events();
    s.frame(json!({"event":"pusher:cache_miss","channel":"cache-prices"}));
    s.frame(
        json!({"event":"pusher_internal:subscription_count","channel":"cache-prices",
        "data":"{\"subscription_count\":4}"}),
    );
    assert_eq!(
        s.events(),
        vec![
            Event::CacheMiss {
                channel: "cache-prices".into()
            },
            Event::SubscriptionCount {
                channel: "cache-prices".into(),
                count: 4
            }
        ]
    );
}

fn encrypted_sim(secret: &[u8; 32]) -> Sim {
    use base64::Engine;
    let mut s = Sim::new();
    s.connect("1.1");
    s.conn.subscribe(s.now, "private-encrypted-x").unwrap();
    s.conn.handle_channel_auth(
        s.now,
        "private-encrypted-x",
        "1.1",
        Ok(ChannelAuthorization {
            auth: "key:sig".into(),
            channel_data: None,
            shared_secret: Some(base64::engine::general_purpose::STANDARD.encode(secret)),
        }),
    );
    s.succeed("private-encrypted-x", json!({}));
    s.events();
    s.auths();
    s
}

fn encrypted_frame(secret: &[u8; 32], text: &str) -> Value {
    let payload = crate::crypto::encrypt(secret, text.as_bytes());
    json!({"event":"secret","channel":"private-encrypted-x",
        "data": serde_json::to_string(&payload).unwrap()})
}

#[test]
fn encrypted_channel_events_are_decrypted() {
    let secret = [7u8; 32];
    let mut s = encrypted_sim(&secret);
    s.frame(encrypted_frame(&secret, r#"{"msg":"hi"}"#));
    assert!(matches!(s.events().as_slice(),
        [Event::Message { data: Data::Json(v), .. }] if v == &json!({"msg":"hi"})));
}

#[test]
fn a_decrypt_failure_reauthorizes_once_and_retries_with_the_new_secret() {
    use base64::Engine;
    let old = [1u8; 32];
    let new = [2u8; 32];
    let mut s = encrypted_sim(&old);
    s.frame(encrypted_frame(&new, r#"{"n":1}"#));
    assert!(s.events().is_empty(), "held while re-authorizing");
    assert_eq!(s.auths().len(), 1);
    s.conn.handle_channel_auth(
        s.now,
        "private-encrypted-x",
        "1.1",
        Ok(ChannelAuthorization {
            auth: "key:sig".into(),
            channel_data: None,
            shared_secret: Some(base64::engine::general_purpose::STANDARD.encode(new)),
        }),
    );
    assert!(matches!(s.events().as_slice(), [Event::Message { .. }]));
    // A payload no key opens: re-authorize once, then give up with an error.
    s.frame(encrypted_frame(&[9u8; 32], "x"));
    assert_eq!(s.auths().len(), 1);
    s.conn.handle_channel_auth(
        s.now,
        "private-encrypted-x",
        "1.1",
        Ok(ChannelAuthorization {
            auth: "key:sig".into(),
            channel_data: None,
            shared_secret: Some(base64::engine::general_purpose::STANDARD.encode(new)),
        }),
    );
    assert!(matches!(
        s.events().as_slice(),
        [Event::Error(ProtocolError::Decrypt { .. })]
    ));
}
