//! Validation of the `network` section: Azure's rules for virtual-network injection, private
//! endpoints and network security groups, each problem reported with its path. Also works out
//! where the gateway listens and how each listener is reached.

use crate::config::{Config, Listener};
use crate::network::*;
use crate::service_tags_file::KnownTags;
use crate::validate::{Checker, Exposure, ListenerPlan};
use ipnet::IpNet;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

/// Service tags gatehouse resolves itself (docs/network.md); `LoadBalancer` is an alias.
pub const BUILTIN_TAGS: [&str; 5] = [
    "VirtualNetwork",
    "AzureLoadBalancer",
    "LoadBalancer",
    "Internet",
    "Any",
];
/// Azure's limits (NSG-9, PE-2).
pub const MAX_RULES_PER_NSG: usize = 1000;
pub const MAX_PREFIXES_PER_SIDE: usize = 4000;
pub const MAX_PRIVATE_ENDPOINTS: usize = 100;

/// Azure's rule-name rule (NSG-1): at most 80 characters of word characters, `.`, `-` and `_`,
/// starting with a word character and ending with one or `_`.
fn valid_rule_name(n: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    n.chars().count() <= 80
        && n.starts_with(word)
        && n.ends_with(|c: char| word(c))
        && n.chars().all(|c| word(c) || c == '.' || c == '-')
}

fn is_any(s: &str) -> bool {
    s == "*" || s.eq_ignore_ascii_case("any")
}

fn parse_listen(c: &mut Checker, path: &str, spec: &ListenSpec) -> Option<SocketAddr> {
    match spec.address().parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            c.error(
                path,
                format!(
                    "invalid address '{}': expected IP:PORT such as 10.10.1.4:8443",
                    spec.address()
                ),
            );
            None
        }
    }
}

