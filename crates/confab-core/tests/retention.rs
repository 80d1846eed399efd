//! A cursor the backend can no longer serve: its change log was compacted past it while the
//! app was away. The core reloads from scratch (conversations, history, requests), keeps the
//! message written offline and delivers it once, then syncs on from the new cursor.

mod support;

use confab_model::ipc::DeliveryState;
use confab_server::retention::compact_changes;
use confab_server::time::now_ms;
use support::*;

#[tokio::test]
async fn a_cursor_compacted_away_while_offline_reloads_the_history_and_delivers_the_offline_message_once(
) -> anyhow::Result<()> {
    init_tracing();
    let mut backend = Backend::start().await?;
    let alice_id = backend.users[0].user.id;
    let conv = conversation(&backend, 0, 1).await?;
    let bob = backend.api(1).await?;
    bob.send_message(conv, "before", "b-1", None).await?;
    let dirs = tempfile::tempdir()?;
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    alice
        .until("alice is synced", |c| async move {
            c.messages(conv, None, 50).await.is_ok_and(|m| m.len() == 1)
        })
        .await;
    let (data_dir, tokens) = alice.close().await;

    // While Alice's app is closed Bob writes, starts a group with her and asks her something;
    // then retention compacts the whole log, her cursor included.
    bob.send_message(conv, "while away", "b-2", None).await?;
    let ops = bob.create_conversation(Some("Ops"), &[alice_id]).await?.id;
    bob.send_message(ops, "ops news", "b-3", None).await?;
    bob.ask(alice_id, "Where are the runbooks?").await?;
    let (compacted, _) = compact_changes(backend.state.db(), now_ms()).await?;
    assert!(compacted >= 6, "{compacted} changes compacted");

    // She opens the app offline and writes.
    backend.stop_http();
    let mut alice = Client::open(data_dir, tokens).await?;
    let pending = alice
        .core
        .send_message(conv, "written offline".into())
        .await?;
    assert_eq!(pending.delivery, DeliveryState::Pending);

    backend.start_http().await?;
    alice
        .until(
            "the reload shows what happened while away",
            |c| async move {
                let texts = |m: Vec<confab_model::ipc::ChatMessage>| {
                    m.into_iter()
                        .map(|x| (x.content, x.delivery == DeliveryState::Sent))
                        .collect::<Vec<_>>()
                };
                let sent = true;
                let conv_ok = c.messages(conv, None, 50).await.map(texts).is_ok_and(|m| {
                    m == [
                        ("before".to_owned(), sent),
                        ("while away".to_owned(), sent),
                        ("written offline".to_owned(), sent),
                    ]
                });
                let ops_ok = c
                    .messages(ops, None, 50)
                    .await
                    .map(texts)
                    .is_ok_and(|m| m == [("ops news".to_owned(), sent)]);
                let asked = c.requests().await.is_ok_and(|r| {
                    r.incoming
                        .iter()
                        .any(|q| q.question == "Where are the runbooks?")
                });
                conv_ok && ops_ok && asked
            },
        )
        .await;
    let on_server = bob.messages(conv, None, 50).await?;
    let texts: Vec<_> = on_server.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["before", "while away", "written offline"],
        "the offline message reached the server exactly once"
    );
    let titles: Vec<_> = alice
        .core
        .conversations()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(
        titles.contains(&ops) && titles.contains(&conv),
        "{titles:?}"
    );

    // Sync goes on from the reloaded cursor: what Bob writes next arrives.
    bob.send_message(ops, "after the reload", "b-4", None)
        .await?;
    alice
        .until("the next message arrives", |c| async move {
            c.messages(ops, None, 50)
                .await
                .is_ok_and(|m| m.iter().any(|x| x.content == "after the reload"))
        })
        .await;
    Ok(())
}
