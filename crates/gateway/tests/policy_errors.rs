//! A reload refused for its policies returns the policy error typed: the config path, and the
//! document's line, column and policy apart — what the reload report (crates/cli/src/reload.rs)
//! prints as `policy_errors` — while the running snapshot stays.

use gatehouse_gateway::{Gateway, SnapshotError};
use std::path::Path;

fn validated(policies: &str) -> gatehouse_model::Validated {
    let yaml = format!(
        r#"
service: {{ name: t }}
named_values:
  - {{ id: key, value: "very-secret-value", secret: true }}
gateway:
  listeners: [ {{ address: "127.0.0.1:0" }} ]
apis:
  - id: a
    path: a
    backend: "http://127.0.0.1:9"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
{policies}
"#
    );
    let cfg = gatehouse_model::from_str(&yaml, gatehouse_model::Format::Yaml, Path::new("t.yaml"))
        .expect("config parses");
    gatehouse_model::validate(cfg).expect("config validates")
}

fn indented(xml: &str) -> String {
    xml.lines().map(|l| format!("      {l}\n")).collect()
}

#[test]
fn a_refused_reload_keeps_the_policy_errors_place() {
    let good = indented("<policies><inbound><base /></inbound></policies>");
    let gateway = Gateway::new(&validated(&good)).expect("gateway compiles");
    let bad = indented(
        "<policies>\n  <inbound>\n    <set-header name=\"{{key}}\" exists-action=\"sometimes\"><value>x</value></set-header>\n  </inbound>\n</policies>",
    );
    let err = gateway
        .reload(&validated(&bad))
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(err.path(), "apis[0].policies");
    let SnapshotError::Policies(policies) = &err else {
        panic!("not a policy error: {err}");
    };
    let problem = &policies.problems[0];
    assert_eq!(problem.file(), Some("apis[0].policies"));
    assert_eq!(problem.line(), 3);
    assert_eq!(problem.column(), 32);
    assert_eq!(problem.policy(), Some("set-header"));
    let json = err.policy_errors_json();
    assert_eq!(json[0]["line"], 3, "{json:?}");
    assert_eq!(json[0]["column"], 32, "{json:?}");
    assert_eq!(json[0]["path"], "apis[0].policies", "{json:?}");
    // The text stays `{path}: {file}:{line}:{column}: …`, without the secret.
    let text = err.to_string();
    assert!(
        text.starts_with("apis[0].policies: apis[0].policies:3:32: attribute: "),
        "{text}"
    );
    assert!(!text.contains("very-secret-value"), "{text}");
    // The running snapshot is untouched.
    assert!(gateway.snapshot().policies.pipeline(0, 0, None).is_some());
}
