//! The Confab desktop app: a thin Tauri 2 shell over `confab-core`.
//!
//! What it does: starts the core (data in the platform data directory, or `CONFAB_DATA_DIR`;
//! the token in the OS keyring under the service "confab"), exposes one command per core
//! method ([`commands`]), forwards the core's `UiEvent` stream to the window as one event
//! ([`events`]), shows the core's notification decisions natively ([`notifications`]), keeps a
//! tray icon with the pending and unread counts ([`tray`]), hides to the tray on close, keeps a
//! single instance, remembers the window's size and position, and reports the window's focus to
//! the core's notification policy ([`focus`]).
//!
//! What it never does: business logic, storage or network — that is the core's job; HTML from
//! strings — the UI renders text as text.

pub mod commands;
pub mod events;
pub mod focus;
pub mod launch;
pub mod notifications;
#[cfg(target_os = "linux")]
pub mod theme;
pub mod tray;
pub mod wake;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use confab_core::{Core, CoreConfig};
use tauri::{AppHandle, Manager, Window, WindowEvent};
use tauri_plugin_window_state::StateFlags;

use crate::focus::FocusTracker;
use crate::launch::Launch;

/// The keyring service the token is stored under.
pub const KEYRING_SERVICE: &str = "confab";

/// When the process started (as far as this code can tell: the first line of [`run`]).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Time since [`run`] began.
pub fn since_start() -> std::time::Duration {
    STARTED.get_or_init(std::time::Instant::now).elapsed()
}

/// Runs the app until Quit.
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    #[cfg(target_os = "linux")]
    software_rendering_without_gpu(std::path::Path::new("/dev/dri"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let launch = Launch::from_env(|k| std::env::var(k).ok());
    let result = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            reveal(app)
        }))
        // Size, position, maximized — not visibility: `show_main_window` shows it.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
                .build(),
        )
        .manage(FocusTracker::new())
        .manage(Shown::default())
        .manage(launch.clone())
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::last_server_url,
            commands::sign_in,
            commands::sign_out,
            commands::conversations,
            commands::messages,
            commands::send_message,
            commands::retry_message,
            commands::discard_message,
            commands::requests,
            commands::respond,
            commands::ask,
            commands::teammates,
            commands::mark_seen,
            commands::typing,
            commands::draft,
            commands::set_draft,
            commands::search,
            commands::setting,
            commands::set_setting,
            commands::set_open_conversation,
            commands::set_muted,
            commands::muted,
            commands::check_now,
            commands::connection_status,
            commands::session_notice,
            commands::screen_ready,
            commands::first_paint,
        ])
        .setup(move |app| setup(app, &launch))
        .on_window_event(on_window_event)
        .run(tauri::generate_context!("tauri.conf.json"));
    if let Err(e) = result {
        tracing::error!(error = %e, "Confab stopped with an error");
        std::process::exit(1);
    }
}

fn setup(app: &mut tauri::App, launch: &Launch) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(target: "confab::startup", since_start_ms = since_start().as_millis(), "setup");
    let data_dir = match &launch.data_dir {
        Some(dir) => dir.clone(),
        None => app.path().app_data_dir()?,
    };
    let config = CoreConfig {
        data_dir: data_dir.clone(),
        keyring_service: KEYRING_SERVICE.into(),
    };
    let core = tauri::async_runtime::block_on(Core::start(config))?;
    tracing::info!(target: "confab::startup", since_start_ms = since_start().as_millis(), "core ready");
    app.manage(core.clone());
    let handle = app.handle().clone();
    #[cfg(target_os = "linux")]
    theme::apply_cached(&handle, &data_dir);
    app.manage(Deferred {
        once: std::sync::Once::new(),
        data_dir: data_dir.clone(),
    });
    // If the page never reports its first paint, the deferred work still happens.
    let fallback = handle.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(DEFER_AT_MOST).await;
        show_main_window(&fallback);
        after_first_paint(&fallback);
    });
    events::forward(handle.clone(), core.clone());
    notifications::spawn(handle, &core, notification_icon(&data_dir));
    wake::watch(core.clone());
    core.set_focus(app.state::<FocusTracker>().window(true, false));
    Ok(())
}

/// Shows the main window, created hidden (`tauri.conf.json`), once: when the page has rendered
/// its first screen (the `screen_ready` command), or after [`DEFER_AT_MOST`] if it never does.
///
/// Why not at once: WebKitGTK's first draw of a visible web view waits on the main thread, up
/// to 500 ms, for the web process's first backing store — while the web process, still
/// initialising or loading the page, waits on a synchronous message to that same main thread.
/// Half of all cold starts lost exactly those 500 ms (seen with `perf sched`: both main threads
/// asleep, the draw in `gtk_container_propagate_draw`). With the page rendered first, the web
/// process answers the first draw in milliseconds. Later calls do nothing, so a window hidden
/// to the tray stays hidden.
pub(crate) fn show_main_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        if !w.is_visible().unwrap_or(true) && !app.state::<Shown>().0.swap(true, Ordering::SeqCst) {
            let _ = w.show();
            let _ = w.set_focus();
        }
    }
}

/// Whether the start-up showing of the window has happened (hiding to the tray later must not
/// be undone by a reload).
#[derive(Default)]
struct Shown(AtomicBool);

