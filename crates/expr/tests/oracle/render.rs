//! Gatehouse's side of the canonical rendering the C# harness prints (Harness.Render in
//! crates/expr/tests/oracle/harness.cs), and the type *families* both sides are compared by:
//! gatehouse holds every integer as 64 bits and float/double/decimal as one double, so an exact
//! .NET type name is only compared within a family.

use base64::Engine;
use gatehouse_expr::{Object, Value};

/// Escapes like the harness's `Esc`, so a result stays on one output line.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// The rendering of a gatehouse value, as `Harness.Render` renders the C# one.
pub fn render(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::String(s) => esc(s),
        Value::Char(c) => esc(&c.to_string()),
        // A JProperty prints as the harness's Formatting.None does (`"n":1`).
        Value::Json(j) => esc(&j.to_json_text(false)),
        Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(Object::Dictionary(d)) => {
            let parts: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("[{}, {}]", esc(k), render(v)))
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(Object::Match(m)) => esc(&m.value),
        // A JProperty is a JToken: the harness prints it with Formatting.None (`"n":1`); a
        // KeyValuePair as `[key, value]`, each part rendered.
        Value::Object(Object::Record(r)) if v.type_name() == "Newtonsoft.Json.Linq.JProperty" => {
            match (r.get("Name"), r.get("Value")) {
                (Some(n), Some(Value::Json(j))) => esc(&format!(
                    "{}:{}",
                    serde_json::to_string(&n.to_display()).unwrap_or_default(),
                    serde_json::to_string(&j.to_serde()).unwrap_or_default()
                )),
                _ => esc(&v.to_display()),
            }
        }
        Value::Object(Object::Record(r))
            if v.type_name() == "System.Collections.Generic.KeyValuePair`2" =>
        {
            match (r.get("Key"), r.get("Value")) {
                (Some(k), Some(x)) => format!("[{}, {}]", render(k), render(x)),
                _ => esc(&v.to_display()),
            }
        }
        other => esc(&other.to_display()),
    }
}

/// Which family a .NET type name (as `GetType().FullName` prints it) belongs to.
pub fn family_of_dotnet(name: &str) -> String {
    let short = name.strip_prefix("System.").unwrap_or(name);
    match short {
        "Int16" | "Int32" | "Int64" | "Byte" | "SByte" | "UInt16" | "UInt32" | "UInt64" => {
            return "int".into();
        }
        "Double" | "Single" | "Decimal" => return "float".into(),
        _ => {}
    }
    let sequence = (name.ends_with("[]") && name != "System.Byte[]")
        || name.starts_with("System.Linq.")
        || name.starts_with("System.Collections.");
    if sequence {
        return "seq".into();
    }
    name.into()
}

/// The family of a gatehouse value (see [`family_of_dotnet`]).
pub fn family_of_value(v: &Value) -> String {
    match v {
        v if v.is_number() => family_of_dotnet(v.type_name()),
        Value::Array(_) | Value::Object(Object::Dictionary(_)) => "seq".into(),
        other => other.type_name().into(),
    }
}