/// Checks `network` and returns the gateway's effective listeners.
pub(crate) fn network(
    c: &mut Checker,
    config: &Config,
    listen_addrs: &[SocketAddr],
) -> Vec<ListenerPlan> {
    let n = &config.network;
    let injected = matches!(n.kind, NetworkType::External | NetworkType::Internal);
    crate::tiers::check(c, config);

    for (i, p) in n.load_balancer.iter().enumerate() {
        if let Err(e) = parse_prefix(p) {
            c.error(format!("network.load_balancer[{i}]"), e);
        }
    }
    let mut subnet_net: Option<IpNet> = None;
    if let Some(vnet) = &n.virtual_network {
        if vnet.address_space.is_empty() {
            c.error(
                "network.virtual_network.address_space",
                "at least one prefix is needed",
            );
        }
        let space: Vec<IpNet> = vnet
            .address_space
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                parse_prefix(p)
                    .map_err(|e| c.error(format!("network.virtual_network.address_space[{i}]"), e))
                    .ok()
            })
            .collect();
        for (i, p) in vnet.peered.iter().enumerate() {
            if let Err(e) = parse_prefix(p) {
                c.error(format!("network.virtual_network.peered[{i}]"), e);
            }
        }
        if let Some(s) = &vnet.subnet {
            match parse_prefix(&s.prefix) {
                Ok(net) => {
                    if !matches!(net, IpNet::V4(_)) {
                        c.error(
                            "network.virtual_network.subnet.prefix",
                            "the subnet must be IPv4 (as in Azure)",
                        );
                    } else if net.prefix_len() > 29 {
                        c.error("network.virtual_network.subnet.prefix", format!("subnet {net} is smaller than /29, the smallest API Management accepts"));
                    }
                    if !space.is_empty() && !space.iter().any(|s| s.contains(&net)) {
                        c.error(
                            "network.virtual_network.subnet.prefix",
                            format!("subnet {net} is not inside the address space"),
                        );
                    }
                    subnet_net = Some(net);
                }
                Err(e) => c.error("network.virtual_network.subnet.prefix", e),
            }
            if let Some(d) = &s.delegation
                && !d.eq_ignore_ascii_case("none")
                && crate::tiers::delegation_refused(config.service.sku)
            {
                c.error("network.virtual_network.subnet.delegation", format!("the subnet is delegated to '{d}': Azure requires a subnet without delegation"));
            }
            match &s.nsg {
                Some(nsg) if !n.network_security_groups.contains_key(nsg) => {
                    c.error("network.virtual_network.subnet.nsg", format!("no network security group named '{nsg}'"))
                }
                None if injected => c.error(
                    "network.virtual_network.subnet.nsg",
                    "an injected gateway needs an NSG on its subnet (Azure's load balancer refuses all inbound traffic otherwise)",
                ),
                _ => {}
            }
        }
    }
    if injected
        && n.virtual_network
            .as_ref()
            .and_then(|v| v.subnet.as_ref())
            .is_none()
    {
        c.error(
            "network.virtual_network.subnet",
            format!(
                "type {} needs a virtual network with a subnet",
                type_name(n.kind)
            ),
        );
    }
    if n.kind == NetworkType::None && !n.network_security_groups.is_empty() {
        c.warn(
            "network.network_security_groups",
            "NSGs apply only with type external or internal; with type none, filter in policies",
        );
    }
    if n.kind == NetworkType::Internal
        && n.dns
            .as_ref()
            .is_none_or(|d| d.servers.is_empty() && d.private_zones.is_empty())
    {
        c.warn("network.dns", "type internal without a custom DNS configuration: backends resolve through the system resolver");
    }
    if let Some(dns) = &n.dns {
        for (i, s) in dns.servers.iter().enumerate() {
            let ok = s.parse::<SocketAddr>().is_ok() || s.parse::<IpAddr>().is_ok();
            if !ok {
                c.error(
                    format!("network.dns.servers[{i}]"),
                    format!("invalid DNS server '{s}': expected IP or IP:PORT"),
                );
            }
        }
        let cache = &dns.cache;
        if cache.min_ttl_seconds > cache.max_ttl_seconds {
            c.error(
                "network.dns.cache",
                format!(
                    "min_ttl_seconds ({}) is above max_ttl_seconds ({})",
                    cache.min_ttl_seconds, cache.max_ttl_seconds
                ),
            );
        }
        if cache.max_entries == 0 {
            c.error("network.dns.cache.max_entries", "must be at least 1");
        }
        if !(50..=60_000).contains(&dns.timeout_ms) {
            c.error(
                "network.dns.timeout_ms",
                format!("{} is out of range 50..=60000", dns.timeout_ms),
            );
        }
        if !(1..=10).contains(&dns.attempts) {
            c.error(
                "network.dns.attempts",
                format!("{} is out of range 1..=10", dns.attempts),
            );
        }
        for (i, z) in dns.private_zones.iter().enumerate() {
            private_zone(c, &format!("network.dns.private_zones[{i}]"), z);
        }
    }
    if let Some(out) = &n.outbound {
        crate::outbound_integration::check(c, config, out);
        for (i, p) in out.allowed_destinations.iter().enumerate() {
            if let Err(e) = parse_prefix(p) {
                c.error(format!("network.outbound.allowed_destinations[{i}]"), e);
            }
        }
    }

    // Trusted proxies and custom tags.
    for (i, t) in n.trusted_proxies.iter().enumerate() {
        if let Err(e) = parse_prefix(t.prefix()) {
            c.error(format!("network.trusted_proxies[{i}]"), e);
        }
    }
    let known_tags = crate::service_tags_file::check(c, n, valid_rule_name);

    // Network security groups.
    for (name, nsg) in &n.network_security_groups {
        security_group(
            c,
            &format!("network.network_security_groups.{name}"),
            nsg,
            &known_tags,
        );
    }

    // Private endpoints.
    if !n.private_endpoints.is_empty() && injected {
        c.error("network.private_endpoints", "private endpoints cannot be combined with type external or internal (Azure forbids it)");
    }
    if n.private_endpoints.len() > MAX_PRIVATE_ENDPOINTS {
        c.error(
            "network.private_endpoints",
            format!(
                "{} private endpoints: at most {MAX_PRIVATE_ENDPOINTS}",
                n.private_endpoints.len()
            ),
        );
    }
    if n.public_network_access == PublicNetworkAccess::Disabled && n.private_endpoints.is_empty() {
        c.error(
            "network.public_network_access",
            "public network access can be disabled only when at least one private endpoint exists",
        );
    }
    let mut pe_names = HashSet::new();
    let mut link_ids = HashMap::new();
    for (i, pe) in n.private_endpoints.iter().enumerate() {
        let path = format!("network.private_endpoints[{i}]");
        if pe.name.is_empty() || !valid_rule_name(&pe.name) {
            c.error(
                format!("{path}.name"),
                format!("invalid private endpoint name '{}'", pe.name),
            );
        }
        if !pe_names.insert(pe.name.to_ascii_lowercase()) {
            c.error(
                format!("{path}.name"),
                format!("private endpoint '{}' is given twice", pe.name),
            );
        }
        if let Some(first) = link_ids.insert(pe.link_id, i) {
            c.error(
                format!("{path}.link_id"),
                format!(
                    "link id {} is already used by network.private_endpoints[{first}]",
                    pe.link_id
                ),
            );
        }
        if !pe.group_id.eq_ignore_ascii_case("Gateway") {
            c.error(
                format!("{path}.group_id"),
                format!(
                    "group id '{}': API Management's only private link group is 'Gateway'",
                    pe.group_id
                ),
            );
        }
    }

    // Listeners.
    let mut plans = Vec::new();
    let gw = n.endpoints.gateway.as_ref();
    if let Some(gw) = gw {
        if config.gateway.listeners != default_gateway_listeners() {
            c.error("network.endpoints.gateway", "give the gateway's listeners in one place: network.endpoints.gateway or gateway.listeners");
        }
        if gw.public.is_none() && gw.private.is_none() {
            c.error(
                "network.endpoints.gateway",
                "needs a public or a private listener",
            );
        }
        if let Some(spec) = &gw.public
            && let Some(addr) = parse_listen(c, "network.endpoints.gateway.public", spec)
        {
            if n.kind == NetworkType::Internal {
                c.error("network.endpoints.gateway.public", "type internal has no public listener: the gateway is reachable only inside the virtual network");
            }
            plans.push(ListenerPlan {
                addr,
                tls: spec.tls(),
                exposure: Exposure::Public,
            });
        }
        if let Some(spec) = &gw.private
            && let Some(addr) = parse_listen(c, "network.endpoints.gateway.private", spec)
        {
            match (injected, subnet_net) {
                (true, Some(net)) if !net.contains(&addr.ip()) => c.error(
                    "network.endpoints.gateway.private",
                    format!("private listener {} is outside the subnet {net}", addr.ip()),
                ),
                (false, _) => c.error(
                    "network.endpoints.gateway.private",
                    "a private listener needs an injected gateway (type external or internal)",
                ),
                _ => {}
            }
            plans.push(ListenerPlan {
                addr,
                tls: spec.tls(),
                exposure: Exposure::Private,
            });
        }
    } else {
        if n.kind == NetworkType::Internal {
            c.error("network.endpoints.gateway", "type internal needs network.endpoints.gateway.private (its listener inside the subnet)");
        }
        for (l, addr) in config.gateway.listeners.iter().zip(listen_addrs) {
            plans.push(ListenerPlan {
                addr: *addr,
                tls: l.tls,
                exposure: Exposure::Public,
            });
        }
    }
    for (i, pe) in n.private_endpoints.iter().enumerate() {
        if let Some(spec) = &pe.listen
            && let Some(addr) =
                parse_listen(c, &format!("network.private_endpoints[{i}].listen"), spec)
        {
            plans.push(ListenerPlan {
                addr,
                tls: spec.tls(),
                exposure: Exposure::PrivateEndpoint(i),
            });
        }
    }
    let mut seen = HashSet::new();
    for p in &plans {
        if !seen.insert(p.addr) {
            c.error(
                "network.endpoints",
                format!("listener {} is given twice", p.addr),
            );
        }
    }
    for (component, ep) in [
        ("management", &n.endpoints.management),
        ("portal", &n.endpoints.portal),
        ("git", &n.endpoints.git),
    ] {
        let Some(ep) = ep else { continue };
        let path = format!("network.endpoints.{component}");
        if let Some(s) = &ep.public {
            parse_listen(c, &format!("{path}.public"), s);
            if n.kind == NetworkType::Internal {
                c.error(
                    format!("{path}.public"),
                    "type internal has no public listener",
                );
            }
        }
        if let Some(s) = &ep.private {
            parse_listen(c, &format!("{path}.private"), s);
        }
    }
    plans
}

