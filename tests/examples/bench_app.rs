//! Startup and idle-footprint benchmark of the desktop app, in a private desktop session (Xvfb,
//! D-Bus, gnome-keyring) against the real backend and Sockudo.
//!
//! 1. Signs in once through the window (WebDriver), so the cache and the keyring hold a session.
//! 2. Starts `confab-desktop` directly `--runs` times and measures, each time, how long from
//!    spawning the process until the window reports the cached sidebar painted (the UI calls
//!    `first_paint` after the first animation frame with the conversations on screen; the shell
//!    logs it). The backend stays up, as on a normal morning.
//! 3. After the last start, leaves the app idle for `--idle-secs` (the conversation open, its
//!    composer focused) and sums the memory of the app and all its WebKit processes: RSS
//!    (counts shared libraries once per process, so it overstates) and PSS (shares them out,
//!    the honest total), plus the CPU they used while idle.
//! 4. Does the same for the `bare_webview` example, an empty WebKitGTK window on the same
//!    tao + wry as Tauri, and prints Confab's figures against that floor: what WebKit costs
//!    any app on this machine, and what Confab adds to it.
//! 5. Then for the peer of tests/peer when `scripts/bench.sh app` built it next to the app: a
//!    Tauri 2 window with a Yew page that does nothing, on the same versions; what the
//!    framework costs above the floor, and what Confab adds above the framework.
//!
//! Run: `scripts/bench.sh app` (the `dist` profile the package is built with). Targets (issue
//! 5): cold start to the cached sidebar ≤ 1 s under Xvfb; idle memory of app + WebKit ≤ 150 MB.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use confab_e2e::procs::{footprint, Footprint};
use confab_e2e::session::desktop_main;
use confab_e2e::window::app_binary;
use confab_e2e::{AppWindow, Backend, Desktop, ADA};

struct Args {
    runs: usize,
    idle_secs: u64,
    /// A profiler to start the app under, e.g. `strace -f -tt -o /tmp/app.strace.{run}` (split
    /// on spaces; `{run}` becomes the start's number): to see where a start spends its time.
    wrap: Vec<String>,
    /// Where to copy `/proc/PID/smaps` of every measured process (Confab's as `confab-*`,
    /// the empty web view's as `bare-*`, the Tauri + Yew peer's as `hello-*`): to see which
    /// mappings the memory is in.
    smaps_dir: Option<std::path::PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        runs: 5,
        idle_secs: 10,
        wrap: Vec::new(),
        smaps_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let raw = it.next().unwrap_or_default();
        let value = raw.parse::<u64>().ok();
        match (flag.as_str(), value) {
            ("--runs", Some(v)) => a.runs = usize::try_from(v).unwrap_or(5).max(1),
            ("--idle-secs", Some(v)) => a.idle_secs = v,
            ("--wrap", _) if !raw.is_empty() => {
                a.wrap = raw.split_whitespace().map(str::to_owned).collect();
            }
            ("--smaps-dir", _) if !raw.is_empty() => a.smaps_dir = Some(raw.into()),
            _ => {
                eprintln!(
                    "usage: bench_app [--runs N] [--idle-secs S] [--wrap 'PROFILER ARGS'] \
                     [--smaps-dir DIR]"
                );
                std::process::exit(2);
            }
        }
    }
    a
}

fn main() {
    desktop_main(bench)
}

