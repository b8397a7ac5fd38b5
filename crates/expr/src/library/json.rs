//! Newtonsoft JSON: values to and from `serde_json`, serialisation within the memory budget,
//! `JToken.Value<T>()` and `SelectToken` paths.

use super::*;

/// Reads a JSON scalar as a plain value (for comparisons and casts).
pub(crate) fn from_json(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        // Newtonsoft reads a JSON integer as an Int64 (a UInt64 beyond it) and a real as a
        // Double.
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Long(i),
            (None, Some(u)) => Value::ULong(u),
            _ => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::str(s),
        other => Value::Json(JToken::from_serde(other)),
    }
}

/// A token as a plain value when it is a `JValue` (for comparisons and casts), else itself.
pub(crate) fn from_token(t: &JToken) -> Value {
    match t.with_scalar(from_json) {
        Some(v) => v,
        None => Value::Json(t.clone()),
    }
}

/// A value as a token to put in a tree: a token itself (the tree decides whether it is
/// copied, as Newtonsoft's `EnsureParentToken` does), anything else converted.
pub(crate) fn to_token(v: &Value, at: usize) -> F<JToken> {
    match v {
        Value::Json(t) => Ok(t.clone()),
        other => Ok(JToken::scalar_value(to_json(other, at)?)),
    }
}

/// A refused change to a tree as the exception Newtonsoft throws.
pub(crate) fn tree_err(e: TreeError, at: usize) -> Flow {
    match e {
        TreeError::TooDeep => rt(
            "InsufficientExecutionStackException",
            format!(
                "The JSON tree would be deeper than {} tokens.",
                crate::jtree::MAX_DEPTH
            ),
            at,
        ),
        TreeError::Refused(kind, msg) => rt(kind, msg, at),
    }
}

pub(crate) fn to_json(v: &Value, at: usize) -> F<J> {
    Ok(match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) | Value::Long(i) => J::from(*i),
        Value::UInt(i) => J::from(*i),
        Value::ULong(i) => J::from(*i),
        Value::Short(i) => J::from(*i),
        Value::UShort(i) => J::from(*i),
        Value::Byte(i) => J::from(*i),
        Value::SByte(i) => J::from(*i),
        // A float or decimal is written with its own shortest digits ("1.1", not the double
        // nearest 1.1f's 1.100000023841858).
        Value::Float(_) | Value::Decimal(_) => v
            .to_display()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::Double(d) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::String(s) => J::String(s.to_string()),
        Value::Char(c) => J::String(c.to_string()),
        Value::DateTime(d) => J::String(format_datetime(*d, "o")),
        Value::DateTimeOffset(d) => J::String(d.format("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK")),
        Value::TimeSpan(_) | Value::Guid(_) => J::String(v.to_display()),
        Value::Array(a) => J::Array(a.iter().map(|x| to_json(x, at)).collect::<F<_>>()?),
        Value::Json(j) => j.to_serde(),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Object(Object::Record(r)) => {
            let mut m = serde_json::Map::new();
            for (k, v) in r.iter() {
                m.insert(k.clone(), to_json(v, at)?);
            }
            J::Object(m)
        }
        // An anonymous object serialises as an object of its members, in their order
        // (Newtonsoft reads its properties); a tuple as its ItemN fields.
        Value::Object(Object::Tuple(t)) => {
            let mut m = serde_json::Map::new();
            for (i, (n, v)) in t.names.iter().zip(&t.items).enumerate() {
                let key = match (t.kind, n) {
                    (crate::tuple::TupleKind::Anonymous, Some(n)) => n.clone(),
                    _ => format!("Item{}", i + 1),
                };
                m.insert(key, to_json(v, at)?);
            }
            J::Object(m)
        }
        Value::Object(Object::Body(b)) => J::String(b.to_string()),
        // A Dictionary serialises as an object, its keys as their ToString() (Newtonsoft's
        // default for dictionary keys).
        Value::Object(Object::Map(entries)) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries.iter() {
                m.insert(k.to_display(), to_json(v, at)?);
            }
            J::Object(m)
        }
        other => return Err(cast_err(other, "JToken", at)),
    })
}

/// JSON text within the memory budget (a capped writer: never built past it).
pub(super) fn json_text(it: &mut Interp, j: &JToken, pretty: bool, at: usize) -> F<String> {
    let room = it.room();
    budget::json_text(&j.to_serde(), pretty, room).ok_or_else(|| it.out_of_memory(at))
}

pub(super) fn json_parse(s: &str, at: usize) -> F<J> {
    parse_lenient(s).map_err(|e| rt("JsonReaderException", e.to_string(), at))
}

/// Strict JSON, or else Newtonsoft's lenient syntax (crates/expr/src/library/json_lenient.rs);
/// the error is strict parsing's.
pub(super) fn parse_lenient(s: &str) -> Result<J, serde_json::Error> {
    serde_json::from_str(s).or_else(|e| {
        super::json_lenient::strict_text(s)
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or(e)
    })
}

pub(super) fn json_value_as(j: Option<&JToken>, generics: &[TypeRef], at: usize) -> F<Value> {
    let Some(j) = j else { return Ok(Value::Null) };
    match generics.first() {
        Some(t) => {
            if j.is_null() {
                return Ok(default_of(t));
            }
            cast(Value::Json(j.clone()), t, at)
        }
        None => Ok(Value::Json(j.clone())),
    }
}

/// `JsonConvert.DeserializeObject<T>(text)`: a JSON object as a `Dictionary` (keys in document
/// order, values plain when scalar), an array as a `List`/array, anything else cast to `T`;
/// without `T` (or for a JToken type) the token itself.
pub(super) fn deserialize_as(j: J, generics: &[TypeRef], at: usize) -> F<Value> {
    let Some(t) = generics.first() else {
        return Ok(Value::Json(JToken::from_serde(&j)));
    };
    Ok(match (t.name.as_str(), j) {
        ("JObject" | "JToken" | "JArray" | "JValue" | "object", j) if t.array == 0 => {
            Value::Json(JToken::from_serde(&j))
        }
        // (A constructor, raw token or comment is no dictionary: its marker's keys stay inside.)
        ("Dictionary" | "IDictionary" | "IReadOnlyDictionary", J::Object(m))
            if crate::jtree::marker(&m).is_none() =>
        {
            map_value(
                m.into_iter()
                    .map(|(k, v)| (Value::str(k), from_json(&v)))
                    .collect(),
            )
        }
        ("List" | "IList" | "IEnumerable", J::Array(a)) => Value::Array(
            a.iter()
                .map(|x| numeric_element(x, t.args.first().map(|e| e.name.as_str()), at))
                .collect::<F<_>>()?,
        ),
        (_, J::Array(a)) if t.array > 0 => Value::Array(
            a.iter()
                .map(|x| numeric_element(x, Some(t.name.as_str()), at))
                .collect::<F<_>>()?,
        ),
        (_, J::Null) => default_of(t),
        (_, j) => cast(Value::Json(JToken::from_serde(&j)), t, at)?,
    })
}

/// An element of a deserialized `int[]`, `List<decimal>` …: a JSON number read as the element's
/// numeric type (a JSON integer is otherwise an Int64); other elements as they are.
fn numeric_element(x: &J, elem: Option<&str>, at: usize) -> F<Value> {
    match elem {
        Some(e) if x.is_number() && crate::numeric::Kind::named(e).is_some() => cast(
            Value::Json(JToken::scalar_value(x.clone())),
            &TypeRef {
                name: e.to_string(),
                args: Vec::new(),
                array: 0,
                nullable: false,
            },
            at,
        ),
        _ => Ok(from_json(x)),
    }
}
