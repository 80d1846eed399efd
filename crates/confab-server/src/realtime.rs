//! Realtime triggers: after a change is committed, tell the Pusher-protocol server.
//!
//! What it does: handlers [`Realtime::send`] an [`OutEvent`] and return at once; a background
//! task drains the queue, groups what is waiting (events for one channel each go together in
//! one `batch_events` call of up to [`MAX_BATCH`]; one event for many channels is one `events`
//! call), publishes with a bounded number of requests in flight, and retries failures with
//! exponential backoff before logging and dropping them.
//!
//! Revocation: [`Realtime::terminate_user`] asks the Pusher server to close every socket signed
//! in as a user (after logout, `users disable`, a password change or reset, "sign out
//! everywhere"), in its own task, retried as triggers are. It closes all of that user's
//! sockets, on every device: those whose token is still valid reconnect and sign in again;
//! those whose token was revoked are refused at their next channel or user auth (401).
//!
//! What it never does: fail or delay a user's request. The database is the truth; a client
//! that missed an event catches up through `/api/sync`. Events of different groups may be
//! delivered out of order; every payload carries its `seq` for clients to order by.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pusher_channels::sign::AppCredentials;
use pusher_channels::trigger::{ApiEndpoint, BatchEvent, TriggerClient, TriggerError};
use tokio::sync::{mpsc, Semaphore};

use crate::config::PusherSettings;

/// The most events in one `batch_events` request (hosted Pusher's limit is 10).
pub const MAX_BATCH: usize = 10;
/// The most channels in one `events` request (Pusher's limit is 100).
pub const MAX_CHANNELS: usize = 100;
/// The largest event `data` sent, in bytes. A 4,000-character message can exceed hosted
/// Pusher's 10 KB limit; such events are refused there and clients get them through sync.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
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
    /// The request did not complete, or the server answered with a status worth retrying
    /// (timeouts, 5xx, rate limits); retried with backoff.
    #[error("transport: {0}")]
    Transport(String),
    /// The event itself was refused (invalid, too large, bad credentials); never retried.
    #[error("rejected: {0}")]
    Rejected(String),
}

impl From<TriggerError> for PublishError {
    fn from(e: TriggerError) -> Self {
        if e.is_retryable() {
            Self::Transport(e.to_string())
        } else {
            Self::Rejected(e.to_string())
        }
    }
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
    /// Whether the Pusher HTTP API answers now (for `/readyz`); publishes nothing. Test
    /// publishers are always ready.
    fn probe(&self) -> BoxFuture<'_, Result<(), PublishError>> {
        Box::pin(async { Ok(()) })
    }
    /// Closes every socket signed in as `user_id`. The default does nothing (a publisher with
    /// no sockets to cut, such as the tests' recording ones).
    fn terminate_user(&self, user_id: &str) -> BoxFuture<'_, Result<(), PublishError>> {
        let _ = user_id;
        Box::pin(async { Ok(()) })
    }
}

/// Publishes through the Pusher HTTP API (`POST /apps/{id}/events` and `/batch_events`) with
/// `pusher_channels::trigger::TriggerClient`. Works against hosted Pusher, Sockudo and Soketi.
pub struct HttpPublisher {
    client: TriggerClient,
}

impl HttpPublisher {
    /// Builds a publisher for `settings` (HTTP keep-alive, 5 s timeout per request, event data
    /// up to [`MAX_EVENT_BYTES`]).
    ///
    /// # Errors
    /// [`PublishError::Rejected`] for unusable settings (bad host, app id or cluster).
    pub fn new(settings: &PusherSettings) -> Result<Self, PublishError> {
        let endpoint = match (&settings.host, &settings.cluster) {
            (Some(host), _) => ApiEndpoint::SelfHosted {
                scheme: if settings.use_tls { "https" } else { "http" }.to_owned(),
                host: host.clone(),
                port: settings
                    .port
                    .unwrap_or(if settings.use_tls { 443 } else { 80 }),
            },
            (None, Some(cluster)) => ApiEndpoint::Cluster(cluster.clone()),
            (None, None) => ApiEndpoint::Cluster("mt1".to_owned()),
        };
        let creds = AppCredentials::new(&settings.app_id, &settings.key, &settings.secret);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(IN_FLIGHT)
            .build()
            .map_err(|e| PublishError::Rejected(format!("HTTP client: {e}")))?;
        let client = TriggerClient::new(endpoint, creds, None)?
            .with_timeout(Duration::from_secs(5))
            .with_max_payload_bytes(MAX_EVENT_BYTES)
            .with_http_client(http);
        Ok(Self { client })
    }
}

