//! Who is calling: password hashing on its own bounded pool, bearer tokens, the
//! authenticated-user extractor and the client-address extractor.
//!
//! What it never does: hash or verify a password on tokio's blocking pool (database reads live
//! there, and argon2 takes 19 MiB and tens of milliseconds a call), queue unboundedly for the
//! hashing pool, or log a password or token. The login throttle's rules live in
//! [`crate::throttle`], the proxy rules in [`crate::client_ip`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use confab_model::{User, UserId, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;
use crate::store;

/// How long a login token stays valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Hashes a password with argon2id and a random salt (PHC string format), on the calling
/// thread: for the command line and tests. Request handlers use [`hash_on_pool`].
///
/// # Errors
/// [`AppError::Internal`] if hashing fails (it should not).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

/// Checks a password against a stored hash on the calling thread; a malformed hash never
/// matches. Request handlers use [`verify_on_pool`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether `password` is acceptable as a new password: [`MIN_PASSWORD_CHARS`] to
/// [`MAX_PASSWORD_CHARS`] characters (the same rule for `users add`, `users reset-password`
/// and a user's own change).
///
/// # Errors
/// [`AppError::Validation`] saying which bound it missed.
pub fn check_new_password(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AppError::Validation(format!(
            "the password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(AppError::Validation(format!(
            "the password must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// A hash of a random password, verified against when the email is unknown so that unknown
/// emails and wrong passwords take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hash_password(&hex::encode(random)).unwrap_or_default()
    })
}

/// Why a password could not be hashed or checked now.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every worker is busy and the queue is full: answer "try again in a second" rather than
    /// hold the request (and its memory) in a growing queue.
    #[error("the password hashing queue is full")]
    Busy,
    /// Hashing failed or its worker died; a 500.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<PoolError> for AppError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Busy => Self::Busy,
            PoolError::Failed(why) => Self::Internal(why),
        }
    }
}

/// Jobs that may wait for a hashing worker, per worker.
const QUEUE_PER_WORKER: usize = 8;

type HashJob = Box<dyn FnOnce() + Send>;

/// The password-hashing pool: one thread per core, away from tokio's blocking pool, behind an
/// admission semaphore that bounds running plus waiting jobs.
struct HashPool {
    jobs: Mutex<std_mpsc::Sender<HashJob>>,
    admission: Arc<tokio::sync::Semaphore>,
}

impl HashPool {
    fn get() -> &'static Self {
        static POOL: OnceLock<HashPool> = OnceLock::new();
        POOL.get_or_init(|| {
            let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            Self::new(workers, QUEUE_PER_WORKER)
        })
    }

    /// `workers` threads; at most `workers * (1 + queue_per_worker)` jobs admitted at once.
    fn new(workers: usize, queue_per_worker: usize) -> Self {
        let (tx, rx) = std_mpsc::channel::<HashJob>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("confab-argon2-{i}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job, not while running it.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            jobs: Mutex::new(tx),
            admission: Arc::new(tokio::sync::Semaphore::new(
                workers * (1 + queue_per_worker),
            )),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let permit = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _permit = permit;
            let _ = tx.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| PoolError::Failed("the hashing queue is poisoned".into()))?
            .send(job)
            .map_err(|_| PoolError::Failed("the hashing threads are gone".into()))?;
        rx.await
            .map_err(|_| PoolError::Failed("a hashing job was dropped".into()))
    }
}

/// Checks `password` against `hash` (a PHC string; `None`: against a decoy, so an unknown email
/// takes as long as a wrong password) on the password-hashing pool. Every request handler that
/// checks a password goes through here.
///
/// # Errors
/// [`PoolError::Busy`] at once when the pool's queue is full; [`PoolError::Failed`] if the job
/// was lost.
pub async fn verify_on_pool(password: String, hash: Option<String>) -> Result<bool, PoolError> {
    HashPool::get()
        .run(move || {
            let verified = WORKER_BLOCKS.with_borrow_mut(|blocks| {
                verify_in(&password, hash.as_deref().unwrap_or(decoy_hash()), blocks)
            });
            hash.is_some() && verified
        })
        .await
}

thread_local! {
    /// A hashing worker's argon2 memory, kept between jobs: each worker holds one hash's worth
    /// (19 MiB with the default parameters) for good, instead of the allocator keeping a
    /// freed copy per job around, so the pool's memory is bounded by its size.
    static WORKER_BLOCKS: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`verify_password`] computing in `blocks` (grown to the hash's memory cost when needed):
/// the same parameters, salt and constant-time comparison of the output.
fn verify_in(password: &str, hash: &str, blocks: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Params, Version};
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, argon2::Block::default());
    }
    let argon = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..needed])
            .map_err(|_| argon2::password_hash::Error::Password)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| computed == expected)
}

