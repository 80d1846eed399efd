//! The state every handler shares.

use std::sync::Arc;

use confab_model::api::ClientConfig;
use pusher_channels::sign::AppCredentials;

use crate::client_ip::TrustedProxies;
use crate::config::PusherSettings;
use crate::db::{Db, DbError};
use crate::in_flight::{InFlight, PER_ADDRESS};
use crate::metrics::HttpMetrics;
use crate::realtime::{HttpPublisher, PublishError, Publisher, Realtime};
use crate::throttle::Policy;
use crate::write_limit::WriteLimits;

/// The application state: database, realtime queue, Pusher credentials, trusted proxies.
/// Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    trusted_proxies: Arc<TrustedProxies>,
    throttle: Policy,
}

struct Inner {
    db: Db,
    realtime: Realtime,
    creds: AppCredentials,
    client_config: ClientConfig,
    write_limits: WriteLimits,
    http_metrics: HttpMetrics,
    in_flight: InFlight,
    per_address_in_flight: usize,
}

impl AppState {
    /// State that triggers through the Pusher HTTP API described by `pusher`. Must be called
    /// inside a tokio runtime (it starts the publishing task).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(db: Db, pusher: &PusherSettings) -> Result<Self, PublishError> {
        let publisher = Arc::new(HttpPublisher::new(pusher)?);
        Ok(Self::with_publisher(db, pusher, publisher))
    }

    /// State with a custom [`Publisher`] (tests use failing or recording ones). Must be called
    /// inside a tokio runtime.
    pub fn with_publisher(db: Db, pusher: &PusherSettings, publisher: Arc<dyn Publisher>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                realtime: Realtime::start(publisher),
                creds: AppCredentials::new(&pusher.app_id, &pusher.key, &pusher.secret),
                client_config: ClientConfig {
                    pusher: pusher.client_config(),
                },
                write_limits: WriteLimits::default(),
                http_metrics: HttpMetrics::default(),
                in_flight: InFlight::default(),
                per_address_in_flight: PER_ADDRESS,
            }),
            trusted_proxies: Arc::new(TrustedProxies::default()),
            throttle: Policy::default(),
        }
    }

    /// This state with other per-user write limits (the default ones otherwise).
    ///
    /// # Panics
    /// When called after the state was cloned (it is meant for start-up).
    #[must_use]
    pub fn with_write_limits(mut self, limits: WriteLimits) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("write limits are set before the state is shared")
            .write_limits = limits;
        self
    }

    /// This state with another cap on requests in flight per client address (tests use a
    /// small one); [`PER_ADDRESS`] otherwise.
    ///
    /// # Panics
    /// When called after the state was cloned (it is meant for start-up).
    #[must_use]
    pub fn with_per_address_in_flight(mut self, limit: usize) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("limits are set before the state is shared")
            .per_address_in_flight = limit;
        self
    }

    /// Requests in flight per client address.
    pub fn in_flight(&self) -> &InFlight {
        &self.inner.in_flight
    }

    /// The cap on requests in flight per client address.
    pub fn per_address_in_flight(&self) -> usize {
        self.inner.per_address_in_flight
    }

    /// The per-user write limits.
    pub fn write_limits(&self) -> &WriteLimits {
        &self.inner.write_limits
    }

    /// Request counts and latencies for the metrics listener.
    pub fn http_metrics(&self) -> &HttpMetrics {
        &self.inner.http_metrics
    }

    /// The same state, believing the forwarding headers of these proxies
    /// (`CONFAB_TRUSTED_PROXIES`); by default none are trusted.
    #[must_use]
    pub fn trusting(self, proxies: TrustedProxies) -> Self {
        Self {
            trusted_proxies: Arc::new(proxies),
            ..self
        }
    }

    /// The same state with another login-throttle policy (tests stretch the delays so they do
    /// not depend on the machine's speed); by default [`Policy::default`].
    #[must_use]
    pub fn with_throttle_policy(self, policy: Policy) -> Self {
        Self {
            throttle: policy,
            ..self
        }
    }

    /// Deletes the login throttle's rows that no longer matter (idle pairs past the policy's
    /// `forget_after`, addresses whose window ended); returns how many went. Sign-ins already
    /// call this now and then; a periodic task may call it too.
    ///
    /// # Errors
    /// The database write failed.
    pub async fn purge_login_throttle(&self) -> Result<usize, DbError> {
        let policy = self.throttle;
        let now = crate::time::now_ms();
        self.db()
            .write(move |c| -> Result<_, DbError> {
                Ok(crate::throttle::store::purge(c, &policy, now)?)
            })
            .await
    }

    /// The login throttle's numbers.
    pub fn throttle_policy(&self) -> &Policy {
        &self.throttle
    }

    /// The proxies whose forwarding headers name the client.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The realtime trigger queue.
    pub fn realtime(&self) -> &Realtime {
        &self.inner.realtime
    }

    /// The Pusher app credentials (for channel signatures).
    pub fn creds(&self) -> &AppCredentials {
        &self.inner.creds
    }

    /// What `GET /api/config` returns.
    pub fn client_config(&self) -> &ClientConfig {
        &self.inner.client_config
    }
}
