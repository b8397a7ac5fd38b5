//! `TimeZoneInfo.ToSerializedString()` and `FromSerializedString(string)` in .NET's format
//! (TimeZoneInfo.StringSerializer): `Id;BaseOffsetMinutes;DisplayName;StandardName;
//! DaylightName;[rule][rule]…;` where a rule is `[MM:dd:yyyy;MM:dd:yyyy;DeltaMinutes;
//! [transition];[transition];]` (plus the base offset delta in minutes when not zero) and a
//! transition `[1;HH:mm:ss.FFF;month;day;]` (fixed) or `[0;HH:mm:ss.FFF;month;week;dow;]`.
//! Names escape `\`, `[`, `]` and `;` with a backslash. Bad input is a SerializationException,
//! as .NET's strict reader throws.

use super::*;
use crate::timezone::Zone;
use crate::timezone::custom::{Rule, Transition};

const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        if matches!(c, '\\' | '[' | ']' | ';') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(';');
}

fn date(out: &mut String, d: DateTime) {
    let p = d.parts();
    out.push_str(&format!("{:02}:{:02}:{:04};", p.month, p.day, p.year));
}

fn transition(out: &mut String, t: &Transition) {
    let (h, m, s) = (
        t.time_of_day / (3600 * TICKS_PER_SECOND),
        t.time_of_day / TICKS_PER_MINUTE % 60,
        t.time_of_day / TICKS_PER_SECOND % 60,
    );
    // "FFF": the milliseconds without trailing zeros, and no point when there are none.
    let ms = t.time_of_day % TICKS_PER_SECOND / 10_000;
    let frac = if ms == 0 {
        String::new()
    } else {
        format!(".{ms:03}").trim_end_matches('0').to_string()
    };
    out.push_str(&format!(
        "[{};{h:02}:{m:02}:{s:02}{frac};{};",
        u8::from(t.fixed),
        t.month
    ));
    if t.fixed {
        out.push_str(&format!("{};", t.day));
    } else {
        out.push_str(&format!("{};{};", t.week, t.day_of_week));
    }
    out.push_str("];");
}

/// `ToSerializedString()`.
pub(super) fn to_serialized(it: &mut Interp, z: &Zone, at: usize) -> F<String> {
    let now = it.ctx.now();
    let rules = super::custom_zones::zone_rules(it, z, at)?;
    let mut out = String::new();
    escape(&mut out, &z.id);
    out.push_str(&format!("{};", z.base_offset(now) / 60));
    escape(&mut out, &z.display_name(now));
    escape(&mut out, &z.standard_name(now));
    escape(&mut out, &z.daylight_name(now));
    for r in &rules {
        out.push('[');
        date(&mut out, r.date_start);
        date(&mut out, r.date_end);
        out.push_str(&format!("{};", r.daylight_delta / TICKS_PER_MINUTE));
        transition(&mut out, &r.start);
        transition(&mut out, &r.end);
        if r.base_offset_delta != 0 {
            out.push_str(&format!("{};", r.base_offset_delta / TICKS_PER_MINUTE));
        }
        out.push(']');
    }
    out.push(';');
    it.charge(out.len(), at)?;
    Ok(out)
}

fn bad() -> Bad {
    Bad
}

/// A malformed serialized zone (the reader's single failure).
struct Bad;

