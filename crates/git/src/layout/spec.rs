//! `apis/{a}/specification.yaml`: an API's operations as an OpenAPI 3 document, written and read
//! by the management API's own export and import (crates/admin/src/oas/), so a file edited here
//! means what the same document means to `PUT apis/{a}` with `format=openapi`.
//!
//! Two things the admin import does for documents from elsewhere are undone here so that
//! export → import gives the operations back unchanged: a missing `summary` is not replaced by
//! the operationId, nor a missing `description` by the summary; and the `default` response
//! export writes for an operation without responses (OpenAPI requires one) is dropped again.
//! Operations OpenAPI cannot state (method `*`, or a `/*` template) are kept in the extension
//! `x-gatehouse-operations` as the config file writes them.

use super::text::{problem, utf8, yaml_line, yaml_path_line};
use super::{FileProblem, LayoutError};
use gatehouse_admin::oas::{export, import, yaml};
use gatehouse_model::{Api, Operation};
use serde_json::Value;

/// The extension holding the operations OpenAPI cannot state.
pub const EXTRA: &str = "x-gatehouse-operations";

/// What the document gives the API.
#[derive(Debug, Default)]
pub struct Spec {
    pub operations: Vec<Operation>,
    pub tags: Vec<String>,
    pub schemas: Option<Value>,
}

fn stateable(o: &Operation) -> bool {
    import::METHODS.contains(&o.method.to_ascii_lowercase().as_str())
        && !o.url_template.contains('*')
}

/// The document as YAML.
pub fn write(api: &Api) -> Result<Vec<u8>, LayoutError> {
    let mut doc = export::openapi(api);
    if let Some(m) = doc.as_object_mut() {
        // `servers` would repeat apiInformation.json's serviceUrl (APIM writes its own gateway
        // URL there): one place for it, read from apiInformation.json.
        m.remove("servers");
    }
    let mut extra = Vec::new();
    for o in api.operations.iter().filter(|o| !stateable(o)) {
        let mut v = serde_json::to_value(o).map_err(|source| LayoutError::Json {
            file: super::paths::api_spec(&api.id),
            source,
        })?;
        // Its policy is operations/{o}/policy.xml, as for any operation.
        if let Some(m) = v.as_object_mut() {
            m.remove("policies");
        }
        extra.push(v);
    }
    if !extra.is_empty() {
        doc[EXTRA] = Value::Array(extra);
    }
    yaml_serde::to_string(&Ordered(&doc))
        .map(String::into_bytes)
        .map_err(|source| LayoutError::Yaml {
            file: super::paths::api_spec(&api.id),
            source,
        })
}

/// The document's top-level members in the order OpenAPI documents (and APIM's exports) give
/// them, the rest after in name order: serde_json's map is sorted, which would put `info`
/// before `openapi`.
struct Ordered<'a>(&'a Value);

const FIRST: &[&str] = &[
    "openapi",
    "info",
    "servers",
    "paths",
    "x-ms-paths",
    "components",
    "tags",
];

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(m) = self.0 else {
            return self.0.serialize(s);
        };
        let mut out = s.serialize_map(Some(m.len()))?;
        for k in FIRST {
            if let Some(v) = m.get(*k) {
                out.serialize_entry(k, v)?;
            }
        }
        for (k, v) in m.iter().filter(|(k, _)| !FIRST.contains(&k.as_str())) {
            out.serialize_entry(k, v)?;
        }
        out.end()
    }
}