async fn bench(desktop: Desktop) -> Result<()> {
    let a = args();
    let backend = Backend::start().await?;
    let data = desktop.home().join("confab-data");
    let app = app_binary()?;
    println!("app: {}", app.display());

    // 1. Sign in once, through the window.
    let window = AppWindow::launch(&desktop, &data, &backend.url(), "bench").await?;
    window.wait_for("#sign-in-form").await?;
    let (email, password) = backend.credentials(ADA);
    window.type_into("#email", &email).await?;
    window.type_into("#password", &password).await?;
    window.click("#sign-in").await?;
    window.wait_for(".conversation-title").await?;
    window.quit().await?;

    // 2. Starts from the cache.
    let mut starts = Vec::new();
    let mut last = None;
    for run in 0..a.runs {
        let spawned = Instant::now();
        let mut command = match a.wrap.split_first() {
            Some((tool, args)) => {
                // `{run}` in the profiler's arguments: one output file per start (perf has no
                // `%p` of its own).
                let run = (run + 1).to_string();
                let mut c = Command::new(tool);
                c.args(args.iter().map(|arg| arg.replace("{run}", &run)))
                    .arg(&app);
                c
            }
            None => Command::new(&app),
        };
        let mut child = command
            .env("DISPLAY", desktop.display())
            .env("CONFAB_DATA_DIR", &data)
            .env("CONFAB_SERVER_URL", backend.url())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting confab-desktop")?;
        let lines = drain_lines(child.stdout.take().context("stdout")?);
        let patience = Duration::from_secs(if a.wrap.is_empty() { 30 } else { 300 });
        let (wall, in_app) = first_paint(&lines, spawned, patience)?;
        println!(
            "start {}: cached sidebar painted {:>4} ms after spawn ({} ms after main)",
            run + 1,
            wall.as_millis(),
            in_app
        );
        starts.push(wall);
        if run + 1 < a.runs {
            stop(&mut child)?;
        } else {
            last = Some(child);
        }
    }
    let mut child = last.context("at least one run")?;

    // 3. Idle footprint, then the same for an empty web view: the floor under it.
    let confab = idle(&mut child, &a, "confab")?;
    let here = std::env::current_exe()?;
    let bare = peer(&desktop, &a, &here.with_file_name("bare_webview"), "bare")?;
    // The framework alone (tests/peer), built by `scripts/bench.sh app` next to the app.
    let hello_exe = app.with_file_name("tauri-hello");
    let hello = if hello_exe.is_file() {
        Some(peer(&desktop, &a, &hello_exe, "hello")?)
    } else {
        None
    };

    starts.sort();
    let ms = |d: &Duration| d.as_millis();
    println!();
    println!(
        "cold start to cached sidebar (n={}): median {} ms, min {} ms, max {} ms   (target ≤ 1000 ms)",
        starts.len(),
        ms(&starts[starts.len() / 2]),
        ms(&starts[0]),
        ms(&starts[starts.len() - 1])
    );
    println!();
    let secs = a.idle_secs.max(1) as f64;
    let ours = table("Confab idle", &confab, secs);
    println!();
    let floor = table("empty web view idle", &bare, secs);
    println!();
    let framework = hello.map(|h| {
        let t = table("Tauri + Yew, nothing else", &h, secs);
        println!();
        t
    });
    println!(
        "idle memory, app + WebKit processes: PSS {:.0} MB (RSS sum {:.0} MB)   (target ≤ 150 MB)",
        ours.pss, ours.rss
    );
    println!(
        "an empty WebKitGTK window (tao + wry, what Tauri runs on), measured the same way: PSS {:.0} MB",
        floor.pss
    );
    println!(
        "Confab above that floor: PSS +{:.0} MB, USS +{:.0} MB (PSS ratio {:.2})",
        ours.pss - floor.pss,
        ours.uss - floor.uss,
        ours.pss / floor.pss.max(1.0)
    );
    match framework {
        Some(f) => println!(
            "a Tauri + Yew app that does nothing (tests/peer): PSS +{:.0} MB above the floor; \
             Confab above it: PSS +{:.0} MB (PSS ratio {:.2})",
            f.pss - floor.pss,
            ours.pss - f.pss,
            ours.pss / f.pss.max(1.0)
        ),
        None => println!(
            "(no Tauri + Yew peer next to the app: scripts/bench.sh app builds tests/peer)"
        ),
    }
    Ok(())
}

/// Memory of a process tree before and after an idle window: a settling pause after the
/// start, then `idle_secs` untouched.
struct Idle {
    before: Vec<Footprint>,
    after: Vec<Footprint>,
}

/// Measures `child` (already started and painted) over its idle window, then stops it.
fn idle(child: &mut std::process::Child, a: &Args, label: &str) -> Result<Idle> {
    std::thread::sleep(Duration::from_secs(2)); // let the start settle before measuring
    let before = footprint(child.id())?;
    std::thread::sleep(Duration::from_secs(a.idle_secs)); // the measurement window
    let after = footprint(child.id())?;
    if let Some(dir) = &a.smaps_dir {
        std::fs::create_dir_all(dir)?;
        for p in &after {
            let smaps = Path::new("/proc").join(p.pid.to_string()).join("smaps");
            let to = dir.join(format!("{label}-{}", p.name));
            std::fs::copy(&smaps, &to).with_context(|| format!("copying {}", smaps.display()))?;
        }
    }
    stop(child)?;
    Ok(Idle { before, after })
}