/// .NET's StringSerializer reader: a position in the text.
struct Reader<'a> {
    s: &'a [char],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    /// The next `;`-terminated string, unescaping; an unescaped bracket is an error.
    fn string(&mut self) -> Result<String, Bad> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '\\' => {
                    let e = self.peek().ok_or_else(bad)?;
                    if !matches!(e, '\\' | '[' | ']' | ';') {
                        return Err(Bad);
                    }
                    out.push(e);
                    self.i += 1;
                }
                '[' | ']' | '\0' => return Err(Bad),
                ';' => return Ok(out),
                c => out.push(c),
            }
        }
        Err(Bad)
    }

    /// `int.TryParse(token, NumberStyles.AllowLeadingSign, InvariantCulture)`: an optional
    /// sign, then digits (no white space).
    fn int(&mut self) -> Result<i64, Bad> {
        let t = self.string()?;
        let t = t.as_str();
        let (neg, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Bad);
        }
        let v: i64 = digits.parse().map_err(|_| Bad)?;
        let v = if neg { -v } else { v };
        if i32::try_from(v).is_err() {
            return Err(Bad);
        }
        Ok(v)
    }

    /// A whole-minutes TimeSpan.
    fn minutes(&mut self) -> Result<i64, Bad> {
        self.int()?.checked_mul(TICKS_PER_MINUTE).ok_or(Bad)
    }

    /// `MM:dd:yyyy`, exactly.
    fn date(&mut self) -> Result<DateTime, Bad> {
        let t = self.string()?;
        let p: Vec<&str> = t.split(':').collect();
        let num = |s: &str, n: usize| {
            (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .ok_or(Bad)
        };
        let [m, d, y] = p.as_slice() else {
            return Err(Bad);
        };
        DateTime::from_parts(num(y, 4)?, num(m, 2)?, num(d, 2)?, 0, 0, 0, 0).ok_or(Bad)
    }

    /// `HH:mm:ss.FFF` as ticks since midnight.
    fn time_of_day(&mut self) -> Result<i64, Bad> {
        let t = self.string()?;
        let (hms, frac) = match t.split_once('.') {
            Some((a, f)) => (a.to_string(), f.to_string()),
            None => (t.clone(), String::new()),
        };
        let p: Vec<&str> = hms.split(':').collect();
        let two = |s: &str| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
                .ok_or(Bad)
        };
        let [h, m, s] = p.as_slice() else {
            return Err(Bad);
        };
        let (h, m, s) = (two(h)?, two(m)?, two(s)?);
        if h > 23 || m > 59 || s > 59 || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Bad);
        }
        let ms = format!("{frac:0<3}").parse::<i64>().map_err(|_| Bad)?;
        Ok(((h * 60 + m) * 60 + s) * TICKS_PER_SECOND + ms * 10_000)
    }

    fn expect(&mut self, c: char) -> Result<(), Bad> {
        if self.peek() != Some(c) {
            return Err(Bad);
        }
        self.i += 1;
        Ok(())
    }

    /// `[fixed;time;month;day;]` or `[0;time;month;week;dow;]` then `;`, built by the
    /// TransitionTime factories (whose checks become a SerializationException).
    fn transition(&mut self, at: usize) -> Result<Value, Bad> {
        self.expect('[')?;
        let fixed = match self.int()? {
            0 => false,
            1 => true,
            _ => return Err(Bad),
        };
        let time = Value::DateTime(DateTime(self.time_of_day()?, DateTimeKind::Unspecified));
        let month = Value::Int(self.int()?);
        let mut args: Args = vec![(None, time), (None, month)];
        if fixed {
            args.push((None, Value::Int(self.int()?)));
        } else {
            args.push((None, Value::Int(self.int()?)));
            let dow = self.int()?;
            if !(0..=6).contains(&dow) {
                return Err(Bad);
            }
            args.push((None, Value::Enum("DayOfWeek", dow)));
        }
        let t = super::zonerules::transition(&args, fixed, at).map_err(|_| Bad)?;
        self.expect(']')?;
        self.expect(';')?;
        Ok(t)
    }

    /// `[start;end;delta;[t];[t];(baseDelta;)]`.
    fn rule(&mut self, at: usize) -> Result<Rule, Bad> {
        self.expect('[')?;
        let start = self.date()?;
        let end = self.date()?;
        let delta = self.minutes()?;
        let ts = self.transition(at)?;
        let te = self.transition(at)?;
        let mut base_delta = 0;
        if matches!(self.peek(), Some('0'..='9' | '-' | '+')) {
            base_delta = self.minutes()?;
        }
        // The "no daylight transitions" flag .NET writes for its own Unix rules.
        if matches!(self.peek(), Some('0'..='1')) {
            self.int()?;
        }
        self.expect(']')?;
        let args: Args = vec![
            (None, Value::DateTime(start)),
            (None, Value::DateTime(end)),
            (None, Value::TimeSpan(TimeSpan(delta))),
            (None, ts),
            (None, te),
        ];
        let rule = super::zonerules::adjustment(&args, at).map_err(|_| Bad)?;
        let mut rule = super::custom_zones::rule_of(&rule).ok_or(Bad)?;
        if base_delta.abs() > 14 * 60 * TICKS_PER_MINUTE {
            return Err(Bad);
        }
        rule.base_offset_delta = base_delta;
        Ok(rule)
    }
}

/// `FromSerializedString(source)`.
pub(super) fn from_serialized(it: &mut Interp, v: &Value, at: usize) -> F<Zone> {
    let text = match v {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'source')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    if text.is_empty() {
        return Err(rt(
            "ArgumentException",
            format!(
                "The specified serialized string '{text}' is not supported. (Parameter 'source')"
            ),
            at,
        ));
    }
    it.charge(text.len() * 8, at)?;
    let invalid = || {
        rt(
            "SerializationException",
            "An error occurred while deserializing the object.  The serialized data is corrupt.",
            at,
        )
    };
    let chars: Vec<char> = text.chars().collect();
    let mut r = Reader { s: &chars, i: 0 };
    let parsed = (|| -> Result<_, Bad> {
        let id = r.string()?;
        let base = r.minutes()?;
        let names = [r.string()?, r.string()?, r.string()?];
        let mut rules = Vec::new();
        while r.peek() == Some('[') {
            rules.push(r.rule(at)?);
        }
        r.expect(';')?;
        Ok((id, base, names, rules))
    })();
    let (id, base, names, rules) = parsed.map_err(|_| invalid())?;
    it.charge(rules.len() * 256, at)?;
    // The zone's own checks (ArgumentException, InvalidTimeZoneException) are reported as
    // corrupt data, as .NET wraps them.
    super::custom_zones::build_custom(&id, base, names, rules, false, at).map_err(|_| invalid())
}
