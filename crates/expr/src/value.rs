//! Run-time values. One enum covers the CLR types policies use; conversions follow C# where a
//! policy could observe the difference (e.g. `true.ToString()` is `"True"`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::ast::LambdaDef;

pub use crate::datetime::{
    DateTime, DateTimeKind, MAX_TICKS, TICKS_PER_DAY, TICKS_PER_SECOND, TimeSpan, UNIX_EPOCH_TICKS,
    days_from_civil, days_in_month, format_timespan,
};
pub use crate::datetime_offset::DateTimeOffset;

/// A lambda with the locals it captured when it was created (by value: closures here cannot
/// outlive the expression, and copying keeps values `Send`).
#[derive(Debug, Clone)]
pub struct Lambda {
    pub(crate) def: Arc<LambdaDef>,
    pub(crate) captured: Vec<(String, Value)>,
    /// Written inside `checked(…)` or a `checked { }` block: C#'s overflow checking is
    /// lexical, so the body runs checked wherever it is called from, and only then.
    pub(crate) checked: bool,
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
    /// A hash algorithm instance (`new HMACSHA256(key)`, `SHA256.Create()`): its key and
    /// streaming state, shared by copies (crates/expr/src/library/crypto/hashes.rs).
    Hasher(HashKind, Arc<crate::library::crypto::hashes::HashState>),
    /// A regex match: success, value, index, groups (by number and by name).
    Match(Arc<RegexMatch>),
    /// `new Regex(pattern, options)`.
    Regex(Arc<RegexSpec>),
    /// `new Random(seed)` (crates/expr/src/library/random.rs).
    Random(crate::library::SeededRandom),
    /// `Encoding.UTF8` (`ASCII` is treated as UTF-8 on valid ASCII input).
    Encoding(crate::library::TextEncoding),
    /// LINQ to XML: a document, an element, an attribute (nodes with identity and parent
    /// links, crates/expr/src/xml.rs), a name.
    XDocument(super::xml::XRef),
    XElement(super::xml::XRef),
    XAttribute(super::xml::XRef),
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
    Map(Arc<crate::library::Entries>),
    /// `StringReader`, `StringWriter`, `XmlReader`: objects changed by their methods, shared
    /// by every copy (crates/expr/src/io.rs).
    Io(Arc<crate::io::IoObject>),
    /// `XNamespace`: its URI.
    XNamespace(Arc<str>),
    /// A node that is not an element (`XText`, `XCData`, `XComment`, `XProcessingInstruction`,
    /// `XDocumentType`).
    XNode(super::xml::XRef),
    /// `XNode.EqualityComparer` (false) or `XNode.DocumentOrderComparer` (true).
    XComparer(bool),
    /// `Uri`, `IPAddress` (crates/expr/src/library/net).
    Net(crate::library::net::Net),
    /// `StringComparer.Ordinal` … (crates/expr/src/library/comparers.rs).
    Comparer(crate::library::StringComparerKind),
    /// Newtonsoft's helper objects: a token's reader and writer, `JToken.EqualityComparer`,
    /// an enumerator (crates/expr/src/library/json_special.rs).
    JsonAux(Arc<crate::library::JsonAux>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegexMatch {
    pub success: bool,
    pub value: String,
    pub index: i64,
    pub groups: Vec<(Option<String>, Option<String>)>,
    /// Every capture of each group (UTF-16 index, text), first to last
    /// (crates/expr/src/library/regex_captures.rs).
    pub captures: Vec<Vec<(i64, String)>>,
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
    /// `int` (System.Int32): always within i32's range (crates/expr/src/numeric.rs wraps every
    /// result); an i64 because most library code indexes and counts with one.
    Int(i64),
    /// `long` (System.Int64).
    Long(i64),
    /// `uint`, `ulong`, `short`, `ushort`, `byte`, `sbyte`: the other integral types, each
    /// with its own width so arithmetic, casts and `GetType()` answer as .NET does.
    UInt(u32),
    ULong(u64),
    Short(i16),
    UShort(u16),
    Byte(u8),
    SByte(i8),
    /// `float` (System.Single): single precision, so `1.1f * 3` is 3.3000002.
    Float(f32),
    /// `double` (System.Double).
    Double(f64),
    /// `decimal` (System.Decimal): 96-bit integer with a scale of 0–28, trailing zeros kept.
    Decimal(rust_decimal::Decimal),
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
    /// A value of one of the enums of crates/expr/src/library/enum_table.rs: the enum's simple
    /// name (the table's, so `'static`) and its underlying value, which may be one the enum
    /// does not name (`(DayOfWeek)9`, a flags combination).
    Enum(&'static str, i64),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Double(a), Double(b)) => a == b,
            // Numbers of different kinds compare as C#'s `==` does after promotion (1 == 1L).
            (a, b) if a.is_number() && b.is_number() => {
                match (crate::numeric::Num::of(a), crate::numeric::Num::of(b)) {
                    (Some(x), Some(y)) => {
                        crate::numeric::compare(x, y) == Some(std::cmp::Ordering::Equal)
                    }
                    _ => false,
                }
            }
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
            (Enum(t, a), Enum(u, b)) => t == u && a == b,
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
impl From<rust_decimal::Decimal> for Value {
    fn from(d: rust_decimal::Decimal) -> Self {
        Value::Decimal(d)
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

    /// An object of named properties (an `EventArgs`, a `TimeZoneInfo.AdjustmentRule` …).
    pub(crate) fn record(fields: Vec<(&str, Value)>) -> Value {
        Value::Object(Object::Record(Arc::new(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )))
    }

    /// Whether this is a value of one of .NET's numeric types (not a char).
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Value::Int(_)
                | Value::Long(_)
                | Value::UInt(_)
                | Value::ULong(_)
                | Value::Short(_)
                | Value::UShort(_)
                | Value::Byte(_)
                | Value::SByte(_)
                | Value::Float(_)
                | Value::Double(_)
                | Value::Decimal(_)
        )
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
            Value::Long(_)
            | Value::UInt(_)
            | Value::ULong(_)
            | Value::Short(_)
            | Value::UShort(_)
            | Value::Byte(_)
            | Value::SByte(_)
            | Value::Float(_)
            | Value::Decimal(_) => crate::numeric::Num::of(self)
                .map(|n| n.kind().full_name())
                .unwrap_or("System.Object"),
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
            // The zone rules' records (crates/expr/src/library/zonerules.rs).
            Value::Object(Object::Record(r)) if r.contains_key("IsFixedDateRule") => {
                "System.TimeZoneInfo+TransitionTime"
            }
            Value::Object(Object::Record(r)) if r.contains_key("DaylightTransitionStart") => {
                "System.TimeZoneInfo+AdjustmentRule"
            }
            Value::Object(Object::Record(r)) if crate::xml::is_declaration(r) => {
                "System.Xml.Linq.XDeclaration"
            }
            Value::Object(Object::Record(r)) if crate::library::is_lookup(r) => {
                "System.Linq.Lookup`2"
            }
            Value::Object(Object::Record(r))
                if let Some(Value::Bool(d)) = r.get(crate::library::FALLBACK_KIND) =>
            {
                if *d {
                    "System.Text.DecoderReplacementFallback"
                } else {
                    "System.Text.EncoderReplacementFallback"
                }
            }
            Value::Object(Object::Record(r)) if r.contains_key(crate::library::DBNULL) => {
                "System.DBNull"
            }
            Value::Object(Object::Record(r))
                if r.contains_key("Delta") && r.contains_key("Start") =>
            {
                "System.Globalization.DaylightTime"
            }
            Value::Object(Object::Record(r)) if r.contains_key("DisplayName") => {
                "System.Text.EncodingInfo"
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
            Value::Object(Object::Tuple(t)) if t.kind == crate::tuple::TupleKind::Anonymous => {
                crate::library::anonymous_type(t.items.len())
            }
            Value::Object(Object::Tuple(t)) if t.is_class() => {
                crate::library::reference_tuple_type(t.items.len())
            }
            Value::Object(Object::Tuple(_)) => "System.ValueTuple",
            Value::Object(Object::Io(o)) => o.type_name,
            Value::Object(Object::XNamespace(_)) => "System.Xml.Linq.XNamespace",
            Value::Object(Object::XNode(n)) => n.type_name(),
            Value::Object(Object::XComparer(false)) => "System.Xml.Linq.XNodeEqualityComparer",
            Value::Object(Object::XComparer(true)) => "System.Xml.Linq.XNodeDocumentOrderComparer",
            Value::Object(Object::Net(n)) => n.type_name(),
            Value::Object(Object::Comparer(k)) => k.type_name(),
            Value::Object(Object::JsonAux(a)) => a.type_name(),
            Value::Object(Object::Map(_)) => "System.Collections.Generic.Dictionary`2",
            Value::Object(Object::TimeZone(z)) if z.legacy => "System.CurrentSystemTimeZone",
            Value::Object(Object::TimeZone(_)) => "System.TimeZoneInfo",
            Value::Lambda(_) => "lambda",
            Value::Enum(t, _) => crate::library::enum_full_name(t),
        }
    }

    /// `ToString()` as C# would print it (invariant culture).
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) | Value::Long(i) => i.to_string(),
            Value::UInt(i) => i.to_string(),
            Value::ULong(i) => i.to_string(),
            Value::Short(i) => i.to_string(),
            Value::UShort(i) => i.to_string(),
            Value::Byte(i) => i.to_string(),
            Value::SByte(i) => i.to_string(),
            Value::Float(f) => crate::numeric::format_float(*f),
            Value::Decimal(d) => crate::numeric::format_decimal(*d),
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
            Value::Object(Object::XDocument(e) | Object::XElement(e) | Object::XAttribute(e)) => {
                e.to_xml(false)
            }
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
            Value::Object(Object::Record(r)) if crate::xml::is_declaration(r) => {
                crate::xml::declaration_of(r).to_xml()
            }
            Value::Object(Object::Record(r)) if r.contains_key(crate::library::DBNULL) => {
                String::new()
            }
            // A KeyValuePair or JProperty (crates/expr/src/library/json_tokens.rs).
            Value::Object(Object::Record(r)) => {
                crate::library::record_display(r).unwrap_or_else(|| self.type_name().into())
            }
            Value::Object(_) | Value::Lambda(_) => self.type_name().into(),
            Value::Enum(t, v) => crate::library::enum_display(t, *v),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_display())
    }
}

/// C#'s shortest round-trip form: `1.5`, `3`, `1E+17`, `1E-05`, `NaN`, `Infinity` (.NET Core
/// 3.0+ spelling and layout; crates/expr/src/numeric.rs).
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
    crate::numeric::shortest(
        &format!("{d:E}"),
        &format!("{d}"),
        d == 0.0,
        d.is_sign_negative(),
        17,
    )
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
    crate::library::json_display(t)
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
            Some(DateTime(UNIX_EPOCH_TICKS, DateTimeKind::Utc))
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
