//! `TimeSpan` as .NET has it beyond ticks: its format strings (`c`, `g`, `G` and custom
//! `hh\:mm\:ss`), `TimeSpan.Parse`, and the range constants. Invariant culture.

use super::*;

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
