//! Every REST endpoint on loopback against a real Sockudo: success and failure paths.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use confab_server::config::PusherSettings;
use confab_server::realtime::{BoxFuture, OutEvent, PublishError, Publisher};
use confab_server::throttle::FREE_FAILURES;
use confab_server::{app, AppState};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Api, TestServer};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn login_returns_a_token_and_the_user_and_refuses_bad_credentials_alike() -> Result<()> {
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let ada = &server.users[0];
    let (status, body) = anon
        .post(
            "/api/auth/login",
            &json!({"email": "ADA@example.test", "password": ada.password}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token"].as_str().map(str::len), Some(43));
    assert_eq!(
        body["user"],
        json!({"id": ada.user.id, "name": "Ada", "email": "ada@example.test"})
    );

    let (wrong_status, wrong) = anon
        .post(
            "/api/auth/login",
            &json!({"email": ada.user.email, "password": "nope"}),
        )
        .await?;
    let (unknown_status, unknown) = anon
        .post(
            "/api/auth/login",
            &json!({"email": "who@example.test", "password": "nope"}),
        )
        .await?;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "one answer for unknown email and wrong password"
    );
    assert_eq!(code(&wrong), "unauthorized");

    let (status, body) = anon
        .post_raw("/api/auth/login", "application/json", "{not json".into())
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "bad_request");
    Ok(())
}

#[tokio::test]
async fn repeated_failed_logins_for_one_email_from_one_address_are_throttled_with_retry_after(
) -> Result<()> {
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let wrong = json!({"email": "grace@example.test", "password": "wrong"});
    for _ in 0..FREE_FAILURES {
        let (status, _) = anon.post("/api/auth/login", &wrong).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let right = json!({"email": " GRACE@example.test", "password": server.users[1].password});
    let (status, retry_after, body) = login_raw(&server.base, &right).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(code(&body), "rate_limited");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After in seconds: {retry_after:?}"
    );
    // Other accounts are unaffected.
    server.login(0).await?;
    Ok(())
}

/// The throttle lives in the database: a server started again on the same file (a restart)
/// still refuses the guesser, and a correct sign-in afterwards clears the record.
#[tokio::test]
async fn a_restarted_server_remembers_the_throttle_and_a_correct_password_clears_it() -> Result<()>
{
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let wrong = json!({"email": "grace@example.test", "password": "wrong"});
    for _ in 0..FREE_FAILURES {
        anon.post("/api/auth/login", &wrong).await?;
    }
    let again = support::open_db(&server.storage).await?;
    let settings = PusherSettings::of_local(&server.sockudo);
    let restarted = serve(AppState::new(again, &settings)?).await?;
    let right = json!({"email": "grace@example.test", "password": server.users[1].password});
    let (status, retry_after, body) = login_raw(&restarted, &right).await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry_after.is_some_and(|s| s >= 1));

    // Ada, on the restarted server: a success clears her record, so after a few wrong
    // passwords and a correct one, the free failures are all free again.
    let ada = &server.users[0];
    let ada_wrong = json!({"email": ada.user.email, "password": "wrong"});
    let ada_right = json!({"email": ada.user.email, "password": ada.password});
    let anon = Api::anonymous(&restarted)?;
    for _ in 1..FREE_FAILURES {
        assert_eq!(
            anon.post("/api/auth/login", &ada_wrong).await?.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login_raw(&restarted, &ada_right).await?.0, StatusCode::OK);
    for _ in 0..FREE_FAILURES {
        let (status, body) = anon.post("/api/auth/login", &ada_wrong).await?;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "cleared by the success: {body}"
        );
    }
    Ok(())
}

/// Serves `state` on a random loopback port with connect info; returns the base URL.
async fn serve(state: AppState) -> Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let router = app(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(format!("http://{addr}"))
}

/// `POST /api/auth/login` returning status, `Retry-After` (seconds) and body.
async fn login_raw(base: &str, body: &Value) -> Result<(StatusCode, Option<u64>, Value)> {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .post(format!("{base}/api/auth/login"))
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok((status, retry_after, response.json().await?))
}

#[tokio::test]
async fn logout_revokes_the_token_it_was_called_with() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let (status, _) = ada.get("/api/me").await?;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ada.post("/api/auth/logout", &json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = ada.get("/api/me").await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "unauthorized");
    Ok(())
}

