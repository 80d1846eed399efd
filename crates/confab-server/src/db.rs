//! SQLite access: one dedicated writer thread with group commit, and a small pool of readers.
//!
//! Why a writer thread: SQLite allows one writer at a time, so funnelling every write through one
//! connection avoids `SQLITE_BUSY` entirely, and lets us commit many small jobs together. Each job
//! runs inside its own `SAVEPOINT` in a shared transaction, so a failing job rolls back alone;
//! callers get their result only after the `COMMIT` succeeded (triggers fire after commit).
//!
//! Readers run on tokio's blocking pool with pooled connections; WAL lets them read while the
//! writer writes.
//!
//! What it never does: know about HTTP or about the domain. Jobs return their own error type
//! (the store's `StoreError`); this module only adds its own [`DbError`]s to it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

/// The schema migrations, in order; `PRAGMA user_version` records how many were applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_kinds_mute_answers.sql"),
    include_str!("../migrations/003_login_throttle.sql"),
    include_str!("../migrations/004_write_limits.sql"),
    include_str!("../migrations/005_retention.sql"),
];
/// The most jobs committed in one transaction.
const MAX_GROUP: usize = 128;
/// The most idle reader connections kept open.
const MAX_IDLE_READERS: usize = 16;

/// Infrastructure failures of the database layer (not domain outcomes).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error; the request fails with 500.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The writer thread is gone (the server is shutting down); retry against a new server.
    #[error("the database writer has stopped")]
    WriterGone,
    /// A blocking read task panicked or was cancelled; the request fails with 500.
    #[error("database read task failed: {0}")]
    Join(String),
    /// The group commit a job was part of failed, so the job's changes are gone; the request
    /// fails with 500 and the client may retry it.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The database file is newer than this server understands.
    #[error("database schema version {found} is newer than this server's {known}")]
    TooNew {
        /// The file's `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database's directory or file could not be created or made private; the server does
    /// not start.
    #[error("database files: {0}")]
    Files(#[from] std::io::Error),
}

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Completion + Send>;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Option<std_mpsc::Sender<Job>>>,
    readers: Mutex<Vec<Connection>>,
    stats: Arc<WriterStats>,
}

/// What the writer thread has done, for the metrics: jobs waiting, group commits and their
/// sizes. Counters only; reading them never waits for the writer.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Jobs sent to the writer and not yet run.
    waiting: AtomicI64,
    /// Group commits attempted.
    commits: AtomicU64,
    /// Group commits that failed (rolled back).
    failed_commits: AtomicU64,
    /// Commits by number of jobs: at most 1, 2, 4, 8, 16, 32, 64, 128 ([`COMMIT_SIZE_BOUNDS`]).
    sizes: [AtomicU64; COMMIT_SIZE_BOUNDS.len()],
    /// Jobs committed in all.
    jobs: AtomicU64,
}

/// The upper bounds of the commit-size histogram (jobs per group commit).
pub const COMMIT_SIZE_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, MAX_GROUP as u64];

