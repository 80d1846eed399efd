//! The client benchmark: this crate's client against pusher-js, on the same Sockudo channel in
//! one run.
//!
//! It starts Sockudo (confab-testkit, random loopback port), then two subscriber processes, one
//! per client (`bench_subscriber`, built next to this binary, and `tests/node/bench-subscriber.mjs`
//! under Node), waits until both are subscribed, sends a warm-up burst and waits until both saw
//! it. Then two measured rounds of `--events` events each, triggered through the HTTP API
//! (`batch_events`, 10 events a request, several requests in flight) as fast as Sockudo takes
//! them:
//!
//! 1. **live**: both clients read while the burst arrives. Latency (send stamp to receipt) and
//!    CPU for the same stream at the server's pace; wall-clock events/s is the server's pace too.
//! 2. **backlog**: both subscriber processes are stopped (SIGSTOP) while the burst is sent, so it
//!    waits in Sockudo and in the sockets, then continued (SIGCONT): each client drains it as fast
//!    as it can, so events/s is the client's own throughput. Latency there is meaningless.
//!
//! Each subscriber reports what it received, first-to-last receipt time, latency percentiles, its
//! own CPU time and its main thread's wake-ups; this prints them side by side with the ratios.
//!
//! `cargo build --release -p pusher-channels --examples && target/release/examples/bench`
//! (after `npm ci --prefix tests/node`; `scripts/bench.sh pusher` does all of it). Options:
//! `--events N` (20000 a round), `--warmup N` (2000), `--concurrency N` (4 requests in flight),
//! `--timeout-secs N` (120, for the whole run).
//!
//! Every wait is bounded, no port is fixed, and the children die with this process's handles
//! (`kill_on_drop`, which also ends a stopped child). It never reads a client's numbers any other
//! way than from its own report.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use confab_testkit::Sockudo;
use pusher_channels::sign::AppCredentials;
use pusher_channels::trigger::{ApiEndpoint, BatchEvent, TriggerClient, MAX_BATCH_EVENTS};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const CHANNEL: &str = "bench";
/// How long both subscribers get to connect and subscribe.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// A chat-message-sized body, so frames look like what Confab carries.
const BODY: &str =
    "Has anyone deployed the new sync engine to staging yet? The outbox test is flaky.";

struct Args {
    events: usize,
    warmup: usize,
    concurrency: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        events: 20_000,
        warmup: 2_000,
        concurrency: 4,
        timeout: Duration::from_secs(120),
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        let [name, value] = pair else {
            bail!("arguments come in pairs: --name value (got {pair:?})");
        };
        let n: usize = value
            .parse()
            .with_context(|| format!("{name} wants a number"))?;
        match name.as_str() {
            "--events" => args.events = n,
            "--warmup" => args.warmup = n,
            "--concurrency" => args.concurrency = n.max(1),
            "--timeout-secs" => args.timeout = Duration::from_secs(n as u64),
            _ => bail!("unknown option {name} (--events, --warmup, --concurrency, --timeout-secs)"),
        }
    }
    if args.events < 2 {
        bail!("--events must be at least 2");
    }
    Ok(args)
}

/// One subscriber's `RESULT` line.
#[derive(Debug, Deserialize)]
struct Report {
    version: String,
    expected: usize,
    received: usize,
    error: Option<String>,
    first_to_last_s: f64,
    /// Epoch microseconds of the last receipt.
    last_us: f64,
    /// Backlog round: epoch microseconds at which this process was continued (set here).
    #[serde(skip)]
    resumed_us: Option<u64>,
    latency_p50_us: f64,
    latency_p99_us: f64,
    latency_max_us: f64,
    cpu_us: f64,
    /// Node only: `process.cpuUsage()`, a cross-check of `cpu_us`.
    cpu_usage_us: Option<f64>,
    /// Voluntary context switches of the main thread during the burst.
    wakeups: u64,
    peak_rss_kib: u64,
}

impl Report {
    /// Events per second: from the first receipt to the last or, in the backlog round, from the
    /// moment the process was continued to the last receipt (there the first receipt says
    /// nothing: a client may parse much of the backlog before its application sees an event).
    fn events_per_s(&self) -> f64 {
        match self.resumed_us {
            None if self.first_to_last_s > 0.0 => {
                (self.received.saturating_sub(1)) as f64 / self.first_to_last_s
            }
            Some(t) if self.last_us > t as f64 => {
                self.received as f64 / ((self.last_us - t as f64) / 1e6)
            }
            _ => 0.0,
        }
    }

