//! The types every query and apply module works on: [`Store`], the cache of one account (one
//! connection), and [`StoreTx`], one write transaction on it. Opening a store and committing a
//! transaction call into those modules, so they live in `connection.rs`: this module imports
//! none of them.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use confab_model::{ConversationId, Seq, UserId};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Result, StoreError};

/// How long a statement waits for another connection's lock before failing with
/// [`StoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many prepared statements each connection keeps compiled.
pub(crate) const STATEMENT_CACHE: usize = 64;

/// How often the list queries ran on one [`Store`] (what one change costs, for tests and
/// benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryCounts {
    /// Whole conversation lists ([`Store::conversation_list`]).
    pub conversation_lists: u64,
    /// Summaries of some conversations ([`Store::conversation_summaries`]).
    pub conversation_summaries: u64,
}

/// The local cache of one account. See the crate documentation for the one-writer rule.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    /// The account's user id, once known ([`Store::set_account`]).
    pub(crate) me: Option<UserId>,
    /// How often the list queries ran ([`Store::query_counts`]).
    pub(crate) counts: Cell<QueryCounts>,
}

/// One write transaction: apply any number of server items, then [`StoreTx::commit`]. Dropping it
/// without committing rolls everything back.
#[derive(Debug)]
pub struct StoreTx<'s> {
    pub(crate) tx: Transaction<'s>,
    pub(crate) me: Option<UserId>,
    /// What this transaction already wrote, to skip repeating it for every message of a page.
    pub(crate) cache: RefCell<TxCache>,
}

/// Per-transaction memory of the apply functions (see `apply.rs`).
#[derive(Debug, Default)]
pub(crate) struct TxCache {
    /// Users whose current name is stored.
    pub users: HashMap<UserId, String>,
    /// Conversations known to have a row.
    pub conversations: HashSet<ConversationId>,
    /// The newest (seq, time) applied per conversation, written by `apply::flush_activity`.
    pub activity: HashMap<ConversationId, (Seq, String)>,
}

impl Store {
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
    /// The account's user id, when known.
    pub fn me(&self) -> Option<UserId> {
        self.me
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.tx
    }
}
