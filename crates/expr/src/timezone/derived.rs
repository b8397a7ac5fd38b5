//! `GetAdjustmentRules()` of a system (IANA or Windows-id) zone. .NET 8 on Linux derives the
//! rules from the zone's TZif transitions and reports each daylight period as a rule with
//! fixed-date transitions, split at year ends when a period spans several years. gatehouse
//! follows that shape from jiff's transitions, with these documented simplifications (the
//! exact .NET 8 source could not be checked here): only daylight periods since 1900 whose
//! offsets are whole minutes, up to the end of the current year, are listed; the start
//! transition is the standard clock time daylight time starts at and the end transition the
//! daylight clock time it ends at, so a custom zone built from these rules (e.g. through
//! `FromSerializedString(ToSerializedString())`) gives the same offsets over those years.

use super::Zone;
use super::custom::{Rule, Transition};
use crate::datetime::{DateTime, DateTimeKind, TICKS_PER_DAY, TICKS_PER_SECOND, UNIX_EPOCH_TICKS};

/// 1900-01-01T00:00:00Z in Unix seconds.
const FROM_1900: i64 = -2_208_988_800;
/// At most this many transitions are read: a bound on the work of one call.
const MAX_TRANSITIONS: usize = 1_000;
const MINUTE: i64 = 60 * TICKS_PER_SECOND;

fn fixed(clock: i64) -> Transition {
    let d = DateTime(clock, DateTimeKind::Unspecified).parts();
    Transition {
        // Whole milliseconds, as a TransitionTime holds.
        time_of_day: clock.rem_euclid(TICKS_PER_DAY) / 10_000 * 10_000,
        month: d.month,
        day: d.day,
        week: 1,
        day_of_week: 0,
        fixed: true,
    }
}

fn date(clock: i64) -> DateTime {
    DateTime(clock - clock.rem_euclid(TICKS_PER_DAY), DateTimeKind::Unspecified)
}

fn year_start(year: i64) -> i64 {
    DateTime::from_parts(year, 1, 1, 0, 0, 0, 0).map_or(0, |d| d.0)
}

/// One daylight period from standard clock `start` to daylight clock `end`, split at year
/// ends (a rule's transitions recur every year, so one rule cannot span years).
fn push_period(out: &mut Vec<Rule>, start: i64, end: i64, delta: i64, base_delta: i64) {
    let rule = |s: i64, e: i64| Rule {
        date_start: date(s),
        date_end: date(e),
        daylight_delta: delta,
        start: fixed(s),
        end: fixed(e),
        base_offset_delta: base_delta,
    };
    let sy = DateTime(start, DateTimeKind::Unspecified).parts().year;
    let ey = DateTime(end, DateTimeKind::Unspecified).parts().year;
    if sy == ey {
        out.push(rule(start, end));
        return;
    }
    let last_ms = |y: i64| year_start(y + 1) - 10_000;
    out.push(rule(start, last_ms(sy)));
    if ey - sy > 1 {
        out.push(rule(year_start(sy + 1), last_ms(ey - 1)));
    }
    out.push(rule(year_start(ey), end));
}

impl Zone {
    /// The adjustment rules of a system zone (see the module comment).
    pub fn derived_rules(&self, now: DateTime) -> Vec<Rule> {
        let base = self.base_offset(now) * TICKS_PER_SECOND;
        let until = year_start(now.parts().year + 1);
        let Ok(from) = jiff::Timestamp::from_second(FROM_1900) else {
            return Vec::new();
        };
        let transitions: Vec<(i64, i64, bool)> = self
            .tz
            .following(from)
            .take(MAX_TRANSITIONS)
            .map(|t| {
                let utc = UNIX_EPOCH_TICKS + t.timestamp().as_second() * TICKS_PER_SECOND;
                let off = i64::from(t.offset().seconds()) * TICKS_PER_SECOND;
                (utc, off, t.dst().is_dst())
            })
            .take_while(|(utc, _, _)| *utc < until)
            .collect();
        let mut out = Vec::new();
        for (i, &(utc, off, dst)) in transitions.iter().enumerate() {
            if !dst || i == 0 {
                continue;
            }
            let before = transitions[i - 1].1;
            let Some(&(end_utc, after, _)) = transitions.get(i + 1) else {
                continue;
            };
            let standard = after;
            let delta = off - standard;
            if off % MINUTE != 0 || standard % MINUTE != 0 || before % MINUTE != 0 {
                continue;
            }
            push_period(&mut out, utc + before, end_utc + off, delta, standard - base);
        }
        // A rule's dates may not overlap the previous rule's: periods within one day of
        // each other are merged away by keeping the first.
        let mut kept: Vec<Rule> = Vec::with_capacity(out.len());
        for r in out {
            if kept.last().is_none_or(|p| r.date_start.0 > p.date_end.0) {
                kept.push(r);
            }
        }
        kept
    }
}
