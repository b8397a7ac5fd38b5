//! Swagger 2.0 / OpenAPI 3.0 / 3.1 documents → the model's operations (APIM's `PUT apis/{a}`
//! with `format` + `value`). The document is read as a `serde_json::Value` and walked by hand:
//! the typed OpenAPI crates each cover one major version and reject the small deviations real
//! documents carry, while APIM accepts them; this walk checks what an operation needs and says
//! where a problem is (`paths./pets/{id}.get.parameters[0]`).

use gatehouse_model::{
    Operation, OperationParameter, OperationRequest, OperationResponse, ParameterLocation,
    Representation,
};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

use super::schemas::{Doc, MAX_INLINE_DEPTH, MAX_NODES, lookup, schema as copy_schema, shared};

/// The HTTP methods a Path Item may hold, in the order they are imported.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Largest document read: a bound for `gatehouse api import FILE` too, which has no request
/// body limit (the management API reads at most 4 MiB inline and 32 MiB by link,
/// crates/admin/src/oas/mod.rs).
pub const MAX_DOCUMENT: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// A document problem: where (a dotted path into the document) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target}: {message}")]
pub struct ImportError {
    pub target: String,
    pub message: String,
}

pub(crate) fn err(target: impl Into<String>, message: impl Into<String>) -> ImportError {
    ImportError {
        target: target.into(),
        message: message.into(),
    }
}

/// What a document gives the API.
#[derive(Debug, Clone)]
pub struct Imported {
    pub version: Version,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `servers[0].url` (3.x) or `schemes[0]://host basePath` (2.0), when absolute.
    pub service_url: Option<String>,
    pub tags: Vec<String>,
    pub operations: Vec<Operation>,
    /// The document's reusable schemas for `Api.schemas` (crates/admin/src/oas/schemas.rs).
    pub schemas: Option<Value>,
}

/// JSON first (the common case and the fast parser), else YAML (a superset of JSON).
/// Both parsers bound nesting depth (128 levels) and yaml_serde bounds alias expansion.
pub fn parse(bytes: &[u8]) -> Result<Value, ImportError> {
    if bytes.len() > MAX_DOCUMENT {
        return Err(err(
            "",
            format!("the document is larger than {MAX_DOCUMENT} bytes"),
        ));
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| err("", format!("not UTF-8: {e}")))?;
    super::yaml::from_str(text).map_err(|e| err("", format!("neither JSON nor YAML: {e}")))
}

pub fn version(doc: &Value) -> Result<Version, ImportError> {
    let s = |k: &str| doc.get(k).and_then(Value::as_str);
    if let Some(v) = s("swagger") {
        return match v {
            "2.0" => Ok(Version::Swagger2),
            _ => Err(err(
                "swagger",
                format!("unsupported Swagger version '{v}' (2.0 is)"),
            )),
        };
    }
    match s("openapi") {
        Some(v) if v.starts_with("3.0") => Ok(Version::OpenApi30),
        Some(v) if v.starts_with("3.1") => Ok(Version::OpenApi31),
        Some(v) => Err(err(
            "openapi",
            format!("unsupported OpenAPI version '{v}' (3.0 and 3.1 are)"),
        )),
        None if doc.get("paths").is_some() => Ok(Version::OpenApi30),
        None => Err(err(
            "openapi",
            "not an OpenAPI document: no 'openapi', 'swagger' or 'paths'",
        )),
    }
}

/// Reads a whole document; nothing is returned unless every operation reads.
pub fn import(doc: &Value) -> Result<Imported, ImportError> {
    import_within(doc, MAX_NODES)
}

