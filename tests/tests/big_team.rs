//! A big team, end to end: with 600 conversations the sidebar keeps only the rows in view in
//! the DOM (it is windowed), scrolling to the bottom shows the last conversation, and the quick
//! switcher finds one far down the list, opens it and the sidebar scrolls to it.

use std::time::Duration;

use anyhow::{ensure, Result};
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, ENTER};
use serde_json::{json, Value};

/// Conversations seeded for Ada, besides the demo's three.
const SEEDED: usize = 600;

/// Presses `keys` on whatever has the keyboard focus.
async fn press(app: &AppWindow, keys: &str) -> Result<()> {
    let focused = app.client().active_element().await?;
    focused.send_keys(keys).await?;
    Ok(())
}

/// The sidebar's rows in the DOM: `[count, setsize, titles]`.
const SIDEBAR_ROWS: &str = r"
    const rows = [...document.querySelectorAll('#conversation-list .conversation-row')];
    return [rows.length, rows.length ? Number(rows[0].getAttribute('aria-setsize')) : 0,
            rows.map(r => r.querySelector('.conversation-title').textContent)];
";

/// Whether the sidebar row of the conversation titled `arguments[0]` (replaced by a JSON
/// string) is in the DOM and wholly inside the list's visible box.
const ROW_IN_VIEW: &str = r"
    const list = document.getElementById('conversation-list');
    const row = [...list.querySelectorAll('.conversation-row')]
        .find(r => r.querySelector('.conversation-title').textContent === arguments[0]);
    if (!row) return false;
    const a = list.getBoundingClientRect(), b = row.getBoundingClientRect();
    return b.top >= a.top - 1 && b.bottom <= a.bottom + 1;
";

/// When the last row is rendered and wholly in view, and the rendered rows cover the list's
/// whole visible box (no blank stretch where a spacer stands in the view), the titles rendered;
/// else null.
const BOTTOM_SHOWN: &str = r"
    const list = document.getElementById('conversation-list');
    const rows = [...list.querySelectorAll('.conversation-row')];
    const end = rows.find(r => r.getAttribute('aria-posinset') === r.getAttribute('aria-setsize'));
    if (!end) return null;
    const a = list.getBoundingClientRect(), b = end.getBoundingClientRect();
    const first = rows[0].getBoundingClientRect();
    const shown = b.top >= a.top - 1 && b.bottom <= a.bottom + 1 && first.top <= a.top + 1;
    return shown ? rows.map(r => r.querySelector('.conversation-title').textContent) : null;
";

/// What the list's geometry is, reported when the bottom never shows.
const LIST_GEOMETRY: &str = r"
    const l = document.getElementById('conversation-list');
    const rows = [...l.querySelectorAll('.conversation-row')];
    const box = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
    return { scrollTop: l.scrollTop, scrollHeight: l.scrollHeight, clientHeight: l.clientHeight,
             list: box(l), rows: rows.length,
             first: rows[0] && [rows[0].getAttribute('aria-posinset'), box(rows[0])],
             last: rows.at(-1) && [rows.at(-1).getAttribute('aria-posinset'), box(rows.at(-1))] };
";

#[test]
fn with_six_hundred_conversations_the_sidebar_renders_only_the_rows_in_view_scrolls_to_the_last_and_the_switcher_opens_one_far_down(
) {
    in_desktop(
        "with_six_hundred_conversations_the_sidebar_renders_only_the_rows_in_view_scrolls_to_the_last_and_the_switcher_opens_one_far_down",
        big_sidebar,
    );
}

async fn big_sidebar(desktop: Desktop) -> Result<()> {
    // Given Ada in 603 conversations (600 seeded with a message each, the oldest "… 0000").
    let backend = Backend::start().await?;
    fresh_artifacts("big-team")?;
    let titles = backend.seed_team(40, SEEDED).await?;
    let total = SEEDED + 3;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "big-team").await?;
    let (email, password) = backend.credentials(ADA);

    // When she signs in and the sync has brought them all.
    sign_in(&mut app, &backend, &email, &password).await?;
    // (The first sync pages through 600 conversations: longer than a click's wait.)
    let rows = app
        .wait_script_for(Duration::from_secs(120), SIDEBAR_ROWS, |v| {
            v[1] == json!(total)
        })
        .await?;
    // (The first conversation opens by itself once the list is complete, and the sidebar
    // brings the open one into view: that happens before she scrolls.)
    app.wait_for("#conversation-list [aria-current=\"true\"]")
        .await?;
    app.screenshot("big-sidebar").await?;

    // Then the list says it has 603 items but holds only those in view.
    let in_dom = rows[0].as_u64().unwrap_or(0);
    ensure!(
        (5..100).contains(&in_dom),
        "the sidebar holds {in_dom} rows of {total}: it should hold about a screenful"
    );

    // When she scrolls to the bottom, the last conversation (the oldest) is rendered and in view.
    let oldest = &titles[0];
    app.client()
        .execute(
            "const l = document.getElementById('conversation-list'); l.scrollTop = l.scrollHeight;",
            vec![],
        )
        .await?;
    let last = app.wait_script(BOTTOM_SHOWN, |v| v.is_array()).await;
    let last = match last {
        Ok(last) => last,
        Err(e) => {
            let seen = app.client().execute(LIST_GEOMETRY, vec![]).await?;
            app.screenshot("big-sidebar-bottom-failed").await?;
            return Err(e.context(format!("the last row never showed: {seen}")));
        }
    };
    ensure!(
        last.as_array()
            .is_some_and(|r| r.iter().any(|t| t.as_str() == Some(oldest.as_str()))),
        "the bottom of the list shows {oldest:?}: {last}"
    );
    let at_bottom = app.wait_script(SIDEBAR_ROWS, |_| true).await?;
    ensure!(
        at_bottom[0].as_u64().unwrap_or(0) < 100,
        "scrolled to the bottom, the sidebar still holds a screenful: {}",
        at_bottom[0]
    );
    app.screenshot("big-sidebar-bottom").await?;

    // When she scrolls back to the top and asks the switcher for one far down the list.
    app.client()
        .execute(
            "document.getElementById('conversation-list').scrollTop = 0;",
            vec![],
        )
        .await?;
    // (about the 586th of 603).
    let far = &titles[17];
    press(&app, "\u{E009}k\u{E000}").await?;
    app.wait_for("#switcher-input").await?;
    app.type_into("#switcher-input", &far[far.len() - 4..])
        .await?;
    app.wait_text("#switcher-results", |t| t.contains(far.as_str()))
        .await?;
    app.screenshot("big-switcher").await?;
    press(&app, ENTER).await?;

    // Then it opens, and the sidebar has scrolled to its row.
    let open = app
        .wait_script(
            "return document.querySelector('#conversation-list [aria-current=\"true\"] .conversation-title')?.textContent ?? null;",
            |v| v.as_str() == Some(far.as_str()),
        )
        .await?;
    ensure!(open == Value::String(far.clone()));
    let in_view = ROW_IN_VIEW.replace("arguments[0]", &serde_json::to_string(far)?);
    app.wait_script(&in_view, |v| v == &json!(true)).await?;
    app.screenshot("big-switcher-opened").await?;
    app.quit().await
}
