//! The app's real window, driven the way WebDriver drives a browser: `tauri-driver` starts the
//! built `confab-desktop` through `WebKitWebDriver`, and fantoccini talks to it. Everything is
//! awaited under a deadline (Yew renders after the wasm loads, events arrive when they do).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::session::{Desktop, TAURI_DRIVER};

/// How long anything in the window may take to appear.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often a condition is checked while waiting for it.
const POLL: Duration = Duration::from_millis(20);
/// How long one WebDriver command may take before the test fails instead of hanging.
pub const CALL_WAIT: Duration = Duration::from_secs(30);
/// How long opening a session (starting the app) may take.
const SESSION_WAIT: Duration = Duration::from_secs(60);

/// `fut`, failing with `what` if it takes longer than `limit`.
///
/// # Errors
/// `fut` failed or timed out.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| anyhow!("{what}: no answer within {limit:?}"))?
}

/// Starts tauri-driver (which starts WebKitWebDriver, which starts the app when a session is
/// requested) on free ports, with `env` added to the environment the three inherit.
fn spawn_driver(
    desktop: &Desktop,
    data_dir: &Path,
    server_url: &str,
    env: &[(&str, OsString)],
) -> Result<(Driver, u16, u16)> {
    let port = confab_testkit::free_port();
    let native_port = confab_testkit::free_port();
    let driver_bin = std::env::var_os(TAURI_DRIVER).unwrap_or_else(|| "tauri-driver".into());
    let log = std::fs::File::create(desktop.home().join(format!("tauri-driver-{port}.log")))?;
    let child = Command::new(&driver_bin)
        .args(["--port", &port.to_string(), "--native-port"])
        .arg(native_port.to_string())
        .env("DISPLAY", desktop.display())
        .env("CONFAB_DATA_DIR", data_dir)
        .env("CONFAB_SERVER_URL", server_url)
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {driver_bin:?} (scripts/bootstrap.sh test)"))?;
    Ok((Driver(child), port, native_port))
}

/// The WebDriver key for Enter.
pub const ENTER: &str = "\u{E007}";

/// A running app window.
pub struct AppWindow {
    client: Client,
    display: String,
    /// Held for its `Drop`, which stops the app.
    _driver: Driver,
    shots: PathBuf,
    shot: usize,
}

/// The app binary next to the running test or benchmark (`target/<profile>/confab-desktop`),
/// built by `cargo build -p confab-desktop` (with the UI embedded) before the tests run: `cargo test`
/// does not build another package's binary.
pub fn app_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .ancestors()
        .skip(1)
        .map(|d| d.join("confab-desktop"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow!(
                "confab-desktop is not built next to {}: run `cargo build -p confab-desktop` first \
                 (scripts/test.sh does)",
                exe.display()
            )
        })?;
    Ok(bin)
}

/// Where screenshots go: `test-artifacts/e2e/<name>/` at the top of the repository.
pub fn artifacts_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-artifacts")
        .join("e2e")
        .join(name)
}

