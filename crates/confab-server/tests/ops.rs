//! What an operator relies on, on the real server: `/readyz` tells a load balancer when this
//! replica cannot serve (database writer stopped, Pusher HTTP API gone), the metrics listener's
//! counters move with the traffic, and large JSON answers are compressed for clients that ask.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, ensure, Result};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{TestServer, WAIT};

/// Serves the metrics router on its own loopback port, as `CONFAB_METRICS_BIND` does.
async fn metrics_listener(server: &TestServer) -> Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr: SocketAddr = listener.local_addr()?;
    let router = confab_server::routes::observe::metrics_router(server.state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{addr}/metrics"))
}

/// The value of the first sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

async fn scrape(url: &str) -> Result<String> {
    let response = reqwest::get(url).await?;
    ensure!(
        response.status() == StatusCode::OK,
        "scrape: {}",
        response.status()
    );
    Ok(response.text().await?)
}

/// Scrapes until `series` satisfies `pred`, under [`WAIT`].
async fn until_sample(url: &str, series: &str, pred: impl Fn(f64) -> bool) -> Result<f64> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = scrape(url).await?;
        if let Some(v) = sample(&text, series).filter(|v| pred(*v)) {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow!("`{series}` never got there; last scrape:\n{text}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn readiness(base: &str) -> Result<(StatusCode, Value)> {
    let response = reqwest::get(format!("{base}/readyz")).await?;
    Ok((response.status(), response.json().await?))
}

#[tokio::test]
async fn readyz_is_ready_with_its_dependencies_and_names_sockudo_when_it_is_gone() -> Result<()> {
    let mut server = TestServer::start().await?;
    let (status, body) = readiness(&server.base).await?;
    ensure!(status == StatusCode::OK, "{status} {body}");
    ensure!(
        body == json!({"status": "ready", "database": true, "pusher": true}),
        "{body}"
    );

    server.sockudo.kill();
    let (status, body) = readiness(&server.base).await?;
    ensure!(status == StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
    ensure!(
        body["pusher"] == false && body["database"] == true,
        "{body}"
    );
    // Liveness is another question: the process is alive and must not be restarted for this.
    let alive = reqwest::get(format!("{}/healthz", server.base)).await?;
    ensure!(alive.status() == StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn readyz_fails_once_the_database_writer_has_stopped() -> Result<()> {
    let server = TestServer::start().await?;
    server.state.db().close();
    let (status, body) = readiness(&server.base).await?;
    ensure!(status == StatusCode::SERVICE_UNAVAILABLE, "{status} {body}");
    ensure!(
        body["database"] == false && body["pusher"] == true,
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_metrics_scrape_shows_requests_commits_and_trigger_retries_moving() -> Result<()> {
    let mut server = TestServer::start().await?;
    let url = metrics_listener(&server).await?;
    let ada = server.login(0).await?;
    let room = server.group(&ada, "Metrics", &[0, 1]).await?;
    let listed =
        r#"confab_http_requests_total{method="GET",route="/api/conversations",status="200"}"#;
    let before = sample(&scrape(&url).await?, listed).unwrap_or(0.0);
    for _ in 0..3 {
        let (status, _) = ada.get("/api/conversations").await?;
        ensure!(status == StatusCode::OK);
    }
    until_sample(&url, listed, |v| v >= before + 3.0).await?;
    let latency =
        r#"confab_http_request_duration_seconds_count{method="GET",route="/api/conversations"}"#;
    until_sample(&url, latency, |v| v >= 3.0).await?;
    // The route template, never the concrete path: ids do not make new series.
    let text = scrape(&url).await?;
    ensure!(
        !text.contains(&format!("/api/conversations/{room}")),
        "a concrete path leaked into a label"
    );

    let commits = sample(&text, r#"confab_db_commits_total{outcome="ok"}"#).unwrap_or(0.0);
    let path = format!("/api/conversations/{room}/messages");
    let (status, _) = ada
        .post(
            &path,
            &json!({"content": "counted", "clientId": "metrics-1"}),
        )
        .await?;
    ensure!(status == StatusCode::CREATED);
    until_sample(&url, r#"confab_db_commits_total{outcome="ok"}"#, |v| {
        v > commits
    })
    .await?;
    until_sample(
        &url,
        r#"confab_pusher_events_total{outcome="delivered"}"#,
        |v| v >= 1.0,
    )
    .await?;

    // With Sockudo gone the trigger fails and is retried: the operator sees it.
    server.sockudo.kill();
    let (status, _) = ada
        .post(
            &path,
            &json!({"content": "retried", "clientId": "metrics-2"}),
        )
        .await?;
    ensure!(
        status == StatusCode::CREATED,
        "a trigger failure never fails the request"
    );
    until_sample(&url, "confab_pusher_retries_total", |v| v >= 1.0).await?;
    Ok(())
}

#[tokio::test]
async fn a_large_json_answer_is_gzip_compressed_for_a_client_that_asks() -> Result<()> {
    let server = TestServer::start().await?;
    let ada = server.login(0).await?;
    let room = server.group(&ada, "Long", &[0, 1]).await?;
    for i in 0..20 {
        let (status, _) = ada
            .post(
                &format!("/api/conversations/{room}/messages"),
                &json!({"content": format!("A long enough line of text, number {i}."), "clientId": format!("z{i}")}),
            )
            .await?;
        ensure!(status == StatusCode::CREATED);
    }
    let token = ada.token.clone().expect("signed in");
    // A client without automatic decompression, to see what travels.
    let raw = reqwest::Client::builder().no_gzip().build()?;
    let url = format!("{}/api/sync?since=0", server.base);
    let zipped = raw
        .get(&url)
        .bearer_auth(&token)
        .header("accept-encoding", "gzip")
        .send()
        .await?;
    ensure!(zipped.status() == StatusCode::OK);
    ensure!(
        zipped
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            == Some("gzip"),
        "{:?}",
        zipped.headers()
    );
    let zipped_len = zipped.bytes().await?.len();
    let plain = raw.get(&url).bearer_auth(&token).send().await?;
    ensure!(
        plain.headers().get("content-encoding").is_none(),
        "plain for a client that does not ask"
    );
    let plain_len = plain.bytes().await?.len();
    println!("sync page: {plain_len} bytes plain, {zipped_len} gzip");
    ensure!(zipped_len * 3 < plain_len, "{zipped_len} vs {plain_len}");
    Ok(())
}

#[tokio::test]
async fn one_address_with_too_many_requests_in_flight_is_told_to_wait_while_another_is_served(
) -> Result<()> {
    use std::net::IpAddr;
    let server = TestServer::start_configured(None, |s| s.with_per_address_in_flight(2)).await?;
    let ada = server.login(0).await?;
    let room = server.group(&ada, "Busy", &[0, 1]).await?;
    let token = ada.token.clone().expect("signed in");
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(IpAddr::from(ip))
            .build()
    };
    let (busy, other) = (from([127, 0, 0, 2])?, from([127, 0, 0, 3])?);

    // Hold the change counter, so writes stay in flight as on a stalled disk: on SQLite this
    // holds the one writer, on PostgreSQL the counter row every message waits for.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let db = server.state.db().clone();
    let (taken, mut counter_held) = tokio::sync::mpsc::unbounded_channel::<()>();
    let holder = tokio::spawn(async move {
        db.write(move |c| {
            confab_server::db::next_seq(c)?;
            let _ = taken.send(());
            let _ = held.recv();
            Ok::<_, confab_server::db::DbError>(())
        })
        .await
    });
    tokio::time::timeout(WAIT, counter_held.recv()).await?;
    let url = format!("{}/api/conversations/{room}/messages", server.base);
    let mut writes = Vec::new();
    for i in 0..2 {
        let req = busy
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({"content": format!("stalled {i}"), "clientId": format!("s{i}")}));
        writes.push(tokio::spawn(req.send()));
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while server.state.in_flight().of(IpAddr::from([127, 0, 0, 2])) < 2 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the writes never got in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let third = busy
        .get(format!("{}/api/conversations", server.base))
        .bearer_auth(&token)
        .send()
        .await?;
    ensure!(
        third.status() == StatusCode::TOO_MANY_REQUESTS,
        "{}",
        third.status()
    );
    ensure!(
        third
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            == Some("1"),
        "{:?}",
        third.headers()
    );
    let elsewhere = other
        .get(format!("{}/api/conversations", server.base))
        .bearer_auth(&token)
        .send()
        .await?;
    ensure!(
        elsewhere.status() == StatusCode::OK,
        "another address is served: {}",
        elsewhere.status()
    );

    release
        .send(())
        .map_err(|_| anyhow!("the holder is gone"))?;
    holder.await??;
    for w in writes {
        ensure!(
            w.await??.status() == StatusCode::CREATED,
            "the stalled writes complete"
        );
    }
    ensure!(
        server.state.in_flight().addresses() == 0,
        "every slot was given back"
    );
    Ok(())
}
