//! The egress guard: what the gateway may connect to (docs/network.md, issue 4 "Egress guard").
//!
//! Every backend connection goes through [`connect`] (the gateway's hyper connector,
//! crates/gateway/src/egress_connector.rs, is a thin wrapper around it): the backend host is
//! resolved once, each address is judged by [`EgressPolicy::judge`], and the socket is opened
//! to the very address that was judged — the name is never looked up again in between, so a
//! DNS answer that changes after the check (DNS rebinding) cannot steer the gateway to a
//! forbidden address.
//!
//! [`EgressPolicy::judge`] applies three stages, in order; the first that refuses names itself
//! in [`EgressRefused::stage`]:
//!
//! 1. `address_class`: loopback, link-local (169.254.0.0/16, where cloud metadata services
//!    live, and fe80::/10), unspecified, multicast, broadcast and reserved addresses — in every
//!    form, IPv4-mapped IPv6 (`::ffff:127.0.0.1`) and NAT64/6to4 embeddings included — are never
//!    reachable unless a prefix the config names covers them: the virtual network's address
//!    space, its peered prefixes, the subnet, `outbound.integration_subnet` or
//!    `outbound.allowed_destinations`. Such a prefix must lie wholly inside the special class
//!    to name it: `127.10.0.0/16` names 127.10.x.x, while `0.0.0.0/0` in an allow-list names
//!    no loopback or metadata address (a broad prefix is not an *explicit* naming, and an SSRF
//!    guard that a catch-all line silently disables would be no guard).
//! 2. `network_type`: type `none` reaches public addresses only, plus
//!    `outbound.allowed_destinations`, plus — when `outbound.integration_subnet` is set, as
//!    Standard v2's outbound virtual-network integration — the integration subnet, the virtual
//!    network and its peered prefixes. Types `external` and `internal` reach the virtual
//!    network, its peered prefixes, the subnet, the integration subnet, the allow-list and
//!    public addresses; any other private address (RFC 1918, CGNAT, ULA, ...) is refused.
//! 3. `nsg`: the outbound rules of the subnet's network security group (types `external` and
//!    `internal`, and type `none` with an integration subnet when the subnet has an NSG), with
//!    Azure's default outbound rules appended (NSG-6). The flow is TCP from the gateway's
//!    address in the subnet (the private listener's address if configured, else the subnet's
//!    first usable address, .4) to the destination address and port.
//!
//! Refusals carry the address and the rule or reason for the *log*; a client only ever sees an
//! APIM-style 502 that names no internal address.

use crate::dns::{Answer, DnsError, Source};
use crate::inbound::RuleRef;
use crate::nsg::{CompiledNsg, Flow, NsgError};
use crate::prefix::{PrefixError, PrefixSet, canonical, parse_prefix};
use crate::tags::{ServiceTags, TagError};
use gatehouse_model::network::{Access, Direction, Network, NetworkType, Protocol};
use ipnet::IpNet;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};

/// The stage of [`EgressPolicy::judge`] that refused an address, in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EgressStage {
    /// Loopback, link-local, ... not named by the config.
    AddressClass,
    /// A private address the network type does not reach.
    NetworkType,
    /// An outbound NSG rule denied it.
    Nsg,
}

impl EgressStage {
    /// The stage's name in logs, `gatehouse net` output and the
    /// `gatehouse_egress_refused_total{stage=...}` label: these strings are an interface.
    pub fn as_str(self) -> &'static str {
        match self {
            EgressStage::AddressClass => "address_class",
            EgressStage::NetworkType => "network_type",
            EgressStage::Nsg => "nsg",
        }
    }
}

impl fmt::Display for EgressStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The source port the outbound NSG sees. The real one is picked by the kernel at connect time,
/// after the verdict; a port from the IANA ephemeral range makes a rule on "ephemeral source
/// ports" (`1024-65535`, `49152-65535`) apply, as it would in Azure, while a rule on privileged
/// source ports does not — the gateway never connects from one.
pub const NSG_SOURCE_PORT: u16 = 49152;

/// TCP keepalive idle time of backend connections: below Azure's 240 s idle timeout for Private
/// Link and load balancers (PLS-7), so idle pooled connections are not silently dropped.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Interval between keepalive probes once idle.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// What kind of address a destination is; decides stages 1 and 2 of [`EgressPolicy::judge`].
///
/// Computed on the canonical address (IPv4-mapped IPv6 is IPv4). IPv6 addresses that embed an
/// IPv4 address a translator or tunnel would deliver to — NAT64's well-known prefix
/// `64:ff9b::/96` and 6to4's `2002::/16` — take the embedded address's class when that is not
/// public: `64:ff9b::a9fe:a9fe` reaches 169.254.169.254 as surely as the IPv4 form does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 169.254.0.0/16 (cloud metadata, e.g. 169.254.169.254), fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8 ("this host on this network": connecting to it reaches the local host), ::.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Not routable: 240.0.0.0/4 (but broadcast), the deprecated IPv4-compatible IPv6 `::/96`,
    /// the IPv6 discard prefix `100::/64`.
    Reserved,
    /// Not globally routed, but legitimately a backend inside a network: RFC 1918 (10/8,
    /// 172.16/12, 192.168/16), CGNAT 100.64/10, 192.0.0.0/24, benchmarking 198.18/15, ULA
    /// fc00::/7, site-local fec0::/10, local-use NAT64 64:ff9b:1::/48.
    Private,
    /// Everything else. The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
    /// 2001:db8::/32) count as public: examples and tests use them as stand-ins for public
    /// hosts, and nothing internal lives there.
    Public,
}

impl AddressClass {
    /// The class of `ip` (IPv4-mapped IPv6 is classified as the IPv4 address).
    pub fn of(ip: IpAddr) -> AddressClass {
        match canonical(ip) {
            IpAddr::V4(v4) => classify_v4(v4),
            IpAddr::V6(v6) => classify_v6(v6),
        }
    }

    /// Whether stage 1 refuses the class unless a config line names the address.
    pub fn is_never_reachable(self) -> bool {
        !matches!(self, AddressClass::Private | AddressClass::Public)
    }

