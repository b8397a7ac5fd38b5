//! `network.outbound.integration_subnet`: outbound VNet integration of the v2 tiers, checked
//! against the facts Azure requires of the subnet (docs/network.md "Outbound integration"):
//! offered on Standard v2 and Premium v2 only; the subnet delegated to
//! `Microsoft.Web/serverFarms`; dedicated (not the injection subnet, not overlapping it); at
//! least a /27; with a network security group; in the one virtual network of the section
//! (inside `virtual_network.address_space`).

use crate::config::Config;
use crate::network::{IntegrationSubnet, Outbound, parse_prefix};
use crate::tiers;
use crate::validate::Checker;
use ipnet::IpNet;

/// The delegation Azure requires of an outbound integration subnet.
pub const DELEGATION: &str = "Microsoft.Web/serverFarms";
/// The smallest integration subnet Azure accepts (a /27: 32 addresses).
pub const MIN_PREFIX_LEN: u8 = 27;

const PATH: &str = "network.outbound.integration_subnet";

pub(crate) fn check(c: &mut Checker, config: &Config, out: &Outbound) {
    let Some(subnet) = &out.integration_subnet else {
        return;
    };
    let n = &config.network;
    let sku = config.service.sku;
    if !tiers::offers_outbound_integration(sku) {
        c.error(
            PATH,
            format!(
                "outbound VNet integration is not offered on the {} tier. Azure's tiers: {}",
                tiers::display(sku),
                tiers::TABLE
            ),
        );
    }
    let prefix_path = match subnet {
        IntegrationSubnet::Prefix(_) => PATH.to_string(),
        IntegrationSubnet::Full { .. } => format!("{PATH}.prefix"),
    };
    let net = match parse_prefix(subnet.prefix()) {
        Ok(net) => Some(net),
        Err(e) => {
            c.error(&prefix_path, e);
            None
        }
    };
    if let Some(net) = net {
        if !matches!(net, IpNet::V4(_)) {
            c.error(
                &prefix_path,
                "the integration subnet must be IPv4 (as in Azure)",
            );
        } else if net.prefix_len() > MIN_PREFIX_LEN {
            c.error(
                &prefix_path,
                format!("integration subnet {net} is smaller than /{MIN_PREFIX_LEN}, the smallest Azure accepts (/24 recommended)"),
            );
        }
        let vnet = n.virtual_network.as_ref();
        let space: Vec<IpNet> = vnet
            .map(|v| {
                v.address_space
                    .iter()
                    .filter_map(|p| parse_prefix(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        if !space.is_empty() && !space.iter().any(|s| s.contains(&net)) {
            c.error(
                &prefix_path,
                format!(
                    "integration subnet {net} is not inside network.virtual_network.address_space: it must be a subnet of the one virtual network"
                ),
            );
        }
        if let Some(inj) = vnet
            .and_then(|v| v.subnet.as_ref())
            .and_then(|s| parse_prefix(&s.prefix).ok())
            && (inj.contains(&net) || net.contains(&inj))
        {
            c.error(
                &prefix_path,
                format!(
                    "integration subnet {net} overlaps network.virtual_network.subnet {inj}: Azure requires a subnet dedicated to the integration"
                ),
            );
        }
    }
    match subnet {
        IntegrationSubnet::Prefix(_) => c.warn(
            PATH,
            format!(
                "only a prefix: state the subnet Azure requires as {{ prefix, delegation: {DELEGATION}, nsg: <a network_security_groups name> }} inside network.virtual_network.address_space"
            ),
        ),
        IntegrationSubnet::Full {
            delegation, nsg, ..
        } => {
            if n.virtual_network.is_none() {
                c.error(
                    PATH,
                    "an integration subnet belongs to a virtual network: give network.virtual_network.address_space",
                );
            }
            if !delegation
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(DELEGATION))
            {
                c.error(
                    format!("{PATH}.delegation"),
                    format!(
                        "the integration subnet must be delegated to {DELEGATION} (found: {})",
                        delegation.as_deref().unwrap_or("none")
                    ),
                );
            }
            match nsg {
                None => c.error(
                    format!("{PATH}.nsg"),
                    "Azure requires a network security group on the integration subnet",
                ),
                Some(name) if !n.network_security_groups.contains_key(name) => c.error(
                    format!("{PATH}.nsg"),
                    format!("no network security group named '{name}'"),
                ),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, Severity, from_str, validate};
    use std::path::Path;

    fn issues(yaml: &str) -> (Vec<String>, Vec<String>) {
        let config = from_str(yaml, Format::Yaml, Path::new("t.yaml")).expect("parses");
        let all = match validate(config) {
            Ok(v) => v.warnings,
            Err(i) => i,
        };
        let pick = |s: Severity| {
            all.iter()
                .filter(|i| i.severity == s)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect::<Vec<_>>()
        };
        (pick(Severity::Error), pick(Severity::Warning))
    }

    fn cfg(sku: &str, subnet: &str) -> String {
        format!(
            r#"
service: {{ name: t, sku: {sku} }}
network:
  virtual_network: {{ address_space: [10.10.0.0/16] }}
  network_security_groups: {{ int-nsg: {{}} }}
  outbound: {{ integration_subnet: {subnet} }}
"#
        )
    }

    const FULL: &str =
        "{ prefix: 10.10.3.0/24, delegation: Microsoft.Web/serverFarms, nsg: int-nsg }";

    #[test]
    fn the_stated_facts_pass_on_the_v2_tiers() {
        for sku in ["standardv2", "premiumv2"] {
            let (e, w) = issues(&cfg(sku, FULL));
            assert_eq!(e, Vec::<String>::new(), "{sku}");
            assert!(!w.iter().any(|w| w.contains("integration_subnet")), "{w:?}");
        }
    }

    #[test]
    fn only_the_v2_tiers_integrate() {
        for sku in ["developer", "premium", "basicv2"] {
            let (e, _) = issues(&cfg(sku, FULL));
            assert!(
                e.iter().any(|e| e.starts_with(
                    "network.outbound.integration_subnet: outbound VNet integration is not offered"
                ) && e
                    .contains("outbound VNet integration: Standard v2, Premium v2")),
                "{sku}: {e:?}"
            );
        }
    }

    #[test]
    fn each_fact_is_checked_with_its_path() {
        let p = "network.outbound.integration_subnet";
        let cases = [
            (
                FULL.replace(
                    "Microsoft.Web/serverFarms",
                    "Microsoft.Sql/managedInstances",
                ),
                format!(
                    "{p}.delegation: the integration subnet must be delegated to Microsoft.Web/serverFarms (found: Microsoft.Sql/managedInstances)"
                ),
            ),
            (
                FULL.replace(", nsg: int-nsg", ""),
                format!("{p}.nsg: Azure requires a network security group"),
            ),
            (
                FULL.replace("int-nsg }", "other }"),
                format!("{p}.nsg: no network security group named 'other'"),
            ),
            (
                FULL.replace("10.10.3.0/24", "10.10.3.0/28"),
                format!("{p}.prefix: integration subnet 10.10.3.0/28 is smaller than /27"),
            ),
            (
                FULL.replace("10.10.3.0/24", "10.11.3.0/24"),
                format!(
                    "{p}.prefix: integration subnet 10.11.3.0/24 is not inside network.virtual_network.address_space"
                ),
            ),
        ];
        for (subnet, want) in cases {
            let (e, _) = issues(&cfg("standardv2", &subnet));
            assert!(e.iter().any(|e| e.starts_with(&want)), "{want}\n{e:#?}");
        }
        let shared = cfg("premiumv2", FULL).replace(
            "address_space: [10.10.0.0/16] }",
            "address_space: [10.10.0.0/16], subnet: { prefix: 10.10.3.0/25, nsg: int-nsg, delegation: Microsoft.Web/hostingEnvironments } }",
        );
        let (e, _) = issues(&shared);
        assert!(
            e.iter().any(|e| e.starts_with(&format!(
                "{p}.prefix: integration subnet 10.10.3.0/24 overlaps network.virtual_network.subnet 10.10.3.0/25"
            ))),
            "{e:#?}"
        );
        let no_vnet = cfg("standardv2", FULL)
            .replace("  virtual_network: { address_space: [10.10.0.0/16] }\n", "");
        assert!(
            issues(&no_vnet)
                .0
                .iter()
                .any(|e| e.contains("belongs to a virtual network"))
        );
    }

    #[test]
    fn the_plain_prefix_still_works_with_a_warning() {
        let (e, w) = issues(&cfg("standardv2", "10.10.3.0/24"));
        assert_eq!(e, Vec::<String>::new());
        assert!(
            w.iter().any(|w| w.starts_with(
                "network.outbound.integration_subnet: only a prefix: state the subnet Azure requires"
            )),
            "{w:?}"
        );
        let (e, _) = issues(&cfg("standardv2", "10.10.3.0/29"));
        assert!(
            e.iter()
                .any(|e| e.starts_with("network.outbound.integration_subnet: integration subnet 10.10.3.0/29 is smaller than /27")),
            "{e:?}"
        );
    }
}
