//! `CopyTo` of lists and arrays, dictionaries (through `ICollection<KeyValuePair<K, V>>`),
//! queues, stacks and sets: which items go where in the destination array, with the argument
//! checks each .NET type makes. The interpreter writes the destination back to the caller's
//! variable (crates/expr/src/library/destinations.rs), as C# passes arrays by reference.

use super::*;
use crate::io::IoState;

/// Which rules a collection's `CopyTo` follows.
#[derive(Clone, Copy, PartialEq)]
enum Rules {
    /// `Array.CopyTo`, `List<T>.CopyTo`: `Array.Copy`'s checks.
    Array,
    /// `Queue<T>`, `Stack<T>`, `Dictionary`: the index must be within the destination.
    Bounded,
    HashSet,
}

/// The rules of `t`'s `CopyTo`; `None` when `t` is none of these collections.
fn rules_of(t: &Value) -> Option<Rules> {
    match t {
        Value::Array(_) | Value::Bytes(_) => Some(Rules::Array),
        Value::Object(Object::Map(_)) => Some(Rules::Bounded),
        Value::Object(Object::Io(io)) => match &*io.state() {
            IoState::Queue(_) | IoState::Stack(_) => Some(Rules::Bounded),
            IoState::HashSet(..) => Some(Rules::HashSet),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `t.CopyTo(array, …)` is one of these collections' (else its own type's, or none).
pub(crate) fn copies_collection(t: &Value) -> bool {
    rules_of(t).is_some()
}

/// `t.CopyTo(args…)` with its arguments evaluated: the items written into the destination
/// argument, or the exception the collection throws.
pub(crate) fn collection_copy_into(t: &Value, args: &mut [Value], at: usize) -> F<Value> {
    let Some(rules) = rules_of(t) else {
        return Err(no_member(t, "CopyTo", at));
    };
    let items = match t {
        Value::Array(a) => a.clone(),
        Value::Bytes(b) => b.iter().map(|x| Value::Byte(*x)).collect(),
        Value::Object(Object::Map(m)) => {
            m.iter().map(|(k, v)| pair(k.clone(), v.clone())).collect()
        }
        Value::Object(Object::Io(io)) => builder_items(&io.state()).unwrap_or_default(),
        _ => Vec::new(),
    };
    let (which, from, items) = plan(rules, items, args, at)?;
    let Some(slot) = args.get_mut(which) else {
        return Ok(Value::Null);
    };
    for (k, v) in items.into_iter().enumerate() {
        match slot {
            Value::Bytes(b) => {
                if let (Some(x), Some(cell)) = (int_of(&v), b.get_mut(from + k)) {
                    *cell = x as u8;
                }
            }
            Value::Array(a) => {
                if let Some(cell) = a.get_mut(from + k) {
                    *cell = v;
                }
            }
            _ => {}
        }
    }
    Ok(Value::Null)
}

fn dst_len(v: &Value, at: usize) -> F<usize> {
    match v {
        Value::Array(a) => Ok(a.len()),
        Value::Bytes(b) => Ok(b.len()),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'array')",
            at,
        )),
        other => Err(cast_err(other, "System.Array", at)),
    }
}

fn too_short(at: usize) -> Flow {
    rt(
        "ArgumentException",
        "Destination array was not long enough. Check the destination index, length, and the array's lower bounds.",
        at,
    )
}

fn negative(param: &str, at: usize) -> Flow {
    arg_range(
        &format!("Non-negative number required. (Parameter '{param}')"),
        at,
    )
}

fn plan(
    rules: Rules,
    items: Vec<Value>,
    args: &[Value],
    at: usize,
) -> F<(usize, usize, Vec<Value>)> {
    let int = |v: &Value| as_int(v, at);
    // `List<T>.CopyTo(index, array, arrayIndex, count)`.
    if let [si, dst, di, n] = args
        && rules == Rules::Array
    {
        let (si, di, n) = (int(si)?, int(di)?, int(n)?);
        let len = dst_len(dst, at)?;
        if si < 0 || di < 0 || n < 0 {
            return Err(negative(
                if si < 0 {
                    "srcIndex"
                } else if di < 0 {
                    "dstIndex"
                } else {
                    "length"
                },
                at,
            ));
        }
        if (items.len() as i64) - si < n {
            return Err(rt(
                "ArgumentException",
                "Source array was not long enough. Check the source index, length, and the array's lower bounds.",
                at,
            ));
        }
        if (len as i64) - di < n {
            return Err(too_short(at));
        }
        let part = items[si as usize..(si + n) as usize].to_vec();
        return Ok((1, di as usize, part));
    }
    let (dst, di, n) = match args {
        [d] if rules != Rules::Bounded => (d, 0, None),
        [d, i] => (d, int(i)?, None),
        [d, i, n] if rules == Rules::HashSet => (d, int(i)?, Some(int(n)?)),
        _ => {
            return Err(no_overload("CopyTo", args.len(), at));
        }
    };
    let len = dst_len(dst, at)? as i64;
    let count = items.len() as i64;
    match rules {
        Rules::Array => {
            if di < 0 {
                return Err(negative("dstIndex", at));
            }
            if len - di < count {
                return Err(too_short(at));
            }
        }
        Rules::Bounded => {
            if di < 0 || di > len {
                return Err(arg_range(
                    "Index was out of range. Must be non-negative and less than or equal to the size of the collection. (Parameter 'arrayIndex')",
                    at,
                ));
            }
            if len - di < count {
                return Err(rt(
                    "ArgumentException",
                    "Destination array is not long enough to copy all the items in the collection. Check array index and length.",
                    at,
                ));
            }
        }
        Rules::HashSet => {
            let n = n.unwrap_or(count);
            if di < 0 {
                return Err(negative("arrayIndex", at));
            }
            if n < 0 {
                return Err(negative("count", at));
            }
            if di > len || n > len - di {
                return Err(rt(
                    "ArgumentException",
                    "Destination array is not long enough to copy all the items in the collection. Check array index and length.",
                    at,
                ));
            }
            let take = n.min(count) as usize;
            return Ok((0, di as usize, items.into_iter().take(take).collect()));
        }
    }
    Ok((0, di as usize, items))
}
