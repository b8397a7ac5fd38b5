//! `HashSet<T>.CreateSetComparer()`: an `IEqualityComparer<HashSet<T>>` that compares sets by
//! their contents, as .NET 8's `HashSetEqualityComparer<T>` does — two sets with the same
//! comparer are equal when they hold the same items; with different comparers, when every item
//! of the second is (by default equality) in the first. Its hash is the XOR of the items'.

use super::*;
use crate::io::IoState;

/// `HashSet<T>.CreateSetComparer()`.
pub(crate) fn create_set_comparer(args: &Args, at: usize) -> F<Value> {
    if !args.is_empty() {
        return Err(no_overload("CreateSetComparer", args.len(), at));
    }
    Ok(io_value(IoState::SetComparer))
}

/// A set's items and comparer; `None` for null, an error for anything that is no set.
fn set_of(v: &Value, at: usize) -> F<Option<(Vec<Value>, Option<StringComparerKind>)>> {
    match v {
        Value::Null => Ok(None),
        Value::Object(Object::Io(io)) => match &*io.state() {
            IoState::HashSet(s, c) => Ok(Some((s.clone(), *c))),
            _ => Err(cast_err(v, "System.Collections.Generic.HashSet`1", at)),
        },
        other => Err(cast_err(other, "System.Collections.Generic.HashSet`1", at)),
    }
}

/// Whether `v` is a set comparer (`HashSet<T>.CreateSetComparer()`).
pub(crate) fn is_set_comparer(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Object(Object::Io(io))) if matches!(&*io.state(), IoState::SetComparer))
}

/// Equality of two sets as a set comparer sees it; sets it cannot read are unequal.
pub(crate) fn sets_equal(x: &Value, y: &Value) -> bool {
    if let (Value::Object(Object::Io(a)), Value::Object(Object::Io(b))) = (x, y)
        && Arc::ptr_eq(a, b)
    {
        return true;
    }
    match (set_of(x, 0), set_of(y, 0)) {
        (Ok(Some((xs, xc))), Ok(Some((ys, yc)))) => {
            let within = |c: Option<StringComparerKind>| {
                ys.iter().all(|v| xs.iter().any(|u| keys_equal(c, u, v)))
            };
            if xc == yc {
                xs.len() == ys.len() && within(xc)
            } else {
                within(None)
            }
        }
        (Ok(None), Ok(None)) => true,
        _ => false,
    }
}

/// `Equals(x, y)` and `GetHashCode(set)` of a set comparer; `None` for another method.
pub(crate) fn set_comparer_call(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some((|| match (name, args.as_slice()) {
        ("Equals", [(_, x), (_, y)]) => {
            if let (Value::Object(Object::Io(a)), Value::Object(Object::Io(b))) = (x, y)
                && Arc::ptr_eq(a, b)
            {
                return Ok(Value::Bool(true));
            }
            // Anything that is no set is refused, as the comparer's parameters are sets.
            set_of(x, at)?;
            set_of(y, at)?;
            it.check_time(at)?;
            Ok(Value::Bool(sets_equal(x, y)))
        }
        ("GetHashCode", [(_, s)]) => Ok(Value::Int(match set_of(s, at)? {
            None => 0,
            Some((items, _)) => items
                .iter()
                .filter(|v| !v.is_null())
                .fold(0i32, |h, v| h ^ hash_code(v)),
        } as i64)),
        _ => Err(rt(
            "RuntimeBinderException",
            format!("'HashSetEqualityComparer' does not contain a definition for '{name}'"),
            at,
        )),
    })())
}
