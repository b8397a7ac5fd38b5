//! The rules of a custom time zone (`TimeZoneInfo.CreateCustomTimeZone`,
//! `FromSerializedString`): a base offset and .NET adjustment rules, evaluated as .NET's
//! `TimeZoneInfo` does (GetUtcOffsetFromUtc, GetDaylightTime, TransitionTimeToDateTime,
//! CheckIsDst). A rule holds over the dates DateStart..=DateEnd of the zone's standard
//! clock; within it, daylight time runs from the start transition (a standard clock time)
//! to the end transition (a daylight clock time), wrapping the year end when the start
//! comes later in the year (the southern hemisphere).

use crate::datetime::{DateTime, MAX_TICKS, TICKS_PER_DAY, days_from_civil, days_in_month};

/// `TimeZoneInfo.TransitionTime`: when daylight time starts or ends in a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Ticks since midnight (whole milliseconds).
    pub time_of_day: i64,
    pub month: i64,
    pub day: i64,
    pub week: i64,
    /// 0 = Sunday.
    pub day_of_week: i64,
    pub fixed: bool,
}

/// `TimeZoneInfo.AdjustmentRule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub date_start: DateTime,
    pub date_end: DateTime,
    /// Ticks.
    pub daylight_delta: i64,
    pub start: Transition,
    pub end: Transition,
    /// Ticks.
    pub base_offset_delta: i64,
}

impl Rule {
    /// .NET's `HasDaylightSaving`: a delta, or transitions other than the "no daylight time"
    /// markers (midnight and one millisecond past it).
    fn has_daylight_saving(&self) -> bool {
        self.daylight_delta != 0 || self.start.time_of_day != 0 || self.end.time_of_day != 10_000
    }
}

/// A custom zone: its names, base offset and rules (in chronological order, not overlapping:
/// CreateCustomTimeZone checks that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Custom {
    pub display_name: String,
    pub standard_name: String,
    pub daylight_name: String,
    /// Ticks, whole minutes within ±14 hours.
    pub base_offset: i64,
    pub rules: Vec<Rule>,
    pub supports_dst: bool,
}

/// The clock date (ticks at midnight) and year of `ticks`, clamped to DateTime's range as
/// .NET clamps a time beyond it.
fn clamp(ticks: i64) -> i64 {
    ticks.clamp(0, MAX_TICKS)
}

fn year_of(ticks: i64) -> i64 {
    DateTime(clamp(ticks), crate::datetime::DateTimeKind::Unspecified)
        .parts()
        .year
}

fn date_ticks(y: i64, m: i64, d: i64) -> i64 {
    (days_from_civil(y, m, d) + 719_162) * TICKS_PER_DAY
}

/// `DateTime.AddYears`: the same clock in another year, Feb 29 becoming Feb 28.
fn add_years(ticks: i64, years: i64) -> i64 {
    if years == 0 {
        return ticks;
    }
    let p = DateTime(clamp(ticks), crate::datetime::DateTimeKind::Unspecified).parts();
    let y = (p.year + years).clamp(1, 9999);
    let d = p.day.min(days_in_month(y, p.month));
    date_ticks(y, p.month, d) + ticks.rem_euclid(TICKS_PER_DAY)
}

/// .NET's `TransitionTimeToDateTime`: the clock time of a transition in `year`.
pub fn transition_in_year(year: i64, t: &Transition) -> i64 {
    let month = t.month.clamp(1, 12);
    if t.fixed {
        // A day past the month's end means its last day.
        let day = t.day.min(days_in_month(year, month));
        return date_ticks(year, month, day) + t.time_of_day;
    }
    let weekday = |ticks: i64| (ticks.div_euclid(TICKS_PER_DAY) + 1).rem_euclid(7);
    if t.week <= 4 {
        let first = date_ticks(year, month, 1);
        let mut delta = t.day_of_week - weekday(first);
        if delta < 0 {
            delta += 7;
        }
        delta += 7 * (t.week - 1);
        first + delta * TICKS_PER_DAY + t.time_of_day
    } else {
        let last = date_ticks(year, month, days_in_month(year, month));
        let mut delta = weekday(last) - t.day_of_week;
        if delta < 0 {
            delta += 7;
        }
        last - delta * TICKS_PER_DAY + t.time_of_day
    }
}

