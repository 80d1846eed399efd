//! The multi-node deployment, for real: `deploy/multi-node/Caddyfile` run by Caddy on a random
//! loopback port, terminating TLS with a certificate from a test CA, in front of two backend
//! replicas on one PostgreSQL database and two Sockudo nodes of one cluster over a real Redis.
//! Each replica triggers on its own node, as in the kit. A replica stops as on SIGTERM (it stops
//! accepting and closes every connection); a node is killed. Caddy must route around either.
//!
//! Needs a `sockudo` built with its redis feature (`scripts/bootstrap.sh`, or `SOCKUDO_BIN`).

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, ensure, Context, Result};
use confab_model::ChannelName;
use confab_server::config::PusherSettings;
use confab_server::realtime::{HttpPublisher, OutEvent, Publisher};
use confab_server::{app, AppState};
use confab_testkit::{Adapter, BalancedUpstreams, Caddy, Redis, Sockudo};
use reqwest::StatusCode;
use serde_json::json;
use support::{Api, Listener, TestServer, WAIT};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// One replica behind the edge, with a count of the API requests it served (the edge's health
/// checks are not counted: they are not what a client sent).
struct Backend {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Backend {
    /// A replica on `server`'s database that triggers on `node`.
    async fn start(server: &TestServer, node: &Sockudo) -> Result<Self> {
        let db = support::open_db(&server.storage).await?;
        let state = AppState::new(db, &PusherSettings::of_local(node))?;
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let router = app(state).layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                if request.uri().path().starts_with("/api/") {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            },
        ));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Self {
            addr,
            hits,
            stop: Some(stop),
            task,
        })
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops as a replica does on SIGTERM: no new connection, idle ones closed, the request in
    /// flight answered. Returns once the listener and every connection are closed.
    async fn stop(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .context("the replica did not close its connections in time")??;
        Ok(())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The whole layout: the seeded primary (not behind the edge; it owns the database and the
/// users), Redis, two nodes, two replicas and Caddy.
struct Deployment {
    server: TestServer,
    nodes: [Sockudo; 2],
    backends: [Backend; 2],
    caddy: Caddy,
    _redis: Redis,
}

async fn deployment() -> Result<Deployment> {
    let server = TestServer::start_on_postgres().await?;
    let redis = Redis::start().await?;
    let adapter = Adapter::redis(redis.url(), "confab-balance");
    let one = Sockudo::builder().adapter(adapter.clone()).start().await?;
    let two = Sockudo::builder()
        .adapter(adapter)
        .same_app_as(&one)
        .start()
        .await?;
    let backends = [
        Backend::start(&server, &one).await?,
        Backend::start(&server, &two).await?,
    ];
    let caddyfile =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/multi-node/Caddyfile");
    let caddy = Caddy::start_balanced(
        &caddyfile,
        &BalancedUpstreams {
            api: backends.iter().map(|b| b.addr).collect(),
            sockudo: [&one, &two]
                .iter()
                .map(|n| SocketAddr::from(([127, 0, 0, 1], n.port())))
                .collect(),
        },
    )
    .await?;
    Ok(Deployment {
        server,
        nodes: [one, two],
        backends,
        caddy,
        _redis: redis,
    })
}

impl Deployment {
    /// An HTTPS client that trusts the test CA and nothing else, reaching Caddy as `localhost`.
    fn https(&self) -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(
                self.caddy.ca_pem().as_bytes(),
            )?)
            .https_only(true)
            .resolve("localhost", self.caddy.addr())
            .timeout(WAIT)
            .build()?)
    }

    /// Seeded user `i` signed in through the edge.
    async fn login(&self, i: usize) -> Result<Api> {
        let api = Api::anonymous_over(&self.caddy.base_url(), self.https()?);
        let seeded = &self.server.users[i];
        let (status, body) = api
            .post(
                "/api/auth/login",
                &json!({"email": seeded.user.email, "password": seeded.password}),
            )
            .await?;
        ensure!(
            status == StatusCode::OK,
            "login through the edge: {status} {body}"
        );
        let token = body["token"]
            .as_str()
            .ok_or_else(|| anyhow!("no token in {body}"))?;
        Ok(api.with_token(token))
    }

    /// A Pusher WebSocket through the edge over TLS (verified against the test CA), which
    /// authorizes its subscriptions through `api` (the edge too).
    async fn listen(&self, api: &Api) -> Result<Listener> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from(
            self.caddy.ca_der().to_vec(),
        ))?;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let url = format!(
            "wss://localhost:{}/app/{}?protocol=7&client=balance-test&version=1",
            self.caddy.port(),
            self.nodes[0].key()
        );
        let tcp = tokio::net::TcpStream::connect(self.caddy.addr()).await?;
        let (ws, _) = tokio::time::timeout(
            WAIT,
            tokio_tungstenite::client_async_tls_with_config(
                url.into_client_request()?,
                tcp,
                None,
                Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
            ),
        )
        .await
        .context("the WebSocket handshake through the edge timed out")??;
        Listener::over(ws, api.clone()).await
    }

    /// A conversation of Ada (`ada`) and Grace, made through the edge.
    async fn room(&self, ada: &Api) -> Result<i64> {
        let (status, body) = ada
            .post(
                "/api/conversations",
                &json!({"memberIds": [self.server.id(1)]}),
            )
            .await?;
        ensure!(status == StatusCode::CREATED, "{status} {body}");
        body["id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no id in {body}"))
    }

    /// Triggers `balance-check` with `{"node": n}` on `channel` through node `n`'s own HTTP
    /// API, signed as the backends sign.
    async fn trigger_on_node(&self, n: usize, channel: &str) -> Result<()> {
        let publisher = HttpPublisher::new(&PusherSettings::of_local(&self.nodes[n]))?;
        publisher
            .publish(&OutEvent {
                channels: vec![channel.to_owned()],
                name: "balance-check",
                data: json!({"node": n}).to_string(),
                exclude_socket_id: None,
            })
            .await
            .with_context(|| format!("triggering through node {n}"))?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_requests_through_the_edge_reach_both_replicas_and_keep_succeeding_after_one_stops(
) -> Result<()> {
    let mut d = deployment().await?;
    let ada = d.login(0).await?;
    let room = d.room(&ada).await?;

    // Round robin: a few reads reach both replicas.
    for _ in 0..10 {
        let (status, body) = ada.get("/api/me").await?;
        ensure!(status == StatusCode::OK, "{status} {body}");
        if d.backends.iter().all(|b| b.hits() > 0) {
            break;
        }
    }
    let served: Vec<usize> = d.backends.iter().map(Backend::hits).collect();
    assert!(
        served.iter().all(|&n| n > 0),
        "both replicas served requests through the edge: {served:?}"
    );

    d.backends[0].stop().await?;
    let (first_before, second_before) = (d.backends[0].hits(), d.backends[1].hits());

    // Reads keep working at once: round robin sends one of any two to the stopped replica,
    // which refuses the connection; the edge retries it on the other and, by that failure (its
    // passive check), leaves the stopped one out from then on.
    const READS: usize = 4;
    for i in 0..READS {
        let (status, body) = ada.get("/api/me").await?;
        assert_eq!(
            status,
            StatusCode::OK,
            "read {i} after the stop: {body}; caddy:\n{}",
            d.caddy.log()
        );
    }
    // So do sign-ins and posts, which the edge cannot retry: with Debian's Caddy 2.6 a request
    // with a body is lost (502) when its first try found a dead replica (Caddy's retry resends
    // a body the failed try already closed), so these rely on the stopped one being out.
    const ROUNDS: usize = 5;
    let path = format!("/api/conversations/{room}/messages");
    for i in 0..ROUNDS {
        d.login(1)
            .await
            .with_context(|| format!("round {i}: signing in; caddy:\n{}", d.caddy.log()))?;
        let (status, body) = ada
            .post(
                &path,
                &json!({"content": format!("after the stop {i}"), "clientId": format!("s{i}")}),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "round {i}: posting: {body}");
        let (status, body) = ada.get(&path).await?;
        assert_eq!(status, StatusCode::OK, "round {i}: reading: {body}");
    }
    assert_eq!(
        d.backends[0].hits(),
        first_before,
        "nothing reached the stopped one"
    );
    assert_eq!(
        d.backends[1].hits() - second_before,
        READS + 3 * ROUNDS,
        "the other replica served every request once"
    );
    let (_, page) = ada.get(&format!("{path}?limit=100")).await?;
    assert_eq!(
        page.as_array().map(Vec::len),
        Some(ROUNDS),
        "every message was stored: {page}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_through_the_edge_gets_events_triggered_through_either_node_even_after_one_dies(
) -> Result<()> {
    let mut d = deployment().await?;
    let ada = d.login(0).await?;
    let grace = d.login(1).await?;
    let room = d.room(&ada).await?;
    let channel = ChannelName::chat_room(room);

    let mut grace_ws = d.listen(&grace).await?;
    grace_ws.subscribe(&channel).await?;
    // Whichever node the edge chose for her socket, an event triggered through either node
    // reaches it: one of the two is the other node, relayed over Redis.
    for n in 0..2 {
        d.trigger_on_node(n, &channel).await?;
        let got = grace_ws.next("balance-check").await?;
        assert_eq!(got.data, json!({"node": n}), "{got:?}");
    }
    // And the app's own traffic: Ada's posts, spread over both replicas, each triggering on its
    // own node, all reach Grace's one socket, in order.
    let before: Vec<usize> = d.backends.iter().map(Backend::hits).collect();
    for i in 0..4 {
        let (status, sent) = ada
            .post(
                &format!("/api/conversations/{room}/messages"),
                &json!({"content": format!("hello {i}"), "clientId": format!("w{i}")}),
            )
            .await?;
        ensure!(status == StatusCode::CREATED, "{status} {sent}");
        let got = grace_ws.next("new-message").await?;
        assert_eq!(got.data["id"], sent["id"], "message {i}");
    }
    let after: Vec<usize> = d.backends.iter().map(Backend::hits).collect();
    assert!(
        before.iter().zip(&after).all(|(b, a)| a > b),
        "both replicas took posts (so both nodes triggered): {before:?} -> {after:?}"
    );

    // Node one dies. A socket opened through the edge now still connects (a refused
    // connection is retried on the other node) and gets what node two triggers.
    d.nodes[0].kill();
    let mut late = d.listen(&grace).await?;
    late.subscribe(&channel).await?;
    d.trigger_on_node(1, &channel).await?;
    let got = late.next("balance-check").await?;
    assert_eq!(got.data, json!({"node": 1}));
    Ok(())
}
