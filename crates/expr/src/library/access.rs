//! Element access on local values: indexers, assignment through paths, the mutating collection
//! methods (`Add`, `Remove`, …) and enumeration.

use super::*;

/// Mutating methods on a local collection (`list.Add(x)`, `obj.Add("k", v)`, `obj.Remove("k")`).
pub(crate) fn mutate(slot: &mut Value, name: &str, args: Args, at: usize) -> F<Value> {
    let a0 = args.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    match (slot, name) {
        (Value::Array(a), "Add") => a.push(a0),
        // `Array.SetValue(value, index)`.
        (Value::Array(a), "SetValue") if args.len() == 2 => {
            let i = idx(&args[1].1, a.len(), at)?;
            a[i] = a0;
        }
        (Value::Bytes(b), "SetValue") if args.len() == 2 => {
            let i = idx(&args[1].1, b.len(), at)?;
            b[i] = match a0 {
                Value::Byte(x) => x,
                other => return Err(cast_err(&other, "System.Byte", at)),
            };
        }
        (Value::Array(a), "AddRange") => a.extend(iterate_plain(a0, at)?),
        (Value::Array(a), "Clear") => a.clear(),
        // `List<T>.Sort()` in place, with `Comparer<T>.Default` (strings by culture, as
        // crates/expr/src/library/ordering.rs explains).
        (Value::Array(a), "Sort") if args.is_empty() => a.sort_by(sort_cmp),
        (Value::Array(a), "Remove") => {
            let i = a.iter().position(|x| values_equal(x, &a0));
            if let Some(i) = i {
                a.remove(i);
            }
            return Ok(Value::Bool(i.is_some()));
        }
        // `List<T>`'s index checks throw ArgumentOutOfRangeException (arrays have neither).
        (Value::Array(a), "RemoveAt") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize >= a.len() {
                return Err(arg_range(
                    "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
                    at,
                ));
            }
            a.remove(i as usize);
        }
        (Value::Array(a), "InsertRange") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize > a.len() {
                return Err(arg_range(
                    "Index must be within the bounds of the List. (Parameter 'index')",
                    at,
                ));
            }
            let items = match args.get(1) {
                Some((_, Value::Null)) | None => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'collection')",
                        at,
                    ));
                }
                Some((_, v)) => iterate_plain(v.clone(), at)?,
            };
            let i = i as usize;
            a.splice(i..i, items);
        }
        (Value::Array(a), "RemoveRange") => {
            let i = as_int(&a0, at)?;
            let n = as_int(args.get(1).map_or(&Value::Null, |(_, v)| v), at)?;
            a.drain(sub_range(a.len(), i, n, ("index", "count"), at)?);
        }
        (Value::Array(a), "Insert") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize > a.len() {
                return Err(arg_range(
                    "Index must be within the bounds of the List. (Parameter 'index')",
                    at,
                ));
            }
            a.insert(
                i as usize,
                args.get(1).map(|(_, v)| v.clone()).unwrap_or(Value::Null),
            );
        }
        (Value::Json(j), n) => return json_mutate(j, n, &args, at),
        (Value::Object(Object::Map(m)), n) => return map_mutate(Arc::make_mut(m), n, args, at),
        (v, n) => return Err(no_member(v, n, at)),
    }
    Ok(Value::Null)
}

pub(super) fn index_err(at: usize) -> Flow {
    rt(
        "IndexOutOfRangeException",
        "Index was outside the bounds of the array.",
        at,
    )
}

pub(super) fn idx(k: &Value, len: usize, at: usize) -> F<usize> {
    let i = as_int(k, at)?;
    if i < 0 || i as usize >= len {
        return Err(index_err(at));
    }
    Ok(i as usize)
}

pub(crate) fn element_mut<'a>(slot: &'a mut Value, k: &Value, at: usize) -> F<&'a mut Value> {
    // JSON children are navigated by turning the child into its own `Value::Json` view is not
    // possible without copying, so only arrays of values navigate here; JSON is handled below.
    match slot {
        Value::Array(a) => {
            let i = idx(k, a.len(), at)?;
            Ok(&mut a[i])
        }
        Value::Json(_) => Err(rt(
            "NotSupportedException",
            "nested JSON assignment goes through set_element",
            at,
        )),
        // `form["k"].Add("v")`: the entry's value, changed in place.
        Value::Object(Object::Map(m)) => map_entry_mut(Arc::make_mut(m), k, at),
        Value::Null => Err(null_ref(at)),
        other => Err(no_member(other, "this[]", at)),
    }
}

/// Assigns through a chain of indexers (`body["a"]["b"] = v`), walking arrays and JSON in place.
pub(crate) fn set_path(slot: &mut Value, keys: &[(Value, usize)], v: Value) -> F<()> {
    match keys {
        [] => Ok(()),
        [(k, at)] => set_element(slot, k.clone(), v, *at),
        [(k, at), rest @ ..] => match slot {
            // Tokens are shared: the chain is read, and the last token is changed in place.
            Value::Json(j) => {
                let mut cur = j.clone();
                for (k, at) in keys[..keys.len() - 1].iter() {
                    cur = json_child(&cur, k, *at)?;
                }
                let (last, lat) = &keys[keys.len() - 1];
                set_element(&mut Value::Json(cur), last.clone(), v, *lat)
            }
            other => set_path(element_mut(other, k, *at)?, rest, v),
        },
    }
}

