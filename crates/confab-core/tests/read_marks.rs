//! Read marks reach the server even when it is down at the moment they are made: Alice reads
//! Bob's message during an outage, and Bob sees her "seen" receipt once the backend is back,
//! whether Alice's app stayed open or was closed and started again meanwhile.

#![allow(clippy::unwrap_used)]

mod support;

use confab_core::Api;
use confab_model::{Change, Seq, UserId};
use support::*;

/// Whether Bob, through the REST API, sees `reader`'s read mark in `conv` at `seq` or beyond.
async fn bob_sees_read_mark(bob: &Api, conv: i64, reader: UserId, seq: Seq) -> bool {
    let Ok(page) = bob.sync(0, 1000).await else {
        return false;
    };
    assert!(!page.has_more, "the test's history fits one page");
    page.changes.iter().any(|c| {
        matches!(c, Change::ReadReceipt(rc)
            if rc.receipt.conversation_id == conv
                && rc.receipt.user_id == reader
                && rc.receipt.seq >= seq)
    })
}

/// Bob writes to Alice; Alice's core has the message, unread. Returns the conversation, Bob's
/// API and the message's seq.
async fn alice_has_an_unread_message_from_bob(
    backend: &Backend,
    alice: &mut Client,
) -> anyhow::Result<(i64, Api, Seq)> {
    let conv = conversation(backend, 0, 1).await?;
    let bob = backend.api(1).await?;
    let seq = bob
        .send_message(conv, "did you see this?", "bob-1", None)
        .await?
        .seq;
    alice.connected().await;
    alice
        .until("alice has Bob's message, unread", |c| async move {
            c.conversations()
                .await
                .is_ok_and(|l| l.iter().any(|x| x.id == conv && x.unread_count == 1))
        })
        .await;
    Ok((conv, bob, seq))
}

/// Alice reads the conversation while the backend is down, and her core's attempt to tell the
/// server is seen to fail.
async fn alice_reads_during_an_outage(
    backend: &mut Backend,
    alice: &Client,
    conv: i64,
) -> anyhow::Result<Outage> {
    let mut outage = backend.outage().await?;
    alice.core.mark_seen(conv).await?;
    let list = alice.core.conversations().await?;
    assert_eq!(
        list.iter().find(|c| c.id == conv).map(|c| c.unread_count),
        Some(0),
        "the local mark moves at once"
    );
    outage
        .requested(&format!("POST /api/conversations/{conv}/read"))
        .await;
    Ok(outage)
}

#[tokio::test]
async fn a_read_mark_made_while_the_backend_is_down_reaches_the_server_when_it_returns(
) -> anyhow::Result<()> {
    init_tracing();
    // Given Alice with an unread message from Bob,
    let mut backend = Backend::start().await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let (conv, bob, seq) = alice_has_an_unread_message_from_bob(&backend, &mut alice).await?;
    let alice_id = backend.users[0].user.id;
    assert!(!bob_sees_read_mark(&bob, conv, alice_id, seq).await);

    // when she reads it while the backend is down (the realtime connection stays up), and the
    // backend comes back,
    let outage = alice_reads_during_an_outage(&mut backend, &alice, conv).await?;
    backend.end_outage(outage).await?;

    // then Bob sees that she has read it.
    eventually("Bob sees Alice's read mark", || {
        bob_sees_read_mark(&bob, conv, alice_id, seq)
    })
    .await;
    Ok(())
}

#[tokio::test]
async fn a_read_mark_left_unsent_when_the_app_closed_is_sent_by_the_next_start(
) -> anyhow::Result<()> {
    init_tracing();
    // Given Alice who read Bob's message while the backend was down, and closed the app then,
    let mut backend = Backend::start().await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let (conv, bob, seq) = alice_has_an_unread_message_from_bob(&backend, &mut alice).await?;
    let alice_id = backend.users[0].user.id;
    let outage = alice_reads_during_an_outage(&mut backend, &alice, conv).await?;
    let (data_dir, tokens) = alice.close().await;
    backend.end_outage(outage).await?;
    assert!(
        !bob_sees_read_mark(&bob, conv, alice_id, seq).await,
        "nobody has sent it yet"
    );

    // when she starts the app again with the backend up,
    let _alice = Client::open(data_dir, tokens).await?;

    // then the mark left from the last run reaches the server, without her reading again.
    eventually("Bob sees Alice's read mark", || {
        bob_sees_read_mark(&bob, conv, alice_id, seq)
    })
    .await;
    Ok(())
}