#[tokio::test]
async fn every_protected_endpoint_refuses_a_missing_or_unknown_token() -> Result<()> {
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let forged = anon.with_token("x".repeat(43).as_str());
    for api in [&anon, &forged] {
        for path in [
            "/api/me",
            "/api/users",
            "/api/config",
            "/api/conversations",
            "/api/conversations/1/messages",
            "/api/knowledge/requests",
            "/api/sync",
        ] {
            let (status, body) = api.get(path).await?;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path}");
            assert_eq!(code(&body), "unauthorized");
        }
        for path in [
            "/api/auth/logout",
            "/api/conversations",
            "/api/conversations/1/messages",
            "/api/conversations/1/read",
            "/api/knowledge/request",
            "/api/knowledge/respond",
            "/api/knowledge/requests/1/seen",
            "/api/conversations/1/members",
            "/api/conversations/1/leave",
            "/api/pusher/auth",
            "/api/pusher/auth/batch",
        ] {
            let (status, _) = api.post(path, &json!({})).await?;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "POST {path}");
        }
        let (status, _) = api
            .patch("/api/conversations/1", &json!({"title": "t"}))
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "PATCH a conversation");
        let (status, _) = api
            .put("/api/conversations/1/mute", &json!({"muted": true}))
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "PUT mute");
    }
    Ok(())
}

#[tokio::test]
async fn me_users_and_config_describe_the_caller_the_directory_and_public_realtime_settings(
) -> Result<()> {
    let server = TestServer::start().await?;
    let grace = server.login(1).await?;
    let (_, me) = grace.get("/api/me").await?;
    assert_eq!(me["email"], "grace@example.test");
    let (_, users) = grace.get("/api/users").await?;
    let names: Vec<&str> = users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Ada", "Grace", "Linus"]);
    assert!(
        users.as_array().into_iter().flatten().all(|u| u
            .as_object()
            .is_some_and(|o| o.len() == 2 && o.contains_key("id"))),
        "ids and names only, never teammates' emails: {users}"
    );
    let (status, config) = grace.get("/api/config").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        config,
        json!({"pusher": {"key": server.sockudo.key(), "host": "127.0.0.1",
            "port": server.sockudo.port(), "useTLS": false}})
    );
    assert!(!config.to_string().contains(server.sockudo.secret()));
    Ok(())
}

