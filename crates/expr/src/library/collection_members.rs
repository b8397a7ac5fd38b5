//! `List<T>` and `Dictionary<K, V>` members that are not searches: the mutators on a receiver
//! that is not a variable (`new List<int> { 1 }.Remove(1)`, `Make().Add(x)`), `Sort` with a
//! comparison or comparer, `AsReadOnly`, `Capacity`, `EnsureCapacity`, `TrimExcess`, and the
//! dictionary's and set's serialization members.
//!
//! Collections are values here (copied on assignment) where .NET has references, so a mutator
//! called on a temporary changes a copy nobody sees again: what is observable is the method's
//! result and its exceptions, which are .NET's. On a variable the interpreter changes the
//! variable itself (crates/expr/src/interp/calls.rs, `MUTATORS`).
//!
//! Capacities are not stored with a value: `Capacity` and `EnsureCapacity` answer what .NET
//! holds after the collection was built by adding its items one at a time (a list doubles from
//! 4, a dictionary or set grows through `HashHelpers`' primes), which is how policies build
//! them. Checked against the C# oracle (expressions-collections.txt).

use std::cmp::Ordering;

use super::*;
use crate::io::IoState;

/// The list mutators handled on a copy when the receiver is not a variable.
const LIST_MUTATORS: &[&str] = &[
    "SetValue",
    "Add",
    "AddRange",
    "Clear",
    "Insert",
    "InsertRange",
    "Remove",
    "RemoveAt",
    "RemoveRange",
];

/// `List<T>`'s capacity after adding `len` items one by one: 0, then 4, doubling.
pub(crate) fn list_capacity(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        len.next_power_of_two().max(4)
    }
}

/// .NET's `HashHelpers.Primes` (the table `GetPrime` searches first).
const PRIMES: &[usize] = &[
    3, 7, 11, 17, 23, 29, 37, 47, 59, 71, 89, 107, 131, 163, 197, 239, 293, 353, 431, 521, 631,
    761, 919, 1103, 1327, 1597, 1931, 2333, 2801, 3371, 4049, 4861, 5839, 7013, 8419, 10103, 12143,
    14591, 17519, 21023, 25229, 30293, 36353, 43627, 52361, 62851, 75431, 90523, 108631, 130363,
    156437, 187751, 225307, 270371, 324449, 389357, 467237, 560689, 672827, 807403, 968897,
    1162687, 1395263, 1674319, 2009191, 2411033, 2893249, 3471899, 4166287, 4999559, 5999471,
    7199369,
];

/// `HashHelpers.GetPrime(min)`: the table's first prime ≥ min, beyond it the next odd prime
/// with `(p - 1) % 101 != 0`.
pub(crate) fn get_prime(min: usize) -> usize {
    if let Some(p) = PRIMES.iter().find(|p| **p >= min) {
        return *p;
    }
    let is_prime = |n: usize| {
        if n.is_multiple_of(2) {
            return n == 2;
        }
        let mut d = 3;
        while d * d <= n {
            if n.is_multiple_of(d) {
                return false;
            }
            d += 2;
        }
        true
    };
    let mut i = min | 1;
    while i < i32::MAX as usize {
        if is_prime(i) && !(i - 1).is_multiple_of(101) {
            return i;
        }
        i += 2;
    }
    min
}

/// A dictionary's or set's capacity after adding `len` items one by one: 3 at the first,
/// then `ExpandPrime` (the prime after twice the size) whenever it is full.
pub(crate) fn hash_capacity(len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let mut cap = get_prime(0);
    while cap < len {
        cap = get_prime(cap.saturating_mul(2));
    }
    cap
}

/// `EnsureCapacity(n)` of a dictionary or set holding `len` items.
fn ensure_hash_capacity(len: usize, args: &Args, at: usize) -> F<Value> {
    let n = as_int(arg(args, 0, at)?, at)?;
    if n < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'capacity')",
            at,
        ));
    }
    let cap = hash_capacity(len);
    Ok(Value::Int(if cap >= n as usize {
        cap
    } else {
        get_prime(n as usize)
    } as i64))
}

/// `TrimExcess([capacity])`: nothing to free; a capacity below the count is refused.
fn trim_excess(len: usize, args: &Args, at: usize) -> F<Value> {
    if let Some((_, v)) = args.first() {
        let n = as_int(v, at)?;
        if n < len as i64 {
            return Err(arg_range(
                "Specified argument was out of the range of valid values. (Parameter 'capacity')",
                at,
            ));
        }
    }
    Ok(Value::Null)
}

/// `GetObjectData(info, context)` (obsolete since .NET 8): only a null `info` can be passed
/// (there is no `SerializationInfo` to make), which .NET refuses.
fn get_object_data(args: &Args, at: usize) -> F<Value> {
    match arg(args, 0, at)? {
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'info')",
            at,
        )),
        other => Err(cast_err(
            other,
            "System.Runtime.Serialization.SerializationInfo",
            at,
        )),
    }
}

