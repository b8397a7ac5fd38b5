//! Service tags, resolved against the config rather than Azure's published ranges
//! (docs/network.md, spec NSG-13): a self-hosted gateway has no Azure fabric, so each tag means
//! what the `network` section says.
//!
//! - `VirtualNetwork`: `virtual_network.address_space` + `virtual_network.peered` (Azure counts
//!   peerings, ExpressRoute and site-to-site prefixes in the tag);
//! - `AzureLoadBalancer` (alias `LoadBalancer`): `load_balancer`; empty when not configured, so
//!   the default rule `AllowAzureLoadBalancerInBound` then allows nobody rather than a guess;
//! - `Internet`: every address *not* in `VirtualNetwork`. It is kept as a complement, never
//!   enumerated, so it stays exact for both families at the cost of one trie lookup;
//! - `*`, `Any`, `0.0.0.0/0` and `::/0`: any address (Azure's default rules write "any" as
//!   `0.0.0.0/0`);
//! - custom tags from `network.service_tags` (like Azure IP groups), e.g. `ApiManagement`
//!   defined as the prefixes of the operators' management hosts;
//! - Azure's own tags (`ApiManagement`, `Storage`, `Storage.WestEurope` …) from
//!   `network.service_tags_file`, Azure's published "Service Tags" JSON
//!   (crates/model/src/service_tags_file.rs). A name defined both there and under
//!   `service_tags` is refused.
//!
//! Names are matched case-insensitively, as Azure does.

use crate::prefix::{PrefixError, PrefixSet, parse_prefix};
use gatehouse_model::network::Network;
use gatehouse_model::service_tags_file::{PublishedTags, ServiceTagsFileError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Built-in tag names (lowercase) that a custom tag may not take.
const RESERVED: &[&str] = &[
    "virtualnetwork",
    "internet",
    "azureloadbalancer",
    "loadbalancer",
    "any",
    "*",
];

/// A tag or address that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// Looks like an address but isn't a valid one.
    #[error(transparent)]
    Prefix(#[from] PrefixError),
    /// Neither a prefix nor a known tag.
    #[error(
        "unknown service tag '{0}': not a prefix, a built-in tag (VirtualNetwork, Internet, AzureLoadBalancer, *) or a name under network.service_tags"
    )]
    Unknown(String),
    /// `Internet` is a complement; a union with other values has no exact representation and
    /// Azure allows a single tag per rule side anyway (NSG-8).
    #[error("'Internet' can't be combined with other values on one side of a rule")]
    InternetCombined,
    /// An empty list of addresses.
    #[error("no address: use '*' for any address")]
    Empty,
    /// A custom tag named like a built-in one would make rules ambiguous.
    #[error("service tag '{0}' is built in and can't be redefined")]
    ReservedName(String),
    /// Two custom tags equal but for case.
    #[error("service tag '{0}' is defined twice (names are case-insensitive)")]
    DuplicateName(String),
    /// A bad prefix in a custom tag's definition.
    #[error("service tag '{tag}': {error}")]
    TagPrefix { tag: String, error: PrefixError },
    /// `network.service_tags_file` could not be read or is not Azure's format.
    #[error(transparent)]
    File(FileError),
    /// A tag both under `network.service_tags` and in the service tags file.
    #[error(
        "service tag '{0}' is defined both under network.service_tags and in network.service_tags_file: keep one"
    )]
    DefinedTwice(String),
    /// A bad prefix in the `network` section itself (`field` is its path).
    #[error("{field}: {error}")]
    Config {
        field: &'static str,
        error: PrefixError,
    },
}

/// A service tags file's error, shared so that [`TagError`] stays `Clone` and comparable (two
/// are equal when they say the same).
#[derive(Debug, Clone)]
pub struct FileError(pub Arc<ServiceTagsFileError>);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl PartialEq for FileError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for FileError {}

/// What one side (source or destination) of a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressMatch {
    /// Every address.
    Any,
    /// Addresses covered by these prefixes (literal prefixes, `VirtualNetwork`,
    /// `AzureLoadBalancer`, custom tags, or a union of those). May be empty: matches nothing.
    Prefixes(PrefixSet),
    /// `Internet`: every address not covered by the held `VirtualNetwork` set.
    Internet(PrefixSet),
}

