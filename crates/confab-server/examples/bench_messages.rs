//! Sustained `POST /api/conversations/{id}/messages` from concurrent clients, with every
//! message triggered into a real Sockudo, printing messages/s and latency percentiles.
//!
//! ```text
//! cargo run --release -p confab-server --example bench_messages -- --clients 32 --seconds 10
//! ```
//!
//! Everything runs on this machine: Sockudo (child process), the server (`app()` on
//! 127.0.0.1:0, fresh SQLite file in a temp dir) and the load generator (reqwest, one task per
//! client, each client posting to a conversation shared with one other user, as fast as
//! responses come back).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use confab_server::config::PusherSettings;
use confab_server::{app, auth, store, AppState, Db};
use serde_json::json;
use sockudo_process::Sockudo;

/// Load parameters.
#[derive(Parser)]
struct Args {
    /// Concurrent clients (each its own user and token).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long to measure, after a 1 s warm-up.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut sockudo = Sockudo::start().await?;
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("bench.db"))?;
    // One user per client plus a partner for each; hashing is done once here.
    let hash = auth::hash_password("bench-password")?;
    let mut rooms = Vec::new();
    for i in 0..args.clients {
        let room = db.write_blocking(|c| -> Result<_, store::StoreError> {
            let me =
                store::users::create_user(c, &format!("u{i}@bench.test"), &format!("U{i}"), &hash)?;
            let partner =
                store::users::create_user(c, &format!("p{i}@bench.test"), &format!("P{i}"), &hash)?;
            let room = store::conversations::create(c, &me, None, &[partner.id], None)?;
            Ok(room.into_conversation().id)
        })?;
        rooms.push(room);
    }
    // Measures throughput, not the per-user limits that would cap one sender.
    let state = AppState::new(db, &PusherSettings::of_local(&sockudo))?
        .with_write_limits(confab_server::write_limit::WriteLimits::UNLIMITED);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = app(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let mut tokens = Vec::new();
    for i in 0..args.clients {
        let r: serde_json::Value = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": format!("u{i}@bench.test"), "password": "bench-password"}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(r["token"].as_str().context("login failed")?.to_owned());
    }

    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, (token, room)) in tokens.into_iter().zip(rooms).enumerate() {
        let http = http.clone();
        let url = format!("{base}/api/conversations/{room}/messages");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut n = 0u64;
            loop {
                let now = start.elapsed();
                if now >= warmup + measure {
                    break;
                }
                n += 1;
                let sent = Instant::now();
                let result = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"content": format!("message {n} from client {i}"),
                                  "clientId": format!("{i}-{n}")}))
                    .send()
                    .await;
                let took = sent.elapsed();
                let ok = matches!(&result, Ok(r) if r.status().as_u16() == 201);
                if now >= warmup {
                    if ok {
                        latencies.push(took);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    if all.is_empty() {
        bail!("no successful requests");
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    let rate = all.len() as f64 / measure.as_secs_f64();
    println!(
        "clients {}  duration {}s  messages {}  errors {errors}",
        args.clients,
        args.seconds,
        all.len()
    );
    println!("throughput {rate:.0} messages/s");
    println!(
        "latency p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(all[all.len() - 1])
    );
    // Let the trigger queue drain before reporting it (poll, bounded).
    let stats = state.realtime().stats();
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.delivered() + stats.dropped() < stats.queued() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "triggers queued {}  delivered to sockudo {}  dropped {}",
        stats.queued(),
        stats.delivered(),
        stats.dropped()
    );
    sockudo.kill();
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
