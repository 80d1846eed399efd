//! A first sign-in on a new computer to an account with a long history, against the real
//! backend and Sockudo on loopback: the newest screen first, then the history below it in the
//! background with progress, every message stored once, resumed after a restart, ended by
//! signing out.

mod support;

use confab_model::ipc::{HistoryProgress, UiEvent};
use support::*;

/// Collects history progress until the load completes (`History { progress: None }`); the
/// reports, in order.
async fn progress_until_complete(c: &mut Client) -> Vec<HistoryProgress> {
    let mut seen = vec![];
    loop {
        match c
            .expect("history progress", |e| matches!(e, UiEvent::History { .. }))
            .await
        {
            UiEvent::History {
                progress: Some(p), ..
            } => seen.push(p),
            _ => return seen,
        }
    }
}

/// Waits for a progress report past the start (at least one page applied).
async fn some_progress(c: &mut Client) -> HistoryProgress {
    match c
        .expect("history progress past the start", |e| {
            matches!(e, UiEvent::History { progress }
                if progress.is_none_or(|p| p.done > 0))
        })
        .await
    {
        UiEvent::History { progress: Some(p) } => p,
        other => panic!("the history completed before the test could act: {other:?}"),
    }
}

/// The contents of every cached message of `conv`, oldest first.
async fn contents(c: &Client, conv: i64) -> Vec<String> {
    every_message(&c.core, conv)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| m.content)
        .collect()
}

/// A backend whose conversation between Alice and Bob holds `n` messages from Bob (see
/// [`expected`]).
async fn seeded(n: usize) -> anyhow::Result<(Backend, i64)> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    seed_messages(&backend, conv, 1, n, "old").await?;
    Ok((backend, conv))
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("old {i}")).collect()
}

#[tokio::test]
async fn a_first_sign_in_shows_the_newest_page_first_then_fills_the_history_once_with_rising_progress(
) -> anyhow::Result<()> {
    const N: usize = 3_000;
    let (backend, conv) = seeded(N).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;

    // The first report comes with the snapshot stored: the newest message is readable, and
    // nothing of the history has been walked yet.
    let first = alice
        .expect("the first history report", |e| {
            matches!(e, UiEvent::History { .. })
        })
        .await;
    let UiEvent::History {
        progress: Some(first),
    } = first
    else {
        panic!("expected progress, got {first:?}");
    };
    assert_eq!(
        (first.done, first.total),
        (0, N as u64 + 1),
        "the conversation's creation and its messages"
    );
    let newest = alice.core.messages(conv, None, 1).await?;
    assert_eq!(newest[0].content, format!("old {}", N - 1), "newest first");

    let reports = progress_until_complete(&mut alice).await;
    assert!(
        reports.windows(2).all(|w| w[0].done <= w[1].done),
        "progress only rises: {reports:?}"
    );
    assert!(reports.iter().all(|p| p.done <= p.total));
    assert_eq!(
        alice.core.startup().await.history,
        None,
        "gone when complete"
    );
    assert_eq!(
        contents(&alice, conv).await,
        expected(N),
        "every message once, in order"
    );

    // Sync goes on from the head: what Bob writes now arrives (and is news).
    let bob = backend.api(1).await?;
    bob.send_message(conv, "after the first sync", "new-1", None)
        .await?;
    alice
        .until("the live message arrives", |c| async move {
            c.messages(conv, None, 1)
                .await
                .is_ok_and(|m| m[0].content == "after the first sync")
        })
        .await;
    Ok(())
}

#[tokio::test]
async fn a_restart_in_the_middle_of_the_history_resumes_where_it_stopped_and_loses_nothing(
) -> anyhow::Result<()> {
    // Large enough that the load is still running when the test quits the app after the first
    // report of progress (pages of 500; a report at most every 150 ms).
    const N: usize = 30_000;
    let (backend, conv) = seeded(N).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let before = some_progress(&mut alice).await;
    let (data_dir, tokens) = alice.close().await;

    let mut alice = Client::open(data_dir, tokens).await?;
    let resumed = alice.core.startup().await.history;
    let resumed = match resumed {
        Some(p) => p,
        None => match alice
            .expect("the resumed load's first report", |e| {
                matches!(e, UiEvent::History { .. })
            })
            .await
        {
            UiEvent::History { progress: Some(p) } => p,
            other => panic!("the load did not resume: {other:?}"),
        },
    };
    assert!(
        resumed.done >= before.done && resumed.done > 0,
        "resumed at {resumed:?}, not from 0 (stopped after {before:?})"
    );
    progress_until_complete(&mut alice).await;
    assert_eq!(
        contents(&alice, conv).await,
        expected(N),
        "every message once, in order"
    );
    Ok(())
}

#[tokio::test]
async fn signing_out_in_the_middle_of_the_history_ends_it_and_the_next_sign_in_starts_afresh(
) -> anyhow::Result<()> {
    const N: usize = 30_000;
    let (backend, conv) = seeded(N).await?;
    let dirs = tempfile::tempdir()?;
    let data_dir = dirs.path().join("alice");
    let mut alice = Client::sign_in_to(&backend.base, &backend.users[0], data_dir.clone()).await?;
    some_progress(&mut alice).await;
    alice.core.sign_out().await?;
    assert_eq!(alice.core.startup().await.history, None);
    let caches: Vec<_> = std::fs::read_dir(&data_dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("cache-"))
        .collect();
    assert!(
        caches.is_empty(),
        "the cache and its load are gone: {caches:?}"
    );

    // Signing in again starts a new load from the start, on a new cache, and completes it.
    let mut alice = Client::sign_in_to(&backend.base, &backend.users[0], data_dir).await?;
    let first = alice
        .expect("the new load's first report", |e| {
            matches!(e, UiEvent::History { progress: Some(_) })
        })
        .await;
    assert!(
        matches!(first, UiEvent::History { progress: Some(p) } if p.done == 0),
        "{first:?}"
    );
    progress_until_complete(&mut alice).await;
    assert_eq!(contents(&alice, conv).await, expected(N));
    Ok(())
}
