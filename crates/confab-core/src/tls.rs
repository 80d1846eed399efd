//! The transport policy: which addresses Confab may reach without encryption (this computer
//! only: exactly `localhost`, 127.0.0.0/8 and `::1`, decided by parsing, never by prefix), for
//! the REST server typed on the sign-in form and for the realtime host `/api/config` names; and
//! the one TLS client configuration, verified by the operating system's trust store, that REST
//! and the realtime socket share. It never opens a connection and never trusts a certificate on
//! its own authority (no bundled roots, no switch that accepts any certificate).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use confab_model::api::PusherClientConfig;
use pusher_channels::proto::Endpoint;
use url::{Host, Url};

/// An address the policy refuses. The message is the sentence the sign-in form (or the
/// session-ended notice) shows; nothing was sent to the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Empty, or not an address at all. The user corrects the field.
    #[error("“{0}” is not a server address. Enter one like https://chat.example.com.")]
    Malformed(String),
    /// A scheme other than `http`/`https` (`ftp://`, `ws://`, ...). The user corrects it.
    #[error(
        "Confab reaches its server over https:// only (not {0}://). Enter an https:// address."
    )]
    Scheme(String),
    /// `http://` to another computer: the password and token would travel in clear. The user
    /// enters the `https://` address.
    #[error(
        "Confab connects to {0} only over https://, so that your password and messages are \
         encrypted. Enter the https:// address (http:// is only for a server on this computer: \
         localhost, 127.0.0.1 or ::1)."
    )]
    Unencrypted(String),
    /// The backend's `/api/config` names a realtime host on another computer with
    /// `useTLS: false`. The server's administrator turns TLS on; the user cannot fix it.
    #[error(
        "Your team's server offers live updates from {0} without encryption, and Confab connects \
         without encryption only to this computer. Ask your server's administrator to turn on \
         TLS for the realtime service (useTLS)."
    )]
    RealtimeUnencrypted(String),
}

/// Whether `host` is this computer: exactly `localhost` (any case), an address in 127.0.0.0/8,
/// or `::1`. `localhost.example`, `127.0.0.1.example` and `::ffff:127.0.0.1` are not.
pub fn is_loopback<S: AsRef<str>>(host: &Host<S>) -> bool {
    match host {
        Host::Domain(d) => d.as_ref().eq_ignore_ascii_case("localhost"),
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => *a == Ipv6Addr::LOCALHOST,
    }
}

/// The server address as the core uses it: trimmed, `https://` added when no scheme is given
/// (`http://` when the host is this computer, so a local demo needs no certificate), without
/// a trailing slash; `http://` accepted only for this computer.
///
/// # Errors
/// A [`PolicyError`] whose message is the sentence for the sign-in form.
pub fn server_url(input: &str) -> Result<String, PolicyError> {
    let typed = input.trim().trim_end_matches('/');
    if typed.is_empty() || typed.contains(char::is_whitespace) {
        return Err(PolicyError::Malformed(typed.to_owned()));
    }
    let url = if typed.contains("://") {
        parse(typed, typed)?
    } else {
        // No scheme: decide by the host the https reading parses to, the host that would be
        // dialled, so `localhost.evil.example` stays https.
        let secure = parse(&format!("https://{typed}"), typed)?;
        if secure.host().is_some_and(|h| is_loopback(&h)) {
            parse(&format!("http://{typed}"), typed)?
        } else {
            secure
        }
    };
    let host = url
        .host()
        .ok_or_else(|| PolicyError::Malformed(typed.to_owned()))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err(PolicyError::Unencrypted(host.to_string())),
        other => return Err(PolicyError::Scheme(other.to_owned())),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn parse(s: &str, typed: &str) -> Result<Url, PolicyError> {
    Url::parse(s).map_err(|_| PolicyError::Malformed(typed.to_owned()))
}

/// Where the realtime socket goes, from the backend's `/api/config`: a hosted Pusher cluster
/// (always `wss`), or a self-hosted host that must use TLS unless it is this computer.
///
/// # Errors
/// [`PolicyError::RealtimeUnencrypted`] for `useTLS: false` to another computer,
/// [`PolicyError::Malformed`] for a host that does not parse.
pub fn realtime_endpoint(p: &PusherClientConfig) -> Result<Endpoint, PolicyError> {
    let Some(raw) = p.host.as_deref() else {
        let cluster = p.cluster.clone().unwrap_or_else(|| "mt1".into());
        return Ok(Endpoint::Cluster(cluster));
    };
    let raw = raw.trim();
    // A bare IPv6 address is what servers usually write; `Host::parse` wants it bracketed.
    let host = match raw.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => Host::Ipv6(a),
        Ok(IpAddr::V4(a)) => Host::Ipv4(a),
        Err(_) => Host::parse(raw).map_err(|_| PolicyError::Malformed(raw.to_owned()))?,
    };
    if !p.use_tls && !is_loopback(&host) {
        return Err(PolicyError::RealtimeUnencrypted(host.to_string()));
    }
    Ok(Endpoint::Host {
        // `Host`'s text brackets IPv6, as a URL needs it.
        host: host.to_string(),
        port: p.port.unwrap_or(if p.use_tls { 443 } else { 80 }),
        tls: p.use_tls,
    })
}

