//! `GetAdjustmentRules()` of a system (IANA or Windows-id) zone, as .NET 8 on Linux derives
//! them (dotnet/runtime TimeZoneInfo.Unix.cs): one internal rule per TZif period —
//! `MinValue` to the first transition with the first standard offset, each period between
//! two transitions with its own offset, and after the last transition either the POSIX
//! footer's recurring rule or the last period's offset to `MaxValue` — then the public form:
//! standard periods at the base offset are left out, a period's dates become clock dates
//! (the start at the base offset, the end at the base offset plus the daylight delta) with
//! fixed-date transitions, and a period spanning several years is split at year ends.
//!
//! jiff holds the transitions and offsets but not the TZif file itself, so two things are
//! reconstructed, and documented here: the explicit transitions are taken up to the end of
//! 2037, as a "fat" TZif file lists them (the tzdata this machine's Mono reads does); and
//! the POSIX footer's recurring rule is read back from the transitions jiff computes with
//! it after 2037 (month, week — 5 for "last" —, day of week, and the clock time).

use super::Zone;
use super::custom::{Rule, Transition};
use crate::datetime::{
    DateTime, DateTimeKind, MAX_TICKS, TICKS_PER_DAY, TICKS_PER_SECOND, UNIX_EPOCH_TICKS,
    days_in_month,
};

/// At most this many transitions are read: a bound on the work of one call.
const MAX_TRANSITIONS: usize = 2_000;
const MINUTE: i64 = 60 * TICKS_PER_SECOND;
const MS: i64 = 10_000;
/// The last year a fat TZif file lists transitions for.
const LAST_EXPLICIT_YEAR: i64 = 2037;

/// A TZif period: from `start` (UTC ticks; `None` for DateTime.MinValue) at `offset`.
#[derive(Clone, Copy)]
struct Period {
    start: Option<i64>,
    offset: i64,
    dst: bool,
}

/// .NET's `TZif_CalculateTransitionOffsetFromBase`: the difference, truncated to minutes.
fn from_base(offset: i64, base: i64) -> i64 {
    let d = offset - base;
    d - d % MINUTE
}

fn fixed_at(clock: i64) -> Transition {
    let p = DateTime(clock, DateTimeKind::Unspecified).parts();
    Transition {
        // GetTimeOnlyInMillisecondsPrecision.
        time_of_day: clock.rem_euclid(TICKS_PER_DAY) / MS * MS,
        month: p.month,
        day: p.day,
        week: 1,
        day_of_week: 0,
        fixed: true,
    }
}

fn date_of(clock: i64) -> DateTime {
    DateTime(
        clock - clock.rem_euclid(TICKS_PER_DAY),
        DateTimeKind::Unspecified,
    )
}

fn year_of(clock: i64) -> i64 {
    DateTime(clock, DateTimeKind::Unspecified).parts().year
}

fn year_start(year: i64) -> i64 {
    DateTime::from_parts(year.clamp(1, 9999), 1, 1, 0, 0, 0, 0).map_or(0, |d| d.0)
}

/// A period as public rules from clock `start` to clock `end` (fixed-date transitions),
/// split at year ends when it spans several years.
fn push_fixed(out: &mut Vec<Rule>, start: i64, end: i64, delta: i64, base_delta: i64) {
    if end < start {
        return;
    }
    let rule = |s: i64, e: i64| Rule {
        date_start: date_of(s),
        date_end: date_of(e),
        daylight_delta: delta,
        start: fixed_at(s),
        end: fixed_at(e),
        base_offset_delta: base_delta,
    };
    let (sy, ey) = (year_of(start), year_of(end));
    if sy == ey {
        out.push(rule(start, end));
        return;
    }
    out.push(rule(start, year_start(sy + 1) - MS));
    if ey - sy > 1 {
        out.push(rule(year_start(sy + 1), year_start(ey) - MS));
    }
    out.push(rule(year_start(ey), end));
}

impl Zone {
    fn transitions_from(&self, from: jiff::Timestamp, until_year: i64) -> Vec<Period> {
        let until = year_start(until_year + 1);
        self.tz
            .following(from)
            .take(MAX_TRANSITIONS)
            .map(|t| Period {
                start: Some(UNIX_EPOCH_TICKS + t.timestamp().as_second() * TICKS_PER_SECOND),
                offset: i64::from(t.offset().seconds()) * TICKS_PER_SECOND,
                dst: t.dst().is_dst(),
            })
            // A "big bang" transition before year 1 has no DateTime (.NET skips it too).
            .skip_while(|p| p.start.is_some_and(|s| s < 0))
            .take_while(|p| p.start.is_some_and(|s| s < until))
            .collect()
    }

