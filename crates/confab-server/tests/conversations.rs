//! Starting and shaping conversations on loopback against a real Sockudo: one direct
//! conversation per pair (under concurrency too), renaming, adding people, leaving and muting,
//! with what sync then shows to whom.

mod support;

use anyhow::Result;
use confab_model::ChannelName;
use confab_server::store::conversations::MAX_MEMBERS;
use confab_server::store::{self, StoreError};
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::TestServer;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The changes of one `type`.
fn of_type<'a>(changes: &'a [Value], kind: &str) -> Vec<&'a Value> {
    changes.iter().filter(|c| c["type"] == kind).collect()
}

#[tokio::test]
async fn a_direct_conversation_is_kept_once_per_pair_and_asked_for_again_answers_it_with_200(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let (ada_id, grace_id, linus_id) = (server.id(0), server.id(1), server.id(2));

    let (status, direct) = ada
        .post("/api/conversations", &json!({"memberIds": [grace_id]}))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{direct}");
    assert_eq!(direct["kind"], "direct", "one other member and no title");
    assert_eq!(direct["title"], "Ada, Grace");
    assert_eq!(direct["memberIds"], json!([ada_id, grace_id]));
    assert!(direct.get("muted").is_none(), "muted is only listed");
    let id = direct["id"].clone();

    let path = format!("/api/conversations/{id}/messages");
    let (_, hello) = grace
        .post(&path, &json!({"content": "hello", "clientId": "h"}))
        .await?;
    let (status, again) = grace
        .post("/api/conversations", &json!({"memberIds": [ada_id]}))
        .await?;
    assert_eq!(status, StatusCode::OK, "the other side gets the same one");
    assert_eq!(again["id"], id);
    assert_eq!(again["kind"], "direct");
    assert_eq!(
        again["lastMessage"], hello,
        "answered as the caller sees it"
    );
    let (status, explicit) = ada
        .post(
            "/api/conversations",
            &json!({"memberIds": [grace_id, ada_id], "kind": "direct"}),
        )
        .await?;
    assert_eq!((status, &explicit["id"]), (StatusCode::OK, &id));
    assert_eq!(explicit["unreadCount"], 1, "Ada has not read Grace's hello");

    // A group of the same two people is another conversation, asked for or titled.
    for body in [
        json!({"memberIds": [grace_id], "kind": "group"}),
        json!({"memberIds": [grace_id], "title": "Plans"}),
    ] {
        let (status, group) = ada.post("/api/conversations", &body).await?;
        assert_eq!(status, StatusCode::CREATED, "{body}: {group}");
        assert_eq!(group["kind"], "group");
        assert_ne!(group["id"], id);
    }
    let (_, three) = ada
        .post(
            "/api/conversations",
            &json!({"memberIds": [grace_id, linus_id]}),
        )
        .await?;
    assert_eq!(three["kind"], "group", "more than two people make a group");

    for bad in [
        json!({"memberIds": [grace_id, linus_id], "kind": "direct"}),
        json!({"memberIds": [grace_id], "kind": "direct", "title": "Us"}),
        json!({"memberIds": [ada_id], "kind": "direct"}),
    ] {
        let (status, body) = ada.post("/api/conversations", &bad).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(code(&body), "validation_failed");
    }
    let (status, body) = ada
        .post(
            "/api/conversations",
            &json!({"memberIds": [grace_id], "kind": "sideways"}),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let changes = grace.changes_since(0).await?;
    let created: Vec<&Value> = of_type(&changes, "conversation-created")
        .into_iter()
        .filter(|c| c["conversation"]["id"] == id)
        .collect();
    assert_eq!(created.len(), 1, "announced once: {changes:?}");
    assert_eq!(created[0]["conversation"]["kind"], "direct");
    assert!(created[0]["conversation"].get("muted").is_none());
    Ok(())
}

#[tokio::test]
async fn sixteen_concurrent_requests_from_both_sides_make_exactly_one_direct_conversation(
) -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let (ada_id, grace_id) = (server.id(0), server.id(1));
    let requests = (0..16).map(|i| {
        let (api, other) = if i % 2 == 0 {
            (ada.clone(), grace_id)
        } else {
            (grace.clone(), ada_id)
        };
        async move {
            api.post("/api/conversations", &json!({"memberIds": [other]}))
                .await
        }
    });
    let answers = join_all(requests)
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::OK));
    let id = answers[0].1["id"].clone();
    assert!(
        answers.iter().all(|(_, body)| body["id"] == id),
        "{answers:?}"
    );

    for api in [&ada, &grace] {
        let changes = api.changes_since(0).await?;
        let created = of_type(&changes, "conversation-created");
        assert_eq!(created.len(), 1, "{changes:?}");
        assert_eq!(created[0]["conversation"]["id"], id);
        let (_, list) = api.get("/api/conversations").await?;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    }
    Ok(())
}

