//! Runs Sockudo as a child process for demo mode: free loopback port, generated credentials.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

use crate::config::PusherSettings;

/// How long to wait for Sockudo's health check.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A Sockudo child process. Dropping it kills the process.
pub struct SockudoChild {
    child: Child,
    settings: PusherSettings,
    _dir: tempfile::TempDir,
}

impl SockudoChild {
    /// Finds the binary (`SOCKUDO_BIN`, then `PATH`, then `~/.cargo/bin/sockudo`), writes a
    /// config with one app with random credentials on a free 127.0.0.1 port, starts it, and
    /// waits until `/up/{app_id}` answers 200.
    ///
    /// # Errors
    /// No binary, it cannot be started, or it is not healthy within 20 s (the error carries
    /// its log).
    pub async fn start() -> Result<Self> {
        let bin = find_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("confab-demo-sockudo-")
            .tempdir()?;
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port();
        let settings = PusherSettings {
            app_id: format!("{}", 1_000_000 + rand::random::<u32>() % 9_000_000),
            key: hex::encode(rand::random::<[u8; 10]>()),
            secret: hex::encode(rand::random::<[u8; 16]>()),
            cluster: None,
            host: Some("127.0.0.1".into()),
            port: Some(port),
            use_tls: false,
        };
        let config = dir.path().join("sockudo.toml");
        std::fs::write(&config, config_toml(&settings, port))?;
        let log = std::fs::File::create(dir.path().join("sockudo.log"))?;
        let child = Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .current_dir(dir.path())
            // Sockudo lets environment variables override its config; start clean.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut me = Self {
            child,
            settings,
            _dir: dir,
        };
        me.wait_healthy().await?;
        Ok(me)
    }

    /// The settings for the server to trigger through (and clients to connect to).
    pub fn settings(&self) -> &PusherSettings {
        &self.settings
    }

    /// Stops the process and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    async fn wait_healthy(&mut self) -> Result<()> {
        let url = format!("{}/up/{}", self.settings.api_base(), self.settings.app_id);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("sockudo exited early ({status}); log: {}", self.log());
            }
            if let Ok(r) = http.get(&url).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "sockudo not healthy within {STARTUP_TIMEOUT:?}; log: {}",
                    self.log()
                );
            }
            // Polling a real condition (the health endpoint) with a short pause between tries.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("sockudo.log")).unwrap_or_default()
    }
}

fn find_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SOCKUDO_BIN") {
        return Ok(PathBuf::from(p));
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("sockudo");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let candidate = PathBuf::from(home).join(".cargo/bin/sockudo");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "sockudo not found: set SOCKUDO_BIN, put it on PATH, or run scripts/bootstrap.sh \
         (cargo install sockudo)"
    )
}

fn config_toml(s: &PusherSettings, port: u16) -> String {
    format!(
        r#"host = "127.0.0.1"
port = {port}
mode = "production"
debug = false
shutdown_grace_period = 1

[metrics]
enabled = false

[rate_limiter]
enabled = false

[queue]
driver = "memory"

[cache]
driver = "memory"

[adapter]
driver = "local"

[app_manager]
driver = "memory"

[[app_manager.array.apps]]
id = "{id}"
key = "{key}"
secret = "{secret}"
enabled = true

[app_manager.array.apps.policy.limits]
max_connections = 0
max_client_events_per_second = 10

[app_manager.array.apps.policy.features]
enable_client_messages = true
enable_user_authentication = true
"#,
        id = s.app_id,
        key = s.key,
        secret = s.secret,
    )
}
