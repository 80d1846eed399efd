//! Benchmark of a first sign-in on a new computer to an account with a long history, against
//! the real backend and Sockudo on loopback: 100,000 messages seeded through the backend's
//! store, then a fresh core signs in. Prints the time to the first screen (the snapshot stored
//! and announced), the time until every message is readable in the cache, and how many
//! progress reports the window got and how far apart (targets: first screen ≤ 1 s, all
//! readable ≤ 10 s, progress throughout).
//!
//! `cargo run --release -p confab-core --example bench_first_sync [-- <messages>]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use confab_model::ipc::UiEvent;
use support::*;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let backend = Backend::start().await?;
    let conv = conversation(&backend, 0, 1).await?;
    let t_seed = Instant::now();
    seed_messages(&backend, conv, 1, n, "history").await?;
    println!(
        "seeded {n} messages through the backend's store in {:.1} s",
        t_seed.elapsed().as_secs_f64()
    );
    let dirs = tempfile::tempdir()?;

    let t0 = Instant::now();
    let mut alice = Client::sign_in(&backend, 0, &dirs).await?;
    let signed_in = t0.elapsed();
    let mut first_screen = None;
    let mut reports: Vec<(Duration, u64, u64)> = vec![];
    let all = loop {
        let e = alice
            .expect("the first screen and history progress", |e| {
                matches!(e, UiEvent::History { .. } | UiEvent::Conversations(_))
            })
            .await;
        match e {
            UiEvent::Conversations(u) => {
                let listed = first_screen.is_none() && u.conversations.iter().any(|c| c.id == conv);
                if listed && alice.core.messages(conv, None, 50).await?.len() == 50 {
                    first_screen = Some(t0.elapsed());
                }
            }
            UiEvent::History { progress: Some(p) } => {
                reports.push((t0.elapsed(), p.done, p.total));
            }
            UiEvent::History { progress: None } => break t0.elapsed(),
            _ => {}
        }
    };
    let count = every_message(&alice.core, conv).await?.len();
    assert_eq!(count, n, "every message readable once");
    let readable = t0.elapsed();
    let gaps: Vec<Duration> = reports.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let mut sorted = gaps.clone();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("first sign-in to {n} messages (pages of 500, real backend on loopback):");
    println!("  sign-in answered        {:>8.0} ms", ms(signed_in));
    println!(
        "  first screen            {:>8.0} ms   (newest 50 messages stored and listed; target <= 1000 ms)",
        first_screen.map_or(f64::NAN, ms)
    );
    println!(
        "  history complete        {:>8.0} ms   ({} of {} walked)",
        ms(all),
        reports.last().map_or(0, |r| r.1),
        reports.last().map_or(0, |r| r.2)
    );
    println!(
        "  all readable (counted)  {:>8.0} ms   (target <= 10000 ms)",
        ms(readable)
    );
    if let (Some(min), Some(max)) = (sorted.first(), sorted.last()) {
        println!(
            "  progress reports: {}, spacing min {:.0} ms, median {:.0} ms, max {:.0} ms",
            reports.len(),
            ms(*min),
            ms(sorted[sorted.len() / 2]),
            ms(*max)
        );
    } else {
        println!("  progress reports: {}", reports.len());
    }
    Ok(())
}
