//! `service.additional_locations`: APIM's `additionalLocations` — more regions of the same
//! service, each with its own capacity and its own network section (virtual network, subnet,
//! NSGs, private endpoints …). As in Azure, each location's virtual network is configured
//! separately: nothing of the main `network` section carries over.
//!
//! A node serves one location (`gatehouse serve --location`): [`for_location`] gives the config
//! it serves.

use crate::config::{Config, Sku};
use crate::error::{Issue, Severity};
use crate::network::Network;
use crate::validate::Checker;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One more location of the service (APIM's AdditionalLocation).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdditionalLocation {
    /// The location's name, e.g. `northeurope`.
    pub location: String,
    /// Scale units in this location (Azure's `sku.capacity`).
    #[serde(default = "one")]
    pub capacity: u32,
    /// The location's SKU; the service's when absent.
    #[serde(default)]
    pub sku: Option<Sku>,
    /// The location's own network section (Azure's `virtualNetworkConfiguration` and what
    /// goes with it); nothing is inherited from the main `network`.
    #[serde(default, alias = "virtualNetworkConfiguration")]
    pub network: Network,
    /// Azure's `disableGateway`: no node serves traffic in this location.
    #[serde(default, alias = "disableGateway")]
    pub disable_gateway: bool,
}

fn one() -> u32 {
    1
}

/// The config a node in `location` serves: that location's network section instead of the
/// main one, and `service.location` (hence `context.Deployment.Region`), capacity and SKU of
/// that location. `None`, or the main location, returns `config` unchanged. The result lists no
/// additional locations: it is one location's view.
pub fn for_location(config: &Config, location: Option<&str>) -> Result<Config, Issue> {
    let Some(wanted) = location else {
        return Ok(config.clone());
    };
    if wanted.eq_ignore_ascii_case(&config.service.location) {
        return Ok(config.clone());
    }
    let Some(loc) = config
        .service
        .additional_locations
        .iter()
        .find(|l| l.location.eq_ignore_ascii_case(wanted))
    else {
        let known: Vec<&str> = std::iter::once(config.service.location.as_str())
            .chain(
                config
                    .service
                    .additional_locations
                    .iter()
                    .map(|l| l.location.as_str()),
            )
            .collect();
        return Err(Issue {
            severity: Severity::Error,
            path: "service.additional_locations".into(),
            message: format!(
                "the service has no location '{wanted}'; its locations are {}",
                known.join(", ")
            ),
        });
    };
    if loc.disable_gateway {
        return Err(Issue {
            severity: Severity::Error,
            path: "service.additional_locations".into(),
            message: format!(
                "the gateway is disabled in location '{}' (disable_gateway)",
                loc.location
            ),
        });
    }
    let mut out = config.clone();
    out.network = loc.network.clone();
    out.service.location = loc.location.clone();
    out.service.capacity = loc.capacity;
    if let Some(sku) = loc.sku {
        out.service.sku = sku;
    }
    out.service.additional_locations.clear();
    Ok(out)
}

