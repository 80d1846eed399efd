//! This client as one subscriber of the client benchmark; pusher-js is the other
//! (`tests/node/bench-subscriber.mjs`), and `examples/bench.rs` starts, feeds and compares both.
//! It speaks the same line protocol on stdout as the Node script:
//!
//! - `READY`: subscribed;
//! - `WARM`: `--warmup` events named `bench-warmup` seen; the first round's clocks start now;
//! - `RESULT {json}`: a round of `--events` events named `bench-event` is complete (the next
//!   round's clocks start right after it), or `--timeout-secs` passed; it exits after `--rounds`.
//!
//! It runs on a `current_thread` tokio runtime, as fair a match as one process gets for Node's
//! single JavaScript thread. CPU time is the scheduler's nanosecond sum over every thread of the
//! process (`/proc/self/task/*/schedstat`), read the same way by the Node script. It never prints
//! anything else on stdout (diagnostics go to stderr) and never runs without a deadline.
//!
//! Usage: `bench_subscriber --key K --port P --channel C --events N [--rounds R] [--warmup W]
//! [--timeout-secs T]`

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use pusher_channels::auth::{AuthFuture, Authorizer};
use pusher_channels::client::{Client, Events};
use pusher_channels::proto::{AuthError, Config, Endpoint, Event};
use pusher_channels::sign::{ChannelAuthorization, UserAuthentication};
use serde_json::{json, Value};

/// The benchmark uses a public channel: any request for a signature is a bug.
struct NoAuth;

impl Authorizer for NoAuth {
    fn authorize_channel<'a>(
        &'a self,
        _socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization> {
        Box::pin(async move {
            Err(AuthError {
                status: None,
                message: format!("the benchmark signs nothing ({channel})"),
            })
        })
    }

    fn authenticate_user<'a>(&'a self, _socket_id: &'a str) -> AuthFuture<'a, UserAuthentication> {
        Box::pin(async move {
            Err(AuthError {
                status: None,
                message: "the benchmark signs nothing".into(),
            })
        })
    }
}

