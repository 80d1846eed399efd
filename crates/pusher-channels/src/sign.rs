//! Pusher Channels signatures: channel authorization (private, presence and
//! encrypted channels), user authentication, and HTTP API request signing.
//!
//! Everything here is pure: no IO, no clocks (callers pass timestamps), no
//! logging. Application secrets are only ever used as HMAC keys; they never
//! appear in return values, errors or `Debug` output.
//!
//! References: the Pusher Channels "authorizing users", "user authentication"
//! and "HTTP API reference → authentication" documentation. The tests pin the
//! example vectors published there.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto;

/// Longest socket id accepted by [`is_valid_socket_id`].
pub const MAX_SOCKET_ID_LEN: usize = 64;

/// Longest channel name Pusher accepts.
pub const MAX_CHANNEL_NAME_LEN: usize = 164;

/// Prefix of private channels (which includes encrypted channels).
pub const PRIVATE_PREFIX: &str = "private-";

/// Prefix of presence channels.
pub const PRESENCE_PREFIX: &str = "presence-";

/// Prefix of the server-internal per-user channels. These names contain `#`,
/// which is outside the client-visible channel alphabet, so
/// [`is_valid_channel_name`] rejects them.
pub const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Errors from building authorization or authentication responses.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The socket id is not of the form `<digits>.<digits>`; the request
    /// should be refused (HTTP 400/403), not retried.
    #[error("invalid socket id {0:?}")]
    InvalidSocketId(String),
    /// The channel name breaks Pusher's naming rules (see
    /// [`is_valid_channel_name`]); refuse the request.
    #[error("invalid channel name {0:?}")]
    InvalidChannelName(String),
    /// Public channels need no authorization; the client should subscribe
    /// without asking, so this indicates a client bug.
    #[error("channel {0:?} is public and needs no authorization")]
    PublicChannel(String),
    /// A `presence-` channel was authorized without a member; the server must
    /// supply the authenticated user's id and info.
    #[error("presence channel {0:?} requires a presence member")]
    MissingPresenceMember(String),
    /// The presence member is unusable (e.g. an empty `user_id`).
    #[error("invalid presence member: {0}")]
    InvalidPresenceMember(&'static str),
    /// A `private-encrypted-` channel was authorized without the encryption
    /// master key; this is a server configuration error.
    #[error("encrypted channel {0:?} requires an encryption master key")]
    MissingEncryptionKey(String),
    /// The user data for user authentication lacks a non-empty string `id`
    /// or is not a JSON object.
    #[error("invalid user data: {0}")]
    InvalidUserData(&'static str),
    /// Serializing presence or user data to JSON failed.
    #[error("could not serialize JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Returns whether `s` looks like a Pusher socket id: `<digits>.<digits>`,
/// at most [`MAX_SOCKET_ID_LEN`] characters.
pub fn is_valid_socket_id(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_SOCKET_ID_LEN {
        return false;
    }
    let Some((a, b)) = s.split_once('.') else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
    digits(a) && digits(b)
}

/// Returns whether `s` is a channel name a client may subscribe to: 1 to
/// [`MAX_CHANNEL_NAME_LEN`] characters from `A-Z a-z 0-9 _ - = @ , . ;`.
///
/// Server-internal channels such as `#server-to-user-<id>` (used for
/// user-targeted events after user authentication) are deliberately invalid:
/// clients must never subscribe to, or be authorized for, them. They are
/// rejected by the `#`, which is not in the allowed alphabet.
pub fn is_valid_channel_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_CHANNEL_NAME_LEN
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'=' | b'@' | b',' | b'.' | b';')
        })
}

/// The credentials of a Pusher Channels app.
///
/// `Debug` prints the secret as `***` so the struct can be logged safely.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    /// The numeric app id, as a string (e.g. `"3"`).
    pub app_id: String,
    /// The public app key, shared with clients.
    pub key: String,
    /// The app secret. Never send this to clients or write it to logs.
    pub secret: String,
}

