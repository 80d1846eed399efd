//! The harness of the core's integration tests: the real backend (`confab-server`'s `app()`)
//! on a loopback port that survives restarts, a real Sockudo (optionally behind a cuttable
//! proxy), seeded users, cores on real SQLite files, and waiting for UI events under timeouts.
#![allow(dead_code)]

pub mod cluster;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use confab_core::session::{MemoryTokens, TokenStore};
use confab_core::{Api, Core, CoreConfig};
use confab_model::ipc::{ChatMessage, ConnectionStatus, SignInRequest, UiEvent};
use confab_model::{User, UserId, MESSAGES_PAGE_MAX};
use confab_server::config::PusherSettings;
use confab_server::write_limit::WriteLimits;
use confab_server::{app, auth, store, AppState, Db};
use confab_testkit::{Sockudo, TcpProxy};
use tokio::sync::{broadcast, oneshot, watch};

/// How long any awaited event may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// A seeded account.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: User,
    pub password: String,
}

/// The backend and its Sockudo.
pub struct Backend {
    pub sockudo: Sockudo,
    pub proxy: Option<TcpProxy>,
    pub base: String,
    pub port: u16,
    pub users: Vec<Account>,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    /// The server task: it returns once its listener is closed and its requests answered.
    serving: Option<tokio::task::JoinHandle<()>>,
    pub dir: tempfile::TempDir,
}

impl Backend {
    /// Backend + Sockudo, users Alice and Bob.
    pub async fn start() -> Result<Self> {
        Self::start_opts(false).await
    }

    /// With `proxied`, clients reach Sockudo through a [`TcpProxy`] (fault injection).
    /// Without write limits: tests post long bursts as teammates.
    pub async fn start_opts(proxied: bool) -> Result<Self> {
        Self::start_with(proxied, WriteLimits::UNLIMITED).await
    }

    /// With the server's per-user write limits set to `limits`.
    pub async fn start_limited(limits: WriteLimits) -> Result<Self> {
        Self::start_with(false, limits).await
    }

    async fn start_with(proxied: bool, limits: WriteLimits) -> Result<Self> {
        let sockudo = Sockudo::start().await?;
        let proxy = if proxied {
            Some(TcpProxy::start(([127, 0, 0, 1], sockudo.port()).into()).await?)
        } else {
            None
        };
        let settings = PusherSettings {
            port: Some(proxy.as_ref().map_or(sockudo.port(), TcpProxy::port)),
            ..PusherSettings::of_local(&sockudo)
        };
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("server.db"))?;
        let mut users = Vec::new();
        for (email, name) in [("alice@example.test", "Alice"), ("bob@example.test", "Bob")] {
            let password = format!("pw-{name}");
            let hash = auth::hash_password(&password)?;
            let user = db.write_blocking(|c| store::users::create_user(c, email, name, &hash))?;
            users.push(Account { user, password });
        }
        let state = AppState::new(db, &settings)?.with_write_limits(limits);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let mut b = Backend {
            sockudo,
            proxy,
            base: format!("http://127.0.0.1:{port}"),
            port,
            users,
            state,
            stop: None,
            serving: None,
            dir,
        };
        b.serve(listener);
        Ok(b)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(self.state.clone());
        let serving = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        });
        self.stop = Some(tx);
        self.serving = Some(serving);
    }

    /// Stops answering HTTP (the database stays).
    pub fn stop_http(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Answers again on the same port.
    pub async fn start_http(&mut self) -> Result<()> {
        let listener = self.bind_again().await?;
        self.serve(listener);
        Ok(())
    }

    /// Stops answering HTTP and puts an [`Outage`] on the port in its place.
    pub async fn outage(&mut self) -> Result<Outage> {
        self.stop_http();
        Ok(Outage::serve(self.bind_again().await?))
    }

    /// Ends an outage: the backend answers again on the same port.
    pub async fn end_outage(&mut self, outage: Outage) -> Result<()> {
        outage.stop().await;
        self.start_http().await
    }

    /// Binds the backend's port again once the server that had it is gone: its task ends
    /// after the listener is closed, so the bind cannot race it.
    async fn bind_again(&mut self) -> Result<tokio::net::TcpListener> {
        if let Some(serving) = self.serving.take() {
            tokio::time::timeout(WAIT, serving)
                .await
                .context("the stopped backend did not finish its requests")??;
        }
        tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| format!("binding port {} again", self.port))
    }

    /// A REST client logged in as user `i`.
    pub async fn api(&self, i: usize) -> Result<Api> {
        let api = Api::new(&self.base);
        let login = api
            .login(&self.users[i].user.email, &self.users[i].password)
            .await?;
        Ok(api.with_token(login.token))
    }
}

