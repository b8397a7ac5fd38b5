//! Conversions between values and CLR types: `as_*` argument coercions, casts, `is`, defaults,
//! `TryParse`, equality, and the number/Guid parsers the statics share.

use super::*;
use crate::numeric::{Kind, Num};

pub(super) fn as_str(v: &Value, at: usize) -> F<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Char(c) => Ok(c.to_string()),
        Value::Json(j) if j.with_scalar(J::is_string) == Some(true) => Ok(j
            .with_scalar(|s| s.as_str().unwrap_or_default().to_string())
            .unwrap_or_default()),
        // An enum argument of the members that take one by name (`StringComparison`,
        // `MidpointRounding`, `UriPartial`, `CipherMode` …): its name.
        Value::Enum(t, v) => Ok(crate::library::enum_display(t, *v)),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.String", at)),
    }
}

pub(super) fn as_int(v: &Value, at: usize) -> F<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        // A long, uint … passed where the library takes an integer (C# converts the narrower
        // kinds implicitly; the library's long parameters take them all).
        Value::Long(_)
        | Value::UInt(_)
        | Value::ULong(_)
        | Value::Short(_)
        | Value::UShort(_)
        | Value::Byte(_)
        | Value::SByte(_) => Ok(Num::of(v).and_then(Num::int).unwrap_or(0) as i64),
        Value::Char(c) => Ok(*c as i64),
        // An enum argument of the members that test its bits (`RegexOptions`, `Formatting`,
        // `SaveOptions`, `LoadOptions`), and `Convert.ToInt32(e)`: its underlying value.
        Value::Enum(_, v) => Ok(*v),
        Value::Json(j) if j.with_scalar(J::is_i64) == Some(true) => {
            Ok(j.with_scalar(J::as_i64).flatten().unwrap_or(0))
        }
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Int32", at)),
    }
}

pub(super) fn as_f64(v: &Value, at: usize) -> F<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Double(d) => Ok(*d),
        v if v.is_number() => Ok(Num::of(v).map(Num::f64).unwrap_or(0.0)),
        Value::Json(j) if j.with_scalar(J::is_number) == Some(true) => {
            Ok(j.with_scalar(J::as_f64).flatten().unwrap_or(f64::NAN))
        }
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Double", at)),
    }
}

/// The zero of a number's own type (`default(T)` for a sequence of longs is `0L`).
pub(crate) fn zero_like(v: &Value) -> Option<Value> {
    let k = Num::of(v).filter(|_| v.is_number())?.kind();
    Num::I32(0).convert(k, false).ok().map(Num::value)
}

/// An integral value (any width, or a char's code unit), if `v` is one.
pub(crate) fn int_of(v: &Value) -> Option<i64> {
    Num::of(v).and_then(Num::int).map(|i| i as i64)
}

pub(super) fn as_bytes(v: &Value, at: usize) -> F<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Array(a) => a.iter().map(|x| as_int(x, at).map(|i| i as u8)).collect(),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Byte[]", at)),
    }
}

pub(super) fn as_bool(v: &Value, at: usize) -> F<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Json(j) if j.with_scalar(J::is_boolean) == Some(true) => {
            Ok(j.with_scalar(J::as_bool).flatten().unwrap_or(false))
        }
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Boolean", at)),
    }
}

/// Implicit conversion for a typed local (`double d = 1;`).
pub(crate) fn implicit(v: Value, ty: &TypeRef) -> Value {
    if let Some(x) = xml_implicit(&ty.name, &v) {
        return x;
    }
    // `long[] a = { 1, 2 };`, `List<decimal> l = new List<decimal> { 1 };`: each element.
    let elem = match (ty.array, ty.name.as_str(), ty.args.as_slice()) {
        (1, n, _) => Some(n),
        (0, "List" | "IList" | "IEnumerable", [e]) if e.array == 0 => Some(e.name.as_str()),
        _ => None,
    };
    if let (Some(e), Value::Array(items)) = (elem, &v)
        && Kind::named(e).is_some()
    {
        let et = TypeRef {
            name: e.to_string(),
            args: Vec::new(),
            array: 0,
            nullable: false,
        };
        return Value::Array(items.iter().map(|x| implicit(x.clone(), &et)).collect());
    }
    // `long n = 1;`, `double d = 1;`, `decimal m = 2;`: the declared numeric type.
    if ty.array == 0
        && let (Some(k), Some(n)) = (Kind::named(&ty.name), Num::of(&v))
        && !(matches!(v, Value::Char(_)) && !k.is_integral() && k != Kind::Double)
        && let Ok(m) = n.convert(k, false)
    {
        return m.value();
    }
    v
}

