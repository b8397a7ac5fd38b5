//! An `XmlReader`'s content as text and typed values: `ReadContentAs*`,
//! `ReadElementContentAs*`, `ReadString`, `ReadElementString`, `ReadStartElement`,
//! `ReadEndElement`, `IsStartElement`.
//!
//! Follows the reference source's `XmlReader` base class (which Mono and .NET share): the
//! content is the text, whitespace and CDATA up to the next element or end tag, comments and
//! processing instructions skipped, converted as `XmlConvert` does (XML whitespace trimmed;
//! `INF`/`-INF` for doubles; `1`/`true`, `0`/`false` for booleans; XML Schema dates with
//! `RoundtripKind`: `Z` gives a UTC time, an offset a local one, none an Unspecified one). A value that does not
//! convert is an `XmlException` ("Content cannot be converted to the type Int.") with the
//! reader already past the content, an `OverflowException` passes through, and an empty
//! element converts the empty string (a bare `FormatException` for a number). Checked against
//! Mono on the cases in tests/xml_json.rs and the oracle corpus.

use super::*;

/// The `XmlNodeType`s `ReadContentAs*` may start on (the reference source's
/// `CanReadContentAsBitmap`).
pub(super) fn can_read_content(kind: &str) -> bool {
    matches!(
        kind,
        "Attribute"
            | "Text"
            | "CDATA"
            | "EntityReference"
            | "ProcessingInstruction"
            | "Comment"
            | "Whitespace"
            | "SignificantWhitespace"
            | "EndElement"
            | "EndEntity"
    )
}

fn is_textual(kind: &str) -> bool {
    matches!(
        kind,
        "Text" | "CDATA" | "Whitespace" | "SignificantWhitespace"
    )
}

/// The current node's value (an attribute's, or its value's as text).
pub(super) fn value_here(s: &XmlReaderState) -> String {
    match current_attr(s) {
        Some(a) => a.value.clone(),
        None => current(s).map_or(String::new(), |n| n.value.clone()),
    }
}

