//! A server that answers too much: the REST client refuses an answer over its size limit, whether
//! the server declares the size or streams it without one, instead of holding it in memory.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use confab_core::rest::{ApiError, MAX_RESPONSE_BYTES};
use confab_core::Api;

/// Serves `router` on a random loopback port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://127.0.0.1:{port}")
}

/// A JSON-looking body just over the limit, in 64 KiB pieces.
fn pieces() -> impl Iterator<Item = Vec<u8>> {
    let piece = 64 * 1024;
    let count = MAX_RESPONSE_BYTES / piece + 1;
    (0..count).map(move |i| {
        let mut chunk = vec![b' '; piece];
        if i == 0 {
            chunk[0] = b'[';
        }
        chunk
    })
}

fn refused_as_too_large(e: &ApiError) -> bool {
    matches!(e, ApiError::Decode(why) if why.contains("larger than"))
}

#[tokio::test]
async fn an_answer_over_the_limit_is_refused_whether_its_size_is_declared_or_streamed() {
    let declared = Router::new().route(
        "/api/sync",
        get(|| async { Body::from(pieces().flatten().collect::<Vec<u8>>()) }),
    );
    let streamed = Router::new().route(
        "/api/sync",
        get(|| async {
            let stream = futures_util::stream::iter(
                pieces().map(|c| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(c))),
            );
            Body::from_stream(stream)
        }),
    );
    for router in [declared, streamed] {
        let api = Api::new(&serve(router).await).with_token("t");
        let err = api.sync(0, 500).await.unwrap_err();
        assert!(refused_as_too_large(&err), "{err:?}");
        assert!(
            !err.is_transient(),
            "a broken server is not retried at once: {err:?}"
        );
    }
}