impl AddressMatch {
    /// Whether `ip` (canonicalised: IPv4-mapped IPv6 is IPv4) is matched.
    pub fn matches(&self, ip: IpAddr) -> bool {
        match self {
            AddressMatch::Any => true,
            AddressMatch::Prefixes(set) => set.contains(ip),
            AddressMatch::Internet(vnet) => !vnet.contains(ip),
        }
    }

    /// Whether every address matches.
    pub fn is_any(&self) -> bool {
        matches!(self, AddressMatch::Any)
    }
}

/// The service tags of one `network` section.
#[derive(Debug, Clone, Default)]
pub struct ServiceTags {
    virtual_network: PrefixSet,
    load_balancer: PrefixSet,
    /// lowercase name → (name as written, prefixes)
    custom: HashMap<String, (String, PrefixSet)>,
}

impl ServiceTags {
    /// The tags of a network section. Errors name the field or tag with the bad prefix.
    pub fn new(network: &Network) -> Result<Self, TagError> {
        let mut vnet = PrefixSet::new();
        if let Some(v) = &network.virtual_network {
            add_all(
                &mut vnet,
                &v.address_space,
                "network.virtual_network.address_space",
            )?;
            add_all(&mut vnet, &v.peered, "network.virtual_network.peered")?;
        }
        let mut lb = PrefixSet::new();
        add_all(&mut lb, &network.load_balancer, "network.load_balancer")?;
        let mut tags = Self::from_parts(vnet, lb);
        for (name, prefixes) in &network.service_tags {
            let set = PrefixSet::from_strs(prefixes).map_err(|error| TagError::TagPrefix {
                tag: name.clone(),
                error,
            })?;
            tags.add_custom(name, set)?;
        }
        if let Some(file) = &network.service_tags_file {
            let published = PublishedTags::load(std::path::Path::new(file))
                .map_err(|e| TagError::File(FileError(Arc::new(e))))?;
            tags.add_published(&published)?;
        }
        Ok(tags)
    }

    /// Tags from already-parsed sets (no custom tags yet): for tests, benches and tools that
    /// don't start from a config file.
    pub fn from_parts(virtual_network: PrefixSet, load_balancer: PrefixSet) -> Self {
        ServiceTags {
            virtual_network,
            load_balancer,
            custom: HashMap::new(),
        }
    }

    /// Adds a custom tag. Refuses built-in names and a second tag equal but for case.
    pub fn add_custom(&mut self, name: &str, prefixes: PrefixSet) -> Result<(), TagError> {
        let key = name.trim().to_ascii_lowercase();
        if RESERVED.contains(&key.as_str()) {
            return Err(TagError::ReservedName(name.to_string()));
        }
        if self.custom.contains_key(&key) {
            return Err(TagError::DuplicateName(name.to_string()));
        }
        self.custom.insert(key, (name.to_string(), prefixes));
        Ok(())
    }

    /// Adds the tags of Azure's service tags file. A name already defined (under
    /// `network.service_tags`) is refused: which prefixes win would be a guess.
    pub fn add_published(&mut self, published: &PublishedTags) -> Result<(), TagError> {
        for (name, prefixes) in published.iter() {
            let key = name.trim().to_ascii_lowercase();
            if self.custom.contains_key(&key) {
                return Err(TagError::DefinedTwice(name.to_string()));
            }
            let mut set = PrefixSet::new();
            for p in prefixes {
                set.insert(*p);
            }
            self.custom.insert(key, (name.to_string(), set));
        }
        Ok(())
    }

    /// The `VirtualNetwork` tag: address space and peered prefixes.
    pub fn virtual_network(&self) -> &PrefixSet {
        &self.virtual_network
    }

    /// Whether `ip` is in `VirtualNetwork`.
    pub fn is_virtual_network(&self, ip: IpAddr) -> bool {
        self.virtual_network.contains(ip)
    }

    /// Whether `ip` is in `Internet` (i.e. not in `VirtualNetwork`).
    pub fn is_internet(&self, ip: IpAddr) -> bool {
        !self.is_virtual_network(ip)
    }

    /// The `Internet` tag (the complement of `VirtualNetwork`) as a rule side; shares the
    /// `VirtualNetwork` tries.
    pub fn internet(&self) -> AddressMatch {
        AddressMatch::Internet(self.virtual_network.clone())
    }

    /// The `AzureLoadBalancer` tag.
    pub fn load_balancer(&self) -> &PrefixSet {
        &self.load_balancer
    }

