//! A first sign-in on a new computer to an account with a long history, through the real
//! window: the newest screen at once, and a progress bar in the sidebar while the history
//! loads in the background, gone when it is complete.

use std::time::Duration;

use anyhow::{ensure, Result};
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE};
use serde_json::Value;

/// Enough history that loading it takes seconds, so the bar is there to be seen.
const HISTORY: usize = 40_000;

#[test]
fn a_first_sign_in_shows_the_history_progress_bar_while_it_loads_and_not_after() {
    in_desktop(
        "a_first_sign_in_shows_the_history_progress_bar_while_it_loads_and_not_after",
        first_sync,
    );
}

async fn first_sync(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("first_sync")?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    backend
        .seed_history(pair, GRACE, HISTORY, |i| format!("history {i}"))
        .await?;
    let (email, password) = backend.credentials(ADA);
    let data = desktop.home().join("confab-first-sync");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "first_sync").await?;
    sign_in(&mut app, &backend, &email, &password).await?;

    // The bar is there during the load, with its numbers for assistive technology.
    let bar = app.wait_for("#history-progress[role=progressbar]").await?;
    let max = bar.attr("aria-valuemax").await?.unwrap_or_default();
    let now = bar.attr("aria-valuenow").await?.unwrap_or_default();
    println!("progress bar: {now} of {max}");
    ensure!(
        max.parse::<u64>().is_ok_and(|m| m > HISTORY as u64),
        "the total counts the seeded history: {max}"
    );
    let label = app
        .wait_text("#history-progress", |t| t.starts_with("Loading history…"))
        .await?;
    println!("{label}");
    app.screenshot("loading").await?;

    // The newest screen is already there.
    app.open_conversation(pair).await?;
    let newest = format!("history {}", HISTORY - 1);
    app.wait_text("#message-list", |t| t.contains(newest.as_str()))
        .await?;

    // And the bar goes once the history is in.
    app.wait_script_for(
        Duration::from_secs(120),
        "return document.getElementById('history-progress') === null",
        |v| v == &Value::Bool(true),
    )
    .await?;
    app.screenshot("loaded").await?;
    app.quit().await?;
    Ok(())
}
