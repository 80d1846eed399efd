//! The server's per-user write limit, met by a real core: a message past the limit is held
//! (shown with the server's reason and the time it goes out), waits out `Retry-After`, and is
//! then delivered exactly once, in order; nothing is marked failed.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use confab_model::ipc::DeliveryState;
use confab_server::write_limit::{Rate, WriteLimits};
use support::*;

#[tokio::test]
async fn past_the_servers_message_limit_the_outbox_holds_saying_why_then_delivers_each_once(
) -> anyhow::Result<()> {
    init_tracing();
    // Two at once, then one every two seconds.
    let backend = Backend::start_limited(WriteLimits {
        messages: Some(Rate::new(2, Duration::from_secs(4))),
        ..WriteLimits::UNLIMITED
    })
    .await?;
    let conv = conversation(&backend, 0, 1).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice.connected().await;
    alice.lists(conv).await;

    let before = std::time::Instant::now();
    for i in 0..4 {
        alice.core.send_message(conv, format!("m{i}")).await?;
    }
    // The third meets the limit: held with the server's sentence, not failed.
    alice
        .until("a message is held by the server's limit", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| {
                m.iter().any(|x| {
                    matches!(&x.delivery, DeliveryState::Held { reason, until_ms }
                        if reason.contains("faster than the server allows") && *until_ms > 0)
                })
            })
        })
        .await;
    alice
        .until("every message is sent", |c| async move {
            c.messages(conv, None, 50)
                .await
                .is_ok_and(|m| m.len() == 4 && m.iter().all(|x| x.delivery == DeliveryState::Sent))
        })
        .await;
    // Four messages at one per two seconds after the first two: the server's wait was kept.
    assert!(
        before.elapsed() >= Duration::from_secs(3),
        "sent in {:?}: sooner than the limit allows",
        before.elapsed()
    );
    let on_server = backend.api(1).await?.messages(conv, None, 50).await?;
    let texts: Vec<&str> = on_server.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3"], "each once, in order");
    Ok(())
}
