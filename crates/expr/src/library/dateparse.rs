//! `DateTime.ParseExact(s, format, provider)` with the invariant culture: the custom format's
//! fields (`yyyy`, `MM`, `dd`, `HH`, `hh`, `mm`, `ss`, `f`…, `tt`, `MMM`, `MMMM`) read from the text,
//! quoted or escaped literals and any other format char matched as they are.

use super::*;
use crate::datetime::MONTHS_LONG;

/// Reads `n` digits (exactly `n`; or 1..=max when the field is a single letter).
fn digits(s: &[char], pos: &mut usize, min: usize, max: usize) -> Option<i64> {
    let mut v = 0i64;
    let mut k = 0;
    while k < max && *pos < s.len() && s[*pos].is_ascii_digit() {
        v = v * 10 + (s[*pos] as i64 - '0' as i64);
        *pos += 1;
        k += 1;
    }
    (k >= min).then_some(v)
}

pub(super) fn parse_exact(text: &str, fmt: &str) -> Option<DateTime> {
    let (clock, offset) = parse_exact_offset(text, fmt)?;
    // An offset in the text makes the result that instant, in the gateway's zone (UTC), of
    // kind Local, as .NET converts it.
    let d = DateTime::checked(clock.0 - offset.unwrap_or(0) * 60 * TICKS_PER_SECOND)?;
    Some(match offset {
        Some(_) => d.with_kind(DateTimeKind::Local),
        None => d,
    })
}

/// `±h`, `±hh` (`z`, `zz`) or `±hh:mm` (`zzz`, `K`; `K` also reads `Z` and nothing), in minutes.
fn offset_field(s: &[char], pos: &mut usize, c: char, n: usize) -> Option<Option<i64>> {
    let neg = match s.get(*pos) {
        Some('+') => false,
        Some('-') => true,
        Some('Z') if c == 'K' => {
            *pos += 1;
            return Some(Some(0));
        }
        _ if c == 'K' => return Some(None),
        _ => return None,
    };
    *pos += 1;
    let h = digits(s, pos, if n == 1 { 1 } else { 2 }, 2)?;
    let mut m = 0;
    if c == 'K' || n >= 3 {
        if s.get(*pos) != Some(&':') {
            return None;
        }
        *pos += 1;
        m = digits(s, pos, 2, 2)?;
    }
    if h > 14 || m > 59 {
        return None;
    }
    let min = h * 60 + m;
    Some(Some(if neg { -min } else { min }))
}

/// Reads `text` as `fmt` says: the clock time and the offset the text gave (`z`, `K`).
pub(super) fn parse_exact_offset(text: &str, fmt: &str) -> Option<(DateTime, Option<i64>)> {
    let mut offset = None;
    let s: Vec<char> = text.chars().collect();
    let f: Vec<char> = fmt.chars().collect();
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut frac) = (1, 1, 1, 0, 0, 0, 0);
    let mut pm: Option<bool> = None;
    let (mut pos, mut i) = (0usize, 0usize);
    while i < f.len() {
        let c = f[i];
        let mut n = 1;
        while i + n < f.len() && f[i + n] == c {
            n += 1;
        }
        match c {
            'y' => y = digits(&s, &mut pos, if n == 1 { 1 } else { n }, n.max(4))?,
            'M' if n >= 3 => {
                let rest: String = s[pos..].iter().collect();
                let (k, name) = MONTHS_LONG.iter().enumerate().find_map(|(k, m)| {
                    let name = if n == 3 { &m[..3] } else { m };
                    rest.starts_with(name).then_some((k, name))
                })?;
                mo = k as i64 + 1;
                pos += name.chars().count();
            }
            'M' => mo = digits(&s, &mut pos, n, 2)?,
            'd' if n <= 2 => d = digits(&s, &mut pos, n, 2)?,
            'H' | 'h' => h = digits(&s, &mut pos, n.min(2), 2)?,
            'm' => mi = digits(&s, &mut pos, n.min(2), 2)?,
            's' => sec = digits(&s, &mut pos, n.min(2), 2)?,
            'f' | 'F' if n <= 7 => {
                frac = digits(&s, &mut pos, if c == 'f' { n } else { 0 }, n)?;
                frac *= 10i64.pow(7 - n as u32);
            }
            't' => {
                let rest: String = s[pos..].iter().take(2).collect();
                pm = Some(rest.starts_with('P'));
                if !(rest.starts_with('A') || rest.starts_with('P')) {
                    return None;
                }
                pos += n.min(2);
            }
            '\'' | '"' => {
                let end = f[i + 1..].iter().position(|x| *x == c)?;
                for lit in &f[i + 1..i + 1 + end] {
                    if s.get(pos) != Some(lit) {
                        return None;
                    }
                    pos += 1;
                }
                i += end + 2;
                continue;
            }
            'z' | 'K' => offset = offset_field(&s, &mut pos, c, n)?,
            '\\' => {
                if s.get(pos) != f.get(i + 1) {
                    return None;
                }
                pos += 1;
                i += 2;
                continue;
            }
            _ => {
                for _ in 0..n {
                    if s.get(pos) != Some(&c) {
                        return None;
                    }
                    pos += 1;
                }
            }
        }
        i += n;
    }
    if pos != s.len() {
        return None;
    }
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    Some((DateTime::from_parts(y, mo, d, h, mi, sec, frac)?, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_exact_reads_the_format() {
        let p =
            |s: &str, f: &str| parse_exact(s, f).map(|d| crate::datetime::format_datetime(d, "s"));
        assert_eq!(
            p("20240102", "yyyyMMdd").as_deref(),
            Some("2024-01-02T00:00:00")
        );
        assert_eq!(
            p("02.01.2024", "dd.MM.yyyy").as_deref(),
            Some("2024-01-02T00:00:00")
        );
        assert_eq!(
            p("2024-01-02T03:04:05", "yyyy-MM-dd'T'HH:mm:ss").as_deref(),
            Some("2024-01-02T03:04:05")
        );
        assert_eq!(
            p("02 Jan 2024 01:05 PM", "dd MMM yyyy hh:mm tt").as_deref(),
            Some("2024-01-02T13:05:00")
        );
        assert_eq!(p("2024010", "yyyyMMdd"), None);
        assert_eq!(
            parse_exact_offset("2024-01-02 03:04 -05:30", "yyyy-MM-dd HH:mm zzz").map(|(_, o)| o),
            Some(Some(-330))
        );
        assert_eq!(
            p("2024-01-02T03:04:05+02", "yyyy-MM-dd'T'HH:mm:sszz").as_deref(),
            Some("2024-01-02T01:04:05")
        );
        assert_eq!(p("20241302", "yyyyMMdd"), None);
    }
}