struct Args {
    key: String,
    port: u16,
    channel: String,
    events: usize,
    rounds: usize,
    warmup: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Args> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut map = HashMap::new();
    for pair in raw.chunks(2) {
        match pair {
            [name, value] if name.starts_with("--") => {
                map.insert(name.trim_start_matches("--").to_owned(), value.clone());
            }
            _ => bail!("arguments come in pairs: --name value (got {pair:?})"),
        }
    }
    let get = |name: &str| map.get(name).ok_or_else(|| anyhow!("missing --{name}"));
    Ok(Args {
        key: get("key")?.clone(),
        port: get("port")?.parse().context("--port")?,
        channel: get("channel")?.clone(),
        events: get("events")?.parse().context("--events")?,
        rounds: map
            .get("rounds")
            .map_or(Ok(1), |r| r.parse())
            .context("--rounds")?,
        warmup: map
            .get("warmup")
            .map_or(Ok(0), |w| w.parse())
            .context("--warmup")?,
        timeout: Duration::from_secs(
            map.get("timeout-secs")
                .map_or(Ok(120), |t| t.parse())
                .context("--timeout-secs")?,
        ),
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The loop runs as a task, as an application's would: a `block_on` future woken by another
    // task costs the runtime an extra poll of the OS for I/O on every wake-up.
    let error = runtime.block_on(async move { tokio::spawn(run(args)).await })??;
    if let Some(error) = error {
        bail!("{error}");
    }
    Ok(())
}

/// One round of measurement: `--events` events, from a snapshot of the clocks to the last event.
struct Round {
    start: Snapshot,
    received: usize,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Epoch microseconds of the last receipt (the orchestrator compares it with its own clock).
    last_us: f64,
    latencies_us: Vec<f64>,
}

impl Round {
    fn begin(capacity: usize) -> Result<Self> {
        Ok(Round {
            start: Snapshot::take()?,
            received: 0,
            first: None,
            last: None,
            last_us: 0.0,
            latencies_us: Vec::with_capacity(capacity),
        })
    }
}

/// What the clocks said at one instant.
#[derive(Clone, Copy)]
struct Snapshot {
    cpu_ns: u64,
    wakeups: u64,
}

impl Snapshot {
    fn take() -> Result<Self> {
        Ok(Snapshot {
            cpu_ns: cpu_ns()?,
            wakeups: main_thread_wakeups(),
        })
    }
}

/// Where the protocol got to.
#[derive(Default)]
struct Progress {
    warm_seen: usize,
    rounds_done: usize,
    round: Option<Round>,
}

/// Runs the whole protocol; `Ok(Some(reason))` when it ended early (the result is still printed).
async fn run(args: Args) -> Result<Option<String>> {
    let args = &args;
    let deadline = tokio::time::Instant::now() + args.timeout;
    let mut config = Config::new(
        args.key.clone(),
        Endpoint::Host {
            host: "127.0.0.1".into(),
            port: args.port,
            tls: false,
        },
    );
    // The burst must not be dropped as "oversized" by a stricter default than pusher-js has.
    config.max_frame_bytes = 1 << 20;
    let (client, mut events) = Client::start(config, NoAuth);
    client.subscribe(&args.channel)?;

    let mut progress = Progress::default();
    // One deadline for the whole run, like the Node script's single `setTimeout`.
    let error = tokio::time::timeout_at(deadline, receive(args, &mut events, &mut progress))
        .await
        .unwrap_or_else(|_| Ok(Some("timed out".to_owned())))?;
    if let Some(e) = &error {
        // Report the unfinished round, so the orchestrator can say what arrived.
        let end = Snapshot::take()?;
        let mut r = match progress.round {
            Some(r) => r,
            None => Round::begin(0)?,
        };
        let mut stdout = std::io::stdout();
        writeln!(stdout, "RESULT {}", result_json(args, &mut r, end, Some(e)))?;
        stdout.flush()?;
    }
    drop(client);
    Ok(error)
}

/// Consumes events until the last round is complete; `Ok(Some(reason))` when it cannot be.
async fn receive(
    args: &Args,
    events: &mut Events,
    progress: &mut Progress,
) -> Result<Option<String>> {
    let Progress {
        warm_seen,
        rounds_done,
        round,
    } = progress;
    // Not locked for the whole run: the task must stay `Send`, and it writes only a few lines.
    let mut stdout = std::io::stdout();
    loop {
        let Some(event) = events.recv().await else {
            return Ok(Some("the client stopped".to_owned()));
        };
        match event {
            Event::Message { event, data, .. } => match event.as_str() {
                "bench-event" => {
                    let now = Instant::now();
                    // None cannot happen: the orchestrator waits for WARM.
                    let Some(r) = round.as_mut() else { continue };
                    r.first.get_or_insert(now);
                    r.last = Some(now);
                    let sent_us = data
                        .as_object()
                        .and_then(|o| o.get("sent_us"))
                        .and_then(Value::as_f64)
                        .unwrap_or(f64::NAN);
                    let now_us = epoch_micros();
                    r.last_us = now_us;
                    r.latencies_us.push(now_us - sent_us);
                    r.received += 1;
                    if r.received == args.events {
                        // Stop the clocks before any bookkeeping of our own.
                        let end = Snapshot::take()?;
                        let result = result_json(args, r, end, None);
                        writeln!(stdout, "RESULT {result}")?;
                        stdout.flush()?;
                        *rounds_done += 1;
                        if *rounds_done == args.rounds {
                            return Ok(None);
                        }
                        *round = Some(Round::begin(args.events)?);
                    }
                }
                "bench-warmup" => {
                    *warm_seen += 1;
                    if *warm_seen == args.warmup {
                        *round = Some(Round::begin(args.events)?);
                        writeln!(stdout, "WARM")?;
                        stdout.flush()?;
                    }
                }
                _ => {}
            },
            Event::Subscribed { .. } => {
                writeln!(stdout, "READY")?;
                if args.warmup == 0 {
                    *round = Some(Round::begin(args.events)?);
                    writeln!(stdout, "WARM")?;
                }
                stdout.flush()?;
            }
            Event::SubscriptionFailed { error: e, .. } => {
                return Ok(Some(format!("subscription failed: {e}")));
            }
            Event::Error(e) => eprintln!("pusher-channels error: {e}"),
            _ => {}
        }
    }
}

fn result_json(args: &Args, r: &mut Round, end: Snapshot, error: Option<&str>) -> Value {
    r.latencies_us.sort_by(f64::total_cmp);
    let first_to_last = match (r.first, r.last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    json!({
        "client": "pusher-channels",
        "version": format!("pusher-channels {} (Rust, current_thread tokio)", env!("CARGO_PKG_VERSION")),
        "expected": args.events,
        "received": r.received,
        "error": error,
        "first_to_last_s": first_to_last,
        "last_us": r.last_us,
        "latency_p50_us": percentile(&r.latencies_us, 0.5),
        "latency_p99_us": percentile(&r.latencies_us, 0.99),
        "latency_max_us": r.latencies_us.last().copied().unwrap_or(0.0),
        "cpu_us": end.cpu_ns.saturating_sub(r.start.cpu_ns) as f64 / 1000.0,
        "wakeups": end.wakeups.saturating_sub(r.start.wakeups),
        "peak_rss_kib": peak_rss_kib(),
    })
}

/// Nearest-rank percentile of a sorted slice (the Node script uses the same rule).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // The rank is at most `len`, which fits in an f64 exactly for any realistic run.
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn epoch_micros() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// CPU time of the whole process in nanoseconds: the first field of every thread's
/// `/proc/self/task/<tid>/schedstat` (time on CPU, kept by the scheduler to the nanosecond).
fn cpu_ns() -> Result<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").context("reading /proc/self/task")? {
        let path = task?.path().join("schedstat");
        // A thread that exited between the listing and the read: its time is lost to both
        // snapshots alike.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let ns: u64 = text
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("unexpected {}: {text:?}", path.display()))?;
        total += ns;
    }
    Ok(total)
}

/// A numeric field of `/proc/self/status` (the main thread's, for per-thread fields), or 0.
fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    status_field("VmHWM")
}

/// Voluntary context switches of the main thread (the one running the runtime): how often it
/// went to sleep waiting for input, each time paying a wake-up.
fn main_thread_wakeups() -> u64 {
    status_field("voluntary_ctxt_switches")
}
