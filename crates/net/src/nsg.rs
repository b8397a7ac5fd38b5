//! The network security group engine: Azure's NSG semantics (spec §14, docs/network.md) compiled
//! into a structure whose lookup cost does not grow with the number of prefixes.
//!
//! Semantics (NSG-1, NSG-2, NSG-6): per direction, rules are evaluated by ascending priority and
//! the first whose 5-tuple matches decides; Azure's default rules (65000, 65001, 65500) are
//! appended and always reachable, `DenyAll*` last so that every flow gets an answer.
//!
//! Why an index: inbound rules run at accept for every connection, before TLS, and a rule side
//! may hold 4,000 prefixes (NSG-9) in up to 1,000 rules. A linear scan would cost up to millions
//! of prefix comparisons per connection. NSG matching is *priority-first*, not longest-prefix,
//! so the index is: per direction and family, a prefix trie from each source prefix to the
//! (ascending) rule indices that list it. A lookup walks the trie once to collect every prefix
//! covering the flow's source (at most 33 or 129 of them), adds the few rules whose source is not
//! a prefix list (`*`, `Internet`), and checks only those candidates, lowest index first,
//! stopping at the first full match. The remaining fields (protocol, ports, destination) are
//! checked on the candidates only; the destination check is itself a trie lookup.

use crate::ports::{PortError, PortSet};
use crate::prefix::canonical;
use crate::tags::{AddressMatch, ServiceTags, TagError};
use gatehouse_model::network::{Access, Direction, NetworkSecurityGroup, Protocol, SecurityRule};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Lowest priority a user rule may take (NSG-1).
pub const MIN_PRIORITY: u32 = 100;
/// Highest priority a user rule may take (NSG-1); the default rules start at 65000.
pub const MAX_PRIORITY: u32 = 4096;

/// One connection attempt as the NSG sees it (after DNAT inbound, before SNAT outbound: NSG-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    pub source: SocketAddr,
    pub destination: SocketAddr,
    /// `Tcp`, `Udp` or `Icmp`. A flow given as `Any` matches only rules whose protocol is `Any`
    /// (it could be any protocol, so only a rule for every protocol certainly applies).
    pub protocol: Protocol,
}

impl Flow {
    pub fn new(source: SocketAddr, destination: SocketAddr, protocol: Protocol) -> Self {
        Flow {
            source,
            destination,
            protocol,
        }
    }

    /// A TCP flow, what the gateway accepts and opens.
    pub fn tcp(source: SocketAddr, destination: SocketAddr) -> Self {
        Self::new(source, destination, Protocol::Tcp)
    }
}

/// The verdict for a flow, naming the rule that decided (Network Watcher's IP flow verify).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NsgDecision {
    pub access: Access,
    /// The deciding rule's name.
    pub rule: Arc<str>,
    pub priority: u32,
    /// Whether the deciding rule is one of Azure's default rules.
    pub default_rule: bool,
}

impl NsgDecision {
    /// `access == Allow`.
    pub fn is_allowed(&self) -> bool {
        self.access == Access::Allow
    }
}

/// Which field of a rule an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Source,
    SourcePorts,
    Destination,
    DestinationPorts,
}

/// The config's field name (`source_ports`), so the message points at what to edit.
impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::SourcePorts => "source_ports",
            Side::Destination => "destination",
            Side::DestinationPorts => "destination_ports",
        })
    }
}

/// An NSG that could not be compiled; every variant names the NSG and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NsgError {
    /// A bad prefix or unknown tag in `source` or `destination`.
    #[error("network security group '{nsg}': rule '{rule}': {error} (in {side})")]
    Address {
        nsg: String,
        rule: String,
        side: Side,
        error: TagError,
    },
    /// A bad port item in `source_ports` or `destination_ports`.
    #[error("network security group '{nsg}': rule '{rule}': {error} (in {side})")]
    Ports {
        nsg: String,
        rule: String,
        side: Side,
        error: PortError,
    },
    /// Outside 100-4096: such a rule could sort after the default rules.
    #[error(
        "network security group '{nsg}': rule '{rule}': priority {priority} is outside {MIN_PRIORITY}-{MAX_PRIORITY}"
    )]
    Priority {
        nsg: String,
        rule: String,
        priority: u32,
    },
    /// Two rules of one direction at the same priority (NSG-3): first match would be ambiguous.
    #[error(
        "network security group '{nsg}': rules '{first}' and '{second}' both have {direction} priority {priority}"
    )]
    DuplicatePriority {
        nsg: String,
        first: String,
        second: String,
        direction: &'static str,
        priority: u32,
    },
}

