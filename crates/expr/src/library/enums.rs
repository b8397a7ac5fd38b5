//! The enums of APIM's allowed types as values and `System.Enum`'s members on them: the
//! static ones (`Enum.Parse(typeof(X), s)`, `GetName`, `GetNames`, `GetValues`, `IsDefined`,
//! `Format`, `ToObject`, also reached through the enum's own name as C# allows:
//! `X.GetNames(…)`) and the instance ones (`ToString([format])`, `CompareTo`, `Equals`,
//! `GetHashCode`, `GetTypeCode`, `HasFlag`).
//!
//! An enum value is a [`Value::Enum`]: the enum (its name in crates/expr/src/library/
//! enum_table.rs) and its underlying value, so it prints its name, compares, casts and
//! combines (`|`, `&`) as in C#, and `GetType()` is the enum's type. The tables carry .NET's
//! underlying values so that parsing, formatting and `GetValues` order agree with C# (checked
//! against Mono by the oracle's `// enums` entries, crates/expr/tests/oracle/expressions.txt).

use super::enum_table::{ENUMS, EnumType};
use super::*;

/// `System.Enum`'s static methods implemented here.
pub(crate) const ENUM_STATICS: &[&str] = &[
    "Parse",
    "GetName",
    "GetNames",
    "GetValues",
    "IsDefined",
    "Format",
    "ToObject",
    "GetUnderlyingType",
];

fn find(ty: &str) -> Option<&'static EnumType> {
    // `typeof(System.DayOfWeek)` names the type with its namespace.
    let simple = ty.rsplit('.').next().unwrap_or(ty);
    ENUMS.iter().find(|e| e.name == simple)
}

/// Whether `ty` is one of the enums above (or `Enum` itself).
pub(crate) fn is_enum_type(ty: &str) -> bool {
    ty == "Enum" || find(ty).is_some()
}

/// Whether `ty.name(…)` is a `System.Enum` static method this module answers.
pub(crate) fn enum_static_exists(ty: &str, name: &str) -> bool {
    // TryParse has an out argument: the interpreter calls [`enum_try_parse`] for it.
    is_enum_type(ty) && (ENUM_STATICS.contains(&name) || name == "TryParse")
}

/// `Enum.TryParse<X>(s[, ignoreCase], out v)`: whether `s` parses (as [`enum_static`]'s
/// `Parse` does) and the value, else `default(X)`, the value 0.
pub(crate) fn enum_try_parse(ty: &str, inputs: &[Value], at: usize) -> F<(bool, Value)> {
    let e = find(ty).ok_or_else(|| {
        rt(
            "ArgumentException",
            "Type provided must be an Enum.\nParameter name: enumType",
            at,
        )
    })?;
    let ignore_case = matches!(inputs.get(1), Some(Value::Bool(true)));
    Ok(match inputs.first() {
        Some(Value::String(s)) => match parse_names(e, s, ignore_case) {
            Some(v) => (true, held(e, v)),
            None => (false, held(e, 0)),
        },
        _ => (false, held(e, 0)),
    })
}

/// `X.Name`: the member of one of the enums.
pub(crate) fn enum_static_property(ty: &str, name: &str) -> Option<Value> {
    enum_member(ty, name)
}

/// Whether `X.Name` is a member of one of those enums (for `policy check`).
pub(crate) fn enum_property_exists(ty: &str, name: &str) -> bool {
    enum_static_property(ty, name).is_some()
}

/// An instance of the enum type for crates/expr/src/surface.rs to probe its members on.
pub fn enum_sample(dotnet: &str) -> Option<&'static str> {
    let simple = dotnet.rsplit('.').next().unwrap_or(dotnet);
    Some(match simple {
        "JTokenType" => "JTokenType.Array",
        "DateTimeKind" => "DateTimeKind.Utc",
        "UriPartial" => "UriPartial.Path",
        "DayOfWeek" => "DayOfWeek.Monday",
        "MidpointRounding" => "MidpointRounding.AwayFromZero",
        "CipherMode" => "CipherMode.CBC",
        "PaddingMode" => "PaddingMode.PKCS7",
        "X509ContentType" => "X509ContentType.Cert",
        "X509NameType" => "X509NameType.SimpleName",
        "XmlNodeType" => "XmlNodeType.Element",
        _ => return None,
    })
}