fn default_gateway_listeners() -> Vec<Listener> {
    crate::config::GatewaySettings::default().listeners
}

fn type_name(t: NetworkType) -> &'static str {
    match t {
        NetworkType::None => "none",
        NetworkType::External => "external",
        NetworkType::Internal => "internal",
    }
}

fn security_group(c: &mut Checker, path: &str, nsg: &NetworkSecurityGroup, tags: &KnownTags) {
    if nsg.security_rules.len() > MAX_RULES_PER_NSG {
        c.error(
            format!("{path}.security_rules"),
            format!(
                "{} rules: an NSG holds at most {MAX_RULES_PER_NSG}",
                nsg.security_rules.len()
            ),
        );
    }
    let mut priorities: HashMap<(Direction, u32), usize> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, r) in nsg.security_rules.iter().enumerate() {
        let rpath = format!("{path}.security_rules[{i}]");
        if !valid_rule_name(&r.name) {
            c.error(
                format!("{rpath}.name"),
                format!("invalid rule name '{}': at most 80 word characters, '.', '-' or '_', starting with a word character and ending with one or '_'", r.name),
            );
        }
        if let Some(first) = names.insert(r.name.to_lowercase(), i) {
            c.error(
                format!("{rpath}.name"),
                format!(
                    "rule name '{}' is already used by security_rules[{first}]",
                    r.name
                ),
            );
        }
        if !(100..=4096).contains(&r.priority) {
            c.error(
                format!("{rpath}.priority"),
                format!("priority {} is out of range 100..=4096", r.priority),
            );
        } else if let Some(first) = priorities.insert((r.direction, r.priority), i) {
            c.error(
                format!("{rpath}.priority"),
                format!(
                    "priority {} is already used by security_rules[{first}] in the same direction",
                    r.priority
                ),
            );
        }
        address_side(c, &format!("{rpath}.source"), &r.source, &r.name, tags);
        address_side(
            c,
            &format!("{rpath}.destination"),
            &r.destination,
            &r.name,
            tags,
        );
        for (field, ports) in [
            ("source_ports", &r.source_ports),
            ("destination_ports", &r.destination_ports),
        ] {
            for item in ports.items() {
                if let Err(e) = parse_port_item(item) {
                    c.error(format!("{rpath}.{field}"), e);
                }
            }
        }
    }
}