/// The reference source's `InternalReadContentAsString`: on an attribute its value; otherwise
/// the text up to the next element or end tag, the cursor moved there.
fn content_string(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<String> {
    let mut out = String::new();
    loop {
        match kind_of(s) {
            "Attribute" => return Ok(value_here(s)),
            k if is_textual(k) => {
                let v = value_here(s);
                it.charge(v.len(), at)?;
                out.push_str(&v);
            }
            "ProcessingInstruction" | "Comment" | "EndEntity" => {}
            _ => break,
        }
        let more = if current(s).is_some_and(|n| !n.attributes.is_empty()) {
            let moved = s.attr.is_some() && !s.attr_text;
            s.attr_text |= moved;
            moved
        } else {
            advance(it, s, at)?
        };
        if !more {
            break;
        }
    }
    Ok(out)
}

/// The XML Schema types `ReadContentAs*` converts to, by method-name suffix, with the name
/// .NET's message gives them.
#[derive(Clone, Copy)]
pub(super) enum Typed {
    String,
    Object,
    Boolean,
    Int,
    Long,
    Double,
    Float,
    Decimal,
    DateTime,
    DateTimeOffset,
}

impl Typed {
    fn of(suffix: &str) -> Option<Typed> {
        Some(match suffix {
            "String" => Typed::String,
            "Object" => Typed::Object,
            "Boolean" => Typed::Boolean,
            "Int" => Typed::Int,
            "Long" => Typed::Long,
            "Double" => Typed::Double,
            "Float" => Typed::Float,
            "Decimal" => Typed::Decimal,
            "DateTime" => Typed::DateTime,
            "DateTimeOffset" => Typed::DateTimeOffset,
            _ => return None,
        })
    }

    /// The type `typeof(T)` names (`ReadContentAs(typeof(int), null)`), by its C# keyword
    /// or .NET name.
    fn of_type(name: &str) -> Option<Typed> {
        let n = name.strip_prefix("System.").unwrap_or(name);
        Some(match n {
            "string" | "String" => Typed::String,
            "object" | "Object" => Typed::Object,
            "bool" | "Boolean" => Typed::Boolean,
            "int" | "Int32" => Typed::Int,
            "long" | "Int64" => Typed::Long,
            "double" | "Double" => Typed::Double,
            "float" | "Single" => Typed::Float,
            "decimal" | "Decimal" => Typed::Decimal,
            "DateTime" => Typed::DateTime,
            "DateTimeOffset" => Typed::DateTimeOffset,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Typed::String => "String",
            Typed::Object => "Object",
            Typed::Boolean => "Boolean",
            Typed::Int => "Int",
            Typed::Long => "Long",
            Typed::Double => "Double",
            Typed::Float => "Float",
            Typed::Decimal => "Decimal",
            Typed::DateTime => "DateTime",
            Typed::DateTimeOffset => "DateTimeOffset",
        }
    }
}

/// Why a text did not convert.
enum Bad {
    Format,
    Overflow(&'static str),
    /// An XML Schema form this reader does not read (`--MM-DD` and the other g-types
    /// without a year).
    Unsupported,
}

/// The zone an XML Schema date/time was written with.
enum XsdZone {
    None,
    Utc,
    /// Minutes east of UTC.
    Offset(i64),
}

/// `XmlConvert`'s reading of an XML Schema `dateTime`, `date`, `gYearMonth`, `gYear` or
/// `time` (the date today's, in the gateway's zone), with an optional `Z` or `±hh:mm`:
/// the clock time and the zone. Fraction digits beyond seven round half up, as .NET's
/// `XsdDateTime`; the hour 24 is refused, as there.
fn xsd_datetime(t: &str, now: DateTime) -> Result<(DateTime, XsdZone), Bad> {
    if t.starts_with("--") {
        return Err(Bad::Unsupported);
    }
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, Bad> {
        let s = t.get(r).ok_or(Bad::Format)?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(Bad::Format);
        }
        s.parse().map_err(|_| Bad::Format)
    };
    // The date part, and where the rest starts.
    let today = now.parts();
    let (y, mo, d, mut i, time) = if b.get(2) == Some(&b':') {
        (today.year, today.month, today.day, 0, true)
    } else {
        let y = num(0..4)?;
        match (b.get(4), b.get(7)) {
            (Some(b'-'), Some(b'-')) => {
                let (mo, d) = (num(5..7)?, num(8..10)?);
                let time = b.get(10) == Some(&b'T');
                (y, mo, d, if time { 11 } else { 10 }, time)
            }
            (Some(b'-'), _) => (y, num(5..7)?, 1, 7, false),
            _ => (y, 1, 1, 4, false),
        }
    };
    let (mut h, mut mi, mut s, mut frac) = (0, 0, 0, 0i64);
    if time {
        if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') {
            return Err(Bad::Format);
        }
        h = num(i..i + 2)?;
        mi = num(i + 3..i + 5)?;
        s = num(i + 6..i + 8)?;
        i += 8;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if end == start {
                return Err(Bad::Format);
            }
            let digits = &t[start..end];
            let seven: String = digits
                .chars()
                .chain(std::iter::repeat('0'))
                .take(7)
                .collect();
            frac = seven.parse().map_err(|_| Bad::Format)?;
            if digits.as_bytes().get(7).is_some_and(|c| *c >= b'5') {
                frac += 1;
            }
            i = end;
        }
    }
    let zone = match &t[i..] {
        "" => XsdZone::None,
        "Z" => XsdZone::Utc,
        z => {
            let sign = match z.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(Bad::Format),
            };
            if z.len() != 6 || z.as_bytes()[3] != b':' {
                return Err(Bad::Format);
            }
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 14 || om > 59 {
                return Err(Bad::Format);
            }
            XsdZone::Offset(sign * (oh * 60 + om))
        }
    };
    let clock = DateTime::from_parts(y, mo, d, h, mi, s, 0)
        .and_then(|c| DateTime::checked(c.0 + frac))
        .ok_or(Bad::Format)?;
    Ok((clock, zone))
}

fn xml_trim(t: &str) -> &str {
    t.trim_matches([' ', '\t', '\n', '\r'])
}

/// `[sign]digits[.digits][e[sign]digits]` as `NumberStyles` with a leading sign, a decimal
/// point and (when `exponent`) an exponent allow it.
fn is_number(t: &str, exponent: bool) -> bool {
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) if exponent => (&t[..i], Some(&t[i + 1..])),
        _ => (t, None),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(frac) && !(whole.is_empty() && frac.is_empty());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exp_ok
}