/// The value a declared type holds, for local-function parameters and returns and `out`
/// variables: a number takes the declared numeric type (`short` wraps a wider value as an
/// unchecked conversion would; an int stored as `double` becomes one).
pub(crate) fn convert_declared(v: Value, ty: &TypeRef) -> Value {
    implicit(v, ty)
}

/// `T.TryParse(s, out T v)`: `T.Parse` with failures turned into `(false, default(T))`.
pub(crate) fn try_parse(
    it: &mut Interp,
    ty: &str,
    name: &str,
    inputs: Vec<Value>,
    at: usize,
) -> F<(bool, Value)> {
    if let Some(r) = net::try_create(it, ty, name, &inputs, at) {
        return r;
    }
    // `TryParseExact(s, format, provider[, styles], out v)`: ParseExact, failures false.
    if name == "TryParseExact" && matches!(ty, "DateTime" | "DateTimeOffset" | "TimeSpan") {
        let tr = TypeRef {
            name: ty.to_string(),
            args: Vec::new(),
            array: 0,
            nullable: false,
        };
        let args = inputs.into_iter().map(|v| (None, v)).collect();
        return match call_static(it, ty, "ParseExact", &[], args, at) {
            Ok(v) => Ok((true, v)),
            Err(Flow::Err(e)) if e.budget.is_none() => Ok((false, default_of(&tr))),
            Err(f) => Err(f),
        };
    }
    // `char.TryParse(s, out c)`: a string of exactly one char.
    if (ty, name) == ("char", "TryParse") {
        let mut cs = match inputs.first() {
            Some(Value::String(s)) => s.chars(),
            _ => "".chars(),
        };
        return Ok(match (cs.next(), cs.next()) {
            (Some(c), None) if (c as u32) < 0x10000 => (true, Value::Char(c)),
            _ => (false, Value::Char('\0')),
        });
    }
    if (ty, name) == ("Guid", "TryParseExact") {
        return guid_try_parse_exact(&inputs, at);
    }
    let supported = crate::features::TRY_PARSE_TYPES.contains(&ty);
    if name != "TryParse" || !supported {
        return Err(rt(
            "NotSupportedException",
            format!("{ty}.{name} with an out argument is not supported"),
            at,
        ));
    }
    let tr = TypeRef {
        name: ty.to_string(),
        args: Vec::new(),
        array: 0,
        nullable: false,
    };
    let Some(input) = inputs.into_iter().next() else {
        return Err(rt("ArgumentException", "missing argument 1", at));
    };
    let parsed = call_static(it, ty, "Parse", &[], vec![(None, input)], at);
    match parsed {
        Ok(v) => Ok((true, v)),
        // Any parse failure, null input included, is `false` rather than an exception.
        // A budget running out is not a parse failure: it ends the evaluation.
        Err(Flow::Err(e)) if e.budget.is_none() => Ok((false, default_of(&tr))),
        Err(f) => Err(f),
    }
}

