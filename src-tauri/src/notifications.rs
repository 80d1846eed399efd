//! Native notifications: the core decides what deserves one; this shows it with `notify-rust`
//! and, when the user activates it, reveals the window and tells the UI where to go.

use std::path::PathBuf;

use confab_core::Core;
use confab_model::ipc::EVENT;
use confab_model::ipc::{Notification, UiEvent};
use tauri::{AppHandle, Emitter};

use crate::window;

/// Escapes the few characters notification daemons read as markup, so text stays text.
pub fn plain(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shows every notification the core decides on, until the core stops.
pub fn spawn(app: AppHandle, core: &Core, icon: Option<PathBuf>) {
    let Some(mut decided) = core.take_notifications() else {
        return;
    };
    tauri::async_runtime::spawn(async move {
        while let Some(n) = decided.recv().await {
            let (app, icon) = (app.clone(), icon.clone());
            // Waiting for the user's action blocks: one short-lived thread per notification.
            std::thread::spawn(move || show(&app, n, icon));
        }
    });
}

fn show(app: &AppHandle, n: Notification, icon: Option<PathBuf>) {
    let mut native = notify_rust::Notification::new();
    native
        .appname("Confab")
        .summary(&n.title)
        .body(&plain(&n.body))
        .action("default", "Open")
        .hint(notify_rust::Hint::Category("im.received".into()));
    if let Some(icon) = icon.as_ref().and_then(|p| p.to_str()) {
        native.icon(icon);
    }
    match native.show() {
        #[cfg(all(unix, not(target_os = "macos")))]
        Ok(handle) => handle.wait_for_action(|action| {
            if action == "default" || action == "Open" {
                window::reveal(app);
                let _ = app.emit(EVENT, UiEvent::Navigate(n.target.clone()));
            }
        }),
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not show a notification"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_message_is_shown_as_text() {
        assert_eq!(
            plain("<img src=x onerror=alert(1)> & co"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; co"
        );
    }
}
