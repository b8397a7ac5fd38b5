//! `System.Array`'s static members. Arrays and `List<T>` are both `Value::Array`, so these
//! take either. The members that write into their argument (`Sort`, `Reverse`, `Clear`) are
//! computed here and written back by the interpreter (crates/expr/src/interp/calls.rs), as
//! `Array.Copy` is.
//!
//! Checked against Mono (mcs/mono), e.g.:
//! ```csharp
//! var a = new[] { 3, 1, 2 };
//! Console.WriteLine(Array.Exists(a, x => x > 2));          // True
//! Console.WriteLine(Array.Find(a, x => x > 5));            // 0 (default(int))
//! Console.WriteLine(Array.FindIndex(a, x => x < 3));       // 1
//! Console.WriteLine(Array.FindLastIndex(a, x => x > 0));   // 2
//! Console.WriteLine(Array.IndexOf(a, 7));                  // -1
//! Array.Sort(a); Console.WriteLine(string.Join(",", a));   // 1,2,3
//! ```

use std::cmp::Ordering;

use super::*;
use crate::interp::Interp;

/// The static members of `Array` that [`array_static`] implements (read by `policy check`).
pub(crate) const ARRAY_STATICS: &[&str] = &[
    "Exists",
    "Find",
    "FindAll",
    "FindIndex",
    "FindLast",
    "FindLastIndex",
    "TrueForAll",
    "ConvertAll",
    "IndexOf",
    "LastIndexOf",
    "Empty",
    "AsReadOnly",
    "BinarySearch",
    "ForEach",
    "CreateInstance",
];

/// The static members of `Array` that change their first argument in place.
pub(crate) const ARRAY_IN_PLACE: &[&str] = &["Sort", "Reverse", "Clear", "Fill", "Resize"];

/// Whether `Array.<name>` exists (a call when `call`), for `policy check`.
pub(crate) fn array_member_exists(name: &str, call: bool) -> bool {
    call && (matches!(name, "Copy" | "ConstrainedCopy")
        || ARRAY_STATICS.contains(&name)
        || ARRAY_IN_PLACE.contains(&name))
}

fn elements(v: &Value, at: usize) -> F<Vec<Value>> {
    match v {
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: array",
            at,
        )),
        Value::Array(_) | Value::Bytes(_) => iterate_plain(v.clone(), at),
        Value::Json(j) if j.is_array() => iterate_plain(v.clone(), at),
        other => Err(cast_err(other, "System.Array", at)),
    }
}

fn match_arg(args: &Args, i: usize, at: usize) -> F<Arc<Lambda>> {
    let given = match args.get(i) {
        Some((_, Value::Null)) => None,
        _ => lambda_arg(args, i, at)?,
    };
    given.ok_or_else(|| {
        rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: match",
            at,
        )
    })
}

/// The default of the element type, for `Find` that finds nothing: `default(T)` is `0` for
/// numbers, `null` for references; the element type is guessed from the elements.
pub(crate) fn default_like(items: &[Value]) -> Value {
    match items.first() {
        Some(n) if let Some(z) = zero_like(n) => z,
        Some(Value::Bool(_)) => Value::Bool(false),
        Some(Value::Char(_)) => Value::Char('\0'),
        _ => Value::Null,
    }
}

