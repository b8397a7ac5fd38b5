//! The node's heartbeat: every 2 s it reports itself to the store's node registry
//! (crates/store/src/nodes.rs) — name, location, the revision it serves, its network status —
//! so that the management API lists the nodes and answers `networkstatus` per location. A failed
//! heartbeat is logged (once per outage) and retried at the next beat: it never stops the node.

use crate::follow::Follower;
use gatehouse_gateway::Gateway;
use gatehouse_store::{NodeReport, Store};
use std::time::Duration;

/// How often a node reports (the management API calls a node `online` for 10 s after a
/// heartbeat: crates/admin/src/nodes.rs).
pub const EVERY: Duration = Duration::from_secs(2);

/// Who this node is.
#[derive(Clone, Debug)]
pub struct Identity {
    pub name: String,
    /// `--location`; `None` reports the service's main location.
    pub location: Option<String>,
    /// When the process started, RFC 3339.
    pub started_at: String,
}

impl Identity {
    pub fn new(name: Option<String>, location: Option<String>) -> Identity {
        Identity {
            name: name.unwrap_or_else(host_name),
            location,
            started_at: crate::network_status::rfc3339_now(),
        }
    }
}

/// Beats until the process ends.
pub fn spawn(store: Store, gateway: Gateway, follower: Follower, me: Identity) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            let location = me
                .location
                .clone()
                .unwrap_or_else(|| gateway.snapshot().region.to_string());
            let report = NodeReport {
                name: me.name.clone(),
                location,
                applied_revision: follower.applied(),
                started_at: me.started_at.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                status: crate::network_status::report(&gateway).await,
            };
            let beat = tokio::time::timeout(crate::follow::STORE_TIMEOUT, store.heartbeat(&report));
            match beat.await {
                Ok(Ok(())) => {
                    if failing {
                        tracing::info!(node = %me.name, "heartbeats reach the store again");
                    }
                    failing = false;
                }
                Ok(Err(e)) if !failing => {
                    failing = true;
                    tracing::warn!(node = %me.name, error = %e, "heartbeat failed; the node keeps serving and retries");
                }
                Err(_) if !failing => {
                    failing = true;
                    tracing::warn!(node = %me.name, "heartbeat timed out; the node keeps serving and retries");
                }
                _ => {}
            }
        }
    });
}

/// The host name (the default node name); `gatehouse` if it cannot be read.
fn host_name() -> String {
    // Hand-written over libc (already a dependency) rather than a crate for one call.
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "gatehouse".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if !name.is_empty() => name.to_string(),
        _ => "gatehouse".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_name_is_the_host_name() {
        let name = super::host_name();
        assert!(!name.is_empty() && !name.contains('\0'));
        let me = super::Identity::new(Some("n1".into()), None);
        assert_eq!(me.name, "n1");
    }
}
