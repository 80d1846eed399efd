//! The desktop app end to end: the real window under Xvfb, driven through WebDriver, against
//! the real backend and Sockudo, with the token in a real Secret Service and notifications on a
//! real daemon. Each test runs in its own desktop session and leaves screenshots of every step
//! in `test-artifacts/e2e/<test>/`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use confab_core::Core;
use confab_e2e::steps::{eventually, next_event, realtime_client_of, sign_in, teammate_core};
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{
    in_desktop, tray, AppWindow, Backend, Desktop, ADA, ENTER, GRACE, KEYRING_PASSWORD, LINUS, WAIT,
};
use confab_model::events::{KNOWLEDGE_REQUEST, KNOWLEDGE_RESPONSE};
use confab_model::ipc::UiEvent;
use confab_model::ChannelName;
use confab_testkit::keyring;
use pusher_channels::proto::Event;
use tokio::sync::broadcast;

/// Signs in as Ada from the sign-in screen (a screenshot of the form first) and waits for the
/// main window.
async fn sign_in_as_ada(app: &mut AppWindow, backend: &Backend) -> Result<()> {
    app.wait_for("#sign-in-form").await?;
    app.screenshot("sign-in").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(app, backend, &email, &password).await
}

/// The first line of the tray menu once it starts with `prefix`.
async fn tray_status(prefix: &str) -> Result<String> {
    eventually(&format!("the tray to say {prefix:?}"), WAIT, || async {
        Ok(tray::menu_labels()
            .await
            .ok()
            .and_then(|l| l.into_iter().next())
            .filter(|s| s.starts_with(prefix)))
    })
    .await
}

/// The next `name` event on a private channel's connection, as JSON.
async fn next_notice(
    events: &mut pusher_channels::client::Events,
    name: &str,
    whose: &str,
) -> Result<serde_json::Value> {
    tokio::time::timeout(WAIT, async {
        while let Some(e) = events.recv().await {
            if let Event::Message { event, data, .. } = e {
                if event == name {
                    return Some(data.to_value());
                }
            }
        }
        None
    })
    .await
    .with_context(|| format!("waiting for {name} on {whose} private channel"))?
    .with_context(|| format!("{whose} connection closed"))
}

/// Another user's realtime connection (the same Pusher client the app's core uses), subscribed
/// to their private channel.
async fn private_channel_of(
    backend: &Backend,
    who: usize,
) -> Result<(
    pusher_channels::client::Client,
    pusher_channels::client::Events,
)> {
    let (client, mut events) = realtime_client_of(backend, who).await?;
    let channel = ChannelName::private_user(backend.user_id(who)).to_string();
    client.subscribe(&channel)?;
    tokio::time::timeout(WAIT, async {
        while let Some(e) = events.recv().await {
            if matches!(&e, Event::Subscribed { channel: c, .. } if *c == channel) {
                return Ok(());
            }
        }
        bail!("the connection closed before {channel} was subscribed")
    })
    .await
    .context("subscribing to the private channel")??;
    Ok((client, events))
}

#[test]
fn a_share_request_reaches_the_sidebar_tray_and_notifications_and_is_answered_from_its_dialog() {
    in_desktop(
        "a_share_request_reaches_the_sidebar_tray_and_notifications_and_is_answered_from_its_dialog",
        share_request,
    );
}

