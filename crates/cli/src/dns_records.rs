//! `gatehouse net dns-records --config F [--format zone|json]`: the DNS records an internal
//! deployment needs. In internal mode no endpoint is in public DNS and each component answers
//! only its host names (docs/network.md), so the operator publishes, in a private DNS zone, an
//! A (or AAAA) record for every host name of every component — the configured ones and the
//! defaults derived from the service name (crates/model/src/hostnames.rs) — pointing at that
//! component's private address (`network.endpoints.<component>.private`, and for the gateway
//! also its private listeners in the injected subnet).

use anyhow::{Result, bail};
use gatehouse_model::hostnames::{self, Component, DEFAULT_DOMAIN};
use gatehouse_model::network::NetworkType;
use gatehouse_model::{Exposure, Validated};
use serde::Serialize;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DnsRecordsArgs {
    #[arg(long, short)]
    config: PathBuf,
    /// `zone`: BIND zone-file lines; `json`: a list of {name, type, address, component}.
    #[arg(long, default_value = "zone", value_parser = ["zone", "json"])]
    format: String,
    /// The zone's `$ORIGIN`: names under it are written relative to it, others in full.
    #[arg(long, default_value = DEFAULT_DOMAIN)]
    origin: String,
    /// The records' TTL in seconds (`$TTL`).
    #[arg(long, default_value_t = 300)]
    ttl: u32,
}

/// One address record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// The host name, without a trailing dot.
    pub name: String,
    /// `A` or `AAAA`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub address: IpAddr,
    /// `gateway`, `management`, `portal` or `git`.
    pub component: &'static str,
}

pub fn run(a: DnsRecordsArgs) -> Result<ExitCode> {
    let v = gatehouse_model::load_validated(&a.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    if v.config.network.kind != NetworkType::Internal {
        eprintln!(
            "note: network.type is not internal: these records are what an internal deployment would need"
        );
    }
    let records = records(&v);
    for c in Component::ALL {
        if !records.iter().any(|r| r.component == c.name()) {
            eprintln!(
                "note: the {} has no private address (network.endpoints.{}.private): no records for it",
                c.name(),
                c.name()
            );
        }
    }
    if records.is_empty() {
        bail!(
            "no private addresses to publish: no component has network.endpoints.<component>.private (nor a private gateway listener) with a specific IP address"
        );
    }
    match a.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&records)?),
        _ => print!(
            "{}",
            zone(&records, &v.config.service.name, &a.origin, a.ttl)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Every component's host names → each of its private addresses, components in
/// [`Component::ALL`] order.
pub fn records(v: &Validated) -> Vec<DnsRecord> {
    let mut out = Vec::new();
    for c in Component::ALL {
        let addresses = private_addresses(v, c);
        for name in hostnames::effective_host_names(&v.config, c) {
            for ip in &addresses {
                out.push(DnsRecord {
                    name: name.clone(),
                    kind: if ip.is_ipv4() { "A" } else { "AAAA" },
                    address: *ip,
                    component: c.name(),
                });
            }
        }
    }
    out
}

/// The component's private addresses, each once; an unspecified address (`0.0.0.0`) says
/// nothing a client could dial and is left out.
fn private_addresses(v: &Validated, c: Component) -> Vec<IpAddr> {
    let ep = &v.config.network.endpoints;
    let endpoints = match c {
        Component::Gateway => &ep.gateway,
        Component::Management => &ep.management,
        Component::Portal => &ep.portal,
        Component::Git => &ep.git,
    };
    let mut out: Vec<IpAddr> = Vec::new();
    let configured = endpoints
        .as_ref()
        .and_then(|e| e.private.as_ref())
        .and_then(|s| s.address().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.ip());
    let listeners = v
        .listeners
        .iter()
        .filter(|l| c == Component::Gateway && l.exposure == Exposure::Private)
        .map(|l| l.addr.ip());
    for ip in configured.into_iter().chain(listeners) {
        if !ip.is_unspecified() && !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// BIND zone-file text: `$ORIGIN`, `$TTL`, then one line per record with its component as a
/// comment.
pub fn zone(records: &[DnsRecord], service: &str, origin: &str, ttl: u32) -> String {
    let origin = origin.trim_end_matches('.').to_ascii_lowercase();
    let mut out = format!(
        "; DNS records of the internal deployment of '{service}' (gatehouse net dns-records).\n\
         ; Create these exact names in the private DNS zone the virtual network resolves with.\n\
         $ORIGIN {origin}.\n$TTL {ttl}\n"
    );
    let owners: Vec<String> = records.iter().map(|r| owner(&r.name, &origin)).collect();
    let width = owners.iter().map(String::len).max().unwrap_or(0);
    for (r, owner) in records.iter().zip(owners) {
        out.push_str(&format!(
            "{owner:<width$} IN {:<4} {} ; {}\n",
            r.kind, r.address, r.component
        ));
    }
    out
}

/// The record's owner name: relative to `origin` when under it (`@` for the origin itself),
/// else in full with its trailing dot.
fn owner(name: &str, origin: &str) -> String {
    if name == origin {
        return "@".to_string();
    }
    match name.strip_suffix(origin).and_then(|s| s.strip_suffix('.')) {
        Some(relative) if !relative.is_empty() => relative.to_string(),
        _ => format!("{name}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(yaml: &str) -> Validated {
        let c = gatehouse_model::from_str(
            yaml,
            gatehouse_model::Format::Yaml,
            std::path::Path::new("/"),
        )
        .expect("parses");
        gatehouse_model::validate(c).expect("valid")
    }

    #[test]
    fn owners_are_relative_to_the_origin_when_under_it() {
        assert_eq!(owner("contoso.azure-api.net", "azure-api.net"), "contoso");
        assert_eq!(owner("azure-api.net", "azure-api.net"), "@");
        assert_eq!(
            owner("api.contoso.com", "azure-api.net"),
            "api.contoso.com."
        );
        assert_eq!(owner("xazure-api.net", "azure-api.net"), "xazure-api.net.");
    }

    #[test]
    fn every_components_names_point_at_its_private_address() {
        let v = validated(
            r#"
service: { name: contoso, sku: developer }
hostname_configurations:
  - { type: Proxy, host_name: api.contoso.com }
network:
  type: internal
  virtual_network:
    address_space: [10.1.0.0/16, "fd00::/64"]
    subnet: { name: apim, prefix: 10.1.0.0/24, nsg: n }
  network_security_groups: { n: { security_rules: [] } }
  endpoints:
    gateway: { private: "10.1.0.5:443" }
    portal: { private: "[fd00::6]:443" }
    management: { private: "0.0.0.0:3443" }
"#,
        );
        let got: Vec<(String, &str, String, &str)> = records(&v)
            .into_iter()
            .map(|r| (r.name, r.kind, r.address.to_string(), r.component))
            .collect();
        let want = [
            ("api.contoso.com", "A", "10.1.0.5", "gateway"),
            ("contoso.azure-api.net", "A", "10.1.0.5", "gateway"),
            ("contoso.portal.azure-api.net", "AAAA", "fd00::6", "portal"),
            (
                "contoso.developer.azure-api.net",
                "AAAA",
                "fd00::6",
                "portal",
            ),
        ];
        let want: Vec<(String, &str, String, &str)> = want
            .iter()
            .map(|(n, k, a, c)| (n.to_string(), *k, a.to_string(), *c))
            .collect();
        assert_eq!(got, want);
    }
}
