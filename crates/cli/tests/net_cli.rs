//! `gatehouse net verify | show | plan`: the stable JSON interfaces, against the real binary.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

struct TempConfig(PathBuf);

impl TempConfig {
    fn new(name: &str, yaml: &str) -> TempConfig {
        let dir =
            std::env::temp_dir().join(format!("gatehouse-netcli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("gatehouse.yaml");
        std::fs::write(&path, yaml).expect("write config");
        TempConfig(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

const EXTERNAL: &str = r#"
service: { name: contoso }
backends: { b: { url: "http://127.0.0.1:9" } }
apis: [ { id: a, path: a, backend: b, operations: [ { id: any, method: "*", url_template: "/*" } ] } ]
network:
  type: external
  virtual_network:
    address_space: [10.10.0.0/16]
    subnet: { name: apim, prefix: 10.10.1.0/27, nsg: apim-nsg }
    peered: [10.20.0.0/16]
  load_balancer: [10.10.1.254/32]
  endpoints:
    gateway: { public: "0.0.0.0:8443", private: "10.10.1.4:8443" }
  network_security_groups:
    apim-nsg:
      security_rules:
        - { name: deny-bad, priority: 100, direction: inbound, access: deny, source: 192.0.2.0/24 }
        - { name: allow-https, priority: 200, direction: inbound, access: allow, protocol: tcp, source: Internet, destination_ports: "8443" }
        - { name: no-smtp, priority: 100, direction: outbound, access: deny, protocol: tcp, destination: "*", destination_ports: "25" }
"#;

#[test]
fn verify_names_stage_rule_and_priority() {
    let cfg = TempConfig::new("verify", EXTERNAL);
    let verify = |src: &str, dst: &str| {
        json(&[
            "net",
            "verify",
            "--config",
            cfg.path(),
            "--direction",
            "inbound",
            "--source",
            src,
            "--destination",
            dst,
            "--json",
        ])
    };
    let v = verify("192.0.2.7", "0.0.0.0:8443");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["stage"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("deny"), Some("nsg"), Some("deny-bad"), Some(100)),
        "{v}"
    );
    let v = verify("203.0.113.9:40000", "0.0.0.0:8443");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("allow"), Some("allow-https"), Some(200)),
        "{v}"
    );
    let v = verify("10.20.5.5", "10.10.1.4:8443");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("allow"), Some("AllowVnetInBound"), Some(65000)),
        "{v}"
    );
    let v = verify("203.0.113.9", "10.10.1.4:8443");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("exposure")),
        "{v}"
    );
    let v = verify("10.10.1.254", "10.10.1.4:8443");
    assert_eq!(
        v["rule"].as_str(),
        Some("AllowVnetInBound"),
        "LB inside the VNet: the VNet rule comes first: {v}"
    );
    let v = verify("10.10.0.9", "10.10.1.4:9999");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("exposure")),
        "no listener there: {v}"
    );
    // Outbound: the user's deny before the default allow.
    let out = |dst: &str| {
        json(&[
            "net",
            "verify",
            "--config",
            cfg.path(),
            "--direction",
            "outbound",
            "--source",
            "10.10.1.4",
            "--destination",
            dst,
            "--json",
        ])
    };
    let v = out("198.51.100.1:25");
    assert_eq!(
        (v["decision"].as_str(), v["rule"].as_str()),
        (Some("deny"), Some("no-smtp")),
        "{v}"
    );
    let v = out("198.51.100.1:443");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("allow"), Some("AllowInternetOutBound"), Some(65001)),
        "{v}"
    );
    // Text output, and exit 0 whatever the decision.
    let (code, stdout, _) = run(&[
        "net",
        "verify",
        "--config",
        cfg.path(),
        "--direction",
        "inbound",
        "--source",
        "192.0.2.7",
        "--destination",
        "0.0.0.0:8443",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("deny at stage nsg by rule 'deny-bad' (priority 100)"),
        "{stdout}"
    );
    // Bad input: non-zero.
    let (code, _, stderr) = run(&[
        "net",
        "verify",
        "--config",
        cfg.path(),
        "--direction",
        "inbound",
        "--source",
        "nope",
        "--destination",
        "0.0.0.0:8443",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--source"), "{stderr}");
}

const PRIVATE_ENDPOINTS: &str = r#"
service: { name: contoso }
gateway: { listeners: [ { address: "127.0.0.1:8080" } ] }
network:
  public_network_access: disabled
  trusted_proxies: [ { prefix: 10.9.0.1/32, proxy_protocol: required } ]
  private_endpoints:
    - { name: pe-ok, link_id: 4026531841, state: approved, listen: "127.0.0.1:8081" }
    - { name: pe-wait, link_id: 7, state: pending }
"#;

#[test]
fn verify_private_endpoints_and_public_access() {
    let cfg = TempConfig::new("pe", PRIVATE_ENDPOINTS);
    let verify = |extra: &[&str], dst: &str| {
        let mut args = vec![
            "net",
            "verify",
            "--config",
            cfg.path(),
            "--direction",
            "inbound",
            "--source",
            "10.9.0.1",
            "--destination",
            dst,
            "--json",
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let v = verify(&[], "127.0.0.1:8080");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("public_network_access")),
        "{v}"
    );
    let v = verify(&["--link-id", "4026531841"], "127.0.0.1:8080");
    assert_eq!(
        (v["decision"].as_str(), v["private_endpoint"].as_str()),
        (Some("allow"), Some("pe-ok")),
        "{v}"
    );
    let v = verify(&["--link-id", "7"], "127.0.0.1:8080");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("private_endpoint")),
        "{v}"
    );
    assert!(
        v["reason"].as_str().unwrap_or("").contains("pending"),
        "{v}"
    );
    let v = verify(&["--link-id", "99"], "127.0.0.1:8080");
    assert!(
        v["reason"]
            .as_str()
            .unwrap_or("")
            .contains("no private endpoint has LinkID 99"),
        "{v}"
    );
    let v = verify(&[], "127.0.0.1:8081");
    assert_eq!(
        (v["decision"].as_str(), v["private_endpoint"].as_str()),
        (Some("allow"), Some("pe-ok")),
        "dedicated listener: {v}"
    );
}

