//! Caddy (Debian's `caddy`) as a TLS edge on a free loopback port, running a given Caddyfile
//! (the project's `deploy/Caddyfile`, or `deploy/multi-node/Caddyfile` balancing several
//! upstreams) with a certificate for `localhost`/`127.0.0.1` from a throwaway test CA.
//!
//! What it does: generates the CA and the leaf certificate (rcgen) into a temp dir, fills the
//! Caddyfile's `{$...}` placeholders through the child's environment, starts `caddy run`, and
//! waits until the HTTPS port accepts connections (polled under a deadline; the child exiting
//! first is an error with its log). Dropping it kills the child and removes the temp dir.
//!
//! What it never does: listen on anything but 127.0.0.1, touch the caller's Caddy data or
//! configuration directories (HOME and XDG dirs point into the temp dir), open Caddy's admin
//! endpoint, or skip when `caddy` is missing (the error says to run `scripts/bootstrap.sh test`).

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::time::Instant;

/// How long Caddy may take to start listening.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the port is tried while Caddy starts.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Where the Caddyfile's upstreams are.
#[derive(Debug, Clone, Copy)]
pub struct EdgeUpstreams {
    /// confab-server (`CONFAB_UPSTREAM`).
    pub api: SocketAddr,
    /// Sockudo (`SOCKUDO_UPSTREAM`).
    pub sockudo: SocketAddr,
}

/// Where a load-balancing Caddyfile's upstreams are (`deploy/multi-node/Caddyfile`).
#[derive(Debug, Clone, Default)]
pub struct BalancedUpstreams {
    /// The confab-server replicas (`CONFAB_UPSTREAMS`).
    pub api: Vec<SocketAddr>,
    /// The Sockudo nodes (`SOCKUDO_UPSTREAMS`).
    pub sockudo: Vec<SocketAddr>,
}

/// `addrs` as one Caddyfile placeholder value: Caddy splits an expanded `{$VAR}` on spaces into
/// one upstream each.
fn space_separated(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A running Caddy; see the module doc.
pub struct Caddy {
    child: Option<Child>,
    port: u16,
    ca_pem: String,
    ca_der: Vec<u8>,
    log_path: PathBuf,
    dir: tempfile::TempDir,
}

impl Caddy {
    /// Starts Caddy with `caddyfile` on a free loopback port in front of `upstreams`.
    ///
    /// # Errors
    /// `caddy` is not installed, certificates cannot be made, or Caddy exits or does not
    /// listen within the startup timeout (the error carries its log).
    pub async fn start(caddyfile: &Path, upstreams: EdgeUpstreams) -> Result<Self> {
        Self::start_with(
            caddyfile,
            &[
                ("CONFAB_UPSTREAM", upstreams.api.to_string()),
                ("SOCKUDO_UPSTREAM", upstreams.sockudo.to_string()),
            ],
        )
        .await
    }

    /// Like [`start`](Self::start), for a Caddyfile that spreads the API and the WebSocket over
    /// several upstreams each.
    ///
    /// # Errors
    /// As [`start`](Self::start); also when either list is empty.
    pub async fn start_balanced(caddyfile: &Path, upstreams: &BalancedUpstreams) -> Result<Self> {
        if upstreams.api.is_empty() || upstreams.sockudo.is_empty() {
            bail!("a balancing Caddy needs at least one API and one Sockudo upstream");
        }
        Self::start_with(
            caddyfile,
            &[
                ("CONFAB_UPSTREAMS", space_separated(&upstreams.api)),
                ("SOCKUDO_UPSTREAMS", space_separated(&upstreams.sockudo)),
            ],
        )
        .await
    }

    /// Starts Caddy with the edge's own variables (name, port, certificate) and `upstreams`,
    /// the Caddyfile's upstream variables.
    async fn start_with(caddyfile: &Path, upstreams: &[(&str, String)]) -> Result<Self> {
        let bin = which_caddy()?;
        let dir = tempfile::tempdir().context("a temp dir for caddy")?;
        let (ca, cert_pem, key_pem) = test_pki()?;
        let cert = dir.path().join("edge.crt");
        let key = dir.path().join("edge.key");
        std::fs::write(&cert, cert_pem).context("writing the edge certificate")?;
        std::fs::write(&key, key_pem).context("writing the edge key")?;
        let port = crate::free_port();
        let log_path = dir.path().join("caddy.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log handle")?;
        let child = Command::new(&bin)
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(caddyfile)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("CONFAB_DOMAIN", "localhost")
            .env("CONFAB_HTTPS_PORT", port.to_string())
            .env("CONFAB_EDGE_BIND", "127.0.0.1")
            .env("CONFAB_TLS_CERT", &cert)
            .env("CONFAB_TLS_KEY", &key)
            .envs(upstreams.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut caddy = Self {
            child: Some(child),
            port,
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            log_path,
            dir,
        };
        caddy.wait_listening().await?;
        Ok(caddy)
    }

    /// The HTTPS port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://localhost:{port}`: the name the certificate carries. Resolve `localhost` to
    /// [`addr`](Self::addr) (reqwest's `resolve`), the only address Caddy listens on.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// `127.0.0.1:{port}`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The test CA's certificate (PEM): the one root a client should trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The test CA's certificate (DER).
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The temp dir Caddy runs in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Caddy's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    async fn wait_listening(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait().context("checking the caddy child")? {
                    self.child = None;
                    bail!(
                        "caddy exited before listening ({status}); log:\n{}",
                        self.log()
                    );
                }
            }
            if tokio::net::TcpStream::connect(self.addr()).await.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(anyhow!(
                    "caddy did not listen on {} within {STARTUP_TIMEOUT:?}; log:\n{}",
                    self.addr(),
                    self.log()
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        self.kill();
    }
}

fn which_caddy() -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("caddy"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow!("caddy is not installed: run scripts/bootstrap.sh test (Debian package caddy)")
        })
}

/// A fresh CA and a `localhost`/`127.0.0.1` certificate it signed (PEM chain, PEM key).
pub(crate) fn test_pki() -> Result<(CertifiedIssuer<'static, KeyPair>, String, String)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Confab edge test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &ca)?;
    let chain = format!("{}{}", cert.pem(), ca.pem());
    Ok((ca, chain, key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_certificate_chain_holds_the_leaf_then_the_ca() -> Result<()> {
        let (ca, chain, key) = test_pki()?;
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(chain.ends_with(&ca.pem()));
        assert!(key.contains("PRIVATE KEY"));
        Ok(())
    }

    #[test]
    fn several_upstreams_become_one_space_separated_placeholder_value() {
        let addrs: Vec<SocketAddr> =
            vec![([127, 0, 0, 1], 8081).into(), ([127, 0, 0, 1], 8082).into()];
        assert_eq!(space_separated(&addrs), "127.0.0.1:8081 127.0.0.1:8082");
    }
}