/// `XmlConvert.ToXxx(text)`; `now` dates a time of day.
fn convert(ty: Typed, text: &str, now: DateTime) -> Result<Value, Bad> {
    let t = xml_trim(text);
    Ok(match ty {
        // `XmlDateTimeSerializationMode.RoundtripKind`: Z is a UTC time, an offset the
        // instant in local time (the gateway's zone, UTC), none an Unspecified time.
        Typed::DateTime => {
            let (clock, zone) = xsd_datetime(t, now)?;
            Value::DateTime(match zone {
                XsdZone::None => clock,
                XsdZone::Utc => clock.with_kind(DateTimeKind::Utc),
                XsdZone::Offset(m) => DateTime::checked(clock.0 - m * 60 * TICKS_PER_SECOND)
                    .ok_or(Bad::Format)?
                    .with_kind(DateTimeKind::Local),
            })
        }
        // Without a zone, the local offset (UTC's).
        Typed::DateTimeOffset => {
            let (clock, zone) = xsd_datetime(t, now)?;
            let offset = match zone {
                XsdZone::Offset(m) => m,
                _ => 0,
            };
            Value::DateTimeOffset(
                crate::datetime_offset::DateTimeOffset::from_clock(clock, offset)
                    .map_err(|_| Bad::Format)?,
            )
        }
        Typed::String | Typed::Object => Value::str(text),
        Typed::Boolean => match t {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => return Err(Bad::Format),
        },
        Typed::Int | Typed::Long => {
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Bad::Format);
            }
            let (lo, hi, what) = match ty {
                Typed::Int => (
                    i32::MIN as i128,
                    i32::MAX as i128,
                    "Value was either too large or too small for an Int32.",
                ),
                _ => (
                    i64::MIN as i128,
                    i64::MAX as i128,
                    "Value was either too large or too small for an Int64.",
                ),
            };
            // Beyond 39 digits an i128 would not hold it either: too large all the same.
            let v = t.parse::<i128>().map_err(|_| Bad::Overflow(what))?;
            if v < lo || v > hi {
                return Err(Bad::Overflow(what));
            }
            match ty {
                Typed::Int => Value::Int(v as i64),
                _ => Value::Long(v as i64),
            }
        }
        Typed::Float => match convert(Typed::Double, text, now)? {
            Value::Double(d) => Value::Float(d as f32),
            other => other,
        },
        Typed::Double => match t {
            "INF" => Value::Double(f64::INFINITY),
            "-INF" => Value::Double(f64::NEG_INFINITY),
            _ if t.eq_ignore_ascii_case("NaN") => Value::Double(f64::NAN),
            _ if is_number(t, true) => Value::Double(t.parse().map_err(|_| Bad::Format)?),
            _ => match t.to_ascii_lowercase().as_str() {
                "infinity" | "+infinity" => Value::Double(f64::INFINITY),
                "-infinity" => Value::Double(f64::NEG_INFINITY),
                _ => return Err(Bad::Format),
            },
        },
        Typed::Decimal => {
            if !is_number(t, false) {
                return Err(Bad::Format);
            }
            let v: f64 = t.parse().map_err(|_| Bad::Format)?;
            if v.abs() >= 79_228_162_514_264_337_593_543_950_336.0 {
                return Err(Bad::Overflow(
                    "Value was either too large or too small for a Decimal.",
                ));
            }
            // The text's own digits and scale ("-1.50" stays -1.50), as decimal.Parse keeps
            // them; more than 28 fractional digits round as .NET rounds them.
            let plain = t.strip_prefix('+').unwrap_or(t);
            match plain.parse::<rust_decimal::Decimal>() {
                Ok(d) => Value::Decimal(d),
                Err(_) => rust_decimal::Decimal::from_str_exact(plain)
                    .or_else(|_| rust_decimal::Decimal::from_scientific(plain))
                    .map(Value::Decimal)
                    .map_err(|_| Bad::Format)?,
            }
        }
    })
}

/// `ReadContentAsXxx()`.
pub(super) fn read_content_as(
    it: &mut Interp,
    s: &mut XmlReaderState,
    method: &str,
    ty: Typed,
    at: usize,
) -> F<Value> {
    let kind = kind_of(s);
    if !can_read_content(kind) {
        return Err(rt(
            "InvalidOperationException",
            format!(
                "The {method} method is not supported on node type {kind}. If you want to read typed content of an element, use the ReadElementContentAs method.{}",
                line_info(s)
            ),
            at,
        ));
    }
    let text = content_string(it, s, at)?;
    let now = it.ctx.now();
    match convert(ty, &text, now) {
        Ok(v) => Ok(v),
        Err(Bad::Format) => Err(xml_err(
            s,
            format!("Content cannot be converted to the type {}.", ty.name()),
            at,
        )),
        Err(Bad::Overflow(m)) => Err(rt("OverflowException", m, at)),
        Err(Bad::Unsupported) => Err(rt(
            "NotSupportedException",
            "XML Schema dates without a year (--MM-DD, ---DD, --MM) are not supported",
            at,
        )),
    }
}