#[test]
fn show_lists_listeners_and_rules_in_order() {
    let cfg = TempConfig::new("show", EXTERNAL);
    let v = json(&["net", "show", "--config", cfg.path(), "--json"]);
    assert_eq!(v["type"], "external");
    let listeners: Vec<(&str, &str)> = v["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["address"].as_str().unwrap(),
                l["exposure"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listeners,
        [("0.0.0.0:8443", "public"), ("10.10.1.4:8443", "private")]
    );
    let names: Vec<&str> = v["inbound_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "deny-bad",
            "allow-https",
            "AllowVnetInBound",
            "AllowAzureLoadBalancerInBound",
            "DenyAllInBound"
        ]
    );
    let names: Vec<&str> = v["outbound_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "no-smtp",
            "AllowVnetOutBound",
            "AllowInternetOutBound",
            "DenyAllOutBound"
        ]
    );
    let (code, stdout, _) = run(&["net", "show", "--config", cfg.path()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("65500  DenyAllInBound"), "{stdout}");
}

#[test]
fn plan_reproduces_the_seed_table() {
    for sku in ["basic", "standard", "premium"] {
        for (prefix, units) in [(29, 1), (28, 5), (27, 13), (26, 29), (25, 61)] {
            let v = json(&[
                "net",
                "plan",
                "--subnet",
                &format!("10.0.0.0/{prefix}"),
                "--sku",
                sku,
                "--type",
                "internal",
                "--json",
            ]);
            assert_eq!(v["max_units"].as_u64(), Some(units), "{sku} /{prefix}: {v}");
            assert_eq!(v["reserved"].as_u64(), Some(5));
        }
    }
    let v = json(&[
        "net",
        "plan",
        "--subnet",
        "10.0.0.0/26",
        "--sku",
        "premium",
        "--type",
        "internal",
        "--units",
        "32",
        "--json",
    ]);
    assert_eq!(
        (v["sku_max_units"].as_u64(), v["fits"].as_bool()),
        (Some(31), Some(false)),
        "{v}"
    );
    let v = json(&[
        "net",
        "plan",
        "--subnet",
        "10.0.0.0/26",
        "--sku",
        "standard",
        "--type",
        "external",
        "--units",
        "4",
        "--json",
    ]);
    assert_eq!(
        (v["sku_max_units"].as_u64(), v["fits"].as_bool()),
        (Some(4), Some(true)),
        "{v}"
    );
    let v = json(&[
        "net",
        "plan",
        "--subnet",
        "10.0.0.0/29",
        "--sku",
        "developer",
        "--type",
        "internal",
        "--json",
    ]);
    assert_eq!(
        (v["per_unit"].as_u64(), v["sku_max_units"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let (code, _, stderr) = run(&[
        "net",
        "plan",
        "--subnet",
        "10.0.0.0/30",
        "--sku",
        "premium",
        "--type",
        "internal",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("/29"), "{stderr}");
}

const ZONES: &str = r#"
service: { name: contoso }
network:
  type: external
  virtual_network:
    address_space: [10.10.0.0/16]
    subnet: { name: apim, prefix: 10.10.1.0/24, nsg: nsg }
  endpoints: { gateway: { public: "127.0.0.1:28101" } }
  network_security_groups:
    nsg: { security_rules: [ { name: no-smtp, priority: 100, direction: outbound, access: deny, protocol: tcp, destination_ports: "25" } ] }
  dns:
    private_zones:
      - zone: contoso.internal
        records:
          orders: { A: [10.10.2.5] }
          meta: { A: [169.254.169.254] }
          local: { A: [127.0.0.1] }
          alias: { CNAME: [orders.contoso.internal] }
"#;

#[test]
fn resolve_shows_source_ttl_and_the_egress_verdict_of_each_address() {
    let cfg = TempConfig::new("resolve", ZONES);
    let v = json(&[
        "net",
        "resolve",
        "alias.contoso.internal",
        "--config",
        cfg.path(),
        "--json",
    ]);
    assert_eq!(v["source"]["kind"], "private_zone", "{v}");
    assert_eq!(v["cname_chain"][0], "orders.contoso.internal", "{v}");
    assert!(v["ttl_left_seconds"].as_u64().is_some(), "{v}");
    assert_eq!(
        (
            v["addresses"][0]["address"].as_str(),
            v["addresses"][0]["decision"].as_str()
        ),
        (Some("10.10.2.5:443"), Some("allow")),
        "{v}"
    );
    for (name, class) in [("meta", "link_local"), ("local", "loopback")] {
        let v = json(&[
            "net",
            "resolve",
            &format!("{name}.contoso.internal"),
            "--config",
            cfg.path(),
            "--json",
        ]);
        assert_eq!(
            (
                v["addresses"][0]["class"].as_str(),
                v["addresses"][0]["decision"].as_str()
            ),
            (Some(class), Some("deny")),
            "{v}"
        );
    }
    let (code, stdout, _) = run(&[
        "net",
        "resolve",
        "nope.contoso.internal",
        "--config",
        cfg.path(),
    ]);
    assert_ne!(code, 0);
    assert!(stdout.contains("does not exist"), "{stdout}");
}

#[test]
fn outbound_verify_resolves_and_names_the_rule() {
    let cfg = TempConfig::new("outbound", ZONES);
    let out = |dst: &str| {
        json(&[
            "net",
            "verify",
            "--config",
            cfg.path(),
            "--direction",
            "outbound",
            "--source",
            "10.10.1.4",
            "--destination",
            dst,
            "--json",
        ])
    };
    let v = out("orders.contoso.internal:443");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["rule"].as_str(),
            v["resolved_from"].as_str()
        ),
        (
            Some("allow"),
            Some("AllowVnetOutBound"),
            Some("private zone contoso.internal")
        ),
        "{v}"
    );
    let v = out("orders.contoso.internal:25");
    assert_eq!(
        (
            v["decision"].as_str(),
            v["stage"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("deny"), Some("nsg"), Some("no-smtp"), Some(100)),
        "{v}"
    );
    let v = out("meta.contoso.internal:80");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("address_class")),
        "{v}"
    );
    let v = out("nope.contoso.internal:80");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("dns")),
        "{v}"
    );
    let v = out("192.168.7.7:443");
    assert_eq!(
        (v["decision"].as_str(), v["stage"].as_str()),
        (Some("deny"), Some("network_type")),
        "a private address outside the VNet: {v}"
    );
}

