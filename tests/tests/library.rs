//! The knowledge library and search, end to end: answered and declined requests (a reason typed
//! in the window's decline step among them) stay readable from the cache after a restart with
//! the backend stopped, filtered by who asked and by state, an unread answer counted read once
//! opened; search finds a word that occurs only in an answer, and so does "asked before" while a
//! question is typed. (A search hit far back in a conversation: `history.rs`.)
//!
//! Each test runs in its own desktop session (the real window under Xvfb, the real backend and
//! Sockudo) and leaves screenshots in `test-artifacts/e2e/<test>/`. Nothing sleeps: every step
//! awaits a condition under a deadline.

use anyhow::{ensure, Context, Result};
use confab_e2e::steps::{eventually, sign_in};
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE, LINUS, WAIT};
use confab_model::{KnowledgeDecision, KnowledgeStatus, RequestId};
use serde_json::{json, Value};

/// WebDriver's ArrowDown key.
const ARROW_DOWN: &str = "\u{E015}";
/// WebDriver's Escape key.
const ESCAPE: &str = "\u{E00C}";

/// One entry of the library as the window shows it.
#[derive(Debug)]
struct Item {
    id: RequestId,
    state: String,
    side: String,
    unread: bool,
    text: String,
}

/// The library's entries, in the order shown (empty while the dialog is closed).
const ITEMS: &str = "return Array.from(document.querySelectorAll('#library-list .library-item')) \
    .map(li => ({ id: Number(li.dataset.requestId), state: li.dataset.state, \
                  side: li.dataset.side, unread: li.classList.contains('unread'), \
                  text: li.textContent }));";

