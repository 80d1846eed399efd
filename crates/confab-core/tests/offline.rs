//! Offline and session life: the app opens on its cache with the backend down, keeps what is
//! written, delivers it once when the backend returns; an expired token ends the session
//! cleanly and keeps unsent messages.

mod support;

use std::sync::Arc;

use confab_core::session::TokenStore;
use confab_model::ipc::{DeliveryState, UiEvent};
use support::*;

#[tokio::test]
async fn alice_reads_her_cache_offline_and_what_she_writes_is_delivered_once_in_order(
) -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let bob = backend.api(1).await?;
    bob.send_message(conv, "before", "b-1", None).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice
        .until("alice has the history", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| m.len() == 1)
        })
        .await;
    let (data_dir, tokens) = alice.close().await;

    backend.stop_http();
    let mut alice = Client::open(data_dir, tokens).await?;
    assert!(alice.core.session().await.is_some());
    let list = alice.core.conversations().await?;
    assert_eq!(list.len(), 1, "conversations come from the cache");
    assert_eq!(
        alice.core.messages(conv, None, 50).await?[0].content,
        "before"
    );
    for text in ["one", "two", "three"] {
        let m = alice.core.send_message(conv, text.into()).await?;
        assert_eq!(m.delivery, DeliveryState::Pending);
    }
    let shown = alice.core.messages(conv, None, 50).await?;
    assert_eq!(shown.len(), 4, "written offline, shown at once");

    backend.start_http().await?;
    alice
        .until("the outbox drains", |c| async move {
            c.messages(conv, None, 50)
                .await
                .is_ok_and(|m| m.len() == 4 && m.iter().all(|x| x.delivery == DeliveryState::Sent))
        })
        .await;
    let on_server = bob.messages(conv, None, 50).await?;
    let texts: Vec<_> = on_server.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["before", "one", "two", "three"],
        "once each, in order"
    );
    Ok(())
}

#[tokio::test]
async fn an_expired_token_ends_the_session_and_keeps_unsent_messages() -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.connected().await;
    let session = alice.core.session().await.expect("signed in");
    let token = alice
        .tokens
        .load(&confab_core::session::account(&session))?
        .expect("token kept");
    // The server revokes the token (as an expiry or an admin would).
    confab_core::Api::new(&backend.base)
        .with_token(token)
        .logout()
        .await?;

    alice.core.send_message(conv, "still here".into()).await?;
    alice
        .expect("session ended", |e| {
            matches!(e, UiEvent::SessionEnded { .. })
        })
        .await;
    assert!(
        alice.core.session().await.is_none(),
        "the UI asks to sign in again"
    );
    let notice = alice.core.session_notice().unwrap_or_default();
    assert!(
        notice.contains("expired"),
        "a window opened now still learns why: {notice:?}"
    );

    // Signing in again delivers what was kept.
    alice
        .core
        .sign_in(confab_model::ipc::SignInRequest {
            server_url: backend.base.clone(),
            email: backend.users[0].user.email.clone(),
            password: backend.users[0].password.clone(),
            session_only: false,
        })
        .await?;
    assert_eq!(
        alice.core.session_notice(),
        None,
        "a new session, no notice"
    );
    alice
        .until("the kept message is delivered", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| {
                m.len() == 1 && m[0].delivery == DeliveryState::Sent && m[0].content == "still here"
            })
        })
        .await;
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unreachable_server_are_told_apart() -> anyhow::Result<()> {
    let backend = Backend::start().await?;
    let dirs = tempfile::tempdir()?;
    let c = Client::open(dirs.path().join("x"), Arc::default()).await?;
    let wrong = c
        .core
        .sign_in(confab_model::ipc::SignInRequest {
            server_url: backend.base.clone(),
            email: backend.users[0].user.email.clone(),
            password: "nope".into(),
            session_only: false,
        })
        .await
        .unwrap_err();
    let ipc: confab_model::ipc::IpcError = wrong.into();
    assert_eq!(ipc.code, confab_model::ipc::IpcErrorCode::BadCredentials);
    let port = confab_testkit::free_port();
    let down = c
        .core
        .sign_in(confab_model::ipc::SignInRequest {
            server_url: format!("http://127.0.0.1:{port}"),
            email: "a@b.c".into(),
            password: "x".into(),
            session_only: false,
        })
        .await
        .unwrap_err();
    let ipc: confab_model::ipc::IpcError = down.into();
    assert_eq!(ipc.code, confab_model::ipc::IpcErrorCode::Unreachable);
    assert!(
        !ipc.message.contains("127.0.0.1"),
        "no raw details: {}",
        ipc.message
    );
    Ok(())
}
