//! Realtime behaviour against a real Sockudo: events on the right channels with the right
//! payloads, the sender's socket excluded, channel authorization, and catching up by sync.

mod support;

use anyhow::Result;
use confab_model::ChannelName;
use reqwest::StatusCode;
use serde_json::json;
use support::TestServer;

#[tokio::test]
async fn a_message_reaches_the_other_members_but_not_the_senders_own_socket() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let channel = ChannelName::chat_room(room);
    let mut ada_ws = server.listen(&ada).await?;
    let mut grace_ws = server.listen(&grace).await?;
    ada_ws.subscribe(&channel).await?;
    grace_ws.subscribe(&channel).await?;

    let path = format!("/api/conversations/{room}/messages");
    let (status, sent) = ada
        .post_from_socket(
            &path,
            &json!({"content": "from my socket", "clientId": "a1"}),
            &ada_ws.socket_id,
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let got = grace_ws.next("new-message").await?;
    assert_eq!(got.channel, channel);
    assert_eq!(got.data, sent, "the event carries the stored message");

    // Grace has seen the first event, so Sockudo has processed it; the next new-message on
    // Ada's socket must be the second one.
    let (_, second) = ada
        .post(
            &path,
            &json!({"content": "no socket header", "clientId": "a2"}),
        )
        .await?;
    let ada_got = ada_ws.next("new-message").await?;
    assert_eq!(
        ada_got.data["id"], second["id"],
        "the sender's socket was excluded from the first"
    );
    Ok(())
}

#[tokio::test]
async fn knowledge_requests_and_answers_arrive_on_the_private_user_channels() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let (ada_id, grace_id) = (server.users[0].user.id, server.users[1].user.id);
    let mut ada_ws = server.listen(&ada).await?;
    let mut grace_ws = server.listen(&grace).await?;
    ada_ws.subscribe(&ChannelName::private_user(ada_id)).await?;
    grace_ws
        .subscribe(&ChannelName::private_user(grace_id))
        .await?;

    let (_, req) = grace
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": ada_id, "question": "Share the runbook?"}),
        )
        .await?;
    let got = ada_ws.next("knowledge-request").await?;
    assert_eq!(got.channel, format!("private-user-{ada_id}"));
    assert_eq!(
        got.data,
        json!({"type": "knowledge-request", "requestId": req["id"], "question": "Share the runbook?",
            "requesterName": "Grace", "createdAt": req["createdAt"], "seq": req["seq"]})
    );

    let (_, answered) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": req["id"], "status": "denied"}),
        )
        .await?;
    let got = grace_ws.next("knowledge-response").await?;
    assert_eq!(got.channel, format!("private-user-{grace_id}"));
    assert_eq!(
        got.data,
        json!({"type": "knowledge-response", "requestId": req["id"], "status": "denied",
            "answeredAt": answered["answeredAt"], "seq": answered["seq"]})
    );
    Ok(())
}

#[tokio::test]
async fn a_new_conversation_is_announced_on_every_members_private_channel() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let mut grace_ws = server.listen(&grace).await?;
    let mut linus_ws = server.listen(&linus).await?;
    grace_ws
        .subscribe(&ChannelName::private_user(server.users[1].user.id))
        .await?;
    linus_ws
        .subscribe(&ChannelName::private_user(server.users[2].user.id))
        .await?;
    let (status, created) = ada
        .post("/api/conversations", &json!({"title": "Trio", "memberIds": [server.users[1].user.id, server.users[2].user.id]}))
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    for ws in [&mut grace_ws, &mut linus_ws] {
        let got = ws.next("conversation-created").await?;
        assert_eq!(got.data["conversation"], created);
        assert!(got.data["seq"].as_i64().is_some());
    }
    Ok(())
}

#[tokio::test]
async fn read_receipts_and_client_typing_events_reach_the_room() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let channel = ChannelName::chat_room(room);
    let mut ada_ws = server.listen(&ada).await?;
    let mut grace_ws = server.listen(&grace).await?;
    ada_ws.subscribe(&channel).await?;
    grace_ws.subscribe(&channel).await?;

    let (_, msg) = grace
        .post(
            &format!("/api/conversations/{room}/messages"),
            &json!({"content": "read me", "clientId": "r"}),
        )
        .await?;
    ada.post(
        &format!("/api/conversations/{room}/read"),
        &json!({"seq": msg["seq"]}),
    )
    .await?;
    let got = grace_ws.next("read-receipt").await?;
    assert_eq!(
        got.data,
        json!({"conversationId": room, "userId": server.users[0].user.id, "seq": msg["seq"]})
    );

    let typing = json!({"userId": server.users[0].user.id, "name": "Ada", "typing": true});
    ada_ws
        .send(&json!({"event": "client-typing", "channel": channel, "data": typing}))
        .await?;
    let got = grace_ws.next("client-typing").await?;
    assert_eq!(got.data, typing);
    Ok(())
}

