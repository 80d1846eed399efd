//! Lossless under faults: whatever breaks — Sockudo killed mid-burst, the backend restarted, a
//! network path that silently stops forwarding, Alice's app closed while Bob writes — Alice ends
//! with every message exactly once, in order, and no notification is ever decided twice.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use confab_core::Api;
use confab_model::ipc::{ConnectionStatus, Notification, UiEvent};
use support::*;
use tokio::sync::mpsc::UnboundedReceiver;

/// Bob posts `n` messages "m{start}".."m{start+n-1}" through the REST API, one after another.
async fn burst(bob: &Api, conv: i64, start: usize, n: usize) -> anyhow::Result<()> {
    for i in start..start + n {
        bob.send_message(conv, &format!("m{i}"), &format!("bob-{i}"), None)
            .await?;
    }
    Ok(())
}

/// Waits until Alice's cache holds exactly `n` messages, then checks they are m0..m{n-1} in
/// order, each once.
async fn alice_has_all(alice: &mut Client, conv: i64, n: usize) {
    alice
        .until(&format!("alice has {n} messages"), |c| async move {
            every_message(&c, conv).await.is_ok_and(|m| m.len() >= n)
        })
        .await;
    let msgs = every_message(&alice.core, conv).await.unwrap();
    let texts: Vec<String> = msgs.iter().map(|m| m.content.clone()).collect();
    let want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, want, "every message once, in order");
    let seqs: Vec<i64> = msgs.iter().filter_map(|m| m.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

/// Every notification raised so far; panics if any message was notified twice.
fn notified_messages(
    rx: &mut UnboundedReceiver<Notification>,
    seen: &mut HashSet<String>,
) -> usize {
    let mut count = 0;
    while let Ok(n) = rx.try_recv() {
        // "N new messages in …" summarizes N; a single one carries its text.
        let k = n
            .title
            .split_once(" new messages")
            .and_then(|(k, _)| k.parse::<usize>().ok())
            .unwrap_or(1);
        if k == 1 {
            assert!(seen.insert(n.body.clone()), "notified twice: {}", n.body);
        }
        count += k;
    }
    count
}

#[tokio::test]
async fn sockudo_killed_mid_burst_of_500_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut notes = alice.core.take_notifications().expect("notifications");
    alice.connected().await;
    let bob = backend.api(1).await?;

    burst(&bob, conv, 0, 250).await?;
    backend.sockudo.kill();
    burst(&bob, conv, 250, 150).await?;
    backend.sockudo.restart().await?;
    burst(&bob, conv, 400, 100).await?;

    alice_has_all(&mut alice, conv, 500).await;
    let mut seen = HashSet::new();
    let total = notified_messages(&mut notes, &mut seen);
    assert!(
        total > 0 && total <= 500,
        "{total} notified for 500 messages"
    );
    Ok(())
}

#[tokio::test]
async fn a_backend_restart_delays_but_loses_nothing_either_way() -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut bob = Client::sign_in(&backend, 1, &dirs).await?;
    alice.connected().await;
    bob.lists(conv).await;

    for i in 0..5 {
        bob.core.send_message(conv, format!("m{i}")).await?;
    }
    backend.stop_http();
    // Written while the backend is down: queued, shown pending.
    for i in 5..10 {
        bob.core.send_message(conv, format!("m{i}")).await?;
    }
    backend.start_http().await?;
    alice_has_all(&mut alice, conv, 10).await;
    bob.until("bob's outbox drains", |c| async move {
        c.messages(conv, None, 50).await.is_ok_and(|m| {
            m.len() == 10
                && m.iter()
                    .all(|x| x.delivery == confab_model::ipc::DeliveryState::Sent)
        })
    })
    .await;
    Ok(())
}

#[tokio::test]
async fn a_silently_dead_network_path_is_detected_and_caught_up() -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start_opts(true).await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut notes = alice.core.take_notifications().expect("notifications");
    alice.connected().await;
    let bob = backend.api(1).await?;
    burst(&bob, conv, 0, 10).await?;
    alice_has_all(&mut alice, conv, 10).await;

    let proxy = backend.proxy.as_ref().expect("proxied");
    proxy.pause();
    burst(&bob, conv, 10, 20).await?;
    // The OS would say "network changed" / "resumed from sleep".
    alice.core.check_now();
    alice
        .expect(
            "the dead path is noticed",
            |e| matches!(e, UiEvent::Connection(s) if *s != ConnectionStatus::Connected),
        )
        .await;
    proxy.resume();
    alice.connected().await;
    alice_has_all(&mut alice, conv, 30).await;
    let mut seen = HashSet::new();
    let total = notified_messages(&mut notes, &mut seen);
    assert!(total <= 30);
    Ok(())
}

#[tokio::test]
async fn messages_sent_while_alice_is_away_arrive_once_with_one_summary() -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.lists(conv).await; // the first catch-up is done
    let (data_dir, tokens) = alice.close().await; // the app is quit

    let bob = backend.api(1).await?;
    burst(&bob, conv, 0, 30).await?;

    let mut alice = Client::open(data_dir.clone(), Arc::clone(&tokens)).await?;
    assert!(
        alice.core.session().await.is_some(),
        "restored without signing in"
    );
    let mut notes = alice.core.take_notifications().expect("notifications");
    alice_has_all(&mut alice, conv, 30).await;
    let first = tokio::time::timeout(WAIT, notes.recv())
        .await?
        .expect("a summary");
    assert!(
        first.title.starts_with("30 new messages in "),
        "{}",
        first.title
    );
    let (data_dir, tokens) = alice.close().await;

    // Restarting again replays nothing.
    let mut alice = Client::open(data_dir, tokens).await?;
    let mut notes = alice.core.take_notifications().expect("notifications");
    burst(&bob, conv, 30, 1).await?;
    alice_has_all(&mut alice, conv, 31).await;
    let n = tokio::time::timeout(WAIT, notes.recv())
        .await?
        .expect("the new one");
    assert_eq!(n.body, "m30");
    assert!(notes.try_recv().is_err(), "nothing old notified again");
    Ok(())
}

#[tokio::test]
async fn history_fetched_at_first_sign_in_is_not_announced_as_news() -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let bob = backend.api(1).await?;
    burst(&bob, conv, 0, 5).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut notes = alice.core.take_notifications().expect("notifications");
    alice_has_all(&mut alice, conv, 5).await;
    alice.connected().await;
    burst(&bob, conv, 5, 1).await?;
    alice_has_all(&mut alice, conv, 6).await;
    let first = tokio::time::timeout(WAIT, notes.recv())
        .await?
        .expect("the new one");
    assert_eq!(first.body, "m5", "history was announced: {first:?}");
    Ok(())
}
