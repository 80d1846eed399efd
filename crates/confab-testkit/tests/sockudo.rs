//! The Sockudo harness against the real `sockudo` binary (installed by scripts/bootstrap.sh).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use confab_testkit::{Sockudo, TcpProxy};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn health(server: &Sockudo, app_id: &str) -> Result<u16> {
    let url = format!("{}/up/{app_id}", server.http_base());
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(url)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

/// Connects and returns the socket with the `data` of `pusher:connection_established`.
async fn connect(url: &str) -> Result<(Ws, serde_json::Value)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .context("no first frame within 10 s")?
        .context("socket closed before the first frame")??;
    let Message::Text(text) = first else {
        bail!("first frame is not text: {first:?}")
    };
    let frame: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(frame["event"], "pusher:connection_established", "{frame}");
    // Protocol 7 sends `data` as a JSON-encoded string.
    let data = match &frame["data"] {
        serde_json::Value::String(s) => serde_json::from_str(s)?,
        other => other.clone(),
    };
    Ok((ws, data))
}

#[tokio::test]
async fn sockudo_starts_on_a_free_port_and_answers_health() -> Result<()> {
    let server = Sockudo::start().await?;

    assert_ne!(server.port(), 0);
    assert_eq!(server.host(), "127.0.0.1");
    assert_eq!(
        server.http_base(),
        format!("http://127.0.0.1:{}", server.port())
    );
    assert_eq!(
        health(&server, server.app_id()).await?,
        200,
        "{}",
        server.log_tail(20)
    );
    assert_eq!(health(&server, "no-such-app").await?, 404);
    assert!(!server.key().is_empty() && !server.secret().is_empty());
    assert_ne!(server.key(), server.secret());
    Ok(())
}

#[tokio::test]
async fn two_servers_get_different_ports_and_credentials() -> Result<()> {
    let (a, b) = tokio::try_join!(Sockudo::start(), Sockudo::start())?;

    assert_ne!(a.port(), b.port());
    assert_ne!(a.key(), b.key());
    assert_eq!(health(&b, a.app_id()).await?, 404);
    Ok(())
}

#[tokio::test]
async fn sockudo_greets_a_websocket_client_with_the_configured_activity_timeout() -> Result<()> {
    let server = Sockudo::builder()
        .activity_timeout(Duration::from_secs(30))
        .start()
        .await?;

    let (_ws, data) = connect(&server.ws_url()).await?;

    assert_eq!(data["activity_timeout"], 30, "{data}");
    assert!(
        data["socket_id"]
            .as_str()
            .is_some_and(|id| id.contains('.')),
        "{data}"
    );
    Ok(())
}

#[tokio::test]
async fn sockudo_restarts_on_the_same_port() -> Result<()> {
    // Given a server with a live WebSocket connection (so the port has TCP state after the kill)
    let mut server = Sockudo::start().await?;
    let (port, app_id, key, secret) = (
        server.port(),
        server.app_id().to_owned(),
        server.key().to_owned(),
        server.secret().to_owned(),
    );
    let (mut ws, _) = connect(&server.ws_url()).await?;

    // When it is killed
    server.kill();

    // Then the connection drops without a close handshake and the port refuses
    let next = tokio::time::timeout(Duration::from_secs(10), ws.next()).await?;
    assert!(!matches!(next, Some(Ok(Message::Text(_)))), "{next:?}");
    assert!(!server.is_running());
    assert!(health(&server, &app_id).await.is_err());

    // And when it is restarted, it is back on the same port with the same credentials
    server.restart().await?;
    assert!(server.is_running());
    assert_eq!(server.port(), port);
    assert_eq!(
        (server.app_id(), server.key(), server.secret()),
        (&*app_id, &*key, &*secret)
    );
    assert_eq!(health(&server, &app_id).await?, 200);
    let (_ws, data) = connect(&server.ws_url()).await?;
    assert!(data["socket_id"].is_string());
    Ok(())
}

#[tokio::test]
async fn sockudo_is_reachable_through_the_proxy_until_it_is_cut() -> Result<()> {
    let server = Sockudo::start().await?;
    let proxy = TcpProxy::start(format!("127.0.0.1:{}", server.port()).parse()?).await?;
    let url = format!("ws://{}/app/{}?protocol=7", proxy.addr(), server.key());

    let (mut ws, _) = connect(&url).await?;
    proxy.cut().await;

    let next = tokio::time::timeout(Duration::from_secs(10), ws.next()).await?;
    assert!(matches!(next, None | Some(Err(_))), "{next:?}");
    Ok(())
}

#[tokio::test]
async fn a_server_started_for_the_same_app_serves_its_id_key_and_secret() -> Result<()> {
    let first = Sockudo::start().await?;

    let second = Sockudo::builder().same_app_as(&first).start().await?;

    assert_ne!(first.port(), second.port());
    assert_eq!(
        (second.app_id(), second.key(), second.secret()),
        (first.app_id(), first.key(), first.secret())
    );
    assert_eq!(health(&second, first.app_id()).await?, 200);
    let (_ws, data) = connect(&second.ws_url()).await?;
    assert!(data["socket_id"].is_string(), "{data}");
    Ok(())
}

#[tokio::test]
async fn given_credentials_are_served_and_malformed_ones_refused_before_starting() -> Result<()> {
    let server = Sockudo::builder()
        .credentials("4242", "confab-key", "confab-secret")
        .start()
        .await?;
    assert_eq!(
        (server.app_id(), server.key(), server.secret()),
        ("4242", "confab-key", "confab-secret")
    );
    assert_eq!(health(&server, "4242").await?, 200);

    let refused = Sockudo::builder()
        .credentials("4242", "a key/with a path", "s")
        .start()
        .await;
    let message = format!("{:#}", refused.err().context("a malformed key started")?);
    assert!(message.contains("key"), "{message}");
    Ok(())
}
