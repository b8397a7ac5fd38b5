//! Run-time values. One enum covers the CLR types policies use; conversions follow C# where a
//! policy could observe the difference (e.g. `true.ToString()` is `"True"`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::ast::LambdaDef;

pub use crate::datetime::{
    DateTime, MAX_TICKS, TICKS_PER_DAY, TICKS_PER_SECOND, TimeSpan, UNIX_EPOCH_TICKS,
    days_from_civil, days_in_month, format_timespan,
};
pub use crate::datetime_offset::DateTimeOffset;

/// A lambda with the locals it captured when it was created (by value: closures here cannot
/// outlive the expression, and copying keeps values `Send`).
#[derive(Debug, Clone)]
pub struct Lambda {
    pub(crate) def: Arc<LambdaDef>,
    pub(crate) captured: Vec<(String, Value)>,
}

/// Hash algorithms APIM lets expressions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Sha256,
    Md5,
    HmacSha256,
    Sha1,
    Sha384,
    Sha512,
    HmacMd5,
    HmacSha1,
    HmacSha384,
    HmacSha512,
}

/// Objects that are not plain data.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A position in the `context` tree, resolved lazily through the [`crate::Context`] trait.
    Context(Arc<[Arc<str>]>),
    /// A `TimeZoneInfo` (crates/expr/src/timezone.rs).
    TimeZone(Arc<crate::timezone::Zone>),
    /// A property bag, e.g. the `IResponse` that send-request stores in a variable.
    Record(Arc<BTreeMap<String, Value>>),
    /// A read-only dictionary (headers, query); keys compare case-insensitively, as header
    /// names do in APIM.
    Dictionary(Arc<BTreeMap<String, Value>>),
    /// A message body not yet read; `As<T>()` converts it.
    Body(Arc<str>),
    /// A hash algorithm instance (`new HMACSHA256(key)`, `SHA256.Create()`).
    Hasher(HashKind, Arc<[u8]>),
    /// A regex match: success, value, index, groups (by number and by name).
    Match(Arc<RegexMatch>),
    /// `new Regex(pattern, options)`.
    Regex(Arc<RegexSpec>),
    /// `new Random(seed)` (crates/expr/src/library/random.rs).
    Random(crate::library::SeededRandom),
    /// `Encoding.UTF8` (`ASCII` is treated as UTF-8 on valid ASCII input).
    Encoding(crate::library::TextEncoding),
    /// LINQ to XML: a document (holding its root element), an element, an attribute, a name.
    XDocument(Arc<super::xml::XElement>),
    XElement(Arc<super::xml::XElement>),
    XAttribute(Arc<super::xml::XAttribute>),
    XName(Arc<super::xml::XName>),
    /// A .NET exception: what `catch (… ex)` binds and `new FormatException(…)` creates.
    Exception(Arc<crate::exceptions::Exception>),
    /// A value tuple `(1, "a")`.
    Tuple(Arc<crate::tuple::Tuple>),
    /// RSA, AES, their transforms, random number generators, certificates
    /// (crates/expr/src/library/crypto).
    Crypto(crate::library::crypto::Crypto),
    /// A `Dictionary<K, V>` built by the policy (or a form body read into one): exact keys in
    /// insertion order (crates/expr/src/library/dictionary.rs).
    Map(Arc<Vec<(Value, Value)>>),
    /// `StringReader`, `StringWriter`, `XmlReader`: objects changed by their methods, shared
    /// by every copy (crates/expr/src/io.rs).
    Io(Arc<crate::io::IoObject>),
    /// `XNamespace`: its URI.
    XNamespace(Arc<str>),
    /// A node that is not an element (`XText`, `XCData`, `XComment`, `XProcessingInstruction`).
    XNode(Arc<super::xml::XNode>),
    /// `Uri`, `IPAddress` (crates/expr/src/library/net).
    Net(crate::library::net::Net),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegexMatch {
    pub success: bool,
    pub value: String,
    pub index: i64,
    pub groups: Vec<(Option<String>, Option<String>)>,
    /// Where `NextMatch()` searches from: the regex, the input and a byte offset into it.
    pub next: Option<(Arc<RegexSpec>, Arc<str>, usize)>,
}

/// A `Regex` instance (`new Regex(pattern, options)`): compiled again where it is used, within
/// the regex crate's size limit (crates/expr/src/library/regexes.rs).
#[derive(Debug, Clone, PartialEq)]
pub struct RegexSpec {
    pub pattern: String,
    pub options: i64,
}

