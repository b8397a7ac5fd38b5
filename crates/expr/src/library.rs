//! The standard library: the BCL, Newtonsoft and `context` members APIM policies call. Only pure
//! computation lives here — no file, network or process access exists to be reached.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use hmac::Mac as _;
use sha2::Digest as _;

use super::ast::{BinOp, TypeRef, UnOp};
use super::budget::{self, SLOT};
use super::interp::{F, Flow, Interp, null_ref, rt};
use super::value::*;
use super::xml;

type Args = Vec<(Option<String>, Value)>;
type J = serde_json::Value;

/// Feature label for a name seen in the source (type or member), for `Program::features`.
pub(crate) fn feature_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "context" => "context",
        "JObject" | "JArray" | "JToken" | "JValue" | "JProperty" | "JsonConvert" | "Value" => {
            "json"
        }
        "Regex" | "RegexOptions" => "regex",
        "HMACSHA256" | "SHA256" | "MD5" | "ComputeHash" => "crypto",
        "Where" | "Select" | "Any" | "All" | "First" | "FirstOrDefault" | "Count" | "ToArray"
        | "ToList" | "Last" | "LastOrDefault" | "Skip" | "Take" | "OrderBy" | "Distinct"
        | "Sum" => "linq",
        "DateTime" | "TimeSpan" | "DateTimeOffset" => "datetime",
        "Convert" => "convert",
        "XElement" | "XDocument" | "XAttribute" => "xml",
        "Encoding" | "UTF8" => "encoding",
        "Guid" => "guid",
        "Math" => "math",
        "Uri" => "uri",
        "Substring" | "IndexOf" | "Split" | "Replace" | "StartsWith" | "EndsWith" | "ToLower"
        | "ToUpper" | "Trim" | "Format" | "Join" | "IsNullOrEmpty" => "string",
        _ => return None,
    })
}

/// Types whose static members and constructors the library knows.
pub(crate) fn is_type(name: &str) -> bool {
    matches!(
        name,
        "string"
            | "int"
            | "long"
            | "double"
            | "float"
            | "decimal"
            | "bool"
            | "char"
            | "byte"
            | "Convert"
            | "Encoding"
            | "Math"
            | "DateTime"
            | "DateTimeOffset"
            | "TimeSpan"
            | "Guid"
            | "Regex"
            | "RegexOptions"
            | "JObject"
            | "JArray"
            | "JToken"
            | "JsonConvert"
            | "Formatting"
            | "SHA256"
            | "MD5"
            | "HMACSHA256"
            | "StringComparison"
            | "Uri"
            | "WebUtility"
            | "Enumerable"
            | "StringSplitOptions"
            | "BitConverter"
            | "Array"
            | "short"
            | "XElement"
            | "XDocument"
    )
}

pub(crate) fn cast_err(v: &Value, to: &str, at: usize) -> Flow {
    rt(
        "InvalidCastException",
        format!(
            "Unable to cast object of type '{}' to type '{to}'.",
            v.type_name()
        ),
        at,
    )
}

fn no_member(v: &Value, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!(
            "'{}' does not contain a definition for '{name}'",
            v.type_name()
        ),
        at,
    )
}

fn format_err(at: usize) -> Flow {
    rt(
        "FormatException",
        "Input string was not in a correct format.",
        at,
    )
}

fn arg_range(msg: &str, at: usize) -> Flow {
    rt("ArgumentOutOfRangeException", msg.to_string(), at)
}

// ------------------------------------------------------------ conversions

/// Reads a JSON scalar as a plain value (for comparisons and casts).
pub(crate) fn from_json(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::str(s),
        other => Value::Json(other.clone()),
    }
}

pub(crate) fn to_json(v: &Value, at: usize) -> F<J> {
    Ok(match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Double(d) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or(J::Null),
        Value::String(s) => J::String(s.to_string()),
        Value::Char(c) => J::String(c.to_string()),
        Value::DateTime(d) => J::String(format_datetime(*d, "o")),
        Value::TimeSpan(_) | Value::Guid(_) => J::String(v.to_display()),
        Value::Array(a) => J::Array(a.iter().map(|x| to_json(x, at)).collect::<F<_>>()?),
        Value::Json(j) => j.clone(),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Object(Object::Record(r)) => {
            let mut m = serde_json::Map::new();
            for (k, v) in r.iter() {
                m.insert(k.clone(), to_json(v, at)?);
            }
            J::Object(m)
        }
        Value::Object(Object::Body(b)) => J::String(b.to_string()),
        other => return Err(cast_err(other, "JToken", at)),
    })
}

fn as_str(v: &Value, at: usize) -> F<String> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Char(c) => Ok(c.to_string()),
        Value::Json(J::String(s)) => Ok(s.clone()),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.String", at)),
    }
}

fn as_int(v: &Value, at: usize) -> F<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Char(c) => Ok(*c as i64),
        Value::Json(J::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Int32", at)),
    }
}

fn as_f64(v: &Value, at: usize) -> F<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Double(d) => Ok(*d),
        Value::Json(J::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Double", at)),
    }
}

fn as_bytes(v: &Value, at: usize) -> F<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Array(a) => a.iter().map(|x| as_int(x, at).map(|i| i as u8)).collect(),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Byte[]", at)),
    }
}

fn as_bool(v: &Value, at: usize) -> F<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Json(J::Bool(b)) => Ok(*b),
        Value::Null => Err(null_ref(at)),
        other => Err(cast_err(other, "System.Boolean", at)),
    }
}

fn arg(args: &Args, i: usize, at: usize) -> F<&Value> {
    args.get(i).map(|(_, v)| v).ok_or_else(|| {
        rt(
            "ArgumentException",
            format!("missing argument {}", i + 1),
            at,
        )
    })
}

fn named<'a>(args: &'a Args, name: &str, pos: usize) -> Option<&'a Value> {
    args.iter()
        .find(|(n, _)| n.as_deref() == Some(name))
        .map(|(_, v)| v)
        .or_else(|| args.get(pos).filter(|(n, _)| n.is_none()).map(|(_, v)| v))
}

/// Implicit conversion for a typed local (`double d = 1;`).
pub(crate) fn implicit(v: Value, ty: &TypeRef) -> Value {
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
    let supported = matches!(
        ty,
        "int"
            | "long"
            | "short"
            | "byte"
            | "double"
            | "float"
            | "decimal"
            | "bool"
            | "Guid"
            | "DateTime"
            | "DateTimeOffset"
    );
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
    let key = as_str(
        arg(&inputs.into_iter().map(|v| (None, v)).collect(), 0, at)?,
        at,
    )?;
    let found = match &t {
        Value::Json(J::Object(m)) => m.get(&key).map(|j| Value::Json(j.clone())),
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
        "TimeSpan" => Value::TimeSpan(TimeSpan(0)),
        "Guid" => Value::Guid(0),
        _ => Value::Null,
    }
}

pub(crate) fn is_instance(v: &Value, ty: &TypeRef) -> bool {
    if ty.array > 0 {
        return matches!(v, Value::Array(_) | Value::Bytes(_));
    }
    match (ty.name.as_str(), v) {
        (_, Value::Null) => false,
        ("object", _) => true,
        ("string", Value::String(_)) => true,
        ("int" | "long", Value::Int(_)) => true,
        ("double" | "float" | "decimal", Value::Double(_)) => true,
        ("bool", Value::Bool(_)) => true,
        ("char", Value::Char(_)) => true,
        ("DateTime", Value::DateTime(_)) => true,
        ("TimeSpan", Value::TimeSpan(_)) => true,
        ("Guid", Value::Guid(_)) => true,
        ("JObject", Value::Json(J::Object(_))) => true,
        ("JArray", Value::Json(J::Array(_))) => true,
        ("JToken", Value::Json(_)) => true,
        ("JValue", Value::Json(j)) => !j.is_object() && !j.is_array(),
        ("IResponse", Value::Object(Object::Record(_))) => true,
        ("XDocument" | "XContainer" | "XNode" | "XObject", Value::Object(Object::XDocument(_))) => {
            true
        }
        ("XElement" | "XContainer" | "XNode" | "XObject", Value::Object(Object::XElement(_))) => {
            true
        }
        ("XAttribute" | "XObject", Value::Object(Object::XAttribute(_))) => true,
        ("XName", Value::Object(Object::XName(_))) => true,
        ("List" | "IEnumerable" | "IList", Value::Array(_)) => true,
        _ => false,
    }
}

/// `(T)x`: the explicit conversions policies rely on, mostly unwrapping JSON values and
/// narrowing numbers; anything else fails like .NET's InvalidCastException.
pub(crate) fn cast(v: Value, ty: &TypeRef, at: usize) -> F<Value> {
    if ty.array > 0 {
        return match v {
            Value::Null | Value::Array(_) | Value::Bytes(_) => Ok(v),
            Value::Json(J::Array(a)) => Ok(Value::Array(a.iter().map(from_json).collect())),
            other => Err(cast_err(&other, &format!("{}[]", ty.name), at)),
        };
    }
    let name = ty.name.as_str();
    if let Value::Json(j) = &v {
        // JToken explicit conversions.
        match (name, j) {
            ("JObject" | "JToken" | "object", _) | ("JArray", J::Array(_)) => {
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

fn parse_bool(s: &str, at: usize) -> F<Value> {
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
        Value::Json(j) if !j.is_object() && !j.is_array() => from_json(j),
        other => other.clone(),
    };
    let b = match b {
        Value::Json(j) if !j.is_object() && !j.is_array() => from_json(j),
        other => other.clone(),
    };
    a == b
}

pub(crate) fn exception_message(v: &Value) -> String {
    match v {
        Value::Object(Object::Record(r)) => {
            r.get("Message").map(|m| m.to_display()).unwrap_or_default()
        }
        other => other.to_display(),
    }
}

// ------------------------------------------------------------ operators

pub(crate) fn unary(op: UnOp, v: Value, at: usize) -> F<Value> {
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::Int(i)) => Value::Int(i.wrapping_neg()),
        (UnOp::Neg, Value::Double(d)) => Value::Double(-d),
        (UnOp::Neg, Value::TimeSpan(t)) => Value::TimeSpan(TimeSpan(t.0.wrapping_neg())),
        (UnOp::Plus, v @ (Value::Int(_) | Value::Double(_))) => v,
        (UnOp::BitNot, Value::Int(i)) => Value::Int(!i),
        (_, Value::Null) => Value::Null,
        (op, v) => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "Operator '{op:?}' cannot be applied to operand of type '{}'",
                    v.type_name()
                ),
                at,
            ));
        }
    })
}

fn cmp_values(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.cmp(y)),
        (Value::Char(x), Value::Char(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Json(j), o) if !j.is_object() && !j.is_array() => cmp_values(&from_json(j), o),
        (o, Value::Json(j)) if !j.is_object() && !j.is_array() => cmp_values(o, &from_json(j)),
        _ => {
            let x = as_f64(a, 0).ok()?;
            let y = as_f64(b, 0).ok()?;
            x.partial_cmp(&y)
        }
    }
}

pub(crate) fn binary(op: BinOp, a: Value, b: Value, at: usize) -> F<Value> {
    use BinOp::*;
    match op {
        Eq => return Ok(Value::Bool(values_equal(&a, &b))),
        Ne => return Ok(Value::Bool(!values_equal(&a, &b))),
        Lt | Gt | Le | Ge => {
            if a.is_null() || b.is_null() {
                return Ok(Value::Bool(false));
            }
            let Some(o) = cmp_values(&a, &b) else {
                return Err(rt(
                    "RuntimeBinderException",
                    format!(
                        "Operator '{op:?}' cannot be applied to operands of type '{}' and '{}'",
                        a.type_name(),
                        b.type_name()
                    ),
                    at,
                ));
            };
            use std::cmp::Ordering::*;
            return Ok(Value::Bool(match op {
                Lt => o == Less,
                Gt => o == Greater,
                Le => o != Greater,
                _ => o != Less,
            }));
        }
        _ => {}
    }
    // String concatenation: either side a string (null prints as empty).
    if op == Add && (matches!(a, Value::String(_)) || matches!(b, Value::String(_))) {
        return Ok(Value::String(
            format!("{}{}", a.to_display(), b.to_display()).into(),
        ));
    }
    let a = match a {
        Value::Json(ref j) if !j.is_object() && !j.is_array() => from_json(j),
        other => other,
    };
    let b = match b {
        Value::Json(ref j) if !j.is_object() && !j.is_array() => from_json(j),
        other => other,
    };
    Ok(match (op, &a, &b) {
        (_, Value::Null, _) | (_, _, Value::Null) => Value::Null,
        (Add, Value::Char(x), Value::Char(y)) => Value::Int(*x as i64 + *y as i64),
        (_, Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            Value::Int(match op {
                Add => x.wrapping_add(y),
                Sub => x.wrapping_sub(y),
                Mul => x.wrapping_mul(y),
                Div | Rem if y == 0 => {
                    return Err(rt(
                        "DivideByZeroException",
                        "Attempted to divide by zero.",
                        at,
                    ));
                }
                Div => x.wrapping_div(y),
                Rem => x.wrapping_rem(y),
                BitAnd => x & y,
                BitOr => x | y,
                BitXor => x ^ y,
                Shl => x.wrapping_shl((y & 63) as u32),
                Shr => x.wrapping_shr((y & 63) as u32),
                _ => 0,
            })
        }
        (_, Value::Bool(x), Value::Bool(y)) if matches!(op, BitAnd | BitOr | BitXor) => {
            Value::Bool(match op {
                BitAnd => x & y,
                BitOr => x | y,
                _ => x ^ y,
            })
        }
        (Add, Value::DateTime(d), Value::TimeSpan(t))
        | (Add, Value::TimeSpan(t), Value::DateTime(d)) => add_ticks(*d, t.0, at)?,
        (Sub, Value::DateTime(d), Value::TimeSpan(t)) => add_ticks(*d, t.0.saturating_neg(), at)?,
        (Sub, Value::DateTime(x), Value::DateTime(y)) => Value::TimeSpan(TimeSpan(x.0 - y.0)),
        (Add, Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Value::TimeSpan(TimeSpan(x.0.saturating_add(y.0)))
        }
        (Sub, Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Value::TimeSpan(TimeSpan(x.0.saturating_sub(y.0)))
        }
        (
            Add | Sub | Mul | Div | Rem,
            Value::Int(_) | Value::Double(_) | Value::Char(_),
            Value::Int(_) | Value::Double(_) | Value::Char(_),
        ) => {
            let x = as_f64(&a, at)?;
            let y = as_f64(&b, at)?;
            Value::Double(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                _ => x % y,
            })
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "Operator '{op:?}' cannot be applied to operands of type '{}' and '{}'",
                    a.type_name(),
                    b.type_name()
                ),
                at,
            ));
        }
    })
}