    /// Share of the measured wall-clock time the process spent on a CPU.
    fn busy(&self) -> f64 {
        let wall_us = match self.resumed_us {
            None => self.first_to_last_s * 1e6,
            Some(t) => self.last_us - t as f64,
        };
        if wall_us > 0.0 {
            self.cpu_us / wall_us
        } else {
            f64::NAN
        }
    }

    fn events_per_cpu_s(&self) -> f64 {
        if self.cpu_us > 0.0 {
            self.received as f64 / (self.cpu_us / 1e6)
        } else {
            0.0
        }
    }
}

/// A subscriber child and the lines it prints.
struct Subscriber {
    name: &'static str,
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Subscriber {
    fn spawn(name: &'static str, mut command: Command) -> Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("starting the {name} subscriber"))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Subscriber { name, child, lines })
    }

    /// Sends a job-control signal (`STOP` or `CONT`) with kill(1): std has no safe way to.
    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self
            .child
            .id()
            .context("the subscriber has already exited")?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -{signal} {pid} failed ({status})");
        }
        Ok(())
    }

    /// The next `RESULT` line, parsed; an error when the subscriber reported one.
    async fn result(&mut self, deadline: tokio::time::Instant) -> Result<Report> {
        let json = self.expect("RESULT", deadline).await?;
        let report: Report = serde_json::from_str(&json)
            .with_context(|| format!("{}'s RESULT line: {json}", self.name))?;
        if let Some(e) = &report.error {
            bail!("{} failed: {e}", self.name);
        }
        Ok(report)
    }

    /// Waits for a line starting with `marker`, up to `deadline`; returns the rest of the line.
    async fn expect(&mut self, marker: &str, deadline: tokio::time::Instant) -> Result<String> {
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    if let Some(rest) = line.strip_prefix(marker) {
                        return Ok(rest.trim().to_owned());
                    }
                    if let Some(rest) = line.strip_prefix("RESULT") {
                        bail!("{} ended early: {}", self.name, rest.trim());
                    }
                    eprintln!("[{}] {line}", self.name);
                }
                Ok(None) => {
                    let status = self.child.wait().await?;
                    bail!("{} exited ({status}) before {marker}", self.name);
                }
                Err(_) => bail!("{} did not say {marker} in time", self.name),
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let deadline = tokio::time::Instant::now() + args.timeout;
    let (node_script, rust_bin) = locate_subscribers()?;

    let sockudo = Sockudo::start().await?;
    let common = |cmd: &mut Command| {
        cmd.args(["--key", sockudo.key()])
            .args(["--port", &sockudo.port().to_string()])
            .args(["--channel", CHANNEL])
            .args(["--events", &args.events.to_string()])
            .args(["--rounds", "2"])
            .args(["--warmup", &args.warmup.to_string()])
            .args(["--timeout-secs", &args.timeout.as_secs().to_string()]);
    };
    let mut rust_cmd = Command::new(&rust_bin);
    common(&mut rust_cmd);
    let mut node_cmd = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()));
    node_cmd.arg(&node_script);
    common(&mut node_cmd);
    let mut subs = [
        Subscriber::spawn("pusher-channels", rust_cmd)?,
        Subscriber::spawn("pusher-js", node_cmd)?,
    ];

    let ready_by = (tokio::time::Instant::now() + READY_TIMEOUT).min(deadline);
    for sub in &mut subs {
        sub.expect("READY", ready_by).await?;
    }
    let trigger = TriggerClient::new(
        ApiEndpoint::SelfHosted {
            scheme: "http".into(),
            host: "127.0.0.1".into(),
            port: sockudo.port(),
        },
        AppCredentials {
            app_id: sockudo.app_id().to_owned(),
            key: sockudo.key().to_owned(),
            secret: sockudo.secret().to_owned(),
        },
        None,
    )?;
    if args.warmup > 0 {
        burst(&trigger, "bench-warmup", args.warmup, args.concurrency).await?;
    }
    for sub in &mut subs {
        sub.expect("WARM", deadline).await?;
    }

    let live_sent = burst(&trigger, "bench-event", args.events, args.concurrency).await?;
    let live = collect(&mut subs, deadline).await?;

    // Stopped processes read nothing: the burst waits in Sockudo and in the sockets. Then one
    // at a time, so neither competes with the other for a core, each drains it.
    for sub in &subs {
        sub.signal("STOP")?;
    }
    let backlog_sent = burst(&trigger, "bench-event", args.events, args.concurrency).await?;
    let mut backlog = Vec::new();
    for sub in &mut subs {
        let resumed_us = epoch_micros();
        sub.signal("CONT")?;
        let mut report = sub.result(deadline).await?;
        report.resumed_us = Some(resumed_us);
        backlog.push(report);
    }
    let backlog = match <[Report; 2]>::try_from(backlog) {
        Ok([rust, js]) => (rust, js),
        Err(_) => bail!("expected two backlog reports"),
    };
    drop(subs);
    drop(sockudo);

    print_header(&args, &live_sent, &backlog_sent, &live.0, &live.1);
    print_round("live: both clients read while the burst arrives", &live);
    print_round(
        "backlog: the burst waits while both are stopped; then each in turn drains it",
        &backlog,
    );
    print_verdict(&live, &backlog);
    for (rust, js) in [&live, &backlog] {
        if rust.received < rust.expected || js.received < js.expected {
            bail!("events were lost: the figures above are not comparable");
        }
    }
    Ok(())
}

