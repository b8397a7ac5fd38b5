//! Sets of IP prefixes, the building block of service tags and NSG rules.
//!
//! A set keeps one prefix trie per address family so that membership costs one walk down a trie
//! (at most 32 or 128 levels) however many prefixes it holds: an NSG side may list 4,000
//! prefixes and a custom tag many more, and the inbound decision runs before every connection.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4
//! peer) are looked up as IPv4: otherwise a rule written `10.0.0.0/8` would silently miss every
//! client of a `[::]` listener.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// A prefix (or bare address) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// Neither `a.b.c.d[/len]` nor an IPv6 address with an optional length.
    #[error("bad prefix '{0}': expected an IP address or CIDR prefix (e.g. 10.0.0.0/16)")]
    Invalid(String),
}

/// Reads a CIDR prefix, or a bare address as a /32 (IPv4) or /128 (IPv6), as Azure accepts both
/// in NSG rules. Surrounding whitespace is ignored (YAML lists are often written `a, b`).
///
/// Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`): the prefix is what the rule matches,
/// and validation, not the engine, is the place to warn about a sloppy prefix. An IPv4-mapped
/// IPv6 prefix (`::ffff:10.0.0.0/104`) becomes the IPv4 prefix it denotes, so that it matches the
/// same (canonical) addresses.
pub fn parse_prefix(s: &str) -> Result<IpNet, PrefixError> {
    // One parser for the whole project: the model's, which validation uses too.
    gatehouse_model::network::parse_prefix(s).map_err(|_| PrefixError::Invalid(s.to_string()))
}

/// The address as NSG rules see it: an IPv4-mapped IPv6 address becomes the IPv4 address.
///
/// Only the mapped form (`::ffff:0:0/96`) is converted; the deprecated IPv4-compatible form
/// (`::a.b.c.d`) and NAT64 are genuinely different addresses.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A set of IPv4 and IPv6 prefixes with trie-backed membership.
///
/// Overlapping prefixes are kept as given (a set of `10.0.0.0/8` and `10.1.0.0/16` has two
/// members): the set answers "is this address covered", it is not an aggregated range list.
///
/// The tries sit behind an `Arc`: a set is one pointer wide and cloning it is cheap (a tag such
/// as `VirtualNetwork` is shared by every rule naming it and by the default rules), while
/// `insert` on a shared set copies it first, so a clone never changes under its holder.
#[derive(Clone, Default)]
pub struct PrefixSet {
    tries: Arc<Tries>,
}

#[derive(Clone, Default)]
struct Tries {
    v4: prefix_trie::PrefixSet<Ipv4Net>,
    v6: prefix_trie::PrefixSet<Ipv6Net>,
}

impl PrefixSet {
    /// An empty set (matches nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a prefix (host bits cleared, IPv4-mapped IPv6 turned into IPv4). Returns whether it
    /// was new.
    pub fn insert(&mut self, net: IpNet) -> bool {
        let tries = Arc::make_mut(&mut self.tries);
        match gatehouse_model::network::canonical_prefix(net.trunc()) {
            IpNet::V4(n) => tries.v4.insert(n),
            IpNet::V6(n) => tries.v6.insert(n),
        }
    }

    /// Adds every prefix of `other`.
    pub fn extend(&mut self, other: &PrefixSet) {
        for n in other.iter() {
            self.insert(n);
        }
    }

    /// A set from texts such as `["10.0.0.0/16", "192.168.1.7"]`; the first bad one is the error.
    pub fn from_strs<S: AsRef<str>>(items: &[S]) -> Result<Self, PrefixError> {
        let mut set = Self::new();
        for item in items {
            set.insert(parse_prefix(item.as_ref())?);
        }
        Ok(set)
    }

    /// Same as [`parse_prefix`], here so callers holding the type need no second import.
    pub fn parse(s: &str) -> Result<IpNet, PrefixError> {
        parse_prefix(s)
    }

    /// Whether some member covers `ip` (looked up in its [`canonical`] form).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match canonical(ip) {
            IpAddr::V4(a) => self.tries.v4.is_covered(&Ipv4Net::from(a)),
            IpAddr::V6(a) => self.tries.v6.is_covered(&Ipv6Net::from(a)),
        }
    }

    /// Whether a single member covers the whole of `net`.
    pub fn covers(&self, net: IpNet) -> bool {
        match gatehouse_model::network::canonical_prefix(net.trunc()) {
            IpNet::V4(n) => self.tries.v4.is_covered(&n),
            IpNet::V6(n) => self.tries.v6.is_covered(&n),
        }
    }

    /// No prefix at all.
    pub fn is_empty(&self) -> bool {
        self.tries.v4.is_empty() && self.tries.v6.is_empty()
    }

    /// Number of prefixes (both families).
    pub fn len(&self) -> usize {
        self.tries.v4.len() + self.tries.v6.len()
    }

    /// The prefixes, IPv4 first, each family in trie (address, then length) order.
    pub fn iter(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.tries
            .v4
            .iter()
            .map(IpNet::V4)
            .chain(self.tries.v6.iter().map(IpNet::V6))
    }

    /// The IPv4 trie, for engines that index on it.
    pub fn ipv4(&self) -> &prefix_trie::PrefixSet<Ipv4Net> {
        &self.tries.v4
    }

    /// The IPv6 trie, for engines that index on it.
    pub fn ipv6(&self) -> &prefix_trie::PrefixSet<Ipv6Net> {
        &self.tries.v6
    }
}

