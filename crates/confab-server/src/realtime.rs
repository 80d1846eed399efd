//! Realtime triggers: after a change is committed, tell the Pusher-protocol server.
//!
//! What it does: handlers [`Realtime::send`] an [`OutEvent`] and return at once; a background
//! task drains the queue, groups what is waiting (events for one channel each go together in
//! one `batch_events` call of up to [`MAX_BATCH`]; one event for many channels is one `events`
//! call), publishes with a bounded number of requests in flight, and retries failures with
//! exponential backoff before logging and dropping them.
//!
//! What it never does: fail or delay a user's request. The database is the truth; a client
//! that missed an event catches up through `/api/sync`. Events of different groups may be
//! delivered out of order; every payload carries its `seq` for clients to order by.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pusher_channels::sign::{sign_api_request, AppCredentials};
use tokio::sync::{mpsc, Semaphore};

use crate::config::PusherSettings;

/// The most events in one `batch_events` request (hosted Pusher's limit is 10).
pub const MAX_BATCH: usize = 10;
/// The most channels in one `events` request (Pusher's limit is 100).
pub const MAX_CHANNELS: usize = 100;
/// Publish attempts per group before giving up.
const ATTEMPTS: u32 = 4;
/// The first retry delay; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Publish requests in flight at once.
const IN_FLIGHT: usize = 32;

/// One event to trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutEvent {
    /// The channels (1 to [`MAX_CHANNELS`]).
    pub channels: Vec<String>,
    /// The event name.
    pub name: &'static str,
    /// The payload, already serialized as JSON.
    pub data: String,
    /// A socket id not to deliver to (the sender's own connection).
    pub exclude_socket_id: Option<String>,
}

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The request did not complete (connection refused, timeout); worth retrying.
    #[error("transport: {0}")]
    Transport(String),
    /// The server answered with an error status; retried too (it may be restarting).
    #[error("status {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of the answer body.
        body: String,
    },
}

/// A boxed future, so [`Publisher`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where events go. The production implementation is [`HttpPublisher`]; tests substitute
/// failing or recording ones.
pub trait Publisher: Send + Sync + 'static {
    /// Publishes one event to its channels.
    fn publish(&self, event: &OutEvent) -> BoxFuture<'_, Result<(), PublishError>>;
    /// Publishes several single-channel events in one request.
    fn publish_batch(&self, events: &[OutEvent]) -> BoxFuture<'_, Result<(), PublishError>>;
}

/// Publishes through the Pusher HTTP API (`POST /apps/{id}/events` and `/batch_events`),
/// signed with `pusher_channels::sign`. Works against hosted Pusher, Sockudo and Soketi.
pub struct HttpPublisher {
    http: reqwest::Client,
    base: String,
    creds: AppCredentials,
}

impl HttpPublisher {
    /// Builds a publisher for `settings` (HTTP keep-alive, 5 s timeout per request).
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS backend failure).
    pub fn new(settings: &PusherSettings) -> Result<Self, PublishError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(IN_FLIGHT)
            .build()
            .map_err(|e| PublishError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            base: settings.api_base(),
            creds: AppCredentials::new(&settings.app_id, &settings.key, &settings.secret),
        })
    }

    async fn post(&self, endpoint: &str, body: String) -> Result<(), PublishError> {
        let path = format!("/apps/{}/{endpoint}", self.creds.app_id);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let query = sign_api_request(
            &self.creds,
            "POST",
            &path,
            &[],
            Some(body.as_bytes()),
            timestamp,
        );
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .query(&query)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PublishError::Transport(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let mut body = response.text().await.unwrap_or_default();
        body.truncate(200);
        Err(PublishError::Status {
            status: status.as_u16(),
            body,
        })
    }
}

