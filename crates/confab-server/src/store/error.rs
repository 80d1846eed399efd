//! What a store function can fail with: the domain outcomes callers must tell apart (not found,
//! not allowed, conflict, invalid input) and database failures.
//!
//! What it never does: decide HTTP statuses or response bodies; the HTTP layer maps these in
//! `crate::error`.

use crate::db::DbError;

/// A failed store call. The `&'static str` and `String` payloads are sentences meant for the
/// user (the HTTP layer sends them as the error message); [`StoreError::Db`] and
/// [`StoreError::Encoding`] carry internal details that must only be logged.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (no such conversation or request); report it as not
    /// found, do not retry.
    #[error("{0}")]
    NotFound(&'static str),
    /// The thing exists but the caller may not touch it (not a member, not the owner); refuse,
    /// do not retry.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// The request clashes with what is stored (already answered, email taken, client id used
    /// elsewhere); report it, retrying the same request will not help.
    #[error("{0}")]
    Conflict(String),
    /// The input is well-formed but invalid; the sentence says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// The account has used up its allowance for this kind of write (see `write_limit`); the
    /// write is rolled back. Say when to try again, do not retry sooner.
    #[error("You are {doing} faster than the server allows; try again in {} s.", retry_after.as_secs())]
    TooFast {
        /// What was refused ("sending messages").
        doing: &'static str,
        /// How long until one more write fits.
        retry_after: std::time::Duration,
    },
    /// A change could not be encoded, or a stored one no longer decodes; a bug or a damaged
    /// database: log it and fail with an internal error.
    #[error("json: {0}")]
    Encoding(#[from] serde_json::Error),
    /// The database failed (SQLite error, writer stopped, commit failed); log it and fail with
    /// an internal error, the client may retry later.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<crate::sql::SqlError> for StoreError {
    fn from(e: crate::sql::SqlError) -> Self {
        Self::Db(DbError::Sql(e))
    }
}