/// `token[k]` for a step of an assignment's chain: the child, which must exist.
pub(super) fn json_child(j: &JToken, k: &Value, at: usize) -> F<JToken> {
    match j.kind() {
        JKind::Object => j.get(&as_str(k, at)?).ok_or_else(|| null_ref(at)),
        JKind::Array => {
            let i = json_idx(k, j.len(), false, at)?;
            j.at(i).ok_or_else(|| index_err(at))
        }
        _ => Err(no_child(j, "access", at)),
    }
}

/// A JArray position: `List<JToken>`'s range error when reading (`arr[5]`), JContainer's when
/// changing (`arr[5] = v`, `RemoveAt(5)`), as Newtonsoft throws them.
pub(crate) fn json_idx(k: &Value, len: usize, change: bool, at: usize) -> F<usize> {
    let i = as_int(k, at)?;
    if i >= 0 && (i as usize) < len {
        return Ok(i as usize);
    }
    Err(rt(
        "ArgumentOutOfRangeException",
        match (change, i < 0) {
            (false, _) => {
                "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"
            }
            (true, true) => "Index is less than 0. (Parameter 'index')",
            (true, false) => "Index is equal to or greater than Count. (Parameter 'index')",
        },
        at,
    ))
}

/// Newtonsoft's refusal to index a JValue or JProperty.
pub(super) fn no_child(j: &JToken, what: &str, at: usize) -> Flow {
    rt(
        "InvalidOperationException",
        format!("Cannot {what} child value on {}.", j.type_name()),
        at,
    )
}

pub(crate) fn set_element(slot: &mut Value, key: Value, v: Value, at: usize) -> F<()> {
    if let Some(r) = builder_set_char(slot, &key, &v, at) {
        return r;
    }
    if let Value::Object(Object::Io(io)) = slot
        && let crate::io::IoState::Misc(m) = &mut *io.state()
        && let Some(r) = misc_set_index(m, &key, v.clone(), at)
    {
        return r;
    }
    match slot {
        Value::Array(a) => {
            let i = idx(&key, a.len(), at)?;
            a[i] = v;
        }
        Value::Bytes(b) => {
            let i = idx(&key, b.len(), at)?;
            b[i] = as_int(&v, at)? as u8;
        }
        Value::Json(j) => match j.kind() {
            JKind::Object => j
                .set_property(&as_str(&key, at)?, to_token(&v, at)?)
                .map_err(|e| tree_err(e, at))?,
            JKind::Array => {
                let i = json_idx(&key, j.len(), true, at)?;
                j.set_child(i, to_token(&v, at)?)
                    .map_err(|e| tree_err(e, at))?;
            }
            _ => return Err(no_child(j, "set", at)),
        },
        Value::Object(Object::Map(m)) => map_set(Arc::make_mut(m), key, v, at)?,
        Value::Null => return Err(null_ref(at)),
        other => return Err(no_member(other, "this[]", at)),
    }
    Ok(())
}

pub(crate) fn index(it: &mut Interp, t: Value, keys: Vec<Value>, at: usize) -> F<Value> {
    let Some(k) = keys.first() else {
        return Err(index_err(at));
    };
    Ok(match &t {
        Value::String(s) => {
            let i = as_int(k, at)?;
            s.chars()
                .nth(usize::try_from(i).map_err(|_| index_err(at))?)
                .map(Value::Char)
                .ok_or_else(|| index_err(at))?
        }
        Value::Array(a) => a[idx(k, a.len(), at)?].clone(),
        Value::Bytes(b) => Value::Byte(b[idx(k, b.len(), at)?]),
        Value::Json(j) => match j.kind() {
            JKind::Object => j.get(&as_str(k, at)?).map_or(Value::Null, Value::Json),
            JKind::Array => j
                .at(json_idx(k, j.len(), false, at)?)
                .map_or(Value::Null, Value::Json),
            _ => return Err(no_child(j, "access", at)),
        },
        Value::Object(Object::Map(m)) => map_index(m, k, at)?,
        Value::Object(Object::Record(r)) if is_lookup(r) => lookup_index(r, k),
        Value::Object(Object::Io(_)) if let Some(r) = builder_char(&t, k, at) => r?,
        Value::Object(Object::Io(io))
            if let crate::io::IoState::Misc(m) = &*io.state()
                && let Some(r) = misc_index(m, k, at) =>
        {
            r?
        }
        // `reader[i]`, `reader[name]`, `reader[localName, namespaceURI]`: GetAttribute.
        Value::Object(Object::Io(io)) if io.type_name == "System.Xml.XmlReader" => {
            let args: Vec<(Option<String>, Value)> =
                keys.iter().map(|k| (None, k.clone())).collect();
            return match &mut *io.state() {
                crate::io::IoState::XmlReader(s) => {
                    xml_reader_call(it, s, "GetAttribute", &args, at)
                }
                _ => Err(no_member(&t, "this[]", at)),
            };
        }
        Value::Object(Object::Dictionary(d)) => {
            let key = k.to_display();
            match dict_get(d, &key) {
                Some(v) => v,
                None => return Err(key_missing(&key, at)),
            }
        }
        Value::Object(Object::Context(path)) => {
            let p: Vec<&str> = path.iter().map(|s| &**s).collect();
            if !is_dictionary(&p) {
                return Err(no_member(&t, "this[]", at));
            }
            let key = as_str(k, at)?;
            match super::context::dictionary_entry(it, &p, &key) {
                Some(v) => v,
                None => return Err(key_missing(&key, at)),
            }
        }
        other => return Err(no_member(other, "this[]", at)),
    })
}

