//! The vocabulary of the sans-IO connection: configuration, states, inputs and outputs.

use std::time::Duration;

use serde_json::Value;

use crate::frame::{Data, FrameError};

/// Where the Pusher-protocol server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Hosted Pusher: `wss://ws-{cluster}.pusher.com:443`.
    Cluster(String),
    /// A self-hosted server (Sockudo, Soketi, ...).
    Host {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
        /// `wss` when true, `ws` otherwise.
        tls: bool,
    },
}

/// Client settings. Defaults follow pusher-js unless noted.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app key (public).
    pub key: String,
    /// The server.
    pub endpoint: Endpoint,
    /// Upper bound for the activity timeout; the server's value is used when lower. 120 s.
    pub activity_timeout_cap: Duration,
    /// How long to wait for any frame after our `pusher:ping` before dropping the socket. 30 s.
    pub pong_timeout: Duration,
    /// How long [`super::Connection::check_now`] waits for a pong: a wake or network change
    /// deserves a quicker verdict than the idle ping. 5 s.
    pub check_timeout: Duration,
    /// Time without a connection after which the state becomes `Unavailable`. 10 s.
    pub unavailable_after: Duration,
    /// Time one socket attempt may take to reach `connection_established`. 10 s.
    pub attempt_timeout: Duration,
    /// A subscription with no answer within this time fails. 30 s.
    pub subscription_timeout: Duration,
    /// First backoff ceiling (doubles per failed attempt). 1 s.
    pub backoff_min: Duration,
    /// Backoff ceiling. 60 s.
    pub backoff_max: Duration,
    /// A connection that stayed up this long resets the backoff. 30 s.
    pub stable_after: Duration,
    /// Shortest time between the starts of two attempts that [`super::Connection::retry_now`]
    /// or [`super::Connection::check_now`] bring forward: however often they are called, at
    /// most one such attempt per interval. 1 s.
    pub min_retry_interval: Duration,
    /// Minimum wait after a 4004 (over quota) close. 5 min.
    pub over_quota_backoff: Duration,
    /// Inbound frames larger than this are dropped with an error event. 256 KiB.
    pub max_frame_bytes: usize,
    /// Client events allowed per second on one connection (Pusher enforces 10). 10.
    pub client_events_per_second: usize,
    /// Seed for backoff jitter; the driver passes a random one, tests a fixed one.
    pub jitter_seed: u64,
}

impl Config {
    /// A configuration with pusher-js defaults.
    pub fn new(key: impl Into<String>, endpoint: Endpoint) -> Self {
        Config {
            key: key.into(),
            endpoint,
            activity_timeout_cap: Duration::from_secs(120),
            pong_timeout: Duration::from_secs(30),
            check_timeout: Duration::from_secs(5),
            unavailable_after: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(10),
            subscription_timeout: Duration::from_secs(30),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            stable_after: Duration::from_secs(30),
            min_retry_interval: Duration::from_secs(1),
            over_quota_backoff: Duration::from_secs(300),
            max_frame_bytes: 256 * 1024,
            client_events_per_second: 10,
            jitter_seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The WebSocket URL for this configuration.
    pub fn url(&self) -> String {
        let (scheme, host, port) = match &self.endpoint {
            Endpoint::Cluster(c) => ("wss", format!("ws-{c}.pusher.com"), 443),
            Endpoint::Host { host, port, tls } => {
                (if *tls { "wss" } else { "ws" }, host.clone(), *port)
            }
        };
        format!(
            "{scheme}://{host}:{port}/app/{}?protocol=7&client=rust-pusher-channels&version={}&flash=false",
            self.key,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Connection state, as pusher-js names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Created, `connect` not called yet.
    Initialized,
    /// Trying to connect (also right after a socket closed).
    Connecting,
    /// `connection_established` received; the socket id is known.
    Connected,
    /// No connection for `unavailable_after`; retrying continues.
    Unavailable,
    /// Stopped: by the user, or refused by the server (4000-4099). No retry.
    Disconnected,
}

/// What the driver must do with the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open a WebSocket to this URL; report `handle_open` or `handle_close`.
    Open {
        /// The URL.
        url: String,
    },
    /// Send this text frame.
    Send(String),
    /// Close the socket; no `handle_close` is expected afterwards.
    Close,
}

/// A signature the driver must fetch (from the app's auth endpoint) and hand back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRequest {
    /// Authorize a private/presence/encrypted channel for this socket.
    Channel {
        /// The channel.
        channel: String,
        /// The socket id the signature must be for.
        socket_id: String,
    },
    /// Authenticate the user (`pusher:signin`) for this socket.
    User {
        /// The socket id the signature must be for.
        socket_id: String,
    },
}

/// Why an authorization could not be obtained (filled in by the driver's authorizer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("authorization failed{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct AuthError {
    /// HTTP status of the auth endpoint, if it answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
}

/// A presence channel member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// `user_id` from the channel data.
    pub id: String,
    /// `user_info` from the channel data (`Null` when absent).
    pub info: Value,
}