async fn share_request(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("share-request")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "share-request").await?;
    sign_in_as_ada(&mut app, &backend).await?;

    // The sidebar: conversations on top, the two seeded pending requests at the bottom.
    let requests = app
        .wait_text("#request-list", |t| {
            t.contains("How do we cut a release?") && t.contains("design doc for sync")
        })
        .await?;
    ensure!(requests.contains("Grace Hopper") && requests.contains("Linus Torvalds"));
    let titles = app.texts(".conversation-title").await?;
    ensure!(
        titles.len() == 3 && titles.iter().any(|t| t == "Team"),
        "conversations: {titles:?}"
    );
    let split = app
        .client()
        .execute(
            "const r = s => document.querySelector(s).getBoundingClientRect(); \
             return [r('.pane.conversations').bottom, r('.pane.requests').top, \
                     r('.pane.requests').bottom, r('.sidebar').bottom];",
            vec![],
        )
        .await?;
    let [conv_bottom, req_top, req_bottom, sidebar_bottom]: [f64; 4] =
        serde_json::from_value(split)?;
    ensure!(
        conv_bottom <= req_top && req_bottom <= sidebar_bottom,
        "conversations are above the requests inside the sidebar: {conv_bottom} {req_top} {req_bottom} {sidebar_bottom}"
    );
    app.screenshot("sidebar").await?;
    tray_status("2 requests waiting").await?;

    // Linus asks through the REST API: the request shows up at once, in the sidebar, the
    // tray and the notification daemon.
    let (_linus_ws, mut linus_events) = private_channel_of(&backend, LINUS).await?;
    let linus = backend.api(LINUS).await?;
    let question = "Where is the VPN setup guide?";
    let asked = Instant::now();
    let request = linus.ask(backend.user_id(ADA), question).await?;
    app.wait_text("#request-list", |t| t.contains(question))
        .await?;
    let shown_after = asked.elapsed();
    println!("the new request was in the sidebar {shown_after:?} after the REST call");
    ensure!(
        shown_after < Duration::from_secs(1),
        "the request took {shown_after:?} to appear"
    );
    app.screenshot("new-request").await?;
    let tray_line = tray_status("3 requests waiting").await?;
    println!("tray: {tray_line}");
    let shown = eventually("the notification", WAIT, || async {
        Ok(desktop
            .notifications()?
            .into_iter()
            .find(|n| n.contains(question)))
    })
    .await?;
    ensure!(shown.contains("Linus Torvalds"), "notification: {shown}");

    // Approve it from the dialog: the item leaves the list and Linus gets the answer.
    app.click(&format!("button[data-request-id=\"{}\"]", request.id))
        .await?;
    app.wait_for("#respond-dialog").await?;
    let asked_text = app
        .wait_text("#respond-question", |t| !t.is_empty())
        .await?;
    ensure!(
        asked_text == question,
        "the dialog shows the question: {asked_text:?}"
    );
    let answer = "It is in the wiki under IT → VPN; ask me if the token step fails.";
    app.type_into("#respond-content", answer).await?;
    app.screenshot("respond-dialog").await?;
    app.click("#respond-approve").await?;
    app.wait_text("#request-list", |t| !t.contains(question))
        .await?;
    ensure!(
        app.client()
            .find(fantoccini::Locator::Css("#respond-dialog"))
            .await
            .is_err(),
        "the dialog closed"
    );
    app.screenshot("answered").await?;
    let response = next_notice(&mut linus_events, KNOWLEDGE_RESPONSE, "Linus's").await?;
    ensure!(
        response["requestId"] == request.id && response["responseContent"] == answer,
        "knowledge-response carries the answer: {response}"
    );
    ensure!(response["status"] == "approved", "approved: {response}");
    tray_status("2 requests waiting").await?;

    // And the other way: Ada asks Linus from the ask dialog (the teammate field, then the
    // question); it reaches his private channel and the dialog closes. The field filters by
    // any word of a name: "tor" leaves Linus Torvalds alone, and Enter chooses him.
    app.click("#open-ask").await?;
    let linus = backend.user_id(LINUS);
    let everyone = app
        .wait_text("#ask-owner-people", |t| {
            t.contains("Linus Torvalds") && t.contains("Grace Hopper")
        })
        .await
        .context("the field lists the team")?;
    ensure!(
        !everyone.contains("Ada Lovelace"),
        "I am not among who I can ask: {everyone}"
    );
    app.type_into("#ask-owner-query", "tor").await?;
    app.wait_text("#ask-owner-people", |t| {
        t.contains("Linus Torvalds") && !t.contains("Grace")
    })
    .await
    .context("typing filters the teammates")?;
    app.screenshot("ask-filtered").await?;
    app.type_into("#ask-owner-query", ENTER).await?;
    app.wait_for(&format!("#ask-owner-chosen[data-user-id=\"{linus}\"]"))
        .await
        .context("Enter chooses the teammate under the cursor")?;
    app.screenshot("ask-chosen").await?;
    let asked = "Where do the release notes live?";
    app.type_into("#ask-question", asked).await?;
    app.click("#ask-submit").await?;
    let request = next_notice(&mut linus_events, KNOWLEDGE_REQUEST, "Linus's").await?;
    ensure!(
        request["question"] == asked && request["requesterName"] == "Ada Lovelace",
        "knowledge-request carries Ada's question: {request}"
    );
    app.wait_text(".toast", |t| t.contains("Question sent to Linus Torvalds"))
        .await
        .context("the dialog closes with a toast naming who was asked")?;
    app.quit().await
}

