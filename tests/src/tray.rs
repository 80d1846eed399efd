//! Reads the app's tray menu the way a desktop panel does: over D-Bus, from the
//! `com.canonical.dbusmenu` object that libayatana-appindicator exports for the tray icon.

use std::collections::HashMap;

use std::time::Duration;

use anyhow::{bail, Result};
use zbus::zvariant::OwnedValue;

/// Where the tray menu of the icon with id "confab" lives.
const MENU_PATH: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_confab/Menu";

type Item = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// The labels of the tray menu's items, top to bottom (separators have none).
///
/// # Errors
/// No `confab-desktop` process on the session bus exports the menu (the app is not running,
/// or its tray failed), or the menu is not what dbusmenu describes.
pub async fn menu_labels() -> Result<Vec<String>> {
    let bus = zbus::Connection::session().await?;
    let dbus = zbus::fdo::DBusProxy::new(&bus).await?;
    for name in dbus.list_names().await? {
        if !name.starts_with(':') {
            continue;
        }
        // Only the app's own connections: other peers (portals, WebKit) may never answer.
        let Ok(pid) = dbus.get_connection_unix_process_id(name.as_ref()).await else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != "confab-desktop" {
            continue;
        }
        let args = (0i32, -1i32, vec!["label"]);
        let call = bus.call_method(
            Some(name.as_str()),
            MENU_PATH,
            Some("com.canonical.dbusmenu"),
            "GetLayout",
            &args,
        );
        let Ok(Ok(reply)) = tokio::time::timeout(Duration::from_secs(2), call).await else {
            continue;
        };
        let (_revision, (_id, _props, children)): (u32, Item) = reply.body().deserialize()?;
        let mut labels = Vec::new();
        for child in children {
            let (_, props, _): Item = child.try_into()?;
            if let Some(label) = props.get("label") {
                labels.push(String::try_from(label.try_clone()?)?);
            }
        }
        return Ok(labels);
    }
    bail!("no tray menu at {MENU_PATH} on the session bus")
}
