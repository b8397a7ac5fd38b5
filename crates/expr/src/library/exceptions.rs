//! Exception objects: `new FormatException("…")`, and the members a `catch` block reads
//! (`ex.Message`, `ex.GetType().Name`, `ex.ToString()`). The types and their hierarchy live in
//! crates/expr/src/exceptions.rs; this is the library's view of them as values.

use super::*;
use crate::exceptions::{Exception, full_name};

/// `new T(…)` when `T` is an exception type; `None` for any other type.
pub(crate) fn exception_new(
    it: &mut Interp,
    ty: &str,
    vals: &[Value],
    at: usize,
) -> Option<F<Value>> {
    crate::exceptions::kind_of(ty)?;
    Some((|| {
        let mut strings = Vec::new();
        let mut inner = None;
        for v in vals {
            match v {
                Value::Object(Object::Exception(e)) => inner = Some((**e).clone()),
                Value::Null => strings.push(None),
                other => {
                    let t = it.text(other, at)?.into_owned();
                    strings.push(Some(t));
                }
            }
        }
        it.charge(
            strings.iter().flatten().map(String::len).sum::<usize>() + SLOT,
            at,
        )?;
        Exception::construct(ty, &strings, inner)
            .map(|e| Value::Object(Object::Exception(Arc::new(e))))
            .ok_or_else(|| {
                rt(
                    "NotSupportedException",
                    format!("'{ty}' is not an exception type"),
                    at,
                )
            })
    })())
}

/// `ex.Message`, `ex.InnerException`, `ex.ParamName` …
pub(crate) fn exception_member(e: &Exception, name: &str, at: usize) -> F<Value> {
    Ok(match name {
        "Message" => Value::str(e.message()),
        "InnerException" => match &e.inner {
            Some(i) => Value::Object(Object::Exception(Arc::new((**i).clone()))),
            None => Value::Null,
        },
        "ParamName" if crate::exceptions::is_a(e.kind, "ArgumentException") => {
            e.param.clone().map_or(Value::Null, Value::str)
        }
        // An expression has no stack, no source assembly, no help page.
        "StackTrace" | "Source" | "HelpLink" => Value::Null,
        _ => {
            let v = Value::Object(Object::Exception(Arc::new(e.clone())));
            return Err(no_member(&v, name, at));
        }
    })
}

/// `ex.ToString()`, `ex.GetType()` (a type with `Name`, `FullName`, `Namespace`),
/// `ex.GetBaseException()`.
pub(crate) fn exception_method(e: &Arc<Exception>, name: &str, at: usize) -> F<Value> {
    Ok(match name {
        "ToString" => Value::str(e.to_display()),
        "GetType" => {
            let full = full_name(e.kind);
            let (ns, short) = full.rsplit_once('.').unwrap_or(("", full));
            let mut r = BTreeMap::new();
            r.insert("Name".to_string(), Value::str(short));
            r.insert("FullName".to_string(), Value::str(full));
            r.insert("Namespace".to_string(), Value::str(ns));
            Value::Object(Object::Record(Arc::new(r)))
        }
        "GetBaseException" => {
            let mut cur = &**e;
            while let Some(i) = &cur.inner {
                cur = i;
            }
            Value::Object(Object::Exception(Arc::new(cur.clone())))
        }
        _ => {
            let v = Value::Object(Object::Exception(e.clone()));
            return Err(no_member(&v, name, at));
        }
    })
}