/// How long start-up work may wait for the first paint before it runs anyway.
const DEFER_AT_MOST: std::time::Duration = std::time::Duration::from_secs(2);

/// Start-up work that the first screen does not need, done once after it is painted.
struct Deferred {
    once: std::sync::Once,
    data_dir: PathBuf,
}

/// Builds the tray and starts following the desktop theme: after the first paint, because the
/// tray's D-Bus traffic (appindicator) and the portal's activation competed with the web
/// process for the first second of a cold start.
pub(crate) fn after_first_paint(app: &AppHandle) {
    let Some(deferred) = app.try_state::<Deferred>() else {
        return;
    };
    deferred.once.call_once(|| {
        let (Some(core), handle) = (app.try_state::<Core>(), app.clone()) else {
            return;
        };
        let (core, muted) = (core.inner().clone(), core.muted());
        let _ = app.run_on_main_thread(move || {
            if let Err(e) = tray::build(&handle, muted) {
                tracing::warn!(error = %e, "no tray icon");
            }
            tauri::async_runtime::spawn(async move { tray::refresh(&handle, &core).await });
        });
        #[cfg(target_os = "linux")]
        theme::follow(app.clone(), deferred.data_dir.clone());
    });
}

/// WebKitGTK composites the page through OpenGL. Without a GPU (no DRM render node: VMs,
/// remote X, Xvfb) that GL is Mesa's llvmpipe on the CPU, where a blinking caret alone kept a
/// core 30% busy and the GL buffers cost ~80 MB; WebKit's non-composited path is far cheaper
/// there. A value the user set wins. Called first thing, before any thread exists.
#[cfg(target_os = "linux")]
fn software_rendering_without_gpu(dri: &Path) {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_none() && !has_render_node(dri) {
        std::env::set_var(VAR, "1");
    }
}

/// Whether `dri` (normally `/dev/dri`) has a GPU render node.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// The app icon as a file, for notification daemons that want a path.
fn notification_icon(data_dir: &Path) -> Option<PathBuf> {
    let path = data_dir.join("confab-icon.png");
    if !path.exists() {
        std::fs::create_dir_all(data_dir).ok()?;
        std::fs::write(&path, include_bytes!("../../icons/128x128.png")).ok()?;
    }
    Some(path)
}

fn on_window_event(window: &Window, event: &WindowEvent) {
    match event {
        WindowEvent::CloseRequested { api, .. } => {
            // Close hides to the tray; Quit (tray menu) really quits.
            api.prevent_close();
            let _ = window.hide();
            report_focus(window.app_handle(), false, false);
        }
        WindowEvent::Focused(focused) => {
            let visible = window.is_visible().unwrap_or(true);
            report_focus(window.app_handle(), visible, *focused);
        }
        _ => {}
    }
}

fn report_focus(app: &AppHandle, visible: bool, focused: bool) {
    if let Some(core) = app.try_state::<Core>() {
        core.set_focus(app.state::<FocusTracker>().window(visible, focused));
    }
}

/// Shows, un-minimizes and focuses the main window (tray, notification, second launch).
pub fn reveal(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
    report_focus(app, true, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_means_a_gpu_and_no_directory_means_none() {
        let dir = std::env::temp_dir().join(format!("confab-dri-{}", std::process::id()));
        assert!(!has_render_node(&dir));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("card0"), b"").expect("file");
        assert!(!has_render_node(&dir));
        std::fs::write(dir.join("renderD128"), b"").expect("file");
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// The names of the string literals that follow each `marker` in `text`.
    fn names_after(text: &str, marker: &str) -> Vec<String> {
        text.split(marker)
            .skip(1)
            .filter_map(|rest| rest.split('"').nth(1))
            .map(str::to_owned)
            .collect()
    }

    /// A command the UI calls but the window is not granted fails at run time, and the UI
    /// turns that into silence (a missing notice, an empty list); so the three lists are held
    /// together here: what the UI invokes, what the shell registers and builds permissions
    /// for, and what the main window's capability grants.
    #[test]
    fn every_command_the_ui_invokes_is_registered_and_granted_to_the_window() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
        let build = read("build.rs");
        let listed = &build[build.find("const COMMANDS").expect("COMMANDS")..];
        let listed: Vec<&str> = listed.split('"').skip(1).step_by(2).collect();
        let lib = read("src/lib.rs");
        let handler = &lib[lib.find("generate_handler![").expect("handler")..];
        let handler = &handler[..handler.find(']').expect("end of handler")];
        let registered: Vec<&str> = handler
            .split("commands::")
            .skip(1)
            .map(|n| n.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_'))
            .collect();
        let granted = read("capabilities/main-window.json");
        let invoked = names_after(&read("../src-ui/src/api.rs"), "invoke(");
        assert!(invoked.len() > 20, "the UI's calls were found: {invoked:?}");
        for name in &invoked {
            assert!(
                listed.contains(&name.as_str()),
                "{name} is in build.rs COMMANDS"
            );
            assert!(
                registered.contains(&name.as_str()),
                "{name} is in generate_handler!"
            );
            let grant = format!("\"allow-{}\"", name.replace('_', "-"));
            assert!(
                granted.contains(&grant),
                "{grant} is in the main window's capability"
            );
        }
    }
}