    /// The name used in logs and JSON (`loopback`, `link_local`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Loopback => "loopback",
            AddressClass::LinkLocal => "link_local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::Private => "private",
            AddressClass::Public => "public",
        }
    }

    /// The class as an English noun phrase, for refusal reasons.
    fn describe(self) -> &'static str {
        match self {
            AddressClass::Loopback => "a loopback address",
            AddressClass::LinkLocal => "a link-local address (cloud metadata lives there)",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "the broadcast address",
            AddressClass::Reserved => "a reserved address",
            AddressClass::Private => "a private address",
            AddressClass::Public => "a public address",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `ip` lies in `net/len`, on integers (no allocation, no branches on strings).
const fn in_v4(ip: u32, net: u32, len: u32) -> bool {
    // len 0 is never used here; shifting by 32 would overflow.
    (ip ^ net) >> (32 - len) == 0
}

const fn in_v6(ip: u128, net: u128, len: u32) -> bool {
    (ip ^ net) >> (128 - len) == 0
}

fn classify_v4(a: Ipv4Addr) -> AddressClass {
    let ip = u32::from(a);
    if ip == u32::MAX {
        AddressClass::Broadcast
    } else if in_v4(ip, 0x7f00_0000, 8) {
        AddressClass::Loopback
    } else if in_v4(ip, 0xa9fe_0000, 16) {
        AddressClass::LinkLocal
    } else if in_v4(ip, 0, 8) {
        AddressClass::Unspecified
    } else if in_v4(ip, 0xe000_0000, 4) {
        AddressClass::Multicast
    } else if in_v4(ip, 0xf000_0000, 4) {
        AddressClass::Reserved
    } else if in_v4(ip, 0x0a00_0000, 8)
        || in_v4(ip, 0xac10_0000, 12)
        || in_v4(ip, 0xc0a8_0000, 16)
        || in_v4(ip, 0x6440_0000, 10)
        || in_v4(ip, 0xc000_0000, 24)
        || in_v4(ip, 0xc612_0000, 15)
    {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(a: Ipv6Addr) -> AddressClass {
    let ip = u128::from(a);
    if ip == 0 {
        return AddressClass::Unspecified;
    }
    if ip == 1 {
        return AddressClass::Loopback;
    }
    if in_v6(ip, 0, 96) {
        // IPv4-compatible (`::a.b.c.d`), deprecated: no host should be reached through it.
        return AddressClass::Reserved;
    }
    if in_v6(ip, 0xfe80 << 112, 10) {
        return AddressClass::LinkLocal;
    }
    if in_v6(ip, 0xff00 << 112, 8) {
        return AddressClass::Multicast;
    }
    if in_v6(ip, 0x0100 << 112, 64) {
        return AddressClass::Reserved;
    }
    if in_v6(ip, 0xfc00 << 112, 7)
        || in_v6(ip, 0xfec0 << 112, 10)
        || in_v6(ip, (0x0064_ff9b_0001_u128) << 80, 48)
    {
        return AddressClass::Private;
    }
    // NAT64 well-known prefix: the IPv4 address is the last 32 bits.
    if in_v6(ip, 0x0064_ff9b_u128 << 96, 96) {
        return embedded(ip as u32);
    }
    // 6to4: the IPv4 tunnel endpoint follows the 2002::/16 prefix.
    if in_v6(ip, 0x2002_u128 << 112, 16) {
        return embedded((ip >> 80) as u32);
    }
    AddressClass::Public
}

/// The class of an address reached through an embedded IPv4 address.
fn embedded(v4: u32) -> AddressClass {
    classify_v4(Ipv4Addr::from(v4))
}

/// Whether every address of `net` is of one never-reachable class: only then does a configured
/// prefix name those addresses explicitly (see the module documentation).
///
/// The classes are contiguous ranges (or embeddings of contiguous ranges), so a prefix whose
/// first and last addresses share a class lies wholly inside it.
fn names_special(net: IpNet) -> bool {
    let first = AddressClass::of(net.network());
    first.is_never_reachable() && AddressClass::of(net.broadcast()) == first
}

/// A `network` section the egress guard could not be built from.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// A bad prefix in the virtual network, peered prefixes or a custom service tag.
    #[error("network.virtual_network / service_tags: {0}")]
    Tags(#[from] TagError),
    /// The subnet's network security group does not compile.
    #[error("network.network_security_groups.{name}: {source}")]
    Nsg { name: String, source: Box<NsgError> },
    /// The subnet names a network security group that is not defined.
    #[error("network.virtual_network.subnet.nsg: no network security group named '{0}'")]
    MissingNsg(String),
    /// A bad prefix in a field the guard reads itself.
    #[error("{field}: {error}")]
    Prefix {
        field: &'static str,
        error: PrefixError,
    },
}

/// An address the guard lets the gateway connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressAllowed {
    /// The outbound NSG rule that allowed it; `None` when no NSG applies.
    pub rule: Option<RuleRef>,
    pub class: AddressClass,
}

/// An address the guard refuses: logged (never shown to the client) and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRefused {
    /// The destination as asked (before IPv4-mapped addresses are unmapped).
    pub destination: SocketAddr,
    pub class: AddressClass,
    /// The stage that refused it.
    pub stage: EgressStage,
    /// The denying NSG rule (stage `nsg` only).
    pub rule: Option<RuleRef>,
    /// Names the address and the rule or reason, for the log line.
    pub reason: String,
}

impl fmt::Display for EgressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "egress to {} refused ({}): {}",
            self.destination, self.stage, self.reason
        )
    }
}

impl std::error::Error for EgressRefused {}

/// The compiled egress rules of one config snapshot. Immutable; a reload compiles a new one and
/// swaps it in (the gateway reads it through an `ArcSwap` at each connection).
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    kind: NetworkType,
    /// Configured prefixes that name never-reachable addresses (stage 1).
    named_special: PrefixSet,
    /// Non-public destinations the network type lets the gateway reach (stage 2).
    reachable: PrefixSet,
    /// The subnet's NSG, when it applies to outbound traffic (stage 3).
    nsg: Option<CompiledNsg>,
    /// The gateway's own address in the subnet: the source of the NSG flow.
    source: Option<IpAddr>,
    integration: bool,
}

