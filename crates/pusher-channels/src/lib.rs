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
