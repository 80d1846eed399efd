//! The server's per-user message limit, met in the real window: a message past it says why it
//! waits and when it goes out (not "failed", not a silent clock), then goes out by itself,
//! once.

use std::time::Duration;

use anyhow::{ensure, Result};
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, ENTER, GRACE};
use confab_server::write_limit::{Rate, WriteLimits};

#[test]
fn a_message_past_the_servers_limit_says_why_it_waits_then_goes_out_once() {
    in_desktop(
        "a_message_past_the_servers_limit_says_why_it_waits_then_goes_out_once",
        held_message,
    );
}

async fn held_message(desktop: Desktop) -> Result<()> {
    // Two at once, then one every ten seconds: the three are typed well within that.
    let backend = Backend::start_limited(WriteLimits {
        messages: Some(Rate::new(2, Duration::from_secs(20))),
        ..WriteLimits::UNLIMITED
    })
    .await?;
    fresh_artifacts("limits")?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "limits").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;
    // The first-run question would cover the newest messages in the screenshots.
    app.click("#autostart-no").await?;
    app.open_conversation(pair).await?;
    app.wait_for("#composer").await?;
    app.record_deliveries().await?;
    let third = "Third in a row, past the limit.";
    for text in ["First in a row.", "Second in a row.", third] {
        app.type_into("#composer", text).await?;
        app.type_into("#composer", ENTER).await?;
    }
    app.screenshot("typed").await?;
    // The whole row, so a failure shows what it said instead.
    let row = app
        .wait_script(
            "const r = document.querySelector('[data-delivery=\"held\"]'); return r && r.outerHTML;",
            |v| {
                v.as_str().is_some_and(|html| {
                    html.contains(third)
                        && html.contains("Too many messages at once — goes out at")
                })
            },
        )
        .await?;
    println!("held: {row}");
    app.screenshot("held").await?;
    let states = app
        .wait_deliveries(Duration::from_secs(40), third, |d| {
            d.iter()
                .any(|s| s.last().map(String::as_str) == Some("sent"))
        })
        .await?;
    ensure!(
        states.len() == 1 && states[0].contains(&"held".to_owned()),
        "one row, held then sent: {states:?}"
    );
    ensure!(
        !states[0].contains(&"failed".to_owned()),
        "never shown as failed: {states:?}"
    );
    app.screenshot("sent").await?;
    let on_server = backend.api(GRACE).await?.messages(pair, None, 100).await?;
    ensure!(
        on_server.iter().filter(|m| m.content == third).count() == 1,
        "the server has it exactly once"
    );
    app.quit().await
}
