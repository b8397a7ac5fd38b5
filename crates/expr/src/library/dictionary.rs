//! `Dictionary<TKey, TValue>` as policies build it, and the form body APIM reads into one
//! (`Body.AsFormUrlEncodedContent()` → `IDictionary<string, IList<string>>`) and writes back
//! (`ToFormUrlEncodedContent()`).
//!
//! Unlike the read-only context dictionaries (headers: case-insensitive, crates/expr/src/
//! library/access.rs `dict_get`), keys here compare exactly, as `Dictionary`'s default
//! comparer does, and entries keep insertion order, which .NET's `Dictionary` shows when
//! enumerated (and a form body written back must keep).
//!
//! Checked against Mono (mcs/mono):
//! ```csharp
//! var d = new Dictionary<string, string>();
//! d.Add("a", "1");
//! try { d.Add("a", "2"); } catch (Exception e) { Console.WriteLine(e.GetType().Name); }
//! // ArgumentException
//! try { var x = d["b"]; } catch (Exception e) { Console.WriteLine(e.GetType().Name); }
//! // KeyNotFoundException
//! Console.WriteLine(d.ContainsKey("A"));  // False
//! ```

use super::*;

/// The entries of a dictionary value, in insertion order, and the `StringComparer` its keys
/// are compared with (`None`: the default, exact equality).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entries {
    pub(crate) items: Vec<(Value, Value)>,
    pub(crate) comparer: Option<StringComparerKind>,
}

impl std::ops::Deref for Entries {
    type Target = Vec<(Value, Value)>;
    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl std::ops::DerefMut for Entries {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.items
    }
}

impl FromIterator<(Value, Value)> for Entries {
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(it: I) -> Self {
        Vec::from_iter(it).into()
    }
}

impl From<Vec<(Value, Value)>> for Entries {
    fn from(items: Vec<(Value, Value)>) -> Self {
        Entries {
            items,
            comparer: None,
        }
    }
}

pub(crate) fn map_value(entries: Entries) -> Value {
    Value::Object(Object::Map(Arc::new(entries)))
}

/// Whether two keys are equal under the comparer (`None`: exact equality).
pub(crate) fn keys_equal(comparer: Option<StringComparerKind>, a: &Value, b: &Value) -> bool {
    match (comparer, a, b) {
        (Some(k), Value::String(x), Value::String(y)) => k.equals(x, y),
        _ => values_equal(a, b),
    }
}

fn find(entries: &Entries, key: &Value) -> Option<usize> {
    entries
        .iter()
        .position(|(k, _)| keys_equal(entries.comparer, k, key))
}

fn key_null(at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        "Value cannot be null.\nParameter name: key",
        at,
    )
}

fn duplicate(at: usize) -> Flow {
    rt(
        "ArgumentException",
        "An item with the same key has already been added.",
        at,
    )
}

/// A `KeyValuePair<TKey, TValue>`: what enumerating a dictionary yields.
pub(crate) fn pair(k: Value, v: Value) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Key".to_string(), k);
    r.insert("Value".to_string(), v);
    Value::Object(Object::Record(Arc::new(r)))
}

/// `new KeyValuePair<K, V>(key, value)`; `None` for another type.
pub(crate) fn construct_pair(ty: &str, vals: &[Value]) -> Option<Value> {
    (ty == "KeyValuePair").then(|| {
        pair(
            vals.first().cloned().unwrap_or(Value::Null),
            vals.get(1).cloned().unwrap_or(Value::Null),
        )
    })
}

/// `d[key]`.
pub(crate) fn map_index(entries: &Entries, key: &Value, at: usize) -> F<Value> {
    if key.is_null() {
        return Err(key_null(at));
    }
    match find(entries, key) {
        Some(i) => Ok(entries[i].1.clone()),
        None => Err(key_missing(&key.to_display(), at)),
    }
}

/// The value under `key`, to change in place (`d["k"].Add(x)`, `d["k"][0] = x`).
pub(crate) fn map_entry_mut<'a>(
    entries: &'a mut Entries,
    key: &Value,
    at: usize,
) -> F<&'a mut Value> {
    if key.is_null() {
        return Err(key_null(at));
    }
    match find(entries, key) {
        Some(i) => Ok(&mut entries[i].1),
        None => Err(key_missing(&key.to_display(), at)),
    }
}

/// `d[key] = v`: replaces or adds.
pub(crate) fn map_set(entries: &mut Entries, key: Value, v: Value, at: usize) -> F<()> {
    if key.is_null() {
        return Err(key_null(at));
    }
    match find(entries, &key) {
        Some(i) => entries[i].1 = v,
        None => entries.push((key, v)),
    }
    Ok(())
}

/// `Count`, `Keys`, `Values`.
pub(crate) fn map_member(entries: &Entries, name: &str) -> Option<Value> {
    Some(match name {
        "Count" => Value::Int(entries.len() as i64),
        "Keys" => Value::Array(entries.iter().map(|(k, _)| k.clone()).collect()),
        "Values" => Value::Array(entries.iter().map(|(_, v)| v.clone()).collect()),
        _ => return None,
    })
}