impl AppCredentials {
    /// Builds credentials from their parts.
    pub fn new(
        app_id: impl Into<String>,
        key: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            app_id: app_id.into(),
            key: key.into(),
            secret: secret.into(),
        }
    }
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("secret", &"***")
            .finish()
    }
}

/// Hex-encoded HMAC-SHA256 of `message` keyed with `secret`.
pub fn sign(secret: &str, message: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `auth` token for a channel subscription: `"{key}:{hexsig}"`, where the
/// signature covers `socket_id:channel` or, with channel data (presence
/// channels), `socket_id:channel:channel_data`.
///
/// This performs no validation; prefer [`authorize_channel`] in servers.
pub fn channel_auth(
    creds: &AppCredentials,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    format!("{}:{}", creds.key, sign(&creds.secret, &message))
}

/// A channel authorization: what a server's auth endpoint returns as JSON and
/// what a client parses before sending `pusher:subscribe`.
///
/// `Debug` redacts `shared_secret`, which is the channel's encryption key.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct ChannelAuthorization {
    /// `"{app_key}:{hex_signature}"`.
    pub auth: String,
    /// The presence member as a JSON string (presence channels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub channel_data: Option<String>,
    /// The channel's base64 shared secret (`private-encrypted-` channels only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shared_secret: Option<String>,
}

impl std::fmt::Debug for ChannelAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelAuthorization")
            .field("auth", &self.auth)
            .field("channel_data", &self.channel_data)
            .field("shared_secret", &self.shared_secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A member of a presence channel, as carried in `channel_data`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PresenceMember {
    /// The application's unique id for the user. Must be non-empty.
    pub user_id: String,
    /// Arbitrary public information about the user (name, avatar, ...).
    /// Omitted from the JSON when `null`.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub user_info: serde_json::Value,
}

/// Builds the authorization for `socket_id` to subscribe to `channel`.
///
/// - `private-` channels get a plain signature.
/// - `presence-` channels require `presence`; its JSON becomes `channel_data`
///   and is signed too.
/// - `private-encrypted-` channels require `encryption_master_key`; the
///   response carries the channel's base64 shared secret.
/// - Public channels are an error ([`SignError::PublicChannel`]).
///
/// `presence` is ignored for non-presence channels and
/// `encryption_master_key` for non-encrypted ones, so a server can pass both
/// unconditionally.
pub fn authorize_channel(
    creds: &AppCredentials,
    socket_id: &str,
    channel: &str,
    presence: Option<&PresenceMember>,
    encryption_master_key: Option<&[u8; crypto::KEY_LEN]>,
) -> Result<ChannelAuthorization, SignError> {
    if !is_valid_socket_id(socket_id) {
        return Err(SignError::InvalidSocketId(socket_id.to_owned()));
    }
    if !is_valid_channel_name(channel) {
        return Err(SignError::InvalidChannelName(channel.to_owned()));
    }
    if channel.starts_with(PRESENCE_PREFIX) {
        let member =
            presence.ok_or_else(|| SignError::MissingPresenceMember(channel.to_owned()))?;
        if member.user_id.is_empty() {
            return Err(SignError::InvalidPresenceMember(
                "user_id must not be empty",
            ));
        }
        let data = serde_json::to_string(member)?;
        Ok(ChannelAuthorization {
            auth: channel_auth(creds, socket_id, channel, Some(&data)),
            channel_data: Some(data),
            shared_secret: None,
        })
    } else if channel.starts_with(crypto::ENCRYPTED_CHANNEL_PREFIX) {
        let master = encryption_master_key
            .ok_or_else(|| SignError::MissingEncryptionKey(channel.to_owned()))?;
        Ok(ChannelAuthorization {
            auth: channel_auth(creds, socket_id, channel, None),
            channel_data: None,
            shared_secret: Some(BASE64.encode(crypto::shared_secret(channel, master))),
        })
    } else if channel.starts_with(PRIVATE_PREFIX) {
        Ok(ChannelAuthorization {
            auth: channel_auth(creds, socket_id, channel, None),
            channel_data: None,
            shared_secret: None,
        })
    } else {
        Err(SignError::PublicChannel(channel.to_owned()))
    }
}

/// A user authentication: the server's response to a `pusher:signin` auth
/// request, sent on by the client in `pusher:signin`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct UserAuthentication {
    /// `"{app_key}:{hex_signature}"`.
    pub auth: String,
    /// The user data as a JSON string, exactly as signed.
    pub user_data: String,
}

