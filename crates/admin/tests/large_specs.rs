//! Large real-world OpenAPI documents through the management API's import (`PUT apis/{a}`):
//! Stripe (OpenAPI 3.0), Kubernetes (Swagger 2.0), Discord (OpenAPI 3.1) and OpenAI (OpenAPI
//! 3.1), about 2,000 operations together. Each test checks that every (path, method) pair of the
//! document became one operation, spot-checks a few of them against the document, and that
//! export → re-import keeps the operation set.
//!
//! Most of these documents (and every export, `$ref`s inlined) exceed the 4 MiB request body the
//! management API reads (crates/admin/src/dispatch.rs), so they are imported as APIM imports a
//! large document: by `-link` (up to 32 MiB, crates/admin/src/oas/mod.rs), from a Node that
//! serves them in memory. Discord's fits inline and is imported both ways. The documents and their sources and licences
//! are described in tests/data/large/README.md; they are read gzip-compressed from that folder
//! (or from `$GATEHOUSE_LARGE_SPECS`). Without them a test is skipped, and fails when CI=true.

mod support;

use axum::http::StatusCode;
use gatehouse_admin::{Backing, ManagementApi, Node};
use gatehouse_model::{Api, Operation, ParameterLocation};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use support::{Harness, Memory};

/// A Node whose `fetch` serves documents put at `http://docs.test/NAME`, standing in for the
/// egress-guarded client (the guard itself is tested in crates/cli/tests/management.rs).
#[derive(Default)]
struct Docs(Mutex<HashMap<String, Vec<u8>>>);

impl Docs {
    /// Serves `bytes` and returns the URL to import from.
    fn put(&self, name: &str, bytes: Vec<u8>) -> String {
        let url = format!("http://docs.test/{name}");
        self.0.lock().expect("docs").insert(url.clone(), bytes);
        url
    }
}

#[async_trait::async_trait]
impl Node for Docs {
    async fn network_status(&self) -> Value {
        json!([])
    }
    async fn apply_network(&self) -> Result<Value, String> {
        Ok(json!({"applied": true}))
    }
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let docs = self.0.lock().map_err(|e| e.to_string())?;
        docs.get(url)
            .cloned()
            .ok_or_else(|| format!("{url}: not served"))
    }
}

/// The test harness of tests/support with a [`Docs`] node.
fn harness() -> (Harness, Arc<Docs>) {
    let docs = Arc::new(Docs::default());
    let backing = Arc::new(Memory::new(
        support::config("contoso"),
        1,
        support::keys("pk", "sk"),
    ));
    let api = ManagementApi {
        service_name: "contoso".into(),
        backing: backing.clone(),
        checker: support::checker(),
        node: docs.clone(),
    };
    let h = Harness {
        backing,
        router: api.router(),
        token: support::token("alice", "pk", time::Duration::hours(1)),
    };
    (h, docs)
}

/// The methods an OpenAPI Path Item may hold (as crates/admin/src/oas/import.rs reads them).
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn folder() -> PathBuf {
    std::env::var_os("GATEHOUSE_LARGE_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/large"))
}

/// The document `name` (a `.gz` in [`folder`]), or None when it is absent outside CI.
/// Decompressed with the system's `gzip`: the crate has no gzip library among its dependencies
/// and this file may not add one (crates/admin/Cargo.toml belongs to the importer's owner).
fn document(name: &str) -> Option<String> {
    let path = folder().join(format!("{name}.gz"));
    if !path.exists() {
        let why = format!(
            "{} is missing: see crates/admin/tests/data/large/README.md",
            path.display()
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("gzip -dc {}: {e}", path.display()));
    assert!(
        out.status.success(),
        "gzip -dc {}: {:?}",
        path.display(),
        out
    );
    Some(String::from_utf8(out.stdout).expect("the document is UTF-8"))
}

/// The (METHOD, path) pairs of a document: what import must turn into operations.
fn pairs(doc: &Value) -> BTreeSet<(String, String)> {
    let mut set = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if path.starts_with("x-") {
            continue;
        }
        for m in METHODS {
            if item.get(*m).is_some() {
                set.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    set
}

fn op_pairs(api: &Api) -> BTreeSet<(String, String)> {
    api.operations
        .iter()
        .map(|o| (o.method.clone(), o.url_template.clone()))
        .collect()
}

/// What survives export: id, method, template and parameter names.
fn op_set(api: &Api) -> BTreeSet<(String, String, String, Vec<String>)> {
    api.operations
        .iter()
        .map(|o| {
            let mut params: Vec<String> = o.parameters.iter().map(|p| p.name.clone()).collect();
            params.sort();
            (
                o.id.clone(),
                o.method.clone(),
                o.url_template.clone(),
                params,
            )
        })
        .collect()
}

fn without_query(p: &str) -> &str {
    p.split('?').next().unwrap_or(p)
}

/// Whether (m, p) is the only pair of `all` with p's path once query parts are dropped.
fn unique_without_query(all: &BTreeSet<(String, String)>, m: &str, p: &str) -> bool {
    all.iter()
        .filter(|(m2, p2)| m2 == m && without_query(p2) == without_query(p))
        .count()
        == 1
}

fn op<'a>(api: &'a Api, id: &str) -> &'a Operation {
    api.operations
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no operation {id} in {}", api.id))
}

fn param_at(o: &Operation, name: &str) -> (ParameterLocation, bool) {
    let p = o
        .parameters
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{}: no parameter {name}", o.id));
    (p.location, p.required)
}

fn response<'a>(o: &'a Operation, status: &str) -> Option<&'a str> {
    o.responses
        .iter()
        .find(|r| r.status == status)
        .and_then(|r| r.description.as_deref())
}

