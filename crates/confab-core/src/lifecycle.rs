//! The session's life: restored at start (the cache at once, the token from the keyring beside
//! it), signed in, closed on quit, signed out. An open account runs up to three tasks: the UI
//! feed (always: the cache is readable), and with the token the realtime engine and the outbox
//! sender.
//!
//! A cache this build cannot use (damaged, or written by a newer Confab) never blocks a start
//! or a sign-in: it is kept aside under a timestamped name and a fresh one is filled by the
//! first sync, and the user is told once. A sign-in keeps its token only once the cache has
//! opened, and revokes it on the server when it fails after all.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use confab_model::ipc::{
    ConnectionStatus, SessionInfo, SignInRequest, Startup, UiEvent, HOUR_CYCLE_SETTING,
};
use confab_store::Store;
use tokio::sync::{mpsc, Notify};

use crate::active::{Active, Live};
use crate::db::Db;
use crate::engine;
use crate::error::CoreError;
use crate::feed::{self, Changes, Feed};
use crate::rest::{Api, ApiError};
use crate::session::{account, cache_path, KeyringError, SessionFile, TokenStore};
use crate::{sender, Core};

/// Told once when the account's cache could not be read and is being refilled.
const REBUILT_DAMAGED: &str = "Confab's copy of your conversations on this computer was \
    damaged, so it was set aside and is being downloaded again from the server; messages that \
    had not been sent yet may be missing.";
/// Told once when a newer Confab wrote the cache this one cannot read.
const REBUILT_TOO_NEW: &str = "Confab's copy of your conversations on this computer was \
    written by a newer version of Confab, so it was set aside and is being downloaded again \
    from the server; messages that had not been sent yet may be missing.";

