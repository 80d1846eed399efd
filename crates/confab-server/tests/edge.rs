//! The recommended deployment, for real: `deploy/Caddyfile` run by Caddy on a random loopback
//! port, terminating TLS with a certificate from a test CA (clients verify against that CA
//! only), in front of the real backend and a real Sockudo. Clients bind distinct loopback
//! addresses (127.0.0.2, 127.0.0.3) so Caddy sees distinct peers.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use confab_server::client_ip::TrustedProxies;
use confab_server::throttle::Policy;
use confab_testkit::{Caddy, EdgeUpstreams};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{TestServer, WAIT};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const VICTIM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// The backend, Sockudo and Caddy in front of both.
struct Edge {
    server: TestServer,
    caddy: Caddy,
}

/// Starts the three. `trust_caddy`: the backend runs with `CONFAB_TRUSTED_PROXIES` covering
/// Caddy's address. The throttle's first delay is stretched to a minute, so "still throttled"
/// does not depend on how fast this machine hashes.
async fn edge(trust_caddy: bool) -> Result<Edge> {
    let proxies = if trust_caddy {
        TrustedProxies::parse("127.0.0.1/32, ::1/128")?
    } else {
        TrustedProxies::default()
    };
    let policy = Policy {
        first_delay: Duration::from_secs(60),
        ..Policy::default()
    };
    let server =
        TestServer::start_configured(None, |s| s.trusting(proxies).with_throttle_policy(policy))
            .await?;
    let caddyfile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/Caddyfile");
    let caddy = Caddy::start(
        &caddyfile,
        EdgeUpstreams {
            api: server.addr,
            sockudo: ([127, 0, 0, 1], server.sockudo.port()).into(),
        },
    )
    .await?;
    Ok(Edge { server, caddy })
}

impl Edge {
    /// An HTTPS client from `from` that trusts the test CA and nothing else.
    fn client(&self, from: Ipv4Addr) -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(
                self.caddy.ca_pem().as_bytes(),
            )?)
            .https_only(true)
            .resolve("localhost", self.caddy.addr())
            .local_address(IpAddr::V4(from))
            .timeout(WAIT)
            .build()?)
    }

    /// `POST /api/auth/login` through Caddy: status, `Retry-After` seconds, body.
    async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
        spoof: &[(&str, &str)],
    ) -> Result<(StatusCode, Option<u64>, Value)> {
        let mut request = client
            .post(format!("{}/api/auth/login", self.caddy.base_url()))
            .json(&json!({"email": email, "password": password}));
        for (name, value) in spoof {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Ok((status, retry_after, response.json().await?))
    }

    /// Forty wrong passwords for `email` from the attacker's address, each claiming in its
    /// headers to come from the victim's address. Returns how many were answered 429.
    async fn guess_forty_times(&self, email: &str) -> Result<usize> {
        let attacker = self.client(ATTACKER)?;
        let spoof = [
            ("x-forwarded-for", "127.0.0.3"),
            ("forwarded", "for=127.0.0.3"),
        ];
        let mut throttled = 0;
        for i in 0..40 {
            let (status, retry_after, body) = self
                .login(&attacker, email, "not-the-password", &spoof)
                .await?;
            match status {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::TOO_MANY_REQUESTS => {
                    assert_eq!(body["error"]["code"], "rate_limited");
                    assert!(retry_after.is_some_and(|s| s >= 1), "Retry-After on 429");
                    throttled += 1;
                }
                other => bail!("guess {i}: unexpected {other} {body}"),
            }
        }
        Ok(throttled)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_wrong_passwords_from_one_address_do_not_stop_a_correct_sign_in_from_another(
) -> Result<()> {
    let edge = edge(true).await?;
    let grace = edge.server.users[1].clone();

    let throttled = edge.guess_forty_times(&grace.user.email).await?;
    assert!(
        throttled >= 40 - 3,
        "the guesser is throttled after its few free failures: {throttled} of 40"
    );

    let victim = edge.client(VICTIM)?;
    let (status, _, body) = edge
        .login(&victim, &grace.user.email, &grace.password, &[])
        .await?;
    assert_eq!(status, StatusCode::OK, "the victim signs in: {body}");
    assert_eq!(body["user"]["email"], grace.user.email.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_everyone_behind_the_edge_is_one_address_and_the_victim_waits(
) -> Result<()> {
    let edge = edge(false).await?;
    let grace = edge.server.users[1].clone();

    edge.guess_forty_times(&grace.user.email).await?;

    let victim = edge.client(VICTIM)?;
    let (status, retry_after, body) = edge
        .login(&victim, &grace.user.email, &grace.password, &[])
        .await?;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "every client is Caddy's 127.0.0.1, so the guesser's failures are the victim's: {body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    let retry_after = retry_after.ok_or_else(|| anyhow!("no Retry-After"))?;
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After within the stretched first delay: {retry_after}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_carries_the_websocket_to_sockudo_and_never_exposes_its_http_api() -> Result<()> {
    let edge = edge(true).await?;
    let sockudo = &edge.server.sockudo;

    // The WebSocket, over TLS verified against the test CA, at /app/{key}.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(
        edge.caddy.ca_der().to_vec(),
    ))?;
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let url = format!(
        "wss://localhost:{}/app/{}?protocol=7&client=edge-test&version=1",
        edge.caddy.port(),
        sockudo.key()
    );
    let tcp = tokio::net::TcpStream::connect(edge.caddy.addr()).await?;
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async_tls_with_config(
            url.into_client_request()?,
            tcp,
            None,
            Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
        ),
    )
    .await
    .context("the WebSocket handshake through caddy timed out")??;
    let first = tokio::time::timeout(WAIT, ws.next())
        .await
        .context("no frame through caddy")?
        .ok_or_else(|| anyhow!("closed before the first frame"))??;
    let WsMessage::Text(text) = first else {
        bail!("expected a text frame, got {first:?}");
    };
    let frame: Value = serde_json::from_str(text.as_str())?;
    assert_eq!(frame["event"], "pusher:connection_established", "{frame}");

    // Sockudo's HTTP API is there directly, and not through the edge.
    let direct = reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()?;
    let client = edge.client(VICTIM)?;
    for path in [
        format!("/apps/{}/channels", sockudo.app_id()),
        format!("/apps/{}/events", sockudo.app_id()),
        "/apps".to_owned(),
    ] {
        let upstream = direct
            .post(format!("{}{path}", sockudo.http_base()))
            .body("{}")
            .send()
            .await?
            .status();
        let through = client
            .post(format!("{}{path}", edge.caddy.base_url()))
            .body("{}")
            .send()
            .await?;
        let (status, body) = (through.status(), through.text().await?);
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path} through the edge: {body}"
        );
        assert!(
            path == "/apps" || upstream != StatusCode::NOT_FOUND,
            "{path} exists on Sockudo itself ({upstream}), so the edge is what hides it"
        );
    }
    Ok(())
}
