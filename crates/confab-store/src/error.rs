//! The one error type of the store.

use confab_model::ConversationId;
use rusqlite::ErrorCode;

/// Everything that can go wrong in the store, by what the caller should do about it.
///
/// Every write runs in a transaction, so whichever variant a write returns, none of it was kept:
/// the database is as it was before the call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk (or the database's size limit) is full (`SQLITE_FULL`). Nothing of the failed
    /// write was kept and earlier data is intact. Show the message to the user; retry after they
    /// free some space. The sync cursor did not move, so a retried sync loses nothing.
    #[error("The disk is full, so the latest changes could not be saved. Nothing was lost: free some disk space and Confab will catch up.")]
    DiskFull,
    /// Another process held the database longer than the busy timeout (`SQLITE_BUSY`). Retry
    /// later; usually a second copy of the app is running on the same account.
    #[error("the local cache is in use by another process")]
    Busy,
    /// The file is damaged or is not a SQLite database (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
    /// Move it aside with [`crate::move_aside`] (or delete it with [`crate::remove_database`])
    /// and open a fresh one: the server has everything except unsent messages.
    #[error("the local cache is damaged and must be rebuilt")]
    Corrupt,
    /// The file was written by a newer Confab whose schema this build does not know. Do not
    /// write into it: move it aside with [`crate::move_aside`] and start a fresh one (the
    /// server has everything but unsent messages), or ask the user to update.
    #[error("the local cache has schema version {found}, newer than this build's {supported}")]
    TooNew {
        /// The file's `PRAGMA user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The operation needs to know whose cache this is: call [`crate::Store::set_account`] first.
    #[error("the local cache does not know its account yet")]
    NoAccount,
    /// The cache belongs to another account. Open (or create) that account's own file instead.
    #[error("the local cache belongs to user {stored}, not to user {given}")]
    AccountMismatch {
        /// The account recorded in the file.
        stored: i64,
        /// The account the caller asked for.
        given: i64,
    },
    /// The conversation is not in the cache (a caller bug, or the cache is behind: sync first).
    #[error("conversation {0} is not in the local cache")]
    UnknownConversation(ConversationId),
    /// A message with this client id was already written by this account; make a new client id.
    #[error("a message with client id {0:?} already exists")]
    DuplicateClientId(String),
    /// No outbox entry has this client id: it was delivered or discarded meanwhile. Usually
    /// harmless; re-read the conversation.
    #[error("no unsent message has client id {0:?}")]
    NotInOutbox(String),
    /// Creating the parent directory or removing the files failed.
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    /// Any other SQLite failure (a bug, or an environment problem). Log it; show a generic
    /// sentence.
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Self::DiskFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Self::Corrupt,
            _ => Self::Sqlite(e),
        }
    }
}

impl StoreError {
    /// Whether the file itself is unusable by this build ([`StoreError::Corrupt`],
    /// [`StoreError::TooNew`]): retrying cannot help, a fresh cache in its place can.
    pub fn needs_fresh_cache(&self) -> bool {
        matches!(self, Self::Corrupt | Self::TooNew { .. })
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_full_becomes_disk_full_with_a_sentence_for_the_user() {
        let err = StoreError::from(sqlite_failure(rusqlite::ffi::SQLITE_FULL));
        assert!(matches!(err, StoreError::DiskFull));
        assert!(err.to_string().contains("disk is full"));
    }

    #[test]
    fn busy_corrupt_and_other_codes_map_to_their_variants() {
        assert!(matches!(
            StoreError::from(sqlite_failure(rusqlite::ffi::SQLITE_BUSY)),
            StoreError::Busy
        ));
        assert!(matches!(
            StoreError::from(sqlite_failure(rusqlite::ffi::SQLITE_NOTADB)),
            StoreError::Corrupt
        ));
        assert!(matches!(
            StoreError::from(sqlite_failure(rusqlite::ffi::SQLITE_CONSTRAINT)),
            StoreError::Sqlite(_)
        ));
    }
}