#[tokio::test]
async fn a_member_renames_a_group_but_nobody_renames_a_direct_conversation() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let group = server.group(&ada, "Plans", &[1]).await?;
    let direct = server.conversation(&ada, &[1]).await?;
    let cursor = grace.cursor().await?;
    let path = format!("/api/conversations/{group}");

    let (status, renamed) = grace
        .patch(&path, &json!({"title": "  Launch plans "}))
        .await?;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["title"], "Launch plans", "trimmed");
    assert_eq!(renamed["kind"], "group");
    assert_eq!(renamed["id"], group);
    let changes = ada.changes_since(cursor).await?;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["type"], "conversation-updated");
    assert_eq!(changes[0]["conversation"]["title"], "Launch plans");
    assert_eq!(grace.changes_since(cursor).await?, changes);
    let (_, list) = ada.get("/api/conversations").await?;
    let titles: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert!(titles.contains(&"Launch plans"), "{titles:?}");

    let (status, same) = ada.patch(&path, &json!({"title": "Launch plans"})).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["title"], "Launch plans");
    assert_eq!(
        ada.changes_since(cursor).await?.len(),
        1,
        "the same title again changes nothing"
    );

    let (status, body) = linus.patch(&path, &json!({"title": "Mine"})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(code(&body), "forbidden");
    let (status, body) = ada
        .patch("/api/conversations/424242", &json!({"title": "Nowhere"}))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for bad in [
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": "t".repeat(201)}),
    ] {
        let (status, body) = ada.patch(&path, &bad).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, _) = ada.patch(&path, &json!({"title": "t".repeat(200)})).await?;
    assert_eq!(status, StatusCode::OK, "200 characters are allowed");
    let (status, body) = ada
        .patch(
            &format!("/api/conversations/{direct}"),
            &json!({"title": "Us"}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("direct conversation cannot be renamed")),
        "{body}"
    );
    for bad in [json!({"title": 5}), json!({})] {
        let (status, body) = ada.patch(&path, &bad).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(code(&body), "bad_request");
    }
    let (status, _) = ada
        .patch("/api/conversations/abc", &json!({"title": "x"}))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn someone_added_to_a_group_gets_it_through_sync_without_its_older_changes() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let linus = server.login(2).await?;
    let (ada_id, grace_id, linus_id) = (server.id(0), server.id(1), server.id(2));
    let group = server.group(&ada, "Plans", &[1]).await?;
    let messages = format!("/api/conversations/{group}/messages");
    let (_, before) = ada
        .post(
            &messages,
            &json!({"content": "before Linus", "clientId": "b"}),
        )
        .await?;
    let path = format!("/api/conversations/{group}/members");

    let (status, body) = linus.post(&path, &json!({"memberIds": [linus_id]})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "only members add: {body}");
    let (status, added) = ada
        .post(&path, &json!({"memberIds": [linus_id, grace_id, linus_id]}))
        .await?;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["memberIds"], json!([ada_id, grace_id, linus_id]));
    assert_eq!(added["lastMessage"], before, "the caller's view");

    let changes = linus.changes_since(0).await?;
    let types: Vec<&str> = changes.iter().filter_map(|c| c["type"].as_str()).collect();
    assert_eq!(
        types,
        vec!["conversation-updated"],
        "the conversation arrives, not the history from before him"
    );
    assert_eq!(changes[0]["conversation"]["memberIds"], added["memberIds"]);
    let (status, history) = linus.get(&messages).await?;
    assert_eq!(status, StatusCode::OK, "he may read the history on demand");
    assert_eq!(history, json!([before]));
    let (_, after) = ada
        .post(
            &messages,
            &json!({"content": "after Linus", "clientId": "a"}),
        )
        .await?;
    let changes = linus.changes_since(0).await?;
    assert_eq!(changes.last().map(|c| &c["message"]), Some(&after));

    let cursor = ada.cursor().await?;
    let (status, same) = linus.post(&path, &json!({"memberIds": [ada_id]})).await?;
    assert_eq!(status, StatusCode::OK, "already members are ignored");
    assert_eq!(same["memberIds"], added["memberIds"]);
    assert_eq!(ada.changes_since(cursor).await?, Vec::<Value>::new());

    for bad in [
        json!({"memberIds": []}),
        json!({"memberIds": [999_999]}),
        json!({"memberIds": (1..=101).collect::<Vec<i64>>()}),
    ] {
        let (status, body) = ada.post(&path, &bad).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, _) = ada.post(&path, &json!({"memberIds": "everyone"})).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = ada
        .post(
            "/api/conversations/424242/members",
            &json!({"memberIds": [linus_id]}),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let direct = server.conversation(&ada, &[1]).await?;
    let (status, body) = ada
        .post(
            &format!("/api/conversations/{direct}/members"),
            &json!({"memberIds": [linus_id]}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    Ok(())
}

#[tokio::test]
async fn a_group_holds_at_most_the_member_limit_and_disabled_people_cannot_join() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let group = server.group(&ada, "Crowd", &[1]).await?;
    let room = MAX_MEMBERS - 2;
    let newcomers: Vec<i64> = server
        .state
        .db()
        .write(move |c| {
            (0..=room)
                .map(|i| {
                    store::users::create_user(
                        c,
                        &format!("p{i}@example.test"),
                        &format!("P{i}"),
                        "-",
                    )
                    .map(|u| u.id)
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    let path = format!("/api/conversations/{group}/members");
    let (status, body) = ada
        .post(&path, &json!({"memberIds": &newcomers[..]}))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "one too many");
    assert!(body.to_string().contains("at most"), "{body}");
    let (status, full) = ada
        .post(&path, &json!({"memberIds": &newcomers[..room]}))
        .await?;
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(
        full["memberIds"].as_array().map(Vec::len),
        Some(MAX_MEMBERS)
    );

    let last = newcomers[room];
    server
        .state
        .db()
        .write(move |c| store::users::disable(c, &format!("p{room}@example.test")).map(|_| ()))
        .await?;
    let (status, _) = ada
        .post(
            &format!(
                "/api/conversations/{}/members",
                server.group(&ada, "Small", &[1]).await?
            ),
            &json!({"memberIds": [last]}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a disabled user");
    Ok(())
}

#[tokio::test]
async fn a_member_who_leaves_loses_the_room_its_messages_and_its_changes() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let (ada_id, grace_id, linus_id) = (server.id(0), server.id(1), server.id(2));
    let group = server.group(&ada, "Trio", &[1, 2]).await?;
    let room = ChannelName::chat_room(group);
    let socket = "1234.5678";
    let (status, _) = grace.pusher_auth(socket, &room).await?;
    assert_eq!(status, StatusCode::OK, "a member may join the room");
    let grace_cursor = grace.cursor().await?;
    let ada_cursor = ada.cursor().await?;

    let leave = format!("/api/conversations/{group}/leave");
    let (status, body) = grace.post(&leave, &json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let (status, body) = grace.pusher_auth(socket, &room).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let messages = format!("/api/conversations/{group}/messages");
    let (status, _) = grace.get(&messages).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, list) = grace.get("/api/conversations").await?;
    assert_eq!(list, json!([]));

    let mine = grace.changes_since(grace_cursor).await?;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(
        mine[0],
        json!({"type": "conversation-left", "seq": mine[0]["seq"],
            "conversationId": group, "userId": grace_id})
    );
    let theirs = ada.changes_since(ada_cursor).await?;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["type"], "conversation-updated");
    assert_eq!(
        theirs[0]["conversation"]["memberIds"],
        json!([ada_id, linus_id])
    );
    assert_ne!(
        theirs[0]["seq"], mine[0]["seq"],
        "each change has its own seq"
    );
    assert_eq!(linus.changes_since(ada_cursor).await?, theirs);

    ada.post(
        &messages,
        &json!({"content": "after Grace", "clientId": "g"}),
    )
    .await?;
    ada.patch(
        &format!("/api/conversations/{group}"),
        &json!({"title": "Duo"}),
    )
    .await?;
    assert_eq!(
        grace.changes_since(grace_cursor).await?,
        mine,
        "nothing of it reaches her any more"
    );

    let (status, _) = grace.post(&leave, &json!({})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "no longer a member");
    let (status, _) = grace
        .post("/api/conversations/424242/leave", &json!({}))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = grace.post("/api/conversations/x/leave", &json!({})).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let direct = server.conversation(&ada, &[1]).await?;
    let (status, body) = ada
        .post(&format!("/api/conversations/{direct}/leave"), &json!({}))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Added back, she sees it again from that moment on.
    let (status, _) = ada
        .post(
            &format!("/api/conversations/{group}/members"),
            &json!({"memberIds": [grace_id]}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK);
    let back = grace
        .changes_since(mine[0]["seq"].as_i64().unwrap_or(0))
        .await?;
    let of_group: Vec<&Value> = back
        .iter()
        .filter(|c| c["conversation"]["id"] == group || c["message"]["conversationId"] == group)
        .collect();
    assert_eq!(of_group.len(), 1, "{back:?}");
    assert_eq!(of_group[0]["type"], "conversation-updated");
    assert_eq!(of_group[0]["conversation"]["title"], "Duo");
    Ok(())
}

#[tokio::test]
async fn muting_is_the_callers_own_setting_listed_and_synced_to_them_alone() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let direct = server.conversation(&ada, &[1]).await?;
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["muted"], false, "listed with the caller's setting");
    let (ada_cursor, grace_cursor) = (ada.cursor().await?, grace.cursor().await?);
    let mute = format!("/api/conversations/{direct}/mute");

    let (status, body) = ada.put(&mute, &json!({"muted": true})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["muted"], true);
    let (_, list) = grace.get("/api/conversations").await?;
    assert_eq!(list[0]["muted"], false, "Grace's own setting is untouched");

    let changes = ada.changes_since(ada_cursor).await?;
    assert_eq!(
        changes,
        vec![
            json!({"type": "conversation-muted", "seq": changes[0]["seq"],
            "conversationId": direct, "muted": true})
        ]
    );
    assert_eq!(
        grace.changes_since(grace_cursor).await?,
        Vec::<Value>::new()
    );

    let (status, _) = ada.put(&mute, &json!({"muted": true})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        ada.changes_since(ada_cursor).await?.len(),
        1,
        "muting a muted conversation changes nothing"
    );
    ada.put(&mute, &json!({"muted": false})).await?;
    let changes = ada.changes_since(ada_cursor).await?;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1]["muted"], false);
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["muted"], false);

    let (status, _) = linus.put(&mute, &json!({"muted": true})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = ada
        .put("/api/conversations/424242/mute", &json!({"muted": true}))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for bad in [json!({"muted": "yes"}), json!({})] {
        let (status, body) = ada.put(&mute, &bad).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(code(&body), "bad_request");
    }
    Ok(())
}