/// `Array.Exists`, `Find`, `FindAll`, `FindIndex`, `IndexOf` …; `None` for a name it does not
/// know. Each element a predicate visits is an evaluation step of the lambda; results are
/// charged before they are built.
pub(crate) fn array_static(
    it: &mut Interp,
    name: &str,
    generics: &[TypeRef],
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    if name == "Empty" {
        let _ = generics;
        return Ok(Some(Value::Array(Vec::new())));
    }
    if !ARRAY_STATICS.contains(&name) {
        return Ok(None);
    }
    if name == "CreateInstance" {
        return create_instance(it, args, at).map(Some);
    }
    let items = elements(arg(args, 0, at)?, at)?;
    Ok(Some(match name {
        "Exists" | "TrueForAll" => {
            let f = Some(match_arg(args, 1, at)?);
            let want = name == "Exists";
            let mut answer = !want;
            for v in &items {
                if predicate(it, &f, v, at)? == want {
                    answer = want;
                    break;
                }
            }
            Value::Bool(answer)
        }
        "Find" | "FindLast" => {
            let f = Some(match_arg(args, 1, at)?);
            let mut found = None;
            let order: Box<dyn Iterator<Item = &Value>> = if name == "Find" {
                Box::new(items.iter())
            } else {
                Box::new(items.iter().rev())
            };
            for v in order {
                if predicate(it, &f, v, at)? {
                    found = Some(v.clone());
                    break;
                }
            }
            found.unwrap_or_else(|| default_like(&items))
        }
        "FindAll" => {
            let f = Some(match_arg(args, 1, at)?);
            let mut out = Vec::new();
            let mut grown = 0usize;
            for v in items {
                if predicate(it, &f, &v, at)? {
                    grown = grown.saturating_add(it.size_of(&v) + SLOT);
                    it.charge(grown, at)?;
                    out.push(v);
                }
            }
            Value::Array(out)
        }
        "FindIndex" | "FindLastIndex" => {
            // (array, match), (array, start, match), (array, start, count, match).
            let f = Some(match_arg(args, args.len().saturating_sub(1), at)?);
            let (lo, hi) = range(&items, args, name == "FindLastIndex", at)?;
            let mut found = -1i64;
            let idx: Box<dyn Iterator<Item = usize>> = if name == "FindIndex" {
                Box::new(lo..hi)
            } else {
                Box::new((lo..hi).rev())
            };
            for i in idx {
                if predicate(it, &f, &items[i], at)? {
                    found = i as i64;
                    break;
                }
            }
            Value::Int(found)
        }
        "IndexOf" | "LastIndexOf" => {
            let wanted = arg(args, 1, at)?;
            let mut pos = items.iter().enumerate();
            let hit = if name == "IndexOf" {
                pos.find(|(_, v)| values_equal(v, wanted))
            } else {
                pos.rev().find(|(_, v)| values_equal(v, wanted))
            };
            Value::Int(hit.map_or(-1, |(i, _)| i as i64))
        }
        "ConvertAll" => {
            let f = match_arg(args, 1, at)?;
            let mut out = Vec::with_capacity(items.len());
            let mut grown = 0usize;
            for v in items {
                let r = it.call_lambda(&f, vec![v], at)?;
                grown = grown.saturating_add(it.size_of(&r) + SLOT);
                it.charge(grown, at)?;
                out.push(r);
            }
            Value::Array(out)
        }
        // (array, value) or (array, index, length, value).
        "BinarySearch" => {
            let (lo, len, wanted) = match args.as_slice() {
                [_, (_, v)] => (0, items.len() as i64, v),
                [_, (_, i), (_, n), (_, v)] => {
                    let (i, n) = (as_int(i, at)?, as_int(n, at)?);
                    sub_range(items.len(), i, n, ("index", "length"), at)?;
                    (i, n, v)
                }
                _ => {
                    return Err(rt(
                        "NotSupportedException",
                        "BinarySearch with a comparer is not supported",
                        at,
                    ));
                }
            };
            Value::Int(binary_search(&items, lo, len, wanted))
        }
        "ForEach" => {
            let f = lambda_arg(args, 1, at)?.ok_or_else(|| {
                rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'action')",
                    at,
                )
            })?;
            for v in items {
                it.call_lambda(&f, vec![v], at)?;
            }
            Value::Null
        }
        // A read-only view is a copy here: values are never shared mutably.
        _ => Value::Array(items),
    }))
}

/// `Array.CreateInstance(typeof(T), length)`: `length` elements of `default(T)`. (Arrays of
/// more than one dimension are not held here.)
fn create_instance(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let ty = match arg(args, 0, at)? {
        Value::String(t) => crate::parser::normalize_type_name(t),
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'elementType')",
                at,
            ));
        }
        other => return Err(cast_err(other, "System.Type", at)),
    };
    if args.len() != 2 {
        return Err(rt(
            "NotSupportedException",
            "Array.CreateInstance of more than one dimension is not supported",
            at,
        ));
    }
    let n = as_int(arg(args, 1, at)?, at)?;
    if n < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'length')",
            at,
        ));
    }
    let tr = TypeRef {
        name: ty,
        args: Vec::new(),
        array: 0,
        nullable: false,
    };
    let d = default_of(&tr);
    it.charge((n as usize).saturating_mul(SLOT + it.size_of(&d)), at)?;
    if tr.name == "byte" {
        return Ok(Value::Bytes(vec![0; n as usize]));
    }
    Ok(Value::Array(vec![d; n as usize]))
}

/// The `[lo, hi)` range `FindIndex(array, start[, count], match)` searches. For
/// `FindLastIndex` the start is the last index searched, going backwards.
fn range(items: &[Value], args: &Args, backwards: bool, at: usize) -> F<(usize, usize)> {
    let n = items.len() as i64;
    let bad = || {
        arg_range(
            "Index was out of range. Must be non-negative and less than the size of the collection.",
            at,
        )
    };
    let (lo, hi) = match args.len() {
        2 => (0, n),
        3 => {
            let s = as_int(arg(args, 1, at)?, at)?;
            if backwards {
                if s >= n || s < -1 || (n == 0 && s != -1) {
                    return Err(bad());
                }
                (0, s + 1)
            } else {
                if s < 0 || s > n {
                    return Err(bad());
                }
                (s, n)
            }
        }
        _ => {
            let s = as_int(arg(args, 1, at)?, at)?;
            let c = as_int(arg(args, 2, at)?, at)?;
            if backwards {
                if s >= n || s < -1 || c < 0 || s - c + 1 < 0 {
                    return Err(bad());
                }
                (s - c + 1, s + 1)
            } else {
                if s < 0 || s > n || c < 0 || s + c > n {
                    return Err(bad());
                }
                (s, s + c)
            }
        }
    };
    Ok((lo.max(0) as usize, hi.max(0) as usize))
}

