//! Confab's companion backend: the REST API the desktop app talks to, Pusher channel
//! authorization, and realtime triggers after every change.
//!
//! What it does: stores users, conversations, messages and knowledge-share requests in SQLite
//! ([`db`], [`store`]); gives every change a sequence number from one counter, in the same
//! transaction, and serves them back through `/api/sync`; signs `private-user-{id}` and
//! `presence-chat-room-{id}` subscriptions for pusher-js-compatible clients; triggers events
//! through the Pusher HTTP API after each commit ([`realtime`]), so it works unchanged against
//! hosted Pusher, Sockudo or Soketi. Operable: per-user write limits ([`write_limit`]), request
//! timeouts, a concurrency cap and gzip on the router, `/healthz` and `/readyz`, Prometheus
//! metrics on a separate listener ([`metrics`]).
//!
//! Signing in is throttled per (email, client address) and per address, in the database
//! ([`throttle`]), with the client address taken from trusted proxies' headers only
//! ([`client_ip`]); passwords are hashed on their own bounded pool ([`auth`]).
//!
//! What it never does: block or fail a request because a trigger failed (clients catch up with
//! `/api/sync`); return internal error details; let anyone sign up (accounts are provisioned with
//! `confab-server users add`); reveal the Pusher secret or teammates' emails; let one address's
//! failed sign-ins lock anyone else out.
//!
//! Entry point: [`app`] builds the router from an [`AppState`]; the `confab-server` binary wires
//! configuration, demo mode, user provisioning and the move from SQLite to PostgreSQL
//! ([`migrate`]) around it.

pub mod auth;
pub mod backup;
pub mod client_ip;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod in_flight;
pub mod metrics;
pub mod migrate;
pub mod realtime;
pub mod retention;
pub mod routes;
pub mod sql;
pub mod state;
pub mod store;
pub mod throttle;
pub mod time;
pub mod write_limit;

pub use config::{PusherSettings, ServeConfig};
pub use db::Db;
pub use error::AppError;
pub use state::AppState;

/// The whole HTTP application for `state`. Serve it with connect info so failed logins can be
/// throttled per client address:
/// `axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())`.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}
