//! Who the client is (docs/network.md, "client address"): the socket peer, unless the peer is a
//! trusted proxy, in which case its PROXY protocol source or the right-most untrusted
//! `X-Forwarded-For` hop. A header from anyone else is never believed: any client can write one,
//! and the client address feeds ip-filter, rate limits by IP and the logs.
//!
//! Addresses are compared in canonical form: an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what
//! a dual-stack socket reports for an IPv4 peer) is the IPv4 address, so a `10.0.0.0/8` entry
//! covers it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use gatehouse_model::network::{ProxyProtocolMode, TrustedProxy};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;

use crate::proxy_protocol::ProxyHeader;

/// Why `trusted_proxies` could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error(
        "network.trusted_proxies[{index}]: invalid prefix '{prefix}': expected an address or CIDR such as 10.0.0.0/16"
    )]
    InvalidPrefix { index: usize, prefix: String },
    /// The same prefix listed twice with different modes: which one applies would depend on the
    /// order of the list, so it is refused rather than guessed.
    #[error(
        "network.trusted_proxies[{index}]: {prefix} is already listed with proxy_protocol {previous}, here with {mode}"
    )]
    ConflictingMode {
        index: usize,
        prefix: IpNet,
        previous: &'static str,
        mode: &'static str,
    },
}

/// `trusted_proxies`, compiled to longest-prefix-match tries: the peer's entry is the most
/// specific prefix that covers it, so a `/32` exception inside a trusted `/24` takes effect.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    v4: PrefixMap<Ipv4Net, ProxyProtocolMode>,
    v6: PrefixMap<Ipv6Net, ProxyProtocolMode>,
    len: usize,
}

