//! Channel authorization in batches against the real backend: a burst of subscriptions gets
//! for each channel the answer its own request would have had, and a backend without the batch
//! endpoint still signs them, one request each.

mod support;

use std::sync::Arc;

use anyhow::Result;
use confab_core::batch_auth::BatchAuthorizer;
use confab_model::ChannelName;
use futures_util::future::join_all;
use pusher_channels::auth::{Authorizer, HeaderProvider, HttpAuthorizer};
use support::Backend;

const SOCKET: &str = "1234.5678";

#[tokio::test]
async fn a_burst_of_subscriptions_signed_in_batches_gets_each_channel_its_own_answer_and_an_older_backend_still_signs(
) -> Result<()> {
    let b = Backend::start().await?;
    let alice = b.api(0).await?;
    let (alice_id, bob_id) = (b.users[0].user.id, b.users[1].user.id);
    let mut rooms = Vec::new();
    for i in 0..3 {
        let group = alice
            .create_conversation(Some(&format!("Group {i}")), &[bob_id])
            .await?;
        rooms.push(group.id);
    }
    let token = alice.token().unwrap_or_default().to_owned();
    let headers: HeaderProvider =
        Arc::new(move || vec![("Authorization".into(), format!("Bearer {token}"))]);
    let single = || HttpAuthorizer::new(alice.pusher_auth_url()).headers(Arc::clone(&headers));
    let mine: Vec<String> = std::iter::once(ChannelName::private_user(alice_id))
        .chain(rooms.iter().map(|r| ChannelName::chat_room(*r)))
        .collect();
    let refused = [
        ChannelName::private_user(bob_id),
        ChannelName::chat_room(987_654),
    ];

    for url in [
        alice.pusher_batch_auth_url(),
        // An older backend: no such endpoint (404), so one request a channel.
        format!("{}-gone", alice.pusher_batch_auth_url()),
    ] {
        let batch = BatchAuthorizer::new(
            single(),
            reqwest::Client::new(),
            url.clone(),
            Arc::clone(&headers),
        );
        let all: Vec<&String> = mine.iter().chain(refused.iter()).collect();
        let answers = join_all(all.iter().map(|c| batch.authorize_channel(SOCKET, c))).await;
        for (channel, answer) in all.iter().zip(&answers) {
            let alone = single().authorize_channel(SOCKET, channel).await;
            match (answer, &alone) {
                (Ok(got), Ok(expected)) => {
                    assert_eq!(got.auth, expected.auth, "{url} {channel}");
                    assert_eq!(got.channel_data, expected.channel_data, "{url} {channel}");
                }
                (Err(got), Err(expected)) => {
                    assert_eq!(got.status, Some(403), "{url} {channel}: {got:?}");
                    assert_eq!(got.status, expected.status, "{url} {channel}");
                    // The batch's refusal is its own sentence; the single endpoint's is its
                    // JSON error body: which one answered shows which path was taken.
                    let batched = !got.message.starts_with('{');
                    assert_eq!(
                        batched,
                        url == alice.pusher_batch_auth_url(),
                        "{url} {got:?}"
                    );
                }
                _ => panic!("{url} {channel}: batch {answer:?}, alone {alone:?}"),
            }
        }
        assert_eq!(
            answers.iter().filter(|a| a.is_ok()).count(),
            mine.len(),
            "{url}"
        );
        assert!(
            answers[1].as_ref().is_ok_and(|a| a.channel_data.is_some()),
            "a room is a presence channel: its member data comes with it"
        );
    }
    Ok(())
}