impl EgressPolicy {
    /// Compiles the egress rules of `network`: its service tags and the subnet's NSG (the same
    /// [`ServiceTags`] and [`CompiledNsg`] the inbound decision uses, evaluated outbound).
    pub fn compile(network: &Network) -> Result<EgressPolicy, EgressError> {
        let tags = ServiceTags::new(network)?;
        let vnet = network.virtual_network.as_ref();
        let subnet = vnet.and_then(|v| v.subnet.as_ref());
        let outbound = network.outbound.as_ref();

        let subnet_net = subnet
            .map(|s| prefix("network.virtual_network.subnet.prefix", &s.prefix))
            .transpose()?;
        let integration_net = outbound
            .and_then(|o| o.integration_subnet.as_ref())
            .map(|s| prefix("network.outbound.integration_subnet", s.prefix()))
            .transpose()?;
        let mut allowed = PrefixSet::new();
        for p in outbound
            .map(|o| o.allowed_destinations.as_slice())
            .unwrap_or(&[])
        {
            allowed.insert(prefix("network.outbound.allowed_destinations", p)?);
        }

        let subnets: PrefixSet = subnet_net.into_iter().chain(integration_net).collect();

        // Every prefix a config line names: stage 1 takes those lying inside a special class.
        let mut named = PrefixSet::new();
        named.extend(tags.virtual_network());
        named.extend(&allowed);
        named.extend(&subnets);
        let named_special: PrefixSet = named.iter().filter(|n| names_special(*n)).collect();

        let integration = integration_net.is_some();
        let injected = matches!(network.kind, NetworkType::External | NetworkType::Internal);
        let mut reachable = allowed;
        if injected || integration {
            reachable.extend(tags.virtual_network());
            reachable.extend(&subnets);
        }

        let nsg = match subnet.and_then(|s| s.nsg.as_deref()) {
            Some(name) if injected || integration => {
                let group = network
                    .network_security_groups
                    .get(name)
                    .ok_or_else(|| EgressError::MissingNsg(name.to_string()))?;
                Some(CompiledNsg::compile(name, group, &tags).map_err(|source| {
                    EgressError::Nsg {
                        name: name.to_string(),
                        source: Box::new(source),
                    }
                })?)
            }
            _ => None,
        };

        let private_listener = network
            .endpoints
            .gateway
            .as_ref()
            .and_then(|g| g.private.as_ref())
            .and_then(|p| p.address().parse::<SocketAddr>().ok())
            .map(|a| canonical(a.ip()))
            .filter(|ip| !ip.is_unspecified());
        // Without a private listener, the first address Azure hands out in a subnet (.4); with
        // no subnet, the integration subnet's (type none).
        let source = private_listener.or_else(|| subnet_net.or(integration_net).map(fourth));

        let policy = EgressPolicy {
            kind: network.kind,
            named_special,
            reachable,
            nsg,
            source,
            integration,
        };
        tracing::debug!(
            kind = ?policy.kind,
            named_special = %policy.named_special,
            reachable = %policy.reachable,
            nsg = policy.nsg.as_ref().map(|n| n.name()),
            source = ?policy.source,
            "egress policy compiled"
        );
        Ok(policy)
    }

    /// The network type the policy was compiled for.
    pub fn kind(&self) -> NetworkType {
        self.kind
    }

    /// The NSG whose outbound rules apply, if any.
    pub fn nsg(&self) -> Option<&CompiledNsg> {
        self.nsg.as_ref()
    }

    /// The source address of the outbound NSG flow (the gateway's address in the subnet).
    pub fn nsg_source(&self) -> Option<IpAddr> {
        self.source
    }

    /// Judges one destination address (after DNS): stages `address_class`, `network_type`,
    /// `nsg`, in order. Pure and cheap, so it can run for every backend connection: it makes no
    /// allocation of its own unless it refuses (the refusal's reason). With an NSG, the cost of
    /// [`CompiledNsg::evaluate`] is added, the same the inbound decision pays per connection.
    pub fn judge(&self, destination: SocketAddr) -> Result<EgressAllowed, EgressRefused> {
        let ip = canonical(destination.ip());
        let class = AddressClass::of(ip);

        if class.is_never_reachable() && !self.named_special.contains(ip) {
            return Err(EgressRefused {
                destination,
                class,
                stage: EgressStage::AddressClass,
                rule: None,
                reason: format!(
                    "{ip} is {}, never reachable unless named by the virtual network, its \
                     peered prefixes, the subnet, outbound.integration_subnet or \
                     outbound.allowed_destinations",
                    class.describe()
                ),
            });
        }

        if class != AddressClass::Public && !self.reachable.contains(ip) {
            return Err(EgressRefused {
                destination,
                class,
                stage: EgressStage::NetworkType,
                rule: None,
                reason: self.network_type_reason(ip, class),
            });
        }

        let mut rule = None;
        if let Some(nsg) = &self.nsg {
            // The NSG is only built with a subnet, which gives a source; unspecified otherwise
            // matches only rules whose source is `*`, a conservative reading.
            let source = self.source.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            let flow = Flow {
                source: SocketAddr::new(source, NSG_SOURCE_PORT),
                destination: SocketAddr::new(ip, destination.port()),
                protocol: Protocol::Tcp,
            };
            let d = nsg.evaluate(Direction::Outbound, &flow);
            if d.access == Access::Deny {
                let reason = format!(
                    "{} denied by outbound rule '{}' (priority {}) of network security group '{}'",
                    flow.destination,
                    d.rule,
                    d.priority,
                    nsg.name()
                );
                return Err(EgressRefused {
                    destination,
                    class,
                    stage: EgressStage::Nsg,
                    rule: Some(RuleRef {
                        name: d.rule,
                        priority: d.priority,
                        default_rule: d.default_rule,
                    }),
                    reason,
                });
            }
            rule = Some(RuleRef {
                name: d.rule,
                priority: d.priority,
                default_rule: d.default_rule,
            });
        }
        Ok(EgressAllowed { rule, class })
    }

    fn network_type_reason(&self, ip: IpAddr, class: AddressClass) -> String {
        let what = class.describe();
        match self.kind {
            NetworkType::None if self.integration => format!(
                "{ip} is {what} outside outbound.integration_subnet, the virtual network and its \
                 peered prefixes: with network type none only those and public addresses are \
                 reachable (or name it in outbound.allowed_destinations)"
            ),
            NetworkType::None => format!(
                "{ip} is {what} and the network type is none: only public addresses are \
                 reachable (set outbound.integration_subnet to reach the virtual network, or \
                 name it in outbound.allowed_destinations)"
            ),
            NetworkType::External | NetworkType::Internal => format!(
                "{ip} is {what} outside the virtual network and its peered prefixes (network \
                 type {}): only those and public addresses are reachable (or name it in \
                 outbound.allowed_destinations)",
                if self.kind == NetworkType::External {
                    "external"
                } else {
                    "internal"
                }
            ),
        }
    }
}

