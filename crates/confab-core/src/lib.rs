//! Confab's desktop brain, without Tauri: sign-in with the token in the OS keyring, the local
//! SQLite cache (via `confab-store`), the realtime engine over `pusher-channels`, lossless
//! catch-up from the backend after every (re)connect, the persistent outbox, typing and
//! presence, and the notification policy. The Tauri shell wires a [`Core`] to the window; the
//! tests drive it headless against a real backend and a real Sockudo.
//!
//! What it never does: store the token anywhere but the keyring (or, by explicit choice, in
//! memory for one run), log a secret, block the async runtime on SQLite, keep a restored
//! session's cache waiting on the keyring (its unlock prompt may wait on the user), lose a
//! message the user wrote, or show one twice.
//!
//! The rule of the data: the backend's database is the truth, Pusher is a fast poke. Realtime
//! events are applied at once (idempotently); every connect, resubscription and wake triggers a
//! `GET /api/sync` from the cursor, page by page, one transaction per page.

pub mod api;
mod db;
mod engine;
mod error;
pub mod notify;
pub mod outbox;
mod sender;
pub mod session;
mod shared;
pub mod sync_plan;
pub mod typing;
mod views;
pub mod wake;

use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};

use confab_model::ipc::{
    ChatMessage, ConnectionStatus, FocusState, Notification, RequestLists, SearchHit, SessionInfo,
    ShareRequestView, SignInRequest, Teammate, UiEvent,
};
use confab_model::{KnowledgeDecision, MAX_MESSAGE_CHARS};
use confab_store::Store;
use tokio::sync::{broadcast, mpsc, Mutex, Notify};

pub use api::{Api, ApiError};
use db::Db;
pub use error::CoreError;
use session::{
    account, cache_path, KeyringError, MemoryTokens, OsKeyring, SessionFile, TokenStore,
};
use shared::Shared;

/// Where the core keeps its files and secrets.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Data directory: caches and the (token-free) session file.
    pub data_dir: PathBuf,
    /// Keyring service name, e.g. "confab".
    pub keyring_service: String,
}

/// Unread and pending counts for the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BadgeCounts {
    /// Incoming share requests waiting for an answer.
    pub pending_requests: usize,
    /// Unread messages from others, all conversations.
    pub unread_messages: i64,
}

