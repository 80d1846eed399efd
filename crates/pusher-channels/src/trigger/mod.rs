//! A small client for the Pusher Channels HTTP API, for servers: trigger
//! events (single, batched, end-to-end encrypted, or to one user) and query
//! channel state.
//!
//! Every request is signed with [`crate::sign::sign_api_request`]. Inputs are
//! validated before anything is sent, so most mistakes surface as
//! [`TriggerError::Invalid`] / [`TriggerError::PayloadTooLarge`] without a
//! round trip.
//!
//! It never retries on its own (the caller decides, guided by
//! [`TriggerError::is_retryable`]), never logs secrets, event data or request
//! signatures, and never sends plaintext to a `private-encrypted-` channel.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::crypto;
use crate::sign::{self, AppCredentials};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default limit on an event's `data` field, in bytes (Pusher's standard plan
/// limit).
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 10 * 1024;

/// Most channels a single [`TriggerClient::trigger`] call may target.
pub const MAX_TRIGGER_CHANNELS: usize = 100;

/// Most events Pusher accepts in one `batch_events` request;
/// [`TriggerClient::trigger_batch`] splits larger batches.
pub const MAX_BATCH_EVENTS: usize = 10;

/// Longest event name Pusher accepts.
pub const MAX_EVENT_NAME_LEN: usize = 200;

/// How much of an error response body [`TriggerError::Status`] keeps.
const MAX_ERROR_BODY_CHARS: usize = 500;

/// Where the HTTP API lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiEndpoint {
    /// Pusher's hosted service: `https://api-{cluster}.pusher.com`
    /// (e.g. cluster `"eu"`, `"mt1"`).
    Cluster(String),
    /// A self-hosted, Pusher-compatible server (e.g. soketi):
    /// `{scheme}://{host}:{port}`.
    SelfHosted {
        /// `"http"` or `"https"`.
        scheme: String,
        /// Host name or IP address (IPv6 in brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
}

impl ApiEndpoint {
    /// The base URL of the API, or [`TriggerError::Invalid`] when the cluster,
    /// scheme or host is malformed.
    pub fn base_url(&self) -> Result<Url, TriggerError> {
        let text = match self {
            Self::Cluster(cluster) => {
                if cluster.is_empty()
                    || !cluster
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-')
                {
                    return Err(TriggerError::Invalid(format!(
                        "invalid cluster name {cluster:?}"
                    )));
                }
                format!("https://api-{cluster}.pusher.com")
            }
            Self::SelfHosted { scheme, host, port } => {
                if scheme != "http" && scheme != "https" {
                    return Err(TriggerError::Invalid(format!(
                        "scheme must be http or https, got {scheme:?}"
                    )));
                }
                format!("{scheme}://{host}:{port}")
            }
        };
        let url = Url::parse(&text)
            .map_err(|e| TriggerError::Invalid(format!("invalid API endpoint {text:?}: {e}")))?;
        if url.host_str().is_none_or(str::is_empty) || url.path() != "/" {
            return Err(TriggerError::Invalid(format!(
                "invalid API endpoint {text:?}"
            )));
        }
        Ok(url)
    }
}

