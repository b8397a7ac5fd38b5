//! The LINQ operators beyond the filters and projections of linq.rs: folds (`Aggregate`),
//! grouping (`GroupBy`, `ToDictionary`), set operations (`Union`, `Intersect`, `Except`),
//! pairing (`Zip`, `SequenceEqual`), the `…While` partitions, the default-giving operators
//! (`ElementAtOrDefault`, `DefaultIfEmpty`; their `default(T)`: crates/expr/src/library/
//! linq_types.rs).
//!
//! Checked against Mono (mcs/mono):
//! ```csharp
//! new[] { 1, 2, 3 }.FirstOrDefault(x => x > 5)          // 0
//! new int[0].Aggregate((a, b) => a + b)                 // InvalidOperationException
//! new[] { 1, 2, 3 }.ElementAt(5)                        // ArgumentOutOfRangeException
//! new[] { "a", "A", "b" }.ToDictionary(s => s)          // 3 entries (ordinal keys)
//! ```

use super::*;

/// The member under which a group (`IGrouping<K, T>`, a record with its `Key`) keeps its
/// elements: not a .NET member name, so `g.Items` is not reachable from an expression.
pub(crate) const GROUP_ITEMS: &str = "<items>";

/// Calls a predicate or selector with the element, and its index when the lambda takes two
/// parameters (`Where((x, i) => …)`).
pub(crate) fn call_indexed(
    it: &mut Interp,
    l: &Lambda,
    v: &Value,
    i: usize,
    at: usize,
) -> F<Value> {
    let args = if l.def.params.len() == 2 {
        vec![v.clone(), Value::Int(i as i64)]
    } else {
        vec![v.clone()]
    };
    it.call_lambda(l, args, at)
}

fn test(it: &mut Interp, l: &Lambda, v: &Value, i: usize, at: usize) -> F<bool> {
    match call_indexed(it, l, v, i, at)? {
        Value::Bool(b) => Ok(b),
        other => Err(cast_err(&other, "System.Boolean", at)),
    }
}

fn need_lambda(args: &Args, i: usize, items: &[Value], name: &str, at: usize) -> F<Arc<Lambda>> {
    match lambda_arg(args, i, at)? {
        Some(l) => Ok(l),
        None => Err(no_member(&Value::Array(items.to_vec()), name, at)),
    }
}

fn no_elements(at: usize) -> Flow {
    rt(
        "InvalidOperationException",
        "Sequence contains no elements",
        at,
    )
}

/// Distinct values in first-seen order, the clock read as the quadratic scan goes.
pub(super) fn push_distinct(
    it: &mut Interp,
    out: &mut Vec<Value>,
    v: Value,
    eq: &Equality,
    at: usize,
) -> F<()> {
    if out.len() % 64 == 63 {
        it.check_time(at)?;
    }
    if !out.iter().any(|o| eq.eq(o, &v)) {
        out.push(v);
    }
    Ok(())
}