/// The enum value `value` of `e`.
fn held(e: &EnumType, value: i64) -> Value {
    Value::Enum(e.name, value)
}

/// The value of member `name` of enum `ty` (`DayOfWeek.Monday`), as producers give it.
pub(crate) fn enum_member(ty: &str, name: &str) -> Option<Value> {
    let e = find(ty)?;
    let v = e.members.iter().find(|(n, _)| *n == name)?.1;
    Some(held(e, v))
}

/// The full name of the enum (`System.DayOfWeek`), for `GetType()`.
pub(crate) fn enum_full_name(ty: &str) -> &'static str {
    find(ty).map_or("System.Enum", |e| e.full_name)
}

/// `ToString()` of an enum value: its name, a flags enum's comma list, else the number.
pub(crate) fn enum_display(ty: &str, value: i64) -> String {
    find(ty)
        .and_then(|e| format_value(e, value, "G"))
        .unwrap_or_else(|| value.to_string())
}

/// The underlying value of an argument: a value of the enum or an integer (what
/// `Enum.GetName`, `Format`, `IsDefined` take as their `object`).
fn underlying(e: &EnumType, v: &Value, at: usize) -> F<i64> {
    match v {
        Value::Enum(t, x) if *t == e.name => Ok(*x),
        v if v.is_number() && int_of(v).is_some() => Ok(int_of(v).unwrap_or(0)),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: value",
            at,
        )),
        other => Err(rt(
            "ArgumentException",
            format!(
                "Object must be the same type as the enum. The type passed in was '{}'; the enum type was '{}'.",
                other.type_name(),
                e.name
            ),
            at,
        )),
    }
}

/// `Enum.Parse`'s grammar: a number, a name, or (any enum, as .NET allows) a comma list of
/// names and numbers OR'ed together; surrounding blanks ignored.
fn parse_names(e: &EnumType, s: &str, ignore_case: bool) -> Option<i64> {
    let mut acc = 0i64;
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return None;
        }
        let v = if part.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            part.parse::<i32>().ok()? as i64
        } else {
            e.members
                .iter()
                .find(|(n, _)| {
                    if ignore_case {
                        n.eq_ignore_ascii_case(part)
                    } else {
                        *n == part
                    }
                })?
                .1
        };
        acc |= v;
    }
    Some(acc)
}

/// The name .NET gives a value: the first name declared for it.
fn name_of(e: &EnumType, value: i64) -> Option<&'static str> {
    e.members.iter().find(|(_, v)| *v == value).map(|(n, _)| *n)
}

/// `Enum.Format` / `ToString(format)`: "G" (name; flags: comma list of names, else the
/// number), "F" (comma list even without `[Flags]`), "D" (decimal), "X" (8 hex digits).
fn format_value(e: &EnumType, value: i64, format: &str) -> Option<String> {
    Some(match format {
        "D" | "d" => value.to_string(),
        "X" | "x" => format!("{:08X}", value as i32),
        "G" | "g" if !e.flags => name_of(e, value)
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string()),
        "G" | "g" | "F" | "f" => flag_names(e, value),
        _ => return None,
    })
}

/// A flags value as .NET writes it: the declared names whose bits make it up, highest first in
/// the search and written lowest first; the number when the bits do not add up.
fn flag_names(e: &EnumType, value: i64) -> String {
    if let Some(n) = name_of(e, value) {
        return n.to_string();
    }
    let mut rest = value;
    let mut names = Vec::new();
    let mut by_value: Vec<&(&str, i64)> = e.members.iter().collect();
    by_value.sort_by_key(|(_, v)| std::cmp::Reverse(*v));
    for (n, v) in by_value {
        if *v != 0 && rest & v == *v {
            rest &= !v;
            names.push(*n);
        }
    }
    if rest != 0 || names.is_empty() {
        return value.to_string();
    }
    names.reverse();
    names.join(", ")
}

