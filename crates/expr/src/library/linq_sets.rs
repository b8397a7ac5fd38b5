//! The LINQ operators beyond the filters and projections of linq.rs: folds (`Aggregate`),
//! grouping (`GroupBy`, `ToDictionary`), set operations (`Union`, `Intersect`, `Except`),
//! pairing (`Zip`, `SequenceEqual`), the `…While` partitions, the default-giving operators
//! (`ElementAtOrDefault`, `DefaultIfEmpty`), `OfType<T>`/`Cast<T>` and `Enumerable`'s factories.
//!
//! gatehouse holds a sequence without its static element type, so `default(T)` is read from the
//! elements (an `int` sequence gives 0) or, for an empty sequence, from what the interpreter
//! could see of the source (`new int[0]`, `Enumerable.Empty<int>()`; crates/expr/src/interp/
//! calls.rs passes it as the call's generic argument).
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

/// `default(T)` of a sequence's element type, read from its elements (see the module note).
pub(crate) fn element_default(items: &[Value]) -> Value {
    match items.iter().find(|v| !matches!(v, Value::Null)) {
        Some(Value::Int(_)) => Value::Int(0),
        Some(Value::Double(_)) => Value::Double(0.0),
        Some(Value::Bool(_)) => Value::Bool(false),
        Some(Value::Char(_)) => Value::Char('\0'),
        Some(Value::DateTime(_)) => Value::DateTime(DateTime(0)),
        Some(Value::TimeSpan(_)) => Value::TimeSpan(TimeSpan(0)),
        Some(Value::Guid(_)) => Value::Guid(0),
        _ => Value::Null,
    }
}

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
fn push_distinct(it: &mut Interp, out: &mut Vec<Value>, v: Value, at: usize) -> F<()> {
    if out.len() % 64 == 63 {
        it.check_time(at)?;
    }
    if !out.iter().any(|o| values_equal(o, &v)) {
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
            Value::Int(n)
        }
        "Aggregate" => aggregate(it, items, args, at)?,
        "GroupBy" => {
            let key = need_lambda(args, 0, &items, name, at)?;
            let elem = lambda_arg(args, 1, at)?;
            let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
            for (i, v) in items.into_iter().enumerate() {
                if i % 64 == 63 {
                    it.check_time(at)?;
                }
                let k = it.call_lambda(&key, vec![v.clone()], at)?;
                let e = match &elem {
                    Some(l) => it.call_lambda(l, vec![v], at)?,
                    None => v,
                };
                grow(it, &e)?;
                match groups.iter_mut().find(|(gk, _)| values_equal(gk, &k)) {
                    Some((_, g)) => g.push(e),
                    None => {
                        grow(it, &k)?;
                        groups.push((k, vec![e]));
                    }
                }
            }
            Value::Array(groups.into_iter().map(|(k, g)| group(k, g)).collect())
        }
        "ToDictionary" => {
            let key = need_lambda(args, 0, &items, name, at)?;
            let val = lambda_arg(args, 1, at)?;
            let mut entries: Vec<(Value, Value)> = Vec::new();
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
            let mut out = Vec::new();
            match name {
                "Union" => {
                    for v in items.into_iter().chain(other) {
                        grow(it, &v)?;
                        push_distinct(it, &mut out, v, at)?;
                    }
                }
                _ => {
                    let keep = name == "Intersect";
                    for (i, v) in items.into_iter().enumerate() {
                        if i % 64 == 63 {
                            it.check_time(at)?;
                        }
                        if other.iter().any(|o| values_equal(o, &v)) == keep {
                            push_distinct(it, &mut out, v, at)?;
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
                    }))),
                };
                grow(it, &r)?;
                out.push(r);
            }
            Value::Array(out)
        }
        "SequenceEqual" => {
            let other = iterate(it, arg(args, 0, at)?.clone(), at)?;
            Value::Bool(
                items.len() == other.len()
                    && items.iter().zip(&other).all(|(a, b)| values_equal(a, b)),
            )
        }
        _ => return Err(no_member(&Value::Array(items), name, at)),
    })
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

/// An `IGrouping<K, T>`: its `Key`, and its elements for LINQ (crates/expr/src/library/
/// access.rs `iterate_plain`).
fn group(key: Value, items: Vec<Value>) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Key".to_string(), key);
    r.insert(GROUP_ITEMS.to_string(), Value::Array(items));
    Value::Object(Object::Record(Arc::new(r)))
}

/// Adds a new key as `Dictionary.Add` does: a null key or a duplicate throws.
fn map_set_new(entries: &mut Vec<(Value, Value)>, k: Value, v: Value, at: usize) -> F<()> {
    if matches!(k, Value::Null) {
        return Err(rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: key",
            at,
        ));
    }
    if entries.iter().any(|(e, _)| values_equal(e, &k)) {
        return Err(rt(
            "ArgumentException",
            "An item with the same key has already been added.",
            at,
        ));
    }
    entries.push((k, v));
    Ok(())
}

