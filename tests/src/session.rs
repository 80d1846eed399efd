//! A private desktop session per test: a D-Bus session bus (`dbus-run-session`) with an
//! unlocked gnome-keyring Secret Service, an X server (Xvfb on a display it picks itself), and
//! the notification daemon (dunst, started by D-Bus activation on the first notification).
//!
//! The test harness runs each end-to-end test twice: the outer run (what `cargo test` calls)
//! re-executes the same test binary inside `dbus-run-session`, and the inner run does the work.
//! Outer runs take a lock, so two app windows never compete for the two cores of CI.

use std::collections::HashMap;
use std::ffi::OsString;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Set in the inner run.
const INNER: &str = "CONFAB_E2E_INNER";
/// The `tauri-driver` found by the outer run (the inner one has another `HOME`).
pub(crate) const TAURI_DRIVER: &str = "CONFAB_E2E_TAURI_DRIVER";

/// The password of the session's keyring (gnome-keyring's login collection), for tests that
/// lock and unlock it.
pub const KEYRING_PASSWORD: &str = "e2e-password";

/// How long one end-to-end test may run in all.
const TEST_LIMIT: Duration = Duration::from_secs(300);

/// One end-to-end test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What a test runs in: the X display and the session's home directory.
#[derive(Debug)]
pub struct Desktop {
    display: String,
    home: PathBuf,
    xvfb: Child,
}