/// Authenticates `socket_id` as the user described by `user_data`, which must
/// be a JSON object with a non-empty string `id`. The signed string is
/// `socket_id::user::{user_data_json}`.
pub fn authenticate_user(
    creds: &AppCredentials,
    socket_id: &str,
    user_data: &serde_json::Value,
) -> Result<UserAuthentication, SignError> {
    if !is_valid_socket_id(socket_id) {
        return Err(SignError::InvalidSocketId(socket_id.to_owned()));
    }
    let object = user_data.as_object().ok_or(SignError::InvalidUserData(
        "user data must be a JSON object",
    ))?;
    match object.get("id") {
        Some(serde_json::Value::String(id)) if !id.is_empty() => {}
        _ => {
            return Err(SignError::InvalidUserData(
                "user data must have a non-empty string `id`",
            ))
        }
    }
    let data = serde_json::to_string(user_data)?;
    let signature = sign(&creds.secret, &format!("{socket_id}::user::{data}"));
    Ok(UserAuthentication {
        auth: format!("{}:{}", creds.key, signature),
        user_data: data,
    })
}

/// Query parameters [`sign_api_request`] controls; callers' values for these
/// keys are discarded.
const AUTH_PARAMS: [&str; 5] = [
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "body_md5",
    "auth_signature",
];