/// `Array.Sort(a[, comparison])`, `Array.Reverse(a)`, `Array.Clear(a[, index, length])`: the
/// new contents of the array, which the caller writes back into the variable.
pub(crate) fn array_in_place(
    it: &mut Interp,
    name: &str,
    current: Value,
    rest: &[Value],
    at: usize,
) -> F<Value> {
    if name == "Resize" {
        return resize(it, current, rest, at);
    }
    if let Value::Bytes(mut b) = current {
        match name {
            "Sort" => b.sort_unstable(),
            "Reverse" => b.reverse(),
            "Fill" => {
                let value = match rest.first() {
                    Some(Value::Int(x)) if (0..=255).contains(x) => *x as u8,
                    Some(other) => return Err(cast_err(other, "System.Byte", at)),
                    None => 0,
                };
                let (i, n) = fill_range(b.len(), rest.get(1..).unwrap_or_default(), at)?;
                b[i..i + n].fill(value);
            }
            _ => {
                let (i, n) = clear_range(b.len(), rest, at)?;
                b[i..i + n].fill(0);
            }
        }
        return Ok(Value::Bytes(b));
    }
    let mut items = elements(&current, at)?;
    match name {
        "Sort" => match rest.first() {
            Some(Value::Lambda(l)) => {
                // A comparison that fails stops the sort; the error is raised after it.
                let mut failed = None;
                let l = l.clone();
                items.sort_by(|a, b| {
                    if failed.is_some() {
                        return Ordering::Equal;
                    }
                    match it.call_lambda(&l, vec![a.clone(), b.clone()], at) {
                        Ok(Value::Int(c)) => c.cmp(&0),
                        Ok(other) => {
                            failed = Some(cast_err(&other, "System.Int32", at));
                            Ordering::Equal
                        }
                        Err(e) => {
                            failed = Some(e);
                            Ordering::Equal
                        }
                    }
                });
                if let Some(e) = failed {
                    return Err(e);
                }
            }
            _ => {
                // Comparer<T>.Default: mixed types cannot be compared.
                let mut incomparable = false;
                items.sort_by(|a, b| match (a.is_null(), b.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    _ => cmp_values(a, b).unwrap_or_else(|| {
                        incomparable = true;
                        Ordering::Equal
                    }),
                });
                if incomparable {
                    return Err(rt(
                        "InvalidOperationException",
                        "Failed to compare two elements in the array.",
                        at,
                    ));
                }
            }
        },
        "Reverse" => items.reverse(),
        "Fill" => {
            let value = rest.first().cloned().unwrap_or(Value::Null);
            let (i, n) = fill_range(items.len(), rest.get(1..).unwrap_or_default(), at)?;
            it.charge(it.size_of(&value).saturating_mul(n), at)?;
            items[i..i + n].fill(value);
        }
        _ => {
            let d = default_like(&items);
            let (i, n) = clear_range(items.len(), rest, at)?;
            items[i..i + n].fill(d);
        }
    }
    Ok(match current {
        Value::Json(_) => Value::Json(JToken::from_serde(&J::Array(
            items.iter().map(|v| to_json(v, at)).collect::<F<_>>()?,
        ))),
        _ => Value::Array(items),
    })
}

/// `Array.Resize(ref array, newSize)`: a new array of that size with the old elements that
/// fit, the rest `default(T)` (guessed from the elements: a value carries no element type); a
/// null array becomes a new one.
fn resize(it: &mut Interp, current: Value, rest: &[Value], at: usize) -> F<Value> {
    let n = match rest {
        [n] => as_int(n, at)?,
        _ => {
            return Err(no_overload("Resize", rest.len() + 1, at));
        }
    };
    if n < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'newSize')",
            at,
        ));
    }
    let n = n as usize;
    it.charge(n.saturating_mul(SLOT), at)?;
    Ok(match current {
        Value::Bytes(mut b) => {
            b.resize(n, 0);
            Value::Bytes(b)
        }
        Value::Null => Value::Array(vec![Value::Null; n]),
        other => {
            let mut items = elements(&other, at)?;
            let d = default_like(&items);
            items.resize(n, d);
            Value::Array(items)
        }
    })
}

