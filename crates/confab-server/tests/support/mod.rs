//! Shared harness for the integration tests: the real `app()` on 127.0.0.1:0 with a real
//! Sockudo, seeded users, a small REST client, and a raw WebSocket subscriber.
//!
//! The storage engine: SQLite (a file in a temporary directory) unless
//! `CONFAB_TEST_ENGINE=postgres`, which puts every test's backend on a fresh database of one
//! real PostgreSQL server per test binary (`confab_testkit::Postgres::shared`, started on a free
//! loopback port as an unprivileged user). `scripts/test.sh` runs the suite both ways.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use confab_model::User;
use confab_server::config::{PusherSettings, Storage};
use confab_server::realtime::Publisher;
use confab_server::write_limit::WriteLimits;
use confab_server::{app, auth, store, AppState, Db};
use confab_testkit::Sockudo;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long to wait for an event or response before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// A seeded user with their password.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The user.
    pub user: User,
    /// Their password.
    pub password: String,
}

/// A running backend + Sockudo.
pub struct TestServer {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// `127.0.0.1:{port}`.
    pub addr: SocketAddr,
    /// The Sockudo behind it.
    pub sockudo: Sockudo,
    /// Ada, Grace, Linus.
    pub users: Vec<Seeded>,
    /// The state (for direct database checks).
    pub state: AppState,
    /// Where its data lives (for the `users` command line, and to open it again as a
    /// restarted server would).
    pub storage: Storage,
    _dir: tempfile::TempDir,
}

