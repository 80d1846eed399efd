//! Coming back from an outage: when the backend and Sockudo return, the realtime connection
//! follows the first REST call that gets through, instead of waiting out a backoff that has
//! grown while they were down.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use confab_model::ipc::{ConnectionStatus, DeliveryState, UiEvent};
use support::*;
use tokio::time::Instant;

/// The shortest announced wait this test accepts: long enough that reconnecting by the backoff
/// can never be mistaken for reconnecting at once.
const LONG_WAIT_SECS: u64 = 10;

/// Waits (through the failed attempts it takes, each seen as connection events) until the
/// realtime connection announces its next attempt at least [`LONG_WAIT_SECS`] away; returns
/// when that was seen and the announced wait in whole seconds (rounded up).
async fn a_long_backoff(alice: &mut Client) -> (Instant, u64) {
    // Full jitter under a ceiling that doubles per failure (1 s to 60 s): a wait this long
    // comes after a few failures, typically within 15 s.
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut failures = 0;
    loop {
        let event = tokio::time::timeout_at(deadline, alice.events.recv())
            .await
            .unwrap_or_else(|_| panic!("no wait of {LONG_WAIT_SECS} s after {failures} failures"));
        let Ok(UiEvent::Connection(status)) = event else {
            continue;
        };
        let (ConnectionStatus::Connecting {
            retry_in_secs: Some(secs),
        }
        | ConnectionStatus::Unavailable {
            retry_in_secs: Some(secs),
        }) = status
        else {
            assert_ne!(status, ConnectionStatus::Connected, "nothing is up");
            continue;
        };
        failures += 1;
        if secs >= LONG_WAIT_SECS {
            return (Instant::now(), secs);
        }
    }
}

#[tokio::test]
async fn the_realtime_connection_returns_with_the_backend_not_at_its_next_backoff_attempt(
) -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.connected().await;
    alice.lists(conv).await;

    // Everything goes down; the realtime client fails attempt after attempt.
    backend.stop_http();
    backend.sockudo.kill();
    let (announced_at, retry_in_secs) = a_long_backoff(&mut alice).await;
    // The next scheduled attempt is no sooner than this (the status rounds the wait up).
    let scheduled = announced_at + Duration::from_secs(retry_in_secs - 1);

    // Everything comes back; Alice writes a message, which the outbox sends at once.
    backend.sockudo.restart().await?;
    backend.start_http().await?;
    let back = announced_at.elapsed();
    alice.core.send_message(conv, "back".into()).await?;

    let connected = loop {
        if alice.core.connection_status() == ConnectionStatus::Connected {
            break true;
        }
        if tokio::time::timeout_at(scheduled, alice.events.recv())
            .await
            .is_err()
        {
            break false;
        }
    };
    let took = announced_at.elapsed();
    assert!(
        connected && Instant::now() + Duration::from_secs(2) < scheduled,
        "connected: {connected} {took:?} after a {retry_in_secs} s wait was announced \
         (everything was back after {back:?}): the REST call that got through did not cut \
         the wait short"
    );
    alice
        .until("the message is sent", |c| async move {
            c.messages(conv, None, 50)
                .await
                .is_ok_and(|m| m.iter().any(|x| x.delivery == DeliveryState::Sent))
        })
        .await;
    Ok(())
}
