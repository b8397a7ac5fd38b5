//! `context.…` at run time: members and methods of APIM's context objects, resolved through the
//! [`crate::Context`] trait (the schema itself is data, in crates/expr/src/features.rs).

use super::*;

pub(super) fn context_member(
    it: &mut Interp,
    path: &Arc<[Arc<str>]>,
    name: &str,
    at: usize,
) -> F<Value> {
    let mut p: Vec<&str> = path.iter().map(|s| &**s).collect();
    p.push(name);
    if is_object(&p) {
        if !it.ctx.object_exists(&p) {
            return Ok(Value::Null);
        }
        return Ok(ctx_value(&p));
    }
    if is_dictionary(&p) || is_body(&p) {
        return Ok(ctx_value(&p));
    }
    p.pop();
    if scalar_members(&p).contains(&name) {
        p.push(name);
        return Ok(it.ctx.member(&p).unwrap_or(Value::Null));
    }
    if is_dictionary(&p) {
        match name {
            "Count" => return Ok(Value::Int(it.ctx.keys(&p).len() as i64)),
            "Keys" => {
                return Ok(Value::Array(
                    it.ctx.keys(&p).into_iter().map(Value::from).collect(),
                ));
            }
            _ => {}
        }
    }
    let shown = if p.is_empty() {
        "context".to_string()
    } else {
        format!("context.{}", p.join("."))
    };
    Err(rt(
        "RuntimeBinderException",
        format!("'{shown}' does not contain a definition for '{name}'"),
        at,
    ))
}

pub(super) fn ctx_value(p: &[&str]) -> Value {
    let v: Vec<Arc<str>> = p.iter().map(|s| Arc::from(*s)).collect();
    Value::Object(Object::Context(v.into()))
}

pub(super) fn url_to_string(it: &mut Interp, p: &[&str]) -> String {
    let mut get = |m: &str| {
        let mut q = p.to_vec();
        q.push(m);
        it.ctx
            .member(&q)
            .map(|v| v.to_display())
            .unwrap_or_default()
    };
    let scheme = get("Scheme");
    let host = get("Host");
    let port = get("Port");
    let path = get("Path");
    let qs = get("QueryString");
    let default_port = matches!(
        (scheme.as_str(), port.as_str()),
        ("https", "443") | ("http", "80") | (_, "")
    );
    let mut s = format!("{scheme}://{host}");
    if !default_port {
        s.push(':');
        s.push_str(&port);
    }
    s.push_str(&path);
    s.push_str(&qs);
    s
}

/// A dictionary entry of `context` as the indexer, `TryGetValue` and enumeration give it: a
/// header's or query parameter's values as `string[]` (APIM's `IReadOnlyDictionary<string,
/// string[]>`), any other dictionary's value (variables, matched parameters) as stored.
/// `GetValueOrDefault` instead joins the values with commas, as APIM's extension does.
pub(crate) fn dictionary_entry(it: &mut Interp, p: &[&str], key: &str) -> Option<Value> {
    if matches!(p.last(), Some(&"Headers") | Some(&"Query")) {
        let values = it.ctx.lookup_values(p, key)?;
        Some(Value::Array(values.into_iter().map(Value::str).collect()))
    } else {
        it.ctx.lookup(p, key)
    }
}

