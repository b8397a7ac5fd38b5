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
        // An expression has no stack, no source assembly, no help page, no method that threw
        // (TargetSite is null for an exception never thrown from a method, as here).
        "StackTrace" | "Source" | "HelpLink" | "TargetSite" => Value::Null,
        "Data" => e.data.get(),
        "HResult" if let Some(h) = hresult(e.kind) => Value::Int(i64::from(h)),
        _ => {
            let v = Value::Object(Object::Exception(Arc::new(e.clone())));
            return Err(no_member(&v, name, at));
        }
    })
}

/// `ex.HResult`: the HRESULT each exception type's constructors set (.NET's HResults.cs);
/// a type that sets none has its base type's. `None` for a kind not listed.
fn hresult(kind: &str) -> Option<i32> {
    Some(match kind {
        "Exception"
        | "JsonException"
        | "JsonReaderException"
        | "JsonSerializationException"
        | "JsonWriterException"
        | "RuntimeBinderException" => 0x8013_1500_u32 as i32,
        "SystemException" => 0x8013_1501_u32 as i32,
        "ApplicationException" => 0x8013_1600_u32 as i32,
        "ArgumentException" => 0x8007_0057_u32 as i32,
        "ArgumentNullException" | "NullReferenceException" => 0x8000_4003_u32 as i32,
        "ArgumentOutOfRangeException" => 0x8013_1502_u32 as i32,
        "ArithmeticException" => 0x8007_0216_u32 as i32,
        "DivideByZeroException" => 0x8002_0012_u32 as i32,
        "OverflowException" => 0x8013_1516_u32 as i32,
        "FormatException" | "UriFormatException" => 0x8013_1537_u32 as i32,
        "IndexOutOfRangeException" => 0x8013_1508_u32 as i32,
        "InvalidCastException" => 0x8000_4002_u32 as i32,
        "InvalidOperationException" => 0x8013_1509_u32 as i32,
        "KeyNotFoundException" => 0x8013_1577_u32 as i32,
        "NotSupportedException" => 0x8013_1515_u32 as i32,
        "PlatformNotSupportedException" => 0x8013_1539_u32 as i32,
        "NotImplementedException" => 0x8000_4001_u32 as i32,
        "TimeoutException" => 0x8013_1505_u32 as i32,
        "UnauthorizedAccessException" => 0x8007_0005_u32 as i32,
        "OutOfMemoryException" => 0x8007_000E_u32 as i32,
        _ => return None,
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
        // `GetObjectData(info, context)`: no SerializationInfo can be made in an expression
        // (the type is not allowed), so only null reaches it, which .NET refuses.
        "GetObjectData" => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'info')",
                at,
            ));
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
