//! The configuration as APIOps files and back: round trips (the demo config and one with every
//! resource kind), an APIOps-extracted artifact set, and every refusal naming file and line.

use gatehouse_git::layout::{self, FileProblem, Files};
use gatehouse_model::{Config, Format};
use serde_json::Value;
use std::path::Path;

fn parse(yaml: &str) -> Config {
    gatehouse_model::from_str(yaml, Format::Yaml, Path::new("test.yaml")).expect("config parses")
}

fn demo() -> Config {
    let text =
        include_str!("../../cli/src/demo.yaml").replace("${DEMO_BACKEND}", "http://127.0.0.1:9");
    parse(&text)
}

/// A config with every kind of resource the layout carries, and a secret named value.
const SECRET: &str = "s3cr3t-value-never-in-git";

fn rich() -> Config {
    parse(&format!(
        r##"
service: {{ name: contoso, sku: premium, location: westeurope }}
gateway:
  listeners: [ {{ address: "0.0.0.0:8443", tls: true }}, {{ address: "127.0.0.1:8080" }} ]
  hostnames:
    - {{ host_name: api.contoso.com, certificate: {{ cert_file: certs/api.pem, key_file: certs/api.key }}, default_ssl_binding: true }}
  limits: {{ max_connections: 500 }}
  access_log: false
network:
  trusted_proxies: []
  outbound: {{ allowed_destinations: [10.0.0.0/8] }}
backends:
  orders: {{ url: "https://orders.internal/v1", description: Orders service, timeout_ms: 20000, connect_timeout_ms: 2000, tls: {{ validate_certificate_name: false, ca_file: certs/ca.pem }} }}
  b.with.dots: {{ url: "http://10.1.2.3:8080" }}
apis:
  - id: orders
    display_name: Orders
    description: All about orders
    path: orders
    backend: orders
    protocols: [https]
    subscription_required: false
    subscription_key: {{ header: X-Key, query: key }}
    tags: [sales, orders]
    schemas:
      Order: {{ type: object, properties: {{ id: {{ type: integer }}, lines: {{ type: array, items: {{ $ref: "#/components/schemas/Line" }} }} }} }}
      Line: {{ type: object, properties: {{ sku: {{ type: string }} }} }}
    policies: "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    operations:
      - id: get-order
        display_name: Get an order
        method: GET
        url_template: "/orders/{{id}}"
        description: One order by id
        parameters:
          - {{ name: id, in: path, required: true, description: The order, schema: {{ type: integer }} }}
          - {{ name: expand, in: query, required: false, schema: {{ type: string, enum: [lines, none] }} }}
          - {{ name: X-Trace, in: header, required: false }}
        responses:
          - status: "200"
            description: The order
            content: [ {{ content_type: application/json, schema: {{ $ref: "#/components/schemas/Order" }}, examples: {{ default: {{ id: 1 }} }} }} ]
          - {{ status: "404", description: No such order }}
        policies: "<policies>\n  <inbound><base /><set-header name=\"x\" exists-action=\"override\"><value>{{{{env}}}}</value></set-header></inbound>\n</policies>\n"
      - id: create-order
        method: POST
        url_template: /orders
        request:
          description: The new order
          required: true
          content: [ {{ content_type: application/json, schema: {{ $ref: "#/components/schemas/Order" }} }} ]
        responses: [ {{ status: "201", description: Created }} ]
      - {{ id: beta, display_name: Beta search, method: POST, url_template: "/orders?beta=true" }}
      - {{ id: everything, display_name: Everything else, method: "*", url_template: "/*", policies: "<policies/>" }}
  - id: ping
    path: ping
    backend: "https://ping.example.com"
    operations: [ {{ id: ping, method: GET, url_template: / }} ]
products:
  - id: gold
    display_name: Gold
    description: The best
    apis: [orders, ping]
    subscription_required: true
    approval_required: true
    subscriptions_limit: 3
    state: not_published
    groups: [developers, partners]
    policies: "<policies><inbound><base /></inbound></policies>"
  - {{ id: open, apis: [ping], subscription_required: false }}
named_values:
  - {{ id: env, display_name: Environment, value: production, tags: [ops] }}
  - {{ id: api-key, value: "{SECRET}", secret: true }}
groups:
  - {{ id: partners, display_name: Partners, users: [ann] }}
users:
  - {{ id: ann, email: ann@example.com }}
subscriptions:
  - {{ id: s1, scope: product/gold, owner: ann, primary_key: "0123456789abcdef0123456789abcdef" }}
policies:
  global: "<policies><inbound><include-fragment fragment-id=\"cors\" /></inbound></policies>"
  fragments:
    cors: "<fragment><cors><allowed-origins><origin>*</origin></allowed-origins></cors></fragment>"
"##
    ))
}

