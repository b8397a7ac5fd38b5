//! Conversions between values and CLR types: `as_*` argument coercions, casts, `is`, defaults,
//! `TryParse`, equality, and the number/Guid parsers the statics share.

use super::*;

pub(super) fn as_str(v: &Value, at: usize) -> F<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Char(c) => Ok(c.to_string()),
        Value::Json(j) if j.with_scalar(J::is_string) == Some(true) => Ok(j
            .with_scalar(|s| s.as_str().unwrap_or_default().to_string())
            .unwrap_or_default()),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.String", at)),
    }
}

pub(super) fn as_int(v: &Value, at: usize) -> F<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Char(c) => Ok(*c as i64),
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
        Value::Json(j) if j.with_scalar(J::is_number) == Some(true) => {
            Ok(j.with_scalar(J::as_f64).flatten().unwrap_or(f64::NAN))
        }
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Double", at)),
    }
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
    match (ty.name.as_str(), &v) {
        ("double" | "float" | "decimal", Value::Int(i)) if ty.array == 0 => {
            Value::Double(*i as f64)
        }
        _ => v,
    }
}

/// The value a declared type holds, for local-function parameters and returns and `out`
/// variables: C# ints are 32-bit (ours 64), so a result declared `int`/`short`/`byte` wraps as
/// it would in C#; an int stored as `double` becomes one.
pub(crate) fn convert_declared(v: Value, ty: &TypeRef) -> Value {
    if ty.array > 0 {
        return v;
    }
    match (ty.name.as_str(), &v) {
        ("int", Value::Int(i)) => Value::Int(*i as i32 as i64),
        ("uint", Value::Int(i)) => Value::Int(*i as u32 as i64),
        ("short", Value::Int(i)) => Value::Int(*i as i16 as i64),
        ("ushort", Value::Int(i)) => Value::Int(*i as u16 as i64),
        ("byte", Value::Int(i)) => Value::Int(*i as u8 as i64),
        ("sbyte", Value::Int(i)) => Value::Int(*i as i8 as i64),
        _ => implicit(v, ty),
    }
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
    let parsed = match ty {
        "short" | "byte" => {
            call_static(it, "int", "Parse", &[], vec![(None, input)], at).and_then(|v| {
                let i = as_int(&v, at)?;
                let ok = if ty == "short" {
                    i16::try_from(i).is_ok()
                } else {
                    u8::try_from(i).is_ok()
                };
                if ok { Ok(v) } else { Err(format_err(at)) }
            })
        }
        _ => call_static(it, ty, "Parse", &[], vec![(None, input)], at),
    };
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
            it.ctx.lookup(&p, &key)
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
        "int" | "long" | "short" | "byte" => Value::Int(0),
        "double" | "float" | "decimal" => Value::Double(0.0),
        "bool" => Value::Bool(false),
        "char" => Value::Char('\0'),
        "DateTime" => Value::DateTime(DateTime(0)),
        "DateTimeOffset" => at_utc(DateTime(0)),
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
        ("int" | "long", Value::Int(_)) => true,
        ("double" | "float" | "decimal", Value::Double(_)) => true,
        ("bool", Value::Bool(_)) => true,
        ("char", Value::Char(_)) => true,
        ("DateTime", Value::DateTime(_)) => true,
        ("DateTimeOffset", Value::DateTimeOffset(_)) => true,
        ("TimeSpan", Value::TimeSpan(_)) => true,
        ("Guid", Value::Guid(_)) => true,
        ("JObject", Value::Json(j)) => j.is_object(),
        ("JArray", Value::Json(j)) => j.is_array(),
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
        (t, Value::Object(Object::XNode(n))) => n.type_name().ends_with(t),
        (t, Value::Object(Object::Io(o))) => io_is_a(o.type_name, t),
        ("Dictionary" | "IDictionary" | "IReadOnlyDictionary", Value::Object(Object::Map(_))) => {
            true
        }
        ("List" | "IEnumerable" | "IList", Value::Array(_)) => true,
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
    if let Some(x) = xml_implicit(&ty.name, &v) {
        return Ok(x);
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
                return Err(rt(
                    "ArgumentException",
                    "Can not convert Object to String.",
                    at,
                ));
            }
            (_, J::Null) if ty.nullable => return Ok(Value::Null),
            ("int" | "long" | "short", J::String(s)) => {
                return s
                    .trim()
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format_err(at));
            }
            ("double" | "float" | "decimal", J::String(s)) => {
                return s
                    .trim()
                    .parse::<f64>()
                    .map(Value::Double)
                    .map_err(|_| format_err(at));
            }
            ("bool", J::String(s)) => return parse_bool(s, at),
            _ => {}
        }
        if kind != JKind::Value {
            return Err(cast_err(&v, name, at));
        }
        let inner = from_json(j);
        if matches!(inner, Value::Json(_)) {
            return Err(cast_err(&v, name, at));
        }
        return cast(inner, ty, at);
    }
    // XLinq's explicit operators: `(string)element`, `(int)attribute` read the value.
    if let Some(text) = xml::text_of(&v)
        && matches!(
            name,
            "string" | "int" | "long" | "short" | "double" | "float" | "decimal" | "bool"
        )
    {
        return match name {
            "string" => Ok(Value::str(text)),
            "bool" => parse_bool(&text, at),
            "double" | "float" | "decimal" => text
                .trim()
                .parse::<f64>()
                .map(Value::Double)
                .map_err(|_| format_err(at)),
            _ => parse_int(&text, if name == "long" { 64 } else { 32 }, at),
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
        ("int", Value::Int(i)) => Ok(Value::Int(i as i32 as i64)),
        ("long", Value::Int(i)) => Ok(Value::Int(i)),
        ("short", Value::Int(i)) => Ok(Value::Int(i as i16 as i64)),
        ("byte", Value::Int(i)) => Ok(Value::Int(i as u8 as i64)),
        ("int" | "long", Value::Double(d)) => {
            if d.is_finite() {
                Ok(Value::Int(d.trunc() as i64))
            } else {
                Ok(Value::Int(i64::MIN))
            }
        }
        ("int" | "long", Value::Char(c)) => Ok(Value::Int(c as i64)),
        ("char", Value::Int(i)) => Ok(Value::Char(char::from_u32(i as u32).unwrap_or('\u{fffd}'))),
        ("double" | "float" | "decimal", Value::Int(i)) => Ok(Value::Double(i as f64)),
        ("double" | "float" | "decimal", v @ Value::Double(_)) => Ok(v),
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

pub(super) fn parse_guid(s: &str, at: usize) -> F<Value> {
    let h: String = s
        .chars()
        .filter(|c| !matches!(c, '-' | '{' | '}' | '(' | ')'))
        .collect();
    if h.len() != 32 {
        return Err(rt("FormatException", "Unrecognized Guid format.", at));
    }
    u128::from_str_radix(&h, 16)
        .map(Value::Guid)
        .map_err(|_| rt("FormatException", "Unrecognized Guid format.", at))
}

pub(super) fn parse_int(s: &str, bits: u32, at: usize) -> F<Value> {
    // Never echo the input: it may be a key or a secret named value.
    let v: i64 = s.trim().parse().map_err(|_| format_err(at))?;
    if bits == 32 && i32::try_from(v).is_err() {
        return Err(rt(
            "OverflowException",
            "Value was either too large or too small for an Int32.",
            at,
        ));
    }
    Ok(Value::Int(v))
}

pub(super) fn to_number(v: &Value, bits: u32, at: usize) -> F<Value> {
    match v {
        Value::Null => Ok(Value::Int(0)),
        Value::String(s) => parse_int(s, bits, at),
        Value::Double(d) => Ok(Value::Int(d.round_ties_even() as i64)),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Json(j) => to_number(&from_token(j), bits, at),
        other => Ok(Value::Int(as_int(other, at)?)),
    }
}
