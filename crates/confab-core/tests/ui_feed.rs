//! The UI feed against the real backend and a real Sockudo: what the window hears when a
//! message is sent or arrives, and what it costs the account's cache. Events carry the state
//! (message rows, conversation summaries), so nobody re-reads a list: a change costs at most one
//! summary query per frame and never a whole conversation list, and a burst is coalesced to at
//! most one event of a kind per frame without losing or repeating a row.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use confab_core::FRAME;
use confab_model::ipc::{ChatMessage, ConversationSummary, DeliveryState, UiEvent};
use confab_model::ConversationId;
use confab_store::QueryCounts;
use support::*;
use tokio::sync::broadcast::error::RecvError;

/// How long the burst of 1,000 messages may take to reach Alice's stream, posting included.
const BURST_WAIT: Duration = Duration::from_secs(90);

/// The summary of `conv` in a conversation-list event, if it carries one.
fn summary_of(e: &UiEvent, conv: ConversationId) -> Option<&ConversationSummary> {
    match e {
        UiEvent::Conversations(u) => u.conversations.iter().find(|c| c.id == conv),
        _ => None,
    }
}

/// The rows of `conv` in a messages event, if it is one.
fn rows_of(e: &UiEvent, conv: ConversationId) -> Option<&[ChatMessage]> {
    match e {
        UiEvent::MessagesChanged {
            conversation_id,
            messages,
        } if *conversation_id == conv => Some(messages),
        _ => None,
    }
}

/// The next event within `deadline`; a listener that fell behind has lost events, which these
/// tests count as a failure.
async fn next(c: &mut Client, deadline: tokio::time::Instant, what: &str) -> UiEvent {
    match tokio::time::timeout_at(deadline, c.events.recv()).await {
        Ok(Ok(e)) => e,
        Ok(Err(RecvError::Lagged(n))) => panic!("the listener lost {n} events while {what}"),
        Ok(Err(RecvError::Closed)) => panic!("events closed while {what}"),
        Err(_) => panic!("timed out while {what}"),
    }
}

