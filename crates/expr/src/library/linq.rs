//! LINQ over anything enumerable (arrays, lists, JSON arrays, strings, dictionaries).

use super::*;

pub(super) fn lambda_arg(args: &Args, i: usize, at: usize) -> F<Option<Arc<Lambda>>> {
    match args.get(i) {
        None => Ok(None),
        Some((_, Value::Lambda(l))) => Ok(Some(l.clone())),
        Some((_, v)) => Err(cast_err(v, "Func", at)),
    }
}

pub(super) fn predicate(it: &mut Interp, l: &Option<Arc<Lambda>>, v: &Value, at: usize) -> F<bool> {
    match l {
        None => Ok(true),
        Some(l) => match it.call_lambda(l, vec![v.clone()], at)? {
            Value::Bool(b) => Ok(b),
            other => Err(cast_err(&other, "System.Boolean", at)),
        },
    }
}

/// LINQ over anything enumerable. Results are arrays (`ToArray`/`ToList` are identities).
pub(super) fn linq(it: &mut Interp, t: Value, name: &str, args: Args, at: usize) -> F<Value> {
    if !LINQ.contains(&name) {
        return Err(no_member(&t, name, at));
    }
    let items = iterate(it, t, at)?;
    // The sequence is held while lambdas run over it; results are charged as they grow.
    let mark = it.temps();
    it.hold_all(&items, at)?;
    let r = if name == "ToLookup" {
        to_lookup(it, items, &args, at)
    } else {
        linq_over(it, items, name, &args, at)
    };
    it.release(mark);
    r
}