impl Custom {
    /// The rule whose dates hold `clock`'s date (a standard clock time), as .NET's
    /// `GetAdjustmentRuleForTime`.
    fn rule_for(&self, clock: i64) -> Option<&Rule> {
        let date = clamp(clock) - clamp(clock).rem_euclid(TICKS_PER_DAY);
        self.rules
            .iter()
            .find(|r| r.date_start.0 <= date && date <= r.date_end.0)
    }

    /// The offset (ticks) and daylight flag at a UTC instant, as .NET's `GetUtcOffsetFromUtc`.
    pub fn offset_from_utc(&self, utc: i64) -> (i64, bool) {
        let clock = utc + self.base_offset;
        let Some(rule) = self.rule_for(clock) else {
            return (self.base_offset, false);
        };
        let offset = self.base_offset + rule.base_offset_delta;
        if !rule.has_daylight_saving() {
            return (offset, false);
        }
        let year = year_of(clock);
        // The UTC instants daylight time starts and ends at: the start is a standard clock
        // time, the end a daylight one.
        let start = transition_in_year(year, &rule.start) - offset;
        let mut end = transition_in_year(year, &rule.end) - offset - rule.daylight_delta;
        // CheckIsDst: the times are compared within the start's year.
        let (sy, ey) = (year_of(start), year_of(end));
        if sy != ey {
            end = add_years(end, sy - ey);
        }
        let ty = year_of(utc);
        let time = if ty != sy {
            add_years(utc, sy - ty)
        } else {
            utc
        };
        let dst = if start > end {
            time < end || time >= start
        } else {
            time >= start && time < end
        };
        if dst {
            // A zone made with daylight time disabled keeps the offset but never reports
            // daylight time (.NET's IsDaylightSavingTime checks SupportsDaylightSavingTime).
            (offset + rule.daylight_delta, self.supports_dst)
        } else {
            (offset, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::TICKS_PER_SECOND;

    const HOUR: i64 = 3600 * TICKS_PER_SECOND;

    fn floating(h: i64, month: i64, week: i64, dow: i64) -> Transition {
        Transition {
            time_of_day: h * HOUR,
            month,
            day: 1,
            week,
            day_of_week: dow,
            fixed: false,
        }
    }

    fn eu() -> Custom {
        Custom {
            display_name: "EU".into(),
            standard_name: "S".into(),
            daylight_name: "D".into(),
            base_offset: HOUR,
            rules: vec![Rule {
                date_start: DateTime(0, crate::datetime::DateTimeKind::Unspecified),
                date_end: DateTime(
                    date_ticks(9999, 12, 31),
                    crate::datetime::DateTimeKind::Unspecified,
                ),
                daylight_delta: HOUR,
                start: floating(2, 3, 5, 0),
                end: floating(3, 10, 5, 0),
                base_offset_delta: 0,
            }],
            supports_dst: true,
        }
    }

    #[test]
    fn last_sunday_transitions() {
        assert_eq!(
            transition_in_year(2024, &floating(2, 3, 5, 0)),
            date_ticks(2024, 3, 31) + 2 * HOUR
        );
        assert_eq!(
            transition_in_year(2024, &floating(3, 10, 5, 0)),
            date_ticks(2024, 10, 27) + 3 * HOUR
        );
        assert_eq!(
            transition_in_year(2024, &floating(2, 3, 2, 0)),
            date_ticks(2024, 3, 10) + 2 * HOUR
        );
    }

    #[test]
    fn offsets_follow_the_rule() {
        let z = eu();
        assert_eq!(z.offset_from_utc(date_ticks(2024, 1, 15)), (HOUR, false));
        assert_eq!(z.offset_from_utc(date_ticks(2024, 7, 15)), (2 * HOUR, true));
        // 2024-03-31 01:00 UTC is 03:00 daylight time.
        assert_eq!(
            z.offset_from_utc(date_ticks(2024, 3, 31) + HOUR),
            (2 * HOUR, true)
        );
        assert_eq!(
            z.offset_from_utc(date_ticks(2024, 3, 31) + HOUR - 1),
            (HOUR, false)
        );
        // 2024-10-27 01:00 UTC is 02:00 standard time again.
        assert_eq!(
            z.offset_from_utc(date_ticks(2024, 10, 27) + HOUR),
            (HOUR, false)
        );
    }
}
