//! What the typical policy pipeline of bench/run.sh (`POLICIES=1`: ip-filter,
//! rate-limit-by-key on the subscription, set-header with an expression, forward-request) adds
//! to a request, with no network: `with_policies` is the gateway's work for one request through
//! it (exchange, inbound, the backend request from the exchange, the canned backend answer,
//! outbound, the response); `without_policies` the same request on the plain path. Their
//! difference is the policies' cost per request.
//! Run: `cargo bench -p gatehouse-gateway --bench policy_request`.

use gatehouse_gateway::Gateway;
use gatehouse_gateway::bench_support::PolicyBench;
use gatehouse_model::{Format, from_str, validate};
use std::path::Path;

fn main() {
    divan::main();
}

const CONFIG: &str = r#"
service: { name: bench }
backends:
  b: { url: "http://127.0.0.1:9" }
apis:
  - id: bench
    path: bench
    backend: b
    subscription_required: true
    operations: [ { id: any, method: "*", url_template: "/*" } ]
subscriptions:
  - { id: s1, scope: all, primary_key: "bench-key-0123456789abcdef" }
"#;

/// The pipeline bench/run.sh runs with `POLICIES=1`, from the same file.
const POLICY: &str = include_str!("../../../bench/typical-policy.xml");

/// The config with the policy at the global scope.
fn config() -> String {
    let mut c = String::from(CONFIG);
    c.push_str("policies:\n  global: |\n");
    for line in POLICY.lines() {
        c.push_str("    ");
        c.push_str(line);
        c.push('\n');
    }
    c
}

fn setup() -> (PolicyBench, http::Request<()>) {
    let v = validate(from_str(&config(), Format::Yaml, Path::new("bench")).expect("parses"))
        .expect("valid");
    let gateway = Gateway::new(&v).expect("compiles");
    let bench = PolicyBench::new(
        &gateway,
        "127.0.0.1:40000".parse().expect("address"),
        "127.0.0.1:8080".parse().expect("address"),
    );
    // What wrk sends in bench/run.sh.
    let req = http::Request::builder()
        .method("GET")
        .uri("/bench/hello")
        .header("host", "127.0.0.1:8080")
        .header("ocp-apim-subscription-key", "bench-key-0123456789abcdef")
        .body(())
        .expect("request");
    (bench, req)
}

#[divan::bench]
fn without_policies(b: divan::Bencher) {
    let (bench, req) = setup();
    assert_eq!(bench.request(&req, false).expect("plain").0, 200);
    b.bench_local(|| bench.request(divan::black_box(&req), false));
}

#[divan::bench]
fn with_policies(b: divan::Bencher) {
    let (bench, req) = setup();
    assert_eq!(bench.request(&req, true).expect("policies").0, 200);
    b.bench_local(|| bench.request(divan::black_box(&req), true));
}
