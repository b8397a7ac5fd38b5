//! The subnet arithmetic of Azure API Management VNet injection (docs/network.md "Capacity
//! against the subnet"), shared by `gatehouse net plan` and `config validate`, so that a capacity
//! is checked against its subnet before a deployment fails on it. It lives in the model (not
//! crates/net, which re-exports it) because validation may not depend on crates/net.
//!
//! Per subnet Azure reserves 5 addresses (SZ-2); each unit takes 2 addresses in Basic, Standard
//! and Premium, 1 in Developer (SZ-3); internal mode adds 1 for the internal load balancer. The
//! smallest subnet is a /29 (SZ-1).
//!
//! SKUs without classic injection are answered as follows (a choice, since the seed has no
//! table for them): Premium v2 is planned with its own rules (VNet injection, /27 minimum,
//! 2 addresses per unit, at most 30 units, as docs/network.md says); Consumption,
//! Basic v2 and Standard v2 are errors, because their units never take addresses in a customer
//! subnet (Standard v2's outbound integration subnet is a fixed /27-or-larger dedicated subnet,
//! not sized by units).

use crate::config::{Config, Sku};
use crate::network::{NetworkType, parse_prefix};
use crate::validate::Checker;
use ipnet::IpNet;
use std::fmt;

/// Addresses Azure keeps in every subnet: network, default gateway, two for Azure DNS, broadcast.
pub const RESERVED_ADDRESSES: u64 = 5;

/// Why a subnet can't be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// API Management subnets are IPv4.
    #[error("subnet {0}: API Management needs an IPv4 subnet")]
    Ipv6(String),
    /// Below the tier's minimum (SZ-1: /29; Premium v2: /27).
    #[error("subnet {subnet} is too small: {sku} needs at least a /{minimum}")]
    TooSmall {
        subnet: String,
        sku: SkuName,
        minimum: u8,
    },
    /// The tier's units don't live in a customer subnet.
    #[error("the {sku} tier can't be injected into a subnet: {why}")]
    UnsupportedSku { sku: SkuName, why: &'static str },
}

/// A SKU as the config spells it (`premium`, `standardv2`), for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkuName(pub Sku);

impl fmt::Display for SkuName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Sku::Developer => "developer",
            Sku::Basic => "basic",
            Sku::Standard => "standard",
            Sku::Premium => "premium",
            Sku::Consumption => "consumption",
            Sku::Basicv2 => "basicv2",
            Sku::Standardv2 => "standardv2",
            Sku::Premiumv2 => "premiumv2",
        })
    }
}

/// The answer of `gatehouse net plan` (printed as JSON by the CLI).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The subnet, host bits cleared (`10.0.0.0/28`).
    pub subnet: String,
    /// 2^(32 - prefix length).
    pub total_addresses: u64,
    /// Azure's 5 (SZ-2).
    pub reserved: u64,
    /// Addresses per scale unit: 2, or 1 for Developer (SZ-3).
    pub per_unit: u64,
    /// 1 for the internal load balancer in internal mode, else 0.
    pub load_balancer: u64,
    /// Units the addresses allow: `floor((total - reserved - load_balancer) / per_unit)`.
    pub max_units: u64,
    /// The tier's own limit: developer 1, basic 2, standard 4, premium 31 (premiumv2 30).
    pub sku_max_units: u64,
    /// The capacity checked, if any.
    pub units: Option<u32>,
    /// Whether `units` fits both limits (None when no capacity was given).
    pub fits: Option<bool>,
    /// Explanations: caps that apply, tier caveats, why a capacity doesn't fit.
    pub notes: Vec<String>,
}

