//! End-to-end encryption for `private-encrypted-*` channels, compatible with
//! pusher-js and the official Pusher server libraries.
//!
//! A server holds a 32-byte *encryption master key*. For every encrypted
//! channel it derives a per-channel *shared secret*
//! (`SHA-256(channel_name || master_key)`), hands that secret to authorized
//! clients in the channel authorization response, and encrypts event data with
//! NaCl `secretbox` (XSalsa20-Poly1305) under a fresh random 24-byte nonce. The
//! wire form of an encrypted event's `data` is the JSON object
//! `{"nonce": "<base64>", "ciphertext": "<base64>"}`, where the ciphertext is
//! the NaCl "combined" form (16-byte Poly1305 tag followed by the encrypted
//! bytes) and both fields use standard, padded base64.
//!
//! This module is pure: it never performs IO, never logs, and never keeps key
//! material beyond the duration of a call.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use crypto_secretbox::aead::generic_array::GenericArray;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Length in bytes of a secretbox nonce.
pub const NONCE_LEN: usize = 24;

/// Length in bytes of a shared secret and of an encryption master key.
pub const KEY_LEN: usize = 32;

/// Prefix of the channels whose events are end-to-end encrypted.
pub const ENCRYPTED_CHANNEL_PREFIX: &str = "private-encrypted-";

/// Errors from decoding keys or decrypting payloads.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A field that should hold standard (padded) base64 did not.
    #[error("{field} is not valid base64: {source}")]
    InvalidBase64 {
        /// Which field failed to decode (`"nonce"`, `"ciphertext"` or `"shared_secret"`).
        field: &'static str,
        /// The underlying decoding error.
        #[source]
        source: base64::DecodeError,
    },
    /// The decoded nonce was not exactly [`NONCE_LEN`] bytes long.
    #[error("nonce must be {NONCE_LEN} bytes, got {0}")]
    InvalidNonceLength(usize),
    /// The decoded shared secret was not exactly [`KEY_LEN`] bytes long.
    #[error("shared secret must be {KEY_LEN} bytes, got {0}")]
    InvalidKeyLength(usize),
    /// The ciphertext failed authentication: it was tampered with, truncated,
    /// or encrypted under a different key (e.g. a stale shared secret — the
    /// client should re-authorize the channel and try again).
    #[error("decryption failed: ciphertext was tampered with or the key is wrong")]
    Authentication,
}

/// An encrypted event payload as it travels in an event's `data` field
/// (serialized to a JSON string).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPayload {
    /// The 24-byte nonce, standard base64.
    pub nonce: String,
    /// The NaCl secretbox output (tag followed by ciphertext), standard base64.
    pub ciphertext: String,
}

/// Derives the shared secret of an encrypted channel:
/// `SHA-256(channel_name bytes || master_key bytes)`.
pub fn shared_secret(channel: &str, master_key: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(channel.as_bytes());
    hasher.update(master_key);
    hasher.finalize().into()
}

/// Decodes a base64 shared secret, as found in the `shared_secret` field of a
/// channel authorization response.
pub fn decode_shared_secret(b64: &str) -> Result<[u8; KEY_LEN], CryptoError> {
    let bytes = BASE64
        .decode(b64.trim())
        .map_err(|source| CryptoError::InvalidBase64 {
            field: "shared_secret",
            source,
        })?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| CryptoError::InvalidKeyLength(bytes.len()))
}

/// Encrypts `plaintext` under `secret` with a fresh random nonce.
pub fn encrypt(secret: &[u8; KEY_LEN], plaintext: &[u8]) -> EncryptedPayload {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    encrypt_with_nonce(secret, &nonce, plaintext)
}

