//! Micro-benchmarks of the per-request work that does not touch the network: routing (API by
//! prefix, operation by template) and the subscription key check, as the number of APIs and
//! subscriptions grows. Run: `cargo bench -p gatehouse-gateway --bench hot_path`.

use gatehouse_gateway::keys::{KeyIndex, authorize};
use gatehouse_gateway::router::Router;
use gatehouse_model::{Format, Validated, from_str, validate};
use http::Method;
use std::fmt::Write;
use std::path::Path;

fn main() {
    divan::main();
}

/// `n` APIs (`api{i}/v1`), each with a few operations, and `n` subscriptions, one per API.
fn config(n: usize) -> Validated {
    let mut y = String::from("service: { name: bench }\napis:\n");
    for i in 0..n {
        let _ = write!(
            y,
            "  - id: api{i}\n    path: api{i}/v1\n    backend: \"http://127.0.0.1:9\"\n    operations:\n      - {{ id: get, method: GET, url_template: \"/orders/{{id}}\" }}\n      - {{ id: items, method: GET, url_template: \"/orders/{{id}}/items/{{item}}\" }}\n      - {{ id: recent, method: GET, url_template: \"/orders/recent\" }}\n      - {{ id: any, method: \"*\", url_template: \"/*\" }}\n"
        );
    }
    y.push_str("subscriptions:\n");
    for i in 0..n {
        let _ = writeln!(
            y,
            "  - {{ id: s{i}, scope: api/api{i}, primary_key: \"key-{i:016}-abcdef\" }}"
        );
    }
    validate(from_str(&y, Format::Yaml, Path::new("bench")).expect("parses")).expect("valid")
}

#[divan::bench(args = [10, 100, 1000])]
fn route(bencher: divan::Bencher, n: usize) {
    let v = config(n);
    let router = Router::build(&v);
    let path = format!("/api{}/v1/orders/42/items/7", n / 2);
    bencher.bench(|| {
        let m = router
            .route(
                divan::black_box(&Method::GET),
                divan::black_box(&path),
                None,
            )
            .expect("routes");
        divan::black_box(m.params.len())
    });
}

#[divan::bench(args = [10, 100, 1000])]
fn subscription_key(bencher: divan::Bencher, n: usize) {
    let v = config(n);
    let keys = KeyIndex::build(&v);
    let key = format!("key-{:016}-abcdef", n / 2);
    bencher.bench(|| {
        let s = authorize(&keys, Some(divan::black_box(key.as_bytes())), n / 2, true)
            .expect("valid key");
        divan::black_box(s.is_some())
    });
}