/// `Array.Fill(array, value, startIndex, count)`'s range (the whole array without them).
fn fill_range(len: usize, rest: &[Value], at: usize) -> F<(usize, usize)> {
    match rest {
        [] => Ok((0, len)),
        [i, n] => {
            let (i, n) = (as_int(i, at)?, as_int(n, at)?);
            if i < 0 || i > len as i64 {
                return Err(arg_range(
                    "Index was out of range. Must be non-negative and less than or equal to the size of the collection. (Parameter 'startIndex')",
                    at,
                ));
            }
            if n < 0 || i > len as i64 - n {
                return Err(arg_range(
                    "Count must be positive and count must refer to a location within the string/array/collection. (Parameter 'count')",
                    at,
                ));
            }
            Ok((i as usize, n as usize))
        }
        _ => Err(no_overload("Fill", 3, at)),
    }
}

/// .NET's binary search (ArraySortHelper): the index of an element equal to `wanted` in
/// `[lo, lo + len)`, else the bitwise complement of where it would go.
fn binary_search(items: &[Value], lo: i64, len: i64, wanted: &Value) -> i64 {
    let (mut lo, mut hi) = (lo, lo + len - 1);
    while lo <= hi {
        let i = lo + ((hi - lo) >> 1);
        let Some(v) = items.get(i as usize) else {
            break;
        };
        match sort_cmp(v, wanted) {
            Ordering::Equal => return i,
            Ordering::Less => lo = i + 1,
            Ordering::Greater => hi = i - 1,
        }
    }
    !lo
}

/// Members of an array (or list) instance: `GetLength(0)`, `GetLowerBound(0)`,
/// `GetUpperBound(0)`, `GetValue(i)`, `Clone()`, `Initialize()`, and `List<T>`'s `GetRange`,
/// `BinarySearch`, `TrimExcess`. `None` for another name.
pub(crate) fn array_instance(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let len = match t {
        Value::Array(a) => a.len(),
        Value::Bytes(b) => b.len(),
        _ => return None,
    } as i64;
    let dimension = |args: &Args| -> F<()> {
        match as_int(arg(args, 0, at)?, at)? {
            0 => Ok(()),
            _ => Err(rt(
                "IndexOutOfRangeException",
                "Index was outside the bounds of the array.",
                at,
            )),
        }
    };
    let r = (|| -> F<Option<Value>> {
        Ok(Some(match (name, args.len()) {
            ("GetLength" | "GetLongLength", 1) => {
                dimension(args)?;
                Value::Int(len)
            }
            ("GetLowerBound", 1) => {
                dimension(args)?;
                Value::Int(0)
            }
            ("GetUpperBound", 1) => {
                dimension(args)?;
                Value::Int(len - 1)
            }
            ("GetValue", 1) => {
                let i = as_int(arg(args, 0, at)?, at)?;
                if i < 0 || i >= len {
                    return Err(index_err(at));
                }
                match t {
                    Value::Bytes(b) => Value::Int(i64::from(b[i as usize])),
                    Value::Array(a) => a[i as usize].clone(),
                    _ => return Ok(None),
                }
            }
            // A shallow copy (a copy is what every read of an array is here).
            ("Clone", 0) => {
                it.charge(it.size_of(t), at)?;
                t.clone()
            }
            // Only arrays of value types with constructors change; none are held here.
            ("Initialize" | "TrimExcess", 0) => Value::Null,
            ("GetRange", 2) => {
                let (i, n) = (as_int(&args[0].1, at)?, as_int(&args[1].1, at)?);
                let range = sub_range(len as usize, i, n, ("index", "count"), at)?;
                let Value::Array(a) = t else {
                    return Ok(None);
                };
                let part = a[range].to_vec();
                it.hold_all(&part, at)?;
                Value::Array(part)
            }
            ("BinarySearch", 1 | 3) => {
                let Value::Array(a) = t else {
                    return Ok(None);
                };
                let mut all: Args = vec![(None, Value::Array(a.clone()))];
                all.extend(args.iter().cloned());
                return array_static(it, "BinarySearch", &[], &all, at);
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

fn clear_range(len: usize, rest: &[Value], at: usize) -> F<(usize, usize)> {
    match rest {
        [] => Ok((0, len)),
        [i, n, ..] => {
            let (i, n) = (as_int(i, at)?, as_int(n, at)?);
            if i < 0 || n < 0 || i.saturating_add(n) > len as i64 {
                return Err(rt(
                    "IndexOutOfRangeException",
                    "Index was outside the bounds of the array.",
                    at,
                ));
            }
            Ok((i as usize, n as usize))
        }
        [_] => Err(no_overload("Clear", 2, at)),
    }
}