async fn stored(h: &Harness, id: &str) -> Api {
    let cur = h.backing.current().await.expect("current");
    cur.config
        .apis
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no API {id}"))
}

/// Imports `text` as API `id` (by `format`, a `-link` one through `docs`), checks the operation
/// set against `doc`'s (path, method) pairs, exports it as OpenAPI 3 JSON, and (when `reimport`)
/// re-imports the export by link and checks the operation set again. Returns the imported API.
async fn import_and_round_trip(
    (h, docs): &(Harness, Arc<Docs>),
    id: &str,
    format: &str,
    text: String,
    doc: &Value,
    service_url: Option<&str>,
    reimport: bool,
) -> Api {
    let bytes = text.len();
    let value = if format.contains("-link") {
        docs.put(id, text.into_bytes())
    } else {
        text
    };
    let mut props = json!({"format": format, "value": value, "path": id});
    if let Some(u) = service_url {
        props["serviceUrl"] = json!(u);
    }
    let started = Instant::now();
    let (s, body) = h
        .call(
            "PUT",
            &format!("/apis/{id}"),
            Some(json!({"properties": props})),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::CREATED, "{id}: {body}");
    let api = stored(h, id).await;
    let want = pairs(doc);
    assert_eq!(
        api.operations.len(),
        want.len(),
        "{id}: one operation a pair"
    );
    assert_eq!(op_pairs(&api), want, "{id}: the (method, path) pairs");
    println!(
        "{id}: imported {} operations ({bytes} bytes, {format}) in {took:?}",
        api.operations.len()
    );

    let started = Instant::now();
    let (s, exported) = h
        .call(
            "GET",
            &format!("/apis/{id}?export=true&format=openapi%2Bjson"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{id}: export");
    println!("{id}: exported in {:?}", started.elapsed());
    // Export writes a template's path without its query part (crates/admin/src/oas/export.rs), so
    // `/responses?beta=true` is exported as `/responses`; compare without query parts, and the
    // round trip on the operations whose template does not collide once the query is gone.
    let stripped: BTreeSet<_> = want
        .iter()
        .map(|(m, p)| (m.clone(), without_query(p).to_string()))
        .collect();
    assert_eq!(
        pairs(&exported),
        stripped,
        "{id}: the export's (method, path) pairs"
    );
    let exported = exported.to_string();
    println!("{id}: the export has {} bytes", exported.len());
    if !reimport {
        return api;
    }
    let copy = format!("{id}-copy");
    let url = docs.put(&copy, exported.into_bytes());
    let (s, body) = h
        .call(
            "PUT",
            &format!("/apis/{copy}"),
            Some(
                json!({"properties": {"format": "openapi+json-link", "value": url, "path": copy}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{copy}: {body}");
    let back = stored(h, &copy).await;
    let keep = |a: &Api| {
        op_set(a)
            .into_iter()
            .filter(|(_, m, p, _)| unique_without_query(&want, m, p))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(keep(&back), keep(&api), "{id}: import → export → import");
    assert_eq!(
        back.backend, api.backend,
        "{id}: the backend survives export"
    );
    let lost = want.len() - back.operations.len();
    if lost > 0 {
        println!("{id}: {lost} operations lost in export (query part of the template)");
    }
    api
}

#[tokio::test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow in a debug build (import about 9 s, export 11 s, re-import of 33 MB): cargo test --release"
)]
async fn stripe_openapi_3_0() {
    let Some(text) = document("stripe.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("json");
    let h = harness();
    let api =
        import_and_round_trip(&h, "stripe", "openapi+json-link", text, &doc, None, true).await;
    assert_eq!(api.operations.len(), 417);
    // servers[0].url without its trailing '/'.
    assert_eq!(api.backend, "https://api.stripe.com");
    let get = op(&api, "GetCustomersCustomer");
    assert_eq!(get.method, "GET");
    assert_eq!(get.url_template, "/v1/customers/{customer}");
    assert_eq!(param_at(get, "customer"), (ParameterLocation::Path, true));
    assert_eq!(param_at(get, "expand"), (ParameterLocation::Query, false));
    assert_eq!(response(get, "200"), Some("Successful response."));
    assert_eq!(response(get, "default"), Some("Error response."));
    // A form-encoded request body, its schema inlined from components.
    let charge = op(&api, "PostCharges");
    assert_eq!(charge.method, "POST");
    let req = charge.request.as_ref().expect("PostCharges has a body");
    assert_eq!(
        req.content[0].content_type,
        "application/x-www-form-urlencoded"
    );
    let props = &req.content[0].schema.as_ref().expect("schema")["properties"];
    assert!(props.get("amount").is_some(), "{props}");
}

#[tokio::test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow in a debug build (import about 30 s, export about 70 s): cargo test --release"
)]
async fn kubernetes_swagger_2_0() {
    let Some(text) = document("kubernetes.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("json");
    let h = harness();
    // The document names no host: the backend comes from the PUT.
    let api = import_and_round_trip(
        &h,
        "kubernetes",
        "swagger-link-json",
        text,
        &doc,
        Some("https://kubernetes.test"),
        // Its export is over the 32 MiB a link import reads: see kubernetes_export_re_imports.
        false,
    )
    .await;
    assert_eq!(api.operations.len(), 1123);
    assert_eq!(api.backend, "https://kubernetes.test");
    // Path-level parameters, two of them `$ref`s to #/parameters, apply to the operation.
    let read = op(&api, "readCoreV1NamespacedPod");
    assert_eq!(read.method, "GET");
    assert_eq!(
        read.url_template,
        "/api/v1/namespaces/{namespace}/pods/{name}"
    );
    assert_eq!(param_at(read, "name"), (ParameterLocation::Path, true));
    assert_eq!(param_at(read, "namespace"), (ParameterLocation::Path, true));
    assert_eq!(param_at(read, "pretty"), (ParameterLocation::Query, false));
    assert_eq!(response(read, "200"), Some("OK"));
    assert_eq!(response(read, "401"), Some("Unauthorized"));
    // Swagger's `in: body` becomes the request body; the other parameters stay parameters.
    let create = op(&api, "createAppsV1NamespacedDeployment");
    assert_eq!(create.method, "POST");
    assert_eq!(
        create.url_template,
        "/apis/apps/v1/namespaces/{namespace}/deployments"
    );
    assert!(create.parameters.iter().all(|p| p.name != "body"));
    assert_eq!(
        param_at(create, "fieldManager"),
        (ParameterLocation::Query, false)
    );
    let req = create.request.as_ref().expect("a body");
    assert!(req.required);
    assert_eq!(response(create, "201"), Some("Created"));
}

/// Import inlines every `$ref` into each operation, so Kubernetes' 4 MB document exports as a
/// document over the 32 MiB a `-link` import reads (crates/admin/src/oas/mod.rs MAX_LINKED),
/// and over the 4 MiB request body inline: an exported API cannot be imported again.
#[tokio::test]
#[ignore = "bug: Kubernetes' 4 MB document exports as 226 MB ($refs inlined per operation), which no import accepts (4 MiB body, 32 MiB link)"]
async fn kubernetes_export_re_imports() {
    let Some(text) = document("kubernetes.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("json");
    let h = harness();
    let api = import_and_round_trip(
        &h,
        "kubernetes",
        "swagger-link-json",
        text,
        &doc,
        Some("https://kubernetes.test"),
        true,
    )
    .await;
    assert_eq!(api.operations.len(), 1123);
}

#[tokio::test]
async fn discord_openapi_3_1() {
    let Some(text) = document("discord.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("json");
    let h = harness();
    // Inline (1.2 MB fits the request body) and by link: the same operations.
    let api = import_and_round_trip(
        &h,
        "discord",
        "openapi+json",
        text.clone(),
        &doc,
        None,
        true,
    )
    .await;
    let linked = import_and_round_trip(
        &h,
        "discord-link",
        "openapi+json-link",
        text,
        &doc,
        None,
        true,
    )
    .await;
    assert_eq!(op_set(&linked), op_set(&api));
    assert_eq!(api.operations.len(), 242);
    assert_eq!(api.backend, "https://discord.com/api/v10");
    let create = op(&api, "create_message");
    assert_eq!(create.method, "POST");
    assert_eq!(create.url_template, "/channels/{channel_id}/messages");
    assert_eq!(
        param_at(create, "channel_id"),
        (ParameterLocation::Path, true)
    );
    assert_eq!(
        response(create, "200"),
        Some("200 response for create_message")
    );
    // A response given as a `$ref` to #/components/responses is resolved.
    assert!(response(create, "429").is_some_and(|d| !d.is_empty()));
    assert!(create.request.as_ref().is_some_and(|r| r.required));
}

fn openai_checks(api: &Api) {
    assert_eq!(api.operations.len(), 288);
    assert_eq!(api.backend, "https://api.openai.com/v1");
    let chat = op(api, "createChatCompletion");
    assert_eq!(chat.method, "POST");
    assert_eq!(chat.url_template, "/chat/completions");
    assert_eq!(response(chat, "200"), Some("OK"));
    let req = chat.request.as_ref().expect("a body");
    assert!(req.required);
    assert_eq!(req.content[0].content_type, "application/json");
    let file = op(api, "retrieveFile");
    assert_eq!(file.url_template, "/files/{file_id}");
    assert_eq!(param_at(file, "file_id"), (ParameterLocation::Path, true));
}

#[tokio::test]
async fn openai_openapi_3_1() {
    let Some(text) = document("openai.json") else {
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("json");
    let h = harness();
    let api =
        import_and_round_trip(&h, "openai", "openapi+json-link", text, &doc, None, true).await;
    openai_checks(&api);
    // Its 7 operations on 6 `?beta=true` paths are imported with their query part, as APIM templates may be.
    let beta = op_pairs(&api)
        .into_iter()
        .filter(|(_, p)| p.ends_with("?beta=true"))
        .count();
    assert_eq!(beta, 7);
}

/// Export drops the query part of a template (crates/admin/src/oas/export.rs), so an operation
/// `POST /responses?beta=true` next to `POST /responses` is lost (or merged) in the export: the
/// exported document has fewer operations than the API.
#[tokio::test]
#[ignore = "bug: export writes templates without their query part, so OpenAI's POST /responses?beta=true and POST /responses collide and the export loses operations"]
async fn openai_export_keeps_query_templates() {
    let Some(text) = document("openai.json") else {
        return;
    };
    let (h, docs) = harness();
    let url = docs.put("openai", text.into_bytes());
    let (s, body) = h
        .call(
            "PUT",
            "/apis/openai",
            Some(json!({"properties": {"format": "openapi+json-link", "value": url, "path": "openai"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let api = stored(&h, "openai").await;
    let (s, exported) = h
        .call(
            "GET",
            "/apis/openai?export=true&format=openapi%2Bjson",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(pairs(&exported).len(), api.operations.len());
}

/// The same document as published in YAML. Its `seed` schema says
/// `minimum: -9223372036854776000` (below i64::MIN): valid YAML and JSON, and serde_json reads it
/// as a float, but crates/admin/src/oas/import.rs `parse` falls back to yaml_serde, which refuses
/// it ("JSON number out of range"), so the whole document answers 400.
#[tokio::test]
#[ignore = "bug: a YAML document with an integer literal outside i64/u64 is refused (oas/import.rs parse via yaml_serde: JSON number out of range); the JSON form imports"]
async fn openai_openapi_3_1_yaml() {
    let (Some(text), Some(json_text)) = (document("openai.yaml"), document("openai.json")) else {
        return;
    };
    let doc: Value = serde_json::from_str(&json_text).expect("json");
    let h = harness();
    let api =
        import_and_round_trip(&h, "openai-yaml", "openapi-link", text, &doc, None, true).await;
    openai_checks(&api);
}

/// The request body limit: an inline document over 4 MiB is refused as a whole (413), and the
/// same document imports by `-link`.
#[tokio::test]
async fn an_inline_document_over_the_body_limit_is_refused() {
    let Some(text) = document("stripe.json") else {
        return;
    };
    let (h, _) = harness();
    assert!(text.len() > 4 * 1024 * 1024 - 64 * 1024, "{}", text.len());
    let (s, body) = h
        .call(
            "PUT",
            "/apis/stripe",
            Some(
                json!({"properties": {"format": "openapi+json", "value": text, "path": "stripe"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "RequestTooLarge");
    let cur = h.backing.current().await.expect("current");
    assert!(cur.config.apis.is_empty(), "nothing imported");
}
