//! An open account and what runs for it: the types the core's handle holds (`Inner::active`)
//! and the session's life (`lifecycle.rs`) fills in. Only this module touches the task handles:
//! the tasks are started elsewhere and handed over, and stopped here, all of them together.

use std::sync::Arc;

use confab_model::ipc::SessionInfo;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::engine;
use crate::feed::Feed;
use crate::rest::Api;

/// An open account.
pub(crate) struct Active {
    pub info: SessionInfo,
    pub db: Db,
    pub feed: Feed,
    /// The feed's task: publishes for as long as the account is open.
    feed_task: JoinHandle<()>,
    /// Syncing and sending; `None` while the token is still being read from the keyring (a
    /// restored session opens its cache first; an unlock prompt may be waiting on the user).
    pub live: Option<Live>,
    /// Conversations whose history the server has no more of than the cache (asked once per
    /// session: scrolling to the start again asks nobody).
    pub history_complete: std::sync::Mutex<std::collections::HashSet<confab_model::ConversationId>>,
}

/// What runs with the token.
pub(crate) struct Live {
    pub api: Api,
    pub commands: mpsc::UnboundedSender<engine::Command>,
    /// Wakes the outbox sender.
    pub kick: Arc<Notify>,
    /// The engine and the outbox sender (which also posts unsent read marks). Both are
    /// aborted, not asked to stop: a stopping engine that finished its sync pages first would
    /// apply (and notify) messages after the session was replaced or the app closed, and the
    /// next core would see them as old. Aborting at an await point is safe: store writes are
    /// transactions on a blocking thread, a send cut short is retried with the same client id
    /// (the server dedups), and a read mark cut short stays unsent (posting it twice is
    /// harmless: the server only moves a mark forward).
    tasks: Vec<JoinHandle<()>>,
}

impl Active {
    /// An open account whose feed runs in `feed_task`, without the token yet.
    pub fn new(info: SessionInfo, db: Db, feed: Feed, feed_task: JoinHandle<()>) -> Self {
        Active {
            info,
            db,
            feed,
            feed_task,
            live: None,
            history_complete: std::sync::Mutex::default(),
        }
    }

    /// Aborts every task without waiting (a replaced session, or a drop).
    pub fn shutdown(&self) {
        self.feed_task.abort();
        for t in self.live.iter().flat_map(|l| &l.tasks) {
            t.abort();
        }
    }

    /// Stops every task and waits until they are gone.
    pub async fn stopped(mut self) {
        self.shutdown();
        let live = self.live.take();
        let _ = (&mut self.feed_task).await;
        for t in live.into_iter().flat_map(|l| l.tasks) {
            let _ = t.await;
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Live {
    /// What runs with the token: `tasks` are the engine and the outbox sender.
    pub fn new(
        api: Api,
        commands: mpsc::UnboundedSender<engine::Command>,
        kick: Arc<Notify>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Self {
        Live {
            api,
            commands,
            kick,
            tasks,
        }
    }
}