    /// A custom or published tag's prefixes, by case-insensitive name.
    pub fn custom(&self, name: &str) -> Option<&PrefixSet> {
        self.custom
            .get(&name.trim().to_ascii_lowercase())
            .map(|(_, set)| set)
    }

    /// Names of the custom tags as written, sorted.
    pub fn custom_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.custom.values().map(|(n, _)| n.as_str()).collect();
        v.sort_unstable();
        v
    }

    /// Resolves one rule side: `items` are its values (a tag, `*`, or prefixes).
    ///
    /// `*`/`Any`/a /0 anywhere makes the side `Any` (a union with everything is everything).
    /// Tags and prefixes are otherwise unioned: Azure allows one tag per side (validation says
    /// so with a path), the engine need not be stricter than "exactly what was written".
    /// `Internet` must stand alone, see [`TagError::InternetCombined`].
    pub fn resolve<S: AsRef<str>>(&self, items: &[S]) -> Result<AddressMatch, TagError> {
        if items.is_empty() {
            return Err(TagError::Empty);
        }
        let mut set = PrefixSet::new();
        let mut any = false;
        let mut internet = false;
        let mut others = 0usize;
        for item in items {
            match self.resolve_one(item.as_ref())? {
                One::Any => any = true,
                One::Internet => internet = true,
                One::Set(s) => {
                    others += 1;
                    set.extend(s);
                }
                One::Net(n) => {
                    others += 1;
                    set.insert(n);
                }
            }
        }
        if any {
            return Ok(AddressMatch::Any);
        }
        if internet {
            if others > 0 {
                return Err(TagError::InternetCombined);
            }
            return Ok(self.internet());
        }
        Ok(AddressMatch::Prefixes(set))
    }

    fn resolve_one<'a>(&'a self, item: &str) -> Result<One<'a>, TagError> {
        let t = item.trim();
        if t.is_empty() {
            return Err(TagError::Prefix(PrefixError::Invalid(item.to_string())));
        }
        if t == "*" || t.eq_ignore_ascii_case("any") {
            return Ok(One::Any);
        }
        if t.eq_ignore_ascii_case("virtualnetwork") {
            return Ok(One::Set(&self.virtual_network));
        }
        if t.eq_ignore_ascii_case("azureloadbalancer") || t.eq_ignore_ascii_case("loadbalancer") {
            return Ok(One::Set(&self.load_balancer));
        }
        if t.eq_ignore_ascii_case("internet") {
            return Ok(One::Internet);
        }
        if let Some(set) = self.custom(t) {
            return Ok(One::Set(set));
        }
        match parse_prefix(t) {
            Ok(n) if n.prefix_len() == 0 => Ok(One::Any),
            Ok(n) => Ok(One::Net(n)),
            // A word is an unknown tag; anything that looks numeric is a bad address.
            Err(e) if looks_like_address(t) => Err(TagError::Prefix(e)),
            Err(_) => Err(TagError::Unknown(t.to_string())),
        }
    }
}

impl TryFrom<&Network> for ServiceTags {
    type Error = TagError;
    fn try_from(network: &Network) -> Result<Self, TagError> {
        ServiceTags::new(network)
    }
}

enum One<'a> {
    Any,
    Internet,
    Set(&'a PrefixSet),
    Net(ipnet::IpNet),
}

fn add_all(set: &mut PrefixSet, items: &[String], field: &'static str) -> Result<(), TagError> {
    for item in items {
        let n = parse_prefix(item).map_err(|error| TagError::Config { field, error })?;
        set.insert(n);
    }
    Ok(())
}

