//! OpenAPI import (`PUT apis/{a}` with `format` + `value`) and export (`GET apis/{a}?export=true`).

pub mod export;
pub mod import;
pub mod schemas;
pub mod yaml;

pub use export::Format as ExportFormat;
pub use import::{ImportError, Imported};

/// The import formats APIM names (inline document or `-link` URL).
pub fn import_format(f: &str) -> Option<bool> {
    match f {
        "openapi" | "openapi+json" | "swagger-json" => Some(false),
        "openapi-link" | "openapi+json-link" | "swagger-link-json" => Some(true),
        _ => None,
    }
}

use crate::backing::Node;
use crate::error::{ApiError, Detail};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_model::{Api, Config};
use serde_json::{Map, Value, json};

/// Largest document a `-link` import reads.
const MAX_LINKED: usize = 32 * 1024 * 1024;

fn invalid(target: String, message: String) -> ApiError {
    let mut e = ApiError::bad_request("The OpenAPI document is invalid:");
    e.details.push(Detail {
        code: "ValidationError".into(),
        target,
        message,
    });
    e
}

/// A PUT body with an import `format`: reads (or fetches) and imports the document, removes
/// `format`/`value` from the properties and fills `serviceUrl`, `displayName` and
/// `description` from the document where the body has none. `None` when there is no `format`.
pub(crate) async fn take_import(
    props: &mut Map<String, Value>,
    node: &dyn Node,
) -> Result<Option<Imported>, ApiError> {
    let format = match props.get("format") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(f)) => f.clone(),
        Some(_) => return Err(ApiError::property("properties.format", "must be a string")),
    };
    let Some(link) = import_format(&format) else {
        return Err(ApiError::property(
            "properties.format",
            format!(
                "unsupported format '{format}' (openapi, openapi+json, openapi-link, openapi+json-link, swagger-json, swagger-link-json)"
            ),
        ));
    };
    let doc = match props.remove("value") {
        Some(Value::String(s)) if link => {
            let bytes = node.fetch(&s).await.map_err(|e| {
                ApiError::property("properties.value", format!("cannot fetch '{s}': {e}"))
            })?;
            if bytes.len() > MAX_LINKED {
                return Err(ApiError::property(
                    "properties.value",
                    "the linked document is too large",
                ));
            }
            import::parse(&bytes)
        }
        Some(Value::String(s)) => import::parse(s.as_bytes()),
        // A JSON document given as an object rather than a string.
        Some(v @ Value::Object(_)) if !link => Ok(v),
        _ => {
            return Err(ApiError::property(
                "properties.value",
                if link {
                    "the document's URL is required"
                } else {
                    "the document is required"
                },
            ));
        }
    }
    .map_err(|e| invalid(doc_target(&e.target), e.message))?;
    props.remove("format");
    let imp = import::import(&doc).map_err(|e| invalid(doc_target(&e.target), e.message))?;
    let absent = |p: &Map<String, Value>, k: &str| p.get(k).is_none_or(Value::is_null);
    if absent(props, "serviceUrl")
        && absent(props, "backendId")
        && let Some(u) = &imp.service_url
    {
        props.insert("serviceUrl".into(), json!(u));
    }
    if absent(props, "displayName")
        && let Some(t) = &imp.title
    {
        props.insert("displayName".into(), json!(t));
    }
    if absent(props, "description")
        && let Some(d) = &imp.description
    {
        props.insert("description".into(), json!(d));
    }
    tracing::info!(
        operations = imp.operations.len(),
        version = ?imp.version,
        "OpenAPI import read"
    );
    Ok(Some(imp))
}

/// The target of a problem in the document: its place, or `properties.value` for the whole.
fn doc_target(t: &str) -> String {
    if t.is_empty() {
        "properties.value".into()
    } else {
        t.to_string()
    }
}

/// Replaces API `a`'s operations with the imported ones; an operation whose id still exists
/// keeps its policy (the API's own policy is untouched by the PUT).
pub fn apply_import(c: &mut Config, a: &str, imp: &Imported) {
    let Some(api) = c.apis.iter_mut().find(|x| x.id == a) else {
        return;
    };
    let old = std::mem::take(&mut api.operations);
    api.operations = imp
        .operations
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o.policies = old
                .iter()
                .find(|x| x.id.eq_ignore_ascii_case(&o.id))
                .and_then(|x| x.policies.clone());
            o
        })
        .collect();
    api.tags = imp.tags.clone();
    api.schemas = imp.schemas.clone();
}

/// `GET apis/{a}?export=true&format=…`: the document itself (JSON, or YAML for `openapi`).
pub(crate) fn export_response(api: &Api, format: Option<&str>) -> Result<Response, ApiError> {
    let f = format.unwrap_or("openapi+json");
    let Some(fmt) = ExportFormat::parse(f) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            format!("unsupported export format '{f}' (openapi+json, openapi, swagger-json)"),
        ));
    };
    Ok(match fmt {
        ExportFormat::OpenApiJson => axum::Json(export::openapi(api)).into_response(),
        ExportFormat::SwaggerJson => axum::Json(export::swagger(api)).into_response(),
        ExportFormat::OpenApiYaml => {
            let text = yaml_serde::to_string(&export::openapi(api))
                .map_err(|e| ApiError::internal(format!("YAML: {e}")))?;
            ([(header::CONTENT_TYPE, "application/yaml")], text).into_response()
        }
    })
}