fn import_within(doc: &Value, budget: usize) -> Result<Imported, ImportError> {
    let doc = &Doc {
        root: doc,
        budget: std::cell::Cell::new(budget),
    };
    if !doc.is_object() {
        return Err(err("", "the document must be an object"));
    }
    let version = version(doc)?;
    let info = doc.get("info");
    let info_str = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let paths = match doc.get("paths") {
        Some(Value::Object(p)) => p,
        // 3.1 allows a document of webhooks or components only.
        None if version == Version::OpenApi31 => &Map::new(),
        None => return Err(err("paths", "'paths' is required")),
        Some(_) => return Err(err("paths", "must be an object")),
    };
    let mut tags: Vec<String> = Vec::new();
    if let Some(Value::Array(ts)) = doc.get("tags") {
        for t in ts {
            if let Some(n) = t.get("name").and_then(Value::as_str) {
                push_unique(&mut tags, n);
            }
        }
    }
    // APIM's `x-ms-paths` holds templates with a query part (`/responses?beta=true`), which
    // `paths` may not; the export writes them there (crates/admin/src/oas/export.rs).
    let ms_paths = match doc.get("x-ms-paths") {
        None | Some(Value::Null) => &Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(err("x-ms-paths", "must be an object")),
    };
    let mut operations = Vec::new();
    let mut ids = Ids::default();
    let all = paths
        .iter()
        .map(|p| ("paths", p))
        .chain(ms_paths.iter().map(|p| ("x-ms-paths", p)));
    for (field, (path, item)) in all {
        let at = format!("{field}.{path}");
        if path.starts_with("x-") {
            continue;
        }
        if !path.starts_with('/') {
            return Err(err(at, "a path must start with '/'"));
        }
        check_template(path).map_err(|m| err(&at, m))?;
        let item = resolve(doc, item, &at)?;
        let Some(item_obj) = item.as_object() else {
            return Err(err(at, "a Path Item must be an object"));
        };
        let shared = parameters(doc, item_obj.get("parameters"), &format!("{at}.parameters"))?;
        for method in METHODS {
            let Some(op) = item_obj.get(*method) else {
                continue;
            };
            let oat = format!("{at}.{method}");
            let Some(o) = op.as_object() else {
                return Err(err(oat, "an Operation must be an object"));
            };
            let op = operation(doc, version, path, method, o, &shared, &oat, &mut ids)?;
            if let Some(Value::Array(ts)) = o.get("tags") {
                for t in ts.iter().filter_map(Value::as_str) {
                    push_unique(&mut tags, t);
                }
            }
            operations.push(op);
        }
    }
    let schemas = shared(doc, version)?;
    Ok(Imported {
        schemas,
        version,
        title: info_str("title"),
        description: info_str("description"),
        service_url: service_url(doc, version),
        tags,
        operations,
    })
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// `{` and `}` balanced and not nested, each naming something.
fn check_template(path: &str) -> Result<(), String> {
    let mut open = false;
    let mut name = 0usize;
    for c in path.chars() {
        match (c, open) {
            ('{', false) => (open, name) = (true, 0),
            ('}', true) if name > 0 => open = false,
            ('{', true) | ('}', _) => {
                return Err(format!("unbalanced or empty '{{}}' in '{path}'"));
            }
            (_, true) => name += 1,
            _ => {}
        }
    }
    if open {
        return Err(format!("unbalanced '{{' in '{path}'"));
    }
    Ok(())
}

/// Operation ids as the model takes them: operationId sanitized (1-80 of letters, digits, `-`,
/// `_`, `.`), else method + path; unique regardless of case.
#[derive(Default)]
struct Ids {
    raw: HashSet<String>,
    taken: HashSet<String>,
}

impl Ids {
    fn claim(
        &mut self,
        raw: Option<&str>,
        method: &str,
        path: &str,
        at: &str,
    ) -> Result<String, ImportError> {
        if let Some(r) = raw
            && !self.raw.insert(r.to_string())
        {
            return Err(err(
                format!("{at}.operationId"),
                format!("duplicate operationId '{r}'"),
            ));
        }
        let base = sanitize(raw.unwrap_or(&format!("{method}{path}")));
        let mut id = base.clone();
        let mut n = 2;
        while !self.taken.insert(id.to_ascii_lowercase()) {
            let suffix = format!("-{n}");
            id = format!("{}{suffix}", truncate(&base, 80 - suffix.len()));
            n += 1;
        }
        Ok(id)
    }
}

pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let c = if keep { c } else { '-' };
        // Runs of replaced characters collapse to one '-'.
        if !(c == '-' && out.ends_with('-') && !keep) {
            out.push(c);
        }
    }
    let t = out.trim_matches('-');
    let t = if t.is_empty() { "operation" } else { t };
    truncate(t, 80).to_string()
}

fn truncate(s: &str, n: usize) -> &str {
    // ASCII only after sanitize, so a byte index is a char boundary.
    &s[..s.len().min(n)]
}

