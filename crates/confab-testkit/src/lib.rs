//! Test harness shared by Confab's test suites.
//!
//! What it does:
//! - [`Sockudo`] (from `sockudo-process`, which the backend's demo mode uses too): runs a real
//!   Pusher-protocol server (the `sockudo` binary installed by `scripts/bootstrap.sh`) as a
//!   child process on a free loopback port, with one app whose id, key and secret are random,
//!   and waits until it answers its health check. It can be killed and restarted on the same
//!   port with the same credentials, to test reconnection. With [`Adapter::Redis`] and
//!   [`SockudoBuilder::same_app_as`], several servers serve one app as nodes of a cluster.
//! - [`Redis`]: a real `redis-server` (Debian's) on a free loopback port in a temp dir, nothing
//!   persisted, ready once it answers `PING`: what a cluster of Sockudo nodes shares.
//! - [`TcpProxy`]: a small loopback TCP proxy for fault injection. It can pause (a dead network
//!   path: connections stay open, no byte moves), resume, and cut every connection abruptly.
//! - [`Caddy`]: the project's `deploy/Caddyfile` run by a real Caddy on a free loopback port,
//!   terminating TLS with a certificate from a throwaway test CA; or
//!   `deploy/multi-node/Caddyfile` balancing several upstreams ([`Caddy::start_balanced`]).
//! - [`Postgres`]: a throwaway PostgreSQL cluster (Debian's `postgresql-15`, installed by
//!   `scripts/bootstrap.sh test`) on a free loopback port, trusting loopback connections as
//!   superuser `confab`, without fsync; one server per test binary
//!   ([`Postgres::shared`]) and a fresh database per test ([`Postgres::fresh_database`]). As
//!   root (CI) it runs as an unprivileged user, since PostgreSQL refuses root.
//! - [`free_port`]: a currently unused loopback port.
//! - [`keyring`]: gnome-keyring's login collection locked, unlocked and its prompt cancelled
//!   over D-Bus, as a screen lock, the unlock dialog and the user do.
//!
//! What it never does: listen on anything but 127.0.0.1, reach the network, download anything,
//! or skip a test. A missing `sockudo`, `redis-server`, `caddy` or PostgreSQL (or a `sockudo`
//! built without the Redis adapter a cluster needs) is an error that says to run
//! `scripts/bootstrap.sh`. It never uses sleeps as synchronization: it polls a real condition
//! (a health endpoint, a `PING`, a process exit, a connection count, a server's status file)
//! until a deadline.

mod caddy;
pub mod keyring;
// PostgreSQL runs as an unprivileged Unix user (it refuses root); nothing on Windows needs it,
// and the core's Windows tests (scripts/windows-check.sh) build this crate.
#[cfg(unix)]
mod postgres;
mod proxy;
mod redis;

pub use caddy::{BalancedUpstreams, Caddy, EdgeUpstreams};
#[cfg(unix)]
pub use postgres::Postgres;
pub use proxy::TcpProxy;
pub use redis::Redis;
pub use sockudo_process::{free_port, Adapter, Sockudo, SockudoBuilder};