/// Now in UTC as `20261206T040000Z`, for naming a cache moved aside (sorts by time).
fn utc_stamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Core {
    /// Opens the last session's cache at once, then reads its token from the keyring in the
    /// background: the read may wait on an unlock prompt for as long as the user takes, and
    /// the window shows the saved conversations meanwhile (writing is queued in the outbox).
    pub(crate) async fn restore(&self) {
        let Some(info) = SessionFile::new(&self.inner.config.data_dir).load() else {
            return;
        };
        let (store, rebuilt) = match self.open_cache(&info).await {
            Ok(opened) => opened,
            Err(e) => {
                tracing::warn!(error = %e, "could not open the saved session");
                return;
            }
        };
        self.activate(info, store, None).await;
        if let Some(sentence) = rebuilt {
            // No window listens yet: the first one to start hears it (`Startup.notice`).
            self.inner.shared.set_notice(sentence);
        }
        self.unlock();
    }

    /// Starts reading the waiting session's token (no-op when none waits or a read is under
    /// way). With the token the core connects; without one the user is asked to sign in
    /// again; a locked or missing keyring leaves the cache readable with the banner saying so
    /// ("Retry now" calls this again).
    pub(crate) fn unlock(&self) {
        if self.inner.unlocking.swap(true, Ordering::SeqCst) {
            return;
        }
        let core = self.clone();
        self.inner.runtime.spawn(async move {
            core.read_token().await;
            core.inner.unlocking.store(false, Ordering::SeqCst);
        });
    }

    async fn read_token(&self) {
        let Ok(Some(info)) = self
            .with_active(|a| a.live.is_none().then(|| a.info.clone()))
            .await
        else {
            return;
        };
        let keyring = Arc::clone(&self.inner.keyring);
        let acct = account(&info);
        let shared = &self.inner.shared;
        shared.set_status(ConnectionStatus::Connecting {
            retry_in_secs: None,
        });
        let answer = tokio::task::spawn_blocking(move || keyring.load(&acct))
            .await
            .unwrap_or_else(|e| Err(KeyringError::Unavailable(e.to_string())));
        // The session may have been signed out, or replaced by a sign-in, while the keyring
        // was asked (an unlock prompt can take minutes): then the answer is for nobody.
        let mut guard = self.inner.active.lock().await;
        let Some(active) = guard
            .as_mut()
            .filter(|a| a.live.is_none() && a.info == info)
        else {
            return;
        };
        match answer {
            Ok(Some(token)) => {
                let live = self.start_live(active, token);
                active.live = Some(live);
            }
            Ok(None) => shared.end_session_because(
                "Your sign-in is no longer in the keyring. Sign in again; unsent messages are \
                 kept.",
            ),
            Err(e) => {
                tracing::warn!(error = %e, "keyring unavailable at start");
                shared.set_status(ConnectionStatus::Locked);
            }
        }
    }

    /// Opens the account's cache for [`Core::activate`]. A cache that is damaged, or that a
    /// newer Confab wrote, is moved aside (kept, named with the time, e.g.
    /// `cache-….sqlite3.corrupt-20261206T040000Z`, its WAL and SHM with it) and a fresh one
    /// made in its place, which the first sync fills from the server; the sentence to tell the
    /// user comes back with it.
    ///
    /// # Errors
    /// Any other failure to open it (the directory cannot be written, the disk is full, the
    /// moved file cannot be renamed): the caller stops there.
    async fn open_cache(&self, info: &SessionInfo) -> Result<(Store, Option<String>), CoreError> {
        let path = cache_path(&self.inner.config.data_dir, info);
        let me = confab_model::User {
            id: info.user_id,
            name: info.name.clone(),
            email: info.email.clone(),
        };
        tokio::task::spawn_blocking(move || {
            let open = || -> Result<Store, confab_store::StoreError> {
                let mut s = Store::open(&path)?;
                s.set_account(&me)?;
                Ok(s)
            };
            match open() {
                Ok(store) => Ok((store, None)),
                Err(e) if e.needs_fresh_cache() => {
                    // The failed store is closed by now (dropped inside `open`), so the files
                    // can move.
                    let kept = confab_store::move_aside(&path, &utc_stamp())?;
                    tracing::warn!(error = %e, kept = %kept.display(),
                        "the cache could not be used; kept aside, starting a fresh one");
                    let sentence = match e {
                        confab_store::StoreError::TooNew { .. } => REBUILT_TOO_NEW,
                        _ => REBUILT_DAMAGED,
                    };
                    Ok((open()?, Some(sentence.to_owned())))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?
    }

    /// Makes `store` the open account's cache with its feed and, with a token, starts the
    /// engine and the sender; without one the cache is readable and writes queue until
    /// [`Core::unlock`] brings the token. Listeners get every list, whole.
    async fn activate(&self, info: SessionInfo, store: Store, token: Option<String>) {
        let db = Db::new(store);
        let shared = Arc::clone(&self.inner.shared);
        let mut guard = self.inner.active.lock().await;
        if let Some(old) = guard.take() {
            old.shutdown();
        }
        shared.clear_ended();
        shared.clear_online();
        // The engine reports this account's own history load, if it has one.
        shared.set_history(None);
        shared.set_status(ConnectionStatus::Connecting {
            retry_in_secs: None,
        });
        let (feed, changes) = Feed::new();
        let feed_task = tokio::spawn(feed::run(
            db.clone(),
            Arc::clone(&shared),
            info.user_id,
            changes,
        ));
        feed.send(Changes::everything());
        self.inner.set_feed(Some(feed.clone()));
        let mut active = Active::new(info, db, feed, feed_task);
        if let Some(token) = token {
            active.live = Some(self.start_live(&active, token));
        }
        *guard = Some(active);
    }

    /// Starts the engine and the sender of `active` with `token`.
    fn start_live(&self, active: &Active, token: String) -> Live {
        let shared = Arc::clone(&self.inner.shared);
        let observer = Arc::clone(&shared);
        let api = Api::new(&active.info.server_url)
            .with_token(token)
            .observed(move |answered| observer.rest_outcome(answered));
        let (tx, rx) = mpsc::unbounded_channel();
        let kick = Arc::new(Notify::new());
        let engine = tokio::spawn(
            engine::Engine::new(
                engine::Parts {
                    me: active.info.user_id,
                    my_name: active.info.name.clone(),
                    api: api.clone(),
                    db: active.db.clone(),
                    feed: active.feed.clone(),
                    shared: Arc::clone(&shared),
                    kick: Arc::clone(&kick),
                },
                rx,
            )
            .run(),
        );
        let sender = tokio::spawn(sender::run(
            api.clone(),
            active.db.clone(),
            active.feed.clone(),
            shared,
            Arc::clone(&kick),
        ));
        Live::new(api, tx, kick, vec![engine, sender])
    }

    /// What the window's first screen needs (its lists follow on the event stream: this also
    /// asks the feed for them).
    pub async fn startup(&self) -> Startup {
        let session = self.session().await;
        let notice = match session {
            None => self.session_notice(),
            Some(_) => self.inner.shared.take_notice(),
        };
        let server_url = SessionFile::new(&self.inner.config.data_dir)
            .load()
            .map(|s| s.server_url);
        let connection = self.inner.shared.status();
        // The hour cycle is remembered per account (a UI setting): none before a sign-in.
        let hour_cycle = match session {
            Some(_) => self.setting(HOUR_CYCLE_SETTING.into()).await.ok().flatten(),
            None => None,
        };
        self.republish();
        let clock = crate::clock::local_clock(crate::views::now_ms(), hour_cycle.as_deref());
        self.inner.shared.set_zone(clock.zone.clone());
        Startup {
            session,
            server_url,
            notice,
            connection,
            history: self.inner.shared.history(),
            clock,
        }
    }

    /// The signed-in account; `None` when signed out or the session ended.
    pub async fn session(&self) -> Option<SessionInfo> {
        if self.inner.shared.is_ended() {
            return None;
        }
        self.with_active(|a| a.info.clone()).await.ok()
    }

    /// Why the last session ended (expired token, sign-in gone from the keyring), while no new
    /// one has started: for a window that opens after it happened and missed the event.
    pub fn session_notice(&self) -> Option<String> {
        self.inner.shared.ended_reason()
    }

    /// Signs in: password → token; opens the account's cache (rebuilding an unusable one, and
    /// telling the user so with [`UiEvent::Notice`]); only then keeps the token (keyring, or
    /// memory with `session_only`) and the session file, and connects. A sign-in that fails
    /// after the server issued a token revokes it: no retry leaves a live token behind.
    ///
    /// # Errors
    /// [`CoreError::BadCredentials`], unreachable server, the cache cannot be opened, or
    /// [`CoreError::Keyring`] when no keyring can keep the token (retry with `session_only` to
    /// keep it for this run).
    pub async fn sign_in(&self, req: SignInRequest) -> Result<SessionInfo, CoreError> {
        let api = Api::new(&req.server_url);
        let login = match api.login(req.email.trim(), &req.password).await {
            Err(ApiError::Unauthorized) => return Err(CoreError::BadCredentials),
            other => other?,
        };
        let info = SessionInfo {
            server_url: api.base().to_owned(),
            user_id: login.user.id,
            name: login.user.name.clone(),
            email: login.user.email.clone(),
            persisted: !req.session_only,
        };
        let (store, rebuilt) = match self.keep_session(&info, &login.token).await {
            Ok(kept) => kept,
            Err(e) => {
                // Nobody holds the token now: revoke it rather than leave it live.
                if let Err(revoke) = api.with_token(&login.token).logout().await {
                    tracing::warn!(error = %revoke, "could not revoke the unused token");
                }
                return Err(e);
            }
        };
        self.activate(info.clone(), store, Some(login.token)).await;
        if let Some(sentence) = rebuilt {
            self.inner
                .shared
                .emit(UiEvent::Notice { message: sentence });
        }
        // Fill the directory so names and the ask dialog work at once. The sign-in has
        // succeeded by now: a session that already ended (the engine refused the realtime
        // host, say) has told the user why, so this step's failure is nobody's error.
        let Ok(api) = self.api().await else {
            return Ok(info);
        };
        if let (Ok(users), Ok(db)) = (api.users().await, self.db().await) {
            let users: Vec<confab_model::User> = users
                .into_iter()
                .map(|u| confab_model::User {
                    id: u.id,
                    name: u.name,
                    email: String::new(),
                })
                .collect();
            if db.run(move |s| s.apply_users(&users)).await.is_ok() {
                self.changed(Changes::teammates()).await;
            }
        }
        Ok(info)
    }

    /// The part of signing in between the token and the connection, in the order that keeps
    /// nothing half-done: the cache opens first (nothing is stored while it cannot), then the
    /// token goes to its store, then the session file; a failed step undoes the token's.
    async fn keep_session(
        &self,
        info: &SessionInfo,
        token: &str,
    ) -> Result<(Store, Option<String>), CoreError> {
        let opened = self.open_cache(info).await?;
        let tokens: Arc<dyn TokenStore> = if info.persisted {
            Arc::clone(&self.inner.keyring)
        } else {
            Arc::clone(&self.inner.memory) as Arc<dyn TokenStore>
        };
        let (acct, token) = (account(info), token.to_owned());
        let (keep, kept_as) = (Arc::clone(&tokens), acct.clone());
        tokio::task::spawn_blocking(move || keep.save(&kept_as, &token))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))??;
        if info.persisted {
            if let Err(e) = SessionFile::new(&self.inner.config.data_dir).save(info) {
                let _ = tokio::task::spawn_blocking(move || tokens.delete(&acct)).await;
                return Err(CoreError::Internal(format!("cannot save the session: {e}")));
            }
        }
        Ok(opened)
    }

    /// Stops syncing and sending and waits until nothing touches the cache any more; the
    /// session stays saved for the next start. The shell calls it on quit; dropping the last
    /// handle does the same without waiting.
    pub async fn close(&self) {
        let active = self.inner.active.lock().await.take();
        self.inner.set_feed(None);
        if let Some(active) = active {
            active.stopped().await;
        }
    }

    /// Signs out: revokes the token, forgets it, and deletes this account's cache; listeners
    /// hear [`UiEvent::SignedOut`].
    ///
    /// # Errors
    /// The keyring refused to delete the token (the rest is done anyway).
    pub async fn sign_out(&self) -> Result<(), CoreError> {
        let Some(active) = self.inner.active.lock().await.take() else {
            return Ok(());
        };
        self.inner.set_feed(None);
        let (api, info) = (
            active.live.as_ref().map(|l| l.api.clone()),
            active.info.clone(),
        );
        // Stopped before the cache is deleted, so nothing writes into a removed database.
        active.stopped().await;
        if let Some(api) = api {
            let _ = api.logout().await;
        }
        let keyring = Arc::clone(&self.inner.keyring);
        let memory = Arc::clone(&self.inner.memory);
        let acct = account(&info);
        let deleted = tokio::task::spawn_blocking(move || {
            let _ = memory.delete(&acct);
            keyring.delete(&acct)
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
        SessionFile::new(&self.inner.config.data_dir).clear();
        let path = cache_path(&self.inner.config.data_dir, &info);
        let _ = tokio::task::spawn_blocking(move || confab_store::remove_database(&path)).await;
        self.inner.shared.set_status(ConnectionStatus::Offline);
        self.inner.shared.set_history(None);
        self.inner.shared.emit(UiEvent::SignedOut);
        deleted?;
        Ok(())
    }
}
