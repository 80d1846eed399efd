//! Test harness shared by Confab's test suites.
//!
//! What it does:
//! - [`Sockudo`]: runs a real Pusher-protocol server (the `sockudo` binary installed by
//!   `scripts/bootstrap.sh`) as a child process on a free loopback port, with one app whose id,
//!   key and secret are random, and waits until it answers its health check. It can be killed and
//!   restarted on the same port with the same credentials, to test reconnection.
//! - [`TcpProxy`]: a small loopback TCP proxy for fault injection. It can pause (a dead network
//!   path: connections stay open, no byte moves), resume, and cut every connection abruptly.
//! - [`free_port`]: a currently unused loopback port.
//!
//! What it never does: listen on anything but 127.0.0.1, reach the network, download anything,
//! or skip a test. A missing `sockudo` binary is an error that says to run
//! `scripts/bootstrap.sh`. It never uses sleeps as synchronization: it polls a real condition
//! (a health endpoint, a process exit, a connection count) until a deadline.

mod proxy;
mod sockudo;

pub use proxy::TcpProxy;
pub use sockudo::{Sockudo, SockudoBuilder};

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// It binds `127.0.0.1:0`, reads the port the kernel chose and closes the listener. Another
/// process may take the port before you bind it; [`Sockudo::start`] handles that by retrying
/// on a new port.
///
/// # Panics
/// If the loopback interface cannot be bound at all (no usable network stack).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_returns_a_bindable_nonzero_port() -> std::io::Result<()> {
        let port = free_port();
        assert_ne!(port, 0);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        assert_eq!(listener.local_addr()?.port(), port);
        Ok(())
    }
}