/// One effective rule, as `gatehouse net show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleView {
    pub name: String,
    pub priority: u32,
    pub direction: Direction,
    pub access: Access,
    pub protocol: Protocol,
    /// As written: a tag, `*`, or prefixes joined with `, `.
    pub source: String,
    /// `*` or the merged ports, e.g. `80,443,1000-2000`.
    pub source_ports: String,
    pub destination: String,
    pub destination_ports: String,
    pub default_rule: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    name: Arc<str>,
    priority: u32,
    access: Access,
    protocol: Protocol,
    source: AddressMatch,
    source_ports: PortSet,
    destination: AddressMatch,
    destination_ports: PortSet,
    default_rule: bool,
    source_text: String,
    destination_text: String,
    description: Option<String>,
}

impl Rule {
    /// Everything but the source address, which the index (or the caller) has checked.
    fn matches_rest(&self, flow: &Flow, destination: IpAddr) -> bool {
        let protocol_ok = self.protocol == Protocol::Any || self.protocol == flow.protocol;
        // ICMP has no ports: only rules for every port can apply to it (inferred from Azure
        // requiring `*` ports on ICMP rules).
        let ports_ok = if flow.protocol == Protocol::Icmp {
            self.source_ports.is_any() && self.destination_ports.is_any()
        } else {
            self.source_ports.contains(flow.source.port())
                && self.destination_ports.contains(flow.destination.port())
        };
        protocol_ok && ports_ok && self.destination.matches(destination)
    }

    fn view(&self, direction: Direction) -> RuleView {
        RuleView {
            name: self.name.to_string(),
            priority: self.priority,
            direction,
            access: self.access,
            protocol: self.protocol,
            source: self.source_text.clone(),
            source_ports: self.source_ports.to_string(),
            destination: self.destination_text.clone(),
            destination_ports: self.destination_ports.to_string(),
            default_rule: self.default_rule,
            description: self.description.clone(),
        }
    }
}

/// The rules of one direction and their source index.
#[derive(Clone, Default)]
struct Table {
    /// In evaluation order (ascending priority, default rules last); an index is a rank.
    rules: Vec<Rule>,
    /// Source prefix → ascending indices of the rules listing it (IPv4).
    v4: PrefixMap<Ipv4Net, Vec<u32>>,
    /// Same for IPv6.
    v6: PrefixMap<Ipv6Net, Vec<u32>>,
    /// Ascending indices of the rules whose source is not a prefix list (`*`, `Internet`):
    /// they are candidates for every flow. Always holds the final `DenyAll*` rule.
    unindexed: Vec<u32>,
}

impl Table {
    fn build(rules: Vec<Rule>) -> Table {
        let mut t = Table {
            rules,
            ..Table::default()
        };
        for (i, rule) in t.rules.iter().enumerate() {
            // At most 1,000 user rules + 3 defaults in Azure; u32 leaves room for benches.
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            match &rule.source {
                AddressMatch::Prefixes(set) => {
                    for net in set.iter() {
                        let list = match net {
                            IpNet::V4(n) => t.v4.entry(n).or_default(),
                            IpNet::V6(n) => t.v6.entry(n).or_default(),
                        };
                        // Rules are visited in order, so each list stays sorted; skip repeats.
                        if list.last() != Some(&idx) {
                            list.push(idx);
                        }
                    }
                }
                AddressMatch::Any | AddressMatch::Internet(_) => t.unindexed.push(idx),
            }
        }
        t
    }

    /// Index of the first rule matching `flow`.
    fn first_match(&self, flow: &Flow) -> usize {
        let source = canonical(flow.source.ip());
        let destination = canonical(flow.destination.ip());
        // The last rule is DenyAll*, which matches every flow: the answer is never worse.
        let mut best = self.rules.len().saturating_sub(1);
        // Candidates from the index already match on source.
        let mut consider = |list: &[u32], check_source: bool| {
            for &i in list {
                let i = i as usize;
                if i >= best {
                    break;
                }
                let rule = &self.rules[i];
                if (!check_source || rule.source.matches(source))
                    && rule.matches_rest(flow, destination)
                {
                    best = i;
                    break;
                }
            }
        };
        consider(&self.unindexed, true);
        match source {
            IpAddr::V4(a) => {
                for list in self.v4.cover_values(&Ipv4Net::from(a)) {
                    consider(list, false);
                }
            }
            IpAddr::V6(a) => {
                for list in self.v6.cover_values(&Ipv6Net::from(a)) {
                    consider(list, false);
                }
            }
        }
        best
    }

