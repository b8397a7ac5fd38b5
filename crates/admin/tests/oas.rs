//! OpenAPI import and export through the management API: the OpenAPI Initiative's example
//! documents (tests/data, see its README), a bad document, re-import, export round trip and a
//! large generated document.

mod support;

use axum::http::StatusCode;
use gatehouse_admin::Backing;
use gatehouse_model::{Api, Operation};
use serde_json::{Value, json};
use support::Harness;

fn harness() -> Harness {
    Harness::new("pk", "sk")
}

fn data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl Harness {
    async fn import(&self, api: &str, props: Value) -> (StatusCode, Value) {
        self.call(
            "PUT",
            &format!("/apis/{api}"),
            Some(json!({"properties": props})),
        )
        .await
    }
    async fn api(&self, id: &str) -> Option<Api> {
        let cur = self.backing.current().await.ok()?;
        cur.config.apis.iter().find(|a| a.id == id).cloned()
    }
}

fn op<'a>(api: &'a Api, id: &str) -> &'a Operation {
    api.operations
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| {
            panic!(
                "no operation {id} in {:?}",
                api.operations.iter().map(|o| &o.id).collect::<Vec<_>>()
            )
        })
}

#[tokio::test]
async fn oai_examples_import() {
    let h = harness();
    // (file, format, operations, serviceUrl given in the PUT when the document has none)
    let cases = [
        ("petstore-v2.json", "swagger-json", 3, None),
        ("petstore-expanded-v2.yaml", "openapi", 4, None),
        ("petstore.json", "openapi+json", 3, None),
        ("petstore.yaml", "openapi", 3, None),
        ("petstore-expanded.json", "openapi+json", 4, None),
        ("uspto.json", "openapi+json", 3, None),
        ("uspto.yaml", "openapi", 3, None),
        (
            "link-example.json",
            "openapi+json",
            6,
            Some("http://bitbucket.test"),
        ),
        (
            "callback-example.json",
            "openapi+json",
            1,
            Some("http://streams.test"),
        ),
        (
            "api-with-examples.json",
            "openapi+json",
            2,
            Some("http://versions.test"),
        ),
    ];
    for (i, (file, format, count, url)) in cases.iter().enumerate() {
        let id = format!("a{i}");
        let mut props = json!({"format": format, "value": data(file), "path": format!("p{i}")});
        if let Some(u) = url {
            props["serviceUrl"] = json!(u);
        }
        let (s, body) = h.import(&id, props).await;
        assert_eq!(s, StatusCode::CREATED, "{file}: {body}");
        let api = h.api(&id).await.expect("imported");
        assert_eq!(api.operations.len(), *count, "{file}");
        if let Some(u) = url {
            assert_eq!(&api.backend, u, "{file}: the PUT's serviceUrl wins");
        }
    }
    // Swagger 2.0: schemes/host/basePath → serviceUrl; a parameter's type becomes its schema.
    let v2 = h.api("a0").await.expect("a0");
    assert_eq!(v2.backend, "http://petstore.swagger.io/v1");
    assert_eq!(v2.display_name.as_deref(), Some("Swagger Petstore"));
    let list = op(&v2, "listPets");
    assert_eq!(list.method, "GET");
    assert_eq!(list.parameters[0].name, "limit");
    assert_eq!(
        list.parameters[0].schema,
        Some(json!({"type": "integer", "format": "int32"}))
    );
    assert_eq!(op(&v2, "showPetById").url_template, "/pets/{petId}");
    assert_eq!(v2.tags, vec!["pets".to_string()]);
    // OpenAPI 3.0: operationId sanitized, a request body whose schema stays a reference into
    // the API's schemas (kept once, crates/admin/src/oas/schemas.rs).
    let ex = h.api("a4").await.expect("a4");
    assert_eq!(ex.backend, "https://petstore.swagger.io/v2");
    let by_id = op(&ex, "find-pet-by-id");
    assert_eq!(by_id.display_name.as_deref(), Some("find pet by id"));
    assert!(by_id.parameters[0].required);
    let add = op(&ex, "addPet");
    let req = add.request.as_ref().expect("request body");
    assert!(req.required);
    assert_eq!(req.content[0].content_type, "application/json");
    let reference = req.content[0].schema.as_ref().expect("schema")["$ref"]
        .as_str()
        .expect("a reference");
    let name = reference
        .strip_prefix("#/components/schemas/")
        .expect("in the model's form");
    assert_eq!(
        ex.schemas.as_ref().expect("schemas")[name]["properties"]["name"]["type"],
        "string"
    );
    // Server variables take their defaults; examples are kept.
    let uspto = h.api("a5").await.expect("a5");
    assert_eq!(uspto.backend, "https://developer.uspto.gov/ds-api");
    let listing = op(&uspto, "list-data-sets");
    let ex200 = &listing.responses[0].content[0]
        .examples
        .as_ref()
        .expect("example")["default"];
    assert_eq!(ex200["total"], 2);
    let search = op(&uspto, "perform-search");
    assert_eq!(
        search.request.as_ref().expect("form").content[0].content_type,
        "application/x-www-form-urlencoded"
    );
    let versions = h.api("a9").await.expect("a9");
    let r = &op(&versions, "listVersionsv2").responses;
    assert!(
        r.iter()
            .any(|r| r.status == "200" && r.content[0].examples.is_some())
    );
    // The operations are live resources of the management API.
    let (s, ops) = h.call("GET", "/apis/a2/operations", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ops["count"], 3);
}

