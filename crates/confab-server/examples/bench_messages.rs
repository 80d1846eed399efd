//! Sustained `POST /api/conversations/{id}/messages` from concurrent clients, with every
//! message triggered into a real Sockudo, printing messages/s and latency percentiles for the
//! two ways to run the backend, side by side: one replica on SQLite (one machine) and two
//! replicas on one PostgreSQL database (the setup that grows past one machine).
//!
//! ```text
//! cargo run --release -p confab-server --example bench_messages -- --clients 32 --seconds 10
//! cargo run --release -p confab-server --example bench_messages -- --setup sqlite
//! ```
//!
//! Everything runs on this machine and shares its cores: Sockudo (child process), the
//! server(s) (`app()` on 127.0.0.1:0; a fresh SQLite file in a temp dir, or a fresh database on
//! a throwaway PostgreSQL 15 started by `confab-testkit`), and the load generator (reqwest, one
//! task per client, each client posting to a conversation shared with one other user, as fast
//! as responses come back; with two replicas, client i talks to replica i mod 2).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use confab_server::config::{PusherSettings, Storage};
use confab_server::{app, auth, store, AppState};
use serde_json::json;
use sockudo_process::Sockudo;

/// Which backend setups to measure.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Setup {
    /// One replica on a SQLite file.
    Sqlite,
    /// Two replicas on one PostgreSQL database.
    Postgres,
    /// Both, one after the other, printed side by side.
    Both,
}

/// Load parameters.
#[derive(Parser)]
struct Args {
    /// Concurrent clients (each its own user and token).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// How long to measure each setup, after a 1 s warm-up.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Which setups.
    #[arg(long, value_enum, default_value_t = Setup::Both)]
    setup: Setup,
}

/// What one setup achieved.
struct Figures {
    name: &'static str,
    messages: usize,
    errors: u64,
    rate: f64,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    triggers: (u64, u64, u64),
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut figures = Vec::new();
    if matches!(args.setup, Setup::Sqlite | Setup::Both) {
        let dir = tempfile::tempdir()?;
        let storage = Storage::Sqlite(dir.path().join("bench.db"));
        figures.push(run("1 replica + SQLite", &[storage], &args).await?);
    }
    if matches!(args.setup, Setup::Postgres | Setup::Both) {
        let pg = confab_testkit::Postgres::start()?;
        let storage = Storage::Postgres(pg.fresh_database()?);
        figures.push(
            run(
                "2 replicas + PostgreSQL",
                &[storage.clone(), storage],
                &args,
            )
            .await?,
        );
    }
    println!(
        "\nclients {}, {} s each, load generator, servers, Sockudo{} on the same cores",
        args.clients,
        args.seconds,
        if args.setup == Setup::Sqlite {
            ""
        } else {
            " and PostgreSQL"
        }
    );
    println!(
        "{:<24} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7}  triggers queued/delivered/dropped",
        "setup", "messages/s", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "msgs"
    );
    for f in &figures {
        println!(
            "{:<24} {:>10.0} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7}  {}/{}/{}",
            f.name,
            f.rate,
            f.errors,
            ms(f.p50),
            ms(f.p90),
            ms(f.p99),
            ms(f.max),
            f.messages,
            f.triggers.0,
            f.triggers.1,
            f.triggers.2
        );
    }
    if let [a, b] = &figures[..] {
        println!(
            "ratio (second / first): throughput {:.2}, p99 {:.2}",
            b.rate / a.rate,
            ms(b.p99) / ms(a.p99)
        );
    }
    Ok(())
}

/// Measures one setup: one server per entry of `replicas` (all on that storage), one Sockudo.
async fn run(name: &'static str, replicas: &[Storage], args: &Args) -> Result<Figures> {
    let mut sockudo = Sockudo::start().await?;
    let mut states = Vec::new();
    let mut bases = Vec::new();
    for storage in replicas {
        let storage = storage.clone();
        // The PostgreSQL client blocks: opened off the async threads.
        let db = tokio::task::spawn_blocking(move || storage.open()).await??;
        // Measures throughput, not the per-user limits that would cap one sender.
        let state = AppState::new(db, &PusherSettings::of_local(&sockudo))?
            .with_write_limits(confab_server::write_limit::WriteLimits::UNLIMITED);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        bases.push(format!("http://{}", listener.local_addr()?));
        let router = app(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        states.push(state);
    }
    // One user per client plus a partner for each; hashing is done once here.
    let hash = auth::hash_password("bench-password")?;
    let mut rooms = Vec::new();
    for i in 0..args.clients {
        let hash = hash.clone();
        let room = states[0]
            .db()
            .write(move |c| -> Result<_, store::StoreError> {
                let me = store::users::create_user(
                    c,
                    &format!("u{i}@bench.test"),
                    &format!("U{i}"),
                    &hash,
                )?;
                let partner = store::users::create_user(
                    c,
                    &format!("p{i}@bench.test"),
                    &format!("P{i}"),
                    &hash,
                )?;
                let room = store::conversations::create(c, &me, None, &[partner.id], None)?;
                Ok(room.into_conversation().id)
            })
            .await?;
        rooms.push(room);
    }

    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let mut tokens = Vec::new();
    for i in 0..args.clients {
        let base = &bases[i % bases.len()];
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
        let url = format!(
            "{}/api/conversations/{room}/messages",
            bases[i % bases.len()]
        );
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
        bail!("{name}: no successful requests");
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    // Let the trigger queues drain before reporting them (poll, bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut triggers = (0, 0, 0);
    for state in &states {
        let stats = state.realtime().stats();
        while stats.delivered() + stats.dropped() < stats.queued() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        triggers.0 += stats.queued();
        triggers.1 += stats.delivered();
        triggers.2 += stats.dropped();
    }
    sockudo.kill();
    Ok(Figures {
        name,
        messages: all.len(),
        errors,
        rate: all.len() as f64 / measure.as_secs_f64(),
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        max: all[all.len() - 1],
        triggers,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