/// The TLS client configuration for REST and the realtime socket: certificates verified by the
/// operating system (its trust store and policies; on Linux the native roots, which honour
/// `SSL_CERT_FILE`/`SSL_CERT_DIR`), read afresh for each session so a newly installed company
/// CA counts at the next sign-in.
///
/// # Errors
/// The system's roots could not be read (none installed): the caller logs it and falls back to
/// its built-in roots, so the app still reaches servers with public certificates.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        // "dangerous" is rustls' name for any verifier but its own: this one is the OS's.
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// What the user reads when the server's certificate is refused: the connection could not be
/// verified, what a company CA needs, and that nothing was sent.
pub const UNTRUSTED: &str =
    "This computer does not trust the server's certificate, so Confab sent \
     nothing to it. If your team's server uses your company's own certificate authority, install \
     that certificate in the system's certificate store; otherwise check the address.";

/// Whether `error` (a reqwest or WebSocket error) failed because the server's certificate was
/// refused.
pub fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    certificate_error(error).is_some()
}

/// The refused certificate's reason (`invalid peer certificate: UnknownIssuer`), for the log.
pub fn certificate_detail(error: &(dyn std::error::Error + 'static)) -> String {
    certificate_error(error).map_or_else(|| "certificate refused".into(), ToString::to_string)
}

/// The rustls certificate error in `error`'s source chain. An `io::Error` (the TLS stream's,
/// sometimes wrapped in another) hides its payload from `source()`, so it is opened with
/// `get_ref`.
fn certificate_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::InvalidCertRevocationList(_)
            )
            .then_some(tls);
        }
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(payload) => Some(payload as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(input: &str) -> PolicyError {
        match server_url(input) {
            Err(e) => e,
            Ok(u) => panic!("{input} was accepted as {u}"),
        }
    }

    #[test]
    fn a_typed_host_gets_https_and_loses_its_trailing_slash() {
        assert_eq!(
            server_url(" chat.example.com/ ").ok().as_deref(),
            Some("https://chat.example.com")
        );
        assert_eq!(
            server_url("https://chat.example.com:8443/").ok().as_deref(),
            Some("https://chat.example.com:8443")
        );
    }

    #[test]
    fn a_bare_loopback_host_gets_http_and_a_lookalike_gets_https() {
        for (typed, want) in [
            ("localhost:8080", "http://localhost:8080"),
            ("LOCALHOST:8080", "http://localhost:8080"),
            ("127.0.0.1:9", "http://127.0.0.1:9"),
            ("127.8.9.10", "http://127.8.9.10"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("localhost.evil.example", "https://localhost.evil.example"),
            ("127.0.0.1.evil.example", "https://127.0.0.1.evil.example"),
        ] {
            assert_eq!(server_url(typed).ok().as_deref(), Some(want), "{typed}");
        }
    }

    #[test]
    fn http_is_accepted_for_exactly_this_computer() {
        for ok in [
            "http://localhost:8080",
            "http://127.0.0.1:8080/",
            "http://127.255.255.254",
            "http://[::1]:3000",
        ] {
            assert!(server_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn http_to_any_other_computer_is_refused_with_the_sentence() {
        for (typed, host) in [
            ("http://10.1.2.3", "10.1.2.3"),
            ("http://localhost.evil.example", "localhost.evil.example"),
            ("http://127.0.0.1.evil.example", "127.0.0.1.evil.example"),
            ("http://chat.example.com:8080/", "chat.example.com"),
            ("http://[::2]", "[::2]"),
            ("http://[::ffff:127.0.0.1]", "[::ffff:7f00:1]"),
            ("http://128.0.0.1", "128.0.0.1"),
        ] {
            let e = refused(typed);
            assert_eq!(e, PolicyError::Unencrypted(host.into()), "{typed}");
            assert!(e.to_string().contains("only over https://"), "{e}");
        }
    }

    #[test]
    fn other_schemes_and_non_addresses_are_refused() {
        assert!(matches!(
            refused("ftp://chat.example.com"),
            PolicyError::Scheme(_)
        ));
        assert!(matches!(
            refused("ws://localhost:1"),
            PolicyError::Scheme(_)
        ));
        assert!(matches!(refused("   "), PolicyError::Malformed(_)));
        assert!(matches!(refused("my server"), PolicyError::Malformed(_)));
        assert!(matches!(refused("https://:443"), PolicyError::Malformed(_)));
    }

    fn realtime(host: Option<&str>, use_tls: bool) -> Result<Endpoint, PolicyError> {
        realtime_endpoint(&PusherClientConfig {
            key: "k".into(),
            cluster: None,
            host: host.map(str::to_owned),
            port: Some(6001),
            use_tls,
        })
    }

    #[test]
    fn an_unencrypted_realtime_host_is_refused_unless_it_is_this_computer() {
        for local in ["127.0.0.1", "localhost", "::1", "[::1]", "127.3.2.1"] {
            assert!(realtime(Some(local), false).is_ok(), "{local}");
        }
        for remote in [
            "10.1.2.3",
            "localhost.evil.example",
            "ws.example.com",
            "::2",
        ] {
            let e = realtime(Some(remote), false).err();
            assert!(
                matches!(e, Some(PolicyError::RealtimeUnencrypted(_))),
                "{remote}: {e:?}"
            );
        }
        assert_eq!(
            realtime(Some("ws.example.com"), true),
            Ok(Endpoint::Host {
                host: "ws.example.com".into(),
                port: 6001,
                tls: true
            })
        );
    }

    #[test]
    fn a_bare_ipv6_realtime_host_is_bracketed_for_the_url() {
        assert_eq!(
            realtime(Some("::1"), false),
            Ok(Endpoint::Host {
                host: "[::1]".into(),
                port: 6001,
                tls: false
            })
        );
    }

    #[test]
    fn a_hosted_cluster_is_always_encrypted_and_accepted() {
        let p = PusherClientConfig {
            key: "k".into(),
            cluster: Some("eu".into()),
            host: None,
            port: None,
            use_tls: false,
        };
        assert_eq!(realtime_endpoint(&p), Ok(Endpoint::Cluster("eu".into())));
    }

    #[test]
    fn the_system_trust_store_yields_a_client_configuration() {
        // The build machine has system roots; where it has none this says so plainly.
        assert!(client_config().is_ok());
    }
}