struct Active {
    info: SessionInfo,
    /// `None` while the token is still being read from the keyring (a restored session opens
    /// its cache first; an unlock prompt may be waiting on the user).
    api: Option<Api>,
    db: Db,
    commands: mpsc::UnboundedSender<engine::Command>,
    kick: Arc<Notify>,
    /// The engine and the outbox sender (which also posts unsent read marks). Both are
    /// aborted, not asked to stop: a stopping engine that finished its sync pages first would
    /// apply (and notify) messages after the session was replaced or the app closed, and the
    /// next core would see them as old. Aborting at an await point is safe: store writes are
    /// transactions on a blocking thread, a send cut short is retried with the same client id
    /// (the server dedups), and a read mark cut short stays unsent (posting it twice is
    /// harmless: the server only moves a mark forward).
    /// None while the token is awaited.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Active {
    fn shutdown(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Stops both tasks and waits until they are gone.
    async fn stopped(mut self) {
        self.shutdown();
        for t in &mut self.tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Inner {
    config: CoreConfig,
    keyring: Arc<dyn TokenStore>,
    memory: Arc<MemoryTokens>,
    shared: Arc<Shared>,
    notifications: StdMutex<Option<mpsc::UnboundedReceiver<Notification>>>,
    active: Mutex<Option<Active>>,
    /// A keyring read for the restored session is under way (one prompt at a time).
    unlocking: std::sync::atomic::AtomicBool,
    /// The runtime the core started on, for work started from synchronous calls.
    runtime: tokio::runtime::Handle,
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
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| CoreError::Internal(format!("cannot create the data directory: {e}")))?;
        let (events, _) = broadcast::channel(4096);
        let (ntx, nrx) = mpsc::unbounded_channel();
        let core = Core {
            inner: Arc::new(Inner {
                config,
                keyring,
                memory: Arc::new(MemoryTokens::default()),
                shared: Arc::new(Shared::new(events, ntx)),
                notifications: StdMutex::new(Some(nrx)),
                active: Mutex::new(None),
                unlocking: std::sync::atomic::AtomicBool::new(false),
                runtime: tokio::runtime::Handle::current(),
            }),
        };
        core.restore().await;
        Ok(core)
    }

    /// Opens the last session's cache at once, then reads its token from the keyring in the
    /// background: the read may wait on an unlock prompt for as long as the user takes, and
    /// the window shows the saved conversations meanwhile (writing is queued in the outbox).
    async fn restore(&self) {
        let Some(info) = SessionFile::new(&self.inner.config.data_dir).load() else {
            return;
        };
        if let Err(e) = self.activate(info, None).await {
            tracing::warn!(error = %e, "could not open the saved session");
            return;
        }
        self.unlock();
    }

    /// Starts reading the waiting session's token (no-op when none waits or a read is under
    /// way). With the token the core connects; without one the user is asked to sign in
    /// again; a locked or missing keyring leaves the cache readable with the banner saying so
    /// ("Retry now" calls this again).
    fn unlock(&self) {
        use std::sync::atomic::Ordering;
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
            .with_active(|a| a.api.is_none().then(|| a.info.clone()))
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
        let Some(db) = guard
            .as_ref()
            .filter(|a| a.api.is_none() && a.info == info)
            .map(|a| a.db.clone())
        else {
            return;
        };
        match answer {
            Ok(Some(token)) => {
                self.install(&mut guard, info, db, token);
                drop(guard);
                shared.emit(UiEvent::ConversationsChanged);
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

    /// Opens the account's cache and, with a token, starts the engine and the sender; without
    /// one the cache is readable and writes queue until [`Core::unlock`] brings the token.
    async fn activate(&self, info: SessionInfo, token: Option<String>) -> Result<(), CoreError> {
        let path = cache_path(&self.inner.config.data_dir, &info);
        let me = confab_model::User {
            id: info.user_id,
            name: info.name.clone(),
            email: info.email.clone(),
        };
        let store = tokio::task::spawn_blocking(move || -> Result<Store, CoreError> {
            let mut s = Store::open(&path)?;
            s.set_account(&me)?;
            Ok(s)
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))??;
        let db = Db::new(store);
        let shared = Arc::clone(&self.inner.shared);
        let mut guard = self.inner.active.lock().await;
        if let Some(old) = guard.take() {
            old.shutdown();
        }
        shared.clear_ended();
        shared.clear_online();
        shared.set_status(ConnectionStatus::Connecting {
            retry_in_secs: None,
        });
        match token {
            Some(token) => self.install(&mut guard, info, db, token),
            None => {
                let (commands, _) = mpsc::unbounded_channel();
                *guard = Some(Active {
                    info,
                    api: None,
                    db,
                    commands,
                    kick: Arc::new(Notify::new()),
                    tasks: Vec::new(),
                });
            }
        }
        drop(guard);
        shared.emit(UiEvent::ConversationsChanged);
        shared.emit(UiEvent::RequestsChanged);
        Ok(())
    }

    /// Starts the engine and the sender for `info` with `token` and makes them the active
    /// session, in place of the one before (the caller holds the lock and has stopped it, or
    /// it has no tasks: a session waiting for its token).
    fn install(&self, active: &mut Option<Active>, info: SessionInfo, db: Db, token: String) {
        let shared = Arc::clone(&self.inner.shared);
        let observer = Arc::clone(&shared);
        let api = Api::new(&info.server_url)
            .with_token(token)
            .observed(move |answered| observer.rest_outcome(answered));
        let (tx, rx) = mpsc::unbounded_channel();
        let kick = Arc::new(Notify::new());
        let engine = tokio::spawn(
            engine::Engine::new(
                info.user_id,
                info.name.clone(),
                api.clone(),
                db.clone(),
                Arc::clone(&shared),
                rx,
                Arc::clone(&kick),
            )
            .run(),
        );
        let sender = tokio::spawn(sender::run(
            api.clone(),
            db.clone(),
            Arc::clone(&shared),
            Arc::clone(&kick),
        ));
        *active = Some(Active {
            info,
            api: Some(api),
            db,
            commands: tx,
            kick,
            tasks: vec![engine, sender],
        });
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
        self.with_active(|a| a.api.clone()).await?.ok_or_else(|| {
            KeyringError::Unavailable("the keyring has not given the sign-in yet".into()).into()
        })
    }

    fn command(&self, active: &Active, cmd: engine::Command) {
        let _ = active.commands.send(cmd);
    }

    /// The UI event stream (every change the UI shows).
    pub fn subscribe_events(&self) -> broadcast::Receiver<UiEvent> {
        self.inner.shared.subscribe()
    }

    /// The notifications the policy decided to raise (take it once, in the shell).
    pub fn take_notifications(&self) -> Option<mpsc::UnboundedReceiver<Notification>> {
        self.inner.notifications.lock().ok()?.take()
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

    /// The server of the last session (to pre-fill the sign-in form).
    pub async fn last_server_url(&self) -> Option<String> {
        SessionFile::new(&self.inner.config.data_dir)
            .load()
            .map(|s| s.server_url)
    }

    /// Signs in: password → token → keyring; opens the account's cache and connects.
    ///
    /// # Errors
    /// [`CoreError::BadCredentials`], unreachable server, or [`CoreError::Keyring`] when no
    /// keyring can keep the token (retry with `session_only` to keep it for this run).
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
        let store: Arc<dyn TokenStore> = if req.session_only {
            Arc::clone(&self.inner.memory) as Arc<dyn TokenStore>
        } else {
            Arc::clone(&self.inner.keyring)
        };
        let acct = account(&info);
        let token = login.token.clone();
        let saved = tokio::task::spawn_blocking(move || store.save(&acct, &token))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        if let Err(e) = saved {
            // Don't leave a live token behind that nobody holds.
            let _ = api.with_token(&login.token).logout().await;
            return Err(e.into());
        }
        if info.persisted {
            SessionFile::new(&self.inner.config.data_dir)
                .save(&info)
                .map_err(|e| CoreError::Internal(format!("cannot save the session: {e}")))?;
        }
        self.activate(info.clone(), Some(login.token)).await?;
        // Fill the directory so names and the ask dialog work at once.
        if let (Ok(users), Ok(db)) = (self.api().await?.users().await, self.db().await) {
            let users: Vec<confab_model::User> = users
                .into_iter()
                .map(|u| confab_model::User {
                    id: u.id,
                    name: u.name,
                    email: String::new(),
                })
                .collect();
            let _ = db.run(move |s| s.apply_users(&users)).await;
        }
        Ok(info)
    }

    /// Stops syncing and sending and waits until nothing touches the cache any more; the
    /// session stays saved for the next start. The shell calls it on quit; dropping the last
    /// handle does the same without waiting.
    pub async fn close(&self) {
        let active = self.inner.active.lock().await.take();
        if let Some(active) = active {
            active.stopped().await;
        }
    }

    /// Signs out: revokes the token, forgets it, and deletes this account's cache.
    ///
    /// # Errors
    /// The keyring refused to delete the token (the rest is done anyway).
    pub async fn sign_out(&self) -> Result<(), CoreError> {
        let Some(active) = self.inner.active.lock().await.take() else {
            return Ok(());
        };
        let (api, info) = (active.api.clone(), active.info.clone());
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
        deleted?;
        Ok(())
    }

    /// The conversation list, most recent activity first.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn conversations(
        &self,
    ) -> Result<Vec<confab_model::ipc::ConversationSummary>, CoreError> {
        self.db().await?.run(|s| s.conversation_list()).await
    }

    /// A page of messages (ascending); the newest page when `before_seq` is `None`.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn messages(
        &self,
        conversation_id: i64,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let limit = usize::try_from(limit.clamp(1, 500)).unwrap_or(50);
        self.db()
            .await?
            .run(move |s| s.messages_before(conversation_id, before_seq, limit))
            .await
    }

    /// Writes a message: stored and shown as pending at once, delivered by the outbox.
    ///
    /// # Errors
    /// Empty or too long; not signed in; a full disk (the text is not lost: the UI keeps it).
    pub async fn send_message(
        &self,
        conversation_id: i64,
        content: String,
    ) -> Result<ChatMessage, CoreError> {
        let text = content.trim_end().to_owned();
        if text.trim().is_empty() {
            return Err(CoreError::Invalid("A message can't be empty.".into()));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::Invalid(format!(
                "A message can be at most {MAX_MESSAGE_CHARS} characters."
            )));
        }
        let db = self.db().await?;
        let client_id = views::new_client_id();
        let created = views::now_rfc3339();
        let msg = db
            .run(move |s| {
                let m = s.enqueue_message(
                    conversation_id,
                    &client_id,
                    &text,
                    &created,
                    views::now_ms(),
                )?;
                s.set_draft(conversation_id, "", views::now_ms())?;
                Ok(m)
            })
            .await?;
        self.with_active(|a| {
            a.kick.notify_one();
            self.command(a, engine::Command::Sent(conversation_id));
        })
        .await?;
        self.inner.shared.emit(UiEvent::MessagesChanged {
            conversation_id,
            messages: vec![msg.clone()],
        });
        self.inner.shared.emit(UiEvent::ConversationsChanged);
        Ok(msg)
    }

    /// Retries a failed message now.
    ///
    /// # Errors
    /// Not signed in; it was delivered or discarded meanwhile.
    pub async fn retry_message(&self, client_id: String) -> Result<(), CoreError> {
        let m = self
            .db()
            .await?
            .run(move |s| s.outbox_retry(&client_id, views::now_ms()))
            .await?;
        self.with_active(|a| a.kick.notify_one()).await?;
        self.inner.shared.emit(UiEvent::MessagesChanged {
            conversation_id: m.conversation_id,
            messages: vec![m],
        });
        Ok(())
    }

    /// Discards an unsent message.
    ///
    /// # Errors
    /// Not signed in; it was delivered meanwhile.
    pub async fn discard_message(&self, client_id: String) -> Result<(), CoreError> {
        let id = client_id.clone();
        let conversation_id = self.db().await?.run(move |s| s.outbox_discard(&id)).await?;
        self.inner.shared.emit(UiEvent::MessageRemoved {
            conversation_id,
            client_id,
        });
        self.inner.shared.emit(UiEvent::ConversationsChanged);
        Ok(())
    }

    /// Incoming pending requests and my outgoing ones.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn requests(&self) -> Result<RequestLists, CoreError> {
        self.db()
            .await?
            .run(|s| {
                let users = s.users()?;
                Ok(RequestLists {
                    // The store returns only pending incoming requests.
                    incoming: s
                        .incoming_requests()?
                        .iter()
                        .map(|r| views::request_view(r, &users))
                        .collect(),
                    outgoing: s
                        .outgoing_requests()?
                        .iter()
                        .map(|r| views::request_view(r, &users))
                        .collect(),
                })
            })
            .await
    }

