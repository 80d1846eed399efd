//! Links and mentions in the real window: a link in a message opens in the desktop's browser
//! (the shell's opener plugin runs the desktop's URL opener, `xdg-open`) and never in the app's
//! own window; text that only looks like a link (`javascript:`) stays text; a mention of the
//! signed-in user is marked.
//!
//! The desktop's opener is a stand-in that notes its arguments in a file, first on the app's
//! `PATH`: what the test reads is what the app asked the desktop to open. Nothing here opens a
//! real browser, sleeps to synchronise or uses a fixed port.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use confab_e2e::steps::{eventually, sign_in};
use confab_e2e::window::{fresh_artifacts, within, CALL_WAIT};
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE, WAIT};
use serde_json::{json, Value};

/// A directory with an executable `xdg-open` that appends its arguments, one call a line, to
/// `opened.txt` beside it, and exits 0 (so the opener tries nothing after it).
struct Opener {
    dir: PathBuf,
}

impl Opener {
    fn install(under: &Path) -> Result<Self> {
        let dir = under.join("fake-desktop-bin");
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("opened.txt");
        let script = format!(
            "#!/bin/sh\n# Stands in for the desktop's URL opener: notes what it was asked to open.\n\
             printf '%s\\n' \"$*\" >> '{}'\n",
            log.display()
        );
        let path = dir.join("xdg-open");
        std::fs::write(&path, script)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(Opener { dir })
    }

    /// `PATH` with this directory first.
    fn path_env(&self) -> Result<OsString> {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        Ok(std::env::join_paths(
            std::iter::once(self.dir.clone()).chain(std::env::split_paths(&rest)),
        )?)
    }

