//! Shared pieces of the integration tests: a real Sockudo, an authorizer that plays the app's
//! auth endpoint (it holds the secret, as a backend would), and waiting for events under a
//! timeout.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use confab_testkit::Sockudo;
use pusher_channels::auth::{AuthFuture, Authorizer};
use pusher_channels::client::{Client, Events};
use pusher_channels::proto::{AuthError, Config, Endpoint, Event, State};
use pusher_channels::sign::{
    self, AppCredentials, ChannelAuthorization, PresenceMember, UserAuthentication,
};
use pusher_channels::trigger::{ApiEndpoint, TriggerClient};
use serde_json::json;

/// The master key used for encrypted channels in these tests.
pub const MASTER_KEY: [u8; 32] = [42u8; 32];

/// Signs locally, like the app's backend would; `user` is who this client is.
pub struct LocalAuthorizer {
    pub creds: AppCredentials,
    pub user: String,
    /// Sign with a wrong secret (to test refusal).
    pub forge: bool,
}

impl Authorizer for LocalAuthorizer {
    fn authorize_channel<'a>(
        &'a self,
        socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization> {
        Box::pin(async move {
            let mut creds = self.creds.clone();
            if self.forge {
                creds.secret = "not-the-secret".into();
            }
            let member = PresenceMember {
                user_id: self.user.clone(),
                user_info: json!({ "name": format!("user {}", self.user) }),
            };
            sign::authorize_channel(
                &creds,
                socket_id,
                channel,
                channel.starts_with("presence-").then_some(&member),
                channel
                    .starts_with("private-encrypted-")
                    .then_some(&MASTER_KEY),
            )
            .map_err(|e| AuthError {
                status: Some(403),
                message: e.to_string(),
            })
        })
    }

    fn authenticate_user<'a>(&'a self, socket_id: &'a str) -> AuthFuture<'a, UserAuthentication> {
        Box::pin(async move {
            sign::authenticate_user(&self.creds, socket_id, &json!({ "id": self.user })).map_err(
                |e| AuthError {
                    status: Some(403),
                    message: e.to_string(),
                },
            )
        })
    }
}

pub fn creds(s: &Sockudo) -> AppCredentials {
    AppCredentials {
        app_id: s.app_id().to_owned(),
        key: s.key().to_owned(),
        secret: s.secret().to_owned(),
    }
}

pub fn config_for_port(s: &Sockudo, port: u16) -> Config {
    let mut c = Config::new(
        s.key().to_owned(),
        Endpoint::Host {
            host: "127.0.0.1".into(),
            port,
            tls: false,
        },
    );
    // Fast retries keep the fault tests short; the rules themselves are unit-tested.
    c.backoff_max = Duration::from_millis(500);
    c.backoff_min = Duration::from_millis(100);
    c.jitter_seed = rand_seed();
    c
}

fn rand_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(1);
    h.finish()
}

pub fn start_client(s: &Sockudo, user: &str) -> (Client, Events) {
    start_client_with(s, config_for_port(s, s.port()), user, false)
}

pub fn start_client_with(s: &Sockudo, config: Config, user: &str, forge: bool) -> (Client, Events) {
    Client::start(
        config,
        LocalAuthorizer {
            creds: creds(s),
            user: user.into(),
            forge,
        },
    )
}

pub fn trigger_client(s: &Sockudo) -> TriggerClient {
    TriggerClient::new(
        ApiEndpoint::SelfHosted {
            scheme: "http".into(),
            host: "127.0.0.1".into(),
            port: s.port(),
        },
        creds(s),
        Some(MASTER_KEY),
    )
    .unwrap()
}

/// Waits for the first event matching `pred`, failing the test after `secs` seconds.
pub async fn expect<F>(events: &mut Events, secs: u64, what: &str, mut pred: F) -> Event
where
    F: FnMut(&Event) -> bool,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(e)) if pred(&e) => return e,
            Ok(Some(_)) => continue,
            Ok(None) => panic!("event stream ended while waiting for {what}"),
            Err(_) => panic!("timed out after {secs}s waiting for {what}"),
        }
    }
}

pub async fn subscribed(events: &mut Events, channel: &str) -> Event {
    let c = channel.to_owned();
    expect(
        events,
        10,
        &format!("subscription to {channel}"),
        move |e| matches!(e, Event::Subscribed { channel, .. } if *channel == c),
    )
    .await
}

/// Waits until every channel in `channels` is subscribed, in any order; returns the events.
pub async fn subscribed_all(events: &mut Events, channels: &[&str]) -> Vec<Event> {
    let mut missing: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
    let mut got = vec![];
    while !missing.is_empty() {
        let e = expect(
            events,
            10,
            &format!("subscriptions to {missing:?}"),
            |e| matches!(e, Event::Subscribed { channel, .. } if missing.contains(channel)),
        )
        .await;
        if let Event::Subscribed { channel, .. } = &e {
            missing.retain(|c| c != channel);
        }
        got.push(e);
    }
    got
}

pub async fn connected(client: &Client) {
    assert!(
        client
            .wait_for(State::Connected, Duration::from_secs(10))
            .await,
        "client did not connect; state {:?}",
        client.state()
    );
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