    /// The same answer by checking every rule in order: the reference the index is tested
    /// (and benchmarked) against.
    fn first_match_scan(&self, flow: &Flow) -> usize {
        let source = canonical(flow.source.ip());
        let destination = canonical(flow.destination.ip());
        self.rules
            .iter()
            .position(|r| r.source.matches(source) && r.matches_rest(flow, destination))
            .unwrap_or(self.rules.len().saturating_sub(1))
    }

    fn decision(&self, i: usize) -> NsgDecision {
        match self.rules.get(i) {
            Some(r) => NsgDecision {
                access: r.access,
                rule: Arc::clone(&r.name),
                priority: r.priority,
                default_rule: r.default_rule,
            },
            // Unreachable: every table ends with its DenyAll rule. Deny is the safe answer.
            None => NsgDecision {
                access: Access::Deny,
                rule: Arc::from("DenyAll"),
                priority: 65500,
                default_rule: true,
            },
        }
    }
}

/// An NSG compiled for evaluation: both directions, user rules then Azure's default rules.
///
/// Immutable once built; a changed config compiles a new one (NSG-5: existing flows keep their
/// verdict, which is the caller's business).
#[derive(Clone)]
pub struct CompiledNsg {
    name: Arc<str>,
    inbound: Table,
    outbound: Table,
}

impl fmt::Debug for CompiledNsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledNsg")
            .field("name", &self.name)
            .field("inbound_rules", &self.inbound.rules.len())
            .field("outbound_rules", &self.outbound.rules.len())
            .finish()
    }
}

impl CompiledNsg {
    /// Compiles `nsg` (named `name` in `network_security_groups`) against `tags`.
    ///
    /// Default rules, exactly as NSG-6: inbound `AllowVnetInBound` 65000 (VirtualNetwork →
    /// VirtualNetwork), `AllowAzureLoadBalancerInBound` 65001 (AzureLoadBalancer → *),
    /// `DenyAllInBound` 65500; outbound `AllowVnetOutBound` 65000 (VirtualNetwork →
    /// VirtualNetwork), `AllowInternetOutBound` 65001 (* → Internet), `DenyAllOutBound` 65500;
    /// all for any protocol and port.
    pub fn compile(
        name: &str,
        nsg: &NetworkSecurityGroup,
        tags: &ServiceTags,
    ) -> Result<CompiledNsg, NsgError> {
        let mut inbound = Vec::new();
        let mut outbound = Vec::new();
        for rule in &nsg.security_rules {
            let compiled = compile_rule(name, rule, tags)?;
            match rule.direction {
                Direction::Inbound => inbound.push(compiled),
                Direction::Outbound => outbound.push(compiled),
            }
        }
        let mut tables = [
            (Direction::Inbound, inbound),
            (Direction::Outbound, outbound),
        ];
        for (direction, rules) in &mut tables {
            rules.sort_by_key(|r| r.priority);
            if let Some(w) = rules.windows(2).find(|w| w[0].priority == w[1].priority) {
                return Err(NsgError::DuplicatePriority {
                    nsg: name.to_string(),
                    first: w[0].name.to_string(),
                    second: w[1].name.to_string(),
                    direction: direction_name(*direction),
                    priority: w[0].priority,
                });
            }
            rules.extend(default_rules(*direction, tags));
        }
        let [(_, inbound), (_, outbound)] = tables;
        Ok(CompiledNsg {
            name: Arc::from(name),
            inbound: Table::build(inbound),
            outbound: Table::build(outbound),
        })
    }

    /// The NSG's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first rule matching `flow` in `direction` decides (defaults included, so there is
    /// always an answer).
    pub fn evaluate(&self, direction: Direction, flow: &Flow) -> NsgDecision {
        let t = self.table(direction);
        t.decision(t.first_match(flow))
    }

    /// [`evaluate`](Self::evaluate) by a linear scan of every rule, without the index: the
    /// reference implementation for tests and the baseline of the benchmark.
    pub fn evaluate_scan(&self, direction: Direction, flow: &Flow) -> NsgDecision {
        let t = self.table(direction);
        t.decision(t.first_match_scan(flow))
    }

