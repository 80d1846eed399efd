//! What the database layer itself can fail with (not domain outcomes), on either engine.

use crate::sql::SqlError;

/// Infrastructure failures of the database layer (not domain outcomes).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The engine reported an error; the request fails with 500.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// The writer is gone (the server is shutting down); retry against a new server.
    #[error("the database writer has stopped")]
    WriterGone,
    /// A blocking database task panicked or was cancelled; the request fails with 500.
    #[error("database task failed: {0}")]
    Join(String),
    /// The commit a job was part of failed, so the job's changes are gone; the request fails
    /// with 500 and the client may retry it.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The database is newer than this server understands.
    #[error("database schema version {found} is newer than this server's {known}")]
    TooNew {
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database's directory or file could not be created or made private; the server does
    /// not start.
    #[error("database files: {0}")]
    Files(#[from] std::io::Error),
    /// `CONFAB_DATABASE_URL` is malformed or names a host this build will not reach.
    #[error("{0}")]
    Url(String),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e.into())
    }
}
