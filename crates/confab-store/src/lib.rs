//! The Confab desktop client's local cache: one SQLite file per account.
//!
//! What it does: keeps users, conversations and their members, messages (sent and unsent), share
//! requests, read marks (and which of the account's own the server has yet to hear), the outbox,
//! drafts, the sync and notification cursors and remembered UI settings; applies server data
//! idempotently (the same message from the realtime event and from sync is stored once, an older
//! state never overwrites a newer one); answers the UI's queries (conversation list with unread
//! counts and previews, message pages, requests, full-text search with FTS5); migrates its schema
//! with numbered SQL files recorded in `PRAGMA user_version`.
//!
//! What it never does: network, clocks, threads or async. Callers pass times in (RFC 3339
//! strings for display, epoch milliseconds for scheduling). It never decides what to send or
//! notify; `confab-core` does, on top of it.
//!
//! # One writer
//! A [`Store`] owns one connection. Every write takes `&mut self` and runs in one immediate
//! transaction, all or nothing; callers serialize writes (a dedicated thread, or a `Mutex` in the
//! core). The file is in WAL mode, so a second `Store` opened on the same path can serve reads
//! while the writer writes; the busy timeout ([`BUSY_TIMEOUT`]) absorbs short lock waits.
//!
//! # Speed
//! Apply a sync page inside one transaction ([`Store::apply_changes`]). Statements are prepared
//! once per connection (`prepare_cached`); within a transaction each sender, conversation and
//! activity update is written once, and the search index takes the new messages in one batch
//! just before the commit (see `migrations/0002_search.sql`). `examples/bench_apply.rs` measures it.
//!
//! ```
//! # fn main() -> Result<(), confab_store::StoreError> {
//! use confab_store::Store;
//! let mut store = Store::open_in_memory()?;
//! store.set_account(&confab_model::User { id: 1, name: "Me".into(), email: "me@example.com".into() })?;
//! // A sync page: apply the changes and move the cursor in one transaction.
//! store.apply_changes(&[], 0)?;
//! assert!(store.conversation_list()?.is_empty());
//! # Ok(())
//! # }
//! ```

mod apply;
mod error;
mod local;
mod migrate;
mod outbox;
mod query;
mod search;
#[cfg(test)]
mod testing;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use confab_model::{ConversationId, Seq, UserId};
use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use error::{Result, StoreError};
pub use local::UnsentReadMark;
pub use migrate::SCHEMA_VERSION;
pub use outbox::{OutboxItem, OutboxState};
pub use query::{ConversationLabel, QueryCounts, PREVIEW_CHARS};
pub use search::fts_query;

/// How long a statement waits for another connection's lock before failing with
/// [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many prepared statements each connection keeps compiled.
const STATEMENT_CACHE: usize = 64;

/// What applying one item from the server did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Applied {
    /// It was new and is now stored.
    Inserted,
    /// It replaced an older state (for a message: an optimistic copy was upgraded to sent).
    Updated,
    /// It was already known in this or a newer state; nothing changed.
    Unchanged,
}

impl Applied {
    /// Whether the cache changed (the UI should hear about it).
    pub fn changed(self) -> bool {
        self != Self::Unchanged
    }
}

/// The local cache of one account. See the crate documentation for the one-writer rule.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The account's user id, once known ([`Store::set_account`]).
    me: Option<UserId>,
    /// How often the list queries ran ([`Store::query_counts`]).
    counts: std::cell::Cell<QueryCounts>,
}

/// One write transaction: apply any number of server items, then [`StoreTx::commit`]. Dropping it
/// without committing rolls everything back.
#[derive(Debug)]
pub struct StoreTx<'s> {
    tx: Transaction<'s>,
    me: Option<UserId>,
    /// What this transaction already wrote, to skip repeating it for every message of a page.
    cache: RefCell<TxCache>,
}

/// Per-transaction memory of the apply functions (see `apply.rs`).
#[derive(Debug, Default)]
struct TxCache {
    /// Users whose current name is stored.
    users: HashMap<UserId, String>,
    /// Conversations known to have a row.
    conversations: HashSet<ConversationId>,
    /// The newest (seq, time) applied per conversation, written by `apply::flush_activity`.
    activity: HashMap<ConversationId, (Seq, String)>,
}

impl Store {
    /// Opens (creating it and its parent directory if needed) the cache file at `path`, sets WAL
    /// mode, foreign keys and the busy timeout, and migrates the schema to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directory cannot be created; [`StoreError::Corrupt`] when the
    /// file is not a database; [`StoreError::TooNew`] when a newer build wrote it;
    /// [`StoreError::DiskFull`] or [`StoreError::Busy`] while migrating.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
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

    /// The schema version of the file (equal to [`SCHEMA_VERSION`] once opened).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::version(&self.conn)
    }

    /// The journal mode in force: `"wal"` for a file, `"memory"` for [`Store::open_in_memory`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn journal_mode(&self) -> Result<String> {
        Ok(self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?)
    }

    /// Starts a write transaction (immediate: it takes the write lock now, so it cannot fail
    /// later with a lock upgrade).
    ///
    /// # Errors
    /// [`StoreError::Busy`] when another connection holds the lock past the busy timeout.
    pub fn transaction(&mut self) -> Result<StoreTx<'_>> {
        let me = self.me;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(StoreTx {
            tx,
            me,
            cache: RefCell::default(),
        })
    }

    /// Runs `f` in one transaction and commits if it returns `Ok`; otherwise nothing `f` wrote is
    /// kept.
    ///
    /// # Errors
    /// Whatever `f` returns, or the commit's [`StoreError`] converted into `E`.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&StoreTx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

impl StoreTx<'_> {
    /// Makes every write of this transaction durable (and visible to other connections).
    ///
    /// # Errors
    /// [`StoreError::DiskFull`] when the commit cannot be written; nothing was kept then.
    pub fn commit(self) -> Result<()> {
        // Deferred work of this transaction, written last so that it is part of the same commit.
        apply::flush_activity(&self)?;
        search::index_pending(&self.tx)?;
        Ok(self.tx.commit()?)
    }

    /// The account's user id, when known.
    pub fn me(&self) -> Option<UserId> {
        self.me
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }
}

/// Deletes an account's cache: the database file and its WAL and shared-memory companions.
/// Close every [`Store`] on it first. Missing files are fine.
///
/// # Errors
/// [`StoreError::Io`] when a file exists but cannot be removed.
pub fn remove_database(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