/// A rule side: `*`, one service tag, or prefixes (at most 4,000); a tag is never combined.
fn address_side(c: &mut Checker, path: &str, side: &OneOrMany, rule: &str, tags: &KnownTags) {
    let items = side.items();
    if items.is_empty() || items.iter().any(|s| s.is_empty()) {
        c.error(path, "empty address: use '*', a service tag or prefixes");
        return;
    }
    if items.len() > MAX_PREFIXES_PER_SIDE {
        c.error(
            path,
            format!(
                "{} prefixes: at most {MAX_PREFIXES_PER_SIDE} per side",
                items.len()
            ),
        );
    }
    let is_tag = |s: &str| tags.contains(s);
    let tag_count = items.iter().filter(|s| is_any(s) || is_tag(s)).count();
    if tag_count > 0 && items.len() > 1 {
        c.error(path, "a service tag (or '*') cannot be combined with other tags or prefixes in one rule side");
    }
    for item in items {
        if is_any(item) || is_tag(item) {
            continue;
        }
        if parse_prefix(item).is_err() {
            // `Storage.WestEurope` is a (regional) tag; `10.0.0.300` and `fd00::/8x` are not.
            let looks_like_tag = item
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic())
                && !item.contains([':', '/']);
            if looks_like_tag {
                c.error(path, tags.unknown(item, rule));
            } else {
                c.error(path, format!("invalid prefix '{item}'"));
            }
        }
    }
}

