//! Who is calling: password hashing, bearer tokens and the authenticated-user extractor. The
//! failed-login limiter lives in [`crate::login_limit`].

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
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

/// Hashes a password with argon2id and a random salt (PHC string format).
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

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs argon2 work (a [`hash_password`] or [`verify_password`] call) off the async workers:
/// it is deliberately slow. Every request-path hash and verify goes through here, so where that
/// work runs (today tokio's blocking pool) is decided in this one place.
///
/// # Errors
/// [`AppError::Internal`] if the work panicked.
pub async fn argon2_off_workers<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("password work: {e}")))
}

/// [`verify_password`] through [`argon2_off_workers`]: what request handlers call.
///
/// # Errors
/// [`AppError::Internal`] if the work panicked.
pub async fn verify_password_off_workers(password: String, hash: String) -> Result<bool, AppError> {
    argon2_off_workers(move || verify_password(&password, &hash)).await
}

/// [`hash_password`] through [`argon2_off_workers`]: what request handlers call.
///
/// # Errors
/// [`AppError::Internal`] if hashing failed or panicked.
pub async fn hash_password_off_workers(password: String) -> Result<String, AppError> {
    argon2_off_workers(move || hash_password(&password)).await?
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

/// The client's IP address, when the server was started with connect info.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
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
    fn tokens_are_43_url_safe_characters_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
