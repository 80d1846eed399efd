//! The SQLite engine: one dedicated writer thread with group commit, and a small pool of
//! readers.
//!
//! Why a writer thread: SQLite allows one writer at a time, so funnelling every write through one
//! connection avoids `SQLITE_BUSY` entirely, and lets us commit many small jobs together. Each job
//! runs inside its own `SAVEPOINT` in a shared transaction, so a failing job rolls back alone;
//! callers get their result only after the `COMMIT` succeeded (triggers fire after commit).
//! One writer also makes sequence order commit order by construction.
//!
//! Readers run on tokio's blocking pool with pooled connections, each read in one deferred
//! transaction (one snapshot); WAL lets them read while the writer writes.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error::DbError;
use super::stats::WriterStats;
use crate::sql::sqlite::Lite;
use crate::sql::Sql;

/// The schema migrations, in order; `PRAGMA user_version` records how many were applied.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_kinds_mute_answers.sql"),
    include_str!("../../migrations/003_login_throttle.sql"),
    include_str!("../../migrations/004_write_limits.sql"),
    include_str!("../../migrations/005_retention.sql"),
    include_str!("../../migrations/006_email_index.sql"),
];
/// The most jobs committed in one transaction.
const MAX_GROUP: usize = 128;
/// The most idle reader connections kept open.
const MAX_IDLE_READERS: usize = 16;

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

pub(super) struct SqliteDb {
    path: PathBuf,
    writer: Mutex<Option<std_mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteDb {
    pub(super) fn open(path: &Path, stats: Arc<WriterStats>) -> Result<Self, DbError> {
        let path = path.to_path_buf();
        // It holds password hashes and every message: private before SQLite writes a byte.
        private::prepare(&path)?;
        let mut conn = open_connection(&path)?;
        migrate(&mut conn)?;
        private::tighten_companions(&path)?;
        let (tx, rx) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("confab-db-writer".into())
            .spawn(move || writer_loop(conn, rx, &stats))
            .map_err(|e| DbError::Join(format!("spawning the writer thread: {e}")))?;
        Ok(Self {
            path,
            writer: Mutex::new(Some(tx)),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn write<T, E, F>(&self, stats: &WriterStats, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: Fn(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = run_in_savepoint(conn, f);
            Box::new(move |commit: Result<(), String>| {
                let outcome = match (commit, result) {
                    (Ok(()), r) => r,
                    (Err(e), Ok(_)) => Err(E::from(DbError::Commit(e))),
                    (Err(_), Err(e)) => Err(e),
                };
                let _ = tx.send(outcome);
            })
        });
        {
            let guard = self
                .writer
                .lock()
                .map_err(|_| E::from(DbError::WriterGone))?;
            let sender = guard.as_ref().ok_or(DbError::WriterGone)?;
            sender.send(job).map_err(|_| DbError::WriterGone)?;
            stats.waiting.fetch_add(1, Ordering::Relaxed);
        }
        rx.await.map_err(|_| E::from(DbError::WriterGone))?
    }

    /// Runs `f` on a pooled connection in one read transaction, on the calling (blocking)
    /// thread.
    pub(super) fn read_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        // One snapshot for the whole read: the horizon, the counter and a page of changes
        // agree with each other.
        conn.execute_batch("BEGIN").map_err(DbError::from)?;
        let result = f(&Lite(&conn));
        let _ = conn.execute_batch("COMMIT");
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < MAX_IDLE_READERS && conn.is_autocommit() {
                pool.push(conn);
            }
        }
        result
    }

    pub(super) fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = open_connection(&self.path)?;
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(DbError::from)?;
        match f(&Lite(&conn)) {
            Ok(v) => {
                conn.execute_batch("COMMIT").map_err(DbError::from)?;
                Ok(v)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub(super) fn close(&self) {
        if let Ok(mut w) = self.writer.lock() {
            w.take();
        }
    }
}

/// The database's files private to the server's user. Unix only (`cfg(unix)`): elsewhere
/// nothing is changed and the platform's defaults apply (on Windows, the directory's ACL).
mod private {
    use std::path::Path;

    /// What SQLite keeps beside the database file.
    const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

    /// Creates the directory (0700) when missing, or tightens it to 0700 when it is the
    /// database's own (it holds nothing but the database's files); then creates the file
    /// 0600, or tightens it. A directory that also holds other things (a home directory, the
    /// current directory, `/var/lib`) is left as it is: it is not ours to close, and the file's
    /// own mode already keeps the data private.
    pub(super) fn prepare(path: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = dir {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)?;
                if holds_only_the_database(dir, path)? {
                    tighten(dir, 0o700)?;
                } else {
                    tracing::debug!(dir = %dir.display(),
                        "the database's directory holds other files too; its mode is left alone");
                }
            }
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)?;
            tighten(path, 0o600)?;
        }
        #[cfg(not(unix))]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(())
    }

    /// Tightens the WAL, SHM and journal that exist to 0600 (SQLite creates them with the
    /// database file's mode; this is for those an older build left).
    pub(super) fn tighten_companions(path: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        for suffix in COMPANIONS {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let companion = Path::new(&name);
            if companion.exists() {
                tighten(companion, 0o600)?;
            }
        }
        #[cfg(not(unix))]
        let _ = (path, COMPANIONS);
        Ok(())
    }

    /// Whether every entry of `dir` is the database file or one named after it.
    #[cfg(unix)]
    fn holds_only_the_database(dir: &Path, path: &Path) -> std::io::Result<bool> {
        let Some(db) = path.file_name().and_then(|n| n.to_str()) else {
            return Ok(false);
        };
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            if !name.to_str().is_some_and(|n| n.starts_with(db)) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Sets `mode` when the path grants anything beyond it.
    #[cfg(unix)]
    fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let now = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if now & !mode != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    }
}

pub(super) fn open_connection(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(DbError::TooNew {
            found: version,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn run_in_savepoint<T, E: From<DbError>>(
    conn: &Connection,
    f: impl FnOnce(&dyn Sql) -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("SAVEPOINT job").map_err(DbError::from)?;
    let result = f(&Lite(conn));
    match &result {
        Ok(_) => conn.execute_batch("RELEASE job").map_err(DbError::from)?,
        Err(_) => conn
            .execute_batch("ROLLBACK TO job; RELEASE job")
            .map_err(DbError::from)?,
    }
    result
}

fn writer_loop(conn: Connection, rx: std_mpsc::Receiver<Job>, stats: &WriterStats) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        stats
            .waiting
            .fetch_sub(jobs.len() as i64, Ordering::Relaxed);
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let msg = e.to_string();
            tracing::error!(error = %msg, "could not begin a write transaction");
            for job in jobs {
                // Run nothing; report the failure to each caller.
                drop(job);
            }
            continue;
        }
        let completions: Vec<Completion> = jobs.into_iter().map(|job| job(&conn)).collect();
        let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
        stats.committed(completions.len(), commit.is_ok());
        if let Err(e) = &commit {
            tracing::error!(error = %e, "group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for done in completions {
            done(commit.clone());
        }
    }
}