/// Encrypts with a caller-chosen nonce. Private: reusing a nonce under the
/// same key is catastrophic, so only tests pin it.
fn encrypt_with_nonce(
    secret: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> EncryptedPayload {
    let cipher = XSalsa20Poly1305::new(GenericArray::from_slice(secret));
    // Encryption only fails when associated data is supplied or the buffer
    // cannot grow; neither applies to a heap buffer with no associated data.
    let sealed = match cipher.encrypt(GenericArray::from_slice(nonce), plaintext) {
        Ok(sealed) => sealed,
        Err(_) => unreachable!("secretbox encryption into a Vec cannot fail"),
    };
    EncryptedPayload {
        nonce: BASE64.encode(nonce),
        ciphertext: BASE64.encode(sealed),
    }
}

/// Decrypts and authenticates `payload` with `secret`.
pub fn decrypt(secret: &[u8; KEY_LEN], payload: &EncryptedPayload) -> Result<Vec<u8>, CryptoError> {
    let nonce = BASE64
        .decode(&payload.nonce)
        .map_err(|source| CryptoError::InvalidBase64 {
            field: "nonce",
            source,
        })?;
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::InvalidNonceLength(nonce.len()));
    }
    let sealed =
        BASE64
            .decode(&payload.ciphertext)
            .map_err(|source| CryptoError::InvalidBase64 {
                field: "ciphertext",
                source,
            })?;
    let cipher = XSalsa20Poly1305::new(GenericArray::from_slice(secret));
    cipher
        .decrypt(GenericArray::from_slice(&nonce), sealed.as_slice())
        .map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master_key() -> [u8; KEY_LEN] {
        let mut key = [0u8; KEY_LEN];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        key
    }

    #[test]
    fn shared_secret_is_sha256_of_channel_name_then_master_key() {
        // Reference value computed independently with Python's hashlib.
        let secret = shared_secret("private-encrypted-confab", &master_key());
        assert_eq!(
            hex::encode(secret),
            "67e1afd4649c288e2a46ce99fe2e162f9863a6a91a041fe2a8ffdfb8ad04c1b4"
        );
    }

    #[test]
    fn different_channels_get_different_shared_secrets() {
        let a = shared_secret("private-encrypted-a", &master_key());
        let b = shared_secret("private-encrypted-b", &master_key());
        assert_ne!(a, b);
    }

    #[test]
    fn encryption_matches_libsodium_secretbox_easy() {
        // Reference ciphertext produced by libsodium's crypto_secretbox_easy,
        // the same construction tweetnacl (used by pusher-js) implements.
        let secret = shared_secret("private-encrypted-confab", &master_key());
        let mut nonce = [0u8; NONCE_LEN];
        for (i, b) in nonce.iter_mut().enumerate() {
            *b = 100 + i as u8;
        }
        let payload = encrypt_with_nonce(&secret, &nonce, br#"{"text":"hello from confab"}"#);
        assert_eq!(payload.nonce, "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7");
        assert_eq!(
            payload.ciphertext,
            "JGGgjT09h7WAY5HCGDg/IHyYfsHlq0TdeZdOCvNtaYfvNPNmj82t0C4rH08="
        );
    }

    #[test]
    fn encrypted_payload_round_trips() {
        let secret = shared_secret("private-encrypted-room", &master_key());
        let payload = encrypt(&secret, b"{\"msg\":\"hi\"}");
        let json = serde_json::to_string(&payload).expect("serialize");
        let parsed: EncryptedPayload = serde_json::from_str(&json).expect("parse");
        assert_eq!(
            decrypt(&secret, &parsed).expect("decrypt"),
            b"{\"msg\":\"hi\"}"
        );
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let secret = [7u8; KEY_LEN];
        let payload = encrypt(&secret, b"");
        assert_eq!(decrypt(&secret, &payload).expect("decrypt"), b"");
    }

    #[test]
    fn each_encryption_uses_a_fresh_nonce() {
        let secret = [7u8; KEY_LEN];
        let a = encrypt(&secret, b"same");
        let b = encrypt(&secret, b"same");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn tampered_ciphertext_is_rejected() {
        let secret = [7u8; KEY_LEN];
        let mut payload = encrypt(&secret, b"attack at dawn");
        let mut bytes = BASE64.decode(&payload.ciphertext).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        payload.ciphertext = BASE64.encode(bytes);
        assert!(matches!(
            decrypt(&secret, &payload),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn tampered_nonce_is_rejected() {
        let secret = [7u8; KEY_LEN];
        let mut payload = encrypt(&secret, b"attack at dawn");
        let mut nonce = BASE64.decode(&payload.nonce).expect("b64");
        nonce[0] ^= 1;
        payload.nonce = BASE64.encode(nonce);
        assert!(matches!(
            decrypt(&secret, &payload),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn truncated_ciphertext_is_rejected() {
        let secret = [7u8; KEY_LEN];
        let mut payload = encrypt(&secret, b"x");
        payload.ciphertext = BASE64.encode([1u8; 4]);
        assert!(matches!(
            decrypt(&secret, &payload),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn wrong_key_is_rejected() {
        let payload = encrypt(&[1u8; KEY_LEN], b"secret");
        assert!(matches!(
            decrypt(&[2u8; KEY_LEN], &payload),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn bad_base64_and_bad_nonce_length_have_distinct_errors() {
        let secret = [7u8; KEY_LEN];
        let good = encrypt(&secret, b"x");

        let bad_nonce_b64 = EncryptedPayload {
            nonce: "not base64!".into(),
            ..good.clone()
        };
        assert!(matches!(
            decrypt(&secret, &bad_nonce_b64),
            Err(CryptoError::InvalidBase64 { field: "nonce", .. })
        ));

        let bad_ct_b64 = EncryptedPayload {
            ciphertext: "%%%".into(),
            ..good.clone()
        };
        assert!(matches!(
            decrypt(&secret, &bad_ct_b64),
            Err(CryptoError::InvalidBase64 {
                field: "ciphertext",
                ..
            })
        ));

        let short_nonce = EncryptedPayload {
            nonce: BASE64.encode([0u8; 12]),
            ..good
        };
        assert!(matches!(
            decrypt(&secret, &short_nonce),
            Err(CryptoError::InvalidNonceLength(12))
        ));
    }

    #[test]
    fn shared_secret_decodes_from_base64() {
        let secret = shared_secret("private-encrypted-confab", &master_key());
        let decoded =
            decode_shared_secret("Z+Gv1GScKI4qRs6Z/i4WL5hjpqkaBB/iqP/fuK0EwbQ=").expect("decode");
        assert_eq!(decoded, secret);
    }

    #[test]
    fn shared_secret_of_wrong_length_or_bad_base64_is_rejected() {
        assert!(matches!(
            decode_shared_secret(&BASE64.encode([0u8; 16])),
            Err(CryptoError::InvalidKeyLength(16))
        ));
        assert!(matches!(
            decode_shared_secret("***"),
            Err(CryptoError::InvalidBase64 {
                field: "shared_secret",
                ..
            })
        ));
    }
}
