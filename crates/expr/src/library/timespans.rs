//! `TimeSpan` as .NET has it beyond ticks: its format strings (`c`, `g`, `G` and custom
//! `hh\:mm\:ss`), `TimeSpan.Parse`, the range constants, and the arithmetic members
//! (`Add`, `Subtract`, `Duration`, `Multiply`, `Divide`, `CompareTo`, `Compare`) with .NET
//! Core's overflow and NaN exceptions and its rounding (`Math.Round`, to even, of the ticks).
//! Invariant culture.

use super::*;

fn overflow(at: usize) -> Flow {
    rt(
        "OverflowException",
        "TimeSpan overflowed because the duration is too long.",
        at,
    )
}

/// `ts * factor` / `ts / divisor`: a NaN argument is an ArgumentException; the ticks are
/// rounded (to even) and, as .NET's `IntervalFromDoubleTicks`, NaN or out of range is an
/// OverflowException.
fn scaled(ticks: f64, by: f64, param: &str, at: usize) -> F<Value> {
    if by.is_nan() {
        return Err(rt(
            "ArgumentException",
            format!(
                "TimeSpan does not accept floating point Not-a-Number values. (Parameter '{param}')"
            ),
            at,
        ));
    }
    let ticks = if param == "factor" {
        ticks * by
    } else {
        ticks / by
    }
    .round_ties_even();
    // i64::MAX as f64 rounds up to 2^63, itself out of range.
    if ticks.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ticks) {
        return Err(overflow(at));
    }
    Ok(Value::TimeSpan(TimeSpan(ticks as i64)))
}

/// `t1.CompareTo(t2)` / `TimeSpan.Compare(t1, t2)`: -1, 0 or 1; null compares below any
/// TimeSpan, another type is an ArgumentException.
pub(crate) fn compare_timespan(ts: TimeSpan, other: &Value, at: usize) -> F<Value> {
    Ok(Value::Int(match other {
        Value::TimeSpan(o) => ts.0.cmp(&o.0) as i64,
        Value::Null => 1,
        _ => {
            return Err(rt(
                "ArgumentException",
                "Object must be of type TimeSpan.",
                at,
            ));
        }
    }))
}

/// TimeSpan's instance methods beyond `ToString` and `Negate`; `None` for another name.
pub(crate) fn timespan_method(
    ts: TimeSpan,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    if !matches!(
        name,
        "Add" | "Subtract" | "Duration" | "Multiply" | "Divide" | "CompareTo"
    ) {
        return None;
    }
    let a = |i: usize| arg(args, i, at);
    Some((|| {
        Ok(match name {
            "Add" | "Subtract" => match a(0)? {
                Value::TimeSpan(o) => {
                    let r = if name == "Add" {
                        ts.0.checked_add(o.0)
                    } else {
                        ts.0.checked_sub(o.0)
                    };
                    Value::TimeSpan(TimeSpan(r.ok_or_else(|| overflow(at))?))
                }
                v => return Err(cast_err(v, "System.TimeSpan", at)),
            },
            "Duration" => Value::TimeSpan(TimeSpan(ts.0.checked_abs().ok_or_else(|| {
                rt(
                    "OverflowException",
                    "The duration cannot be returned for TimeSpan.MinValue because the absolute value of TimeSpan.MinValue exceeds the value of TimeSpan.MaxValue.",
                    at,
                )
            })?)),
            "Multiply" => scaled(ts.0 as f64, as_f64(a(0)?, at)?, "factor", at)?,
            "Divide" => match a(0)? {
                // TimeSpan / TimeSpan: the ratio of their ticks.
                Value::TimeSpan(o) => Value::Double(ts.0 as f64 / o.0 as f64),
                v => scaled(ts.0 as f64, as_f64(v, at)?, "divisor", at)?,
            },
            _ => compare_timespan(ts, a(0)?, at)?,
        })
    })())
}

fn parts(t: TimeSpan) -> (bool, u64, u64, u64, u64, u64) {
    let v = t.0.unsigned_abs();
    let tps = TICKS_PER_SECOND as u64;
    let secs = v / tps % 86_400;
    (
        t.0 < 0,
        v / TICKS_PER_DAY as u64,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        v % tps,
    )
}

