//! The backend's REST contract as typed async calls. Every call carries the bearer token;
//! failures are classified so callers know whether to retry, give up, or end the session.

use std::sync::Arc;
use std::time::Duration;

use confab_model::api::{
    ChangePasswordRequest, ClientConfig, CreateKnowledgeRequest, KnowledgeRequestLists,
    LoginRequest, LoginResponse, MarkRead, RespondKnowledgeRequest, SendMessage,
};
use confab_model::{
    Conversation, ErrorBody, KnowledgeDecision, KnowledgeRequest, Message, SyncHead, SyncPage,
    User, UserSummary,
};
use reqwest::{Method, StatusCode};

use crate::tls::{self, PolicyError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the token is missing, expired or revoked. End the session; keep unsent work.
    #[error("session expired")]
    Unauthorized,
    /// Another 4xx: the request itself is refused. Do not retry as is.
    #[error("{message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's error code (`forbidden`, `validation_failed`, ...).
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// 429: too much too fast (the account's write limit, or sign-in throttling). Wait
    /// `retry_after` (the server's `Retry-After`), no sooner; nothing was stored.
    #[error("{message}")]
    TooFast {
        /// How long the server asked to wait.
        retry_after: Duration,
        /// The server's sentence.
        message: String,
    },
    /// 5xx: the server failed. Retry later with backoff.
    #[error("server error ({status})")]
    Server {
        /// HTTP status.
        status: u16,
    },
    /// No answer (offline, DNS, refused, timeout). Retry later with backoff.
    #[error("server unreachable: {0}")]
    Network(String),
    /// The answer could not be read: a server/client version mismatch. Do not retry.
    #[error("unexpected answer from server: {0}")]
    Decode(String),
    /// The address is refused by the TLS policy (`http://` to another computer, see
    /// [`crate::tls`]): nothing was sent. Show the sentence; do not retry with this address.
    #[error("{0}")]
    Insecure(String),
    /// The server's certificate was refused by the operating system's trust store (an unknown
    /// company CA, a wrong name, an expired certificate, a captive portal): nothing was sent
    /// past the handshake. Show [`crate::tls::UNTRUSTED`]; retrying later may pass (a portal).
    #[error("the server's certificate is not trusted: {0}")]
    Untrusted(String),
}

impl ApiError {
    /// The server can no longer serve the sync cursor (410 `cursor_expired`: its change log
    /// was compacted past it, or it was restored from an older backup): reload from scratch.
    pub fn is_cursor_expired(&self) -> bool {
        matches!(self, ApiError::Rejected { code, .. }
            if code == confab_model::ErrorCode::CursorExpired.as_str())
    }

    /// Worth retrying later (network trouble or a server failure).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::Server { .. } | ApiError::Network(_) | ApiError::Untrusted(_)
        )
    }
}

/// The wait when a 429 names none (or names a date: clocks disagree, seconds do not).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The longest wait honoured: a larger one is a misconfigured server, and an unsent message
/// should not sleep for days because of it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// `Retry-After` as delta-seconds, capped at [`MAX_RETRY_AFTER`]; `None` when absent or a date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs.max(1)).min(MAX_RETRY_AFTER))
}

/// Told after every call whether the server answered; see [`Api::observed`].
type Observer = Arc<dyn Fn(bool) + Send + Sync>;