fn value(c: &Config) -> Value {
    serde_json::to_value(c).expect("config serializes")
}

fn text(files: &Files, f: &str) -> String {
    String::from_utf8(
        files
            .get(f)
            .unwrap_or_else(|| panic!("{f} missing"))
            .clone(),
    )
    .expect("utf8")
}

fn round_trip(c: &Config) -> Files {
    let files = layout::export(c).expect("exports");
    let back = match layout::import(&files, c) {
        Ok(b) => b,
        Err(ps) => panic!("import refused its own export: {ps:#?}"),
    };
    assert_eq!(value(&back), value(c), "export → import changed the config");
    let again = layout::export(&back).expect("exports again");
    assert_eq!(
        again, files,
        "the same config must give byte-identical files"
    );
    files
}

#[test]
fn the_demo_config_round_trips() {
    let c = demo();
    let files = round_trip(&c);
    assert!(files.contains_key("apis/echo/apiInformation.json"));
    assert!(files.contains_key("apis/echo/operations/get-item/policy.xml"));
    assert!(text(&files, "apis/echo/specification.yaml").contains("x-gatehouse-operations"));
    // Into a fresh config (nothing current): the same sections.
    let fresh = Config {
        service: c.service.clone(),
        users: c.users.clone(),
        subscriptions: c.subscriptions.clone(),
        ..Config::default()
    };
    let back = layout::import(&files, &fresh).expect("imports");
    assert_eq!(value(&back), value(&c));
}

#[test]
fn every_resource_kind_round_trips_and_the_secret_stays_out() {
    let c = rich();
    let files = round_trip(&c);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "apis/orders/apiInformation.json",
            "apis/orders/operations/everything/policy.xml",
            "apis/orders/operations/get-order/policy.xml",
            "apis/orders/policy.xml",
            "apis/orders/specification.yaml",
            "apis/ping/apiInformation.json",
            "apis/ping/specification.yaml",
            "backends/b.with.dots/backendInformation.json",
            "backends/orders/backendInformation.json",
            "gatehouse/gateway.yaml",
            "gatehouse/network.yaml",
            "namedValues/api-key/namedValueInformation.json",
            "namedValues/env/namedValueInformation.json",
            "policy.xml",
            "policyFragments/cors/policy.xml",
            "policyFragments/cors/policyFragmentInformation.json",
            "products/gold/apis.json",
            "products/gold/groups.json",
            "products/gold/policy.xml",
            "products/gold/productInformation.json",
            "products/open/apis.json",
            "products/open/groups.json",
            "products/open/productInformation.json",
        ]
    );
    for (f, bytes) in &files {
        let t = String::from_utf8_lossy(bytes);
        assert!(!t.contains(SECRET), "{f} holds the secret value");
    }
    let nv: Value =
        serde_json::from_slice(&files["namedValues/api-key/namedValueInformation.json"])
            .expect("json");
    assert_eq!(nv["properties"]["secret"], true);
    assert!(nv["properties"].get("value").is_none());
    // Pretty JSON with a trailing newline.
    assert_eq!(
        text(&files, "products/gold/apis.json"),
        "[\n  {\n    \"name\": \"orders\"\n  },\n  {\n    \"name\": \"ping\"\n  }\n]\n"
    );
    // The secret keeps its stored value; without one stored, the push is refused.
    let back = layout::import(&files, &c).expect("imports");
    let key = back
        .named_values
        .iter()
        .find(|n| n.id == "api-key")
        .expect("kept");
    assert_eq!(key.value.expose(), SECRET);
    let mut none_stored = c.clone();
    none_stored.named_values.clear();
    let ps = layout::import(&files, &none_stored).expect_err("no value anywhere");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].file, "namedValues/api-key/namedValueInformation.json");
    assert!(
        ps[0].line.is_some() && ps[0].message.contains("api-key"),
        "{}",
        ps[0]
    );
    // A pushed secret value is refused: it would stay in the repository's history.
    let pushed = with(
        files,
        "namedValues/api-key/namedValueInformation.json",
        "{\n  \"properties\": {\n    \"secret\": true,\n    \"value\": \"leaked\"\n  }\n}\n",
    );
    let ps = layout::import(&pushed, &c).expect_err("secret value in the tree");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].line, Some(4), "{}", ps[0]);
}