/// Alice's app, just signed in, settles: waits until `conv`'s summary and its room's presence
/// (so she is connected, and a new message reaches her over the realtime channel) have both
/// arrived on the stream, then until the stream has been quiet for two frames: the feed sends a
/// lone change at once only when nothing went out within the last frame, and that is what the
/// tests observe. Returns the summary last heard.
async fn settle(alice: &mut Client, conv: ConversationId) -> ConversationSummary {
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut summary, mut joined) = (None, false);
    while summary.is_none() || !joined {
        let e = next(alice, deadline, "waiting for the conversation and its room").await;
        if let Some(s) = summary_of(&e, conv) {
            summary = Some(s.clone());
        }
        joined |= matches!(e, UiEvent::Presence { conversation_id, .. } if conversation_id == conv);
    }
    // The coalescing rule is about time, so its precondition is too: this awaits silence (every
    // event that does arrive restarts it), it does not guess that something has happened.
    while let Ok(e) = tokio::time::timeout(FRAME * 2, alice.events.recv()).await {
        match e {
            Ok(e) => {
                if let Some(s) = summary_of(&e, conv) {
                    summary = Some(s.clone());
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => panic!("events closed while settling"),
        }
    }
    summary.unwrap()
}

/// What the account's cache ran between two readings.
fn since(before: QueryCounts, after: QueryCounts) -> QueryCounts {
    QueryCounts {
        conversation_lists: after.conversation_lists - before.conversation_lists,
        conversation_summaries: after.conversation_summaries - before.conversation_summaries,
    }
}

#[tokio::test]
async fn a_sent_message_reaches_the_stream_pending_then_sent_with_its_summary_and_no_list_query(
) -> anyhow::Result<()> {
    init_tracing();
    // Given Alice's app, settled, with a conversation with Bob.
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    settle(&mut alice, conv).await;
    let before = alice.core.query_counts().await?;

    // When she sends one message: one call to the core, and nothing else is asked of it.
    let sent = alice
        .core
        .send_message(conv, "Lunch at noon?".into())
        .await?;
    assert_eq!(sent.delivery, DeliveryState::Pending);

    // Then the stream carries its row pending, then sent, and the conversation's summary with
    // the message as its preview, the last of them after the sent row.
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut pending, mut delivered, mut summaries) = (false, None, 0);
    let summary = loop {
        let e = next(&mut alice, deadline, "waiting for the sent message").await;
        if let Some(rows) = rows_of(&e, conv) {
            for r in rows.iter().filter(|r| r.client_id == sent.client_id) {
                match r.delivery {
                    DeliveryState::Pending => {
                        assert!(delivered.is_none(), "pending after sent: {rows:?}");
                        pending = true;
                    }
                    DeliveryState::Sent => delivered = Some(r.clone()),
                    DeliveryState::Failed { .. } | DeliveryState::Held { .. } => {
                        panic!("the server refused it: {r:?}")
                    }
                }
            }
        }
        if let UiEvent::Conversations(u) = &e {
            assert!(
                !u.complete,
                "a whole list was published for one message: {u:?}"
            );
            summaries += 1;
            let s = summary_of(&e, conv).expect("the update is about this conversation");
            if delivered.is_some() {
                break s.clone();
            }
        }
    };
    assert!(pending, "the row was heard pending before it was sent");
    let delivered = delivered.unwrap();
    assert!(
        delivered.id.is_some() && delivered.seq.is_some(),
        "{delivered:?}"
    );
    assert_eq!(delivered.content, "Lunch at noon?");
    assert_eq!(
        summary.last_message_preview.as_deref(),
        Some("Alice: Lunch at noon?")
    );
    assert_eq!(summary.unread_count, 0, "her own message is not unread");

    // And the cache ran one summary query per list event (one for the pending state, one for
    // the sent one: each moved the conversation in the list) and never the whole list.
    let cost = since(before, alice.core.query_counts().await?);
    println!("one sent message: {summaries} list events, cache queries {cost:?}");
    assert_eq!(cost.conversation_lists, 0, "{cost:?}");
    assert_eq!(cost.conversation_summaries, summaries, "{cost:?}");
    assert!(summaries <= 2, "{summaries} list events for one message");
    Ok(())
}

#[tokio::test]
async fn a_message_from_bob_reaches_alice_as_its_row_and_her_unread_count_up_by_one_for_one_summary_query(
) -> anyhow::Result<()> {
    init_tracing();
    // Given Alice's app, settled, with a conversation with Bob and nothing unread.
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let unread_before = settle(&mut alice, conv).await.unread_count;
    let before = alice.core.query_counts().await?;

    // When Bob posts a message to the backend.
    let posted = backend
        .api(1)
        .await?
        .send_message(conv, "Deploy is done", "bob-1", None)
        .await?;

    // Then Alice's stream carries its row, then the summary with one more unread message.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut row = None;
    let summary = loop {
        let e = next(&mut alice, deadline, "waiting for Bob's message").await;
        if let Some(rows) = rows_of(&e, conv) {
            row = rows
                .iter()
                .find(|r| r.id == Some(posted.id))
                .cloned()
                .or(row);
        }
        if let Some(s) = summary_of(&e, conv) {
            assert!(
                row.is_some(),
                "the summary announced a row not yet heard: {s:?}"
            );
            break s.clone();
        }
    };
    let row = row.unwrap();
    assert_eq!(row.content, "Deploy is done");
    assert_eq!(row.sender_name, "Bob");
    assert_eq!(row.delivery, DeliveryState::Sent);
    assert_eq!(summary.unread_count, unread_before + 1);
    assert_eq!(
        summary.last_message_preview.as_deref(),
        Some("Bob: Deploy is done")
    );

    // And it cost her cache one summary query and no whole list.
    let cost = since(before, alice.core.query_counts().await?);
    println!("one incoming message: cache queries {cost:?}");
    assert_eq!(cost.conversation_lists, 0, "{cost:?}");
    assert_eq!(cost.conversation_summaries, 1, "{cost:?}");
    Ok(())
}

