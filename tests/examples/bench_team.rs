//! A big team in the window: 2,000 conversations and 500 teammates, in a private desktop
//! session (Xvfb, D-Bus, gnome-keyring) against the real backend and Sockudo.
//!
//! 1. Seeds the team straight into the backend's database, signs Ada in through the window and
//!    waits until the sidebar lists all 2,003 conversations (the cache holds them).
//! 2. Starts the app again `--runs` times, from the cache, and reads the page's own timeline:
//!    `performance.getEntriesByName("confab-first-paint")`, the mark the UI sets after the first
//!    animation frame with the populated sidebar (`src-ui/src/startup.rs`), in ms since the page
//!    began loading, and the steps before it the UI marks on the same timeline. The peer: the
//!    same starts for Grace, whose list is the demo's few conversations. Target: 2,000
//!    conversations add ≤ 100 ms to the start (loading the page and the wasm module is the same
//!    for both, and on this machine alone takes longer than 100 ms).
//! 3. Per keystroke of filtering, in the quick switcher (over 2,003 conversations) and in the
//!    new-conversation picker (over 503 teammates): a script in the page sets the field's value
//!    and dispatches the `input` event as typing does, and times it until the list's DOM has
//!    changed (a MutationObserver, which runs once the UI's render is done; or, if nothing in
//!    the list changed, the task after it) and the page is laid out again (reading a box forces
//!    the layout): the work one keystroke puts before the next paint; painting itself is not
//!    in it. 20 keystrokes each (adding and deleting characters, clearing the field), one a
//!    frame apart; p50 and p95. Target: ≤ 16 ms (one frame).
//!
//! Run: `scripts/bench.sh team [--runs N]` (the `dist` profile the package is built with).

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use confab_e2e::session::desktop_main;
use confab_e2e::steps::sign_in;
use confab_e2e::{AppWindow, Backend, Desktop, ADA, GRACE};
use serde_json::{json, Value};

const CONVERSATIONS: usize = 2_000;

/// The start's steps the UI marks on the page's timeline (`src-ui/src/startup.rs`), in order:
/// the module running, the start asked and answered, the whole list arrived, the first screen
/// in the DOM, painted.
const STEPS: &str = "return performance.getEntriesByType('mark')
    .filter(m => m.name.startsWith('confab-'))
    .map(m => `${m.name.slice(7)} ${Math.round(m.startTime)}`).join(', ');";
const PEOPLE: usize = 500;

/// The switcher's keystrokes: each entry is the field's value after one key.
const SWITCHER_KEYS: [&str; 20] = [
    "b",
    "be",
    "bea",
    "beac",
    "beaco",
    "beacon",
    "beacon ",
    "beacon c",
    "beacon co",
    "",
    "1",
    "17",
    "170",
    "1701",
    "170",
    "17",
    "1",
    "",
    "g",
    "gl",
];
/// The picker's keystrokes.
const PICKER_KEYS: [&str; 20] = [
    "a", "al", "ali", "alic", "alice", "alice ", "alice b", "alice", "alic", "ali", "al", "a", "",
    "k", "ko", "kof", "kofi", "kof", "ko", "k",
];

/// Types `arguments[1]` (one value per keystroke) into the field `arguments[0]` and answers
/// each keystroke's time until `arguments[2]` changed and the page was laid out again.
const TIME_KEYSTROKES: &str = r"
    const [fieldId, values, listId] = arguments;
    const done = arguments[arguments.length - 1];
    const field = document.getElementById(fieldId);
    const times = [];
    let i = 0;
    const next = () => {
        if (i === values.length) { done(times); return; }
        const list = document.getElementById(listId);
        let t0 = 0, timed = false;
        // The list's DOM changed (the render is done): lay the page out and stop the clock. A
        // keystroke that changes nothing in the list (a trailing space) is timed by the task
        // after the render instead.
        const stop = () => {
            if (timed) return;
            timed = true;
            seen.disconnect();
            list.getBoundingClientRect();
            document.body.offsetHeight;
            times.push(performance.now() - t0);
            i += 1;
            requestAnimationFrame(() => setTimeout(next, 0));
        };
        const seen = new MutationObserver(stop);
        seen.observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
        const after = new MessageChannel();
        after.port1.onmessage = stop;
        t0 = performance.now();
        field.value = values[i];
        field.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }));
        after.port2.postMessage(null);
    };
    next();
";

fn runs() -> usize {
    let mut it = std::env::args().skip(1);
    let mut runs = 3;
    while let Some(flag) = it.next() {
        match (
            flag.as_str(),
            it.next().and_then(|v| v.parse::<usize>().ok()),
        ) {
            ("--runs", Some(n)) => runs = n.max(1),
            _ => {
                eprintln!("usage: bench_team [--runs N]");
                std::process::exit(2);
            }
        }
    }
    runs
}

