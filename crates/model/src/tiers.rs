//! Which tier offers which network option, as Azure's documentation tables them: a
//! configuration asking for an option its tier does not have is refused, with the table in the
//! message so the user sees what would work.

use crate::config::{Config, Sku};
use crate::network::NetworkType;
use crate::validate::Checker;

/// Azure's table, as the error messages show it.
pub const TABLE: &str = "VNet injection (type external/internal): Developer, Premium, and Premium v2 \
(its subnet delegated to Microsoft.Web/hostingEnvironments); inbound private endpoints: Developer, \
Basic, Standard, Standard v2, Premium; outbound VNet integration: Standard v2, Premium v2";

/// The delegation a Premium v2 injection subnet must carry.
pub const PREMIUM_V2_DELEGATION: &str = "Microsoft.Web/hostingEnvironments";

/// The tier offers VNet injection.
pub fn offers_injection(sku: Sku) -> bool {
    matches!(sku, Sku::Developer | Sku::Premium | Sku::Premiumv2)
}

/// The tier offers inbound private endpoints.
pub fn offers_private_endpoints(sku: Sku) -> bool {
    matches!(
        sku,
        Sku::Developer | Sku::Basic | Sku::Standard | Sku::Standardv2 | Sku::Premium
    )
}

/// The tier offers outbound VNet integration (crates/model/src/outbound_integration.rs).
pub fn offers_outbound_integration(sku: Sku) -> bool {
    matches!(sku, Sku::Standardv2 | Sku::Premiumv2)
}

/// The tier's name as Azure writes it.
pub fn display(sku: Sku) -> &'static str {
    match sku {
        Sku::Developer => "Developer",
        Sku::Basic => "Basic",
        Sku::Standard => "Standard",
        Sku::Premium => "Premium",
        Sku::Consumption => "Consumption",
        Sku::Basicv2 => "Basic v2",
        Sku::Standardv2 => "Standard v2",
        Sku::Premiumv2 => "Premium v2",
    }
}

/// Checks the network section of `config` against its tier (`service.sku`).
pub(crate) fn check(c: &mut Checker, config: &Config) {
    let sku = config.service.sku;
    let n = &config.network;
    let injected = matches!(n.kind, NetworkType::External | NetworkType::Internal);
    if injected && !offers_injection(sku) {
        c.error(
            "network.type",
            format!(
                "VNet injection is not offered on the {} tier. Azure's tiers: {TABLE}",
                display(sku)
            ),
        );
    }
    if !n.private_endpoints.is_empty() && !offers_private_endpoints(sku) {
        c.error(
            "network.private_endpoints",
            format!(
                "inbound private endpoints are not offered on the {} tier. Azure's tiers: {TABLE}",
                display(sku)
            ),
        );
    }
    if injected && sku == Sku::Premiumv2 {
        let delegation = n
            .virtual_network
            .as_ref()
            .and_then(|v| v.subnet.as_ref())
            .and_then(|s| s.delegation.as_deref());
        if !delegation.is_some_and(|d| d.eq_ignore_ascii_case(PREMIUM_V2_DELEGATION)) {
            c.error(
                "network.virtual_network.subnet.delegation",
                format!(
                    "a Premium v2 injection subnet must be delegated to {PREMIUM_V2_DELEGATION} (found: {})",
                    delegation.unwrap_or("none")
                ),
            );
        }
    }
}

/// A subnet's delegation is refused for the classic tiers (Azure requires none), required for
/// Premium v2 injection (checked above).
pub(crate) fn delegation_refused(sku: Sku) -> bool {
    sku != Sku::Premiumv2
}

#[cfg(test)]
mod tests {
    use crate::{Format, from_str, validate};
    use std::path::Path;

    fn errors(yaml: &str) -> Vec<String> {
        let config = from_str(yaml, Format::Yaml, Path::new("t.yaml")).expect("parses");
        match validate(config) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .filter(|i| i.severity == crate::Severity::Error)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    fn injected(sku: &str, delegation: &str) -> String {
        format!(
            r#"
service: {{ name: t, sku: {sku} }}
network:
  type: external
  virtual_network: {{ address_space: [10.0.0.0/16], subnet: {{ prefix: 10.0.1.0/24, nsg: n{delegation} }} }}
  network_security_groups: {{ n: {{ security_rules: [] }} }}
"#
        )
    }

    #[test]
    fn injection_only_where_azure_offers_it() {
        for sku in ["developer", "premium"] {
            assert_eq!(errors(&injected(sku, "")), Vec::<String>::new(), "{sku}");
        }
        for sku in ["basic", "standard", "consumption", "basicv2", "standardv2"] {
            let e = errors(&injected(sku, ""));
            assert_eq!(e.len(), 1, "{sku}: {e:?}");
            assert!(
                e[0].starts_with("network.type: VNet injection is not offered"),
                "{e:?}"
            );
            assert!(
                e[0].contains("Developer, Premium, and Premium v2"),
                "the table is in the message: {e:?}"
            );
        }
    }

    #[test]
    fn premium_v2_injection_needs_its_delegation_and_classic_tiers_none() {
        let e = errors(&injected("premiumv2", ""));
        assert!(
            e.iter()
                .any(|e| e.contains("must be delegated to Microsoft.Web/hostingEnvironments")),
            "{e:?}"
        );
        let ok = injected(
            "premiumv2",
            ", delegation: Microsoft.Web/hostingEnvironments",
        );
        assert_eq!(errors(&ok), Vec::<String>::new());
        let classic = injected("premium", ", delegation: Microsoft.Web/hostingEnvironments");
        assert!(
            errors(&classic)
                .iter()
                .any(|e| e.contains("Azure requires a subnet without delegation"))
        );
    }

    #[test]
    fn private_endpoints_only_where_azure_offers_them() {
        let pe = |sku: &str| {
            format!(
                "service: {{ name: t, sku: {sku} }}\nnetwork:\n  private_endpoints: [ {{ name: pe1, link_id: 1, listen: \"127.0.0.1:9443\" }} ]\n"
            )
        };
        for sku in ["developer", "basic", "standard", "standardv2", "premium"] {
            assert_eq!(errors(&pe(sku)), Vec::<String>::new(), "{sku}");
        }
        for sku in ["consumption", "basicv2", "premiumv2"] {
            let e = errors(&pe(sku));
            assert!(
                e.iter().any(|e| e.starts_with(
                    "network.private_endpoints: inbound private endpoints are not offered"
                )),
                "{sku}: {e:?}"
            );
        }
    }
}