pub(super) fn context_call(
    it: &mut Interp,
    path: &Arc<[Arc<str>]>,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    let p: Vec<&str> = path.iter().map(|s| &**s).collect();
    if is_dictionary(&p) {
        // Enumerable's extension methods walk the dictionary's KeyValuePairs.
        if !matches!(name, "GetValueOrDefault" | "ContainsKey") {
            return linq(
                it,
                Value::Object(Object::Context(path.clone())),
                name,
                args,
                at,
            );
        }
        let key = as_str(arg(&args, 0, at)?, at)?;
        return match name {
            "GetValueOrDefault" => {
                let found = it.ctx.lookup(&p, &key);
                let default = args.get(1).map(|(_, v)| v.clone());
                match (found, generics.first()) {
                    // APIM casts what it finds: a value of another type throws
                    // InvalidCastException, as `(T)value` does.
                    (Some(v), Some(t)) => cast(v, t, at),
                    (Some(v), None) => Ok(v),
                    (None, t) => {
                        Ok(default.unwrap_or_else(|| t.map(default_of).unwrap_or(Value::Null)))
                    }
                }
            }
            "ContainsKey" => Ok(Value::Bool(it.ctx.lookup(&p, &key).is_some())),
            _ => Err(no_member(
                &Value::Object(Object::Context(path.clone())),
                name,
                at,
            )),
        };
    }
    if is_body(&p) {
        if name == "AsFormUrlEncodedContent" {
            let preserve = match named(&args, "preserveContent", 0) {
                Some(v) => as_bool(v, at)?,
                None => false,
            };
            let text = it.ctx.body(p[0], preserve).unwrap_or_default();
            return form_decode(it, &text, at);
        }
        if name != "As" {
            return Err(rt(
                "NotSupportedException",
                format!("IMessageBody.{name} is not supported"),
                at,
            ));
        }
        let preserve = match named(&args, "preserveContent", 0) {
            Some(v) => as_bool(v, at)?,
            None => false,
        };
        let text = it.ctx.body(p[0], preserve).unwrap_or_default();
        it.charge(text.len(), at)?;
        return body_as(it, Arc::from(text), generics, at);
    }
    match (p.as_slice(), name) {
        (["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"], "ToString") => {
            Ok(Value::str(url_to_string(it, &p)))
        }
        ([], "Trace") => {
            let (src, msg) = match args.len() {
                1 => (String::new(), arg(&args, 0, at)?.to_display()),
                _ => (
                    arg(&args, 0, at)?.to_display(),
                    arg(&args, 1, at)?.to_display(),
                ),
            };
            it.ctx.trace(&src, &msg);
            Ok(Value::Null)
        }
        _ => Err(no_member(
            &Value::Object(Object::Context(path.clone())),
            name,
            at,
        )),
    }
}

pub(super) fn body_as(
    it: &mut Interp,
    text: Arc<str>,
    generics: &[TypeRef],
    at: usize,
) -> F<Value> {
    let ty = generics
        .first()
        .map(|t| t.name.as_str())
        .unwrap_or("string");
    match ty {
        "JObject" | "JToken" | "JArray" => it.charge(budget::json_parse_cost(&text), at)?,
        "XElement" | "XDocument" | "XNode" => it.charge(budget::xml_parse_cost(&text), at)?,
        "byte" => it.charge(text.len(), at)?,
        _ => {}
    }
    match ty {
        "string" => Ok(Value::String(text)),
        "JObject" | "JToken" | "JArray" => {
            let j: J = parse_lenient(&text).map_err(|e| {
                rt(
                    "JsonReaderException",
                    format!("Error reading {ty} from JsonReader: {e}"),
                    at,
                )
            })?;
            match (ty, &j) {
                ("JObject", J::Object(_)) | ("JArray", J::Array(_)) | ("JToken", _) => {
                    Ok(Value::Json(JToken::from_serde(&j)))
                }
                _ => Err(rt(
                    "JsonReaderException",
                    format!("Error reading {ty} from JsonReader: unexpected JSON type"),
                    at,
                )),
            }
        }
        // `XNode` is read as the document's root element, which is what `As<XNode>()` gives
        // (an XElement) in APIM.
        "XElement" | "XNode" => Ok(xml::element_value(xml::parse(&text, at)?)),
        "XDocument" => Ok(xml::xvalue(xml::parse_document(&text, at)?)),
        "byte" if generics.first().map(|t| t.array == 1).unwrap_or(false) => {
            Ok(Value::Bytes(text.as_bytes().to_vec()))
        }
        other => Err(rt(
            "NotSupportedException",
            format!("Body.As<{other}> is not supported"),
            at,
        )),
    }
}