#[tokio::test]
async fn a_burst_of_a_thousand_messages_reaches_alice_in_at_most_one_event_of_a_kind_per_frame_without_loss(
) -> anyhow::Result<()> {
    const N: usize = 1000;
    const WRITERS: usize = 16;
    init_tracing();
    // Given Alice's app, settled, with a conversation with Bob and nothing unread.
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    assert_eq!(settle(&mut alice, conv).await.unread_count, 0);
    let before = alice.core.query_counts().await?;

    // When Bob posts 1,000 messages as fast as the backend takes them, from 16 writers.
    let bob = backend.api(1).await?;
    let t0 = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let bob = bob.clone();
        writers.spawn(async move {
            for i in (w..N).step_by(WRITERS) {
                bob.send_message(conv, &format!("burst {i}"), &format!("burst-{i}"), None)
                    .await?;
            }
            anyhow::Ok(Instant::now())
        });
    }

    // Then every row reaches Alice once, across few events, and the last summary counts them.
    let deadline = tokio::time::Instant::now() + BURST_WAIT;
    let mut seen: HashMap<i64, u32> = HashMap::new();
    let (mut rows, mut row_events, mut list_events, mut unread) = (0usize, 0usize, 0u64, 0);
    while seen.len() < N || unread != N as i64 {
        let what = format!(
            "{} of {N} rows and unread {unread} heard in {row_events} messages and \
             {list_events} list events",
            seen.len()
        );
        let e = next(&mut alice, deadline, &what).await;
        if let Some(batch) = rows_of(&e, conv) {
            row_events += 1;
            rows += batch.len();
            for r in batch {
                assert!(r.content.starts_with("burst "), "{r:?}");
                *seen
                    .entry(r.id.expect("a received row has its id"))
                    .or_default() += 1;
            }
        }
        if let UiEvent::Conversations(u) = &e {
            assert!(!u.complete, "a whole list was published during the burst");
            list_events += 1;
            unread = summary_of(&e, conv).map_or(unread, |s| s.unread_count);
        }
    }
    let elapsed = t0.elapsed();
    let mut posted = Duration::ZERO;
    while let Some(done) = writers.join_next().await {
        posted = posted.max(done??.duration_since(t0));
    }
    let cost = since(before, alice.core.query_counts().await?);
    let frames = elapsed.as_millis() / FRAME.as_millis() + 1;
    println!(
        "burst of {N} messages: posted in {:.0} ms, all on Alice's stream after {:.0} ms \
         ({frames} frames): {row_events} messages events carrying {rows} rows, {list_events} \
         list events (last unread count {unread}); cache queries {cost:?}",
        posted.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3,
    );
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "rows heard twice: {repeated:?}");
    assert_eq!(rows, N, "every row once");
    // The feed flushes at most once a frame, one event of a kind per flush.
    for (kind, n) in [
        ("messages", row_events as u128),
        ("list", u128::from(list_events)),
    ] {
        assert!(n <= frames + 1, "{n} {kind} events in {frames} frames");
        assert!(n * 4 <= N as u128, "{n} {kind} events for {N} messages");
    }
    assert_eq!(cost.conversation_lists, 0, "{cost:?}");
    assert!(
        cost.conversation_summaries <= list_events + 1,
        "one summary query per list event (and one perhaps under way): {cost:?}"
    );
    Ok(())
}

#[tokio::test]
async fn after_signing_in_the_stream_carries_the_team_directory_without_me() -> anyhow::Result<()> {
    init_tracing();
    // Given a backend with Alice and Bob, when Alice signs in,
    let backend = Backend::start().await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    // then the directory reaches her stream (the ask dialog, the pickers and @ read it).
    let deadline = tokio::time::Instant::now() + WAIT;
    let team = loop {
        if let UiEvent::Teammates { teammates: t } =
            next(&mut alice, deadline, "waiting for the directory").await
        {
            if !t.is_empty() {
                break t;
            }
        }
    };
    assert!(
        team.iter().any(|t| t.id == backend.users[1].user.id),
        "{team:?}"
    );
    assert!(
        team.iter().all(|t| t.id != backend.users[0].user.id),
        "{team:?}"
    );
    Ok(())
}
