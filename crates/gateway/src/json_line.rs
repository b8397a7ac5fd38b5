//! The pieces of a JSON log line, shared by the binary's log format (crates/cli/src/json_log.rs)
//! and the access log's direct path (crates/gateway/src/access_log.rs), so both write the same
//! bytes: JSON string escaping and the RFC 3339 timestamp.

use std::cell::Cell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `s` escaped as JSON requires (without the quotes).
pub fn write_escaped(w: &mut impl Write, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        w.write_str(&s[start..i])?;
        if esc.is_empty() {
            write!(w, "\\u{b:04x}")?;
        } else {
            w.write_str(esc)?;
        }
        start = i + 1;
    }
    w.write_str(&s[start..])
}

/// Writes `s` as a JSON string.
pub fn write_json_str(w: &mut impl Write, s: &str) -> fmt::Result {
    w.write_char('"')?;
    write_escaped(w, s)?;
    w.write_char('"')
}

thread_local! {
    /// The second last written on this thread and its `YYYY-MM-DDTHH:MM:SS.` (20 bytes): a
    /// log line per request mostly falls in the same second as the one before.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// RFC 3339 in UTC with microseconds: `2026-11-23T16:01:38.512889Z`.
pub fn write_timestamp(w: &mut impl Write, now: SystemTime) -> fmt::Result {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (cached, mut prefix) = SECOND.get();
    if cached != secs {
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, day) = civil_from_days(days as i64);
        let mut s = String::with_capacity(20);
        write!(
            s,
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
        )?;
        // Years past 9999 would not fit: written without the cache.
        let Ok(bytes) = <[u8; 20]>::try_from(s.as_bytes()) else {
            w.write_str(&s)?;
            return write_micros(w, d.subsec_micros());
        };
        prefix = bytes;
        SECOND.set((secs, prefix));
    }
    // The prefix holds only ASCII digits and punctuation.
    w.write_str(std::str::from_utf8(&prefix).unwrap_or_default())?;
    write_micros(w, d.subsec_micros())
}

/// The six digits of the microseconds and the `Z`.
fn write_micros(w: &mut impl Write, micros: u32) -> fmt::Result {
    let mut digits = *b"000000Z";
    let mut v = micros;
    for slot in digits[..6].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    w.write_str(std::str::from_utf8(&digits).unwrap_or_default())
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let mut s = String::new();
        write_timestamp(
            &mut s,
            UNIX_EPOCH + Duration::from_micros(1_795_449_698_512_889),
        )
        .unwrap();
        assert_eq!(s, "2026-11-23T16:01:38.512889Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_secs(951_782_400)).unwrap();
        assert_eq!(s, "2000-02-29T00:00:00.000000Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH).unwrap();
        assert_eq!(s, "1970-01-01T00:00:00.000000Z");
        // The same second again (from the thread's cache), then the next one.
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_micros(7)).unwrap();
        assert_eq!(s, "1970-01-01T00:00:00.000007Z");
        s.clear();
        write_timestamp(&mut s, UNIX_EPOCH + Duration::from_micros(1_999_999)).unwrap();
        assert_eq!(s, "1970-01-01T00:00:01.999999Z");
    }

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }
}
