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
];

/// The static members of `Array` that change their first argument in place.
pub(crate) const ARRAY_IN_PLACE: &[&str] = &["Sort", "Reverse", "Clear"];

/// Whether `Array.<name>` exists (a call when `call`), for `policy check`.
pub(crate) fn array_member_exists(name: &str, call: bool) -> bool {
    call && (name == "Copy" || ARRAY_STATICS.contains(&name) || ARRAY_IN_PLACE.contains(&name))
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
fn default_like(items: &[Value]) -> Value {
    match items.first() {
        Some(Value::Int(_)) => Value::Int(0),
        Some(Value::Double(_)) => Value::Double(0.0),
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
        // A read-only view is a copy here: values are never shared mutably.
        _ => Value::Array(items),
    }))
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
    if let Value::Bytes(mut b) = current {
        match name {
            "Sort" => b.sort_unstable(),
            "Reverse" => b.reverse(),
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
        [_] => Err(rt(
            "CompilationError",
            "No overload for method 'Clear' takes 2 arguments",
            at,
        )),
    }
}
