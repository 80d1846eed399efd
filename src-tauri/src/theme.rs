//! Light or dark, as the desktop says. The XDG settings portal's
//! `org.freedesktop.appearance color-scheme` is read off the main thread once the first screen
//! is painted, and followed while the app runs (`SettingChanged`). The last answer is kept in
//! the data directory and applied before the page loads, so a dark desktop sees no light flash.
//!
//! What it never does: block window creation on D-Bus. Tauri's own `dbus` feature reads the
//! portal synchronously while creating the window; with a portal that is still starting (the
//! first app of a session) that cost 0.3–0.45 s of every cold start, so the feature is off.
//! Without a portal answer the window follows the GTK theme, as before.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use tauri::{AppHandle, Manager, Theme};
use zbus::zvariant::{OwnedValue, Value};

const FILE: &str = "theme";
const NAMESPACE: &str = "org.freedesktop.appearance";
const KEY: &str = "color-scheme";

/// What the portal's `color-scheme` number means: 1 prefers dark, 2 prefers light, anything
/// else has no preference (then the GTK theme decides).
pub fn from_color_scheme(value: u32) -> Option<Theme> {
    match value {
        1 => Some(Theme::Dark),
        2 => Some(Theme::Light),
        _ => None,
    }
}

/// The preference remembered from the last run.
pub fn cached(data_dir: &Path) -> Option<Theme> {
    match std::fs::read_to_string(data_dir.join(FILE)).ok()?.trim() {
        "dark" => Some(Theme::Dark),
        "light" => Some(Theme::Light),
        _ => None,
    }
}

/// Remembers the preference for the next start (best effort: a lost file only costs a flash).
pub fn remember(data_dir: &Path, theme: Option<Theme>) {
    let text = match theme {
        Some(Theme::Dark) => "dark",
        Some(Theme::Light) => "light",
        _ => "system",
    };
    let _ = std::fs::create_dir_all(data_dir);
    let _ = std::fs::write(data_dir.join(FILE), text);
}

/// Applies the remembered preference to the main window (called before the page loads).
pub fn apply_cached(app: &AppHandle, data_dir: &Path) {
    if let (Some(theme), Some(window)) = (cached(data_dir), app.get_webview_window("main")) {
        let _ = window.set_theme(Some(theme));
    }
}

/// Reads the portal and follows its changes until the app quits; quiet when there is no portal.
pub fn follow(app: AppHandle, data_dir: PathBuf) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = watch(&app, &data_dir).await {
            tracing::debug!(error = %e, "no settings portal: the window follows the GTK theme");
        }
    });
}

async fn watch(app: &AppHandle, data_dir: &Path) -> zbus::Result<()> {
    let conn = zbus::Connection::session().await?;
    let proxy = zbus::Proxy::new(
        &conn,
        "org.freedesktop.portal.Desktop",
        "/org/freedesktop/portal/desktop",
        "org.freedesktop.portal.Settings",
    )
    .await?;
    // Subscribed before reading, so a change in between is not missed.
    let mut changes = proxy.receive_signal("SettingChanged").await?;
    let value: OwnedValue = match proxy.call("ReadOne", &(NAMESPACE, KEY)).await {
        Ok(v) => v,
        // Portals before version 2 only have the deprecated `Read` (a variant in a variant).
        Err(_) => proxy.call("Read", &(NAMESPACE, KEY)).await?,
    };
    let mut current = cached(data_dir);
    if let Some(n) = color_scheme(&value) {
        set(app, data_dir, &mut current, from_color_scheme(n));
    }
    while let Some(msg) = changes.next().await {
        let body = msg.body();
        let Ok((ns, key, value)) = body.deserialize::<(String, String, Value<'_>)>() else {
            continue;
        };
        if ns == NAMESPACE && key == KEY {
            if let Some(n) = color_scheme(&value) {
                set(app, data_dir, &mut current, from_color_scheme(n));
            }
        }
    }
    Ok(())
}

fn set(app: &AppHandle, data_dir: &Path, current: &mut Option<Theme>, theme: Option<Theme>) {
    if *current == theme {
        return;
    }
    *current = theme;
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_theme(theme);
    }
    remember(data_dir, theme);
}

/// The number inside however many variants the portal wrapped it in.
fn color_scheme(v: &Value<'_>) -> Option<u32> {
    match v {
        Value::U32(n) => Some(*n),
        Value::Value(inner) => color_scheme(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_numbers_mean_dark_light_and_no_preference() {
        assert_eq!(from_color_scheme(1), Some(Theme::Dark));
        assert_eq!(from_color_scheme(2), Some(Theme::Light));
        assert_eq!(from_color_scheme(0), None);
        assert_eq!(from_color_scheme(7), None);
    }

    #[test]
    fn the_number_is_found_inside_nested_variants() {
        let nested = Value::Value(Box::new(Value::Value(Box::new(Value::U32(1)))));
        assert_eq!(color_scheme(&nested), Some(1));
        assert_eq!(color_scheme(&Value::U32(2)), Some(2));
        assert_eq!(color_scheme(&Value::Str("dark".into())), None);
    }

    #[test]
    fn the_remembered_preference_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(cached(dir.path()), None, "nothing remembered yet");
        remember(dir.path(), Some(Theme::Dark));
        assert_eq!(cached(dir.path()), Some(Theme::Dark));
        remember(dir.path(), None);
        assert_eq!(cached(dir.path()), None, "no preference: follow GTK");
    }
}
