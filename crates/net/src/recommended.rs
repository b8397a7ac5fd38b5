//! The NSG rules Azure's documentation requires of an API Management subnet, checked against the
//! NSG as written (docs/network.md "NSG warnings"): `gatehouse net show` and `config validate`
//! warn — never refuse — when a required flow is denied, naming the NSG, the missing rule and a
//! rule to paste.
//!
//! Each requirement is a flow evaluated with the NSG engine (crates/net/src/nsg.rs), not a search
//! for a rule of the same text: `source: "*"` covers `ApiManagement`, and a deny written above an
//! allow still wins, as in Azure. A tag's flow starts at one address of the tag; a tag the config
//! does not resolve (no tags file, an empty `load_balancer`) gets a stand-in address of
//! 240.0.0.0/4 (reserved, never a real host), so a rule naming the tag could not match it while
//! `*` still does.
//!
//! Required, per mode (Azure's port table for classic injection; Premium v2 injection and v2
//! outbound integration have their own short lists):
//! - classic (Developer, Premium): inbound 3443 from `ApiManagement`, 6390 from
//!   `AzureLoadBalancer` (not for Developer, a single unit), outbound `Internet` 80 (certificate
//!   validation), `Storage` 443, `Sql` 1433, `AzureKeyVault` 443, `AzureMonitor` 1886 and 443;
//! - Premium v2 injection: outbound `Storage` 443;
//! - v2 outbound integration (its subnet's NSG): outbound `AzureKeyVault` 443;
//! - type external: the gateway's public listeners reachable from `Internet`.

use crate::nsg::{CompiledNsg, Flow};
use crate::tags::ServiceTags;
use gatehouse_model::network::{Direction, IntegrationSubnet, Network, NetworkType, parse_prefix};
use gatehouse_model::{Config, Sku};
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// One required flow the NSG denies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsgWarning {
    /// Where in the file: `network.network_security_groups.apim-nsg`.
    pub path: String,
    pub nsg: String,
    /// The missing rule, in words.
    pub missing: String,
    /// The rule that denies the flow today and its priority.
    pub denied_by: (String, u32),
    /// A rule to paste under `security_rules` (YAML flow mapping).
    pub add: String,
}

impl fmt::Display for NsgWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: NSG '{}' lacks {} (denied by rule '{}', priority {}); add under security_rules: {}",
            self.path, self.nsg, self.missing, self.denied_by.0, self.denied_by.1, self.add
        )
    }
}

/// One flow Azure requires.
struct Required {
    direction: Direction,
    /// The remote side's tag (source inbound, destination outbound).
    tag: &'static str,
    port: u16,
    purpose: &'static str,
}

const fn req(
    direction: Direction,
    tag: &'static str,
    port: u16,
    purpose: &'static str,
) -> Required {
    Required {
        direction,
        tag,
        port,
        purpose,
    }
}

const MANAGEMENT: Required = req(
    Direction::Inbound,
    "ApiManagement",
    3443,
    "the management endpoint",
);
const LOAD_BALANCER: Required = req(
    Direction::Inbound,
    "AzureLoadBalancer",
    6390,
    "Azure's infrastructure load balancer",
);
const OUTBOUND_CLASSIC: [Required; 6] = [
    req(
        Direction::Outbound,
        "Internet",
        80,
        "certificate validation",
    ),
    req(
        Direction::Outbound,
        "Storage",
        443,
        "the Azure Storage dependency",
    ),
    req(Direction::Outbound, "Sql", 1433, "the Azure SQL dependency"),
    req(Direction::Outbound, "AzureKeyVault", 443, "Azure Key Vault"),
    req(
        Direction::Outbound,
        "AzureMonitor",
        1886,
        "diagnostics logs and metrics",
    ),
    req(
        Direction::Outbound,
        "AzureMonitor",
        443,
        "diagnostics and Application Insights",
    ),
];
const STORAGE: Required = req(
    Direction::Outbound,
    "Storage",
    443,
    "the Azure Storage dependency",
);
const KEY_VAULT: Required = req(Direction::Outbound, "AzureKeyVault", 443, "Azure Key Vault");

