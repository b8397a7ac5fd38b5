//! Newtonsoft's helper objects a policy holds (`Object::JsonAux`): a token's reader and a
//! container's writer (what reads and writes them is crates/expr/src/library/json_reader.rs),
//! `JToken.EqualityComparer` (`Equals` is `DeepEquals`, `GetHashCode` Newtonsoft's
//! `GetDeepHashCode`) and `GetEnumerator()`'s enumerator.

use super::*;
use crate::jtree::Flavor;
use std::sync::Mutex;

/// A helper object (`Object::JsonAux`).
#[derive(Debug)]
pub enum JsonAux {
    /// `token.CreateReader()`: whether it has been read (then it sits on the token's end).
    Reader(JToken, Mutex<bool>),
    /// `container.CreateWriter()`.
    Writer(JToken),
    /// `JToken.EqualityComparer`.
    Comparer,
    /// `GetEnumerator()`: the items, and the position (-1 before the first).
    Enumerator(Vec<Value>, Mutex<i64>, bool),
}

impl JsonAux {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            JsonAux::Reader(..) => "Newtonsoft.Json.Linq.JTokenReader",
            JsonAux::Writer(_) => "Newtonsoft.Json.Linq.JTokenWriter",
            JsonAux::Comparer => "Newtonsoft.Json.Linq.JTokenEqualityComparer",
            JsonAux::Enumerator(..) => "System.Collections.Generic.IEnumerator`1",
        }
    }
}

/// Reference identity (the helper objects are reference types); `JToken.EqualityComparer` is
/// one shared instance.
impl PartialEq for JsonAux {
    fn eq(&self, other: &Self) -> bool {
        matches!((self, other), (JsonAux::Comparer, JsonAux::Comparer)) || std::ptr::eq(self, other)
    }
}

pub(crate) fn aux(a: JsonAux) -> Value {
    Value::Object(Object::JsonAux(Arc::new(a)))
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Members of the helper objects: the comparer's `Equals(a, b)`/`GetHashCode(t)`, the
/// enumerator's `MoveNext()`/`Current`/`Reset()`/`Dispose()`.
pub(crate) fn aux_method(a: &JsonAux, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match (a, name, args.len()) {
        (JsonAux::Comparer, "Equals", 2) => {
            Some(json_token_static("JToken", "DeepEquals", args, at)?)
        }
        (JsonAux::Comparer, "GetHashCode", 1) => Some(arg(args, 0, at).map(|v| match v {
            Value::Json(t) => Value::Int(i64::from(deep_hash(t))),
            _ => Value::Int(0),
        })),
        (JsonAux::Enumerator(items, pos, _), "MoveNext", 0) => {
            let mut p = lock(pos);
            let len = items.len() as i64;
            if *p < len {
                *p += 1;
            }
            Some(Ok(Value::Bool(*p < len)))
        }
        (JsonAux::Enumerator(_, _, object), "Reset", 0) => Some(if *object {
            // JObject's enumerator is an iterator method: C#'s iterators cannot reset.
            Err(rt(
                "NotSupportedException",
                "Specified method is not supported.",
                at,
            ))
        } else {
            if let JsonAux::Enumerator(_, pos, _) = a {
                *lock(pos) = -1;
            }
            Ok(Value::Null)
        }),
        (JsonAux::Enumerator(..), "Dispose", 0) => Some(Ok(Value::Null)),
        _ => None,
    }
}

/// `enumerator.Current`: the item at the position; outside the items, the default (a
/// List's enumerator and an iterator both give it).
pub(crate) fn aux_member(a: &JsonAux, name: &str) -> Option<Value> {
    match (a, name) {
        (JsonAux::Enumerator(items, pos, object), "Current") => {
            let p = *lock(pos);
            Some(match usize::try_from(p).ok().and_then(|i| items.get(i)) {
                Some(v) => v.clone(),
                None if *object => {
                    let mut r = BTreeMap::new();
                    r.insert("Key".to_string(), Value::Null);
                    r.insert("Value".to_string(), Value::Null);
                    Value::Object(Object::Record(Arc::new(r)))
                }
                None => Value::Null,
            })
        }
        _ => None,
    }
}

/// `JToken.GetDeepHashCode()`: a container's children's hashes xored (a property's and a
/// constructor's name too), a value's type xored with its value's hash.
pub(crate) fn deep_hash(t: &JToken) -> i32 {
    let kids = || t.children().iter().fold(0i32, |h, c| h ^ deep_hash(c));
    if let Some(n) = t.constructor_name() {
        return hash_code(&Value::str(&*n)) ^ kids();
    }
    match t.kind() {
        JKind::Object | JKind::Array => kids(),
        JKind::Property => hash_code(&Value::str(&*t.name().unwrap_or_default())) ^ kids(),
        JKind::Value => {
            // JTokenType's numbers: Integer 6, Float 7, String 8, Boolean 9, Null 10,
            // Undefined 11, Comment 5, Raw 13.
            let (ty, v) = match (t.flavor(), t.scalar().unwrap_or(J::Null)) {
                (Flavor::Raw, j) => (13, from_json(&j)),
                (Flavor::Comment, j) => (5, from_json(&j)),
                (Flavor::Undefined, _) => (11, Value::Null),
                (_, J::Null) => (10, Value::Null),
                (_, J::Bool(b)) => (9, Value::Bool(b)),
                (_, J::String(s)) => (8, Value::str(&s)),
                (_, j @ J::Number(_)) if j.as_number().is_some_and(|n| n.is_f64()) => {
                    (7, from_json(&j))
                }
                (_, j) => (6, from_json(&j)),
            };
            let vh = match v {
                Value::Long(i) => (i as i32) ^ ((i >> 32) as i32),
                Value::Null => 0,
                v => hash_code(&v),
            };
            ty ^ vh
        }
    }
}
