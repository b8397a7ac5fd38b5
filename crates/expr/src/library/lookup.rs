//! `Enumerable.ToLookup` and the `ILookup<K, T>` it returns: groups by key in first-seen
//! order (as .NET's `Lookup` enumerates them), each an `IGrouping` with `Key` (the record
//! `GroupBy` makes, crates/expr/src/library/linq_sets.rs); `lookup[key]` is the key's elements,
//! or an empty sequence for a key it does not hold; `Count` is the number of keys;
//! `Contains(key)`. Unlike a dictionary, a lookup takes a null key. Keys compare with the
//! `StringComparer` given, else exactly.

use super::*;

/// Where a lookup record keeps its groups.
pub(crate) const LOOKUP_GROUPS: &str = "<lookup>";
/// Where it keeps its comparer (`StringComparer` kind name), when it has one.
const LOOKUP_COMPARER: &str = "<comparer>";

/// Whether `r` is a lookup's record.
pub(crate) fn is_lookup(r: &BTreeMap<String, Value>) -> bool {
    r.contains_key(LOOKUP_GROUPS)
}

/// `source.ToLookup(key[, element][, comparer])`.
pub(crate) fn to_lookup(it: &mut Interp, items: Vec<Value>, args: &Args, at: usize) -> F<Value> {
    let key = lambda_arg(args, 0, at)?.ok_or_else(|| {
        rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'keySelector')",
            at,
        )
    })?;
    let comparer = comparer_arg(args.last().map(|(_, v)| v));
    let elem = match args.get(1) {
        Some((_, Value::Lambda(l))) => Some(l.clone()),
        _ => None,
    };
    let groups = group_by_key(it, items, &key, elem.as_ref(), comparer, at)?;
    let mut r = BTreeMap::new();
    r.insert("Count".to_string(), Value::Int(groups.len() as i64));
    r.insert(
        LOOKUP_GROUPS.to_string(),
        Value::Array(groups.into_iter().map(|(k, g)| group(k, g)).collect()),
    );
    if let Some(c) = comparer {
        r.insert(
            LOOKUP_COMPARER.to_string(),
            Value::Object(Object::Comparer(c)),
        );
    }
    Ok(Value::Object(Object::Record(Arc::new(r))))
}

fn comparer_of(r: &BTreeMap<String, Value>) -> Option<StringComparerKind> {
    comparer_arg(r.get(LOOKUP_COMPARER))
}

/// The groups of a lookup: what enumerating it yields.
pub(crate) fn lookup_groups(r: &BTreeMap<String, Value>) -> Vec<Value> {
    match r.get(LOOKUP_GROUPS) {
        Some(Value::Array(g)) => g.clone(),
        _ => Vec::new(),
    }
}

/// The group under `key`, if any.
fn find_group(r: &BTreeMap<String, Value>, key: &Value) -> Option<Value> {
    let c = comparer_of(r);
    lookup_groups(r).into_iter().find(|g| match g {
        Value::Object(Object::Record(g)) => g.get("Key").is_some_and(|k| keys_equal(c, k, key)),
        _ => false,
    })
}

/// `lookup[key]`: the key's elements, or an empty sequence.
pub(crate) fn lookup_index(r: &BTreeMap<String, Value>, key: &Value) -> Value {
    match find_group(r, key) {
        Some(Value::Object(Object::Record(g))) => g
            .get(GROUP_ITEMS)
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
        _ => Value::Array(Vec::new()),
    }
}

/// `lookup.Contains(key)`, and LINQ over its groups; `None` when `t` is not a lookup.
pub(crate) fn lookup_call(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let Value::Object(Object::Record(r)) = t else {
        return None;
    };
    if !is_lookup(r) {
        return None;
    }
    Some(match (name, args.as_slice()) {
        ("Contains", [(_, k)]) => Ok(Value::Bool(find_group(r, k).is_some())),
        ("ToString", []) => Ok(Value::str(
            "System.Linq.Lookup`2[System.Object,System.Object]",
        )),
        _ => linq(it, Value::Array(lookup_groups(r)), name, args.clone(), at),
    })
}