/// The entries in what [`ITEMS`] returned.
fn parse_items(v: &Value) -> Vec<Item> {
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_owned();
    v.as_array()
        .map(|list| {
            list.iter()
                .map(|e| Item {
                    id: e["id"].as_i64().unwrap_or_default(),
                    state: text(e, "state"),
                    side: text(e, "side"),
                    unread: e["unread"] == json!(true),
                    text: text(e, "text"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the library's entries satisfy `pred`; returns them.
async fn wait_items(app: &AppWindow, pred: impl Fn(&[Item]) -> bool) -> Result<Vec<Item>> {
    let v = app.wait_script(ITEMS, |v| pred(&parse_items(v))).await?;
    Ok(parse_items(&v))
}

fn item(items: &[Item], id: RequestId) -> Option<&Item> {
    items.iter().find(|i| i.id == id)
}

fn ids(items: &[Item]) -> Vec<RequestId> {
    items.iter().map(|i| i.id).collect()
}

/// Presses `keys` on whatever has the keyboard focus.
async fn press(app: &AppWindow, keys: &str) -> Result<()> {
    let focused = app.client().active_element().await?;
    focused.send_keys(keys).await?;
    Ok(())
}

/// The id of the element with the keyboard focus.
async fn focused_id(app: &AppWindow) -> Result<String> {
    let v = app
        .client()
        .execute(
            "return document.activeElement && document.activeElement.id;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[test]
fn after_a_restart_with_the_backend_stopped_the_library_shows_answered_and_declined_requests_and_search_finds_a_word_only_in_an_answer(
) {
    in_desktop(
        "after_a_restart_with_the_backend_stopped_the_library_shows_answered_and_declined_requests_and_search_finds_a_word_only_in_an_answer",
        library_offline,
    );
}

async fn library_offline(desktop: Desktop) -> Result<()> {
    let mut backend = Backend::start().await?;
    fresh_artifacts("library")?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "library").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;

    // Ada asks Grace two questions; Grace answers one (with a word found nowhere else) and
    // declines the other with a reason.
    let (ada_api, grace_api) = (backend.api(ADA).await?, backend.api(GRACE).await?);
    let grace = backend.user_id(GRACE);
    let answered_q = "How do we rotate the staging TLS certificate?";
    let declined_q = "Can you send me the payroll spreadsheet?";
    let word = "periwinkleotter";
    let answer = format!("Run the renew job on the bastion, then reload nginx. Runbook: {word}.");
    let reason = "Payroll stays with HR, please ask them.";
    let a = ada_api.ask(grace, answered_q).await?.id;
    let b = ada_api.ask(grace, declined_q).await?.id;
    grace_api
        .respond(a, KnowledgeDecision::Approved, Some(&answer))
        .await?;
    grace_api
        .respond(b, KnowledgeDecision::Denied, Some(reason))
        .await?;

    // Ada declines one of the seeded questions to her from the window, with a reason.
    let to_ada = ada_api.requests().await?.incoming;
    let seeded = to_ada
        .iter()
        .find(|r| r.status == KnowledgeStatus::Pending)
        .context("the demo seed has a pending request to Ada")?;
    let (c, my_reason) = (seeded.id, "Not mine to share: the release captain knows.");
    app.click(&format!("#request-list button[data-request-id=\"{c}\"]"))
        .await?;
    app.click("#respond-deny").await?;
    app.type_into("#respond-reason", my_reason).await?;
    app.screenshot("decline-with-reason").await?;
    app.click("#respond-deny-confirm").await?;
    app.wait_text("#request-list", |t| !t.contains(&seeded.question))
        .await?;
    // The asker has the decline with its reason.
    let asker = [GRACE, LINUS]
        .into_iter()
        .find(|i| backend.user_id(*i) == seeded.requester_id)
        .context("the seeded request comes from Grace or Linus")?;
    let theirs = backend.api(asker).await?.requests().await?.outgoing;
    let r = theirs
        .iter()
        .find(|r| r.id == c)
        .context("the asker has their request")?;
    ensure!(
        r.status == KnowledgeStatus::Denied && r.response_content.as_deref() == Some(my_reason),
        "the asker has the decline with its reason: {r:?}"
    );

    // The library shows all three as they are, the answers to Ada still unopened.
    app.click("#open-requests").await?;
    app.wait_for("#requests-dialog").await?;
    let items = wait_items(&app, |items| {
        item(items, a).is_some_and(|i| i.state == "approved")
            && item(items, b).is_some_and(|i| i.state == "denied")
            && item(items, c).is_some_and(|i| i.state == "denied")
    })
    .await
    .context("the library shows the answered and declined requests")?;
    let (ia, ib) = (item(&items, a).context("a")?, item(&items, b).context("b")?);
    ensure!(
        ia.unread && ib.unread && ia.side == "asked",
        "answers not opened yet are marked: {items:?}"
    );
    ensure!(
        !ia.text.contains(word),
        "an unread answer shows only once opened: {}",
        ia.text
    );
    ensure!(
        ids(&items)[..2] == [b, a],
        "newest first: {:?}",
        ids(&items)
    );
    app.screenshot("library-online").await?;
    app.quit().await?;

    // Restarted with the backend gone: the library reads the cache.
    backend.stop().await?;
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "library").await?;
    app.wait_for(".sidebar").await?;
    app.wait_text("#connection-banner", |t| t.starts_with("Offline"))
        .await?;
    app.click("#open-requests").await?;
    app.wait_for("#requests-dialog").await?;
    let items = wait_items(&app, |items| {
        item(items, a).is_some() && item(items, b).is_some() && item(items, c).is_some()
    })
    .await?;
    ensure!(
        item(&items, a).is_some_and(|i| i.unread && i.state == "approved"),
        "still unread after the restart: {items:?}"
    );
    // Focus starts on the newest entry; the arrow moves it to the next.
    let first = format!("library-item-{}", items[0].id);
    let second = format!("library-item-{}", items[1].id);
    eventually("focus on the first entry", WAIT, || async {
        Ok((focused_id(&app).await? == first).then_some(()))
    })
    .await?;
    press(&app, ARROW_DOWN).await?;
    eventually("focus on the second entry", WAIT, || async {
        Ok((focused_id(&app).await? == second).then_some(()))
    })
    .await?;

    // Opening the answer shows it with who answered, and it is no longer unread (the core
    // counts it read in the cache at once, offline too).
    app.click(&format!("#library-item-{a}")).await?;
    let items = wait_items(&app, |items| {
        item(items, a).is_some_and(|i| i.text.contains(word) && !i.unread)
    })
    .await
    .context("the opened answer shows and is read")?;
    let opened = item(&items, a).context("a")?;
    ensure!(
        opened.text.contains(answered_q) && opened.text.contains("Grace Hopper answered"),
        "the answer with who answered: {}",
        opened.text
    );
    app.click(&format!("#library-item-{b}")).await?;
    wait_items(&app, |items| {
        item(items, b)
            .is_some_and(|i| i.text.contains(reason) && i.text.contains("Grace Hopper declined"))
    })
    .await
    .context("the decline shows its reason")?;
    app.screenshot("library-offline").await?;

    // Filters: declined only; then asked of me (the decline Ada typed is there with its reason).
    app.click("#library-state-declined").await?;
    let declined = wait_items(&app, |items| items.iter().all(|i| i.state == "denied")).await?;
    ensure!(
        ids(&declined).contains(&b) && ids(&declined).contains(&c),
        "declined: {declined:?}"
    );
    app.click("#library-who-theirs").await?;
    let mine_declined = wait_items(&app, |items| ids(items) == [c]).await?;
    ensure!(
        mine_declined[0].text.contains("You declined") && mine_declined[0].text.contains(my_reason),
        "my decline with my reason: {:?}",
        mine_declined[0].text
    );
    app.click("#library-state-any").await?;
    app.click("#library-who-mine").await?;
    let asked = wait_items(&app, |items| {
        items.iter().all(|i| i.side == "asked") && !items.is_empty()
    })
    .await?;
    ensure!(ids(&asked) == [b, a], "asked by me: {asked:?}");
    app.screenshot("library-filtered").await?;

    // Search finds the word that occurs only in the answer, under questions and answers.
    press(&app, ESCAPE).await?;
    app.click("#open-search").await?;
    app.type_into("#search-input", word).await?;
    let hits = app
        .wait_text("#search-requests", |t| t.contains(answered_q))
        .await
        .context("search finds the word in the answer")?;
    ensure!(hits.contains(word), "the excerpt shows the word: {hits}");
    let messages = app.texts("#search-messages").await?;
    ensure!(messages.is_empty(), "no message has the word: {messages:?}");
    app.screenshot("search-answer").await?;
    app.click("#search-requests button").await?;
    app.wait_for(&format!(
        "#requests-dialog .library-item.highlight[data-request-id=\"{a}\"]"
    ))
    .await
    .context("the hit opens in the library")?;
    app.screenshot("hit-in-library").await?;

    // Asking a question like it, still offline: the answer shows under the field, and opens in
    // the library.
    press(&app, ESCAPE).await?;
    app.click("#open-ask").await?;
    app.type_into("#ask-question", "rotate the staging certificate")
        .await?;
    let before = app
        .wait_text("#asked-before", |t| t.contains(answered_q))
        .await
        .context("asked before shows the answered question")?;
    ensure!(
        before.contains("Answered by Grace Hopper"),
        "who answered: {before}"
    );
    app.screenshot("asked-before").await?;
    app.click(&format!("#asked-before button[data-request-id=\"{a}\"]"))
        .await?;
    app.wait_for(&format!(
        "#requests-dialog .library-item.highlight[data-request-id=\"{a}\"]"
    ))
    .await
    .context("the past answer opens in the library")?;
    app.quit().await
}