/// The warnings for the main network section and each additional location's.
pub fn check(config: &Config) -> Vec<NsgWarning> {
    let mut out = check_network("network", &config.network, config.service.sku, config);
    for (i, loc) in config.service.additional_locations.iter().enumerate() {
        out.extend(check_network(
            &format!("service.additional_locations[{i}].network"),
            &loc.network,
            loc.sku.unwrap_or(config.service.sku),
            config,
        ));
    }
    out
}

fn check_network(path: &str, n: &Network, sku: Sku, config: &Config) -> Vec<NsgWarning> {
    // A section that does not compile is refused by validation, with better messages.
    let Ok(tags) = ServiceTags::new(n) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let injected = matches!(n.kind, NetworkType::External | NetworkType::Internal);
    let subnet = n.virtual_network.as_ref().and_then(|v| v.subnet.as_ref());
    if injected && let Some(s) = subnet {
        let mut required: Vec<&Required> = Vec::new();
        if sku == Sku::Premiumv2 {
            required.push(&STORAGE);
        } else {
            required.push(&MANAGEMENT);
            if sku != Sku::Developer {
                required.push(&LOAD_BALANCER);
            }
            required.extend(OUTBOUND_CLASSIC.iter());
        }
        let mode = if sku == Sku::Premiumv2 {
            "Premium v2 injection"
        } else {
            "VNet injection"
        };
        if let Some(ctx) = Ctx::new(path, s.nsg.as_deref(), &s.prefix, n, &tags) {
            for r in required {
                ctx.require(&mut out, r, mode);
            }
            if n.kind == NetworkType::External {
                for addr in public_listeners(n, config) {
                    ctx.require_public(&mut out, addr);
                }
            }
        }
    }
    if let Some(IntegrationSubnet::Full {
        prefix,
        nsg: Some(nsg),
        ..
    }) = n
        .outbound
        .as_ref()
        .and_then(|o| o.integration_subnet.as_ref())
        && let Some(ctx) = Ctx::new(path, Some(nsg), prefix, n, &tags)
    {
        ctx.require(&mut out, &KEY_VAULT, "outbound VNet integration");
    }
    out
}

/// The gateway's public listeners in this section: `endpoints.gateway.public`, or the
/// `gateway.listeners` a section without endpoints serves publicly.
fn public_listeners(n: &Network, config: &Config) -> Vec<SocketAddr> {
    match &n.endpoints.gateway {
        Some(g) => g
            .public
            .iter()
            .filter_map(|l| l.address().parse().ok())
            .collect(),
        None => config
            .gateway
            .listeners
            .iter()
            .filter_map(|l| l.address.parse().ok())
            .collect(),
    }
}

/// One NSG and the addresses its flows are evaluated with.
struct Ctx<'a> {
    path: String,
    name: &'a str,
    nsg: CompiledNsg,
    rules: &'a gatehouse_model::network::NetworkSecurityGroup,
    /// An address of the subnet (the `VirtualNetwork` side of every flow).
    inside: IpAddr,
    tags: &'a ServiceTags,
}