/// A value of the expression language.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// `int` and `long` (C# arithmetic wraps; we use 64 bits throughout).
    Int(i64),
    /// `double`, `float` and `decimal`.
    Double(f64),
    String(Arc<str>),
    Char(char),
    DateTime(DateTime),
    /// An instant with its offset (crates/expr/src/datetime_offset.rs).
    DateTimeOffset(DateTimeOffset),
    TimeSpan(TimeSpan),
    Guid(u128),
    /// Arrays and `List<T>`.
    Array(Vec<Value>),
    /// `JObject`, `JArray`, `JProperty`, `JValue`: a token of a tree (crates/expr/src/jtree.rs).
    Json(crate::jtree::JToken),
    Bytes(Vec<u8>),
    Object(Object),
    Lambda(Arc<Lambda>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            (Int(a), Double(b)) | (Double(b), Int(a)) => (*a as f64) == *b,
            (String(a), String(b)) => a == b,
            (Char(a), Char(b)) => a == b,
            (DateTime(a), DateTime(b)) => a == b,
            // .NET compares DateTimeOffsets by instant, whatever their offsets.
            (DateTimeOffset(a), DateTimeOffset(b)) => a.utc == b.utc,
            (TimeSpan(a), TimeSpan(b)) => a == b,
            (Guid(a), Guid(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Json(a), Json(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            (Lambda(a), Lambda(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(s.as_ref().into())
    }

    /// A new JSON tree holding `j` (`JToken.Parse` of its text).
    pub fn json(j: &serde_json::Value) -> Value {
        Value::Json(crate::jtree::JToken::from_serde(j))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null) || matches!(self, Value::Json(j) if j.is_null())
    }

    /// The C# type name, for error messages (`Unable to cast object of type 'X' …`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "System.Boolean",
            Value::Int(_) => "System.Int32",
            Value::Double(_) => "System.Double",
            Value::String(_) => "System.String",
            Value::Char(_) => "System.Char",
            Value::DateTime(_) => "System.DateTime",
            Value::DateTimeOffset(_) => "System.DateTimeOffset",
            Value::TimeSpan(_) => "System.TimeSpan",
            Value::Guid(_) => "System.Guid",
            Value::Array(_) => "System.Object[]",
            Value::Json(j) => j.type_name(),
            Value::Bytes(_) => "System.Byte[]",
            Value::Object(Object::Context(_)) => "IProxyRequestContext",
            // Records also stand for KeyValuePairs and JProperties (the members they carry tell).
            Value::Object(Object::Record(r))
                if r.contains_key("Key") && r.contains_key("Value") =>
            {
                "System.Collections.Generic.KeyValuePair`2"
            }
            Value::Object(Object::Record(r))
                if r.len() == 2 && r.contains_key("Name") && r.contains_key("Value") =>
            {
                "Newtonsoft.Json.Linq.JProperty"
            }
            Value::Object(Object::Record(_)) => "IResponse",
            Value::Object(Object::Dictionary(_)) => "IReadOnlyDictionary",
            Value::Object(Object::Body(_)) => "IMessageBody",
            Value::Object(Object::Hasher(k, _)) => crate::library::crypto::hashes::type_name(*k),
            Value::Object(Object::Crypto(c)) => c.type_name(),
            Value::Object(Object::Match(_)) => "System.Text.RegularExpressions.Match",
            Value::Object(Object::Regex(_)) => "System.Text.RegularExpressions.Regex",
            Value::Object(Object::Random(_)) => "System.Random",
            Value::Object(Object::Encoding(_)) => "System.Text.Encoding",
            Value::Object(Object::XDocument(_)) => "System.Xml.Linq.XDocument",
            Value::Object(Object::XElement(_)) => "System.Xml.Linq.XElement",
            Value::Object(Object::XAttribute(_)) => "System.Xml.Linq.XAttribute",
            Value::Object(Object::XName(_)) => "System.Xml.Linq.XName",
            Value::Object(Object::Exception(e)) => crate::exceptions::full_name(e.kind),
            Value::Object(Object::Tuple(_)) => "System.ValueTuple",
            Value::Object(Object::Io(o)) => o.type_name,
            Value::Object(Object::XNamespace(_)) => "System.Xml.Linq.XNamespace",
            Value::Object(Object::XNode(n)) => n.type_name(),
            Value::Object(Object::Net(n)) => n.type_name(),
            Value::Object(Object::Map(_)) => "System.Collections.Generic.Dictionary`2",
            Value::Object(Object::TimeZone(z)) if z.legacy => "System.CurrentSystemTimeZone",
            Value::Object(Object::TimeZone(_)) => "System.TimeZoneInfo",
            Value::Lambda(_) => "lambda",
        }
    }

    /// `ToString()` as C# would print it (invariant culture).
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Double(d) => format_double(*d),
            Value::String(s) => s.to_string(),
            Value::Char(c) => c.to_string(),
            Value::DateTime(d) => crate::datetime::format_datetime(*d, "G"),
            Value::DateTimeOffset(d) => d.format(""),
            Value::TimeSpan(t) => format_timespan(*t),
            Value::Guid(g) => format_guid(*g),
            Value::Array(_) => "System.Object[]".into(),
            Value::Json(j) => json_to_string(j),
            Value::Bytes(_) => "System.Byte[]".into(),
            Value::Object(Object::Body(b)) => b.to_string(),
            Value::Object(Object::XDocument(e) | Object::XElement(e)) => e.to_xml(),
            Value::Object(Object::XAttribute(a)) => a.to_xml(),
            Value::Object(Object::XName(n)) => n.expanded(),
            Value::Object(Object::Exception(e)) => e.to_display(),
            Value::Object(Object::Tuple(t)) => t.to_display(),
            Value::Object(Object::Io(o)) => o.display(),
            Value::Object(Object::XNamespace(ns)) => ns.to_string(),
            Value::Object(Object::XNode(n)) => n.to_xml(false),
            Value::Object(Object::Net(n)) => n.display(),
            Value::Object(Object::TimeZone(z)) => {
                z.display_name(crate::datetime::DateTime::now_utc())
            }
            // A KeyValuePair or JProperty (crates/expr/src/library/json_tokens.rs).
            Value::Object(Object::Record(r)) => {
                crate::library::record_display(r).unwrap_or_else(|| self.type_name().into())
            }
            Value::Object(_) | Value::Lambda(_) => self.type_name().into(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display())
    }
}

