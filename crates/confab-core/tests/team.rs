//! Shaping conversations through the core against the real backend and Sockudo: a member added
//! to a group gets it at once and reads its earlier history (which sync does not bring them)
//! from the server, as history, not as unread news; leaving drops the group here.

#![allow(clippy::unwrap_used)]

mod support;

use confab_model::ipc::UiEvent;
use confab_server::{auth, store};
use support::*;

#[tokio::test]
async fn a_member_added_to_a_group_reads_its_earlier_history_from_the_server_as_read(
) -> anyhow::Result<()> {
    init_tracing();
    // Given Alice and Bob in a group with five messages, and Carol, who is not in it,
    let mut backend = Backend::start().await?;
    let password = "pw-Carol".to_owned();
    let hash = auth::hash_password(&password)?;
    let carol = backend
        .state
        .db()
        .write(move |c| store::users::create_user(c, "carol@example.test", "Carol", &hash))
        .await
        .map_err(|e: store::StoreError| anyhow::anyhow!("{e}"))?;
    backend.users.push(Account {
        user: carol.clone(),
        password,
    });
    let alice_api = backend.api(0).await?;
    let group = alice_api
        .create_conversation(Some("Ops"), &[backend.users[1].user.id])
        .await?;
    for i in 0..5 {
        alice_api
            .send_message(
                group.id,
                &format!("runbook step {i}"),
                &format!("ops-{i}"),
                None,
            )
            .await?;
    }
    let dirs = tempfile::tempdir()?;
    let mut carol_app = Client::sign_in(&backend, 2, &dirs).await?;
    carol_app.connected().await;

    // When Alice adds Carol,
    alice_api.add_members(group.id, &[carol.id]).await?;

    // then the group reaches Carol's list at once, with nothing unread,
    let event = carol_app
        .expect("the group in Carol's list", |e| {
            matches!(e, UiEvent::Conversations(u) if u.conversations.iter().any(|c| c.id == group.id))
        })
        .await;
    let UiEvent::Conversations(update) = event else {
        unreachable!()
    };
    let summary = update
        .conversations
        .iter()
        .find(|c| c.id == group.id)
        .unwrap();
    assert_eq!(summary.title, "Ops");
    assert_eq!(summary.member_count, 3);
    // who is in it is read from her cache when she opens it,
    let mut expected = vec![backend.users[0].user.id, backend.users[1].user.id, carol.id];
    expected.sort_unstable();
    assert_eq!(carol_app.core.members(group.id).await?, expected);
    // and opening it shows the five earlier messages, fetched from the server into the cache,
    let page = carol_app.core.messages(group.id, None, 50).await?;
    let texts: Vec<&str> = page.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        (0..5)
            .map(|i| format!("runbook step {i}"))
            .collect::<Vec<_>>()
    );
    // read as history: no unread count, no mention badge,
    let list = carol_app.core.conversations().await?;
    let summary = list.iter().find(|c| c.id == group.id).unwrap();
    assert_eq!(summary.unread_count, 0);
    // and cached: offline (the backend gone) the same page comes from the cache alone.
    backend.stop_http();
    let again = carol_app.core.messages(group.id, None, 50).await?;
    assert_eq!(again.len(), 5);
    Ok(())
}

#[tokio::test]
async fn leaving_a_group_drops_it_and_its_messages_from_the_cache() -> anyhow::Result<()> {
    init_tracing();
    // Given Bob in a group with Alice where Alice wrote a message Bob has,
    let backend = Backend::start().await?;
    let alice_api = backend.api(0).await?;
    let group = alice_api
        .create_conversation(Some("Ops"), &[backend.users[1].user.id])
        .await?;
    alice_api
        .send_message(
            group.id,
            "the staging password rotates friday",
            "ops-1",
            None,
        )
        .await?;
    let dirs = tempfile::tempdir()?;
    let mut bob = Client::sign_in(&backend, 1, &dirs).await?;
    bob.until("Bob has the message", |c| async move {
        c.search("staging".into())
            .await
            .is_ok_and(|r| r.messages.len() == 1)
    })
    .await;

    // When Bob leaves it (what the window heard before is behind us),
    while bob.events.try_recv().is_ok() {}
    bob.core.leave_conversation(group.id).await?;

    // then his list loses it (the window hears it as removed, or gets the whole list without it
    // when a first sync's snapshot announcement is folded into the same update), and nothing of
    // it stays cached.
    bob.expect("the group removed from Bob's list", |e| {
        matches!(e, UiEvent::Conversations(u)
            if u.removed.contains(&group.id)
                || (u.complete && u.conversations.iter().all(|c| c.id != group.id)))
    })
    .await;
    assert!(bob
        .core
        .conversations()
        .await?
        .iter()
        .all(|c| c.id != group.id));
    assert!(bob.core.search("staging".into()).await?.messages.is_empty());
    // A second leave is refused by the server: he is no longer a member.
    assert!(bob.core.leave_conversation(group.id).await.is_err());
    Ok(())
}