/// Digits first, or a `:`/`/` anywhere: an address attempt, not a tag name.
fn looks_like_address(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit()) || s.contains(':') || s.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::network::VirtualNetwork;
    use std::collections::BTreeMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn network() -> Network {
        Network {
            virtual_network: Some(VirtualNetwork {
                address_space: vec!["10.10.0.0/16".into()],
                subnet: None,
                peered: vec!["10.20.0.0/16".into(), "fd00:20::/48".into()],
            }),
            load_balancer: vec!["10.10.1.254/32".into()],
            service_tags: BTreeMap::from([
                (
                    "ApiManagement".to_string(),
                    vec!["198.51.100.0/24".to_string()],
                ),
                ("Partners".to_string(), vec!["203.0.113.7".to_string()]),
            ]),
            ..Network::default()
        }
    }

    fn tags() -> ServiceTags {
        ServiceTags::new(&network()).unwrap()
    }

    #[test]
    fn virtual_network_includes_address_space_and_peered() {
        let t = tags();
        assert!(t.is_virtual_network(ip("10.10.1.5")));
        assert!(t.is_virtual_network(ip("10.20.9.9")));
        assert!(t.is_virtual_network(ip("fd00:20::1")));
        assert!(t.is_virtual_network(ip("::ffff:10.20.0.1")));
        assert!(!t.is_virtual_network(ip("10.30.0.1")));
        assert_eq!(t.virtual_network().len(), 3);
        let m = t.resolve(&["VirtualNetwork"]).unwrap();
        assert!(m.matches(ip("10.20.0.1")) && m.matches(ip("10.10.0.1")));
        assert!(!m.matches(ip("8.8.8.8")));
    }

    #[test]
    fn internet_excludes_address_space_and_peered() {
        let t = tags();
        let m = t.resolve(&["Internet"]).unwrap();
        assert!(matches!(m, AddressMatch::Internet(_)));
        assert!(!m.matches(ip("10.10.1.5")));
        assert!(!m.matches(ip("10.20.1.5")));
        assert!(!m.matches(ip("fd00:20::9")));
        assert!(m.matches(ip("8.8.8.8")));
        assert!(m.matches(ip("10.30.0.1")));
        assert!(m.matches(ip("2001:db8::1")));
        assert!(t.is_internet(ip("8.8.8.8")) && !t.is_internet(ip("10.10.0.1")));
    }

    #[test]
    fn load_balancer_and_its_alias() {
        let t = tags();
        for name in ["AzureLoadBalancer", "LoadBalancer", "azureloadbalancer"] {
            let m = t.resolve(&[name]).unwrap();
            assert!(m.matches(ip("10.10.1.254")), "{name}");
            assert!(!m.matches(ip("10.10.1.253")), "{name}");
        }
        assert_eq!(t.load_balancer().len(), 1);
    }

    #[test]
    fn unconfigured_load_balancer_matches_nobody() {
        let t = ServiceTags::new(&Network::default()).unwrap();
        let m = t.resolve(&["AzureLoadBalancer"]).unwrap();
        assert_eq!(m, AddressMatch::Prefixes(PrefixSet::new()));
        assert!(!m.matches(ip("168.63.129.16")));
        // No virtual network: everything is Internet.
        assert!(t.resolve(&["Internet"]).unwrap().matches(ip("10.0.0.1")));
    }

    #[test]
    fn any_forms() {
        let t = tags();
        for any in ["*", "Any", "any", "0.0.0.0/0", "::/0"] {
            assert_eq!(t.resolve(&[any]).unwrap(), AddressMatch::Any, "{any}");
        }
        assert_eq!(
            t.resolve(&["10.0.0.0/8", "*"]).unwrap(),
            AddressMatch::Any,
            "a union with any is any"
        );
        assert!(AddressMatch::Any.matches(ip("2001:db8::1")));
        assert!(AddressMatch::Any.is_any());
    }

    #[test]
    fn custom_tags_case_insensitive() {
        let t = tags();
        for name in ["ApiManagement", "apimanagement", "APIMANAGEMENT"] {
            assert!(t.resolve(&[name]).unwrap().matches(ip("198.51.100.9")));
        }
        assert!(!t.resolve(&["Partners"]).unwrap().matches(ip("203.0.113.8")));
        assert!(t.resolve(&["partners"]).unwrap().matches(ip("203.0.113.7")));
        assert_eq!(t.custom_names(), vec!["ApiManagement", "Partners"]);
        assert!(t.custom("APImanagement").is_some());
        // Tag names are case-insensitive for the built-ins too.
        assert!(
            t.resolve(&["VIRTUALNETWORK"])
                .unwrap()
                .matches(ip("10.10.0.1"))
        );
    }

    #[test]
    fn prefixes_and_unions() {
        let t = tags();
        let m = t
            .resolve(&["192.0.2.0/24", "2001:db8::/32", "8.8.8.8"])
            .unwrap();
        assert!(m.matches(ip("192.0.2.200")));
        assert!(m.matches(ip("2001:db8::5")));
        assert!(m.matches(ip("8.8.8.8")));
        assert!(!m.matches(ip("8.8.4.4")));
        let u = t.resolve(&["VirtualNetwork", "Partners"]).unwrap();
        assert!(u.matches(ip("10.10.0.1")) && u.matches(ip("203.0.113.7")));
    }

    #[test]
    fn errors_are_typed() {
        let t = tags();
        assert_eq!(
            t.resolve(&["Storage"]),
            Err(TagError::Unknown("Storage".into()))
        );
        assert_eq!(
            t.resolve(&["10.0.0.0/40"]),
            Err(TagError::Prefix(PrefixError::Invalid("10.0.0.0/40".into())))
        );
        assert!(
            t.resolve(&["10.0.0.0/40"])
                .unwrap_err()
                .to_string()
                .contains("bad prefix '10.0.0.0/40'")
        );
        assert_eq!(
            t.resolve(&["Internet", "10.0.0.0/8"]),
            Err(TagError::InternetCombined)
        );
        assert_eq!(t.resolve::<&str>(&[]), Err(TagError::Empty));
        assert!(t.resolve(&[""]).is_err());
    }

    #[test]
    fn bad_definitions_are_refused() {
        let mut n = network();
        n.service_tags
            .insert("internet".into(), vec!["1.2.3.4".into()]);
        assert_eq!(
            ServiceTags::new(&n).unwrap_err(),
            TagError::ReservedName("internet".into())
        );
        let mut n = network();
        n.service_tags.insert("partners".into(), vec![]);
        assert!(matches!(
            ServiceTags::new(&n).unwrap_err(),
            TagError::DuplicateName(_)
        ));
        let mut n = network();
        n.service_tags.insert("X".into(), vec!["300.1.1.1".into()]);
        assert_eq!(
            ServiceTags::new(&n).unwrap_err().to_string(),
            "service tag 'X': bad prefix '300.1.1.1': expected an IP address or CIDR prefix (e.g. 10.0.0.0/16)"
        );
        let mut n = network();
        n.load_balancer = vec!["lb".into()];
        assert!(
            ServiceTags::try_from(&n)
                .unwrap_err()
                .to_string()
                .starts_with("network.load_balancer: bad prefix 'lb'")
        );
    }

    /// Mimics Azure's published "Service Tags" format (documentation ranges, not Azure's).
    const AZURE_FORMAT: &str = r#"{"changeNumber": 7, "cloud": "Public", "values": [
        {"name": "Storage", "id": "Storage", "properties": {"addressPrefixes": ["198.51.100.0/24"]}},
        {"name": "Storage.WestEurope", "id": "Storage.WestEurope", "properties": {"region": "westeurope", "addressPrefixes": ["198.51.100.64/26"]}}
    ]}"#;

    #[test]
    fn tags_from_azures_file_resolve_case_insensitively() {
        let file =
            std::env::temp_dir().join(format!("gatehouse-net-tags-{}.json", std::process::id()));
        std::fs::write(&file, AZURE_FORMAT).unwrap();
        let mut n = network();
        n.service_tags_file = Some(file.display().to_string());
        let t = ServiceTags::new(&n).unwrap();
        let regional = t.resolve(&["storage.westeurope"]).unwrap();
        assert!(regional.matches(ip("198.51.100.70")));
        assert!(
            !regional.matches(ip("198.51.100.10")),
            "only the region's prefixes"
        );
        assert!(
            t.resolve(&["Storage"])
                .unwrap()
                .matches(ip("198.51.100.10"))
        );
        assert!(
            t.resolve(&["ApiManagement"])
                .unwrap()
                .matches(ip("198.51.100.9")),
            "custom tags stay"
        );

        n.service_tags
            .insert("STORAGE".into(), vec!["203.0.113.1".into()]);
        assert_eq!(
            ServiceTags::new(&n).unwrap_err(),
            TagError::DefinedTwice("Storage".into())
        );
        std::fs::remove_file(&file).unwrap();
        let e = ServiceTags::new(&network_with_file(&file)).unwrap_err();
        assert!(matches!(e, TagError::File(_)), "{e:?}");
        assert!(
            e.to_string()
                .starts_with(&format!("service tags file {}", file.display())),
            "{e}"
        );
    }

    fn network_with_file(file: &std::path::Path) -> Network {
        Network {
            service_tags_file: Some(file.display().to_string()),
            ..Network::default()
        }
    }
}
