//! Paging the history below a head (`/api/sync?until=`) and counting it (`/api/sync/head`'s
//! `total`): what a first sign-in on a new computer loads in the background after the newest
//! screen, against the real backend (random loopback port, real Sockudo, SQLite or PostgreSQL).

mod support;

use anyhow::Result;
use confab_server::retention::compact_changes;
use confab_server::time::now_ms;
use reqwest::StatusCode;
use serde_json::json;
use support::{page_seqs, post_text, TestServer};

/// Pages `/api/sync?until=` from `since` to the end; every seq seen, and the last `nextSince`.
async fn page_history(api: &support::Api, since: i64, until: i64) -> Result<(Vec<i64>, i64)> {
    let (mut since, mut all) = (since, vec![]);
    loop {
        let (status, page) = api
            .get(&format!("/api/sync?since={since}&until={until}&limit=2"))
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "{status} {page}");
        all.extend(page_seqs(&page));
        since = page["nextSince"].as_i64().unwrap_or_default();
        if page["hasMore"] != true {
            return Ok((all, since));
        }
    }
}

#[tokio::test]
async fn the_head_counts_only_the_callers_changes_and_history_pages_stop_at_until() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let linus = server.login(2).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let theirs = server.conversation(&grace, &[2]).await?;
    let mut mine = vec![];
    for i in 0..5 {
        mine.push(post_text(&grace, room, &format!("m{i}")).await?);
    }
    post_text(&linus, theirs, "not for Ada").await?;

    // Ada's head: the newest seq, and her changes up to it (the room's creation and five
    // messages); Linus's: his own conversation's creation and his message.
    let (status, head) = ada.get("/api/sync/head").await?;
    assert_eq!(status, StatusCode::OK, "{head}");
    let at = head["seq"].as_i64().unwrap_or_default();
    assert_eq!(head["total"], 6, "{head}");
    let (_, linus_head) = linus.get("/api/sync/head").await?;
    assert_eq!(linus_head["total"], 2, "{linus_head}");

    // What comes after the head is not history.
    let later = post_text(&grace, room, "after the head").await?;
    let (history, next) = page_history(&ada, 0, at).await?;
    assert_eq!(history.len(), 6, "{history:?}");
    assert_eq!(&history[1..], &mine[..]);
    assert!(!history.contains(&later));
    assert_eq!(next, at, "the last history page ends at until");
    // The live stream from the head has it.
    let (_, live) = ada.get(&format!("/api/sync?since={at}")).await?;
    assert_eq!(page_seqs(&live), vec![later]);
    Ok(())
}

#[tokio::test]
async fn an_until_below_since_is_refused_and_one_above_the_newest_seq_is_expired() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let seq = post_text(&ada, room, "one").await?;
    let (status, body) = ada
        .get(&format!("/api/sync?since={seq}&until={}", seq - 1))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = ada.get("/api/sync?until=-1").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = ada.get("/api/sync?until=abc").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = ada
        .get(&format!("/api/sync?since=0&until={}", seq + 1000))
        .await?;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "cursor_expired");
    let (status, empty) = ada
        .get(&format!("/api/sync?since={seq}&until={seq}"))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"changes": [], "nextSince": seq, "hasMore": false})
    );
    Ok(())
}

#[tokio::test]
async fn history_below_the_horizon_is_served_from_the_horizon_not_expired() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    post_text(&grace, room, "old").await?;
    let cutoff = now_ms();
    while now_ms() <= cutoff {
        std::hint::spin_loop();
    }
    let kept = post_text(&grace, room, "kept").await?;
    let (compacted, _) = compact_changes(server.state.db(), cutoff).await?;
    assert_eq!(compacted, 2, "the room's creation and the old message");

    let (_, head) = ada.get("/api/sync/head").await?;
    let at = head["seq"].as_i64().unwrap_or_default();
    assert_eq!(head["total"], 1, "only what is left is counted: {head}");
    let (history, next) = page_history(&ada, 0, at).await?;
    assert_eq!(history, vec![kept]);
    assert_eq!(next, at);
    Ok(())
}