/// `x.TryGetValue(key, out v)` on a JObject, a context dictionary or a dictionary value.
pub(crate) fn try_get_value(
    it: &mut Interp,
    t: Value,
    name: &str,
    inputs: Vec<Value>,
    at: usize,
) -> F<(bool, Value)> {
    if let Some(r) = builder_try(&t, name, &inputs, at) {
        return r;
    }
    // APIM's `header.TryParseJwt(out var jwt)` / `TryParseBasic(out var credentials)`.
    if let (Value::String(s), "TryParseJwt" | "TryParseBasic", true) = (&t, name, inputs.is_empty())
    {
        let v = if name == "TryParseJwt" {
            as_jwt(s)
        } else {
            as_basic(s)
        };
        return Ok((!v.is_null(), v));
    }
    if name != "TryGetValue" {
        return Err(rt(
            "NotSupportedException",
            format!(
                "{}.{name} with an out argument is not supported",
                t.type_name()
            ),
            at,
        ));
    }
    if let (Value::Object(Object::Map(m)), Some(k)) = (&t, inputs.first()) {
        return Ok(match map_try_get(m, k) {
            Some(v) => (true, v),
            None => (false, Value::Null),
        });
    }
    let key = as_str(
        arg(&inputs.into_iter().map(|v| (None, v)).collect(), 0, at)?,
        at,
    )?;
    let found = match &t {
        Value::Json(j) if j.is_object() => j.get(&key).map(Value::Json),
        Value::Object(Object::Context(path)) => {
            let p: Vec<&str> = path.iter().map(|s| &**s).collect();
            if !is_dictionary(&p) {
                return Err(no_member(&t, name, at));
            }
            super::context::dictionary_entry(it, &p, &key)
        }
        Value::Object(Object::Dictionary(d)) | Value::Object(Object::Record(d)) => {
            dict_get(d, &key)
        }
        _ => return Err(no_member(&t, name, at)),
    };
    Ok(match found {
        Some(v) => (true, v),
        None => (false, Value::Null),
    })
}

pub(crate) fn default_of(ty: &TypeRef) -> Value {
    if ty.nullable || ty.array > 0 {
        return Value::Null;
    }
    match ty.name.as_str() {
        n if Kind::named(n).is_some() => Kind::named(n)
            .and_then(|k| Num::I32(0).convert(k, false).ok())
            .map(Num::value)
            .unwrap_or(Value::Int(0)),
        "bool" => Value::Bool(false),
        "char" => Value::Char('\0'),
        "DateTime" => Value::DateTime(DateTime(0, DateTimeKind::Unspecified)),
        "DateTimeOffset" => at_utc(DateTime(0, DateTimeKind::Unspecified)),
        "TimeSpan" => Value::TimeSpan(TimeSpan(0)),
        "Guid" => Value::Guid(0),
        _ => Value::Null,
    }
}

pub(crate) fn is_instance(v: &Value, ty: &TypeRef) -> bool {
    if ty.array > 0 {
        return matches!(v, Value::Array(_) | Value::Bytes(_));
    }
    if let Some(is) = crypto::is_instance(v, &ty.name) {
        return is;
    }
    match (ty.name.as_str(), v) {
        (_, Value::Null) => false,
        ("object", _) => true,
        (n, Value::Object(Object::Exception(e))) => crate::exceptions::is_a(e.kind, n),
        ("string", Value::String(_)) => true,
        // A number is exactly its own type (`1L is int` is false).
        (n, v) if v.is_number() => {
            Kind::named(n).is_some_and(|k| Num::of(v).is_some_and(|x| x.kind() == k))
        }
        ("bool", Value::Bool(_)) => true,
        ("char", Value::Char(_)) => true,
        // An enum value is its enum, an Enum and a ValueType (not its underlying type).
        ("Enum" | "ValueType", Value::Enum(..)) => true,
        (n, Value::Enum(t, _)) => n.rsplit('.').next() == Some(*t),
        ("DateTime", Value::DateTime(_)) => true,
        ("DateTimeOffset", Value::DateTimeOffset(_)) => true,
        ("TimeSpan", Value::TimeSpan(_)) => true,
        ("Guid", Value::Guid(_)) => true,
        ("JObject", Value::Json(j)) => j.is_object(),
        ("JArray", Value::Json(j)) => j.is_array() && !j.is_constructor(),
        ("JConstructor", Value::Json(j)) => j.is_constructor(),
        ("JRaw", Value::Json(j)) => j.flavor() == crate::jtree::Flavor::Raw,
        ("JProperty", Value::Json(j)) => j.is_property(),
        ("JContainer", Value::Json(j)) => j.is_container(),
        ("JToken", Value::Json(_)) => true,
        ("JValue", Value::Json(j)) => !j.is_container(),
        ("IResponse", Value::Object(Object::Record(_))) => true,
        ("XDocument" | "XContainer" | "XNode" | "XObject", Value::Object(Object::XDocument(_))) => {
            true
        }
        ("XElement" | "XContainer" | "XNode" | "XObject", Value::Object(Object::XElement(_))) => {
            true
        }
        ("XAttribute" | "XObject", Value::Object(Object::XAttribute(_))) => true,
        ("XName", Value::Object(Object::XName(_))) => true,
        ("XNamespace", Value::Object(Object::XNamespace(_))) => true,
        ("XNode" | "XObject", Value::Object(Object::XNode(_))) => true,
        // `XCData` derives from `XText`.
        ("XText", Value::Object(Object::XNode(n))) if n.kind() == crate::xml::XKind::CData => true,
        (t, Value::Object(Object::XNode(n))) => n.type_name().ends_with(t),
        (t, Value::Object(Object::Io(o))) => io_is_a(o.type_name, t),
        (
            "Dictionary"
            | "IDictionary"
            | "IReadOnlyDictionary"
            | "ICollection"
            | "IReadOnlyCollection"
            | "IEnumerable",
            Value::Object(Object::Map(_)),
        ) => true,
        (
            "List"
            | "IEnumerable"
            | "IList"
            | "ICollection"
            | "IReadOnlyCollection"
            | "IReadOnlyList",
            Value::Array(_),
        ) => true,
        _ => false,
    }
}

