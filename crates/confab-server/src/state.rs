//! The state every handler shares.

use std::sync::Arc;

use confab_model::api::ClientConfig;
use pusher_channels::sign::AppCredentials;

use crate::client_ip::TrustedProxies;
use crate::config::PusherSettings;
use crate::db::{Db, DbError};
use crate::realtime::{HttpPublisher, PublishError, Publisher, Realtime};
use crate::throttle::Policy;

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
            }),
            trusted_proxies: Arc::new(TrustedProxies::default()),
            throttle: Policy::default(),
        }
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