#[test]
fn sections_outside_the_layout_are_kept_and_removed_directories_remove() {
    let c = rich();
    let mut files = layout::export(&c).expect("exports");
    files
        .retain(|f, _| !f.starts_with("products/open/") && !f.starts_with("backends/b.with.dots/"));
    let back = layout::import(&files, &c).expect("imports");
    assert_eq!(back.products.len(), 1);
    assert!(!back.backends.contains_key("b.with.dots"));
    assert_eq!(value(&back)["subscriptions"], value(&c)["subscriptions"]);
    assert_eq!(value(&back)["users"], value(&c)["users"]);
    assert_eq!(value(&back)["service"], value(&c)["service"]);
}

/// Files as Azure/apiops's extractor writes them, after its SampleArtifacts (MIT licence,
/// Copyright (c) Microsoft Corporation): the current names (`named values/`, `policy
/// fragments/`, per-link product files) and the older `apis.json`/`groups.json` lists.
fn apiops_sample() -> Files {
    let files: &[(&str, &str)] = &[
        (
            "policy.xml",
            "<policies>\n\t<inbound>\n\t\t<set-variable name=\"environmentName\" value=\"{{environment-name}}\" />\n\t\t<include-fragment fragment-id=\"policyFragment1\" />\n\t</inbound>\n\t<backend>\n\t\t<forward-request />\n\t</backend>\n\t<outbound />\n\t<on-error />\n</policies>",
        ),
        (
            "apis/basic-api/apiInformation.json",
            r#"{
  "properties": {
    "path": "basic-api",
    "apiRevision": "1",
    "authenticationSettings": {},
    "description": "Basic OpenAPI YAML API with operation policies.",
    "displayName": "basic-api",
    "protocols": [
      "https"
    ],
    "serviceUrl": "https://httpbin.org",
    "subscriptionRequired": true
  }
}"#,
        ),
        (
            "apis/basic-api/specification.yaml",
            "openapi: 3.0.1\ninfo:\n  title: basic-api\n  description: Basic OpenAPI YAML API with operation policies.\n  version: '1.0'\nservers:\n  - url: https://example.azure-api.net/basic-api\npaths:\n  /items:\n    get:\n      summary: Get items\n      operationId: get-items\n      responses:\n        '200':\n          description: Items returned.\n    post:\n      summary: Create item\n      operationId: create-item\n      requestBody:\n        content:\n          application/json:\n            schema:\n              type: object\n      responses:\n        '201':\n          description: Item created.\n",
        ),
        (
            "apis/basic-api/operations/get-items/policy.xml",
            "<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n\t<backend>\n\t\t<base />\n\t</backend>\n\t<outbound />\n\t<on-error />\n</policies>",
        ),
        (
            "apis/basic-api/policy.xml",
            "<policies>\n\t<inbound>\n\t\t<base />\n\t</inbound>\n</policies>",
        ),
        (
            "products/product1/productInformation.json",
            r#"{
  "properties": {
    "displayName": "product1",
    "description": "Product for HTTP-style scenario APIs.",
    "state": "published",
    "subscriptionRequired": true,
    "approvalRequired": false,
    "subscriptionsLimit": 10,
    "terms": "Sample terms for product1."
  }
}"#,
        ),
        (
            "products/product1/apis/basic-api/productApiInformation.json",
            "{}",
        ),
        ("products/product1/policy.xml", "<policies />"),
        (
            "products/starter/productInformation.json",
            r#"{"properties": {"displayName": "Starter", "subscriptionRequired": true, "state": "published"}}"#,
        ),
        (
            "products/starter/apis.json",
            "[\n  {\n    \"name\": \"basic-api\"\n  }\n]",
        ),
        (
            "products/starter/groups.json",
            "[\n  {\n    \"name\": \"administrators\"\n  },\n  {\n    \"name\": \"developers\"\n  }\n]",
        ),
        (
            "named values/environment-name/namedValueInformation.json",
            r#"{
  "properties": {
    "displayName": "environment-name",
    "secret": false,
    "tags": [
      "environment"
    ],
    "value": "scenario"
  }
}"#,
        ),
        (
            "namedValues/allowed-ip-address/namedValueInformation.json",
            r#"{"properties": {"displayName": "allowed-ip-address", "secret": false, "value": "10.0.0.1"}}"#,
        ),
        (
            "backends/backend1/backendInformation.json",
            r#"{
  "properties": {
    "description": "HTTPBin backend for scenario APIs.",
    "protocol": "http",
    "url": "https://httpbin.org"
  }
}"#,
        ),
        (
            "policy fragments/policyFragment1/policyFragmentInformation.json",
            r#"{
  "properties": {
    "description": "Adds a correlation header to inbound requests."
  }
}"#,
        ),
        (
            "policy fragments/policyFragment1/policy.xml",
            "<fragment>\n\t<set-header name=\"X-Correlation-Id\" exists-action=\"skip\">\n\t\t<value>@(context.RequestId.ToString())</value>\n\t</set-header>\n</fragment>",
        ),
    ];
    files
        .iter()
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect()
}