fn prefix(field: &'static str, text: &str) -> Result<IpNet, EgressError> {
    parse_prefix(text).map_err(|error| EgressError::Prefix { field, error })
}

/// The subnet's fourth address after its network address (Azure reserves .0-.3).
fn fourth(net: IpNet) -> IpAddr {
    match net {
        IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(u32::from(n.network()).saturating_add(4))),
        IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()).saturating_add(4))),
    }
}

/// What the egress guard needs of a resolver: one lookup per connection attempt. A trait so
/// that tests (and tools) can give a fake one; [`crate::dns::Resolver`] implements it.
pub trait Resolve: Send + Sync {
    /// The addresses of `host`, in the order they should be tried.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>>;
}

impl Resolve for crate::dns::Resolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>> {
        Box::pin(crate::dns::Resolver::resolve(self, host))
    }
}

impl<R: Resolve + ?Sized> Resolve for Arc<R> {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>> {
        (**self).resolve(host)
    }
}

impl<R: Resolve + ?Sized> Resolve for Box<R> {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>> {
        (**self).resolve(host)
    }
}

/// A connection the guard opened.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The address connected to: one the guard judged and allowed.
    pub addr: SocketAddr,
    /// The verdict for `addr` (the NSG rule that allowed it, its class).
    pub allowed: EgressAllowed,
    /// Where the name's addresses came from ([`Source::Literal`] for an IP literal).
    pub answer_source: Source,
    /// Addresses of the answer the guard refused before reaching `addr`, in answer order.
    pub refused: Vec<EgressRefused>,
}