impl Desktop {
    /// The X display (`:N`).
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The session's `HOME` (temporary).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Starts Xvfb and tells the session bus about the display, so the notification daemon it
    /// activates can open it.
    fn start() -> Result<Self> {
        let home = PathBuf::from(std::env::var("HOME").context("HOME is set")?);
        // `-displayfd` makes Xvfb pick a free display and write its number once it accepts
        // clients: a readiness signal, no fixed display, no polling.
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (scripts/bootstrap.sh test installs it)")?;
        let out = xvfb.stdout.take().context("Xvfb stdout")?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line)?;
        let number: u32 = line
            .trim()
            .parse()
            .with_context(|| format!("Xvfb did not report a display: {line:?}"))?;
        let display = format!(":{number}");
        activation_environment("DISPLAY", &display)?;
        Ok(Desktop {
            display,
            home,
            xvfb,
        })
    }

    /// The notifications the daemon has shown, as "summary: body" lines. Closes the ones on
    /// screen first: dunst lists a notification only once it has left the screen.
    ///
    /// # Errors
    /// `dunstctl` failed or printed something else than its JSON.
    pub fn notifications(&self) -> Result<Vec<String>> {
        let dunstctl = |args: &[&str]| {
            Command::new("dunstctl")
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .context("running dunstctl (scripts/bootstrap.sh test installs dunst)")
        };
        dunstctl(&["close-all"])?;
        let out = dunstctl(&["history"])?;
        if !out.status.success() {
            bail!("dunstctl history: {}", String::from_utf8_lossy(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let field =
            |n: &serde_json::Value, k: &str| n[k]["data"].as_str().unwrap_or_default().to_owned();
        Ok(v["data"][0]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|n| format!("{}: {}", field(n, "summary"), field(n, "body")))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Sets the desktop's light/dark preference the way GNOME's settings do
    /// (`org.gnome.desktop.interface color-scheme`: `default`, `prefer-dark`, `prefer-light`),
    /// and has the session's real settings portal (xdg-desktop-portal with its GTK backend, which
    /// reads that key through dconf) announce it to apps as `org.freedesktop.appearance`.
    /// Call it before the app starts for the portal to be started as a GNOME one.
    ///
    /// # Errors
    /// `gsettings` failed (scripts/bootstrap.sh test installs it, the schemas and the portal).
    pub fn prefer_color_scheme(&self, scheme: &str) -> Result<()> {
        // The portal picks its backends by the desktop it runs in; GTK's serves the settings.
        activation_environment("XDG_CURRENT_DESKTOP", "GNOME")?;
        let out = Command::new("gsettings")
            .args(["set", "org.gnome.desktop.interface", "color-scheme", scheme])
            .env("DISPLAY", &self.display)
            .output()
            .context("running gsettings (scripts/bootstrap.sh test installs it)")?;
        if !out.status.success() {
            bail!("gsettings: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

/// Sets `name=value` in the environment the session bus starts services with (the
/// notification daemon, the settings portal).
fn activation_environment(name: &str, value: &str) -> Result<()> {
    let bus = zbus::blocking::Connection::session().context("the session bus")?;
    zbus::blocking::fdo::DBusProxy::new(&bus)?
        .update_activation_environment(HashMap::from([(name, value)]))
        .with_context(|| format!("setting {name} for D-Bus activation"))?;
    Ok(())
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

/// In the inner run: the desktop session and the runtime the body runs on.
fn inner_session() -> (Desktop, tokio::runtime::Runtime) {
    let desktop = Desktop::start().expect("the desktop session starts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    (desktop, rt)
}

/// Runs `body` in a fresh desktop session. Call it from a `#[test]` named `test`.
///
/// # Panics
/// When the inner run fails (its output is in the message), or the session can't be set up.
pub fn in_desktop<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Desktop) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    if std::env::var_os(INNER).is_some() {
        let (desktop, rt) = inner_session();
        match rt.block_on(async { tokio::time::timeout(TEST_LIMIT, body(desktop)).await }) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{e:?}"),
            Err(_) => panic!("the test did not finish within {TEST_LIMIT:?}"),
        }
        // Anything the test left running (an app it failed to stop) goes with the runtime.
        rt.shutdown_timeout(Duration::from_secs(5));
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let args = ["--exact", test, "--nocapture", "--test-threads=1"].map(OsString::from);
    let (mut cmd, _home) = session_command(&args);
    let (success, text) = run_with_watchdog(&mut cmd, TEST_LIMIT + Duration::from_secs(60));
    assert!(success, "the end-to-end run failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the end-to-end test did not run:\n{text}"
    );
    println!("{text}");
}

/// For a benchmark's `main`: runs `body` in a fresh desktop session (this program re-runs
/// itself with the same arguments inside one) and exits with its status.
pub fn desktop_main<F, Fut>(body: F) -> !
where
    F: FnOnce(Desktop) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    if std::env::var_os(INNER).is_some() {
        let (desktop, rt) = inner_session();
        match rt.block_on(body(desktop)) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("error: {e:?}");
                std::process::exit(1)
            }
        }
    }
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let (mut cmd, home) = session_command(&args);
    let status = cmd
        .status()
        .expect("dbus-run-session runs (scripts/bootstrap.sh test installs it)");
    drop(home);
    std::process::exit(status.code().unwrap_or(1))
}

/// This executable with `args`, to run inside `dbus-run-session` with an unlocked
/// gnome-keyring and a temporary `HOME` (removed when the returned guard drops).
fn session_command(args: &[OsString]) -> (Command, tempfile::TempDir) {
    let home_dir = tempfile::tempdir().expect("a temporary HOME");
    let home = home_dir.path().to_owned();
    let exe = std::env::current_exe().expect("this executable");
    let mut cmd = Command::new("dbus-run-session");
    cmd.args([
        "--",
        "sh",
        "-c",
        // gnome-keyring prints its environment; it only has to run, unlocked.
        "echo -n \"$KEYRING_PASSWORD\" | gnome-keyring-daemon --unlock --components=secrets \
         >/dev/null && exec \"$@\"",
        "sh",
    ])
    .env("KEYRING_PASSWORD", KEYRING_PASSWORD)
    .arg(&exe)
    .args(args)
    .env(INNER, "1")
    .env(TAURI_DRIVER, find_tool("tauri-driver"))
    .env("HOME", &home)
    .env("XDG_RUNTIME_DIR", &home)
    .env_remove("DISPLAY")
    .env_remove("WAYLAND_DISPLAY")
    .env_remove("DBUS_SESSION_BUS_ADDRESS")
    .env_remove("GNOME_KEYRING_CONTROL");
    (cmd, home_dir)
}

/// Runs `cmd` with its output captured; past `limit` its whole process tree is stopped (a
/// hung WebDriver call must fail the test, not the CI job). Returns success and the output.
fn run_with_watchdog(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbus-run-session runs (scripts/bootstrap.sh test installs it)");
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|s| Box::new(s) as _));
    let err = read(child.stderr.take().map(|s| Box::new(s) as _));
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() > deadline {
            timed_out = true;
            crate::procs::stop_all(&crate::procs::tree(child.id()), Duration::from_secs(5));
            break child.wait().ok();
        }
        // The watchdog's own pace, not synchronisation: nothing waits on it.
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut text = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    if timed_out {
        text.push_str(&format!("\n(stopped by the watchdog after {limit:?})"));
    }
    (!timed_out && status.is_some_and(|s| s.success()), text)
}

/// A tool from `PATH`, or from `~/.cargo/bin` where `cargo install` puts it.
fn find_tool(name: &str) -> PathBuf {
    let from_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_bin = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin").join(name));
    from_path
        .into_iter()
        .chain(cargo_bin)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}
