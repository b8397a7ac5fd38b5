//! What LINQ needs of element types: `default(T)` for the `…OrDefault` operators,
//! `OfType<T>`/`Cast<T>`, and `Enumerable`'s factories (`Range`, `Repeat`, `Empty<T>`).
//!
//! gatehouse holds a sequence without its static element type, so `default(T)` is read from the
//! elements (an `int` sequence gives 0) or, for an empty sequence, from what the interpreter
//! could see of the source (`new int[0]`, `Enumerable.Empty<int>()`; crates/expr/src/interp/
//! calls.rs passes it as the call's generic argument).
//!
//! Checked against Mono (mcs/mono):
//! ```csharp
//! new int[0].FirstOrDefault()                     // 0
//! new object[] { 1, "a", 2 }.OfType<int>().Sum()  // 3
//! Enumerable.Range(1, -1)                         // ArgumentOutOfRangeException
//! ```

use super::*;

/// `default(T)` of a sequence's element type, read from its elements (see the module note).
pub(crate) fn element_default(items: &[Value]) -> Value {
    match items.iter().find(|v| !matches!(v, Value::Null)) {
        Some(n) if let Some(z) = zero_like(n) => z,
        Some(Value::Bool(_)) => Value::Bool(false),
        Some(Value::Char(_)) => Value::Char('\0'),
        Some(Value::DateTime(_)) => Value::DateTime(DateTime(0, DateTimeKind::Unspecified)),
        Some(Value::TimeSpan(_)) => Value::TimeSpan(TimeSpan(0)),
        Some(Value::Guid(_)) => Value::Guid(0),
        _ => Value::Null,
    }
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
                // LINQ to XML's node types (`Nodes().OfType<XElement>()`).
                | "XObject"
                | "XNode"
                | "XContainer"
                | "XElement"
                | "XDocument"
                | "XAttribute"
                | "XText"
                | "XCData"
                | "XComment"
                | "XProcessingInstruction"
                | "XDocumentType"
                | "JProperty"
                | "JContainer"
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
                Some(E::Num(n)) => crate::numeric::keyword(n.kind()),
                Some(E::Bool(_)) => "bool",
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
