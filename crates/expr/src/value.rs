//! Run-time values. One enum covers the CLR types policies use; conversions follow C# where a
//! policy could observe the difference (e.g. `true.ToString()` is `"True"`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::ast::LambdaDef;

/// .NET ticks (100 ns) since 0001-01-01T00:00:00 UTC. All times are UTC: the gateway runs in
/// UTC as APIM does, so `DateTime.Now` equals `DateTime.UtcNow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

/// A duration in .NET ticks (100 ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan(pub i64);

pub const TICKS_PER_SECOND: i64 = 10_000_000;
pub const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;
/// Ticks at 1970-01-01T00:00:00Z.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
/// Ticks of 9999-12-31T23:59:59.9999999, DateTime.MaxValue.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;

/// Days since 1970-01-01 for a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date for days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
    /// Sub-second ticks (0..10_000_000).
    pub fraction: i64,
    /// 0 = Sunday.
    pub weekday: i64,
}

impl DateTime {
    /// The current time from the system clock.
    pub fn now_utc() -> DateTime {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ticks = (d.as_nanos() / 100).min(i64::MAX as u128) as i64;
        DateTime(UNIX_EPOCH_TICKS.saturating_add(ticks))
    }

    /// Builds a time from its parts; `None` when out of DateTime's range or not a real date.
    pub fn from_parts(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, frac: i64) -> Option<Self> {
        if !(1..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || !(0..24).contains(&h)
            || !(0..60).contains(&mi)
            || !(0..60).contains(&s)
            || !(0..TICKS_PER_SECOND).contains(&frac)
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3600 + mi * 60 + s;
        Some(DateTime(UNIX_EPOCH_TICKS + secs * TICKS_PER_SECOND + frac))
    }

    pub fn from_unix_seconds(s: i64) -> Option<Self> {
        let t = s
            .checked_mul(TICKS_PER_SECOND)?
            .checked_add(UNIX_EPOCH_TICKS)?;
        DateTime::checked(t)
    }

    pub fn checked(ticks: i64) -> Option<Self> {
        (0..=MAX_TICKS).contains(&ticks).then_some(DateTime(ticks))
    }

    pub fn unix_seconds(self) -> i64 {
        (self.0 - UNIX_EPOCH_TICKS).div_euclid(TICKS_PER_SECOND)
    }

    pub fn parts(self) -> Parts {
        let days = self.0.div_euclid(TICKS_PER_DAY);
        let rem = self.0.rem_euclid(TICKS_PER_DAY);
        // Day 0 of ticks is 0001-01-01, which is 719162 days before 1970-01-01.
        let (year, month, day) = civil_from_days(days - 719_162);
        let secs = rem / TICKS_PER_SECOND;
        Parts {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
            fraction: rem % TICKS_PER_SECOND,
            // 0001-01-01 was a Monday.
            weekday: (days + 1).rem_euclid(7),
        }
    }
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

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
}

/// Objects that are not plain data.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A position in the `context` tree, resolved lazily through the [`super::Context`] trait.
    Context(Arc<[Arc<str>]>),
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
    /// `Encoding.UTF8` (`ASCII` is treated as UTF-8 on valid ASCII input).
    Encoding,
    /// LINQ to XML: a document (holding its root element), an element, an attribute, a name.
    XDocument(Arc<super::xml::XElement>),
    XElement(Arc<super::xml::XElement>),
    XAttribute(Arc<super::xml::XAttribute>),
    XName(Arc<super::xml::XName>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegexMatch {
    pub success: bool,
    pub value: String,
    pub index: i64,
    pub groups: Vec<(Option<String>, Option<String>)>,
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
    TimeSpan(TimeSpan),
    Guid(u128),
    /// Arrays and `List<T>`.
    Array(Vec<Value>),
    /// `JObject`, `JArray`, `JToken`, `JValue`.
    Json(serde_json::Value),
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

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null) || matches!(self, Value::Json(serde_json::Value::Null))
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
            Value::TimeSpan(_) => "System.TimeSpan",
            Value::Guid(_) => "System.Guid",
            Value::Array(_) => "System.Object[]",
            Value::Json(serde_json::Value::Object(_)) => "Newtonsoft.Json.Linq.JObject",
            Value::Json(serde_json::Value::Array(_)) => "Newtonsoft.Json.Linq.JArray",
            Value::Json(_) => "Newtonsoft.Json.Linq.JValue",
            Value::Bytes(_) => "System.Byte[]",
            Value::Object(Object::Context(_)) => "IProxyRequestContext",
            Value::Object(Object::Record(_)) => "IResponse",
            Value::Object(Object::Dictionary(_)) => "IReadOnlyDictionary",
            Value::Object(Object::Body(_)) => "IMessageBody",
            Value::Object(Object::Hasher(..)) => "HashAlgorithm",
            Value::Object(Object::Match(_)) => "System.Text.RegularExpressions.Match",
            Value::Object(Object::Encoding) => "System.Text.Encoding",
            Value::Object(Object::XDocument(_)) => "System.Xml.Linq.XDocument",
            Value::Object(Object::XElement(_)) => "System.Xml.Linq.XElement",
            Value::Object(Object::XAttribute(_)) => "System.Xml.Linq.XAttribute",
            Value::Object(Object::XName(_)) => "System.Xml.Linq.XName",
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
            Value::DateTime(d) => super::library::format_datetime(*d, "G"),
            Value::TimeSpan(t) => format_timespan(*t),
            Value::Guid(g) => format_guid(*g),
            Value::Array(_) => "System.Object[]".into(),
            Value::Json(j) => json_to_string(j),
            Value::Bytes(_) => "System.Byte[]".into(),
            Value::Object(Object::Body(b)) => b.to_string(),
            Value::Object(Object::XDocument(e) | Object::XElement(e)) => e.to_xml(),
            Value::Object(Object::XAttribute(a)) => a.to_xml(),
            Value::Object(Object::XName(n)) => n.expanded(),
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

/// `TimeSpan.ToString()`: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(t: TimeSpan) -> String {
    let neg = t.0 < 0;
    let v = t.0.unsigned_abs();
    let tps = TICKS_PER_SECOND as u64;
    let days = v / (TICKS_PER_DAY as u64);
    let secs = v / tps % 86_400;
    let frac = v % tps;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if days > 0 {
        s.push_str(&format!("{days}."));
    }
    s.push_str(&format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ));
    if frac > 0 {
        s.push_str(&format!(".{frac:07}"));
    }
    s
}

/// `JToken.ToString()`: strings print raw, containers print indented (Newtonsoft's default).
pub fn json_to_string(j: &serde_json::Value) -> String {
    match j {
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
