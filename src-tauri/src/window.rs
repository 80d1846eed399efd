//! The main window: shown once the page has its first screen, hidden to the tray on close,
//! revealed by the tray, a notification or a second launch; its focus goes to the core's
//! notification policy.

use std::sync::atomic::{AtomicBool, Ordering};

use confab_core::Core;
use tauri::{AppHandle, Manager, Window, WindowEvent};

use crate::focus::FocusTracker;

/// Shows the main window, created hidden (`tauri.conf.json`), once: when the page has rendered
/// its first screen (the `screen_ready` command), or after `startup::DEFER_AT_MOST` if it
/// never does.
///
/// Why not at once: WebKitGTK's first draw of a visible web view waits on the main thread, up
/// to 500 ms, for the web process's first backing store — while the web process, still
/// initialising or loading the page, waits on a synchronous message to that same main thread.
/// Half of all cold starts lost exactly those 500 ms (seen with `perf sched`: both main threads
/// asleep, the draw in `gtk_container_propagate_draw`). With the page rendered first, the web
/// process answers the first draw in milliseconds. Later calls do nothing, so a window hidden
/// to the tray stays hidden.
pub fn show_main_window(app: &AppHandle) {
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
pub struct Shown(AtomicBool);

/// Close hides to the tray (Quit in the tray menu really quits); focus changes are reported.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    match event {
        WindowEvent::CloseRequested { api, .. } => {
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

/// Tells the core's notification policy how the window looks.
pub fn report_focus(app: &AppHandle, visible: bool, focused: bool) {
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

/// Whether the webview may navigate to `url`: only within the app itself (its bundled pages,
/// served as `tauri://localhost`, or `http(s)://tauri.localhost` on Windows; the dev server in
/// debug builds). A link opened any other way (a context menu's "Open Link", a dropped link) is
/// refused: links go to the system browser through the opener, never replace the app.
pub fn stays_in_app(url: &tauri::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => true,
        ("http", Some("127.0.0.1")) if cfg!(debug_assertions) => url.port() == Some(1420),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::stays_in_app;

    fn allowed(url: &str) -> bool {
        stays_in_app(&tauri::Url::parse(url).expect("a URL"))
    }

    #[test]
    fn the_webview_stays_on_the_apps_own_pages() {
        assert!(allowed("tauri://localhost/index.html"));
        assert!(allowed("https://tauri.localhost/"));
        assert!(!allowed("https://example.com/"));
        assert!(!allowed("https://tauri.localhost.evil.example/"));
        assert!(!allowed("file:///etc/passwd"));
        assert!(!allowed("javascript:alert(1)"));
        assert!(!allowed("mailto:ada@example.com"));
        assert!(!allowed("http://127.0.0.1:8080/"));
    }
}