pub(crate) fn linq_more(
    it: &mut Interp,
    items: Vec<Value>,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    // Bytes of the result built so far, charged before each element joins it.
    let mut grown = 0usize;
    let mut grow = |it: &mut Interp, v: &Value| -> F<()> {
        grown = grown.saturating_add(it.size_of(v) + SLOT);
        it.charge(grown, at)
    };
    Ok(match name {
        "SkipWhile" | "TakeWhile" => {
            let l = need_lambda(args, 0, &items, name, at)?;
            let mut cut = items.len();
            for (i, v) in items.iter().enumerate() {
                if !test(it, &l, v, i, at)? {
                    cut = i;
                    break;
                }
            }
            let mut items = items;
            if name == "SkipWhile" {
                Value::Array(items.split_off(cut))
            } else {
                items.truncate(cut);
                Value::Array(items)
            }
        }
        "ElementAtOrDefault" => {
            let i = as_int(arg(args, 0, at)?, at)?;
            match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None => element_default(&items),
            }
        }
        "DefaultIfEmpty" => {
            if items.is_empty() {
                let d = args.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null);
                Value::Array(vec![d])
            } else {
                Value::Array(items)
            }
        }
        "LongCount" => {
            let f = lambda_arg(args, 0, at)?;
            let mut n = 0;
            for v in &items {
                if predicate(it, &f, v, at)? {
                    n += 1;
                }
            }
            Value::Long(n)
        }
        "Aggregate" => aggregate(it, items, args, at)?,
        "GroupBy" => {
            let key = need_lambda(args, 0, &items, name, at)?;
            let elem = lambda_arg(args, 1, at)?;
            let groups = group_by_key(it, items, &key, elem.as_ref(), None, at)?;
            Value::Array(groups.into_iter().map(|(k, g)| group(k, g)).collect())
        }
        "ToDictionary" => {
            let key = need_lambda(args, 0, &items, name, at)?;
            // `ToDictionary(key[, element][, comparer])`: the dictionary keeps the comparer.
            let comparer = comparer_arg(args.last().map(|(_, v)| v));
            let val = match args.get(1) {
                Some((_, Value::Object(Object::Comparer(_)))) => None,
                _ => lambda_arg(args, 1, at)?,
            };
            let mut entries = Entries {
                items: Vec::new(),
                comparer,
            };
            for v in items {
                let k = it.call_lambda(&key, vec![v.clone()], at)?;
                let e = match &val {
                    Some(l) => it.call_lambda(l, vec![v], at)?,
                    None => v,
                };
                grow(it, &k)?;
                grow(it, &e)?;
                map_set_new(&mut entries, k, e, at)?;
            }
            map_value(entries)
        }
        "Union" | "Intersect" | "Except" => {
            let other = iterate(it, arg(args, 0, at)?.clone(), at)?;
            // `Union(other, comparer)` … (crates/expr/src/library/equality.rs).
            let eq = equality_arg(args.get(1).map(|(_, v)| v));
            let mut out = Vec::new();
            match name {
                "Union" => {
                    for v in items.into_iter().chain(other) {
                        grow(it, &v)?;
                        push_distinct(it, &mut out, v, &eq, at)?;
                    }
                }
                _ => {
                    let keep = name == "Intersect";
                    for (i, v) in items.into_iter().enumerate() {
                        if i % 64 == 63 {
                            it.check_time(at)?;
                        }
                        if other.iter().any(|o| eq.eq(o, &v)) == keep {
                            push_distinct(it, &mut out, v, &eq, at)?;
                        }
                    }
                }
            }
            Value::Array(out)
        }
        "Zip" => {
            let other = iterate(it, arg(args, 0, at)?.clone(), at)?;
            let f = lambda_arg(args, 1, at)?;
            let mut out = Vec::new();
            for (a, b) in items.into_iter().zip(other) {
                let r = match &f {
                    Some(l) => it.call_lambda(l, vec![a, b], at)?,
                    None => Value::Object(Object::Tuple(Arc::new(crate::tuple::Tuple {
                        items: vec![a, b],
                        names: vec![Some("First".into()), Some("Second".into())],
                        kind: crate::tuple::TupleKind::Value,
                    }))),
                };
                grow(it, &r)?;
                out.push(r);
            }
            Value::Array(out)
        }
        "Join" | "GroupJoin" => return join(it, items, name == "GroupJoin", args, at),
        "SequenceEqual" => {
            let other = iterate(it, arg(args, 0, at)?.clone(), at)?;
            let eq = equality_arg(args.get(1).map(|(_, v)| v));
            Value::Bool(
                items.len() == other.len() && items.iter().zip(&other).all(|(a, b)| eq.eq(a, b)),
            )
        }
        _ => return Err(no_member(&Value::Array(items), name, at)),
    })
}

/// `outer.Join(inner, outerKey, innerKey, result)` and `GroupJoin`: for each outer element in
/// order, its matches among the inner elements in their order (`Join`: one result per pair;
/// `GroupJoin`: one result with the sequence of matches, possibly empty). A null key matches
/// nothing, as .NET's lookup leaves null keys out.
fn join(it: &mut Interp, outer: Vec<Value>, group: bool, args: &Args, at: usize) -> F<Value> {
    let inner = iterate(it, arg(args, 0, at)?.clone(), at)?;
    let need = |i: usize| -> F<Arc<Lambda>> {
        lambda_arg(args, i, at)?.ok_or_else(|| {
            rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'keySelector')",
                at,
            )
        })
    };
    let (ok, ik, result) = (need(1)?, need(2)?, need(3)?);
    let mut inner_keyed = Vec::with_capacity(inner.len());
    let mut grown = 0usize;
    for v in inner {
        let k = it.call_lambda(&ik, vec![v.clone()], at)?;
        grown = grown.saturating_add(it.size_of(&k) + SLOT);
        it.charge(grown, at)?;
        inner_keyed.push((k, v));
    }
    let mut out = Vec::new();
    for (n, o) in outer.into_iter().enumerate() {
        if n % 64 == 63 {
            it.check_time(at)?;
        }
        let k = it.call_lambda(&ok, vec![o.clone()], at)?;
        let matches: Vec<Value> = if k.is_null() {
            Vec::new()
        } else {
            inner_keyed
                .iter()
                .filter(|(ik, _)| !ik.is_null() && values_equal(ik, &k))
                .map(|(_, v)| v.clone())
                .collect()
        };
        if group {
            let bytes = matches
                .iter()
                .map(|v| it.size_of(v) + SLOT)
                .fold(0usize, usize::saturating_add);
            it.charge(bytes, at)?;
            let r = it.call_lambda(&result, vec![o, Value::Array(matches)], at)?;
            grown = grown.saturating_add(it.size_of(&r) + SLOT);
            it.charge(grown, at)?;
            out.push(r);
        } else {
            for m in matches {
                let r = it.call_lambda(&result, vec![o.clone(), m], at)?;
                grown = grown.saturating_add(it.size_of(&r) + SLOT);
                it.charge(grown, at)?;
                out.push(r);
            }
        }
    }
    Ok(Value::Array(out))
}