/// Grace's own app core, signed in on its own cache: the other side of the chat.
async fn grace(backend: &Backend, dir: &Path) -> Result<(Core, broadcast::Receiver<UiEvent>)> {
    let (email, password) = backend.credentials(GRACE);
    teammate_core(backend, &email, &password, dir).await
}

#[test]
fn chat_goes_both_ways_with_typing_and_my_message_is_pending_then_sent_exactly_once() {
    in_desktop(
        "chat_goes_both_ways_with_typing_and_my_message_is_pending_then_sent_exactly_once",
        two_way_chat,
    );
}

async fn two_way_chat(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    fresh_artifacts("chat")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "chat").await?;
    sign_in_as_ada(&mut app, &backend).await?;
    let (grace, mut grace_events) = grace(&backend, &desktop.home().join("grace")).await?;

    app.open_conversation(pair).await?;
    app.wait_text("#message-list", |t| t.contains("Done, left two comments."))
        .await?;
    app.record_deliveries().await?;
    app.record_calls().await?;

    // Grace types, then writes.
    grace.typing(pair).await?;
    app.wait_text("#typing-indicator", |t| {
        t.contains("Grace Hopper is typing")
    })
    .await?;
    app.screenshot("grace-typing").await?;
    grace
        .send_message(pair, "Are the release notes out yet?".into())
        .await?;
    app.wait_text("#message-list", |t| {
        t.contains("Are the release notes out yet?")
    })
    .await?;
    // The events carried the row and the conversation's summary: the window read nothing
    // back (marking the open conversation seen is the one call it may make).
    let calls = app.take_calls().await?;
    println!("commands invoked for Grace's message: {calls:?}");
    ensure!(
        calls.iter().all(|c| c == "mark_seen"),
        "an incoming message costs no reads: {calls:?}"
    );

    // Ada types (Grace sees it), then sends with Enter: pending, then sent, one row.
    let mine = "Yes, they went out an hour ago.";
    app.type_into("#composer", &mine[..10]).await?;
    next_event(&mut grace_events, "Ada typing", |e| {
        matches!(e, UiEvent::Typing { conversation_id, names }
            if *conversation_id == pair && names.iter().any(|n| n == "Ada Lovelace"))
    })
    .await?;
    app.type_into("#composer", &mine[10..]).await?;
    app.take_calls().await?;
    app.type_into("#composer", ENTER).await?;
    let states = app
        .wait_deliveries(WAIT, mine, |d| d.iter().flatten().any(|s| s == "sent"))
        .await?;
    println!("delivery states of my message: {states:?}");
    ensure!(
        app.deliveries_of(mine).await? == vec![vec!["pending".to_owned(), "sent".to_owned()]],
        "one row, pending then sent: {states:?}"
    );
    let calls = app.take_calls().await?;
    ensure!(
        calls == ["send_message"],
        "one sent message is one call, and nothing is read back: {calls:?}"
    );
    let composer = app.wait_for("#composer").await?.prop("value").await?;
    ensure!(
        composer.as_deref() == Some(""),
        "the composer is cleared: {composer:?}"
    );
    app.screenshot("sent").await?;
    next_event(&mut grace_events, "Ada's message at Grace", |e| {
        matches!(e, UiEvent::MessagesChanged { messages, .. }
            if messages.iter().any(|m| m.content == mine))
    })
    .await?;
    let at_grace = grace.messages(pair, None, 100).await?;
    ensure!(
        at_grace.iter().filter(|m| m.content == mine).count() == 1,
        "Grace has it once"
    );
    let on_server = backend.api(GRACE).await?.messages(pair, None, 100).await?;
    ensure!(
        on_server.iter().filter(|m| m.content == mine).count() == 1,
        "the server has it once"
    );

    // Markup in a message is text, never HTML.
    let markup = "<img src=x onerror=alert(1)>";
    grace.send_message(pair, markup.into()).await?;
    let shown = app
        .wait_script(
            "return Array.from(document.querySelectorAll('#message-list .content')).map(e => e.textContent);",
            |v| v.as_array().is_some_and(|a| a.iter().any(|t| t == markup)),
        )
        .await?;
    println!("message texts: {shown}");
    let images = app
        .client()
        .find_all(fantoccini::Locator::Css("#message-list img"))
        .await?;
    ensure!(images.is_empty(), "no <img> element was created");
    ensure!(
        app.client().get_alert_text().await.is_err(),
        "no alert is open"
    );
    app.screenshot("markup-as-text").await?;
    drop(grace);
    app.quit().await
}

