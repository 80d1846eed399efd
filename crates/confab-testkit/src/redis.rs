//! A Redis server (Debian's `redis-server`) on a free loopback port, for Sockudo nodes to form a
//! cluster over (see `sockudo_process::Adapter::Redis`).
//!
//! What it does: starts `redis-server` in a fresh temp dir, listening on 127.0.0.1 only, with
//! nothing persisted (no RDB snapshots, no append-only file), and waits until it answers a
//! `PING` over TCP (polled under a deadline; the child exiting first is an error with its log).
//! A port taken between choosing and binding it is retried on another. Dropping it kills the
//! child and removes the temp dir.
//!
//! What it never does: listen on anything but 127.0.0.1, read or write the system's Redis
//! (its config, data or port), or skip when `redis-server` is missing (the error says to run
//! `scripts/bootstrap.sh test`). It runs the same as root (as in CI) or as a normal user.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// How long Redis may take to answer its first `PING`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often `PING` is tried while Redis starts.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How long one `PING` may take before the attempt counts as failed.
const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// How many times a start is retried when the port turned out to be taken.
const BIND_ATTEMPTS: usize = 8;
/// What `redis-server` logs (then exits) when its port is taken.
const ADDRESS_IN_USE: &str = "Address already in use";

/// A running `redis-server`; see the module doc.
pub struct Redis {
    child: Option<Child>,
    port: u16,
    log_path: PathBuf,
    dir: tempfile::TempDir,
}

impl Redis {
    /// Starts `redis-server` on a free loopback port and waits until it answers `PING`.
    ///
    /// # Errors
    /// `redis-server` is not installed (run `scripts/bootstrap.sh test`), the temp dir cannot
    /// be made, or Redis exits or does not answer within the startup timeout (the error
    /// carries its log).
    pub async fn start() -> Result<Self> {
        let bin = which_redis_server()?;
        let dir = tempfile::Builder::new()
            .prefix("confab-redis-")
            .tempdir()
            .context("a temp dir for redis-server")?;
        let log_path = dir.path().join("redis.log");
        let mut redis = Self {
            child: None,
            port: 0,
            log_path,
            dir,
        };
        // The port from free_port() can be taken again before Redis binds it; Redis then logs
        // "Address already in use" and exits, and we try the next free port.
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            redis.port = crate::free_port();
            redis.spawn(&bin)?;
            match redis.wait_ready().await {
                Ok(()) => return Ok(redis),
                Err(e) if redis.log().contains(ADDRESS_IN_USE) => {
                    last_error = Some(e);
                    // Each attempt's log starts afresh, so the next check sees only its own.
                    std::fs::remove_file(&redis.log_path).ok();
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("redis-server never started")))
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:{port}`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `redis://127.0.0.1:{port}`: the URL clients (and Sockudo's Redis adapter) connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The temp dir Redis runs in (its working directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Redis's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Kills Redis with SIGKILL and waits for it to exit. Does nothing if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Both fail only if the child was already reaped or has exited: nothing to do then.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn spawn(&mut self, bin: &Path) -> Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("opening {}", self.log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log handle")?;
        // Everything on the command line, so no config file (the system's included) is read:
        // loopback only, nothing saved to disk, logs on stdout (into our log file). Protected
        // mode stays on; it refuses only non-loopback clients without a password.
        let child = Command::new(bin)
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .args(["--logfile", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait().context("checking the redis child")? {
                    self.child = None;
                    bail!(
                        "redis-server exited before answering PING on {} ({status}); log:\n{}",
                        self.addr(),
                        self.log()
                    );
                }
            }
            // Accepting connections is not enough: Redis answers -LOADING while it loads a
            // dataset, and PONG only once it serves commands.
            if matches!(
                tokio::time::timeout(PING_TIMEOUT, ping(self.addr())).await,
                Ok(Ok(()))
            ) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(anyhow!(
                    "redis-server did not answer PING on {} within {STARTUP_TIMEOUT:?}; log:\n{}",
                    self.addr(),
                    self.log()
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `PING` (as a RESP array) and expects the simple string `PONG`.
async fn ping(addr: SocketAddr) -> Result<()> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    // A reply is one line; read until its CRLF (or the peer closes).
    while !reply.ends_with(b"\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    if reply == b"+PONG\r\n" {
        Ok(())
    } else {
        bail!("PING answered {:?}", String::from_utf8_lossy(&reply))
    }
}

fn which_redis_server() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Debian puts it in /usr/bin; a PATH without it (a trimmed CI environment) still finds it.
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow!(
                "redis-server is not installed: run scripts/bootstrap.sh test (Debian package \
                 redis-server)"
            )
        })
}
