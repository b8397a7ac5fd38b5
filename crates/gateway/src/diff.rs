//! What a reload changed in the network section, in words an operator reads in the log and in
//! `gatehouse net apply`'s answer ("nsg apim-nsg: rule deny-bad added", "private endpoint
//! pe-partner: pending → approved").

use gatehouse_model::network::{Network, NetworkSecurityGroup, SecurityRule};
use serde::Serialize;
use std::collections::BTreeMap;

fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn lower<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}").to_lowercase()
}

/// Each difference between two network sections, one line each; empty when equal.
pub fn network(old: &Network, new: &Network) -> Vec<String> {
    let mut out = Vec::new();
    if old.kind != new.kind {
        out.push(format!("type: {} → {}", lower(&old.kind), lower(&new.kind)));
    }
    if old.public_network_access != new.public_network_access {
        out.push(format!(
            "public_network_access: {} → {}",
            lower(&old.public_network_access),
            lower(&new.public_network_access)
        ));
    }
    for (name, a, b) in [
        (
            "virtual_network",
            text(&old.virtual_network),
            text(&new.virtual_network),
        ),
        (
            "load_balancer",
            text(&old.load_balancer),
            text(&new.load_balancer),
        ),
        ("endpoints", text(&old.endpoints), text(&new.endpoints)),
        (
            "trusted_proxies",
            text(&old.trusted_proxies),
            text(&new.trusted_proxies),
        ),
        (
            "service_tags",
            text(&old.service_tags),
            text(&new.service_tags),
        ),
        ("dns", text(&old.dns), text(&new.dns)),
        ("outbound", text(&old.outbound), text(&new.outbound)),
    ] {
        if a != b {
            out.push(format!("{name} changed"));
        }
    }
    private_endpoints(old, new, &mut out);
    security_groups(
        &old.network_security_groups,
        &new.network_security_groups,
        &mut out,
    );
    out
}

fn private_endpoints(old: &Network, new: &Network, out: &mut Vec<String>) {
    let before: BTreeMap<&str, _> = old
        .private_endpoints
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let after: BTreeMap<&str, _> = new
        .private_endpoints
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    for (name, p) in &after {
        match before.get(name) {
            None => out.push(format!(
                "private endpoint {name}: added ({})",
                lower(&p.state)
            )),
            Some(o) if o.state != p.state => out.push(format!(
                "private endpoint {name}: {} → {}",
                lower(&o.state),
                lower(&p.state)
            )),
            Some(o) if text(o) != text(p) => out.push(format!("private endpoint {name}: changed")),
            Some(_) => {}
        }
    }
    for name in before.keys().filter(|n| !after.contains_key(*n)) {
        out.push(format!("private endpoint {name}: removed"));
    }
}

fn security_groups(
    old: &BTreeMap<String, NetworkSecurityGroup>,
    new: &BTreeMap<String, NetworkSecurityGroup>,
    out: &mut Vec<String>,
) {
    for (name, group) in new {
        let Some(before) = old.get(name) else {
            out.push(format!(
                "nsg {name}: added ({} rules)",
                group.security_rules.len()
            ));
            continue;
        };
        let rules = |g: &NetworkSecurityGroup| -> BTreeMap<String, String> {
            g.security_rules
                .iter()
                .map(|r: &SecurityRule| (r.name.clone(), text(r)))
                .collect()
        };
        let (a, b) = (rules(before), rules(group));
        for (rule, body) in &b {
            match a.get(rule) {
                None => out.push(format!("nsg {name}: rule {rule} added")),
                Some(old_body) if old_body != body => {
                    out.push(format!("nsg {name}: rule {rule} changed"))
                }
                Some(_) => {}
            }
        }
        for rule in a.keys().filter(|r| !b.contains_key(*r)) {
            out.push(format!("nsg {name}: rule {rule} removed"));
        }
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        out.push(format!("nsg {name}: removed"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str};
    use std::path::Path;

    fn net(yaml: &str) -> Network {
        from_str(
            &format!("service: {{ name: t }}\nnetwork:\n{yaml}"),
            Format::Yaml,
            Path::new("t"),
        )
        .expect("parses")
        .network
    }

    #[test]
    fn changes_are_named() {
        let a = net(
            "  private_endpoints: [ { name: pe, link_id: 1, state: pending } ]\n  network_security_groups: { n: { security_rules: [ { name: r1, priority: 100, direction: inbound, access: allow }, { name: r2, priority: 110, direction: inbound, access: deny } ] } }\n",
        );
        let b = net(
            "  public_network_access: disabled\n  private_endpoints: [ { name: pe, link_id: 1, state: approved }, { name: pe2, link_id: 2 } ]\n  network_security_groups: { n: { security_rules: [ { name: r1, priority: 100, direction: inbound, access: deny }, { name: r3, priority: 120, direction: inbound, access: deny } ] } }\n",
        );
        let d = network(&a, &b);
        for want in [
            "public_network_access: enabled → disabled",
            "private endpoint pe: pending → approved",
            "private endpoint pe2: added (pending)",
            "nsg n: rule r1 changed",
            "nsg n: rule r3 added",
            "nsg n: rule r2 removed",
        ] {
            assert!(d.iter().any(|l| l == want), "missing {want:?} in {d:#?}");
        }
        assert!(network(&a, &a).is_empty());
    }
}
