//! Schemas in an imported document: the document's reusable schemas are kept once per API
//! (`Api.schemas`, crates/model/src/config.rs) and operations keep `$ref`s to them.
//!
//! Inlining every reference into each operation made Kubernetes' 4 MB document a 454 MB
//! store and a 226 MB export (docs/openapi-import.md). Now a schema reference takes one form,
//! `#/components/schemas/NAME` (Swagger 2.0's `#/definitions/NAME` is rewritten to it), and
//! stays a reference. Other local references found inside a schema (to anything but the
//! schema map, rare and small) are still inlined, bounded by depth and by the document's node
//! budget.

use super::import::{ImportError, Version, err};
use serde_json::{Map, Value};
use std::cell::Cell;

/// The form every schema reference takes in the model, in OpenAPI 3.x export and in the portal.
pub const SCHEMAS: &str = "#/components/schemas/";
/// Swagger 2.0's form, read at import and written by the Swagger export.
pub const DEFINITIONS: &str = "#/definitions/";

/// How deep other local `$ref`s inside a schema are inlined; deeper (or cyclic) references
/// stay `$ref`s.
pub(crate) const MAX_INLINE_DEPTH: usize = 16;
/// Nodes an import may copy out of one document into the API (operations and schemas
/// together). A document holding its schemas once copies about its own size; the bound stops
/// a document whose other local references each refer to the next several times (small
/// document, gigabytes inlined).
pub(crate) const MAX_NODES: usize = 4_000_000;

/// The document being read, with what is left of its node budget.
pub(crate) struct Doc<'a> {
    pub root: &'a Value,
    pub budget: Cell<usize>,
}

impl std::ops::Deref for Doc<'_> {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.root
    }
}

/// `r` in the model's form when it refers into the schema map (`#/definitions/X` or
/// `#/components/schemas/X`, and pointers below them); `None` for any other reference.
pub fn canonical(r: &str) -> Option<String> {
    if let Some(rest) = r.strip_prefix(DEFINITIONS) {
        return Some(format!("{SCHEMAS}{rest}"));
    }
    r.starts_with(SCHEMAS).then(|| r.to_string())
}

/// A local JSON pointer (`#/components/schemas/Pet`).
pub(crate) fn lookup<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    let pointer = r.strip_prefix('#')?;
    let pointer = pointer.replace("%7B", "{").replace("%7D", "}");
    doc.pointer(&pointer)
}

/// The document's reusable schemas (`components.schemas`, or 2.0's `definitions`), their
/// references in the model's form; `None` when it has none.
pub(crate) fn shared(doc: &Doc<'_>, version: Version) -> Result<Option<Value>, ImportError> {
    let (at, map) = match version {
        Version::Swagger2 => ("definitions", doc.get("definitions")),
        _ => (
            "components.schemas",
            doc.get("components").and_then(|c| c.get("schemas")),
        ),
    };
    match map {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            let mut out = Map::new();
            for (name, s) in m {
                out.insert(name.clone(), schema(doc, s, &format!("{at}.{name}"))?);
            }
            Ok(Some(Value::Object(out)))
        }
        Some(_) => Err(err(at, "must be an object")),
    }
}

/// A copy of schema `v` for the model: references into the schema map rewritten to
/// [`SCHEMAS`] and kept, other local references inlined (cyclic, too deep or unresolvable
/// ones stay `$ref`s). Fails once the document's node budget is spent.
pub(crate) fn schema(doc: &Doc<'_>, v: &Value, at: &str) -> Result<Value, ImportError> {
    copy(doc, v, 0, &mut Vec::new()).map_err(|()| {
        err(
            at,
            format!("the document's schemas exceed {MAX_NODES} nodes once read"),
        )
    })
}

fn copy(doc: &Doc<'_>, v: &Value, depth: usize, stack: &mut Vec<String>) -> Result<Value, ()> {
    let left = doc.budget.get();
    if left == 0 {
        return Err(());
    }
    doc.budget.set(left - 1);
    Ok(match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some(c) = canonical(r) {
                    // Siblings of `$ref` (3.1 allows `description` and others) are kept.
                    let mut out = Map::new();
                    for (k, x) in m {
                        let x = if k == "$ref" {
                            Value::String(c.clone())
                        } else {
                            copy(doc, x, depth + 1, stack)?
                        };
                        out.insert(k.clone(), x);
                    }
                    return Ok(Value::Object(out));
                }
                if depth >= MAX_INLINE_DEPTH || stack.iter().any(|s| s == r) {
                    return Ok(v.clone());
                }
                let Some(target) = lookup(doc, r) else {
                    return Ok(v.clone());
                };
                stack.push(r.to_string());
                let out = copy(doc, target, depth + 1, stack);
                stack.pop();
                return out;
            }
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(k.clone(), copy(doc, x, depth + 1, stack)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| copy(doc, x, depth + 1, stack))
                .collect::<Result<_, _>>()?,
        ),
        _ => v.clone(),
    })
}

/// Rewrites every `$ref` under `v` that starts with `from` to start with `to` (the Swagger
/// export turns the model's `#/components/schemas/` into `#/definitions/`).
pub fn rewrite_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(s) if k == "$ref" => {
                        if let Some(rest) = s.strip_prefix(from) {
                            *s = format!("{to}{rest}");
                        }
                    }
                    _ => rewrite_refs(x, from, to),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, from, to)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(root: &Value, budget: usize) -> Doc<'_> {
        Doc {
            root,
            budget: Cell::new(budget),
        }
    }

    #[test]
    fn schema_references_stay_references_in_one_form() {
        let root = json!({"definitions": {"A": {"properties": {"b": {"$ref": "#/definitions/B"}}},
            "B": {"properties": {"a": {"$ref": "#/definitions/A"}}}}});
        let d = doc(&root, 100);
        let s = shared(&d, Version::Swagger2)
            .expect("reads")
            .expect("schemas");
        assert_eq!(s["A"]["properties"]["b"]["$ref"], "#/components/schemas/B");
        assert_eq!(s["B"]["properties"]["a"]["$ref"], "#/components/schemas/A");
    }

    #[test]
    fn other_local_references_are_inlined() {
        let root = json!({"x-shapes": {"Id": {"type": "integer"}}});
        let d = doc(&root, 100);
        let s = schema(&d, &json!({"items": {"$ref": "#/x-shapes/Id"}}), "s").expect("reads");
        assert_eq!(s, json!({"items": {"type": "integer"}}));
    }

    #[test]
    fn the_node_budget_bounds_a_copy() {
        let root = json!({});
        let d = doc(&root, 3);
        assert!(schema(&d, &json!({"a": {"b": {"c": 1}}}), "s").is_err());
    }

    #[test]
    fn swagger_export_rewrites_back() {
        let mut v =
            json!({"schema": {"$ref": "#/components/schemas/A"}, "x": [{"$ref": "#/other"}]});
        rewrite_refs(&mut v, SCHEMAS, DEFINITIONS);
        assert_eq!(
            v,
            json!({"schema": {"$ref": "#/definitions/A"}, "x": [{"$ref": "#/other"}]})
        );
    }
}
