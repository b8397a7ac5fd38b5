//! An API and its operations → an OpenAPI 3.0 or Swagger 2.0 document (`GET apis/{a}
//! ?export=true&format=…`). What import kept (parameters, bodies, responses, examples) is
//! written back, so import → export → import gives the same operations.

use super::schemas;
use gatehouse_model::{Api, Operation, ParameterLocation, Representation};
use serde_json::{Map, Value, json};

/// The export formats: OpenAPI 3.0 as JSON or YAML, Swagger 2.0 as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenApiJson,
    OpenApiYaml,
    SwaggerJson,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        // `+` arrives as a space when the query string was not percent-encoded.
        match s.replace(' ', "+").as_str() {
            "openapi+json" => Some(Format::OpenApiJson),
            "openapi" => Some(Format::OpenApiYaml),
            "swagger-json" => Some(Format::SwaggerJson),
            _ => None,
        }
    }
}

fn location(l: ParameterLocation) -> &'static str {
    match l {
        ParameterLocation::Path => "path",
        ParameterLocation::Query => "query",
        ParameterLocation::Header => "header",
    }
}

/// The operations an OpenAPI document can state: a real method on a path (not `*`, not `/*`).
fn exportable(api: &Api) -> impl Iterator<Item = (&Operation, String, String)> {
    api.operations.iter().filter_map(|o| {
        let method = o.method.to_ascii_lowercase();
        if !crate::oas::import::METHODS.contains(&method.as_str()) || o.url_template.contains('*') {
            return None;
        }
        Some((o, o.url_template.clone(), method))
    })
}

/// The document's path items: `paths`, and `x-ms-paths` for templates with a query part.
///
/// APIM tells operations apart by path *and* query (`POST /responses` and
/// `POST /responses?beta=true` are two operations), which OpenAPI's `paths` cannot hold: a
/// path key has no query string. Dropping the query made such operations collide in the
/// export (one lost). They go, keyed by their whole template, under `x-ms-paths`, the
/// extension APIM reads and writes for this (its import restrictions list `x-ms-paths` as a
/// supported extension); crates/admin/src/oas/import.rs reads it back.
#[derive(Default)]
struct Paths {
    plain: Map<String, Value>,
    with_query: Map<String, Value>,
}

impl Paths {
    fn insert(&mut self, template: String, method: String, op: Map<String, Value>) {
        let map = if template.contains('?') {
            &mut self.with_query
        } else {
            &mut self.plain
        };
        let item = map.entry(template).or_insert_with(|| json!({}));
        if let Some(i) = item.as_object_mut() {
            i.insert(method, Value::Object(op));
        }
    }

    /// Puts `paths` (and `x-ms-paths` when it has any) into `doc`.
    fn write(self, doc: &mut Value) {
        doc["paths"] = Value::Object(self.plain);
        if !self.with_query.is_empty() {
            doc["x-ms-paths"] = Value::Object(self.with_query);
        }
    }
}

fn info(api: &Api) -> Value {
    let mut i = json!({"title": api.display_name.clone().unwrap_or_else(|| api.id.clone()), "version": "1.0"});
    if let Some(d) = &api.description {
        i["description"] = json!(d);
    }
    i
}

fn tags(api: &Api) -> Option<Value> {
    (!api.tags.is_empty())
        .then(|| Value::Array(api.tags.iter().map(|t| json!({"name": t})).collect()))
}

fn common(o: &Operation) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("operationId".into(), json!(o.id));
    if let Some(s) = &o.display_name {
        m.insert("summary".into(), json!(s));
    }
    if let Some(d) = &o.description {
        m.insert("description".into(), json!(d));
    }
    m
}

/// OpenAPI 3.0.1.
/// A parameter's name, place, requirement and description: the same in both versions.
fn parameter_head(p: &gatehouse_model::OperationParameter) -> Value {
    let mut v = json!({"name": p.name, "in": location(p.location), "required": p.required});
    if let Some(d) = &p.description {
        v["description"] = json!(d);
    }
    v
}