#[test]
fn policy_check_reports_per_file_with_line_column_and_kind() {
    let dir = std::env::temp_dir().join(format!("gatehouse-policycheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let good = dir.join("good.xml");
    std::fs::write(&good, r#"<policies><inbound><base /><set-header name="X-Who" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("User-Agent", "none"))</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#).expect("write");
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<policies>\n  <inbound>\n    <authentication-managed-identity resource=\"x\" />\n    <set-header name=\"a\"><value>@(1 +)</value></set-header>\n  </inbound>\n</policies>\n").expect("write");
    let (code, stdout, _) = run(&["policy", "check", dir.to_str().unwrap(), "--json"]);
    assert_ne!(code, 0, "a failing file makes the exit code non-zero");
    let v: Value = serde_json::from_str(stdout.trim()).expect("json");
    let files = v["files"].as_array().expect("files");
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(n)))
            .cloned()
            .expect(n)
    };
    assert_eq!(by_name("good.xml")["ok"], true, "{v}");
    let bad = by_name("bad.xml");
    assert_eq!(bad["ok"], false);
    let kinds: Vec<(&str, u64)> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert!(kinds.contains(&("unsupported", 3)), "{bad}");
    assert!(kinds.contains(&("expression", 4)), "{bad}");
    let (code, _, _) = run(&["policy", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_validate_checks_policy_xml_and_never_prints_secrets() {
    let bad = r#"
service: { name: t }
named_values:
  - { id: secret-one, value: "s3cr3t-value", secret: true }
apis:
  - id: a
    path: a
    backend: "http://203.0.113.1"
    policies: |
      <policies>
        <inbound>
          <base />
          <set-header name="x" exists-action="override"><value>{{secret-one}}</value></set-header>
          <set-header name="y"><value>@(context.Request.Headers.GetValueOrDefault("a", "b"</value></set-header>
        </inbound>
      </policies>
    operations: [ { id: o, method: GET, url_template: "/" } ]
"#;
    let cfg = TempConfig::new("policyxml", bad);
    let (code, stdout, stderr) = run(&["config", "validate", cfg.path()]);
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("apis[0].policies") && stdout.contains("expression"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("s3cr3t-value") && !stderr.contains("s3cr3t-value"),
        "a secret was printed"
    );
    let good = TempConfig::new(
        "policyxml-ok",
        &bad.replace(
            "GetValueOrDefault(\"a\", \"b\"<",
            "GetValueOrDefault(\"a\", \"b\"))<",
        ),
    );
    let (code, stdout, _) = run(&["config", "validate", good.path()]);
    assert_eq!(code, 0, "{stdout}");
    // Policies run now: no "not run yet" warning.
    assert!(!stdout.contains("warning: apis[0].policies"), "{stdout}");
}