/// `ts.ToString(fmt)`.
pub(crate) fn format_timespan_as(t: TimeSpan, fmt: &str, at: usize) -> F<String> {
    let (neg, d, h, m, s, frac) = parts(t);
    let sign = if neg { "-" } else { "" };
    Ok(match fmt {
        "" | "c" | "t" | "T" => format_timespan(t),
        "g" => {
            let days = if d > 0 {
                format!("{d}:")
            } else {
                String::new()
            };
            let f = if frac > 0 {
                format!(".{}", format!("{frac:07}").trim_end_matches('0'))
            } else {
                String::new()
            };
            format!("{sign}{days}{h}:{m:02}:{s:02}{f}")
        }
        "G" => format!("{sign}{d}:{h:02}:{m:02}:{s:02}.{frac:07}"),
        custom => custom_timespan(d, h, m, s, frac, custom, at)?,
    })
}

/// A custom TimeSpan format: `d`, `h`, `m`, `s`, `f`/`F` runs, quoted or `\`-escaped literals;
/// any other character is a FormatException, as in .NET (no sign is printed).
fn custom_timespan(d: u64, h: u64, m: u64, s: u64, frac: u64, fmt: &str, at: usize) -> F<String> {
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
            'd' if n <= 8 => out.push_str(&format!("{d:0n$}")),
            'h' if n <= 2 => out.push_str(&format!("{h:0n$}")),
            'm' if n <= 2 => out.push_str(&format!("{m:0n$}")),
            's' if n <= 2 => out.push_str(&format!("{s:0n$}")),
            'f' if n <= 7 => out.push_str(&format!("{frac:07}")[..n]),
            'F' if n <= 7 => out.push_str(format!("{frac:07}")[..n].trim_end_matches('0')),
            '\\' => {
                let lit = chars.get(i + 1).ok_or_else(|| format_err(at))?;
                out.push(*lit);
                i += 2;
                continue;
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|x| *x == c)
                    .ok_or_else(|| format_err(at))?;
                out.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
            _ => return Err(format_err(at)),
        }
        i += n;
    }
    Ok(out)
}

/// `TimeSpan.Parse`: `[-]d` or `[-][d.]h:m[:s[.fffffff]]`, surrounding white space allowed.
pub(crate) fn parse_timespan(s: &str, at: usize) -> F<TimeSpan> {
    let bad = || {
        rt(
            "FormatException",
            "String was not recognized as a valid TimeSpan.",
            at,
        )
    };
    let overflow = || {
        rt(
            "OverflowException",
            "The TimeSpan string could not be parsed because at least one of the numeric components is out of range or contains too many digits.",
            at,
        )
    };
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let num = |x: &str| -> F<i64> {
        if x.is_empty() || x.len() > 10 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        x.parse().map_err(|_| overflow())
    };
    let ticks = if !t.contains(':') {
        num(t)?.checked_mul(TICKS_PER_DAY).ok_or_else(overflow)?
    } else {
        let (days, clock) = match t.split_once(':').map(|(head, _)| head.split_once('.')) {
            Some(Some((d, _))) => (num(d)?, &t[d.len() + 1..]),
            _ => (0, t),
        };
        let (clock, frac) = match clock.rsplit_once('.') {
            Some((c, f)) if c.matches(':').count() == 2 => (c, Some(f)),
            _ => (clock, None),
        };
        let fields: Vec<&str> = clock.split(':').collect();
        let (h, m, sec) = match fields.as_slice() {
            [h, m] => (num(h)?, num(m)?, 0),
            [h, m, s] => (num(h)?, num(m)?, num(s)?),
            _ => return Err(bad()),
        };
        if h > 23 || m > 59 || sec > 59 {
            return Err(overflow());
        }
        let f = match frac {
            None => 0,
            Some(f) if f.len() > 7 => return Err(overflow()),
            Some(f) => num(f)? * 10i64.pow(7 - f.len() as u32),
        };
        days.checked_mul(TICKS_PER_DAY)
            .and_then(|d| d.checked_add(((h * 60 + m) * 60 + sec) * TICKS_PER_SECOND + f))
            .ok_or_else(overflow)?
    };
    Ok(TimeSpan(if neg { -ticks } else { ticks }))
}

