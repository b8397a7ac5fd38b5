//! Static methods (`string.Join`, `Convert.ToBase64String`, `Regex.Match`, `Math.Max` …):
//! [`call_static`] dispatches on the type to one function per type family.

use super::*;

/// A static method call `ty.name(args)`. Dispatches on the type to one function per type
/// family; each answers `None` for a name it does not know, which becomes the .NET binder error.
/// [`crate::features::static_member_exists`] mirrors what these functions implement.
pub(crate) fn call_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    // TryParse needs an `out` argument, whatever the type; the interpreter handles the forms
    // it supports before calling here.
    if name == "TryParse" {
        return Err(rt(
            "NotSupportedException",
            "TryParse needs an out argument, which is not supported",
            at,
        ));
    }
    let args = &args;
    if let Some(r) = net::call_static(it, ty, name, args, at) {
        return r;
    }
    let found = match ty {
        _ if enum_static_exists(ty, name) => enum_static(it, name, args, at)?,
        "string" => string_static(it, ty, name, args, at)?,
        "Convert" => convert_static(it, ty, name, args, at)?,
        "int" | "long" | "short" | "byte" | "sbyte" | "ushort" | "uint" | "double" | "float"
        | "decimal" | "bool" => number_static(ty, name, args, at)?,
        "Math" => Some(math(name, args, at)?),
        "char" => char_static(name, args, at)?,
        "DateTimeOffset" => offset_static(name, args, at)?,
        "TimeZoneInfo" => timezone_static(it, name, args, at)?,
        "DateTime" | "TimeSpan" => time_static(ty, name, args, at)?,
        "Guid" => guid_static(ty, name, args, at)?,
        "Regex" => regex_static(it, ty, name, args, at)?,
        "JToken" | "JObject" | "JArray" | "JValue" | "JProperty"
            if matches!(
                name,
                "DeepEquals" | "CreateNull" | "CreateString" | "ReferenceEquals"
            ) =>
        {
            match json_token_static(ty, name, args, at) {
                Some(r) => Some(r?),
                None => None,
            }
        }
        "JObject" | "JArray" | "JToken" | "JsonConvert" => {
            json_static(it, ty, name, generics, args, at)?
        }
        // `JValue.Parse`, `JProperty.FromObject`: JToken's statics, inherited.
        "JValue" | "JProperty" if matches!(name, "Parse" | "FromObject") => {
            json_static(it, "JToken", name, generics, args, at)?
        }
        "XElement" | "XDocument" | "XNode" | "XmlReader" => xml_static(it, ty, name, args, at)?,
        "XNamespace" | "XName" => xml_build_static(ty, name, args, at)?,
        "Array" => array_static(it, name, generics, args, at)?,
        _ if crypto::is_crypto_type(ty) => crypto::call_static(it, ty, name, args, at)?,
        "Uri" | "WebUtility" => web_static(it, ty, name, args, at)?,
        "Enumerable" => enumerable_static(it, name, args, at)?,
        _ => None,
    };
    found.ok_or_else(|| {
        rt(
            "RuntimeBinderException",
            format!("'{ty}' does not contain a definition for '{name}'"),
            at,
        )
    })
}

/// `string.IsNullOrEmpty`, `Format`, `Join`, `Concat`, `Equals`, `Compare`.
fn string_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
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
        _ => return Ok(None),
    }))
}

/// `Convert`: Base64, hex, numbers from text (`BitConverter` is in crates/expr/src/library/crypto).
fn convert_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
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
        ("Convert", "ToInt32" | "ToInt16" | "ToByte" | "ToInt64") if args.len() == 2 => {
            let bits = match name {
                "ToInt32" => 32,
                "ToInt16" => 16,
                "ToByte" => 8,
                _ => 64,
            };
            parse_in_base(a(0)?, a(1)?, bits, at)?
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
        ("Convert", "ToInt64") => to_number(a(0)?, 64, at)?,
        ("Convert", "ToChar") => to_char(a(0)?, at)?,
        ("Convert", "FromHexString") => {
            let s = as_str(a(0)?, at)?;
            it.charge(s.len() / 2, at)?;
            Value::Bytes(from_hex(&s, at)?)
        }
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
        // `Convert.ToString(null)` binds to the string overload: null.
        ("Convert", "ToString") if args.len() == 1 && a(0)?.is_null() => Value::Null,
        ("Convert", "ToString") => match args.get(1) {
            Some((_, b @ Value::Int(_))) => to_base(a(0)?, b, at)?,
            Some((_, f)) if !matches!(f, Value::Null) => {
                Value::str(format_value(a(0)?, Some(&f.to_display()), at)?)
            }
            _ => Value::str(it.text(a(0)?, at)?),
        },
        _ => return Ok(None),
    }))
}

