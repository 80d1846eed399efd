//! What the server enforces on an account, met in the real window: the per-user message limit
//! (a message past it says why it waits and when it goes out, not "failed", not a silent clock,
//! then goes out by itself, once), and the account dialog (a password change that signs every
//! other device out, "sign out everywhere" that signs out this one too).

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use confab_core::ApiError;
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, ENTER, GRACE, WAIT};
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

#[test]
fn a_password_changed_in_the_window_signs_every_other_device_out_and_sign_out_everywhere_ends_this_one_too(
) {
    in_desktop(
        "a_password_changed_in_the_window_signs_every_other_device_out_and_sign_out_everywhere_ends_this_one_too",
        password_and_sessions,
    );
}

/// Whether `api`'s session is still accepted by the server.
async fn accepted(api: &confab_core::Api) -> Result<bool> {
    match api.users().await {
        Ok(_) => Ok(true),
        Err(ApiError::Unauthorized) => Ok(false),
        Err(e) => bail!("the server answered neither yes nor no: {e}"),
    }
}

async fn password_and_sessions(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("account")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "account").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;
    app.click("#autostart-no").await?;
    // Ada's phone, say: another session of the same account.
    let phone = backend.api(ADA).await?;
    // Looked up while the demo's password still signs in (the harness signs in with it).
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    ensure!(accepted(&phone).await?, "the other device starts signed in");

    app.click("#open-account").await?;
    app.wait_text("#account-email", |t| t == email).await?;
    // A wrong current password is named as such, and changes nothing.
    let new_password = "a-brand-new-secret";
    app.type_into("#password-current", "not-my-password")
        .await?;
    app.type_into("#password-new", new_password).await?;
    app.type_into("#password-repeat", new_password).await?;
    app.click("#password-submit").await?;
    app.wait_text("#account-error", |t| {
        t.contains("current password is not right")
    })
    .await?;
    app.screenshot("wrong-current").await?;
    ensure!(accepted(&phone).await?, "a refused change signs no one out");

    app.wait_for("#password-current").await?.clear().await?;
    app.type_into("#password-current", &password).await?;
    app.click("#password-submit").await?;
    app.wait_text(".toast", |t| t.contains("Password changed"))
        .await?;
    ensure!(
        app.texts("#account-dialog").await?.is_empty(),
        "the dialog closed after the change"
    );
    app.screenshot("changed").await?;
    ensure!(!accepted(&phone).await?, "the other device is signed out");
    let login = confab_core::Api::new(&backend.url());
    ensure!(
        matches!(
            login.login(&email, &password).await,
            Err(ApiError::Unauthorized)
        ),
        "the old password no longer signs in"
    );
    let laptop = login.with_token(login.login(&email, new_password).await?.token);

    // This window stays signed in: its socket, closed by the server with the others, comes
    // back on its still-valid token, and a message goes out.
    app.open_conversation(pair).await?;
    app.wait_text("#open-account .me-status", |t| t == "Online")
        .await?;
    app.record_deliveries().await?;
    let text = "Still here after changing my password.";
    app.type_into("#composer", text).await?;
    app.type_into("#composer", ENTER).await?;
    app.wait_deliveries(WAIT, text, |d| {
        d.iter()
            .any(|s| s.last().map(String::as_str) == Some("sent"))
    })
    .await?;
    let on_server = backend.api(GRACE).await?.messages(pair, None, 50).await?;
    ensure!(
        on_server.iter().any(|m| m.content == text),
        "sent after the change"
    );

    // Sign out everywhere: asks once more, then every session ends, this window's included.
    app.click("#open-account").await?;
    app.click("#sign-out-everywhere").await?;
    app.wait_text("#sign-out-everywhere", |t| t.contains("Click again"))
        .await?;
    ensure!(
        accepted(&laptop).await?,
        "nothing happens before the second click"
    );
    app.click("#sign-out-everywhere").await?;
    app.wait_text("#sign-in-form .notice", |t| {
        t.contains("signed out on every device")
    })
    .await?;
    app.screenshot("signed-out-everywhere").await?;
    ensure!(!accepted(&laptop).await?, "the other device is signed out");
    app.quit().await
}
