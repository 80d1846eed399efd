//! The TLS policy against real servers on loopback: the real backend (and a real Sockudo)
//! behind a TLS-terminating proxy whose certificate a throwaway CA signed. This test binary
//! makes that CA the system's trust store through `SSL_CERT_FILE` (what the platform
//! verifier's Linux root loader, rustls-native-certs 0.8, reads instead of the system's
//! files), set once before any client here reads the roots; being its own binary, the variable
//! never reaches the other tests.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use confab_core::tls::{self, PolicyError};
use confab_core::{ApiError, CoreError};
use confab_model::ipc::{IpcError, SignInRequest, UiEvent};
use confab_server::config::PusherSettings;
use confab_server::{app, auth, store, AppState, Db};
use confab_testkit::Sockudo;
use pusher_channels::auth::HttpAuthorizer;
use pusher_channels::client::Client as PusherClient;
use pusher_channels::proto::{Config, Endpoint, State};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::PrivatePkcs8KeyDer;
use support::{Backend, Client, WAIT};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

/// Two certificate authorities: one installed as the system's, one nobody installed.
struct Pki {
    trusted: CertifiedIssuer<'static, KeyPair>,
    untrusted: CertifiedIssuer<'static, KeyPair>,
    _dir: tempfile::TempDir,
}

/// The CAs, the trusted one installed as the system's roots. Every test calls this first, so
/// the variable is set before anything in this process reads it.
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let trusted = ca("Confab test CA (installed)");
        let untrusted = ca("Confab test CA (not installed)");
        let dir = tempfile::tempdir().expect("a temp dir");
        let roots = dir.path().join("system-roots.pem");
        std::fs::write(&roots, trusted.pem()).expect("the roots file is written");
        std::env::set_var("SSL_CERT_FILE", &roots);
        std::env::remove_var("SSL_CERT_DIR");
        Pki {
            trusted,
            untrusted,
            _dir: dir,
        }
    })
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = KeyPair::generate().expect("a CA key");
    CertifiedIssuer::self_signed(params, key).expect("a CA certificate")
}

/// A TLS-terminating proxy on a random loopback port: presents a `localhost`/`127.0.0.1`
/// certificate signed by `issuer` and forwards the plain bytes to `upstream`.
async fn tls_proxy(upstream: u16, issuer: &CertifiedIssuer<'static, KeyPair>) -> Result<u16> {
    Ok(tls_proxy_reporting(upstream, issuer).await?.0)
}