/// Both subscribers' `RESULT` lines for one round: (Rust, pusher-js).
async fn collect(
    subs: &mut [Subscriber; 2],
    deadline: tokio::time::Instant,
) -> Result<(Report, Report)> {
    let [rust, js] = subs;
    Ok((rust.result(deadline).await?, js.result(deadline).await?))
}

/// `tests/node/bench-subscriber.mjs` (with its node_modules) and the `bench_subscriber` example
/// binary next to this one.
fn locate_subscribers() -> Result<(PathBuf, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let node_dir = root.join("tests/node");
    if !node_dir.join("node_modules/pusher-js").is_dir() {
        bail!(
            "pusher-js is not installed in {}: run `npm ci --prefix tests/node` \
             (or scripts/bootstrap.sh bench)",
            node_dir.display()
        );
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .context("the benchmark binary has no directory")?;
    let rust_bin = dir.join(format!("bench_subscriber{}", std::env::consts::EXE_SUFFIX));
    if !rust_bin.is_file() {
        bail!(
            "{} is missing: build both examples with \
             `cargo build --release -p pusher-channels --examples`",
            rust_bin.display()
        );
    }
    Ok((node_dir.join("bench-subscriber.mjs"), rust_bin))
}

/// How the burst went on the sending side.
struct Sent {
    events: usize,
    requests: usize,
    elapsed: Duration,
}

/// Triggers `count` events named `event` on [`CHANNEL`], [`MAX_BATCH_EVENTS`] per request,
/// `concurrency` requests in flight. Each event carries its sequence number and the epoch
/// microseconds at which its request was built.
async fn burst(
    trigger: &TriggerClient,
    event: &'static str,
    count: usize,
    concurrency: usize,
) -> Result<Sent> {
    let requests = count.div_ceil(MAX_BATCH_EVENTS);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(requests) {
        let trigger = trigger.clone();
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            loop {
                let request = next.fetch_add(1, Ordering::Relaxed);
                if request >= requests {
                    return Ok::<(), anyhow::Error>(());
                }
                let first = request * MAX_BATCH_EVENTS;
                let sent_us = epoch_micros();
                let batch: Vec<BatchEvent> = (first..count.min(first + MAX_BATCH_EVENTS))
                    .map(|seq| BatchEvent {
                        channel: CHANNEL.into(),
                        name: event.into(),
                        data: serde_json::json!({ "seq": seq, "sent_us": sent_us, "body": BODY })
                            .to_string(),
                        socket_id: None,
                    })
                    .collect();
                trigger
                    .trigger_batch(&batch)
                    .await
                    .map_err(|e| anyhow!("triggering {event} #{first}: {e}"))?;
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(Sent {
        events: count,
        requests,
        elapsed: started.elapsed(),
    })
}

fn epoch_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn ms(us: f64) -> String {
    format!("{:.1}", us / 1000.0)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

fn print_header(args: &Args, live: &Sent, backlog: &Sent, rust: &Report, js: &Report) {
    println!();
    println!(
        "Client benchmark: two rounds of {} events (after {} warm-up) on one public channel of \
         Sockudo 5.2.0 on 127.0.0.1,",
        live.events, args.warmup
    );
    println!(
        "each triggered as {} batch_events requests of ≤{MAX_BATCH_EVENTS}, {} in flight \
         (Sockudo took them at {:.0} and {:.0} events/s).",
        live.requests,
        args.concurrency,
        live.events as f64 / live.elapsed.as_secs_f64(),
        backlog.events as f64 / backlog.elapsed.as_secs_f64(),
    );
    println!("  Rust:      {}", rust.version);
    println!("  pusher-js: {}", js.version);
}

/// One round's table; the backlog round has no latency rows (they would include the stop).
fn print_round(title: &str, (rust, js): &(Report, Report)) {
    let backlog = rust.resumed_us.is_some();
    let rate_label = if backlog {
        "events/s (resume→last receipt)"
    } else {
        "events/s (first→last receipt)"
    };
    let mut rows: Vec<(&str, String, String)> = vec![
        (
            "events received",
            format!("{}/{}", rust.received, rust.expected),
            format!("{}/{}", js.received, js.expected),
        ),
        (
            rate_label,
            format!("{:.0}", rust.events_per_s()),
            format!("{:.0}", js.events_per_s()),
        ),
        (
            "CPU busy during that time",
            format!("{:.0}%", rust.busy() * 100.0),
            format!("{:.0}%", js.busy() * 100.0),
        ),
    ];
    if !backlog {
        rows.extend([
            (
                "latency p50 ms",
                ms(rust.latency_p50_us),
                ms(js.latency_p50_us),
            ),
            (
                "latency p99 ms",
                ms(rust.latency_p99_us),
                ms(js.latency_p99_us),
            ),
            (
                "latency max ms",
                ms(rust.latency_max_us),
                ms(js.latency_max_us),
            ),
        ]);
    }
    rows.extend([
        ("CPU ms", ms(rust.cpu_us), ms(js.cpu_us)),
        (
            "CPU µs per event",
            format!("{:.2}", rust.cpu_us / rust.received.max(1) as f64),
            format!("{:.2}", js.cpu_us / js.received.max(1) as f64),
        ),
        (
            "events per CPU-second",
            format!("{:.0}", rust.events_per_cpu_s()),
            format!("{:.0}", js.events_per_cpu_s()),
        ),
        (
            "main-thread wake-ups",
            rust.wakeups.to_string(),
            js.wakeups.to_string(),
        ),
        (
            "peak RSS MiB",
            format!("{:.1}", rust.peak_rss_kib as f64 / 1024.0),
            format!("{:.1}", js.peak_rss_kib as f64 / 1024.0),
        ),
    ]);
    println!();
    println!("Round {title}");
    println!(
        "| {:<30} | {:>16} | {:>16} |",
        "", "pusher-channels", "pusher-js"
    );
    println!("|{:-<32}|{:->18}|{:->18}|", "", ":", ":");
    for (label, r, j) in &rows {
        println!("| {label:<30} | {r:>16} | {j:>16} |");
    }
    if let Some(usage) = js.cpu_usage_us {
        println!(
            "(CPU is each process's scheduler time over all its threads, \
             /proc/self/task/*/schedstat; pusher-js's own process.cpuUsage() said {} ms.)",
            ms(usage)
        );
    }
}

fn print_verdict(live: &(Report, Report), backlog: &(Report, Report)) {
    let verdict = |x: f64| if x >= 3.0 { "met" } else { "NOT met" };
    let live_wall = ratio(live.0.events_per_s(), live.1.events_per_s());
    let live_cpu = ratio(live.1.cpu_us, live.0.cpu_us);
    let drain = ratio(backlog.0.events_per_s(), backlog.1.events_per_s());
    let drain_cpu = ratio(backlog.1.cpu_us, backlog.0.cpu_us);
    println!();
    println!(
        "Ratios, Rust against pusher-js (target: ≥ 3× pusher-js's events/s at ≤ 1/3 of its CPU):"
    );
    println!(
        "  live    events/s, wall clock        {live_wall:>5.2}×  (the server's pace: both keep up, \
         so ~1× says nothing about the clients)"
    );
    println!(
        "  live    CPU, pusher-js / Rust       {live_cpu:>5.2}×  (same events at the same pace; \
         target ≥ 3×: {})",
        verdict(live_cpu)
    );
    println!(
        "  backlog events/s, Rust / pusher-js  {drain:>5.2}×  (each client draining alone; \
         target ≥ 3×: {})",
        verdict(drain)
    );
    println!(
        "  backlog CPU, pusher-js / Rust       {drain_cpu:>5.2}×  (same events, few wake-ups; \
         target ≥ 3×: {})",
        verdict(drain_cpu)
    );
    println!(
        "The target's events/s is the backlog round's: the live round's wall-clock rate is \
         Sockudo's. A client under\n~100% busy while draining was still waiting on Sockudo to \
         send the rest of the backlog, so its events/s\nthere is a lower bound; events per \
         CPU-second (the CPU ratio seen as capacity) is the figure that does not depend\non \
         the server. The target's CPU is the CPU ratio of either round."
    );
}
