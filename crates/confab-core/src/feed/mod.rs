//! The UI feed: everything that changes what the window (and the tray) shows reaches them as
//! events that carry the new state, computed once here. Whoever changes the cache (the engine,
//! the outbox sender, the user's actions) says what changed ([`Changes`]); one task per open
//! account gathers it ([`Batch`]: at most one event of a kind per frame) and publishes: message
//! rows as they were given, the summaries of the conversations that changed (one query for all
//! of them), the request lists and the directory when they changed.
//!
//! What it never does: write the cache, or publish for a session that ended (the window is
//! back on the sign-in screen). Listeners never call back to re-read: a new listener asks for
//! [`Changes::everything`] once.

mod batch;

use std::sync::Arc;

use confab_model::ipc::{ConversationsUpdate, RequestLists, UiEvent};
use confab_model::UserId;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use batch::{Batch, Changes, FRAME};

use crate::db::Db;
use crate::shared::Shared;
use crate::views;

/// Where changes are announced (cheap to clone; a closed feed drops them silently: the session
/// that made them is gone).
#[derive(Debug, Clone)]
pub(crate) struct Feed {
    tx: mpsc::UnboundedSender<Changes>,
}

impl Feed {
    /// A feed and the receiving end its task ([`run`]) drains.
    pub fn new() -> (Feed, mpsc::UnboundedReceiver<Changes>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Feed { tx }, rx)
    }

    /// Announces changes.
    pub fn send(&self, changes: Changes) {
        if !changes.is_empty() {
            let _ = self.tx.send(changes);
        }
    }
}

/// Publishes what `changes` receives for the account `me` until every [`Feed`] is dropped.
pub(crate) async fn run(
    db: Db,
    shared: Arc<Shared>,
    me: UserId,
    mut changes: mpsc::UnboundedReceiver<Changes>,
) {
    let mut batch = Batch::default();
    loop {
        // Everything already announced joins this round (a sync page announces at once).
        while let Ok(c) = changes.try_recv() {
            batch.push(c);
        }
        if let Some(out) = batch.poll_flush(Instant::now().into_std()) {
            publish(&db, &shared, me, out).await;
            continue;
        }
        let due = batch.poll_timeout();
        tokio::select! {
            c = changes.recv() => match c {
                Some(c) => batch.push(c),
                None => return,
            },
            () = sleep_until(due) => {}
        }
    }
}

async fn sleep_until(due: Option<std::time::Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// Reads what the changes need in one visit to the cache, then emits: message rows first (the
/// timeline has the row before its summary announces it), then the lists.
async fn publish(db: &Db, shared: &Shared, me: UserId, out: Changes) {
    let Changes {
        rows,
        removed,
        conversations,
        everything,
        requests,
        teammates,
    } = out;
    let ids: Vec<_> = conversations.into_iter().collect();
    let read = db
        .run(move |s| {
            let conversations = if everything {
                Some(ConversationsUpdate {
                    complete: true,
                    conversations: s.conversation_list()?,
                    removed: Vec::new(),
                })
            } else if ids.is_empty() {
                None
            } else {
                let conversations = s.conversation_summaries(&ids)?;
                // A conversation that changed and is no longer cached was left: it goes.
                let held: std::collections::HashSet<_> =
                    conversations.iter().map(|c| c.id).collect();
                let removed = ids
                    .iter()
                    .copied()
                    .filter(|id| !held.contains(id))
                    .collect();
                Some(ConversationsUpdate {
                    complete: false,
                    conversations,
                    removed,
                })
            };
            let requests: Option<RequestLists> = if everything || requests {
                Some(views::request_lists(s)?)
            } else {
                None
            };
            let users = if everything || teammates {
                Some(s.users()?)
            } else {
                None
            };
            Ok((conversations, requests, users))
        })
        .await;
    if shared.is_ended() {
        return;
    }
    for (conversation_id, messages) in rows {
        shared.emit(UiEvent::MessagesChanged {
            conversation_id,
            messages,
        });
    }
    for (conversation_id, client_id) in removed {
        shared.emit(UiEvent::MessageRemoved {
            conversation_id,
            client_id,
        });
    }
    let (conversations, requests, users) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "cannot read what changed for the window");
            return;
        }
    };
    if let Some(update) = conversations {
        shared.emit(UiEvent::Conversations(update));
    }
    if let Some(lists) = requests {
        shared.emit(UiEvent::Requests(lists));
    }
    if let Some(users) = users {
        shared.emit(UiEvent::Teammates {
            teammates: views::teammates(users, me, &shared.online()),
        });
    }
}