/// `TimeSpan.ParseExact(input, format, provider)`: `c` (`t`, `T`) as `Parse` reads the
/// invariant form, `G` as `[-]d:hh:mm:ss.fffffff`, and custom formats field by field (a
/// one-letter format is a standard one: `h` alone is invalid, `%h` is custom). The `g` format (which also reads `d:h:mm:ss` and
/// takes an out-of-range hour as days) is not implemented. Checked against Mono, which has
/// .NET's parser.
pub(crate) fn parse_timespan_exact(args: &Args, at: usize) -> F<TimeSpan> {
    let bad = || {
        rt(
            "FormatException",
            "String was not recognized as a valid TimeSpan.",
            at,
        )
    };
    let text = match arg(args, 0, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'input')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    let fmt = match arg(args, 1, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'format')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    Ok(match fmt.as_str() {
        "c" | "t" | "T" => {
            // Parse's reading, except that more than seven fraction digits are a format
            // error here (an overflow for Parse).
            if text
                .trim()
                .rsplit_once('.')
                .is_some_and(|(c, f)| c.contains(':') && f.len() > 7)
            {
                return Err(bad());
            }
            parse_timespan(&text, at)?
        }
        "G" => parse_general_long(text.trim(), at)?.ok_or_else(bad)?,
        "g" => {
            return Err(rt(
                "NotSupportedException",
                "TimeSpan.ParseExact with the \"g\" format is not supported; use \"c\" or a custom format",
                at,
            ));
        }
        one if one.chars().count() == 1 => {
            return Err(rt("FormatException", "Format specifier was invalid.", at));
        }
        custom => parse_custom(&text, custom, at)?.ok_or_else(bad)?,
    })
}

fn component_overflow(at: usize) -> Flow {
    rt(
        "OverflowException",
        "The TimeSpan string could not be parsed because at least one of the numeric components is out of range or contains too many digits.",
        at,
    )
}

/// Ticks of days, hours, minutes, seconds and fraction ticks, with .NET's range checks.
fn compose(d: i64, h: i64, m: i64, s: i64, frac: i64, at: usize) -> F<TimeSpan> {
    if h > 23 || m > 59 || s > 59 {
        return Err(component_overflow(at));
    }
    d.checked_mul(TICKS_PER_DAY)
        .and_then(|t| t.checked_add(((h * 60 + m) * 60 + s) * TICKS_PER_SECOND + frac))
        .map(TimeSpan)
        .ok_or_else(|| component_overflow(at))
}

/// `[-]d:hh:mm:ss.fffffff`, every field there.
fn parse_general_long(t: &str, at: usize) -> F<Option<TimeSpan>> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let Some((clock, frac)) = t.rsplit_once('.') else {
        return Ok(None);
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let digits = |x: &str, n: Option<usize>| {
        !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()) && n.is_none_or(|n| x.len() == n)
    };
    let [d, h, m, s] = fields.as_slice() else {
        return Ok(None);
    };
    if !(digits(d, None)
        && d.len() <= 8
        && digits(h, Some(2))
        && digits(m, Some(2))
        && digits(s, Some(2))
        && digits(frac, Some(7)))
    {
        return Ok(None);
    }
    let n = |x: &str| x.parse::<i64>().unwrap_or(0);
    let t = compose(n(d), n(h), n(m), n(s), n(frac), at)?;
    Ok(Some(if neg { TimeSpan(-t.0) } else { t }))
}

