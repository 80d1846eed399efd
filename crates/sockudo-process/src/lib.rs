//! A Sockudo server (Pusher Channels protocol 7, the `sockudo` binary `scripts/bootstrap.sh`
//! installs from crates.io) as a child process on a free 127.0.0.1 port, with one app whose id,
//! key and secret are random unless the caller gives them. The backend's demo mode runs one for
//! the demo's realtime traffic; the test suites run one per test (through `confab-testkit`), and
//! kill and restart it on the same port with the same credentials to test reconnection.
//!
//! A server runs on its own (Sockudo's `local` adapter, the default) or as a node of a cluster:
//! with [`Adapter::Redis`] and the same app on every node ([`SockudoBuilder::same_app_as`]),
//! nodes sharing one Redis server and key prefix relay events, client events and presence to
//! each other, so clients connected to different nodes see each other. That needs a `sockudo`
//! built with its `redis` feature, as `scripts/bootstrap.sh` builds it; a binary without it is
//! an error saying so, never a node that silently runs alone.
//!
//! What it never does: listen on anything but 127.0.0.1, reach the network (beyond the Redis
//! server whose URL the caller passes for a cluster), download anything, or let the caller's
//! environment reconfigure Sockudo (the child gets a cleared environment). A missing binary is
//! an error that says to run `scripts/bootstrap.sh`. It never sleeps as synchronisation:
//! starting polls a real condition (the health endpoint, the child's exit) until a deadline.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

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

/// How often the health endpoint and the child's exit status are polled while starting.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How many times a start is retried when the port turned out to be taken.
const BIND_ATTEMPTS: usize = 8;
/// How many lines of Sockudo's log an error message carries.
const LOG_TAIL_LINES: usize = 40;
/// What Sockudo logs (at ERROR, then exits with status 0) when its port is taken.
const ADDRESS_IN_USE: &str = "Address already in use";
/// What a Sockudo built without its `redis` feature logs, before it exits, when the config asks
/// for the Redis cache ("... the redis feature is not enabled") or adapter ("... not compiled
/// in", with `fallback_to_local` off).
const FEATURE_MISSING: [&str; 2] = ["feature is not enabled", "not compiled in"];

/// How a server shares channels, presence and events with other servers (Sockudo's
/// `[adapter]` section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Adapter {
    /// On its own, in memory (Sockudo's `local` driver): the default.
    #[default]
    Local,
    /// A node of a cluster over one Redis server (Sockudo's `redis` driver): each node
    /// publishes what its clients send and trigger on Redis pub/sub channels named after
    /// `prefix`, and asks the other nodes over Redis for channel members and counts; its cache
    /// (idempotency keys, cache channels' last events) lives in the same Redis under
    /// `{prefix}:cache:`. Every node of one cluster needs the same `url` and `prefix` and
    /// serves the same app (see [`SockudoBuilder::same_app_as`]); nodes on the same Redis with
    /// another prefix form another cluster. Needs a `sockudo` built with its `redis` feature.
    Redis {
        /// The Redis server, e.g. `redis://127.0.0.1:6379` (handed to Sockudo as `REDIS_URL`).
        url: String,
        /// The prefix of the Redis pub/sub channels and keys the cluster's nodes share.
        prefix: String,
    },
}

impl Adapter {
    /// [`Adapter::Redis`] with this URL and prefix.
    pub fn redis(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self::Redis {
            url: url.into(),
            prefix: prefix.into(),
        }
    }
}

/// An app's id, key and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Credentials {
    app_id: String,
    key: String,
    secret: String,
}

impl Credentials {
    fn random() -> Self {
        Self {
            app_id: random_digits(7),
            key: random_hex(20),
            secret: random_hex(32),
        }
    }

    /// Each part goes into a URL path (id, key) and into the TOML config, so it is limited to
    /// characters that need escaping in neither.
    fn check(&self) -> Result<()> {
        for (what, value) in [
            ("app id", &self.app_id),
            ("key", &self.key),
            ("secret", &self.secret),
        ] {
            let ok = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                bail!(
                    "the app {what} {value:?} must be non-empty ASCII letters, digits, '-', '_' \
                     or '.'"
                );
            }
        }
        Ok(())
    }
}