    /// The effective rules of `direction` in evaluation order, default rules last.
    pub fn rules(&self, direction: Direction) -> impl Iterator<Item = RuleView> + '_ {
        self.table(direction)
            .rules
            .iter()
            .map(move |r| r.view(direction))
    }

    /// Number of effective rules (default rules included) in `direction`.
    pub fn rule_count(&self, direction: Direction) -> usize {
        self.table(direction).rules.len()
    }

    fn table(&self, direction: Direction) -> &Table {
        match direction {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

fn compile_rule(nsg: &str, rule: &SecurityRule, tags: &ServiceTags) -> Result<Rule, NsgError> {
    if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&rule.priority) {
        return Err(NsgError::Priority {
            nsg: nsg.to_string(),
            rule: rule.name.clone(),
            priority: rule.priority,
        });
    }
    let address = |side: Side, items: &[&str]| {
        tags.resolve(items).map_err(|error| NsgError::Address {
            nsg: nsg.to_string(),
            rule: rule.name.clone(),
            side,
            error,
        })
    };
    let ports = |side: Side, items: &[&str]| {
        PortSet::parse(items).map_err(|error| NsgError::Ports {
            nsg: nsg.to_string(),
            rule: rule.name.clone(),
            side,
            error,
        })
    };
    let source_items = rule.source.items();
    let destination_items = rule.destination.items();
    Ok(Rule {
        name: Arc::from(rule.name.as_str()),
        priority: rule.priority,
        access: rule.access,
        protocol: rule.protocol,
        source: address(Side::Source, &source_items)?,
        source_ports: ports(Side::SourcePorts, &rule.source_ports.items())?,
        destination: address(Side::Destination, &destination_items)?,
        destination_ports: ports(Side::DestinationPorts, &rule.destination_ports.items())?,
        default_rule: false,
        source_text: source_items.join(", "),
        destination_text: destination_items.join(", "),
        description: rule.description.clone(),
    })
}

/// Azure's default rules for `direction` (NSG-6), in priority order.
fn default_rules(direction: Direction, tags: &ServiceTags) -> Vec<Rule> {
    let vnet = || AddressMatch::Prefixes(tags.virtual_network().clone());
    let rule = |name: &str,
                priority: u32,
                access: Access,
                (source, source_text): (AddressMatch, &str),
                (destination, destination_text): (AddressMatch, &str),
                description: &str| Rule {
        name: Arc::from(name),
        priority,
        access,
        protocol: Protocol::Any,
        source,
        source_ports: PortSet::any(),
        destination,
        destination_ports: PortSet::any(),
        default_rule: true,
        source_text: source_text.to_string(),
        destination_text: destination_text.to_string(),
        description: Some(description.to_string()),
    };
    match direction {
        Direction::Inbound => vec![
            rule(
                "AllowVnetInBound",
                65000,
                Access::Allow,
                (vnet(), "VirtualNetwork"),
                (vnet(), "VirtualNetwork"),
                "Allow inbound traffic from all VMs in VNET",
            ),
            rule(
                "AllowAzureLoadBalancerInBound",
                65001,
                Access::Allow,
                (
                    AddressMatch::Prefixes(tags.load_balancer().clone()),
                    "AzureLoadBalancer",
                ),
                (AddressMatch::Any, "*"),
                "Allow inbound traffic from azure load balancer",
            ),
            rule(
                "DenyAllInBound",
                65500,
                Access::Deny,
                (AddressMatch::Any, "*"),
                (AddressMatch::Any, "*"),
                "Deny all inbound traffic",
            ),
        ],
        Direction::Outbound => vec![
            rule(
                "AllowVnetOutBound",
                65000,
                Access::Allow,
                (vnet(), "VirtualNetwork"),
                (vnet(), "VirtualNetwork"),
                "Allow outbound traffic from all VMs to all VMs in VNET",
            ),
            rule(
                "AllowInternetOutBound",
                65001,
                Access::Allow,
                (AddressMatch::Any, "*"),
                (tags.internet(), "Internet"),
                "Allow outbound traffic from all VMs to Internet",
            ),
            rule(
                "DenyAllOutBound",
                65500,
                Access::Deny,
                (AddressMatch::Any, "*"),
                (AddressMatch::Any, "*"),
                "Deny all outbound traffic",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::network::{Network, OneOrMany, VirtualNetwork};
    use std::collections::BTreeMap;

    fn tags() -> ServiceTags {
        ServiceTags::new(&Network {
            virtual_network: Some(VirtualNetwork {
                address_space: vec!["10.10.0.0/16".into()],
                subnet: None,
                peered: vec!["10.20.0.0/16".into()],
            }),
            load_balancer: vec!["10.10.1.254/32".into()],
            service_tags: BTreeMap::from([(
                "ApiManagement".to_string(),
                vec!["198.51.100.0/24".to_string()],
            )]),
            ..Network::default()
        })
        .unwrap()
    }

    fn items(s: &str) -> OneOrMany {
        OneOrMany::One(s.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    fn rule(
        name: &str,
        priority: u32,
        direction: Direction,
        access: Access,
        protocol: Protocol,
        source: &str,
        destination: &str,
        destination_ports: &str,
    ) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            description: None,
            priority,
            direction,
            access,
            protocol,
            source: items(source),
            source_ports: items("*"),
            destination: items(destination),
            destination_ports: items(destination_ports),
        }
    }

    fn inbound(
        name: &str,
        priority: u32,
        access: Access,
        source: &str,
        ports: &str,
    ) -> SecurityRule {
        rule(
            name,
            priority,
            Direction::Inbound,
            access,
            Protocol::Tcp,
            source,
            "*",
            ports,
        )
    }

    fn compile(rules: Vec<SecurityRule>) -> CompiledNsg {
        CompiledNsg::compile(
            "nsg",
            &NetworkSecurityGroup {
                security_rules: rules,
            },
            &tags(),
        )
        .unwrap()
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn check(nsg: &CompiledNsg, d: Direction, flow: Flow) -> NsgDecision {
        let a = nsg.evaluate(d, &flow);
        assert_eq!(a, nsg.evaluate_scan(d, &flow), "index and scan disagree");
        a
    }

    fn inbound_tcp(nsg: &CompiledNsg, src: &str, dst: &str) -> NsgDecision {
        check(nsg, Direction::Inbound, Flow::tcp(sa(src), sa(dst)))
    }

    #[test]
    fn lower_priority_number_wins_deny_first() {
        let nsg = compile(vec![
            inbound("allow-200", 200, Access::Allow, "203.0.113.0/24", "443"),
            inbound("deny-100", 100, Access::Deny, "203.0.113.0/24", "443"),
        ]);
        let d = inbound_tcp(&nsg, "203.0.113.5:5000", "10.10.1.4:443");
        assert_eq!(d.access, Access::Deny);
        assert_eq!(&*d.rule, "deny-100");
        assert_eq!(d.priority, 100);
        assert!(!d.default_rule);
    }

    #[test]
    fn lower_priority_number_wins_allow_first() {
        let nsg = compile(vec![
            inbound("deny-200", 200, Access::Deny, "203.0.113.0/24", "443"),
            inbound("allow-100", 100, Access::Allow, "203.0.113.0/24", "443"),
        ]);
        let d = inbound_tcp(&nsg, "203.0.113.5:5000", "10.10.1.4:443");
        assert!(d.is_allowed());
        assert_eq!(&*d.rule, "allow-100");
    }

    #[test]
    fn priority_not_longest_prefix() {
        // The /8 at 100 wins over the /32 at 200 although the /32 is more specific.
        let nsg = compile(vec![
            inbound("wide", 100, Access::Deny, "203.0.0.0/8", "*"),
            inbound("narrow", 200, Access::Allow, "203.0.113.5", "*"),
        ]);
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.113.5:1", "10.10.1.4:443").rule,
            "wide"
        );
    }

    #[test]
    fn t15_priority_precedence_with_internet() {
        let nsg = compile(vec![
            inbound("deny-net", 100, Access::Deny, "203.0.113.0/24", "443"),
            inbound("allow-internet", 200, Access::Allow, "Internet", "443"),
        ]);
        let d = inbound_tcp(&nsg, "203.0.113.5:40000", "10.10.1.4:443");
        assert_eq!((&*d.rule, d.access), ("deny-net", Access::Deny));
        let d = inbound_tcp(&nsg, "198.51.100.7:40000", "10.10.1.4:443");
        assert_eq!((&*d.rule, d.access), ("allow-internet", Access::Allow));
    }

    #[test]
    fn first_match_skips_rules_whose_other_fields_differ() {
        let nsg = compile(vec![
            inbound("deny-80", 100, Access::Deny, "203.0.113.0/24", "80"),
            inbound("allow-443", 200, Access::Allow, "203.0.113.0/24", "443"),
        ]);
        let d = inbound_tcp(&nsg, "203.0.113.5:1", "10.10.1.4:443");
        assert_eq!(&*d.rule, "allow-443");
        let d = inbound_tcp(&nsg, "203.0.113.5:1", "10.10.1.4:8080");
        assert_eq!(&*d.rule, "DenyAllInBound");
    }

    #[test]
    fn protocol_matching() {
        let nsg = compile(vec![
            rule(
                "udp-only",
                100,
                Direction::Inbound,
                Access::Allow,
                Protocol::Udp,
                "203.0.113.0/24",
                "*",
                "4290",
            ),
            rule(
                "any-proto",
                200,
                Direction::Inbound,
                Access::Allow,
                Protocol::Any,
                "198.51.100.0/24",
                "*",
                "*",
            ),
        ]);
        let tcp = Flow::tcp(sa("203.0.113.5:1"), sa("10.10.1.4:4290"));
        assert_eq!(
            &*check(&nsg, Direction::Inbound, tcp).rule,
            "DenyAllInBound"
        );
        let udp = Flow::new(tcp.source, tcp.destination, Protocol::Udp);
        assert_eq!(&*check(&nsg, Direction::Inbound, udp).rule, "udp-only");
        for p in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Any] {
            let f = Flow::new(sa("198.51.100.1:0"), sa("10.10.1.4:0"), p);
            assert_eq!(
                &*check(&nsg, Direction::Inbound, f).rule,
                "any-proto",
                "{p:?}"
            );
        }
        // An `Any` flow only meets rules for every protocol.
        let any = Flow::new(tcp.source, tcp.destination, Protocol::Any);
        assert_eq!(
            &*check(&nsg, Direction::Inbound, any).rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn icmp_only_meets_rules_for_every_port() {
        let nsg = compile(vec![
            rule(
                "tcp-and-all-443",
                100,
                Direction::Inbound,
                Access::Allow,
                Protocol::Any,
                "203.0.113.0/24",
                "*",
                "443",
            ),
            rule(
                "icmp",
                200,
                Direction::Inbound,
                Access::Deny,
                Protocol::Icmp,
                "203.0.113.0/24",
                "*",
                "*",
            ),
        ]);
        let f = Flow::new(sa("203.0.113.5:0"), sa("10.10.1.4:443"), Protocol::Icmp);
        assert_eq!(&*check(&nsg, Direction::Inbound, f).rule, "icmp");
    }

    #[test]
    fn source_ports_are_matched() {
        let mut r = inbound("from-high", 100, Access::Allow, "*", "443");
        r.source_ports = items("1024-65535");
        let nsg = compile(vec![r]);
        assert_eq!(
            &*inbound_tcp(&nsg, "8.8.8.8:40000", "10.10.1.4:443").rule,
            "from-high"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "8.8.8.8:53", "10.10.1.4:443").rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn destination_is_matched() {
        let nsg = compile(vec![rule(
            "to-vnet",
            100,
            Direction::Inbound,
            Access::Allow,
            Protocol::Tcp,
            "*",
            "VirtualNetwork",
            "443",
        )]);
        assert!(inbound_tcp(&nsg, "8.8.8.8:1", "10.10.1.4:443").is_allowed());
        // T21: a public VIP literal is not VirtualNetwork (the NSG sees post-DNAT addresses).
        assert_eq!(
            &*inbound_tcp(&nsg, "8.8.8.8:1", "20.1.2.3:443").rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn inbound_default_rules() {
        let nsg = compile(vec![]);
        // VNet → VNet allowed (peered counts as VNet).
        let d = inbound_tcp(&nsg, "10.20.3.4:5000", "10.10.1.4:443");
        assert_eq!(
            (&*d.rule, d.priority, d.access, d.default_rule),
            ("AllowVnetInBound", 65000, Access::Allow, true)
        );
        // Internet → VNet denied.
        let d = inbound_tcp(&nsg, "8.8.8.8:5000", "10.10.1.4:443");
        assert_eq!(
            (&*d.rule, d.priority, d.access, d.default_rule),
            ("DenyAllInBound", 65500, Access::Deny, true)
        );
        // The load balancer reaches anything. Here its address (10.10.1.254) lies inside the
        // VNet, so towards the VNet the earlier AllowVnetInBound answers first.
        let d = inbound_tcp(&nsg, "10.10.1.254:1", "8.8.8.8:80");
        assert_eq!(
            (&*d.rule, d.priority, d.access),
            ("AllowAzureLoadBalancerInBound", 65001, Access::Allow)
        );
        let d = inbound_tcp(&nsg, "10.10.1.254:1", "10.10.1.4:6390");
        assert_eq!((&*d.rule, d.access), ("AllowVnetInBound", Access::Allow));
        // VNet → outside the VNet isn't AllowVnetInBound.
        assert_eq!(
            &*inbound_tcp(&nsg, "10.10.0.9:1", "8.8.8.8:80").rule,
            "DenyAllInBound"
        );
        // IPv6 internet is denied too.
        assert_eq!(
            &*inbound_tcp(&nsg, "[2001:db8::1]:1", "10.10.1.4:443").rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn outbound_default_rules() {
        let nsg = compile(vec![]);
        let out =
            |src: &str, dst: &str| check(&nsg, Direction::Outbound, Flow::tcp(sa(src), sa(dst)));
        let d = out("10.10.1.4:40000", "93.184.216.34:443");
        assert_eq!(
            (&*d.rule, d.priority, d.access),
            ("AllowInternetOutBound", 65001, Access::Allow)
        );
        let d = out("10.10.1.4:40000", "10.20.0.4:443");
        assert_eq!(
            (&*d.rule, d.priority, d.access),
            ("AllowVnetOutBound", 65000, Access::Allow)
        );
        // From outside the VNet to the VNet: neither allow rule applies.
        let d = out("8.8.8.8:1", "10.10.0.4:443");
        assert_eq!(
            (&*d.rule, d.priority, d.access),
            ("DenyAllOutBound", 65500, Access::Deny)
        );
    }

    #[test]
    fn t17_deny_internet_outbound_keeps_vnet() {
        let nsg = compile(vec![rule(
            "Deny_All_Internet_Outbound",
            999,
            Direction::Outbound,
            Access::Deny,
            Protocol::Any,
            "VirtualNetwork",
            "Internet",
            "*",
        )]);
        let out = |dst: &str| {
            check(
                &nsg,
                Direction::Outbound,
                Flow::tcp(sa("10.10.1.4:1"), sa(dst)),
            )
        };
        assert_eq!(
            &*out("93.184.216.34:443").rule,
            "Deny_All_Internet_Outbound"
        );
        assert_eq!(&*out("10.20.0.4:443").rule, "AllowVnetOutBound");
    }

    #[test]
    fn directions_are_separate() {
        let nsg = compile(vec![rule(
            "out-deny",
            100,
            Direction::Outbound,
            Access::Deny,
            Protocol::Any,
            "*",
            "*",
            "*",
        )]);
        assert_eq!(
            &*inbound_tcp(&nsg, "10.10.0.1:1", "10.10.0.2:1").rule,
            "AllowVnetInBound"
        );
        assert_eq!(
            &*check(
                &nsg,
                Direction::Outbound,
                Flow::tcp(sa("10.10.0.1:1"), sa("10.10.0.2:1"))
            )
            .rule,
            "out-deny"
        );
    }

    #[test]
    fn override_default_with_higher_priority() {
        let nsg = compile(vec![inbound(
            "deny-vnet",
            4096,
            Access::Deny,
            "VirtualNetwork",
            "*",
        )]);
        assert_eq!(
            &*inbound_tcp(&nsg, "10.10.0.1:1", "10.10.0.2:1").rule,
            "deny-vnet"
        );
    }

    #[test]
    fn custom_tags_and_ipv4_mapped_sources() {
        let nsg = compile(vec![inbound(
            "mgmt",
            100,
            Access::Allow,
            "ApiManagement",
            "3443",
        )]);
        assert_eq!(
            &*inbound_tcp(&nsg, "198.51.100.9:1", "10.10.1.4:3443").rule,
            "mgmt"
        );
        // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
        assert_eq!(
            &*inbound_tcp(&nsg, "[::ffff:198.51.100.9]:1", "[::ffff:10.10.1.4]:3443").rule,
            "mgmt"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.113.1:1", "10.10.1.4:3443").rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn ipv6_prefix_rules() {
        let nsg = compile(vec![inbound(
            "v6",
            100,
            Access::Allow,
            "2001:db8::/32",
            "443",
        )]);
        assert_eq!(
            &*inbound_tcp(&nsg, "[2001:db8::5]:1", "[fd00::1]:443").rule,
            "v6"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "[2001:db9::5]:1", "[fd00::1]:443").rule,
            "DenyAllInBound"
        );
    }

    #[test]
    fn rules_view_in_evaluation_order() {
        let mut r = inbound(
            "b",
            300,
            Access::Allow,
            "10.0.0.0/8, 192.168.0.0/16",
            "443, 80",
        );
        r.description = Some("web".into());
        let nsg = compile(vec![r, inbound("a", 100, Access::Deny, "Internet", "*")]);
        let v: Vec<RuleView> = nsg.rules(Direction::Inbound).collect();
        let names: Vec<&str> = v.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "b",
                "AllowVnetInBound",
                "AllowAzureLoadBalancerInBound",
                "DenyAllInBound"
            ]
        );
        assert_eq!(v[1].source, "10.0.0.0/8, 192.168.0.0/16");
        assert_eq!(v[1].destination_ports, "80,443");
        assert_eq!(v[1].source_ports, "*");
        assert_eq!(v[1].description.as_deref(), Some("web"));
        assert!(!v[1].default_rule && v[4].default_rule);
        assert_eq!(v[3].source, "AzureLoadBalancer");
        assert_eq!(v[3].destination, "*");
        let out: Vec<RuleView> = nsg.rules(Direction::Outbound).collect();
        assert_eq!(
            out.iter()
                .map(|r| (r.name.as_str(), r.priority, r.destination.as_str()))
                .collect::<Vec<_>>(),
            [
                ("AllowVnetOutBound", 65000, "VirtualNetwork"),
                ("AllowInternetOutBound", 65001, "Internet"),
                ("DenyAllOutBound", 65500, "*")
            ]
        );
        assert_eq!(nsg.rule_count(Direction::Inbound), 5);
        assert_eq!(nsg.name(), "nsg");
    }

    #[test]
    fn compile_errors_name_the_rule() {
        let nsg = |rules| {
            CompiledNsg::compile(
                "apim-nsg",
                &NetworkSecurityGroup {
                    security_rules: rules,
                },
                &tags(),
            )
            .unwrap_err()
        };
        let e = nsg(vec![inbound("x", 100, Access::Allow, "10.0.0.300/8", "*")]);
        assert!(
            e.to_string().starts_with(
                "network security group 'apim-nsg': rule 'x': bad prefix '10.0.0.300/8'"
            ),
            "{e}"
        );
        assert!(e.to_string().ends_with("(in source)"), "{e}");
        let e = nsg(vec![inbound("y", 100, Access::Allow, "Storage", "*")]);
        assert!(matches!(
            e,
            NsgError::Address {
                side: Side::Source,
                error: TagError::Unknown(_),
                ..
            }
        ));
        let e = nsg(vec![inbound("z", 100, Access::Allow, "*", "99999")]);
        assert!(matches!(
            e,
            NsgError::Ports {
                side: Side::DestinationPorts,
                ..
            }
        ));
        assert!(e.to_string().contains("rule 'z': bad port '99999'"), "{e}");
        let e = nsg(vec![inbound("low", 99, Access::Allow, "*", "*")]);
        assert!(matches!(e, NsgError::Priority { priority: 99, .. }));
        let e = nsg(vec![inbound("high", 4097, Access::Allow, "*", "*")]);
        assert!(matches!(e, NsgError::Priority { priority: 4097, .. }));
        let e = nsg(vec![
            inbound("one", 300, Access::Allow, "*", "*"),
            inbound("two", 300, Access::Deny, "*", "*"),
        ]);
        assert_eq!(
            e.to_string(),
            "network security group 'apim-nsg': rules 'one' and 'two' both have inbound priority 300"
        );
        // Same priority in different directions is fine (T16).
        let mut out = inbound("out", 300, Access::Allow, "*", "*");
        out.direction = Direction::Outbound;
        let ok = CompiledNsg::compile(
            "n",
            &NetworkSecurityGroup {
                security_rules: vec![inbound("in", 300, Access::Allow, "*", "*"), out],
            },
            &tags(),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn rules_with_many_prefixes_share_the_index() {
        // Same prefix in several rules, overlapping prefixes within one rule.
        let nsg = compile(vec![
            inbound(
                "a",
                100,
                Access::Deny,
                "203.0.113.0/24, 203.0.113.0/25",
                "22",
            ),
            inbound("b", 200, Access::Allow, "203.0.113.0/24", "443"),
            inbound("c", 300, Access::Deny, "203.0.0.0/16", "*"),
        ]);
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.113.1:1", "10.10.0.1:22").rule,
            "a"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.113.1:1", "10.10.0.1:443").rule,
            "b"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.113.200:1", "10.10.0.1:80").rule,
            "c"
        );
        assert_eq!(
            &*inbound_tcp(&nsg, "203.0.1.1:1", "10.10.0.1:443").rule,
            "c"
        );
    }
}
