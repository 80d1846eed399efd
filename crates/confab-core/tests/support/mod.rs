//! The harness of the core's integration tests: the real backend (`confab-server`'s `app()`)
//! on a loopback port that survives restarts, a real Sockudo (optionally behind a cuttable
//! proxy), seeded users, cores on real SQLite files, and waiting for UI events under timeouts.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use confab_core::session::{MemoryTokens, TokenStore};
use confab_core::{Api, Core, CoreConfig};
use confab_model::ipc::{ConnectionStatus, SignInRequest, UiEvent};
use confab_model::User;
use confab_server::config::PusherSettings;
use confab_server::{app, auth, store, AppState, Db};
use confab_testkit::{Sockudo, TcpProxy};
use tokio::sync::{broadcast, oneshot};

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
    pub dir: tempfile::TempDir,
}

impl Backend {
    /// Backend + Sockudo, users Alice and Bob.
    pub async fn start() -> Result<Self> {
        Self::start_opts(false).await
    }

    /// With `proxied`, clients reach Sockudo through a [`TcpProxy`] (fault injection).
    pub async fn start_opts(proxied: bool) -> Result<Self> {
        let sockudo = Sockudo::start().await?;
        let proxy = if proxied {
            Some(TcpProxy::start(([127, 0, 0, 1], sockudo.port()).into()).await?)
        } else {
            None
        };
        let settings = PusherSettings {
            app_id: sockudo.app_id().to_owned(),
            key: sockudo.key().to_owned(),
            secret: sockudo.secret().to_owned(),
            cluster: None,
            host: Some("127.0.0.1".into()),
            port: Some(proxy.as_ref().map_or(sockudo.port(), TcpProxy::port)),
            use_tls: false,
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
        let state = AppState::new(db, &settings)?;
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
            dir,
        };
        b.serve(listener);
        Ok(b)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(self.state.clone());
        tokio::spawn(async move {
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
    }

    /// Stops answering HTTP (the database stays).
    pub fn stop_http(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Answers again on the same port.
    pub async fn start_http(&mut self) -> Result<()> {
        for _ in 0..50 {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => {
                    self.serve(l);
                    return Ok(());
                }
                // The old listener is still closing.
                Err(_) => tokio::task::yield_now().await,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("port {} did not free up", self.port)
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

    /// Quits the app: the core stops and lets go of the cache; what a restart needs is returned.
    pub async fn close(self) -> (PathBuf, Arc<MemoryTokens>) {
        self.core.close().await;
        (self.data_dir, self.tokens)
    }

    /// A fresh core signed in as user `i`.
    pub async fn sign_in(b: &Backend, i: usize, dir: &tempfile::TempDir) -> Result<Self> {
        let c = Self::open(dir.path().join(format!("user{i}")), Arc::default()).await?;
        c.core
            .sign_in(SignInRequest {
                server_url: b.base.clone(),
                email: b.users[i].user.email.clone(),
                password: b.users[i].password.clone(),
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
    pub async fn until<F, Fut>(&mut self, what: &str, mut check: F)
    where
        F: FnMut(Core) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + WAIT;
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
