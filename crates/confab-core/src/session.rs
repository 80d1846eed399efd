//! The session: who is signed in where, and the token. The token lives only in the OS keyring
//! (Secret Service on Linux and the BSDs, the Credential Manager on Windows, the Keychain on
//! macOS; chosen at compile time in this crate's Cargo.toml) — never in a file or a log; the file
//! beside the cache holds only the public part (server, user id, name, email) so the app can open
//! on cached data offline.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use confab_model::ipc::SessionInfo;

// The keyring crate stores into an in-memory mock on any target it has no native store for (or
// whose backend feature is missing): the token would be lost at every start with no word said.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "windows",
    target_os = "macos",
)))]
compile_error!(
    "confab-core keeps the session token in the OS keyring, and this target has no native \
     keyring backend here: add one in crates/confab-core/Cargo.toml (the keyring crate would \
     silently keep the token in memory)"
);

/// Why the token could not be stored, read or deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// No keyring service (no Secret Service on the session bus), or it is locked and the
    /// unlock was dismissed. Offer to keep the session for this run only.
    #[error("no keyring is available to keep you signed in ({0})")]
    Unavailable(String),
}

/// Where tokens are kept.
pub trait TokenStore: Send + Sync + 'static {
    /// The token of an account, if stored.
    ///
    /// # Errors
    /// [`KeyringError::Unavailable`].
    fn load(&self, account: &str) -> Result<Option<String>, KeyringError>;
    /// Store (replace) a token.
    ///
    /// # Errors
    /// [`KeyringError::Unavailable`].
    fn save(&self, account: &str, token: &str) -> Result<(), KeyringError>;
    /// Forget a token (no error when there was none).
    ///
    /// # Errors
    /// [`KeyringError::Unavailable`].
    fn delete(&self, account: &str) -> Result<(), KeyringError>;
}

/// The OS keyring via the `keyring` crate (Secret Service on Linux, Credential Manager on
/// Windows, Keychain on macOS). Blocking calls: call from a blocking context (`spawn_blocking`).
///
/// A build whose keyring crate lacks the platform's backend feature (it would fall back to its
/// in-memory mock) reports every call as [`KeyringError::Unavailable`], so the user is offered a
/// session for this run only instead of being signed out silently at the next start.
#[derive(Debug, Clone)]
pub struct OsKeyring {
    service: String,
}

