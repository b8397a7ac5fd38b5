//! Reading and writing the layout's text files: pretty JSON, UTF-8 with or without a BOM, and
//! finding the line a key or value is on (serde_json's `Value` keeps no positions, so a problem
//! found after parsing is placed by searching the text).

use super::FileProblem;
use serde_json::{Map, Value};

/// JSON as the layout writes it: two-space indent, keys sorted, a trailing newline — the same
/// config gives the same bytes. Sorted here: the workspace builds serde_json with
/// `preserve_order` (policy expressions keep a JObject's property order, as Newtonsoft does), so
/// a map no longer sorts itself.
pub fn pretty(v: &Value) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&sorted(v))?;
    out.push(b'\n');
    Ok(out)
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

pub fn problem(file: &str, line: Option<u32>, message: impl Into<String>) -> FileProblem {
    FileProblem {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// The file as text; a UTF-8 byte order mark (Windows editors, PowerShell) is dropped.
pub fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, FileProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| problem(file, None, format!("not UTF-8: {e}")))
}

fn to_u32(n: usize) -> Option<u32> {
    u32::try_from(n).ok().filter(|n| *n > 0)
}

/// A JSON document, or its syntax error at serde_json's line.
pub fn json(file: &str, bytes: &[u8]) -> Result<Value, FileProblem> {
    let text = utf8(file, bytes)?;
    serde_json::from_str(text)
        .map_err(|e| problem(file, to_u32(e.line()), format!("invalid JSON: {e}")))
}

/// The line of a YAML error, when yaml_serde knows it.
pub fn yaml_line(e: &yaml_serde::Error) -> Option<u32> {
    e.location().and_then(|l| to_u32(l.line()))
}

/// An `*Information.json` file's ARM `properties` object: `{"properties": {...}}`, or the
/// properties object itself. The directory name is the id: a `name` beside `properties` (as
/// in an ARM body) must agree with it.
pub fn properties(
    file: &str,
    bytes: &[u8],
    id: &str,
) -> Result<(Map<String, Value>, String), FileProblem> {
    let text = utf8(file, bytes)?.to_string();
    let v = json(file, bytes)?;
    let Value::Object(mut m) = v else {
        return Err(problem(
            file,
            Some(1),
            "must be a JSON object ({\"properties\": {...}})",
        ));
    };
    if m.contains_key("properties")
        && let Some(name) = m.get("name").and_then(Value::as_str)
        && name != id
    {
        return Err(problem(
            file,
            line_of(&text, "\"name\""),
            format!(
                "'name' is '{name}' but the directory says '{id}': the directory name is the id (rename the directory to rename the resource)"
            ),
        ));
    }
    let props = match m.remove("properties") {
        Some(Value::Object(p)) => p,
        Some(Value::Null) => Map::new(),
        Some(_) => {
            return Err(problem(
                file,
                line_of(&text, "\"properties\""),
                "'properties' must be an object",
            ));
        }
        None => m,
    };
    Ok((props, text))
}

/// The 1-based line of the first occurrence of `needle` at or after line `from` (1-based).
pub fn line_from(text: &str, from: u32, needle: &str) -> Option<u32> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find(|(_, l)| l.contains(needle))
        .and_then(|(i, _)| to_u32(i + 1))
}

pub fn line_of(text: &str, needle: &str) -> Option<u32> {
    line_from(text, 1, needle)
}

/// The line of the JSON member `"key"` (the last segment of an ARM target such as
/// `properties.tls.validateCertificateChain`).
pub fn json_key_line(text: &str, target: &str) -> Option<u32> {
    let key = target.rsplit('.').next().unwrap_or(target);
    if key.is_empty() || key == "properties" {
        return None;
    }
    line_of(text, &format!("\"{key}\""))
}

/// The line of a dotted path of YAML keys (`paths./pets/{id}.get.parameters[0]`): each key
/// searched for after the line of the one before; index segments are skipped. The path keys
/// of OpenAPI documents contain dots only inside `{…}`-free names rarely, so the split is on
/// the dots that follow a known key only when the joined key is found.
pub fn yaml_path_line(text: &str, path: &str) -> Option<u32> {
    let mut line = 1u32;
    let mut found = None;
    let mut pending = String::new();
    for seg in path.split('.') {
        let seg = seg.split('[').next().unwrap_or(seg);
        let key = if pending.is_empty() {
            seg.to_string()
        } else {
            format!("{pending}.{seg}")
        };
        if key.is_empty() {
            continue;
        }
        match yaml_key(text, line, &key) {
            Some(l) => {
                line = l;
                found = Some(l);
                pending.clear();
            }
            // A key with a dot in it (`application/vnd.x+json`): try it with the next segment.
            None => pending = key,
        }
    }
    found
}

fn yaml_key(text: &str, from: u32, key: &str) -> Option<u32> {
    let forms = [
        format!("{key}:"),
        format!("'{key}':"),
        format!("\"{key}\":"),
    ];
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            forms.iter().any(|f| t.starts_with(f.as_str()))
        })
        .and_then(|(i, _)| to_u32(i + 1))
}

/// `line N` in a message (a policy XML error names the line of its document, which is the
/// file's own line).
pub fn line_in_message(message: &str) -> Option<u32> {
    let lower = message.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("line") {
        rest = &rest[i + 4..];
        let digits: String = rest
            .trim_start_matches([' ', ':'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Some(n) = digits.parse::<u32>().ok().filter(|n| *n > 0) {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_is_two_spaces_sorted_with_a_newline() {
        let out = pretty(&json!({"b": 1, "a": [true]})).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\n  \"a\": [\n    true\n  ],\n  \"b\": 1\n}\n"
        );
    }

    #[test]
    fn properties_wrapped_or_bare() {
        let (p, _) = properties("f", br#"{"properties": {"url": "x"}}"#, "x").expect("reads");
        assert_eq!(p["url"], "x");
        let (p, _) = properties("f", b"\xEF\xBB\xBF{\"url\": \"y\"}", "x").expect("reads");
        assert_eq!(p["url"], "y");
        let e =
            properties("f", b"{\n  \"properties\": {\n    \"url\": \n}\n", "x").expect_err("bad");
        assert_eq!(e.line, Some(4));
        let e = properties("f", b"{\n  \"name\": \"b\",\n  \"properties\": {}\n}", "a")
            .expect_err("renamed");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn lines_of_keys_paths_and_messages() {
        let y = "openapi: 3.0.1\npaths:\n  /a:\n    get:\n      x: 1\n  '/b/{id}':\n    get:\n      parameters:\n        - name: id\n";
        assert_eq!(
            yaml_path_line(y, "paths./b/{id}.get.parameters[0]"),
            Some(8)
        );
        assert_eq!(yaml_path_line(y, "paths./a.get"), Some(4));
        assert_eq!(
            line_in_message("policy XML: at line 7, column 3: bad"),
            Some(7)
        );
        assert_eq!(line_in_message("Line: 12 oops"), Some(12));
        assert_eq!(line_in_message("no number"), None);
        assert_eq!(
            json_key_line("{\n  \"a\": {\n    \"url\": 1\n", "properties.url"),
            Some(3)
        );
    }
}
