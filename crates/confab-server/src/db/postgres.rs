//! The PostgreSQL engine: pooled connections shared by any number of `confab-server` replicas.
//!
//! Every write job runs in its own READ COMMITTED transaction. Sequence numbers come from the
//! one counter row (`next_seq`), whose row lock is held until the transaction ends: a second
//! writer that needs a number waits for the first to commit or roll back, so numbers are taken
//! in commit order and a reader that sees seq N sees everything below it (ARCHITECTURE.md,
//! "Sequence numbers across replicas"). A job chosen as a deadlock victim, or one that lost a
//! race for a unique key (the same `clientId` sent to two replicas), runs again on a fresh
//! transaction, where it finds the winner's row.
//!
//! Reads run in one REPEATABLE READ, READ ONLY transaction each: one snapshot per read.
//!
//! TLS: a database on another machine is reached over TLS only (`sslmode=require` is forced,
//! whatever the URL says), its certificate verified by the operating system's trust store
//! (`SSL_CERT_FILE` points it at a company CA's bundle); loopback and Unix sockets may go in
//! clear, and use TLS too when the URL says `sslmode=require`.
//!
//! What it never does: talk to PostgreSQL from an async task (the `postgres` client blocks; all
//! of it runs on tokio's blocking pool), open more than [`MAX_CONNECTIONS`] connections per
//! replica, or send a byte to a remote host in clear text (see [`tls_for`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use postgres::config::{Host, SslMode};
use postgres::{Config, NoTls};
use tokio::sync::Semaphore;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::error::DbError;
use super::stats::WriterStats;
use crate::sql::postgres::{Failure, PgConn};
use crate::sql::Sql;

/// PostgreSQL's schema migrations, in order; the table `schema_version` records how many ran.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/postgres/001_init.sql")];
/// The most connections one replica holds (PostgreSQL's default `max_connections` is 100).
pub const MAX_CONNECTIONS: usize = 16;
/// How many times a job that lost a deadlock or a unique-key race runs in all.
const MAX_ATTEMPTS: usize = 5;
/// An arbitrary constant for `pg_advisory_lock`: replicas starting together migrate one at a
/// time.
const MIGRATION_LOCK: i64 = 0x0C0F_AB00;

pub(super) struct PgDb {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    idle: Mutex<Vec<PgConn>>,
    permits: Semaphore,
    closed: std::sync::atomic::AtomicBool,
}

/// Whether every host of `config` is this machine (loopback or a Unix socket).
fn all_local(config: &Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        // Unix sockets exist (and tokio-postgres has the variant) only on Unix.
        #[cfg(unix)]
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    })
}

/// The TLS connector `config` needs, after making TLS mandatory where it must be: `None` (clear
/// text) only for this machine without `sslmode=require`. A remote host gets
/// `sslmode=require` whatever the URL said, so `disable` or `prefer` (which falls back to clear
/// text when the server declines) cannot send a password over the network in clear.
///
/// # Errors
/// [`DbError::Url`] when the system's trust store cannot be read.
fn tls_for(config: &mut Config) -> Result<Option<MakeRustlsConnect>, DbError> {
    if all_local(config) && config.get_ssl_mode() != SslMode::Require {
        return Ok(None);
    }
    config.ssl_mode(SslMode::Require);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let problem = |e: rustls::Error| DbError::Url(format!("TLS to PostgreSQL: {e}"));
    let verifier =
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(problem)?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(problem)?
        .dangerous()
        // "dangerous" is rustls' name for any verifier but its own: this one is the OS's.
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(tls)))
}

impl PgDb {
    /// Connects, checks the schema and migrates it. Blocking: call from a blocking thread.
    pub(super) fn connect(url: &str) -> Result<Self, DbError> {
        let mut config: Config = url
            .parse()
            .map_err(|e| DbError::Url(format!("CONFAB_DATABASE_URL: {e}")))?;
        let tls = tls_for(&mut config)?;
        let db = Self {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(MAX_CONNECTIONS),
            closed: std::sync::atomic::AtomicBool::new(false),
        };
        let conn = db.fresh()?;
        migrate(&conn)?;
        db.give_back(conn);
        Ok(db)
    }

    fn fresh(&self) -> Result<PgConn, DbError> {
        let client = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
        .map_err(|e| DbError::Sql(e.into()))?;
        Ok(PgConn::new(client))
    }

