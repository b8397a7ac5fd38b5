//! `DateTimeOffset` as .NET has it: an instant (UTC ticks) with the offset it was written in,
//! in whole minutes within ±14 hours. Equality and ordering are by instant (`==`, `CompareTo`,
//! `Equals`); the clock fields (`Hour`, `ToString()`) are those of the offset. The gateway's
//! local zone is UTC (crates/expr/src/datetime.rs), so `LocalDateTime`, `ToLocalTime` and
//! offset-less inputs use +00:00. A leaf module like crates/expr/src/datetime.rs.

use crate::datetime::{DateTime, TICKS_PER_SECOND, format_clock};

pub const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
/// .NET's bound on offsets: ±14 hours.
pub const MAX_OFFSET_MINUTES: i64 = 14 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeOffset {
    /// The instant, as UTC ticks.
    pub utc: DateTime,
    /// Minutes east of UTC.
    pub offset_min: i64,
}

/// Why an offset or a time cannot make a DateTimeOffset: the .NET exception and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetError {
    NotWholeMinutes,
    OutOfRange,
    UtcOutOfRange,
}

impl OffsetError {
    pub fn kind(self) -> &'static str {
        match self {
            OffsetError::NotWholeMinutes => "ArgumentException",
            _ => "ArgumentOutOfRangeException",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            OffsetError::NotWholeMinutes => {
                "Offset must be specified in whole minutes. (Parameter 'offset')"
            }
            OffsetError::OutOfRange => {
                "Offset must be within plus or minus 14 hours. (Parameter 'offset')"
            }
            OffsetError::UtcOutOfRange => {
                "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')"
            }
        }
    }
}

/// Minutes of an offset given as TimeSpan ticks, checked as .NET checks them.
pub fn offset_minutes(ticks: i64) -> Result<i64, OffsetError> {
    if ticks % TICKS_PER_MINUTE != 0 {
        return Err(OffsetError::NotWholeMinutes);
    }
    let min = ticks / TICKS_PER_MINUTE;
    if min.abs() > MAX_OFFSET_MINUTES {
        return Err(OffsetError::OutOfRange);
    }
    Ok(min)
}

impl DateTimeOffset {
    /// The instant whose clock reads `clock` at `offset_min` (`new DateTimeOffset(dt, offset)`).
    pub fn from_clock(clock: DateTime, offset_min: i64) -> Result<Self, OffsetError> {
        if offset_min.abs() > MAX_OFFSET_MINUTES {
            return Err(OffsetError::OutOfRange);
        }
        let utc = DateTime::checked(clock.0 - offset_min * TICKS_PER_MINUTE)
            .ok_or(OffsetError::UtcOutOfRange)?;
        Ok(DateTimeOffset { utc, offset_min })
    }

    /// The instant `utc` seen at `offset_min` (`ToOffset`); `None` when its clock would leave
    /// DateTime's range.
    pub fn from_utc(utc: DateTime, offset_min: i64) -> Option<Self> {
        DateTime::checked(utc.0 + offset_min * TICKS_PER_MINUTE)?;
        Some(DateTimeOffset { utc, offset_min })
    }

    /// The clock time at the offset (`.DateTime`).
    pub fn clock(self) -> DateTime {
        DateTime(
            self.utc.0 + self.offset_min * TICKS_PER_MINUTE,
            crate::datetime::DateTimeKind::Unspecified,
        )
    }

    pub fn offset_ticks(self) -> i64 {
        self.offset_min * TICKS_PER_MINUTE
    }

    /// `ToString(format)`, invariant culture; `""` is the default `ToString()`.
    pub fn format(self, fmt: &str) -> String {
        match fmt {
            "" | "G" => format_clock(
                self.clock(),
                "MM/dd/yyyy HH:mm:ss zzz",
                Some(self.offset_min),
            ),
            // "u" and "R" print the UTC instant, as .NET does for a DateTimeOffset.
            "u" | "R" | "r" => format_clock(self.utc, fmt, None),
            _ => format_clock(self.clock(), fmt, Some(self.offset_min)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_instant() {
        let clock = DateTime::from_parts(2024, 1, 2, 3, 4, 5, 0).expect("valid");
        let d = DateTimeOffset::from_clock(clock, 120).expect("in range");
        assert_eq!(d.clock(), clock);
        assert_eq!(d.utc.parts().hour, 1);
        assert_eq!(d.format(""), "01/02/2024 03:04:05 +02:00");
        assert_eq!(d.format("o"), "2024-01-02T03:04:05.0000000+02:00");
        assert_eq!(d.format("u"), "2024-01-02 01:04:05Z");
    }

    #[test]
    fn offsets_checked_like_dotnet() {
        assert_eq!(
            offset_minutes(30 * TICKS_PER_SECOND),
            Err(OffsetError::NotWholeMinutes)
        );
        assert_eq!(
            offset_minutes(15 * 60 * TICKS_PER_MINUTE),
            Err(OffsetError::OutOfRange)
        );
        assert_eq!(offset_minutes(-330 * TICKS_PER_MINUTE), Ok(-330));
        assert_eq!(
            DateTimeOffset::from_clock(DateTime(0, crate::datetime::DateTimeKind::Unspecified), 60),
            Err(OffsetError::UtcOutOfRange)
        );
        let neg = DateTimeOffset::from_clock(
            DateTime(0, crate::datetime::DateTimeKind::Unspecified),
            -330,
        )
        .expect("in range");
        assert_eq!(neg.format("z|zz|zzz|K"), "-5|-05|-05:30|-05:30");
    }
}