/// Errors from the HTTP API client.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The server answered with a non-success status. For 5xx the caller may
    /// retry with backoff; for 4xx (bad credentials, clock skew > 600 s,
    /// over quota, malformed request) retrying the same request will not help.
    #[error("Pusher API returned HTTP {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (at most ~500 characters).
        body: String,
    },
    /// The request never got a response (DNS, connect, TLS, timeout, reset).
    /// Retrying with backoff is reasonable; note a timed-out trigger may still
    /// have been delivered.
    #[error("Pusher API request failed: {0}")]
    Network(#[source] reqwest::Error),
    /// An event's `data` (after encryption, if any) exceeds the configured
    /// limit. Send less data (e.g. an id the receiver fetches); do not retry.
    #[error("event data is {size} bytes, over the {limit}-byte limit")]
    PayloadTooLarge {
        /// Size of the offending `data` field in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The request was rejected locally before sending (bad channel or event
    /// name, socket id, endpoint, missing encryption key, ...). Fix the
    /// caller; do not retry.
    #[error("invalid Pusher API request: {0}")]
    Invalid(String),
    /// A successful response whose body was not the expected JSON — most
    /// likely the endpoint is not a Pusher API. Do not retry.
    #[error("unexpected Pusher API response: {body}")]
    InvalidResponse {
        /// The start of the response body (at most ~500 characters).
        body: String,
    },
}

impl TriggerError {
    /// Whether retrying the same request later might succeed: network
    /// failures, HTTP 5xx and HTTP 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::PayloadTooLarge { .. } | Self::Invalid(_) | Self::InvalidResponse { .. } => false,
        }
    }
}

impl From<reqwest::Error> for TriggerError {
    fn from(e: reqwest::Error) -> Self {
        // The URL carries the request signature; keep it out of error text.
        Self::Network(e.without_url())
    }
}

/// One event of a [`TriggerClient::trigger_batch`] call.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct BatchEvent {
    /// The single target channel.
    pub channel: String,
    /// The event name.
    pub name: String,
    /// The event data: an already-serialized JSON string.
    pub data: String,
    /// A socket id to exclude from delivery (usually the sender's).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub socket_id: Option<String>,
}

/// A client for the Pusher HTTP API. Cloning is cheap and clones share one
/// connection pool.
#[derive(Clone)]
pub struct TriggerClient {
    http: reqwest::Client,
    inner: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    base: Url,
    creds: AppCredentials,
    master_key: Option<[u8; crypto::KEY_LEN]>,
    timeout: Duration,
    max_payload_bytes: usize,
}

impl std::fmt::Debug for TriggerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerClient")
            .field("base", &self.inner.base.as_str())
            .field("creds", &self.inner.creds)
            .field("master_key", &self.inner.master_key.map(|_| "***"))
            .field("timeout", &self.inner.timeout)
            .field("max_payload_bytes", &self.inner.max_payload_bytes)
            .finish()
    }
}

/// A fully signed request, built without IO.
#[derive(Debug)]
struct PreparedRequest {
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
}

/// The body of `POST /apps/{id}/events`.
#[derive(Serialize)]
struct TriggerBody<'a> {
    name: &'a str,
    channels: &'a [String],
    data: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    socket_id: Option<&'a str>,
}

/// The body of `POST /apps/{id}/batch_events`.
#[derive(Serialize)]
struct BatchBody<'a> {
    batch: &'a [BatchEvent],
}

