//! The `network` section of gatehouse.yaml (docs/network.md): Azure API Management's
//! virtual-network model. Field names are the file's interface; Azure's ARM names are aliases.

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// none | external | internal (Azure's `virtualNetworkType`).
    #[serde(default, rename = "type", alias = "virtualNetworkType")]
    pub kind: NetworkType,
    /// `disabled`: only approved private endpoints may use the gateway (Azure's `publicNetworkAccess`).
    #[serde(default, alias = "publicNetworkAccess")]
    pub public_network_access: PublicNetworkAccess,
    #[serde(default, alias = "virtualNetwork")]
    pub virtual_network: Option<VirtualNetwork>,
    /// What the service tag `AzureLoadBalancer` (alias `LoadBalancer`) means here.
    #[serde(default, alias = "loadBalancer")]
    pub load_balancer: Vec<String>,
    /// Where each component listens, per exposure.
    #[serde(default)]
    pub endpoints: Endpoints,
    /// Peers whose PROXY protocol header and `X-Forwarded-For` are believed.
    #[serde(default, alias = "trustedProxies")]
    pub trusted_proxies: Vec<TrustedProxy>,
    #[serde(
        default,
        alias = "privateEndpoints",
        alias = "privateEndpointConnections"
    )]
    pub private_endpoints: Vec<PrivateEndpoint>,
    /// Network security groups by name; the subnet names the one that applies.
    #[serde(default, alias = "networkSecurityGroups")]
    pub network_security_groups: BTreeMap<String, NetworkSecurityGroup>,
    /// Custom service tags (like Azure IP groups): name → prefixes, usable in NSG rules.
    #[serde(default, alias = "serviceTags")]
    pub service_tags: BTreeMap<String, Vec<String>>,
    /// Azure's published "Service Tags" JSON file (relative to the config file): its tags
    /// (`ApiManagement`, `Storage.WestEurope` …) are usable in NSG rules
    /// (crates/model/src/service_tags_file.rs).
    #[serde(default, alias = "serviceTagsFile")]
    pub service_tags_file: Option<String>,
    #[serde(default)]
    pub dns: Option<Dns>,
    #[serde(default)]
    pub outbound: Option<Outbound>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkType {
    #[default]
    #[serde(alias = "None")]
    None,
    #[serde(alias = "External")]
    External,
    #[serde(alias = "Internal")]
    Internal,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublicNetworkAccess {
    #[default]
    #[serde(alias = "Enabled")]
    Enabled,
    #[serde(alias = "Disabled")]
    Disabled,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualNetwork {
    /// The virtual network's prefixes (`addressSpace.addressPrefixes`).
    #[serde(alias = "addressSpace", alias = "addressPrefixes")]
    pub address_space: Vec<String>,
    pub subnet: Option<Subnet>,
    /// Peerings, ExpressRoute and site-to-site VPN prefixes: part of the `VirtualNetwork` tag.
    #[serde(default)]
    pub peered: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    #[serde(default)]
    pub name: Option<String>,
    /// The subnet's prefix, e.g. `10.10.1.0/27` (`addressPrefix`).
    #[serde(alias = "addressPrefix")]
    pub prefix: String,
    /// The network security group on the subnet (a `network_security_groups` name).
    #[serde(default, alias = "networkSecurityGroup")]
    pub nsg: Option<String>,
    /// Must be `none`: Azure refuses a delegated subnet for API Management.
    #[serde(default)]
    pub delegation: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    #[serde(default)]
    pub gateway: Option<ComponentEndpoints>,
    #[serde(default)]
    pub management: Option<ComponentEndpoints>,
    #[serde(default)]
    pub portal: Option<ComponentEndpoints>,
    #[serde(default)]
    pub git: Option<ComponentEndpoints>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentEndpoints {
    /// Reachable from the internet (subject to the NSG when injected).
    #[serde(default)]
    pub public: Option<ListenSpec>,
    /// Inside the subnet: the private VIP.
    #[serde(default)]
    pub private: Option<ListenSpec>,
}

/// `"IP:PORT"`, or `{ address: "IP:PORT", tls: true }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ListenSpec {
    Address(String),
    Full {
        address: String,
        #[serde(default)]
        tls: bool,
    },
}

impl ListenSpec {
    pub fn address(&self) -> &str {
        match self {
            ListenSpec::Address(a) | ListenSpec::Full { address: a, .. } => a,
        }
    }
    pub fn tls(&self) -> bool {
        matches!(self, ListenSpec::Full { tls: true, .. })
    }
}

/// `10.0.0.5/32` (X-Forwarded-For only), or `{ prefix, proxy_protocol }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TrustedProxy {
    Prefix(String),
    Full {
        prefix: String,
        #[serde(default)]
        proxy_protocol: ProxyProtocolMode,
    },
}

impl TrustedProxy {
    pub fn prefix(&self) -> &str {
        match self {
            TrustedProxy::Prefix(p) | TrustedProxy::Full { prefix: p, .. } => p,
        }
    }
    pub fn proxy_protocol(&self) -> ProxyProtocolMode {
        match self {
            TrustedProxy::Prefix(_) => ProxyProtocolMode::None,
            TrustedProxy::Full { proxy_protocol, .. } => *proxy_protocol,
        }
    }
}

/// Whether a trusted proxy's connections start with a PROXY protocol header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProxyProtocolMode {
    /// Every connection must start with one (v1 or v2).
    Required,
    /// Detected by its signature.
    Optional,
    /// Never: only `X-Forwarded-For` is believed.
    #[default]
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateEndpoint {
    pub name: String,
    /// Matched against the PROXY v2 TLV 0xEE/0x01 (Azure Private Link LinkID).
    #[serde(alias = "linkId", alias = "linkIdentifier")]
    pub link_id: u32,
    /// A dedicated listener: connections to it belong to this endpoint.
    #[serde(default)]
    pub listen: Option<ListenSpec>,
    #[serde(default)]
    pub state: PrivateEndpointState,
    /// Only `Gateway` (Azure's only group id for API Management).
    #[serde(default = "gateway_group", alias = "groupId")]
    pub group_id: String,
}

fn gateway_group() -> String {
    "Gateway".to_string()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrivateEndpointState {
    #[default]
    #[serde(alias = "Pending")]
    Pending,
    #[serde(alias = "Approved")]
    Approved,
    #[serde(alias = "Rejected")]
    Rejected,
    #[serde(alias = "Disconnected")]
    Disconnected,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSecurityGroup {
    #[serde(default, alias = "securityRules")]
    pub security_rules: Vec<SecurityRule>,
}

/// One value or a list (`"80"` or `["80", "443"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values; a single string is also split at commas (`"80, 10000-10005"`).
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => s.split(',').map(str::trim).collect(),
            OneOrMany::Many(v) => v.iter().map(|s| s.trim()).collect(),
        }
    }
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::One("*".to_string())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityRule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// 100-4096; lower is evaluated first; unique per direction.
    pub priority: u32,
    pub direction: Direction,
    pub access: Access,
    #[serde(default)]
    pub protocol: Protocol,
    /// A prefix, a list of prefixes, a service tag or `*` (`sourceAddressPrefix(es)`).
    #[serde(
        default,
        alias = "sourceAddressPrefix",
        alias = "sourceAddressPrefixes"
    )]
    pub source: OneOrMany,
    /// `*`, a port, a range `1000-2000`, or a list (`sourcePortRange(s)`).
    #[serde(default, alias = "sourcePortRange", alias = "sourcePortRanges")]
    pub source_ports: OneOrMany,
    #[serde(
        default,
        alias = "destinationAddressPrefix",
        alias = "destinationAddressPrefixes"
    )]
    pub destination: OneOrMany,
    #[serde(
        default,
        alias = "destinationPortRange",
        alias = "destinationPortRanges"
    )]
    pub destination_ports: OneOrMany,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[serde(alias = "Inbound")]
    Inbound,
    #[serde(alias = "Outbound")]
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[serde(alias = "Allow")]
    Allow,
    #[serde(alias = "Deny")]
    Deny,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    #[serde(rename = "tcp", alias = "Tcp", alias = "TCP")]
    Tcp,
    #[serde(rename = "udp", alias = "Udp", alias = "UDP")]
    Udp,
    #[serde(rename = "icmp", alias = "Icmp", alias = "ICMP")]
    Icmp,
    #[default]
    #[serde(rename = "*", alias = "Any", alias = "any")]
    Any,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// `IP[:PORT]` of the DNS servers backends are resolved with (default: the system's).
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default, alias = "privateZones")]
    pub private_zones: Vec<PrivateZone>,
    #[serde(default)]
    pub cache: DnsCache,
    /// Time to wait for one DNS server's answer.
    #[serde(default = "d_dns_timeout_ms")]
    pub timeout_ms: u64,
    /// Tries per server before a name counts as failed.
    #[serde(default = "d_dns_attempts")]
    pub attempts: u32,
}

