//! Changing a Newtonsoft JSON tree through its tokens (crates/expr/src/jtree.rs): `JContainer`'s
//! `Add`, `AddFirst`, `Insert`, `Remove`, `RemoveAt`, `RemoveAll`, `ReplaceAll`, `Clear`, `Merge`;
//! `JObject.Add(name, value)`/`Remove(name)`/`TryAdd`; `JToken.Remove()`/`Replace(v)`/
//! `AddAfterSelf`/`AddBeforeSelf`. A token is shared, so a change made through any handle
//! (`((JArray)body["items"]).Add(x)`) is seen through every other.
//!
//! Each rule follows Newtonsoft's source (JContainer.cs, JObject.cs, JToken.cs) and was checked
//! under Mono with crates/expr/tests/oracle:
//! ```csharp
//! var o = JObject.Parse("{\"a\":{\"b\":1}}");
//! var a = (JObject)o["a"]; a["c"] = 2;        // o: {"a":{"b":1,"c":2}}
//! new JArray(o["a"])                          // a copy: o["a"] already has a parent
//! o.Property("a").Remove();                   // o: {}
//! JObject.Parse("{\"a\":1}")["a"].Remove()    // JsonException (a property's value)
//! ```

use super::*;

/// The `JContainer`/`JObject`/`JToken` method `name` changing `j`; what C# returns (`bool` for
/// `Remove(name)`, `null` for a `void`).
pub(crate) fn json_mutate(j: &JToken, name: &str, args: &Args, at: usize) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let tree = |r: Result<(), TreeError>| r.map_err(|e| tree_err(e, at));
    // (Newtonsoft's CheckReentrancy: no change while the container's change handlers run.)
    if matches!(
        name,
        "RemoveAt" | "Clear" | "RemoveAll" | "Remove" | "ReplaceAll"
    ) {
        tree(j.check_not_busy())?;
    }
    match (name, args.len(), j.kind()) {
        // `JObject.Add(name, value)`: a new property; its name must be new.
        ("Add", 2, JKind::Object) => {
            let k = as_str(a(0)?, at)?;
            let p = JToken::new_property(&k, to_token(a(1)?, at)?).map_err(|e| tree_err(e, at))?;
            tree(j.insert(None, p))?;
        }
        ("Add", 1, _) => {
            for x in content_items(a(0)?, at)? {
                tree(j.insert(None, x))?;
            }
        }
        ("TryAdd", 2, JKind::Object) => {
            let k = as_str(a(0)?, at)?;
            if j.property(&k).is_some() {
                return Ok(Value::Bool(false));
            }
            let p = JToken::new_property(&k, to_token(a(1)?, at)?).map_err(|e| tree_err(e, at))?;
            tree(j.insert(None, p))?;
            return Ok(Value::Bool(true));
        }
        ("AddFirst", 1, _) => {
            for (k, x) in content_items(a(0)?, at)?.into_iter().enumerate() {
                tree(j.insert(Some(k), x))?;
            }
        }
        ("Insert", 2, JKind::Array) => {
            let i = as_int(a(0)?, at)?;
            let i = usize::try_from(i).map_err(|_| {
                rt(
                    "ArgumentOutOfRangeException",
                    "Index is less than 0. (Parameter 'index')",
                    at,
                )
            })?;
            tree(j.insert(Some(i), to_token(a(1)?, at)?))?;
        }
        ("Remove", 1, JKind::Object) if !matches!(a(0)?, Value::Json(_)) => {
            let k = as_str(a(0)?, at)?;
            return Ok(Value::Bool(match j.property(&k) {
                Some(p) => p.remove().map_err(|e| tree_err(e, at))?,
                None => false,
            }));
        }
        // `JArray.Remove(item)`: the item itself (by reference, as Newtonsoft finds it).
        ("Remove", 1, JKind::Array | JKind::Object) => {
            let Value::Json(item) = a(0)? else {
                return Ok(Value::Bool(false));
            };
            let mine = item.parent().is_some_and(|p| p.same(j));
            if mine {
                item.remove().map_err(|e| tree_err(e, at))?;
            }
            return Ok(Value::Bool(mine));
        }
        ("Remove", 0, _) => {
            if !j.remove().map_err(|e| tree_err(e, at))? {
                return Err(parent_missing(at));
            }
        }
        ("RemoveAt", 1, JKind::Array | JKind::Object) => {
            let i = json_idx(a(0)?, j.len(), true, at)?;
            j.remove_at(i);
        }
        ("Clear" | "RemoveAll", 0, JKind::Array | JKind::Object) => j.clear(),
        // A property's value cannot go: it has exactly one.
        ("Clear" | "RemoveAll", 0, JKind::Property) => {
            return Err(rt(
                "JsonException",
                "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
                at,
            ));
        }
        // A property's value cannot be removed: Newtonsoft's JProperty.ClearItems refuses.
        ("ReplaceAll", 1, JKind::Property) => {
            return Err(rt(
                "JsonException",
                "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.",
                at,
            ));
        }
        ("ReplaceAll", 1, JKind::Array | JKind::Object) => {
            let items = content_items(a(0)?, at)?;
            j.clear();
            for x in items {
                tree(j.insert(None, x))?;
            }
        }
        ("Merge", 1, JKind::Array | JKind::Object | JKind::Property) => {
            if let Value::Json(content) = a(0)? {
                tree(merge(j, content))?;
            }
        }
        ("Replace", 1, _) => {
            let Some(p) = j.parent() else {
                return Err(parent_missing(at));
            };
            let i = j.index_in_parent().unwrap_or(0);
            tree(p.set_child(i, to_token(a(0)?, at)?))?;
        }
        ("AddAfterSelf" | "AddBeforeSelf", 1, _) => {
            let Some(p) = j.parent() else {
                return Err(parent_missing(at));
            };
            if p.is_property() {
                return Err(rt(
                    "JsonException",
                    "Newtonsoft.Json.Linq.JProperty cannot have multiple values.",
                    at,
                ));
            }
            let i = j.index_in_parent().unwrap_or(0) + usize::from(name == "AddAfterSelf");
            for (k, x) in content_items(a(0)?, at)?.into_iter().enumerate() {
                tree(p.insert(Some(i + k), x))?;
            }
        }
        _ => return Err(no_member(&Value::Json(j.clone()), name, at)),
    }
    Ok(Value::Null)
}