/// Whether a stateful object (`StringBuilder`, `StringReader`, `Queue<T>` …; crates/expr/src/io.rs)
/// is a `t`: its own type by simple name (`System.Text.StringBuilder` is a `StringBuilder`), or
/// a base type or interface .NET gives it.
fn io_is_a(type_name: &str, t: &str) -> bool {
    let simple = type_name.rsplit('.').next().unwrap_or(type_name);
    let simple = simple.split('`').next().unwrap_or(simple);
    simple == t
        || matches!(
            (simple, t),
            ("StringReader", "TextReader")
                | ("StringWriter", "TextWriter")
                | (
                    "Queue" | "Stack" | "HashSet",
                    "IEnumerable" | "ICollection" | "IReadOnlyCollection"
                )
                | ("HashSet", "ISet")
        )
}

/// `(T)x`: the explicit conversions policies rely on, mostly unwrapping JSON values and
/// narrowing numbers; anything else fails like .NET's InvalidCastException.
pub(crate) fn cast(v: Value, ty: &TypeRef, at: usize) -> F<Value> {
    cast_in(v, ty, false, at)
}

/// `(T)x` in a checked (`checked(…)`) or unchecked context: a numeric conversion that loses
/// the value throws OverflowException only when checked.
pub(crate) fn cast_in(v: Value, ty: &TypeRef, checked: bool, at: usize) -> F<Value> {
    if let Some(x) = xml_implicit(&ty.name, &v) {
        return Ok(x);
    }
    // An enum value boxes as itself and converts explicitly to any numeric type through its
    // underlying `int`; to another enum by enum_cast.
    if ty.array == 0
        && let Value::Enum(_, x) = v
    {
        let name = ty.name.rsplit('.').next().unwrap_or(&ty.name);
        if matches!(
            name,
            "object"
                | "Object"
                | "Enum"
                | "ValueType"
                | "IComparable"
                | "IFormattable"
                | "IConvertible"
        ) {
            return Ok(v);
        }
        if !is_enum_type(name) {
            return cast_in(Value::Int(x), ty, checked, at).map_err(|_| cast_err(&v, &ty.name, at));
        }
    }
    if ty.array == 0
        && let Some(r) = enum_cast(&v, &ty.name, at)
    {
        return r;
    }
    if ty.array > 0 {
        return match v {
            Value::Null | Value::Array(_) | Value::Bytes(_) => Ok(v),
            Value::Json(j) if j.is_array() => {
                Ok(Value::Array(j.children().iter().map(from_token).collect()))
            }
            other => Err(cast_err(&other, &format!("{}[]", ty.name), at)),
        };
    }
    let name = ty.name.as_str();
    if let Value::Json(j) = &v {
        // JToken explicit conversions.
        let kind = j.kind();
        if let Some(ok) = special_cast(j, name) {
            return if ok {
                Ok(v.clone())
            } else {
                Err(cast_err(&v, &format!("Newtonsoft.Json.Linq.{name}"), at))
            };
        }
        match (name, kind) {
            ("JProperty", JKind::Property)
            | ("JContainer", JKind::Object | JKind::Array | JKind::Property)
            | ("JValue", JKind::Value) => return Ok(v.clone()),
            ("JProperty" | "JContainer" | "JValue", _) => {
                return Err(cast_err(&v, &format!("Newtonsoft.Json.Linq.{name}"), at));
            }
            ("JToken" | "object", JKind::Property) => return Ok(v.clone()),
            (_, JKind::Property) => {
                return Err(cast_err(&v, &format!("Newtonsoft.Json.Linq.{name}"), at));
            }
            _ => {}
        }
        let scalar = j.scalar().unwrap_or(J::Null);
        let j_ = j;
        let j = match kind {
            JKind::Object => &J::Object(serde_json::Map::new()),
            JKind::Array | JKind::Property => &J::Array(Vec::new()),
            JKind::Value => &scalar,
        };
        match (name, j) {
            ("JObject" | "JToken" | "object", _) | ("JArray", J::Array(_)) => {
                let j = j_;
                if name == "JObject" && !j.is_object() && !j.is_null() {
                    return Err(cast_err(&v, "Newtonsoft.Json.Linq.JObject", at));
                }
                return Ok(if j.is_null() { Value::Null } else { v });
            }
            ("string", J::String(s)) => return Ok(Value::str(s)),
            ("string", J::Null) => return Ok(Value::Null),
            ("string", J::Number(n)) => return Ok(Value::str(n.to_string())),
            ("string", J::Bool(b)) => return Ok(Value::str(if *b { "True" } else { "False" })),
            ("string", _) => {
                return Err(container_conversion_err(j_, name, at).unwrap_or_else(|| {
                    rt("ArgumentException", "Can not convert Object to String.", at)
                }));
            }
            (_, J::Null) if ty.nullable => return Ok(Value::Null),
            (n, J::String(s)) if Kind::named(n).is_some() => {
                return parse_kind(s, Kind::named(n).unwrap_or(Kind::Int), at);
            }
            ("bool", J::String(s)) => return parse_bool(s, at),
            _ => {}
        }
        if kind != JKind::Value {
            if let Some(e) = container_conversion_err(j_, name, at) {
                return Err(e);
            }
            return Err(cast_err(&v, name, at));
        }
        let inner = from_json(j);
        if matches!(inner, Value::Json(_)) {
            return Err(cast_err(&v, name, at));
        }
        // Newtonsoft's explicit numeric operators are `Convert.ToT(value)`: a real rounds to
        // even, a bool is 1 or 0, and a value out of range overflows in any context.
        if let (Some(k), J::Number(_) | J::Bool(_)) = (Kind::named(name), j) {
            return numeric_members::convert_to(k, &inner, at);
        }
        return cast_in(inner, ty, checked, at);
    }
    // XLinq's explicit operators: `(string)element`, `(int)attribute` read the value.
    if let Some(text) = xml::text_of(&v)
        && matches!(
            name,
            "string"
                | "int"
                | "uint"
                | "long"
                | "ulong"
                | "short"
                | "double"
                | "float"
                | "decimal"
                | "bool"
        )
    {
        return match name {
            "string" => Ok(Value::str(text)),
            "bool" => parse_bool(&text, at),
            n => parse_kind(&text, Kind::named(n).unwrap_or(Kind::Int), at),
        };
    }
    match (name, v) {
        (_, Value::Null) => {
            if ty.nullable || !matches!(default_of(ty), Value::Null) {
                if ty.nullable {
                    Ok(Value::Null)
                } else {
                    Err(null_ref(at))
                }
            } else {
                Ok(Value::Null)
            }
        }
        ("object" | "IResponse" | "dynamic" | "var", v) => Ok(v),
        ("string", v @ Value::String(_)) => Ok(v),
        // `(char)n`: the low 16 bits (a surrogate, which a Rust char cannot hold, becomes
        // U+FFFD).
        ("char", v) if v.is_number() => {
            let n = Num::of(&v)
                .ok_or_else(|| cast_err(&v, "System.Char", at))?
                .convert(Kind::UShort, checked)
                .map_err(|e| num_err(e, at))?;
            let u = n.int().unwrap_or(0) as u32;
            Ok(Value::Char(char::from_u32(u).unwrap_or('\u{fffd}')))
        }
        (n, v) if Kind::named(n).is_some() && Num::of(&v).is_some() => {
            let k = Kind::named(n).unwrap_or(Kind::Int);
            let x = Num::of(&v).ok_or_else(|| cast_err(&v, n, at))?;
            x.convert(k, checked)
                .map(Num::value)
                .map_err(|e| num_err(e, at))
        }
        (_, v) if is_instance(&v, ty) => Ok(v),
        (_, v) => Err(cast_err(&v, &ty.name, at)),
    }
}

