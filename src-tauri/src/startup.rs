//! Start-up timing and the start-up work that can wait: the time since the process started
//! (logged at each step for the cold-start benchmark), and the tray and theme following, done
//! once after the first paint.

use std::path::PathBuf;
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use confab_core::Core;
use confab_model::ipc::commands::FirstPaint;
use confab_model::ipc::PageMarks;
use tauri::{AppHandle, Manager};

use crate::{tray, window};

/// When the process started (as far as this code can tell: the first line of `crate::run`).
static STARTED: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the process (idempotent).
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Time since [`mark_start`].
pub fn since_start() -> Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

/// How long start-up work may wait for the first paint before it runs anyway.
const DEFER_AT_MOST: Duration = Duration::from_secs(2);

/// Start-up work that the first screen does not need, done once after it is painted.
struct Deferred {
    once: Once,
    data_dir: PathBuf,
}

/// Arms the deferred work: after the first paint, or after [`DEFER_AT_MOST`] if the page never
/// reports one (the window is then shown too, unless Confab was started `hidden` at login).
pub fn defer(app: &AppHandle, data_dir: PathBuf, hidden: bool) {
    app.manage(Deferred {
        once: Once::new(),
        data_dir,
    });
    let fallback = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(DEFER_AT_MOST).await;
        if !hidden {
            window::show_main_window(&fallback);
        }
        after_first_paint(&fallback);
    });
}

/// Started at login: the first screen is ready but nothing is painted on screen (a hidden page
/// may never report a paint), so the tray and the rest come now.
pub fn ready_hidden(app: &AppHandle) {
    after_first_paint(app);
}

/// The window painted its first screen (`screen`: "main" with the cached sidebar, or
/// "sign-in"; `marks`: when the page got there, step by step): logged with the time since the
/// process started, which the cold-start benchmark reads; then the deferred work runs.
pub fn first_paint(app: &AppHandle, paint: &FirstPaint) {
    let since_start_ms = since_start().as_millis();
    let FirstPaint {
        screen,
        conversations,
        marks,
    } = paint;
    let PageMarks {
        wasm_ms,
        content_ms,
        shown_ms,
        page_ms,
    } = marks;
    tracing::info!(target: "confab::startup", %screen, conversations, wasm_ms, content_ms, shown_ms, page_ms, since_start_ms, "first paint");
    if let Some(core) = app.try_state::<Core>() {
        core.window_painted();
    }
    after_first_paint(app);
}

/// Builds the tray and starts following the desktop theme: after the first paint, because the
/// tray's D-Bus traffic (appindicator) and the portal's activation competed with the web
/// process for the first second of a cold start.
fn after_first_paint(app: &AppHandle) {
    let Some(deferred) = app.try_state::<Deferred>() else {
        return;
    };
    deferred.once.call_once(|| {
        let Some(core) = app.try_state::<Core>() else {
            return;
        };
        let (muted, handle) = (core.muted(), app.clone());
        let _ = app.run_on_main_thread(move || {
            if let Err(e) = tray::build(&handle, muted) {
                tracing::warn!(error = %e, "no tray icon");
            }
        });
        #[cfg(target_os = "linux")]
        crate::theme::follow(app.clone(), deferred.data_dir.clone());
        #[cfg(not(target_os = "linux"))]
        let _ = &deferred.data_dir;
    });
}