/// Serialization members shared by `Dictionary` and `HashSet`, and their capacity members;
/// `None` for another name.
pub(crate) fn hashed_collection_call(
    len: usize,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some(match (name, args.len()) {
        ("EnsureCapacity", 1) => ensure_hash_capacity(len, args, at),
        ("TrimExcess", 0 | 1) => trim_excess(len, args, at),
        ("GetObjectData", 2) => get_object_data(args, at),
        // Only a collection being deserialized has anything to finish: a no-op otherwise.
        ("OnDeserialization", 1) => Ok(Value::Null),
        _ => return None,
    })
}

/// Methods of a list (or array) value answered here; `None` for another name.
pub(crate) fn list_method(
    it: &mut Interp,
    items: &[Value],
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    // `nodes.Remove()` is LINQ to XML's extension over a sequence, not a list's.
    if LIST_MUTATORS.contains(&name) && !(name == "Remove" && args.is_empty()) {
        return Some((|| {
            // The copy changed is as large as the list.
            let copy = Value::Array(items.to_vec());
            it.charge(it.size_of(&copy), at)?;
            let Value::Array(mut copy) = copy else {
                return Ok(Value::Null);
            };
            mutate(&mut copy, name, args.clone(), at)
        })());
    }
    Some(match (name, args.len()) {
        ("Sort", _) => sort_list(it, items.to_vec(), args, at).map(|_| Value::Null),
        ("RemoveAll", 1) => remove_all(it, items.to_vec(), args, at).map(|(n, _)| n),
        // A read-only view of the list: a copy here, where nothing can change it anyway.
        ("AsReadOnly", 0) => it
            .hold_all(items, at)
            .map(|()| Value::Array(items.to_vec())),
        ("EnsureCapacity", 1) => {
            let n = match as_int(arg(args, 0, at).ok()?, at) {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            if n < 0 {
                return Some(Err(arg_range(
                    "Non-negative number required. (Parameter 'capacity')",
                    at,
                )));
            }
            let cap = list_capacity(items.len());
            // Growing doubles the capacity (at least 4), or takes `n` when that is more.
            let grown = if cap >= n as usize {
                cap
            } else {
                (cap * 2).max(4).max(n as usize)
            };
            Ok(Value::Int(grown as i64))
        }
        _ => return None,
    })
}

/// `list.Sort()`, `Sort(comparison)`, `Sort(comparer)`, `Sort(index, count, comparer)`: the
/// sorted items.
pub(crate) fn sort_list(
    it: &mut Interp,
    mut items: Vec<Value>,
    args: &Args,
    at: usize,
) -> F<Vec<Value>> {
    let (lo, hi, how) = match args.as_slice() {
        [] => (0, items.len(), None),
        [(_, c)] => (0, items.len(), Some(c.clone())),
        [(_, i), (_, n), (_, c)] => {
            let (i, n) = (as_int(i, at)?, as_int(n, at)?);
            let r = sub_range(items.len(), i, n, ("index", "count"), at)?;
            (r.start, r.end, Some(c.clone()))
        }
        _ => {
            return Err(no_overload("Sort", args.len(), at));
        }
    };
    it.check_time(at)?;
    let part: Vec<Value> = items[lo..hi].to_vec();
    let sorted = match how {
        None | Some(Value::Null) => array_in_place(it, "Sort", Value::Array(part), &[], at)?,
        Some(Value::Lambda(l)) => {
            array_in_place(it, "Sort", Value::Array(part), &[Value::Lambda(l)], at)?
        }
        Some(Value::Object(Object::Comparer(k))) => {
            let mut part = part;
            let mut bad = None;
            part.sort_by(|a, b| match (a, b) {
                (Value::String(x), Value::String(y)) => k.compare(x, y).cmp(&0),
                (Value::Null, Value::Null) => Ordering::Equal,
                (Value::Null, _) => Ordering::Less,
                (_, Value::Null) => Ordering::Greater,
                (other, _) => {
                    bad = Some(cast_err(other, "System.String", at));
                    Ordering::Equal
                }
            });
            if let Some(e) = bad {
                // .NET wraps a comparer's failure.
                let _ = e;
                return Err(rt(
                    "InvalidOperationException",
                    "Failed to compare two elements in the array.",
                    at,
                ));
            }
            Value::Array(part)
        }
        Some(other) => {
            return Err(cast_err(
                &other,
                "System.Collections.Generic.IComparer`1",
                at,
            ));
        }
    };
    if let Value::Array(sorted) = sorted {
        items.splice(lo..hi, sorted);
    }
    Ok(items)
}

/// `list.RemoveAll(match)`: the number removed and the items kept.
pub(crate) fn remove_all(
    it: &mut Interp,
    items: Vec<Value>,
    args: &Args,
    at: usize,
) -> F<(Value, Vec<Value>)> {
    let f = match_arg(args, at)?;
    let (removed, kept) = remove_matching(it, &f, items, at)?;
    Ok((Value::Int(removed), kept))
}

/// The `match` predicate of `RemoveAll`/`RemoveWhere` (a null one is refused).
pub(crate) fn match_arg(args: &Args, at: usize) -> F<Arc<Lambda>> {
    lambda_arg(args, 0, at)?.ok_or_else(|| {
        rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'match')",
            at,
        )
    })
}