impl FromIterator<IpNet> for PrefixSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        let mut set = Self::new();
        for n in iter {
            set.insert(n);
        }
        set
    }
}

impl PartialEq for PrefixSet {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.tries, &other.tries)
            || (self.len() == other.len() && self.iter().eq(other.iter()))
    }
}

impl Eq for PrefixSet {}

impl fmt::Debug for PrefixSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// `10.0.0.0/8, 192.168.0.0/16` (empty text for an empty set).
impl fmt::Display for PrefixSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bare_addresses_are_host_prefixes() {
        assert_eq!(
            parse_prefix("10.1.2.3").unwrap(),
            "10.1.2.3/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_prefix("2001:db8::1").unwrap(),
            "2001:db8::1/128".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_prefix(" 10.0.0.0/8 ").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
    }

    #[test]
    fn host_bits_are_cleared() {
        assert_eq!(
            parse_prefix("10.1.2.3/8").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
    }

    #[test]
    fn bad_prefixes_are_typed_errors() {
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0",
            "VirtualNetwork",
            "::/129",
            "1.2.3.4/",
        ] {
            let err = parse_prefix(bad).unwrap_err();
            assert_eq!(err, PrefixError::Invalid(bad.to_string()));
            assert!(err.to_string().contains("bad prefix"), "{err}");
        }
        assert!(PrefixSet::from_strs(&["10.0.0.0/8", "nope"]).is_err());
    }

    #[test]
    fn contains_both_families() {
        let set = PrefixSet::from_strs(&["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]).unwrap();
        assert_eq!(set.len(), 3);
        assert!(!set.is_empty());
        assert!(set.contains(ip("10.200.1.1")));
        assert!(set.contains(ip("192.168.1.7")));
        assert!(!set.contains(ip("192.168.1.8")));
        assert!(set.contains(ip("2001:db8:1::5")));
        assert!(!set.contains(ip("2001:db9::5")));
        assert!(!set.contains(ip("11.0.0.1")));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_looked_up_as_ipv4() {
        let set = PrefixSet::from_strs(&["10.0.0.0/8"]).unwrap();
        assert!(set.contains(ip("::ffff:10.1.2.3")));
        assert!(!set.contains(ip("::ffff:11.1.2.3")));
        assert_eq!(canonical(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(canonical(ip("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(canonical(ip("10.1.2.3")), ip("10.1.2.3"));
        // A mapped prefix in the config means the IPv4 prefix.
        let mapped = PrefixSet::from_strs(&["::ffff:10.0.0.0/104"]).unwrap();
        assert!(mapped.contains(ip("10.9.9.9")));
        assert!(mapped.contains(ip("::ffff:10.9.9.9")));
        assert_eq!(mapped.iter().next(), Some("10.0.0.0/8".parse().unwrap()));
    }

    #[test]
    fn empty_set_matches_nothing() {
        let set = PrefixSet::new();
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        assert!(!set.contains(ip("0.0.0.0")));
        assert!(!set.contains(ip("::")));
    }

    #[test]
    fn default_routes_cover_their_family_only() {
        let set = PrefixSet::from_strs(&["0.0.0.0/0"]).unwrap();
        assert!(set.contains(ip("8.8.8.8")));
        assert!(set.contains(ip("::ffff:8.8.8.8")));
        assert!(!set.contains(ip("2001:db8::1")));
    }

    #[test]
    fn iter_display_and_covers() {
        let set: PrefixSet = ["10.0.0.0/8", "10.1.0.0/16", "fd00::/8"]
            .iter()
            .map(|s| parse_prefix(s).unwrap())
            .collect();
        assert_eq!(set.to_string(), "10.0.0.0/8, 10.1.0.0/16, fd00::/8");
        assert!(set.covers("10.2.0.0/16".parse().unwrap()));
        assert!(!set.covers("0.0.0.0/0".parse().unwrap()));
        let mut other = PrefixSet::new();
        assert!(other.insert("10.0.0.0/8".parse().unwrap()));
        assert!(!other.insert("10.0.0.0/8".parse().unwrap()));
        other.extend(&set);
        assert_eq!(other, set);
    }
}
