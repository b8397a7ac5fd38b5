//! `GET …/networkstatus`: APIM's list of NetworkStatusContractByLocation — for this node's
//! location, `dnsServers` and `connectivityStatus` — where each backend's status is what the egress guard says of its addresses now —
//! resolved through the node's resolver (private zones first) and judged by the same rules a
//! backend connection meets (crates/net/src/egress.rs). No connection is opened.

use gatehouse_gateway::Gateway;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub async fn report(gateway: &Gateway) -> Value {
    let snapshot = gateway.snapshot();
    let now = crate::network_status::rfc3339_now();
    // One entry per destination (host:port), naming the backends and APIs that use it.
    let mut destinations: BTreeMap<String, (String, u16, Vec<String>)> = BTreeMap::new();
    for (id, target) in snapshot.backends.iter() {
        add(
            &mut destinations,
            target.scheme.as_str(),
            target.authority.host(),
            target.authority.port_u16(),
            format!("backend {id}"),
        );
    }
    for target in snapshot.targets.iter() {
        if !snapshot.backends.contains_key(&*target.id) {
            add(
                &mut destinations,
                target.scheme.as_str(),
                target.authority.host(),
                target.authority.port_u16(),
                format!("url {}", target.id),
            );
        }
    }
    let mut statuses = Vec::new();
    for (name, (host, port, users)) in destinations {
        let (status, error, addresses) = match snapshot.resolver.resolve(&host).await {
            Err(e) => ("failure", format!("DNS: {e}"), Vec::new()),
            Ok(answer) => {
                let mut refused = Vec::new();
                let mut addrs = Vec::new();
                for ip in &answer.addrs {
                    let dest = SocketAddr::new(*ip, port);
                    match snapshot.egress.judge(dest) {
                        Ok(_) => addrs.push(json!({"address": dest.to_string(), "allowed": true})),
                        Err(r) => {
                            refused.push(format!("{dest}: {}", r.reason));
                            addrs.push(json!({"address": dest.to_string(), "allowed": false, "stage": r.stage.as_str(), "reason": r.reason}));
                        }
                    }
                }
                if refused.len() == answer.addrs.len() {
                    ("failure", refused.join("; "), addrs)
                } else {
                    ("success", String::new(), addrs)
                }
            }
        };
        statuses.push(json!({
            "name": name,
            "status": status,
            "error": error,
            "lastUpdated": now,
            "lastStatusChange": now,
            "resourceType": "backend",
            "isOptional": false,
            "usedBy": users,
            "addresses": addresses,
        }));
    }
    let dns_servers: Vec<String> = snapshot
        .network
        .dns
        .as_ref()
        .map(|d| d.servers.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec!["system".to_string()]);
    // APIM's NetworkStatus_ListByService: one entry per location; a node reports its own.
    json!([{
        "location": &*snapshot.region,
        "networkStatus": { "dnsServers": dns_servers, "connectivityStatus": statuses },
    }])
}

fn add(
    out: &mut BTreeMap<String, (String, u16, Vec<String>)>,
    scheme: &str,
    host: &str,
    port: Option<u16>,
    user: String,
) {
    let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let name = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    out.entry(name)
        .or_insert_with(|| (host, port, Vec::new()))
        .2
        .push(user);
}

/// Now in RFC 3339 (UTC, whole seconds), with the `time` crate the binary already uses for
/// token expiries.
pub fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_rfc3339_utc_in_whole_seconds() {
        let now = super::rfc3339_now();
        // 2026-12-06T10:30:00Z
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
