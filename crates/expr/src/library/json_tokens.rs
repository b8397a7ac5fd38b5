//! Newtonsoft's token navigation and comparison beyond indexing: `token.Value<T>()` (the
//! extension method, without a key), `JValue.Value`, `First`/`Last`, `Parent`, `Root`, `Path`,
//! `Next`/`Previous`, `Descendants()`/`DescendantsAndSelf()`, `AfterSelf()`/`BeforeSelf()`,
//! `Ancestors()`, `PropertyValues()`, `JArray.IndexOf`/`Contains` (by reference),
//! `JValue.CompareTo`, `JToken.DeepEquals`/`ReferenceEquals`, and Newtonsoft's `Extensions`
//! over sequences of tokens (`Values()`, `Properties()`, `Children()` …). The tokens are the
//! tree's own (crates/expr/src/jtree.rs); changing one is crates/expr/src/library/json_tree.rs.
//!
//! Checked against Mono with Debian's Newtonsoft.Json (mcs/mono; crates/expr/tests/oracle):
//! ```csharp
//! JObject.Parse("{\"a\":1.5}")["a"].Value<double>()             // 1.5
//! JObject.Parse("{\"a\":1}")["a"].Value<string>()               // "1"
//! JObject.Parse("{\"a\":[1,2]}").Descendants().Count()          // 4 (property, array, 1, 2)
//! JObject.Parse("{\"a\":1,\"b\":2}").First                      // "a": 1
//! new JProperty("n", "v").ToString()                            // "n": "v"
//! JToken.DeepEquals(JToken.Parse("{\"a\":1}"), JToken.Parse("{ \"a\" : 1 }")) // True
//! JObject.Parse("{\"a\":[{\"b\":1}]}")["a"][0]["b"].Path     // a[0].b
//! JArray.Parse("[[1,2],[3],4]").Values().Count()                // 4 (1, 2, 3 and 4)
//! new JValue("b").CompareTo(new JValue("abc"))                  // 1 (ordinal: 'b' - 'a')
//! ```

use super::*;

/// `First`, `Last` and `JValue.Value`; `None` for another member.
pub(crate) fn json_member(j: &JToken, name: &str) -> Option<Value> {
    if let Some(v) = special_member(j, name) {
        return Some(v);
    }
    Some(match (j.kind(), name) {
        (JKind::Object | JKind::Array, "First") => j.at(0).map_or(Value::Null, Value::Json),
        (JKind::Object | JKind::Array, "Last") => j
            .len()
            .checked_sub(1)
            .and_then(|i| j.at(i))
            .map_or(Value::Null, Value::Json),
        // The boxed CLR value of a JValue (a JSON integer is an Int64, text a string).
        (JKind::Value, "Value") => from_token(j),
        (JKind::Property, "Name") => Value::str(&*j.name().unwrap_or_default()),
        (JKind::Property, "Value" | "First" | "Last") => {
            j.property_value().map_or(Value::Null, Value::Json)
        }
        (JKind::Property, "Count") => Value::Int(1),
        (_, "Parent") => j.parent().map_or(Value::Null, Value::Json),
        (_, "Root") => Value::Json(j.root()),
        (_, "Next" | "Previous") => sibling(j, name == "Next").map_or(Value::Null, Value::Json),
        (_, "Path") => Value::str(path(j)),
        (JKind::Array, "IsReadOnly") => Value::Bool(false),
        _ => return None,
    })
}