#[tokio::test]
async fn channel_auth_signs_only_the_callers_channel_and_rooms_and_rejects_bad_sockets(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let socket = "1234.5678";
    let ada_id = server.users[0].user.id;

    let (status, own) = ada
        .pusher_auth(socket, &ChannelName::private_user(ada_id))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(own["auth"]
        .as_str()
        .is_some_and(|a| a.starts_with(&format!("{}:", server.sockudo.key()))));
    assert!(own.get("channel_data").is_none());

    let (status, presence) = ada
        .pusher_auth(socket, &ChannelName::chat_room(room))
        .await?;
    assert_eq!(status, StatusCode::OK);
    let data: serde_json::Value =
        serde_json::from_str(presence["channel_data"].as_str().unwrap_or("null"))?;
    assert_eq!(
        data,
        json!({"user_id": ada_id.to_string(), "user_info": {"name": "Ada"}})
    );

    for (api, channel) in [
        (&linus, ChannelName::private_user(ada_id)),
        (&linus, ChannelName::chat_room(room)),
        (&ada, ChannelName::chat_room(987_654)),
        (&ada, "private-anything".to_owned()),
        (&ada, "presence-chat-room-01".to_owned()),
        (&ada, "public".to_owned()),
    ] {
        let (status, body) = api.pusher_auth(socket, &channel).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{channel}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    for bad in ["", "1234", "abc.def", "1234.5678:x", "12.34.56"] {
        let (status, body) = ada
            .pusher_auth(bad, &ChannelName::private_user(ada_id))
            .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
    }
    let (status, _) = ada
        .post_raw(
            "/api/pusher/auth",
            "application/x-www-form-urlencoded",
            "channel_name=x".into(),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn batch_channel_auth_signs_what_the_single_endpoint_would_and_refuses_the_rest_one_by_one(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let linus_room = server.conversation(&linus, &[1]).await?;
    let socket = "1234.5678";
    let (ada_id, linus_id) = (server.users[0].user.id, server.users[2].user.id);
    let mine = ChannelName::private_user(ada_id);
    let my_room = ChannelName::chat_room(room);
    let theirs = ChannelName::private_user(linus_id);
    let not_mine = ChannelName::chat_room(linus_room);
    let channels = [
        mine.as_str(),
        my_room.as_str(),
        theirs.as_str(),
        not_mine.as_str(),
        "public",
        "presence-chat-room-01",
    ];
    let (status, batch) = ada
        .post(
            "/api/pusher/auth/batch",
            &json!({"socketId": socket, "channelNames": channels}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{batch}");
    let answers = &batch["channels"];
    // Signed exactly as the single endpoint signs.
    for channel in [mine.as_str(), my_room.as_str()] {
        let (_, single) = ada.pusher_auth(socket, channel).await?;
        assert_eq!(answers[channel]["auth"], single["auth"], "{channel}");
        assert_eq!(
            answers[channel].get("channelData").cloned(),
            single.get("channel_data").cloned()
        );
        assert!(answers[channel].get("error").is_none());
    }
    assert!(
        answers[my_room.as_str()]["channelData"].is_string(),
        "presence carries the member"
    );
    // Another user's channel, a room she is not in, and what is no channel: refused, each.
    for channel in [
        theirs.as_str(),
        not_mine.as_str(),
        "public",
        "presence-chat-room-01",
    ] {
        assert!(
            answers[channel].get("auth").is_none(),
            "{channel}: {answers}"
        );
        assert!(
            answers[channel]["error"].is_string(),
            "{channel}: {answers}"
        );
    }
    assert_eq!(answers.as_object().map(|a| a.len()), Some(channels.len()));

    // Bad input: a bad socket, no channels, too many.
    let too_many: Vec<String> = (0..=confab_model::api::PUSHER_BATCH_MAX)
        .map(|i| ChannelName::chat_room(i as i64 + 1))
        .collect();
    for body in [
        json!({"socketId": "1234", "channelNames": [&mine]}),
        json!({"socketId": socket, "channelNames": []}),
        json!({"socketId": socket, "channelNames": too_many}),
        json!({"socketId": socket}),
    ] {
        let (status, answer) = ada.post("/api/pusher/auth/batch", &body).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], "bad_request");
    }
    Ok(())
}

#[tokio::test]
async fn sync_returns_exactly_what_a_disconnected_client_missed() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let (_, page) = ada.get("/api/sync").await?;
    let cursor = page["nextSince"].as_i64().unwrap_or_default();

    // Ada is offline: Grace posts, asks, and an unrelated conversation happens.
    let path = format!("/api/conversations/{room}/messages");
    let mut expected = Vec::new();
    for i in 0..3 {
        let (_, m) = grace
            .post(
                &path,
                &json!({"content": format!("while away {i}"), "clientId": format!("w{i}")}),
            )
            .await?;
        expected.push(("message", m["seq"].as_i64()));
    }
    let (_, req) = grace
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": server.users[0].user.id, "question": "?"}),
        )
        .await?;
    expected.push(("knowledge-request", req["seq"].as_i64()));
    server.conversation(&grace, &[2]).await?;

    let (_, missed) = ada.get(&format!("/api/sync?since={cursor}")).await?;
    let got: Vec<(&str, Option<i64>)> = missed["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["type"].as_str().unwrap_or_default(), c["seq"].as_i64()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(missed["hasMore"], false);
    Ok(())
}

#[tokio::test]
async fn renaming_adding_and_leaving_a_group_are_announced_on_the_members_private_channels(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let (ada_id, grace_id, linus_id) = (server.id(0), server.id(1), server.id(2));
    let mut ada_ws = server.listen(&ada).await?;
    let mut grace_ws = server.listen(&grace).await?;
    let mut linus_ws = server.listen(&linus).await?;
    ada_ws.subscribe(&ChannelName::private_user(ada_id)).await?;
    grace_ws
        .subscribe(&ChannelName::private_user(grace_id))
        .await?;
    linus_ws
        .subscribe(&ChannelName::private_user(linus_id))
        .await?;
    let group = server.group(&ada, "Plans", &[1]).await?;

    let (_, renamed) = grace
        .patch(
            &format!("/api/conversations/{group}"),
            &json!({"title": "Launch"}),
        )
        .await?;
    let (_, changes) = ada.get("/api/sync").await?;
    let change = &changes["changes"][1];
    assert_eq!(change["type"], "conversation-updated");
    for (ws, id) in [(&mut ada_ws, ada_id), (&mut grace_ws, grace_id)] {
        let got = ws.next("conversation-updated").await?;
        assert_eq!(got.channel, ChannelName::private_user(id));
        assert_eq!(
            got.data,
            json!({"conversation": change["conversation"], "seq": change["seq"]})
        );
        assert_eq!(got.data["conversation"]["title"], renamed["title"]);
    }

    ada.post(
        &format!("/api/conversations/{group}/members"),
        &json!({"memberIds": [linus_id]}),
    )
    .await?;
    for ws in [&mut linus_ws, &mut ada_ws, &mut grace_ws] {
        let got = ws.next("conversation-updated").await?;
        assert_eq!(got.data["conversation"]["id"], group);
        assert_eq!(
            got.data["conversation"]["memberIds"],
            json!([ada_id, grace_id, linus_id]),
            "the newcomer learns of it this way, the others see him join"
        );
    }

    let (status, _) = grace
        .post(&format!("/api/conversations/{group}/leave"), &json!({}))
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left = grace_ws.next("conversation-left").await?;
    assert_eq!(left.channel, ChannelName::private_user(grace_id));
    assert_eq!(
        left.data,
        json!({"seq": left.data["seq"], "conversationId": group, "userId": grace_id})
    );
    for ws in [&mut ada_ws, &mut linus_ws] {
        let got = ws.next("conversation-updated").await?;
        assert_eq!(
            got.data["conversation"]["memberIds"],
            json!([ada_id, linus_id])
        );
        assert_ne!(got.data["seq"], left.data["seq"]);
    }
    Ok(())
}

#[tokio::test]
async fn muting_is_announced_on_the_callers_own_channel_for_their_other_devices() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let ada_laptop = server.login(0).await?;
    let ada_id = server.id(0);
    let mut laptop_ws = server.listen(&ada_laptop).await?;
    laptop_ws
        .subscribe(&ChannelName::private_user(ada_id))
        .await?;
    let direct = server.conversation(&ada, &[1]).await?;
    laptop_ws.next("conversation-created").await?;

    let (status, _) = ada
        .put(
            &format!("/api/conversations/{direct}/mute"),
            &json!({"muted": true}),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let got = laptop_ws.next("conversation-muted").await?;
    assert_eq!(got.channel, ChannelName::private_user(ada_id));
    assert_eq!(
        got.data,
        json!({"seq": got.data["seq"], "conversationId": direct, "muted": true})
    );
    let (_, page) = ada.get("/api/sync").await?;
    assert_eq!(
        page["changes"].as_array().and_then(|c| c.last()),
        Some(&json!({
            "type": "conversation-muted", "seq": got.data["seq"], "conversationId": direct, "muted": true
        }))
    );
    Ok(())
}