/// `(X)v` to one of the enums: from its underlying value (`(DayOfWeek)1`) or from a value of
/// any enum (C#'s explicit enum-to-enum conversion); `None` when `ty` is not one of them.
pub(crate) fn enum_cast(v: &Value, ty: &str, at: usize) -> Option<F<Value>> {
    let e = find(ty)?;
    Some(match v {
        Value::Enum(_, x) => Ok(held(e, *x)),
        v if v.is_number() && int_of(v).is_some() => Ok(held(e, int_of(v).unwrap_or(0))),
        other => Err(cast_err(other, e.full_name, at)),
    })
}

/// `flags.HasFlag(flag)`: whether every bit of `flag` is set; `flag` must be a value of the
/// same enum.
fn enum_has_flag(ty: &str, x: i64, flag: &Value, at: usize) -> F<Value> {
    match flag {
        Value::Enum(u, f) if *u == ty => Ok(Value::Bool(x & f == *f)),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'flag')",
            at,
        )),
        other => Err(rt(
            "ArgumentException",
            format!(
                "The argument type, '{}', is not the same as the enum type '{}'.",
                other.type_name(),
                enum_full_name(ty)
            ),
            at,
        )),
    }
}

/// An enum value's own members (`Equals`, `GetHashCode`, `GetType`, `GetTypeCode` are
/// Object's, crates/expr/src/library/objects.rs); `None` for another name.
pub(crate) fn enum_method(
    ty: &str,
    x: i64,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let e = find(ty)?;
    Some((|| {
        Ok(match (name, args.len()) {
            ("ToString", 0) => Value::str(enum_display(ty, x)),
            // `ToString(null)` and `ToString("")` are "G".
            ("ToString", 1) => {
                let f = match arg(args, 0, at)? {
                    Value::Null => String::new(),
                    v => as_str(v, at)?,
                };
                Value::str(enum_format(ty, x, &f, at)?)
            }
            ("CompareTo", 1) => match arg(args, 0, at)? {
                Value::Null => Value::Int(1),
                Value::Enum(u, y) if *u == e.name => Value::Int(x.cmp(y) as i64),
                other => {
                    return Err(rt(
                        "ArgumentException",
                        format!(
                            "Object must be the same type as the enum. The type passed in was '{}'; the enum type was '{}'.",
                            other.type_name(),
                            e.full_name
                        ),
                        at,
                    ));
                }
            },
            ("HasFlag", 1) => enum_has_flag(ty, x, arg(args, 0, at)?, at)?,
            _ => return Err(no_member(&held(e, x), name, at)),
        })
    })())
}

/// `e.ToString(format)`, `{0:D}` in a composite format or an interpolation: an empty format is
/// "G"; another than G, F, D, X (either case) is a FormatException.
pub(crate) fn enum_format(ty: &str, x: i64, f: &str, at: usize) -> F<String> {
    let f = if f.is_empty() { "G" } else { f };
    find(ty)
        .and_then(|e| format_value(e, x, f))
        .ok_or_else(format_error(at))
}

fn format_error(at: usize) -> impl Fn() -> Flow {
    move || {
        rt(
            "FormatException",
            "Format String can be only \"G\", \"g\", \"X\", \"x\", \"F\", \"f\", \"D\" or \"d\".",
            at,
        )
    }
}

fn enum_arg(args: &Args, at: usize) -> F<&'static EnumType> {
    let v = arg(args, 0, at)?;
    let name = match v {
        Value::String(s) => s.to_string(),
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null.\nParameter name: enumType",
                at,
            ));
        }
        other => other.to_display(),
    };
    find(&name).ok_or_else(|| {
        rt(
            "ArgumentException",
            "Type provided must be an Enum.\nParameter name: enumType",
            at,
        )
    })
}

