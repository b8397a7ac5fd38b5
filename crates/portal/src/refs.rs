//! Schemas as a reader wants them: an imported API keeps its document's shared schemas once
//! (`Api.schemas`, crates/admin/src/oas/schemas.rs) and operations refer to them with
//! `{"$ref": "#/components/schemas/NAME"}`. For display, references are replaced by what they
//! name, a few levels deep; a reference inside itself (a cycle), past the depth, or past the node
//! budget stays a `$ref` — a page must stay readable and its rendering bounded.

use serde_json::{Map, Value};

/// How many references deep a shown schema is expanded.
const DEPTH: usize = 3;
/// How many JSON nodes one shown schema may have after expansion.
const NODES: usize = 4_000;

/// `schema` with its references to `schemas` expanded for display.
pub fn expand(schema: &Value, schemas: Option<&Value>) -> Value {
    let Some(schemas) = schemas else {
        return schema.clone();
    };
    let root = serde_json::json!({ "components": { "schemas": schemas } });
    let mut budget = NODES;
    walk(schema, &root, &mut Vec::new(), &mut budget)
}

fn walk(v: &Value, root: &Value, inside: &mut Vec<String>, budget: &mut usize) -> Value {
    *budget = budget.saturating_sub(1);
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(target) = resolvable(r, root, inside, *budget)
            {
                inside.push(r.clone());
                let mut out = walk(target, root, inside, budget);
                inside.pop();
                // OpenAPI 3.1 allows keys beside `$ref` (a description, say): they win.
                if let Value::Object(o) = &mut out {
                    for (k, val) in map.iter().filter(|(k, _)| *k != "$ref") {
                        o.insert(k.clone(), val.clone());
                    }
                }
                return out;
            }
            let mut out = Map::new();
            for (k, val) in map {
                if *budget == 0 {
                    break;
                }
                out.insert(k.clone(), walk(val, root, inside, budget));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                if *budget == 0 {
                    break;
                }
                out.push(walk(item, root, inside, budget));
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

/// What `r` names, when it may be expanded here.
fn resolvable<'r>(r: &str, root: &'r Value, inside: &[String], budget: usize) -> Option<&'r Value> {
    if inside.len() >= DEPTH || inside.iter().any(|i| i == r) || budget == 0 {
        return None;
    }
    root.pointer(r.strip_prefix('#')?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_expand_and_cycles_stay_references() {
        let schemas = json!({
            "Pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Person"}}},
            "Person": {"type": "object", "properties": {"pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}},
            "a/b": {"type": "string"}
        });
        let shown = expand(&json!({"$ref": "#/components/schemas/Pet"}), Some(&schemas));
        assert_eq!(shown["type"], "object");
        assert_eq!(shown["properties"]["owner"]["type"], "object");
        // Pet inside Pet: the cycle stays a reference.
        assert_eq!(
            shown["properties"]["owner"]["properties"]["pets"]["items"],
            json!({"$ref": "#/components/schemas/Pet"})
        );
        let escaped = expand(
            &json!({"$ref": "#/components/schemas/a~1b", "description": "d"}),
            Some(&schemas),
        );
        assert_eq!(escaped, json!({"type": "string", "description": "d"}));
        let unknown = json!({"$ref": "#/components/schemas/Nope"});
        assert_eq!(expand(&unknown, Some(&schemas)), unknown);
        assert_eq!(expand(&unknown, None), unknown);
    }

    #[test]
    fn expansion_is_bounded() {
        // Each schema refers to the next twice: 2^depth growth without the bounds.
        let mut schemas = serde_json::Map::new();
        for i in 0..50 {
            let next = format!("#/components/schemas/S{}", i + 1);
            schemas.insert(
                format!("S{i}"),
                json!({"allOf": [{"$ref": next}, {"$ref": next}]}),
            );
        }
        let shown = expand(
            &json!({"$ref": "#/components/schemas/S0"}),
            Some(&Value::Object(schemas)),
        );
        let size = serde_json::to_string(&shown).expect("json").len();
        assert!(size < 10_000, "{size}");
    }
}
