//! gnome-keyring's login collection driven over D-Bus the way the desktop drives it: a screen
//! lock locks it, the unlock dialog unlocks it with the password, and closing that dialog
//! dismisses the pending prompt. For tests that run the real Secret Service on a private
//! session bus (`gnome-keyring-daemon --unlock` started with a known password).

use std::time::Duration;

use anyhow::{bail, ensure, Result};
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

/// The collection `gnome-keyring-daemon --unlock` creates (the keyring crate's default).
const LOGIN: &str = "/org/freedesktop/secrets/collection/login";

/// The Secret Service's root object with `interface`.
async fn secret_service(
    bus: &zbus::Connection,
    interface: &'static str,
) -> zbus::Result<zbus::Proxy<'static>> {
    zbus::Proxy::new(
        bus,
        "org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        interface,
    )
    .await
}

/// Locks the login collection, as a screen lock (or a session without auto-unlock) leaves it.
///
/// # Errors
/// No Secret Service on the bus, or it did not lock the collection.
pub async fn lock(bus: &zbus::Connection) -> Result<()> {
    let service = secret_service(bus, "org.freedesktop.Secret.Service").await?;
    let (locked, _prompt): (Vec<OwnedObjectPath>, OwnedObjectPath) = service
        .call("Lock", &(vec![ObjectPath::try_from(LOGIN)?],))
        .await?;
    ensure!(
        locked.len() == 1,
        "the login collection was not locked: {locked:?}"
    );
    Ok(())
}

/// Unlocks the login collection with `password`, as typing it into the unlock dialog does
/// (gnome-keyring's own interface for that; the secret travels in a plain session, which is
/// bound to this connection).
///
/// # Errors
/// No Secret Service on the bus, or it refused the password.
pub async fn unlock(bus: &zbus::Connection, password: &str) -> Result<()> {
    let service = secret_service(bus, "org.freedesktop.Secret.Service").await?;
    let (_, session): (OwnedValue, OwnedObjectPath) = service
        .call("OpenSession", &("plain", Value::from("")))
        .await?;
    let secret = (
        session,
        Vec::<u8>::new(),
        password.as_bytes().to_vec(),
        "text/plain",
    );
    secret_service(
        bus,
        "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
    )
    .await?
    .call::<_, _, ()>(
        "UnlockWithMasterPassword",
        &(ObjectPath::try_from(LOGIN)?, secret),
    )
    .await?;
    Ok(())
}

/// Waits (up to `within`) for gnome-keyring's unlock dialog (gcr-prompter, on the session
/// bus as `org.gnome.keyring.SystemPrompter`) and closes it. gnome-keyring then completes its
/// prompt as dismissed, as when the user presses Cancel. (The Secret Service's own `Dismiss`
/// is only for the caller that asked.)
///
/// # Errors
/// No dialog appeared in time, or it could not be stopped.
pub async fn cancel_unlock_dialog(bus: &zbus::Connection, within: Duration) -> Result<()> {
    use futures_util::StreamExt;
    const PROMPTER: &str = "org.gnome.keyring.SystemPrompter";
    let dbus = zbus::fdo::DBusProxy::new(bus).await?;
    // Subscribed before asking, so an owner that arrives in between is not missed.
    let mut owners = dbus
        .receive_name_owner_changed_with_args(&[(0, PROMPTER)])
        .await?;
    let name = zbus::names::BusName::try_from(PROMPTER)?;
    if !dbus.name_has_owner(name.clone()).await? {
        let appeared = async {
            while let Some(change) = owners.next().await {
                if change.args().is_ok_and(|a| a.new_owner().is_some()) {
                    return true;
                }
            }
            false
        };
        if !tokio::time::timeout(within, appeared)
            .await
            .unwrap_or(false)
        {
            bail!("no unlock dialog appeared within {within:?}");
        }
    }
    let pid = dbus.get_connection_unix_process_id(name).await?;
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    ensure!(
        stopped.success(),
        "could not stop the unlock dialog (pid {pid})"
    );
    Ok(())
}
