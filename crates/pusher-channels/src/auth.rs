//! Channel authorization and user authentication: a pluggable async trait, and the standard
//! HTTP implementation that speaks to an app's auth endpoint the way pusher-js does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::proto::AuthError;
use crate::sign::{ChannelAuthorization, UserAuthentication};

/// A boxed future, so authorizers can be trait objects.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AuthError>> + Send + 'a>>;

/// Fetches signatures for a socket. Called once per channel per socket; the client discards
/// answers that arrive after the socket changed.
pub trait Authorizer: Send + Sync + 'static {
    /// A signature for `channel` on `socket_id` (`shared_secret` for encrypted channels,
    /// `channel_data` for presence channels).
    fn authorize_channel<'a>(
        &'a self,
        socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization>;

    /// A user-authentication signature for `pusher:signin`.
    fn authenticate_user<'a>(&'a self, socket_id: &'a str) -> AuthFuture<'a, UserAuthentication>;
}

/// Headers added to every auth request, produced fresh per request (e.g. a bearer token that
/// may have been renewed since the last one).
pub type HeaderProvider = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// POSTs form-urlencoded `socket_id` and `channel_name` to an endpoint, like pusher-js's
/// `channelAuthorization` (and `socket_id` to the user-authentication endpoint).
///
/// Network errors and 5xx answers are retried with backoff; 4xx (401/403) are not and surface
/// with their status.
#[derive(Clone)]
pub struct HttpAuthorizer {
    http: reqwest::Client,
    channel_endpoint: String,
    user_endpoint: Option<String>,
    headers: HeaderProvider,
    retries: u32,
    retry_base: Duration,
}

impl std::fmt::Debug for HttpAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Headers may hold tokens: never print them.
        f.debug_struct("HttpAuthorizer")
            .field("channel_endpoint", &self.channel_endpoint)
            .field("user_endpoint", &self.user_endpoint)
            .finish_non_exhaustive()
    }
}

impl HttpAuthorizer {
    /// An authorizer for `channel_endpoint` with a 10 s timeout and 3 retries.
    pub fn new(channel_endpoint: impl Into<String>) -> Self {
        HttpAuthorizer {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            channel_endpoint: channel_endpoint.into(),
            user_endpoint: None,
            headers: Arc::new(Vec::new),
            retries: 3,
            retry_base: Duration::from_millis(250),
        }
    }

    /// The user-authentication endpoint (needed for `signin`).
    pub fn user_endpoint(mut self, url: impl Into<String>) -> Self {
        self.user_endpoint = Some(url.into());
        self
    }

    /// Headers computed for each request.
    pub fn headers(mut self, provider: HeaderProvider) -> Self {
        self.headers = provider;
        self
    }

    /// Request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        self
    }

    /// Sends with `http` (its TLS, proxy and timeouts) instead of the default client, e.g. the
    /// application's REST client so both verify certificates the same way.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Retries on network errors and 5xx, and the first retry delay (doubling).
    pub fn retries(mut self, retries: u32, base: Duration) -> Self {
        self.retries = retries;
        self.retry_base = base;
        self
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<T, AuthError> {
        let mut attempt = 0;
        loop {
            let mut req = self.http.post(url).form(form);
            for (k, v) in (self.headers)() {
                req = req.header(k, v);
            }
            let retryable = match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    return resp.json::<T>().await.map_err(|e| AuthError {
                        status: None,
                        message: format!("unreadable auth response: {e}"),
                    })
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body: String = resp
                        .text()
                        .await
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    let err = AuthError {
                        status: Some(status),
                        message: if body.is_empty() {
                            "refused".into()
                        } else {
                            body
                        },
                    };
                    if status < 500 {
                        return Err(err);
                    }
                    err
                }
                Err(e) => AuthError {
                    status: None,
                    message: format!("auth endpoint unreachable: {e}"),
                },
            };
            if attempt >= self.retries {
                return Err(retryable);
            }
            tokio::time::sleep(self.retry_base * 2u32.pow(attempt)).await;
            attempt += 1;
        }
    }
}

impl Authorizer for HttpAuthorizer {
    fn authorize_channel<'a>(
        &'a self,
        socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization> {
        Box::pin(async move {
            self.post(
                &self.channel_endpoint,
                &[("socket_id", socket_id), ("channel_name", channel)],
            )
            .await
        })
    }

    fn authenticate_user<'a>(&'a self, socket_id: &'a str) -> AuthFuture<'a, UserAuthentication> {
        Box::pin(async move {
            let Some(url) = self.user_endpoint.as_deref() else {
                return Err(AuthError {
                    status: None,
                    message: "no user-authentication endpoint configured".into(),
                });
            };
            self.post(url, &[("socket_id", socket_id)]).await
        })
    }
}
