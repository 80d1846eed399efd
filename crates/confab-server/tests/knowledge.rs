//! The knowledge library's requests on loopback: who was asked, when they answered, a reason
//! kept with a refusal, and the requester marking an answer seen.

mod support;

use anyhow::Result;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::TestServer;

#[tokio::test]
async fn a_declined_request_keeps_the_reason_given_everywhere_it_is_read() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let (_, req) = grace
        .post(
            "/api/knowledge/request",
            &json!({"ownerId": server.id(0), "question": "Share the payroll sheet?"}),
        )
        .await?;
    assert_eq!(req["ownerName"], "Ada");
    assert_eq!(req["answeredAt"], Value::Null);
    assert_eq!(req["answerSeen"], true, "nothing to open yet");

    let reason = "It holds salaries; ask HR.";
    let (status, denied) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": req["id"], "status": "denied", "responseContent": reason}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{denied}");
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["responseContent"], reason);
    assert!(denied["answeredAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(denied["answerSeen"], false);

    let (_, lists) = grace.get("/api/knowledge/requests").await?;
    assert_eq!(lists["outgoing"][0], denied);
    let (_, lists) = ada.get("/api/knowledge/requests").await?;
    assert_eq!(lists["incoming"][0], denied);
    let changes = grace.changes_since(0).await?;
    assert_eq!(
        changes.last(),
        Some(&json!({"type": "knowledge-response", "seq": denied["seq"], "request": denied}))
    );
    Ok(())
}

#[tokio::test]
async fn the_requester_alone_marks_an_answer_seen_once_it_was_given() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let ask = |question: &str| json!({"ownerId": server.id(0), "question": question});
    let (_, req) = grace
        .post("/api/knowledge/request", &ask("How do we deploy?"))
        .await?;
    let seen = format!("/api/knowledge/requests/{}/seen", req["id"]);
    let (status, body) = grace.post(&seen, &json!({})).await?;
    assert_eq!(status, StatusCode::CONFLICT, "still pending: {body}");
    assert_eq!(body["error"]["code"], "conflict");

    let (_, answered) = ada
        .post(
            "/api/knowledge/respond",
            &json!({"requestId": req["id"], "status": "approved", "responseContent": "Runbook p.3"}),
        )
        .await?;
    assert_eq!(answered["answerSeen"], false);
    let (grace_cursor, ada_cursor) = (grace.cursor().await?, ada.cursor().await?);

    for (who, api) in [("the owner", &ada), ("an outsider", &linus)] {
        let (status, body) = api.post(&seen, &json!({})).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    let (status, body) = grace.post(&seen, &json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = grace.post(&seen, &json!({})).await?;
    assert_eq!(status, StatusCode::NO_CONTENT, "idempotent");

    let changes = grace.changes_since(grace_cursor).await?;
    assert_eq!(changes.len(), 1, "one change however often: {changes:?}");
    assert_eq!(changes[0]["type"], "knowledge-answer-seen");
    let request = &changes[0]["request"];
    assert_eq!(request["answerSeen"], true);
    assert_eq!(request["seq"], changes[0]["seq"]);
    assert_eq!(request["answeredAt"], answered["answeredAt"]);
    assert_eq!(request["responseContent"], "Runbook p.3");
    assert_eq!(
        ada.changes_since(ada_cursor).await?,
        Vec::<Value>::new(),
        "the owner is not told"
    );
    let (_, lists) = grace.get("/api/knowledge/requests").await?;
    assert_eq!(&lists["outgoing"][0], request);

    let (status, _) = grace
        .post("/api/knowledge/requests/999999/seen", &json!({}))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = grace
        .post("/api/knowledge/requests/abc/seen", &json!({}))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}