/// Options for a [`Sockudo`] server; start it with [`SockudoBuilder::start`].
///
/// The defaults suit both functional tests and benchmarks: client events and user
/// authentication on, no connection or event-rate limits, no HTTP API rate limit, a random
/// app, on its own ([`Adapter::Local`]).
#[derive(Debug, Clone)]
pub struct SockudoBuilder {
    activity_timeout_secs: u64,
    max_client_events_per_second: u32,
    enable_client_messages: bool,
    startup_timeout: Duration,
    adapter: Adapter,
    credentials: Option<Credentials>,
}

impl Default for SockudoBuilder {
    fn default() -> Self {
        Self {
            activity_timeout_secs: 120,
            max_client_events_per_second: 0,
            enable_client_messages: true,
            startup_timeout: Duration::from_secs(20),
            adapter: Adapter::Local,
            credentials: None,
        }
    }
}

impl SockudoBuilder {
    /// The `activity_timeout` Sockudo announces in `pusher:connection_established`, in whole
    /// seconds (rounded down, at least 1). Default 120 s, as hosted Pusher.
    pub fn activity_timeout(mut self, timeout: Duration) -> Self {
        self.activity_timeout_secs = timeout.as_secs().max(1);
        self
    }

    /// Limits client events per connection per second (hosted Pusher allows 10). Default 0,
    /// which Sockudo reads as "no limit".
    pub fn max_client_events_per_second(mut self, limit: u32) -> Self {
        self.max_client_events_per_second = limit;
        self
    }

    /// Whether `client-` events are allowed on private and presence channels. Default true.
    pub fn enable_client_messages(mut self, enabled: bool) -> Self {
        self.enable_client_messages = enabled;
        self
    }

    /// How long [`start`](Self::start) and [`Sockudo::restart`] wait for the health check to
    /// pass. Default 20 s.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Whether the server runs on its own or as a node of a cluster. Default [`Adapter::Local`].
    pub fn adapter(mut self, adapter: Adapter) -> Self {
        self.adapter = adapter;
        self
    }

    /// Serves the app with this id, key and secret instead of random ones. Each must be
    /// non-empty ASCII letters, digits, `-`, `_` or `.` ([`start`](Self::start) checks).
    pub fn credentials(
        mut self,
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials {
            app_id: app_id.into(),
            key: key.into(),
            secret: secret.into(),
        });
        self
    }

    /// Serves the same app as `other` (its id, key and secret): how a second node of a cluster
    /// is started, so a client of either node may authorise with the one secret and an event
    /// triggered through either node's HTTP API reaches both. Only the credentials are copied;
    /// give each node the same [`adapter`](Self::adapter) too.
    pub fn same_app_as(self, other: &Sockudo) -> Self {
        self.credentials(&other.app_id, &other.key, &other.secret)
    }

    /// Starts Sockudo on a free loopback port and waits until it is healthy.
    ///
    /// # Errors
    /// The `sockudo` binary cannot be found (run `scripts/bootstrap.sh`), given credentials are
    /// malformed, the temp dir cannot be written, or the server exits or stays unhealthy past
    /// the startup timeout; the error then carries the tail of Sockudo's log (and, when the
    /// binary lacks the requested adapter, says to run `scripts/bootstrap.sh`).
    pub async fn start(mut self) -> Result<Sockudo> {
        let credentials = self.credentials.take().unwrap_or_else(Credentials::random);
        credentials.check()?;
        let bin = find_sockudo_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("confab-sockudo-")
            .tempdir()
            .context("creating a temp dir for sockudo")?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building the health-check HTTP client")?;
        let mut server = Sockudo {
            config_path: dir.path().join("sockudo.toml"),
            log_path: dir.path().join("sockudo.log"),
            dir,
            bin,
            port: 0,
            app_id: credentials.app_id,
            key: credentials.key,
            secret: credentials.secret,
            options: self,
            child: None,
            http,
        };
        // The port from free_port() can be taken again before Sockudo binds it; Sockudo then
        // logs "Address already in use" and exits, and we try the next free port.
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            server.port = free_port();
            match server.launch().await {
                Ok(()) => return Ok(server),
                Err(LaunchError::AddressInUse(e)) => last_error = Some(e),
                Err(LaunchError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("sockudo never started")))
    }
}