/// Signs a Pusher HTTP API request and returns its complete query parameters,
/// sorted by key: the caller's `params` (keys lowercased) plus `auth_key`,
/// `auth_timestamp`, `auth_version=1.0`, `body_md5` (when `body` is non-empty)
/// and `auth_signature`.
///
/// The signature is the hex HMAC-SHA256 of `METHOD\npath\nquery`, where
/// `query` is every parameter except `auth_signature`, sorted by key and
/// joined as `k=v&k=v` *without* URL-encoding. The parameters must still be
/// URL-encoded when placed in the actual request URL. `timestamp` is Unix
/// seconds; Pusher rejects requests more than 600 s off its clock.
pub fn sign_api_request(
    creds: &AppCredentials,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: Option<&[u8]>,
    timestamp: u64,
) -> Vec<(String, String)> {
    let mut query: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .filter(|(k, _)| !AUTH_PARAMS.contains(&k.as_str()))
        .collect();
    query.push(("auth_key".into(), creds.key.clone()));
    query.push(("auth_timestamp".into(), timestamp.to_string()));
    query.push(("auth_version".into(), "1.0".into()));
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        query.push(("body_md5".into(), hex::encode(Md5::digest(body))));
    }
    query.sort();

    let joined = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{}\n{}\n{}", method.to_ascii_uppercase(), path, joined);
    query.push(("auth_signature".into(), sign(&creds.secret, &to_sign)));
    query.sort();
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn docs_creds() -> AppCredentials {
        AppCredentials::new("3", "278d425bdf160c739803", "7ad3773142a6692b25b8")
    }

    fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn private_channel_signature_matches_pusher_docs_vector() {
        let auth = channel_auth(&docs_creds(), "1234.1234", "private-foobar", None);
        assert_eq!(
            auth,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
    }

    #[test]
    fn presence_channel_signature_matches_pusher_docs_vector() {
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
        let auth = channel_auth(&docs_creds(), "1234.1234", "presence-foobar", Some(data));
        assert_eq!(
            auth,
            "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
        );
    }

    #[test]
    fn http_api_request_signature_matches_pusher_docs_vector() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let params = sign_api_request(
            &docs_creds(),
            "POST",
            "/apps/3/events",
            &[],
            Some(body),
            1353088179,
        );
        assert_eq!(
            param(&params, "body_md5"),
            Some("ec365a775a4cd0599faeb73354201b6f")
        );
        assert_eq!(
            param(&params, "auth_signature"),
            Some("da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c")
        );
        let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "auth_key",
                "auth_signature",
                "auth_timestamp",
                "auth_version",
                "body_md5"
            ]
        );
        assert_eq!(param(&params, "auth_key"), Some("278d425bdf160c739803"));
        assert_eq!(param(&params, "auth_timestamp"), Some("1353088179"));
        assert_eq!(param(&params, "auth_version"), Some("1.0"));
    }

    #[test]
    fn api_signature_covers_sorted_lowercased_unencoded_params() {
        let creds = docs_creds();
        let params = sign_api_request(
            &creds,
            "get",
            "/apps/3/channels",
            &[
                ("INFO".into(), "user_count,subscription_count".into()),
                ("filter_by_prefix".into(), "presence-".into()),
            ],
            None,
            1000,
        );
        assert_eq!(param(&params, "body_md5"), None);
        assert_eq!(
            param(&params, "info"),
            Some("user_count,subscription_count")
        );
        let expected = sign(
            &creds.secret,
            "GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1000\
             &auth_version=1.0&filter_by_prefix=presence-&info=user_count,subscription_count",
        );
        assert_eq!(param(&params, "auth_signature"), Some(expected.as_str()));
        let mut sorted = params.clone();
        sorted.sort();
        assert_eq!(params, sorted);
    }

    #[test]
    fn api_signing_ignores_caller_supplied_auth_params_and_empty_bodies() {
        let creds = docs_creds();
        let forged = [
            ("auth_signature".to_string(), "forged".to_string()),
            ("AUTH_KEY".to_string(), "other".to_string()),
        ];
        let with_forged = sign_api_request(&creds, "GET", "/x", &forged, Some(b""), 5);
        let clean = sign_api_request(&creds, "GET", "/x", &[], None, 5);
        assert_eq!(with_forged, clean);
    }

    #[test]
    fn presence_authorization_round_trips_and_verifies() {
        let creds = docs_creds();
        let member = PresenceMember {
            user_id: "alice".into(),
            user_info: json!({"name": "Alice"}),
        };
        let authz = authorize_channel(&creds, "1234.1234", "presence-room", Some(&member), None)
            .expect("authorize");
        let data = authz.channel_data.clone().expect("channel_data");
        let parsed: PresenceMember = serde_json::from_str(&data).expect("parse member");
        assert_eq!(parsed, member);
        assert_eq!(
            authz.auth,
            channel_auth(&creds, "1234.1234", "presence-room", Some(&data))
        );
        assert_eq!(authz.shared_secret, None);

        let wire = serde_json::to_string(&authz).expect("serialize");
        let back: ChannelAuthorization = serde_json::from_str(&wire).expect("parse");
        assert_eq!(back, authz);
    }

    #[test]
    fn presence_member_without_info_omits_user_info() {
        let member = PresenceMember {
            user_id: "bob".into(),
            user_info: serde_json::Value::Null,
        };
        assert_eq!(
            serde_json::to_string(&member).expect("serialize"),
            r#"{"user_id":"bob"}"#
        );
        let parsed: PresenceMember = serde_json::from_str(r#"{"user_id":"bob"}"#).expect("parse");
        assert_eq!(parsed, member);
    }

    #[test]
    fn private_authorization_omits_optional_fields_on_the_wire() {
        let authz = authorize_channel(&docs_creds(), "1234.1234", "private-foobar", None, None)
            .expect("authorize");
        assert_eq!(
            serde_json::to_value(&authz).expect("serialize"),
            json!({"auth": "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"})
        );
    }

    #[test]
    fn encrypted_authorization_carries_the_channel_shared_secret() {
        let master = [9u8; 32];
        let channel = "private-encrypted-room";
        let authz = authorize_channel(&docs_creds(), "1.2", channel, None, Some(&master))
            .expect("authorize");
        let secret = crypto::decode_shared_secret(authz.shared_secret.as_deref().expect("secret"))
            .expect("decode");
        assert_eq!(secret, crypto::shared_secret(channel, &master));
        assert_eq!(
            authz.auth,
            channel_auth(&docs_creds(), "1.2", channel, None)
        );
        assert!(!format!("{authz:?}").contains(authz.shared_secret.as_deref().unwrap_or("")));
    }

    #[test]
    fn authorization_rejects_bad_inputs() {
        let creds = docs_creds();
        let member = PresenceMember {
            user_id: String::new(),
            user_info: json!(null),
        };
        assert!(matches!(
            authorize_channel(&creds, "abc", "private-x", None, None),
            Err(SignError::InvalidSocketId(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "private-bad name", None, None),
            Err(SignError::InvalidChannelName(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "#server-to-user-alice", None, None),
            Err(SignError::InvalidChannelName(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "lobby", None, None),
            Err(SignError::PublicChannel(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "presence-x", None, None),
            Err(SignError::MissingPresenceMember(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "presence-x", Some(&member), None),
            Err(SignError::InvalidPresenceMember(_))
        ));
        assert!(matches!(
            authorize_channel(&creds, "1.2", "private-encrypted-x", None, None),
            Err(SignError::MissingEncryptionKey(_))
        ));
    }

    #[test]
    fn user_authentication_signs_socket_id_user_and_data() {
        let creds = docs_creds();
        let user = json!({"id": "alice", "user_info": {"name": "Alice"}});
        let authn = authenticate_user(&creds, "1234.1234", &user).expect("authenticate");
        assert_eq!(
            authn.user_data,
            r#"{"id":"alice","user_info":{"name":"Alice"}}"#
        );
        let (key, sig) = authn.auth.split_once(':').expect("key:sig");
        assert_eq!(key, creds.key);
        assert_eq!(
            sig,
            sign(
                &creds.secret,
                r#"1234.1234::user::{"id":"alice","user_info":{"name":"Alice"}}"#
            )
        );
        assert_eq!(sig.len(), 64);
    }

    #[test]
    fn user_authentication_requires_a_string_id() {
        let creds = docs_creds();
        for bad in [
            json!({"id": 5}),
            json!({"name": "x"}),
            json!({"id": ""}),
            json!("alice"),
        ] {
            assert!(matches!(
                authenticate_user(&creds, "1.2", &bad),
                Err(SignError::InvalidUserData(_))
            ));
        }
        assert!(matches!(
            authenticate_user(&creds, "1.2.3", &json!({"id": "a"})),
            Err(SignError::InvalidSocketId(_))
        ));
    }

    #[test]
    fn socket_ids_must_be_two_digit_groups() {
        assert!(is_valid_socket_id("1234.1234"));
        assert!(is_valid_socket_id("0.0"));
        for bad in [
            "", ".", "1.", ".1", "1", "1.2.3", "a.1", "1.2\n", " 1.2", "-1.2",
        ] {
            assert!(!is_valid_socket_id(bad), "{bad:?}");
        }
        let long = format!("{}.1", "9".repeat(MAX_SOCKET_ID_LEN));
        assert!(!is_valid_socket_id(&long));
    }

    #[test]
    fn channel_names_follow_pusher_rules() {
        assert!(is_valid_channel_name("private-encrypted-a_b-c=d@e,f.g;h"));
        assert!(is_valid_channel_name(&"a".repeat(MAX_CHANNEL_NAME_LEN)));
        assert!(!is_valid_channel_name(
            &"a".repeat(MAX_CHANNEL_NAME_LEN + 1)
        ));
        for bad in [
            "",
            "has space",
            "slash/",
            "é",
            "#server-to-user-1",
            "a:b",
            "a*",
        ] {
            assert!(!is_valid_channel_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let shown = format!("{:?}", docs_creds());
        assert!(shown.contains("278d425bdf160c739803"));
        assert!(!shown.contains("7ad3773142a6692b25b8"));
        assert!(shown.contains("***"));
    }
}