/// Empties `artifacts_dir(name)`, so it shows this run only.
///
/// # Errors
/// The file system refused.
pub fn fresh_artifacts(name: &str) -> Result<()> {
    let dir = artifacts_dir(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(())
}

impl AppWindow {
    /// Starts the app on `data_dir` (its cache) with `server_url` pre-filled, and waits until
    /// WebDriver has its window. Screenshots go to `artifacts_dir(shots)`.
    ///
    /// # Errors
    /// tauri-driver or the app did not start.
    pub async fn launch(
        desktop: &Desktop,
        data_dir: &Path,
        server_url: &str,
        shots: &str,
    ) -> Result<Self> {
        Self::launch_with_env(desktop, data_dir, server_url, shots, &[]).await
    }

    /// [`Self::launch`] with `env` added to the app's environment (a `PATH` that puts a
    /// recording `xdg-open` first, say).
    ///
    /// # Errors
    /// tauri-driver or the app did not start.
    pub async fn launch_with_env(
        desktop: &Desktop,
        data_dir: &Path,
        server_url: &str,
        shots: &str,
        env: &[(&str, OsString)],
    ) -> Result<Self> {
        Self::launch_with(desktop, data_dir, server_url, shots, env, &[]).await
    }

    /// [`Self::launch_with_env`] with command-line `args` for the app (`--autostart`, say).
    ///
    /// # Errors
    /// tauri-driver or the app did not start.
    pub async fn launch_with(
        desktop: &Desktop,
        data_dir: &Path,
        server_url: &str,
        shots: &str,
        env: &[(&str, OsString)],
        args: &[&str],
    ) -> Result<Self> {
        // A WebDriver session that never opens (seen once under heavy load: the app up, the
        // session request unanswered) gets a second, fresh try instead of a hung test.
        let mut attempt = 0;
        let (client, driver) = loop {
            attempt += 1;
            let (driver, port, native_port) = spawn_driver(desktop, data_dir, server_url, env)?;
            match within(
                SESSION_WAIT,
                "opening a WebDriver session",
                connect(port, native_port, args),
            )
            .await
            {
                Ok(client) => break (client, driver),
                Err(e) if attempt < 2 => {
                    eprintln!("retrying the app launch: {e:#}");
                    drop(driver);
                }
                Err(e) => return Err(e),
            }
        };
        let mut window = AppWindow {
            client,
            display: desktop.display().to_owned(),
            _driver: driver,
            shots: artifacts_dir(shots),
            shot: 0,
        };
        std::fs::create_dir_all(&window.shots)?;
        window.shot = std::fs::read_dir(&window.shots)?.count();
        Ok(window)
    }

    /// The WebDriver client, for anything not wrapped here (wrap calls in [`within`]).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Waits for an element matching `css`.
    ///
    /// # Errors
    /// None appeared within [`WAIT`].
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        let wait = self
            .client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css));
        within(WAIT + CALL_WAIT, &format!("waiting for `{css}`"), async {
            Ok(wait.await?)
        })
        .await
    }

    /// Waits until the text of the first element matching `css` satisfies `pred`; returns it.
    /// The text is the DOM's `textContent` (what the element holds, clipped or not).
    ///
    /// # Errors
    /// It did not within [`WAIT`].
    pub async fn wait_text(&self, css: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + WAIT;
        let mut last = None;
        loop {
            let text = within(CALL_WAIT, "reading text", async {
                Ok(self
                    .client
                    .find(Locator::Css(css))
                    .await?
                    .prop("textContent")
                    .await?)
            })
            .await;
            if let Ok(Some(t)) = text {
                if pred(&t) {
                    return Ok(t);
                }
                last = Some(t);
            }
            if Instant::now() > deadline {
                bail!("`{css}` never had the expected text; last seen: {last:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `script` (a function body returning a value) returns something `pred` accepts.
    ///
    /// # Errors
    /// It did not within [`WAIT`], or the script failed.
    pub async fn wait_script(&self, script: &str, pred: impl Fn(&Value) -> bool) -> Result<Value> {
        self.wait_script_for(WAIT, script, pred).await
    }

    /// [`Self::wait_script`] with its own limit.
    ///
    /// # Errors
    /// It did not within `limit`, or the script failed.
    pub async fn wait_script_for(
        &self,
        limit: Duration,
        script: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let v = within(CALL_WAIT, "running a script", async {
                Ok(self.client.execute(script, vec![]).await?)
            })
            .await?;
            if pred(&v) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("the page never satisfied the condition; last value {v}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Texts (`textContent`) of all elements matching `css`, in document order.
    ///
    /// # Errors
    /// WebDriver failed.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        within(CALL_WAIT, "reading texts", async {
            let mut out = Vec::new();
            for e in self.client.find_all(Locator::Css(css)).await? {
                out.push(e.prop("textContent").await?.unwrap_or_default());
            }
            Ok(out)
        })
        .await
    }

    /// Clicks the element matching `css` once it is there.
    ///
    /// # Errors
    /// It never appeared, or the click failed.
    pub async fn click(&self, css: &str) -> Result<()> {
        let e = self.wait_for(css).await?;
        within(CALL_WAIT, "clicking", async { Ok(e.click().await?) }).await?;
        Ok(())
    }

    /// Opens a conversation from the sidebar, as a user does: clicks its item until the item
    /// is the current one. Right after sign-in the list can reorder as the first sync lands
    /// (newest activity first), and a click aimed at a row that moved lands on its neighbour;
    /// the user then clicks again, and so does this.
    ///
    /// # Errors
    /// The item never appeared or never became current within [`WAIT`].
    pub async fn open_conversation(&self, id: impl std::fmt::Display) -> Result<()> {
        let item = format!("button[data-conversation-id=\"{id}\"]");
        let current =
            format!("return document.querySelector('{item}[aria-current=\"true\"]') !== null;");
        let deadline = Instant::now() + WAIT;
        loop {
            self.click(&item).await?;
            let taken = self
                .wait_script_for(Duration::from_secs(2), &current, |v| v == &json!(true))
                .await;
            if taken.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the conversation {id} never became the open one");
            }
        }
    }

    /// Types `text` into the element matching `css`.
    ///
    /// # Errors
    /// It never appeared, or typing failed.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let e = self.wait_for(css).await?;
        within(CALL_WAIT, "typing", async { Ok(e.send_keys(text).await?) }).await
    }

    /// Saves a screenshot of the screen as `NN-name.png` for a person to look at: the X
    /// server's pixels (ImageMagick `import`), what a user would see. WebDriver's own
    /// screenshot never answers when WebKit paints without compositing, as the app makes it
    /// do on machines without a GPU.
    ///
    /// # Errors
    /// `import` failed or the file system refused.
    pub async fn screenshot(&mut self, name: &str) -> Result<PathBuf> {
        self.shot += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.shot));
        let status = tokio::process::Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .env("DISPLAY", &self.display)
            .status();
        let status = within(CALL_WAIT, "taking a screenshot", async {
            Ok(status.await?)
        })
        .await
        .context("running ImageMagick's import (scripts/bootstrap.sh test installs it)")?;
        if !status.success() {
            bail!("import failed for {}", path.display());
        }
        Ok(path)
    }

    /// Starts recording, for every message row, the delivery states it shows
    /// (`data-delivery`: pending, sent, failed), so a fast transition is not missed.
    ///
    /// # Errors
    /// The script failed.
    pub async fn record_deliveries(&self) -> Result<()> {
        within(CALL_WAIT, "installing the recorder", async {
            Ok(self.client.execute(RECORDER, vec![]).await?)
        })
        .await?;
        Ok(())
    }

    /// The recorded states of each message row whose text is `content`: one list per row.
    ///
    /// # Errors
    /// The script failed or returned something else.
    pub async fn deliveries_of(&self, content: &str) -> Result<Vec<Vec<String>>> {
        let script = deliveries_script(content);
        let v = within(CALL_WAIT, "reading the recorder", async {
            Ok(self.client.execute(&script, vec![]).await?)
        })
        .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Waits until the recorded states of the rows whose text is `content` satisfy `pred`;
    /// returns them.
    ///
    /// # Errors
    /// They did not within `limit`, or the script failed.
    pub async fn wait_deliveries(
        &self,
        limit: Duration,
        content: &str,
        pred: impl Fn(&[Vec<String>]) -> bool,
    ) -> Result<Vec<Vec<String>>> {
        let v = self
            .wait_script_for(limit, &deliveries_script(content), |v| {
                serde_json::from_value::<Vec<Vec<String>>>(v.clone()).is_ok_and(|d| pred(&d))
            })
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Starts recording the name of every Confab command the page invokes, from now on.
    ///
    /// # Errors
    /// The script failed, or the global could not be wrapped.
    pub async fn record_calls(&self) -> Result<()> {
        let v = within(CALL_WAIT, "installing the call recorder", async {
            Ok(self.client.execute(CALL_RECORDER, vec![]).await?)
        })
        .await?;
        ensure!(v == json!(true), "invoke could not be wrapped: {v}");
        Ok(())
    }

    /// The commands invoked since the last call (or since [`Self::record_calls`]), in order,
    /// without the `plugin:confab|` prefix; the record starts empty again.
    ///
    /// # Errors
    /// The script failed.
    pub async fn take_calls(&self) -> Result<Vec<String>> {
        let v = within(CALL_WAIT, "reading the call recorder", async {
            Ok(self
                .client
                .execute(
                    "const c = window.__calls || []; window.__calls = []; return c;",
                    vec![],
                )
                .await?)
        })
        .await?;
        let names: Vec<String> = serde_json::from_value(v)?;
        Ok(names
            .into_iter()
            .map(|n| n.trim_start_matches("plugin:confab|").to_owned())
            .collect())
    }

    /// Ends the WebDriver session and stops tauri-driver, WebKitWebDriver and the app.
    ///
    /// # Errors
    /// None today; kept fallible for callers' `?`.
    pub async fn quit(self) -> Result<()> {
        let _ = within(CALL_WAIT, "closing the session", async {
            Ok(self.client.clone().close().await?)
        })
        .await;
        // Closing the session only hides the window (close means "to the tray"); dropping the
        // driver stops it and everything it started.
        drop(self);
        Ok(())
    }
}

/// tauri-driver; dropping it stops it and everything below it (WebKitWebDriver, the app, its
/// WebKit processes), which would otherwise outlive it.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let tree = crate::procs::tree(self.0.id());
        // tauri-driver first, with SIGTERM, so it can stop WebKitWebDriver itself.
        crate::procs::stop_all(&tree[..1], Duration::from_secs(5));
        let _ = self.0.wait();
        crate::procs::stop_all(&tree[1..], Duration::from_secs(10));
    }
}

