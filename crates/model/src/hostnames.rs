//! Host names per component (APIM's `hostnameConfigurations`): which names the gateway, the
//! management API, the developer portal and the Git endpoint answer, with the certificates their
//! TLS listeners choose by SNI. Every component also has the default host name APIM derives
//! from the service name (`contoso.azure-api.net`, `contoso.portal.azure-api.net`, ...);
//! internal mode answers only these names (crates/cli/src/component_listener.rs,
//! crates/gateway/src/lifecycle.rs) and `gatehouse net dns-records` publishes them
//! (crates/cli/src/dns_records.rs).

use crate::config::{CertificateFiles, Config};
use crate::validate::Checker;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The DNS suffix of APIM's default host names.
pub const DEFAULT_DOMAIN: &str = "azure-api.net";

/// What a host name configuration is for (ARM `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HostnameType {
    /// The gateway.
    Proxy,
    /// The (legacy) developer portal: served by gatehouse's portal.
    Portal,
    /// The management API.
    Management,
    /// The Git configuration endpoint.
    Scm,
    /// The developer portal.
    DeveloperPortal,
}

impl HostnameType {
    pub const ALL: [HostnameType; 5] = [
        HostnameType::Proxy,
        HostnameType::Portal,
        HostnameType::DeveloperPortal,
        HostnameType::Management,
        HostnameType::Scm,
    ];

    /// APIM's default host name of this type for the service `service`.
    pub fn default_host_name(self, service: &str) -> String {
        let service = service.to_ascii_lowercase();
        match self {
            HostnameType::Proxy => format!("{service}.{DEFAULT_DOMAIN}"),
            HostnameType::Portal => format!("{service}.portal.{DEFAULT_DOMAIN}"),
            HostnameType::DeveloperPortal => format!("{service}.developer.{DEFAULT_DOMAIN}"),
            HostnameType::Management => format!("{service}.management.{DEFAULT_DOMAIN}"),
            HostnameType::Scm => format!("{service}.scm.{DEFAULT_DOMAIN}"),
        }
    }

    pub fn component(self) -> Component {
        match self {
            HostnameType::Proxy => Component::Gateway,
            HostnameType::Portal | HostnameType::DeveloperPortal => Component::Portal,
            HostnameType::Management => Component::Management,
            HostnameType::Scm => Component::Git,
        }
    }
}

/// One entry of `hostname_configurations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostnameConfiguration {
    #[serde(rename = "type")]
    pub kind: HostnameType,
    /// `api.contoso.com` or a wildcard `*.contoso.com`.
    #[serde(alias = "hostName")]
    pub host_name: String,
    /// Needed when the component serves TLS; absent for a plain-HTTP listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateFiles>,
    /// Served to clients of this component that send no SNI or an unknown name.
    #[serde(default, alias = "defaultSslBinding")]
    pub default_ssl_binding: bool,
}

/// A component of the service, with its own listeners (`network.endpoints.<component>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    Gateway,
    Management,
    Portal,
    Git,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::Gateway,
        Component::Management,
        Component::Portal,
        Component::Git,
    ];

    /// The host name types this component answers: the portal serves both portal kinds.
    pub fn types(self) -> &'static [HostnameType] {
        match self {
            Component::Gateway => &[HostnameType::Proxy],
            Component::Management => &[HostnameType::Management],
            Component::Portal => &[HostnameType::Portal, HostnameType::DeveloperPortal],
            Component::Git => &[HostnameType::Scm],
        }
    }

    /// The name of `network.endpoints.<name>` and of the logs.
    pub fn name(self) -> &'static str {
        match self {
            Component::Gateway => "gateway",
            Component::Management => "management",
            Component::Portal => "portal",
            Component::Git => "git",
        }
    }
}

/// A host name entry wherever it is written: `gateway.hostnames` (Proxy) or
/// `hostname_configurations`.
#[derive(Debug, Clone, Copy)]
pub struct HostEntry<'a> {
    pub kind: HostnameType,
    pub host_name: &'a str,
    pub certificate: Option<&'a CertificateFiles>,
    pub default_ssl_binding: bool,
    /// Where it is written, for messages: (`gateway.hostnames` or `hostname_configurations`, index).
    pub list: &'static str,
    pub index: usize,
}

impl HostEntry<'_> {
    /// `hostname_configurations[2]`.
    pub fn path(&self) -> String {
        format!("{}[{}]", self.list, self.index)
    }
}