/// The empty element's value: `XmlConvert` of the empty string (which no number or date is).
fn empty_content(ty: Typed, at: usize) -> F<Value> {
    convert(ty, "", DateTime(0, DateTimeKind::Unspecified)).map_err(|_| format_err(at))
}

/// `localName`/`namespaceURI` arguments (the two-argument overloads); `None` without them.
fn qualified(args: &Args, at: usize) -> F<Option<(String, String)>> {
    if args.len() < 2 {
        return Ok(None);
    }
    let local = match arg(args, 0, at)? {
        Value::Null => String::new(),
        v => as_str(v, at)?,
    };
    if local.is_empty() {
        return Err(rt(
            "ArgumentException",
            "The empty string '' is not a valid local name. (Parameter 'localName')",
            at,
        ));
    }
    let ns = match arg(args, 1, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'namespaceURI')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    Ok(Some((local, ns)))
}

fn not_found(s: &XmlReaderState, local: &str, ns: Option<&str>, at: usize) -> Flow {
    match ns {
        Some(ns) => xml_err(
            s,
            format!("Element '{local}' with namespace name '{ns}' was not found."),
            at,
        ),
        None => xml_err(s, format!("Element '{local}' was not found."), at),
    }
}

/// Whether the current element has the name the arguments give: `(name)` against `Name`,
/// `(localName, namespaceURI)` against `LocalName` and `NamespaceURI`. `Err` carries the
/// "was not found" exception.
fn check_name(s: &XmlReaderState, args: &Args, at: usize) -> F<()> {
    let n = current(s);
    if let Some((local, ns)) = qualified(args, at)? {
        if n.is_some_and(|n| n.local == local && n.namespace == ns) {
            return Ok(());
        }
        return Err(not_found(s, &local, Some(&ns), at));
    }
    if let Some(v) = args.first().map(|(_, v)| v) {
        let name = as_str(v, at)?;
        if n.is_none_or(|n| n.name != name) {
            return Err(not_found(s, &name, None, at));
        }
    }
    Ok(())
}

/// `ReadElementContentAsXxx([localName, namespaceURI])`: the reference source's
/// `SetupReadElementContentAsXxx`, `ReadContentAsXxx` and `FinishReadElementContentAsXxx`.
pub(super) fn read_element_content_as(
    it: &mut Interp,
    s: &mut XmlReaderState,
    method: &str,
    ty: Typed,
    args: &Args,
    at: usize,
) -> F<Value> {
    if !args.is_empty() {
        qualified(args, at)?;
        if kind_of(s) != "Element" {
            return Err(invalid_node(s, at));
        }
        check_name(s, args, at)?;
    }
    let kind = kind_of(s);
    if kind != "Element" {
        return Err(rt(
            "InvalidOperationException",
            format!(
                "The {method} method is not supported on node type {kind}.{}",
                line_info(s)
            ),
            at,
        ));
    }
    let empty = current(s).is_some_and(|n| n.empty);
    advance(it, s, at)?;
    if empty {
        return empty_content(ty, at);
    }
    match kind_of(s) {
        "EndElement" => {
            advance(it, s, at)?;
            return empty_content(ty, at);
        }
        "Element" => {
            return Err(xml_err(
                s,
                "ReadElementContentAs() methods cannot be called on an element that has child elements.",
                at,
            ));
        }
        _ => {}
    }
    let v = read_content_as(it, s, &method.replace("Element", ""), ty, at)?;
    let kind = kind_of(s);
    if kind != "EndElement" {
        return Err(rt(
            "XmlException",
            format!("'{kind}' is an invalid XmlNodeType."),
            at,
        ));
    }
    advance(it, s, at)?;
    Ok(v)
}