/// Why a subscription failed. It is retried after the next reconnect, or when subscribed again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// The auth endpoint refused or could not be reached (401/403 come with their status).
    #[error("{0}")]
    Auth(AuthError),
    /// The server refused it (`pusher:subscription_error`, or a channel-less `pusher:error`
    /// naming the channel).
    #[error("server refused subscription{}: {message}", status.map(|s| format!(" ({s})")).unwrap_or_default())]
    Server {
        /// Status or code the server gave.
        status: Option<u16>,
        /// Its message.
        message: String,
    },
    /// No answer within `subscription_timeout`.
    #[error("no answer to the subscription in time")]
    Timeout,
}

/// Connection-level problems, surfaced as [`Event::Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The server refused the connection with a 4000-4099 code; the client stopped. Fix the
    /// configuration (key, app disabled, TLS) and call `connect` again.
    #[error("connection refused by server ({code}): {message}")]
    Refused {
        /// The close or error code.
        code: u16,
        /// The reason given.
        message: String,
    },
    /// A `pusher:error` while connected (e.g. 4009 unauthorized subscription, 4301 rate limit).
    #[error("server error{}: {message}", code.map(|c| format!(" {c}")).unwrap_or_default())]
    Server {
        /// Its code, if any.
        code: Option<u16>,
        /// Its message.
        message: String,
    },
    /// An inbound frame was dropped.
    #[error("dropped frame: {0}")]
    Frame(FrameError),
    /// An event on an encrypted channel could not be decrypted even after re-authorizing.
    #[error("could not decrypt an event on {channel}")]
    Decrypt {
        /// The channel.
        channel: String,
    },
    /// User sign-in failed.
    #[error("sign-in failed: {0}")]
    SignIn(String),
}

/// Why a client event was not sent. Nothing was sent in any case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// Client event names must start with `client-`.
    #[error("client event names must start with \"client-\"")]
    NotClientEvent,
    /// Only private and presence channels (not encrypted ones) accept client events.
    #[error("client events are only allowed on private and presence channels")]
    ChannelNotAllowed,
    /// The channel is not subscribed (yet).
    #[error("channel {0} is not subscribed")]
    NotSubscribed(String),
    /// More than `client_events_per_second` in the last second.
    #[error("client event rate limit reached; try again shortly")]
    RateLimited,
}

/// Why a subscribe call was rejected at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelNameError {
    /// Not a valid Pusher channel name (1-164 chars of `A-Za-z0-9_-=@,.;`).
    #[error("invalid channel name {0:?}")]
    Invalid(String),
}

/// What the application sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The state changed, or the time until the next attempt did.
    StateChanged {
        /// Before.
        previous: State,
        /// Now.
        current: State,
        /// When waiting to retry: how long until the next attempt.
        retry_in: Option<Duration>,
    },
    /// `connection_established`: a new socket id. `reconnect` is false only the first time.
    Connected {
        /// The socket id (pass it as `X-Socket-Id` to exclude yourself from triggers).
        socket_id: String,
        /// Whether this follows an earlier connection (time to catch up).
        reconnect: bool,
    },
    /// A channel is subscribed. After a reconnect `resubscribed` is true: events may have been
    /// missed while it was not.
    Subscribed {
        /// The channel.
        channel: String,
        /// Whether it had been subscribed before on an earlier socket.
        resubscribed: bool,
        /// Presence channels: the members and who I am.
        members: Option<Members>,
    },
    /// A subscription failed.
    SubscriptionFailed {
        /// The channel.
        channel: String,
        /// Why.
        error: SubscriptionError,
    },
    /// An event on a subscribed channel (decrypted for encrypted channels).
    Message {
        /// The channel.
        channel: String,
        /// The event name.
        event: String,
        /// The payload.
        data: Data,
        /// The sender of a client event on a presence channel.
        user_id: Option<String>,
    },
    /// An event sent to the signed-in user (`#server-to-user-{id}`).
    UserMessage {
        /// The event name.
        event: String,
        /// The payload.
        data: Data,
    },
    /// A new member joined a presence channel.
    MemberAdded {
        /// The channel.
        channel: String,
        /// Who.
        member: Member,
    },
    /// A member left a presence channel.
    MemberRemoved {
        /// The channel.
        channel: String,
        /// Who.
        member: Member,
    },
    /// `pusher_internal:subscription_count`.
    SubscriptionCount {
        /// The channel.
        channel: String,
        /// Number of subscribers.
        count: u64,
    },
    /// `pusher:cache_miss` on a cache channel: nothing cached yet, fetch the initial state.
    CacheMiss {
        /// The channel.
        channel: String,
    },
    /// `pusher:signin_success`.
    SignedIn {
        /// The user data the server confirmed.
        user_data: Value,
    },
    /// A connection-level problem.
    Error(ProtocolError),
}

/// Presence members of one channel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Members {
    /// My own user id on this channel (from my channel data).
    pub me: Option<String>,
    /// Members by id, in id order.
    pub members: std::collections::BTreeMap<String, Value>,
}

impl Members {
    /// Number of distinct members.
    pub fn count(&self) -> usize {
        self.members.len()
    }

    /// One member.
    pub fn get(&self, id: &str) -> Option<Member> {
        self.members.get(id).map(|info| Member {
            id: id.to_owned(),
            info: info.clone(),
        })
    }
}
