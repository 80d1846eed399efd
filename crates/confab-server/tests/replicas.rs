//! Several backend replicas on one PostgreSQL database, as behind a load balancer: the rule the
//! client rests on (a client that synced up to N never misses a change below N) provoked on
//! purpose, and the state a second replica must share (idempotency by `clientId`, the login
//! throttle) shown to be shared. Always on PostgreSQL: with SQLite there is one process.

mod support;

use std::time::Duration;

use anyhow::{anyhow, ensure, Result};
use confab_server::store::{self, StoreError};
use confab_server::throttle::FREE_FAILURES;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{Api, TestServer, WAIT};

/// How many writes race the held transaction.
const LATER_WRITES: usize = 6;

fn seqs(changes: &[Value]) -> Vec<i64> {
    changes.iter().filter_map(|c| c["seq"].as_i64()).collect()
}

/// Backends of this test's database waiting for a lock now (PostgreSQL's own view).
async fn lock_waiters(server: &TestServer) -> Result<i64> {
    Ok(server
        .state
        .db()
        .read(|c| {
            c.one::<i64>(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                confab_server::args![],
            )
            .map_err(StoreError::from)
        })
        .await?)
}

#[tokio::test]
async fn a_change_numbered_first_but_committed_last_is_never_skipped_by_a_client_syncing_through_another_replica(
) -> Result<()> {
    let server = TestServer::start_on_postgres().await?;
    let (one, two, holder) = (
        server.replica().await?,
        server.replica().await?,
        server.replica().await?,
    );
    let ada = server.login(0).await?;
    let grace = server.login(1).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let start = grace.cursor().await?;

    // A third replica takes its seq for a message and holds the transaction open.
    let (took_tx, mut took) = tokio::sync::mpsc::unbounded_channel::<i64>();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    let sender = server.users[0].user.clone();
    let db = holder.state.db().clone();
    let held = tokio::spawn(async move {
        db.write(move |c| {
            let (message, _) = store::chat::post_message(c, room, &sender, "held back", "held")?;
            let _ = took_tx.send(message.seq);
            // Blocking here is the point: the transaction stays open with its seq taken.
            let _ = release_rx.recv_timeout(WAIT * 3);
            Ok::<_, StoreError>(message.seq)
        })
        .await
    });
    let held_seq = tokio::time::timeout(WAIT, took.recv())
        .await?
        .ok_or_else(|| anyhow!("the held write never took a seq"))?;

    // Later writes through both other replicas, each wanting a seq of its own.
    let mut later = tokio::task::JoinSet::new();
    for i in 0..LATER_WRITES {
        let (api, who) = if i % 2 == 0 {
            (one.client(&ada), "ada")
        } else {
            (two.client(&grace), "grace")
        };
        later.spawn(async move {
            api.post(
                &format!("/api/conversations/{room}/messages"),
                &json!({"content": format!("later {i}"), "clientId": format!("{who}-{i}")}),
            )
            .await
        });
    }
    // Each is either answered already (a design that lets it commit first) or waiting on a
    // lock in PostgreSQL (this one): then the race is set.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answered = LATER_WRITES - later.len();
        let waiting = usize::try_from(lock_waiters(&server).await?)?;
        if answered + waiting >= LATER_WRITES {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "only {answered} answered and {waiting} waiting of {LATER_WRITES} later writes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Grace syncs through replica two while the held change is still uncommitted.
    let grace_two = two.client(&grace);
    let early = seqs(&grace_two.changes_since(start).await?);
    ensure!(
        early.iter().all(|s| *s < held_seq),
        "nothing numbered after the held change {held_seq} is served before it: {early:?}"
    );

    release.send(())?;
    ensure!(held.await?? == held_seq);
    while let Some(answer) = later.join_next().await {
        let (status, body) = answer??;
        ensure!(status == StatusCode::CREATED, "{status} {body}");
    }

    // She carries on from her cursor, as the app does after every sync.
    let cursor = early.last().copied().unwrap_or(start);
    let mut seen = early;
    seen.extend(seqs(&grace_two.changes_since(cursor).await?));
    let all = seqs(&grace.changes_since(start).await?);
    assert_eq!(all.len(), LATER_WRITES + 1, "every message is in the log");
    assert!(all.contains(&held_seq));
    assert_eq!(
        seen, all,
        "syncing during the race saw every change once, in order, the held one included"
    );
    Ok(())
}

#[tokio::test]
async fn one_message_sent_to_two_replicas_at_once_with_one_client_id_is_stored_once() -> Result<()>
{
    let server = TestServer::start_on_postgres().await?;
    let (one, two) = (server.replica().await?, server.replica().await?);
    let ada = server.login(0).await?;
    let room = server.conversation(&ada, &[1]).await?;
    let path = format!("/api/conversations/{room}/messages");
    let (ada_one, ada_two) = (one.client(&ada), two.client(&ada));
    for round in 0..10 {
        let body = json!({"content": format!("retried {round}"), "clientId": format!("r{round}")});
        let (a, b) = tokio::join!(ada_one.post(&path, &body), ada_two.post(&path, &body));
        let ((sa, ma), (sb, mb)) = (a?, b?);
        ensure!(ma["id"] == mb["id"], "one message: {ma} {mb}");
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CREATED],
            "one stored it, the other found it"
        );
    }
    let (_, page) = ada.get(&format!("{path}?limit=100")).await?;
    assert_eq!(page.as_array().map(Vec::len), Some(10));
    Ok(())
}

#[tokio::test]
async fn wrong_passwords_spread_over_replicas_are_counted_together() -> Result<()> {
    let server = TestServer::start_on_postgres().await?;
    let replicas = [server.replica().await?, server.replica().await?];
    let wrong = json!({"email": "grace@example.test", "password": "wrong"});
    for i in 0..FREE_FAILURES {
        let anon = Api::anonymous(&replicas[i as usize % 2].base)?;
        let (status, _) = anon.post("/api/auth/login", &wrong).await?;
        ensure!(status == StatusCode::UNAUTHORIZED, "attempt {i}: {status}");
    }
    for r in &replicas {
        let (status, body) = Api::anonymous(&r.base)?
            .post("/api/auth/login", &wrong)
            .await?;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "every replica knows the guesser: {body}"
        );
    }
    Ok(())
}