/// Starts a peer (`bare_webview`, built next to this bench, or the Tauri + Yew app of
/// tests/peer), waits for it to report its page painted and measures it as the app was
/// measured.
fn peer(desktop: &Desktop, a: &Args, exe: &Path, label: &str) -> Result<Idle> {
    let mut child = Command::new(exe)
        .env("DISPLAY", desktop.display())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let lines = drain_lines(child.stdout.take().context("stdout")?);
    match lines.recv_timeout(Duration::from_secs(30)) {
        Ok(line) if line == "painted" => idle(&mut child, a, label),
        other => {
            stop(&mut child)?;
            bail!(
                "{} did not report its page painted: {other:?}",
                exe.display()
            )
        }
    }
}

/// Totals of one measured tree.
struct Totals {
    rss: f64,
    pss: f64,
    uss: f64,
}

/// Prints one row per process of `m` and a total row; returns the totals.
fn table(title: &str, m: &Idle, secs: f64) -> Totals {
    println!(
        "{:<26} {:>8} {:>8} {:>8} {:>10}",
        title, "RSS MB", "PSS MB", "USS MB", "CPU % idle"
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    let (mut t, mut cpu) = (
        Totals {
            rss: 0.0,
            pss: 0.0,
            uss: 0.0,
        },
        0.0,
    );
    for p in &m.after {
        let ticks = m
            .before
            .iter()
            .find(|b| b.pid == p.pid)
            .map_or(0, |b| p.cpu_ticks.saturating_sub(b.cpu_ticks));
        let pct = ticks as f64 / secs; // 100 ticks per second: ticks/s = percent
        println!(
            "{:<26} {:>8.1} {:>8.1} {:>8.1} {:>10.1}",
            format!("  {} ({})", p.name, p.pid),
            mb(p.rss_kb),
            mb(p.pss_kb),
            mb(p.uss_kb),
            pct
        );
        t.rss += mb(p.rss_kb);
        t.pss += mb(p.pss_kb);
        t.uss += mb(p.uss_kb);
        cpu += pct;
    }
    println!(
        "{:<26} {:>8.1} {:>8.1} {:>8.1} {:>10.1}",
        "  total", t.rss, t.pss, t.uss, cpu
    );
    t
}

/// Forwards the lines of `out` to a channel on a thread that keeps draining it, so the app
/// never blocks on a full pipe.
fn drain_lines(out: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits for the shell's "first paint" line for the main screen; returns the time since
/// `spawned` and the app's own figure (ms since its `main`). `patience` is longer under a
/// profiler: callgrind runs the app some 30 times slower.
fn first_paint(
    lines: &mpsc::Receiver<String>,
    spawned: Instant,
    patience: Duration,
) -> Result<(Duration, u64)> {
    let deadline = spawned + patience;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            bail!(
                "no first paint within {} s; the app said:\n{}",
                patience.as_secs(),
                seen.join("\n")
            );
        };
        seen.push(line.clone());
        if line.contains("confab::startup") {
            // The app's own phases: setup, core ready, first paint (ms since its main).
            println!(
                "    {}",
                line.split("confab::startup: ").nth(1).unwrap_or(&line)
            );
        }
        if line.contains("first paint") {
            let wall = spawned.elapsed();
            if !line.contains("screen=main") {
                bail!("the app did not start on the cached sidebar: {line}");
            }
            let in_app = line
                .split("since_start_ms=")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            return Ok((wall, in_app));
        }
    }
}

fn stop(child: &mut std::process::Child) -> Result<()> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    child.wait()?;
    wait_for_webkit_to_exit()
}

/// WebKit's helper processes outlive their app by a moment; the next start must not share them.
fn wait_for_webkit_to_exit() -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes()?.iter().any(|(_, _, name)| {
        name.starts_with("WebKitWebProces") || name.starts_with("WebKitNetworkP")
    }) {
        if Instant::now() > deadline {
            bail!("WebKit processes did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// (pid, parent pid, name) of every process.
fn processes() -> Result<Vec<(u32, u32, String)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc")?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (name) state ppid ...": the name may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let ppid = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.push((pid, ppid, name));
    }
    Ok(out)
}