impl WriterStats {
    /// Jobs waiting for the writer now.
    pub fn waiting(&self) -> i64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Group commits so far, and how many of them failed.
    pub fn commits(&self) -> (u64, u64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.failed_commits.load(Ordering::Relaxed),
        )
    }

    /// Commit sizes as cumulative bucket counts over [`COMMIT_SIZE_BOUNDS`], and the total
    /// number of jobs committed.
    pub fn sizes(&self) -> ([u64; COMMIT_SIZE_BOUNDS.len()], u64) {
        let mut cumulative = [0; COMMIT_SIZE_BOUNDS.len()];
        let mut sum = 0;
        for (i, n) in self.sizes.iter().enumerate() {
            sum += n.load(Ordering::Relaxed);
            cumulative[i] = sum;
        }
        (cumulative, self.jobs.load(Ordering::Relaxed))
    }

    fn committed(&self, jobs: usize, ok: bool) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed_commits.fetch_add(1, Ordering::Relaxed);
        }
        let n = jobs as u64;
        let bucket = COMMIT_SIZE_BOUNDS
            .iter()
            .position(|b| n <= *b)
            .unwrap_or(COMMIT_SIZE_BOUNDS.len() - 1);
        self.sizes[bucket].fetch_add(1, Ordering::Relaxed);
        self.jobs.fetch_add(n, Ordering::Relaxed);
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path`, applies migrations, and starts the
    /// writer thread. On Unix the file, its WAL and SHM are made 0600 and the directory 0700
    /// when it is the database's own (see `private`).
    ///
    /// # Errors
    /// The file cannot be opened or migrated, or its schema is newer than this build.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DbError> {
        let path = path.as_ref().to_path_buf();
        // It holds password hashes and every message: private before SQLite writes a byte.
        private::prepare(&path)?;
        let mut conn = open_connection(&path)?;
        migrate(&mut conn)?;
        private::tighten_companions(&path)?;
        let (tx, rx) = std_mpsc::channel::<Job>();
        let stats = Arc::new(WriterStats::default());
        let writer_stats = stats.clone();
        std::thread::Builder::new()
            .name("confab-db-writer".into())
            .spawn(move || writer_loop(conn, rx, &writer_stats))
            .map_err(|e| DbError::Join(format!("spawning the writer thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(Some(tx)),
                stats,
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What the writer thread has done so far.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    /// Runs `f` on the writer connection inside a transaction (a savepoint of a group commit).
    /// If `f` returns an error its changes are rolled back; the result is delivered only after
    /// the surrounding `COMMIT` succeeded.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`) if the savepoint, the commit or
    /// the writer failed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
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
                .inner
                .writer
                .lock()
                .map_err(|_| E::from(DbError::WriterGone))?;
            let sender = guard.as_ref().ok_or(DbError::WriterGone)?;
            sender.send(job).map_err(|_| DbError::WriterGone)?;
            self.inner.stats.waiting.fetch_add(1, Ordering::Relaxed);
        }
        rx.await.map_err(|_| E::from(DbError::WriterGone))?
    }

    /// Runs `f` on a pooled read-only connection on tokio's blocking pool.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`) if no connection could be
    /// opened or the blocking task failed.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_connection(&inner.path)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = inner.readers.lock() {
                if pool.len() < MAX_IDLE_READERS {
                    pool.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|e| E::from(DbError::Join(e.to_string())))?
    }

    /// Runs `f` synchronously on a fresh connection in a transaction: for the command line
    /// (`users add`, `demo` seeding), never from async request handlers.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`) for a SQLite error.
    pub fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = open_connection(&self.inner.path)?;
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(DbError::from)?;
        match f(&conn) {
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

    /// Stops the writer thread after it finished the queued jobs. Later writes fail with
    /// [`DbError::WriterGone`].
    pub fn close(&self) {
        if let Ok(mut w) = self.inner.writer.lock() {
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

fn open_connection(path: &Path) -> Result<Connection, DbError> {
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
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    conn.execute_batch("SAVEPOINT job").map_err(DbError::from)?;
    let result = f(conn);
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

/// Takes the next value of the one change counter. Call only inside [`Db::write`] (or
/// [`Db::write_blocking`]), so the value is stored in the same transaction as the change.
///
/// # Errors
/// SQLite errors.
pub fn next_seq(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.prepare_cached("UPDATE counter SET value = value + 1 WHERE id = 1 RETURNING value")?
        .query_row([], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job's own failure, next to the database's.
    #[derive(Debug, thiserror::Error)]
    enum JobError {
        #[error("the job refused")]
        Refused,
        #[error(transparent)]
        Db(#[from] DbError),
    }

    impl From<rusqlite::Error> for JobError {
        fn from(e: rusqlite::Error) -> Self {
            Self::Db(DbError::Sqlite(e))
        }
    }

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_while_its_neighbours_commit() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(dir.path().join("t.db"))?;
        let ok = db.write(|c| -> Result<i64, JobError> { Ok(next_seq(c)?) });
        let bad = db.write(|c| -> Result<i64, JobError> {
            next_seq(c)?;
            Err(JobError::Refused)
        });
        let ok2 = db.write(|c| -> Result<i64, JobError> { Ok(next_seq(c)?) });
        let (a, b, c) = tokio::join!(ok, bad, ok2);
        assert!(b.is_err());
        let (a, c) = (a?, c?);
        assert_ne!(a, c);
        let value: i64 = db
            .read(|c| -> Result<i64, JobError> {
                Ok(c.query_row("SELECT value FROM counter", [], |r| r.get(0))?)
            })
            .await?;
        assert_eq!(value, 2, "the failed job's increment was rolled back");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn the_database_directory_file_wal_and_shm_are_private_and_loose_ones_are_tightened(
    ) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777);
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("confab");
        let path = dir.join("confab.db");
        let companion = |s: &str| PathBuf::from(format!("{}{s}", path.display()));
        let files = [path.clone(), companion("-wal"), companion("-shm")];
        let db = Db::open(&path)?;
        assert_eq!(mode(&dir), 0o700, "a new directory");
        for f in &files {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
        db.close();
        drop(db);

        // Left open to everyone by an older build: tightened at the next start.
        for p in files.iter().chain([&dir]) {
            if p.exists() {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        let db = Db::open(&path)?;
        assert_eq!(mode(&dir), 0o700, "the database's own directory");
        for f in &files {
            assert_eq!(mode(f), 0o600, "{} after reopening", f.display());
        }
        db.close();
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_directory_is_left_alone_while_the_database_in_it_is_private() -> anyhow::Result<()>
    {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir()?;
        let shared = tmp.path().join("home");
        std::fs::create_dir(&shared)?;
        std::fs::write(shared.join("notes.txt"), "someone else's")?;
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755))?;
        let path = shared.join("confab.db");
        let db = Db::open(&path)?;
        let mode = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(mode(&path), 0o600);
        db.close();
        Ok(())
    }

    #[tokio::test]
    async fn a_version_2_change_log_is_kept_a_full_window_after_the_upgrade_with_no_horizon(
    ) -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("v2.db");
        {
            let conn = open_connection(&path)?;
            conn.execute_batch(MIGRATIONS[0])?;
            conn.execute_batch(MIGRATIONS[1])?;
            conn.execute_batch(
                "INSERT INTO changes (seq, user_a, payload) VALUES (1, 1, '{}'), (2, 1, '{}');
                 UPDATE counter SET value = 2;
                 PRAGMA user_version = 2;",
            )?;
        }
        let before = crate::time::now_ms();
        let db = Db::open(&path)?;
        let (oldest, horizon) = db
            .read(|c| -> Result<(i64, i64), JobError> {
                Ok((
                    c.query_row("SELECT min(at_ms) FROM changes", [], |r| r.get(0))?,
                    c.query_row("SELECT seq FROM sync_horizon", [], |r| r.get(0))?,
                ))
            })
            .await?;
        // Second precision in SQL: the upgrade's second, not the epoch.
        assert!(
            oldest >= before - 1000,
            "old changes count from the upgrade: {oldest}"
        );
        assert_eq!(horizon, 0, "nothing was compacted yet");
        let (compacted, _) = crate::retention::compact_changes(&db, before - 2000)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(compacted, 0, "a cutoff before the upgrade keeps them");
        db.close();
        Ok(())
    }

    #[tokio::test]
    async fn a_version_1_database_keeps_its_rows_as_groups_and_seen_answers() -> anyhow::Result<()>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("v1.db");
        {
            let conn = open_connection(&path)?;
            conn.execute_batch(MIGRATIONS[0])?;
            conn.execute_batch(
                "INSERT INTO users (id, email, name, password_hash, created_at)
                     VALUES (1, 'a@x.test', 'A', 'h', 't'), (2, 'b@x.test', 'B', 'h', 't');
                 INSERT INTO conversations (id, title, creator_id, created_at, seq)
                     VALUES (7, 'A, B', 1, 't', 1);
                 INSERT INTO members (conversation_id, user_id) VALUES (7, 1), (7, 2);
                 INSERT INTO knowledge_requests
                     (requester_id, owner_id, question, status, response_content, created_at, seq)
                     VALUES (2, 1, 'q', 'approved', 'a', 't', 2);
                 PRAGMA user_version = 1;",
            )?;
        }
        let db = Db::open(&path)?;
        let row = db
            .read(|c| -> Result<_, JobError> {
                Ok(c.query_row(
                    "SELECT cv.kind, cv.direct_key, m.muted, m.joined_seq, k.answered_at,
                        k.answer_seen, (SELECT user_version FROM pragma_user_version)
                     FROM conversations cv JOIN members m ON m.conversation_id = cv.id
                     JOIN knowledge_requests k WHERE m.user_id = 1",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, bool>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, bool>(5)?,
                            r.get::<_, i64>(6)?,
                        ))
                    },
                )?)
            })
            .await?;
        assert_eq!(
            row,
            (
                "group".into(),
                None,
                false,
                0,
                None,
                true,
                MIGRATIONS.len() as i64
            ),
            "an old conversation is a group nobody muted, visible from the start; an old \
             answer counts as seen"
        );
        Ok(())
    }
}