fn private_zone(c: &mut Checker, path: &str, z: &PrivateZone) {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            })
    };
    if !name_ok(z.zone.trim_end_matches('.')) {
        c.error(
            format!("{path}.zone"),
            format!("invalid zone name '{}'", z.zone),
        );
    }
    for (name, types) in &z.records {
        let rpath = format!("{path}.records.{name}");
        if name != "@" && name != "*" && !name_ok(name.trim_start_matches("*.")) {
            c.error(&rpath, format!("invalid record name '{name}'"));
        }
        for (kind, values) in types {
            let check: fn(&str) -> bool = match kind.to_ascii_uppercase().as_str() {
                "A" => |v| v.parse::<std::net::Ipv4Addr>().is_ok(),
                "AAAA" => |v| v.parse::<std::net::Ipv6Addr>().is_ok(),
                "CNAME" => |v| !v.is_empty() && !v.contains(char::is_whitespace),
                _ => {
                    c.error(
                        format!("{rpath}.{kind}"),
                        format!("unsupported record type '{kind}': A, AAAA or CNAME"),
                    );
                    continue;
                }
            };
            for v in values {
                if !check(v) {
                    c.error(
                        format!("{rpath}.{kind}"),
                        format!("invalid {kind} value '{v}'"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{Format, from_str};
    use crate::validate::{Exposure, validate};
    use crate::{Issue, Severity};
    use std::path::Path;

    fn issues(yaml: &str) -> (Vec<String>, Vec<String>) {
        let cfg = from_str(yaml, Format::Yaml, Path::new("t.yaml")).expect("parses");
        let all: Vec<Issue> = match validate(cfg) {
            Ok(v) => v.warnings,
            Err(i) => i,
        };
        let fmt = |i: &Issue| format!("{}: {}", i.path, i.message);
        (
            all.iter()
                .filter(|i| i.severity == Severity::Error)
                .map(fmt)
                .collect(),
            all.iter()
                .filter(|i| i.severity == Severity::Warning)
                .map(fmt)
                .collect(),
        )
    }

    const BASE: &str = r#"
service: { name: t }
network:
  type: external
  virtual_network:
    address_space: [10.10.0.0/16]
    subnet: { name: apim, prefix: 10.10.1.0/27, nsg: apim-nsg }
    peered: [10.20.0.0/16]
  load_balancer: [10.10.1.254/32]
  endpoints:
    gateway: { public: "0.0.0.0:8443", private: "10.10.1.4:8443" }
  trusted_proxies:
    - { prefix: 10.10.1.250/32, proxy_protocol: required }
    - 10.10.1.251/32
  network_security_groups:
    apim-nsg:
      security_rules:
        - { name: allow-https, priority: 100, direction: inbound, access: allow, protocol: tcp, source: Internet, source_ports: "*", destination: "*", destination_ports: "8443" }
        - { name: deny-bad, priority: 110, direction: inbound, access: deny, protocol: "*", sourceAddressPrefixes: [192.0.2.0/24, 198.51.100.7], destinationPortRanges: ["80", "1000-2000"] }
"#;

    #[test]
    fn a_good_network_passes_and_plans_listeners() {
        let (errors, _) = issues(BASE);
        assert!(errors.is_empty(), "{errors:#?}");
        let cfg = from_str(BASE, Format::Yaml, Path::new("t")).unwrap();
        let v = validate(cfg).unwrap();
        let kinds: Vec<Exposure> = v.listeners.iter().map(|l| l.exposure).collect();
        assert_eq!(kinds, vec![Exposure::Public, Exposure::Private]);
    }

    fn has(errors: &[String], want: &str) -> bool {
        errors.iter().any(|e| e.contains(want))
    }

    #[test]
    fn nsg_rules_are_checked_with_paths() {
        let bad = BASE
            .replace("priority: 110", "priority: 100")
            .replace("name: deny-bad", "name: -bad")
            .replace("198.51.100.7", "198.51.100.300")
            .replace("\"1000-2000\"", "\"2000-1000\"")
            .replace("source: Internet", "source: Storage");
        let (errors, _) = issues(&bad);
        let p = "network.network_security_groups.apim-nsg.security_rules";
        for want in [
            format!(
                "{p}[1].priority: priority 100 is already used by security_rules[0] in the same direction"
            ),
            format!("{p}[1].name: invalid rule name '-bad'"),
            format!("{p}[1].source: invalid prefix '198.51.100.300'"),
            format!("{p}[1].destination_ports: invalid port range '2000-1000'"),
            format!("{p}[0].source: unknown service tag 'Storage'"),
        ] {
            assert!(has(&errors, &want), "missing {want:?} in {errors:#?}");
        }
        let out_of_range = BASE.replace("priority: 110", "priority: 4097");
        assert!(has(
            &issues(&out_of_range).0,
            "priority 4097 is out of range 100..=4096"
        ));
        let mixed = BASE.replace("source: Internet", "source: [Internet, 10.0.0.0/8]");
        assert!(has(&issues(&mixed).0, "cannot be combined"));
        let long = BASE.replace("name: allow-https", &format!("name: {}", "a".repeat(81)));
        assert!(has(&issues(&long).0, "invalid rule name"));
        let underscore = BASE.replace("name: allow-https", "name: allow_https_");
        assert!(issues(&underscore).0.is_empty());
    }

    #[test]
    fn injection_rules() {
        let no_nsg = BASE.replace(", nsg: apim-nsg", "");
        assert!(has(
            &issues(&no_nsg).0,
            "network.virtual_network.subnet.nsg: an injected gateway needs an NSG"
        ));
        let delegated = BASE.replace(
            "nsg: apim-nsg }",
            "nsg: apim-nsg, delegation: Microsoft.Web/serverFarms }",
        );
        assert!(has(
            &issues(&delegated).0,
            "subnet.delegation: the subnet is delegated"
        ));
        let tiny = BASE
            .replace("10.10.1.0/27", "10.10.1.0/30")
            .replace("10.10.1.4:8443", "10.10.1.1:8443");
        assert!(has(&issues(&tiny).0, "smaller than /29"));
        let internal = BASE.replace("type: external", "type: internal");
        let (errors, warnings) = issues(&internal);
        assert!(
            has(
                &errors,
                "network.endpoints.gateway.public: type internal has no public listener"
            ),
            "{errors:#?}"
        );
        assert!(
            has(
                &warnings,
                "network.dns: type internal without a custom DNS configuration"
            ),
            "{warnings:#?}"
        );
        let outside = BASE.replace("10.10.1.4:8443", "10.10.2.4:8443");
        assert!(has(
            &issues(&outside).0,
            "private listener 10.10.2.4 is outside the subnet 10.10.1.0/27"
        ));
        let no_subnet = "service: { name: t }\nnetwork: { type: internal }\n";
        assert!(has(
            &issues(no_subnet).0,
            "network.virtual_network.subnet: type internal needs a virtual network with a subnet"
        ));
    }

    const PE: &str = r#"
service: { name: t }
gateway:
  listeners: [ { address: "127.0.0.1:8080" } ]
network:
  type: none
  public_network_access: disabled
  private_endpoints:
    - { name: pe-partner, link_id: 4026531841, listen: "127.0.0.1:8081", state: approved }
    - { name: pe-other, linkId: 7, state: pending }
"#;

    #[test]
    fn private_endpoint_rules() {
        let (errors, _) = issues(PE);
        assert!(errors.is_empty(), "{errors:#?}");
        let v = validate(from_str(PE, Format::Yaml, Path::new("t")).unwrap()).unwrap();
        assert_eq!(
            v.listeners.iter().map(|l| l.exposure).collect::<Vec<_>>(),
            vec![Exposure::Public, Exposure::PrivateEndpoint(0)]
        );
        let with_injection = BASE.replace("  trusted_proxies:", "  private_endpoints: [ { name: pe, link_id: 1, state: approved } ]\n  trusted_proxies:");
        assert!(has(
            &issues(&with_injection).0,
            "private endpoints cannot be combined with type external or internal"
        ));
        let no_pe = "service: { name: t }\nnetwork: { public_network_access: disabled }\n";
        assert!(has(
            &issues(no_pe).0,
            "can be disabled only when at least one private endpoint exists"
        ));
        let dup = PE.replace("linkId: 7", "linkId: 4026531841");
        assert!(has(
            &issues(&dup).0,
            "network.private_endpoints[1].link_id: link id 4026531841 is already used"
        ));
        let group = PE.replace("state: pending }", "state: pending, group_id: Management }");
        assert!(has(
            &issues(&group).0,
            "only private link group is 'Gateway'"
        ));
        let many: String = (0..101)
            .map(|i| format!("    - {{ name: pe{i}, link_id: {i} }}\n"))
            .collect();
        let too_many = format!("service: {{ name: t }}\nnetwork:\n  private_endpoints:\n{many}");
        assert!(has(&issues(&too_many).0, "at most 100"));
    }

    #[test]
    fn listeners_in_one_place() {
        let both = format!("{BASE}gateway:\n  listeners: [ {{ address: \"127.0.0.1:9999\" }} ]\n");
        assert!(has(
            &issues(&both).0,
            "give the gateway's listeners in one place"
        ));
    }
}