#[allow(clippy::too_many_arguments)]
fn operation(
    doc: &Doc<'_>,
    version: Version,
    path: &str,
    method: &str,
    o: &Map<String, Value>,
    shared: &[(OperationParameter, Option<Value>)],
    at: &str,
    ids: &mut Ids,
) -> Result<Operation, ImportError> {
    let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    let raw_id = match o.get("operationId") {
        None | Some(Value::Null) => None,
        Some(Value::String(x)) => Some(x.as_str()),
        Some(_) => return Err(err(format!("{at}.operationId"), "must be a string")),
    };
    let id = ids.claim(raw_id, method, path, at)?;
    // Operation-level parameters override path-level ones of the same name and place.
    let own = parameters(doc, o.get("parameters"), &format!("{at}.parameters"))?;
    let mut params: Vec<(OperationParameter, Option<Value>)> = shared
        .iter()
        .filter(|(p, _)| {
            !own.iter()
                .any(|(q, _)| q.name == p.name && q.location == p.location)
        })
        .cloned()
        .collect();
    params.extend(own);
    let mut request = None;
    let mut parameters = Vec::new();
    let mut form = Map::new();
    for (p, body) in params {
        match body {
            // Swagger 2.0 `in: body` / `in: formData` become the request body.
            Some(Value::String(kind)) if kind == "formData" => {
                form.insert(p.name.clone(), p.schema.clone().unwrap_or(json!({})));
            }
            Some(schema) => {
                request = Some(OperationRequest {
                    description: p.description.clone(),
                    required: p.required,
                    content: consumes(doc, o)
                        .into_iter()
                        .map(|ct| Representation {
                            content_type: ct,
                            schema: Some(schema.clone()),
                            examples: None,
                        })
                        .collect(),
                });
            }
            None => parameters.push(p),
        }
    }
    if !form.is_empty() && request.is_none() {
        let ct = consumes(doc, o)
            .into_iter()
            .find(|c| c.contains("form"))
            .unwrap_or_else(|| "application/x-www-form-urlencoded".into());
        request = Some(OperationRequest {
            description: None,
            required: false,
            content: vec![Representation {
                content_type: ct,
                schema: Some(json!({"type": "object", "properties": form})),
                examples: None,
            }],
        });
    }
    if let Some(rb) = o.get("requestBody") {
        let rat = format!("{at}.requestBody");
        let rb = resolve(doc, rb, &rat)?;
        if !rb.is_object() {
            return Err(err(rat, "must be an object"));
        }
        request = Some(OperationRequest {
            description: rb
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
            content: content(doc, rb.get("content"), &format!("{rat}.content"))?,
        });
    }
    let responses = responses(doc, version, o, at)?;
    Ok(Operation {
        id,
        display_name: s("summary").or_else(|| raw_id.map(str::to_string)),
        method: method.to_ascii_uppercase(),
        url_template: path.to_string(),
        policies: None,
        description: s("description").or_else(|| s("summary")),
        parameters,
        request,
        responses,
    })
}

/// Swagger 2.0 `consumes` (operation, else document), else JSON.
fn consumes(doc: &Value, o: &Map<String, Value>) -> Vec<String> {
    media(o.get("consumes").or_else(|| doc.get("consumes")))
}

fn produces(doc: &Value, o: &Map<String, Value>) -> Vec<String> {
    media(o.get("produces").or_else(|| doc.get("produces")))
}

fn media(v: Option<&Value>) -> Vec<String> {
    let v: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if v.is_empty() {
        vec!["application/json".into()]
    } else {
        v
    }
}

/// Parameters; the second element is `Some(schema)` for a 2.0 body parameter and
/// `Some("formData")` for a 2.0 form field. Cookie parameters are dropped (the model has no
/// place for them and the gateway does not route on them).
fn parameters(
    doc: &Doc<'_>,
    v: Option<&Value>,
    at: &str,
) -> Result<Vec<(OperationParameter, Option<Value>)>, ImportError> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let Some(list) = v.as_array() else {
        return Err(err(at, "must be an array"));
    };
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let pat = format!("{at}[{i}]");
        let p = resolve(doc, p, &pat)?;
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            return Err(err(pat, "a parameter needs a 'name'"));
        };
        let Some(place) = p.get("in").and_then(Value::as_str) else {
            return Err(err(pat, format!("parameter '{name}' needs 'in'")));
        };
        let description = p
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string);
        let required = p
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(place == "path");
        let mut extra = None;
        let location = match place {
            "path" => ParameterLocation::Path,
            "query" => ParameterLocation::Query,
            "header" => ParameterLocation::Header,
            "cookie" => continue,
            "body" => {
                extra = Some(copy_schema(
                    doc,
                    p.get("schema").unwrap_or(&json!({})),
                    &format!("{pat}.schema"),
                )?);
                ParameterLocation::Query
            }
            "formData" => {
                extra = Some(json!("formData"));
                ParameterLocation::Query
            }
            other => {
                return Err(err(
                    pat,
                    format!("parameter '{name}': unknown 'in' value '{other}'"),
                ));
            }
        };
        // 3.x carries `schema`; 2.0 puts type/format/items/enum on the parameter itself.
        let schema = match p.get("schema") {
            Some(s) if place != "body" => Some(copy_schema(doc, s, &format!("{pat}.schema"))?),
            _ => {
                let mut s = Map::new();
                for k in [
                    "type", "format", "items", "enum", "default", "minimum", "maximum", "pattern",
                ] {
                    if let Some(x) = p.get(k) {
                        s.insert(k.to_string(), x.clone());
                    }
                }
                // `items` may refer to a definition.
                (!s.is_empty())
                    .then(|| copy_schema(doc, &Value::Object(s), &pat))
                    .transpose()?
            }
        };
        out.push((
            OperationParameter {
                name: name.to_string(),
                location,
                required,
                description,
                schema,
            },
            extra,
        ));
    }
    Ok(out)
}

