//! Server configuration from the conventional environment variables.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use confab_model::api::PusherClientConfig;

use crate::client_ip::TrustedProxies;
use crate::db::{Db, DbError};
use crate::retention::RetentionPolicy;
use crate::write_limit::WriteLimits;

/// The longest retention accepted, in days (a century: anything longer is a typo).
const MAX_RETENTION_DAYS: u32 = 36_500;

/// Why the configuration is unusable; the message says what to set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Required variables are unset or empty.
    #[error("missing configuration: set {0}")]
    Missing(String),
    /// A variable has a value that cannot be used.
    #[error("invalid {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// How to reach the Pusher-protocol server (hosted Pusher, Sockudo or Soketi).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PusherSettings {
    /// `PUSHER_APP_ID`.
    pub app_id: String,
    /// `PUSHER_KEY` (public).
    pub key: String,
    /// `PUSHER_SECRET` (never leaves the server).
    pub secret: String,
    /// `PUSHER_CLUSTER`, for hosted Pusher.
    pub cluster: Option<String>,
    /// `PUSHER_HOST`, for self-hosted servers.
    pub host: Option<String>,
    /// `PUSHER_PORT` (default 443 with TLS, else 80).
    pub port: Option<u16>,
    /// `PUSHER_USE_TLS` (default true for hosted, false for a host).
    pub use_tls: bool,
}

impl PusherSettings {
    /// The settings of a Sockudo run on loopback (demo mode, benchmarks, tests): plain
    /// WebSocket and HTTP on its port, its app's credentials.
    pub fn of_local(sockudo: &sockudo_process::Sockudo) -> Self {
        Self {
            app_id: sockudo.app_id().to_owned(),
            key: sockudo.key().to_owned(),
            secret: sockudo.secret().to_owned(),
            cluster: None,
            host: Some(sockudo.host().to_owned()),
            port: Some(sockudo.port()),
            use_tls: false,
        }
    }

    /// The base URL of the HTTP API, e.g. `https://api-eu.pusher.com` or `http://127.0.0.1:6001`.
    pub fn api_base(&self) -> String {
        let scheme = if self.use_tls { "https" } else { "http" };
        match (&self.host, &self.cluster) {
            (Some(host), _) => {
                let port = self.port.unwrap_or(if self.use_tls { 443 } else { 80 });
                format!("{scheme}://{host}:{port}")
            }
            (None, Some(cluster)) => format!("{scheme}://api-{cluster}.pusher.com"),
            (None, None) => format!("{scheme}://api.pusherapp.com"),
        }
    }

    /// Where the server itself reaches the Pusher HTTP API, read from `vars`: these settings,
    /// unless `PUSHER_API_HOST` (with `PUSHER_API_PORT`, `PUSHER_API_USE_TLS`, default plain
    /// HTTP) names another address. Behind a TLS edge the apps connect to the public name while
    /// the server triggers on Sockudo's own loopback port, and the edge never exposes `/apps/`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a bad port or boolean.
    pub fn for_api(&self, vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(host) = get("PUSHER_API_HOST") else {
            return Ok(self.clone());
        };
        let port = match get("PUSHER_API_PORT") {
            None => None,
            Some(p) => Some(p.parse::<u16>().map_err(|e| ConfigError::Invalid {
                name: "PUSHER_API_PORT",
                reason: e.to_string(),
            })?),
        };
        let use_tls = match get("PUSHER_API_USE_TLS").as_deref() {
            None | Some("0" | "false" | "FALSE" | "no") => false,
            Some("1" | "true" | "TRUE" | "yes") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PUSHER_API_USE_TLS",
                    reason: format!("expected true or false, got {other:?}"),
                })
            }
        };
        Ok(Self {
            host: Some(host),
            port,
            use_tls,
            ..self.clone()
        })
    }

    /// What clients may know: everything but the secret and the app id.
    pub fn client_config(&self) -> PusherClientConfig {
        PusherClientConfig {
            key: self.key.clone(),
            cluster: self.cluster.clone(),
            host: self.host.clone(),
            port: self.port,
            use_tls: self.use_tls,
        }
    }

    /// Reads the `PUSHER_*` variables from `vars`.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] listing every missing variable (app id, key, secret, and one
    /// of cluster or host), [`ConfigError::Invalid`] for a bad port or boolean.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut missing = Vec::new();
        let mut need = |k: &'static str| {
            let v = get(k);
            if v.is_none() {
                missing.push(k);
            }
            v.unwrap_or_default()
        };
        let app_id = need("PUSHER_APP_ID");
        let key = need("PUSHER_KEY");
        let secret = need("PUSHER_SECRET");
        let cluster = get("PUSHER_CLUSTER");
        let host = get("PUSHER_HOST");
        if cluster.is_none() && host.is_none() {
            missing.push("PUSHER_CLUSTER (hosted Pusher) or PUSHER_HOST (Sockudo/Soketi)");
        }
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing.join(", ")));
        }
        let port = match get("PUSHER_PORT") {
            None => None,
            Some(p) => Some(p.parse::<u16>().map_err(|e| ConfigError::Invalid {
                name: "PUSHER_PORT",
                reason: e.to_string(),
            })?),
        };
        let use_tls = match get("PUSHER_USE_TLS").as_deref() {
            None => host.is_none(),
            Some("1" | "true" | "TRUE" | "yes") => true,
            Some("0" | "false" | "FALSE" | "no") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "PUSHER_USE_TLS",
                    reason: format!("expected true or false, got {other:?}"),
                })
            }
        };
        Ok(Self {
            app_id,
            key,
            secret,
            cluster,
            host,
            port,
            use_tls,
        })
    }
}

