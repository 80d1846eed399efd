//! The tray icon: its tooltip and first menu line say how many requests wait and how many
//! messages are unread (the counts folded from the core's event stream, never queried); the
//! menu opens the window, mutes notifications, or quits.

use std::sync::Mutex;

use confab_core::{BadgeCounts, Core};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::window;

const TRAY_ID: &str = "confab";
const ICON: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_ALERT: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// The menu items that change after start.
struct TrayItems {
    status: MenuItem<Wry>,
    mute: CheckMenuItem<Wry>,
    login: CheckMenuItem<Wry>,
}

/// The counts last shown (managed from start: the tray itself is built after the first paint
/// and starts from them).
#[derive(Default)]
pub struct Shown(Mutex<BadgeCounts>);

/// The tooltip and status line: "2 requests waiting · 1 new answer · 1 mention · 5 unread
/// messages", or "All caught up".
pub fn summary(counts: &BadgeCounts) -> String {
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let mut parts = Vec::new();
    if counts.pending_requests > 0 {
        let n = count(counts.pending_requests);
        parts.push(plural(n, "request waiting", "requests waiting"));
    }
    if counts.new_answers > 0 {
        parts.push(plural(
            count(counts.new_answers),
            "new answer",
            "new answers",
        ));
    }
    if counts.mentions > 0 {
        parts.push(plural(counts.mentions, "mention", "mentions"));
    }
    if counts.unread_messages > 0 {
        parts.push(plural(
            counts.unread_messages,
            "unread message",
            "unread messages",
        ));
    }
    if parts.is_empty() {
        "All caught up".into()
    } else {
        parts.join(" · ")
    }
}

/// Creates the tray icon and its menu.
///
/// # Errors
/// The platform refused the tray or menu.
pub fn build(app: &AppHandle, muted: bool) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "All caught up", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Confab", true, None::<&str>)?;
    let mute =
        CheckMenuItem::with_id(app, "mute", "Mute notifications", true, muted, None::<&str>)?;
    let at_login = {
        use tauri_plugin_autostart::ManagerExt;
        app.autolaunch().is_enabled().unwrap_or(false)
    };
    let login =
        CheckMenuItem::with_id(app, "login", "Start at login", true, at_login, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Confab", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let separator2 = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &separator,
            &open,
            &mute,
            &login,
            &separator2,
            &quit,
        ],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON)?)
        .tooltip("Confab")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => window::reveal(app),
            "mute" => toggle_mute(app),
            "login" => toggle_login(app),
            "quit" => quit_cleanly(app),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::reveal(tray.app_handle());
            }
        })
        .build(app)?;
    app.manage(TrayItems {
        status,
        mute,
        login,
    });
    let counts = app
        .try_state::<Shown>()
        .map(|s| *s.0.lock().unwrap_or_else(|e| e.into_inner()))
        .unwrap_or_default();
    show(app, counts);
    Ok(())
}

/// The "Start at login" item was toggled (it has checked itself): the login entry follows, and
/// the item shows what is really there if that failed.
fn toggle_login(app: &AppHandle) {
    use tauri_plugin_autostart::ManagerExt;
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    let wanted = items.login.is_checked().unwrap_or(false);
    let launcher = app.autolaunch();
    let done = if wanted {
        launcher.enable()
    } else {
        launcher.disable()
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "start at login");
        let _ = items
            .login
            .set_checked(launcher.is_enabled().unwrap_or(false));
    }
}

fn toggle_mute(app: &AppHandle) {
    let (Some(items), Some(core)) = (app.try_state::<TrayItems>(), app.try_state::<Core>()) else {
        return;
    };
    // The check item has already toggled itself.
    core.set_muted(items.mute.is_checked().unwrap_or(false));
}

/// Shows `counts` in the tooltip, status line and icon (and keeps them for a tray built later).
pub fn show(app: &AppHandle, counts: BadgeCounts) {
    if let Some(shown) = app.try_state::<Shown>() {
        *shown.0.lock().unwrap_or_else(|e| e.into_inner()) = counts;
    }
    let text = summary(&counts);
    let attention = counts != BadgeCounts::default();
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(format!("Confab — {text}")));
        if let Ok(icon) = Image::from_bytes(if attention { ICON_ALERT } else { ICON }) {
            let _ = tray.set_icon(Some(icon));
        }
    }
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.status.set_text(&text);
    }
}

/// Quit: let the core stop syncing and sending first (nothing half-applied, nothing notified
/// by a dying engine), then end the process.
fn quit_cleanly(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(core) = app.try_state::<Core>() {
            core.close().await;
        }
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_requests_and_unread_messages() {
        let c = |pending_requests, new_answers, mentions, unread_messages| BadgeCounts {
            pending_requests,
            unread_messages,
            mentions,
            new_answers,
        };
        assert_eq!(summary(&c(0, 0, 0, 0)), "All caught up");
        assert_eq!(summary(&c(1, 0, 0, 0)), "1 request waiting");
        assert_eq!(
            summary(&c(2, 0, 0, 1)),
            "2 requests waiting · 1 unread message"
        );
        assert_eq!(summary(&c(0, 0, 0, 7)), "7 unread messages");
        assert_eq!(
            summary(&c(0, 2, 1, 3)),
            "2 new answers · 1 mention · 3 unread messages"
        );
    }
}