fn responses(
    doc: &Doc<'_>,
    version: Version,
    o: &Map<String, Value>,
    at: &str,
) -> Result<Vec<OperationResponse>, ImportError> {
    let Some(rs) = o.get("responses") else {
        return Ok(Vec::new());
    };
    let rat = format!("{at}.responses");
    let Some(rs) = rs.as_object() else {
        return Err(err(rat, "must be an object"));
    };
    let mut out = Vec::new();
    for (status, r) in rs {
        if status.starts_with("x-") {
            continue;
        }
        let sat = format!("{rat}.{status}");
        let r = resolve(doc, r, &sat)?;
        if !r.is_object() {
            return Err(err(sat, "a Response must be an object"));
        }
        let description = r
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string);
        let content = match version {
            Version::Swagger2 => {
                let schema = r
                    .get("schema")
                    .map(|s| copy_schema(doc, s, &format!("{sat}.schema")))
                    .transpose()?;
                let examples = r.get("examples").and_then(Value::as_object);
                let mut types = produces(doc, o);
                for ct in examples.into_iter().flat_map(|e| e.keys()) {
                    push_unique(&mut types, ct);
                }
                if schema.is_none() && examples.is_none() {
                    Vec::new()
                } else {
                    types
                        .into_iter()
                        .map(|ct| Representation {
                            examples: examples
                                .and_then(|e| e.get(&ct))
                                .map(|x| json!({"default": x})),
                            content_type: ct,
                            schema: schema.clone(),
                        })
                        .collect()
                }
            }
            _ => content(doc, r.get("content"), &format!("{sat}.content"))?,
        };
        out.push(OperationResponse {
            status: status.clone(),
            description,
            content,
        });
    }
    Ok(out)
}

/// 3.x `content`: media type → schema and examples (`example` becomes `{default: …}`; named
/// `examples` keep their `value`).
fn content(doc: &Doc<'_>, v: Option<&Value>, at: &str) -> Result<Vec<Representation>, ImportError> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let Some(m) = v.as_object() else {
        return Err(err(at, "must be an object"));
    };
    let mut out = Vec::new();
    for (ct, mt) in m {
        let schema = mt
            .get("schema")
            .map(|s| copy_schema(doc, s, &format!("{at}.{ct}.schema")))
            .transpose()?;
        let examples = match (mt.get("examples"), mt.get("example")) {
            (Some(Value::Object(named)), _) => {
                let mut e = Map::new();
                for (name, x) in named {
                    let x = resolve(doc, x, &format!("{at}.{ct}.examples.{name}"))?;
                    e.insert(name.clone(), x.get("value").cloned().unwrap_or(x));
                }
                Some(Value::Object(e))
            }
            // Not the specification's shape, but found in the wild (and in the OAI's own
            // api-with-examples): a list of examples.
            (Some(Value::Array(list)), _) => Some(Value::Object(
                list.iter()
                    .enumerate()
                    .map(|(i, x)| (format!("example{}", i + 1), x.clone()))
                    .collect(),
            )),
            (_, Some(x)) => Some(json!({"default": x})),
            _ => None,
        };
        out.push(Representation {
            content_type: ct.clone(),
            schema,
            examples,
        });
    }
    Ok(out)
}