    /// Answers a request (approve with content, or deny).
    ///
    /// # Errors
    /// Offline (answers need the server); already answered ([`CoreError::Api`] 409).
    pub async fn respond(
        &self,
        request_id: i64,
        approve: bool,
        content: Option<String>,
    ) -> Result<(), CoreError> {
        let decision = if approve {
            KnowledgeDecision::Approved
        } else {
            KnowledgeDecision::Denied
        };
        let content = content.filter(|c| !c.trim().is_empty());
        if approve && content.is_none() {
            return Err(CoreError::Invalid(
                "Write what you want to share before approving.".into(),
            ));
        }
        let r = self
            .api()
            .await?
            .respond(request_id, decision, content.as_deref())
            .await?;
        self.db().await?.run(move |s| s.apply_request(&r)).await?;
        self.inner.shared.emit(UiEvent::RequestsChanged);
        Ok(())
    }

    /// Asks a teammate to share knowledge.
    ///
    /// # Errors
    /// Offline; empty question; unknown teammate.
    pub async fn ask(
        &self,
        owner_id: i64,
        question: String,
    ) -> Result<ShareRequestView, CoreError> {
        if question.trim().is_empty() {
            return Err(CoreError::Invalid("Write a question first.".into()));
        }
        let r = self.api().await?.ask(owner_id, question.trim()).await?;
        let req = r.clone();
        let users = self
            .db()
            .await?
            .run(move |s| {
                s.apply_request(&req)?;
                s.users()
            })
            .await?;
        self.inner.shared.emit(UiEvent::RequestsChanged);
        Ok(views::request_view(&r, &users))
    }