pub fn openapi(api: &Api) -> Value {
    let mut paths = Paths::default();
    for (o, path, method) in exportable(api) {
        let mut m = common(o);
        if !o.parameters.is_empty() {
            let ps: Vec<Value> = o
                .parameters
                .iter()
                .map(|p| {
                    let mut v = parameter_head(p);
                    if let Some(s) = &p.schema {
                        v["schema"] = s.clone();
                    }
                    v
                })
                .collect();
            m.insert("parameters".into(), Value::Array(ps));
        }
        if let Some(r) = &o.request {
            let mut b = json!({"required": r.required, "content": content(&r.content)});
            if let Some(d) = &r.description {
                b["description"] = json!(d);
            }
            m.insert("requestBody".into(), b);
        }
        let mut responses = Map::new();
        for r in &o.responses {
            let mut v = json!({"description": r.description.clone().unwrap_or_default()});
            if !r.content.is_empty() {
                v["content"] = content(&r.content);
            }
            responses.insert(r.status.clone(), v);
        }
        if responses.is_empty() {
            responses.insert("default".into(), json!({"description": ""}));
        }
        m.insert("responses".into(), Value::Object(responses));
        paths.insert(path, method, m);
    }
    let mut doc = json!({"openapi": "3.0.1", "info": info(api)});
    paths.write(&mut doc);
    // The schemas operations refer to, once (crates/admin/src/oas/schemas.rs).
    if let Some(s) = &api.schemas {
        doc["components"] = json!({"schemas": s});
    }
    if api.backend.contains("://") {
        doc["servers"] = json!([{"url": api.backend}]);
    }
    if let Some(t) = tags(api) {
        doc["tags"] = t;
    }
    doc
}

fn content(reps: &[Representation]) -> Value {
    let mut m = Map::new();
    for r in reps {
        let mut v = json!({});
        if let Some(s) = &r.schema {
            v["schema"] = s.clone();
        }
        if let Some(Value::Object(ex)) = &r.examples {
            let named: Map<String, Value> = ex
                .iter()
                .map(|(k, x)| (k.clone(), json!({"value": x})))
                .collect();
            v["examples"] = Value::Object(named);
        }
        m.insert(r.content_type.clone(), v);
    }
    Value::Object(m)
}

/// Swagger 2.0: the first content type's schema stands for the body; a response's examples are
/// its `default` example per content type.
pub fn swagger(api: &Api) -> Value {
    let mut paths = Paths::default();
    for (o, path, method) in exportable(api) {
        let mut m = common(o);
        let mut ps: Vec<Value> = o
            .parameters
            .iter()
            .map(|p| {
                let mut v = parameter_head(p);
                // Swagger 2.0 puts a parameter's schema keywords on the parameter itself.
                if let Some(Value::Object(s)) = &p.schema {
                    for (k, x) in s {
                        v[k.as_str()] = x.clone();
                    }
                }
                v
            })
            .collect();
        if let Some(r) = &o.request {
            let mut b = json!({"name": "body", "in": "body", "required": r.required,
                "schema": r.content.first().and_then(|c| c.schema.clone()).unwrap_or(json!({}))});
            if let Some(d) = &r.description {
                b["description"] = json!(d);
            }
            ps.push(b);
            let types: Vec<&str> = r.content.iter().map(|c| c.content_type.as_str()).collect();
            if !types.is_empty() {
                m.insert("consumes".into(), json!(types));
            }
        }
        if !ps.is_empty() {
            m.insert("parameters".into(), Value::Array(ps));
        }
        let mut responses = Map::new();
        let mut produces: Vec<&str> = Vec::new();
        for r in &o.responses {
            let mut v = json!({"description": r.description.clone().unwrap_or_default()});
            if let Some(s) = r.content.first().and_then(|c| c.schema.clone()) {
                v["schema"] = s;
            }
            let mut ex = Map::new();
            for c in &r.content {
                if !produces.contains(&c.content_type.as_str()) {
                    produces.push(&c.content_type);
                }
                if let Some(x) = c
                    .examples
                    .as_ref()
                    .and_then(|e| e.as_object())
                    .and_then(|e| e.values().next())
                {
                    ex.insert(c.content_type.clone(), x.clone());
                }
            }
            if !ex.is_empty() {
                v["examples"] = Value::Object(ex);
            }
            responses.insert(r.status.clone(), v);
        }
        if responses.is_empty() {
            responses.insert("default".into(), json!({"description": ""}));
        }
        if !produces.is_empty() {
            m.insert("produces".into(), json!(produces));
        }
        m.insert("responses".into(), Value::Object(responses));
        paths.insert(path, method, m);
    }
    let mut doc = json!({"swagger": "2.0", "info": info(api)});
    paths.write(&mut doc);
    if let Some(s) = &api.schemas {
        doc["definitions"] = s.clone();
    }
    if let Some((scheme, rest)) = api.backend.split_once("://") {
        let (host, base) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        doc["host"] = json!(host);
        doc["schemes"] = json!([scheme]);
        if !base.is_empty() {
            doc["basePath"] = json!(base);
        }
    }
    if let Some(t) = tags(api) {
        doc["tags"] = t;
    }
    // Swagger 2.0 names its schema map `definitions`.
    schemas::rewrite_refs(&mut doc, schemas::SCHEMAS, schemas::DEFINITIONS);
    doc
}
