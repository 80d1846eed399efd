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
//! What it never does: talk to PostgreSQL from an async task (the `postgres` client blocks; all
//! of it runs on tokio's blocking pool), open more than [`MAX_CONNECTIONS`] connections per
//! replica, or connect to a remote host without TLS (only loopback and Unix sockets, see
//! [`check_host`]).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use postgres::config::Host;
use postgres::{Config, NoTls};
use tokio::sync::Semaphore;

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
    idle: Mutex<Vec<PgConn>>,
    permits: Semaphore,
    closed: std::sync::atomic::AtomicBool,
}

/// Refuses a host the connection would reach in clear text over a network.
///
/// # Errors
/// [`DbError::Url`] naming the host.
fn check_host(config: &Config) -> Result<(), DbError> {
    for host in config.get_hosts() {
        let local = match host {
            Host::Unix(_) => true,
            Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
        };
        if !local {
            return Err(DbError::Url(format!(
                "{host:?} is not on this machine, and this build speaks to PostgreSQL only \
                 over loopback or a Unix socket (no TLS yet): run the server beside the \
                 database, or reach it through a local TLS tunnel"
            )));
        }
    }
    Ok(())
}

impl PgDb {
    /// Connects, checks the schema and migrates it. Blocking: call from a blocking thread.
    pub(super) fn connect(url: &str) -> Result<Self, DbError> {
        let config: Config = url
            .parse()
            .map_err(|e| DbError::Url(format!("CONFAB_DATABASE_URL: {e}")))?;
        check_host(&config)?;
        let db = Self {
            config,
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
        let client = self
            .config
            .connect(NoTls)
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