impl TriggerClient {
    /// Creates a client for `endpoint` with a default timeout of
    /// [`DEFAULT_TIMEOUT`] and a payload limit of
    /// [`DEFAULT_MAX_PAYLOAD_BYTES`]. `encryption_master_key` is needed only
    /// to trigger on `private-encrypted-` channels.
    pub fn new(
        endpoint: ApiEndpoint,
        creds: AppCredentials,
        encryption_master_key: Option<[u8; crypto::KEY_LEN]>,
    ) -> Result<Self, TriggerError> {
        let base = endpoint.base_url()?;
        if creds.app_id.is_empty()
            || !creds
                .app_id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(TriggerError::Invalid(format!(
                "invalid app id {:?}",
                creds.app_id
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("pusher-channels-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TriggerError::Invalid(format!("could not build HTTP client: {e}")))?;
        Ok(Self {
            http,
            inner: Arc::new(Config {
                base,
                creds,
                master_key: encryption_master_key,
                timeout: DEFAULT_TIMEOUT,
                max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            }),
        })
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.inner).timeout = timeout;
        self
    }

    /// Sets the limit on each event's `data` size in bytes (raise it if your
    /// Pusher plan allows more).
    pub fn with_max_payload_bytes(mut self, limit: usize) -> Self {
        Arc::make_mut(&mut self.inner).max_payload_bytes = limit;
        self
    }

    /// Uses `http` (e.g. one shared across the application) for requests.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Triggers `event` on `channels` with `data`, an already-serialized JSON
    /// string. `exclude_socket_id` suppresses delivery to that connection.
    ///
    /// A single `private-encrypted-` channel gets its data encrypted with the
    /// channel's shared secret; encrypted channels cannot be mixed with others.
    pub async fn trigger(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        exclude_socket_id: Option<&str>,
    ) -> Result<(), TriggerError> {
        let body = self.trigger_body(channels, event, data, exclude_socket_id)?;
        let path = format!("/apps/{}/events", self.inner.creds.app_id);
        self.send(Method::POST, &path, Vec::new(), Some(body))
            .await
            .map(drop)
    }

    /// Triggers `event` on the server-internal channel of `user_id`, reaching
    /// every connection signed in as that user (see
    /// [`crate::sign::authenticate_user`]).
    pub async fn send_to_user(
        &self,
        user_id: &str,
        event: &str,
        data: &str,
    ) -> Result<(), TriggerError> {
        let channel = user_channel(user_id)?;
        self.trigger(&[channel], event, data, None).await
    }

    /// Closes every connection signed in as `user_id`
    /// (`POST /apps/{id}/users/{user_id}/terminate_connections`, an empty JSON object as
    /// body). Only sockets that signed in with `pusher:signin` are known to the server as that
    /// user's; the server closes them with a 4000-4099 code, so well-behaved clients do not
    /// reconnect on their own.
    pub async fn terminate_user_connections(&self, user_id: &str) -> Result<(), TriggerError> {
        let path = terminate_path(&self.inner.creds.app_id, user_id)?;
        self.send(Method::POST, &path, Vec::new(), Some(b"{}".to_vec()))
            .await
            .map(drop)
    }

    /// Triggers several events, [`MAX_BATCH_EVENTS`] per request. Every event
    /// is validated before the first request; if a later request fails,
    /// earlier ones have already been delivered.
    pub async fn trigger_batch(&self, events: &[BatchEvent]) -> Result<(), TriggerError> {
        let bodies = self.batch_bodies(events)?;
        let path = format!("/apps/{}/batch_events", self.inner.creds.app_id);
        for body in bodies {
            self.send(Method::POST, &path, Vec::new(), Some(body))
                .await?;
        }
        Ok(())
    }

    /// Fetches the state of one channel (`GET /apps/{id}/channels/{channel}`).
    /// `info` may ask for attributes such as `"user_count"` (presence
    /// channels) or `"subscription_count"`.
    pub async fn channel_info(
        &self,
        channel: &str,
        info: &[&str],
    ) -> Result<serde_json::Value, TriggerError> {
        check_channel(channel)?;
        let path = format!("/apps/{}/channels/{}", self.inner.creds.app_id, channel);
        self.get_json(&path, info_param(info)).await
    }

    /// Lists occupied channels (`GET /apps/{id}/channels`), optionally only
    /// those whose names start with `prefix`.
    pub async fn channels(
        &self,
        prefix: Option<&str>,
        info: &[&str],
    ) -> Result<serde_json::Value, TriggerError> {
        let mut params = info_param(info);
        if let Some(prefix) = prefix {
            if !prefix.is_empty() && !sign::is_valid_channel_name(prefix) {
                return Err(TriggerError::Invalid(format!(
                    "invalid channel prefix {prefix:?}"
                )));
            }
            params.push(("filter_by_prefix".into(), prefix.to_owned()));
        }
        let path = format!("/apps/{}/channels", self.inner.creds.app_id);
        self.get_json(&path, params).await
    }

    /// Lists the users of a presence channel
    /// (`GET /apps/{id}/channels/{channel}/users`).
    pub async fn presence_users(&self, channel: &str) -> Result<serde_json::Value, TriggerError> {
        check_channel(channel)?;
        if !channel.starts_with(sign::PRESENCE_PREFIX) {
            return Err(TriggerError::Invalid(format!(
                "{channel:?} is not a presence channel"
            )));
        }
        let path = format!(
            "/apps/{}/channels/{}/users",
            self.inner.creds.app_id, channel
        );
        self.get_json(&path, Vec::new()).await
    }

    /// Validates, encrypts if needed, and serializes a trigger request body.
    fn trigger_body(
        &self,
        channels: &[String],
        event: &str,
        data: &str,
        exclude_socket_id: Option<&str>,
    ) -> Result<Vec<u8>, TriggerError> {
        if channels.is_empty() {
            return Err(TriggerError::Invalid("no channels given".into()));
        }
        if channels.len() > MAX_TRIGGER_CHANNELS {
            return Err(TriggerError::Invalid(format!(
                "{} channels given, at most {MAX_TRIGGER_CHANNELS} allowed",
                channels.len()
            )));
        }
        for channel in channels {
            check_trigger_channel(channel)?;
        }
        check_event_name(event)?;
        check_socket_id(exclude_socket_id)?;
        let encrypted = channels
            .iter()
            .any(|c| c.starts_with(crypto::ENCRYPTED_CHANNEL_PREFIX));
        let data = match (encrypted, channels) {
            (false, _) => data.to_owned(),
            (true, [channel]) => self.encrypt_for(channel, data)?,
            (true, _) => {
                return Err(TriggerError::Invalid(
                    "an encrypted channel must be the only channel of a trigger".into(),
                ))
            }
        };
        self.check_size(&data)?;
        serde_json::to_vec(&TriggerBody {
            name: event,
            channels,
            data: &data,
            socket_id: exclude_socket_id,
        })
        .map_err(|e| TriggerError::Invalid(format!("could not serialize body: {e}")))
    }

    /// Validates, encrypts if needed, and serializes batch bodies of at most
    /// [`MAX_BATCH_EVENTS`] events each.
    fn batch_bodies(&self, events: &[BatchEvent]) -> Result<Vec<Vec<u8>>, TriggerError> {
        let mut prepared = Vec::with_capacity(events.len());
        for event in events {
            check_trigger_channel(&event.channel)?;
            check_event_name(&event.name)?;
            check_socket_id(event.socket_id.as_deref())?;
            let mut event = event.clone();
            if event.channel.starts_with(crypto::ENCRYPTED_CHANNEL_PREFIX) {
                event.data = self.encrypt_for(&event.channel, &event.data)?;
            }
            self.check_size(&event.data)?;
            prepared.push(event);
        }
        prepared
            .chunks(MAX_BATCH_EVENTS)
            .map(|batch| {
                serde_json::to_vec(&BatchBody { batch })
                    .map_err(|e| TriggerError::Invalid(format!("could not serialize body: {e}")))
            })
            .collect()
    }

    /// Encrypts `data` for an encrypted channel and returns the wire JSON.
    fn encrypt_for(&self, channel: &str, data: &str) -> Result<String, TriggerError> {
        let master = self.inner.master_key.as_ref().ok_or_else(|| {
            TriggerError::Invalid(format!(
                "{channel:?} is encrypted but no encryption master key is configured"
            ))
        })?;
        let secret = crypto::shared_secret(channel, master);
        serde_json::to_string(&crypto::encrypt(&secret, data.as_bytes()))
            .map_err(|e| TriggerError::Invalid(format!("could not serialize payload: {e}")))
    }

    fn check_size(&self, data: &str) -> Result<(), TriggerError> {
        let limit = self.inner.max_payload_bytes;
        if data.len() > limit {
            return Err(TriggerError::PayloadTooLarge {
                size: data.len(),
                limit,
            });
        }
        Ok(())
    }

    /// Builds and signs a request at `timestamp` (Unix seconds).
    fn prepare(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        body: Option<Vec<u8>>,
        timestamp: u64,
    ) -> PreparedRequest {
        let mut url = self.inner.base.clone();
        url.set_path(path);
        // Sign the path exactly as it will go on the wire.
        let signed = sign::sign_api_request(
            &self.inner.creds,
            method.as_str(),
            url.path(),
            &params,
            body.as_deref(),
            timestamp,
        );
        url.query_pairs_mut().extend_pairs(signed);
        PreparedRequest { method, url, body }
    }

    /// Sends a signed request and returns the body of a successful response.
    async fn send(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<String, TriggerError> {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let req = self.prepare(method, path, params, body, timestamp);
        let mut builder = self
            .http
            .request(req.method.clone(), req.url)
            .timeout(self.inner.timeout);
        if let Some(body) = req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = builder.send().await?;
        let status = response.status();
        let text = response.text().await?;
        tracing::debug!(method = %req.method, path, status = status.as_u16(), "pusher api request");
        if !status.is_success() {
            return Err(TriggerError::Status {
                status: status.as_u16(),
                body: truncate(&text),
            });
        }
        Ok(text)
    }

    async fn get_json(
        &self,
        path: &str,
        params: Vec<(String, String)>,
    ) -> Result<serde_json::Value, TriggerError> {
        let text = self.send(Method::GET, path, params, None).await?;
        serde_json::from_str(&text).map_err(|_| TriggerError::InvalidResponse {
            body: truncate(&text),
        })
    }
}

/// The path of a user's `terminate_connections` call, once the user id is one the API can
/// carry in a path segment (the characters of a channel name: no `/`, `?` or `%`).
fn terminate_path(app_id: &str, user_id: &str) -> Result<String, TriggerError> {
    if !sign::is_valid_channel_name(user_id) {
        return Err(TriggerError::Invalid(format!(
            "invalid user id {user_id:?}"
        )));
    }
    Ok(format!(
        "/apps/{app_id}/users/{user_id}/terminate_connections"
    ))
}

/// The server-internal channel that reaches one signed-in user.
fn user_channel(user_id: &str) -> Result<String, TriggerError> {
    if !sign::is_valid_channel_name(user_id) {
        return Err(TriggerError::Invalid(format!(
            "invalid user id {user_id:?}"
        )));
    }
    Ok(format!("{}{user_id}", sign::SERVER_TO_USER_PREFIX))
}

fn check_channel(channel: &str) -> Result<(), TriggerError> {
    if sign::is_valid_channel_name(channel) {
        Ok(())
    } else {
        Err(TriggerError::Invalid(format!(
            "invalid channel name {channel:?}"
        )))
    }
}

/// Like [`check_channel`], but servers may also target `#server-to-user-*`.
fn check_trigger_channel(channel: &str) -> Result<(), TriggerError> {
    match channel.strip_prefix(sign::SERVER_TO_USER_PREFIX) {
        Some(user_id) if sign::is_valid_channel_name(user_id) => Ok(()),
        _ => check_channel(channel),
    }
}

fn check_event_name(event: &str) -> Result<(), TriggerError> {
    if event.is_empty() || event.len() > MAX_EVENT_NAME_LEN {
        return Err(TriggerError::Invalid(format!(
            "event name must be 1 to {MAX_EVENT_NAME_LEN} bytes, got {}",
            event.len()
        )));
    }
    Ok(())
}

fn check_socket_id(socket_id: Option<&str>) -> Result<(), TriggerError> {
    match socket_id {
        Some(id) if !sign::is_valid_socket_id(id) => {
            Err(TriggerError::Invalid(format!("invalid socket id {id:?}")))
        }
        _ => Ok(()),
    }
}

fn info_param(info: &[&str]) -> Vec<(String, String)> {
    if info.is_empty() {
        Vec::new()
    } else {
        vec![("info".into(), info.join(","))]
    }
}

/// Keeps at most [`MAX_ERROR_BODY_CHARS`] characters of a response body.
fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