/// .NET Framework's wording, without the key: a key can be a value the policy computed from
/// a secret.
pub(super) fn key_missing(_key: &str, at: usize) -> Flow {
    rt(
        "KeyNotFoundException",
        "The given key was not present in the dictionary.",
        at,
    )
}

pub(super) fn dict_get(d: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
    d.get(key).cloned().or_else(|| {
        d.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    })
}

pub(super) fn iterate_plain(v: Value, at: usize) -> F<Vec<Value>> {
    Ok(match v {
        Value::Array(a) => a,
        Value::Json(j) if j.is_array() || j.is_property() => {
            j.children().into_iter().map(Value::Json).collect()
        }
        // `foreach` over a JObject: KeyValuePair<string, JToken>s (the values the tree's).
        Value::Json(j) if j.is_object() => j
            .children()
            .into_iter()
            .map(|p| {
                let k = p.name().unwrap_or_default();
                let mut r = BTreeMap::new();
                r.insert("Name".to_string(), Value::str(&*k));
                r.insert("Key".to_string(), Value::str(&*k));
                r.insert(
                    "Value".to_string(),
                    p.property_value().map_or(Value::Null, Value::Json),
                );
                Value::Object(Object::Record(Arc::new(r)))
            })
            .collect(),
        Value::String(s) => s.chars().map(Value::Char).collect(),
        Value::Bytes(b) => b.into_iter().map(Value::Byte).collect(),
        Value::Object(Object::Dictionary(d)) => d.keys().map(Value::str).collect(),
        // A lookup (crates/expr/src/library/lookup.rs): its groups.
        Value::Object(Object::Record(r)) if is_lookup(&r) => lookup_groups(&r),
        // A group of `GroupBy` (crates/expr/src/library/linq_sets.rs): its elements.
        Value::Object(Object::Record(r)) if r.contains_key(GROUP_ITEMS) => {
            match r.get(GROUP_ITEMS) {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            }
        }
        Value::Object(Object::Map(m)) => {
            m.iter().map(|(k, v)| pair(k.clone(), v.clone())).collect()
        }
        Value::Object(Object::Io(o)) => {
            let items = {
                let state = o.state();
                builder_items(&state).or_else(|| match &*state {
                    crate::io::IoState::Misc(m) => misc_items(m),
                    _ => None,
                })
            };
            match items {
                Some(items) => items,
                None => return Err(cast_err(&Value::Object(Object::Io(o)), "IEnumerable", at)),
            }
        }
        Value::Null => return Err(null_ref(at)),
        other => return Err(cast_err(&other, "IEnumerable", at)),
    })
}

/// The elements `foreach` and LINQ walk. A dictionary (a read-only one such as a JWT's claims,
/// or one of `context`'s: headers, query, variables…) yields `KeyValuePair`s with `Key` and
/// `Value`, as C# enumerates `IReadOnlyDictionary<TKey, TValue>`.
pub(crate) fn iterate(it: &mut Interp, v: Value, at: usize) -> F<Vec<Value>> {
    // A string or byte array becomes one value per element: far larger than it was.
    match &v {
        Value::String(s) => it.charge(s.len().saturating_mul(SLOT), at)?,
        Value::Bytes(b) => it.charge(b.len().saturating_mul(SLOT), at)?,
        _ => {}
    }
    match &v {
        Value::Object(Object::Dictionary(d)) => {
            it.charge(d.len().saturating_mul(SLOT * 3), at)?;
            Ok(d.iter()
                .map(|(k, v)| pair(Value::str(k), v.clone()))
                .collect())
        }
        Value::Object(Object::Context(path)) => {
            let p: Vec<&str> = path.iter().map(|s| &**s).collect();
            if !is_dictionary(&p) {
                return iterate_plain(v, at);
            }
            let keys = it.ctx.keys(&p);
            it.charge(keys.len().saturating_mul(SLOT * 3), at)?;
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                let value = super::context::dictionary_entry(it, &p, &k).unwrap_or(Value::Null);
                out.push(pair(Value::str(&k), value));
            }
            Ok(out)
        }
        _ => iterate_plain(v, at),
    }
}
