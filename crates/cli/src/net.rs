//! `gatehouse net verify | show | plan`: the network rules explained. `verify` answers "would
//! this flow pass, and by which rule" (Azure Network Watcher's IP flow verify), `show` prints
//! the effective exposure and rules, `plan` does the subnet arithmetic. With `--json` each
//! prints one JSON object (a stable interface).

use anyhow::{Context, Result, bail};
use gatehouse_model::network::{Direction, NetworkType, PublicNetworkAccess};
use gatehouse_model::{Exposure, Sku, Validated};
use gatehouse_net::dns::Resolver;
use gatehouse_net::egress::EgressPolicy;
use gatehouse_net::inbound::{ConnFacts, InboundPolicy, Stage};
use gatehouse_net::proxy_protocol::ProxyHeader;
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum NetCommand {
    /// Would this flow pass, and by which stage and rule? (Network Watcher's IP flow verify)
    Verify(VerifyArgs),
    /// Each component's listeners and exposure, the effective NSG rules in evaluation order,
    /// private endpoints and their states.
    Show {
        #[arg(long, short)]
        config: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The subnet arithmetic: addresses, Azure's 5 reserved, per-unit addresses, max units.
    Plan(PlanArgs),
    /// Resolve a backend host name as the gateway does (private zones, servers, cache) and judge
    /// each address with the egress guard.
    Resolve {
        name: String,
        #[arg(long, short)]
        config: std::path::PathBuf,
        /// Skip the cache (a fresh process has an empty one anyway; kept for scripts).
        #[arg(long)]
        fresh: bool,
        /// The backend port each address is judged with (outbound NSG rules may name ports).
        #[arg(long, default_value_t = 443)]
        port: u16,
        #[arg(long)]
        json: bool,
    },
    /// The A/AAAA records an internal deployment needs: each component's host names → its
    /// private addresses (crates/cli/src/dns_records.rs).
    DnsRecords(crate::dns_records::DnsRecordsArgs),
    /// Apply the config file to the gateway running it, now, and print what changed.
    Apply {
        #[arg(long, short)]
        config: std::path::PathBuf,
        /// The gateway's admin socket (default: as `serve` derives it from the config path, in
        /// $XDG_RUNTIME_DIR/gatehouse or <tmp>/gatehouse-<uid>). Only a gateway running as this
        /// user or root is believed.
        #[arg(long, value_name = "PATH")]
        admin_socket: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[arg(long, short)]
    config: std::path::PathBuf,
    #[arg(long, value_parser = ["inbound", "outbound"])]
    direction: String,
    /// IP or IP:PORT of the client (inbound) or the gateway (outbound).
    #[arg(long)]
    source: String,
    /// IP:PORT of a gateway listener (inbound), or HOST_OR_IP:PORT of a backend (outbound).
    #[arg(long)]
    destination: String,
    #[arg(long, default_value = "tcp", value_parser = ["tcp", "udp", "icmp"])]
    protocol: String,
    /// As if through a trusted proxy whose PROXY v2 header carries this Private Link LinkID.
    #[arg(long)]
    link_id: Option<u32>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct PlanArgs {
    #[arg(long)]
    subnet: String,
    #[arg(long, value_parser = ["developer", "basic", "standard", "premium", "basicv2", "standardv2", "premiumv2"])]
    sku: String,
    #[arg(long = "type", value_parser = ["none", "external", "internal"])]
    kind: String,
    #[arg(long)]
    units: Option<u32>,
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: NetCommand) -> Result<ExitCode> {
    match cmd {
        NetCommand::Verify(a) => verify(a),
        NetCommand::Show { config, json } => show(&config, json),
        NetCommand::Plan(a) => plan(a),
        NetCommand::DnsRecords(a) => crate::dns_records::run(a),
        NetCommand::Apply {
            config,
            admin_socket,
            json,
        } => apply(&config, admin_socket, json),
        NetCommand::Resolve {
            name,
            config,
            fresh,
            port,
            json,
        } => resolve(&config, &name, fresh, port, json),
    }
}

fn apply(config: &Path, socket: Option<std::path::PathBuf>, as_json: bool) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = rt.block_on(crate::admin::apply(config, socket))?;
    let ok = answer["ok"] == true;
    if as_json {
        println!("{answer}");
    } else if ok {
        let list = |k: &str| answer[k].as_array().cloned().unwrap_or_default();
        let changes: Vec<String> = list("listeners_added")
            .iter()
            .map(|a| format!("listener {} added", a.as_str().unwrap_or("")))
            .chain(
                list("listeners_removed")
                    .iter()
                    .map(|a| format!("listener {} removed (draining)", a.as_str().unwrap_or(""))),
            )
            .chain(
                list("network_changes")
                    .iter()
                    .map(|c| c.as_str().unwrap_or("").to_string()),
            )
            .collect();
        println!("{}: applied", config.display());
        if changes.is_empty() {
            println!("  no network change");
        }
        for c in changes {
            println!("  {c}");
        }
        for r in list("needs_restart") {
            println!(
                "  {} changed: applies after a restart",
                r.as_str().unwrap_or("")
            );
        }
    } else {
        println!("{}: refused, the running config stays", config.display());
        for e in answer["errors"].as_array().cloned().unwrap_or_default() {
            println!("  {}", e.as_str().unwrap_or(""));
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn load(path: &Path) -> Result<(Validated, InboundPolicy)> {
    let v = gatehouse_model::load_validated(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let policy = InboundPolicy::compile(&v.config.network)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((v, policy))
}

fn parse_endpoint(what: &str, s: &str, default_port: u16) -> Result<SocketAddr> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let ip: IpAddr = s
        .parse()
        .with_context(|| format!("--{what}: '{s}' is not IP or IP:PORT"))?;
    Ok(SocketAddr::new(ip, default_port))
}

fn exposure_name(v: &Validated, e: Exposure) -> String {
    match e {
        Exposure::Public => "public".into(),
        Exposure::Private => "private".into(),
        Exposure::PrivateEndpoint(i) => format!(
            "private_endpoint:{}",
            v.config
                .network
                .private_endpoints
                .get(i)
                .map_or("?", |p| p.name.as_str())
        ),
    }
}

fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let (v, policy) = load(&a.config)?;
    let source = parse_endpoint("source", &a.source, 50000)?;
    let answer = if a.direction == "inbound" {
        let destination: SocketAddr = a
            .destination
            .parse()
            .with_context(|| format!("--destination: '{}' is not IP:PORT", a.destination))?;
        verify_inbound(&v, &policy, source, destination, &a)
    } else {
        verify_outbound(&v, &a.destination)?
    };
    if a.json {
        println!("{answer}");
    } else {
        let rule = match (&answer["rule"], &answer["priority"]) {
            (Value::String(r), Value::Number(p)) => format!(" by rule '{r}' (priority {p})"),
            _ => String::new(),
        };
        println!(
            "{}: {} at stage {}{rule}: {}",
            a.direction,
            answer["decision"].as_str().unwrap_or(""),
            answer["stage"].as_str().unwrap_or(""),
            answer["reason"].as_str().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_inbound(
    v: &Validated,
    policy: &InboundPolicy,
    source: SocketAddr,
    destination: SocketAddr,
    a: &VerifyArgs,
) -> Value {
    let listener = v
        .listeners
        .iter()
        .find(|l| l.addr == destination)
        .or_else(|| {
            v.listeners
                .iter()
                .find(|l| l.addr.port() == destination.port() && l.addr.ip().is_unspecified())
        });
    let Some(listener) = listener else {
        let listening: Vec<String> = v.listeners.iter().map(|l| l.addr.to_string()).collect();
        return json!({"direction": "inbound", "decision": "deny", "stage": "exposure", "rule": null, "priority": null, "listener": null,
            "reason": format!("no gateway listener at {destination} (listening: {})", listening.join(", "))});
    };
    let header = a.link_id.map(|id| ProxyHeader {
        version: 2,
        local: false,
        source: Some(source),
        destination: Some(destination),
        link_id: Some(id),
        tlvs: Vec::new(),
    });
    let facts = ConnFacts {
        peer: source,
        local: destination,
        exposure: listener.exposure,
        proxy: header.as_ref(),
    };
    let exposure = exposure_name(v, listener.exposure);
    if a.protocol != "tcp" {
        return json!({"direction": "inbound", "decision": "deny", "stage": "exposure", "rule": null, "priority": null, "listener": exposure,
            "reason": format!("the gateway listens on TCP only; {} never reaches it", a.protocol)});
    }
    match policy.judge(&facts) {
        Err(r) => json!({
            "direction": "inbound", "decision": "deny", "stage": r.stage.as_str(),
            "rule": r.rule.as_ref().map(|x| x.name.to_string()), "priority": r.rule.as_ref().map(|x| x.priority),
            "listener": exposure, "reason": r.reason,
        }),
        Ok(adm) if adm.public_access_denied => json!({
            "direction": "inbound", "decision": "deny", "stage": Stage::PublicNetworkAccess.as_str(),
            "rule": adm.nsg_rule.as_ref().map(|x| x.name.to_string()), "priority": adm.nsg_rule.as_ref().map(|x| x.priority),
            "listener": exposure,
            "reason": "public network access is disabled and this is not an approved private endpoint: every request gets 403",
        }),
        Ok(adm) => {
            let (stage, reason) = match (&adm.nsg_rule, &adm.private_endpoint) {
                (Some(r), _) => (
                    "nsg",
                    format!("allowed by NSG rule '{}' (priority {})", r.name, r.priority),
                ),
                (None, Some(pe)) => (
                    "private_endpoint",
                    format!(
                        "through approved private endpoint '{}' (LinkID {})",
                        pe.name, pe.link_id
                    ),
                ),
                (None, None) => (
                    "exposure",
                    format!(
                        "type {} serves this listener without an NSG",
                        type_name(policy.kind())
                    ),
                ),
            };
            json!({
                "direction": "inbound", "decision": "allow", "stage": stage,
                "rule": adm.nsg_rule.as_ref().map(|x| x.name.to_string()), "priority": adm.nsg_rule.as_ref().map(|x| x.priority),
                "listener": exposure, "client": adm.client.to_string(),
                "private_endpoint": adm.private_endpoint.as_ref().map(|p| p.name.to_string()), "reason": reason,
            })
        }
    }
}

/// One address judged by the egress guard, as JSON.
fn egress_verdict(policy: &EgressPolicy, addr: SocketAddr) -> Value {
    match policy.judge(addr) {
        Ok(a) => {
            json!({"address": addr.to_string(), "class": a.class.as_str(), "decision": "allow",
            "rule": a.rule.as_ref().map(|r| r.name.to_string()), "priority": a.rule.as_ref().map(|r| r.priority)})
        }
        Err(r) => {
            json!({"address": addr.to_string(), "class": r.class.as_str(), "decision": "deny", "stage": r.stage.as_str(),
            "rule": r.rule.as_ref().map(|x| x.name.to_string()), "priority": r.rule.as_ref().map(|x| x.priority), "reason": r.reason})
        }
    }
}

/// Outbound: what the egress guard would do connecting to `destination` (a name is resolved
/// first, as the gateway does): the first allowed address is the one it connects to.
fn verify_outbound(v: &Validated, destination: &str) -> Result<Value> {
    let (host, port) = split_host_port(destination)?;
    let (policy, resolver, rt) = outbound_tools(v)?;
    let answer = match rt.block_on(resolver.resolve(&host)) {
        Ok(a) => a,
        Err(e) => {
            return Ok(
                json!({"direction": "outbound", "destination": destination, "decision": "deny", "stage": "dns",
                "rule": null, "priority": null, "addresses": [], "reason": e.to_string()}),
            );
        }
    };
    let verdicts: Vec<Value> = answer
        .addrs
        .iter()
        .map(|ip| egress_verdict(&policy, SocketAddr::new(*ip, port)))
        .collect();
    let chosen = verdicts.iter().find(|x| x["decision"] == "allow");
    let decider = chosen.or(verdicts.first()).cloned().unwrap_or(Value::Null);
    let reason = match chosen {
        Some(c) => format!(
            "connects to {} ({}){}",
            c["address"].as_str().unwrap_or(""),
            c["class"].as_str().unwrap_or(""),
            c["rule"]
                .as_str()
                .map(|r| format!(", allowed by NSG rule '{r}' (priority {})", c["priority"]))
                .unwrap_or_default()
        ),
        None => format!(
            "every address is refused: {}",
            verdicts
                .iter()
                .map(|x| format!(
                    "{} ({})",
                    x["address"].as_str().unwrap_or(""),
                    x["reason"].as_str().unwrap_or("")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    Ok(json!({
        "direction": "outbound", "destination": destination,
        "decision": if chosen.is_some() { "allow" } else { "deny" },
        "stage": decider.get("stage").cloned().unwrap_or_else(|| json!(if decider["rule"].is_null() { "network_type" } else { "nsg" })),
        "rule": decider["rule"], "priority": decider["priority"],
        "resolved_from": answer.source.to_string(), "addresses": verdicts, "reason": reason,
    }))
}

/// The egress guard and resolver of a config, and a runtime to resolve with: what the gateway
/// itself uses for backend connections.
fn outbound_tools(v: &Validated) -> Result<(EgressPolicy, Resolver, tokio::runtime::Runtime)> {
    let policy = EgressPolicy::compile(&v.config.network).map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolver =
        Resolver::new(v.config.network.dns.as_ref()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok((policy, resolver, rt))
}

fn split_host_port(s: &str) -> Result<(String, u16)> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok((a.ip().to_string(), a.port()));
    }
    let (host, port) = s
        .rsplit_once(':')
        .with_context(|| format!("'{s}' is not HOST:PORT"))?;
    let port: u16 = port.parse().with_context(|| format!("'{s}': bad port"))?;
    Ok((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
    ))
}

fn resolve(config: &Path, name: &str, fresh: bool, port: u16, as_json: bool) -> Result<ExitCode> {
    let v = gatehouse_model::load_validated(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (policy, resolver, rt) = outbound_tools(&v)?;
    let result = rt.block_on(async {
        if fresh {
            resolver.resolve_fresh(name).await
        } else {
            resolver.resolve(name).await
        }
    });
    let out = match &result {
        Ok(a) => json!({
            "name": a.name, "ok": true, "source": a.source, "source_text": a.source.to_string(),
            "ttl_left_seconds": if a.ttl_left == std::time::Duration::MAX { Value::Null } else { json!(a.ttl_left.as_secs()) },
            "cname_chain": a.cname_chain,
            "addresses": a.addrs.iter().map(|ip| egress_verdict(&policy, SocketAddr::new(*ip, port))).collect::<Vec<_>>(),
        }),
        Err(e) => json!({"name": name, "ok": false, "error": e.to_string()}),
    };
    if as_json {
        println!("{out}");
    } else {
        match &result {
            Ok(a) => {
                let ttl = if a.ttl_left == std::time::Duration::MAX {
                    "-".to_string()
                } else {
                    format!("{}s", a.ttl_left.as_secs())
                };
                println!(
                    "{}: from {} (TTL left {ttl}){}",
                    a.name,
                    a.source,
                    if a.cname_chain.is_empty() {
                        String::new()
                    } else {
                        format!(", via {}", a.cname_chain.join(" -> "))
                    }
                );
                for x in out["addresses"].as_array().cloned().unwrap_or_default() {
                    let ip = x["address"]
                        .as_str()
                        .unwrap_or("")
                        .trim_end_matches(&format!(":{port}"));
                    match x["decision"].as_str() {
                        Some("allow") => println!(
                            "  {ip:<40} {:<12} egress allowed{}",
                            x["class"].as_str().unwrap_or(""),
                            x["rule"]
                                .as_str()
                                .map(|r| format!(" by NSG rule '{r}'"))
                                .unwrap_or_default()
                        ),
                        _ => println!(
                            "  {ip:<40} {:<12} egress refused: {}",
                            x["class"].as_str().unwrap_or(""),
                            x["reason"].as_str().unwrap_or("")
                        ),
                    }
                }
            }
            Err(e) => println!("{name}: {e}"),
        }
    }
    Ok(if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn type_name(t: NetworkType) -> &'static str {
    match t {
        NetworkType::None => "none",
        NetworkType::External => "external",
        NetworkType::Internal => "internal",
    }
}

fn show(path: &Path, as_json: bool) -> Result<ExitCode> {
    let (v, policy) = load(path)?;
    let n = &v.config.network;
    let mut listeners: Vec<Value> = v.listeners.iter().map(|l| json!({"component": "gateway", "address": l.addr.to_string(), "tls": l.tls, "exposure": exposure_name(&v, l.exposure)})).collect();
    // The management API, the portal and the Git repository are served on their endpoints
    // (crates/cli/src/component_listener.rs); the Git repository in store mode only.
    for (component, addrs) in [
        ("management", crate::management::configured_addrs(&v.config)),
        ("portal", crate::portal::configured_addrs(&v.config)),
        ("git", crate::git::configured_addrs(&v.config)),
    ] {
        for c in addrs {
            listeners.push(json!({"component": component, "address": c.addr.to_string(), "tls": c.tls, "exposure": exposure_name(&v, c.exposure)}));
        }
    }
    let rules = |dir: Direction| -> Vec<Value> {
        policy
            .nsg()
            .map(|nsg| {
                nsg.rules(dir)
                    .map(|r| serde_json::to_value(r).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Azure's required NSG rules, checked against the NSG as written: warnings only
    // (crates/net/src/recommended.rs).
    let nsg_warnings = gatehouse_net::recommended::check(&v.config);
    let pes: Vec<Value> = n
        .private_endpoints
        .iter()
        .map(|p| json!({"name": p.name, "link_id": p.link_id, "state": format!("{:?}", p.state).to_lowercase(), "group_id": p.group_id, "listen": p.listen.as_ref().map(|l| l.address())}))
        .collect();
    let out = json!({
        "type": type_name(n.kind),
        "public_network_access": if n.public_network_access == PublicNetworkAccess::Enabled { "enabled" } else { "disabled" },
        "virtual_network": policy.tags().virtual_network().iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        "subnet": n.virtual_network.as_ref().and_then(|vn| vn.subnet.as_ref()).map(|s| json!({"prefix": s.prefix, "nsg": s.nsg})),
        "listeners": listeners,
        "nsg": policy.nsg().map(|nsg| nsg.name().to_string()),
        "nsg_applies": policy.nsg().is_some(),
        "inbound_rules": rules(Direction::Inbound),
        "outbound_rules": rules(Direction::Outbound),
        "private_endpoints": pes,
        "warnings": nsg_warnings.iter().map(|w| format!("warning: {w}")).collect::<Vec<_>>(),
        "trusted_proxies": n.trusted_proxies.iter().map(|t| json!({"prefix": t.prefix(), "proxy_protocol": format!("{:?}", t.proxy_protocol()).to_lowercase()})).collect::<Vec<_>>(),
    });
    if as_json {
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "network type {}, public network access {}",
        out["type"].as_str().unwrap_or(""),
        out["public_network_access"].as_str().unwrap_or("")
    );
    if let Some(vnet) = out["virtual_network"].as_array().filter(|a| !a.is_empty()) {
        println!(
            "virtual network (service tag VirtualNetwork): {}",
            vnet.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("listeners:");
    for l in &listeners {
        println!(
            "  {:<10} {:<22} {:<5} {}",
            l["component"].as_str().unwrap_or(""),
            l["address"].as_str().unwrap_or(""),
            if l["tls"] == true { "tls" } else { "plain" },
            l["exposure"].as_str().unwrap_or("")
        );
    }
    match policy.nsg() {
        Some(nsg) => {
            for (dir, label) in [
                (Direction::Inbound, "inbound"),
                (Direction::Outbound, "outbound"),
            ] {
                println!("NSG '{}' {label} rules, in evaluation order:", nsg.name());
                println!(
                    "  {:<6} {:<32} {:<6} {:<5} {:<24} {:<12} {:<24} {:<12}",
                    "prio",
                    "name",
                    "access",
                    "proto",
                    "source",
                    "src ports",
                    "destination",
                    "dst ports"
                );
                for r in nsg.rules(dir) {
                    println!(
                        "  {:<6} {:<32} {:<6} {:<5} {:<24} {:<12} {:<24} {:<12}{}",
                        r.priority,
                        r.name,
                        format!("{:?}", r.access).to_lowercase(),
                        format!("{:?}", r.protocol).to_lowercase(),
                        r.source,
                        r.source_ports,
                        r.destination,
                        r.destination_ports,
                        if r.default_rule { "  (default)" } else { "" }
                    );
                }
            }
        }
        None => println!("no NSG applies (type {})", type_name(n.kind)),
    }
    for p in &pes {
        println!(
            "private endpoint {} link_id {} state {}",
            p["name"].as_str().unwrap_or(""),
            p["link_id"],
            p["state"].as_str().unwrap_or("")
        );
    }
    for w in &nsg_warnings {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

fn plan(a: PlanArgs) -> Result<ExitCode> {
    let subnet: ipnet::IpNet = gatehouse_model::network::parse_prefix(&a.subnet)
        .map_err(|e| anyhow::anyhow!("--subnet: {e}"))?;
    let sku = match a.sku.as_str() {
        "developer" => Sku::Developer,
        "basic" => Sku::Basic,
        "standard" => Sku::Standard,
        "premium" => Sku::Premium,
        "basicv2" => Sku::Basicv2,
        "standardv2" => Sku::Standardv2,
        "premiumv2" => Sku::Premiumv2,
        other => bail!("--sku: unknown '{other}'"),
    };
    let kind = match a.kind.as_str() {
        "internal" => NetworkType::Internal,
        "external" => NetworkType::External,
        _ => NetworkType::None,
    };
    let p = gatehouse_net::plan::plan(subnet, sku, kind, a.units)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if a.json {
        println!("{}", serde_json::to_value(&p)?);
    } else {
        println!(
            "subnet {}: {} addresses, {} reserved by Azure, {} per unit, {} for the internal load balancer",
            p.subnet, p.total_addresses, p.reserved, p.per_unit, p.load_balancer
        );
        println!(
            "max units: {} by addresses, {} by the {} tier",
            p.max_units, p.sku_max_units, a.sku
        );
        if let (Some(u), Some(f)) = (p.units, p.fits) {
            println!("{u} unit(s): {}", if f { "fits" } else { "does not fit" });
        }
        for note in &p.notes {
            println!("note: {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