#[tokio::test]
async fn conversations_are_created_with_the_creator_listed_and_validated() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let (ada_id, grace_id) = (server.users[0].user.id, server.users[1].user.id);
    let (status, created) = ada
        .post(
            "/api/conversations",
            &json!({"memberIds": [grace_id, grace_id]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["memberIds"], json!([ada_id, grace_id]));
    assert_eq!(created["kind"], "direct", "one other member, no title");
    assert_eq!(
        created["title"], "Ada, Grace",
        "the default title names every member"
    );
    assert_eq!(created["unreadCount"], 0);
    assert_eq!(created["lastReadSeq"], 0);
    assert!(created.get("lastMessage").is_none());

    let (_, titled) = ada
        .post(
            "/api/conversations",
            &json!({"title": "Plans", "memberIds": [grace_id]}),
        )
        .await?;
    assert_eq!(titled["title"], "Plans");
    assert_eq!(titled["kind"], "group", "a title makes a group");

    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let grace = server.login(1).await?;
    let (_, grace_list) = grace.get("/api/conversations").await?;
    assert_eq!(grace_list.as_array().map(Vec::len), Some(2));
    let linus = server.login(2).await?;
    let (_, linus_list) = linus.get("/api/conversations").await?;
    assert_eq!(linus_list, json!([]));

    for bad in [
        json!({"memberIds": []}),
        json!({"memberIds": [ada_id]}),
        json!({"memberIds": [999_999]}),
        json!({"memberIds": [grace_id], "title": "t".repeat(201)}),
    ] {
        let (status, body) = ada.post("/api/conversations", &bad).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(code(&body), "validation_failed");
    }
    let (status, _) = ada
        .post("/api/conversations", &json!({"members": 1}))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn messages_are_posted_paged_ascending_and_refused_to_outsiders() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    let mut seqs = Vec::new();
    for i in 0..5 {
        let (status, msg) = ada
            .post(
                &path,
                &json!({"content": format!("hello {i}"), "clientId": format!("c{i}")}),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{msg}");
        assert_eq!(msg["conversationId"], room);
        assert_eq!(
            msg["sender"],
            json!({"id": server.users[0].user.id, "name": "Ada"})
        );
        assert_eq!(msg["senderId"], server.users[0].user.id);
        assert!(msg["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        seqs.push(msg["seq"].as_i64().unwrap_or_default());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    let (_, newest) = ada.get(&format!("{path}?limit=2")).await?;
    let contents: Vec<&str> = newest
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, vec!["hello 3", "hello 4"]);
    let (_, older) = ada
        .get(&format!("{path}?limit=2&before={}", seqs[3]))
        .await?;
    let contents: Vec<&str> = older
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, vec!["hello 1", "hello 2"]);

    let (status, body) = linus.get(&path).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    let (status, _) = linus
        .post(&path, &json!({"content": "hi", "clientId": "x"}))
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = ada.get("/api/conversations/424242/messages").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    let (status, _) = ada.get("/api/conversations/abc/messages").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for (content, client_id) in [
        (String::new(), "e1"),
        ("   ".to_owned(), "e2"),
        ("x".repeat(4001), "e3"),
        ("fine".to_owned(), ""),
    ] {
        let (status, body) = ada
            .post(&path, &json!({"content": content, "clientId": client_id}))
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, _) = ada
        .post(
            &path,
            &json!({"content": "é".repeat(4000), "clientId": "max"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "4,000 characters are allowed");
    let (status, _) = ada
        .post_from_socket(
            &path,
            &json!({"content": "x", "clientId": "s"}),
            "not-a-socket",
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn a_retried_message_with_the_same_client_id_is_stored_once() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let other_room = server.conversation(&ada, &[2]).await?;
    let path = format!("/api/conversations/{room}/messages");
    let body = json!({"content": "only once", "clientId": "retry-me"});
    let (first_status, first) = ada.post(&path, &body).await?;
    let (second_status, second) = ada.post(&path, &body).await?;
    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(second_status, StatusCode::OK);
    assert_eq!(first, second);
    let (_, list) = ada.get(&path).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (_, sync) = ada
        .get(&format!(
            "/api/sync?since={}",
            first["seq"].as_i64().unwrap_or(0) - 1
        ))
        .await?;
    assert_eq!(sync["changes"].as_array().map(Vec::len), Some(1));

    let (status, _) = ada
        .post(&format!("/api/conversations/{other_room}/messages"), &body)
        .await?;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a clientId belongs to one conversation"
    );
    // Another sender may use the same clientId.
    let grace = server.login(1).await?;
    let (status, _) = grace.post(&path, &body).await?;
    assert_eq!(status, StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn read_marks_only_move_forward_and_drive_unread_counts() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    let (_, m1) = grace
        .post(&path, &json!({"content": "one", "clientId": "1"}))
        .await?;
    let (_, m2) = grace
        .post(&path, &json!({"content": "two", "clientId": "2"}))
        .await?;
    ada.post(&path, &json!({"content": "mine", "clientId": "3"}))
        .await?;
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["unreadCount"], 2);
    assert_eq!(list[0]["lastMessage"]["content"], "mine");

    let read = format!("/api/conversations/{room}/read");
    let (status, _) = ada.post(&read, &json!({"seq": m1["seq"]})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["unreadCount"], 1);
    assert_eq!(list[0]["lastReadSeq"], m1["seq"]);

    let (status, _) = ada.post(&read, &json!({"seq": 0})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(
        list[0]["lastReadSeq"], m1["seq"],
        "a read mark never moves back"
    );

    ada.post(&read, &json!({"seq": m2["seq"]})).await?;
    let (_, list) = ada.get("/api/conversations").await?;
    assert_eq!(list[0]["unreadCount"], 0);

    let (status, _) = ada.post(&read, &json!({"seq": -1})).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let linus = server.login(2).await?;
    let (status, _) = linus.post(&read, &json!({"seq": 1})).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    Ok(())
}

#[tokio::test]
async fn knowledge_requests_are_listed_and_answered_once_by_their_owner_only() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let (ada_id, grace_id) = (server.users[0].user.id, server.users[1].user.id);
    let (status, req) = grace
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": ada_id, "question": "How to deploy?"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{req}");
    assert_eq!(req["status"], "pending");
    assert_eq!(req["responseContent"], Value::Null);
    assert_eq!(req["requesterId"], grace_id);
    assert_eq!(req["requesterName"], "Grace");
    assert_eq!(req["ownerId"], ada_id);
    assert!(req["seq"].as_i64().is_some() && req["createdAt"].is_string());

    for bad in [
        json!({"ownerId": grace_id, "question": "me?"}),
        json!({"ownerId": 999_999, "question": "who?"}),
        json!({"ownerId": ada_id, "question": ""}),
    ] {
        let (status, _) = grace.post("/api/knowledge/request", &bad).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let (_, ada_lists) = ada.get("/api/knowledge/requests").await?;
    assert_eq!(ada_lists["incoming"][0]["id"], req["id"]);
    assert_eq!(ada_lists["outgoing"], json!([]));
    let (_, grace_lists) = grace.get("/api/knowledge/requests").await?;
    assert_eq!(grace_lists["outgoing"][0]["id"], req["id"]);

    let answer =
        json!({"requestId": req["id"], "status": "approved", "responseContent": "Use the runbook"});
    let (status, _) = grace.post("/api/knowledge/respond", &answer).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the owner answers");
    let (status, answered) = ada.post("/api/knowledge/respond", &answer).await?;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "approved");
    assert_eq!(answered["responseContent"], "Use the runbook");
    assert!(answered["seq"].as_i64() > req["seq"].as_i64());
    let (status, body) = ada.post("/api/knowledge/respond", &answer).await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&body), "conflict");
    let (status, _) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": 999_999, "status": "denied"}),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": req["id"], "status": "maybe"}),
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn sync_pages_through_exactly_the_changes_visible_to_the_caller() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    for i in 0..3 {
        grace
            .post(
                &path,
                &json!({"content": format!("m{i}"), "clientId": format!("{i}")}),
            )
            .await?;
    }
    grace
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": server.users[0].user.id, "question": "q"}),
        )
        .await?;

    let mut since = 0;
    let mut types = Vec::new();
    let mut seqs = Vec::new();
    loop {
        let (status, page) = ada.get(&format!("/api/sync?since={since}&limit=2")).await?;
        assert_eq!(status, StatusCode::OK, "{page}");
        for change in page["changes"].as_array().into_iter().flatten() {
            types.push(change["type"].as_str().unwrap_or_default().to_owned());
            seqs.push(change["seq"].as_i64().unwrap_or_default());
        }
        since = page["nextSince"].as_i64().unwrap_or_default();
        if page["hasMore"] != true {
            break;
        }
    }
    assert_eq!(
        types,
        vec![
            "conversation-created",
            "message",
            "message",
            "message",
            "knowledge-request"
        ]
    );
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(since, *seqs.last().unwrap_or(&0));

    let (_, empty) = ada.get(&format!("/api/sync?since={since}")).await?;
    assert_eq!(
        empty,
        json!({"changes": [], "nextSince": since, "hasMore": false})
    );
    let (_, outsider) = linus.get("/api/sync").await?;
    assert_eq!(outsider["changes"], json!([]), "Linus sees none of it");
    let (status, _) = ada.get("/api/sync?since=abc").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn health_openapi_and_unknown_routes_answer_in_json() -> Result<()> {
    let server = TestServer::start().await?;
    let anon = Api::anonymous(&server.base)?;
    let (status, health) = anon.get("/healthz").await?;
    assert_eq!((status, health), (StatusCode::OK, json!({"status": "ok"})));
    let (status, doc) = anon.get("/api/openapi.json").await?;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/auth/login",
        "/api/conversations/{id}/messages",
        "/api/sync",
        "/api/pusher/auth",
        "/api/pusher/auth/batch",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    for (path, method, statuses) in [
        ("/api/conversations", "post", "200 201 400 401 422 429"),
        (
            "/api/conversations/{id}",
            "patch",
            "200 400 401 403 404 422",
        ),
        (
            "/api/conversations/{id}/members",
            "post",
            "200 400 401 403 404 422",
        ),
        (
            "/api/conversations/{id}/leave",
            "post",
            "204 400 401 403 404 422",
        ),
        ("/api/conversations/{id}/mute", "put", "204 400 401 403 404"),
        (
            "/api/knowledge/requests/{id}/seen",
            "post",
            "204 400 401 403 404 409",
        ),
    ] {
        let mut documented: Vec<&str> = doc["paths"][path][method]["responses"]
            .as_object()
            .map(|r| r.keys().map(String::as_str).collect())
            .unwrap_or_default();
        documented.sort_unstable();
        assert_eq!(documented.join(" "), statuses, "{method} {path}");
    }
    let (status, body) = anon.get("/api/nope").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    Ok(())
}