/// Every configured host name entry, `gateway.hostnames` first.
pub fn entries(config: &Config) -> impl Iterator<Item = HostEntry<'_>> {
    let gateway = config
        .gateway
        .hostnames
        .iter()
        .enumerate()
        .map(|(index, h)| HostEntry {
            kind: HostnameType::Proxy,
            host_name: &h.host_name,
            certificate: Some(&h.certificate),
            default_ssl_binding: h.default_ssl_binding,
            list: "gateway.hostnames",
            index,
        });
    let configured = config
        .hostname_configurations
        .iter()
        .enumerate()
        .map(|(index, h)| HostEntry {
            kind: h.kind,
            host_name: &h.host_name,
            certificate: h.certificate.as_ref(),
            default_ssl_binding: h.default_ssl_binding,
            list: "hostname_configurations",
            index,
        });
    gateway.chain(configured)
}

/// The entries with a certificate that `component`'s TLS listeners choose from by SNI. A
/// component without certificates of its own uses the gateway's (Proxy) ones, as gatehouse did
/// before host names per component, so existing configs keep serving TLS.
pub fn certificates(config: &Config, component: Component) -> Vec<HostEntry<'_>> {
    let own: Vec<HostEntry<'_>> = entries(config)
        .filter(|e| e.certificate.is_some() && component.types().contains(&e.kind))
        .collect();
    if own.is_empty() && component != Component::Gateway {
        return certificates(config, Component::Gateway);
    }
    own
}

/// The host names `component` answers: the configured ones of its types, then the defaults
/// derived from the service name; lower case, each once.
pub fn effective_host_names(config: &Config, component: Component) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let configured = entries(config)
        .filter(|e| component.types().contains(&e.kind))
        .map(|e| e.host_name.to_ascii_lowercase());
    let defaults = component
        .types()
        .iter()
        .map(|t| t.default_host_name(&config.service.name));
    for name in configured.chain(defaults) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Whether `host` (lower case, without port) is `name` or matches the wildcard `name`
/// (`*.contoso.com` matches one label more: `a.contoso.com`, not `a.b.contoso.com`).
pub fn matches(name: &str, host: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(parent)),
        None => name.eq_ignore_ascii_case(host),
    }
}

/// A host name as RFC 1123 allows, or a wildcard of one (`*.contoso.com`).
pub fn well_formed(name: &str) -> bool {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    !bare.is_empty()
        && bare.len() <= 253
        && bare.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        })
}