/// `int.Parse`, `long.Parse`, `double.Parse` (and float/decimal), `bool.Parse`.
fn number_static(ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
        (_, "Parse") if int_type(ty).is_some() => parse_int_as(ty, a(0)?, at)?,
        ("double" | "float" | "decimal", "Parse") => Value::Double(
            as_str(a(0)?, at)?
                .trim()
                .parse()
                .map_err(|_| format_err(at))?,
        ),
        ("bool", "Parse") => parse_bool(&as_str(a(0)?, at)?, at)?,
        _ => return Ok(None),
    }))
}

/// `DateTime.Parse`, `DateTimeOffset.FromUnixTime…`, `TimeSpan.From…`.
fn time_static(ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
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
        ("DateTime", "ParseExact") => {
            let text = match a(0)? {
                Value::Null => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 's')",
                        at,
                    ));
                }
                v => as_str(v, at)?,
            };
            let fmt = as_str(a(1)?, at)?;
            Value::DateTime(parse_exact(&text, &fmt).ok_or_else(|| {
                rt(
                    "FormatException",
                    "String was not recognized as a valid DateTime.",
                    at,
                )
            })?)
        }
        ("TimeSpan", "Parse") => Value::TimeSpan(parse_timespan(&as_str(a(0)?, at)?, at)?),
        ("DateTime", "IsLeapYear") => {
            let y = as_int(a(0)?, at)?;
            if !(1..=9999).contains(&y) {
                return Err(arg_range(
                    "Year must be between 1 and 9999. (Parameter 'year')",
                    at,
                ));
            }
            Value::Bool(days_in_month(y, 2) == 29)
        }
        ("DateTime", "DaysInMonth") => {
            let (y, m) = (as_int(a(0)?, at)?, as_int(a(1)?, at)?);
            if !(1..=12).contains(&m) {
                return Err(arg_range(
                    "Month must be between one and twelve. (Parameter 'month')",
                    at,
                ));
            }
            if !(1..=9999).contains(&y) {
                return Err(arg_range(
                    "Year must be between 1 and 9999. (Parameter 'year')",
                    at,
                ));
            }
            Value::Int(days_in_month(y, m))
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
        _ => return Ok(None),
    }))
}

/// `Guid.NewGuid`, `Guid.Parse`.
fn guid_static(ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
        ("Guid", "NewGuid") => Value::Guid(uuid::Uuid::new_v4().as_u128()),
        ("Guid", "Parse") => parse_guid(&as_str(a(0)?, at)?, at)?,
        _ => return Ok(None),
    }))
}

/// `JObject`/`JArray`/`JToken` `Parse` and `FromObject`, `JsonConvert`.
fn json_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    generics: &[TypeRef],
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
        ("JObject" | "JArray" | "JToken", "Parse") => {
            let text = as_str(a(0)?, at)?;
            it.charge(budget::json_parse_cost(&text), at)?;
            let j = json_parse(&text, at)?;
            match (ty, &j) {
                ("JObject", J::Object(_)) | ("JArray", J::Array(_)) | ("JToken", _) => {
                    Value::Json(JToken::from_serde(&j))
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
        ("JObject" | "JArray" | "JToken", "FromObject") => {
            let v = a(0)?;
            it.charge(it.size_of(v).saturating_add(budget::JSON_NODE), at)?;
            Value::Json(JToken::from_serde(&to_json(v, at)?))
        }
        ("JsonConvert", "SerializeObject") => {
            let v = a(0)?;
            it.charge(it.size_of(v), at)?;
            let j = JToken::from_serde(&to_json(v, at)?);
            let indented = matches!(args.get(1), Some((_, Value::Int(1))));
            Value::str(json_text(it, &j, indented, at)?)
        }
        ("JsonConvert", "DeserializeObject") => {
            let text = as_str(a(0)?, at)?;
            it.charge(budget::json_parse_cost(&text), at)?;
            deserialize_as(json_parse(&text, at)?, generics, at)?
        }
        _ => return Ok(None),
    }))
}

/// `XElement.Parse`, `XDocument.Parse`.
fn xml_static(it: &mut Interp, ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
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
        ("XmlReader", "Create") => xml_reader_create(args, at)?,
        ("XElement" | "XDocument", "Load") | ("XNode", "ReadFrom") => match a(0)? {
            Value::Object(Object::Io(io)) => match &mut *io.state() {
                crate::io::IoState::XmlReader(s) => {
                    load_from_reader(it, s, ty == "XDocument", ty != "XNode", at)?
                }
                _ => return Err(cast_err(a(0)?, "System.Xml.XmlReader", at)),
            },
            // Load(string) reads a file or URL: what APIM forbids.
            other => return Err(cast_err(other, "System.Xml.XmlReader", at)),
        },
        _ => return xml_build_static(ty, name, args, at),
    }))
}

/// `Uri` and `WebUtility` escaping.
fn web_static(it: &mut Interp, ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
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
        _ => return Ok(None),
    }))
}

pub(super) fn str_equals(a: &str, b: &str, comparison: &str) -> bool {
    if comparison.ends_with("IgnoreCase") {
        a.to_lowercase() == b.to_lowercase()
    } else {
        a == b
    }
}