pub(super) fn parse_bool(s: &str, at: usize) -> F<Value> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        // .NET Framework's wording: the input is not echoed (it may be a secret).
        _ => Err(rt(
            "FormatException",
            "String was not recognized as a valid Boolean.",
            at,
        )),
    }
}

/// Value equality as `==` sees it: strings by content, numbers across int/double, JSON scalars
/// by their value.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    // `e.Name == "item"`: a string converts implicitly to an XName.
    if let (Value::Object(Object::XName(n)), Value::String(s))
    | (Value::String(s), Value::Object(Object::XName(n))) = (a, b)
    {
        return n.expanded() == **s;
    }
    let a = match a {
        Value::Json(j) if !j.is_container() => from_token(j),
        other => other.clone(),
    };
    let b = match b {
        Value::Json(j) if !j.is_container() => from_token(j),
        other => other.clone(),
    };
    // Tokens other than JValues are equal only to themselves (`Equals` is the reference's).
    if let (Value::Json(x), Value::Json(y)) = (&a, &b)
        && (x.is_container() || y.is_container())
    {
        return x.same(y);
    }
    a == b
}

pub(crate) fn exception_message(v: &Value) -> String {
    match v {
        Value::Object(Object::Record(r)) => {
            r.get("Message").map(|m| m.to_display()).unwrap_or_default()
        }
        Value::Object(Object::Exception(e)) => e.message(),
        other => other.to_display(),
    }
}