/// `items` without those `f` holds for (called on each, first to last), and how many went.
pub(crate) fn remove_matching(
    it: &mut Interp,
    f: &Arc<Lambda>,
    items: Vec<Value>,
    at: usize,
) -> F<(i64, Vec<Value>)> {
    let mut kept = Vec::with_capacity(items.len());
    let mut removed = 0;
    for v in items {
        match it.call_lambda(f, vec![v.clone()], at)? {
            Value::Bool(true) => removed += 1,
            Value::Bool(false) => kept.push(v),
            other => return Err(cast_err(&other, "System.Boolean", at)),
        }
    }
    Ok((removed, kept))
}

/// The list mutators of crates/expr/src/library/access.rs, on a list's items.
fn mutate(items: &mut Vec<Value>, name: &str, args: Args, at: usize) -> F<Value> {
    let mut v = Value::Array(std::mem::take(items));
    let r = super::mutate(&mut v, name, args, at);
    if let Value::Array(a) = v {
        *items = a;
    }
    r
}

/// Methods of a dictionary value answered here; `None` for another name.
pub(crate) fn map_method(
    it: &mut Interp,
    entries: &Entries,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if matches!(name, "Add" | "TryAdd" | "Remove" | "Clear") {
        // A temporary's change is not seen again: the result (and the exceptions) are.
        return Some((|| {
            let mut copy = entries.clone();
            let size = copy
                .iter()
                .map(|(k, v)| 2 * SLOT + it.size_of(k) + it.size_of(v))
                .fold(0, usize::saturating_add);
            it.charge(size, at)?;
            map_mutate(&mut copy, name, args.clone(), at)
        })());
    }
    hashed_collection_call(entries.len(), name, args, at)
}

/// The hook of crates/expr/src/library/methods.rs: methods of a list or dictionary value
/// answered here; `None` for another receiver or name.
pub(crate) fn collection_method(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match t {
        Value::Array(items) => list_method(it, items, name, args, at),
        Value::Object(Object::Map(m)) => map_method(it, m, name, args, at),
        Value::Bytes(_) if name == "SetValue" && args.len() == 2 => {
            Some(super::mutate(&mut t.clone(), name, args.clone(), at))
        }
        _ => None,
    }
}

/// Properties of lists, dictionaries and sets answered here; `None` for another.
pub(crate) fn collection_property(t: &Value, name: &str) -> Option<Value> {
    Some(match (t, name) {
        (Value::Array(a), "Capacity") => Value::Int(list_capacity(a.len()) as i64),
        (Value::Object(Object::Map(_)), "IsReadOnly") => Value::Bool(false),
        (Value::Object(Object::Map(m)), "Comparer") => comparer_value(m.comparer),
        (Value::Object(Object::Io(io)), "Comparer" | "IsReadOnly") => match &*io.state() {
            IoState::HashSet(_, c) if name == "Comparer" => comparer_value(*c),
            IoState::HashSet(..) => Value::Bool(false),
            _ => return None,
        },
        _ => return None,
    })
}

/// The hook of crates/expr/src/library/methods.rs for sets, queues and stacks: their
/// capacity and serialization members; `None` for another receiver or name.
pub(crate) fn io_collection_method(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let Value::Object(Object::Io(io)) = t else {
        return None;
    };
    if matches!(&*io.state(), IoState::SetComparer) {
        return set_comparer_call(it, name, args, at);
    }
    let state = io.state();
    match &*state {
        // `Contains` through the set's comparer (LINQ's would compare exactly).
        IoState::HashSet(s, c) if name == "Contains" && args.len() == 1 => {
            let x = &args[0].1;
            Some(Ok(Value::Bool(s.iter().any(|y| keys_equal(*c, y, x)))))
        }
        IoState::HashSet(s, _) => hashed_collection_call(s.len(), name, args, at),
        IoState::Queue(q) if name == "TrimExcess" => Some(trim_excess(q.len(), args, at)),
        IoState::Stack(s) if name == "TrimExcess" => Some(trim_excess(s.len(), args, at)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_grow_as_dotnet_does() {
        assert_eq!(list_capacity(0), 0);
        assert_eq!(list_capacity(1), 4);
        assert_eq!(list_capacity(5), 8);
        assert_eq!(hash_capacity(0), 0);
        assert_eq!(hash_capacity(1), 3);
        assert_eq!(hash_capacity(4), 7);
        assert_eq!(hash_capacity(8), 17);
        assert_eq!(hash_capacity(18), 37);
        assert_eq!(get_prime(100), 107);
    }
}
