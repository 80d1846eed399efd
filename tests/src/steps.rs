//! Steps several end-to-end tests share: signing the window in, a teammate's own headless core
//! (the other side of a conversation), a user's bare realtime connection, awaiting a core event,
//! polling a condition under a deadline.
//!
//! What it never does: sleep to synchronise. Polling checks a condition every 50 ms and fails
//! at its deadline; events are awaited under [`WAIT`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use confab_core::session::{MemoryTokens, TokenStore};
use confab_core::{Core, CoreConfig};
use confab_model::ipc::{SignInRequest, UiEvent};
use pusher_channels::auth::HttpAuthorizer;
use pusher_channels::client::{Client, Events};
use pusher_channels::proto::{Config, Endpoint};
use tokio::sync::broadcast;

use crate::{AppWindow, Backend, WAIT};

/// Signs the window in as `email` from the sign-in screen and waits for the main window.
///
/// # Errors
/// The form did not show, or the main window did not follow.
pub async fn sign_in(
    app: &mut AppWindow,
    backend: &Backend,
    email: &str,
    password: &str,
) -> Result<()> {
    app.wait_for("#sign-in-form").await?;
    let server = app.wait_for("#server-url").await?.prop("value").await?;
    ensure!(
        server.as_deref() == Some(backend.url().as_str()),
        "the server address is pre-filled from CONFAB_SERVER_URL: {server:?}"
    );
    app.type_into("#email", email).await?;
    app.type_into("#password", password).await?;
    app.click("#sign-in").await?;
    app.wait_for(".sidebar").await?;
    Ok(())
}

/// A teammate's own app core on its own cache in `dir`, signed in (token in memory): what their
/// window would show arrives on the returned events.
///
/// # Errors
/// The core did not start or the sign-in failed.
pub async fn teammate_core(
    backend: &Backend,
    email: &str,
    password: &str,
    dir: &Path,
) -> Result<(Core, broadcast::Receiver<UiEvent>)> {
    let core = Core::start_with(
        CoreConfig {
            data_dir: dir.to_owned(),
            keyring_service: "confab-e2e".into(),
            connect_after_paint: false,
        },
        Arc::new(MemoryTokens::default()) as Arc<dyn TokenStore>,
    )
    .await?;
    let events = core.subscribe_events();
    core.sign_in(SignInRequest {
        server_url: backend.url(),
        email: email.to_owned(),
        password: password.to_owned(),
        session_only: true,
    })
    .await?;
    Ok((core, events))
}

/// The next event matching `pred`, within [`WAIT`].
///
/// # Errors
/// None came in time, or the stream closed.
pub async fn next_event(
    events: &mut broadcast::Receiver<UiEvent>,
    what: &str,
    mut pred: impl FnMut(&UiEvent) -> bool,
) -> Result<UiEvent> {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(e) if pred(&e) => return Ok(e),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => bail!("events closed"),
            }
        }
    })
    .await
    .with_context(|| format!("waiting for {what}"))?
}

/// Waits until `f` returns `Some`, checking every 50 ms, for at most `within`.
///
/// # Errors
/// `f` failed, or the deadline passed.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A realtime connection of demo user `who` (the same Pusher client the app's core uses),
/// authorized by the backend with their own token, subscribed to nothing yet.
///
/// # Errors
/// The login or `/api/config` failed, or the settings name no self-hosted server.
pub async fn realtime_client_of(backend: &Backend, who: usize) -> Result<(Client, Events)> {
    let api = backend.api(who).await?;
    let cfg = api.config().await?.pusher;
    let endpoint = Endpoint::Host {
        host: cfg.host.clone().context("self-hosted Sockudo has a host")?,
        port: cfg.port.context("and a port")?,
        tls: cfg.use_tls,
    };
    let token = api.token().unwrap_or_default().to_owned();
    let authorizer = HttpAuthorizer::new(api.pusher_auth_url()).headers(Arc::new(move || {
        vec![("Authorization".into(), format!("Bearer {token}"))]
    }));
    Ok(Client::start(Config::new(cfg.key, endpoint), authorizer))
}
