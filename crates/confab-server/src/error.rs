//! The one error type every handler returns, and its JSON response.
//!
//! What it does: maps each failure to one status and one [`ErrorCode`], including the storage
//! layer's [`StoreError`]s. What it never does: put internal details (SQLite, JSON, join errors)
//! in a response; they are logged.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use confab_model::{ErrorBody, ErrorCode};

use crate::db::DbError;
use crate::store::StoreError;

/// Everything a request can fail with. Each variant maps to one status and one [`ErrorCode`];
/// the body is always `{"error":{"code","message"}}`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `bad_request`: malformed JSON, form, query, path or header (e.g. a bad socket id).
    #[error("{0}")]
    BadRequest(String),
    /// 405 `bad_request`: the route exists but not with this method. The response carries an
    /// `Allow` header naming the methods it has (axum adds it).
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// 401 `unauthorized`: no bearer token, or one that is unknown, expired, revoked or belongs
    /// to a disabled user.
    #[error("missing or invalid token")]
    Unauthorized,
    /// 401 `unauthorized`: wrong email or password (one answer for both).
    #[error("wrong email or password")]
    InvalidCredentials,
    /// 403 `forbidden`: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404 `not_found`: no such resource or route.
    #[error("{0}")]
    NotFound(&'static str),
    /// 409 `conflict`: clashes with the current state (already answered, email taken).
    #[error("{0}")]
    Conflict(String),
    /// 422 `validation_failed`: well-formed but invalid content.
    #[error("{0}")]
    Validation(String),
    /// 429 `rate_limited` with `Retry-After`: too many failed sign-ins for this email from this
    /// address, or from this address overall; the attempt was not looked at. Come back after
    /// `retry_after_secs` seconds.
    #[error("too many failed attempts, try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until an attempt will be looked at (at least 1).
        retry_after_secs: u64,
    },
    /// 429 `rate_limited` with `Retry-After: 1`: the password-hashing pool's queue is full; the
    /// attempt was not counted. Try again in a second.
    #[error("the server is busy checking passwords, try again in a second")]
    Busy,
    /// 429 `rate_limited` with `Retry-After: 1`: this client address has too many requests in
    /// flight (see `in_flight`); nothing was done.
    #[error("too many requests at once from your address, try again in a second")]
    TooManyInFlight,
    /// 429 `rate_limited` with `Retry-After`: the account writes faster than its limit allows
    /// (see `write_limit`); nothing was stored.
    #[error("You are {doing} faster than the server allows; try again in {} s.", retry_after.as_secs())]
    WriteLimited {
        /// What was refused ("sending messages").
        doing: &'static str,
        /// How long until one more write fits (whole seconds).
        retry_after: std::time::Duration,
    },
    /// 410 `cursor_expired`: the sync cursor is below the compacted log's horizon or above
    /// its newest seq; the client reloads from scratch.
    #[error("{0}")]
    CursorExpired(&'static str),
    /// 500 `internal`: logged with its cause; the response says only "internal error".
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) | Self::MethodNotAllowed => ErrorCode::BadRequest,
            Self::Unauthorized | Self::InvalidCredentials => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::RateLimited { .. }
            | Self::Busy
            | Self::TooManyInFlight
            | Self::WriteLimited { .. } => ErrorCode::RateLimited,
            Self::CursorExpired(_) => ErrorCode::CursorExpired,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs } => Some((*retry_after_secs).max(1)),
            Self::Busy | Self::TooManyInFlight => Some(1),
            Self::WriteLimited { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        let status = match self {
            // The one status that is not its code's: there is no separate code for it, and
            // HTTP clients (and schemathesis) expect 405 for a method a route does not have.
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::from_u16(code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        let mut response = (status, Json(ErrorBody::new(code, message))).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::NotAllowed(why) => Self::Forbidden(why),
            StoreError::Conflict(why) => Self::Conflict(why),
            StoreError::Invalid(why) => Self::Validation(why),
            StoreError::TooFast { doing, retry_after } => Self::WriteLimited { doing, retry_after },
            StoreError::Encoding(e) => Self::from(e),
            StoreError::Db(e) => Self::from(e),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("json: {e}"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(e: JsonRejection) -> Self {
        Self::BadRequest(format!("invalid JSON body: {}", e.body_text()))
    }
}

impl From<QueryRejection> for AppError {
    fn from(e: QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query: {}", e.body_text()))
    }
}

impl From<FormRejection> for AppError {
    fn from(e: FormRejection) -> Self {
        Self::BadRequest(format!("invalid form body: {}", e.body_text()))
    }
}

impl From<PathRejection> for AppError {
    fn from(e: PathRejection) -> Self {
        Self::BadRequest(format!("invalid path: {}", e.body_text()))
    }
}

/// `axum::Json` whose rejection is an [`AppError`] (so malformed bodies get the JSON error shape).
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejection is an [`AppError`].
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejection is an [`AppError`].
#[derive(Debug, Clone, Copy, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `axum::Form` whose rejection is an [`AppError`].
#[derive(Debug, Clone, Copy, axum::extract::FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct ApiForm<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_sign_ins_are_429_rate_limited_with_retry_after_in_seconds() {
        for (error, seconds) in [
            (
                AppError::RateLimited {
                    retry_after_secs: 120,
                },
                "120",
            ),
            (
                AppError::RateLimited {
                    retry_after_secs: 0,
                },
                "1",
            ),
            (AppError::Busy, "1"),
        ] {
            assert_eq!(error.code(), ErrorCode::RateLimited);
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
                Some(seconds)
            );
        }
        let other = AppError::InvalidCredentials.into_response();
        assert!(other.headers().get(header::RETRY_AFTER).is_none());
    }
}