pub(super) fn linq_over(
    it: &mut Interp,
    items: Vec<Value>,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let f = lambda_arg(args, 0, at).ok().flatten();
    // Bytes of the result built so far, charged before each element joins it.
    let mut grown = 0usize;
    let mut grow = |it: &mut Interp, v: &Value| -> F<()> {
        grown = grown.saturating_add(it.size_of(v) + SLOT);
        it.charge(grown, at)
    };
    let no_elem = || {
        rt(
            "InvalidOperationException",
            "Sequence contains no matching element",
            at,
        )
    };
    Ok(match name {
        "Where" => {
            let mut out = Vec::new();
            for (i, v) in items.into_iter().enumerate() {
                let keep = match &f {
                    Some(l) => match call_indexed(it, l, &v, i, at)? {
                        Value::Bool(b) => b,
                        other => return Err(cast_err(&other, "System.Boolean", at)),
                    },
                    None => true,
                };
                if keep {
                    out.push(v);
                }
            }
            Value::Array(out)
        }
        "Select" | "SelectMany" => {
            let Some(l) = f else {
                return Err(no_member(&Value::Array(items), name, at));
            };
            let mut out = Vec::new();
            for (i, v) in items.into_iter().enumerate() {
                let args = if l.def.params.len() == 2 {
                    vec![v, Value::Int(i as i64)]
                } else {
                    vec![v]
                };
                let r = it.call_lambda(&l, args, at)?;
                grow(it, &r)?;
                if name == "SelectMany" {
                    out.extend(iterate(it, r, at)?);
                } else {
                    out.push(r);
                }
            }
            Value::Array(out)
        }
        "Any" => {
            for v in &items {
                if predicate(it, &f, v, at)? {
                    return Ok(Value::Bool(true));
                }
            }
            Value::Bool(false)
        }
        "All" => {
            for v in &items {
                if !predicate(it, &f, v, at)? {
                    return Ok(Value::Bool(false));
                }
            }
            Value::Bool(true)
        }
        "First" | "FirstOrDefault" | "Single" | "SingleOrDefault" => {
            let default = element_default(&items);
            let mut found = Vec::new();
            for v in items {
                if predicate(it, &f, &v, at)? {
                    found.push(v);
                    if name.starts_with("First") {
                        break;
                    }
                }
            }
            if name.starts_with("Single") && found.len() > 1 {
                return Err(rt(
                    "InvalidOperationException",
                    "Sequence contains more than one matching element",
                    at,
                ));
            }
            match found.into_iter().next() {
                Some(v) => v,
                None if name.ends_with("OrDefault") => default,
                None => return Err(no_elem()),
            }
        }
        "Last" | "LastOrDefault" => {
            let default = element_default(&items);
            let mut found = None;
            for v in items {
                if predicate(it, &f, &v, at)? {
                    found = Some(v);
                }
            }
            match found {
                Some(v) => v,
                None if name == "LastOrDefault" => default,
                None => return Err(no_elem()),
            }
        }
        "Count" => {
            let mut n = 0;
            for v in &items {
                if predicate(it, &f, v, at)? {
                    n += 1;
                }
            }
            Value::Int(n)
        }
        "ToArray" | "ToList" | "Cast" | "OfType" => Value::Array(items),
        "Contains" => {
            let x = arg(args, 0, at)?;
            // `Contains(x, comparer)` (crates/expr/src/library/equality.rs).
            let eq = equality_arg(args.get(1).map(|(_, v)| v));
            Value::Bool(items.iter().any(|v| eq.eq(v, x)))
        }
        "IndexOf" => {
            let x = arg(args, 0, at)?;
            Value::Int(
                items
                    .iter()
                    .position(|v| values_equal(v, x))
                    .map(|i| i as i64)
                    .unwrap_or(-1),
            )
        }
        "ElementAt" => {
            let i = as_int(arg(args, 0, at)?, at)?;
            match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None => {
                    return Err(rt(
                        "ArgumentOutOfRangeException",
                        "Index was out of range. Must be non-negative and less than the size of the collection.\nParameter name: index",
                        at,
                    ));
                }
            }
        }
        "Skip" | "Take" => {
            let n = as_int(arg(args, 0, at)?, at)?.clamp(0, items.len() as i64) as usize;
            Value::Array(if name == "Skip" {
                items[n..].to_vec()
            } else {
                items[..n].to_vec()
            })
        }
        "Reverse" => Value::Array(items.into_iter().rev().collect()),
        "Append" | "Prepend" => {
            let x = arg(args, 0, at)?.clone();
            grow(it, &x)?;
            let mut items = items;
            if name == "Append" {
                items.push(x);
            } else {
                items.insert(0, x);
            }
            Value::Array(items)
        }
        // A count of zero or less skips (takes) nothing.
        "SkipLast" | "TakeLast" => {
            let n = as_int(arg(args, 0, at)?, at)?.clamp(0, items.len() as i64) as usize;
            let cut = items.len() - n;
            Value::Array(if name == "SkipLast" {
                items[..cut].to_vec()
            } else {
                items[cut..].to_vec()
            })
        }
        "AsEnumerable" => Value::Array(items),
        // A set of the distinct items, in first-seen order (how a HashSet built by adding
        // them enumerates), compared with the string comparer given.
        "ToHashSet" => {
            let comparer = comparer_arg(args.first().map(|(_, v)| v));
            let mut set: Vec<Value> = Vec::new();
            for v in items {
                if set.len() % 64 == 63 {
                    it.check_time(at)?;
                }
                if !set.iter().any(|o| keys_equal(comparer, o, &v)) {
                    set.push(v);
                }
            }
            io_value(crate::io::IoState::HashSet(set, comparer))
        }
        "Concat" => {
            let mut items = items;
            let more = iterate(it, arg(args, 0, at)?.clone(), at)?;
            for v in &more {
                grow(it, v)?;
            }
            items.extend(more);
            Value::Array(items)
        }
        "Distinct" => {
            // `Distinct(comparer)`: a string, set or JToken comparer (library/equality.rs).
            let eq = equality_arg(args.first().map(|(_, v)| v));
            let mut out: Vec<Value> = Vec::new();
            for v in items {
                push_distinct(it, &mut out, v, &eq, at)?;
            }
            Value::Array(out)
        }
        "OrderBy" | "OrderByDescending" => {
            let mut keyed = Vec::new();
            for v in items {
                let k = match &f {
                    Some(l) => it.call_lambda(l, vec![v.clone()], at)?,
                    None => v.clone(),
                };
                grow(it, &k)?;
                keyed.push((k, v));
            }
            let c = comparer_arg(args.get(1).map(|(_, v)| v));
            // Stable both ways, as .NET's OrderByDescending is: equal keys keep their order.
            if name == "OrderByDescending" {
                keyed.sort_by(|a, b| order_under(c, &b.0, &a.0));
            } else {
                keyed.sort_by(|a, b| order_under(c, &a.0, &b.0));
            }
            Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
        }
        "Sum" | "Max" | "Min" | "Average" => {
            let mut vals = Vec::new();
            for v in items {
                vals.push(match &f {
                    Some(l) => it.call_lambda(l, vec![v], at)?,
                    None => v,
                });
            }
            let vals: Vec<Value> = vals
                .into_iter()
                .map(|v| match v {
                    Value::Json(j) => from_token(&j),
                    o => o,
                })
                .collect();
            if name == "Sum" {
                // Enumerable.Sum adds ints and longs in a checked context (OverflowException),
                // in the elements' own type.
                let mut acc: Option<Value> = None;
                for v in vals {
                    acc = Some(match acc {
                        None => v,
                        Some(a) => binary_in(BinOp::Add, a, v, true, Default::default(), at)?,
                    });
                }
                acc.unwrap_or(Value::Int(0))
            } else if name == "Average" {
                if vals.is_empty() {
                    return Err(rt(
                        "InvalidOperationException",
                        "Sequence contains no elements",
                        at,
                    ));
                }
                // A decimal average is a decimal, a float one a float; the others a double.
                if vals.iter().all(|v| matches!(v, Value::Decimal(_))) {
                    let mut s = Value::Decimal(rust_decimal::Decimal::ZERO);
                    for v in &vals {
                        s = binary_in(BinOp::Add, s, v.clone(), true, Default::default(), at)?;
                    }
                    let n = Value::Int(vals.len() as i64);
                    return binary(BinOp::Div, s, n, at);
                }
                let n = vals.len() as f64;
                let mut s = 0.0;
                for v in &vals {
                    s += as_f64(v, at)?;
                }
                if vals.iter().all(|v| matches!(v, Value::Float(_))) {
                    Value::Float((s / n) as f32)
                } else {
                    Value::Double(s / n)
                }
            } else {
                let mut best: Option<Value> = None;
                for v in vals {
                    best = Some(match best {
                        None => v,
                        // Min and Max pass over nulls, as .NET's do for reference types.
                        Some(b) if matches!(v, Value::Null) => b,
                        Some(Value::Null) => v,
                        Some(b) => {
                            let o = sort_cmp(&v, &b);
                            let better = if name == "Max" { o.is_gt() } else { o.is_lt() };
                            if better { v } else { b }
                        }
                    });
                }
                best.ok_or_else(|| {
                    rt(
                        "InvalidOperationException",
                        "Sequence contains no elements",
                        at,
                    )
                })?
            }
        }
        _ => return linq_more(it, items, name, args, at),
    })
}
