//! The Redis harness against Debian's real `redis-server` (installed by scripts/bootstrap.sh).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use confab_testkit::Redis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one command (as a RESP array) and returns the raw reply, read until `reply_ends`
/// holds, under a timeout.
async fn command(addr: SocketAddr, args: &[&str], reply_ends: fn(&str) -> bool) -> Result<String> {
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 256];
        while !reply_ends(&String::from_utf8_lossy(&reply)) {
            let n = stream.read(&mut buf).await?;
            anyhow::ensure!(n > 0, "redis closed the connection mid-reply");
            reply.extend_from_slice(&buf[..n]);
        }
        Ok(String::from_utf8_lossy(&reply).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .context("no reply within 5 s")?
}

fn one_line(reply: &str) -> bool {
    reply.ends_with("\r\n")
}

#[tokio::test]
async fn redis_starts_on_a_free_loopback_port_and_answers_ping() -> Result<()> {
    let redis = Redis::start().await?;

    assert_ne!(redis.port(), 0);
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    assert_eq!(
        command(redis.addr(), &["PING"], one_line).await?,
        "+PONG\r\n"
    );
    Ok(())
}

#[tokio::test]
async fn redis_persists_nothing_and_listens_on_loopback_only() -> Result<()> {
    let redis = Redis::start().await?;

    // CONFIG GET answers a two-element array: the name, then the value.
    let pair = |reply: &str| reply.matches("\r\n").count() >= 5;
    let save = command(redis.addr(), &["CONFIG", "GET", "save"], pair).await?;
    let appendonly = command(redis.addr(), &["CONFIG", "GET", "appendonly"], pair).await?;
    let bind = command(redis.addr(), &["CONFIG", "GET", "bind"], pair).await?;

    assert_eq!(save, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    assert_eq!(appendonly, "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    assert_eq!(bind, "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n");
    Ok(())
}

#[tokio::test]
async fn two_redis_servers_get_different_ports_and_separate_data() -> Result<()> {
    let (a, b) = tokio::try_join!(Redis::start(), Redis::start())?;
    assert_ne!(a.port(), b.port());

    command(a.addr(), &["SET", "who", "a"], one_line).await?;

    assert_eq!(
        command(b.addr(), &["GET", "who"], one_line).await?,
        "$-1\r\n"
    );
    Ok(())
}

#[tokio::test]
async fn a_dropped_redis_stops_listening() -> Result<()> {
    let redis = Redis::start().await?;
    let addr = redis.addr();
    let dir = redis.dir().to_owned();

    drop(redis);

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(!dir.exists(), "{} was left behind", dir.display());
    Ok(())
}