    /// The directory with who is online.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn teammates(&self) -> Result<Vec<Teammate>, CoreError> {
        let me = self.with_active(|a| a.info.user_id).await?;
        let online = self.inner.shared.online();
        let users = self.db().await?.run(|s| s.users()).await?;
        Ok(users
            .into_iter()
            .filter(|u| u.id != me)
            .map(|u| Teammate {
                online: online.values().any(|v| v.contains(&u.id)),
                id: u.id,
                name: u.name,
            })
            .collect())
    }

    /// The conversation is on screen: mark everything in it read (here and on the server).
    /// The local mark moves at once; the cache keeps it as unsent in the same transaction and
    /// the sender posts it now, and again after failures and restarts until the server has it.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn mark_seen(&self, conversation_id: i64) -> Result<(), CoreError> {
        let db = self.db().await?;
        let seq = db
            .run(move |s| {
                let last = s
                    .messages_before(conversation_id, None, 1)?
                    .last()
                    .and_then(|m| m.seq);
                match last {
                    Some(seq) if s.mark_read(conversation_id, seq)? => Ok(Some(seq)),
                    _ => Ok(None),
                }
            })
            .await?;
        if seq.is_some() {
            self.inner.shared.emit(UiEvent::ConversationsChanged);
            // The sender posts it (a task the core stops with the session, unlike one spawned
            // here, which could write the cache after close).
            self.inner.shared.send_read_marks_now();
            self.with_active(|a| a.kick.notify_one()).await?;
        }
        Ok(())
    }

    /// A key was pressed in the composer (the core throttles what it sends).
    ///
    /// # Errors
    /// Not signed in.
    pub async fn typing(&self, conversation_id: i64) -> Result<(), CoreError> {
        self.with_active(|a| self.command(a, engine::Command::Keystroke(conversation_id)))
            .await
    }

    /// The saved draft of a conversation.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn draft(&self, conversation_id: i64) -> Result<String, CoreError> {
        Ok(self
            .db()
            .await?
            .run(move |s| s.draft(conversation_id))
            .await?
            .unwrap_or_default())
    }

    /// Saves a draft (empty deletes it).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn set_draft(&self, conversation_id: i64, text: String) -> Result<(), CoreError> {
        self.db()
            .await?
            .run(move |s| s.set_draft(conversation_id, &text, views::now_ms()))
            .await
    }

    /// Full-text search over cached messages.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn search(&self, query: String) -> Result<Vec<SearchHit>, CoreError> {
        self.db()
            .await?
            .run(move |s| s.search(&query, None, 50))
            .await
    }

    /// A remembered UI setting.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn setting(&self, key: String) -> Result<Option<String>, CoreError> {
        self.db().await?.run(move |s| s.setting(&key)).await
    }

    /// Remembers a UI setting.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn set_setting(&self, key: String, value: String) -> Result<(), CoreError> {
        self.db()
            .await?
            .run(move |s| s.set_setting(&key, &value))
            .await
    }

    /// What the window looks like (for the notification policy).
    pub fn set_focus(&self, focus: FocusState) {
        self.inner.shared.set_focus(focus);
    }

    /// Mutes or unmutes notifications of one conversation.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn set_conversation_muted(
        &self,
        conversation_id: i64,
        muted: bool,
    ) -> Result<(), CoreError> {
        self.db()
            .await?
            .run(move |s| s.set_muted(conversation_id, muted))
            .await?;
        self.inner.shared.emit(UiEvent::ConversationsChanged);
        Ok(())
    }

    /// Mutes or unmutes all notifications.
    pub fn set_muted(&self, muted: bool) {
        self.inner.shared.set_muted(muted);
    }

    /// Whether notifications are muted.
    pub fn muted(&self) -> bool {
        self.inner.shared.is_muted()
    }

    /// After a wake from sleep or a network change: check the connection and catch up now.
    pub fn check_now(&self) {
        if let Ok(guard) = self.inner.active.try_lock() {
            match guard.as_ref() {
                // Still without its token: ask the keyring again (an unlock prompt).
                Some(a) if a.api.is_none() => self.unlock(),
                Some(a) => self.command(a, engine::Command::CheckNow),
                None => {}
            }
        }
    }

    /// The realtime connection as the banner shows it.
    pub fn connection_status(&self) -> ConnectionStatus {
        self.inner.shared.status()
    }

    /// Counts for the tray.
    pub async fn badge_counts(&self) -> BadgeCounts {
        let Ok(db) = self.db().await else {
            return BadgeCounts::default();
        };
        db.run(|s| {
            let unread = s.conversation_list()?.iter().map(|c| c.unread_count).sum();
            let pending = s.incoming_requests()?.len();
            Ok(BadgeCounts {
                pending_requests: pending,
                unread_messages: unread,
            })
        })
        .await
        .unwrap_or_default()
    }
}
