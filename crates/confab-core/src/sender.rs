//! The outbox sender: delivers queued messages in order per conversation, survives restarts
//! (the queue is in the cache), retries on network trouble and server failures with backoff,
//! parks refusals as failed, and stops (keeping everything) when the session ends. When the
//! network is back (the engine says so: a realtime connect, or the backend answering again),
//! messages waiting out a backoff are sent at once; one that fails again backs off further.

use std::sync::Arc;
use std::time::Duration;

use confab_model::ipc::UiEvent;
use tokio::sync::Notify;

use crate::api::Api;
use crate::db::Db;
use crate::outbox::{verdict, Verdict};
use crate::views::{chat_message, now_ms};
use crate::Shared;

/// How long the sender sleeps when nothing is due and nobody kicks it: a safety net only.
const IDLE: Duration = Duration::from_secs(300);

/// Runs until the session ends (or the core aborts it).
pub(crate) async fn run(api: Api, db: Db, shared: Arc<Shared>, kick: Arc<Notify>) {
    loop {
        if shared.is_ended() {
            return;
        }
        // When the network is back, every queued message is due, whatever its backoff said.
        let horizon = if shared.take_outbox_now() {
            i64::MAX
        } else {
            now_ms()
        };
        let due = match db.run(move |s| s.outbox_due(horizon)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                Vec::new()
            }
        };
        for item in due {
            let socket = shared.socket_id();
            let result = api
                .send_message(
                    item.conversation_id,
                    &item.content,
                    &item.client_id,
                    socket.as_deref(),
                )
                .await;
            match verdict(&result, item.attempts, rand::random::<f64>()) {
                Verdict::Delivered => {
                    if let Ok(m) = result {
                        let msg = m.clone();
                        if db.run(move |s| s.apply_message(&msg)).await.is_ok() {
                            shared.emit(UiEvent::MessagesChanged {
                                conversation_id: m.conversation_id,
                                messages: vec![chat_message(&m)],
                            });
                            shared.emit(UiEvent::ConversationsChanged);
                        }
                    }
                }
                Verdict::RetryAfter(delay) => {
                    let reason = result.err().map(|e| e.to_string()).unwrap_or_default();
                    let at = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(60_000);
                    let id = item.client_id.clone();
                    let _ = db.run(move |s| s.outbox_reschedule(&id, &reason, at)).await;
                }
                Verdict::Failed(reason) => {
                    let id = item.client_id.clone();
                    if let Ok(m) = db.run(move |s| s.outbox_fail(&id, &reason)).await {
                        shared.emit(UiEvent::MessagesChanged {
                            conversation_id: m.conversation_id,
                            messages: vec![m],
                        });
                    }
                }
                Verdict::SessionEnded => {
                    shared.end_session();
                    return;
                }
            }
        }
        let next = db.run(|s| s.outbox_next_due_at()).await.ok().flatten();
        let wait = next.map_or(IDLE, |at| {
            Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))
        });
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = kick.notified() => {}
        }
    }
}