/// Hashes `password` (argon2id, random salt) on the password-hashing pool. Every request
/// handler that sets a password goes through here.
///
/// # Errors
/// [`PoolError::Busy`] at once when the pool's queue is full; [`PoolError::Failed`] if hashing
/// failed or the job was lost.
pub async fn hash_on_pool(password: String) -> Result<String, PoolError> {
    HashPool::get()
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| PoolError::Failed(e.to_string()))
}

/// A new bearer token: 256 random bits, base64url without padding (43 characters).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a token: its SHA-256 (so a leaked database reveals no usable token).
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A generated password for `users add` and demo users: 16 base64url characters.
pub fn generate_password() -> String {
    let bytes: [u8; 12] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The authenticated caller, extracted from `Authorization: Bearer <token>`; rejects with
/// [`AppError::Unauthorized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The user.
    pub user: User,
    /// The hash of the token used (to revoke it on logout).
    pub token_hash: Vec<u8>,
}

impl AuthUser {
    /// The caller's id.
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or(AppError::Unauthorized)?;
        let hash = token_hash(token);
        let lookup = hash.clone();
        let user = state
            .db()
            .read(move |c| store::users::user_for_token(c, &lookup, crate::time::now_ms()))
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(Self {
            user,
            token_hash: hash,
        })
    }
}

/// The client's address: the TCP peer, or what a trusted proxy says it saw (see
/// [`crate::client_ip`]). Served without connect info, every client is `0.0.0.0`.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
                addr.ip()
            });
        Ok(Self(
            state.trusted_proxies().client_ip(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() -> Result<(), AppError> {
        let hash = hash_password("correct horse")?;
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("battery staple", &hash));
        assert!(!verify_password("anything", "not a hash"));
        Ok(())
    }

    #[test]
    fn verifying_in_reused_memory_agrees_with_the_library_for_any_parameters() {
        use argon2::{Algorithm, Params, Version};
        let mut blocks = Vec::new();
        let salt = SaltString::encode_b64(b"sixteen byte slt").expect("salt");
        for (algorithm, version, params) in [
            (Algorithm::Argon2id, Version::V0x13, Params::default()),
            (
                Algorithm::Argon2i,
                Version::V0x10,
                Params::new(64, 3, 2, Some(24)).expect("p"),
            ),
            (
                Algorithm::Argon2d,
                Version::V0x13,
                Params::new(32, 1, 1, None).expect("p"),
            ),
        ] {
            let hash = Argon2::new(algorithm, version, params)
                .hash_password(b"correct horse", &salt)
                .expect("hash")
                .to_string();
            assert!(verify_in("correct horse", &hash, &mut blocks), "{hash}");
            assert!(!verify_in("correct horsE", &hash, &mut blocks), "{hash}");
            assert!(verify_password("correct horse", &hash));
        }
        assert_eq!(
            blocks.len(),
            Params::default().block_count(),
            "grown once, to the largest"
        );
        assert!(!verify_in("x", "not a hash", &mut blocks));
        assert!(!verify_in(
            "x",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
            &mut blocks
        ));
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies_and_a_decoy_never_matches() -> Result<(), AppError> {
        let hash = hash_on_pool("correct horse".into()).await?;
        assert!(verify_on_pool("correct horse".into(), Some(hash.clone())).await?);
        assert!(!verify_on_pool("battery staple".into(), Some(hash)).await?);
        assert!(!verify_on_pool(String::new(), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn a_full_hashing_queue_answers_busy_at_once_instead_of_growing() {
        let pool = HashPool::new(1, 2);
        let capacity = pool.admission.available_permits();
        assert_eq!(capacity, 3);
        let pool: &'static HashPool = Box::leak(Box::new(pool));
        // Hold every worker and queue slot with jobs that wait for a gate.
        let (open, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let mut held = Vec::new();
        for _ in 0..capacity {
            let gate = gate.clone();
            held.push(tokio::spawn(pool.run(move || {
                let _ = gate.lock().map(|g| g.recv());
            })));
        }
        // Every spawned job took its permit once it ran; wait for that, not for a time.
        tokio::time::timeout(Duration::from_secs(10), async {
            while pool.admission.available_permits() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the held jobs took every permit");
        // Refused without waiting: `run` never awaits a permit.
        let refused = pool.run(|| ()).await;
        assert!(matches!(refused, Err(PoolError::Busy)), "{refused:?}");
        for _ in 0..capacity {
            let _ = open.send(());
        }
        for job in held {
            assert!(job.await.is_ok_and(|r| r.is_ok()));
        }
        assert!(pool.run(|| ()).await.is_ok(), "free again");
    }

    #[test]
    fn tokens_are_43_url_safe_characters_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