#[test]
fn a_restart_without_the_backend_reads_the_cache_and_delivers_a_message_once_it_returns() {
    in_desktop(
        "a_restart_without_the_backend_reads_the_cache_and_delivers_a_message_once_it_returns",
        offline_restart,
    );
}

async fn offline_restart(desktop: Desktop) -> Result<()> {
    let mut backend = Backend::start().await?;
    let team = backend.conversation_id(ADA, &[ADA, GRACE, LINUS]).await?;
    fresh_artifacts("offline-restart")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "offline-restart").await?;
    sign_in_as_ada(&mut app, &backend).await?;
    app.open_conversation(team).await?;
    app.wait_text("#message-list", |t| t.contains("Build is green again."))
        .await?;
    app.quit().await?;

    backend.stop().await?;
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "offline-restart").await?;
    // The session comes back from the keyring: no sign-in screen, the cache is readable.
    app.wait_for(".sidebar").await?;
    app.open_conversation(team).await?;
    app.wait_text("#message-list", |t| {
        t.contains("Build is green again.") && t.contains("Love to see it.")
    })
    .await?;
    let banner = app
        .wait_text("#connection-banner", |t| t.starts_with("Offline"))
        .await?;
    ensure!(
        banner.contains("showing saved messages"),
        "banner: {banner}"
    );
    app.record_deliveries().await?;
    let text = "Writing this while the server is down.";
    app.type_into("#composer", text).await?;
    app.type_into("#composer", ENTER).await?;
    app.wait_deliveries(WAIT, text, |d| d.iter().flatten().any(|s| s == "pending"))
        .await?;
    // Offline it does not claim to be sending: it says it waits for the connection.
    app.wait_text("[data-delivery=\"pending\"] .delivery", |t| {
        t.contains("Waiting for connection")
    })
    .await?;
    app.screenshot("offline-pending").await?;

    backend.restart().await?;
    let back = Instant::now();
    let states = app
        .wait_deliveries(Duration::from_secs(90), text, |d| {
            d.iter()
                .any(|s| s.last().map(String::as_str) == Some("sent"))
        })
        .await
        .context("not sent 90 s after the backend returned")?;
    ensure!(
        states == vec![vec!["pending".to_owned(), "sent".to_owned()]],
        "one row, pending then sent: {states:?}"
    );
    println!("delivered {:?} after the backend returned", back.elapsed());
    // Backend and Sockudo were both down, so the Pusher client and the outbox each backed off
    // (full jitter, capped at 60 s); whichever attempt succeeds first cuts the other's wait short
    // (`retry_now`), so both are back within one capped backoff plus the reconnect.
    app.wait_script_for(
        Duration::from_secs(90),
        "return document.querySelector('#connection-banner') === null;",
        |v| v == &serde_json::json!(true),
    )
    .await?;
    println!(
        "the banner left {:?} after the backend returned",
        back.elapsed()
    );
    app.screenshot("back-online").await?;
    let on_server = backend.api(GRACE).await?.messages(team, None, 100).await?;
    ensure!(
        on_server.iter().filter(|m| m.content == text).count() == 1,
        "the server has it exactly once"
    );
    app.quit().await
}

