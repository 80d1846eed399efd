//! Two cores (Alice and Bob) against the real backend and a real Sockudo: messages, typing,
//! presence, and a share request approved with content; each side's cache ends up with exactly
//! the right rows.

mod support;

use confab_model::ipc::{DeliveryState, NavigateTarget, UiEvent};
use confab_model::KnowledgeStatus;
use support::*;

#[tokio::test]
async fn alice_and_bob_chat_type_see_each_other_and_share_knowledge() -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let mut bob = Client::sign_in(&backend, 1, &dirs).await?;
    let alice_id = backend.users[0].user.id;
    let bob_id = backend.users[1].user.id;
    let mut alice_notes = alice.core.take_notifications().expect("notifications");
    let mut bob_notes = bob.core.take_notifications().expect("notifications");

    // Both see the conversation (from the catch-up) and each other online.
    alice.lists(conv).await;
    bob.sees_online(alice_id).await;

    // Bob writes: pending at once, then sent; Alice gets it exactly once.
    let sent = bob.core.send_message(conv, "Hi Alice 👋".into()).await?;
    assert_eq!(sent.delivery, DeliveryState::Pending);
    bob.until("bob's message is sent", |c| async move {
        c.messages(conv, None, 50)
            .await
            .is_ok_and(|m| m.len() == 1 && m[0].delivery == DeliveryState::Sent)
    })
    .await;
    alice
        .until("alice has bob's message", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| m.len() == 1)
        })
        .await;
    let got = alice.core.messages(conv, None, 50).await?;
    assert_eq!(got[0].content, "Hi Alice 👋");
    assert_eq!(got[0].sender_id, bob_id);
    let unread = alice.core.conversations().await?;
    assert_eq!(
        unread.iter().find(|c| c.id == conv).map(|c| c.unread_count),
        Some(1)
    );
    let note = tokio::time::timeout(WAIT, alice_notes.recv())
        .await?
        .expect("a notification");
    assert_eq!(note.target, NavigateTarget::Conversation(conv));
    assert_eq!(note.body, "Hi Alice 👋");

    // Alice reads it; Bob sees the receipt.
    alice.core.mark_seen(conv).await?;
    bob.expect(
        "read receipt",
        |e| matches!(e, UiEvent::ReadReceipt { user_id, .. } if *user_id == alice_id),
    )
    .await;

    // Alice types; Bob sees "Alice" typing, then it stops when she sends.
    alice.core.typing(conv).await?;
    bob.expect(
        "alice typing",
        |e| matches!(e, UiEvent::Typing { names, .. } if names == &vec!["Alice".to_string()]),
    )
    .await;
    alice.core.send_message(conv, "Hello Bob".into()).await?;
    bob.expect(
        "typing stops",
        |e| matches!(e, UiEvent::Typing { names, .. } if names.is_empty()),
    )
    .await;
    bob.until("bob has both messages", |c| async move {
        c.messages(conv, None, 50).await.is_ok_and(|m| m.len() == 2)
    })
    .await;

    // Bob asks Alice to share knowledge; she approves with content from her sidebar list.
    bob.core.ask(alice_id, "How do we deploy?".into()).await?;
    alice
        .until("alice sees the request", |c| async move {
            c.requests().await.is_ok_and(|r| r.incoming.len() == 1)
        })
        .await;
    let request = alice.core.requests().await?.incoming[0].clone();
    assert_eq!(request.question, "How do we deploy?");
    assert_eq!(request.requester_name, "Bob");
    let note = tokio::time::timeout(WAIT, alice_notes.recv())
        .await?
        .expect("a notification");
    assert_eq!(note.target, NavigateTarget::Request(request.id));

    alice
        .core
        .respond(request.id, true, Some("Run `make deploy`.".into()))
        .await?;
    assert!(
        alice.core.requests().await?.incoming.is_empty(),
        "answered leaves the list"
    );
    bob.until("bob sees the answer", |c| async move {
        c.requests().await.is_ok_and(|r| {
            r.outgoing.len() == 1 && r.outgoing[0].status == KnowledgeStatus::Approved
        })
    })
    .await;
    let answer = &bob.core.requests().await?.outgoing[0];
    assert_eq!(
        answer.response_content.as_deref(),
        Some("Run `make deploy`.")
    );
    let mut targets = vec![];
    while let Ok(Some(n)) = tokio::time::timeout(WAIT, bob_notes.recv()).await {
        targets.push(n.target.clone());
        if n.target == NavigateTarget::Answer(request.id) {
            break;
        }
    }
    assert!(
        targets.contains(&NavigateTarget::Answer(request.id)),
        "{targets:?}"
    );

    // Exactly the right rows on each side.
    for c in [&alice, &bob] {
        let msgs = c.core.messages(conv, None, 50).await?;
        let texts: Vec<_> = msgs.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["Hi Alice 👋", "Hello Bob"]);
        assert!(msgs
            .iter()
            .all(|m| m.delivery == DeliveryState::Sent && m.seq.is_some()));
        assert_eq!(c.core.conversations().await?.len(), 1);
    }
    assert_eq!(alice.core.requests().await?.outgoing.len(), 0);
    assert_eq!(bob.core.requests().await?.incoming.len(), 0);
    Ok(())
}

#[tokio::test]
async fn a_room_member_cannot_make_someone_else_appear_to_type() -> anyhow::Result<()> {
    use std::sync::Arc;

    use confab_model::events::{Typing, CLIENT_TYPING};
    use confab_model::ChannelName;
    use pusher_channels::auth::HttpAuthorizer;
    use pusher_channels::proto::{Config, Endpoint, Event};

    init_tracing();
    // Given Alice's app in a room with Bob, and Bob's own bare realtime connection to the room,
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.lists(conv).await;
    let bob_id = backend.users[1].user.id;
    let api = backend.api(1).await?;
    let cfg = api.config().await?.pusher;
    let endpoint = Endpoint::Host {
        host: cfg.host.clone().unwrap(),
        port: cfg.port.unwrap(),
        tls: cfg.use_tls,
    };
    let token = api.token().unwrap_or_default().to_owned();
    let authorizer = HttpAuthorizer::new(api.pusher_auth_url()).headers(Arc::new(move || {
        vec![("Authorization".into(), format!("Bearer {token}"))]
    }));
    let (bob, mut bob_events) =
        pusher_channels::client::Client::start(Config::new(cfg.key, endpoint), authorizer);
    let room = ChannelName::chat_room(conv);
    bob.subscribe(&room)?;
    tokio::time::timeout(WAIT, async {
        while let Some(e) = bob_events.recv().await {
            if matches!(&e, Event::Subscribed { channel, .. } if *channel == room) {
                return;
            }
        }
    })
    .await?;
    alice.sees_online(bob_id).await;
    let typing = |user_id, name: &str| {
        serde_json::to_value(Typing {
            user_id,
            name: name.into(),
            typing: true,
        })
        .unwrap()
    };

    // When Bob claims to be someone not in the room, then claims his own id under another name,
    bob.trigger(&room, CLIENT_TYPING, typing(9_999, "The CEO"))
        .await?;
    bob.trigger(&room, CLIENT_TYPING, typing(bob_id, "Mallory"))
        .await?;

    // then Alice sees only Bob typing, under the name the backend signed for him.
    let e = alice
        .expect("a typing indicator", |e| {
            matches!(e, UiEvent::Typing { .. })
        })
        .await;
    let UiEvent::Typing { names, .. } = e else {
        unreachable!()
    };
    assert_eq!(names, ["Bob"]);
    Ok(())
}
