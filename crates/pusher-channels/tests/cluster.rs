//! The client against a cluster: two real Sockudo nodes serving one app over one real Redis
//! (Sockudo's Redis adapter), with clients connected to different nodes. Presence, client events
//! and events triggered through either node's HTTP API must cross from one node to the other.
//!
//! Needs a `sockudo` built with its `redis` feature and `redis-server`, as
//! `scripts/bootstrap.sh test` installs them; without either, the harness fails with a message
//! saying to run it.
#![allow(clippy::unwrap_used)]

mod support;

use confab_testkit::{Adapter, Redis, Sockudo};
use pusher_channels::frame::Data;
use pusher_channels::proto::Event;
use serde_json::json;
use support::*;

/// One Redis and two Sockudo nodes on it serving the same app. Bind the result in this order
/// (`let (_redis, one, two) = ...`) so the nodes drop, and stop, before the Redis they use.
async fn two_node_cluster() -> (Redis, Sockudo, Sockudo) {
    let redis = Redis::start().await.unwrap();
    let adapter = Adapter::redis(redis.url(), "confab-cluster-test");
    let one = Sockudo::builder()
        .adapter(adapter.clone())
        .start()
        .await
        .unwrap();
    let two = Sockudo::builder()
        .adapter(adapter)
        .same_app_as(&one)
        .start()
        .await
        .unwrap();
    assert_ne!(one.port(), two.port());
    (redis, one, two)
}

fn message_on<'a>(channel: &'a str, event: &'a str) -> impl FnMut(&Event) -> bool + 'a {
    move |e| matches!(e, Event::Message { channel: c, event: n, .. } if c == channel && n == event)
}

fn member_ids(event: &Event) -> Vec<String> {
    match event {
        Event::Subscribed {
            members: Some(members),
            ..
        } => members.members.keys().cloned().collect(),
        other => panic!("not a presence subscription: {other:?}"),
    }
}

#[tokio::test]
async fn a_member_joining_on_one_node_is_seen_on_the_other_and_both_list_both() {
    let (_redis, one, two) = two_node_cluster().await;
    let channel = "presence-chat-room-1";
    let (alice, mut a_events) = start_client(&one, "alice");
    alice.subscribe(channel).unwrap();
    assert_eq!(
        member_ids(&subscribed(&mut a_events, channel).await),
        ["alice"]
    );

    // Bob subscribes on the other node: his member list comes from both nodes ...
    let (bob, mut b_events) = start_client(&two, "bob");
    bob.subscribe(channel).unwrap();
    let e = subscribed(&mut b_events, channel).await;
    assert_eq!(member_ids(&e), ["alice", "bob"]);

    // ... and Alice hears of him through Redis.
    let e = expect(&mut a_events, 10, "bob's member_added", |e| {
        matches!(e, Event::MemberAdded { .. })
    })
    .await;
    let Event::MemberAdded { channel: c, member } = e else {
        unreachable!()
    };
    assert_eq!((c.as_str(), member.id.as_str()), (channel, "bob"));
    assert_eq!(member.info, json!({"name": "user bob"}));
    let members = alice.members(channel).await.unwrap().unwrap();
    assert_eq!(members.members.keys().collect::<Vec<_>>(), ["alice", "bob"]);
    let members = bob.members(channel).await.unwrap().unwrap();
    assert_eq!(
        members.get("alice").unwrap().info,
        json!({"name": "user alice"})
    );

    // When Bob leaves the channel, Alice's node learns it too.
    bob.unsubscribe(channel).unwrap();
    let e = expect(&mut a_events, 10, "bob's member_removed", |e| {
        matches!(e, Event::MemberRemoved { .. })
    })
    .await;
    let Event::MemberRemoved { member, .. } = e else {
        unreachable!()
    };
    assert_eq!(member.id, "bob");
    let members = alice.members(channel).await.unwrap().unwrap();
    assert_eq!(members.members.keys().collect::<Vec<_>>(), ["alice"]);
}

#[tokio::test]
async fn a_member_whose_connection_to_the_other_node_closes_is_removed() {
    let (_redis, one, two) = two_node_cluster().await;
    let channel = "presence-chat-room-2";
    let (alice, mut a_events) = start_client(&one, "alice");
    alice.subscribe(channel).unwrap();
    subscribed(&mut a_events, channel).await;
    let (bob, mut b_events) = start_client(&two, "bob");
    bob.subscribe(channel).unwrap();
    subscribed(&mut b_events, channel).await;
    expect(
        &mut a_events,
        10,
        "bob's member_added",
        |e| matches!(e, Event::MemberAdded { member, .. } if member.id == "bob"),
    )
    .await;

    bob.disconnect().unwrap();

    expect(
        &mut a_events,
        10,
        "bob's member_removed",
        |e| matches!(e, Event::MemberRemoved { member, .. } if member.id == "bob"),
    )
    .await;
    let members = alice.members(channel).await.unwrap().unwrap();
    assert_eq!(members.members.keys().collect::<Vec<_>>(), ["alice"]);
}

#[tokio::test]
async fn a_client_event_sent_on_one_node_reaches_a_member_connected_to_the_other() {
    let (_redis, one, two) = two_node_cluster().await;
    let channel = "private-chat-room-3";
    let (alice, mut a_events) = start_client(&one, "alice");
    let (bob, mut b_events) = start_client(&two, "bob");
    alice.subscribe(channel).unwrap();
    bob.subscribe(channel).unwrap();
    subscribed(&mut a_events, channel).await;
    subscribed(&mut b_events, channel).await;

    alice
        .trigger(channel, "client-typing", json!({"typing": true}))
        .await
        .unwrap();

    let e = expect(
        &mut b_events,
        10,
        "alice's client-typing",
        message_on(channel, "client-typing"),
    )
    .await;
    let Event::Message { data, .. } = e else {
        unreachable!()
    };
    assert_eq!(data, Data::Json(json!({"typing": true})));

    // The way back works too, and the cluster does not echo Alice's event to her.
    bob.trigger(channel, "client-marker", json!({}))
        .await
        .unwrap();
    expect(&mut a_events, 10, "bob's client-marker", |e| match e {
        Event::Message { event, .. } if event == "client-typing" => panic!("echoed to sender"),
        Event::Message { event, .. } => event == "client-marker",
        _ => false,
    })
    .await;
}

#[tokio::test]
async fn an_event_triggered_through_one_nodes_http_api_reaches_a_subscriber_of_the_other() {
    let (_redis, one, two) = two_node_cluster().await;
    let (bob, mut b_events) = start_client(&two, "bob");
    bob.subscribe("private-user-bob").unwrap();
    subscribed(&mut b_events, "private-user-bob").await;

    trigger_client(&one)
        .trigger(
            &["private-user-bob".into()],
            "message-created",
            r#"{"id":7}"#,
            None,
        )
        .await
        .unwrap();

    let e = expect(
        &mut b_events,
        10,
        "the triggered event",
        message_on("private-user-bob", "message-created"),
    )
    .await;
    let Event::Message { data, .. } = e else {
        unreachable!()
    };
    assert_eq!(data, Data::Json(json!({"id": 7})));
}
