//! `$filter`, `$top` and `$skip` of list requests. The filter language is a small OData subset
//! (hand-written: the OData crates on crates.io parse whole EDM models, far more than these
//! three functions): `name eq 'x'`, `contains(displayName,'x')`, `startswith(path,'x')`,
//! `endswith(…)`, `ne`, joined with `and`. Fields: `name`, `displayName`, `path` (also
//! `properties/displayName`), compared case-insensitively as APIM does.

use crate::error::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    field: String,
    op: Op,
    value: String,
}

/// A parsed `$filter`: every clause must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter(Vec<Clause>);

fn bad(msg: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "InvalidFilter",
        format!("$filter: {}", msg.into()),
    );
    e.details.push(crate::error::Detail {
        code: "InvalidFilter".into(),
        target: "$filter".into(),
        message: "supported: name|displayName|path eq|ne 'v', contains(f,'v'), startswith(f,'v'), endswith(f,'v'), joined with and".into(),
    });
    e
}

fn field(s: &str) -> Result<String, ApiError> {
    let f = s.trim().trim_start_matches("properties/");
    match f {
        "name" | "displayName" | "path" => Ok(f.to_string()),
        other => Err(bad(format!("cannot filter on '{other}'"))),
    }
}

fn literal(s: &str) -> Result<String, ApiError> {
    let t = s.trim();
    let inner = t
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .ok_or_else(|| bad(format!("expected a quoted string, found '{t}'")))?;
    // OData escapes a quote by doubling it.
    Ok(inner.replace("''", "'"))
}

/// Splits at ` and ` outside quotes.
fn split_and(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted && bytes.len() - i >= 5 && bytes[i..i + 5].eq_ignore_ascii_case(b" and ")
        {
            parts.push(&s[start..i]);
            start = i + 5;
            i += 5;
            continue;
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, ApiError> {
        let mut clauses = Vec::new();
        for part in split_and(text) {
            let p = part.trim();
            let lower = p.to_ascii_lowercase();
            let func = [
                ("contains(", Op::Contains),
                ("startswith(", Op::StartsWith),
                ("endswith(", Op::EndsWith),
            ]
            .into_iter()
            .find(|(name, _)| lower.starts_with(name));
            if let Some((name, op)) = func {
                let args = p[name.len()..]
                    .strip_suffix(')')
                    .ok_or_else(|| bad(format!("missing ')' in '{p}'")))?;
                let (f, v) = args
                    .split_once(',')
                    .ok_or_else(|| bad(format!("expected two arguments in '{p}'")))?;
                clauses.push(Clause {
                    field: field(f)?,
                    op,
                    value: literal(v)?,
                });
                continue;
            }
            let mut words = p.splitn(3, ' ');
            let (Some(f), Some(op), Some(v)) = (words.next(), words.next(), words.next()) else {
                return Err(bad(format!("cannot read '{p}'")));
            };
            let op = match op.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                other => return Err(bad(format!("operator '{other}' is not supported"))),
            };
            clauses.push(Clause {
                field: field(f)?,
                op,
                value: literal(v)?,
            });
        }
        Ok(Filter(clauses))
    }

    /// Whether a resource (its `name` and `properties`) matches.
    pub fn matches(&self, name: &str, props: &Value) -> bool {
        self.0.iter().all(|c| {
            let actual = match c.field.as_str() {
                "name" => name.to_string(),
                f => props
                    .get(f)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            }
            .to_lowercase();
            let v = c.value.to_lowercase();
            match c.op {
                Op::Eq => actual == v,
                Op::Ne => actual != v,
                Op::Contains => actual.contains(&v),
                Op::StartsWith => actual.starts_with(&v),
                Op::EndsWith => actual.ends_with(&v),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clauses() {
        let f = Filter::parse("startswith(name,'ord') and contains(properties/displayName,'API')")
            .unwrap();
        assert!(f.matches("orders", &json!({"displayName": "Orders api"})));
        assert!(!f.matches("billing", &json!({"displayName": "Orders api"})));
        let f = Filter::parse("path eq 'o''k'").unwrap();
        assert!(f.matches("x", &json!({"path": "o'k"})));
        assert!(Filter::parse("foo eq 'x'").is_err());
        assert!(Filter::parse("name gt 'x'").is_err());
        assert!(Filter::parse("contains(name 'x')").is_err());
    }
}
