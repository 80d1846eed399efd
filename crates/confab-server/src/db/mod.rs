//! Database access for the store, on one of two engines chosen at start: SQLite (the default:
//! one file, one writer thread with group commit, see `sqlite`) or PostgreSQL (several
//! stateless replicas on one database, see `postgres`). Jobs see a [`Sql`] connection inside a
//! transaction and never which engine runs them.
//!
//! The rule both engines keep: every change takes a sequence number from [`next_seq`] in the
//! same transaction that stores it, and numbers become visible in order, so a client that
//! synced up to N never misses a change below N. SQLite keeps it by having one writer;
//! PostgreSQL by the counter row's lock, held until commit.
//!
//! What it never does: know about HTTP or about the domain. Jobs return their own error type
//! (the store's `StoreError`); this module only adds its own [`DbError`]s to it.

mod error;
mod postgres;
mod sqlite;
mod stats;

use std::path::Path;

use std::sync::Arc;

pub use self::error::DbError;
pub use self::postgres::MAX_CONNECTIONS;
pub use self::stats::{WriterStats, COMMIT_SIZE_BOUNDS};
use crate::sql::{Engine, Sql, SqlError};

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    stats: Arc<WriterStats>,
}

enum Backend {
    Sqlite(Arc<sqlite::SqliteDb>),
    Postgres(Arc<postgres::PgDb>),
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path`, applies migrations, and starts
    /// the writer thread. On Unix the file, its WAL and SHM are made 0600 and the directory
    /// 0700 when it is the database's own.
    ///
    /// # Errors
    /// The file cannot be opened or migrated, or its schema is newer than this build.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DbError> {
        let stats = Arc::new(WriterStats::default());
        let db = sqlite::SqliteDb::open(path.as_ref(), stats.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend: Backend::Sqlite(Arc::new(db)),
                stats,
            }),
        })
    }

    /// Connects to PostgreSQL at `url` (`postgres://user@host:port/db`, loopback or a Unix
    /// socket) and migrates its schema; replicas starting together migrate one at a time.
    /// Blocking: from async code, call it on the blocking pool.
    ///
    /// # Errors
    /// A malformed or remote URL, a refused connection, a failed migration, or a schema newer
    /// than this build.
    pub fn connect_postgres(url: &str) -> Result<Self, DbError> {
        let db = postgres::PgDb::connect(url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend: Backend::Postgres(Arc::new(db)),
                stats: Arc::new(WriterStats::default()),
            }),
        })
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match &self.inner.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite file's path; `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner.backend {
            Backend::Sqlite(db) => Some(db.path()),
            Backend::Postgres(_) => None,
        }
    }

    /// What the writer has done so far.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    /// Runs `f` inside a write transaction; if `f` returns an error its changes are rolled
    /// back. The result is delivered only after the commit succeeded. On PostgreSQL `f` may
    /// run more than once (a lost deadlock or unique-key race is retried), hence `Fn`: it must
    /// do nothing outside the database.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`) if the transaction, the
    /// commit or the writer failed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: Fn(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.write(&self.inner.stats, f).await,
            Backend::Postgres(db) => db.write(&self.inner.stats, f).await,
        }
    }

    /// Runs `f` in one read-only snapshot on tokio's blocking pool.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`) if no connection could be
    /// opened or the blocking task failed.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&dyn Sql) -> Result<T, E> + Send + 'static,
    {
        match &self.inner.backend {
            Backend::Sqlite(lite) => {
                let lite = Arc::clone(lite);
                tokio::task::spawn_blocking(move || lite.read_blocking(f))
                    .await
                    .map_err(|e| E::from(DbError::Join(e.to_string())))?
            }
            Backend::Postgres(db) => db.read(f).await,
        }
    }

    /// Runs `f` synchronously in a transaction: for the command line (`users add`, `demo`
    /// seeding), never from async request handlers.
    ///
    /// # Errors
    /// Whatever `f` returns, or a [`DbError`] (converted to `E`).
    pub fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&dyn Sql) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.write_blocking(f),
            Backend::Postgres(db) => db.write_blocking(f),
        }
    }

    /// Stops the writer after it finished the queued jobs. Later writes fail with
    /// [`DbError::WriterGone`].
    pub fn close(&self) {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.close(),
            Backend::Postgres(db) => db.close(),
        }
    }
}

/// Takes the next value of the one change counter. Call only inside [`Db::write`] (or
/// [`Db::write_blocking`]), so the value is stored in the same transaction as the change. On
/// PostgreSQL the counter row stays locked until that transaction ends, which is what makes
/// sequence order commit order across replicas.
///
/// # Errors
/// The engine's error.
pub fn next_seq(c: &dyn Sql) -> Result<i64, SqlError> {
    c.one(
        "UPDATE counter SET value = value + 1 WHERE id = 1 RETURNING value",
        crate::args![],
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A job's own failure, next to the database's.
    #[derive(Debug, thiserror::Error)]
    enum JobError {
        #[error("the job refused")]
        Refused,
        #[error(transparent)]
        Db(#[from] DbError),
    }

    impl From<SqlError> for JobError {
        fn from(e: SqlError) -> Self {
            Self::Db(DbError::Sql(e))
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
                Ok(c.one("SELECT value FROM counter", crate::args![])?)
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
            let conn = sqlite::open_connection(&path)?;
            conn.execute_batch(sqlite::MIGRATIONS[0])?;
            conn.execute_batch(sqlite::MIGRATIONS[1])?;
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
                    c.one("SELECT min(at_ms) FROM changes", crate::args![])?,
                    c.one("SELECT seq FROM sync_horizon", crate::args![])?,
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
            let conn = sqlite::open_connection(&path)?;
            conn.execute_batch(sqlite::MIGRATIONS[0])?;
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
                    crate::args![],
                    |r| {
                        Ok((
                            r.get::<String>(0)?,
                            r.get::<Option<String>>(1)?,
                            r.get::<bool>(2)?,
                            r.get::<i64>(3)?,
                            r.get::<Option<String>>(4)?,
                            r.get::<bool>(5)?,
                            r.get::<i64>(6)?,
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
                sqlite::MIGRATIONS.len() as i64
            ),
            "an old conversation is a group nobody muted, visible from the start; an old \
             answer counts as seen"
        );
        Ok(())
    }
}