/// `Aggregate(func)`, `Aggregate(seed, func)`, `Aggregate(seed, func, resultSelector)`.
fn aggregate(it: &mut Interp, items: Vec<Value>, args: &Args, at: usize) -> F<Value> {
    let (mut acc, func, result, rest) = match args.len() {
        1 => {
            let func = need_lambda(args, 0, &items, "Aggregate", at)?;
            let mut items = items.into_iter();
            let Some(first) = items.next() else {
                return Err(no_elements(at));
            };
            (first, func, None, items.collect::<Vec<_>>())
        }
        _ => {
            let seed = arg(args, 0, at)?.clone();
            let func = need_lambda(args, 1, &items, "Aggregate", at)?;
            (seed, func, lambda_arg(args, 2, at)?, items)
        }
    };
    for v in rest {
        acc = it.call_lambda(&func, vec![acc, v], at)?;
        // The accumulator may grow with each step (a string built up): charged as it goes.
        let size = it.size_of(&acc);
        it.charge(size, at)?;
    }
    match result {
        Some(l) => it.call_lambda(&l, vec![acc], at),
        None => Ok(acc),
    }
}

/// `items` grouped by `key` (each element mapped by `elem`), the groups in the order their
/// keys first appear (`GroupBy`, `ToLookup`); `comparer` compares string keys. What is built
/// is charged as it grows.
pub(crate) fn group_by_key(
    it: &mut Interp,
    items: Vec<Value>,
    key: &Arc<Lambda>,
    elem: Option<&Arc<Lambda>>,
    comparer: Option<StringComparerKind>,
    at: usize,
) -> F<Vec<(Value, Vec<Value>)>> {
    let mut grown = 0usize;
    let mut grow = |it: &mut Interp, v: &Value| -> F<()> {
        grown = grown.saturating_add(it.size_of(v) + SLOT);
        it.charge(grown, at)
    };
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for (i, v) in items.into_iter().enumerate() {
        if i % 64 == 63 {
            it.check_time(at)?;
        }
        let k = it.call_lambda(key, vec![v.clone()], at)?;
        let e = match elem {
            Some(l) => it.call_lambda(l, vec![v], at)?,
            None => v,
        };
        grow(it, &e)?;
        match groups
            .iter_mut()
            .find(|(gk, _)| keys_equal(comparer, gk, &k))
        {
            Some((_, g)) => g.push(e),
            None => {
                grow(it, &k)?;
                groups.push((k, vec![e]));
            }
        }
    }
    Ok(groups)
}

/// An `IGrouping<K, T>`: its `Key`, and its elements for LINQ (crates/expr/src/library/
/// access.rs `iterate_plain`).
pub(crate) fn group(key: Value, items: Vec<Value>) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Key".to_string(), key);
    r.insert(GROUP_ITEMS.to_string(), Value::Array(items));
    Value::Object(Object::Record(Arc::new(r)))
}

/// Adds a new key as `Dictionary.Add` does: a null key or a duplicate throws.
fn map_set_new(entries: &mut Entries, k: Value, v: Value, at: usize) -> F<()> {
    if matches!(k, Value::Null) {
        return Err(rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: key",
            at,
        ));
    }
    if entries
        .iter()
        .any(|(e, _)| keys_equal(entries.comparer, e, &k))
    {
        return Err(rt(
            "ArgumentException",
            "An item with the same key has already been added.",
            at,
        ));
    }
    entries.push((k, v));
    Ok(())
}
