//! Request building and error handling of the trigger client, without a Pusher server.

use super::*;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MASTER: [u8; 32] = [3u8; 32];

fn creds() -> AppCredentials {
    AppCredentials::new("3", "278d425bdf160c739803", "7ad3773142a6692b25b8")
}

fn client() -> TriggerClient {
    TriggerClient::new(ApiEndpoint::Cluster("eu".into()), creds(), Some(MASTER)).expect("client")
}

fn channels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("json body")
}

fn query(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn endpoints_resolve_to_hosted_and_self_hosted_urls() {
    let hosted = ApiEndpoint::Cluster("mt1".into())
        .base_url()
        .expect("hosted");
    assert_eq!(hosted.as_str(), "https://api-mt1.pusher.com/");
    let local = ApiEndpoint::SelfHosted {
        scheme: "http".into(),
        host: "127.0.0.1".into(),
        port: 6001,
    };
    assert_eq!(
        local.base_url().expect("local").as_str(),
        "http://127.0.0.1:6001/"
    );
}

#[test]
fn malformed_endpoints_and_app_ids_are_rejected() {
    for endpoint in [
        ApiEndpoint::Cluster("".into()),
        ApiEndpoint::Cluster("eu.evil.com/x".into()),
        ApiEndpoint::SelfHosted {
            scheme: "ftp".into(),
            host: "h".into(),
            port: 1,
        },
        ApiEndpoint::SelfHosted {
            scheme: "http".into(),
            host: "a/b".into(),
            port: 1,
        },
    ] {
        assert!(
            matches!(endpoint.base_url(), Err(TriggerError::Invalid(_))),
            "{endpoint:?}"
        );
    }
    let bad_app = AppCredentials::new("3/../4", "k", "s");
    assert!(matches!(
        TriggerClient::new(ApiEndpoint::Cluster("eu".into()), bad_app, None),
        Err(TriggerError::Invalid(_))
    ));
}

#[test]
fn prepared_request_matches_pusher_docs_signature() {
    let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
    let req = client().prepare(
        Method::POST,
        "/apps/3/events",
        Vec::new(),
        Some(body.to_vec()),
        1353088179,
    );
    assert_eq!(req.url.path(), "/apps/3/events");
    assert_eq!(req.url.host_str(), Some("api-eu.pusher.com"));
    assert_eq!(
        query(&req.url),
        [
            ("auth_key", "278d425bdf160c739803"),
            (
                "auth_signature",
                "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
            ),
            ("auth_timestamp", "1353088179"),
            ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn query_values_are_url_encoded_but_signed_raw() {
    let params = vec![
        (
            "info".to_string(),
            "user_count,subscription_count".to_string(),
        ),
        ("filter_by_prefix".to_string(), "presence-a b".to_string()),
    ];
    let req = client().prepare(Method::GET, "/apps/3/channels", params.clone(), None, 42);
    assert!(req.url.query().expect("query").contains("presence-a+b"));
    let expected = sign::sign_api_request(&creds(), "GET", "/apps/3/channels", &params, None, 42);
    assert_eq!(query(&req.url), expected);
    assert!(req.body.is_none());
}

#[test]
fn trigger_body_has_name_channels_data_and_optional_socket_id() {
    let c = client();
    let body = c
        .trigger_body(
            &channels(&["a", "private-b"]),
            "msg",
            r#"{"x":1}"#,
            Some("1.2"),
        )
        .expect("body");
    assert_eq!(
        json(&body),
        serde_json::json!({"name":"msg","channels":["a","private-b"],"data":"{\"x\":1}","socket_id":"1.2"})
    );
    let body = c
        .trigger_body(&channels(&["a"]), "msg", "1", None)
        .expect("body");
    assert_eq!(
        json(&body),
        serde_json::json!({"name":"msg","channels":["a"],"data":"1"})
    );
}

#[test]
fn single_encrypted_channel_trigger_is_encrypted_with_the_channel_secret() {
    let channel = "private-encrypted-room";
    let body = client()
        .trigger_body(&channels(&[channel]), "msg", r#"{"text":"hi"}"#, None)
        .expect("body");
    let body = json(&body);
    let data = body["data"].as_str().expect("data string");
    // Only the sealed payload travels: a nonce and a ciphertext, nothing in the clear.
    let sent: serde_json::Value = serde_json::from_str(data).expect("json");
    let keys: Vec<_> = sent.as_object().expect("object").keys().cloned().collect();
    assert_eq!(keys, ["ciphertext", "nonce"]);
    let payload: crypto::EncryptedPayload = serde_json::from_str(data).expect("payload");
    let secret = crypto::shared_secret(channel, &MASTER);
    assert_eq!(
        crypto::decrypt(&secret, &payload).expect("decrypt"),
        br#"{"text":"hi"}"#
    );
}

#[test]
fn encrypted_triggers_need_a_key_and_a_single_channel() {
    let c = client();
    assert!(matches!(
        c.trigger_body(&channels(&["private-encrypted-a", "b"]), "e", "1", None),
        Err(TriggerError::Invalid(_))
    ));
    let keyless =
        TriggerClient::new(ApiEndpoint::Cluster("eu".into()), creds(), None).expect("client");
    assert!(matches!(
        keyless.trigger_body(&channels(&["private-encrypted-a"]), "e", "1", None),
        Err(TriggerError::Invalid(_))
    ));
}

#[test]
fn trigger_rejects_bad_channels_events_and_socket_ids() {
    let c = client();
    let many: Vec<String> = (0..=MAX_TRIGGER_CHANNELS)
        .map(|i| format!("c{i}"))
        .collect();
    let long_event = "e".repeat(MAX_EVENT_NAME_LEN + 1);
    for (chans, event, socket) in [
        (Vec::new(), "e", None),
        (many, "e", None),
        (channels(&["bad name"]), "e", None),
        (channels(&["a"]), "", None),
        (channels(&["a"]), long_event.as_str(), None),
        (channels(&["a"]), "e", Some("nope")),
    ] {
        assert!(matches!(
            c.trigger_body(&chans, event, "1", socket),
            Err(TriggerError::Invalid(_))
        ));
    }
    assert!(c
        .trigger_body(&channels(&["#server-to-user-alice"]), "e", "1", None)
        .is_ok());
    assert!(user_channel("bad id").is_err());
    assert_eq!(user_channel("alice").expect("ok"), "#server-to-user-alice");
}

#[test]
fn oversized_data_is_rejected_with_a_configurable_limit() {
    let big = "x".repeat(DEFAULT_MAX_PAYLOAD_BYTES + 1);
    assert!(matches!(
        client().trigger_body(&channels(&["a"]), "e", &big, None),
        Err(TriggerError::PayloadTooLarge { size, limit })
            if size == DEFAULT_MAX_PAYLOAD_BYTES + 1 && limit == DEFAULT_MAX_PAYLOAD_BYTES
    ));
    let roomy = client().with_max_payload_bytes(20 * 1024);
    assert!(roomy
        .trigger_body(&channels(&["a"]), "e", &big, None)
        .is_ok());
    let tight = client().with_max_payload_bytes(4);
    assert!(matches!(
        tight.batch_bodies(&[BatchEvent {
            channel: "a".into(),
            name: "e".into(),
            data: "12345".into(),
            socket_id: None,
        }]),
        Err(TriggerError::PayloadTooLarge { size: 5, limit: 4 })
    ));
}

#[test]
fn large_batches_are_split_into_chunks_of_ten() {
    let events: Vec<BatchEvent> = (0..23)
        .map(|i| BatchEvent {
            channel: format!("c{i}"),
            name: "e".into(),
            data: i.to_string(),
            socket_id: (i == 0).then(|| "1.2".to_string()),
        })
        .collect();
    let bodies = client().batch_bodies(&events).expect("bodies");
    let sizes: Vec<usize> = bodies
        .iter()
        .map(|b| json(b)["batch"].as_array().expect("batch").len())
        .collect();
    assert_eq!(sizes, [10, 10, 3]);
    assert_eq!(
        json(&bodies[0])["batch"][0],
        serde_json::json!({"channel":"c0","name":"e","data":"0","socket_id":"1.2"})
    );
    assert_eq!(json(&bodies[2])["batch"][2]["channel"], "c22");
    assert!(client().batch_bodies(&[]).expect("empty").is_empty());
}

#[test]
fn encrypted_batch_events_are_encrypted_individually() {
    let event = |channel: &str| BatchEvent {
        channel: channel.into(),
        name: "e".into(),
        data: "\"secret\"".into(),
        socket_id: None,
    };
    let bodies = client()
        .batch_bodies(&[event("private-encrypted-a"), event("public")])
        .expect("bodies");
    let batch = json(&bodies[0])["batch"].clone();
    assert_eq!(batch[1]["data"], "\"secret\"");
    let payload: crypto::EncryptedPayload =
        serde_json::from_str(batch[0]["data"].as_str().expect("data")).expect("payload");
    let secret = crypto::shared_secret("private-encrypted-a", &MASTER);
    assert_eq!(
        crypto::decrypt(&secret, &payload).expect("decrypt"),
        b"\"secret\""
    );
}

#[test]
fn errors_say_whether_to_retry_and_bodies_are_truncated() {
    let status = |status| TriggerError::Status {
        status,
        body: String::new(),
    };
    assert!(status(503).is_retryable());
    assert!(status(429).is_retryable());
    assert!(!status(401).is_retryable());
    assert!(!TriggerError::Invalid("x".into()).is_retryable());
    let long = "é".repeat(MAX_ERROR_BODY_CHARS + 10);
    assert_eq!(truncate(&long).chars().count(), MAX_ERROR_BODY_CHARS + 1);
    assert_eq!(truncate("short"), "short");
}

#[test]
fn debug_output_hides_secrets() {
    let shown = format!("{:?}", client());
    assert!(!shown.contains("7ad3773142a6692b25b8"));
    assert!(!shown.contains(&format!("{:?}", MASTER)));
    assert!(!shown.contains(&base64::engine::general_purpose::STANDARD.encode(MASTER)));
}

/// Serves one canned HTTP response on a local port and returns the raw
/// request it received.
async fn one_shot_server(
    status_line: &'static str,
    body: &'static str,
) -> (ApiEndpoint, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.expect("read");
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0usize);
                if raw.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let response = format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.expect("write");
        String::from_utf8_lossy(&raw).to_string()
    });
    let endpoint = ApiEndpoint::SelfHosted {
        scheme: "http".into(),
        host: "127.0.0.1".into(),
        port,
    };
    (endpoint, handle)
}

#[tokio::test]
async fn trigger_posts_a_signed_json_request() {
    let (endpoint, server) = one_shot_server("200 OK", "{}").await;
    let c = TriggerClient::new(endpoint, creds(), None).expect("client");
    c.trigger(&channels(&["room"]), "msg", "{}", Some("1.2"))
        .await
        .expect("trigger");
    let request = server.await.expect("server");
    assert!(
        request.starts_with("POST /apps/3/events?auth_key=278d425bdf160c739803&auth_signature=")
    );
    assert!(request.contains("body_md5="));
    assert!(
        request.ends_with(r#"{"name":"msg","channels":["room"],"data":"{}","socket_id":"1.2"}"#)
    );
}

#[tokio::test]
async fn error_statuses_and_non_json_replies_become_typed_errors() {
    let (endpoint, server) = one_shot_server("401 Unauthorized", "Invalid signature").await;
    let c = TriggerClient::new(endpoint, creds(), None).expect("client");
    let err = c.channel_info("presence-room", &["user_count"]).await;
    assert!(matches!(
        err,
        Err(TriggerError::Status { status: 401, ref body }) if body == "Invalid signature"
    ));
    let request = server.await.expect("server");
    assert!(request.starts_with("GET /apps/3/channels/presence-room?auth_key="));
    assert!(request.contains("info=user_count"));

    let (endpoint, server) = one_shot_server("200 OK", "<html>").await;
    let c = TriggerClient::new(endpoint, creds(), None).expect("client");
    assert!(matches!(
        c.channels(Some("presence-"), &[]).await,
        Err(TriggerError::InvalidResponse { .. })
    ));
    server.await.expect("server");
}

#[tokio::test]
async fn unreachable_servers_are_retryable_network_errors() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let endpoint = ApiEndpoint::SelfHosted {
        scheme: "http".into(),
        host: "127.0.0.1".into(),
        port,
    };
    let c = TriggerClient::new(endpoint, creds(), None)
        .expect("client")
        .with_timeout(Duration::from_secs(2));
    let err = c
        .presence_users("presence-room")
        .await
        .expect_err("must fail");
    assert!(matches!(err, TriggerError::Network(_)));
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("auth_signature"));
}

#[tokio::test]
async fn terminating_a_users_connections_posts_a_signed_empty_object_to_their_path() {
    let (endpoint, server) = one_shot_server("200 OK", r#"{"ok":true}"#).await;
    let c = TriggerClient::new(endpoint, creds(), None).expect("client");
    c.terminate_user_connections("42").await.expect("terminate");
    let request = server.await.expect("server");
    assert!(request.starts_with(
        "POST /apps/3/users/42/terminate_connections?auth_key=278d425bdf160c739803&auth_signature="
    ));
    // md5("{}"): the body is signed like every other call's.
    assert!(request.contains("body_md5=99914b932bd37a50b983c5e7c90ae93b"));
    assert!(request.ends_with("\r\n\r\n{}"));
}

#[tokio::test]
async fn a_user_id_that_cannot_be_a_path_segment_is_refused_before_sending() {
    let c = client();
    for bad in ["", "a/b", "../events", "x?y", "%2F"] {
        assert!(
            matches!(
                c.terminate_user_connections(bad).await,
                Err(TriggerError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
}