    /// The POSIX footer's daylight rule, read back from the transitions after the explicit
    /// ones: (start, end, daylight offset, standard offset); `None` without daylight time.
    fn recurring_rule(&self) -> Option<(Transition, Transition, i64, i64)> {
        let from = jiff::Timestamp::from_second(
            (year_start(LAST_EXPLICIT_YEAR + 1) - UNIX_EPOCH_TICKS) / TICKS_PER_SECOND,
        )
        .ok()?;
        let later = self.transitions_from(from, LAST_EXPLICIT_YEAR + 8);
        let into = later.iter().position(|p| p.dst)?;
        let std_offset = if into > 0 {
            later[into - 1].offset
        } else {
            self.offset_at(DateTime(
                year_start(LAST_EXPLICIT_YEAR + 1),
                DateTimeKind::Utc,
            ))
            .0 * TICKS_PER_SECOND
        };
        let dst_offset = later[into].offset;
        // Each transition's clock time: a start on the standard clock, an end on the
        // daylight clock (the clock before the change, as POSIX rules give it).
        let floating = |dst: bool| -> Option<Transition> {
            let clocks: Vec<i64> = later
                .iter()
                .filter(|p| p.dst == dst)
                .filter_map(|p| Some(p.start? + if dst { std_offset } else { dst_offset }))
                .collect();
            let first = DateTime(*clocks.first()?, DateTimeKind::Unspecified).parts();
            let last_in_month = clocks.iter().all(|c| {
                let p = DateTime(*c, DateTimeKind::Unspecified).parts();
                p.day + 7 > days_in_month(p.year, p.month)
            });
            Some(Transition {
                time_of_day: clocks[0].rem_euclid(TICKS_PER_DAY) / MS * MS,
                month: first.month,
                day: 1,
                week: if last_in_month {
                    5
                } else {
                    (first.day - 1) / 7 + 1
                },
                day_of_week: first.weekday,
                fixed: false,
            })
        };
        Some((floating(true)?, floating(false)?, dst_offset, std_offset))
    }

    /// The adjustment rules of a system zone (see the module comment).
    pub fn derived_rules(&self, now: DateTime) -> Vec<Rule> {
        let base = self.base_offset(now) * TICKS_PER_SECOND;
        let periods = self.transitions_from(jiff::Timestamp::MIN, LAST_EXPLICIT_YEAR);
        // A zone without transitions (UTC, Etc/GMT+5…) has no rules.
        let Some(last) = periods.last().copied() else {
            return Vec::new();
        };
        // The first period: TZif's first standard type, which is the zone's earliest offset.
        let first_offset = self.offset_at(DateTime(0, DateTimeKind::Utc)).0 * TICKS_PER_SECOND;
        let mut all = vec![Period {
            start: None,
            offset: first_offset,
            dst: false,
        }];
        all.extend(periods);
        let mut out = Vec::new();
        for (i, p) in all.iter().enumerate() {
            let Some(next) = all.get(i + 1) else {
                break;
            };
            let shift = from_base(p.offset, base);
            let (delta, base_delta) = if p.dst { (shift, 0) } else { (0, shift) };
            if !p.dst && shift == 0 {
                continue;
            }
            // DateTime.MinValue stays as it is (its kind is not Utc); a transition is a UTC
            // time, seen on the clock at the base offset.
            let start = p.start.map_or(0, |s| s + base);
            let end = next.start.unwrap_or(0) - 1 + base + delta;
            push_fixed(
                &mut out,
                start.clamp(0, MAX_TICKS),
                end.clamp(0, MAX_TICKS),
                delta,
                base_delta,
            );
        }
        // After the last explicit transition.
        let from = last.start.unwrap_or(0) + base;
        match self.recurring_rule() {
            Some((start, end, dst_offset, std_offset)) => {
                let base_delta = from_base(std_offset, base);
                out.push(Rule {
                    date_start: date_of(from.clamp(0, MAX_TICKS)),
                    date_end: date_of(MAX_TICKS),
                    daylight_delta: from_base(from_base(dst_offset, base), base_delta),
                    start,
                    end,
                    base_offset_delta: base_delta,
                });
            }
            None => {
                let shift = from_base(last.offset, base);
                let (delta, base_delta) = if last.dst { (shift, 0) } else { (0, shift) };
                if last.dst || shift != 0 {
                    push_fixed(
                        &mut out,
                        from.clamp(0, MAX_TICKS),
                        MAX_TICKS,
                        delta,
                        base_delta,
                    );
                }
            }
        }
        out
    }
}