fn add_ticks(d: DateTime, t: i64, at: usize) -> F<Value> {
    d.0.checked_add(t)
        .and_then(DateTime::checked)
        .map(Value::DateTime)
        .ok_or_else(|| {
            arg_range(
                "The added or subtracted value results in an un-representable DateTime.",
                at,
            )
        })
}

// ------------------------------------------------------------ formatting

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_LONG: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// `DateTime.ToString(format)` with the standard formats policies use (`o`, `s`, `u`, `R`, `G`)
/// and custom patterns (`yyyy-MM-ddTHH:mm:ssZ`), invariant culture.
pub(crate) fn format_datetime(d: DateTime, fmt: &str) -> String {
    let p = d.parts();
    let fmt = match fmt {
        "o" | "O" => {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
                p.year, p.month, p.day, p.hour, p.minute, p.second, p.fraction
            );
        }
        "R" | "r" => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s" => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "u" => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "G" | "" => "MM/dd/yyyy HH:mm:ss",
        "g" => "MM/dd/yyyy HH:mm",
        "d" => "MM/dd/yyyy",
        "D" => "dddd, dd MMMM yyyy",
        "T" => "HH:mm:ss",
        "t" => "HH:mm",
        other => other,
    };
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        match c {
            'y' => {
                if n <= 2 {
                    out.push_str(&format!("{:0w$}", p.year % 100, w = n));
                } else {
                    out.push_str(&format!("{:0w$}", p.year, w = n));
                }
            }
            'M' => match n {
                1 => out.push_str(&p.month.to_string()),
                2 => out.push_str(&format!("{:02}", p.month)),
                3 => out.push_str(MONTHS[(p.month - 1) as usize % 12]),
                _ => out.push_str(MONTHS_LONG[(p.month - 1) as usize % 12]),
            },
            'd' => match n {
                1 => out.push_str(&p.day.to_string()),
                2 => out.push_str(&format!("{:02}", p.day)),
                3 => out.push_str(DAYS[p.weekday as usize % 7]),
                _ => out.push_str(DAYS_LONG[p.weekday as usize % 7]),
            },
            'H' => out.push_str(&format!("{:0w$}", p.hour, w = n.min(2))),
            'h' => {
                let h = if p.hour % 12 == 0 { 12 } else { p.hour % 12 };
                out.push_str(&format!("{:0w$}", h, w = n.min(2)));
            }
            'm' => out.push_str(&format!("{:0w$}", p.minute, w = n.min(2))),
            's' => out.push_str(&format!("{:0w$}", p.second, w = n.min(2))),
            't' => out.push_str(if p.hour < 12 { "AM" } else { "PM" }),
            'f' | 'F' => {
                let digits = format!("{:07}", p.fraction);
                let mut part: String = digits.chars().take(n.min(7)).collect();
                if c == 'F' {
                    part = part.trim_end_matches('0').to_string();
                }
                out.push_str(&part);
            }
            'z' | 'K' => out.push_str(if n >= 2 || c == 'K' { "+00:00" } else { "+0" }),
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    out.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            _ => {
                for _ in 0..n {
                    out.push(c);
                }
            }
        }
        i += n;
    }
    out
}

/// ISO 8601 (`2024-01-02`, `2024-01-02T03:04:05.123Z`, with `+hh:mm` offsets), RFC 1123 and the
/// invariant `MM/dd/yyyy HH:mm:ss` form.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    if let Some(d) = parse_rfc1123(s) {
        return Some(d);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() >= 10 && b.get(2) == Some(&b'/') {
        let (mo, d, y) = (num(0..2)?, num(3..5)?, num(6..10)?);
        let (h, mi, sec) = if b.len() >= 19 {
            (num(11..13)?, num(14..16)?, num(17..19)?)
        } else {
            (0, 0, 0)
        };
        return DateTime::from_parts(y, mo, d, h, mi, sec, 0);
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.len() == 10 {
        return DateTime::from_parts(y, mo, d, 0, 0, 0, 0);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut sec = 0;
    if b.get(16) == Some(&b':') {
        sec = num(17..19)?;
        i = 19;
    }
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = s.get(st..i)?;
        if digits.is_empty() {
            return None;
        }
        let padded: String = digits
            .chars()
            .chain(std::iter::repeat('0'))
            .take(7)
            .collect();
        frac = padded.parse().ok()?;
    }
    let mut offset = 0i64;
    match b.get(i) {
        None => {}
        Some(b'Z' | b'z') if i + 1 == b.len() => {}
        Some(c @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = if b.get(i + 3) == Some(&b':') {
                num(i + 4..i + 6)?
            } else {
                num(i + 3..i + 5)?
            };
            offset = (oh * 60 + om) * 60 * TICKS_PER_SECOND;
            if *c == b'-' {
                offset = -offset;
            }
        }
        _ => return None,
    }
    let d = DateTime::from_parts(y, mo, d, h, mi, sec, frac)?;
    DateTime::checked(d.0 - offset)
}

fn parse_rfc1123(s: &str) -> Option<DateTime> {
    // "Tue, 02 Jan 2024 03:04:05 GMT"
    let rest = s.get(5..)?;
    if s.get(3..5)? != ", " || !rest.ends_with(" GMT") {
        return None;
    }
    let mut it = rest.split(' ');
    let d: i64 = it.next()?.parse().ok()?;
    let mname = it.next()?;
    let mo = MONTHS.iter().position(|m| *m == mname)? as i64 + 1;
    let y: i64 = it.next()?.parse().ok()?;
    let mut t = it.next()?.split(':');
    let h = t.next()?.parse().ok()?;
    let mi = t.next()?.parse().ok()?;
    let sec = t.next()?.parse().ok()?;
    DateTime::from_parts(y, mo, d, h, mi, sec, 0)
}

/// Formats a value for `{0:fmt}` / `$"{x:fmt}"` / `ToString(fmt)`.
pub(crate) fn format_value(v: &Value, fmt: Option<&str>, at: usize) -> F<String> {
    let Some(fmt) = fmt else {
        return Ok(v.to_display());
    };
    Ok(match v {
        Value::DateTime(d) => format_datetime(*d, fmt),
        Value::Int(i) => format_number(*i as f64, Some(*i), fmt, at)?,
        Value::Double(d) => format_number(*d, None, fmt, at)?,
        Value::Guid(g) => format_guid_as(*g, fmt),
        other => other.to_display(),
    })
}

fn format_guid_as(g: u128, fmt: &str) -> String {
    let d = format_guid(g);
    match fmt {
        "N" | "n" => d.replace('-', ""),
        "B" | "b" => format!("{{{d}}}"),
        "P" | "p" => format!("({d})"),
        _ => d,
    }
}

fn format_number(d: f64, int: Option<i64>, fmt: &str, at: usize) -> F<String> {
    let (kind, prec) = fmt.split_at(fmt.chars().next().map(|c| c.len_utf8()).unwrap_or(0));
    let prec: Option<usize> = if prec.is_empty() {
        None
    } else {
        prec.parse().ok()
    };
    Ok(match kind {
        "D" | "d" => {
            let i = int.ok_or_else(|| format_err(at))?;
            let w = prec.unwrap_or(0).min(64);
            if i < 0 {
                format!("-{:0w$}", i.unsigned_abs(), w = w)
            } else {
                format!("{i:0w$}")
            }
        }
        "X" | "x" => {
            let i = int.ok_or_else(|| format_err(at))?;
            let w = prec.unwrap_or(0).min(64);
            if kind == "X" {
                format!("{i:0w$X}")
            } else {
                format!("{i:0w$x}")
            }
        }
        "F" | "f" | "N" | "n" => {
            let p = prec.unwrap_or(2).min(15);
            let s = format!("{d:.p$}");
            if kind.eq_ignore_ascii_case("n") {
                group_thousands(&s)
            } else {
                s
            }
        }
        _ => match int {
            Some(i) => i.to_string(),
            None => format_double(d),
        },
    })
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// `string.Format` with `{index[,align][:format]}` holes and `{{`/`}}` escapes.
fn string_format(interp: &mut Interp, fmt: &str, args: &[Value], at: usize) -> F<String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(ch) => spec.push(ch),
                        None => return Err(format_err(at)),
                    }
                }
                let (head, f) = match spec.split_once(':') {
                    Some((h, f)) => (h, Some(f)),
                    None => (spec.as_str(), None),
                };
                let (idx, align) = match head.split_once(',') {
                    Some((i, a)) => (i, a.trim().parse::<i64>().ok()),
                    None => (head, None),
                };
                let idx: usize = idx.trim().parse().map_err(|_| format_err(at))?;
                let v = args.get(idx).ok_or_else(|| {
                    rt(
                        "FormatException",
                        "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
                        at,
                    )
                })?;
                let s = match f {
                    None => interp.text(v, at)?.into_owned(),
                    Some(_) => format_value(v, f, at)?,
                };
                // Padding widens a hole to at most 1000 characters.
                interp.charge(out.len() + s.len().max(4000), at)?;
                match align {
                    Some(a) if a > 0 => out.push_str(&format!("{s:>w$}", w = a.min(1000) as usize)),
                    Some(a) if a < 0 => {
                        out.push_str(&format!("{s:<w$}", w = a.unsigned_abs().min(1000) as usize))
                    }
                    _ => out.push_str(&s),
                }
            }
            '}' => return Err(format_err(at)),
            _ => out.push(c),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------ construction