/// `Guid.Parse` (crates/expr/src/library/guids.rs).
pub(super) fn parse_guid(s: &str, at: usize) -> F<Value> {
    guid_parse_any(s)
        .map(Value::Guid)
        .map_err(|m| rt("FormatException", m, at))
}

/// The text of a JSON string or an XML node as a number of kind `k` (`(int)element`,
/// `(decimal)jvalue`): integers overflow with the type's message, reals parse invariantly.
/// Never echoes the input.
pub(super) fn parse_kind(s: &str, k: Kind, at: usize) -> F<Value> {
    let t = s.trim();
    if k.is_integral() {
        let v: i128 = t.parse().map_err(|_| format_err(at))?;
        return k
            .fit(v)
            .map(Num::value)
            .ok_or_else(|| rt("OverflowException", k.overflow_message(), at));
    }
    Ok(match k {
        Kind::Decimal => Value::Decimal(parse_decimal(t).ok_or_else(|| format_err(at))?),
        Kind::Float => Value::Float(t.parse::<f32>().map_err(|_| format_err(at))?),
        _ => Value::Double(t.parse::<f64>().map_err(|_| format_err(at))?),
    })
}

/// A decimal's invariant text (`1.50`, `-3`, `1e3`), its scale kept; `None` when it is not one
/// or lies beyond decimal's range.
pub(crate) fn parse_decimal(t: &str) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    if t.is_empty() || t.contains(['_', ' ']) {
        return None;
    }
    if t.contains(['e', 'E']) {
        return rust_decimal::Decimal::from_scientific(t).ok();
    }
    rust_decimal::Decimal::from_str_exact(t)
        .or_else(|_| rust_decimal::Decimal::from_str(t))
        .ok()
}

/// Whether unboxing `v` as `ty` fails: a boxed number unboxes only as its own type (or that
/// type's nullable).
pub(crate) fn unbox_mismatch(v: &Value, ty: &TypeRef) -> bool {
    ty.array == 0
        && Kind::named(&ty.name).is_some()
        && match Num::of(v) {
            Some(n) if v.is_number() => Kind::named(&ty.name) != Some(n.kind()),
            _ => matches!(v, Value::Char(_)),
        }
}