/// A REST client for one server and (after sign-in) one token. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The system-verified TLS configuration, shared with the realtime socket; `None` when the
    /// system's certificates could not be read (reqwest's built-in roots are used then).
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Why the TLS policy refuses `base`; every call answers [`ApiError::Insecure`] then.
    refused: Option<PolicyError>,
    base: String,
    token: Option<String>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Api {
    /// A client for `base` (e.g. `https://chat.example.com`, or `http://127.0.0.1:8080` on this
    /// computer) without a token, normalised by [`tls::server_url`]. An address the TLS policy
    /// refuses gives a client whose every call answers [`ApiError::Insecure`] with the
    /// sentence, so sign-in shows it and a session restored from an older build stops there.
    pub fn new(base: &str) -> Self {
        let (base, refused) = match tls::server_url(base) {
            Ok(url) => (url, None),
            Err(e) => (base.trim().trim_end_matches('/').to_owned(), Some(e)),
        };
        let tls = match tls::client_config() {
            Ok(config) => Some(config),
            Err(e) => {
                tracing::warn!(error = %e, "no system certificates; using the built-in roots");
                None
            }
        };
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(config) = &tls {
            builder = builder.use_preconfigured_tls(rustls::ClientConfig::clone(config));
        }
        Api {
            http: builder.build().unwrap_or_default(),
            tls,
            refused,
            base,
            token: None,
            observer: None,
        }
    }

    /// The TLS configuration REST uses, for the realtime socket to verify the same way.
    pub(crate) fn tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls.clone()
    }

    /// The HTTP client (its TLS as above), for the Pusher channel authorizer.
    pub(crate) fn http_client(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// The same client with a token.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Api {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The same client, telling `observer` after every call whether the server answered:
    /// `true` for any HTTP answer but a 5xx (the backend is reachable), `false` for network
    /// trouble or a 5xx. The core learns this way that the backend is back after an outage.
    pub(crate) fn observed(self, observer: impl Fn(bool) + Send + Sync + 'static) -> Self {
        Api {
            observer: Some(Arc::new(observer)),
            ..self
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The token, for the Pusher authorizer's header provider.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        socket_id: Option<&str>,
    ) -> Result<(StatusCode, T), ApiError> {
        let result = self.request(method, path, body, socket_id).await;
        // A refused address says nothing about whether the backend is reachable.
        let said_nothing = matches!(&result, Err(ApiError::Insecure(_)));
        if let Some(observe) = self.observer.as_ref().filter(|_| !said_nothing) {
            observe(!matches!(&result, Err(e) if e.is_transient()));
        }
        result
    }

    async fn request<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        socket_id: Option<&str>,
    ) -> Result<(StatusCode, T), ApiError> {
        if let Some(refused) = &self.refused {
            return Err(ApiError::Insecure(refused.to_string()));
        }
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(s) = socket_id {
            req = req.header("X-Socket-Id", s);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| {
            if tls::is_certificate_error(&e) {
                ApiError::Untrusted(tls::certificate_detail(&e))
            } else {
                ApiError::Network(without_url(&e))
            }
        })?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED {
            return Err(ApiError::Unauthorized);
        }
        if status.is_server_error() {
            return Err(ApiError::Server {
                status: status.as_u16(),
            });
        }
        let retry_after = retry_after(resp.headers());
        let bytes = read_capped(resp, MAX_RESPONSE_BYTES).await?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let message = serde_json::from_slice::<ErrorBody>(&bytes).map_or_else(
                |_| "Too many requests; Confab tries again shortly.".to_owned(),
                |b| b.error.message,
            );
            return Err(ApiError::TooFast {
                retry_after: retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
                message,
            });
        }
        if status.is_client_error() {
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) => (b.error.code.as_str().to_owned(), b.error.message),
                Err(_) => ("unknown".into(), format!("request refused ({status})")),
            };
            return Err(ApiError::Rejected {
                status: status.as_u16(),
                code,
                message,
            });
        }
        // 204: callers ask for `()`, which serde reads from `null`.
        let parsed = if bytes.is_empty() {
            serde_json::from_slice(b"null")
        } else {
            serde_json::from_slice(&bytes)
        };
        parsed
            .map(|v| (status, v))
            .map_err(|e| ApiError::Decode(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.call::<(), T>(Method::GET, path, None, None)
            .await
            .map(|(_, v)| v)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.call(Method::POST, path, Some(body), None)
            .await
            .map(|(_, v)| v)
    }

    /// `POST /api/auth/login`.
    ///
    /// # Errors
    /// [`ApiError::Unauthorized`] for wrong credentials (or an unknown email).
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse, ApiError> {
        self.post(
            "/api/auth/login",
            &LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            },
        )
        .await
    }

    /// `POST /api/auth/logout` (revokes the token).
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn logout(&self) -> Result<(), ApiError> {
        self.post::<_, Option<serde_json::Value>>("/api/auth/logout", &serde_json::json!({}))
            .await
            .map(|_| ())
    }

    /// `GET /api/me`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn me(&self) -> Result<User, ApiError> {
        self.get("/api/me").await
    }

    /// `GET /api/config`: the public realtime settings.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn config(&self) -> Result<ClientConfig, ApiError> {
        self.get("/api/config").await
    }

    /// `GET /api/users`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn users(&self) -> Result<Vec<UserSummary>, ApiError> {
        self.get("/api/users").await
    }

    /// `GET /api/conversations`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn conversations(&self) -> Result<Vec<Conversation>, ApiError> {
        self.get("/api/conversations").await
    }

    /// `POST /api/conversations` (I become a member).
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn create_conversation(
        &self,
        title: Option<&str>,
        member_ids: &[i64],
    ) -> Result<Conversation, ApiError> {
        self.post(
            "/api/conversations",
            &confab_model::api::CreateConversation {
                title: title.map(str::to_owned),
                member_ids: member_ids.to_vec(),
                kind: None,
            },
        )
        .await
    }

    /// `PATCH /api/conversations/{id}`: renames a group.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn rename_conversation(
        &self,
        conversation_id: i64,
        title: &str,
    ) -> Result<Conversation, ApiError> {
        self.call(
            Method::PATCH,
            &format!("/api/conversations/{conversation_id}"),
            Some(&confab_model::api::RenameConversation {
                title: title.to_owned(),
            }),
            None,
        )
        .await
        .map(|(_, c)| c)
    }

    /// `POST /api/conversations/{id}/members`: adds people to a group.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn add_members(
        &self,
        conversation_id: i64,
        member_ids: &[i64],
    ) -> Result<Conversation, ApiError> {
        self.post(
            &format!("/api/conversations/{conversation_id}/members"),
            &confab_model::api::AddMembers {
                member_ids: member_ids.to_vec(),
            },
        )
        .await
    }

    /// `POST /api/conversations/{id}/leave`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn leave_conversation(&self, conversation_id: i64) -> Result<(), ApiError> {
        self.post::<_, Option<serde_json::Value>>(
            &format!("/api/conversations/{conversation_id}/leave"),
            &serde_json::json!({}),
        )
        .await
        .map(|_| ())
    }

    /// `PUT /api/conversations/{id}/mute`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn set_muted(&self, conversation_id: i64, muted: bool) -> Result<(), ApiError> {
        self.call::<_, Option<serde_json::Value>>(
            Method::PUT,
            &format!("/api/conversations/{conversation_id}/mute"),
            Some(&confab_model::api::SetMuted { muted }),
            None,
        )
        .await
        .map(|_| ())
    }

    /// `POST /api/knowledge/requests/{id}/seen`: I opened the answer.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn mark_answer_seen(&self, request_id: i64) -> Result<(), ApiError> {
        self.post::<_, Option<serde_json::Value>>(
            &format!("/api/knowledge/requests/{request_id}/seen"),
            &serde_json::json!({}),
        )
        .await
        .map(|_| ())
    }

    /// `GET /api/conversations/{id}/messages`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn messages(
        &self,
        conversation_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Message>, ApiError> {
        let before = before.map(|b| format!("&before={b}")).unwrap_or_default();
        self.get(&format!(
            "/api/conversations/{conversation_id}/messages?limit={limit}{before}"
        ))
        .await
    }

    /// `POST /api/conversations/{id}/messages`, idempotent on `client_id`. `socket_id`
    /// excludes this client's own socket from the realtime echo.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn send_message(
        &self,
        conversation_id: i64,
        content: &str,
        client_id: &str,
        socket_id: Option<&str>,
    ) -> Result<Message, ApiError> {
        self.call(
            Method::POST,
            &format!("/api/conversations/{conversation_id}/messages"),
            Some(&SendMessage {
                content: content.to_owned(),
                client_id: client_id.to_owned(),
            }),
            socket_id,
        )
        .await
        .map(|(_, m)| m)
    }

    /// `POST /api/conversations/{id}/read`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn mark_read(&self, conversation_id: i64, seq: i64) -> Result<(), ApiError> {
        self.post::<_, Option<serde_json::Value>>(
            &format!("/api/conversations/{conversation_id}/read"),
            &MarkRead { seq },
        )
        .await
        .map(|_| ())
    }

    /// `POST /api/knowledge/request`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn ask(&self, owner_id: i64, question: &str) -> Result<KnowledgeRequest, ApiError> {
        self.post(
            "/api/knowledge/request",
            &CreateKnowledgeRequest {
                owner_id,
                question: question.to_owned(),
            },
        )
        .await
    }

    /// `GET /api/knowledge/requests`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn requests(&self) -> Result<KnowledgeRequestLists, ApiError> {
        self.get("/api/knowledge/requests").await
    }

    /// `POST /api/knowledge/respond`.
    ///
    /// # Errors
    /// 409 when already answered (as [`ApiError::Rejected`]).
    pub async fn respond(
        &self,
        request_id: i64,
        decision: KnowledgeDecision,
        content: Option<&str>,
    ) -> Result<KnowledgeRequest, ApiError> {
        self.post(
            "/api/knowledge/respond",
            &RespondKnowledgeRequest {
                request_id,
                status: decision,
                response_content: content.map(str::to_owned),
            },
        )
        .await
    }

    /// `GET /api/sync?since=&limit=`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn sync(&self, since: i64, limit: u32) -> Result<SyncPage, ApiError> {
        self.get(&format!("/api/sync?since={since}&limit={limit}"))
            .await
    }

    /// `GET /api/sync?until=`: a page of the history below `until` (a first sync's snapshot
    /// head), after `since`.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn sync_history(
        &self,
        since: i64,
        until: i64,
        limit: u32,
    ) -> Result<SyncPage, ApiError> {
        self.get(&format!(
            "/api/sync?since={since}&until={until}&limit={limit}"
        ))
        .await
    }

    /// `GET /api/sync/head`: the newest seq, where a reload from scratch starts syncing, and
    /// (from servers that count) how many of the caller's changes lie below it.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn sync_head(&self) -> Result<SyncHead, ApiError> {
        self.get("/api/sync/head").await
    }

    /// The channel-auth endpoint URL for the Pusher authorizer.
    pub fn pusher_auth_url(&self) -> String {
        format!("{}/api/pusher/auth", self.base)
    }

    /// The batch channel-auth endpoint URL ([`crate::batch_auth`]).
    pub fn pusher_batch_auth_url(&self) -> String {
        format!("{}/api/pusher/auth/batch", self.base)
    }

    /// The user-authentication endpoint URL (`pusher:signin`) for the Pusher authorizer.
    pub fn pusher_user_auth_url(&self) -> String {
        format!("{}/api/pusher/user-auth", self.base)
    }

    /// `POST /api/account/password`: every other session of the account ends.
    ///
    /// # Errors
    /// See [`ApiError`]; a wrong current password is [`ApiError::Rejected`] with status 403,
    /// a new one too short or too long 422.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<(), ApiError> {
        let body = ChangePasswordRequest {
            current_password: current.to_owned(),
            new_password: new.to_owned(),
        };
        self.post::<_, Option<serde_json::Value>>("/api/account/password", &body)
            .await
            .map(|_| ())
    }

    /// `POST /api/account/sessions/revoke`: every session of the account ends, this one too.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn revoke_sessions(&self) -> Result<(), ApiError> {
        self.post::<_, Option<serde_json::Value>>(
            "/api/account/sessions/revoke",
            &serde_json::json!({}),
        )
        .await
        .map(|_| ())
    }
}