/// `ReadString()`: the text of the current element (or from the current text node on), the
/// cursor left on what ends it.
fn read_string(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<String> {
    if s.closed || s.pos.is_none() || current(s).is_none() {
        return Ok(String::new());
    }
    to_element(s);
    if kind_of(s) == "Element" {
        if current(s).is_some_and(|n| n.empty) {
            return Ok(String::new());
        }
        if !advance(it, s, at)? {
            return Err(rt(
                "InvalidOperationException",
                "Operation is not valid due to the current state of the object.",
                at,
            ));
        }
        if kind_of(s) == "EndElement" {
            return Ok(String::new());
        }
    }
    let mut out = String::new();
    while is_textual(kind_of(s)) {
        let v = value_here(s);
        it.charge(v.len(), at)?;
        out.push_str(&v);
        if !advance(it, s, at)? {
            break;
        }
    }
    Ok(out)
}

/// The content members; `None` for a name that is not one of them.
pub(super) fn content_call(
    it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    if let Some(ty) = name.strip_prefix("ReadContentAs").and_then(Typed::of)
        && args.is_empty()
    {
        return read_content_as(it, s, name, ty, at).map(Some);
    }
    if let Some(ty) = name
        .strip_prefix("ReadElementContentAs")
        .and_then(Typed::of)
    {
        return read_element_content_as(it, s, name, ty, args, at).map(Some);
    }
    // `ReadContentAs(typeof(T), resolver)`, `ReadElementContentAs(typeof(T), resolver[,
    // localName, namespaceURI])`: the types above; others (XML Schema durations, URIs …)
    // are not implemented.
    if matches!(name, "ReadContentAs" | "ReadElementContentAs") {
        let ty = match arg(args, 0, at)? {
            Value::Null => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'returnType')",
                    at,
                ));
            }
            Value::String(t) => Typed::of_type(t).ok_or_else(|| {
                rt(
                    "NotSupportedException",
                    format!("{name}(typeof({t})) is not supported"),
                    at,
                )
            })?,
            v => return Err(cast_err(v, "System.Type", at)),
        };
        return if name == "ReadContentAs" {
            read_content_as(it, s, name, ty, at).map(Some)
        } else {
            let rest: Args = args.iter().skip(2).cloned().collect();
            read_element_content_as(it, s, name, ty, &rest, at).map(Some)
        };
    }
    Ok(Some(match name {
        "ReadString" => Value::str(read_string(it, s, at)?),
        "IsStartElement" => {
            let element = move_to_content(it, s, at)? == "Element";
            let named = match qualified(args, at)? {
                Some((local, ns)) => {
                    current(s).is_some_and(|n| n.local == local && n.namespace == ns)
                }
                None => match args.first() {
                    Some((_, v)) => {
                        let w = as_str(v, at)?;
                        current(s).is_some_and(|n| n.name == w)
                    }
                    None => true,
                },
            };
            Value::Bool(element && named)
        }
        "ReadStartElement" => {
            qualified(args, at)?;
            if move_to_content(it, s, at)? != "Element" {
                return Err(invalid_node(s, at));
            }
            check_name(s, args, at)?;
            advance(it, s, at)?;
            Value::Null
        }
        "ReadEndElement" => {
            if move_to_content(it, s, at)? != "EndElement" {
                return Err(invalid_node(s, at));
            }
            advance(it, s, at)?;
            Value::Null
        }
        "ReadElementString" => {
            qualified(args, at)?;
            if move_to_content(it, s, at)? != "Element" {
                return Err(invalid_node(s, at));
            }
            check_name(s, args, at)?;
            if current(s).is_some_and(|n| n.empty) {
                advance(it, s, at)?;
                return Ok(Some(Value::str("")));
            }
            if args.is_empty() {
                advance(it, s, at)?;
            }
            let text = read_string(it, s, at)?;
            let kind = kind_of(s);
            if kind != "EndElement" {
                return Err(if args.is_empty() {
                    xml_err(
                        s,
                        format!(
                            "Unexpected node type {kind}. ReadElementString method can only be called on elements with simple or empty content."
                        ),
                        at,
                    )
                } else {
                    invalid_node(s, at)
                });
            }
            advance(it, s, at)?;
            Value::str(text)
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_convert() {
        let int = |t: &str| convert(Typed::Int, t, DateTime(0, DateTimeKind::Unspecified)).ok();
        assert_eq!(int(" +12\n"), Some(Value::Int(12)));
        assert_eq!(int("1.0"), None);
        assert!(matches!(
            convert(
                Typed::Int,
                "2147483648",
                DateTime(0, DateTimeKind::Unspecified)
            ),
            Err(Bad::Overflow(_))
        ));
        let dbl = |t: &str| convert(Typed::Double, t, DateTime(0, DateTimeKind::Unspecified)).ok();
        assert_eq!(dbl("1.5e3"), Some(Value::Double(1500.0)));
        assert_eq!(dbl("-INF"), Some(Value::Double(f64::NEG_INFINITY)));
        assert_eq!(dbl("e3"), None);
        assert_eq!(dbl("."), None);
        assert!(
            convert(
                Typed::Decimal,
                "1e3",
                DateTime(0, DateTimeKind::Unspecified)
            )
            .is_err()
        );
        assert_eq!(
            convert(
                Typed::Boolean,
                " 1 ",
                DateTime(0, DateTimeKind::Unspecified)
            )
            .ok(),
            Some(Value::Bool(true))
        );
        assert!(
            convert(
                Typed::Boolean,
                "True",
                DateTime(0, DateTimeKind::Unspecified)
            )
            .is_err()
        );
    }
}
