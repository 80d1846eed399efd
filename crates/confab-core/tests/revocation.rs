//! Revocation that reaches the app: an administrator signs a user out everywhere (tokens
//! revoked in the database, sockets closed through the Pusher HTTP API, as `confab-server
//! users revoke-sessions` does); the signed-in core learns it from its closed socket without
//! any request of its own, ends the session with the sentence, and keeps its unsent messages.
//! The user does the same from the app: a password change ends every other device's session
//! while the changing one carries on; "sign out everywhere" ends them all.

mod support;

use confab_core::account::SIGNED_OUT_EVERYWHERE;
use confab_model::ipc::{DeliveryState, SignInRequest, UiEvent};
use confab_server::store;
use support::*;

/// What an administrator's `users revoke-sessions` does to user `i`: every token revoked in the
/// database, then their live sockets closed.
async fn revoke_every_session(backend: &Backend, i: usize) -> anyhow::Result<()> {
    let id = backend.users[i].user.id;
    let revoked = backend
        .state
        .db()
        .write(move |c| store::users::revoke_tokens(c, id, None))
        .await?;
    assert!(revoked >= 1, "the signed-in core held a token");
    backend.state.realtime().terminate_user(id);
    Ok(())
}

/// Waits until the core's socket is signed in as its user: only then is it the user's to the
/// Pusher server, so closing the user's sockets reaches it.
async fn signed_in(alice: &Client) {
    let mut watch = alice.core.realtime_signed_in();
    tokio::time::timeout(WAIT, watch.wait_for(|s| *s))
        .await
        .expect("the realtime socket signs in")
        .expect("the core is running");
}

fn ended_because(e: &UiEvent) -> Option<&str> {
    match e {
        UiEvent::SessionEnded { reason } => Some(reason),
        _ => None,
    }
}

#[tokio::test]
async fn an_idle_core_whose_sessions_an_administrator_revokes_ends_its_session_with_the_sentence(
) -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.connected().await;
    signed_in(&alice).await;

    // Alice does nothing: only the closed socket can tell her core.
    revoke_every_session(&backend, 0).await?;
    let ended = alice
        .expect("the session ends", |e| ended_because(e).is_some())
        .await;
    let reason = ended_because(&ended).unwrap_or_default().to_owned();
    assert!(
        reason.contains("signed out everywhere") && reason.contains("administrator"),
        "the sentence says what may have happened: {reason:?}"
    );
    assert!(
        alice.core.session().await.is_none(),
        "the app asks to sign in"
    );
    assert_eq!(
        alice.core.session_notice().as_deref(),
        Some(reason.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn a_message_unsent_when_an_administrator_revokes_the_session_is_kept_and_delivered_after_signing_in_again(
) -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.connected().await;
    signed_in(&alice).await;

    // The backend is out: the message waits in the outbox.
    let mut outage = backend.outage().await?;
    let m = alice.core.send_message(conv, "kept".into()).await?;
    assert_eq!(m.delivery, DeliveryState::Pending);
    outage.requested("POST /api/conversations/").await;

    revoke_every_session(&backend, 0).await?;
    backend.end_outage(outage).await?;
    // "Retry now": whichever request reaches the backend first is refused.
    alice.core.check_now();
    let ended = alice
        .expect("the session ends", |e| ended_because(e).is_some())
        .await;
    assert!(ended_because(&ended).is_some_and(|r| r.contains("unsent messages are kept")));

    alice
        .core
        .sign_in(SignInRequest {
            server_url: backend.base.clone(),
            email: backend.users[0].user.email.clone(),
            password: backend.users[0].password.clone(),
            session_only: false,
        })
        .await?;
    alice
        .until("the kept message is delivered", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| {
                m.len() == 1 && m[0].delivery == DeliveryState::Sent && m[0].content == "kept"
            })
        })
        .await;
    let bob = backend.api(1).await?;
    let on_server = bob.messages(conv, None, 50).await?;
    assert_eq!(on_server.len(), 1, "delivered once");
    Ok(())
}

#[tokio::test]
async fn a_password_changed_on_one_device_ends_the_other_devices_session_while_the_first_carries_on(
) -> anyhow::Result<()> {
    init_tracing();
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let (laptop_dir, phone_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut laptop = Client::sign_in(&backend, 0, &laptop_dir).await?;
    let mut phone = Client::sign_in(&backend, 0, &phone_dir).await?;
    phone.connected().await;
    signed_in(&phone).await;
    laptop.connected().await;
    signed_in(&laptop).await;

    let old = backend.users[0].password.clone();
    let refused = laptop
        .core
        .change_password("not-the-password".into(), "a-new-secret".into())
        .await
        .expect_err("a wrong current password is refused");
    assert_eq!(
        confab_model::ipc::IpcError::from(refused).message,
        confab_core::account::WRONG_CURRENT_PASSWORD
    );
    laptop
        .core
        .change_password(old.clone(), "a-new-secret".into())
        .await?;

    // The phone did nothing: its closed socket tells it.
    let ended = phone
        .expect("the phone's session ends", |e| ended_because(e).is_some())
        .await;
    assert!(ended_because(&ended).is_some_and(|r| r.contains("signed out")));
    // The laptop's socket was closed with the others; it signs in again on its token.
    signed_in(&laptop).await;
    let m = laptop.core.send_message(conv, "after".into()).await?;
    laptop
        .until("sent after the change", |c| {
            let id = m.client_id.clone();
            async move {
                c.messages(conv, None, 50).await.is_ok_and(|ms| {
                    ms.iter()
                        .any(|x| x.client_id == id && x.delivery == DeliveryState::Sent)
                })
            }
        })
        .await;
    assert!(laptop.core.session().await.is_some(), "still signed in");
    Ok(())
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_this_one_included_and_says_so() -> anyhow::Result<()>
{
    init_tracing();
    let backend = Backend::start().await?;
    let (laptop_dir, phone_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut laptop = Client::sign_in(&backend, 0, &laptop_dir).await?;
    let mut phone = Client::sign_in(&backend, 0, &phone_dir).await?;
    phone.connected().await;
    signed_in(&phone).await;
    laptop.connected().await;

    laptop.core.sign_out_everywhere().await?;
    // Its own closed socket may end the session first (with the administrator's sentence); the
    // last word, the one the sign-in form keeps, is why the user is there.
    laptop
        .expect("this device says why", |e| {
            ended_because(e) == Some(SIGNED_OUT_EVERYWHERE)
        })
        .await;
    assert!(laptop.core.session().await.is_none());
    phone
        .expect("the other device's session ends", |e| {
            ended_because(e).is_some()
        })
        .await;
    assert!(phone.core.session().await.is_none());
    Ok(())
}
