//! Where a store meets its other modules: opening a cache file (settings, migrations, the
//! recorded account, the schema version) and committing a transaction (the deferred work of
//! `apply.rs` and `search.rs` first, so it is part of the same commit). Kept apart from
//! `store.rs`, which those modules import, so that no module imports one that imports it back.

use std::path::Path;

use rusqlite::Connection;

use crate::error::Result;
use crate::store::{Store, StoreTx, BUSY_TIMEOUT, STATEMENT_CACHE};
use crate::{apply, files, local, migrate, search};

impl Store {
    /// Opens (creating it and its parent directory if needed) the cache file at `path`, sets WAL
    /// mode, foreign keys and the busy timeout, and migrates the schema to
    /// [`crate::SCHEMA_VERSION`]. On Unix the directory is made 0700 and the file, its WAL and
    /// shared-memory files 0600 (tightened when they exist with looser modes).
    ///
    /// # Errors
    /// [`crate::StoreError::Io`] when the directory cannot be created;
    /// [`crate::StoreError::Corrupt`] when the file is not a database;
    /// [`crate::StoreError::TooNew`] when a newer build wrote it; [`crate::StoreError::DiskFull`]
    /// or [`crate::StoreError::Busy`] while migrating.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::private_dir(dir)?;
        }
        // The file first, private: SQLite gives the WAL and shared-memory files it creates the
        // database file's mode, so they are born private too. Companions an older build left
        // are tightened before SQLite reads them, so even a file that then fails to open (and
        // is moved aside, kept) is private.
        files::private_file(path)?;
        files::tighten_companions(path)?;
        Self::init(Connection::open(path)?)
    }

    /// Opens a fresh cache in memory (tests, previews). Same schema and settings as a file,
    /// except the journal (memory databases have no WAL).
    ///
    /// # Errors
    /// Only if SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // WAL: readers never block the writer and a commit is one append. NORMAL sync in WAL
        // cannot corrupt the file; a power cut may lose the last commits, which sync refetches.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate::migrate(&mut conn)?;
        Self::from_migrated_connection(conn)
    }

    /// Wraps a connection whose schema is already current.
    pub(crate) fn from_migrated_connection(conn: Connection) -> Result<Self> {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let me = local::account_id(&conn)?;
        Ok(Self {
            conn,
            me,
            counts: std::cell::Cell::default(),
        })
    }

    /// The schema version of the file (equal to [`crate::SCHEMA_VERSION`] once opened).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::version(&self.conn)
    }
}

impl StoreTx<'_> {
    /// Makes every write of this transaction durable (and visible to other connections).
    ///
    /// # Errors
    /// [`crate::StoreError::DiskFull`] when the commit cannot be written; nothing was kept then.
    pub fn commit(self) -> Result<()> {
        // Deferred work of this transaction, written last so that it is part of the same commit.
        apply::flush_activity(&self)?;
        search::index_pending(&self.tx)?;
        Ok(self.tx.commit()?)
    }
}
