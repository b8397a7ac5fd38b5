//! Newtonsoft's token navigation and comparison beyond indexing: `token.Value<T>()` (the
//! extension method, without a key), `JValue.Value`, `First`/`Last`, `Descendants()`,
//! `JToken.DeepEquals`, and `JProperty`'s text.
//!
//! Checked against Mono with Debian's Newtonsoft.Json (mcs/mono):
//! ```csharp
//! JObject.Parse("{\"a\":1.5}")["a"].Value<double>()             // 1.5
//! JObject.Parse("{\"a\":1}")["a"].Value<string>()               // "1"
//! JObject.Parse("{\"a\":[1,2]}").Descendants().Count()          // 4 (property, array, 1, 2)
//! JObject.Parse("{\"a\":1,\"b\":2}").First                      // "a": 1
//! new JProperty("n", "v").ToString()                            // "n": "v"
//! JToken.DeepEquals(JToken.Parse("{\"a\":1}"), JToken.Parse("{ \"a\" : 1 }")) // True
//! ```

use super::*;

/// A `JProperty`: a record with its `Name` and `Value` (as `JObject.Property` gives one).
fn property(name: &str, v: &J) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Name".to_string(), Value::str(name));
    r.insert("Value".to_string(), Value::Json(v.clone()));
    Value::Object(Object::Record(Arc::new(r)))
}

/// `First`, `Last` and `JValue.Value`; `None` for another member.
pub(crate) fn json_member(j: &J, name: &str) -> Option<Value> {
    Some(match (j, name) {
        (J::Array(a), "First") => a.first().cloned().map_or(Value::Null, Value::Json),
        (J::Array(a), "Last") => a.last().cloned().map_or(Value::Null, Value::Json),
        (J::Object(m), "First") => m.iter().next().map_or(Value::Null, |(k, v)| property(k, v)),
        (J::Object(m), "Last") => m
            .iter()
            .next_back()
            .map_or(Value::Null, |(k, v)| property(k, v)),
        // The boxed CLR value of a JValue (a JSON integer is an Int64, text a string).
        (J::Object(_) | J::Array(_), "Value") => return None,
        (j, "Value") => from_json(j),
        _ => return None,
    })
}

/// Every token under `j`, depth first in document order, as `Descendants()` lists them: a
/// JObject's properties come before their values.
fn descendants(it: &mut Interp, j: &J, out: &mut Vec<Value>, at: usize) -> F<()> {
    let push = |it: &mut Interp, out: &mut Vec<Value>, v: Value| -> F<()> {
        let size = it.size_of(&v) + SLOT;
        it.charge(size, at)?;
        out.push(v);
        Ok(())
    };
    match j {
        J::Object(m) => {
            for (k, v) in m {
                push(it, out, property(k, v))?;
                push(it, out, Value::Json(v.clone()))?;
                descendants(it, v, out, at)?;
            }
        }
        J::Array(a) => {
            for v in a {
                push(it, out, Value::Json(v.clone()))?;
                descendants(it, v, out, at)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `Value<T>()` without a key and `Descendants()`; `None` for another method.
pub(crate) fn json_method(
    it: &mut Interp,
    j: &J,
    name: &str,
    args: &Args,
    generics: &[TypeRef],
    at: usize,
) -> Option<F<Value>> {
    match name {
        "Value" if args.is_empty() => Some(json_value_as(Some(j), generics, at)),
        "Descendants" if args.is_empty() => {
            let mut out = Vec::new();
            Some(descendants(it, j, &mut out, at).map(|()| Value::Array(out)))
        }
        _ => None,
    }
}

/// `JToken.DeepEquals(a, b)`: the same structure and values; property order does not matter,
/// and an integer equals the float of the same value, as Newtonsoft compares JValues.
pub(crate) fn json_deep_equals(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_deep_equals(v, w)))
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_deep_equals(v, w))
        }
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// `JToken.DeepEquals`; `None` for another static member.
pub(crate) fn json_token_static(name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    if name != "DeepEquals" {
        return None;
    }
    Some((|| {
        let as_token = |v: &Value| match v {
            Value::Json(j) => Ok(Some(j.clone())),
            Value::Null => Ok(None),
            other => to_json(other, at).map(Some),
        };
        let a = as_token(arg(args, 0, at)?)?;
        let b = as_token(arg(args, 1, at)?)?;
        Ok(Value::Bool(match (a, b) {
            (Some(a), Some(b)) => json_deep_equals(&a, &b),
            (None, None) => true,
            _ => false,
        }))
    })())
}

/// `ToString()` of a record that stands for a .NET struct or token: a `KeyValuePair` prints
/// `[key, value]`, a `JProperty` its JSON text (`"n": "v"`, Newtonsoft's indented form).
pub(crate) fn record_display(r: &BTreeMap<String, Value>) -> Option<String> {
    if let (Some(k), Some(v)) = (r.get("Key"), r.get("Value")) {
        return Some(format!("[{}, {}]", k.to_display(), v.to_display()));
    }
    if let (Some(Value::String(n)), Some(Value::Json(v)), 2) =
        (r.get("Name"), r.get("Value"), r.len())
    {
        let name = serde_json::to_string(&**n).ok()?;
        let value = match v {
            J::Object(_) | J::Array(_) => serde_json::to_string_pretty(v).ok()?,
            _ => serde_json::to_string(v).ok()?,
        };
        return Some(format!("{name}: {value}"));
    }
    None
}
