//! Dates and times as .NET has them: `DateTime` and `TimeSpan` in ticks, the civil calendar,
//! and the invariant-culture formats and parsers (`ToString("o")`, RFC 1123, ISO 8601). A leaf
//! module: values (crates/expr/src/value.rs) print dates through it and the library
//! (crates/expr/src/library) parses and formats them, without either importing the other.

/// .NET ticks (100 ns) since 0001-01-01T00:00:00, and the `DateTimeKind`. The gateway's own
/// zone ("local" time) is UTC, as APIM's is, so `DateTime.Now` has `DateTime.UtcNow`'s ticks
/// and converting between local and UTC changes only the kind. As in .NET, the kind takes
/// part in formatting (`o`, `K`) and conversions, not in comparisons: equality, ordering and
/// hashing are the ticks'.
#[derive(Debug, Clone, Copy)]
pub struct DateTime(pub i64, pub DateTimeKind);

/// `System.DateTimeKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateTimeKind {
    #[default]
    Unspecified,
    Utc,
    Local,
}

impl DateTimeKind {
    /// The member's name (how the library holds an enum value).
    pub fn name(self) -> &'static str {
        match self {
            DateTimeKind::Unspecified => "Unspecified",
            DateTimeKind::Utc => "Utc",
            DateTimeKind::Local => "Local",
        }
    }

    pub fn from_name(name: &str) -> Option<DateTimeKind> {
        Some(match name {
            "Unspecified" => DateTimeKind::Unspecified,
            "Utc" => DateTimeKind::Utc,
            "Local" => DateTimeKind::Local,
            _ => return None,
        })
    }
}

impl PartialEq for DateTime {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for DateTime {}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl std::hash::Hash for DateTime {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

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
        DateTime(UNIX_EPOCH_TICKS.saturating_add(ticks), DateTimeKind::Utc)
    }

    /// The same instant with another kind (`DateTime.SpecifyKind`).
    pub fn with_kind(self, kind: DateTimeKind) -> DateTime {
        DateTime(self.0, kind)
    }

    /// Other ticks, this kind (what arithmetic on a DateTime keeps).
    pub fn with_ticks(self, ticks: i64) -> Option<DateTime> {
        DateTime::checked(ticks).map(|d| d.with_kind(self.1))
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
        Some(DateTime(
            UNIX_EPOCH_TICKS + secs * TICKS_PER_SECOND + frac,
            DateTimeKind::Unspecified,
        ))
    }

    /// The UTC time of a Unix time in seconds.
    pub fn from_unix_seconds(s: i64) -> Option<Self> {
        let t = s
            .checked_mul(TICKS_PER_SECOND)?
            .checked_add(UNIX_EPOCH_TICKS)?;
        DateTime::checked(t).map(|d| d.with_kind(DateTimeKind::Utc))
    }

    /// A time of kind Unspecified; `None` out of DateTime's range.
    pub fn checked(ticks: i64) -> Option<Self> {
        (0..=MAX_TICKS)
            .contains(&ticks)
            .then_some(DateTime(ticks, DateTimeKind::Unspecified))
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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

pub(crate) const MONTHS_LONG: [&str; 12] = [
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

pub(crate) const DAYS_LONG: [&str; 7] = [
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
    format_clock(d, fmt, None)
}

/// What `o` and `K` append: a DateTimeOffset's offset; for a DateTime, `Z` for UTC, the
/// local zone's offset (UTC's, the gateway's zone) for Local, nothing for Unspecified.
fn kind_suffix(d: DateTime, offset: Option<i64>) -> String {
    match (offset, d.1) {
        (Some(min), _) => offset_text(min),
        (None, DateTimeKind::Utc) => "Z".to_string(),
        (None, DateTimeKind::Local) => offset_text(0),
        (None, DateTimeKind::Unspecified) => String::new(),
    }
}

/// `±hh:mm` for an offset in minutes.
fn offset_text(min: i64) -> String {
    let sign = if min < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", min.abs() / 60, min.abs() % 60)
}

/// Formats the clock time `d`; `offset` is a DateTimeOffset's offset in minutes (for `o`, `z`,
/// `K`), `None` for a DateTime (the gateway's zone, UTC).
pub(crate) fn format_clock(d: DateTime, fmt: &str, offset: Option<i64>) -> String {
    let p = d.parts();
    let fmt = match fmt {
        "o" | "O" => {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}{}",
                p.year,
                p.month,
                p.day,
                p.hour,
                p.minute,
                p.second,
                p.fraction,
                kind_suffix(d, offset)
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
        "f" => "dddd, dd MMMM yyyy HH:mm",
        "F" => "dddd, dd MMMM yyyy HH:mm:ss",
        "M" | "m" => "MMMM dd",
        "Y" | "y" => "yyyy MMMM",
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
            'K' => out.push_str(&kind_suffix(d, offset)),
            'z' => {
                let min = offset.unwrap_or(0);
                let sign = if min < 0 { '-' } else { '+' };
                match (c, n) {
                    ('z', 1) => out.push_str(&format!("{sign}{}", min.abs() / 60)),
                    ('z', 2) => out.push_str(&format!("{sign}{:02}", min.abs() / 60)),
                    _ => out.push_str(&offset_text(min)),
                }
            }
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
/// A text with an offset (or `Z`) names an instant, which .NET converts to local time (kind
/// Local; the gateway's zone is UTC); without one the time is Unspecified.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime> {
    let (clock, offset) = parse_with_offset(s)?;
    let d = DateTime::checked(clock.0 - offset.unwrap_or(0) * 60 * TICKS_PER_SECOND)?;
    Some(match offset {
        Some(_) => d.with_kind(DateTimeKind::Local),
        None => d,
    })
}

/// Parses the clock time and the offset written with it, in minutes (`Z` and `GMT` are 0;
/// `None` when the text has none), for `DateTimeOffset.Parse`.
pub(crate) fn parse_with_offset(s: &str) -> Option<(DateTime, Option<i64>)> {
    let s = s.trim();
    if let Some(d) = parse_rfc1123(s) {
        return Some((d, Some(0)));
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
        // `ToString()` of a DateTimeOffset: `01/02/2024 03:04:05 +02:00`.
        let offset = match s.get(19..).map(str::trim) {
            None | Some("") => None,
            Some(z) => Some(parse_offset(z)?),
        };
        return Some((DateTime::from_parts(y, mo, d, h, mi, sec, 0)?, offset));
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.len() == 10 {
        return Some((DateTime::from_parts(y, mo, d, 0, 0, 0, 0)?, None));
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
    let offset = match b.get(i) {
        None => None,
        Some(b'Z' | b'z') if i + 1 == b.len() => Some(0),
        Some(b'+' | b'-') => Some(parse_offset(s.get(i..)?)?),
        _ => return None,
    };
    Some((DateTime::from_parts(y, mo, d, h, mi, sec, frac)?, offset))
}

/// `+hh:mm`, `-hhmm` or `+hh`, in minutes.
fn parse_offset(z: &str) -> Option<i64> {
    let (neg, rest) = match z.as_bytes().first()? {
        b'+' => (false, &z[1..]),
        b'-' => (true, &z[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i64 = digits.get(0..2)?.parse().ok()?;
    let m: i64 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if h > 14 || m > 59 {
        return None;
    }
    let min = h * 60 + m;
    Some(if neg { -min } else { min })
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