/// Checks each additional location: a name, unique, not the main location, a capacity, and its
/// network section under the same rules as the main one (paths
/// `service.additional_locations[i].network.…`).
pub(crate) fn check(c: &mut Checker, config: &Config, listen_addrs: &[SocketAddr]) {
    let main = &config.service.location;
    for (i, loc) in config.service.additional_locations.iter().enumerate() {
        let path = format!("service.additional_locations[{i}]");
        let name = loc.location.trim();
        if name.is_empty() {
            c.error(format!("{path}.location"), "a location needs a name");
            continue;
        }
        if name.eq_ignore_ascii_case(main) {
            c.error(
                format!("{path}.location"),
                format!("'{name}' is the service's main location (service.location)"),
            );
        }
        if config.service.additional_locations[..i]
            .iter()
            .any(|o| o.location.trim().eq_ignore_ascii_case(name))
        {
            c.error(
                format!("{path}.location"),
                format!("location '{name}' is listed twice"),
            );
        }
        if loc.capacity == 0 {
            c.error(format!("{path}.capacity"), "must be at least 1");
        }
        if loc.sku.unwrap_or(config.service.sku) == Sku::Developer && loc.capacity > 1 {
            c.error(
                format!("{path}.capacity"),
                "the developer sku has exactly one unit",
            );
        }
        // The location's network, checked as the main one is, in the config a node there
        // serves; its findings are moved under this location's path.
        let mut view = config.clone();
        view.network = loc.network.clone();
        view.service.sku = loc.sku.unwrap_or(config.service.sku);
        view.service.additional_locations.clear();
        let mut inner = Checker { issues: Vec::new() };
        crate::validate_network::network(&mut inner, &view, listen_addrs);
        for issue in inner.issues {
            if let Some(rest) = issue.path.strip_prefix("network") {
                c.issues.push(Issue {
                    path: format!("{path}.network{rest}"),
                    ..issue
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, from_str};
    use std::path::Path;

    const YAML: &str = r#"
service:
  name: contoso
  sku: premium
  location: westeurope
  additionalLocations:
    - location: northeurope
      capacity: 2
      network:
        type: external
        virtual_network:
          address_space: [10.2.0.0/16]
          subnet: { prefix: 10.2.1.0/24, nsg: ne }
        network_security_groups:
          ne: { security_rules: [] }
    - { location: eastus, disable_gateway: true }
network:
  service_tags: { main: [10.1.0.0/16] }
"#;

    fn parse(yaml: &str) -> Config {
        from_str(yaml, Format::Yaml, Path::new("t.yaml")).expect("parses")
    }

    fn error_paths(yaml: &str) -> Vec<String> {
        match crate::validate(parse(yaml)) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    #[test]
    fn a_node_in_a_location_serves_its_network() {
        let config = parse(YAML);
        assert!(crate::validate(config.clone()).is_ok());
        let main = for_location(&config, None).unwrap();
        assert_eq!(main.service.location, "westeurope");
        assert_eq!(main.service.additional_locations.len(), 2);
        assert_eq!(
            for_location(&config, Some("westeurope"))
                .unwrap()
                .network
                .service_tags
                .len(),
            1
        );
        let ne = for_location(&config, Some("NorthEurope")).unwrap();
        assert_eq!(ne.service.location, "northeurope");
        assert_eq!(ne.service.capacity, 2);
        assert!(ne.network.service_tags.is_empty(), "nothing inherited");
        assert!(ne.network.network_security_groups.contains_key("ne"));
        assert!(ne.service.additional_locations.is_empty());
        if let Err(e) = crate::validate(ne) {
            panic!("{e:?}");
        }

        let err = for_location(&config, Some("mars")).unwrap_err();
        assert!(
            err.message.contains("westeurope, northeurope, eastus"),
            "{err}"
        );
        let err = for_location(&config, Some("eastus")).unwrap_err();
        assert!(err.message.contains("disabled"), "{err}");
    }

    #[test]
    fn locations_are_validated_with_their_paths() {
        let errors = error_paths(
            r#"
service:
  name: contoso
  location: westeurope
  additional_locations:
    - { location: westeurope }
    - { location: northeurope, capacity: 0 }
    - { location: NorthEurope }
    - location: eastus
      network:
        type: internal
        virtual_network: { address_space: [10.3.0.0/16], subnet: { prefix: 10.4.0.0/24, nsg: missing } }
"#,
        );
        let has = |p: &str| errors.iter().any(|e| e.starts_with(p));
        assert!(
            has("service.additional_locations[0].location: 'westeurope' is the service's main"),
            "{errors:?}"
        );
        assert!(
            has("service.additional_locations[1].capacity"),
            "{errors:?}"
        );
        assert!(
            has("service.additional_locations[2].location: location 'NorthEurope' is listed twice"),
            "{errors:?}"
        );
        assert!(
            has("service.additional_locations[3].network.virtual_network.subnet.prefix"),
            "{errors:?}"
        );
        assert!(
            has("service.additional_locations[3].network.virtual_network.subnet.nsg"),
            "{errors:?}"
        );
        // The main network section is fine: no finding without a location's prefix.
        assert!(
            !errors.iter().any(|e| e.starts_with("network")),
            "{errors:?}"
        );
    }
}