#[test]
fn an_apiops_extracted_artifact_set_imports() {
    let current = parse("service: { name: contoso }\n");
    let c = match layout::import(&apiops_sample(), &current) {
        Ok(c) => c,
        Err(ps) => panic!(
            "{}",
            ps.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert_eq!(c.service.name, "contoso");
    let api = &c.apis[0];
    assert_eq!(
        (api.id.as_str(), api.path.as_str(), api.backend.as_str()),
        ("basic-api", "basic-api", "https://httpbin.org")
    );
    let ops: Vec<(&str, &str, &str)> = api
        .operations
        .iter()
        .map(|o| (o.id.as_str(), o.method.as_str(), o.url_template.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("get-items", "GET", "/items"),
            ("create-item", "POST", "/items")
        ]
    );
    assert!(
        api.operations[0]
            .policies
            .as_deref()
            .is_some_and(|p| p.contains("<base />"))
    );
    assert!(api.policies.is_some());
    let p1 = c
        .products
        .iter()
        .find(|p| p.id == "product1")
        .expect("product1");
    assert_eq!(p1.apis, ["basic-api"]);
    assert_eq!(p1.subscriptions_limit, Some(10));
    let starter = c
        .products
        .iter()
        .find(|p| p.id == "starter")
        .expect("starter");
    assert_eq!(starter.groups, ["administrators", "developers"]);
    let env = c
        .named_values
        .iter()
        .find(|n| n.id == "environment-name")
        .expect("nv");
    assert_eq!(env.value.expose(), "scenario");
    assert_eq!(c.named_values.len(), 2);
    assert_eq!(c.backends["backend1"].url, "https://httpbin.org");
    assert!(c.policies.fragments["policyFragment1"].starts_with("<fragment>"));
    assert!(
        c.policies
            .global
            .as_deref()
            .is_some_and(|g| g.contains("include-fragment"))
    );
    // The imported config validates as a whole.
    if let Err(issues) = gatehouse_model::validate(c.clone()) {
        let errors: Vec<_> = issues
            .iter()
            .filter(|i| i.severity == gatehouse_model::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

fn with(mut files: Files, f: &str, t: &str) -> Files {
    files.insert(f.to_string(), t.as_bytes().to_vec());
    files
}

fn refused(files: &Files, current: &Config) -> Vec<FileProblem> {
    layout::import(files, current).expect_err("refused")
}

fn find<'a>(ps: &'a [FileProblem], file: &str) -> &'a FileProblem {
    ps.iter()
        .find(|p| p.file == file)
        .unwrap_or_else(|| panic!("no problem for {file} in {ps:#?}"))
}

#[test]
fn every_problem_is_reported_with_its_file_and_line() {
    let c = rich();
    let good = layout::export(&c).expect("exports");
    let files = with(
        good.clone(),
        "products/gold/productInformation.json",
        "{\n  \"properties\": {\n    \"displayName\": \"Gold\",\n    \"subscriptionRequired\": \"yes\"\n  }\n}\n",
    );
    let files = with(
        files,
        "backends/orders/backendInformation.json",
        "{\n  \"properties\": {\n    \"url\": \"https://x\",\n  }\n}\n",
    );
    let files = with(
        files,
        "gatehouse/gateway.yaml",
        "listeners:\n  - address: 127.0.0.1:8080\nlisteners_typo: 1\n",
    );
    let files = with(
        files,
        "gatehouse/network.yaml",
        "outbound:\n  allowed_destinations: [\n",
    );
    let files = with(
        files,
        "apis/orders/operations/no-such-op/policy.xml",
        "<policies/>",
    );
    let files = with(files, "apis/orders/README.md", "notes");
    let files = with(
        files,
        "named values/env2/namedValueInformation.json",
        "{\n  \"name\": \"other\",\n  \"properties\": {\"value\": \"v\"}\n}\n",
    );
    let files = with(
        files,
        "apis/ping/specification.yaml",
        "openapi: 3.0.1\ninfo: {title: p, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - in: query\n",
    );
    let ps = refused(&files, &c);
    assert_eq!(
        ps.len(),
        8,
        "{}",
        ps.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );

    let p = find(&ps, "products/gold/productInformation.json");
    assert_eq!(p.line, Some(4), "{p}");
    assert!(p.message.contains("subscriptionRequired"), "{p}");
    assert_eq!(
        p.to_string(),
        format!("products/gold/productInformation.json:4: {}", p.message)
    );

    assert_eq!(
        find(&ps, "backends/orders/backendInformation.json").line,
        Some(4)
    );
    let g = find(&ps, "gatehouse/gateway.yaml");
    assert_eq!(g.line, Some(3), "{g}");
    assert!(find(&ps, "gatehouse/network.yaml").line.is_some());
    let o = find(&ps, "apis/orders/operations/no-such-op/policy.xml");
    assert!(
        o.message.contains("no-such-op") && o.message.contains("apis/orders/specification.yaml"),
        "{o}"
    );
    let u = find(&ps, "apis/orders/README.md");
    assert!(
        u.message
            .starts_with("unknown file 'apis/orders/README.md'; the layout is policy.xml"),
        "{u}"
    );
    let n = find(&ps, "named values/env2/namedValueInformation.json");
    assert_eq!(n.line, Some(2), "{n}");
    assert!(n.message.contains("directory name is the id"), "{n}");
    let s = find(&ps, "apis/ping/specification.yaml");
    assert_eq!(s.line, Some(6), "{s}");
}

#[test]
fn oversized_files_duplicates_and_orphans_are_refused() {
    let c = rich();
    let good = layout::export(&c).expect("exports");
    let big = "x".repeat(layout::MAX_FILE_BYTES + 1);
    let files = with(good.clone(), "policy.xml", &big);
    let files = with(
        files,
        "named values/env/namedValueInformation.json",
        "{\"properties\": {\"value\": \"v\"}}",
    );
    let files = with(files, "apis/ghost/policy.xml", "<policies/>");
    let ps = refused(&files, &c);
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert!(find(&ps, "policy.xml").message.contains("bytes"));
    // Both spellings of one named value: the second in path order is the problem.
    assert!(
        ps.iter()
            .any(|p| p.file.ends_with("/env/namedValueInformation.json")
                && p.message.contains("also defined")),
        "{ps:#?}"
    );
    assert!(
        find(&ps, "apis/ghost/policy.xml")
            .message
            .contains("apiInformation.json")
    );
}

#[test]
fn validation_problems_are_located_in_the_files() {
    let c = rich();
    let files = layout::export(&c).expect("exports");
    let files = with(
        files,
        "products/gold/apis.json",
        "[\n  {\n    \"name\": \"orders\"\n  },\n  {\n    \"name\": \"missing-api\"\n  }\n]\n",
    );
    let candidate = layout::import(&files, &c).expect("imports");
    let issues =
        gatehouse_model::validate(candidate.clone()).expect_err("dangling product reference");
    let issue = issues
        .iter()
        .find(|i| i.message.contains("missing-api"))
        .unwrap_or_else(|| panic!("{issues:#?}"));
    assert_eq!(issue.path, "products[0].apis[1]");
    let (file, line) = layout::locate(&issue.path, &issue.message, &candidate, &files);
    assert_eq!((file.as_str(), line), ("products/gold/apis.json", Some(6)));

    let at = |path: &str, message: &str| layout::locate(path, message, &candidate, &files);
    assert_eq!(
        at(
            "apis[0].operations[0].policies",
            "policy XML: line 2, column 5: unknown policy"
        ),
        (
            "apis/orders/operations/get-order/policy.xml".to_string(),
            Some(2)
        )
    );
    let (f, l) = at("apis[0].operations[1].url_template", "bad");
    assert_eq!(f, "apis/orders/specification.yaml");
    let spec = text(&files, &f);
    assert!(
        spec.lines()
            .nth(l.expect("a line") as usize - 1)
            .is_some_and(|x| x.contains("create-order"))
    );
    let (f, l) = at("apis[1].backend", "bad");
    assert_eq!(f, "apis/ping/apiInformation.json");
    assert!(
        text(&files, &f)
            .lines()
            .nth(l.expect("a line") as usize - 1)
            .is_some_and(|x| x.contains("serviceUrl"))
    );
    let (f, l) = at("backends.b.with.dots.url", "bad");
    assert_eq!(f, "backends/b.with.dots/backendInformation.json");
    assert!(l.is_some());
    assert_eq!(
        at("named_values[1].value", "x").0,
        "namedValues/api-key/namedValueInformation.json"
    );
    assert_eq!(
        at("policies.fragments.cors", "line 1: x"),
        ("policyFragments/cors/policy.xml".to_string(), Some(1))
    );
    assert_eq!(at("policies.global", "x").0, "policy.xml");
    let (f, l) = at("gateway.limits.max_connections", "x");
    assert_eq!(f, "gatehouse/gateway.yaml");
    assert!(
        text(&files, &f)
            .lines()
            .nth(l.expect("a line") as usize - 1)
            .is_some_and(|x| x.contains("max_connections"))
    );
    assert_eq!(
        at("subscriptions[0].scope", "x"),
        ("subscriptions[0].scope".to_string(), None)
    );
}