fn d_dns_timeout_ms() -> u64 {
    2_000
}
fn d_dns_attempts() -> u32 {
    2
}

/// How long answers are kept: the record's TTL, held within a floor and a ceiling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsCache {
    /// TTLs below this are raised to it (protects the DNS server from a 0-TTL storm).
    #[serde(default = "d_min_ttl")]
    pub min_ttl_seconds: u32,
    /// TTLs above this are lowered to it (a changed record is seen within this time).
    #[serde(default = "d_max_ttl")]
    pub max_ttl_seconds: u32,
    /// How long a name that does not exist (NXDOMAIN, no records) is remembered.
    #[serde(default = "d_negative_ttl")]
    pub negative_ttl_seconds: u32,
    /// Names kept at most.
    #[serde(default = "d_cache_entries")]
    pub max_entries: u32,
}

fn d_min_ttl() -> u32 {
    5
}
fn d_max_ttl() -> u32 {
    300
}
fn d_negative_ttl() -> u32 {
    10
}
fn d_cache_entries() -> u32 {
    10_000
}

impl Default for DnsCache {
    fn default() -> Self {
        DnsCache {
            min_ttl_seconds: d_min_ttl(),
            max_ttl_seconds: d_max_ttl(),
            negative_ttl_seconds: d_negative_ttl(),
            max_entries: d_cache_entries(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateZone {
    pub zone: String,
    /// Relative name (`orders`, `@` for the apex) → record type (A, AAAA, CNAME) → values.
    #[serde(default)]
    pub records: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// Standard v2 / Premium v2 outbound integration: lets a type-none gateway reach the
    /// virtual network through this subnet (crates/model/src/outbound_integration.rs).
    #[serde(default, alias = "integrationSubnet")]
    pub integration_subnet: Option<IntegrationSubnet>,
    /// Prefixes backends may always reach, named explicitly: the only way to allow addresses
    /// that are otherwise never reachable (loopback, link-local, ...) or private ones with type none.
    #[serde(default, alias = "allowedDestinations")]
    pub allowed_destinations: Vec<String>,
}

/// The outbound integration subnet: its prefix alone (`10.10.3.0/24`, the older form, which
/// states none of the facts Azure requires and so gets a warning), or the subnet with its facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IntegrationSubnet {
    Prefix(String),
    Full {
        #[serde(default)]
        name: Option<String>,
        #[serde(alias = "addressPrefix")]
        prefix: String,
        /// Must be `Microsoft.Web/serverFarms`.
        #[serde(default)]
        delegation: Option<String>,
        /// The subnet's network security group (a `network_security_groups` name); required.
        #[serde(default, alias = "networkSecurityGroup")]
        nsg: Option<String>,
    },
}

impl IntegrationSubnet {
    pub fn prefix(&self) -> &str {
        match self {
            IntegrationSubnet::Prefix(p) | IntegrationSubnet::Full { prefix: p, .. } => p,
        }
    }
}

/// A prefix (`10.0.0.0/16`) or a bare address (a /32 or /128).
pub fn parse_prefix(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    let net = match t.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => t.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
            format!("invalid prefix '{s}': expected an address or CIDR such as 10.0.0.0/16")
        })?,
    };
    Ok(canonical_prefix(net.trunc()))
}

/// An IPv4-mapped IPv6 prefix (`::ffff:10.0.0.0/104`, at least /96) is the IPv4 prefix it
/// covers, so that it matches the same addresses as the IPv4 form.
pub fn canonical_prefix(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.addr().to_ipv4_mapped()
        && let Ok(n) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n);
    }
    net
}

/// One item of a port list: `*`, `80` or `10000-10005`, as an inclusive range.
pub fn parse_port_item(s: &str) -> Result<(u16, u16), String> {
    let t = s.trim();
    if t == "*" {
        return Ok((0, u16::MAX));
    }
    let bad = || {
        format!("invalid port '{s}': expected '*', a port (0-65535) or a range such as 10000-10005")
    };
    let (lo, hi) = match t.split_once('-') {
        Some((a, b)) => (
            a.trim().parse::<u16>().map_err(|_| bad())?,
            b.trim().parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = t.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if lo > hi {
        return Err(format!("invalid port range '{s}': {lo} is above {hi}"));
    }
    Ok((lo, hi))
}
