//! Per-user write limits on the real server: past each limit the answer is 429 with
//! `Retry-After`, nothing is stored, retries of stored writes cost nothing, other accounts are
//! untouched, and the allowance survives a restart.

mod support;

use std::time::Duration;

use anyhow::{ensure, Result};
use confab_server::write_limit::{self, Rate, WriteKind, WriteLimits};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::TestServer;

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers.get("retry-after")?.to_str().ok()?.parse().ok()
}

fn limited(messages: u32, requests: u32, conversations: u32) -> WriteLimits {
    WriteLimits {
        messages: Some(Rate::new(messages, Duration::from_secs(60))),
        requests: Some(Rate::new(requests, Duration::from_secs(3600))),
        conversations: Some(Rate::new(conversations, Duration::from_secs(3600))),
    }
}

#[tokio::test]
async fn past_the_message_limit_a_sender_gets_429_with_retry_after_and_nothing_is_stored(
) -> Result<()> {
    let server = TestServer::start_limited(limited(3, 100, 100)).await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.group(&ada, "Flood", &[0, 1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    for i in 0..3 {
        let (status, _) = ada
            .post(
                &path,
                &json!({"content": format!("m{i}"), "clientId": format!("c{i}")}),
            )
            .await?;
        ensure!(status == StatusCode::CREATED, "message {i}: {status}");
    }
    let (status, headers, body) = ada
        .post_with_headers(&path, &json!({"content": "one too many", "clientId": "c3"}))
        .await?;
    ensure!(status == StatusCode::TOO_MANY_REQUESTS, "{status} {body}");
    ensure!(body["error"]["code"] == "rate_limited", "{body}");
    let wait = retry_after(&headers).expect("a Retry-After header");
    // Three a minute: one message's worth refills in 20 s.
    ensure!((1..=20).contains(&wait), "Retry-After {wait}");
    ensure!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("sending messages") && m.contains(&format!("{wait} s"))),
        "the sentence says what and when: {body}"
    );

    // A retry of a message the server already has is answered as before, not limited.
    let (status, _) = ada
        .post(&path, &json!({"content": "m0", "clientId": "c0"}))
        .await?;
    ensure!(status == StatusCode::OK, "an idempotent retry: {status}");
    // Another account's allowance is its own.
    let (status, _) = grace
        .post(
            &path,
            &json!({"content": "I can still talk", "clientId": "g0"}),
        )
        .await?;
    ensure!(status == StatusCode::CREATED, "grace: {status}");

    let (_, page) = ada.get(&path).await?;
    let contents: Vec<&str> = page
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    ensure!(
        contents == ["m0", "m1", "m2", "I can still talk"],
        "{contents:?}"
    );
    Ok(())
}

#[tokio::test]
async fn past_the_request_limit_asking_gets_429_and_the_owner_is_not_notified_again() -> Result<()>
{
    let server = TestServer::start_limited(limited(100, 2, 100)).await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let owner = server.users[1].user.id;
    for i in 0..2 {
        let (status, _) = ada
            .post(
                "/api/knowledge/request",
                &json!({"ownerId": owner, "question": format!("Question {i}?")}),
            )
            .await?;
        ensure!(status == StatusCode::CREATED, "request {i}: {status}");
    }
    let (status, headers, body) = ada
        .post_with_headers(
            "/api/knowledge/request",
            &json!({"ownerId": owner, "question": "And one more?"}),
        )
        .await?;
    ensure!(status == StatusCode::TOO_MANY_REQUESTS, "{status} {body}");
    // Two an hour: one request's worth refills in 30 minutes.
    let wait = retry_after(&headers).expect("a Retry-After header");
    ensure!((1..=1800).contains(&wait), "Retry-After {wait}");
    let (_, lists) = grace.get("/api/knowledge/requests").await?;
    let questions: Vec<&str> = lists
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|r| r["question"].as_str())
        .collect();
    ensure!(
        questions.contains(&"Question 0?") && !questions.contains(&"And one more?"),
        "the refused request was not stored: {questions:?}"
    );
    Ok(())
}

#[tokio::test]
async fn past_the_conversation_limit_creating_gets_429_but_opening_an_existing_direct_one_works(
) -> Result<()> {
    let server = TestServer::start_limited(limited(100, 100, 1)).await?;
    let ada = server.login(0).await?;
    let grace_id = server.users[1].user.id;
    let linus_id = server.users[2].user.id;
    let (status, _) = ada
        .post("/api/conversations", &json!({"memberIds": [grace_id]}))
        .await?;
    ensure!(status == StatusCode::CREATED, "the first: {status}");
    let (status, _) = ada
        .post("/api/conversations", &json!({"memberIds": [grace_id]}))
        .await?;
    ensure!(
        status == StatusCode::OK,
        "the pair's conversation opens again: {status}"
    );
    let (status, headers, body) = ada
        .post_with_headers(
            "/api/conversations",
            &json!({"memberIds": [grace_id, linus_id], "title": "One too many"}),
        )
        .await?;
    ensure!(status == StatusCode::TOO_MANY_REQUESTS, "{status} {body}");
    ensure!(retry_after(&headers).is_some(), "a Retry-After header");
    let (_, list) = ada.get("/api/conversations").await?;
    ensure!(
        list.as_array().map(Vec::len) == Some(1),
        "nothing was created: {list}"
    );
    Ok(())
}

#[tokio::test]
async fn a_drained_allowance_stays_drained_across_a_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = support::fresh_storage(dir.path())?;
    let limits = limited(1, 1, 1);
    let db = support::open_db(&storage).await?;
    let user = db
        .write(|c| confab_server::store::users::create_user(c, "ada@example.test", "Ada", "x"))
        .await?;
    let now = confab_server::time::now_ms();
    db.write(move |c| write_limit::spend(c, &limits, user.id, WriteKind::Message, now))
        .await?;
    db.close();
    drop(db);

    let db = support::open_db(&storage).await?;
    let again = db
        .write(move |c| write_limit::spend(c, &limits, user.id, WriteKind::Message, now + 1))
        .await;
    ensure!(
        matches!(again, Err(confab_server::store::StoreError::TooFast { .. })),
        "the reopened database still knows the bucket is empty: {again:?}"
    );
    Ok(())
}