/// Everything `confab-server serve` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// The Pusher settings the apps are given.
    pub pusher: PusherSettings,
    /// Where the server triggers (see [`PusherSettings::for_api`]).
    pub pusher_api: PusherSettings,
    /// `CONFAB_DB` (a SQLite file, the default) or `CONFAB_DATABASE_URL` (PostgreSQL).
    pub storage: Storage,
    /// `CONFAB_BIND`: the listen address (default `127.0.0.1:8080`).
    pub bind: SocketAddr,
    /// `CONFAB_METRICS_BIND`: where Prometheus metrics are served (none when unset). Keep it
    /// off the public address: it is for the operator's scraper only.
    pub metrics_bind: Option<SocketAddr>,
    /// `CONFAB_WRITE_LIMITS`: per-user write rates (see [`WriteLimits::parse`]).
    pub write_limits: WriteLimits,
    /// `CONFAB_TRUSTED_PROXIES`: comma-separated CIDRs of the reverse proxies whose
    /// `X-Forwarded-For`/`Forwarded` headers name the client (default: none, so the TCP peer is
    /// the client).
    pub trusted_proxies: TrustedProxies,
    /// `CONFAB_CHANGES_RETENTION_DAYS`: what maintenance keeps.
    pub retention: RetentionPolicy,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// `CONFAB_DB`: one SQLite file, for one server process (the default).
    Sqlite(PathBuf),
    /// `CONFAB_DATABASE_URL=postgres://…`: one PostgreSQL database shared by any number of
    /// replicas.
    Postgres(String),
}

impl Storage {
    /// Reads `CONFAB_DATABASE_URL` or `CONFAB_DB` (exactly one of them) from `vars`.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when neither is set, [`ConfigError::Invalid`] when both are or
    /// the URL is not `postgres://`/`postgresql://`.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        match (get("CONFAB_DATABASE_URL"), get("CONFAB_DB")) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                name: "CONFAB_DATABASE_URL",
                reason: "set either CONFAB_DB (SQLite) or CONFAB_DATABASE_URL (PostgreSQL), \
                         not both"
                    .into(),
            }),
            (Some(url), None) => {
                if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                    Ok(Self::Postgres(url.to_owned()))
                } else {
                    Err(ConfigError::Invalid {
                        name: "CONFAB_DATABASE_URL",
                        // Not the URL itself: it may carry a password.
                        reason: "expected a postgres:// URL".into(),
                    })
                }
            }
            (None, Some(path)) => Ok(Self::Sqlite(PathBuf::from(path))),
            (None, None) => Err(ConfigError::Missing(
                "CONFAB_DB (or CONFAB_DATABASE_URL)".into(),
            )),
        }
    }

    /// Opens the database (migrating it). Blocking: call it on a blocking thread.
    ///
    /// # Errors
    /// As [`Db::open`] and [`Db::connect_postgres`].
    pub fn open(&self) -> Result<Db, DbError> {
        match self {
            Self::Sqlite(path) => Db::open(path),
            Self::Postgres(url) => Db::connect_postgres(url),
        }
    }

    /// A description for logs and errors, without secrets.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => match url.parse::<postgres::Config>() {
                Ok(c) => format!(
                    "PostgreSQL database {} on {:?}",
                    c.get_dbname().unwrap_or("(default)"),
                    c.get_hosts()
                ),
                Err(_) => "PostgreSQL".into(),
            },
        }
    }
}

/// Reads `CONFAB_CHANGES_RETENTION_DAYS` (whole days, 1 to 36,500; default 90) from `vars`.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable for anything but a whole number in range.
pub fn retention_from_vars(vars: &HashMap<String, String>) -> Result<RetentionPolicy, ConfigError> {
    const NAME: &str = "CONFAB_CHANGES_RETENTION_DAYS";
    let Some(raw) = vars.get(NAME).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(RetentionPolicy::default());
    };
    let invalid = || ConfigError::Invalid {
        name: NAME,
        reason: format!(
            "expected a whole number of days from 1 to {MAX_RETENTION_DAYS}, got {raw:?}"
        ),
    };
    let days: u32 = raw.parse().map_err(|_| invalid())?;
    if !(1..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(invalid());
    }
    Ok(RetentionPolicy { changes_days: days })
}