pub(crate) fn construct(
    it: &mut Interp,
    ty: &TypeRef,
    args: Args,
    init: Option<Vec<Value>>,
    at: usize,
) -> F<Value> {
    let vals: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
    if matches!(
        ty.name.as_str(),
        "JObject" | "JArray" | "JValue" | "List" | "HashSet"
    ) {
        // A copy of what it is built from.
        let mut bytes = 0usize;
        for v in vals.iter().chain(init.iter().flatten()) {
            bytes = bytes.saturating_add(it.size_of(v) + SLOT);
        }
        it.charge(bytes, at)?;
    }
    Ok(match ty.name.as_str() {
        "JObject" => {
            let mut m = serde_json::Map::new();
            for v in vals.iter().chain(init.iter().flatten()) {
                match v {
                    Value::Json(J::Object(o)) => m.extend(o.clone()),
                    Value::Object(Object::Record(r)) if r.contains_key("Name") => {
                        let k = r.get("Name").map(|n| n.to_display()).unwrap_or_default();
                        let jv = to_json(r.get("Value").unwrap_or(&Value::Null), at)?;
                        m.insert(k, jv);
                    }
                    Value::Array(kv) if kv.len() == 2 => {
                        m.insert(kv[0].to_display(), to_json(&kv[1], at)?);
                    }
                    other => return Err(cast_err(other, "JProperty", at)),
                }
            }
            Value::Json(J::Object(m))
        }
        "JProperty" => {
            let mut r = BTreeMap::new();
            r.insert(
                "Name".to_string(),
                Value::str(as_str(arg(&args, 0, at)?, at)?),
            );
            r.insert(
                "Value".to_string(),
                Value::Json(to_json(arg(&args, 1, at)?, at)?),
            );
            Value::Object(Object::Record(Arc::new(r)))
        }
        "JArray" => {
            let mut a = Vec::new();
            for v in vals.iter().chain(init.iter().flatten()) {
                match v {
                    Value::Array(items) if vals.len() == 1 => {
                        for i in items {
                            a.push(to_json(i, at)?);
                        }
                    }
                    other => a.push(to_json(other, at)?),
                }
            }
            Value::Json(J::Array(a))
        }
        "JValue" => Value::Json(to_json(arg(&args, 0, at)?, at)?),
        "List" | "HashSet" => {
            let mut a = match vals.first() {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            a.extend(init.unwrap_or_default());
            Value::Array(a)
        }
        "string" => match (vals.first(), vals.get(1)) {
            (Some(Value::Char(c)), Some(n)) => {
                let n = as_int(n, at)?;
                if !(0..=1 << 20).contains(&n) {
                    return Err(arg_range(
                        "Count must be non-negative and not too large.",
                        at,
                    ));
                }
                it.charge(n as usize * c.len_utf8(), at)?;
                Value::String(c.to_string().repeat(n as usize).into())
            }
            (Some(Value::Array(cs)), None) => {
                Value::String(cs.iter().map(|c| c.to_display()).collect::<String>().into())
            }
            _ => {
                return Err(rt(
                    "ArgumentException",
                    "unsupported string constructor",
                    at,
                ));
            }
        },
        "DateTime" => {
            let n: Vec<i64> = vals.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let g = |i: usize| n.get(i).copied().unwrap_or(0);
            let d = DateTime::from_parts(g(0), g(1), g(2), g(3), g(4), g(5), g(6) * 10_000)
                .ok_or_else(|| {
                    arg_range(
                        "Year, Month, and Day parameters describe an un-representable DateTime.",
                        at,
                    )
                })?;
            Value::DateTime(d)
        }
        "DateTimeOffset" => match vals.first() {
            Some(v @ Value::DateTime(_)) => v.clone(),
            _ => {
                return Err(rt(
                    "ArgumentException",
                    "unsupported DateTimeOffset constructor",
                    at,
                ));
            }
        },
        "TimeSpan" => {
            let n: Vec<i64> = vals.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let secs = match n.as_slice() {
                [t] => return Ok(Value::TimeSpan(TimeSpan(*t))),
                [h, m, s] => h * 3600 + m * 60 + s,
                [d, h, m, s] => d * 86_400 + h * 3600 + m * 60 + s,
                _ => {
                    return Err(rt(
                        "ArgumentException",
                        "unsupported TimeSpan constructor",
                        at,
                    ));
                }
            };
            Value::TimeSpan(TimeSpan(secs.saturating_mul(TICKS_PER_SECOND)))
        }
        "HMACSHA256" => {
            let key = match vals.first() {
                Some(k) => as_bytes(k, at)?,
                None => Vec::new(),
            };
            Value::Object(Object::Hasher(HashKind::HmacSha256, key.into()))
        }
        "Exception" | "InvalidOperationException" | "ArgumentException" => {
            let mut r = BTreeMap::new();
            r.insert(
                "Message".to_string(),
                vals.first().cloned().unwrap_or(Value::str("")),
            );
            Value::Object(Object::Record(Arc::new(r)))
        }
        "Guid" => match vals.first() {
            // `new Guid(byte[16])`: .NET's mixed-endian layout, the inverse of ToByteArray.
            Some(v @ (Value::Bytes(_) | Value::Array(_))) => {
                let b: [u8; 16] = as_bytes(v, at)?.try_into().map_err(|_| {
                    rt(
                        "ArgumentException",
                        "Byte array for Guid must be exactly 16 bytes long.",
                        at,
                    )
                })?;
                let mut o = b;
                o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
                o[4..6].copy_from_slice(&[b[5], b[4]]);
                o[6..8].copy_from_slice(&[b[7], b[6]]);
                Value::Guid(u128::from_be_bytes(o))
            }
            Some(v) => parse_guid(&as_str(v, at)?, at)?,
            None => Value::Guid(0),
        },
        other => {
            return Err(rt(
                "NotSupportedException",
                format!("Creating instances of '{other}' is not supported"),
                at,
            ));
        }
    })
}

pub(crate) fn new_array(
    it: &mut Interp,
    ty: Option<&TypeRef>,
    size: Option<Value>,
    items: Vec<Value>,
    at: usize,
) -> F<Value> {
    let is_byte = ty
        .map(|t| t.name == "byte" && t.array == 0)
        .unwrap_or(false);
    if let Some(size) = size {
        let n = as_int(&size, at)?;
        if !(0..=1 << 24).contains(&n) {
            return Err(rt(
                "OverflowException",
                "Arithmetic operation resulted in an overflow.",
                at,
            ));
        }
        it.charge(n as usize * if is_byte { 1 } else { SLOT }, at)?;
        if !items.is_empty() && items.len() as i64 != n {
            return Err(rt(
                "CompilationError",
                "An array initializer of the wrong length",
                at,
            ));
        }
        if is_byte {
            return Ok(Value::Bytes(if items.is_empty() {
                vec![0; n as usize]
            } else {
                as_bytes(&Value::Array(items), at)?
            }));
        }
        if items.is_empty() {
            let d = ty.map(default_of).unwrap_or(Value::Null);
            return Ok(Value::Array(vec![d; n as usize]));
        }
    }
    if is_byte {
        return Ok(Value::Bytes(as_bytes(&Value::Array(items), at)?));
    }
    Ok(Value::Array(items))
}

// ------------------------------------------------------------ element access

pub(crate) const MUTATORS: &[&str] = &[
    "Add", "Remove", "RemoveAt", "Insert", "Clear", "AddRange", "Merge",
];

/// Mutating methods on a local collection (`list.Add(x)`, `obj.Add("k", v)`, `obj.Remove("k")`).
pub(crate) fn mutate(slot: &mut Value, name: &str, args: Args, at: usize) -> F<Value> {
    let a0 = args.first().map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    match (slot, name) {
        (Value::Array(a), "Add") => a.push(a0),
        (Value::Array(a), "AddRange") => a.extend(iterate_plain(a0, at)?),
        (Value::Array(a), "Clear") => a.clear(),
        (Value::Array(a), "Remove") => {
            let i = a.iter().position(|x| values_equal(x, &a0));
            if let Some(i) = i {
                a.remove(i);
            }
            return Ok(Value::Bool(i.is_some()));
        }
        (Value::Array(a), "RemoveAt") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize >= a.len() {
                return Err(index_err(at));
            }
            a.remove(i as usize);
        }
        (Value::Array(a), "Insert") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize > a.len() {
                return Err(index_err(at));
            }
            a.insert(
                i as usize,
                args.get(1).map(|(_, v)| v.clone()).unwrap_or(Value::Null),
            );
        }
        (Value::Json(J::Object(m)), "Add") => {
            if let Value::Object(Object::Record(r)) = &a0 {
                let k = r.get("Name").map(|n| n.to_display()).unwrap_or_default();
                m.insert(k, to_json(r.get("Value").unwrap_or(&Value::Null), at)?);
            } else {
                let k = as_str(&a0, at)?;
                if m.contains_key(&k) {
                    return Err(rt(
                        "ArgumentException",
                        "Can not add property to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.",
                        at,
                    ));
                }
                let v = args.get(1).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
                m.insert(k, to_json(&v, at)?);
            }
        }
        (Value::Json(J::Object(m)), "Remove") => {
            return Ok(Value::Bool(m.remove(&as_str(&a0, at)?).is_some()));
        }
        (Value::Json(J::Object(m)), "Merge") => {
            if let Value::Json(J::Object(o)) = a0 {
                m.extend(o);
            }
        }
        (Value::Json(J::Array(a)), "Add") => a.push(to_json(&a0, at)?),
        (Value::Json(J::Array(a)), "Clear") => a.clear(),
        (Value::Json(J::Array(a)), "RemoveAt") => {
            let i = as_int(&a0, at)?;
            if i < 0 || i as usize >= a.len() {
                return Err(index_err(at));
            }
            a.remove(i as usize);
        }
        (v, n) => return Err(no_member(v, n, at)),
    }
    Ok(Value::Null)
}

fn index_err(at: usize) -> Flow {
    rt(
        "IndexOutOfRangeException",
        "Index was outside the bounds of the array.",
        at,
    )
}

fn idx(k: &Value, len: usize, at: usize) -> F<usize> {
    let i = as_int(k, at)?;
    if i < 0 || i as usize >= len {
        return Err(index_err(at));
    }
    Ok(i as usize)
}

pub(crate) fn element_mut<'a>(slot: &'a mut Value, k: &Value, at: usize) -> F<&'a mut Value> {
    // JSON children are navigated by turning the child into its own `Value::Json` view is not
    // possible without copying, so only arrays of values navigate here; JSON is handled below.
    match slot {
        Value::Array(a) => {
            let i = idx(k, a.len(), at)?;
            Ok(&mut a[i])
        }
        Value::Json(_) => Err(rt(
            "NotSupportedException",
            "nested JSON assignment goes through set_element",
            at,
        )),
        Value::Null => Err(null_ref(at)),
        other => Err(no_member(other, "this[]", at)),
    }
}

/// Assigns through a chain of indexers (`body["a"]["b"] = v`), walking arrays and JSON in place.
pub(crate) fn set_path(slot: &mut Value, keys: &[(Value, usize)], v: Value) -> F<()> {
    match keys {
        [] => Ok(()),
        [(k, at)] => set_element(slot, k.clone(), v, *at),
        [(k, at), rest @ ..] => match slot {
            Value::Json(j) => {
                let mut cur = j;
                for (k, at) in keys[..keys.len() - 1].iter() {
                    cur = json_child_mut(cur, k, *at)?;
                }
                let (last, lat) = &keys[keys.len() - 1];
                let mut tmp = Value::Json(std::mem::take(cur));
                let r = set_element(&mut tmp, last.clone(), v, *lat);
                if let Value::Json(back) = tmp {
                    *cur = back;
                }
                r
            }
            other => set_path(element_mut(other, k, *at)?, rest, v),
        },
    }
}

fn json_child_mut<'a>(j: &'a mut J, k: &Value, at: usize) -> F<&'a mut J> {
    match j {
        J::Object(m) => m.get_mut(&as_str(k, at)?).ok_or_else(|| null_ref(at)),
        J::Array(a) => {
            let i = idx(k, a.len(), at)?;
            Ok(&mut a[i])
        }
        _ => Err(rt(
            "InvalidOperationException",
            "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
            at,
        )),
    }
}

pub(crate) fn set_element(slot: &mut Value, key: Value, v: Value, at: usize) -> F<()> {
    match slot {
        Value::Array(a) => {
            let i = idx(&key, a.len(), at)?;
            a[i] = v;
        }
        Value::Bytes(b) => {
            let i = idx(&key, b.len(), at)?;
            b[i] = as_int(&v, at)? as u8;
        }
        Value::Json(J::Object(m)) => {
            m.insert(as_str(&key, at)?, to_json(&v, at)?);
        }
        Value::Json(J::Array(a)) => {
            let i = idx(&key, a.len(), at)?;
            a[i] = to_json(&v, at)?;
        }
        Value::Null => return Err(null_ref(at)),
        other => return Err(no_member(other, "this[]", at)),
    }
    Ok(())
}

pub(crate) fn index(it: &mut Interp, t: Value, keys: Vec<Value>, at: usize) -> F<Value> {
    let Some(k) = keys.first() else {
        return Err(index_err(at));
    };
    Ok(match &t {
        Value::String(s) => {
            let i = as_int(k, at)?;
            s.chars()
                .nth(usize::try_from(i).map_err(|_| index_err(at))?)
                .map(Value::Char)
                .ok_or_else(|| index_err(at))?
        }
        Value::Array(a) => a[idx(k, a.len(), at)?].clone(),
        Value::Bytes(b) => Value::Int(b[idx(k, b.len(), at)?] as i64),
        Value::Json(J::Object(m)) => match m.get(&as_str(k, at)?) {
            Some(v) => Value::Json(v.clone()),
            None => Value::Null,
        },
        Value::Json(J::Array(a)) => Value::Json(a[idx(k, a.len(), at)?].clone()),
        Value::Json(_) => {
            return Err(rt(
                "InvalidOperationException",
                "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
                at,
            ));
        }
        Value::Object(Object::Dictionary(d)) => {
            let key = k.to_display();
            match dict_get(d, &key) {
                Some(v) => v,
                None => return Err(key_missing(&key, at)),
            }
        }
        Value::Object(Object::Context(path)) => {
            let p: Vec<&str> = path.iter().map(|s| &**s).collect();
            if !is_dictionary(&p) {
                return Err(no_member(&t, "this[]", at));
            }
            let key = as_str(k, at)?;
            match it.ctx.lookup(&p, &key) {
                Some(v) => v,
                None => return Err(key_missing(&key, at)),
            }
        }
        other => return Err(no_member(other, "this[]", at)),
    })
}

/// .NET Framework's wording, without the key: a key can be a value the policy computed from
/// a secret.
fn key_missing(_key: &str, at: usize) -> Flow {
    rt(
        "KeyNotFoundException",
        "The given key was not present in the dictionary.",
        at,
    )
}

fn dict_get(d: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
    d.get(key).cloned().or_else(|| {
        d.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    })
}

fn iterate_plain(v: Value, at: usize) -> F<Vec<Value>> {
    Ok(match v {
        Value::Array(a) => a,
        Value::Json(J::Array(a)) => a.into_iter().map(Value::Json).collect(),
        Value::Json(J::Object(m)) => m
            .into_iter()
            .map(|(k, v)| {
                let mut r = BTreeMap::new();
                r.insert("Name".to_string(), Value::str(&k));
                r.insert("Key".to_string(), Value::str(&k));
                r.insert("Value".to_string(), Value::Json(v));
                Value::Object(Object::Record(Arc::new(r)))
            })
            .collect(),
        Value::String(s) => s.chars().map(Value::Char).collect(),
        Value::Bytes(b) => b.into_iter().map(|x| Value::Int(x as i64)).collect(),
        Value::Object(Object::Dictionary(d)) => d.keys().map(Value::str).collect(),
        Value::Null => return Err(null_ref(at)),
        other => return Err(cast_err(&other, "IEnumerable", at)),
    })
}

/// The elements `foreach` and LINQ walk.
pub(crate) fn iterate(it: &mut Interp, v: Value, at: usize) -> F<Vec<Value>> {
    // A string or byte array becomes one value per element: far larger than it was.
    match &v {
        Value::String(s) => it.charge(s.len().saturating_mul(SLOT), at)?,
        Value::Bytes(b) => it.charge(b.len().saturating_mul(SLOT), at)?,
        _ => {}
    }
    if let Value::Object(Object::Context(path)) = &v {
        let p: Vec<&str> = path.iter().map(|s| &**s).collect();
        if is_dictionary(&p) {
            return Ok(it.ctx.keys(&p).into_iter().map(Value::from).collect());
        }
    }
    iterate_plain(v, at)
}

// ------------------------------------------------------------ context

/// The shape of APIM's `context`: objects (navigated lazily), dictionaries, bodies.
fn is_object(p: &[&str]) -> bool {
    matches!(
        p,
        ["Request"]
            | ["Request", "Url"]
            | ["Request", "OriginalUrl"]
            | ["Request", "PrivateEndpointConnection"]
            | ["Response"]
            | ["Subscription"]
            | ["Product"]
            | ["Api"]
            | ["Api", "ServiceUrl"]
            | ["Operation"]
            | ["User"]
            | ["Deployment"]
            | ["LastError"]
    )
}

fn is_dictionary(p: &[&str]) -> bool {
    matches!(
        p,
        ["Request", "Headers"]
            | ["Response", "Headers"]
            | ["Request", "Url", "Query"]
            | ["Request", "OriginalUrl", "Query"]
            | ["Request", "MatchedParameters"]
            | ["Variables"]
    )
}

fn is_body(p: &[&str]) -> bool {
    matches!(p, ["Request", "Body"] | ["Response", "Body"])
}

/// Scalar members each context object has; anything else is an unknown member.
fn scalar_members(p: &[&str]) -> &'static [&'static str] {
    match p {
        [] => &["RequestId", "Timestamp", "Elapsed", "Tracing"],
        ["Request"] => &["Method", "IpAddress", "Certificate"],
        ["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"] => {
            &["Scheme", "Host", "Port", "Path", "QueryString"]
        }
        ["Request", "PrivateEndpointConnection"] => &["Name", "GroupId", "MemberName"],
        ["Response"] => &["StatusCode", "StatusReason"],
        ["Subscription"] => &[
            "Id",
            "Key",
            "Name",
            "PrimaryKey",
            "SecondaryKey",
            "CreatedDate",
            "StartDate",
            "EndDate",
        ],
        ["Product"] => &[
            "Id",
            "Name",
            "ApprovalRequired",
            "State",
            "SubscriptionRequired",
            "SubscriptionsLimit",
            "Groups",
            "Apis",
        ],
        ["Api"] => &[
            "Id",
            "Name",
            "Path",
            "Revision",
            "Version",
            "IsCurrentRevision",
            "Protocols",
            "SubscriptionKeyParameterNames",
        ],
        ["Operation"] => &["Id", "Name", "Method", "UrlTemplate"],
        ["User"] => &[
            "Id",
            "Email",
            "FirstName",
            "LastName",
            "Note",
            "RegistrationDate",
            "Groups",
            "Identities",
        ],
        ["Deployment"] => &[
            "Region",
            "ServiceName",
            "ServiceId",
            "GatewayId",
            "Certificates",
        ],
        ["LastError"] => &[
            "Source", "Reason", "Message", "Scope", "Section", "Path", "PolicyId",
        ],
        _ => &[],
    }
}