fn main() {
    desktop_main(bench)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sorted keystroke times from the page's answer.
fn times(v: &Value) -> Result<Vec<f64>> {
    let mut t: Vec<f64> = v
        .as_array()
        .context("the page answered no list of times")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    t.sort_by(f64::total_cmp);
    ensure!(!t.is_empty(), "no keystroke was timed");
    Ok(t)
}

fn report(what: &str, t: &[f64]) {
    println!(
        "{what}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} keystrokes   (target ≤ 16 ms)",
        percentile(t, 0.5),
        percentile(t, 0.95),
        t[t.len() - 1],
        t.len()
    );
}

/// The number of sidebar rows in the DOM and the list's length.
const SIDEBAR_ROWS: &str = r"
    const rows = document.querySelectorAll('#conversation-list .conversation-row');
    return [rows.length, rows.length ? Number(rows[0].getAttribute('aria-setsize')) : 0];
";

async fn bench(desktop: Desktop) -> Result<()> {
    let runs = runs();
    let backend = Backend::start().await?;
    let seeding = std::time::Instant::now();
    backend.seed_team(PEOPLE, CONVERSATIONS).await?;
    let total = CONVERSATIONS + 3;
    println!(
        "seeded {CONVERSATIONS} conversations and {PEOPLE} teammates in {} ms",
        seeding.elapsed().as_millis()
    );
    let data = desktop.home().join("confab-data");

    // 1. Sign in once; the first sync fills the cache.
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "bench-team").await?;
    let (email, password) = backend.credentials(ADA);
    let synced = std::time::Instant::now();
    sign_in(&mut app, &backend, &email, &password).await?;
    app.wait_script_for(Duration::from_secs(120), SIDEBAR_ROWS, |v| {
        v[1] == json!(total)
    })
    .await?;
    println!(
        "sign-in to all {total} conversations in the sidebar: {} ms",
        synced.elapsed().as_millis()
    );
    app.quit().await?;

    // 2. Starts from the cache.
    let team = starts(&desktop, &data, &backend, runs, true).await?;

    // 3. The peer: the same app started the same way for Grace, whose list is the demo's few
    //    conversations (the directory is the same 500 teammates).
    let peer_data = desktop.home().join("confab-peer");
    let mut app = AppWindow::launch(&desktop, &peer_data, &backend.url(), "bench-team").await?;
    let (email, password) = backend.credentials(GRACE);
    sign_in(&mut app, &backend, &email, &password).await?;
    let few = app
        .wait_script(SIDEBAR_ROWS, |v| v[1].as_u64().is_some_and(|n| n > 0))
        .await?;
    app.quit().await?;
    let peer = starts(&desktop, &peer_data, &backend, runs, false).await?;

    let (team_ms, peer_ms) = (percentile(&team, 0.5), percentile(&peer, 0.5));
    println!(
        "sidebar with {total} conversations painted, from the start of the page (n={}): median {team_ms:.0} ms, min {:.0} ms, max {:.0} ms",
        team.len(),
        team[0],
        team[team.len() - 1]
    );
    println!(
        "the same start with {} conversations (the peer): median {peer_ms:.0} ms, min {:.0} ms, max {:.0} ms",
        few[1],
        peer[0],
        peer[peer.len() - 1]
    );
    println!(
        "what {total} conversations add to the start: {:+.0} ms (×{:.2})   (target ≤ 100 ms)",
        team_ms - peer_ms,
        team_ms / peer_ms
    );
    Ok(())
}

/// Starts the app `runs` times from the cache in `data`, printing each start's steps; times
/// the filtering in the last window when `filter`. Answers the paint times, sorted.
async fn starts(
    desktop: &Desktop,
    data: &std::path::Path,
    backend: &Backend,
    runs: usize,
    filter: bool,
) -> Result<Vec<f64>> {
    let mut paints = Vec::new();
    for run in 0..runs {
        let app = AppWindow::launch(desktop, data, &backend.url(), "bench-team").await?;
        let mark = app
            .wait_script(
                "const m = performance.getEntriesByName('confab-first-paint');
                 return m.length ? m[0].startTime : null;",
                Value::is_number,
            )
            .await?;
        let rows = app.wait_script(SIDEBAR_ROWS, |_| true).await?;
        let steps = app.wait_script(STEPS, |_| true).await?;
        let ms = mark.as_f64().unwrap_or_default();
        println!(
            "start {}: sidebar painted {ms:.0} ms from the start of the page ({} of {} rows in the DOM; steps: {})",
            run + 1,
            rows[0],
            rows[1],
            steps.as_str().unwrap_or_default()
        );
        paints.push(ms);
        if filter && run + 1 == runs {
            filtering(&app).await?;
        }
        app.quit().await?;
    }
    paints.sort_by(f64::total_cmp);
    Ok(paints)
}

async fn filtering(app: &AppWindow) -> Result<()> {
    // The quick switcher, opened as Ctrl+K does.
    let focused = app.client().active_element().await?;
    focused.send_keys("\u{E009}k\u{E000}").await?;
    app.wait_for("#switcher-input").await?;
    let t = keystrokes(app, "switcher-input", &SWITCHER_KEYS, "switcher-results").await?;
    report("switcher, one keystroke over 2,003 conversations", &t);
    let focused = app.client().active_element().await?;
    focused.send_keys("\u{E00C}").await?;

    app.click("#new-conversation").await?;
    app.wait_for("#new-conversation-query").await?;
    let t = keystrokes(
        app,
        "new-conversation-query",
        &PICKER_KEYS,
        "new-conversation-people",
    )
    .await?;
    report(
        "new-conversation picker, one keystroke over 502 teammates",
        &t,
    );
    Ok(())
}

/// Times `keys` typed into the field `field` (element ids), each until the list `list` has
/// changed and the page is laid out again: sorted, in ms.
async fn keystrokes(app: &AppWindow, field: &str, keys: &[&str], list: &str) -> Result<Vec<f64>> {
    let v = app
        .client()
        .execute_async(
            TIME_KEYSTROKES,
            vec![json!(field), json!(keys), json!(list)],
        )
        .await?;
    times(&v)
}