impl TrustedProxies {
    /// Compiles the list. Prefixes are read as the model's validation reads them (an address is
    /// a /32 or /128; host bits are cleared); IPv4-mapped IPv6 prefixes (`::ffff:10.0.0.0/104`)
    /// become the IPv4 prefix, since peers are looked up in canonical form.
    pub fn compile(list: &[TrustedProxy]) -> Result<TrustedProxies, ClientError> {
        let mut out = TrustedProxies::default();
        for (index, entry) in list.iter().enumerate() {
            let net = parse_prefix(entry.prefix()).ok_or_else(|| ClientError::InvalidPrefix {
                index,
                prefix: entry.prefix().to_string(),
            })?;
            let mode = entry.proxy_protocol();
            let previous = match canonical_net(net) {
                IpNet::V4(n) => out.v4.insert(n, mode),
                IpNet::V6(n) => out.v6.insert(n, mode),
            };
            match previous {
                None => out.len += 1,
                Some(previous) if previous == mode => {}
                Some(previous) => {
                    return Err(ClientError::ConflictingMode {
                        index,
                        prefix: canonical_net(net),
                        previous: mode_name(previous),
                        mode: mode_name(mode),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The PROXY protocol mode for connections from `peer`, or `None` if the peer is not a
    /// trusted proxy at all (then neither a PROXY header nor `X-Forwarded-For` is believed).
    pub fn mode_for(&self, peer: IpAddr) -> Option<ProxyProtocolMode> {
        match peer.to_canonical() {
            IpAddr::V4(ip) => self.v4.get_lpm(&Ipv4Net::from(ip)).map(|(_, m)| *m),
            IpAddr::V6(ip) => self.v6.get_lpm(&Ipv6Net::from(ip)).map(|(_, m)| *m),
        }
    }

    /// Whether `peer` is covered by any entry.
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        self.mode_for(peer).is_some()
    }

    /// The number of distinct prefixes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The client address of a request, given all its `X-Forwarded-For` values joined by `,`.
///
/// If the peer is not trusted, the peer. Otherwise the list is walked from the right (each
/// trusted proxy appends the address it received the request from), skipping hops that are
/// themselves trusted proxies, and the first untrusted hop is the client: everything left of
/// it was written by that client and proves nothing. A hop that does not parse (`unknown`, an
/// obfuscated RFC 7239 name, garbage) stops the walk at the last good address, since nothing
/// further left can be attributed. If every hop is trusted, the left-most one. Hops may carry a
/// port (`1.2.3.4:5678`, `[2001:db8::1]:443`) or brackets (`[2001:db8::1]`); empty list
/// elements are skipped, as HTTP's list syntax allows.
pub fn client_from_forwarded_for(
    peer: IpAddr,
    xff: Option<&str>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.is_trusted(peer) {
        return peer;
    }
    let Some(xff) = xff else {
        return peer;
    };
    let mut last_good = peer;
    for hop in xff.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
        let Some(ip) = parse_hop(hop) else {
            return last_good;
        };
        if !trusted.is_trusted(ip) {
            return ip;
        }
        last_good = ip;
    }
    last_good
}

/// The client address from a PROXY protocol header: its source when the peer is a trusted
/// proxy and the header names one (not LOCAL, v1 UNKNOWN or v2 UNSPEC/UNIX), else the peer.
pub fn client_from_proxy_header(
    peer: IpAddr,
    header: Option<&ProxyHeader>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.is_trusted(peer) {
        return peer;
    }
    match header {
        Some(h) if !h.local => h.source.map_or(peer, |s| s.ip().to_canonical()),
        _ => peer,
    }
}

/// One `X-Forwarded-For` hop: `ip`, `ip:port`, `[v6]` or `[v6]:port`, canonicalised.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = if let Ok(ip) = hop.parse::<IpAddr>() {
        ip
    } else if let Ok(sa) = hop.parse::<SocketAddr>() {
        sa.ip()
    } else {
        let inner = hop.strip_prefix('[')?.strip_suffix(']')?;
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

/// As the model's validation: `10.0.0.0/16` (host bits cleared) or a bare address.
fn parse_prefix(s: &str) -> Option<IpNet> {
    let t = s.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Some(net.trunc());
    }
    t.parse::<IpAddr>().ok().map(IpNet::from)
}

/// An IPv4-mapped IPv6 prefix (within `::ffff:0:0/96`) as the IPv4 prefix it covers.
fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let Some(v4) = n.network().to_ipv4_mapped()
        && let Ok(v4net) = Ipv4Net::new(v4, n.prefix_len() - 96)
    {
        return IpNet::V4(v4net);
    }
    net
}

fn mode_name(mode: ProxyProtocolMode) -> &'static str {
    match mode {
        ProxyProtocolMode::Required => "required",
        ProxyProtocolMode::Optional => "optional",
        ProxyProtocolMode::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(prefix: &str, mode: ProxyProtocolMode) -> TrustedProxy {
        TrustedProxy::Full {
            prefix: prefix.to_string(),
            proxy_protocol: mode,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies::compile(&[
            full("10.10.1.0/24", ProxyProtocolMode::Optional),
            full("10.10.1.250/32", ProxyProtocolMode::Required),
            TrustedProxy::Prefix("10.10.1.251".to_string()),
            TrustedProxy::Prefix("2001:db8:1::/48".to_string()),
        ])
        .unwrap()
    }

    #[test]
    fn most_specific_prefix_wins() {
        let t = trusted();
        assert_eq!(t.len(), 4);
        assert_eq!(
            t.mode_for(ip("10.10.1.250")),
            Some(ProxyProtocolMode::Required)
        );
        assert_eq!(t.mode_for(ip("10.10.1.251")), Some(ProxyProtocolMode::None));
        assert_eq!(
            t.mode_for(ip("10.10.1.9")),
            Some(ProxyProtocolMode::Optional)
        );
        assert_eq!(t.mode_for(ip("10.10.2.9")), None);
        assert_eq!(
            t.mode_for(ip("2001:db8:1::5")),
            Some(ProxyProtocolMode::None)
        );
        assert!(!t.is_trusted(ip("2001:db8:2::5")));
    }

    #[test]
    fn ipv4_mapped_peers_are_ipv4() {
        let t = trusted();
        assert_eq!(
            t.mode_for(ip("::ffff:10.10.1.250")),
            Some(ProxyProtocolMode::Required)
        );
        let mapped_prefix =
            TrustedProxies::compile(&[TrustedProxy::Prefix("::ffff:192.0.2.0/120".to_string())])
                .unwrap();
        assert!(mapped_prefix.is_trusted(ip("192.0.2.7")));
        assert!(mapped_prefix.is_trusted(ip("::ffff:192.0.2.7")));
        assert!(!mapped_prefix.is_trusted(ip("192.0.3.7")));
    }

    #[test]
    fn compile_errors() {
        let bad = TrustedProxies::compile(&[
            TrustedProxy::Prefix("10.0.0.0/8".to_string()),
            TrustedProxy::Prefix("10.0.0.300".to_string()),
        ]);
        assert_eq!(
            bad.unwrap_err(),
            ClientError::InvalidPrefix {
                index: 1,
                prefix: "10.0.0.300".to_string()
            }
        );
        let conflict = TrustedProxies::compile(&[
            full("10.0.0.0/8", ProxyProtocolMode::Required),
            full("10.1.2.3/8", ProxyProtocolMode::Optional),
        ])
        .unwrap_err();
        assert!(
            conflict
                .to_string()
                .contains("10.0.0.0/8 is already listed with proxy_protocol required"),
            "{conflict}"
        );
        // The same prefix twice with the same mode is harmless.
        let dup = TrustedProxies::compile(&[
            TrustedProxy::Prefix("10.0.0.1".to_string()),
            TrustedProxy::Prefix("10.0.0.1/32".to_string()),
        ])
        .unwrap();
        assert_eq!(dup.len(), 1);
        assert!(TrustedProxies::compile(&[]).unwrap().is_empty());
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_says() {
        let t = trusted();
        assert_eq!(
            client_from_forwarded_for(ip("203.0.113.7"), Some("1.2.3.4"), &t),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_from_forwarded_for(ip("::ffff:203.0.113.7"), Some("1.2.3.4"), &t),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn rightmost_untrusted_hop() {
        let t = trusted();
        let peer = ip("10.10.1.250");
        assert_eq!(client_from_forwarded_for(peer, None, &t), peer);
        assert_eq!(client_from_forwarded_for(peer, Some(""), &t), peer);
        assert_eq!(
            client_from_forwarded_for(peer, Some("198.51.100.9"), &t),
            ip("198.51.100.9")
        );
        // The client forged the left part; the right-most untrusted hop is the one our proxy saw.
        assert_eq!(
            client_from_forwarded_for(
                peer,
                Some("6.6.6.6, 198.51.100.9, 10.10.1.251, 10.10.1.7"),
                &t
            ),
            ip("198.51.100.9")
        );
        // Several header lines joined by ','.
        assert_eq!(
            client_from_forwarded_for(peer, Some("6.6.6.6,198.51.100.9,10.10.1.251"), &t),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn hop_forms() {
        let t = trusted();
        let peer = ip("10.10.1.251");
        for (xff, want) in [
            ("198.51.100.9:50000", "198.51.100.9"),
            ("[2001:db8:9::1]:443", "2001:db8:9::1"),
            ("[2001:db8:9::1]", "2001:db8:9::1"),
            ("2001:db8:9::1", "2001:db8:9::1"),
            ("::ffff:198.51.100.9", "198.51.100.9"),
            (" 198.51.100.9 , , 10.10.1.3 ,", "198.51.100.9"),
        ] {
            assert_eq!(
                client_from_forwarded_for(peer, Some(xff), &t),
                ip(want),
                "{xff}"
            );
        }
    }

    #[test]
    fn malformed_hop_stops_the_walk() {
        let t = trusted();
        let peer = ip("10.10.1.250");
        // Right-most hop malformed: the peer is the last good address.
        assert_eq!(
            client_from_forwarded_for(peer, Some("198.51.100.9, unknown"), &t),
            peer
        );
        // Malformed after trusted hops: the last trusted hop walked.
        assert_eq!(
            client_from_forwarded_for(peer, Some("198.51.100.9, _hidden, 10.10.1.3"), &t),
            ip("10.10.1.3")
        );
        assert_eq!(
            client_from_forwarded_for(peer, Some("1.2.3.4:99999"), &t),
            peer
        );
        assert_eq!(
            client_from_forwarded_for(peer, Some("[10.0.0.1]"), &t),
            peer
        );
    }

    #[test]
    fn all_hops_trusted_gives_the_leftmost() {
        let t = trusted();
        assert_eq!(
            client_from_forwarded_for(ip("10.10.1.250"), Some("10.10.1.3, 10.10.1.4"), &t),
            ip("10.10.1.3")
        );
    }

    #[test]
    fn proxy_header_source_only_from_trusted_peers() {
        let t = trusted();
        let h = ProxyHeader {
            version: 2,
            local: false,
            source: Some("[::ffff:198.51.100.9]:5000".parse().unwrap()),
            destination: None,
            link_id: None,
            tlvs: Vec::new(),
        };
        assert_eq!(
            client_from_proxy_header(ip("10.10.1.250"), Some(&h), &t),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_from_proxy_header(ip("203.0.113.1"), Some(&h), &t),
            ip("203.0.113.1")
        );
        let local = ProxyHeader {
            local: true,
            source: None,
            ..h.clone()
        };
        assert_eq!(
            client_from_proxy_header(ip("10.10.1.250"), Some(&local), &t),
            ip("10.10.1.250")
        );
        assert_eq!(
            client_from_proxy_header(ip("10.10.1.250"), None, &t),
            ip("10.10.1.250")
        );
    }
}