/// The non-mutating methods; `None` for a name that is not one (LINQ then takes it).
pub(crate) fn map_call(
    it: &mut Interp,
    entries: &Entries,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    Ok(Some(match name {
        "ContainsKey" => {
            let k = arg(args, 0, at)?;
            if k.is_null() {
                return Err(key_null(at));
            }
            Value::Bool(find(entries, k).is_some())
        }
        "ContainsValue" => {
            let v = arg(args, 0, at)?;
            Value::Bool(entries.iter().any(|(_, x)| values_equal(x, v)))
        }
        "GetValueOrDefault" => {
            let k = arg(args, 0, at)?;
            match find(entries, k) {
                Some(i) => entries[i].1.clone(),
                None => args.get(1).map(|(_, v)| v.clone()).unwrap_or(Value::Null),
            }
        }
        "ToFormUrlEncodedContent" => Value::str(form_encode(it, entries, at)?),
        _ => return Ok(None),
    }))
}

/// `Add`, `TryAdd`, `Remove`, `Clear` on a local dictionary.
pub(crate) fn map_mutate(entries: &mut Entries, name: &str, args: Args, at: usize) -> F<Value> {
    let mut args = args.into_iter().map(|(_, v)| v);
    let k = args.next().unwrap_or(Value::Null);
    let v = args.next().unwrap_or(Value::Null);
    if name == "Clear" {
        entries.clear();
        return Ok(Value::Null);
    }
    if k.is_null() {
        return Err(key_null(at));
    }
    Ok(match name {
        "Add" | "TryAdd" => {
            if find(entries, &k).is_some() {
                if name == "Add" {
                    return Err(duplicate(at));
                }
                return Ok(Value::Bool(false));
            }
            entries.push((k, v));
            if name == "Add" {
                Value::Null
            } else {
                Value::Bool(true)
            }
        }
        "Remove" => match find(entries, &k) {
            Some(i) => {
                entries.remove(i);
                Value::Bool(true)
            }
            None => Value::Bool(false),
        },
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'Dictionary' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// `TryGetValue(key, out v)`.
pub(crate) fn map_try_get(entries: &Entries, key: &Value) -> Option<Value> {
    find(entries, key).map(|i| entries[i].1.clone())
}

/// An `application/x-www-form-urlencoded` body as APIM's `AsFormUrlEncodedContent()` reads
/// it: `&`-separated pairs, split at the first `=`, `+` is a space, `%XX` are UTF-8 bytes;
/// keys are case-sensitive and a repeated key collects its values in order. A pair without
/// `=` is a key with an empty value; empty pairs (`a=1&&b=2`) are skipped.
pub(crate) fn form_decode(it: &mut Interp, text: &str, at: usize) -> F<Value> {
    // The decoded text is no longer than the body; each pair costs a slot, a record and a list.
    let pairs = text.bytes().filter(|b| *b == b'&').count() + 1;
    it.charge(
        text.len().saturating_add(pairs.saturating_mul(4 * SLOT)),
        at,
    )?;
    let mut entries = Entries::default();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = Value::str(uri_unescape(k, true));
        let value = Value::str(uri_unescape(v, true));
        match find(&entries, &key) {
            Some(i) => {
                if let Value::Array(list) = &mut entries[i].1 {
                    list.push(value);
                }
            }
            None => entries.push((key, Value::Array(vec![value]))),
        }
    }
    Ok(map_value(entries))
}

/// `ToFormUrlEncodedContent()`: the inverse of [`form_decode`], encoding as .NET's
/// `FormUrlEncodedContent` does (`Uri.EscapeDataString`, then a space as `+`). A value that is
/// a list writes one pair per element; a single value, one pair.
pub(crate) fn form_encode(it: &mut Interp, entries: &Entries, at: usize) -> F<String> {
    let mut out = String::new();
    let put = |it: &mut Interp, out: &mut String, k: &str, v: &str| -> F<()> {
        // Escaping at most triples each byte.
        it.charge(
            out.len()
                .saturating_add(k.len().saturating_add(v.len()).saturating_mul(3))
                .saturating_add(2),
            at,
        )?;
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&uri_escape(k).replace("%20", "+"));
        out.push('=');
        out.push_str(&uri_escape(v).replace("%20", "+"));
        Ok(())
    };
    for (k, v) in entries.iter() {
        let key = it.text(k, at)?.into_owned();
        match v {
            Value::Array(list) => {
                for x in list {
                    let x = it.text(x, at)?.into_owned();
                    put(it, &mut out, &key, &x)?;
                }
            }
            other => {
                let x = it.text(other, at)?.into_owned();
                put(it, &mut out, &key, &x)?;
            }
        }
    }
    Ok(out)
}
