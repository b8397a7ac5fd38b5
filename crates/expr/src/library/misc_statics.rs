//! Static members of the text, conversion and random-number types that the per-family
//! dispatchers do not answer: `bool.TrueString`, `Convert.ToDateTime`,
//! `Convert.FromBase64CharArray`, `string.Intern`, `RNGCryptoServiceProvider`'s inherited
//! statics, and the span-writing statics (crates/expr/src/library/spans.rs) for
//! `policy check`'s and the surface table's sake.

use super::*;

/// Whether `ty.name` is one of this module's (or the span path's) statics.
pub(crate) fn misc_static_exists(ty: &str, name: &str, call: bool) -> bool {
    if !call {
        return matches!(
            (ty, name),
            ("bool", "TrueString" | "FalseString") | ("Convert", "DBNull")
        );
    }
    matches!(
        (ty, name),
        ("BitConverter", "TryWriteBytes")
            | (
                "Convert",
                "TryToBase64Chars"
                    | "TryFromBase64Chars"
                    | "TryFromBase64String"
                    | "ToBase64CharArray"
                    | "FromBase64CharArray"
                    | "ToDateTime"
            )
            | ("RandomNumberGenerator", "Fill")
            | (
                "RNGCryptoServiceProvider",
                "Fill" | "Create" | "GetInt32" | "GetBytes"
            )
            | ("string", "Intern" | "IsInterned")
            | ("Encoding", "GetEncodings" | "RegisterProvider")
    )
}

/// The key that marks the record standing for `DBNull.Value` (crates/expr/src/value.rs names
/// and prints it by this key).
pub(crate) const DBNULL: &str = "\u{0}DBNull";

/// Whether `v` is `DBNull.Value` (`Convert.DBNull`).
pub(crate) fn is_dbnull(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Record(r)) if r.contains_key(DBNULL))
}

/// `bool.TrueString`, `bool.FalseString`, `Convert.DBNull`.
pub(crate) fn misc_static_property(ty: &str, name: &str) -> Option<Value> {
    Some(match (ty, name) {
        ("bool", "TrueString") => Value::str("True"),
        ("bool", "FalseString") => Value::str("False"),
        // `DBNull.Value`: a database null, not a null reference; it prints as "".
        ("Convert", "DBNull") => Value::Object(Object::Record(std::sync::Arc::new(
            std::collections::BTreeMap::from([(DBNULL.to_string(), Value::Null)]),
        ))),
        _ => return None,
    })
}

pub(crate) fn misc_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some(match (ty, name) {
        ("Convert", "FromBase64CharArray") => span_text::from_base64_char_array(it, args, at),
        ("Convert", "ToDateTime") => to_date_time(it, args, at),
        ("RNGCryptoServiceProvider", "Create" | "GetInt32" | "GetBytes") => {
            // RandomNumberGenerator's statics, reached through the derived type as C# allows.
            call_static(it, "RandomNumberGenerator", name, &[], args.clone(), at)
        }
        // Strings are values here: every string is its own intern-pool entry.
        ("string", "Intern" | "IsInterned") => match arg(args, 0, at) {
            Ok(Value::Null) => Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'str')",
                at,
            )),
            Ok(v @ Value::String(_)) => Ok(v.clone()),
            Ok(other) => Err(cast_err(other, "System.String", at)),
            Err(e) => Err(e),
        },
        _ => return None,
    })
}

/// `Convert.ToDateTime(value[, provider])`: null is `DateTime.MinValue`, a string is parsed as
/// `DateTime.Parse` does, a DateTime is itself, and the other IConvertible types refuse with
/// "Invalid cast from 'X' to 'DateTime'." as .NET's IConvertible.ToDateTime does.
fn to_date_time(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let v = arg(args, 0, at)?;
    match v {
        Value::Null => Ok(Value::DateTime(DateTime(0, DateTimeKind::Unspecified))),
        Value::DateTime(_) => Ok(v.clone()),
        Value::String(_) => {
            let mut rest = vec![(None, v.clone())];
            if let Some((_, p)) = args.get(1) {
                rest.push((None, p.clone()));
            }
            call_static(it, "DateTime", "Parse", &[], rest, at)
        }
        _ if is_dbnull(v) => Err(rt(
            "InvalidCastException",
            "Object cannot be cast from DBNull to other types.",
            at,
        )),
        _ if v.is_number() || matches!(v, Value::Bool(_) | Value::Char(_)) => {
            let full = v.type_name();
            Err(invalid_cast(full.rsplit('.').next().unwrap_or(full), at))
        }
        other => Err(cast_err(other, "System.IConvertible", at)),
    }
}

fn invalid_cast(from: &str, at: usize) -> Flow {
    rt(
        "InvalidCastException",
        format!("Invalid cast from '{from}' to 'DateTime'."),
        at,
    )
}