/// Another backend on a [`TestServer`]'s storage (see [`TestServer::replica`]); stops serving
/// when dropped.
pub struct Replica {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// Its state (its own database handle).
    pub state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Replica {
    /// `api`'s session, sent to this replica instead.
    pub fn client(&self, api: &Api) -> Api {
        Api {
            base: self.base.clone(),
            ..api.clone()
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether this run puts the backends on PostgreSQL (`CONFAB_TEST_ENGINE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("CONFAB_TEST_ENGINE").is_ok_and(|e| e.trim().eq_ignore_ascii_case("postgres"))
}

/// A fresh, empty place for a backend's data on the engine of this run: a SQLite file in
/// `dir`, or a new database on the shared PostgreSQL server.
pub fn fresh_storage(dir: &std::path::Path) -> Result<Storage> {
    if on_postgres() {
        let pg = confab_testkit::Postgres::shared()?;
        Ok(Storage::Postgres(pg.fresh_database()?))
    } else {
        Ok(Storage::Sqlite(dir.join("confab.db")))
    }
}

/// Opens (migrating) the database at `storage`, as a starting server does.
pub async fn open_db(storage: &Storage) -> Result<Db> {
    let storage = storage.clone();
    // The PostgreSQL client blocks: off the async threads.
    Ok(tokio::task::spawn_blocking(move || storage.open()).await??)
}

/// The `confab-server` command-line flags naming `storage`.
pub fn storage_args(storage: &Storage) -> Vec<String> {
    match storage {
        Storage::Sqlite(path) => vec!["--db".into(), path.display().to_string()],
        Storage::Postgres(url) => vec!["--database-url".into(), url.clone()],
    }
}

impl TestServer {
    /// Starts Sockudo, a fresh database with three users, and the app with the real publisher.
    pub async fn start() -> Result<Self> {
        Self::start_with(None).await
    }

    /// Like [`start`](Self::start), with a substitute publisher when given.
    pub async fn start_with(publisher: Option<Arc<dyn Publisher>>) -> Result<Self> {
        Self::start_configured(publisher, |s| s).await
    }

    /// Like [`start`](Self::start), with other per-user write limits.
    pub async fn start_limited(limits: WriteLimits) -> Result<Self> {
        Self::start_configured(None, move |s| s.with_write_limits(limits)).await
    }

    /// Like [`start_with`](Self::start_with), the state passed through `configure` first
    /// (trusted proxies, a throttle policy, write limits).
    pub async fn start_configured(
        publisher: Option<Arc<dyn Publisher>>,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Result<Self> {
        Self::start_in(fresh_storage, publisher, configure).await
    }

    /// Like [`start_limited`](Self::start_limited), on SQLite whatever the run's engine: for
    /// what only SQLite has (`confab-server backup` copies its file; PostgreSQL has pg_dump).
    pub async fn start_on_sqlite(limits: WriteLimits) -> Result<Self> {
        Self::start_in(
            |dir| Ok(Storage::Sqlite(dir.join("confab.db"))),
            None,
            move |s| s.with_write_limits(limits),
        )
        .await
    }

    /// Like [`start`](Self::start), on a fresh database of the shared PostgreSQL server whatever
    /// the run's engine: for what only replicas on one database show.
    pub async fn start_on_postgres() -> Result<Self> {
        Self::start_in(
            |_| {
                let pg = confab_testkit::Postgres::shared()?;
                Ok(Storage::Postgres(pg.fresh_database()?))
            },
            None,
            |s| s,
        )
        .await
    }

    async fn start_in(
        storage: impl FnOnce(&std::path::Path) -> Result<Storage>,
        publisher: Option<Arc<dyn Publisher>>,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Result<Self> {
        let sockudo = Sockudo::start().await?;
        let settings = PusherSettings::of_local(&sockudo);
        let dir = tempfile::tempdir()?;
        let storage = storage(dir.path())?;
        let db = open_db(&storage).await?;
        let mut users = Vec::new();
        for (email, name) in [
            ("ada@example.test", "Ada"),
            ("grace@example.test", "Grace"),
            ("linus@example.test", "Linus"),
        ] {
            let password = format!("pw-{name}-secret");
            let hash = auth::hash_password(&password)?;
            let user = db
                .write(move |c| store::users::create_user(c, email, name, &hash))
                .await?;
            users.push(Seeded { user, password });
        }
        let state = match publisher {
            Some(p) => AppState::with_publisher(db, &settings, p),
            None => AppState::new(db, &settings)?,
        };
        let state = configure(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = app(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Ok(Self {
            base: format!("http://{addr}"),
            addr,
            sockudo,
            users,
            state,
            storage,
            _dir: dir,
        })
    }

    /// A second backend process in all but name: its own database handle (its own connection
    /// pool) on the same storage, its own state and listener, the same Sockudo. On PostgreSQL
    /// this is what a second replica behind a load balancer is.
    pub async fn replica(&self) -> Result<Replica> {
        self.replica_on(&self.storage).await
    }

    /// A backend on other storage (a database this one's was moved to), with the same Sockudo;
    /// nothing is seeded.
    pub async fn replica_on(&self, storage: &Storage) -> Result<Replica> {
        let db = open_db(storage).await?;
        let state = AppState::new(db, &PusherSettings::of_local(&self.sockudo))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = app(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Ok(Replica {
            base: format!("http://{addr}"),
            state,
            task,
        })
    }

    /// A REST client for `base`, logged in as seeded user `i` (0 Ada, 1 Grace, 2 Linus).
    pub async fn login(&self, i: usize) -> Result<Api> {
        let api = Api::anonymous(&self.base)?;
        let (status, body) = api
            .post(
                "/api/auth/login",
                &json!({"email": self.users[i].user.email, "password": self.users[i].password}),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("login failed: {status} {body}");
        }
        let token = body["token"]
            .as_str()
            .ok_or_else(|| anyhow!("no token in {body}"))?;
        Ok(Api {
            token: Some(token.to_owned()),
            ..api
        })
    }

    /// A WebSocket listener connected to Sockudo, authorizing through `api`.
    pub async fn listen(&self, api: &Api) -> Result<Listener> {
        Listener::connect(&self.sockudo.ws_url(), api.clone()).await
    }

    /// Creates a conversation through the API and returns its id.
    pub async fn conversation(&self, api: &Api, members: &[usize]) -> Result<i64> {
        let ids: Vec<i64> = members.iter().map(|&i| self.users[i].user.id).collect();
        let (status, body) = api
            .post("/api/conversations", &json!({"memberIds": ids}))
            .await?;
        if status != StatusCode::CREATED {
            bail!("creating a conversation: {status} {body}");
        }
        body["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id in {body}"))
    }
}

impl TestServer {
    /// Creates a group (a title makes it one) through the API and returns its id.
    pub async fn group(&self, api: &Api, title: &str, members: &[usize]) -> Result<i64> {
        let ids: Vec<i64> = members.iter().map(|&i| self.users[i].user.id).collect();
        let (status, body) = api
            .post(
                "/api/conversations",
                &json!({"title": title, "memberIds": ids}),
            )
            .await?;
        if status != StatusCode::CREATED || body["kind"] != "group" {
            bail!("creating a group: {status} {body}");
        }
        body["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id in {body}"))
    }

    /// Seeded user `i`'s id.
    pub fn id(&self, i: usize) -> i64 {
        self.users[i].user.id
    }
}

/// Posts `text` to `room` as `api`'s user (the text is its client id too): its seq.
pub async fn post_text(api: &Api, room: i64, text: &str) -> Result<i64> {
    let (status, body) = api
        .post(
            &format!("/api/conversations/{room}/messages"),
            &json!({"content": text, "clientId": text}),
        )
        .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "posting: {status} {body}");
    body["seq"]
        .as_i64()
        .ok_or_else(|| anyhow!("no seq in {body}"))
}

/// The seqs of a sync page's changes, in order.
pub fn page_seqs(page: &Value) -> Vec<i64> {
    page["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["seq"].as_i64())
        .collect()
}

/// A tiny REST client; `token` is sent as a bearer token when set.
#[derive(Clone)]
pub struct Api {
    /// The base URL.
    pub base: String,
    /// The bearer token.
    pub token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    /// A client without a token.
    pub fn anonymous(base: &str) -> Result<Self> {
        Ok(Self {
            base: base.to_owned(),
            token: None,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(WAIT)
                .build()?,
        })
    }

    /// A client without a token that sends through `http` (one that trusts an edge's test CA,
    /// say).
    pub fn anonymous_over(base: &str, http: reqwest::Client) -> Self {
        Self {
            base: base.to_owned(),
            token: None,
            http,
        }
    }

    /// The same client with another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends a built request and returns status and JSON body (`Null` when empty).
    pub async fn send(&self, r: reqwest::RequestBuilder) -> Result<(StatusCode, Value)> {
        let response = r.send().await?;
        let status = response.status();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("non-JSON body: {text}"))?
        };
        Ok((status, body))
    }

    /// `POST path` with a JSON body; also the response headers.
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Value)> {
        let response = self
            .req(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, headers, body))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<(StatusCode, Value)> {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<(StatusCode, Value)> {
        self.send(self.req(reqwest::Method::POST, path).json(body))
            .await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<(StatusCode, Value)> {
        self.send(self.req(reqwest::Method::PATCH, path).json(body))
            .await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<(StatusCode, Value)> {
        self.send(self.req(reqwest::Method::PUT, path).json(body))
            .await
    }

    /// Every change `GET /api/sync` has for the caller after `since`, all pages, in order.
    pub async fn changes_since(&self, since: i64) -> Result<Vec<Value>> {
        let mut since = since;
        let mut all = Vec::new();
        loop {
            let (status, page) = self.get(&format!("/api/sync?since={since}")).await?;
            if status != StatusCode::OK {
                bail!("sync failed: {status} {page}");
            }
            all.extend(page["changes"].as_array().cloned().unwrap_or_default());
            since = page["nextSince"]
                .as_i64()
                .ok_or_else(|| anyhow!("no nextSince in {page}"))?;
            if page["hasMore"] != true {
                return Ok(all);
            }
        }
    }

    /// The caller's sync cursor now: the seq of the last change they can see.
    pub async fn cursor(&self) -> Result<i64> {
        Ok(self
            .changes_since(0)
            .await?
            .last()
            .and_then(|c| c["seq"].as_i64())
            .unwrap_or(0))
    }

    /// `POST path` with a JSON body and an `X-Socket-Id` header.
    pub async fn post_from_socket(
        &self,
        path: &str,
        body: &Value,
        socket_id: &str,
    ) -> Result<(StatusCode, Value)> {
        self.send(
            self.req(reqwest::Method::POST, path)
                .header("X-Socket-Id", socket_id)
                .json(body),
        )
        .await
    }

    /// `POST path` with a raw body and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Result<(StatusCode, Value)> {
        self.send(
            self.req(reqwest::Method::POST, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await
    }

    /// `POST /api/pusher/auth` as pusher-js sends it (form-urlencoded).
    pub async fn pusher_auth(&self, socket_id: &str, channel: &str) -> Result<(StatusCode, Value)> {
        self.send(
            self.req(reqwest::Method::POST, "/api/pusher/auth")
                .form(&[("socket_id", socket_id), ("channel_name", channel)]),
        )
        .await
    }
}

/// A minimal Pusher protocol 7 subscriber over a raw WebSocket.
pub struct Listener {
    /// This connection's socket id.
    pub socket_id: String,
    api: Api,
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// One received event.
#[derive(Debug, Clone)]
pub struct Received {
    /// The channel.
    pub channel: String,
    /// The event name.
    pub event: String,
    /// The data, parsed from its JSON string.
    pub data: Value,
}

impl Listener {
    /// A listener on a new WebSocket to `url` (a Sockudo), authorizing through `api`.
    pub async fn connect(url: &str, api: Api) -> Result<Self> {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .context("connecting to sockudo timed out")??;
        Self::over(ws, api).await
    }

    /// A listener on a WebSocket the caller opened (through an edge, over TLS): waits for
    /// `pusher:connection_established`.
    pub async fn over(
        mut ws: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        api: Api,
    ) -> Result<Self> {
        let first = next_frame(&mut ws).await?;
        if first["event"] != "pusher:connection_established" {
            bail!("expected connection_established, got {first}");
        }
        let data: Value = serde_json::from_str(first["data"].as_str().unwrap_or("{}"))?;
        let socket_id = data["socket_id"]
            .as_str()
            .ok_or_else(|| anyhow!("no socket_id in {data}"))?
            .to_owned();
        Ok(Self { socket_id, api, ws })
    }

    /// Authorizes through `/api/pusher/auth` and subscribes; waits for
    /// `pusher_internal:subscription_succeeded`.
    pub async fn subscribe(&mut self, channel: &str) -> Result<()> {
        let (status, auth) = self.api.pusher_auth(&self.socket_id, channel).await?;
        if status != StatusCode::OK {
            bail!("auth for {channel} refused: {status} {auth}");
        }
        let mut data = json!({"channel": channel, "auth": auth["auth"]});
        if let Some(cd) = auth.get("channel_data") {
            data["channel_data"] = cd.clone();
        }
        self.send(&json!({"event": "pusher:subscribe", "data": data}))
            .await?;
        loop {
            let frame = next_frame(&mut self.ws).await?;
            match frame["event"].as_str() {
                Some("pusher_internal:subscription_succeeded") if frame["channel"] == channel => {
                    return Ok(())
                }
                Some("pusher:error") | Some("pusher:subscription_error") => {
                    bail!("subscription to {channel} failed: {frame}")
                }
                _ => {}
            }
        }
    }

    /// Signs the socket in as the API's user through `/api/pusher/user-auth` (`pusher:signin`);
    /// waits for `pusher:signin_success`.
    pub async fn signin(&mut self) -> Result<()> {
        let (status, auth) = self
            .api
            .send(
                self.api
                    .req(reqwest::Method::POST, "/api/pusher/user-auth")
                    .form(&[("socket_id", self.socket_id.as_str())]),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("user auth refused: {status} {auth}");
        }
        self.send(&json!({"event": "pusher:signin", "data": auth}))
            .await?;
        loop {
            let frame = next_frame(&mut self.ws).await?;
            match frame["event"].as_str() {
                Some("pusher:signin_success") => return Ok(()),
                Some("pusher:error") => bail!("sign-in refused: {frame}"),
                _ => {}
            }
        }
    }

    /// Waits (at most `within`) for the server to close this socket, skipping any frames
    /// before; returns the close code.
    pub async fn closed_within(&mut self, within: Duration) -> Result<Option<u16>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .context("the socket was not closed in time")?;
            match msg {
                None | Some(Err(_)) => return Ok(None),
                Some(Ok(WsMessage::Close(frame))) => {
                    return Ok(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Sends a raw protocol frame.
    pub async fn send(&mut self, frame: &Value) -> Result<()> {
        self.ws.send(WsMessage::text(frame.to_string())).await?;
        Ok(())
    }

    /// The next event named `event` (on any channel), skipping protocol and other events.
    pub async fn next(&mut self, event: &str) -> Result<Received> {
        loop {
            let frame = next_frame(&mut self.ws).await?;
            if frame["event"] == event {
                let data = match &frame["data"] {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
                    other => other.clone(),
                };
                return Ok(Received {
                    channel: frame["channel"].as_str().unwrap_or_default().to_owned(),
                    event: event.to_owned(),
                    data,
                });
            }
        }
    }
}

async fn next_frame(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Result<Value> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .context("no frame from sockudo within the timeout")?
            .ok_or_else(|| anyhow!("websocket closed"))??;
        if let WsMessage::Text(text) = msg {
            let frame: Value = serde_json::from_str(text.as_str())?;
            if frame["event"] == "pusher:ping" {
                ws.send(WsMessage::text(
                    json!({"event": "pusher:pong", "data": {}}).to_string(),
                ))
                .await?;
                continue;
            }
            return Ok(frame);
        }
    }
}