/// A running Sockudo server (Pusher Channels protocol 7) on `127.0.0.1`, with one app, on its
/// own or as a node of a cluster (see [`Adapter`]).
///
/// Its working directory is a fresh temp dir holding the generated config (`sockudo.toml`,
/// passed with `--config`) and the server's combined stdout and stderr (`sockudo.log`, appended
/// to across restarts). Sockudo also reads many environment variables (`HOST`, `PORT`,
/// `REDIS_URL`, ...) over its config, so the child gets a cleared environment: only `PATH`,
/// `HOME` (the temp dir), `RUST_LOG` and, for a cluster node, `REDIS_URL` from its [`Adapter`].
///
/// Dropping it kills the process (SIGKILL) and removes the temp dir. A test process killed
/// with SIGKILL leaves the child running; nothing here can prevent that without `unsafe`.
#[derive(Debug)]
pub struct Sockudo {
    bin: PathBuf,
    dir: TempDir,
    config_path: PathBuf,
    log_path: PathBuf,
    port: u16,
    app_id: String,
    key: String,
    secret: String,
    options: SockudoBuilder,
    child: Option<Child>,
    http: reqwest::Client,
}

enum LaunchError {
    AddressInUse(anyhow::Error),
    Other(anyhow::Error),
}

impl Sockudo {
    /// Options for a server with non-default settings; [`Sockudo::start`] uses the defaults.
    pub fn builder() -> SockudoBuilder {
        SockudoBuilder::default()
    }

    /// Starts Sockudo with the default options; see [`SockudoBuilder::start`].
    ///
    /// # Errors
    /// As [`SockudoBuilder::start`].
    pub async fn start() -> Result<Sockudo> {
        SockudoBuilder::default().start().await
    }

    /// The app id (random digits), as used in HTTP API paths (`/apps/{app_id}/events`).
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The app key (random hex), as used in the WebSocket path and in auth signatures.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The app secret (random hex), for signing HTTP API requests and channel auth.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// How this server shares channels with others: on its own, or a node of which cluster.
    pub fn adapter(&self) -> &Adapter {
        &self.options.adapter
    }

    /// The host Sockudo listens on: always `127.0.0.1`.
    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    /// The TCP port for both WebSocket and HTTP; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The full WebSocket URL of the app:
    /// `ws://127.0.0.1:{port}/app/{key}?protocol=7&client=sockudo-process&version={crate version}`.
    pub fn ws_url(&self) -> String {
        format!(
            "ws://{}:{}/app/{}?protocol=7&client=sockudo-process&version={}",
            self.host(),
            self.port,
            self.key,
            env!("CARGO_PKG_VERSION")
        )
    }

    /// The HTTP base URL, without a trailing slash: `http://127.0.0.1:{port}`.
    pub fn http_base(&self) -> String {
        format!("http://{}:{}", self.host(), self.port)
    }

    /// Where Sockudo's stdout and stderr go (inside the temp dir, removed on drop).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last `lines` lines of Sockudo's log, to put in a failing test's message.
    pub fn log_tail(&self, lines: usize) -> String {
        read_tail(&self.log_path, 0, lines)
    }

