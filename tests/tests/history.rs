//! A long conversation in the real window: the message list holds a bounded window of rows
//! whatever the history's length. Scrolling back through it keeps at most 300 message rows in
//! the DOM and the row at the top of the view in place while each older page loads above;
//! "Jump to newest" brings back the newest messages; a search hit 2,000 messages back opens a
//! window around it (no page in between is read), highlighted in view; scrolling down from there
//! reads newer pages below, the view again kept in place.
//!
//! Runs in its own desktop session (the real window under Xvfb, the real backend and Sockudo)
//! and leaves screenshots in `test-artifacts/e2e/history/`. Nothing sleeps: every step awaits a
//! condition under a deadline.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE};
use serde_json::{json, Value};

/// The most message rows the list may hold (the bound; the UI keeps 150).
const MAX_ROWS: u64 = 300;

/// Messages written after the one searched for.
const LATER: usize = 2_000;

/// Scrolls the list to one end and remembers a message row in view (the first at the top; the
/// last whose top is in view at the bottom): its client id and its offset from the list's top
/// edge; answers that and the first and last rows' client ids.
fn scroll_script(to_top: bool) -> String {
    format!(
        "const list = document.querySelector('#message-list'); \
         list.scrollTop = {}; \
         const lt = list.getBoundingClientRect().top; \
         const rows = Array.from(list.querySelectorAll('.message')); \
         const row = {}; \
         window.__anchor = {{ id: row.dataset.clientId, top: row.getBoundingClientRect().top - lt }}; \
         return {{ id: row.dataset.clientId, top: window.__anchor.top, \
                  first: rows[0].dataset.clientId, last: rows[rows.length - 1].dataset.clientId }};",
        if to_top { "0" } else { "list.scrollHeight" },
        // At the top: the first row. At the bottom: the last row whose top is in view.
        if to_top {
            "rows[0]"
        } else {
            "rows.filter(r => r.getBoundingClientRect().top >= lt).reverse()\
             .find(r => r.getBoundingClientRect().top < lt + list.clientHeight) || rows[rows.length - 1]"
        }
    )
}

/// The list as the test reads it: the first and last message rows, how many, where the
/// remembered row lies now.
const LIST: &str = "const list = document.querySelector('#message-list'); \
    const rows = list.querySelectorAll('.message'); \
    const a = window.__anchor; \
    const row = a && list.querySelector(`[data-client-id=\"${a.id}\"]`); \
    return { first: rows.length ? rows[0].dataset.clientId : null, \
             last: rows.length ? rows[rows.length - 1].dataset.clientId : null, \
             lastText: rows.length ? rows[rows.length - 1].textContent : '', \
             rows: rows.length, \
             anchorTop: row ? row.getBoundingClientRect().top - list.getBoundingClientRect().top : null, \
             beginning: !!list.querySelector('.history-start'), \
             jump: !!document.querySelector('#jump-newest'), \
             restored: list.dataset.restored || null, scrollTop: list.scrollTop };";

async fn list_state(app: &AppWindow) -> Result<Value> {
    Ok(app.client().execute(LIST, vec![]).await?)
}