/// `JValue.CompareTo(other)` as Newtonsoft's `JValue.Compare` does it: by the type of this
/// value (by the other's when this is a string and the other is not), the other converted to
/// it as `Convert` would; nulls first; strings by `string.CompareOrdinal` (the difference of the
/// first UTF-16 units that differ, else of the lengths); floats equal within Newtonsoft's
/// `MathUtils.ApproxEquals`.
fn compare_values(a: &J, b: &J, at: usize) -> F<i64> {
    let sign = |o: Option<std::cmp::Ordering>| match o {
        Some(std::cmp::Ordering::Less) => -1,
        Some(std::cmp::Ordering::Greater) => 1,
        _ => 0,
    };
    match (a, b) {
        (J::Null, J::Null) => return Ok(0),
        (_, J::Null) => return Ok(1),
        (J::Null, _) => return Ok(-1),
        _ => {}
    }
    let kind = if a.is_string() && !b.is_string() {
        b
    } else {
        a
    };
    let plain = |j: &J| from_json(j);
    Ok(match kind {
        J::String(_) => {
            let (x, y) = (plain(a).to_display(), plain(b).to_display());
            let (mut p, mut q) = (x.encode_utf16(), y.encode_utf16());
            loop {
                match (p.next(), q.next()) {
                    (Some(c), Some(d)) if c == d => continue,
                    (Some(c), Some(d)) => break i64::from(c) - i64::from(d),
                    _ => break x.encode_utf16().count() as i64 - y.encode_utf16().count() as i64,
                }
            }
        }
        J::Bool(_) => {
            let x = as_bool(&plain(a), at).or_else(|_| to_bool(&plain(a), at))?;
            let y = to_bool(&plain(b), at)?;
            sign(x.partial_cmp(&y))
        }
        J::Number(n) if n.is_i64() && a.is_i64() && b.is_i64() => {
            sign(a.as_i64().partial_cmp(&b.as_i64()))
        }
        _ => {
            let x = to_double(&plain(a), at)?;
            let y = to_double(&plain(b), at)?;
            let tolerance = (x.abs() + y.abs() + 10.0) * f64::EPSILON;
            let diff = x - y;
            if x == y || (-tolerance < diff && tolerance > diff) {
                0
            } else {
                sign(x.partial_cmp(&y))
            }
        }
    })
}

fn to_bool(v: &Value, at: usize) -> F<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        n if n.is_number() => Ok(as_f64(n, at)? != 0.0),
        Value::String(s) => parse_bool(s, at).and_then(|b| as_bool(&b, at)),
        other => Err(cast_err(other, "System.Boolean", at)),
    }
}

fn to_double(v: &Value, at: usize) -> F<f64> {
    match v {
        n if n.is_number() => as_f64(n, at),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| format_err(at)),
        other => Err(cast_err(other, "System.Double", at)),
    }
}

/// `AfterSelf()`, `BeforeSelf()` (in document order), `Ancestors()` (nearest first),
/// `AncestorsAndSelf()`, `PropertyValues()`.
fn navigate(j: &JToken, name: &str) -> Vec<JToken> {
    match name {
        "AfterSelf" | "BeforeSelf" => {
            let (Some(p), Some(i)) = (j.parent(), j.index_in_parent()) else {
                return Vec::new();
            };
            if p.is_property() {
                return Vec::new();
            }
            let all = p.children();
            if name == "AfterSelf" {
                all.into_iter().skip(i + 1).collect()
            } else {
                all.into_iter().take(i).collect()
            }
        }
        "Ancestors" => j.ancestors(),
        "AncestorsAndSelf" => {
            let mut out = vec![j.clone()];
            out.extend(j.ancestors());
            out
        }
        _ => j
            .children()
            .iter()
            .filter_map(JToken::property_value)
            .collect(),
    }
}