/// A client that reads the OpenAPI document learns that sign-in answers 429 with
/// `Retry-After`, and that the directory carries ids and names, never emails.
#[tokio::test]
async fn the_openapi_document_states_the_sign_in_throttle_and_an_email_free_directory() -> Result<()>
{
    let server = TestServer::start().await?;
    let (_, doc) = Api::anonymous(&server.base)?
        .get("/api/openapi.json")
        .await?;
    let throttled = &doc["paths"]["/api/auth/login"]["post"]["responses"]["429"];
    assert_eq!(
        throttled["headers"]["Retry-After"]["schema"]["type"], "integer",
        "{throttled}"
    );
    assert!(throttled["description"]
        .as_str()
        .is_some_and(|d| d.contains("Other addresses are not affected")));
    let items = &doc["paths"]["/api/users"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["items"];
    assert_eq!(items["$ref"], "#/components/schemas/UserSummary", "{items}");
    let summary = &doc["components"]["schemas"]["UserSummary"]["properties"];
    assert!(
        summary.get("email").is_none() && summary.get("name").is_some(),
        "{summary}"
    );
    Ok(())
}

/// A client that reads the OpenAPI document learns the limits the server enforces (the
/// schema's numbers are literals in confab-model; these are the server's constants).
#[tokio::test]
async fn the_openapi_document_states_the_text_limits_the_server_enforces() -> Result<()> {
    use confab_model::MAX_MESSAGE_CHARS;
    use confab_server::store::chat::MAX_CLIENT_ID_CHARS;
    use confab_server::store::conversations::{MAX_ADDED_MEMBERS, MAX_TITLE_CHARS};
    let server = TestServer::start().await?;
    let (_, doc) = Api::anonymous(&server.base)?
        .get("/api/openapi.json")
        .await?;
    let field =
        |schema: &str, name: &str| doc["components"]["schemas"][schema]["properties"][name].clone();
    let limits = |schema: &str, name: &str| {
        let f = field(schema, name);
        (f["minLength"].as_u64(), f["maxLength"].as_u64())
    };
    let most = |n: usize| Some(n as u64);
    assert_eq!(
        limits("SendMessage", "content"),
        (Some(1), most(MAX_MESSAGE_CHARS))
    );
    assert_eq!(
        limits("SendMessage", "clientId"),
        (Some(1), most(MAX_CLIENT_ID_CHARS))
    );
    assert_eq!(
        limits("CreateKnowledgeRequest", "question"),
        (Some(1), most(MAX_MESSAGE_CHARS))
    );
    assert_eq!(
        limits("RespondKnowledgeRequest", "responseContent").1,
        most(MAX_MESSAGE_CHARS)
    );
    assert_eq!(
        limits("CreateConversation", "title").1,
        most(MAX_TITLE_CHARS)
    );
    assert_eq!(
        limits("RenameConversation", "title"),
        (Some(1), most(MAX_TITLE_CHARS))
    );
    let ids = field("AddMembers", "memberIds");
    assert_eq!(
        (ids["minItems"].as_u64(), ids["maxItems"].as_u64()),
        (Some(1), most(MAX_ADDED_MEMBERS))
    );

    // And the server holds to them: one character over is refused, naming the field.
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    let (status, body) = ada
        .post(
            &path,
            &json!({"content": "x".repeat(MAX_MESSAGE_CHARS + 1), "clientId": "c-1"}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "validation_failed");
    assert!(body.to_string().contains("content"), "{body}");
    let (status, _) = ada
        .post(
            &path,
            &json!({"content": "é".repeat(MAX_MESSAGE_CHARS), "clientId": "c-2"}),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "exactly the limit, counted in characters"
    );
    Ok(())
}

/// The page sizes: the OpenAPI document states the bounds and defaults of `limit` that the
/// server applies (confab-model's constants, which the client asks with), and the server caps
/// a larger request instead of refusing it.
#[tokio::test]
async fn the_openapi_document_states_the_page_limits_the_server_enforces() -> Result<()> {
    use confab_model::{
        MESSAGES_PAGE_DEFAULT, MESSAGES_PAGE_MAX, SYNC_PAGE_DEFAULT, SYNC_PAGE_MAX,
    };
    use confab_server::store;
    let server = TestServer::start().await?;
    let (_, doc) = Api::anonymous(&server.base)?
        .get("/api/openapi.json")
        .await?;
    let limit = |path: &str| {
        let params = doc["paths"][path]["get"]["parameters"].as_array().cloned();
        let p = params
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "limit")
            .unwrap_or_default();
        let n = |k: &str| p["schema"][k].as_u64();
        (n("minimum"), n("maximum"), n("default"))
    };
    let page = |max: u32, default: u32| (Some(1), Some(u64::from(max)), Some(u64::from(default)));
    assert_eq!(limit("/api/sync"), page(SYNC_PAGE_MAX, SYNC_PAGE_DEFAULT));
    assert_eq!(
        limit("/api/conversations/{id}/messages"),
        page(MESSAGES_PAGE_MAX, MESSAGES_PAGE_DEFAULT)
    );

    // And the server holds to them, with more messages than the largest page.
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let sender = server.users[0].user.clone();
    server
        .state
        .db()
        .write(move |c| {
            for i in 0..=SYNC_PAGE_MAX {
                store::chat::post_message(c, room, &sender, &format!("m{i}"), &format!("c{i}"))?;
            }
            Ok::<_, store::StoreError>(())
        })
        .await?;
    let len = |v: &Value| v.as_array().map_or(0, Vec::len);
    let path = format!("/api/conversations/{room}/messages");
    for (query, expected) in [
        ("", MESSAGES_PAGE_DEFAULT),
        ("?limit=100000", MESSAGES_PAGE_MAX),
        ("?limit=0", 1),
    ] {
        let (status, body) = ada.get(&format!("{path}{query}")).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(len(&body), expected as usize, "messages{query}");
    }
    for (query, expected) in [
        ("", SYNC_PAGE_DEFAULT),
        ("&limit=100000", SYNC_PAGE_MAX),
        ("&limit=0", 1),
    ] {
        let (status, body) = ada.get(&format!("/api/sync?since=0{query}")).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(len(&body["changes"]), expected as usize, "sync{query}");
        assert_eq!(body["hasMore"], true, "sync{query}");
    }
    Ok(())
}

/// Found by schemathesis (`unsupported_method`): a method a route does not have was answered
/// 400; HTTP says 405 with an `Allow` header.
#[tokio::test]
async fn a_method_a_route_does_not_have_is_405_with_allow_and_the_json_error_shape() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    for (method, path, allowed) in [
        ("TRACE", "/api/me", "GET"),
        ("DELETE", "/api/auth/login", "POST"),
        ("PUT", "/api/conversations", "GET,POST"),
        ("PATCH", "/api/conversations/1/messages", "GET,POST"),
        ("GET", "/api/conversations/1", "PATCH"),
        ("GET", "/api/conversations/1/mute", "PUT"),
    ] {
        let response = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes())?,
                format!("{}{path}", server.base),
            )
            .bearer_auth(ada.token.as_deref().unwrap_or_default())
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let allow = response
            .headers()
            .get(reqwest::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .replace(' ', "");
        for m in allowed.split(',') {
            assert!(
                allow.contains(m),
                "{method} {path}: Allow {allow:?} lacks {m}"
            );
        }
        let body: Value = response.json().await?;
        assert_eq!(code(&body), "bad_request", "{method} {path}");
    }
    Ok(())
}

struct FailingPublisher;

impl Publisher for FailingPublisher {
    fn publish(&self, _: &OutEvent) -> BoxFuture<'_, Result<(), PublishError>> {
        Box::pin(async { Err(PublishError::Transport("down".into())) })
    }
    fn publish_batch(&self, _: &[OutEvent]) -> BoxFuture<'_, Result<(), PublishError>> {
        Box::pin(async { Err(PublishError::Transport("down".into())) })
    }
}

#[tokio::test]
async fn a_failing_trigger_never_fails_the_request_and_sync_still_has_the_change() -> Result<()> {
    let server = TestServer::start_with(Some(Arc::new(FailingPublisher))).await?;
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let (status, msg) = ada
        .post(
            &format!("/api/conversations/{room}/messages"),
            &json!({"content": "still here", "clientId": "f"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let grace = server.login(1).await?;
    let (_, page) = grace.get("/api/sync").await?;
    assert_eq!(page["changes"][1]["message"], msg);
    Ok(())
}
