//! Reloading an account from scratch when the backend can no longer serve its sync cursor
//! (410 `cursor_expired`: the change log was compacted past it while the app was away, or the
//! backend was restored from an older backup). As a first sign-in on a new computer: the head
//! seq first, then the conversations, their recent history and the share requests; the cache's
//! synced state is replaced in one transaction and sync continues from the head. A first
//! sign-in on a new computer does the same ([`fetch_at`]), so the newest screen comes first,
//! and then loads the history below the head in the background (`history.rs`).
//!
//! What it never does: drop the outbox (unsent messages stay queued and are delivered once:
//! the backend is idempotent on their client ids and the cache upgrades the optimistic row),
//! or run while another page is applied (the engine calls it in place of a sync page).

use confab_model::{Conversation, KnowledgeRequest, Message, Seq, MESSAGES_PAGE_DEFAULT};
use confab_store::Reload;

use crate::rest::{Api, ApiError};

/// The backend's state as a reload needs it.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// Read before everything else: changes after it come by sync.
    pub head: Seq,
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub requests: Vec<KnowledgeRequest>,
}

impl Snapshot {
    /// What the store replaces its synced state with.
    pub fn as_reload(&self) -> Reload<'_> {
        Reload {
            head: self.head,
            conversations: &self.conversations,
            messages: &self.messages,
            requests: &self.requests,
        }
    }
}

/// Reads the snapshot. The head comes first: whatever happens while the lists are read has a
/// higher seq and arrives by the sync that follows (applied idempotently over the lists).
///
/// # Errors
/// The first failed call; nothing is stored then, and the next sync tries again.
pub(crate) async fn fetch(api: &Api) -> Result<Snapshot, ApiError> {
    let head = api.sync_head().await?.seq;
    fetch_at(api, head).await
}

/// Reads the lists for a snapshot at `head`, read before (`GET /api/sync/head`).
///
/// # Errors
/// As [`fetch`].
pub(crate) async fn fetch_at(api: &Api, head: Seq) -> Result<Snapshot, ApiError> {
    let conversations = api.conversations().await?;
    let mut messages = Vec::new();
    for c in &conversations {
        messages.extend(api.messages(c.id, None, MESSAGES_PAGE_DEFAULT).await?);
    }
    let lists = api.requests().await?;
    let requests = lists.incoming.into_iter().chain(lists.outgoing).collect();
    Ok(Snapshot {
        head,
        conversations,
        messages,
        requests,
    })
}