impl ServeConfig {
    /// Reads the configuration from `vars` (normally `std::env::vars()`).
    ///
    /// # Errors
    /// See [`PusherSettings::from_vars`]; also a missing `CONFAB_DB`, a bad `CONFAB_BIND`, an
    /// entry of `CONFAB_TRUSTED_PROXIES` that is not a CIDR, or a bad
    /// `CONFAB_CHANGES_RETENTION_DAYS` ([`retention_from_vars`]).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let storage = Storage::from_vars(vars);
        let (pusher, storage) = match (PusherSettings::from_vars(vars), storage) {
            (Ok(p), Ok(s)) => (p, s),
            (Err(ConfigError::Missing(m)), Err(ConfigError::Missing(d))) => {
                return Err(ConfigError::Missing(format!("{m}, {d}")))
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        let bind = vars
            .get("CONFAB_BIND")
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                name: "CONFAB_BIND",
                reason: e.to_string(),
            })?;
        let metrics_bind = match vars.get("CONFAB_METRICS_BIND").map(|v| v.trim()) {
            Some(v) if !v.is_empty() => Some(v.parse().map_err(
                |e: std::net::AddrParseError| ConfigError::Invalid {
                    name: "CONFAB_METRICS_BIND",
                    reason: e.to_string(),
                },
            )?),
            _ => None,
        };
        let write_limits =
            WriteLimits::parse(vars.get("CONFAB_WRITE_LIMITS").map_or("", |v| v.as_str()))
                .map_err(|reason| ConfigError::Invalid {
                    name: "CONFAB_WRITE_LIMITS",
                    reason,
                })?;
        let trusted_proxies = TrustedProxies::parse(
            vars.get("CONFAB_TRUSTED_PROXIES")
                .map_or("", |v| v.as_str()),
        )
        .map_err(|e| ConfigError::Invalid {
            name: "CONFAB_TRUSTED_PROXIES",
            reason: e.to_string(),
        })?;
        let pusher_api = pusher.for_api(vars)?;
        Ok(Self {
            pusher,
            pusher_api,
            trusted_proxies,
            storage,
            bind,
            metrics_bind,
            write_limits,
            retention: retention_from_vars(vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_empty_environment_names_every_missing_variable() {
        let err = ServeConfig::from_vars(&HashMap::new()).expect_err("must refuse");
        let msg = err.to_string();
        for name in [
            "PUSHER_APP_ID",
            "PUSHER_KEY",
            "PUSHER_SECRET",
            "PUSHER_HOST",
            "CONFAB_DB",
        ] {
            assert!(msg.contains(name), "{msg}");
        }
    }

    #[test]
    fn behind_a_tls_edge_the_server_triggers_on_sockudos_own_address_and_the_apps_get_the_public_one(
    ) {
        let base = [
            ("PUSHER_APP_ID", "1"),
            ("PUSHER_KEY", "k"),
            ("PUSHER_SECRET", "s"),
            ("PUSHER_HOST", "chat.example.com"),
            ("PUSHER_PORT", "443"),
            ("PUSHER_USE_TLS", "true"),
            ("CONFAB_DB", "/var/lib/confab/confab.db"),
        ];
        let same = ServeConfig::from_vars(&vars(&base)).expect("valid");
        assert_eq!(
            same.pusher_api, same.pusher,
            "one address unless told otherwise"
        );
        let mut split = base.to_vec();
        split.extend([
            ("PUSHER_API_HOST", "127.0.0.1"),
            ("PUSHER_API_PORT", "6001"),
        ]);
        let cfg = ServeConfig::from_vars(&vars(&split)).expect("valid");
        assert_eq!(cfg.pusher_api.api_base(), "http://127.0.0.1:6001");
        assert_eq!(
            cfg.pusher.client_config().host.as_deref(),
            Some("chat.example.com")
        );
        assert!(cfg.pusher.client_config().use_tls);
        let mut bad = base.to_vec();
        bad.extend([
            ("PUSHER_API_HOST", "127.0.0.1"),
            ("PUSHER_API_PORT", "sixty"),
        ]);
        let err = ServeConfig::from_vars(&vars(&bad)).expect_err("a bad port");
        assert!(err.to_string().contains("PUSHER_API_PORT"), "{err}");
    }

    #[test]
    fn a_self_hosted_configuration_defaults_to_plain_http_on_loopback_bind() {
        let cfg = ServeConfig::from_vars(&vars(&[
            ("PUSHER_APP_ID", "1"),
            ("PUSHER_KEY", "k"),
            ("PUSHER_SECRET", "s"),
            ("PUSHER_HOST", "127.0.0.1"),
            ("PUSHER_PORT", "6001"),
            ("CONFAB_DB", "/tmp/x.db"),
        ]))
        .expect("valid");
        assert_eq!(cfg.pusher.api_base(), "http://127.0.0.1:6001");
        assert_eq!(cfg.bind.to_string(), "127.0.0.1:8080");
        assert!(!cfg.pusher.client_config().use_tls);
    }

    #[test]
    fn trusted_proxies_default_to_none_and_a_bad_entry_is_refused_by_name() {
        let base = [
            ("PUSHER_APP_ID", "1"),
            ("PUSHER_KEY", "k"),
            ("PUSHER_SECRET", "s"),
            ("PUSHER_HOST", "127.0.0.1"),
            ("CONFAB_DB", "/tmp/x.db"),
        ];
        let cfg = ServeConfig::from_vars(&vars(&base)).expect("valid");
        assert!(cfg.trusted_proxies.is_empty());
        let mut with = base.to_vec();
        with.push(("CONFAB_TRUSTED_PROXIES", "127.0.0.1/32, ::1"));
        let cfg = ServeConfig::from_vars(&vars(&with)).expect("valid");
        assert!(cfg.trusted_proxies.contains("::1".parse().expect("ip")));
        with.pop();
        with.push(("CONFAB_TRUSTED_PROXIES", "127.0.0.1, proxy.local"));
        let err = ServeConfig::from_vars(&vars(&with)).expect_err("must refuse");
        let msg = err.to_string();
        assert!(
            msg.contains("CONFAB_TRUSTED_PROXIES") && msg.contains("proxy.local"),
            "{msg}"
        );
    }

    #[test]
    fn a_hosted_configuration_uses_the_cluster_api_host_with_tls() {
        let p = PusherSettings::from_vars(&vars(&[
            ("PUSHER_APP_ID", "1"),
            ("PUSHER_KEY", "k"),
            ("PUSHER_SECRET", "s"),
            ("PUSHER_CLUSTER", "eu"),
        ]))
        .expect("valid");
        assert_eq!(p.api_base(), "https://api-eu.pusher.com");
    }

    #[test]
    fn changes_are_kept_ninety_days_unless_a_whole_number_of_days_is_set() {
        assert_eq!(
            retention_from_vars(&HashMap::new()),
            Ok(RetentionPolicy { changes_days: 90 })
        );
        assert_eq!(
            retention_from_vars(&vars(&[("CONFAB_CHANGES_RETENTION_DAYS", " 30 ")])),
            Ok(RetentionPolicy { changes_days: 30 })
        );
        for bad in ["0", "-5", "2.5", "ninety", "36501"] {
            let err = retention_from_vars(&vars(&[("CONFAB_CHANGES_RETENTION_DAYS", bad)]))
                .expect_err(bad);
            let msg = err.to_string();
            assert!(
                msg.contains("CONFAB_CHANGES_RETENTION_DAYS") && msg.contains(bad),
                "{msg}"
            );
        }
    }

    #[test]
    fn sqlite_is_the_default_postgres_is_chosen_by_url_and_both_at_once_are_refused() {
        assert_eq!(
            Storage::from_vars(&vars(&[("CONFAB_DB", "/var/lib/confab/confab.db")])),
            Ok(Storage::Sqlite("/var/lib/confab/confab.db".into()))
        );
        let url = "postgres://confab:s3cret@127.0.0.1:5432/confab";
        assert_eq!(
            Storage::from_vars(&vars(&[("CONFAB_DATABASE_URL", url)])),
            Ok(Storage::Postgres(url.into()))
        );
        let both = Storage::from_vars(&vars(&[
            ("CONFAB_DATABASE_URL", url),
            ("CONFAB_DB", "/tmp/x.db"),
        ]))
        .expect_err("ambiguous");
        assert!(both.to_string().contains("not both"), "{both}");
        let odd = Storage::from_vars(&vars(&[(
            "CONFAB_DATABASE_URL",
            "mysql://root:hunter2@db/confab",
        )]))
        .expect_err("not postgres");
        assert!(
            !odd.to_string().contains("hunter2"),
            "a password never reaches an error: {odd}"
        );
        assert!(
            !Storage::Postgres(url.into()).describe().contains("s3cret"),
            "nor a log line"
        );
    }

    #[test]
    fn a_bad_port_is_reported_by_name() {
        let err = PusherSettings::from_vars(&vars(&[
            ("PUSHER_APP_ID", "1"),
            ("PUSHER_KEY", "k"),
            ("PUSHER_SECRET", "s"),
            ("PUSHER_HOST", "h"),
            ("PUSHER_PORT", "99999"),
        ]))
        .expect_err("must refuse");
        assert!(err.to_string().contains("PUSHER_PORT"));
    }
}
