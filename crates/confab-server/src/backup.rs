//! `confab-server backup PATH`: an online copy of the database while the server may be serving.
//!
//! How: `VACUUM INTO` on a read-only connection. It reads one consistent snapshot (WAL lets the
//! server keep writing meanwhile; the copy holds every transaction committed before it began
//! and none of those after) and writes a compact, self-contained file. Restore is offline:
//! stop the server, copy the file back over the database (removing its `-wal` and `-shm`), start.
//!
//! What it never does: overwrite a file (the target must not exist), migrate or write the live
//! database, or leave the copy readable by others (it is created 0600 on Unix before SQLite
//! writes a byte: it holds password hashes and every message).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// Why a backup failed; nothing was left at the target except when said.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists; choose a new name (a backup never overwrites).
    #[error("{0} exists; a backup never overwrites a file")]
    Exists(PathBuf),
    /// The live database is missing; check `--db`/`CONFAB_DB`.
    #[error("no database at {0}")]
    NoDatabase(PathBuf),
    /// The target could not be created (its directory is missing or not writable).
    #[error("creating {path}: {source}")]
    Create {
        /// The target.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite failed reading the database or writing the copy; the partial copy was removed.
    #[error("copying the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Copies the database at `db` into a new file `target`, online.
///
/// # Errors
/// See [`BackupError`].
pub fn backup(db: &Path, target: &Path) -> Result<(), BackupError> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db.to_path_buf()));
    }
    create_private(target)?;
    let copied = (|| -> Result<(), rusqlite::Error> {
        // Read-only: the live database is never written (no migration, no checkpoint by us).
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let target = target.to_string_lossy().into_owned();
        conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(target);
        return Err(e.into());
    }
    Ok(())
}

/// Creates `path` empty, failing if it exists (atomically: `create_new`), 0600 on Unix.
/// `VACUUM INTO` accepts an empty file and keeps its mode.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(path.to_path_buf()))
        }
        Err(source) => Err(BackupError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}
