//! Confab's desktop brain, without Tauri: sign-in with the token in the OS keyring, the local
//! SQLite cache (via `confab-store`), the realtime engine over `pusher-channels`, lossless
//! catch-up from the backend after every (re)connect, the persistent outbox, typing and
//! presence, the notification policy, and the UI feed: one stream of events that carry the
//! state that changed. The Tauri shell wires a [`Core`] to the window; the tests drive it
//! headless against a real backend and a real Sockudo.
//!
//! What it never does: store the token anywhere but the keyring (or, by explicit choice, in
//! memory for one run), log a secret, block the async runtime on SQLite, keep a restored
//! session's cache waiting on the keyring (its unlock prompt may wait on the user), lose a
//! message the user wrote, show one twice, or make a listener call back to re-read a list.
//!
//! The rule of the data: the backend's database is the truth, Pusher is a fast poke. Realtime
//! events are applied at once (idempotently); every connect, resubscription and wake triggers a
//! `GET /api/sync` from the cursor, page by page, one transaction per page.
//!
//! Where things are: the session's life in `lifecycle.rs`, the user's password and "sign out
//! everywhere" in [`account`], what the window calls in
//! `facade.rs`, the realtime engine in `engine.rs`, the outbox sender in `sender.rs`, the UI
//! feed in `feed/`, the REST client in [`rest`], the TLS policy (https except to this computer,
//! certificates checked by the operating system) in [`tls`].

pub mod account;
mod active;
mod badge;
pub mod batch_auth;
pub mod clock;
mod db;
mod engine;
mod error;
mod facade;
mod feed;
mod history;
pub mod history_plan;
mod lifecycle;
pub mod notify;
pub mod outbox;
mod reload;
pub mod rest;
mod search_upkeep;
mod sender;
pub mod session;
mod shared;
pub mod sync_plan;
mod team;
pub mod tls;
pub mod typing;
mod views;
pub mod wake;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex as StdMutex};

use confab_model::ipc::{Notification, UiEvent};
use tokio::sync::{broadcast, mpsc, Mutex};

pub use badge::{Badge, BadgeCounts};
pub use error::CoreError;
pub use feed::FRAME;
pub use rest::{Api, ApiError};

use active::Active;
use db::Db;
use feed::{Changes, Feed};
use session::{KeyringError, MemoryTokens, OsKeyring, TokenStore};
use shared::Shared;

/// Where the core keeps its files and secrets.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Data directory: caches and the (token-free) session file.
    pub data_dir: PathBuf,
    /// Keyring service name, e.g. "confab".
    pub keyring_service: String,
    /// A window is loading and will say when it has painted ([`Core::window_painted`]): the
    /// restored session's network work (the realtime connection, joining every room, the
    /// catch-up) waits for that, [`PAINT_WAIT`] at most, so it does not compete with the
    /// page's start for the CPU. Headless uses (tests, a window started hidden) pass `false`.
    pub connect_after_paint: bool,
}

/// How long the network waits at most for a starting window's first paint.
pub const PAINT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

struct Inner {
    config: CoreConfig,
    keyring: Arc<dyn TokenStore>,
    memory: Arc<MemoryTokens>,
    shared: Arc<Shared>,
    notifications: StdMutex<Option<mpsc::UnboundedReceiver<Notification>>>,
    active: Mutex<Option<Active>>,
    /// The open account's feed, reachable without awaiting `active` (a new listener asks it
    /// for every list from synchronous code).
    feed: StdMutex<Option<Feed>>,
    /// A keyring read for the restored session is under way (one prompt at a time).
    unlocking: AtomicBool,
    /// The runtime the core started on, for work started from synchronous calls.
    runtime: tokio::runtime::Handle,
}

impl Inner {
    fn set_feed(&self, feed: Option<Feed>) {
        if let Ok(mut f) = self.feed.lock() {
            *f = feed;
        }
    }
}

/// The handle the shell holds. Cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("data_dir", &self.inner.config.data_dir)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Starts with the OS keyring; restores the last session without a network round trip and
    /// without waiting for the keyring (the token follows; see [`Core::check_now`]).
    ///
    /// # Errors
    /// The data directory cannot be created.
    pub async fn start(config: CoreConfig) -> Result<Core, CoreError> {
        let keyring = Arc::new(OsKeyring::new(config.keyring_service.clone()));
        Self::start_with(config, keyring).await
    }

    /// Starts with a given token store (tests use a Secret Service on a private bus, or an
    /// in-memory store).
    ///
    /// # Errors
    /// The data directory cannot be created.
    pub async fn start_with(
        config: CoreConfig,
        keyring: Arc<dyn TokenStore>,
    ) -> Result<Core, CoreError> {
        // Private (0700 on Unix): it holds every cached message and the session file.
        confab_store::private_dir(&config.data_dir)
            .map_err(|e| CoreError::Internal(format!("cannot create the data directory: {e}")))?;
        let (events, _) = broadcast::channel(4096);
        let (ntx, nrx) = mpsc::unbounded_channel();
        let window_starting = config.connect_after_paint;
        let core = Core {
            inner: Arc::new(Inner {
                config,
                keyring,
                memory: Arc::new(MemoryTokens::default()),
                shared: Arc::new(Shared::new(events, ntx, window_starting)),
                notifications: StdMutex::new(Some(nrx)),
                active: Mutex::new(None),
                feed: StdMutex::new(None),
                unlocking: AtomicBool::new(false),
                runtime: tokio::runtime::Handle::current(),
            }),
        };
        core.restore().await;
        Ok(core)
    }

    /// The UI event stream: every change the window shows, with the state that changed. A new
    /// listener gets every list, whole, as its first events (every other listener sees them
    /// again, which changes nothing for it).
    pub fn subscribe_events(&self) -> broadcast::Receiver<UiEvent> {
        let events = self.inner.shared.subscribe();
        self.republish();
        events
    }

    /// Publishes every list, whole, again: for a listener that just started (a window that
    /// reloaded) or fell behind.
    pub fn republish(&self) {
        if let Ok(Some(feed)) = self.inner.feed.lock().as_deref() {
            feed.send(Changes::everything());
        }
    }

    /// The notifications the policy decided to raise (take it once, in the shell).
    pub fn take_notifications(&self) -> Option<mpsc::UnboundedReceiver<Notification>> {
        self.inner.notifications.lock().ok()?.take()
    }

    async fn with_active<T>(&self, f: impl FnOnce(&Active) -> T) -> Result<T, CoreError> {
        let guard = self.inner.active.lock().await;
        match guard.as_ref() {
            Some(a) => Ok(f(a)),
            None => Err(CoreError::NotSignedIn),
        }
    }

    async fn db(&self) -> Result<Db, CoreError> {
        self.with_active(|a| a.db.clone()).await
    }

    async fn api(&self) -> Result<Api, CoreError> {
        if self.inner.shared.is_ended() {
            return Err(CoreError::NotSignedIn);
        }
        self.with_active(|a| a.live.as_ref().map(|l| l.api.clone()))
            .await?
            .ok_or_else(|| {
                KeyringError::Unavailable("the keyring has not given the sign-in yet".into()).into()
            })
    }

    /// Tells the open account's listeners what changed.
    async fn changed(&self, changes: Changes) {
        let _ = self.with_active(|a| a.feed.send(changes)).await;
    }
}
