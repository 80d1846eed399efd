//! The core's error type, and its translation into the one IPC error the UI understands.

use confab_model::ipc::{IpcError, IpcErrorCode};

use crate::rest::ApiError;
use crate::session::KeyringError;

/// Everything a core call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Wrong email or password.
    #[error("wrong email or password")]
    BadCredentials,
    /// Not signed in (or the session ended): sign in.
    #[error("not signed in")]
    NotSignedIn,
    /// The backend call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The keyring could not keep the token.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The local cache failed.
    #[error(transparent)]
    Store(#[from] confab_store::StoreError),
    /// Bad input from the UI (empty message, ...).
    #[error("{0}")]
    Invalid(String),
    /// Something unexpected (a task died); details are logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<CoreError> for IpcError {
    /// The code decides the sentence ([`IpcErrorCode::sentence`], the one table of them);
    /// only input the core or the server refused keeps its own, more precise sentence.
    fn from(e: CoreError) -> Self {
        use IpcErrorCode as C;
        let code = match &e {
            CoreError::Store(confab_store::StoreError::DiskFull) => C::DiskFull,
            CoreError::BadCredentials => C::BadCredentials,
            CoreError::NotSignedIn | CoreError::Api(ApiError::Unauthorized) => C::SessionExpired,
            CoreError::Api(ApiError::Network(_)) => C::Unreachable,
            // Unreachable, but with the sentence that says why and what a company CA needs.
            CoreError::Api(ApiError::Untrusted(detail)) => {
                tracing::warn!(%detail, "server certificate refused");
                return IpcError::new(C::Unreachable, crate::tls::UNTRUSTED);
            }
            CoreError::Api(ApiError::Server { .. } | ApiError::Decode(_)) => C::ServerError,
            // The server's sentence says what was limited and when to try again.
            CoreError::Api(ApiError::TooFast { message, .. }) => {
                return IpcError::new(C::TooFast, message.clone());
            }
            CoreError::Api(ApiError::Rejected { status: 403, .. }) => C::Forbidden,
            CoreError::Api(ApiError::Rejected { status: 404, .. }) => C::NotFound,
            CoreError::Api(ApiError::Rejected { status: 409, .. }) => C::Conflict,
            CoreError::Api(ApiError::Rejected { message, .. } | ApiError::Insecure(message))
            | CoreError::Invalid(message) => {
                return IpcError::new(C::InvalidInput, message.clone());
            }
            CoreError::Keyring(k) => {
                tracing::warn!(error = %k, "keyring unavailable");
                C::KeyringUnavailable
            }
            CoreError::Store(_) | CoreError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                C::Internal
            }
        };
        IpcError::of(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_sees_the_sentence_of_the_code_and_never_the_internals() {
        let e = IpcError::from(CoreError::Internal("task panicked at db.rs:41".into()));
        assert_eq!(e.code, IpcErrorCode::Internal);
        assert_eq!(e.message, IpcErrorCode::Internal.sentence());
        let e = IpcError::from(CoreError::Api(ApiError::Server { status: 500 }));
        assert_eq!(e.message, IpcErrorCode::ServerError.sentence());
        let e = IpcError::from(CoreError::BadCredentials);
        assert!(e.message.contains("email and password"));
    }

    #[test]
    fn refused_input_keeps_the_sentence_written_for_it() {
        let e = IpcError::from(CoreError::Invalid("A message can't be empty.".into()));
        assert_eq!(e.code, IpcErrorCode::InvalidInput);
        assert_eq!(e.message, "A message can't be empty.");
        let e = IpcError::from(CoreError::Api(ApiError::Rejected {
            status: 409,
            code: "conflict".into(),
            message: "already answered".into(),
        }));
        assert_eq!(e.code, IpcErrorCode::Conflict);
        assert_eq!(e.message, IpcErrorCode::Conflict.sentence());
    }
}