/// A `$ref`ed object (parameter, response, request body, path item) replaced by its target.
fn resolve(doc: &Value, v: &Value, at: &str) -> Result<Value, ImportError> {
    let mut v = v.clone();
    for _ in 0..MAX_INLINE_DEPTH {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return Ok(v);
        };
        v = lookup(doc, r)
            .ok_or_else(|| {
                err(
                    format!("{at}.$ref"),
                    format!("'{r}' does not resolve in this document"),
                )
            })?
            .clone();
    }
    Err(err(at, "too many nested $refs"))
}

/// The backend URL the document names, when it is absolute.
fn service_url(doc: &Value, version: Version) -> Option<String> {
    let url = match version {
        Version::Swagger2 => {
            let host = doc.get("host")?.as_str()?;
            let schemes: Vec<&str> = doc
                .get("schemes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let scheme = if schemes.contains(&"https") || schemes.is_empty() {
                "https"
            } else {
                schemes[0]
            };
            let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
            format!("{scheme}://{host}{base}")
        }
        _ => {
            let server = doc.get("servers")?.as_array()?.first()?;
            let mut url = server.get("url")?.as_str()?.to_string();
            // Server variables take their defaults.
            if let Some(Value::Object(vars)) = server.get("variables") {
                for (k, var) in vars {
                    if let Some(d) = var.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{k}}}"), d);
                    }
                }
            }
            url
        }
    };
    let url = url.trim_end_matches('/').to_string();
    url.contains("://").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schemas S0..S19 under `prefix`, each with 200 properties referring to the next: about
    /// 200^5 nodes if inlined to the depth bound, from a document of under a megabyte.
    fn reference_bomb(prefix: &str) -> Value {
        let mut schemas = Map::new();
        for i in 0..20 {
            let next = json!({"$ref": format!("{prefix}S{}", i + 1)});
            let properties: Map<String, Value> =
                (0..200).map(|p| (format!("p{p}"), next.clone())).collect();
            schemas.insert(
                format!("S{i}"),
                json!({"type": "object", "properties": properties}),
            );
        }
        json!({
            "openapi": "3.0.0",
            "info": {"title": "bomb", "version": "1"},
            "paths": {"/x": {"get": {"responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {"$ref": format!("{prefix}S0")}}}}}}}},
            "components": {"schemas": schemas.clone()},
            "x-bomb": schemas,
        })
    }

    fn nodes(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(nodes).sum::<usize>(),
            Value::Array(a) => 1 + a.iter().map(nodes).sum::<usize>(),
            _ => 1,
        }
    }

    #[test]
    fn schema_references_stay_references() {
        let doc = reference_bomb("#/components/schemas/");
        let imp = import(&doc).expect("imports");
        let schema = imp.operations[0].responses[0].content[0]
            .schema
            .clone()
            .expect("a schema");
        assert_eq!(schema, json!({"$ref": "#/components/schemas/S0"}));
        // The schemas once each: no bigger than the document's own.
        let kept = imp.schemas.as_ref().map(nodes).unwrap_or(0);
        assert_eq!(kept, nodes(&doc["components"]["schemas"]));
    }

    #[test]
    fn inlining_other_references_stops_at_the_node_budget() {
        let doc = reference_bomb("#/x-bomb/");
        let e = import(&doc).expect_err("refused");
        assert!(e.message.contains("nodes"), "{e}");
        assert_eq!(
            e.target,
            "paths./x.get.responses.200.content.application/json.schema"
        );
    }

    #[test]
    fn ids_are_sanitized_and_unique() {
        assert_eq!(sanitize("find pet by id"), "find-pet-by-id");
        assert_eq!(sanitize("get/pets/{id}"), "get-pets-id");
        let mut ids = Ids::default();
        assert_eq!(
            ids.claim(Some("a b"), "get", "/", "x").ok(),
            Some("a-b".into())
        );
        assert_eq!(
            ids.claim(Some("a/b"), "get", "/", "x").ok(),
            Some("a-b-2".into())
        );
        assert!(ids.claim(Some("a b"), "get", "/", "p").is_err());
    }

    #[test]
    fn yaml_with_numeric_status_keys_parses() {
        let doc = parse(b"openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n").expect("parses");
        let imp = import(&doc).expect("imports");
        assert_eq!(imp.operations[0].id, "get-a");
        assert_eq!(imp.operations[0].responses[0].status, "200");
    }

    #[test]
    fn templates_must_balance() {
        assert!(check_template("/a/{b}").is_ok());
        assert!(check_template("/a/{b").is_err());
        assert!(check_template("/a/{}").is_err());
    }
}