    /// The calls so far, complete lines only.
    fn calls(&self) -> Result<Vec<String>> {
        match std::fs::read_to_string(self.dir.join("opened.txt")) {
            Ok(text) => Ok(text
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .map(|l| l.trim_end_matches('\n').to_owned())
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until there are `n` calls, and returns them.
    async fn wait_calls(&self, n: usize) -> Result<Vec<String>> {
        eventually(&format!("{n} call(s) of xdg-open"), WAIT, || async {
            let calls = self.calls()?;
            Ok((calls.len() >= n).then_some(calls))
        })
        .await
    }
}

/// Clicks the link of the message list whose `href` is `url`, once it is there.
async fn click_link(app: &AppWindow, url: &str) -> Result<()> {
    app.click(&format!("#message-list a.link[href={}]", json!(url)))
        .await
        .with_context(|| format!("clicking the link to {url}"))
}

/// What the page shows and where it is, to tell that a click left the window where it was.
async fn page_state(app: &AppWindow) -> Result<Value> {
    within(CALL_WAIT, "reading the page", async {
        Ok(app
            .client()
            .execute(
                "return [location.href, document.querySelector('#message-list') !== null];",
                vec![],
            )
            .await?)
    })
    .await
}

/// Calls the opener plugin as a page could, outside what the capability grants: other schemes,
/// another program, opening a path, revealing a file. Answers each call's outcome.
const OUT_OF_SCOPE: &str = r#"
const done = arguments[arguments.length - 1];
const invoke = window.__TAURI_INTERNALS__.invoke;
const attempt = (cmd, args) =>
  invoke(cmd, args).then(() => 'allowed: ' + cmd, (e) => 'refused: ' + cmd + ': ' + e);
Promise.all([
  attempt('plugin:opener|open_url', { url: 'javascript:alert(1)' }),
  attempt('plugin:opener|open_url', { url: 'file:///etc/passwd' }),
  attempt('plugin:opener|open_url', { url: 'tel:+15550100' }),
  attempt('plugin:opener|open_url', { url: 'https://example.com/', with: 'sh' }),
  attempt('plugin:opener|open_path', { path: '/etc/passwd' }),
  attempt('plugin:opener|reveal_item_in_dir', { paths: ['/etc/passwd'] }),
]).then(done);
"#;

#[test]
fn a_link_in_a_message_opens_in_the_desktops_browser_and_javascript_stays_text() {
    in_desktop(
        "a_link_in_a_message_opens_in_the_desktops_browser_and_javascript_stays_text",
        links_open_outside,
    );
}

async fn links_open_outside(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    fresh_artifacts("links")?;
    let opener = Opener::install(desktop.home())?;
    let data = desktop.home().join("confab-data");
    let env = [("PATH", opener.path_env()?)];
    let mut app =
        AppWindow::launch_with_env(&desktop, &data, &backend.url(), "links", &env).await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;
    app.open_conversation(pair).await?;
    app.wait_text("#message-list", |t| t.contains("Done, left two comments."))
        .await?;

    // Grace writes a link with a parenthesised query before a full stop, and a javascript:
    // "link"; then a mail link and a mention of Ada.
    let grace = backend.api(GRACE).await?;
    let text = "see https://example.com/a?b=1&c=(d). and javascript:alert(1)";
    grace.send_message(pair, text, "links-e2e-1", None).await?;
    let url = "https://example.com/a?b=1&c=(d)";
    let shown = app
        .wait_script(
            "return Array.from(document.querySelectorAll('#message-list a.link')) \
             .map(a => [a.textContent, a.getAttribute('href')]);",
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        )
        .await?;
    ensure!(
        shown == json!([[url, url]]),
        "one link, without the full stop, its href the URL: {shown}"
    );
    app.wait_script(
        "return Array.from(document.querySelectorAll('#message-list .content')) \
         .map(e => e.textContent);",
        |v| v.as_array().is_some_and(|a| a.iter().any(|t| t == text)),
    )
    .await
    .context("the message reads as written, link and all")?;
    let script_links = app
        .client()
        .execute(
            "return Array.from(document.querySelectorAll('#message-list a')) \
             .filter(a => a.textContent.includes('javascript:') \
                       || (a.getAttribute('href') || '').toLowerCase().startsWith('javascript:')) \
             .length;",
            vec![],
        )
        .await?;
    ensure!(
        script_links == json!(0),
        "javascript:alert(1) is not inside an <a>: {script_links}"
    );
    app.screenshot("link-shown").await?;

    let before = page_state(&app).await?;
    click_link(&app, url).await?;
    let calls = opener.wait_calls(1).await?;
    ensure!(
        calls == [url],
        "xdg-open was asked for exactly the link: {calls:?}"
    );
    let after = page_state(&app).await?;
    ensure!(
        after == before,
        "the window stayed on the app: {before} then {after}"
    );
    ensure!(
        app.client().get_alert_text().await.is_err(),
        "no alert is open"
    );

    // The shell grants the page open_url for those schemes, with the default program only:
    // anything else is refused before a program runs (were one run, the mail link's call
    // below would not be the second).
    let refusals = within(CALL_WAIT, "probing the opener's scope", async {
        Ok(app.client().execute_async(OUT_OF_SCOPE, vec![]).await?)
    })
    .await?;
    println!("out of scope: {refusals}");
    ensure!(
        refusals.as_array().is_some_and(|a| a.len() == 6
            && a.iter()
                .all(|r| r.as_str().is_some_and(|r| r.starts_with("refused")))),
        "every out-of-scope call is refused: {refusals}"
    );

    let mail = "mailto:ada@example.com";
    grace
        .send_message(
            pair,
            &format!("@Ada Lovelace write to {mail}."),
            "links-e2e-2",
            None,
        )
        .await?;
    let mention = app
        .wait_text("#message-list .mention.me", |t| !t.is_empty())
        .await?;
    ensure!(
        mention == "@Ada Lovelace",
        "Ada's name is marked as a mention of her: {mention:?}"
    );
    click_link(&app, mail).await?;
    let calls = opener.wait_calls(2).await?;
    ensure!(
        calls == [url, mail],
        "then the mail link, without the full stop: {calls:?}"
    );
    app.screenshot("mail-link-and-mention").await?;
    app.quit().await
}