/// The backend's port while the backend is down: every request is answered 503 (as a reverse
/// proxy in front of a stopped backend answers) and its request line recorded, so a test can
/// await the proof that a call was made and failed instead of guessing with a sleep.
pub struct Outage {
    seen: watch::Receiver<Vec<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Outage {
    fn serve(listener: tokio::net::TcpListener) -> Self {
        let (tx, seen) = watch::channel(Vec::new());
        let task = tokio::spawn(async move {
            // Dropped with this task when the outage ends, aborting every connection.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                connections.spawn(async move {
                    if let Some(line) = answer_503(stream).await {
                        tx.send_modify(|seen| seen.push(line));
                    }
                });
            }
        });
        Outage { seen, task }
    }

    /// Waits until a request whose request line starts with `prefix` (e.g.
    /// `"POST /api/conversations/1/read"`) has been answered with a 503.
    pub async fn requested(&mut self, prefix: &str) {
        let found = tokio::time::timeout(
            WAIT,
            self.seen
                .wait_for(|seen| seen.iter().any(|line| line.starts_with(prefix))),
        )
        .await
        .is_ok_and(|r| r.is_ok());
        assert!(
            found,
            "no request `{prefix}` during the outage; seen: {:?}",
            *self.seen.borrow()
        );
    }

    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Reads one request (head and body), answers 503 and closes; returns the request line.
async fn answer_503(mut stream: tokio::net::TcpStream) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let body_len: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    // Read the body too: closing with unread bytes would reset the connection before the
    // client reads the answer.
    let mut have = buf.len() - head_end;
    while have < body_len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        have += n;
    }
    let _ = stream
        .write_all(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
    let _ = stream.shutdown().await;
    head.lines().next().map(str::to_owned)
}

/// A core with its own data dir and token store, plus its event stream.
pub struct Client {
    pub core: Core,
    pub events: broadcast::Receiver<UiEvent>,
    pub data_dir: PathBuf,
    pub tokens: Arc<MemoryTokens>,
}

impl Client {
    /// A core on `data_dir` with `tokens` (share them to simulate a restart).
    pub async fn open(data_dir: PathBuf, tokens: Arc<MemoryTokens>) -> Result<Self> {
        let core = Core::start_with(
            CoreConfig {
                data_dir: data_dir.clone(),
                keyring_service: "confab-test".into(),
                connect_after_paint: false,
            },
            Arc::clone(&tokens) as Arc<dyn TokenStore>,
        )
        .await?;
        let events = core.subscribe_events();
        Ok(Client {
            core,
            events,
            data_dir,
            tokens,
        })
    }

    /// Waits until the conversation list has `conversation` (its catch-up has arrived).
    pub async fn lists(&mut self, conversation: i64) {
        self.until(
            &format!("conversation {conversation} is listed"),
            |c| async move {
                c.conversations()
                    .await
                    .is_ok_and(|l| l.iter().any(|x| x.id == conversation))
            },
        )
        .await;
    }

    /// Waits until the directory shows `who` online (presence in a shared room has arrived).
    pub async fn sees_online(&mut self, who: UserId) {
        self.until(&format!("user {who} is seen online"), |c| async move {
            c.teammates()
                .await
                .is_ok_and(|t| t.iter().any(|m| m.id == who && m.online))
        })
        .await;
    }