fn context_member(it: &mut Interp, path: &Arc<[Arc<str>]>, name: &str, at: usize) -> F<Value> {
    let mut p: Vec<&str> = path.iter().map(|s| &**s).collect();
    p.push(name);
    if is_object(&p) {
        if !it.ctx.object_exists(&p) {
            return Ok(Value::Null);
        }
        return Ok(ctx_value(&p));
    }
    if is_dictionary(&p) || is_body(&p) {
        return Ok(ctx_value(&p));
    }
    p.pop();
    if scalar_members(&p).contains(&name) {
        p.push(name);
        return Ok(it.ctx.member(&p).unwrap_or(Value::Null));
    }
    if is_dictionary(&p) {
        match name {
            "Count" => return Ok(Value::Int(it.ctx.keys(&p).len() as i64)),
            "Keys" => {
                return Ok(Value::Array(
                    it.ctx.keys(&p).into_iter().map(Value::from).collect(),
                ));
            }
            _ => {}
        }
    }
    let shown = if p.is_empty() {
        "context".to_string()
    } else {
        format!("context.{}", p.join("."))
    };
    Err(rt(
        "RuntimeBinderException",
        format!("'{shown}' does not contain a definition for '{name}'"),
        at,
    ))
}

fn ctx_value(p: &[&str]) -> Value {
    let v: Vec<Arc<str>> = p.iter().map(|s| Arc::from(*s)).collect();
    Value::Object(Object::Context(v.into()))
}

fn url_to_string(it: &mut Interp, p: &[&str]) -> String {
    let mut get = |m: &str| {
        let mut q = p.to_vec();
        q.push(m);
        it.ctx
            .member(&q)
            .map(|v| v.to_display())
            .unwrap_or_default()
    };
    let scheme = get("Scheme");
    let host = get("Host");
    let port = get("Port");
    let path = get("Path");
    let qs = get("QueryString");
    let default_port = matches!(
        (scheme.as_str(), port.as_str()),
        ("https", "443") | ("http", "80") | (_, "")
    );
    let mut s = format!("{scheme}://{host}");
    if !default_port {
        s.push(':');
        s.push_str(&port);
    }
    s.push_str(&path);
    s.push_str(&qs);
    s
}

fn context_call(
    it: &mut Interp,
    path: &Arc<[Arc<str>]>,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    let p: Vec<&str> = path.iter().map(|s| &**s).collect();
    if is_dictionary(&p) {
        let key = as_str(arg(&args, 0, at)?, at)?;
        return match name {
            "GetValueOrDefault" => {
                let found = it.ctx.lookup(&p, &key);
                let default = args.get(1).map(|(_, v)| v.clone());
                match (found, generics.first()) {
                    (Some(v), Some(t)) => {
                        cast(v, t, at).or_else(|_| Ok(default.unwrap_or_else(|| default_of(t))))
                    }
                    (Some(v), None) => Ok(v),
                    (None, t) => {
                        Ok(default.unwrap_or_else(|| t.map(default_of).unwrap_or(Value::Null)))
                    }
                }
            }
            "ContainsKey" => Ok(Value::Bool(it.ctx.lookup(&p, &key).is_some())),
            _ => Err(no_member(
                &Value::Object(Object::Context(path.clone())),
                name,
                at,
            )),
        };
    }
    if is_body(&p) {
        if name != "As" {
            return Err(rt(
                "NotSupportedException",
                format!("IMessageBody.{name} is not supported"),
                at,
            ));
        }
        let preserve = match named(&args, "preserveContent", 0) {
            Some(v) => as_bool(v, at)?,
            None => false,
        };
        let text = it.ctx.body(p[0], preserve).unwrap_or_default();
        it.charge(text.len(), at)?;
        return body_as(it, Arc::from(text), generics, at);
    }
    match (p.as_slice(), name) {
        (["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"], "ToString") => {
            Ok(Value::str(url_to_string(it, &p)))
        }
        ([], "Trace") => {
            let (src, msg) = match args.len() {
                1 => (String::new(), arg(&args, 0, at)?.to_display()),
                _ => (
                    arg(&args, 0, at)?.to_display(),
                    arg(&args, 1, at)?.to_display(),
                ),
            };
            it.ctx.trace(&src, &msg);
            Ok(Value::Null)
        }
        _ => Err(no_member(
            &Value::Object(Object::Context(path.clone())),
            name,
            at,
        )),
    }
}

fn body_as(it: &mut Interp, text: Arc<str>, generics: &[TypeRef], at: usize) -> F<Value> {
    let ty = generics
        .first()
        .map(|t| t.name.as_str())
        .unwrap_or("string");
    match ty {
        "JObject" | "JToken" | "JArray" => it.charge(budget::json_parse_cost(&text), at)?,
        "XElement" | "XDocument" => it.charge(budget::xml_parse_cost(&text), at)?,
        "byte" => it.charge(text.len(), at)?,
        _ => {}
    }
    match ty {
        "string" => Ok(Value::String(text)),
        "JObject" | "JToken" | "JArray" => {
            let j: J = serde_json::from_str(&text).map_err(|e| {
                rt(
                    "JsonReaderException",
                    format!("Error reading {ty} from JsonReader: {e}"),
                    at,
                )
            })?;
            match (ty, &j) {
                ("JObject", J::Object(_)) | ("JArray", J::Array(_)) | ("JToken", _) => {
                    Ok(Value::Json(j))
                }
                _ => Err(rt(
                    "JsonReaderException",
                    format!("Error reading {ty} from JsonReader: unexpected JSON type"),
                    at,
                )),
            }
        }
        "XElement" => Ok(xml::element_value(xml::parse(&text, at)?)),
        "XDocument" => Ok(Value::Object(Object::XDocument(xml::parse(&text, at)?))),
        "byte" if generics.first().map(|t| t.array == 1).unwrap_or(false) => {
            Ok(Value::Bytes(text.as_bytes().to_vec()))
        }
        other => Err(rt(
            "NotSupportedException",
            format!("Body.As<{other}> is not supported"),
            at,
        )),
    }
}

// ------------------------------------------------------------ members

pub(crate) fn member(it: &mut Interp, t: Value, name: &str, at: usize) -> F<Value> {
    if let Some(r) = xml::member(&t, name, at) {
        return r;
    }
    Ok(match (&t, name) {
        (Value::Object(Object::Context(path)), _) => return context_member(it, path, name, at),
        (Value::String(s), "Length") => Value::Int(s.encode_utf16().count() as i64),
        (Value::Array(a), "Length" | "Count") => Value::Int(a.len() as i64),
        (Value::Bytes(b), "Length") => Value::Int(b.len() as i64),
        (Value::Json(J::Array(a)), "Count") => Value::Int(a.len() as i64),
        (Value::Json(J::Object(m)), "Count") => Value::Int(m.len() as i64),
        (Value::Json(j), "Type") => Value::str(match j {
            J::Object(_) => "Object",
            J::Array(_) => "Array",
            J::String(_) => "String",
            J::Number(n) if n.is_f64() => "Float",
            J::Number(_) => "Integer",
            J::Bool(_) => "Boolean",
            J::Null => "Null",
        }),
        (Value::Json(j), "HasValues") => Value::Bool(match j {
            J::Object(m) => !m.is_empty(),
            J::Array(a) => !a.is_empty(),
            _ => false,
        }),
        (Value::Json(J::Null), _) => return Err(null_ref(at)),
        (Value::Object(Object::Record(r)), _) => match r.get(name) {
            Some(v) => v.clone(),
            None => return Err(no_member(&t, name, at)),
        },
        (Value::Object(Object::Dictionary(d)), "Count") => Value::Int(d.len() as i64),
        (Value::Object(Object::Dictionary(d)), "Keys") => {
            Value::Array(d.keys().map(Value::str).collect())
        }
        (Value::Object(Object::Match(m)), _) => match name {
            "Success" => Value::Bool(m.success),
            "Value" => Value::str(&m.value),
            "Index" => Value::Int(m.index),
            "Length" => Value::Int(m.value.chars().count() as i64),
            "Groups" => {
                let mut d = BTreeMap::new();
                for (i, (gname, v)) in m.groups.iter().enumerate() {
                    let mut r = BTreeMap::new();
                    r.insert("Success".to_string(), Value::Bool(v.is_some()));
                    r.insert(
                        "Value".to_string(),
                        Value::str(v.clone().unwrap_or_default()),
                    );
                    let rec = Value::Object(Object::Record(Arc::new(r)));
                    d.insert(i.to_string(), rec.clone());
                    if let Some(n) = gname {
                        d.insert(n.clone(), rec);
                    }
                }
                Value::Object(Object::Dictionary(Arc::new(d)))
            }
            _ => return Err(no_member(&t, name, at)),
        },
        (Value::DateTime(d), _) => {
            let p = d.parts();
            match name {
                "Ticks" => Value::Int(d.0),
                "Year" => Value::Int(p.year),
                "Month" => Value::Int(p.month),
                "Day" => Value::Int(p.day),
                "Hour" => Value::Int(p.hour),
                "Minute" => Value::Int(p.minute),
                "Second" => Value::Int(p.second),
                "Millisecond" => Value::Int(p.fraction / 10_000),
                "DayOfWeek" => Value::str(DAYS_LONG[p.weekday as usize % 7]),
                "DayOfYear" => Value::Int(
                    days_from_civil(p.year, p.month, p.day) - days_from_civil(p.year, 1, 1) + 1,
                ),
                "Date" => Value::DateTime(DateTime(d.0 - d.0.rem_euclid(TICKS_PER_DAY))),
                "TimeOfDay" => Value::TimeSpan(TimeSpan(d.0.rem_euclid(TICKS_PER_DAY))),
                "UtcDateTime" | "DateTime" => t.clone(),
                _ => return Err(no_member(&t, name, at)),
            }
        }
        (Value::TimeSpan(ts), _) => {
            let v = ts.0;
            let tps = TICKS_PER_SECOND;
            match name {
                "Ticks" => Value::Int(v),
                "TotalMilliseconds" => Value::Double(v as f64 / 10_000.0),
                "TotalSeconds" => Value::Double(v as f64 / tps as f64),
                "TotalMinutes" => Value::Double(v as f64 / (60 * tps) as f64),
                "TotalHours" => Value::Double(v as f64 / (3600 * tps) as f64),
                "TotalDays" => Value::Double(v as f64 / TICKS_PER_DAY as f64),
                "Days" => Value::Int(v / TICKS_PER_DAY),
                "Hours" => Value::Int(v / (3600 * tps) % 24),
                "Minutes" => Value::Int(v / (60 * tps) % 60),
                "Seconds" => Value::Int(v / tps % 60),
                "Milliseconds" => Value::Int(v / 10_000 % 1000),
                _ => return Err(no_member(&t, name, at)),
            }
        }
        _ => return Err(no_member(&t, name, at)),
    })
}