/// Plans `subnet` for `sku` in `kind` mode, checking `units` when given.
///
/// `max_units = floor((2^(32-p) - 5 - ilb) / per_unit)`, `ilb = 1` in internal mode. This is the
/// seed's inferred SZ-6 (`1 + floor((2^(32-p) - 5 - 2 - ilb) / 2)`) in one division, and
/// reproduces its table (which subtracts the ILB address in every row) exactly in internal mode:
/// /29 → 1, /28 → 5, /27 → 13, /26 → 29, /25 → 61 (then capped by the tier).
///
/// External mode (and `none`, planned as external with a note) takes `ilb = 0`, as SZ-3 says
/// only internal mode adds the ILB address. With 2 addresses per unit the result is the same as
/// internal for every subnet of /29 or larger (2^n - 5 and 2^n - 6 have the same half, rounded
/// down), which is why the seed's table gives /28 → 5 in both modes; it differs only for
/// Developer (1 address per unit), where the tier cap of 1 hides it anyway.
pub fn plan(
    subnet: IpNet,
    sku: Sku,
    kind: NetworkType,
    units: Option<u32>,
) -> Result<Plan, PlanError> {
    let net = match subnet {
        IpNet::V4(n) => n.trunc(),
        IpNet::V6(_) => return Err(PlanError::Ipv6(subnet.to_string())),
    };
    let name = SkuName(sku);
    let (per_unit, sku_max_units, minimum) = match sku {
        Sku::Developer => (1u64, 1u64, 29u8),
        Sku::Basic => (2, 2, 29),
        Sku::Standard => (2, 4, 29),
        Sku::Premium => (2, 31, 29),
        Sku::Premiumv2 => (2, 30, 27),
        Sku::Consumption => {
            return Err(PlanError::UnsupportedSku {
                sku: name,
                why: "the Consumption tier has no virtual network support",
            });
        }
        Sku::Basicv2 => {
            return Err(PlanError::UnsupportedSku {
                sku: name,
                why: "Basic v2 has no virtual network injection or integration",
            });
        }
        Sku::Standardv2 => {
            return Err(PlanError::UnsupportedSku {
                sku: name,
                why: "Standard v2 only integrates outbound, with a dedicated subnet of /27 or larger (/24 recommended) delegated to Microsoft.Web/serverFarms, not sized by units",
            });
        }
    };
    if net.prefix_len() > minimum {
        return Err(PlanError::TooSmall {
            subnet: net.to_string(),
            sku: name,
            minimum,
        });
    }

    let mut notes = Vec::new();
    if net.addr() != subnet.addr() {
        notes.push(format!("{subnet} has host bits set: planned as {net}"));
    }
    match kind {
        NetworkType::None => notes.push(
            "type none: the gateway isn't injected; planned as external (no internal load balancer address)"
                .to_string(),
        ),
        NetworkType::Internal => notes.push(
            "internal mode: 1 address for the internal load balancer".to_string(),
        ),
        NetworkType::External => {}
    }
    match sku {
        Sku::Basic | Sku::Standard => notes.push(format!(
            "Azure offers classic VNet injection only in the Developer and Premium tiers; {name} planned as if injected"
        )),
        Sku::Developer => notes.push(
            "developer: 1 address per unit and a single unit (no SLA)".to_string(),
        ),
        Sku::Premiumv2 => notes.push(
            "premiumv2: the subnet must be dedicated and delegated to Microsoft.Web/hostingEnvironments; /24 recommended"
                .to_string(),
        ),
        _ => {}
    }

    let total_addresses = 1u64 << (32 - u32::from(net.prefix_len()));
    let load_balancer = u64::from(kind == NetworkType::Internal);
    let usable = total_addresses.saturating_sub(RESERVED_ADDRESSES + load_balancer);
    let max_units = usable / per_unit;
    if max_units > sku_max_units {
        notes.push(format!(
            "the subnet has room for {max_units} units; {name} is limited to {sku_max_units}"
        ));
    }

    let fits = units.map(|u| {
        let u = u64::from(u);
        if u == 0 {
            notes.push("a capacity of 0 units is not a deployment: at least 1".to_string());
            return false;
        }
        let needed = RESERVED_ADDRESSES + load_balancer + u * per_unit;
        let mut ok = true;
        if u > max_units {
            notes.push(format!(
                "{u} units need {needed} addresses ({RESERVED_ADDRESSES} reserved{} + {u}×{per_unit}); {net} has {total_addresses}",
                if load_balancer == 1 { " + 1 load balancer" } else { "" },
            ));
            ok = false;
        }
        if u > sku_max_units {
            notes.push(format!("{name} allows at most {sku_max_units} units"));
            ok = false;
        }
        ok
    });

    Ok(Plan {
        subnet: net.to_string(),
        total_addresses,
        reserved: RESERVED_ADDRESSES,
        per_unit,
        load_balancer,
        max_units,
        sku_max_units,
        units,
        fits,
        notes,
    })
}