impl<'a> Ctx<'a> {
    fn new(
        path: &str,
        nsg: Option<&'a str>,
        prefix: &str,
        n: &'a Network,
        tags: &'a ServiceTags,
    ) -> Option<Self> {
        let name = nsg?;
        let rules = n.network_security_groups.get(name)?;
        let compiled = CompiledNsg::compile(name, rules, tags).ok()?;
        let inside = match parse_prefix(prefix).ok()? {
            // Azure's first address for a host in a subnet (.4).
            IpNet::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4.network()).saturating_add(4))),
            IpNet::V6(v6) => IpAddr::V6(v6.network()),
        };
        Some(Ctx {
            path: format!("{path}.network_security_groups.{name}"),
            name,
            nsg: compiled,
            rules,
            inside,
            tags,
        })
    }

    /// Whether the config gives `tag` at least one address.
    fn resolves(&self, tag: &str) -> bool {
        match tag {
            "Internet" => true,
            "AzureLoadBalancer" => !self.tags.load_balancer().is_empty(),
            _ => self.tags.custom(tag).is_some_and(|s| !s.is_empty()),
        }
    }

    /// An address in `tag`, or a stand-in no rule naming the tag matches (see the module doc).
    fn address_of(&self, tag: &str) -> IpAddr {
        if tag == "Internet" {
            return internet_address(self.tags);
        }
        let first = match tag {
            "AzureLoadBalancer" => self.tags.load_balancer().iter().next(),
            _ => self.tags.custom(tag).and_then(|s| s.iter().next()),
        };
        match first {
            Some(net) => net.network(),
            None => IpAddr::V4(Ipv4Addr::new(240, 0, 0, stand_in(tag))),
        }
    }

    fn require(&self, out: &mut Vec<NsgWarning>, r: &Required, mode: &str) {
        let remote = SocketAddr::new(self.address_of(r.tag), 50000);
        let inside = SocketAddr::new(self.inside, r.port);
        let flow = match r.direction {
            Direction::Inbound => Flow::tcp(remote, inside),
            Direction::Outbound => Flow::tcp(
                SocketAddr::new(self.inside, 50000),
                SocketAddr::new(remote.ip(), r.port),
            ),
        };
        let d = self.nsg.evaluate(r.direction, &flow);
        if d.is_allowed() {
            return;
        }
        let (dir, source, destination) = match r.direction {
            Direction::Inbound => ("inbound", r.tag, "VirtualNetwork"),
            Direction::Outbound => ("outbound", "VirtualNetwork", r.tag),
        };
        let hint = match (r.tag, self.resolves(r.tag)) {
            (_, true) => String::new(),
            ("AzureLoadBalancer", false) => "; network.load_balancer is empty, so the tag matches no address: list the load balancer's addresses there".to_string(),
            (tag, false) => format!("; the tag {tag} is not defined: set network.service_tags_file (Azure's Service Tags JSON) or define it under network.service_tags"),
        };
        out.push(NsgWarning {
            path: self.path.clone(),
            nsg: self.name.to_string(),
            missing: format!(
                "the {dir} rule {mode} requires: TCP {source} -> {destination} port {} ({}){hint}",
                r.port, r.purpose
            ),
            denied_by: (d.rule.to_string(), d.priority),
            add: self.rule_text(r.direction, source, destination, r.port, d.priority),
        });
    }

    fn require_public(&self, out: &mut Vec<NsgWarning>, listener: SocketAddr) {
        let flow = Flow::tcp(
            SocketAddr::new(internet_address(self.tags), 50000),
            SocketAddr::new(self.inside, listener.port()),
        );
        let d = self.nsg.evaluate(Direction::Inbound, &flow);
        if d.is_allowed() {
            return;
        }
        out.push(NsgWarning {
            path: self.path.clone(),
            nsg: self.name.to_string(),
            missing: format!(
                "an inbound rule from Internet to the external gateway's public listener {listener}: it is unreachable from the internet"
            ),
            denied_by: (d.rule.to_string(), d.priority),
            add: self.rule_text(
                Direction::Inbound,
                "Internet",
                "VirtualNetwork",
                listener.port(),
                d.priority,
            ),
        });
    }

    /// A paste-able rule, at the highest free priority that still comes before `denying`.
    fn rule_text(
        &self,
        dir: Direction,
        source: &str,
        destination: &str,
        port: u16,
        denying: u32,
    ) -> String {
        let used = |p: u32| {
            self.rules
                .security_rules
                .iter()
                .any(|r| r.direction == dir && r.priority == p)
        };
        let start = denying.saturating_sub(1).min(crate::nsg::MAX_PRIORITY);
        let priority = (100..=start).rev().find(|p| !used(*p)).unwrap_or(100);
        let (d, remote) = match dir {
            Direction::Inbound => ("inbound", source),
            Direction::Outbound => ("outbound", destination),
        };
        format!(
            "{{ name: Allow-{remote}-{port}-{}, priority: {priority}, direction: {d}, access: allow, protocol: tcp, source: {source}, source_ports: \"*\", destination: {destination}, destination_ports: \"{port}\" }}",
            if dir == Direction::Inbound {
                "In"
            } else {
                "Out"
            }
        )
    }
}

