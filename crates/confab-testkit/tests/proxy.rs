//! The fault-injection proxy, in front of a local echo server.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;
use confab_testkit::TcpProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long a test waits to be sure that nothing arrives.
const QUIET: Duration = Duration::from_millis(300);

/// An echo server; the watch counts the connections it has accepted.
async fn echo_server() -> Result<(SocketAddr, watch::Receiver<usize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (accepted, rx) = watch::channel(0usize);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            accepted.send_modify(|n| *n += 1);
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    Ok((addr, rx))
}

async fn roundtrip(stream: &mut TcpStream, text: &[u8]) -> Result<Vec<u8>> {
    stream.write_all(text).await?;
    let mut buf = vec![0u8; text.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf)).await??;
    Ok(buf)
}

/// True if nothing can be read within [`QUIET`].
async fn stays_quiet(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(QUIET, stream.read(&mut byte))
        .await
        .is_err()
}

#[tokio::test]
async fn proxy_forwards_then_pauses_then_resumes() -> Result<()> {
    let (echo, _) = echo_server().await?;
    let proxy = TcpProxy::start(echo).await?;
    let mut client = TcpStream::connect(proxy.addr()).await?;
    assert_eq!(roundtrip(&mut client, b"hello").await?, b"hello");
    assert_eq!(proxy.connections(), 1);

    proxy.pause();
    client.write_all(b"held").await?;
    assert!(stays_quiet(&mut client).await, "bytes moved while paused");
    assert_eq!(proxy.connections(), 1, "pausing must keep connections open");

    proxy.resume();
    let mut buf = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut buf)).await??;
    assert_eq!(&buf, b"held");
    assert_eq!(roundtrip(&mut client, b"again").await?, b"again");
    Ok(())
}

#[tokio::test]
async fn proxy_accepts_but_does_not_connect_new_connections_while_paused() -> Result<()> {
    let (echo, mut accepted) = echo_server().await?;
    let proxy = TcpProxy::start(echo).await?;

    proxy.pause();
    let mut client = TcpStream::connect(proxy.addr()).await?;
    proxy.wait_for_connections(1).await;
    client.write_all(b"early").await?;
    assert!(stays_quiet(&mut client).await);
    assert_eq!(
        *accepted.borrow(),
        0,
        "the target saw a connection while paused"
    );

    proxy.resume();
    accepted.wait_for(|n| *n == 1).await?;
    let mut buf = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut buf)).await??;
    assert_eq!(&buf, b"early");
    Ok(())
}

#[tokio::test]
async fn proxy_cut_closes_connections() -> Result<()> {
    let (echo, _) = echo_server().await?;
    let proxy = TcpProxy::start(echo).await?;
    let mut first = TcpStream::connect(proxy.addr()).await?;
    let mut second = TcpStream::connect(proxy.addr()).await?;
    roundtrip(&mut first, b"1").await?;
    roundtrip(&mut second, b"2").await?;
    assert_eq!(proxy.connections(), 2);

    proxy.cut().await;

    assert_eq!(proxy.connections(), 0);
    for client in [&mut first, &mut second] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut byte)).await?;
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
    // New connections are forwarded again.
    let mut third = TcpStream::connect(proxy.addr()).await?;
    assert_eq!(roundtrip(&mut third, b"3").await?, b"3");
    Ok(())
}

#[tokio::test]
async fn proxy_cut_resets_rather_than_closing_gracefully() -> Result<()> {
    let (echo, _) = echo_server().await?;
    let proxy = TcpProxy::start(echo).await?;
    let mut client = TcpStream::connect(proxy.addr()).await?;
    roundtrip(&mut client, b"x").await?;

    proxy.cut().await;

    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut byte)).await?;
    let kind = read.err().map(|e| e.kind());
    assert_eq!(kind, Some(std::io::ErrorKind::ConnectionReset));
    Ok(())
}

#[tokio::test]
async fn proxy_passes_an_orderly_close_through() -> Result<()> {
    let (echo, _) = echo_server().await?;
    let proxy = TcpProxy::start(echo).await?;
    let mut client = TcpStream::connect(proxy.addr()).await?;
    roundtrip(&mut client, b"bye").await?;

    // The client half-closes; the echo server sees EOF, closes, and the client reads EOF.
    client.shutdown().await?;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await??;
    assert!(rest.is_empty());
    proxy.wait_for_connections(0).await;
    Ok(())
}

#[tokio::test]
async fn proxy_closes_the_client_when_the_target_is_down() -> Result<()> {
    let port = confab_testkit::free_port();
    let proxy = TcpProxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let mut client = TcpStream::connect(proxy.addr()).await?;

    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), client.read(&mut byte)).await?;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    proxy.wait_for_connections(0).await;
    Ok(())
}