/// Why no backend connection was made. The `Display` text is for logs: it names addresses.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The name could not be resolved (the resolver's error says why: timeout, SERVFAIL, ...).
    #[error("resolving backend host: {0}")]
    Dns(#[from] DnsError),
    /// The answer held no address at all.
    #[error("backend host '{host}' resolved to no address")]
    NoAddresses { host: String },
    /// Every address of the answer was refused by the guard.
    #[error("every address of backend host '{host}' is refused: {}", list(refused))]
    AllRefused {
        host: String,
        refused: Vec<EgressRefused>,
    },
    /// The last allowed address tried could not be connected to (earlier ones are logged).
    #[error("backend host '{host}': connecting to {addr}: {error}")]
    Unreachable {
        host: String,
        addr: SocketAddr,
        error: std::io::Error,
    },
    /// The last allowed address tried did not answer within the connect timeout.
    #[error("backend host '{host}': connecting to {addr} timed out")]
    Timeout { host: String, addr: SocketAddr },
    /// The URI given to a connector built on [`connect`] (the gateway's hyper connector) has
    /// no host, or a port that can't be inferred. Kept here so one error type, found in a
    /// client error's source chain, covers every way a backend connection fails.
    #[error("backend URI '{uri}': {reason}")]
    InvalidUri { uri: String, reason: &'static str },
}

fn list(refused: &[EgressRefused]) -> String {
    refused
        .iter()
        .map(|r| format!("{} ({}: {})", r.destination, r.stage, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Resolves `host` (once), judges each address in answer order, and connects to the first
/// allowed one that answers — to that exact address, never re-resolving in between, so DNS
/// rebinding cannot reach a forbidden address. An IP literal (`10.0.0.5`, `[::1]`, `::1`) is
/// judged without a lookup.
///
/// `connect_timeout` bounds each connection attempt. When an allowed address does not answer,
/// the next allowed address of the same answer is tried (each failure is logged); the error is
/// that of the last attempt.
pub async fn connect(
    policy: &EgressPolicy,
    resolver: &dyn Resolve,
    host: &str,
    port: u16,
    connect_timeout: Duration,
) -> Result<(TcpStream, Connected), ConnectError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let (addrs, answer_source) = match bare.parse::<IpAddr>() {
        Ok(ip) => (vec![ip], Source::Literal),
        Err(_) => {
            let answer = resolver.resolve(bare).await?;
            tracing::debug!(
                host = bare,
                addrs = ?answer.addrs,
                cname_chain = ?answer.cname_chain,
                "backend host resolved"
            );
            (answer.addrs, answer.source)
        }
    };
    if addrs.is_empty() {
        return Err(ConnectError::NoAddresses {
            host: bare.to_string(),
        });
    }

    let mut refused = Vec::new();
    let mut last_failure = None;
    for ip in addrs {
        let addr = SocketAddr::new(ip, port);
        let allowed = match policy.judge(addr) {
            Ok(allowed) => allowed,
            Err(r) => {
                tracing::debug!(
                    host = bare,
                    %addr,
                    stage = r.stage.as_str(),
                    rule = r.rule.as_ref().map(|x| &*x.name),
                    reason = %r.reason,
                    "egress refused"
                );
                refused.push(r);
                continue;
            }
        };
        match connect_one(addr, connect_timeout).await {
            Ok(stream) => {
                return Ok((
                    stream,
                    Connected {
                        addr,
                        allowed,
                        answer_source,
                        refused,
                    },
                ));
            }
            Err(failure) => {
                tracing::debug!(host = bare, %addr, error = %failure, "backend address failed");
                last_failure = Some((addr, failure));
            }
        }
    }
    Err(match last_failure {
        Some((addr, Failure::Timeout)) => ConnectError::Timeout {
            host: bare.to_string(),
            addr,
        },
        Some((addr, Failure::Io(error))) => ConnectError::Unreachable {
            host: bare.to_string(),
            addr,
            error,
        },
        None => ConnectError::AllRefused {
            host: bare.to_string(),
            refused,
        },
    })
}

enum Failure {
    Timeout,
    Io(std::io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timed out"),
            Failure::Io(e) => e.fmt(f),
        }
    }
}

/// One attempt: TCP_NODELAY (requests are small and latency-bound) and keepalive set on the
/// socket before it connects, so no window exists where the connection lacks them.
async fn connect_one(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, Failure> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(Failure::Io)?;
    socket.set_nodelay(true).map_err(Failure::Io)?;
    let keepalive = socket2::TcpKeepalive::new().with_time(KEEPALIVE_IDLE);
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        windows
    ))]
    let keepalive = keepalive.with_interval(KEEPALIVE_INTERVAL);
    socket2::SockRef::from(&socket)
        .set_tcp_keepalive(&keepalive)
        .map_err(Failure::Io)?;
    match tokio::time::timeout(timeout, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(Failure::Io(e)),
        Err(_) => Err(Failure::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str};
    use std::path::Path;

    fn network(yaml: &str) -> Network {
        let text = format!("service: {{ name: contoso }}\nnetwork:\n{yaml}");
        from_str(&text, Format::Yaml, Path::new("t.yaml"))
            .expect("parses")
            .network
    }

    fn policy(yaml: &str) -> EgressPolicy {
        EgressPolicy::compile(&network(yaml)).expect("compiles")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    /// `Ok(rule name or "-")` or `Err(stage)`.
    fn verdict(p: &EgressPolicy, dest: &str) -> Result<String, EgressStage> {
        match p.judge(sa(dest)) {
            Ok(a) => Ok(a
                .rule
                .map_or_else(|| "-".to_string(), |r| r.name.to_string())),
            Err(r) => Err(r.stage),
        }
    }

    const V4: &[(&str, AddressClass)] = &[
        ("127.0.0.1", AddressClass::Loopback),
        ("127.255.255.254", AddressClass::Loopback),
        ("169.254.169.254", AddressClass::LinkLocal),
        ("169.254.0.1", AddressClass::LinkLocal),
        ("0.0.0.0", AddressClass::Unspecified),
        ("0.1.2.3", AddressClass::Unspecified),
        ("224.0.0.1", AddressClass::Multicast),
        ("239.255.255.250", AddressClass::Multicast),
        ("255.255.255.255", AddressClass::Broadcast),
        ("240.0.0.1", AddressClass::Reserved),
        ("255.255.255.254", AddressClass::Reserved),
        ("10.0.0.1", AddressClass::Private),
        ("172.16.0.1", AddressClass::Private),
        ("172.31.255.255", AddressClass::Private),
        ("192.168.1.1", AddressClass::Private),
        ("100.64.0.1", AddressClass::Private),
        ("100.127.255.255", AddressClass::Private),
        ("192.0.0.8", AddressClass::Private),
        ("198.18.0.1", AddressClass::Private),
        ("8.8.8.8", AddressClass::Public),
        ("172.32.0.1", AddressClass::Public),
        ("100.128.0.1", AddressClass::Public),
        ("169.253.255.255", AddressClass::Public),
        ("1.0.0.0", AddressClass::Public),
        ("223.255.255.255", AddressClass::Public),
        ("203.0.113.5", AddressClass::Public),
    ];

    const V6: &[(&str, AddressClass)] = &[
        ("::1", AddressClass::Loopback),
        ("::", AddressClass::Unspecified),
        ("fe80::1", AddressClass::LinkLocal),
        ("febf::1", AddressClass::LinkLocal),
        ("ff02::1", AddressClass::Multicast),
        ("ff05::1:3", AddressClass::Multicast),
        ("::7f00:1", AddressClass::Reserved),
        ("100::1", AddressClass::Reserved),
        ("fd00::1", AddressClass::Private),
        ("fc00::1", AddressClass::Private),
        ("fec0::1", AddressClass::Private),
        ("64:ff9b:1::a", AddressClass::Private),
        ("2001:4860:4860::8888", AddressClass::Public),
        ("2001:db8::1", AddressClass::Public),
        ("fe00::1", AddressClass::Public),
        // NAT64 and 6to4 take the class of the IPv4 address they deliver to.
        ("64:ff9b::7f00:1", AddressClass::Loopback),
        ("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal),
        ("64:ff9b::a00:1", AddressClass::Private),
        ("64:ff9b::808:808", AddressClass::Public),
        ("2002:7f00:1::1", AddressClass::Loopback),
        ("2002:a9fe:a9fe::1", AddressClass::LinkLocal),
        ("2002:c0a8:101::1", AddressClass::Private),
        ("2002:808:808::1", AddressClass::Public),
    ];

    #[test]
    fn every_ipv4_class() {
        for (a, class) in V4 {
            assert_eq!(AddressClass::of(ip(a)), *class, "{a}");
        }
    }

    #[test]
    fn every_ipv6_class() {
        for (a, class) in V6 {
            assert_eq!(AddressClass::of(ip(a)), *class, "{a}");
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_is_classified_as_ipv4() {
        for (a, class) in V4 {
            let mapped = format!("::ffff:{a}");
            assert_eq!(AddressClass::of(ip(&mapped)), *class, "{mapped}");
        }
        // And refused like the IPv4 form, whatever the network type.
        let p = policy("  type: none\n");
        for (dest, class) in [
            ("[::ffff:127.0.0.1]:80", AddressClass::Loopback),
            ("[::ffff:169.254.169.254]:80", AddressClass::LinkLocal),
            ("[::ffff:0.0.0.0]:80", AddressClass::Unspecified),
            ("[::ffff:224.0.0.1]:80", AddressClass::Multicast),
            ("[::ffff:255.255.255.255]:80", AddressClass::Broadcast),
        ] {
            let r = p.judge(sa(dest)).expect_err(dest);
            assert_eq!(
                (r.stage, r.class),
                (EgressStage::AddressClass, class),
                "{dest}"
            );
            assert_eq!(r.destination, sa(dest));
        }
        let r = p.judge(sa("[::ffff:10.1.2.3]:80")).expect_err("private");
        assert_eq!(r.stage, EgressStage::NetworkType);
        assert!(
            r.reason.starts_with("10.1.2.3 is a private address"),
            "{}",
            r.reason
        );
        assert!(p.judge(sa("[::ffff:8.8.8.8]:443")).is_ok());
    }

    #[test]
    fn names_for_logs() {
        assert_eq!(AddressClass::LinkLocal.to_string(), "link_local");
        assert!(AddressClass::Broadcast.is_never_reachable());
        assert!(AddressClass::Reserved.is_never_reachable());
        assert!(!AddressClass::Private.is_never_reachable());
        assert!(!AddressClass::Public.is_never_reachable());
    }

    /// The never-reachable classes are refused by every network type, in every family.
    #[test]
    fn never_reachable_in_every_type() {
        let types = [
            ("none", "  type: none\n".to_string()),
            (
                "none+integration",
                format!("  type: none\n{VNET}  outbound: {{ integration_subnet: 10.10.3.0/24 }}\n"),
            ),
            ("external", format!("  type: external\n{VNET}")),
            ("internal", format!("  type: internal\n{VNET}")),
        ];
        let never = [
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.251",
            "255.255.255.255",
            "240.1.1.1",
            "[::1]",
            "[::]",
            "[fe80::1]",
            "[ff02::fb]",
            "[::ffff:127.0.0.1]",
            "[::ffff:169.254.169.254]",
            "[64:ff9b::a9fe:a9fe]",
        ];
        for (name, yaml) in &types {
            let p = policy(yaml);
            for a in never {
                let dest = format!("{a}:80");
                let r = p.judge(sa(&dest)).expect_err(&format!("{name} {dest}"));
                assert_eq!(r.stage, EgressStage::AddressClass, "{name} {dest}");
                assert!(r.reason.contains("never reachable"), "{}", r.reason);
                assert!(r.rule.is_none());
            }
        }
    }

    const VNET: &str = "  virtual_network:\n    address_space: [10.10.0.0/16]\n    subnet: { prefix: 10.10.1.0/27 }\n    peered: [10.20.0.0/16, 'fd00:20::/48']\n";

    #[test]
    fn type_none_reaches_public_addresses_only() {
        let p = policy(&format!("  type: none\n{VNET}"));
        for public in [
            "8.8.8.8:443",
            "[2001:4860:4860::8888]:443",
            "203.0.113.5:80",
        ] {
            assert_eq!(verdict(&p, public), Ok("-".into()), "{public}");
        }
        // Even the virtual network is out of reach without outbound integration.
        for private in [
            "10.10.1.5:443",
            "10.20.0.1:443",
            "[fd00:20::1]:443",
            "172.16.0.1:443",
            "192.168.0.1:443",
            "100.64.0.1:443",
            "[fd12::1]:443",
        ] {
            assert_eq!(
                verdict(&p, private),
                Err(EgressStage::NetworkType),
                "{private}"
            );
        }
        let r = p.judge(sa("192.168.0.1:443")).expect_err("private");
        assert_eq!(r.class, AddressClass::Private);
        assert!(
            r.reason
                .contains("192.168.0.1 is a private address and the network type is none"),
            "{}",
            r.reason
        );
        assert!(p.nsg().is_none());
    }

    #[test]
    fn type_none_with_integration_subnet_reaches_the_virtual_network() {
        let p = policy(&format!(
            "  type: none\n{VNET}  outbound: {{ integration_subnet: 10.30.0.0/24 }}\n"
        ));
        for ok in [
            "10.30.0.9:443",
            "10.10.1.5:443",
            "10.20.0.1:443",
            "[fd00:20::1]:443",
            "8.8.8.8:443",
        ] {
            assert_eq!(verdict(&p, ok), Ok("-".into()), "{ok}");
        }
        for refused in ["10.31.0.1:443", "172.16.0.1:443", "[fd12::1]:443"] {
            assert_eq!(
                verdict(&p, refused),
                Err(EgressStage::NetworkType),
                "{refused}"
            );
        }
        let r = p.judge(sa("10.31.0.1:443")).expect_err("outside");
        assert!(
            r.reason.contains("outside outbound.integration_subnet"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn type_none_with_integration_applies_the_subnet_nsg() {
        let p = policy(&format!(
            "  type: none\n{}  outbound: {{ integration_subnet: 10.10.1.0/27 }}\n{}",
            VNET.replace(
                "prefix: 10.10.1.0/27",
                "prefix: 10.10.1.0/27, nsg: apim-nsg"
            ),
            nsg("10.10.1.4")
        ));
        assert_eq!(p.nsg().map(CompiledNsg::name), Some("apim-nsg"));
        assert_eq!(verdict(&p, "10.20.5.5:5432"), Err(EgressStage::Nsg));
        assert_eq!(verdict(&p, "10.20.5.5:443"), Ok("AllowVnetOutBound".into()));
        assert_eq!(
            verdict(&p, "8.8.8.8:443"),
            Ok("AllowInternetOutBound".into())
        );
        // Without integration, the NSG plays no part for type none.
        let p = policy(&format!(
            "  type: none\n{}{}",
            VNET.replace(
                "prefix: 10.10.1.0/27",
                "prefix: 10.10.1.0/27, nsg: apim-nsg"
            ),
            nsg("10.10.1.4")
        ));
        assert!(p.nsg().is_none());
        assert_eq!(verdict(&p, "8.8.8.8:5432"), Ok("-".into()));
    }

    const NSG: &str = r#"  network_security_groups:
    apim-nsg:
      security_rules:
        - { name: deny-db, priority: 100, direction: outbound, access: deny, protocol: tcp, destination: 10.20.5.0/24, destination_ports: "5432" }
        - { name: deny-smtp, priority: 110, direction: outbound, access: deny, protocol: tcp, destination: Internet, destination_ports: "25" }
        - { name: only-from-vip, priority: 120, direction: outbound, access: deny, protocol: tcp, source: "!SOURCE!", destination: 198.51.100.0/24 }
        - { name: allow-loopback, priority: 130, direction: outbound, access: allow, protocol: "*", destination: 127.0.0.0/8 }
"#;

    fn nsg(source: &str) -> String {
        NSG.replace("!SOURCE!", source)
    }

    fn injected(kind: &str, extra: &str) -> EgressPolicy {
        policy(&format!(
            "  type: {kind}\n{}{}{extra}",
            VNET.replace(
                "prefix: 10.10.1.0/27",
                "prefix: 10.10.1.0/27, nsg: apim-nsg"
            ),
            nsg("10.10.1.4")
        ))
    }

    #[test]
    fn external_and_internal_reach_vnet_peered_and_public() {
        for kind in ["external", "internal"] {
            let p = injected(kind, "");
            assert_eq!(
                verdict(&p, "10.10.2.7:443"),
                Ok("AllowVnetOutBound".into()),
                "{kind}"
            );
            assert_eq!(
                verdict(&p, "10.20.0.1:443"),
                Ok("AllowVnetOutBound".into()),
                "{kind}"
            );
            assert_eq!(
                verdict(&p, "[fd00:20::5]:443"),
                Ok("AllowVnetOutBound".into()),
                "{kind}"
            );
            assert_eq!(
                verdict(&p, "8.8.8.8:443"),
                Ok("AllowInternetOutBound".into()),
                "{kind}"
            );
            assert_eq!(
                verdict(&p, "[2001:4860:4860::8888]:443"),
                Ok("AllowInternetOutBound".into()),
                "{kind}"
            );
            for other in [
                "10.30.0.1:443",
                "172.16.0.1:443",
                "192.168.1.1:443",
                "100.64.1.1:443",
                "[fd12::1]:443",
            ] {
                assert_eq!(
                    verdict(&p, other),
                    Err(EgressStage::NetworkType),
                    "{kind} {other}"
                );
            }
            let r = p.judge(sa("172.16.0.1:443")).expect_err("other private");
            assert!(
                r.reason.contains(&format!(
                    "172.16.0.1 is a private address outside the virtual network and its peered prefixes (network type {kind})"
                )),
                "{}",
                r.reason
            );
        }
    }

    #[test]
    fn outbound_nsg_rules_then_defaults() {
        let p = injected("external", "");
        let r = p.judge(sa("10.20.5.5:5432")).expect_err("denied");
        assert_eq!(r.stage, EgressStage::Nsg);
        assert_eq!(
            r.rule
                .as_ref()
                .map(|x| (&*x.name, x.priority, x.default_rule)),
            Some(("deny-db", 100, false))
        );
        assert_eq!(
            r.reason,
            "10.20.5.5:5432 denied by outbound rule 'deny-db' (priority 100) of network security group 'apim-nsg'"
        );
        assert_eq!(
            r.to_string(),
            format!("egress to 10.20.5.5:5432 refused (nsg): {}", r.reason)
        );
        assert_eq!(verdict(&p, "10.20.5.5:443"), Ok("AllowVnetOutBound".into()));
        assert_eq!(verdict(&p, "8.8.8.8:25"), Err(EgressStage::Nsg));
        assert_eq!(verdict(&p, "[::ffff:8.8.8.8]:25"), Err(EgressStage::Nsg));
        let a = p.judge(sa("8.8.8.8:443")).expect("allowed");
        assert_eq!(
            a.rule
                .map(|x| (x.name.to_string(), x.priority, x.default_rule)),
            Some(("AllowInternetOutBound".to_string(), 65001, true))
        );
        assert_eq!(a.class, AddressClass::Public);
    }

    #[test]
    fn default_deny_all_outbound_answers_last() {
        // A gateway whose source is outside the virtual network (a private listener on a
        // 192.0.2.x address) matches neither AllowVnetOutBound nor... it does match
        // AllowInternetOutBound for public destinations; towards the VNet only DenyAllOutBound.
        let p = policy(&format!(
            "  type: external\n{}  endpoints: {{ gateway: {{ private: \"192.0.2.10:443\" }} }}\n  network_security_groups: {{ apim-nsg: {{}} }}\n",
            VNET.replace(
                "prefix: 10.10.1.0/27",
                "prefix: 10.10.1.0/27, nsg: apim-nsg"
            )
        ));
        assert_eq!(p.nsg_source(), Some(ip("192.0.2.10")));
        let r = p.judge(sa("10.10.2.2:443")).expect_err("deny all");
        assert_eq!(
            r.rule
                .map(|x| (x.name.to_string(), x.priority, x.default_rule)),
            Some(("DenyAllOutBound".to_string(), 65500, true))
        );
        assert_eq!(
            verdict(&p, "8.8.8.8:443"),
            Ok("AllowInternetOutBound".into())
        );
    }

    #[test]
    fn nsg_source_is_the_private_listener_else_the_subnets_fourth_address() {
        let p = injected("internal", "");
        assert_eq!(p.nsg_source(), Some(ip("10.10.1.4")));
        assert_eq!(verdict(&p, "198.51.100.7:443"), Err(EgressStage::Nsg));
        // With a private listener on .5, the rule naming .4 no longer matches.
        let p = injected(
            "internal",
            "  endpoints: { gateway: { private: \"10.10.1.5:443\" } }\n",
        );
        assert_eq!(p.nsg_source(), Some(ip("10.10.1.5")));
        assert_eq!(
            verdict(&p, "198.51.100.7:443"),
            Ok("AllowInternetOutBound".into())
        );
        // An IPv6 subnet: its ::4.
        let p = policy(
            "  type: external\n  virtual_network: { address_space: ['fd00:10::/48'], subnet: { prefix: 'fd00:10:0:1::/64', nsg: n } }\n  network_security_groups: { n: {} }\n",
        );
        assert_eq!(p.nsg_source(), Some(ip("fd00:10:0:1::4")));
        assert_eq!(
            verdict(&p, "[fd00:10:0:2::9]:443"),
            Ok("AllowVnetOutBound".into())
        );
    }

    #[test]
    fn allowed_by_nsg_but_disallowed_by_class_is_still_refused() {
        // allow-loopback (priority 130) allows 127.0.0.0/8 outbound; the guard refuses first.
        let p = injected("external", "");
        let r = p.judge(sa("127.0.0.1:8080")).expect_err("loopback");
        assert_eq!(
            (r.stage, r.class, r.rule),
            (EgressStage::AddressClass, AddressClass::Loopback, None)
        );
        assert_eq!(
            r.reason,
            "127.0.0.1 is a loopback address, never reachable unless named by the virtual network, its peered prefixes, the subnet, outbound.integration_subnet or outbound.allowed_destinations"
        );
        // Named by the allow-list, the same address gets to the NSG, which allows it.
        let p = injected(
            "external",
            "  outbound: { allowed_destinations: [127.0.0.1] }\n",
        );
        assert_eq!(verdict(&p, "127.0.0.1:8080"), Ok("allow-loopback".into()));
        // Private outside the VNet with an NSG allowing everything: still refused (type).
        let p = policy(&format!(
            "  type: external\n{}  network_security_groups: {{ n: {{ security_rules: [ {{ name: all, priority: 100, direction: outbound, access: allow }} ] }} }}\n",
            VNET.replace("prefix: 10.10.1.0/27", "prefix: 10.10.1.0/27, nsg: n")
        ));
        assert_eq!(verdict(&p, "172.16.0.1:443"), Err(EgressStage::NetworkType));
        assert_eq!(
            verdict(&p, "169.254.169.254:80"),
            Err(EgressStage::AddressClass)
        );
        assert_eq!(verdict(&p, "8.8.8.8:25"), Ok("all".into()));
    }

    #[test]
    fn loopback_virtual_network_names_its_own_addresses_only() {
        // Tests put virtual networks on 127.x: the address space names 127.10.x.x, not 127.0.0.1.
        let p = policy(
            "  type: external\n  virtual_network: { address_space: [127.10.0.0/16], subnet: { prefix: 127.10.1.0/27 } }\n",
        );
        assert_eq!(verdict(&p, "127.10.2.3:8080"), Ok("-".into()));
        assert_eq!(verdict(&p, "[::ffff:127.10.2.3]:8080"), Ok("-".into()));
        assert_eq!(
            verdict(&p, "127.0.0.1:8080"),
            Err(EgressStage::AddressClass)
        );
        assert_eq!(
            verdict(&p, "127.11.0.1:8080"),
            Err(EgressStage::AddressClass)
        );
        assert_eq!(
            p.judge(sa("127.10.2.3:1")).map(|a| a.class),
            Ok(AddressClass::Loopback)
        );
        // Type none names it but can't reach the VNet without integration...
        let p = policy("  type: none\n  virtual_network: { address_space: [127.10.0.0/16] }\n");
        let r = p.judge(sa("127.10.2.3:8080")).expect_err("type none");
        assert_eq!(r.stage, EgressStage::NetworkType);
        assert!(
            r.reason
                .starts_with("127.10.2.3 is a loopback address and the network type is none"),
            "{}",
            r.reason
        );
        // ...and reaches it with an integration subnet there.
        let p = policy(
            "  type: none\n  virtual_network: { address_space: [127.10.0.0/16] }\n  outbound: { integration_subnet: 127.10.3.0/24 }\n",
        );
        assert_eq!(verdict(&p, "127.10.2.3:8080"), Ok("-".into()));
        assert_eq!(
            verdict(&p, "127.0.0.1:8080"),
            Err(EgressStage::AddressClass)
        );
    }

    #[test]
    fn allowed_destinations_name_and_open() {
        let p = policy(
            "  type: none\n  outbound: { allowed_destinations: [169.254.169.254, 10.1.2.0/24, '::1', 'fe80::/64'] }\n",
        );
        for ok in [
            "169.254.169.254:80",
            "10.1.2.3:443",
            "[::1]:80",
            "[fe80::5]:80",
            "[::ffff:169.254.169.254]:80",
        ] {
            assert_eq!(verdict(&p, ok), Ok("-".into()), "{ok}");
        }
        assert_eq!(
            verdict(&p, "169.254.169.253:80"),
            Err(EgressStage::AddressClass)
        );
        assert_eq!(verdict(&p, "10.1.3.1:443"), Err(EgressStage::NetworkType));
        assert_eq!(
            verdict(&p, "[fe80:0:0:1::5]:80"),
            Err(EgressStage::AddressClass)
        );
    }

    #[test]
    fn a_broad_prefix_does_not_name_special_addresses() {
        let p = policy(
            "  type: none\n  outbound: { allowed_destinations: ['0.0.0.0/0', '::/0', 127.0.0.0/7] }\n",
        );
        // It opens private addresses for type none...
        assert_eq!(verdict(&p, "10.9.9.9:443"), Ok("-".into()));
        assert_eq!(verdict(&p, "[fd00::9]:443"), Ok("-".into()));
        // ...but names no loopback, metadata or other special address.
        for a in [
            "127.0.0.1:80",
            "169.254.169.254:80",
            "[::1]:80",
            "[fe80::1]:80",
            "0.0.0.0:80",
            "224.0.0.1:80",
        ] {
            assert_eq!(verdict(&p, a), Err(EgressStage::AddressClass), "{a}");
        }
        assert!(names_special("127.0.0.0/8".parse().expect("net")));
        assert!(names_special("64:ff9b::7f00:0/104".parse().expect("net")));
        assert!(!names_special("64:ff9b::/96".parse().expect("net")));
        assert!(!names_special("10.0.0.0/8".parse().expect("net")));
    }

    #[test]
    fn compile_errors_name_the_field() {
        let e = EgressPolicy::compile(&network(&format!(
            "  type: external\n{}",
            VNET.replace("prefix: 10.10.1.0/27", "prefix: 10.10.1.0/27, nsg: missing")
        )))
        .expect_err("missing nsg");
        assert!(
            matches!(e, EgressError::MissingNsg(ref n) if n == "missing"),
            "{e}"
        );
        let e = EgressPolicy::compile(&network(
            "  outbound: { integration_subnet: 10.1.0.0/33 }\n",
        ))
        .expect_err("bad prefix");
        assert!(
            e.to_string()
                .starts_with("network.outbound.integration_subnet: bad prefix '10.1.0.0/33'"),
            "{e}"
        );
        let e = EgressPolicy::compile(&network("  outbound: { allowed_destinations: [nope] }\n"))
            .expect_err("bad prefix");
        assert!(
            e.to_string()
                .starts_with("network.outbound.allowed_destinations: bad prefix 'nope'"),
            "{e}"
        );
        let e = EgressPolicy::compile(&network(&format!(
            "  type: internal\n{}  network_security_groups: {{ n: {{ security_rules: [ {{ name: x, priority: 1, direction: outbound, access: allow }} ] }} }}\n",
            VNET.replace("prefix: 10.10.1.0/27", "prefix: 10.10.1.0/27, nsg: n")
        )))
        .expect_err("bad priority");
        assert!(matches!(e, EgressError::Nsg { .. }), "{e}");
        // Type none without integration ignores the subnet's NSG, missing or not.
        assert!(
            EgressPolicy::compile(&network(&format!(
                "  type: none\n{}",
                VNET.replace("prefix: 10.10.1.0/27", "prefix: 10.10.1.0/27, nsg: missing")
            )))
            .is_ok()
        );
    }

    #[test]
    fn stage_names_are_the_log_and_metric_labels() {
        // `gatehouse_egress_refused_total{stage=...}` and the log lines rely on these strings.
        assert_eq!(EgressStage::AddressClass.as_str(), "address_class");
        assert_eq!(EgressStage::NetworkType.as_str(), "network_type");
        assert_eq!(EgressStage::Nsg.to_string(), "nsg");
    }
}
