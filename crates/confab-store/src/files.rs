//! The cache's files on disk, apart from what SQLite writes into them: private permissions
//! (the directory 0700, the database, its WAL and shared-memory files 0600: they hold every
//! message) and moving a damaged or too-new cache aside so a fresh one can take its place.
//!
//! What it never does: open SQLite, read the clock (the caller names the moved files with its
//! time) or delete anything it moves aside.
//!
//! Permissions are Unix only (`cfg(unix)`). On other platforms these functions create the
//! directory and leave access to the platform's defaults (on Windows the per-user profile
//! directory's ACL already keeps other users out); nothing is tightened there.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::Result;

/// What SQLite may keep beside a database file: the WAL, its shared-memory index and a rollback
/// journal. Moving or deleting a database moves or deletes them with it.
pub(crate) const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// `path` with `suffix` appended to its file name (`cache.db` + `-wal` = `cache.db-wal`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `dir` (and its missing parents) and makes it private to the user: 0700, also when it
/// existed with looser permissions. A directory with the sticky bit (a shared one such as `/tmp`)
/// is never tightened: it is not ours to close.
///
/// # Errors
/// [`crate::error::StoreError::Io`] when it cannot be created or its permissions changed.
pub fn private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o1000 == 0 && mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Makes the file at `path` readable and writable by the user alone (0600): creates it empty
/// with that mode when missing, tightens it when it exists. Its contents are never touched.
///
/// # Errors
/// [`crate::error::StoreError::Io`].
pub fn private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created with the mode, never chmod-ed after the fact: no moment where it is readable.
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        tighten(path)?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Tightens the database's companions that exist to 0600. SQLite creates them with the
/// database file's own mode, so this only matters for files left by an older build.
///
/// # Errors
/// [`crate::error::StoreError::Io`].
pub(crate) fn tighten_companions(path: &Path) -> Result<()> {
    #[cfg(unix)]
    for suffix in COMPANIONS {
        let companion = with_suffix(path, suffix);
        if companion.exists() {
            tighten(&companion)?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Moves a cache that cannot be used (damaged, or written by a newer build) out of the way:
/// `path` becomes `path.corrupt-<stamp>` and each companion follows under the same name plus its
/// suffix, so the set still opens as one database for whoever wants to look at it. Returns the
/// new name of the database file. Close every [`crate::store::Store`] on it first.
///
/// `stamp` is the caller's time, e.g. `20261206T040000Z`; a name already taken (two moves in
/// one second) gets `-2`, `-3`, ... appended.
///
/// # Errors
/// [`crate::error::StoreError::Io`] when a file exists but cannot be renamed (those already moved stay
/// moved; calling it again moves the rest under a new name).
pub fn move_aside(path: &Path, stamp: &str) -> Result<PathBuf> {
    let base = with_suffix(path, &format!(".corrupt-{stamp}"));
    let mut target = base.clone();
    let mut n = 1;
    while target.exists() || COMPANIONS.iter().any(|s| with_suffix(&target, s).exists()) {
        n += 1;
        target = with_suffix(&base, &format!("-{n}"));
    }
    for suffix in std::iter::once("").chain(COMPANIONS) {
        match std::fs::rename(with_suffix(path, suffix), with_suffix(&target, suffix)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(target)
}

#[cfg(unix)]
#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o7777)
    }

    #[test]
    fn a_new_cache_directory_and_file_are_private_to_the_user() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("cache.db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn loose_existing_permissions_are_tightened_and_contents_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("cache.db");
        std::fs::write(&file, b"kept").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_dir(&dir).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).unwrap(), b"kept");
    }

    #[test]
    fn a_shared_sticky_directory_is_left_as_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shared");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o1777);
    }

    #[test]
    fn moving_aside_takes_the_wal_and_shm_along_and_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("cache.db");
        for (suffix, body) in [("", "main"), ("-wal", "wal"), ("-shm", "shm")] {
            std::fs::write(with_suffix(&db, suffix), body).unwrap();
        }
        let first = move_aside(&db, "20261206T040000Z").unwrap();
        assert_eq!(first, tmp.path().join("cache.db.corrupt-20261206T040000Z"));
        assert!(!db.exists() && !with_suffix(&db, "-wal").exists());
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "main");
        assert_eq!(
            std::fs::read_to_string(with_suffix(&first, "-wal")).unwrap(),
            "wal"
        );
        assert_eq!(
            std::fs::read_to_string(with_suffix(&first, "-shm")).unwrap(),
            "shm"
        );

        std::fs::write(&db, "second").unwrap();
        let second = move_aside(&db, "20261206T040000Z").unwrap();
        assert_eq!(
            second,
            tmp.path().join("cache.db.corrupt-20261206T040000Z-2")
        );
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "main");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "second");
    }
}