/// [`tls_proxy`], also telling for each handshake whether it completed (`false`: the client
/// refused the certificate), so a test can await the refusal instead of waiting a while.
async fn tls_proxy_reporting(
    upstream: u16,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> Result<(u16, mpsc::UnboundedReceiver<bool>)> {
    let key = KeyPair::generate()?;
    let cert = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?
        .signed_by(&key, issuer)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let (report, handshakes) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let report = report.clone();
            tokio::spawn(async move {
                // A refused handshake ends here: the client saw the certificate and said no.
                let accepted = acceptor.accept(tcp).await;
                let _ = report.send(accepted.is_ok());
                let Ok(mut tls) = accepted else {
                    return;
                };
                if let Ok(mut plain) = TcpStream::connect(("127.0.0.1", upstream)).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    Ok((port, handshakes))
}

fn sign_in_as(b: &Backend, server_url: String) -> SignInRequest {
    SignInRequest {
        server_url,
        email: b.users[0].user.email.clone(),
        password: b.users[0].password.clone(),
        session_only: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_whose_certificate_the_system_trusts_signs_in_over_https() -> Result<()> {
    let pki = pki();
    support::init_tracing();
    let b = Backend::start().await?;
    let port = tls_proxy(b.port, &pki.trusted).await?;
    let dir = tempfile::tempdir()?;
    let mut c = Client::open(dir.path().join("ada"), Arc::default()).await?;

    let info = c
        .core
        .sign_in(sign_in_as(&b, format!("https://localhost:{port}/")))
        .await?;

    assert_eq!(info.server_url, format!("https://localhost:{port}"));
    // The realtime host of this backend is Sockudo on 127.0.0.1 without TLS: this computer.
    c.connected().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_the_system_does_not_trust_is_refused_with_a_sentence() -> Result<()> {
    let pki = pki();
    let b = Backend::start().await?;
    let port = tls_proxy(b.port, &pki.untrusted).await?;
    let dir = tempfile::tempdir()?;
    let c = Client::open(dir.path().join("ada"), Arc::default()).await?;

    let refused = c
        .core
        .sign_in(sign_in_as(&b, format!("https://127.0.0.1:{port}")))
        .await;

    let Err(e @ CoreError::Api(ApiError::Untrusted(_))) = refused else {
        panic!("expected an untrusted certificate, got {refused:?}");
    };
    assert_eq!(IpcError::from(e).message, tls::UNTRUSTED);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_to_another_computer_is_refused_with_the_sentence_before_anything_is_sent(
) -> Result<()> {
    pki();
    let b = Backend::start().await?;
    let dir = tempfile::tempdir()?;
    let c = Client::open(dir.path().join("ada"), Arc::default()).await?;

    for (typed, host) in [
        ("http://10.1.2.3:8080", "10.1.2.3"),
        ("http://localhost.evil.example", "localhost.evil.example"),
    ] {
        let refused = c.core.sign_in(sign_in_as(&b, typed.to_owned())).await;
        // Insecure, not Network: the policy answered, no connection was tried.
        let Err(e @ CoreError::Api(ApiError::Insecure(_))) = refused else {
            panic!("{typed}: expected the policy's refusal, got {refused:?}");
        };
        let shown = IpcError::from(e).message;
        assert_eq!(shown, PolicyError::Unencrypted(host.into()).to_string());
        assert!(shown.contains("only over https://"), "{shown}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_this_computer_still_signs_in_and_connects() -> Result<()> {
    pki();
    let b = Backend::start().await?;
    let dir = tempfile::tempdir()?;

    let mut c = Client::sign_in(&b, 0, &dir).await?;

    assert!(b.base.starts_with("http://127.0.0.1:"));
    c.connected().await;
    Ok(())
}

/// A backend whose `/api/config` names a realtime host on another computer without TLS.
async fn backend_with_plain_realtime_elsewhere(dir: &tempfile::TempDir) -> Result<(u16, String)> {
    let settings = PusherSettings {
        app_id: "1".into(),
        key: "key".into(),
        secret: "secret".into(),
        cluster: None,
        host: Some("10.1.2.3".into()),
        port: Some(6001),
        use_tls: false,
    };
    let db = Db::open(dir.path().join("server.db"))?;
    let password = "pw-Ada".to_owned();
    let hash = auth::hash_password(&password)?;
    db.write_blocking(|c| store::users::create_user(c, "ada@example.test", "Ada", &hash))?;
    let state = AppState::new(db, &settings)?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let router = app(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok((port, password))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realtime_host_elsewhere_without_tls_ends_the_session_with_a_sentence() -> Result<()> {
    pki();
    let server_dir = tempfile::tempdir()?;
    let (port, password) = backend_with_plain_realtime_elsewhere(&server_dir).await?;
    let dir = tempfile::tempdir()?;
    let mut c = Client::open(dir.path().join("ada"), Arc::default()).await?;

    c.core
        .sign_in(SignInRequest {
            server_url: format!("http://127.0.0.1:{port}"),
            email: "ada@example.test".into(),
            password,
            session_only: false,
        })
        .await?;

    let ended = c
        .expect("the session ends", |e| {
            matches!(e, UiEvent::SessionEnded { .. })
        })
        .await;
    let UiEvent::SessionEnded { reason } = ended else {
        unreachable!()
    };
    assert_eq!(
        reason,
        PolicyError::RealtimeUnencrypted("10.1.2.3".into()).to_string()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_socket_trusts_the_certificate_the_system_trusts() -> Result<()> {
    let pki = pki();
    let sockudo = Sockudo::start().await?;
    let port = tls_proxy(sockudo.port(), &pki.trusted).await?;
    let endpoint = Endpoint::Host {
        host: "localhost".into(),
        port,
        tls: true,
    };

    let (client, _events) = PusherClient::start_with_tls(
        Config::new(sockudo.key(), endpoint),
        // No private channel here: the authorizer is never asked.
        HttpAuthorizer::new("https://localhost:1/api/pusher/auth"),
        Some(tls::client_config()?),
    );

    let mut state = client.state_watch();
    let reached = tokio::time::timeout(WAIT, state.wait_for(|s| *s == State::Connected)).await;
    assert!(
        matches!(reached, Ok(Ok(_))),
        "wss through the system-trusted CA did not connect: {:?}",
        client.state()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_socket_refuses_a_certificate_the_system_does_not_trust() -> Result<()> {
    let pki = pki();
    let sockudo = Sockudo::start().await?;
    let (port, mut handshakes) = tls_proxy_reporting(sockudo.port(), &pki.untrusted).await?;
    let endpoint = Endpoint::Host {
        host: "localhost".into(),
        port,
        tls: true,
    };

    let (client, _events) = PusherClient::start_with_tls(
        Config::new(sockudo.key(), endpoint),
        HttpAuthorizer::new("https://localhost:1/api/pusher/auth"),
        Some(tls::client_config()?),
    );

    let first = tokio::time::timeout(WAIT, handshakes.recv()).await?;
    assert_eq!(
        first,
        Some(false),
        "the client completed a handshake it should refuse"
    );
    assert_ne!(client.state(), State::Connected);
    Ok(())
}
