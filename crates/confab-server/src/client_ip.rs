//! Who the client is, network-wise: the address the login throttle keys on.
//!
//! What it does: parses `CONFAB_TRUSTED_PROXIES` (CIDRs, IPv4 and IPv6) into [`TrustedProxies`],
//! and picks the client address of a request from its TCP peer and, only when that peer is a
//! trusted proxy, from `X-Forwarded-For` (or, when that header is absent, RFC 7239
//! `Forwarded: for=`), read right to left: each trusted hop is skipped and the first untrusted
//! address is the client. When every hop is trusted the leftmost readable one is the client.
//!
//! What it never does: read a forwarding header sent by an untrusted peer (anyone can write
//! one), or let an unreadable entry (`unknown`, an obfuscated `_name`, garbage) stand for an
//! address: the walk stops there, at the last trusted hop.
//!
//! Why `X-Forwarded-For` first: it is what Caddy, nginx and most proxies set or append, so the
//! right end of it is the proxy's own observation. A proxy that passes a client's `Forwarded`
//! header through untouched would otherwise let that client choose its address; the shipped
//! `deploy/Caddyfile` strips it for the same reason.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// One CIDR block, e.g. `10.0.0.0/8`, `::1/128`; a bare address is its own /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR could not be read; the message names the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IP address or CIDR (e.g. 10.0.0.0/8, ::1/128)")]
    Address(String),
    /// The prefix length is not a number within the address family's width.
    #[error("{0:?} has a prefix length out of range (at most 32 for IPv4, 128 for IPv6)")]
    Prefix(String),
}

impl Cidr {
    /// Whether `ip` is inside this block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask_v4(u32::from(ip), self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_v6(u128::from(ip), self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask_v4(bits: u32, prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => bits & (u32::MAX << (32 - u32::from(p.min(32)))),
    }
}

fn mask_v6(bits: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => bits & (u128::MAX << (128 - u32::from(p.min(128)))),
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, CidrError> {
        let text = s.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse::<IpAddr>()
            .map_err(|_| CidrError::Address(text.to_owned()))?
            .to_canonical();
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| CidrError::Prefix(text.to_owned()))?,
        };
        // Stored masked, so `10.1.2.3/8` means `10.0.0.0/8`, as the operator surely meant.
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(mask_v4(u32::from(a), prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(mask_v6(u128::from(a), prefix))),
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose forwarding headers are believed (`CONFAB_TRUSTED_PROXIES`). Empty by
/// default: then the TCP peer is the client, whatever the headers say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trusts exactly these blocks.
    pub fn new(blocks: Vec<Cidr>) -> Self {
        Self(blocks)
    }

    /// Reads a comma-separated list of CIDRs; blank entries are ignored, so `""` trusts none.
    ///
    /// # Errors
    /// The first entry that is not a CIDR or an address.
    pub fn parse(list: &str) -> Result<Self, CidrError> {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address for a request from `peer` with `headers`; see the module doc.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            let Some(ip) = hop else {
                // Unreadable: nobody vouches for what lies left of it.
                return client;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

/// The hops the forwarding headers list, left (farthest) to right (nearest); `None` for an
/// entry that is not an address. `X-Forwarded-For` wins when present (see the module doc).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').map(parse_node).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').map(forwarded_for).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` of one `Forwarded` element (`for=1.2.3.4;proto=https;by=...`); `None` when it
/// has none or it is not an address.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_node(value.trim().trim_matches('"'))
    })
}

/// One node: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`; anything else is `None`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok
            .then(|| inside.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    // `1.2.3.4:80`; an unbracketed IPv6 address parsed above, so one colon means a port.
    let (host, port) = text.rsplit_once(':')?;
    if !is_port(port) {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).expect("valid list")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_its_headers_claim() {
        let proxies = trusted("10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(proxies.client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), &h),
            ip("127.0.0.1"),
            "no trusted proxies: headers are never read"
        );
    }

    #[test]
    fn spoofed_leftmost_entries_are_ignored_behind_a_trusted_proxy() {
        let proxies = trusted("127.0.0.1/32, 10.0.0.0/8");
        // The client wrote "6.6.6.6, 10.9.9.9" itself; the proxy appended what it saw.
        let h = headers(&[(
            "x-forwarded-for",
            "6.6.6.6, 10.9.9.9, 198.51.100.7, 10.0.0.2",
        )]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        let proxies = trusted("10.0.0.0/8,127.0.0.1");
        let h = headers(&[("x-forwarded-for", "10.0.0.5, 10.0.0.2")]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("10.0.0.5"));
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1"),
            "no header: the proxy itself"
        );
    }

    #[test]
    fn several_header_lines_read_as_one_list_in_order() {
        let proxies = trusted("127.0.0.1");
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-for", "192.0.2.2"),
        ]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("192.0.2.2"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_with_quoted_ipv6_and_ports() {
        let proxies = trusted("::1/128, 2001:db8:ffff::/48");
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, For=\"[2001:db8:cafe::17]:4711\";by=x, \
             for=\"[2001:db8:ffff::1]\"",
        )]);
        assert_eq!(proxies.client_ip(ip("::1"), &h), ip("2001:db8:cafe::17"));
    }

    #[test]
    fn x_forwarded_for_wins_over_a_forwarded_header_the_client_may_have_written() {
        let proxies = trusted("127.0.0.1");
        let h = headers(&[
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn address_forms_with_ports_and_brackets_are_understood() {
        for (text, want) in [
            ("192.0.2.1:8080", Some("192.0.2.1")),
            ("[2001:db8::1]:443", Some("2001:db8::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("2001:db8::1", Some("2001:db8::1")),
            (" 192.0.2.1 ", Some("192.0.2.1")),
            ("unknown", None),
            ("_hidden", None),
            ("", None),
            ("192.0.2.1:", None),
            ("192.0.2.1:http", None),
            ("[2001:db8::1]x", None),
            ("[192.0.2.1]", None),
            ("300.1.1.1", None),
            ("example.com:80", None),
        ] {
            assert_eq!(parse_node(text), want.map(ip), "{text:?}");
        }
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        let proxies = trusted("127.0.0.1, 10.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.2")]);
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), &h),
            ip("10.0.0.2"),
            "what lies left of garbage is not believed"
        );
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        let h = headers(&[("x-forwarded-for", ",,,")]);
        assert_eq!(proxies.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_blocks() {
        let proxies = trusted("127.0.0.0/8");
        let h = headers(&[("x-forwarded-for", "192.0.2.9")]);
        assert_eq!(
            proxies.client_ip(ip("::ffff:127.0.0.1"), &h),
            ip("192.0.2.9")
        );
    }

    #[test]
    fn cidr_lists_parse_mask_and_refuse_garbage_by_name() {
        let proxies = trusted(" 10.1.2.3/8 , fd00::/8,, 127.0.0.1");
        assert!(proxies.contains(ip("10.200.0.1")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(!proxies.contains(ip("127.0.0.2")));
        assert_eq!(
            "10.1.2.3/8".parse::<Cidr>().map(|c| c.to_string()),
            Ok("10.0.0.0/8".into())
        );
        assert!(trusted("").is_empty());
        assert!(trusted("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8,localhost"),
            Err(CidrError::Address("localhost".into()))
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/33"),
            Err(CidrError::Prefix("10.0.0.0/33".into()))
        );
        assert_eq!(
            TrustedProxies::parse("::/129"),
            Err(CidrError::Prefix("::/129".into()))
        );
        assert!(TrustedProxies::parse("10.0.0.0/x").is_err());
    }
}