    /// Quits the app: the core stops and lets go of the cache; what a restart needs is returned.
    pub async fn close(self) -> (PathBuf, Arc<MemoryTokens>) {
        self.core.close().await;
        (self.data_dir, self.tokens)
    }

    /// A fresh core signed in as user `i`.
    pub async fn sign_in(b: &Backend, i: usize, dir: &tempfile::TempDir) -> Result<Self> {
        Self::sign_in_to(&b.base, &b.users[i], dir.path().join(format!("user{i}"))).await
    }

    /// A fresh core on `data_dir`, signed in as `account` at the backend `base` (the one it
    /// then talks to, and whose `/api/config` names its realtime server).
    pub async fn sign_in_to(base: &str, account: &Account, data_dir: PathBuf) -> Result<Self> {
        let c = Self::open(data_dir, Arc::default()).await?;
        c.core
            .sign_in(SignInRequest {
                server_url: base.to_owned(),
                email: account.user.email.clone(),
                password: account.password.clone(),
                session_only: false,
            })
            .await?;
        Ok(c)
    }

    /// Waits for the first event matching `pred`.
    pub async fn expect(&mut self, what: &str, mut pred: impl FnMut(&UiEvent) -> bool) -> UiEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) if pred(&e) => return e,
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(broadcast::error::RecvError::Closed)) => panic!("events closed: {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    pub async fn connected(&mut self) {
        if self.core.connection_status() == ConnectionStatus::Connected {
            return;
        }
        self.expect("connected", |e| {
            matches!(e, UiEvent::Connection(ConnectionStatus::Connected))
        })
        .await;
    }

    /// Waits until `check` holds, re-checking after every UI event.
    pub async fn until<F, Fut>(&mut self, what: &str, check: F)
    where
        F: FnMut(Core) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.until_within(what, WAIT, check).await;
    }

    /// [`until`](Self::until), allowing `within` instead of [`WAIT`] (for what waits out
    /// backoffs that may have grown to a minute).
    pub async fn until_within<F, Fut>(&mut self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut(Core) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if check(self.core.clone()).await {
                return;
            }
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(_) => {}
                Err(_) => panic!("timed out waiting until {what}"),
            }
        }
    }
}

/// Every message of a conversation in the cache, oldest first, read page by page as the window
/// scrolls back (a page holds at most [`MESSAGES_PAGE_MAX`]).
pub async fn every_message(
    core: &Core,
    conversation: i64,
) -> Result<Vec<ChatMessage>, confab_core::CoreError> {
    let mut all = core.messages(conversation, None, MESSAGES_PAGE_MAX).await?;
    while let Some(oldest) = all.first().and_then(|m| m.seq) {
        let older = core
            .messages(conversation, Some(oldest), MESSAGES_PAGE_MAX)
            .await?;
        if older.is_empty() {
            break;
        }
        all.splice(0..0, older);
    }
    Ok(all)
}

/// Posts `n` messages from user `sender` into `conv` straight through the backend's store
/// ("{tag} {i}", client id "{tag}-{i}"), 5,000 to a transaction: a long history in seconds,
/// every message a change in the log as if posted over months.
pub async fn seed_messages(
    b: &Backend,
    conv: i64,
    sender: usize,
    n: usize,
    tag: &str,
) -> Result<()> {
    let user = b.users[sender].user.clone();
    for start in (0..n).step_by(5000) {
        let end = (start + 5000).min(n);
        let (user, tag) = (user.clone(), tag.to_owned());
        b.state
            .db()
            .write(move |c| {
                for i in start..end {
                    store::chat::post_message(
                        c,
                        conv,
                        &user,
                        &format!("{tag} {i}"),
                        &format!("{tag}-{i}"),
                    )?;
                }
                Ok::<_, anyhow::Error>(())
            })
            .await?;
    }
    Ok(())
}

/// A conversation between users `a` and `b`, created by `a` through the REST API.
pub async fn conversation(b: &Backend, a: usize, other: usize) -> Result<i64> {
    let api = b.api(a).await?;
    let c = api
        .create_conversation(None, &[b.users[other].user.id])
        .await?;
    Ok(c.id)
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
