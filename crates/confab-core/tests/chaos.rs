//! Chaos: the deployment at scale (replicas on one PostgreSQL database, a Sockudo cluster over
//! Redis) losing a replica and a realtime node while two people write to each other as fast as
//! their apps send. What must hold whatever dies: every message reaches each app exactly once,
//! both apps show the conversation in one order (the server's), and once the cluster has
//! settled each sees the other online.
//!
//! The dead node stays dead; its clients and its replica's triggers move to the live node
//! through the balancer in front of the cluster, as in a deployment. Starting it again on its
//! port instead shows a Sockudo 5.2 race, not Confab's: a client subscribing to a presence room
//! on a node that has just started gets only the members that node knows of, and the node
//! learns the other nodes' members a moment later (a staggered state sync) without telling the
//! client, who then sees the others offline until they subscribe again.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Result};
use confab_core::Core;
use confab_model::ipc::{ChatMessage, ConnectionStatus, DeliveryState, UiEvent};
use support::cluster::{Cluster, Observer};
use support::*;
use tokio::time::Instant;

/// Messages each of the two writes.
const EACH: usize = 500;
/// Messages in all.
const TOTAL: i64 = 2 * EACH as i64;
/// How many of a client's messages may wait in its outbox (written, not yet stored by the
/// server) before it writes more: it keeps both outboxes busy, so every fault below lands while
/// messages are in flight, and the two streams interleave instead of one finishing first.
const WINDOW: i64 = 20;
/// Stored messages (of both) at which: replica 1 dies, it is back, node 2 dies.
const KILL_REPLICA_AT: i64 = 300;
const RESTART_REPLICA_AT: i64 = 400;
const KILL_NODE_AT: i64 = 600;
/// What node 1 logs when it has buried node 2 (after Sockudo's 30 s node timeout): the
/// presence members node 2 had are removed then, and must not take Grace's new socket with them.
const BURIED: &str = "emitted cleanup event for orphaned presence members";
/// How long recovery may take: the realtime client's backoff has a one-minute ceiling, and
/// sync and outbox retries back off too.
const RECOVERY: Duration = Duration::from_secs(150);
/// How often the database is asked how far the senders got. Polling a real condition (the
/// committed rows) at this pace is how the test keeps step with the servers; nothing waits on
/// time alone.
const POLL: Duration = Duration::from_millis(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_different_replicas_and_sockudo_nodes_exchange_a_thousand_messages_through_a_replica_restart_and_a_node_loss_each_exactly_once_in_order(
) -> Result<()> {
    init_tracing();
    let started = Instant::now();
    // Replica 1 sends its clients to node 1, replica 2 to node 2.
    let mut cluster = Cluster::start(2).await?;
    let (ada_id, grace_id) = (cluster.users[0].user.id, cluster.users[1].user.id);
    let conv = cluster
        .api(0, 0)
        .await?
        .create_conversation(None, &[grace_id])
        .await?
        .id;
    let dirs = tempfile::tempdir()?;
    let mut ada = Client::sign_in_to(
        &cluster.replicas[0].base,
        &cluster.users[0],
        dirs.path().join("ada"),
    )
    .await?;
    let mut grace = Client::sign_in_to(
        &cluster.replicas[1].base,
        &cluster.users[1],
        dirs.path().join("grace"),
    )
    .await?;
    for (me, other) in [(&mut ada, grace_id), (&mut grace, ada_id)] {
        me.connected().await;
        me.lists(conv).await;
        // Each is on its own node: seeing the other means presence crosses Redis.
        me.sees_online(other).await;
    }
    // Ada on node 1 and Grace on node 2, each replica triggering through its own node.
    assert_eq!(
        (
            cluster.balancers[0].forwarded_to(1),
            cluster.balancers[1].forwarded_to(1)
        ),
        (0, 0),
        "every connection so far went to the replica's own node"
    );
    let connects = [connections(&ada.core), connections(&grace.core)];
    let ready = started.elapsed();

    let writers = [
        tokio::spawn(write(
            ada.core.clone(),
            cluster.observer.clone(),
            conv,
            ada_id,
            "ada",
        )),
        tokio::spawn(write(
            grace.core.clone(),
            cluster.observer.clone(),
            conv,
            grace_id,
            "grace",
        )),
    ];

    // The faults, each at a point of the exchange while both keep writing. Replica 1 dies with
    // Ada's messages in flight: her outbox backs off, and a request whose answer was lost is
    // sent again with its client id. Grace's messages keep reaching her through node 1.
    let observer = cluster.observer.clone();
    let mut timeline = Vec::new();
    stored_reaches(&observer, conv, KILL_REPLICA_AT).await?;
    let cut = cluster.replicas[0].kill().await;
    timeline.push(("replica 1 killed", started.elapsed()));
    let ada_at_kill = observer.stored(conv, Some(ada_id)).await?;
    stored_reaches(&observer, conv, RESTART_REPLICA_AT).await?;
    // Only Grace got further meanwhile (a request in flight at the kill may still commit).
    let ada_at_restart = observer.stored(conv, Some(ada_id)).await?;
    cluster.replicas[0].restart().await?;
    timeline.push(("replica 1 back", started.elapsed()));
    // Node 2 dies and stays dead: Grace's realtime connection drops and comes back through
    // the balancer on node 1, and replica 2's triggers go to node 1 too (those that failed
    // meanwhile, Ada gets by sync). Grace's messages keep reaching the server throughout.
    stored_reaches(&observer, conv, KILL_NODE_AT).await?;
    cluster.nodes[1].kill();
    timeline.push(("node 2 killed", started.elapsed()));

    for writer in writers {
        writer.await??;
    }
    timeline.push(("all written", started.elapsed()));
    stored_reaches(&observer, conv, TOTAL).await?;
    timeline.push(("all stored", started.elapsed()));
    assert_eq!(
        observer.stored(conv, None).await?,
        TOTAL,
        "the server stored each message once, those sent again included"
    );

    // Every message in each app, once, in the server's order, the same in both.
    let mut lists = Vec::new();
    for (who, client) in [("ada", &mut ada), ("grace", &mut grace)] {
        client
            .until_within(
                &format!("{who} has all {TOTAL} messages, sent"),
                RECOVERY,
                |c| async move { has_all(&c, conv).await },
            )
            .await;
        let messages = every_message(&client.core, conv).await?;
        exactly_once_in_order(who, &messages, [(ada_id, "ada"), (grace_id, "grace")]);
        lists.push(messages);
        timeline.push((who, started.elapsed()));
    }
    let keys = |l: &[ChatMessage]| -> Vec<(Option<i64>, String)> {
        l.iter().map(|m| (m.seq, m.client_id.clone())).collect()
    };
    assert_eq!(
        keys(&lists[0]),
        keys(&lists[1]),
        "both apps show one conversation in one order"
    );

    // Once everything is back (Grace through node 1), both are connected and each sees the
    // other online; and still so once node 1 has buried node 2 and its presence members.
    assert!(
        cluster.balancers[1].forwarded_to(1) > 0,
        "Grace and replica 2 moved to node 1"
    );
    both_see_each_other(&mut ada, &mut grace, ada_id, grace_id).await;
    timeline.push(("presence", started.elapsed()));
    let deadline = Instant::now() + RECOVERY;
    while !cluster.nodes[0].log_tail(1000).contains(BURIED) {
        assert!(
            Instant::now() < deadline,
            "node 1 never buried node 2:\n{}",
            cluster.nodes[0].log_tail(40)
        );
        tokio::time::sleep(POLL * 5).await;
    }
    both_see_each_other(&mut ada, &mut grace, ada_id, grace_id).await;
    timeline.push(("node 2 buried, presence", started.elapsed()));

    let timeline: Vec<String> = timeline
        .iter()
        .map(|(what, at)| format!("{what} {:.1}s", at.as_secs_f64()))
        .collect();
    println!(
        "chaos: {TOTAL} messages; ready {:.1}s, {}; realtime reconnects: ada {}, grace {}; \
         replica 1 started {} times and cut {cut} connections dying, Ada's stored messages at its death {ada_at_kill} and at its \
         return {ada_at_restart}; connections through balancer 2 to node 2: {}, to node 1: {}",
        ready.as_secs_f64(),
        timeline.join(", "),
        connects[0].load(Ordering::Relaxed),
        connects[1].load(Ordering::Relaxed),
        cluster.replicas[0].starts,
        cluster.balancers[1].forwarded_to(0),
        cluster.balancers[1].forwarded_to(1),
    );
    Ok(())
}

/// Waits until both are connected and each sees the other online.
async fn both_see_each_other(ada: &mut Client, grace: &mut Client, ada_id: i64, grace_id: i64) {
    for (me, other) in [(ada, grace_id), (grace, ada_id)] {
        me.until_within("connected again", RECOVERY, |c| async move {
            c.connection_status() == ConnectionStatus::Connected
        })
        .await;
        me.until_within(
            &format!("user {other} is seen online"),
            RECOVERY,
            |c| async move {
                c.teammates()
                    .await
                    .is_ok_and(|t| t.iter().any(|m| m.id == other && m.online))
            },
        )
        .await;
    }
}

/// Counts the realtime connection's returns to connected from now on (as the banner shows
/// them; a burst of UI events may hide one, so it is a lower bound).
fn connections(core: &Core) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let mut events = core.subscribe_events();
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(UiEvent::Connection(ConnectionStatus::Connected)) => {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    count
}

/// Writes "`name` 000" to "`name` 499" through the app, as fast as its outbox delivers them:
/// never more than [`WINDOW`] ahead of what the server has stored of `me`.
async fn write(core: Core, observer: Observer, conv: i64, me: i64, name: &str) -> Result<()> {
    let deadline = Instant::now() + RECOVERY * 2;
    for i in 0..EACH {
        let written = i64::try_from(i)?;
        while written - observer.stored(conv, Some(me)).await? >= WINDOW {
            ensure!(
                Instant::now() < deadline,
                "{name}'s outbox stopped delivering at {written} written"
            );
            tokio::time::sleep(POLL).await;
        }
        core.send_message(conv, format!("{name} {i:03}")).await?;
    }
    Ok(())
}

/// Waits until the server has stored at least `n` messages of the conversation.
async fn stored_reaches(observer: &Observer, conv: i64, n: i64) -> Result<()> {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let stored = observer.stored(conv, None).await?;
        if stored >= n {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "only {stored} of {n} messages stored"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Whether the app's cache holds every message of the exchange, each confirmed by the server.
async fn has_all(core: &Core, conv: i64) -> bool {
    every_message(core, conv).await.is_ok_and(|m| {
        m.len() >= usize::try_from(TOTAL).unwrap_or(usize::MAX)
            && m.iter()
                .all(|x| x.delivery == DeliveryState::Sent && x.seq.is_some())
    })
}

/// Checks one app's list: each message once, in seq order, and each writer's messages in the
/// order they were written.
fn exactly_once_in_order(who: &str, messages: &[ChatMessage], writers: [(i64, &str); 2]) {
    assert_eq!(messages.len(), TOTAL as usize, "{who}: {TOTAL} messages");
    let ids: HashSet<&str> = messages.iter().map(|m| m.client_id.as_str()).collect();
    assert_eq!(ids.len(), messages.len(), "{who}: a client id twice");
    let texts: HashSet<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts.len(), messages.len(), "{who}: a text twice");
    let seqs: Vec<i64> = messages.iter().filter_map(|m| m.seq).collect();
    assert!(
        seqs.len() == messages.len() && seqs.windows(2).all(|w| w[0] < w[1]),
        "{who}: not in seq order"
    );
    for (id, name) in writers {
        let got: Vec<&str> = messages
            .iter()
            .filter(|m| m.sender_id == id)
            .map(|m| m.content.as_str())
            .collect();
        let want: Vec<String> = (0..EACH).map(|i| format!("{name} {i:03}")).collect();
        assert_eq!(got, want, "{who}: {name}'s messages, each once, as written");
    }
}
