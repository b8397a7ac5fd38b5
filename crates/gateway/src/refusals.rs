//! Refused connections: each one closed at once, written as one log line (source, destination,
//! stage, rule and priority, reason) and counted in `gatehouse_connections_refused_total`
//! labelled by stage and rule.

use gatehouse_net::inbound::Refused;
use std::net::SocketAddr;

/// Records a refusal. Off the hot path: only refused connections come here.
pub fn record(refused: &Refused, destination: SocketAddr) {
    let rule = refused.rule.as_ref();
    tracing::warn!(
        target: "gatehouse::network",
        source = %refused.client,
        destination = %destination,
        stage = refused.stage.as_str(),
        rule = rule.map(|r| &*r.name),
        priority = rule.map(|r| r.priority),
        reason = %refused.reason,
        "connection refused"
    );
    let rule_label = rule.map(|r| r.name.to_string()).unwrap_or_default();
    metrics::counter!("gatehouse_connections_refused_total", "stage" => refused.stage.as_str(), "rule" => rule_label).increment(1);
}