/// C#'s shortest round-trip form: `1.5`, `3`, `1E+21`, `NaN`, `Infinity` (.NET Core spelling).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = d.abs();
    if a != 0.0 && !(1e-5..1e15).contains(&a) {
        // Exponent form like .NET: 1E+21, 1.5E-07.
        let s = format!("{d:E}");
        if let Some((m, e)) = s.split_once('E') {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(r) => ('-', r),
                None => ('+', e),
            };
            let digits = if digits.len() < 2 {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            return format!("{m}E{sign}{digits}");
        }
    }
    format!("{d}")
}

pub fn format_guid(g: u128) -> String {
    let h = format!("{g:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `JToken.ToString()`: strings print raw, containers print indented (Newtonsoft's default),
/// a property as `"name": value`.
pub fn json_to_string(t: &crate::jtree::JToken) -> String {
    if let (Some(name), Some(v)) = (t.name(), t.property_value()) {
        let name = serde_json::to_string(&*name).unwrap_or_default();
        let v = v.to_serde();
        let value = match v {
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
            _ => serde_json::to_string(&v).unwrap_or_default(),
        };
        return format!("{name}: {value}");
    }
    match &t.to_serde() {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => "True".into(),
        serde_json::Value::Bool(false) => "False".into(),
        serde_json::Value::Number(n) => n.to_string(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::civil_from_days;

    #[test]
    fn civil_round_trip() {
        for days in [-719_162, -1, 0, 1, 11_016, 19_724, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let t = DateTime::from_parts(2024, 2, 29, 23, 59, 58, 1).expect("valid");
        let p = t.parts();
        assert_eq!(
            (
                p.year, p.month, p.day, p.hour, p.minute, p.second, p.fraction
            ),
            (2024, 2, 29, 23, 59, 58, 1)
        );
        assert_eq!(p.weekday, 4);
        assert!(DateTime::from_parts(2023, 2, 29, 0, 0, 0, 0).is_none());
        assert_eq!(
            DateTime::from_unix_seconds(0),
            Some(DateTime(UNIX_EPOCH_TICKS))
        );
    }

    #[test]
    fn display_like_csharp() {
        assert_eq!(format_double(1e21), "1E+21");
        assert_eq!(format_double(0.5), "0.5");
        assert_eq!(
            format_timespan(TimeSpan(-TICKS_PER_DAY - TICKS_PER_SECOND)),
            "-1.00:00:01"
        );
        assert_eq!(format_guid(0xff), "00000000-0000-0000-0000-0000000000ff");
    }
}