/// The largest answer read, in bytes: a full sync page (500 changes, each at most a message of
/// 4,000 characters and its metadata) is well under it. A server sending more is broken or
/// hostile; its answer is refused rather than held in memory.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Reads a response body, refusing one over `limit` bytes before holding it (by its declared
/// length, then as it streams in).
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::Decode(format!("the answer is larger than {limit} bytes"));
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ApiError::Network(without_url(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest errors print the URL; ours carry no secrets, but keep logs short and stable.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_for_a_refused_address_sends_nothing_and_answers_the_sentence() {
        let api = Api::new("http://10.1.2.3:8080");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        match rt.block_on(api.config()) {
            Err(ApiError::Insecure(sentence)) => assert!(sentence.contains("https://")),
            other => panic!("expected the policy's sentence, got {other:?}"),
        }
        assert!(!ApiError::Insecure(String::new()).is_transient());
    }

    #[test]
    fn retry_after_is_read_as_seconds_and_capped() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_static(v));
            retry_after(&h)
        };
        assert_eq!(with("20"), Some(Duration::from_secs(20)));
        assert_eq!(with("0"), Some(Duration::from_secs(1)), "never a hot loop");
        assert_eq!(with("99999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn only_network_and_server_errors_are_transient() {
        assert!(ApiError::Network("x".into()).is_transient());
        assert!(ApiError::Server { status: 503 }.is_transient());
        assert!(!ApiError::Unauthorized.is_transient());
        assert!(!ApiError::Rejected {
            status: 422,
            code: "validation_failed".into(),
            message: "too long".into()
        }
        .is_transient());
    }
}