    /// Whether the child process is still running (it has not exited and was not killed).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the process with SIGKILL and waits for it to exit: every connection drops at once,
    /// without close frames, as when a server crashes. Does nothing if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Both fail only if the child was already reaped or has exited: nothing to do then.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it runs, then starts it again on the same port with the same app
    /// credentials and adapter, and waits until it is healthy. State in memory (connections,
    /// channels, presence) is gone, as after a real crash; a cluster node rejoins its cluster.
    ///
    /// # Errors
    /// The port stays taken by another process through several attempts, or the server exits or
    /// stays unhealthy past the startup timeout; the error carries the tail of Sockudo's log.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        let mut last_error = None;
        for attempt in 0..BIND_ATTEMPTS {
            match self.launch().await {
                Ok(()) => return Ok(()),
                Err(LaunchError::AddressInUse(e)) => {
                    last_error = Some(e);
                    // Backoff before retrying the same port (not synchronization: the port is
                    // held by some other process we cannot wait on).
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                Err(LaunchError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("sockudo never restarted")))
    }

    /// Writes the config for the current port, spawns the child and waits for health.
    async fn launch(&mut self) -> std::result::Result<(), LaunchError> {
        let log_offset = std::fs::metadata(&self.log_path)
            .map(|m| m.len())
            .unwrap_or(0);
        self.spawn().map_err(LaunchError::Other)?;
        let deadline = Instant::now() + self.options.startup_timeout;
        let health_url = format!("{}/up/{}", self.http_base(), self.app_id);
        loop {
            if let Some(child) = self.child.as_mut() {
                match child.try_wait() {
                    Ok(None) => {}
                    Ok(Some(status)) => {
                        self.child = None;
                        let tail = read_tail(&self.log_path, log_offset, LOG_TAIL_LINES);
                        // A local-only build refuses a cluster node; say how to get one.
                        let hint = if FEATURE_MISSING.iter().any(|m| tail.contains(m)) {
                            format!(
                                "; {} was built without Sockudo's redis feature, which a \
                                 cluster node needs: run scripts/bootstrap.sh, which builds \
                                 Sockudo with it (or point SOCKUDO_BIN at such a build)",
                                self.bin.display()
                            )
                        } else {
                            String::new()
                        };
                        let error = anyhow::anyhow!(
                            "sockudo exited before becoming healthy on port {} ({status}){hint}; \
                             log tail:\n{tail}",
                            self.port
                        );
                        return Err(if tail.contains(ADDRESS_IN_USE) {
                            LaunchError::AddressInUse(error)
                        } else {
                            LaunchError::Other(error)
                        });
                    }
                    Err(e) => {
                        return Err(LaunchError::Other(
                            anyhow::Error::new(e).context("checking the sockudo child process"),
                        ))
                    }
                }
            }
            if let Ok(response) = self.http.get(&health_url).send().await {
                if response.status() == reqwest::StatusCode::OK {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                self.kill();
                let tail = read_tail(&self.log_path, log_offset, LOG_TAIL_LINES);
                return Err(LaunchError::Other(anyhow::anyhow!(
                    "sockudo did not answer 200 on {health_url} within {:?}; log tail:\n{tail}",
                    self.options.startup_timeout
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn spawn(&mut self) -> Result<()> {
        std::fs::write(&self.config_path, self.config_toml())
            .with_context(|| format!("writing {}", self.config_path.display()))?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("opening {}", self.log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log file handle")?;
        let child = Command::new(&self.bin)
            .arg("--config")
            .arg(&self.config_path)
            // Sockudo also loads ./config/config.toml from its cwd; the temp dir has none.
            .current_dir(self.dir.path())
            // Sockudo lets env vars (HOST, PORT, DEBUG, REDIS_URL, SOCKUDO_DEFAULT_APP_*, ...)
            // override the config file, so start from an empty environment.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            // The one variable set on purpose: Sockudo takes the Redis URL of the adapter and the
            // cache from it verbatim. Its config file cannot carry the adapter's URL in 5.2 (the
            // TOML loader fails on the `redis_pub_options` map, and a config that fails to load
            // is ignored); the alternative, `[database.redis]`, wants the URL taken apart.
            .envs(match &self.options.adapter {
                Adapter::Local => None,
                Adapter::Redis { url, .. } => Some(("REDIS_URL", url)),
            })
            .env(
                "RUST_LOG",
                std::env::var("CONFAB_SOCKUDO_LOG").unwrap_or_else(|_| "info".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// The whole config file. Field names are those of sockudo-core 5.2.0's `ServerOptions`.
    fn config_toml(&self) -> String {
        let o = &self.options;
        format!(
            r#"# Generated by sockudo-process for one run.
host = "127.0.0.1"
port = {port}
mode = "production"
debug = false
shutdown_grace_period = 1
activity_timeout = {activity_timeout}
max_connections = 0
websocket_max_payload_kb = 256

[logging]
colors_enabled = false
include_target = true

[metrics]
enabled = false

[rate_limiter]
enabled = false

[queue]
driver = "memory"

{adapter}
[event_limits]
max_channels_at_once = 100
max_name_length = 200
max_payload_in_kb = 1024
max_batch_size = 100

[presence]
max_members_per_channel = 1000
max_member_size_in_kb = 10

[websocket]
max_messages = 100000
disconnect_on_buffer_full = true

[app_manager]
driver = "memory"

[[app_manager.array.apps]]
id = "{app_id}"
key = "{key}"
secret = "{secret}"
enabled = true

[app_manager.array.apps.policy.limits]
max_connections = 0
max_client_events_per_second = {client_events}

[app_manager.array.apps.policy.features]
enable_client_messages = {client_messages}
enable_user_authentication = true
"#,
            port = self.port,
            activity_timeout = o.activity_timeout_secs,
            app_id = self.app_id,
            key = self.key,
            secret = self.secret,
            client_events = o.max_client_events_per_second,
            client_messages = o.enable_client_messages,
            adapter = adapter_toml(&o.adapter),
        )
    }
}

impl Drop for Sockudo {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `[cache]` and `[adapter]` sections for `adapter`. The Redis URL is not here: see
/// `Sockudo::spawn`.
fn adapter_toml(adapter: &Adapter) -> String {
    match adapter {
        Adapter::Local => {
            "[cache]\ndriver = \"memory\"\n\n[adapter]\ndriver = \"local\"\n".to_owned()
        }
        // A node's cache holds what the cluster must agree on (idempotency keys, the last event
        // of cache channels), so it lives in the shared Redis too; Sockudo refuses a cluster
        // with node-local caches. `fallback_to_local = false`: Sockudo otherwise runs on the
        // local adapter when Redis is unreachable or its redis feature is missing, a node that
        // looks healthy but is alone.
        Adapter::Redis { prefix, .. } => format!(
            r#"[cache]
driver = "redis"

[cache.redis]
prefix = {cache_prefix}

[adapter]
driver = "redis"
fallback_to_local = false

[adapter.redis]
prefix = {prefix}
"#,
            cache_prefix = toml_string(&format!("{prefix}:cache:")),
            prefix = toml_string(prefix),
        ),
    }
}

/// `value` as a TOML basic string, quotes included.
fn toml_string(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `SOCKUDO_BIN`, else `sockudo` on `PATH`, else `~/.cargo/bin/sockudo`.
fn find_sockudo_bin() -> Result<PathBuf> {
    locate_sockudo(
        std::env::var_os("SOCKUDO_BIN"),
        std::env::var_os("PATH"),
        std::env::var_os("HOME"),
    )
}

fn locate_sockudo(
    sockudo_bin: Option<OsString>,
    path: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf> {
    if let Some(bin) = sockudo_bin {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!(
            "SOCKUDO_BIN is {} but no such file exists; unset it, or run scripts/bootstrap.sh \
             to install Sockudo 5.2.0",
            bin.display()
        );
    }
    let on_path = path
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("sockudo"))
        .find(|candidate| candidate.is_file());
    if let Some(bin) = on_path {
        return Ok(bin);
    }
    if let Some(home) = home {
        let bin = PathBuf::from(home).join(".cargo/bin/sockudo");
        if bin.is_file() {
            return Ok(bin);
        }
    }
    bail!(
        "the sockudo binary was not found (looked at $SOCKUDO_BIN, $PATH and ~/.cargo/bin); \
         run scripts/bootstrap.sh to install Sockudo 5.2.0"
    )
}

/// The last `lines` lines of the file from byte `offset` on, or a note if it can't be read.
/// The last `lines` lines of the file at `path` from byte `offset` on (what a child process
/// logged since then), or a sentence saying why it could not be read. For error messages.
pub fn read_tail(path: &Path, offset: u64, lines: usize) -> String {
    let mut text = String::new();
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(())
    });
    if let Err(e) = read {
        return format!("(could not read {}: {e})", path.display());
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

fn random_digits(len: usize) -> String {
    (0..len)
        .map(|i| {
            // No leading zero, so the id reads as a number like hosted Pusher's.
            let low = if i == 0 { 1 } else { 0 };
            char::from_digit(rand::random_range(low..10u32), 10).unwrap_or('1')
        })
        .collect()
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

    #[test]
    fn random_credentials_have_the_requested_shape() {
        let key = random_hex(20);
        assert_eq!(key.len(), 20);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        let id = random_digits(7);
        assert_eq!(id.len(), 7);
        assert!(id.chars().all(|c| c.is_ascii_digit()));
        assert!(!id.starts_with('0'));
    }

    #[test]
    fn a_missing_binary_is_an_error_that_says_to_run_bootstrap() -> Result<()> {
        let empty = tempfile::tempdir()?;
        let dir = Some(OsString::from(empty.path()));

        let unset = locate_sockudo(None, dir.clone(), dir.clone()).map(|_| ());
        let wrong = locate_sockudo(Some("/no/such/sockudo".into()), None, None).map(|_| ());

        for result in [unset, wrong] {
            let message = format!("{:#}", result.err().context("expected an error")?);
            assert!(message.contains("scripts/bootstrap.sh"), "{message}");
        }
        Ok(())
    }

    #[test]
    fn sockudo_bin_wins_over_path_and_home() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let explicit = dir.path().join("my-sockudo");
        std::fs::write(&explicit, "")?;
        std::fs::write(dir.path().join("sockudo"), "")?;
        let path = Some(OsString::from(dir.path()));

        assert_eq!(
            locate_sockudo(Some(explicit.clone().into()), path.clone(), None)?,
            explicit
        );
        assert_eq!(
            locate_sockudo(None, path, None)?,
            dir.path().join("sockudo")
        );
        Ok(())
    }

    #[test]
    fn a_redis_node_shares_its_prefix_and_cache_and_never_falls_back_to_local() {
        let section = adapter_toml(&Adapter::redis("redis://127.0.0.1:7001", "confab"));

        assert!(
            section.contains("[cache]\ndriver = \"redis\"\n"),
            "{section}"
        );
        assert!(
            section.contains("prefix = \"confab:cache:\"\n"),
            "{section}"
        );
        assert!(
            section.contains("[adapter]\ndriver = \"redis\"\nfallback_to_local = false\n"),
            "{section}"
        );
        assert!(
            section.contains("[adapter.redis]\nprefix = \"confab\"\n"),
            "{section}"
        );
        // The URL travels in REDIS_URL, never in the file.
        assert!(!section.contains("7001"), "{section}");
        let local = adapter_toml(&Adapter::default());
        assert!(local.contains("[adapter]\ndriver = \"local\"\n"), "{local}");
        assert!(local.contains("[cache]\ndriver = \"memory\"\n"), "{local}");
    }

    #[test]
    fn toml_strings_escape_quotes_backslashes_and_control_characters() {
        assert_eq!(toml_string("plain"), "\"plain\"");
        assert_eq!(toml_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000Ad\"");
    }

    #[test]
    fn credentials_must_be_safe_in_a_url_path_and_in_toml() {
        let good = Credentials {
            app_id: "123".into(),
            key: "app-key_1.0".into(),
            secret: "s3cret".into(),
        };
        assert!(good.check().is_ok());
        for bad in ["", "has space", "quo\"te", "slash/", "naïve"] {
            let creds = Credentials {
                key: bad.into(),
                ..good.clone()
            };
            assert!(creds.check().is_err(), "{bad:?} was accepted");
        }
        assert!(Credentials::random().check().is_ok());
    }

    #[test]
    fn read_tail_keeps_only_the_last_lines_after_the_offset() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        std::fs::write(&path, "old\na\nb\nc\n")?;
        assert_eq!(read_tail(&path, 4, 2), "b\nc");
        assert_eq!(read_tail(&path, 0, 10), "old\na\nb\nc");
        Ok(())
    }
}