impl OsKeyring {
    /// Tokens under this service name (e.g. "confab").
    pub fn new(service: impl Into<String>) -> Self {
        OsKeyring {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeyringError> {
        if !native_keyring_built_in() {
            return Err(KeyringError::Unavailable(
                "this build of Confab has no keyring backend for this system".into(),
            ));
        }
        keyring::Entry::new(&self.service, account).map_err(unavailable)
    }
}

/// Whether the keyring crate was built with a store that outlives the process (the platform's
/// own), not its mock, which keeps a credential only as long as its `Entry` value.
pub fn native_keyring_built_in() -> bool {
    !matches!(
        keyring::default::default_credential_builder().persistence(),
        keyring::credential::CredentialPersistence::EntryOnly
            | keyring::credential::CredentialPersistence::ProcessOnly
    )
}

fn unavailable(e: keyring::Error) -> KeyringError {
    KeyringError::Unavailable(match e {
        keyring::Error::NoStorageAccess(_) => "the keyring is locked".into(),
        keyring::Error::PlatformFailure(_)
            if cfg!(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "openbsd"
            )) =>
        {
            "no Secret Service on this session".into()
        }
        other => other.to_string(),
    })
}

impl TokenStore for OsKeyring {
    fn load(&self, account: &str) -> Result<Option<String>, KeyringError> {
        match self.entry(account)?.get_password() {
            Ok(t) => Ok(Some(t)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn save(&self, account: &str, token: &str) -> Result<(), KeyringError> {
        self.entry(account)?
            .set_password(token)
            .map_err(unavailable)
    }

    fn delete(&self, account: &str) -> Result<(), KeyringError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Tokens kept in memory for this run only (the user's explicit choice when no keyring).
#[derive(Debug, Default)]
pub struct MemoryTokens {
    tokens: Mutex<std::collections::HashMap<String, String>>,
}

impl TokenStore for MemoryTokens {
    fn load(&self, account: &str) -> Result<Option<String>, KeyringError> {
        Ok(self
            .tokens
            .lock()
            .map_err(|_| KeyringError::Unavailable("poisoned".into()))?
            .get(account)
            .cloned())
    }

    fn save(&self, account: &str, token: &str) -> Result<(), KeyringError> {
        self.tokens
            .lock()
            .map_err(|_| KeyringError::Unavailable("poisoned".into()))?
            .insert(account.to_owned(), token.to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), KeyringError> {
        self.tokens
            .lock()
            .map_err(|_| KeyringError::Unavailable("poisoned".into()))?
            .remove(account);
        Ok(())
    }
}

/// The keyring account name of a session: one token per server and user.
pub fn account(session: &SessionInfo) -> String {
    format!("{}#{}", session.server_url, session.user_id)
}

/// The public part of the last session, beside the caches.
#[derive(Debug, Clone)]
pub struct SessionFile {
    path: PathBuf,
}

impl SessionFile {
    /// `session.json` in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        SessionFile {
            path: data_dir.join("session.json"),
        }
    }

    /// The last session, if any (a corrupt file counts as none). A file an older build left
    /// readable by others is made private (0600 on Unix) first.
    pub fn load(&self) -> Option<SessionInfo> {
        if self.path.exists() {
            if let Err(e) = confab_store::private_file(&self.path) {
                tracing::warn!(error = %e, "cannot make the session file private");
            }
        }
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Remember the session (no token in it), in a file private to the user (0600 on Unix).
    ///
    /// # Errors
    /// I/O errors (e.g. a full disk).
    pub fn save(&self, s: &SessionInfo) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        // Created private (0600 on Unix), or a tmp file an older build left tightened, before a
        // byte is written: it is never readable by others, not even for a moment.
        confab_store::private_file(&tmp).map_err(|e| match e {
            confab_store::StoreError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        })?;
        std::fs::write(&tmp, serde_json::to_vec_pretty(s).unwrap_or_default())?;
        std::fs::rename(tmp, &self.path)
    }

    /// Forget it.
    pub fn clear(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The cache database of an account: one per server and user.
pub fn cache_path(data_dir: &Path, session: &SessionInfo) -> PathBuf {
    let host: String = session
        .server_url
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    data_dir.join(format!("cache-{host}-{}.sqlite3", session.user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionInfo {
        SessionInfo {
            server_url: "http://127.0.0.1:8080".into(),
            user_id: 3,
            name: "Ada".into(),
            email: "ada@example.com".into(),
            persisted: true,
        }
    }

    #[test]
    fn the_session_file_round_trips_and_never_holds_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let f = SessionFile::new(dir.path());
        assert!(f.load().is_none());
        f.save(&session()).unwrap();
        assert_eq!(f.load(), Some(session()));
        let text = std::fs::read_to_string(dir.path().join("session.json")).unwrap();
        assert!(!text.to_lowercase().contains("token"));
        f.clear();
        assert!(f.load().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_session_file_is_private_and_a_loose_one_is_tightened_when_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = SessionFile::new(dir.path());
        let path = dir.path().join("session.json");
        f.save(&session()).unwrap();
        let mode = || std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(f.load(), Some(session()));
        assert_eq!(mode(), 0o600);
    }

    #[test]
    fn each_account_gets_its_own_cache_file_and_keyring_entry() {
        let dir = Path::new("/data");
        let mut other = session();
        other.user_id = 4;
        assert_ne!(cache_path(dir, &session()), cache_path(dir, &other));
        assert_ne!(account(&session()), account(&other));
        assert_eq!(
            cache_path(dir, &session()),
            Path::new("/data/cache-http___127_0_0_1_8080-3.sqlite3")
        );
    }

    #[test]
    fn the_keyring_is_the_platforms_own_store_not_the_in_memory_mock() {
        assert!(native_keyring_built_in());
    }

    #[test]
    fn memory_tokens_store_load_and_delete() {
        let m = MemoryTokens::default();
        m.save("a", "t").unwrap();
        assert_eq!(m.load("a").unwrap().as_deref(), Some("t"));
        m.delete("a").unwrap();
        assert_eq!(m.load("a").unwrap(), None);
    }
}