/// Reads the document (YAML, or JSON for `specification.json`).
pub fn read(file: &str, bytes: &[u8]) -> Result<Spec, FileProblem> {
    let text = utf8(file, bytes)?;
    let doc = if file.ends_with(".json") {
        serde_json::from_str::<Value>(text).map_err(|e| {
            problem(
                file,
                u32::try_from(e.line()).ok(),
                format!("invalid JSON: {e}"),
            )
        })?
    } else {
        yaml::from_str(text)
            .map_err(|e| problem(file, yaml_line(&e), format!("invalid YAML: {e}")))?
    };
    let imp = import::import(&doc).map_err(|e| {
        problem(
            file,
            yaml_path_line(text, &e.target),
            if e.target.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.target, e.message)
            },
        )
    })?;
    let mut operations = imp.operations;
    for o in &mut operations {
        faithful(&doc, o);
    }
    match doc.get(EXTRA) {
        None | Some(Value::Null) => {}
        Some(v) => {
            let extra: Vec<Operation> = serde_json::from_value(v.clone())
                .map_err(|e| problem(file, yaml_path_line(text, EXTRA), format!("{EXTRA}: {e}")))?;
            operations.extend(extra.into_iter().map(|mut o| {
                o.policies = None;
                o
            }));
        }
    }
    Ok(Spec {
        operations,
        tags: imp.tags,
        schemas: imp.schemas,
    })
}

/// The operation object the document holds for `o` (under `paths`, or `x-ms-paths` for a
/// template with a query part, as crates/admin/src/oas/export.rs writes it).
fn source<'a>(doc: &'a Value, o: &Operation) -> Option<&'a Value> {
    let field = if o.url_template.contains('?') {
        "x-ms-paths"
    } else {
        "paths"
    };
    doc.get(field)?
        .get(&o.url_template)?
        .get(o.method.to_ascii_lowercase())
}

fn text_of(v: Option<&Value>, key: &str) -> Option<String> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Undoes the admin import's fill-ins (see the module comment).
fn faithful(doc: &Value, o: &mut Operation) {
    let src = source(doc, o);
    o.display_name = text_of(src, "summary");
    o.description = text_of(src, "description");
    for r in &mut o.responses {
        if r.description.as_deref() == Some("") {
            r.description = None;
        }
    }
    if let [only] = o.responses.as_slice()
        && only.status == "default"
        && only.description.is_none()
        && only.content.is_empty()
    {
        o.responses.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Api {
        serde_json::from_value(serde_json::json!({
            "id": "a", "path": "a", "backend": "https://b.test",
            "operations": [
                {"id": "get-x", "method": "GET", "url_template": "/x/{id}",
                 "parameters": [{"name": "id", "in": "path", "required": true}]},
                {"id": "beta", "method": "POST", "url_template": "/x?beta=true", "display_name": "Beta"},
                {"id": "any", "method": "*", "url_template": "/*", "policies": "<policies/>"}
            ]
        }))
        .expect("api")
    }

    #[test]
    fn operations_come_back_as_written() {
        let a = api();
        let bytes = write(&a).expect("writes");
        let text = String::from_utf8(bytes.clone()).expect("utf8");
        assert!(!text.contains("servers"), "{text}");
        assert!(text.contains(EXTRA));
        assert!(text.starts_with("openapi: 3.0.1\ninfo:"), "{text}");
        assert!(!text.contains("policies"), "{text}");
        let spec = read("apis/a/specification.yaml", &bytes).expect("reads");
        let mut want = a.operations.clone();
        want[2].policies = None;
        let got = serde_json::to_value(&spec.operations).expect("ser");
        let mut got_sorted: Vec<Value> = got.as_array().cloned().unwrap_or_default();
        let mut want_sorted: Vec<Value> = serde_json::to_value(&want)
            .expect("ser")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let key = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
        got_sorted.sort_by_key(key);
        want_sorted.sort_by_key(key);
        assert_eq!(got_sorted, want_sorted);
    }

    #[test]
    fn a_bad_document_names_its_line() {
        let doc = b"openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - in: query\n";
        let e = read("apis/a/specification.yaml", doc).expect_err("refused");
        assert_eq!(e.line, Some(6), "{e}");
        let e = read("apis/a/specification.yaml", b"openapi: [\n").expect_err("refused");
        assert!(e.line.is_some(), "{e}");
    }
}
