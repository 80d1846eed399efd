//! Read marks reach the server even when it is down at the moment they are made: Alice reads
//! Bob's message during an outage, and Bob's app gets her "seen" receipt once the backend is
//! back, whether Alice's app stayed open or was closed and started again meanwhile.

#![allow(clippy::unwrap_used)]

mod support;

use confab_core::Api;
use confab_model::ipc::UiEvent;
use confab_model::{Change, Seq, UserId, SYNC_PAGE_MAX};
use support::*;

/// Around Alice (returned beside it, as her app is closed and started again): Bob's app in the
/// conversation's room (it sees Alice online), so a receipt the server sends reaches it.
struct Scene {
    backend: Backend,
    /// Holds both data dirs.
    _dirs: tempfile::TempDir,
    alice_id: UserId,
    bob: Client,
    /// Bob's REST client: the server's view, for checks that nothing arrived yet.
    bob_api: Api,
    conv: i64,
    /// The seq of Bob's message.
    seq: Seq,
}

/// Alice's app with an unread message from Bob.
async fn alice_has_an_unread_message_from_bob() -> anyhow::Result<(Scene, Client)> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut bob = Client::sign_in(&backend, 1, &dirs).await?;
    let alice_id = backend.users[0].user.id;
    let bob_api = backend.api(1).await?;
    let seq = bob_api
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
    bob.sees_online(alice_id).await;
    let scene = Scene {
        backend,
        _dirs: dirs,
        alice_id,
        bob,
        bob_api,
        conv,
        seq,
    };
    Ok((scene, alice))
}

/// Whether the server, asked by Bob through the REST API, has `reader`'s read mark in `conv`
/// at `seq` or beyond.
async fn server_has_read_mark(bob: &Api, conv: i64, reader: UserId, seq: Seq) -> bool {
    let page = bob.sync(0, SYNC_PAGE_MAX).await.unwrap();
    assert!(!page.has_more, "the test's history fits one page");
    page.changes.iter().any(|c| {
        matches!(c, Change::ReadReceipt(rc)
            if rc.receipt.conversation_id == conv
                && rc.receipt.user_id == reader
                && rc.receipt.seq >= seq)
    })
}

/// Alice reads the conversation while the backend is down, and her core's attempt to tell the
/// server is seen to fail.
async fn alice_reads_during_an_outage(s: &mut Scene, alice: &Client) -> anyhow::Result<Outage> {
    let mut outage = s.backend.outage().await?;
    alice.core.mark_seen(s.conv).await?;
    let list = alice.core.conversations().await?;
    assert_eq!(
        list.iter().find(|c| c.id == s.conv).map(|c| c.unread_count),
        Some(0),
        "the local mark moves at once"
    );
    outage
        .requested(&format!("POST /api/conversations/{}/read", s.conv))
        .await;
    Ok(outage)
}

/// Bob's app gets Alice's receipt for his message (the server sends it when her mark arrives).
async fn bob_gets_alices_receipt(s: &mut Scene) {
    let (conv, alice_id, seq) = (s.conv, s.alice_id, s.seq);
    s.bob
        .expect("Alice's read receipt", |e| {
            matches!(e, UiEvent::ReadReceipt { conversation_id, user_id, seq: at }
                if *conversation_id == conv && *user_id == alice_id && *at >= seq)
        })
        .await;
}

#[tokio::test]
async fn a_read_mark_made_while_the_backend_is_down_reaches_the_server_when_it_returns(
) -> anyhow::Result<()> {
    // Given Alice with an unread message from Bob,
    let (mut s, alice) = alice_has_an_unread_message_from_bob().await?;
    assert!(!server_has_read_mark(&s.bob_api, s.conv, s.alice_id, s.seq).await);

    // when she reads it while the backend is down (the realtime connection stays up), and the
    // backend comes back,
    let outage = alice_reads_during_an_outage(&mut s, &alice).await?;
    s.backend.end_outage(outage).await?;

    // then Bob sees that she has read it.
    bob_gets_alices_receipt(&mut s).await;
    assert!(server_has_read_mark(&s.bob_api, s.conv, s.alice_id, s.seq).await);
    Ok(())
}

#[tokio::test]
async fn a_read_mark_left_unsent_when_the_app_closed_is_sent_by_the_next_start(
) -> anyhow::Result<()> {
    // Given Alice who read Bob's message while the backend was down, and closed the app then,
    let (mut s, alice) = alice_has_an_unread_message_from_bob().await?;
    let outage = alice_reads_during_an_outage(&mut s, &alice).await?;
    let (data_dir, tokens) = alice.close().await;
    s.backend.end_outage(outage).await?;
    assert!(
        !server_has_read_mark(&s.bob_api, s.conv, s.alice_id, s.seq).await,
        "nobody has sent it yet"
    );

    // when she starts the app again with the backend up,
    let _alice = Client::open(data_dir, tokens).await?;

    // then the mark left from the last run reaches the server, without her reading again.
    bob_gets_alices_receipt(&mut s).await;
    assert!(server_has_read_mark(&s.bob_api, s.conv, s.alice_id, s.seq).await);
    Ok(())
}
