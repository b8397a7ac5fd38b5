//! One reload switches routes and egress rules together (crates/gateway/src/snapshot.rs): a
//! request routed by the new config is judged by the new config's egress rules, in-process,
//! through a real listener and mock backends.

use gatehouse_gateway::Gateway;
use gatehouse_model::Validated;
use gatehouse_testkit::MockBackend;
use gatehouse_testkit::raw::{send_raw, status_of};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// A config with one API at `path` to `backend`; `outbound` is the network's outbound section
/// (none: loopback backends are refused by the egress guard).
fn config(path: &str, backend: &str, outbound: &str) -> Validated {
    let yaml = format!(
        r#"
service: {{ name: atomic }}
network:
{outbound}
gateway:
  listeners: [ {{ address: "127.0.0.1:0" }} ]
apis:
  - id: {path}
    path: {path}
    backend: "{backend}"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#
    );
    let cfg = gatehouse_model::from_str(&yaml, gatehouse_model::Format::Yaml, Path::new("t.yaml"))
        .expect("config parses");
    gatehouse_model::validate(cfg).expect("config validates")
}

const LOOPBACK_ALLOWED: &str = "  outbound: { allowed_destinations: [127.0.0.1/32] }";
const NO_OUTBOUND: &str = "  type: none";

async fn status(addr: SocketAddr, target: &str) -> u16 {
    let req = format!("GET {target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n");
    let reply = send_raw(addr, req.as_bytes()).await.expect("connects");
    status_of(&reply).unwrap_or(0)
}

#[tokio::test]
async fn one_reload_switches_routes_and_egress_rules_together() {
    let first = MockBackend::start().await.expect("backend");
    let second = MockBackend::start().await.expect("backend");
    let gateway = Gateway::new(&config("old", &first.url(), NO_OUTBOUND)).expect("compiles");
    let bound = gateway.bind().await.expect("binds");
    let addr = bound[0].local;
    let serving = gateway.clone();
    tokio::spawn(async move { serving.serve(bound, Duration::from_secs(1)).await });

    // The first config's rules refuse the loopback backend.
    assert_eq!(status(addr, "/old/x").await, 502);
    assert_eq!(first.request_count(), 0);

    // One reload: the new route, and the new rules that let it reach its backend.
    gateway
        .reload(&config("new", &first.url(), LOOPBACK_ALLOWED))
        .expect("reloads");
    assert_eq!(status(addr, "/old/x").await, 404);
    assert_eq!(status(addr, "/new/x").await, 200);
    assert_eq!(first.request_count(), 1);

    // And back: a route to a backend no pool has reached yet, under rules that refuse it.
    gateway
        .reload(&config("newer", &second.url(), NO_OUTBOUND))
        .expect("reloads");
    assert_eq!(status(addr, "/new/x").await, 404);
    assert_eq!(status(addr, "/newer/x").await, 502);
    assert_eq!(second.connection_count(), 0);
    gateway.shutdown();
}