#[test]
fn the_window_follows_the_desktops_dark_and_light_preference_while_it_runs() {
    in_desktop(
        "the_window_follows_the_desktops_dark_and_light_preference_while_it_runs",
        follows_the_desktop_theme,
    );
}

async fn follows_the_desktop_theme(desktop: Desktop) -> Result<()> {
    const DARK: &str = "return matchMedia('(prefers-color-scheme: dark)').matches;";
    let backend = Backend::start().await?;
    fresh_artifacts("theme")?;
    desktop.prefer_color_scheme("prefer-dark")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "theme").await?;
    app.wait_for("#sign-in-form").await?;
    app.wait_script(DARK, |v| v == &serde_json::json!(true))
        .await
        .context("the page is dark when the desktop prefers dark")?;
    app.screenshot("dark").await?;

    // Changed while the app runs: the portal announces it and the page follows.
    desktop.prefer_color_scheme("prefer-light")?;
    app.wait_script(DARK, |v| v == &serde_json::json!(false))
        .await
        .context("the page turns light when the desktop changes to light")?;
    app.screenshot("light").await?;
    desktop.prefer_color_scheme("prefer-dark")?;
    app.wait_script(DARK, |v| v == &serde_json::json!(true))
        .await
        .context("and dark again")?;
    app.quit().await
}

#[test]
fn with_the_keyring_locked_the_window_opens_on_saved_conversations_and_connects_once_unlocked() {
    in_desktop(
        "with_the_keyring_locked_the_window_opens_on_saved_conversations_and_connects_once_unlocked",
        locked_keyring,
    );
}

async fn locked_keyring(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("locked-keyring")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "locked-keyring").await?;
    sign_in_as_ada(&mut app, &backend).await?;
    app.wait_for(".conversation-title").await?;
    app.quit().await?;

    // The keyring is locked at the next start: its unlock dialog (gcr-prompter, on the same
    // display) waits for the password, and the window opens on the saved conversations anyway.
    let bus = zbus::Connection::session().await?;
    keyring::lock(&bus).await?;
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "locked-keyring").await?;
    app.wait_for(".conversation-title").await?;
    app.wait_text("#connection-banner", |t| t.contains("Connecting"))
        .await
        .context("the banner says it is not connected yet")?;
    app.screenshot("prompt-waiting").await?;

    // She cancels the dialog: the banner says why Confab is offline.
    keyring::cancel_unlock_dialog(&bus, WAIT).await?;
    app.wait_text("#connection-banner", |t| t.contains("keyring is locked"))
        .await?;
    app.screenshot("keyring-locked").await?;

    // She unlocks the keyring and presses "Retry now": connected, the banner leaves.
    keyring::unlock(&bus, KEYRING_PASSWORD).await?;
    app.click("#connection-banner button").await?;
    app.wait_script(
        "return document.querySelector('#connection-banner') === null;",
        |v| v == &serde_json::json!(true),
    )
    .await
    .context("connected once the keyring is unlocked")?;
    app.screenshot("connected").await?;
    app.quit().await
}
