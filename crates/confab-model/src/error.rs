//! The one error body every failing REST call returns.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Clients match on it; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed (bad JSON, bad form, malformed socket id, bad query).
    BadRequest,
    /// 401: missing, unknown, expired or revoked token, or bad login credentials.
    Unauthorized,
    /// 403: authenticated, but not allowed (not a member, not the owner, not your channel).
    Forbidden,
    /// 404: no such resource (or no such route).
    NotFound,
    /// 409: the request conflicts with the current state (request already answered, email taken).
    Conflict,
    /// 422: well-formed but invalid content (empty or too long message, unknown member ids).
    ValidationFailed,
    /// 429: too many failed attempts; try again later.
    RateLimited,
    /// 410: the `since` cursor of `/api/sync` is older than the server's retained change log
    /// (compacted by retention) or newer than its counter (a database restored from a backup).
    /// The client must reload its state from scratch (`GET /api/sync/head`, then the lists)
    /// instead of paging changes it can no longer get.
    CursorExpired,
    /// 500: something failed on the server; details are in its log, never in the response.
    Internal,
}

impl ErrorCode {
    /// The wire spelling, e.g. `"validation_failed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::ValidationFailed => "validation_failed",
            Self::RateLimited => "rate_limited",
            Self::CursorExpired => "cursor_expired",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status the server answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::ValidationFailed => 422,
            Self::RateLimited => 429,
            Self::CursorExpired => 410,
            Self::Internal => 500,
        }
    }
}

/// The body of every error response: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// The stable code to match on.
    pub code: ErrorCode,
    /// A human-readable explanation, safe to show (never internal details).
    pub message: String,
}

impl ErrorBody {
    /// Builds a body from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_stable_snake_case_names() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::ValidationFailed,
            ErrorCode::RateLimited,
            ErrorCode::CursorExpired,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn the_error_body_nests_code_and_message_under_error() {
        let body = ErrorBody::new(ErrorCode::Forbidden, "not a member");
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "forbidden", "message": "not a member"}})
        );
    }
}
