//! Arbitrary request paths through the gateway's normalization and router: never a panic; what
//! normalization accepts has no dot segment left (raw or encoded) and is a fixed point; what
//! the router makes of it keeps the forwarded rest a suffix of the path, starting at a segment
//! boundary, with no way to climb above the backend's base path.

#![no_main]

use gatehouse_gateway::request_target::{confine, normalize};
use gatehouse_gateway::router::Router;
use http::Method;
use libfuzzer_sys::fuzz_target;
use std::borrow::Cow;
use std::sync::OnceLock;

const CONFIG: &str = r#"
service: { name: fuzz }
apis:
  - id: open
    path: fopen
    backend: "http://127.0.0.1:1/public"
    operations:
      - { id: item, method: GET, url_template: "/items/{id}" }
      - { id: any, method: "*", url_template: "/*" }
  - id: deep
    path: a/b/c
    backend: "http://127.0.0.1:1/deep"
    operations: [ { id: rest, method: "*", url_template: "/{*rest}" } ]
  - id: root
    path: ""
    backend: "http://127.0.0.1:1"
    operations: [ { id: home, method: GET, url_template: "/" } ]
"#;

fn router() -> &'static Router {
    static R: OnceLock<Router> = OnceLock::new();
    R.get_or_init(|| {
        let cfg = gatehouse_model::from_str(
            CONFIG,
            gatehouse_model::Format::Yaml,
            std::path::Path::new("fuzz.yaml"),
        )
        .expect("config parses");
        Router::build(&gatehouse_model::validate(cfg).expect("config validates"))
    })
}

fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|s| s == "." || s == "..")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = format!("/{text}");
    let Ok(normalized) = normalize(&path) else {
        return;
    };
    assert!(normalized.starts_with('/'), "{normalized}");
    assert!(!has_dot_segment(&normalized), "{path} -> {normalized}");
    assert!(
        matches!(normalize(&normalized), Ok(Cow::Borrowed(p)) if p == normalized),
        "not a fixed point: {normalized}"
    );
    if let Ok(m) = router().route(&Method::GET, &normalized, None) {
        assert!(normalized.ends_with(m.rest), "{normalized} / {}", m.rest);
        assert!(m.rest.is_empty() || m.rest.starts_with('/'), "{}", m.rest);
        let confined = confine(m.rest).expect("a normalized rest stays acceptable");
        assert!(!has_dot_segment(&confined));
    }
    // Whatever a rewrite produces is confined too.
    if let Ok(c) = confine(text) {
        assert!(!has_dot_segment(&c), "{text} -> {c}");
        assert!(c.is_empty() || c.starts_with('/') || !text.starts_with('/'));
    }
});