    fn take(&self) -> Result<PgConn, DbError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match pooled {
            Some(c) if !c.is_closed() => Ok(c),
            _ => self.fresh(),
        }
    }

    fn give_back(&self, conn: PgConn) {
        if conn.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_CONNECTIONS {
                idle.push(conn);
            }
        }
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, DbError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(DbError::WriterGone);
        }
        self.permits
            .acquire()
            .await
            .map_err(|_| DbError::WriterGone)
    }

    pub(super) async fn write<T, E, F>(
        self: &Arc<Self>,
        stats: &Arc<WriterStats>,
        f: F,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: Fn(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        stats.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = self.permit().await;
        stats.waiting.fetch_sub(1, Ordering::Relaxed);
        let _permit = permit?;
        let db = self.clone();
        let stats = stats.clone();
        tokio::task::spawn_blocking(move || db.write_blocking_with(&stats, &f))
            .await
            .map_err(|e| E::from(DbError::Join(e.to_string())))?
    }

    /// Runs `f` in a transaction until it commits, fails for a reason of its own, or has lost
    /// [`MAX_ATTEMPTS`] races.
    fn write_blocking_with<T, E: From<DbError>>(
        &self,
        stats: &WriterStats,
        f: &dyn Fn(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 1;
        loop {
            let conn = self.take()?;
            conn.take_failure();
            if let Err(e) = conn.batch("BEGIN") {
                // A pooled connection the server closed meanwhile: nothing ran, try a new one.
                if attempt < MAX_ATTEMPTS && conn.is_closed() {
                    attempt += 1;
                    continue;
                }
                return Err(DbError::Sql(e).into());
            }
            let result = f(&conn);
            let outcome = match result {
                Ok(v) => match conn.batch("COMMIT") {
                    Ok(()) => Ok(v),
                    Err(e) => Err(Err(E::from(DbError::Commit(e.to_string())))),
                },
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    Err(Ok(e))
                }
            };
            let failure = conn.take_failure();
            stats.committed(1, outcome.is_ok());
            self.give_back(conn);
            let error = match outcome {
                Ok(v) => return Ok(v),
                Err(Ok(e) | Err(e)) => e,
            };
            let again = match failure {
                Some(Failure::Conflict) => true,
                // Once: the second run reads the row that won; a genuine duplicate (an email
                // taken) fails the same way again and is reported.
                Some(Failure::Unique) => attempt == 1,
                _ => false,
            };
            if !again || attempt >= MAX_ATTEMPTS {
                return Err(error);
            }
            attempt += 1;
        }
    }

    pub(super) async fn read<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        let _permit = self.permit().await?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .map_err(|e| E::from(DbError::Join(e.to_string())))?
    }

    pub(super) fn read_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.take()?;
        conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(DbError::Sql)?;
        let result = f(&conn);
        let _ = conn.batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
        self.give_back(conn);
        result
    }

    pub(super) fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.take()?;
        conn.batch("BEGIN").map_err(DbError::Sql)?;
        match f(&conn) {
            Ok(v) => {
                conn.batch("COMMIT").map_err(DbError::Sql)?;
                self.give_back(conn);
                Ok(v)
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                self.give_back(conn);
                Err(e)
            }
        }
    }

    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.permits.close();
        self.drop_idle();
    }

    /// Closes the idle connections on a thread of their own: a `postgres` client says goodbye
    /// to the server on drop, blocking, which must not happen on an async worker (the last
    /// handle to the database may well be dropped on one).
    fn drop_idle(&self) {
        let idle = self
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("confab-pg-close".into())
                .spawn(move || drop(idle));
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        self.drop_idle();
    }
}

fn migrate(conn: &PgConn) -> Result<(), DbError> {
    conn.batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let result = (|| -> Result<(), DbError> {
        conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let sql: &dyn Sql = conn;
        let version: i64 = sql.one(
            "SELECT COALESCE((SELECT max(version) FROM schema_version), 0)",
            crate::args![],
        )?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(DbError::TooNew {
                found: version,
                known,
            });
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.batch("BEGIN")?;
            let applied = conn.batch(migration).and_then(|()| {
                sql.execute(
                    "INSERT INTO schema_version (version) VALUES (?1)",
                    crate::args![i as i64 + 1],
                )
                .map(|_| ())
            });
            match applied {
                Ok(()) => conn.batch("COMMIT")?,
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    return Err(e.into());
                }
            }
        }
        Ok(())
    })();
    let _ = conn.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> (Option<MakeRustlsConnect>, SslMode) {
        let mut config: Config = url.parse().expect("a URL");
        let tls = tls_for(&mut config).expect("the trust store reads");
        (tls, config.get_ssl_mode())
    }

    #[test]
    fn a_remote_database_always_gets_verified_tls_whatever_its_url_asks() {
        for url in [
            "postgres://confab@db.example.com/confab",
            "postgres://confab@db.example.com/confab?sslmode=disable",
            "postgres://confab@10.0.0.5/confab?sslmode=prefer",
            "postgres://confab@localhost,db.example.com/confab",
        ] {
            let (connector, mode) = tls(url);
            assert!(connector.is_some(), "{url}");
            assert_eq!(mode, SslMode::Require, "{url}");
        }
    }

    #[test]
    fn this_machine_may_be_reached_in_clear_unless_the_url_requires_tls() {
        for url in [
            "postgres://confab@127.0.0.1:5432/confab",
            "postgres://confab@localhost/confab",
            "postgres://confab@[::1]/confab",
            "postgres://confab@%2Frun%2Fpostgresql/confab",
        ] {
            assert!(tls(url).0.is_none(), "{url}");
        }
        assert!(tls("postgres://confab@127.0.0.1/confab?sslmode=require")
            .0
            .is_some());
    }
}
