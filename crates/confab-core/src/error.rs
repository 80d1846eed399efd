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
    fn from(e: CoreError) -> Self {
        use IpcErrorCode as C;
        if let CoreError::Store(s) = &e {
            if matches!(s, confab_store::StoreError::DiskFull) {
                return IpcError::new(
                    C::DiskFull,
                    "Your disk is full. Nothing was lost; free some space and try again.",
                );
            }
        }
        match e {
            CoreError::BadCredentials => {
                IpcError::new(C::BadCredentials, "Wrong email or password.")
            }
            CoreError::NotSignedIn | CoreError::Api(ApiError::Unauthorized) => IpcError::new(
                C::SessionExpired,
                "Your session has ended. Please sign in again.",
            ),
            CoreError::Api(ApiError::Network(_)) => IpcError::new(
                C::Unreachable,
                "Can't reach the server. Check the address and your connection.",
            ),
            CoreError::Api(ApiError::Server { .. }) => IpcError::new(
                C::ServerError,
                "The server had a problem. Please try again in a moment.",
            ),
            CoreError::Api(ApiError::Decode(_)) => IpcError::new(
                C::ServerError,
                "The server answered in a way this version of Confab doesn't understand.",
            ),
            CoreError::Api(ApiError::Rejected {
                status, message, ..
            }) => {
                let code = match status {
                    403 => C::Forbidden,
                    404 => C::NotFound,
                    409 => C::Conflict,
                    _ => C::InvalidInput,
                };
                IpcError::new(code, message)
            }
            CoreError::Keyring(k) => IpcError::new(C::KeyringUnavailable, k.to_string()),
            e @ (CoreError::Store(_) | CoreError::Internal(_)) => {
                tracing::error!(error = %e, "internal error");
                IpcError::new(C::Internal, "Something went wrong. Please try again.")
            }
            CoreError::Invalid(m) => IpcError::new(C::InvalidInput, m),
        }
    }
}