/// A custom format: `d`…`dddddddd`, `h`/`hh`, `m`/`mm`, `s`/`ss`, `f`…/`F`… (up to seven),
/// quoted or `\`-escaped literals, `%` before a one-letter format. `h` reads one or two
/// digits, `hh` exactly two; `f`s exactly as many, `F`s at most as many. No sign, no
/// whitespace. `None` when the text does not match; an invalid format is a FormatException.
fn parse_custom(text: &str, fmt: &str, at: usize) -> F<Option<TimeSpan>> {
    let bad_format = || {
        rt(
            "FormatException",
            "Input string was not in a correct format.",
            at,
        )
    };
    let f: Vec<char> = fmt.chars().collect();
    let s: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let (mut d, mut h, mut m, mut sec, mut frac) = (0i64, 0i64, 0i64, 0i64, 0i64);
    // Reads between `min` and `max` digits.
    let read = |pos: &mut usize, min: usize, max: usize| -> Option<i64> {
        let start = *pos;
        while *pos < s.len() && *pos - start < max && s[*pos].is_ascii_digit() {
            *pos += 1;
        }
        let n = *pos - start;
        (n >= min).then(|| {
            s[start..*pos]
                .iter()
                .fold(0i64, |v, c| v * 10 + (*c as i64 - '0' as i64))
        })
    };
    let mut i = 0;
    while i < f.len() {
        let c = f[i];
        let mut n = 1;
        while i + n < f.len() && f[i + n] == c {
            n += 1;
        }
        match c {
            'd' | 'h' | 'm' | 's' => {
                let (limit, exact) = if c == 'd' { (8, n > 1) } else { (2, n == 2) };
                if n > limit {
                    return Err(bad_format());
                }
                let (min, max) = if exact { (n, n) } else { (1, limit) };
                let Some(v) = read(&mut pos, min, max) else {
                    return Ok(None);
                };
                match c {
                    'd' => d = v,
                    'h' => h = v,
                    'm' => m = v,
                    _ => sec = v,
                }
            }
            'f' | 'F' => {
                if n > 7 {
                    return Err(bad_format());
                }
                let start = pos;
                let Some(v) = read(&mut pos, if c == 'f' { n } else { 0 }, n) else {
                    return Ok(None);
                };
                frac = v * 10i64.pow(7 - (pos - start) as u32);
            }
            '\'' | '"' => {
                let mut j = i + 1;
                while j < f.len() && f[j] != c {
                    if s.get(pos) != Some(&f[j]) {
                        return Ok(None);
                    }
                    pos += 1;
                    j += 1;
                }
                if j >= f.len() {
                    return Err(bad_format());
                }
                i = j + 1;
                continue;
            }
            '\\' => {
                let Some(&lit) = f.get(i + 1) else {
                    return Err(bad_format());
                };
                if s.get(pos) != Some(&lit) {
                    return Ok(None);
                }
                pos += 1;
                i += 2;
                continue;
            }
            '%' if i + 1 < f.len() && f[i + 1] != '%' => {
                i += 1;
                continue;
            }
            _ => return Err(bad_format()),
        }
        i += n;
    }
    if pos != s.len() {
        return Ok(None);
    }
    compose(d, h, m, sec, frac, at).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_format_and_parse_as_dotnet() {
        let t = TimeSpan(3661 * TICKS_PER_SECOND);
        assert_eq!(
            format_timespan_as(t, "G", 0).ok().as_deref(),
            Some("0:01:01:01.0000000")
        );
        assert_eq!(
            format_timespan_as(t, "g", 0).ok().as_deref(),
            Some("1:01:01")
        );
        assert_eq!(
            format_timespan_as(t, "c", 0).ok().as_deref(),
            Some("01:01:01")
        );
        assert_eq!(
            format_timespan_as(t, "hh\\:mm", 0).ok().as_deref(),
            Some("01:01")
        );
        assert!(format_timespan_as(t, "hh:mm", 0).is_err());
        let p = |s: &str| parse_timespan(s, 0).ok().map(format_timespan);
        assert_eq!(p("01:02:03").as_deref(), Some("01:02:03"));
        assert_eq!(p("1.02:03:04.5").as_deref(), Some("1.02:03:04.5000000"));
        assert_eq!(p(" -3 ").as_deref(), Some("-3.00:00:00"));
        assert_eq!(p("bad"), None);
        assert_eq!(p("25:00"), None);
    }
}