pub(crate) fn static_property(it: &mut Interp, ty: &str, name: &str, at: usize) -> F<Value> {
    Ok(match (ty, name) {
        ("DateTime" | "DateTimeOffset", "UtcNow" | "Now") => Value::DateTime(it.ctx.now()),
        ("DateTime", "Today" | "UtcToday") => {
            let n = it.ctx.now();
            Value::DateTime(DateTime(n.0 - n.0.rem_euclid(TICKS_PER_DAY)))
        }
        ("DateTime" | "DateTimeOffset", "MinValue") => Value::DateTime(DateTime(0)),
        ("DateTime" | "DateTimeOffset", "MaxValue") => Value::DateTime(DateTime(MAX_TICKS)),
        ("DateTime" | "DateTimeOffset", "UnixEpoch") => Value::DateTime(DateTime(UNIX_EPOCH_TICKS)),
        ("TimeSpan", "Zero") => Value::TimeSpan(TimeSpan(0)),
        ("Guid", "Empty") => Value::Guid(0),
        ("string", "Empty") => Value::str(""),
        ("int", "MaxValue") => Value::Int(i32::MAX as i64),
        ("int", "MinValue") => Value::Int(i32::MIN as i64),
        ("long", "MaxValue") => Value::Int(i64::MAX),
        ("long", "MinValue") => Value::Int(i64::MIN),
        ("double", "NaN") => Value::Double(f64::NAN),
        ("double", "MaxValue") => Value::Double(f64::MAX),
        ("Math", "PI") => Value::Double(std::f64::consts::PI),
        ("Math", "E") => Value::Double(std::f64::consts::E),
        ("Encoding", "UTF8" | "ASCII" | "Default") => Value::Object(Object::Encoding),
        ("StringComparison" | "StringSplitOptions", _) => Value::str(name),
        ("RegexOptions", "None") => Value::Int(0),
        ("RegexOptions", "IgnoreCase") => Value::Int(1),
        ("RegexOptions", "Multiline") => Value::Int(2),
        ("RegexOptions", "Singleline") => Value::Int(16),
        ("RegexOptions", "IgnorePatternWhitespace") => Value::Int(32),
        ("RegexOptions", "Compiled" | "CultureInvariant" | "ExplicitCapture") => Value::Int(0),
        ("Formatting", "None") => Value::Int(0),
        ("Formatting", "Indented") => Value::Int(1),
        ("BitConverter", "IsLittleEndian") => Value::Bool(true),
        ("short", "MaxValue") => Value::Int(i16::MAX as i64),
        ("short", "MinValue") => Value::Int(i16::MIN as i64),
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'{ty}' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

// ------------------------------------------------------------ static methods

fn parse_guid(s: &str, at: usize) -> F<Value> {
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

fn compile_regex(pattern: &str, options: i64, at: usize) -> F<regex::Regex> {
    let mut flags = String::new();
    if options & 1 != 0 {
        flags.push('i');
    }
    if options & 2 != 0 {
        flags.push('m');
    }
    if options & 16 != 0 {
        flags.push('s');
    }
    if options & 32 != 0 {
        flags.push('x');
    }
    let full = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    regex::RegexBuilder::new(&full)
        .size_limit(1 << 20)
        .build()
        // Neither the pattern nor the regex crate's message (which quotes it) is shown.
        .map_err(|_| {
            rt(
                "ArgumentException",
                "Invalid pattern: the regular expression does not parse.",
                at,
            )
        })
}

fn regex_options(args: &Args, i: usize, at: usize) -> F<i64> {
    match args.get(i) {
        Some((_, v)) => as_int(v, at),
        None => Ok(0),
    }
}

fn make_match(re: &regex::Regex, input: &str) -> Value {
    let m = match re.captures(input) {
        Some(c) => {
            let names: Vec<Option<String>> =
                re.capture_names().map(|n| n.map(String::from)).collect();
            let whole = c.get(0);
            RegexMatch {
                success: true,
                value: whole.map(|m| m.as_str().to_string()).unwrap_or_default(),
                index: whole
                    .map(|m| input[..m.start()].chars().count() as i64)
                    .unwrap_or(0),
                groups: (0..c.len())
                    .map(|i| {
                        (
                            names.get(i).cloned().flatten(),
                            c.get(i).map(|m| m.as_str().to_string()),
                        )
                    })
                    .collect(),
            }
        }
        None => RegexMatch {
            success: false,
            value: String::new(),
            index: 0,
            groups: vec![(None, None)],
        },
    };
    Value::Object(Object::Match(Arc::new(m)))
}

/// .NET replacement syntax (`$1`, `${name}`, `$$`) maps onto the regex crate's, except that a
/// bare `$name` in .NET is literal; we pass it through since real policies do not rely on it.
/// Built match by match so that the memory budget is checked before each expansion: a
/// replacement can be far longer than what it replaces.
fn regex_replace(
    it: &mut Interp,
    re: &regex::Regex,
    input: &str,
    rep: &str,
    at: usize,
) -> F<String> {
    // An expansion is at most the replacement's text plus, per `$`, the longest group (which
    // is no longer than the whole match).
    let dollars = rep.bytes().filter(|b| *b == b'$').count();
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(input) {
        let Some(m) = caps.get(0) else { continue };
        let bound = rep
            .len()
            .saturating_add(dollars.saturating_mul(m.len()))
            .saturating_add(m.start() - last);
        it.charge(out.len().saturating_add(bound), at)?;
        out.push_str(&input[last..m.start()]);
        caps.expand(rep, &mut out);
        last = m.end();
    }
    it.charge(out.len() + (input.len() - last), at)?;
    out.push_str(&input[last..]);
    Ok(out)
}

/// `string.Join`/`string.Concat`: the texts of `items` with `sep` between them, refused before
/// it is built when the result would not fit the memory budget.
fn join_texts(it: &mut Interp, items: &[Value], sep: &str, at: usize) -> F<String> {
    let mut texts = Vec::with_capacity(items.len());
    let mut total = 0usize;
    for v in items {
        let t = it.text(v, at)?.into_owned();
        total = total
            .saturating_add(t.len())
            .saturating_add(sep.len())
            .saturating_add(std::mem::size_of::<String>());
        // The pieces and the result are held at once.
        it.charge(total.saturating_mul(2), at)?;
        texts.push(t);
    }
    Ok(texts.join(sep))
}

/// JSON text within the memory budget (a capped writer: never built past it).
fn json_text(it: &mut Interp, j: &J, pretty: bool, at: usize) -> F<String> {
    let room = it.room();
    budget::json_text(j, pretty, room).ok_or_else(|| it.out_of_memory(at))
}

fn b64_decode(s: &str, at: usize) -> F<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean.as_bytes()).map_err(|_| {
        rt(
            "FormatException",
            "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.",
            at,
        )
    })
}

fn parse_int(s: &str, bits: u32, at: usize) -> F<Value> {
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

fn to_number(v: &Value, bits: u32, at: usize) -> F<Value> {
    match v {
        Value::Null => Ok(Value::Int(0)),
        Value::String(s) => parse_int(s, bits, at),
        Value::Double(d) => Ok(Value::Int(d.round_ties_even() as i64)),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Json(j) => to_number(&from_json(j), bits, at),
        other => Ok(Value::Int(as_int(other, at)?)),
    }
}

fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn uri_unescape(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && b[i] == b'+' {
            b' '
        } else {
            b[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_parse(s: &str, at: usize) -> F<J> {
    serde_json::from_str(s).map_err(|e| rt("JsonReaderException", e.to_string(), at))
}

pub(crate) fn call_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    Ok(match (ty, name) {
        ("string", "IsNullOrEmpty") => Value::Bool(match a(0)? {
            Value::Null => true,
            v => as_str(v, at)?.is_empty(),
        }),
        ("string", "IsNullOrWhiteSpace") => Value::Bool(match a(0)? {
            Value::Null => true,
            v => as_str(v, at)?.trim().is_empty(),
        }),
        ("string", "Format") => {
            let fmt = as_str(a(0)?, at)?;
            let rest: Vec<Value> = match args.get(1..) {
                Some([(_, Value::Array(arr))]) => arr.clone(),
                Some(r) => r.iter().map(|(_, v)| v.clone()).collect(),
                None => Vec::new(),
            };
            Value::str(string_format(it, &fmt, &rest, at)?)
        }
        ("string", "Join") => {
            let sep = it.text(a(0)?, at)?.into_owned();
            let items: Vec<Value> = match args.get(1..) {
                Some([(_, v)]) if !matches!(v, Value::String(_)) => iterate(it, v.clone(), at)?,
                Some(r) => r.iter().map(|(_, v)| v.clone()).collect(),
                None => Vec::new(),
            };
            Value::str(join_texts(it, &items, &sep, at)?)
        }
        ("string", "Concat") => {
            let items: Vec<Value> = match args.as_slice() {
                [(_, Value::Array(arr))] => arr.clone(),
                r => r.iter().map(|(_, v)| v.clone()).collect(),
            };
            Value::str(join_texts(it, &items, "", at)?)
        }
        ("string", "Equals") => {
            let x = a(0)?;
            let y = a(1)?;
            match args.get(2) {
                Some((_, c)) if x.is_null() || y.is_null() => {
                    let _ = c;
                    Value::Bool(x.is_null() && y.is_null())
                }
                Some((_, c)) => Value::Bool(str_equals(
                    &as_str(x, at)?,
                    &as_str(y, at)?,
                    &c.to_display(),
                )),
                None => Value::Bool(values_equal(x, y)),
            }
        }
        ("string", "Compare") => {
            let x = a(0)?.to_display();
            let y = a(1)?.to_display();
            let ci = match args.get(2) {
                Some((_, Value::Bool(b))) => *b,
                Some((_, v)) => v.to_display().ends_with("IgnoreCase"),
                None => false,
            };
            let o = if ci {
                x.to_lowercase().cmp(&y.to_lowercase())
            } else {
                x.cmp(&y)
            };
            Value::Int(o as i64)
        }
        ("Convert", "ToBase64String") => {
            let bytes = as_bytes(a(0)?, at)?;
            it.charge(bytes.len().div_ceil(3).saturating_mul(4), at)?;
            Value::str(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        ("Convert", "FromBase64String") => Value::Bytes(b64_decode(&as_str(a(0)?, at)?, at)?),
        ("Convert", "ToHexString") => {
            let bytes = as_bytes(a(0)?, at)?;
            it.charge(bytes.len().saturating_mul(2), at)?;
            Value::str(bytes.iter().map(|b| format!("{b:02X}")).collect::<String>())
        }
        ("Convert", "ToInt32" | "ToInt16") => to_number(a(0)?, 32, at)?,
        ("Convert", "ToByte") => {
            let v = to_number(a(0)?, 32, at)?;
            if !(0..=255).contains(&as_int(&v, at)?) {
                return Err(rt(
                    "OverflowException",
                    "Value was either too large or too small for an unsigned byte.",
                    at,
                ));
            }
            v
        }
        ("BitConverter", "ToInt32" | "ToInt16" | "ToInt64" | "ToUInt32" | "ToUInt16") => {
            // Little-endian, as on every platform APIM runs on.
            let bytes = as_bytes(a(0)?, at)?;
            let start = match args.get(1) {
                Some((_, v)) => as_int(v, at)?,
                None => 0,
            };
            let width = match name {
                "ToInt16" | "ToUInt16" => 2,
                "ToInt64" => 8,
                _ => 4,
            };
            let slice = usize::try_from(start)
                .ok()
                .and_then(|s| bytes.get(s..s.checked_add(width)?))
                .ok_or_else(|| {
                    arg_range(
                        "Destination array is not long enough to copy all the items in the collection.",
                        at,
                    )
                })?;
            let mut buf = [0u8; 8];
            buf[..width].copy_from_slice(slice);
            let raw = u64::from_le_bytes(buf);
            Value::Int(match name {
                "ToInt16" => raw as u16 as i16 as i64,
                "ToUInt16" => raw as u16 as i64,
                "ToInt32" => raw as u32 as i32 as i64,
                "ToUInt32" => raw as u32 as i64,
                _ => raw as i64,
            })
        }
        ("BitConverter", "GetBytes") => match a(0)? {
            Value::Bool(b) => Value::Bytes(vec![*b as u8]),
            // Our ints do not remember int vs long: 4 bytes when the value fits an int.
            Value::Int(i) => match i32::try_from(*i) {
                Ok(x) => Value::Bytes(x.to_le_bytes().to_vec()),
                Err(_) => Value::Bytes(i.to_le_bytes().to_vec()),
            },
            Value::Double(d) => Value::Bytes(d.to_le_bytes().to_vec()),
            v => return Err(cast_err(v, "System.Int32", at)),
        },
        ("BitConverter", "ToString") => {
            let bytes = as_bytes(a(0)?, at)?;
            // "AB-" per byte, in the joined text and in the pieces joined.
            it.charge(bytes.len().saturating_mul(3 + 3 + SLOT), at)?;
            Value::str(
                bytes
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join("-"),
            )
        }
        ("Convert", "ToInt64") => to_number(a(0)?, 64, at)?,
        ("Convert", "ToDouble" | "ToDecimal" | "ToSingle") => match a(0)? {
            Value::Null => Value::Double(0.0),
            Value::String(s) => Value::Double(s.trim().parse().map_err(|_| format_err(at))?),
            v => Value::Double(as_f64(v, at)?),
        },
        ("Convert", "ToBoolean") => match a(0)? {
            Value::String(s) => parse_bool(s, at)?,
            Value::Int(i) => Value::Bool(*i != 0),
            Value::Null => Value::Bool(false),
            v => Value::Bool(as_bool(v, at)?),
        },
        ("Convert", "ToString") => match args.get(1) {
            Some((_, f)) if !matches!(f, Value::Null) => {
                Value::str(format_value(a(0)?, Some(&f.to_display()), at)?)
            }
            _ => Value::str(it.text(a(0)?, at)?),
        },
        ("int", "Parse") => parse_int(&as_str(a(0)?, at)?, 32, at)?,
        ("long", "Parse") => parse_int(&as_str(a(0)?, at)?, 64, at)?,
        ("double" | "float" | "decimal", "Parse") => Value::Double(
            as_str(a(0)?, at)?
                .trim()
                .parse()
                .map_err(|_| format_err(at))?,
        ),
        ("bool", "Parse") => parse_bool(&as_str(a(0)?, at)?, at)?,
        (_, "TryParse") => {
            return Err(rt(
                "NotSupportedException",
                "TryParse needs an out argument, which is not supported",
                at,
            ));
        }
        ("Math", _) => math(name, &args, at)?,
        ("DateTime" | "DateTimeOffset", "Parse") => {
            let s = as_str(a(0)?, at)?;
            Value::DateTime(parse_datetime(&s).ok_or_else(|| {
                rt(
                    "FormatException",
                    "String was not recognized as a valid DateTime.",
                    at,
                )
            })?)
        }
        ("DateTimeOffset", "FromUnixTimeSeconds") => {
            let s = as_int(a(0)?, at)?;
            Value::DateTime(DateTime::from_unix_seconds(s).ok_or_else(|| {
                arg_range(
                    "Valid values are between -62135596800 and 253402300799, inclusive.",
                    at,
                )
            })?)
        }
        ("DateTimeOffset", "FromUnixTimeMilliseconds") => {
            let ms = as_int(a(0)?, at)?;
            let t = ms
                .checked_mul(10_000)
                .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
                .and_then(DateTime::checked);
            Value::DateTime(t.ok_or_else(|| arg_range("Valid values are out of range.", at))?)
        }
        ("TimeSpan", _) if name.starts_with("From") => {
            let v = as_f64(a(0)?, at)?;
            let unit = match name {
                "FromMilliseconds" => 10_000.0,
                "FromSeconds" => TICKS_PER_SECOND as f64,
                "FromMinutes" => 60.0 * TICKS_PER_SECOND as f64,
                "FromHours" => 3600.0 * TICKS_PER_SECOND as f64,
                "FromDays" => TICKS_PER_DAY as f64,
                "FromTicks" => 1.0,
                _ => {
                    return Err(rt(
                        "RuntimeBinderException",
                        format!("'TimeSpan' does not contain a definition for '{name}'"),
                        at,
                    ));
                }
            };
            let t = v * unit;
            if !t.is_finite() || t.abs() > i64::MAX as f64 {
                return Err(rt(
                    "OverflowException",
                    "TimeSpan overflowed because the duration is too long.",
                    at,
                ));
            }
            Value::TimeSpan(TimeSpan(t.round() as i64))
        }
        ("Guid", "NewGuid") => Value::Guid(uuid::Uuid::new_v4().as_u128()),
        ("Guid", "Parse") => parse_guid(&as_str(a(0)?, at)?, at)?,
        ("Regex", "IsMatch") => {
            let re = compile_regex(&as_str(a(1)?, at)?, regex_options(&args, 2, at)?, at)?;
            Value::Bool(re.is_match(&as_str(a(0)?, at)?))
        }
        ("Regex", "Match") => {
            let re = compile_regex(&as_str(a(1)?, at)?, regex_options(&args, 2, at)?, at)?;
            make_match(&re, &as_str(a(0)?, at)?)
        }
        ("Regex", "Matches") => {
            let re = compile_regex(&as_str(a(1)?, at)?, regex_options(&args, 2, at)?, at)?;
            let input = as_str(a(0)?, at)?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            for m in re.find_iter(&input) {
                // Each match is matched again for its groups: time and memory per match.
                it.check_time(at)?;
                let found = make_match(&re, &input[m.start()..]);
                bytes = bytes.saturating_add(it.size_of(&found) + SLOT);
                it.charge(bytes, at)?;
                out.push(found);
            }
            Value::Array(out)
        }
        ("Regex", "Replace") => {
            let re = compile_regex(&as_str(a(1)?, at)?, regex_options(&args, 3, at)?, at)?;
            let input = as_str(a(0)?, at)?;
            let rep = as_str(a(2)?, at)?;
            Value::str(regex_replace(it, &re, &input, &rep, at)?)
        }
        ("Regex", "Split") => {
            let re = compile_regex(&as_str(a(1)?, at)?, regex_options(&args, 2, at)?, at)?;
            let input = as_str(a(0)?, at)?;
            let n = re.split(&input).count();
            it.charge(input.len().saturating_add(n.saturating_mul(SLOT)), at)?;
            Value::Array(re.split(&input).map(Value::str).collect())
        }
        ("Regex", "Escape") => {
            let input = as_str(a(0)?, at)?;
            it.charge(input.len().saturating_mul(2), at)?;
            Value::str(regex::escape(&input))
        }
        ("JObject" | "JArray" | "JToken", "Parse") => {
            let text = as_str(a(0)?, at)?;
            it.charge(budget::json_parse_cost(&text), at)?;
            let j = json_parse(&text, at)?;
            match (ty, &j) {
                ("JObject", J::Object(_)) | ("JArray", J::Array(_)) | ("JToken", _) => {
                    Value::Json(j)
                }
                _ => {
                    return Err(rt(
                        "JsonReaderException",
                        format!(
                            "Error reading {ty} from JsonReader. Current JsonReader item is not an {}.",
                            if ty == "JObject" { "object" } else { "array" }
                        ),
                        at,
                    ));
                }
            }
        }
        ("XElement" | "XDocument", "Parse") => {
            let text = as_str(a(0)?, at)?;
            it.charge(budget::xml_parse_cost(&text), at)?;
            let root = xml::parse(&text, at)?;
            if ty == "XElement" {
                xml::element_value(root)
            } else {
                Value::Object(Object::XDocument(root))
            }
        }
        ("JObject" | "JArray" | "JToken", "FromObject") => {
            let v = a(0)?;
            it.charge(it.size_of(v).saturating_add(budget::JSON_NODE), at)?;
            Value::Json(to_json(v, at)?)
        }
        ("JsonConvert", "SerializeObject") => {
            let v = a(0)?;
            it.charge(it.size_of(v), at)?;
            let j = to_json(v, at)?;
            let indented = matches!(args.get(1), Some((_, Value::Int(1))));
            Value::str(json_text(it, &j, indented, at)?)
        }
        ("JsonConvert", "DeserializeObject") => {
            let _ = generics;
            let text = as_str(a(0)?, at)?;
            it.charge(budget::json_parse_cost(&text), at)?;
            Value::Json(json_parse(&text, at)?)
        }
        ("SHA256", "Create") => {
            Value::Object(Object::Hasher(HashKind::Sha256, Arc::from(Vec::new())))
        }
        ("MD5", "Create") => Value::Object(Object::Hasher(HashKind::Md5, Arc::from(Vec::new()))),
        ("SHA256" | "MD5", "HashData") => {
            let kind = if ty == "MD5" {
                HashKind::Md5
            } else {
                HashKind::Sha256
            };
            Value::Bytes(hash(kind, &[], &as_bytes(a(0)?, at)?))
        }
        ("Uri", "EscapeDataString" | "EscapeUriString") => {
            let input = as_str(a(0)?, at)?;
            it.charge(input.len().saturating_mul(3), at)?;
            Value::str(uri_escape(&input))
        }
        ("Uri", "UnescapeDataString") => Value::str(uri_unescape(&as_str(a(0)?, at)?, false)),
        ("WebUtility", "UrlEncode") => {
            let input = as_str(a(0)?, at)?;
            it.charge(input.len().saturating_mul(3), at)?;
            Value::str(uri_escape(&input).replace("%20", "+"))
        }
        ("WebUtility", "UrlDecode") => Value::str(uri_unescape(&as_str(a(0)?, at)?, true)),
        ("WebUtility", "HtmlEncode") => match a(0)? {
            Value::Null => Value::Null,
            v => {
                let input = as_str(v, at)?;
                // `&quot;` is the longest replacement: six bytes for one.
                it.charge(input.len().saturating_mul(6), at)?;
                let mut out = String::new();
                for c in input.chars() {
                    match c {
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        '>' => out.push_str("&gt;"),
                        '"' => out.push_str("&quot;"),
                        '\'' => out.push_str("&#39;"),
                        c => out.push(c),
                    }
                }
                Value::str(out)
            }
        },
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'{ty}' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// Whether [`call_static`] (`call`) or [`static_property`] knows `ty.name`: what `policy
/// check` uses to report unsupported members. Keep in step with those two functions.
pub(crate) fn static_member_exists(ty: &str, name: &str, call: bool) -> bool {
    if call {
        if name == "TryParse" {
            return matches!(
                ty,
                "int"
                    | "long"
                    | "short"
                    | "byte"
                    | "double"
                    | "float"
                    | "decimal"
                    | "bool"
                    | "Guid"
                    | "DateTime"
                    | "DateTimeOffset"
            );
        }
        return match ty {
            "string" => matches!(
                name,
                "IsNullOrEmpty"
                    | "IsNullOrWhiteSpace"
                    | "Format"
                    | "Join"
                    | "Concat"
                    | "Equals"
                    | "Compare"
            ),
            "Convert" => matches!(
                name,
                "ToBase64String"
                    | "FromBase64String"
                    | "ToHexString"
                    | "ToInt32"
                    | "ToInt16"
                    | "ToByte"
                    | "ToInt64"
                    | "ToDouble"
                    | "ToDecimal"
                    | "ToSingle"
                    | "ToBoolean"
                    | "ToString"
            ),
            "BitConverter" => matches!(
                name,
                "ToInt32"
                    | "ToInt16"
                    | "ToInt64"
                    | "ToUInt32"
                    | "ToUInt16"
                    | "GetBytes"
                    | "ToString"
            ),
            "int" | "long" | "double" | "float" | "decimal" | "bool" | "Guid" => {
                name == "Parse" || (ty == "Guid" && name == "NewGuid")
            }
            "Math" => matches!(
                name,
                "Abs"
                    | "Max"
                    | "Min"
                    | "Floor"
                    | "Ceiling"
                    | "Round"
                    | "Truncate"
                    | "Pow"
                    | "Sqrt"
                    | "Log"
                    | "Log10"
                    | "Sign"
            ),
            "DateTime" => name == "Parse",
            "DateTimeOffset" => matches!(
                name,
                "Parse" | "FromUnixTimeSeconds" | "FromUnixTimeMilliseconds"
            ),
            "TimeSpan" => matches!(
                name,
                "FromMilliseconds"
                    | "FromSeconds"
                    | "FromMinutes"
                    | "FromHours"
                    | "FromDays"
                    | "FromTicks"
            ),
            "Regex" => matches!(
                name,
                "IsMatch" | "Match" | "Matches" | "Replace" | "Split" | "Escape"
            ),
            "JObject" | "JArray" | "JToken" => matches!(name, "Parse" | "FromObject"),
            "XElement" | "XDocument" => name == "Parse",
            "JsonConvert" => matches!(name, "SerializeObject" | "DeserializeObject"),
            "SHA256" => matches!(name, "Create" | "HashData"),
            "MD5" => matches!(name, "Create" | "HashData"),
            "Uri" => matches!(
                name,
                "EscapeDataString" | "EscapeUriString" | "UnescapeDataString"
            ),
            "WebUtility" => matches!(name, "UrlEncode" | "UrlDecode" | "HtmlEncode"),
            // Handled by the interpreter: it writes into its destination argument.
            "Array" => name == "Copy",
            _ => false,
        };
    }
    match ty {
        "DateTime" => matches!(
            name,
            "UtcNow" | "Now" | "Today" | "UtcToday" | "MinValue" | "MaxValue" | "UnixEpoch"
        ),
        "DateTimeOffset" => matches!(
            name,
            "UtcNow" | "Now" | "MinValue" | "MaxValue" | "UnixEpoch"
        ),
        "TimeSpan" => name == "Zero",
        "Guid" | "string" => name == "Empty",
        "int" | "long" | "short" => matches!(name, "MaxValue" | "MinValue"),
        "double" => matches!(name, "NaN" | "MaxValue"),
        "Math" => matches!(name, "PI" | "E"),
        "Encoding" => matches!(name, "UTF8" | "ASCII" | "Default"),
        "StringComparison" | "StringSplitOptions" => true,
        "RegexOptions" => matches!(
            name,
            "None"
                | "IgnoreCase"
                | "Multiline"
                | "Singleline"
                | "IgnorePatternWhitespace"
                | "Compiled"
                | "CultureInvariant"
                | "ExplicitCapture"
        ),
        "Formatting" => matches!(name, "None" | "Indented"),
        "BitConverter" => name == "IsLittleEndian",
        _ => false,
    }
}

/// How `policy check` sees a path below `context`: whether the interpreter holds it as a
/// context object (rather than a plain value), and which members and methods it has.
pub(crate) fn context_navigable(p: &[&str]) -> bool {
    p.is_empty() || is_object(p) || is_dictionary(p) || is_body(p)
}

/// Whether `context.<p>.<name>` resolves (see [`context_member`]).
pub(crate) fn context_member_known(p: &[&str], name: &str) -> bool {
    let mut q = p.to_vec();
    q.push(name);
    is_object(&q)
        || is_dictionary(&q)
        || is_body(&q)
        || scalar_members(p).contains(&name)
        || (is_dictionary(p) && matches!(name, "Count" | "Keys"))
}

/// Whether `context.<p>.<name>(…)` is a method [`context_call`] implements.
pub(crate) fn context_method_known(p: &[&str], name: &str) -> bool {
    if name == "GetType" {
        return true;
    }
    if is_dictionary(p) {
        return matches!(name, "GetValueOrDefault" | "ContainsKey" | "TryGetValue");
    }
    if is_body(p) {
        return name == "As";
    }
    matches!(
        (p, name),
        (
            ["Request", "Url"] | ["Request", "OriginalUrl"] | ["Api", "ServiceUrl"],
            "ToString"
        ) | ([], "Trace")
    )
}

fn math(name: &str, args: &Args, at: usize) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let both_int = args.iter().all(|(_, v)| matches!(v, Value::Int(_)));
    Ok(match name {
        "Abs" if both_int => Value::Int(as_int(a(0)?, at)?.wrapping_abs()),
        "Max" if both_int => Value::Int(as_int(a(0)?, at)?.max(as_int(a(1)?, at)?)),
        "Min" if both_int => Value::Int(as_int(a(0)?, at)?.min(as_int(a(1)?, at)?)),
        "Abs" => Value::Double(as_f64(a(0)?, at)?.abs()),
        "Max" => Value::Double(as_f64(a(0)?, at)?.max(as_f64(a(1)?, at)?)),
        "Min" => Value::Double(as_f64(a(0)?, at)?.min(as_f64(a(1)?, at)?)),
        "Floor" => Value::Double(as_f64(a(0)?, at)?.floor()),
        "Ceiling" => Value::Double(as_f64(a(0)?, at)?.ceil()),
        "Round" => {
            let x = as_f64(a(0)?, at)?;
            match args.get(1) {
                Some((_, d)) => {
                    let p = 10f64.powi(as_int(d, at)?.clamp(0, 15) as i32);
                    Value::Double((x * p).round_ties_even() / p)
                }
                None => Value::Double(x.round_ties_even()),
            }
        }
        "Truncate" => Value::Double(as_f64(a(0)?, at)?.trunc()),
        "Pow" => Value::Double(as_f64(a(0)?, at)?.powf(as_f64(a(1)?, at)?)),
        "Sqrt" => Value::Double(as_f64(a(0)?, at)?.sqrt()),
        "Log" => Value::Double(as_f64(a(0)?, at)?.ln()),
        "Log10" => Value::Double(as_f64(a(0)?, at)?.log10()),
        "Sign" => Value::Int(as_f64(a(0)?, at)?.signum() as i64),
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'Math' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

fn hash(kind: HashKind, key: &[u8], data: &[u8]) -> Vec<u8> {
    match kind {
        HashKind::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashKind::Md5 => md5::Md5::digest(data).to_vec(),
        HashKind::HmacSha256 => match hmac::Hmac::<sha2::Sha256>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            // HMAC accepts keys of any length, so this arm is unreachable in practice.
            Err(_) => Vec::new(),
        },
    }
}

fn str_equals(a: &str, b: &str, comparison: &str) -> bool {
    if comparison.ends_with("IgnoreCase") {
        a.to_lowercase() == b.to_lowercase()
    } else {
        a == b
    }
}

// ------------------------------------------------------------ instance methods

fn substring(s: &str, start: i64, len: Option<i64>, at: usize) -> F<String> {
    let n = s.chars().count() as i64;
    if start < 0 || start > n {
        return Err(arg_range(
            "startIndex cannot be larger than length of string. (Parameter 'startIndex')",
            at,
        ));
    }
    let len = len.unwrap_or(n - start);
    if len < 0 || start + len > n {
        return Err(arg_range(
            "Index and length must refer to a location within the string. (Parameter 'length')",
            at,
        ));
    }
    // Byte offsets of the char range, without copying the string into chars first.
    let from = byte_index(s, start).unwrap_or(s.len());
    let to = byte_index(s, start + len).unwrap_or(s.len());
    Ok(s.get(from..to).unwrap_or_default().to_string())
}

fn char_index(s: &str, byte: usize) -> i64 {
    s.get(..byte)
        .map(|p| p.chars().count() as i64)
        .unwrap_or(-1)
}

fn byte_index(s: &str, chars: i64) -> Option<usize> {
    if chars < 0 {
        return None;
    }
    if chars == 0 {
        return Some(0);
    }
    let n = chars as usize;
    s.char_indices()
        .nth(n)
        .map(|(i, _)| i)
        .or_else(|| (s.chars().count() == n).then_some(s.len()))
}

fn comparison_arg(args: &Args, i: usize) -> bool {
    args.get(i)
        .map(|(_, v)| v.to_display().ends_with("IgnoreCase"))
        .unwrap_or(false)
}

fn trim_chars(args: &Args) -> Vec<char> {
    args.iter()
        .flat_map(|(_, v)| match v {
            Value::Char(c) => vec![*c],
            Value::String(s) => s.chars().collect(),
            Value::Array(a) => a
                .iter()
                .flat_map(|c| c.to_display().chars().collect::<Vec<_>>())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The instance methods [`string_method`] implements; anything else goes to LINQ.
pub(crate) const STRING_METHODS: &[&str] = &[
    "Substring",
    "IndexOf",
    "LastIndexOf",
    "Contains",
    "StartsWith",
    "EndsWith",
    "Replace",
    "Split",
    "ToLower",
    "ToLowerInvariant",
    "ToUpper",
    "ToUpperInvariant",
    "Trim",
    "TrimStart",
    "TrimEnd",
    "Equals",
    "CompareTo",
    "ToString",
    "PadLeft",
    "PadRight",
    "Insert",
    "Remove",
    "ToCharArray",
    "GetHashCode",
];

fn string_method(it: &mut Interp, s: &str, name: &str, args: Args, at: usize) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    Ok(match name {
        "Substring" => {
            let len = match args.get(1) {
                Some((_, v)) => Some(as_int(v, at)?),
                None => None,
            };
            Value::str(substring(s, as_int(a(0)?, at)?, len, at)?)
        }
        "IndexOf" | "LastIndexOf" => {
            let needle = a(0)?.to_display();
            let ci = comparison_arg(&args, args.len().saturating_sub(1)) && args.len() > 1;
            let (hay, needle) = if ci {
                (s.to_lowercase(), needle.to_lowercase())
            } else {
                (s.to_string(), needle)
            };
            let start = match args.get(1) {
                Some((_, Value::Int(i))) => {
                    byte_index(&hay, *i).ok_or_else(|| arg_range("Index was out of range.", at))?
                }
                _ => 0,
            };
            let found = if name == "IndexOf" {
                hay.get(start..)
                    .and_then(|h| h.find(&needle))
                    .map(|i| i + start)
            } else {
                hay.rfind(&needle)
            };
            Value::Int(found.map(|b| char_index(&hay, b)).unwrap_or(-1))
        }
        "Contains" => {
            let needle = a(0)?.to_display();
            if comparison_arg(&args, 1) {
                Value::Bool(s.to_lowercase().contains(&needle.to_lowercase()))
            } else {
                Value::Bool(s.contains(&needle))
            }
        }
        "StartsWith" | "EndsWith" => {
            let p = as_str(a(0)?, at)?;
            let (h, p) = if comparison_arg(&args, 1) {
                (s.to_lowercase(), p.to_lowercase())
            } else {
                (s.to_string(), p)
            };
            Value::Bool(if name == "StartsWith" {
                h.starts_with(&p)
            } else {
                h.ends_with(&p)
            })
        }
        "Replace" => {
            let from = a(0)?.to_display();
            if from.is_empty() {
                return Err(rt(
                    "ArgumentException",
                    "String cannot be of zero length. (Parameter 'oldValue')",
                    at,
                ));
            }
            let to = match a(1)? {
                Value::Null => String::new(),
                v => v.to_display(),
            };
            // The result's size is known before building it.
            if to.len() > from.len() {
                let n = s.matches(from.as_str()).count();
                it.charge(
                    s.len()
                        .saturating_add(n.saturating_mul(to.len() - from.len())),
                    at,
                )?;
            } else {
                it.charge(s.len(), at)?;
            }
            Value::str(s.replace(&from, &to))
        }
        "Split" => {
            let mut seps: Vec<String> = Vec::new();
            let mut remove_empty = false;
            let mut count: Option<usize> = None;
            for (_, v) in &args {
                match v {
                    Value::Char(c) => seps.push(c.to_string()),
                    Value::String(x) if &**x == "RemoveEmptyEntries" => remove_empty = true,
                    Value::String(x) if &**x == "None" || &**x == "TrimEntries" => {}
                    Value::String(x) => seps.push(x.to_string()),
                    Value::Array(xs) => seps.extend(xs.iter().map(|x| x.to_display())),
                    Value::Int(n) => count = Some((*n).max(0) as usize),
                    _ => {}
                }
            }
            // One value per part: counted before the parts are built.
            let n = if seps.is_empty() {
                s.split(char::is_whitespace).count()
            } else {
                split_multi(s, &seps, count, |_| {})
            };
            it.charge(s.len().saturating_add(n.saturating_mul(SLOT)), at)?;
            let mut parts: Vec<String> = Vec::with_capacity(n);
            if seps.is_empty() {
                parts.extend(s.split(char::is_whitespace).map(String::from));
            } else {
                split_multi(s, &seps, count, |p| parts.push(p.to_string()));
            }
            if remove_empty {
                parts.retain(|p| !p.is_empty());
            }
            Value::Array(parts.into_iter().map(Value::from).collect())
        }
        "ToLower" | "ToLowerInvariant" | "ToUpper" | "ToUpperInvariant" => {
            // Case mapping keeps most lengths; the few characters that grow are counted after.
            it.charge(s.len(), at)?;
            let out = if name.starts_with("ToLower") {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            };
            it.charge(out.len(), at)?;
            Value::str(out)
        }
        "Trim" | "TrimStart" | "TrimEnd" => {
            let cs = trim_chars(&args);
            let f = |c: char| {
                if cs.is_empty() {
                    c.is_whitespace()
                } else {
                    cs.contains(&c)
                }
            };
            Value::str(match name {
                "Trim" => s.trim_matches(f),
                "TrimStart" => s.trim_start_matches(f),
                _ => s.trim_end_matches(f),
            })
        }
        "Equals" => match a(0)? {
            Value::Null => Value::Bool(false),
            v => Value::Bool(str_equals(
                s,
                &v.to_display(),
                &args.get(1).map(|(_, c)| c.to_display()).unwrap_or_default(),
            )),
        },
        "CompareTo" => Value::Int(s.cmp(&a(0)?.to_display()) as i64),
        "ToString" => Value::str(s),
        "PadLeft" | "PadRight" => {
            let w = as_int(a(0)?, at)?.clamp(0, 1 << 16) as usize;
            let c = match args.get(1) {
                Some((_, Value::Char(c))) => *c,
                _ => ' ',
            };
            let n = s.chars().count();
            it.charge(s.len() + w.saturating_sub(n) * c.len_utf8(), at)?;
            let pad: String = std::iter::repeat_n(c, w.saturating_sub(n)).collect();
            Value::str(if name == "PadLeft" {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            })
        }
        "Insert" => {
            let i = byte_index(s, as_int(a(0)?, at)?)
                .ok_or_else(|| arg_range("Index was out of range.", at))?;
            let x = it.text(a(1)?, at)?;
            it.charge(s.len() + x.len(), at)?;
            Value::str(format!("{}{}{}", &s[..i], x, &s[i..]))
        }
        "Remove" => {
            let start = as_int(a(0)?, at)?;
            let n = s.chars().count() as i64;
            let len = match args.get(1) {
                Some((_, v)) => as_int(v, at)?,
                None => n - start,
            };
            let head = substring(s, 0, Some(start.clamp(0, n)), at)?;
            if start < 0 || len < 0 || start + len > n {
                return Err(arg_range(
                    "Index and count must refer to a location within the string.",
                    at,
                ));
            }
            let tail = substring(s, start + len, None, at)?;
            Value::str(format!("{head}{tail}"))
        }
        "ToCharArray" => {
            it.charge(s.len().saturating_mul(SLOT), at)?;
            Value::Array(s.chars().map(Value::Char).collect())
        }
        "GetHashCode" => Value::Int(s.len() as i64),
        _ => return linq(it, Value::str(s), name, args, at),
    })
}

/// Splits `s` at any of `seps` (at most `count` parts), handing each part to `part`; returns
/// how many parts there are. Each separator's next occurrence is remembered, so a separator
/// that occurs rarely is not searched for again from every part (which would be quadratic).
fn split_multi(
    s: &str,
    seps: &[String],
    count: Option<usize>,
    mut part: impl FnMut(&str),
) -> usize {
    if count == Some(0) {
        return 0;
    }
    let seps: Vec<&str> = seps
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    // Next match of each separator at or after `pos` (byte offset into `s`), None when none.
    let mut next: Vec<Option<usize>> = seps.iter().map(|p| s.find(p)).collect();
    let mut pos = 0;
    let mut n = 0;
    loop {
        if count.is_some_and(|c| n + 1 >= c) {
            break;
        }
        for (k, p) in seps.iter().enumerate() {
            if let Some(i) = next[k]
                && i < pos
            {
                next[k] = s.get(pos..).and_then(|r| r.find(p)).map(|j| j + pos);
            }
        }
        let found = next
            .iter()
            .zip(&seps)
            .filter_map(|(i, p)| i.map(|i| (i, p.len())))
            .min();
        match found {
            Some((i, l)) => {
                part(&s[pos..i]);
                n += 1;
                pos = i + l;
            }
            None => break,
        }
    }
    part(&s[pos..]);
    n + 1
}

fn lambda_arg(args: &Args, i: usize, at: usize) -> F<Option<Arc<Lambda>>> {
    match args.get(i) {
        None => Ok(None),
        Some((_, Value::Lambda(l))) => Ok(Some(l.clone())),
        Some((_, v)) => Err(cast_err(v, "Func", at)),
    }
}

fn predicate(it: &mut Interp, l: &Option<Arc<Lambda>>, v: &Value, at: usize) -> F<bool> {
    match l {
        None => Ok(true),
        Some(l) => match it.call_lambda(l, vec![v.clone()], at)? {
            Value::Bool(b) => Ok(b),
            other => Err(cast_err(&other, "System.Boolean", at)),
        },
    }
}

/// LINQ over anything enumerable. Results are arrays (`ToArray`/`ToList` are identities).
/// The LINQ operators [`linq`] implements (also what `policy check` accepts on sequences).
pub(crate) const LINQ: &[&str] = &[
    "Where",
    "Select",
    "Any",
    "All",
    "First",
    "FirstOrDefault",
    "Last",
    "LastOrDefault",
    "Single",
    "SingleOrDefault",
    "Count",
    "ToArray",
    "ToList",
    "Contains",
    "Skip",
    "Take",
    "OrderBy",
    "OrderByDescending",
    "Distinct",
    "Sum",
    "Max",
    "Min",
    "Reverse",
    "Concat",
    "ElementAt",
    "IndexOf",
    "Cast",
    "OfType",
    "SelectMany",
    "Average",
];

fn linq(it: &mut Interp, t: Value, name: &str, args: Args, at: usize) -> F<Value> {
    if !LINQ.contains(&name) {
        return Err(no_member(&t, name, at));
    }
    let items = iterate(it, t, at)?;
    // The sequence is held while lambdas run over it; results are charged as they grow.
    let mark = it.temps();
    it.hold_all(&items, at)?;
    let r = linq_over(it, items, name, &args, at);
    it.release(mark);
    r
}

fn linq_over(it: &mut Interp, items: Vec<Value>, name: &str, args: &Args, at: usize) -> F<Value> {
    let f = lambda_arg(args, 0, at).ok().flatten();
    // Bytes of the result built so far, charged before each element joins it.
    let mut grown = 0usize;
    let mut grow = |it: &mut Interp, v: &Value| -> F<()> {
        grown = grown.saturating_add(it.size_of(v) + SLOT);
        it.charge(grown, at)
    };
    let no_elem = || {
        rt(
            "InvalidOperationException",
            "Sequence contains no matching element",
            at,
        )
    };
    Ok(match name {
        "Where" => {
            let mut out = Vec::new();
            for v in items {
                if predicate(it, &f, &v, at)? {
                    out.push(v);
                }
            }
            Value::Array(out)
        }
        "Select" | "SelectMany" => {
            let Some(l) = f else {
                return Err(no_member(&Value::Array(items), name, at));
            };
            let mut out = Vec::new();
            for (i, v) in items.into_iter().enumerate() {
                let args = if l.def.params.len() == 2 {
                    vec![v, Value::Int(i as i64)]
                } else {
                    vec![v]
                };
                let r = it.call_lambda(&l, args, at)?;
                grow(it, &r)?;
                if name == "SelectMany" {
                    out.extend(iterate(it, r, at)?);
                } else {
                    out.push(r);
                }
            }
            Value::Array(out)
        }
        "Any" => {
            for v in &items {
                if predicate(it, &f, v, at)? {
                    return Ok(Value::Bool(true));
                }
            }
            Value::Bool(false)
        }
        "All" => {
            for v in &items {
                if !predicate(it, &f, v, at)? {
                    return Ok(Value::Bool(false));
                }
            }
            Value::Bool(true)
        }
        "First" | "FirstOrDefault" | "Single" | "SingleOrDefault" => {
            let mut found = Vec::new();
            for v in items {
                if predicate(it, &f, &v, at)? {
                    found.push(v);
                    if name.starts_with("First") {
                        break;
                    }
                }
            }
            if name.starts_with("Single") && found.len() > 1 {
                return Err(rt(
                    "InvalidOperationException",
                    "Sequence contains more than one matching element",
                    at,
                ));
            }
            match found.into_iter().next() {
                Some(v) => v,
                None if name.ends_with("OrDefault") => Value::Null,
                None => return Err(no_elem()),
            }
        }
        "Last" | "LastOrDefault" => {
            let mut found = None;
            for v in items {
                if predicate(it, &f, &v, at)? {
                    found = Some(v);
                }
            }
            match found {
                Some(v) => v,
                None if name == "LastOrDefault" => Value::Null,
                None => return Err(no_elem()),
            }
        }
        "Count" => {
            let mut n = 0;
            for v in &items {
                if predicate(it, &f, v, at)? {
                    n += 1;
                }
            }
            Value::Int(n)
        }
        "ToArray" | "ToList" | "Cast" | "OfType" => Value::Array(items),
        "Contains" => {
            let x = arg(args, 0, at)?;
            Value::Bool(items.iter().any(|v| values_equal(v, x)))
        }
        "IndexOf" => {
            let x = arg(args, 0, at)?;
            Value::Int(
                items
                    .iter()
                    .position(|v| values_equal(v, x))
                    .map(|i| i as i64)
                    .unwrap_or(-1),
            )
        }
        "ElementAt" => {
            let i = idx(arg(args, 0, at)?, items.len(), at)?;
            items[i].clone()
        }
        "Skip" | "Take" => {
            let n = as_int(arg(args, 0, at)?, at)?.clamp(0, items.len() as i64) as usize;
            Value::Array(if name == "Skip" {
                items[n..].to_vec()
            } else {
                items[..n].to_vec()
            })
        }
        "Reverse" => Value::Array(items.into_iter().rev().collect()),
        "Concat" => {
            let mut items = items;
            let more = iterate(it, arg(args, 0, at)?.clone(), at)?;
            for v in &more {
                grow(it, v)?;
            }
            items.extend(more);
            Value::Array(items)
        }
        "Distinct" => {
            // Quadratic in the sequence's length: the clock is read as it goes.
            let mut out: Vec<Value> = Vec::new();
            for v in items {
                if out.len() % 64 == 63 {
                    it.check_time(at)?;
                }
                if !out.iter().any(|o| values_equal(o, &v)) {
                    out.push(v);
                }
            }
            Value::Array(out)
        }
        "OrderBy" | "OrderByDescending" => {
            let mut keyed = Vec::new();
            for v in items {
                let k = match &f {
                    Some(l) => it.call_lambda(l, vec![v.clone()], at)?,
                    None => v.clone(),
                };
                grow(it, &k)?;
                keyed.push((k, v));
            }
            keyed.sort_by(|a, b| cmp_values(&a.0, &b.0).unwrap_or(std::cmp::Ordering::Equal));
            if name == "OrderByDescending" {
                keyed.reverse();
            }
            Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
        }
        "Sum" | "Max" | "Min" | "Average" => {
            let mut vals = Vec::new();
            for v in items {
                vals.push(match &f {
                    Some(l) => it.call_lambda(l, vec![v], at)?,
                    None => v,
                });
            }
            let vals: Vec<Value> = vals
                .into_iter()
                .map(|v| match v {
                    Value::Json(j) => from_json(&j),
                    o => o,
                })
                .collect();
            if name == "Sum" {
                let mut acc = Value::Int(0);
                for v in vals {
                    acc = binary(BinOp::Add, acc, v, at)?;
                }
                acc
            } else if name == "Average" {
                if vals.is_empty() {
                    return Err(rt(
                        "InvalidOperationException",
                        "Sequence contains no elements",
                        at,
                    ));
                }
                let n = vals.len() as f64;
                let mut s = 0.0;
                for v in &vals {
                    s += as_f64(v, at)?;
                }
                Value::Double(s / n)
            } else {
                let mut best: Option<Value> = None;
                for v in vals {
                    best = Some(match best {
                        None => v,
                        Some(b) => {
                            let o = cmp_values(&v, &b).unwrap_or(std::cmp::Ordering::Equal);
                            let better = if name == "Max" { o.is_gt() } else { o.is_lt() };
                            if better { v } else { b }
                        }
                    });
                }
                best.ok_or_else(|| {
                    rt(
                        "InvalidOperationException",
                        "Sequence contains no elements",
                        at,
                    )
                })?
            }
        }
        _ => return Err(no_member(&Value::Array(items), name, at)),
    })
}

fn json_value_as(j: Option<&J>, generics: &[TypeRef], at: usize) -> F<Value> {
    let Some(j) = j else { return Ok(Value::Null) };
    match generics.first() {
        Some(t) => {
            if j.is_null() {
                return Ok(default_of(t));
            }
            cast(Value::Json(j.clone()), t, at)
        }
        None => Ok(Value::Json(j.clone())),
    }
}

/// `SelectToken("a.b[0].c")` with the dotted/indexed subset of JSONPath.
fn select_token<'a>(j: &'a J, path: &str) -> Option<&'a J> {
    let mut cur = j;
    let path = path.strip_prefix("$").unwrap_or(path);
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, rest) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for ix in rest.split('[').filter(|s| !s.is_empty()) {
            let ix = ix.strip_suffix(']')?;
            let ix = ix.trim_matches('\'');
            cur = match ix.parse::<usize>() {
                Ok(i) => cur.get(i)?,
                Err(_) => cur.get(ix)?,
            };
        }
    }
    Some(cur)
}

pub(crate) fn call_method(
    it: &mut Interp,
    t: Value,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    if name == "GetType" {
        return Ok(Value::str(t.type_name()));
    }
    if let Value::Object(
        Object::XDocument(_) | Object::XElement(_) | Object::XAttribute(_) | Object::XName(_),
    ) = &t
    {
        let plain: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
        if let Some(r) = xml::call(&t, name, &plain, at) {
            return r;
        }
    }
    Ok(match &t {
        Value::Object(Object::Context(path)) => {
            return context_call(it, path, name, generics, args, at);
        }
        Value::String(s) => return string_method(it, s, name, args, at),
        Value::Object(Object::Body(b)) if name == "As" => {
            return body_as(it, b.clone(), generics, at);
        }
        Value::Object(Object::Encoding) => match name {
            "GetBytes" => {
                let s = as_str(a(0)?, at)?;
                it.charge(s.len(), at)?;
                Value::Bytes(s.into_bytes())
            }
            "GetString" => {
                let b = as_bytes(a(0)?, at)?;
                // Invalid bytes become U+FFFD, three bytes each.
                it.charge(b.len().saturating_mul(3), at)?;
                Value::str(String::from_utf8_lossy(&b))
            }
            _ => return Err(no_member(&t, name, at)),
        },
        Value::Object(Object::Hasher(kind, key)) => match name {
            "ComputeHash" => {
                let data = match a(0)? {
                    Value::String(s) => s.as_bytes().to_vec(),
                    v => as_bytes(v, at)?,
                };
                Value::Bytes(hash(*kind, key, &data))
            }
            "Dispose" | "Clear" => Value::Null,
            _ => return Err(no_member(&t, name, at)),
        },
        Value::Object(Object::Dictionary(d)) | Value::Object(Object::Record(d))
            if matches!(name, "GetValueOrDefault" | "ContainsKey") =>
        {
            let key = as_str(a(0)?, at)?;
            let found = dict_get(d, &key);
            if name == "ContainsKey" {
                Value::Bool(found.is_some())
            } else {
                match (found, generics.first()) {
                    (Some(v), Some(ty)) => cast(v, ty, at)?,
                    (Some(v), None) => v,
                    (None, _) => args.get(1).map(|(_, v)| v.clone()).unwrap_or(Value::Null),
                }
            }
        }
        Value::Json(j) => match name {
            "ToString" => {
                let compact = matches!(args.first(), Some((_, Value::Int(0))));
                match j {
                    J::Object(_) | J::Array(_) => Value::str(json_text(it, j, !compact, at)?),
                    _ => Value::str(json_to_string(j)),
                }
            }
            "Value" => {
                let k = a(0)?;
                let child = match (j, k) {
                    (J::Object(m), k) => m.get(&as_str(k, at)?),
                    (J::Array(arr), k) => arr.get(idx(k, arr.len(), at)?),
                    _ => {
                        return Err(rt(
                            "InvalidOperationException",
                            "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
                            at,
                        ));
                    }
                };
                json_value_as(child, generics, at)?
            }
            "ToObject" => json_value_as(Some(j), generics, at)?,
            "SelectToken" => json_value_as(select_token(j, &as_str(a(0)?, at)?), &[], at)?,
            "ContainsKey" => Value::Bool(j.get(as_str(a(0)?, at)?).is_some()),
            "GetValue" => json_value_as(j.get(as_str(a(0)?, at)?), &[], at)?,
            "Property" => match j.get(as_str(a(0)?, at)?) {
                Some(v) => {
                    let mut r = BTreeMap::new();
                    r.insert("Name".to_string(), a(0)?.clone());
                    r.insert("Value".to_string(), Value::Json(v.clone()));
                    Value::Object(Object::Record(Arc::new(r)))
                }
                None => Value::Null,
            },
            "Properties" => iterate_plain(t.clone(), at)?.into(),
            "DeepClone" => t.clone(),
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            _ => return linq(it, t, name, args, at),
        },
        Value::DateTime(d) => match name {
            "ToString" => Value::str(format_datetime(
                *d,
                &args
                    .first()
                    .map(|(_, f)| f.to_display())
                    .unwrap_or_default(),
            )),
            "ToUniversalTime" | "ToLocalTime" => t.clone(),
            "AddTicks" | "AddMilliseconds" | "AddSeconds" | "AddMinutes" | "AddHours"
            | "AddDays" => {
                let unit = match name {
                    "AddTicks" => 1.0,
                    "AddMilliseconds" => 10_000.0,
                    "AddSeconds" => TICKS_PER_SECOND as f64,
                    "AddMinutes" => 60.0 * TICKS_PER_SECOND as f64,
                    "AddHours" => 3600.0 * TICKS_PER_SECOND as f64,
                    _ => TICKS_PER_DAY as f64,
                };
                let delta = as_f64(a(0)?, at)? * unit;
                if !delta.is_finite() || delta.abs() > MAX_TICKS as f64 {
                    return Err(arg_range(
                        "The added or subtracted value results in an un-representable DateTime.",
                        at,
                    ));
                }
                add_ticks(*d, delta.round() as i64, at)?
            }
            "AddMonths" | "AddYears" => {
                let n = as_int(a(0)?, at)?;
                let months = if name == "AddYears" {
                    n.saturating_mul(12)
                } else {
                    n
                };
                let p = d.parts();
                let total = (p.year * 12 + p.month - 1).saturating_add(months);
                let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
                let day = p.day.min(days_in_month(y, m));
                let nd = DateTime::from_parts(y, m, day, p.hour, p.minute, p.second, p.fraction)
                    .ok_or_else(|| arg_range("The added or subtracted value results in an un-representable DateTime.", at))?;
                Value::DateTime(nd)
            }
            "Add" => match a(0)? {
                Value::TimeSpan(ts) => add_ticks(*d, ts.0, at)?,
                v => return Err(cast_err(v, "System.TimeSpan", at)),
            },
            "Subtract" => match a(0)? {
                Value::TimeSpan(ts) => add_ticks(*d, ts.0.saturating_neg(), at)?,
                Value::DateTime(o) => Value::TimeSpan(TimeSpan(d.0 - o.0)),
                v => return Err(cast_err(v, "System.DateTime", at)),
            },
            "ToUnixTimeSeconds" => Value::Int(d.unix_seconds()),
            "ToUnixTimeMilliseconds" => Value::Int((d.0 - UNIX_EPOCH_TICKS).div_euclid(10_000)),
            "CompareTo" => Value::Int(match a(0)? {
                Value::DateTime(o) => d.cmp(o) as i64,
                v => return Err(cast_err(v, "System.DateTime", at)),
            }),
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            _ => return Err(no_member(&t, name, at)),
        },
        Value::TimeSpan(ts) => match name {
            "ToString" => Value::str(format_timespan(*ts)),
            "Add" | "Subtract" => match a(0)? {
                Value::TimeSpan(o) => Value::TimeSpan(TimeSpan(if name == "Add" {
                    ts.0.saturating_add(o.0)
                } else {
                    ts.0.saturating_sub(o.0)
                })),
                v => return Err(cast_err(v, "System.TimeSpan", at)),
            },
            "Duration" => Value::TimeSpan(TimeSpan(ts.0.saturating_abs())),
            _ => return Err(no_member(&t, name, at)),
        },
        Value::Guid(g) => match name {
            "ToString" => Value::str(format_guid_as(
                *g,
                &args
                    .first()
                    .map(|(_, f)| f.to_display())
                    .unwrap_or_default(),
            )),
            "ToByteArray" => {
                // .NET's mixed-endian layout: the first three groups are little-endian.
                let b = g.to_be_bytes();
                let mut o = b;
                o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
                o[4..6].copy_from_slice(&[b[5], b[4]]);
                o[6..8].copy_from_slice(&[b[7], b[6]]);
                Value::Bytes(o.to_vec())
            }
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            _ => return Err(no_member(&t, name, at)),
        },
        Value::Int(_) | Value::Double(_) | Value::Bool(_) | Value::Char(_) => match name {
            "ToString" => Value::str(format_value(
                &t,
                args.first().map(|(_, f)| f.to_display()).as_deref(),
                at,
            )?),
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            "CompareTo" => Value::Int(cmp_values(&t, a(0)?).map(|o| o as i64).unwrap_or(1)),
            _ => return Err(no_member(&t, name, at)),
        },
        // LINQ to XML's extension methods on sequences of elements:
        // `doc.Root.Elements("a").Elements("b")` flattens, in document order.
        Value::Array(items)
            if matches!(
                name,
                "Elements" | "Descendants" | "DescendantsAndSelf" | "Attributes"
            ) =>
        {
            let plain: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
            let mut out = Vec::new();
            for item in items {
                match xml::call(item, name, &plain, at) {
                    Some(r) => match r? {
                        Value::Array(found) => out.extend(found),
                        other => out.push(other),
                    },
                    None => return Err(no_member(item, name, at)),
                }
            }
            Value::Array(out)
        }
        Value::Bytes(_) | Value::Array(_) | Value::Object(Object::Dictionary(_)) => match name {
            "ToString" => Value::str(t.to_display()),
            _ => return linq(it, t, name, args, at),
        },
        Value::Object(Object::Match(m)) if name == "NextMatch" => {
            let _ = m;
            return Err(rt(
                "NotSupportedException",
                "Match.NextMatch is not supported; use Regex.Matches",
                at,
            ));
        }
        _ if name == "ToString" => Value::str(it.text(&t, at)?),
        _ => return Err(no_member(&t, name, at)),
    })
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