impl Publisher for HttpPublisher {
    fn publish(&self, event: &OutEvent) -> BoxFuture<'_, Result<(), PublishError>> {
        let mut body = serde_json::json!({
            "name": event.name,
            "channels": event.channels,
            "data": event.data,
        });
        if let Some(socket) = &event.exclude_socket_id {
            body["socket_id"] = serde_json::Value::String(socket.clone());
        }
        Box::pin(self.post("events", body.to_string()))
    }

    fn publish_batch(&self, events: &[OutEvent]) -> BoxFuture<'_, Result<(), PublishError>> {
        let batch: Vec<serde_json::Value> = events
            .iter()
            .flat_map(|e| {
                e.channels.iter().map(move |channel| {
                    let mut item = serde_json::json!({
                        "name": e.name, "channel": channel, "data": e.data,
                    });
                    if let Some(socket) = &e.exclude_socket_id {
                        item["socket_id"] = serde_json::Value::String(socket.clone());
                    }
                    item
                })
            })
            .collect();
        let body = serde_json::json!({ "batch": batch }).to_string();
        Box::pin(self.post("batch_events", body))
    }
}

/// The handle handlers use to queue events; cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    tx: mpsc::UnboundedSender<OutEvent>,
}

impl Realtime {
    /// Starts the background publishing task on the current tokio runtime.
    pub fn start(publisher: Arc<dyn Publisher>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(publisher, rx));
        Self { tx }
    }

    /// Queues an event; returns immediately. Events with more than [`MAX_CHANNELS`] channels
    /// are split.
    pub fn send(&self, event: OutEvent) {
        if event.channels.len() > MAX_CHANNELS {
            for chunk in event.channels.chunks(MAX_CHANNELS) {
                self.send(OutEvent {
                    channels: chunk.to_vec(),
                    ..event.clone()
                });
            }
            return;
        }
        if self.tx.send(event).is_err() {
            tracing::warn!("realtime task stopped; event dropped");
        }
    }
}

async fn run(publisher: Arc<dyn Publisher>, mut rx: mpsc::UnboundedReceiver<OutEvent>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let mut waiting = vec![first];
        while waiting.len() < 4 * MAX_BATCH {
            match rx.try_recv() {
                Ok(e) => waiting.push(e),
                Err(_) => break,
            }
        }
        for group in group_events(waiting) {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let publisher = publisher.clone();
            tokio::spawn(async move {
                publish_with_retry(publisher.as_ref(), &group).await;
                drop(permit);
            });
        }
    }
}

/// Splits waiting events into request groups: multi-channel events alone, single-channel
/// events in batches of up to [`MAX_BATCH`], in queue order.
pub fn group_events(events: Vec<OutEvent>) -> Vec<Vec<OutEvent>> {
    let mut groups: Vec<Vec<OutEvent>> = Vec::new();
    let mut batch: Vec<OutEvent> = Vec::new();
    for event in events {
        if event.channels.len() == 1 {
            batch.push(event);
            if batch.len() == MAX_BATCH {
                groups.push(std::mem::take(&mut batch));
            }
        } else {
            groups.push(vec![event]);
        }
    }
    if !batch.is_empty() {
        groups.push(batch);
    }
    groups
}

async fn publish_with_retry(publisher: &dyn Publisher, group: &[OutEvent]) {
    let mut delay = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let result = match group {
            [single] => publisher.publish(single).await,
            many => publisher.publish_batch(many).await,
        };
        match result {
            Ok(()) => return,
            Err(e) if attempt == ATTEMPTS => {
                let names: Vec<&str> = group.iter().map(|e| e.name).collect();
                tracing::error!(error = %e, events = ?names, "trigger failed; clients will catch up by sync");
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "trigger failed; retrying");
                // Backoff between retries (not synchronization).
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(channels: &[&str]) -> OutEvent {
        OutEvent {
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            name: "new-message",
            data: "{}".into(),
            exclude_socket_id: None,
        }
    }

    #[test]
    fn single_channel_events_are_batched_by_ten_and_fan_outs_go_alone() {
        let mut events: Vec<OutEvent> = (0..12).map(|_| ev(&["a"])).collect();
        events.insert(3, ev(&["a", "b"]));
        let groups = group_events(events);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1, 10, 2]);
        assert_eq!(groups[0][0].channels.len(), 2);
    }
}
