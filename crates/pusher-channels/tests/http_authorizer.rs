//! The standard HTTP authorizer against a real (tiny) HTTP server on loopback: the request it
//! sends, fresh headers per request, retries on 5xx, and no retries on 401/403.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pusher_channels::auth::{Authorizer, HttpAuthorizer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Answers each request with the next (status, body) from `answers` (the last one repeats)
/// and reports each raw request.
async fn server(answers: Vec<(u16, &'static str)>) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (status, body) = answers[n.min(answers.len() - 1)];
            n += 1;
            let mut buf = vec![0u8; 8192];
            let mut req = Vec::new();
            // Read headers and the (small) body.
            loop {
                let k = sock.read(&mut buf).await.unwrap_or(0);
                if k == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..k]);
                let text = String::from_utf8_lossy(&req);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&req).into_owned());
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (format!("http://{addr}/api/pusher/auth"), rx)
}

#[tokio::test]
async fn it_posts_the_socket_and_channel_form_with_fresh_headers_each_time() {
    let (url, mut requests) = server(vec![(200, r#"{"auth":"k:sig"}"#)]).await;
    let counter = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&counter);
    let auth = HttpAuthorizer::new(url).headers(Arc::new(move || {
        let n = c.fetch_add(1, Ordering::SeqCst);
        vec![("Authorization".into(), format!("Bearer token-{n}"))]
    }));
    let a = auth
        .authorize_channel("1.2", "private-user-1")
        .await
        .unwrap();
    assert_eq!(a.auth, "k:sig");
    auth.authorize_channel("1.2", "private-user-1")
        .await
        .unwrap();
    let first = requests.recv().await.unwrap();
    let second = requests.recv().await.unwrap();
    assert!(first.starts_with("POST /api/pusher/auth"));
    assert!(first.contains("application/x-www-form-urlencoded"));
    assert!(
        first.ends_with("socket_id=1.2&channel_name=private-user-1"),
        "{first}"
    );
    assert!(first.contains("Bearer token-0") || first.contains("bearer token-0"));
    assert!(second.to_ascii_lowercase().contains("bearer token-1"));
}

#[tokio::test]
async fn it_retries_server_errors_and_then_succeeds() {
    let (url, mut requests) = server(vec![
        (503, "busy"),
        (500, "oops"),
        (200, r#"{"auth":"k:sig"}"#),
    ])
    .await;
    let auth = HttpAuthorizer::new(url).retries(3, Duration::from_millis(10));
    assert_eq!(
        auth.authorize_channel("1.2", "private-a")
            .await
            .unwrap()
            .auth,
        "k:sig"
    );
    for _ in 0..3 {
        requests.recv().await.unwrap();
    }
}

#[tokio::test]
async fn a_403_is_not_retried_and_carries_its_status() {
    let (url, mut requests) = server(vec![(403, r#"{"error":"forbidden"}"#), (200, "{}")]).await;
    let auth = HttpAuthorizer::new(url).retries(3, Duration::from_millis(10));
    let err = auth
        .authorize_channel("1.2", "private-b")
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(403));
    requests.recv().await.unwrap();
    assert!(requests.try_recv().is_err(), "no second request");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_after_the_retries_without_a_status() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let auth = HttpAuthorizer::new(format!("http://127.0.0.1:{port}/auth"))
        .retries(2, Duration::from_millis(10));
    let err = auth
        .authorize_channel("1.2", "private-b")
        .await
        .unwrap_err();
    assert_eq!(err.status, None);
}
