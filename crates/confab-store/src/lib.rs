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
mod connection;
mod error;
mod files;
mod history;
mod local;
mod mention;
mod migrate;
mod outbox;
mod query;
mod reload;
mod search;
#[cfg(test)]
mod search_index_tests;
mod store;
#[cfg(test)]
mod testing;

use std::path::Path;

pub use apply::Applied;
pub use error::{Result, StoreError};
pub use files::{move_aside, private_dir, private_file};
pub use history::{HistoryApplied, HistoryState};
pub use local::UnsentReadMark;
pub use mention::mentions;
pub use migrate::SCHEMA_VERSION;
pub use outbox::{OutboxItem, OutboxState};
pub use query::{ConversationLabel, PREVIEW_CHARS};
pub use reload::Reload;
pub use search::{fts_query, RequestMatch, SearchCursor, SearchPage, MAX_SEARCH_PAGE};
pub use store::{QueryCounts, Store, StoreTx, BUSY_TIMEOUT};

/// Deletes an account's cache: the database file and its WAL and shared-memory companions.
/// Close every [`Store`] on it first. Missing files are fine.
///
/// # Errors
/// [`StoreError::Io`] when a file exists but cannot be removed.
pub fn remove_database(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    for suffix in std::iter::once("").chain(files::COMPANIONS) {
        match std::fs::remove_file(files::with_suffix(path, suffix)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