/// Validates `hostname_configurations` (the `gateway.hostnames` entries are checked with the
/// gateway settings in crates/model/src/validate.rs; they count here as Proxy entries for
/// uniqueness and the default binding).
pub(crate) fn check(c: &mut Checker, config: &Config) {
    let mut seen: HashMap<(HostnameType, String), String> = HashMap::new();
    let mut defaults: HashMap<HostnameType, Vec<String>> = HashMap::new();
    for e in entries(config) {
        let path = e.path();
        let own = e.list == "hostname_configurations";
        if own && !well_formed(e.host_name) {
            c.error(
                format!("{path}.host_name"),
                format!("invalid host name '{}'", e.host_name),
            );
        }
        let key = (e.kind, e.host_name.to_ascii_lowercase());
        if let Some(first) = seen.get(&key) {
            if own {
                c.error(
                    format!("{path}.host_name"),
                    format!(
                        "host name '{}' is given twice for {:?} (first at {first})",
                        e.host_name, e.kind
                    ),
                );
            }
        } else {
            seen.insert(key, path.clone());
        }
        if e.default_ssl_binding {
            defaults.entry(e.kind).or_default().push(path.clone());
        }
        if let (true, Some(cert)) = (own, e.certificate) {
            for (field, file) in [("cert_file", &cert.cert_file), ("key_file", &cert.key_file)] {
                if let Err(err) = std::fs::metadata(file) {
                    c.error(
                        format!("{path}.certificate.{field}"),
                        format!("cannot read '{file}': {err}"),
                    );
                }
            }
        }
        if own && e.default_ssl_binding && e.certificate.is_none() {
            c.error(
                format!("{path}.default_ssl_binding"),
                "a default SSL binding needs a certificate",
            );
        }
    }
    for (kind, paths) in defaults {
        // Two defaults within gateway.hostnames alone are reported by validate.rs.
        if paths.len() > 1
            && paths
                .iter()
                .any(|p| p.starts_with("hostname_configurations"))
        {
            c.error(
                "hostname_configurations",
                format!(
                    "only one {kind:?} host name may have default_ssl_binding: true ({})",
                    paths.join(", ")
                ),
            );
        }
    }
    // A warning rather than an error: such configs validated before host names per component
    // (the listener closes every connection), and docs/portal.md shows one without files.
    for component in tls_components(config) {
        if certificates(config, component).is_empty() {
            c.warn(
                format!("network.endpoints.{}", component.name()),
                format!(
                    "a TLS listener of the {} has no certificate, so it closes every connection: add a hostname_configurations entry of type {} (or one in gateway.hostnames)",
                    component.name(),
                    component
                        .types()
                        .iter()
                        .map(|t| format!("{t:?}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            );
        }
    }
}

/// The components (other than the gateway, whose listeners validate.rs checks) with a TLS
/// endpoint.
fn tls_components(config: &Config) -> Vec<Component> {
    let ep = &config.network.endpoints;
    [
        (Component::Management, &ep.management),
        (Component::Portal, &ep.portal),
        (Component::Git, &ep.git),
    ]
    .into_iter()
    .filter(|(_, e)| {
        e.as_ref().is_some_and(|e| {
            e.public.as_ref().is_some_and(|s| s.tls())
                || e.private.as_ref().is_some_and(|s| s.tls())
        })
    })
    .map(|(c, _)| c)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Config {
        crate::from_str(yaml, crate::Format::Yaml, std::path::Path::new("/")).expect("parses")
    }

    fn errors(yaml: &str) -> Vec<String> {
        match crate::validate(config(yaml)) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .map(|i| format!("{}: {}", i.path, i.message))
                .collect(),
        }
    }

    #[test]
    fn defaults_follow_apim_per_component() {
        let c = config("service: { name: Contoso }\n");
        assert_eq!(
            effective_host_names(&c, Component::Gateway),
            ["contoso.azure-api.net"]
        );
        assert_eq!(
            effective_host_names(&c, Component::Portal),
            [
                "contoso.portal.azure-api.net",
                "contoso.developer.azure-api.net"
            ]
        );
        assert_eq!(
            effective_host_names(&c, Component::Management),
            ["contoso.management.azure-api.net"]
        );
        assert_eq!(
            effective_host_names(&c, Component::Git),
            ["contoso.scm.azure-api.net"]
        );
    }

    #[test]
    fn configured_names_come_first_and_gateway_hostnames_are_proxy() {
        let c = config(
            r#"
service: { name: contoso }
gateway:
  hostnames: [ { host_name: API.contoso.com, certificate: { cert_file: c, key_file: k } } ]
hostnameConfigurations:
  - { type: DeveloperPortal, hostName: developer.contoso.com }
  - { type: Proxy, host_name: "*.gw.contoso.com" }
"#,
        );
        assert_eq!(
            effective_host_names(&c, Component::Gateway),
            [
                "api.contoso.com",
                "*.gw.contoso.com",
                "contoso.azure-api.net"
            ]
        );
        assert_eq!(
            effective_host_names(&c, Component::Portal)[0],
            "developer.contoso.com"
        );
        // The portal has no certificate of its own: it uses the gateway's.
        let certs = certificates(&c, Component::Portal);
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].path(), "gateway.hostnames[0]");
    }

    #[test]
    fn wildcards_match_one_label() {
        assert!(matches("*.contoso.com", "a.contoso.com"));
        assert!(matches("*.contoso.com", "A.Contoso.COM"));
        assert!(!matches("*.contoso.com", "a.b.contoso.com"));
        assert!(!matches("*.contoso.com", "contoso.com"));
        assert!(matches("api.contoso.com", "API.contoso.com"));
        assert!(!matches("api.contoso.com", "10.0.0.1"));
    }

    #[test]
    fn validation_names_the_entry() {
        let errs = errors(
            r#"
service: { name: contoso }
hostname_configurations:
  - { type: Portal, host_name: "bad name" }
  - { type: Management, host_name: m.contoso.com, default_ssl_binding: true, certificate: { cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem } }
  - { type: Management, host_name: M.contoso.com, default_ssl_binding: true }
  - { type: Portal, host_name: m.contoso.com }
"#,
        );
        let has = |needle: &str| errs.iter().any(|e| e.contains(needle));
        assert!(
            has("hostname_configurations[0].host_name: invalid host name 'bad name'"),
            "{errs:?}"
        );
        assert!(
            has(
                "hostname_configurations[1].certificate.cert_file: cannot read '/nonexistent/c.pem'"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                "hostname_configurations[2].host_name: host name 'M.contoso.com' is given twice for Management (first at hostname_configurations[1])"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                "hostname_configurations[2].default_ssl_binding: a default SSL binding needs a certificate"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                "hostname_configurations: only one Management host name may have default_ssl_binding: true"
            ),
            "{errs:?}"
        );
        // The same name for another type is allowed.
        assert!(!has("hostname_configurations[3]"), "{errs:?}");
    }

    #[test]
    fn a_tls_component_without_a_certificate_is_warned_about() {
        let v = crate::validate(config(
            r#"
service: { name: contoso }
network:
  endpoints:
    portal: { public: { address: "127.0.0.1:9443", tls: true } }
"#,
        ))
        .expect("valid");
        assert!(
            v.warnings
                .iter()
                .any(|w| w.path == "network.endpoints.portal"
                    && w.message
                        .starts_with("a TLS listener of the portal has no certificate")),
            "{:?}",
            v.warnings
        );
    }
}