/// Scrolls to one end, waits for the page that loads there, and checks the view did not move:
/// the remembered row is where it was. Returns the list as it is then.
async fn load_page_at(app: &AppWindow, to_top: bool) -> Result<Value> {
    let anchor = app.client().execute(&scroll_script(to_top), vec![]).await?;
    let edge = if to_top { "first" } else { "last" };
    // Read in the same script that scrolled: before any page could arrive.
    let before = anchor[edge].clone();
    let top = anchor["top"].as_f64().unwrap_or_default();
    let kept = |v: &Value| {
        v["anchorTop"]
            .as_f64()
            .is_some_and(|now| (now - top).abs() <= 2.0)
    };
    // The page lands, then the list puts the row back (its effect runs after the rows are in
    // the DOM): the view counts once both have happened.
    let after = match app
        .wait_script_for(Duration::from_secs(20), LIST, |v| {
            v[edge] != before && kept(v)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => {
            let now = list_state(app).await?;
            return Err(e.context(format!(
                "a page loads at the {edge} end and the row in view stays in place: \
                 {anchor} → {now}"
            )));
        }
    };
    ensure!(
        after["rows"].as_u64().is_some_and(|n| n <= MAX_ROWS),
        "at most {MAX_ROWS} message rows in the DOM: {after}"
    );
    Ok(after)
}

#[test]
fn a_long_conversation_keeps_a_bounded_window_of_rows_while_scrolling_and_jumping() {
    in_desktop(
        "a_long_conversation_keeps_a_bounded_window_of_rows_while_scrolling_and_jumping",
        long_history,
    );
}

async fn long_history(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("history")?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let grace = backend.api(GRACE).await?;
    let word = "quokkaglyph";
    let target = grace
        .send_message(
            pair,
            &format!("The old {word} notes are here."),
            "jump-target",
            None,
        )
        .await?;
    // The later messages, straight into the backend's database.
    let seeded = Instant::now();
    backend
        .seed_history(pair, GRACE, LATER, |i| format!("Later message {i}"))
        .await?;
    println!("{LATER} messages seeded in {:?}", seeded.elapsed());
    let newest_cid = json!(format!("seed-{pair}-{}", LATER - 1));

    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "history").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;
    app.open_conversation(pair).await?;
    app.wait_script_for(Duration::from_secs(60), LIST, |v| v["last"] == newest_cid)
        .await
        .context("the newest seeded message reaches the window")?;
    // The start-at-login prompt floats over the list's lower right, where "Jump to newest" is:
    // answered, as a user would.
    if app.wait_for("#autostart-no").await.is_ok() {
        app.click("#autostart-no").await?;
    }

    // Scrolling back twelve pages (600 messages) from the newest.
    for page in 0..12 {
        let now = load_page_at(&app, true)
            .await
            .with_context(|| format!("older page {page}"))?;
        println!("older page {page}: {} rows", now["rows"]);
    }
    let back = list_state(&app).await?;
    ensure!(
        back["last"] != newest_cid,
        "the newest rows were dropped from the DOM on the way back: {back}"
    );
    app.wait_for("#jump-newest")
        .await
        .context("\"Jump to newest\" is offered far back")?;
    app.screenshot("scrolled-back").await?;
    app.click("#jump-newest").await?;
    let home = app
        .wait_script(LIST, |v| {
            v["last"] == newest_cid && v["jump"] == json!(false)
        })
        .await
        .context("\"Jump to newest\" shows the newest message again")?;
    ensure!(
        home["rows"].as_u64().is_some_and(|n| n <= MAX_ROWS),
        "{home}"
    );

    app.click("#open-search").await?;
    app.type_into("#search-input", word).await?;
    let hit_text = app
        .wait_text("#search-messages", |t| t.contains(word))
        .await
        .context("search finds the old message")?;
    println!("hit: {hit_text}");
    let clicked = Instant::now();
    app.click("#search-messages button").await?;

    // The highlighted row is the target, inside the list's visible area.
    let script = "const row = document.querySelector('#message-list .message.highlight'); \
        if (!row) return null; \
        const list = document.querySelector('#message-list').getBoundingClientRect(); \
        const r = row.getBoundingClientRect(); \
        return { seq: Number(row.dataset.seq), text: row.textContent, \
                 inView: r.top >= list.top && r.bottom <= list.bottom, \
                 rows: document.querySelectorAll('#message-list .message').length };";
    let shown = app
        .wait_script_for(Duration::from_secs(20), script, |v| {
            v["inView"] == json!(true) && v["seq"] == json!(target.seq)
        })
        .await
        .with_context(|| {
            format!(
                "the message 2,000 back (seq {}) is highlighted in view",
                target.seq
            )
        })?;
    println!(
        "highlighted in view {:?} after the click: {shown}",
        clicked.elapsed()
    );
    ensure!(
        shown["text"].as_str().is_some_and(|t| t.contains(word)),
        "the highlighted row is the hit: {shown}"
    );
    ensure!(
        shown["rows"].as_u64().is_some_and(|n| n <= MAX_ROWS),
        "a window around the hit, not every page back to it: {shown}"
    );
    let highlighted: Value = app
        .client()
        .execute(
            "return document.querySelectorAll('#message-list .message.highlight').length;",
            vec![],
        )
        .await?;
    ensure!(highlighted == json!(1), "exactly one row is highlighted");
    app.screenshot("highlighted").await?;

    // Forward from the hit: newer pages load below and the view stays.
    for page in 0..3 {
        let now = load_page_at(&app, false)
            .await
            .with_context(|| format!("newer page {page}"))?;
        println!(
            "newer page {page}: {} rows, last {}",
            now["rows"], now["lastText"]
        );
    }
    app.click("#jump-newest").await?;
    app.wait_script(LIST, |v| v["last"] == newest_cid)
        .await
        .context("back at the newest message")?;
    app.quit().await
}
