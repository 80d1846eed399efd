//! A wrong-password flood against `POST /api/auth/login` while one signed-in user keeps
//! reading: prints that user's latency percentiles, the process's peak RSS, and how the
//! attackers were answered (401 after a password check, 429 throttled or queue full).
//!
//! ```text
//! cargo run --release -p confab-server --example bench_login_flood -- --attackers 300 --addresses 4 --seconds 10
//! ```
//!
//! Everything runs on this machine, in this process except Sockudo: the server (`app()` on
//! 127.0.0.1:0, fresh SQLite file in a temp dir), the attackers (reqwest, one task each, bound
//! to 127.0.0.10, .11, … so the server sees a few distinct addresses; each guesses its own
//! email, existing or not, as fast as answers come back) and the reader (signed in from
//! 127.0.0.1, `GET /api/conversations` back to back). Peak RSS is this whole process's
//! (VmHWM), so it includes the load generator.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
    /// Concurrent attackers, each one request at a time.
    #[arg(long, default_value_t = 300)]
    attackers: usize,
    /// Distinct client addresses the attackers come from (127.0.0.10 upwards).
    #[arg(long, default_value_t = 4)]
    addresses: u8,
    /// How long the flood lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

#[derive(Debug, Default)]
struct Tally {
    unauthorized: u64,
    throttled: u64,
    other: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut sockudo = Sockudo::start().await?;
    let dir = tempfile::tempdir()?;
    let db = Db::open(dir.path().join("bench.db"))?;
    // The reader, a few conversations for it to list, and accounts for half the attackers'
    // emails (the other half do not exist: both must cost the same).
    let hash = auth::hash_password("reader-password")?;
    db.write_blocking(|c| -> Result<_, store::StoreError> {
        let reader = store::users::create_user(c, "reader@bench.test", "Reader", &hash)?;
        for i in 0..args.attackers / 2 {
            let other =
                store::users::create_user(c, &format!("t{i}@bench.test"), &format!("T{i}"), &hash)?;
            if i < 20 {
                store::conversations::create(c, &reader, None, &[other.id], None)?;
            }
        }
        Ok(())
    })?;
    let state = AppState::new(db, &PusherSettings::of_local(&sockudo))?;
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

    let reader_http = reqwest::Client::builder().no_proxy().build()?;
    let login: serde_json::Value = reader_http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "reader@bench.test", "password": "reader-password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"]
        .as_str()
        .context("reader login failed")?
        .to_owned();

    let flood = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let clients: Vec<reqwest::Client> = (0..args.addresses.max(1))
        .map(|i| {
            reqwest::Client::builder()
                .no_proxy()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + i)))
                .pool_max_idle_per_host(args.attackers)
                .timeout(Duration::from_secs(30))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let mut attackers = Vec::new();
    for i in 0..args.attackers {
        let http = clients[i % clients.len()].clone();
        let url = format!("{base}/api/auth/login");
        attackers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let body = json!({"email": format!("t{i}@bench.test"), "password": "guess"});
            while start.elapsed() < flood {
                match http.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == 401 => tally.unauthorized += 1,
                    Ok(r) if r.status() == 429 => tally.throttled += 1,
                    _ => tally.other += 1,
                }
            }
            tally
        }));
    }
    let reader = tokio::spawn(async move {
        let mut latencies = Vec::new();
        let mut errors = 0u64;
        while start.elapsed() < flood {
            let sent = Instant::now();
            let ok = reader_http
                .get(format!("{base}/api/conversations"))
                .bearer_auth(&token)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ok {
                latencies.push(sent.elapsed());
            } else {
                errors += 1;
            }
        }
        (latencies, errors)
    });
    let mut total = Tally::default();
    for a in attackers {
        let t = a.await?;
        total.unauthorized += t.unauthorized;
        total.throttled += t.throttled;
        total.other += t.other;
    }
    let (mut latencies, errors) = reader.await?;
    sockudo.kill();
    if latencies.is_empty() {
        bail!("the reader got no answer at all ({errors} errors)");
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "flood: {} attackers from {} addresses for {} s",
        args.attackers, args.addresses, args.seconds
    );
    println!(
        "attackers answered: 401 (password checked) {}, 429 (throttled or busy) {}, other {}",
        total.unauthorized, total.throttled, total.other
    );
    println!(
        "reader GET /api/conversations: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {errors} errors (target p99 < 100 ms)",
        latencies.len(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
    println!(
        "peak RSS of this process (server + load generator): {}",
        vm_hwm().unwrap_or_else(|| "unknown".into())
    );
    Ok(())
}

/// `VmHWM` from /proc/self/status (Linux), e.g. "61234 kB".
fn vm_hwm() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().to_owned())
}