impl Publisher for HttpPublisher {
    fn publish(&self, event: &OutEvent) -> BoxFuture<'_, Result<(), PublishError>> {
        let event = event.clone();
        Box::pin(async move {
            self.client
                .trigger(
                    &event.channels,
                    event.name,
                    &event.data,
                    event.exclude_socket_id.as_deref(),
                )
                .await
                .map_err(PublishError::from)
        })
    }

    fn publish_batch(&self, events: &[OutEvent]) -> BoxFuture<'_, Result<(), PublishError>> {
        let batch: Vec<BatchEvent> = events
            .iter()
            .flat_map(|e| {
                e.channels.iter().map(move |channel| BatchEvent {
                    channel: channel.clone(),
                    name: e.name.to_owned(),
                    data: e.data.clone(),
                    socket_id: e.exclude_socket_id.clone(),
                })
            })
            .collect();
        Box::pin(async move {
            self.client
                .trigger_batch(&batch)
                .await
                .map_err(PublishError::from)
        })
    }

    fn probe(&self) -> BoxFuture<'_, Result<(), PublishError>> {
        // A signed query about a channel nobody uses: cheap on every Pusher implementation,
        // and it proves the address, the credentials and the server.
        Box::pin(async move {
            self.client
                .channel_info("private-confab-readiness", &[])
                .await
                .map(|_| ())
                .map_err(PublishError::from)
        })
    }

    fn terminate_user(&self, user_id: &str) -> BoxFuture<'_, Result<(), PublishError>> {
        let user_id = user_id.to_owned();
        Box::pin(async move {
            self.client
                .terminate_user_connections(&user_id)
                .await
                .map_err(PublishError::from)
        })
    }
}

/// Counters of what the realtime task did, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct RealtimeStats {
    queued: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
}

impl RealtimeStats {
    /// Events queued so far.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Events the Pusher server accepted.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Events given up on after every retry.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Requests to the Pusher HTTP API that failed and were tried again.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }
}

/// The handle handlers use to queue events; cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    tx: mpsc::UnboundedSender<OutEvent>,
    stats: Arc<RealtimeStats>,
    publisher: Arc<dyn Publisher>,
}

impl Realtime {
    /// Starts the background publishing task on the current tokio runtime.
    pub fn start(publisher: Arc<dyn Publisher>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(RealtimeStats::default());
        tokio::spawn(run(publisher.clone(), rx, stats.clone()));
        Self {
            tx,
            stats,
            publisher,
        }
    }

    /// Whether the Pusher HTTP API answers now (see [`Publisher::probe`]).
    ///
    /// # Errors
    /// Why it does not.
    pub async fn probe(&self) -> Result<(), PublishError> {
        self.publisher.probe().await
    }

    /// What has been queued, delivered and dropped so far.
    pub fn stats(&self) -> &RealtimeStats {
        &self.stats
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
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(event).is_err() {
            tracing::warn!("realtime task stopped; event dropped");
        }
    }
}

impl Realtime {
    /// Closes every socket signed in as `user` (all their devices), in the background, retried
    /// as triggers are; returns immediately. Call it after the user's tokens were revoked in
    /// the database, so a socket that reconnects meanwhile is refused its auth.
    pub fn terminate_user(&self, user: confab_model::UserId) {
        let publisher = self.publisher.clone();
        tokio::spawn(async move {
            terminate_with_retry(publisher.as_ref(), user).await;
        });
    }
}

/// Closes every socket signed in as `user`, retrying failures that may pass with backoff;
/// returns whether the Pusher server accepted it. Failures are logged without secrets (the
/// error text carries no signature or body).
pub async fn terminate_with_retry(publisher: &dyn Publisher, user: confab_model::UserId) -> bool {
    let id = user.to_string();
    let mut delay = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match publisher.terminate_user(&id).await {
            Ok(()) => return true,
            Err(e) if attempt == ATTEMPTS || matches!(e, PublishError::Rejected(_)) => {
                tracing::error!(error = %e, user = %id, "closing the user's sockets failed");
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "closing the user's sockets failed; retrying");
                // Backoff between retries (not synchronization).
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
        }
    }
    false
}

async fn run(
    publisher: Arc<dyn Publisher>,
    mut rx: mpsc::UnboundedReceiver<OutEvent>,
    stats: Arc<RealtimeStats>,
) {
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
            let stats = stats.clone();
            tokio::spawn(async move {
                let counter = if publish_with_retry(publisher.as_ref(), &group, &stats).await {
                    &stats.delivered
                } else {
                    &stats.dropped
                };
                counter.fetch_add(group.len() as u64, Ordering::Relaxed);
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

/// Publishes a group, retrying with backoff; returns whether it was delivered.
async fn publish_with_retry(
    publisher: &dyn Publisher,
    group: &[OutEvent],
    stats: &RealtimeStats,
) -> bool {
    let mut delay = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let result = match group {
            [single] => publisher.publish(single).await,
            many => publisher.publish_batch(many).await,
        };
        match result {
            Ok(()) => return true,
            Err(e) if attempt == ATTEMPTS || matches!(e, PublishError::Rejected(_)) => {
                let names: Vec<&str> = group.iter().map(|e| e.name).collect();
                tracing::error!(error = %e, events = ?names, "trigger failed; clients will catch up by sync");
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %e, attempt, "trigger failed; retrying");
                stats.retried.fetch_add(1, Ordering::Relaxed);
                // Backoff between retries (not synchronization).
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
        }
    }
    false
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