#[tokio::test]
async fn a_bad_document_is_refused_with_its_place_and_nothing_is_imported() {
    let h = harness();
    let mut doc: Value = serde_json::from_str(&data("petstore-v2.json")).expect("json");
    doc["paths"]["/pets/{petId}"]["get"]["parameters"][0]
        .as_object_mut()
        .expect("param")
        .remove("in");
    let (s, body) = h
        .import(
            "bad",
            json!({"format": "swagger-json", "value": doc.to_string(), "path": "bad"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "ValidationError");
    assert_eq!(
        body["error"]["details"][0]["target"],
        "paths./pets/{petId}.get.parameters[0]"
    );
    assert!(h.api("bad").await.is_none());
    // Not a document at all; an unknown version; an unknown format.
    let (s, body) = h
        .import(
            "bad",
            json!({"format": "openapi", "value": "[1, 2", "path": "bad"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"][0]["target"], "properties.value");
    let (s, body) = h
        .import("bad", json!({"format": "openapi+json", "value": "{\"openapi\": \"4.0.0\", \"paths\": {}}", "path": "bad"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"][0]["target"], "openapi");
    let (s, _) = h
        .import(
            "bad",
            json!({"format": "wadl-xml", "value": "<x/>", "path": "bad"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(h.api("bad").await.is_none());
}

#[tokio::test]
async fn a_link_is_fetched_through_the_node() {
    let h = harness();
    let (s, body) = h
        .import("pets", json!({"format": "openapi+json-link", "value": "http://docs.test/petstore.json", "path": "pets"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(h.api("pets").await.expect("pets").operations.len(), 3);
    let (s, body) = h
        .import(
            "other",
            json!({"format": "openapi-link", "value": "http://10.0.0.1/x.yaml", "path": "other"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"][0]["target"], "properties.value");
}

#[tokio::test]
async fn re_import_keeps_policies_of_operations_that_remain() {
    let h = harness();
    let doc = data("petstore.json");
    let (s, _) = h
        .import(
            "pets",
            json!({"format": "openapi+json", "value": doc, "path": "pets"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let xml = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    for p in [
        "/apis/pets/policies/policy",
        "/apis/pets/operations/showPetById/policies/policy",
        "/apis/pets/operations/createPets/policies/policy",
    ] {
        let (s, b) = h
            .call(
                "PUT",
                p,
                Some(json!({"properties": {"format": "rawxml", "value": xml}})),
            )
            .await;
        assert!(s.is_success(), "{p}: {b}");
    }
    // The new version drops createPets.
    let mut v2: Value = serde_json::from_str(&doc).expect("json");
    v2["paths"]["/pets"]
        .as_object_mut()
        .expect("path")
        .remove("post");
    let (s, body) = h
        .import(
            "pets",
            json!({"format": "openapi+json", "value": v2.to_string(), "path": "pets"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let api = h.api("pets").await.expect("pets");
    assert_eq!(api.operations.len(), 2);
    assert!(api.policies.is_some(), "the API's policy stays");
    assert!(
        op(&api, "showPetById").policies.is_some(),
        "a remaining operation keeps its policy"
    );
    assert!(op(&api, "listPets").policies.is_none());
    assert!(!api.operations.iter().any(|o| o.id == "createPets"));
}

/// What import produced, without the policies (which export does not carry).
fn shape(api: &Api) -> Value {
    let mut ops = api.operations.clone();
    for o in &mut ops {
        o.policies = None;
    }
    ops.sort_by(|a, b| a.id.cmp(&b.id));
    serde_json::to_value(ops).expect("serializes")
}

#[tokio::test]
async fn export_round_trip() {
    let h = harness();
    for (file, url) in [
        ("petstore-expanded.json", None),
        ("uspto.json", None),
        ("api-with-examples.json", Some("http://versions.test")),
        ("petstore-v2.json", None),
    ] {
        let mut props = json!({"format": "openapi+json", "value": data(file), "path": "orig"});
        if let Some(u) = url {
            props["serviceUrl"] = json!(u);
        }
        let (s, b) = h.import("orig", props).await;
        assert!(s.is_success(), "{file}: {b}");
        let orig = h.api("orig").await.expect("orig");
        let (s, exported) = h
            .call("GET", "/apis/orig?export=true&format=openapi%2Bjson", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{file}: {exported}");
        assert_eq!(exported["openapi"], "3.0.1");
        let (s, b) = h
            .import(
                "copy",
                json!({"format": "openapi+json", "value": exported.to_string(), "path": "copy"}),
            )
            .await;
        assert!(s.is_success(), "{file}: {b}");
        let copy = h.api("copy").await.expect("copy");
        assert_eq!(
            shape(&copy),
            shape(&orig),
            "{file}: import → export → import"
        );
        assert_eq!(copy.backend, orig.backend);
        assert_eq!(copy.display_name, orig.display_name);
        // Swagger 2.0 export keeps the operations, their parameters and the backend.
        let (s, sw) = h
            .call("GET", "/apis/orig?export=true&format=swagger-json", None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(sw["swagger"], "2.0");
        let (s, b) = h
            .import(
                "sw",
                json!({"format": "swagger-json", "value": sw.to_string(), "path": "sw"}),
            )
            .await;
        assert!(s.is_success(), "{file}: {b}");
        let back = h.api("sw").await.expect("sw");
        let key = |a: &Api| -> Vec<(String, String, String, Vec<String>)> {
            let mut v: Vec<_> = a
                .operations
                .iter()
                .map(|o| {
                    (
                        o.id.clone(),
                        o.method.clone(),
                        o.url_template.clone(),
                        o.parameters.iter().map(|p| p.name.clone()).collect(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(key(&back), key(&orig), "{file}: swagger export");
        assert_eq!(back.backend, orig.backend);
    }
    // An unknown export format is refused.
    let (s, _) = h
        .call("GET", "/apis/orig?export=true&format=wadl-xml", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_large_document_imports() {
    let h = harness();
    let mut paths = serde_json::Map::new();
    for i in 0..1000 {
        let item = json!({
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {"operationId": format!("get{i}"), "summary": format!("Get item {i}"),
                "parameters": [{"name": "expand", "in": "query", "schema": {"type": "boolean"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}, "example": {"id": "x"}}}}}},
            "put": {"operationId": format!("put{i}"),
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                "responses": {"204": {"description": "stored"}}},
            "delete": {"operationId": format!("delete{i}"), "responses": {"204": {"description": "gone"}}},
        });
        paths.insert(format!("/things{i}/{{id}}"), item);
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Large", "version": "1"},
        "servers": [{"url": "http://large.test/v1"}],
        "paths": paths,
        "components": {"schemas": {"Item": {"type": "object", "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}}},
    })
    .to_string();
    let started = std::time::Instant::now();
    let (s, body) = h
        .import(
            "large",
            json!({"format": "openapi+json", "value": doc, "path": "large"}),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let api = h.api("large").await.expect("large");
    assert_eq!(api.operations.len(), 3000);
    println!(
        "imported 3,000 operations ({} bytes) in {took:?}",
        doc.len()
    );
    let started = std::time::Instant::now();
    let (s, exported) = h
        .call("GET", "/apis/large?export=true&format=openapi%2Bjson", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(exported["paths"].as_object().map(|p| p.len()), Some(1000));
    println!("exported them in {:?}", started.elapsed());
}

/// The shapes the large documents needed, small: schemas kept once and referred to, a
/// template with a query part next to the same path without, a YAML integer beyond 64 bits,
/// and both export formats giving them back.
#[tokio::test]
async fn shared_schemas_query_templates_and_big_yaml_integers_round_trip() {
    let h = harness();
    let yaml = r##"
openapi: 3.1.0
info: {title: Shared, version: "1"}
servers: [{url: "https://shared.test"}]
paths:
  /responses:
    post:
      operationId: create
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Req"}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Node"}}}}}
  /responses?beta=true:
    post:
      operationId: createBeta
      responses: {"200": {description: beta}}
components:
  schemas:
    Req: {type: object, properties: {seed: {type: integer, minimum: -9223372036854776000}}}
    Node: {type: object, properties: {child: {$ref: "#/components/schemas/Node"}}}
"##;
    let (s, body) = h
        .import(
            "shared",
            json!({"format": "openapi", "value": yaml, "path": "shared"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let api = h.api("shared").await.expect("shared");
    let schemas = api.schemas.clone().expect("schemas");
    assert!(schemas["Req"]["properties"]["seed"]["minimum"].is_f64());
    assert_eq!(
        schemas["Node"]["properties"]["child"]["$ref"],
        "#/components/schemas/Node"
    );
    let create = op(&api, "create");
    assert_eq!(
        create.request.as_ref().expect("body").content[0].schema,
        Some(json!({"$ref": "#/components/schemas/Req"}))
    );
    assert_eq!(op(&api, "createBeta").url_template, "/responses?beta=true");

    // OpenAPI 3: the query template under x-ms-paths, the schemas under components.
    let (s, doc) = h
        .call(
            "GET",
            "/apis/shared?export=true&format=openapi%2Bjson",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/responses"]["post"].is_object(), "{doc}");
    assert!(doc["x-ms-paths"]["/responses?beta=true"]["post"].is_object());
    assert_eq!(doc["components"]["schemas"], schemas);
    // Swagger 2.0: the schemas under definitions, references in its form.
    let (s, v2) = h
        .call("GET", "/apis/shared?export=true&format=swagger-json", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v2["definitions"]["Node"]["properties"]["child"]["$ref"],
        "#/definitions/Node"
    );
    let body = v2["paths"]["/responses"]["post"]["parameters"][0]["schema"].clone();
    assert_eq!(body, json!({"$ref": "#/definitions/Req"}));

    // Each export imports back to the same operations and schemas.
    for (copy, format, text) in [
        ("shared-3", "openapi+json", doc.to_string()),
        ("shared-2", "swagger-json", v2.to_string()),
    ] {
        let (s, body) = h
            .import(copy, json!({"format": format, "value": text, "path": copy}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{copy}: {body}");
        let back = h.api(copy).await.expect("imported again");
        assert_eq!(back.schemas.as_ref(), Some(&schemas), "{copy}");
        let ops = |a: &Api| {
            let mut v: Vec<(String, String, String)> = a
                .operations
                .iter()
                .map(|o| (o.id.clone(), o.method.clone(), o.url_template.clone()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(ops(&back), ops(&api), "{copy}");
        assert_eq!(
            op(&back, "create").request.as_ref().expect("body").content[0].schema,
            Some(json!({"$ref": "#/components/schemas/Req"})),
            "{copy}"
        );
    }
}