/// `Enum.M(typeof(X), …)` (or `X.M(typeof(X), …)`); `None` for a method not listed in
/// [`ENUM_STATICS`].
pub(crate) fn enum_static(it: &mut Interp, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    if !ENUM_STATICS.contains(&name) {
        return Ok(None);
    }
    let e = enum_arg(args, at)?;
    it.charge(e.members.len().saturating_mul(SLOT), at)?;
    Ok(Some(match name {
        "Parse" => {
            let s = as_str(arg(args, 1, at)?, at)?;
            let ignore_case = matches!(args.get(2), Some((_, Value::Bool(true))));
            let v = parse_names(e, &s, ignore_case).ok_or_else(|| {
                rt(
                    "ArgumentException",
                    format!("Requested value '{s}' was not found."),
                    at,
                )
            })?;
            held(e, v)
        }
        "GetName" => {
            let v = underlying(e, arg(args, 1, at)?, at)?;
            name_of(e, v).map(Value::str).unwrap_or(Value::Null)
        }
        "GetNames" => Value::Array(sorted(e).into_iter().map(|(n, _)| Value::str(n)).collect()),
        "GetValues" => Value::Array(sorted(e).into_iter().map(|(_, v)| held(e, v)).collect()),
        "IsDefined" => Value::Bool(match arg(args, 1, at)? {
            Value::String(s) => e.members.iter().any(|(n, _)| **n == **s),
            v => {
                let v = underlying(e, v, at)?;
                e.members.iter().any(|(_, x)| *x == v)
            }
        }),
        "Format" => {
            let v = underlying(e, arg(args, 1, at)?, at)?;
            let f = as_str(arg(args, 2, at)?, at)?;
            Value::str(format_value(e, v, &f).ok_or_else(format_error(at))?)
        }
        // Every enum of the table is an `int` enum (none declares another underlying type).
        "GetUnderlyingType" => Value::str("System.Int32"),
        "ToObject" => match arg(args, 1, at)? {
            Value::Enum(_, x) => held(e, *x),
            v => held(e, as_int(v, at)?),
        },
        _ => return Ok(None),
    }))
}

/// Names and values in .NET's order: by unsigned underlying value, declaration order kept
/// among equal values.
fn sorted(e: &EnumType) -> Vec<(&'static str, i64)> {
    let mut v = e.members.to_vec();
    v.sort_by_key(|(_, x)| *x as u64);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(n: &str) -> &'static EnumType {
        find(n).unwrap_or_else(|| panic!("{n}"))
    }

    #[test]
    fn formats_as_dotnet() {
        let r = ty("RegexOptions");
        assert_eq!(flag_names(r, 3), "IgnoreCase, Multiline");
        assert_eq!(flag_names(r, 0), "None");
        assert_eq!(flag_names(r, 1024), "1024");
        assert_eq!(format_value(r, 17, "D").as_deref(), Some("17"));
        assert_eq!(format_value(r, 17, "X").as_deref(), Some("00000011"));
        let d = ty("System.DayOfWeek");
        assert_eq!(format_value(d, 3, "G").as_deref(), Some("Wednesday"));
        assert_eq!(format_value(d, 9, "G").as_deref(), Some("9"));
        assert_eq!(format_value(d, 3, "Q"), None);
    }

    #[test]
    fn parses_names_numbers_and_lists() {
        let r = ty("RegexOptions");
        assert_eq!(parse_names(r, "IgnoreCase, Multiline", false), Some(3));
        assert_eq!(parse_names(r, "ignorecase", false), None);
        assert_eq!(parse_names(r, "ignorecase", true), Some(1));
        assert_eq!(parse_names(r, " 16 ", false), Some(16));
        assert_eq!(parse_names(r, "", false), None);
    }
}
