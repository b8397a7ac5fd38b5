//! `TimeZoneInfo.TransitionTime` and `TimeZoneInfo.AdjustmentRule` as their factories build
//! them (`CreateFixedDateRule`, `CreateFloatingDateRule`, `CreateAdjustmentRule`), with
//! .NET's argument checks; their properties are read from the record that holds them. Both
//! are value types in .NET: two built from the same arguments are equal, as records are.
//!
//! `TimeZoneInfo.GetAdjustmentRules()` lives in crates/expr/src/library/custom_zones.rs.

use super::*;

/// The type names a script can use (the nested name, or qualified by `TimeZoneInfo`).
pub(crate) fn is_rule_type(ty: &str) -> bool {
    matches!(
        ty,
        "TransitionTime"
            | "AdjustmentRule"
            | "TimeZoneInfo.TransitionTime"
            | "TimeZoneInfo.AdjustmentRule"
    )
}

/// Whether `ty.name` is one of the factories (for `policy check`).
pub(crate) fn rule_static_exists(ty: &str, name: &str) -> bool {
    match ty.strip_prefix("TimeZoneInfo.").unwrap_or(ty) {
        "TransitionTime" => matches!(name, "CreateFixedDateRule" | "CreateFloatingDateRule"),
        "AdjustmentRule" => name == "CreateAdjustmentRule",
        _ => false,
    }
}

fn bad_arg(msg: &str, at: usize) -> Flow {
    rt("ArgumentException", msg.to_string(), at)
}

fn date_arg(v: &Value, at: usize) -> F<DateTime> {
    match v {
        Value::DateTime(d) => Ok(*d),
        v => Err(cast_err(v, "System.DateTime", at)),
    }
}

/// `TransitionTime.CreateFixedDateRule(timeOfDay, month, day)` and
/// `CreateFloatingDateRule(timeOfDay, month, week, dayOfWeek)`.
pub(super) fn transition(args: &Args, fixed: bool, at: usize) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let time = date_arg(a(0)?, at)?;
    let month = as_int(a(1)?, at)?;
    let (day, week, dow) = if fixed {
        (as_int(a(2)?, at)?, 1, Value::Enum("DayOfWeek", 0))
    } else {
        let dow = match a(3)? {
            v @ Value::Enum("DayOfWeek", _) => v.clone(),
            v => return Err(cast_err(v, "System.DayOfWeek", at)),
        };
        (1, as_int(a(2)?, at)?, dow)
    };
    if time.1 != DateTimeKind::Unspecified {
        return Err(bad_arg(
            "The supplied DateTime must have the Kind property set to DateTimeKind.Unspecified. (Parameter 'timeOfDay')",
            at,
        ));
    }
    if !(1..=12).contains(&month) {
        return Err(arg_range(
            "The Month parameter must be in the range 1 through 12. (Parameter 'month')",
            at,
        ));
    }
    if !(1..=31).contains(&day) {
        return Err(arg_range(
            "The Day parameter must be in the range 1 through 31. (Parameter 'day')",
            at,
        ));
    }
    if !(1..=5).contains(&week) {
        return Err(arg_range(
            "The Week parameter must be in the range 1 through 5. (Parameter 'week')",
            at,
        ));
    }
    let p = time.parts();
    if p.year != 1 || p.month != 1 || p.day != 1 || time.0 % 10_000 != 0 {
        return Err(bad_arg(
            "The supplied DateTime must have the Year, Month, and Day properties set to 1.  The time cannot be specified more precisely than whole milliseconds. (Parameter 'timeOfDay')",
            at,
        ));
    }
    Ok(Value::record(vec![
        ("TimeOfDay", Value::DateTime(time)),
        ("Month", Value::Int(month)),
        ("Day", Value::Int(day)),
        ("Week", Value::Int(week)),
        ("DayOfWeek", dow),
        ("IsFixedDateRule", Value::Bool(fixed)),
    ]))
}

fn is_transition(v: &Value) -> bool {
    matches!(v, Value::Object(Object::Record(r)) if r.contains_key("IsFixedDateRule") && r.contains_key("Week"))
}

/// `AdjustmentRule.CreateAdjustmentRule(dateStart, dateEnd, daylightDelta,
/// daylightTransitionStart, daylightTransitionEnd)`.
pub(super) fn adjustment(args: &Args, at: usize) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let (start, end) = (date_arg(a(0)?, at)?, date_arg(a(1)?, at)?);
    let delta = match a(2)? {
        Value::TimeSpan(t) => *t,
        v => return Err(cast_err(v, "System.TimeSpan", at)),
    };
    let (ts, te) = (a(3)?.clone(), a(4)?.clone());
    for t in [&ts, &te] {
        if !is_transition(t) {
            return Err(cast_err(t, "System.TimeZoneInfo+TransitionTime", at));
        }
    }
    for (d, param) in [(start, "dateStart"), (end, "dateEnd")] {
        if d.1 == DateTimeKind::Local {
            return Err(bad_arg(
                &format!(
                    "The supplied DateTime must have the Kind property set to DateTimeKind.Unspecified or DateTimeKind.Utc. (Parameter '{param}')"
                ),
                at,
            ));
        }
    }
    if ts == te && delta.0 != 0 {
        return Err(bad_arg(
            "The DaylightTransitionStart property must not equal the DaylightTransitionEnd property. (Parameter 'daylightTransitionEnd')",
            at,
        ));
    }
    if start.0 > end.0 {
        return Err(bad_arg(
            "The DateStart property must come before the DateEnd property. (Parameter 'dateStart')",
            at,
        ));
    }
    if delta.0.unsigned_abs() > 14 * 3600 * TICKS_PER_SECOND as u64 {
        return Err(arg_range(
            "The TimeSpan parameter must be within plus or minus 14.0 hours. (Parameter 'daylightDelta')",
            at,
        ));
    }
    if delta.0 % (60 * TICKS_PER_SECOND) != 0 {
        return Err(bad_arg(
            "The TimeSpan parameter cannot be specified more precisely than whole minutes. (Parameter 'daylightDelta')",
            at,
        ));
    }
    for (d, edge, param) in [(start, 0, "dateStart"), (end, MAX_TICKS, "dateEnd")] {
        if d.0 != edge && d.1 == DateTimeKind::Unspecified && d.0 % TICKS_PER_DAY != 0 {
            return Err(bad_arg(
                &format!(
                    "The supplied DateTime includes a TimeOfDay setting.   This is not supported. (Parameter '{param}')"
                ),
                at,
            ));
        }
    }
    Ok(Value::record(vec![
        ("DateStart", Value::DateTime(start)),
        ("DateEnd", Value::DateTime(end)),
        ("DaylightDelta", Value::TimeSpan(delta)),
        ("DaylightTransitionStart", ts),
        ("DaylightTransitionEnd", te),
        ("BaseUtcOffsetDelta", Value::TimeSpan(TimeSpan(0))),
    ]))
}

/// The factories; `None` for another type or name.
pub(crate) fn rule_static(ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    if !rule_static_exists(ty, name) {
        return Ok(None);
    }
    Ok(Some(match name {
        "CreateFixedDateRule" => transition(args, true, at)?,
        "CreateFloatingDateRule" => transition(args, false, at)?,
        _ => adjustment(args, at)?,
    }))
}