/// An address of the `Internet` tag: a documentation address outside the virtual network.
fn internet_address(tags: &ServiceTags) -> IpAddr {
    [
        [203, 0, 113, 10],
        [198, 51, 100, 10],
        [192, 0, 2, 10],
        [8, 8, 8, 8],
    ]
    .into_iter()
    .map(|o| IpAddr::V4(Ipv4Addr::from(o)))
    .find(|ip| tags.is_internet(*ip))
    .unwrap_or(IpAddr::V4(Ipv4Addr::new(8, 8, 4, 4)))
}

/// A distinct stand-in per tag, so that two missing tags never share an address.
fn stand_in(tag: &str) -> u8 {
    match tag {
        "ApiManagement" => 1,
        "AzureLoadBalancer" => 2,
        "Storage" => 3,
        "Sql" => 4,
        "AzureKeyVault" => 5,
        "AzureMonitor" => 6,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str};
    use std::path::Path;

    /// A premium external deployment; `{rules}` are the NSG's rules (YAML flow items).
    fn config(sku: &str, kind: &str, rules: &[&str]) -> Config {
        let yaml = format!(
            r#"
service: {{ name: t, sku: {sku} }}
network:
  type: {kind}
  load_balancer: [168.63.129.16]
  service_tags:
    ApiManagement: [192.0.2.0/28]
    Storage: [198.51.100.0/26]
    Sql: [198.51.100.64/26]
    AzureKeyVault: [198.51.100.128/26]
    AzureMonitor: [198.51.100.192/26]
  virtual_network: {{ address_space: [10.10.0.0/16], subnet: {{ prefix: 10.10.1.0/24, nsg: apim-nsg }} }}
  endpoints: {{ gateway: {{ public: "0.0.0.0:8443", private: "10.10.1.4:8443" }} }}
  network_security_groups:
    apim-nsg:
      security_rules: [{}]
"#,
            rules.join(", ")
        );
        from_str(&yaml, Format::Yaml, Path::new("t.yaml")).expect("parses")
    }

    const RECOMMENDED: [&str; 3] = [
        "{ name: mgmt, priority: 100, direction: inbound, access: allow, protocol: tcp, source: ApiManagement, destination: VirtualNetwork, destination_ports: \"3443\" }",
        "{ name: lb, priority: 110, direction: inbound, access: allow, protocol: tcp, source: AzureLoadBalancer, destination: VirtualNetwork, destination_ports: \"6390\" }",
        "{ name: clients, priority: 120, direction: inbound, access: allow, protocol: tcp, source: Internet, destination: VirtualNetwork, destination_ports: \"8443\" }",
    ];

    fn missing(w: &[NsgWarning]) -> Vec<String> {
        w.iter().map(|w| w.missing.clone()).collect()
    }

    #[test]
    fn the_recommended_nsg_passes() {
        assert_eq!(check(&config("premium", "external", &RECOMMENDED)), vec![]);
        // `*` covers ApiManagement: a flow, not a text, is checked.
        let any = RECOMMENDED[0].replace("source: ApiManagement", "source: \"*\"");
        assert_eq!(
            check(&config(
                "premium",
                "external",
                &[&any, RECOMMENDED[1], RECOMMENDED[2]]
            )),
            vec![]
        );
    }

    #[test]
    fn an_empty_nsg_misses_the_inbound_rules_and_the_public_listener() {
        let w = check(&config("premium", "external", &[]));
        let m = missing(&w);
        // Azure's default AllowAzureLoadBalancerInBound admits 6390 from the load balancer.
        assert_eq!(w.len(), 2, "{m:#?}");
        assert!(m[0].starts_with("the inbound rule VNet injection requires: TCP ApiManagement -> VirtualNetwork port 3443"), "{m:#?}");
        assert!(
            m[1].contains("public listener 0.0.0.0:8443: it is unreachable from the internet"),
            "{m:#?}"
        );
        assert_eq!(w[0].path, "network.network_security_groups.apim-nsg");
        assert_eq!(w[0].denied_by, ("DenyAllInBound".to_string(), 65500));
        assert_eq!(
            w[0].add,
            "{ name: Allow-ApiManagement-3443-In, priority: 4096, direction: inbound, access: allow, protocol: tcp, source: ApiManagement, source_ports: \"*\", destination: VirtualNetwork, destination_ports: \"3443\" }"
        );
        assert!(w[0].to_string().starts_with(
            "network.network_security_groups.apim-nsg: NSG 'apim-nsg' lacks the inbound rule"
        ));
        // Internal: no public listener to reach.
        let internal = config("premium", "internal", &[]);
        let mut internal = internal;
        internal.network.endpoints.gateway.as_mut().unwrap().public = None;
        assert_eq!(check(&internal).len(), 1);
        // A deny above the default rule takes 6390 away, except for Developer (one unit).
        let deny_lb = "{ name: no-lb, priority: 4000, direction: inbound, access: deny, protocol: \"*\", source: AzureLoadBalancer, destination: \"*\" }";
        let m = missing(&check(&config("premium", "external", &[deny_lb])));
        assert!(
            m.iter()
                .any(|m| m.contains("AzureLoadBalancer -> VirtualNetwork port 6390")),
            "{m:#?}"
        );
        assert_eq!(check(&config("developer", "external", &[deny_lb])).len(), 2);
    }

    #[test]
    fn the_pasted_rules_silence_the_warnings() {
        let deny = "{ name: deny-out, priority: 999, direction: outbound, access: deny, protocol: \"*\", source: VirtualNetwork, destination: Internet }";
        let mut rules: Vec<String> = vec![deny.to_string()];
        let w = check(&config("premium", "external", &[deny]));
        let m = missing(&w);
        for want in [
            "Internet port 80",
            "Storage port 443",
            "Sql port 1433",
            "AzureKeyVault port 443",
            "AzureMonitor port 1886",
            "AzureMonitor port 443",
        ] {
            assert!(m.iter().any(|m| m.contains(want)), "{want}: {m:#?}");
        }
        assert_eq!(w.len(), 8, "{m:#?}");
        assert!(
            w.iter()
                .filter(|w| w.denied_by.0 == "deny-out")
                .all(|w| w.add.contains("priority: 998"))
        );
        rules.extend(w.iter().map(|w| w.add.clone()));
        // Two suggestions may share a priority: renumber them, as a user pasting them would.
        let rules: Vec<String> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = r
                    .find("priority: ")
                    .map(|s| &r[s..])
                    .and_then(|s| s.split(',').next())
                    .unwrap_or("");
                if i == 0 {
                    r.clone()
                } else {
                    r.replacen(p, &format!("priority: {}", 200 + i), 1)
                }
            })
            .collect();
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        assert_eq!(check(&config("premium", "external", &refs)), vec![]);
    }

    #[test]
    fn premium_v2_and_integration_have_their_own_lists() {
        let deny = "{ name: deny-out, priority: 999, direction: outbound, access: deny, protocol: \"*\", source: \"*\", destination: \"*\" }";
        let mut v2 = config("premiumv2", "internal", &[deny]);
        v2.network.endpoints.gateway.as_mut().unwrap().public = None;
        let m = missing(&check(&v2));
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(m[0].starts_with("the outbound rule Premium v2 injection requires: TCP VirtualNetwork -> Storage port 443"));

        let mut int = config("standardv2", "none", &[deny]);
        int.network.outbound = Some(gatehouse_model::network::Outbound {
            integration_subnet: Some(IntegrationSubnet::Full {
                name: None,
                prefix: "10.10.3.0/24".into(),
                delegation: Some("Microsoft.Web/serverFarms".into()),
                nsg: Some("apim-nsg".into()),
            }),
            allowed_destinations: vec![],
        });
        let m = missing(&check(&int));
        assert_eq!(m.len(), 1, "{m:#?}");
        assert!(m[0].starts_with("the outbound rule outbound VNet integration requires: TCP VirtualNetwork -> AzureKeyVault port 443"));
    }

    #[test]
    fn undefined_tags_are_named() {
        let mut c = config("premium", "external", &[]);
        c.network.service_tags.clear();
        c.network.load_balancer.clear();
        let m = missing(&check(&c));
        assert!(
            m[0].contains("the tag ApiManagement is not defined: set network.service_tags_file"),
            "{m:#?}"
        );
        assert!(m[1].contains("network.load_balancer is empty"), "{m:#?}");
    }
}