/// `config validate`'s capacity check: `service.capacity` against the injection subnet, and each
/// additional location's capacity against that location's subnet, with [`plan`]. Only an
/// injected deployment with a parseable IPv4 subnet is planned: a missing or too small subnet and
/// a tier without injection are reported by crates/model/src/validate_network.rs and
/// crates/model/src/tiers.rs already, so their [`PlanError`]s are not repeated here.
pub(crate) fn check_capacity(c: &mut Checker, config: &Config) {
    let main = std::iter::once((
        "service.capacity".to_string(),
        "network".to_string(),
        config.service.capacity,
        config.service.sku,
        &config.network,
    ));
    let locations = config
        .service
        .additional_locations
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                format!("service.additional_locations[{i}].capacity"),
                format!("service.additional_locations[{i}].network"),
                l.capacity,
                l.sku.unwrap_or(config.service.sku),
                &l.network,
            )
        });
    for (path, network_path, units, sku, network) in main.chain(locations) {
        if !matches!(network.kind, NetworkType::External | NetworkType::Internal) || units == 0 {
            continue;
        }
        let Some(prefix) = network
            .virtual_network
            .as_ref()
            .and_then(|v| v.subnet.as_ref())
            .and_then(|s| parse_prefix(&s.prefix).ok())
        else {
            continue;
        };
        let Ok(p) = plan(prefix, sku, network.kind, Some(units)) else {
            continue;
        };
        if p.fits == Some(false) {
            c.error(
                path,
                format!(
                    "{units} unit(s) do not fit {network_path}.virtual_network.subnet {}: {} (`gatehouse net plan --subnet {} --sku {} --type {} --units {units}` shows the arithmetic)",
                    p.subnet,
                    p.notes
                        .iter()
                        .filter(|n| n.contains(" units need ") || n.contains(" allows at most "))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                    p.subnet,
                    SkuName(sku),
                    match network.kind {
                        NetworkType::Internal => "internal",
                        _ => "external",
                    }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, from_str};

    fn capacity_errors(yaml: &str) -> Vec<String> {
        let config = from_str(yaml, Format::Yaml, std::path::Path::new("t.yaml")).expect("parses");
        match crate::validate(config) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .filter(|i| i.severity == crate::Severity::Error)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    #[test]
    fn validate_checks_capacity_against_the_subnet_as_net_plan_does() {
        let yaml = |units: u32, loc_units: u32| {
            format!(
                "service:\n  name: t\n  sku: premium\n  capacity: {units}\n  additional_locations:\n    - location: northeurope\n      capacity: {loc_units}\n      network:\n        type: internal\n        virtual_network: {{ address_space: [10.2.0.0/16], subnet: {{ prefix: 10.2.1.0/28, nsg: n }} }}\n        endpoints: {{ gateway: {{ private: \"10.2.1.4:443\" }} }}\n        network_security_groups: {{ n: {{}} }}\nnetwork:\n  type: external\n  virtual_network: {{ address_space: [10.1.0.0/16], subnet: {{ prefix: 10.1.1.0/29, nsg: n }} }}\n  network_security_groups: {{ n: {{}} }}\n"
            )
        };
        // T01: a /29 holds 1 Premium unit; T02: an internal /28 holds 5.
        assert_eq!(capacity_errors(&yaml(1, 5)), Vec::<String>::new());
        let e = capacity_errors(&yaml(2, 6));
        assert!(e.iter().any(|e| e.starts_with("service.capacity: 2 unit(s) do not fit network.virtual_network.subnet 10.1.1.0/29: 2 units need 9 addresses")), "{e:#?}");
        assert!(e.iter().any(|e| e.starts_with("service.additional_locations[0].capacity: 6 unit(s) do not fit service.additional_locations[0].network.virtual_network.subnet 10.2.1.0/28") && e.contains("--type internal --units 6")), "{e:#?}");
        assert_eq!(e.len(), 2, "{e:#?}");
    }

    fn p(subnet: &str, sku: Sku, kind: NetworkType, units: Option<u32>) -> Result<Plan, PlanError> {
        plan(subnet.parse().unwrap(), sku, kind, units)
    }

    #[test]
    fn seed_table_internal() {
        // SZ-5: the table subtracts the ILB in every row.
        for sku in [Sku::Basic, Sku::Standard, Sku::Premium] {
            for (cidr, total, max) in [
                ("10.0.0.0/29", 8, 1),
                ("10.0.0.0/28", 16, 5),
                ("10.0.0.0/27", 32, 13),
                ("10.0.0.0/26", 64, 29),
                ("10.0.0.0/25", 128, 61),
            ] {
                let plan = p(cidr, sku, NetworkType::Internal, None).unwrap();
                assert_eq!(plan.total_addresses, total, "{cidr}");
                assert_eq!(plan.reserved, 5);
                assert_eq!(plan.per_unit, 2);
                assert_eq!(plan.load_balancer, 1);
                assert_eq!(plan.max_units, max, "{sku:?} {cidr}");
                assert_eq!(plan.fits, None);
            }
        }
    }

    #[test]
    fn external_matches_the_table_for_power_of_two_subnets() {
        for (cidr, max) in [
            ("/29", 1),
            ("/28", 5),
            ("/27", 13),
            ("/26", 29),
            ("/25", 61),
        ] {
            let plan = p(
                &format!("10.0.0.0{cidr}"),
                Sku::Premium,
                NetworkType::External,
                None,
            )
            .unwrap();
            assert_eq!(plan.load_balancer, 0);
            assert_eq!(plan.max_units, max, "{cidr}");
        }
    }

    #[test]
    fn sku_limits() {
        let lim = |sku| p("10.0.0.0/24", sku, NetworkType::External, None).unwrap();
        assert_eq!(lim(Sku::Developer).sku_max_units, 1);
        assert_eq!(lim(Sku::Basic).sku_max_units, 2);
        assert_eq!(lim(Sku::Standard).sku_max_units, 4);
        assert_eq!(lim(Sku::Premium).sku_max_units, 31);
        assert_eq!(lim(Sku::Premiumv2).sku_max_units, 30);
        // T03: Premium /25 allows 61 by addresses, 31 by tier.
        let plan = p("10.0.0.0/25", Sku::Premium, NetworkType::Internal, Some(31)).unwrap();
        assert_eq!(
            (plan.max_units, plan.sku_max_units, plan.fits),
            (61, 31, Some(true))
        );
        assert!(plan.notes.iter().any(|n| n.contains("limited to 31")));
        let plan = p("10.0.0.0/25", Sku::Premium, NetworkType::Internal, Some(32)).unwrap();
        assert_eq!(plan.fits, Some(false));
    }

    #[test]
    fn t01_premium_external_slash29() {
        let one = p("10.0.0.0/29", Sku::Premium, NetworkType::External, Some(1)).unwrap();
        assert_eq!(one.fits, Some(true));
        let two = p("10.0.0.0/29", Sku::Premium, NetworkType::External, Some(2)).unwrap();
        assert_eq!(two.fits, Some(false));
        assert!(
            two.notes
                .iter()
                .any(|n| n.contains("2 units need 9 addresses")),
            "{:?}",
            two.notes
        );
    }

    #[test]
    fn t02_premium_internal_slash28() {
        let five = p("10.0.0.0/28", Sku::Premium, NetworkType::Internal, Some(5)).unwrap();
        assert_eq!(five.fits, Some(true));
        let six = p("10.0.0.0/28", Sku::Premium, NetworkType::Internal, Some(6)).unwrap();
        assert_eq!(six.fits, Some(false));
    }

    #[test]
    fn t04_developer() {
        let plan = p(
            "10.0.0.0/29",
            Sku::Developer,
            NetworkType::Internal,
            Some(1),
        )
        .unwrap();
        assert_eq!(plan.per_unit, 1);
        assert_eq!(plan.load_balancer, 1);
        assert_eq!(plan.max_units, 2);
        assert_eq!(plan.sku_max_units, 1);
        assert_eq!(plan.fits, Some(true));
        let two = p(
            "10.0.0.0/29",
            Sku::Developer,
            NetworkType::Internal,
            Some(2),
        )
        .unwrap();
        assert_eq!(two.fits, Some(false));
        assert!(
            two.notes
                .iter()
                .any(|n| n.contains("developer allows at most 1"))
        );
    }

    #[test]
    fn t03_premium_v2() {
        for (cidr, max) in [("/27", 13), ("/26", 29), ("/25", 30)] {
            let plan = p(
                &format!("10.0.0.0{cidr}"),
                Sku::Premiumv2,
                NetworkType::Internal,
                None,
            )
            .unwrap();
            assert_eq!(plan.max_units.min(plan.sku_max_units), max, "{cidr}");
        }
        assert!(matches!(
            p("10.0.0.0/28", Sku::Premiumv2, NetworkType::Internal, None),
            Err(PlanError::TooSmall { minimum: 27, .. })
        ));
    }

    #[test]
    fn too_small_and_ipv6_are_errors() {
        let e = p("10.0.0.0/30", Sku::Premium, NetworkType::External, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "subnet 10.0.0.0/30 is too small: premium needs at least a /29"
        );
        assert!(matches!(
            p("10.0.0.0/32", Sku::Developer, NetworkType::Internal, None),
            Err(PlanError::TooSmall { .. })
        ));
        assert_eq!(
            p("fd00::/64", Sku::Premium, NetworkType::Internal, None),
            Err(PlanError::Ipv6("fd00::/64".into()))
        );
    }

    #[test]
    fn consumption_and_v2_outbound_tiers_are_errors() {
        for sku in [Sku::Consumption, Sku::Basicv2, Sku::Standardv2] {
            assert!(matches!(
                p("10.0.0.0/24", sku, NetworkType::External, None),
                Err(PlanError::UnsupportedSku { .. })
            ));
        }
        assert!(
            p("10.0.0.0/24", Sku::Standardv2, NetworkType::External, None)
                .unwrap_err()
                .to_string()
                .starts_with("the standardv2 tier can't be injected")
        );
    }

    #[test]
    fn notes_and_normalisation() {
        let plan = p("10.0.0.9/28", Sku::Basic, NetworkType::None, Some(0)).unwrap();
        assert_eq!(plan.subnet, "10.0.0.0/28");
        assert_eq!(plan.load_balancer, 0);
        assert_eq!(plan.fits, Some(false));
        let all = plan.notes.join("\n");
        assert!(all.contains("host bits"), "{all}");
        assert!(all.contains("type none"), "{all}");
        assert!(all.contains("only in the Developer and Premium"), "{all}");
        assert!(all.contains("capacity of 0"), "{all}");
    }

    #[test]
    fn large_subnets_do_not_overflow() {
        let plan = p(
            "0.0.0.0/0",
            Sku::Premium,
            NetworkType::Internal,
            Some(u32::MAX),
        )
        .unwrap();
        assert_eq!(plan.total_addresses, 1 << 32);
        assert_eq!(plan.fits, Some(false));
    }
}