/// Whether `name` changes a token (and so is charged for what it adds).
pub(crate) const JSON_MUTATORS: &[&str] = &[
    "Add",
    "TryAdd",
    "AddFirst",
    "Insert",
    "Remove",
    "RemoveAt",
    "Clear",
    "RemoveAll",
    "ReplaceAll",
    "Merge",
    "Replace",
    "AddAfterSelf",
    "AddBeforeSelf",
];

fn parent_missing(at: usize) -> Flow {
    rt("InvalidOperationException", "The parent is missing.", at)
}

/// The tokens `content` adds (`Add(content)`, `AddAfterSelf(content)`, `ReplaceAll(content)`,
/// the constructors' `params object[]`): each element of a collection, collections within it
/// flattened too, else the one value (Newtonsoft's `JContainer.AddInternal` and
/// `IsMultiContent`: any `IEnumerable` but a string, a token or a `byte[]`).
///
/// The order is the one Newtonsoft's `AddInternal` leaves: it inserts a collection's elements
/// at consecutive indexes from where the collection goes, one index per element even when an
/// element is itself a collection, so `new JArray(new[] { 1, 2 }, "x")` is `[1, "x", 2]`.
pub(crate) fn content_items(v: &Value, at: usize) -> F<Vec<JToken>> {
    let mut out = Vec::new();
    flatten(v, &mut out, 0, 0, at)?;
    Ok(out)
}

fn flatten(v: &Value, out: &mut Vec<JToken>, index: usize, depth: usize, at: usize) -> F<()> {
    match v {
        // (Nested arrays are bounded by the value's own construction; this only guards.)
        Value::Array(items) if depth < crate::jtree::MAX_DEPTH => {
            for (k, x) in items.iter().enumerate() {
                flatten(x, out, index + k, depth + 1, at)?;
            }
        }
        other => {
            let i = index.min(out.len());
            out.insert(i, to_token(other, at)?);
        }
    }
    Ok(())
}

/// `JContainer.Merge(content)` with Newtonsoft's default `JsonMergeSettings`: objects merge
/// property by property, recursively where both values are containers of one type; arrays
/// concatenate (`MergeArrayHandling.Concat`); a null in the content leaves the value it meets
/// (`MergeNullValueHandling.Ignore`); any other value replaces it. The content is copied, never
/// moved (its tokens have a parent). (Newtonsoft.Json 5 under Mono has no Merge: this follows
/// Newtonsoft 13's JContainer.MergeItem.)
fn merge(target: &JToken, content: &JToken) -> Result<(), TreeError> {
    if target.same(content) {
        return Ok(());
    }
    match (target.kind(), content.kind()) {
        (JKind::Object, JKind::Object) => {
            for p in content.children() {
                let Some(name) = p.name() else { continue };
                let Some(value) = p.property_value() else {
                    continue;
                };
                match target.property(&name) {
                    None => target.insert(None, p.deep_clone())?,
                    Some(existing) => {
                        let old = existing.property_value();
                        match old {
                            Some(o)
                                if o.is_container()
                                    && !o.is_property()
                                    && o.kind() == value.kind()
                                    && o.is_constructor() == value.is_constructor() =>
                            {
                                merge(&o, &value)?
                            }
                            _ if value.is_null() => {}
                            _ => existing.set_child(0, value.deep_clone())?,
                        }
                    }
                }
            }
        }
        // A JArray merges an array's items (not a constructor's, which is a token, not
        // content); a JConstructor merges a constructor's, taking its name.
        (JKind::Array, JKind::Array) if target.is_constructor() == content.is_constructor() => {
            if let Some(name) = content.constructor_name() {
                target.set_constructor_name(&name);
            }
            for x in content.children() {
                target.insert(None, x.deep_clone())?;
            }
        }
        // JProperty.MergeItem: the other property's value, unless it is null.
        (JKind::Property, JKind::Property) => {
            if let Some(v) = content.property_value()
                && !v.is_null()
            {
                target.set_child(0, v.deep_clone())?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `JProperty.Value = v` (the value replaced, copied if it has a parent) and `JValue.Value = v`
/// (a new scalar of a JSON type; anything else is refused as Newtonsoft's JValue cannot hold it).
pub(crate) fn json_set_value(j: &JToken, v: Value, at: usize) -> F<()> {
    match j.kind() {
        JKind::Property => j
            .set_child(0, to_token(&v, at)?)
            .map_err(|e| tree_err(e, at)),
        JKind::Value => match to_json(&v, at)? {
            s @ (J::Null | J::Bool(_) | J::Number(_) | J::String(_)) => {
                j.set_scalar(s);
                Ok(())
            }
            _ => Err(cast_err(&v, "System.IConvertible", at)),
        },
        _ => Err(rt(
            "NotSupportedException",
            "only locals and their elements can be assigned",
            at,
        )),
    }
}
