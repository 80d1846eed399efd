//! A Pusher Channels (protocol 7) client for long-lived connections, plus the signing and
//! HTTP-API pieces a backend needs.
//!
//! - [`proto`]: the sans-IO protocol state machine (states, ping/pong, backoff, channels,
//!   presence, client events, user sign-in, encrypted and cache channels). Pure and
//!   deterministic: inputs carry an explicit `now`.
//! - `client` (feature `client`, default): a tokio + tokio-tungstenite driver with a cheap
//!   `Clone` handle and a pluggable async authorizer.
//! - [`sign`]: channel-auth and user-auth signatures and HTTP API request signing;
//!   `trigger` (feature `client`): a small HTTP API client for servers.
//! - [`crypto`]: NaCl secretbox for `private-encrypted-` channels.
//!
//! Reconnecting: after a lost socket the client retries forever with jittered exponential
//! backoff (1 s doubling to 60 s; a connection that stays up 30 s resets it), at once for close
//! codes 4200-4299, never for 4000-4099 (refused: call `connect` again). The application can
//! cut a wait short in two ways, neither of which ever has two attempts in flight or starts
//! more than one attempt a second:
//! - `check_now` (woke from sleep, the network changed): a ping when connected; between
//!   attempts, one now with the backoff started afresh.
//! - `retry_now` (evidence the server is back, e.g. a REST call to the same backend succeeded
//!   after failing): a ping when connected; between attempts, one now, keeping the backoff, so
//!   an attempt that fails again waits longer than the last instead of hammering the server.
//!
//! It never needs the app secret on the client side: signatures come from your auth endpoint.
//! It never panics on server input: malformed frames become [`proto::Event::Error`].

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod crypto;
pub mod frame;
pub mod proto;
pub mod sign;
#[cfg(feature = "client")]
pub mod trigger;
