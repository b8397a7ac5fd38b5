//! Casts and conversions of the token kinds Newtonsoft has beyond the plain ones:
//! `(JConstructor)t`, `(JRaw)t`, a constructor that is no `JArray`, and a container refused
//! by the explicit conversions to .NET's primitive types (checked under Mono,
//! crates/expr/tests/oracle/expressions-json.txt).

use super::*;
use crate::jtree::Flavor;

/// `(JConstructor)t`, `(JRaw)t`, and `(JArray)` of a constructor: whether the cast succeeds;
/// `None` where the ordinary token casts answer.
pub(crate) fn special_cast(j: &JToken, ty: &str) -> Option<bool> {
    match ty {
        "JConstructor" => Some(j.is_constructor()),
        "JRaw" => Some(j.flavor() == Flavor::Raw),
        "JArray" if j.is_constructor() => Some(false),
        _ => None,
    }
}

/// `(int)container`, `container.ToObject<DateTime>()`: Newtonsoft's explicit conversions
/// refuse a container as `Can not convert Array to Int32.` (an ArgumentException); `None`
/// for a target that is not one of those conversions' types.
pub(crate) fn container_conversion_err(j: &JToken, ty: &str, at: usize) -> Option<Flow> {
    let target = match ty {
        "string" => "String",
        "bool" => "Boolean",
        "char" => "Char",
        "DateTime" => "DateTime",
        "DateTimeOffset" => "DateTimeOffset",
        "Guid" => "Guid",
        "TimeSpan" => "TimeSpan",
        "Uri" => "Uri",
        n => crate::numeric::Kind::named(n)?
            .full_name()
            .trim_start_matches("System."),
    };
    let kind = if j.is_constructor() {
        "Constructor"
    } else {
        match j.kind() {
            JKind::Object => "Object",
            JKind::Array => "Array",
            JKind::Property => "Property",
            JKind::Value => return None,
        }
    };
    Some(rt(
        "ArgumentException",
        format!("Can not convert {kind} to {target}."),
        at,
    ))
}