/// Newtonsoft's `Extensions` over a sequence of tokens (`tokens.Descendants()`,
/// `Properties()`, `Values()`, `Children()`, `Ancestors()`, `AsJEnumerable()`): each token's
/// results, in order. `None` when `items` are not all tokens or `name` is not one of them.
pub(crate) fn json_sequence_call(
    it: &mut Interp,
    items: &[Value],
    name: &str,
    args: &Args,
    generics: &[TypeRef],
    at: usize,
) -> Option<F<Value>> {
    const NAMES: &[&str] = &[
        "Ancestors",
        "AncestorsAndSelf",
        "Descendants",
        "DescendantsAndSelf",
        "Properties",
        "Values",
        "Children",
        "AsJEnumerable",
    ];
    if !NAMES.contains(&name) || !args.is_empty() {
        return None;
    }
    let tokens: Vec<&JToken> = items
        .iter()
        .map(|v| match v {
            Value::Json(j) => Some(j),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some((|| {
        let mut out = Vec::new();
        for j in tokens {
            match name {
                "AsJEnumerable" => out.push(Value::Json(j.clone())),
                "Descendants" => descendants(it, j, &mut out, at)?,
                "DescendantsAndSelf" => {
                    out.push(Value::Json(j.clone()));
                    descendants(it, j, &mut out, at)?
                }
                "Properties" => out.extend(
                    j.children()
                        .into_iter()
                        .filter(JToken::is_property)
                        .map(Value::Json),
                ),
                "Values" => out.extend(
                    token_values(std::iter::once(j))
                        .into_iter()
                        .map(Value::Json),
                ),
                "Children" => out.extend(j.children().into_iter().map(Value::Json)),
                _ => out.extend(navigate(j, name).into_iter().map(Value::Json)),
            }
            it.charge(out.len().saturating_mul(SLOT), at)?;
        }
        match (name, generics.first()) {
            ("Values", Some(ty)) => Ok(Value::Array(
                out.into_iter()
                    .map(|v| match v {
                        Value::Json(t) => convert_token(t, ty, at),
                        other => Ok(other),
                    })
                    .collect::<F<Vec<_>>>()?,
            )),
            _ => Ok(Value::Array(out)),
        }
    })())
}

/// Newtonsoft's `Extensions.Values()` over `tokens`: a JValue itself, any other token's
/// children (a JObject's are its properties).
pub(crate) fn token_values<'a>(tokens: impl Iterator<Item = &'a JToken>) -> Vec<JToken> {
    let mut out = Vec::new();
    for t in tokens {
        if t.is_container() {
            out.extend(t.children());
        } else {
            out.push(t.clone());
        }
    }
    out
}

/// Newtonsoft's `Extensions.Convert<JToken, T>`: a token that is a `T` as it is, a JValue
/// converted, anything else refused.
pub(crate) fn convert_token(t: JToken, ty: &TypeRef, at: usize) -> F<Value> {
    let v = Value::Json(t);
    if is_instance(&v, ty) {
        return Ok(v);
    }
    match &v {
        Value::Json(t) if t.is_container() => Err(rt(
            "InvalidCastException",
            format!(
                "Cannot cast {} to Newtonsoft.Json.Linq.JToken.",
                t.type_name()
            ),
            at,
        )),
        _ => json_value_as(
            match &v {
                Value::Json(t) => Some(t),
                _ => None,
            },
            std::slice::from_ref(ty),
            at,
        ),
    }
}

/// The token beside `j` in its parent (`Next`, `Previous`): none for a property's value.
fn sibling(j: &JToken, next: bool) -> Option<JToken> {
    let p = j.parent()?;
    if p.is_property() {
        return None;
    }
    let i = j.index_in_parent()?;
    let k = if next {
        i.checked_add(1)?
    } else {
        i.checked_sub(1)?
    };
    p.at(k)
}

/// Newtonsoft 13's `JToken.Path`: property names joined by `.`, array positions as `[i]`, a
/// name with a character JSONPath would read otherwise as `['name']` (escaped as a
/// single-quoted JavaScript string), as `JsonPosition.BuildPath` writes them.
pub(crate) fn path(j: &JToken) -> String {
    let mut chain: Vec<JToken> = j.ancestors();
    chain.reverse();
    chain.push(j.clone());
    let mut out = String::new();
    for (k, t) in chain.iter().enumerate() {
        match t.kind() {
            JKind::Property => {
                let name = t.name().unwrap_or_default();
                const SPECIAL: &[char] = &[
                    '.', ' ', '\'', '/', '"', '[', ']', '(', ')', '\t', '\n', '\r', '\u{c}',
                    '\u{8}', '\\', '\u{85}', '\u{2028}', '\u{2029}',
                ];
                if name.contains(SPECIAL) {
                    out.push_str("['");
                    for c in name.chars() {
                        match c {
                            '\'' => out.push_str("\\'"),
                            '\\' => out.push_str("\\\\"),
                            '\n' => out.push_str("\\n"),
                            '\r' => out.push_str("\\r"),
                            '\t' => out.push_str("\\t"),
                            '\u{c}' => out.push_str("\\f"),
                            '\u{8}' => out.push_str("\\b"),
                            c if (c as u32) < 0x20
                                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') =>
                            {
                                out.push_str(&format!("\\u{:04x}", c as u32))
                            }
                            c => out.push(c),
                        }
                    }
                    out.push_str("']");
                } else {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&name);
                }
            }
            JKind::Array => {
                if let Some(next) = chain.get(k + 1)
                    && let Some(i) = next.index_in_parent()
                {
                    out.push_str(&format!("[{i}]"));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every token under `j`, depth first in document order, as `Descendants()` lists them: a
/// JObject's properties come before their values.
fn descendants(it: &mut Interp, j: &JToken, out: &mut Vec<Value>, at: usize) -> F<()> {
    let mut failed = None;
    j.walk(&mut |t| {
        let v = Value::Json(t.clone());
        // Each token is a slot in the list (the tokens themselves are the tree's).
        match it.charge((out.len() + 1).saturating_mul(SLOT), at) {
            Ok(()) => {
                out.push(v);
                true
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `Value<T>()` without a key and `Descendants()`; `None` for another method.
pub(crate) fn json_method(
    it: &mut Interp,
    j: &JToken,
    name: &str,
    args: &Args,
    generics: &[TypeRef],
    at: usize,
) -> Option<F<Value>> {
    if let Some(r) = special_method(it, j, name, args, generics, at) {
        return Some(r);
    }
    match name {
        "Value" if args.is_empty() => Some(json_value_as(Some(j), generics, at)),
        // A change through a token that is not a local (`((JArray)o["a"]).Add(x)`): what it
        // adds is charged as growth of what the evaluation holds.
        n if JSON_MUTATORS.contains(&n) => Some((|| {
            let mut added = 0usize;
            for (_, v) in args {
                added = added.saturating_add(it.size_of(v) + SLOT);
            }
            it.grow(added, at)?;
            json_mutate(j, n, args, at)
        })()),
        "Descendants" if args.is_empty() => {
            let mut out = Vec::new();
            Some(descendants(it, j, &mut out, at).map(|()| Value::Array(out)))
        }
        "CompareTo" if args.len() == 1 && !j.is_container() => Some((|| {
            let other = match arg(args, 0, at)? {
                Value::Null => return Ok(Value::Int(1)),
                v => to_token(v, at)?,
            };
            let (Some(a), Some(b)) = (j.scalar(), other.scalar()) else {
                return Err(cast_err(
                    &Value::Json(other),
                    "Newtonsoft.Json.Linq.JValue",
                    at,
                ));
            };
            compare_values(&a, &b, at).map(Value::Int)
        })()),
        "DescendantsAndSelf" if args.is_empty() => {
            let mut out = vec![Value::Json(j.clone())];
            Some(descendants(it, j, &mut out, at).map(|()| Value::Array(out)))
        }
        "AfterSelf" | "BeforeSelf" | "Ancestors" | "AncestorsAndSelf" | "PropertyValues"
            if args.is_empty() =>
        {
            let items = navigate(j, name);
            Some(
                it.charge(items.len().saturating_mul(SLOT), at)
                    .map(|()| Value::Array(items.into_iter().map(Value::Json).collect())),
            )
        }
        // `JArray.IndexOf(item)`/`Contains(item)`: the item itself, found by reference.
        "IndexOf" | "Contains" if args.len() == 1 && j.is_array() => Some((|| {
            let i = match arg(args, 0, at)? {
                Value::Json(item) if item.parent().is_some_and(|p| p.same(j)) => {
                    item.index_in_parent()
                }
                _ => None,
            };
            Ok(match name {
                "IndexOf" => Value::Int(i.map_or(-1, |i| i as i64)),
                _ => Value::Bool(i.is_some()),
            })
        })()),
        // `Property(name, comparison)`, `GetValue(name, comparison)`: the exact name first,
        // then the first that matches ignoring case when the comparison ignores case
        // (Newtonsoft's JObject.GetValue).
        "Property" | "GetValue" if args.len() == 2 && j.is_object() => Some((|| {
            let key = as_str(arg(args, 0, at)?, at)?;
            let ignore = arg(args, 1, at)?.to_display().ends_with("IgnoreCase");
            let p = j.property(&key).or_else(|| {
                ignore
                    .then(|| {
                        j.children().into_iter().find(|p| {
                            p.name()
                                .is_some_and(|n| n.to_lowercase() == key.to_lowercase())
                        })
                    })
                    .flatten()
            });
            Ok(match (name, p) {
                (_, None) => Value::Null,
                ("Property", Some(p)) => Value::Json(p),
                (_, Some(p)) => p.property_value().map_or(Value::Null, Value::Json),
            })
        })()),
        _ => None,
    }
}

/// `JToken.DeepEquals(a, b)`: the same structure and values; property order does not matter;
/// values of different JTokenTypes differ (`1` is not `1.0`), as Newtonsoft compares JValues.
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
        // Newtonsoft's JValue.ValuesEquals: the same JTokenType (an Integer never equals a
        // Float), then the same value.
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            (None, None) => x.as_f64() == y.as_f64(),
            _ => false,
        },
        _ => a == b,
    }
}

/// `JToken.DeepEquals`, `JValue.CreateNull()`, `JValue.CreateString(s)`; `None` for another
/// static member.
pub(crate) fn json_token_static(ty: &str, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match (ty, name) {
        ("JValue", "CreateNull") if args.is_empty() => {
            return Some(Ok(Value::Json(JToken::scalar_value(J::Null))));
        }
        ("JValue", "CreateString") if args.len() == 1 => {
            return Some(match arg(args, 0, at) {
                Ok(Value::Null) => Ok(Value::Json(JToken::scalar_value(J::Null))),
                Ok(v) => as_str(v, at).map(|s| Value::Json(JToken::scalar_value(J::String(s)))),
                Err(e) => Err(e),
            });
        }
        // `object.ReferenceEquals` through a token type: the same token (or both null).
        (_, "ReferenceEquals") if args.len() == 2 => {
            return Some((|| {
                Ok(Value::Bool(match (arg(args, 0, at)?, arg(args, 1, at)?) {
                    (Value::Json(a), Value::Json(b)) => a.same(b),
                    (Value::Null, Value::Null) => true,
                    _ => false,
                }))
            })());
        }
        (_, "DeepEquals") => {}
        _ => return None,
    }
    Some((|| {
        tokens_deep_equal(arg(args, 0, at)?, arg(args, 1, at)?, at).map(Value::Bool)
    })())
}

/// `JToken.DeepEquals(a, b)` (also `JToken.EqualityComparer`'s `Equals`): a value that is not a
/// token is compared as the token it converts to; null equals null only.
pub(crate) fn tokens_deep_equal(a: &Value, b: &Value, at: usize) -> F<bool> {
    let as_token = |v: &Value| match v {
        Value::Json(j) => Ok(Some(j.to_serde())),
        Value::Null => Ok(None),
        other => to_json(other, at).map(Some),
    };
    Ok(match (as_token(a)?, as_token(b)?) {
        (Some(a), Some(b)) => json_deep_equals(&a, &b),
        (None, None) => true,
        _ => false,
    })
}

/// `ToString()` of a record that stands for a .NET struct: a `KeyValuePair` prints
/// `[key, value]`.
pub(crate) fn record_display(r: &BTreeMap<String, Value>) -> Option<String> {
    if let (Some(k), Some(v)) = (r.get("Key"), r.get("Value")) {
        return Some(format!("[{}, {}]", k.to_display(), v.to_display()));
    }
    None
}