/// `OfType<T>()` keeps the elements that are a `T`; `Cast<T>()` casts each (an
/// `InvalidCastException` on one that is not).
pub(crate) fn of_type(it: &mut Interp, t: Value, name: &str, ty: &TypeRef, at: usize) -> F<Value> {
    let items = iterate(it, t, at)?;
    // A type whose instances gatehouse tells apart by value; any other (`Cast<Match>()`)
    // is taken on trust, as the sequence's own elements.
    let known = ty.array > 0
        || matches!(
            ty.name.as_str(),
            "string"
                | "int"
                | "long"
                | "double"
                | "float"
                | "decimal"
                | "bool"
                | "char"
                | "DateTime"
                | "TimeSpan"
                | "Guid"
                | "JObject"
                | "JArray"
                | "JValue"
                | "JToken"
        );
    let is = |v: &Value| {
        if known {
            is_instance(v, ty)
        } else {
            !matches!(v, Value::Null)
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        if name == "OfType" {
            if is(&v) {
                out.push(v);
            }
        } else if matches!(v, Value::Null) || is(&v) {
            out.push(v);
        } else {
            return Err(cast_err(&v, &ty.name, at));
        }
    }
    Ok(Value::Array(out))
}

/// The operators whose result on an empty sequence (or no match) is `default(T)`.
pub(crate) const DEFAULTING: &[&str] = &[
    "FirstOrDefault",
    "SingleOrDefault",
    "LastOrDefault",
    "ElementAtOrDefault",
    "DefaultIfEmpty",
];

/// A value LINQ walks as a sequence of its own (not a JSON token or a string).
pub(crate) fn is_sequence(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Bytes(_))
}

/// A defaulting operator on a sequence whose element type the interpreter saw in the source.
pub(crate) fn with_default(
    it: &mut Interp,
    t: Value,
    name: &str,
    ty: &TypeRef,
    args: Args,
    at: usize,
) -> F<Value> {
    let items = iterate(it, t, at)?;
    let empty = items.is_empty();
    let r = linq(it, Value::Array(items), name, args.clone(), at)?;
    Ok(match (name, r) {
        ("DefaultIfEmpty", Value::Array(_)) if empty && args.is_empty() => {
            Value::Array(vec![default_of(ty)])
        }
        ("DefaultIfEmpty", r) => r,
        (_, Value::Null) if empty => default_of(ty),
        (_, r) => r,
    })
}

/// `Enumerable.Range`, `Repeat`, `Empty<T>`.
pub(crate) fn enumerable_static(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let count = |i: usize| -> F<usize> {
        let n = as_int(arg(args, i, at)?, at)?;
        usize::try_from(n).map_err(|_| {
            rt(
                "ArgumentOutOfRangeException",
                "Specified argument was out of the range of valid values.\nParameter name: count",
                at,
            )
        })
    };
    Ok(Some(match name {
        "Range" => {
            let start = as_int(arg(args, 0, at)?, at)?;
            let n = count(1)?;
            if start.saturating_add(n as i64).saturating_sub(1) > i32::MAX as i64 {
                return Err(rt(
                    "ArgumentOutOfRangeException",
                    "Specified argument was out of the range of valid values.\nParameter name: count",
                    at,
                ));
            }
            it.charge(n.saturating_mul(SLOT), at)?;
            Value::Array((0..n as i64).map(|i| Value::Int(start + i)).collect())
        }
        "Repeat" => {
            let v = arg(args, 0, at)?.clone();
            let n = count(1)?;
            it.charge(n.saturating_mul(SLOT + it.size_of(&v)), at)?;
            Value::Array(vec![v; n])
        }
        "Empty" => Value::Array(Vec::new()),
        _ => return Ok(None),
    }))
}

/// The element type of a sequence as the source shows it, for `default(T)`: `new int[n]`,
/// `new int[] { … }`, `Enumerable.Empty<int>()`, `Enumerable.Range(…)`, and the operators that
/// keep the element type (`Where`, `Skip`, `OrderBy` …) over one of those.
pub(crate) fn static_element_type(e: &crate::ast::Expr) -> Option<TypeRef> {
    use crate::ast::E;
    match &e.kind {
        // The parser keeps an array creation's element type (`new int[0]` → `int`).
        E::NewArray { ty: Some(ty), .. } => Some(ty.clone()),
        // `new[] { 1, 2 }`: the type of its literal elements.
        E::NewArray {
            ty: None,
            items: Some(items),
            ..
        } => {
            let name = match items.first().map(|i| &i.kind) {
                Some(E::Int(_)) => "int",
                Some(E::Bool(_)) => "bool",
                Some(E::Double(_)) => "double",
                Some(E::Char(_)) => "char",
                _ => return None,
            };
            Some(TypeRef {
                name: name.into(),
                args: Vec::new(),
                array: 0,
                nullable: false,
            })
        }
        E::Call {
            callee, generics, ..
        } => {
            let E::Member { target, name, .. } = &callee.kind else {
                return None;
            };
            match name.as_str() {
                "Empty" | "Repeat" if matches!(&target.kind, E::Name(n) if n == "Enumerable") => {
                    generics.first().cloned()
                }
                "Range" if matches!(&target.kind, E::Name(n) if n == "Enumerable") => {
                    Some(TypeRef {
                        name: "int".into(),
                        args: Vec::new(),
                        array: 0,
                        nullable: false,
                    })
                }
                "Where" | "Skip" | "Take" | "OrderBy" | "OrderByDescending" | "Distinct"
                | "Reverse" | "SkipWhile" | "TakeWhile" | "ToArray" | "ToList" | "Concat" => {
                    static_element_type(target)
                }
                "OfType" | "Cast" => generics.first().cloned(),
                _ => None,
            }
        }
        _ => None,
    }
}