/// Connects to tauri-driver once it and the WebKitWebDriver behind it listen, and opens a
/// session on the app.
async fn connect(port: u16, native_port: u16, args: &[&str]) -> Result<Client> {
    let deadline = Instant::now() + WAIT;
    // Neither prints anything when ready: their ports accepting connections is the signal.
    for p in [port, native_port] {
        while tokio::net::TcpStream::connect(("127.0.0.1", p))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("tauri-driver/WebKitWebDriver did not listen on {p}");
            }
            tokio::time::sleep(POLL).await;
        }
    }
    let app = app_binary()?;
    let caps = json!({
        "browserName": "wry",
        "tauri:options": { "application": app, "args": args },
    });
    let Value::Object(caps) = caps else {
        unreachable!("a JSON object literal")
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("opening a WebDriver session on the app")
}

/// A script returning the recorded states of each row whose text is `content`.
fn deliveries_script(content: &str) -> String {
    format!(
        "return Object.values(window.__deliveries || {{}}) \
         .filter(r => r.content === {}).map(r => r.states);",
        json!(content)
    )
}

/// Wraps `window.fetch`, through which Tauri's IPC sends each command (to
/// `ipc://localhost/<command>`, looked up at each call), to note the names of Confab's commands
/// in `window.__calls`. (The Tauri globals themselves are frozen.)
const CALL_RECORDER: &str = r#"
window.__calls = [];
if (!window.__callsRecorded) {
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    const at = url.indexOf('plugin%3Aconfab%7C');
    if (at >= 0) window.__calls.push(decodeURIComponent(url.slice(at).split('?')[0]));
    return original.apply(this, arguments);
  };
  window.__callsRecorded = true;
}
return window.fetch !== undefined && window.__callsRecorded === true;
"#;

/// Records `data-delivery` of every `[data-client-id]` row as it is added and as it changes.
const RECORDER: &str = r#"
if (window.__deliveryObserver) return true;
window.__deliveries = {};
const note = (el) => {
  const id = el.getAttribute('data-client-id');
  const state = el.getAttribute('data-delivery');
  if (!id || !state) return;
  const content = (el.querySelector('.content') || {}).textContent || '';
  const r = window.__deliveries[id] || (window.__deliveries[id] = { content, states: [] });
  r.content = content;
  if (r.states[r.states.length - 1] !== state) r.states.push(state);
};
const scan = (node) => {
  if (node.nodeType !== 1) return;
  if (node.hasAttribute('data-client-id')) note(node);
  node.querySelectorAll('[data-client-id]').forEach(note);
};
scan(document.body);
window.__deliveryObserver = new MutationObserver((list) => {
  for (const m of list) {
    if (m.type === 'attributes') note(m.target);
    else m.addedNodes.forEach(scan);
  }
});
window.__deliveryObserver.observe(document.body,
  { subtree: true, childList: true, attributes: true, attributeFilter: ['data-delivery', 'data-client-id'] });
return true;
"#;
