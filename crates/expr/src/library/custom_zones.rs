//! `TimeZoneInfo.CreateCustomTimeZone` (all three overloads), `GetAdjustmentRules()` and the
//! conversions between the AdjustmentRule/TransitionTime records scripts hold
//! (crates/expr/src/library/zonerules.rs) and the rules a custom zone evaluates
//! (crates/expr/src/timezone/custom.rs).

use super::*;
use crate::timezone::Zone;
use crate::timezone::custom::{Custom, Rule, Transition};

const MAX_OFFSET: i64 = 14 * 3600 * TICKS_PER_SECOND;
const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;

fn field<'a>(r: &'a std::collections::BTreeMap<String, Value>, k: &str) -> Option<&'a Value> {
    r.get(k)
}

/// The TransitionTime a record holds.
fn transition_of(v: &Value) -> Option<Transition> {
    let Value::Object(Object::Record(r)) = v else {
        return None;
    };
    let int = |k: &str| match field(r, k) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    Some(Transition {
        time_of_day: match field(r, "TimeOfDay")? {
            Value::DateTime(d) => d.0,
            _ => return None,
        },
        month: int("Month")?,
        day: int("Day")?,
        week: int("Week")?,
        day_of_week: match field(r, "DayOfWeek")? {
            Value::Enum(_, d) => *d,
            _ => return None,
        },
        fixed: matches!(field(r, "IsFixedDateRule")?, Value::Bool(true)),
    })
}

/// The AdjustmentRule a record holds; `None` for anything else.
pub(super) fn rule_of(v: &Value) -> Option<Rule> {
    let Value::Object(Object::Record(r)) = v else {
        return None;
    };
    let span = |k: &str| match field(r, k) {
        Some(Value::TimeSpan(t)) => Some(t.0),
        _ => None,
    };
    let date = |k: &str| match field(r, k) {
        Some(Value::DateTime(d)) => Some(*d),
        _ => None,
    };
    Some(Rule {
        date_start: date("DateStart")?,
        date_end: date("DateEnd")?,
        daylight_delta: span("DaylightDelta")?,
        start: transition_of(field(r, "DaylightTransitionStart")?)?,
        end: transition_of(field(r, "DaylightTransitionEnd")?)?,
        base_offset_delta: span("BaseUtcOffsetDelta").unwrap_or(0),
    })
}

pub(super) fn transition_value(t: &Transition) -> Value {
    Value::record(vec![
        (
            "TimeOfDay",
            Value::DateTime(DateTime(t.time_of_day, DateTimeKind::Unspecified)),
        ),
        ("Month", Value::Int(t.month)),
        ("Day", Value::Int(t.day)),
        ("Week", Value::Int(t.week)),
        ("DayOfWeek", Value::Enum("DayOfWeek", t.day_of_week)),
        ("IsFixedDateRule", Value::Bool(t.fixed)),
    ])
}

pub(super) fn rule_value(r: &Rule) -> Value {
    Value::record(vec![
        ("DateStart", Value::DateTime(r.date_start)),
        ("DateEnd", Value::DateTime(r.date_end)),
        ("DaylightDelta", Value::TimeSpan(TimeSpan(r.daylight_delta))),
        ("DaylightTransitionStart", transition_value(&r.start)),
        ("DaylightTransitionEnd", transition_value(&r.end)),
        (
            "BaseUtcOffsetDelta",
            Value::TimeSpan(TimeSpan(r.base_offset_delta)),
        ),
    ])
}

fn invalid_zone(msg: &str, at: usize) -> Flow {
    rt("InvalidTimeZoneException", msg.to_string(), at)
}

/// An optional name: null reads back as "" (.NET's getters return `string.Empty`).
fn name_arg(v: &Value, at: usize) -> F<String> {
    match v {
        Value::Null => Ok(String::new()),
        v => as_str(v, at),
    }
}

/// The checks of .NET's `ValidateTimeZoneInfo`, then the zone. With daylight time disabled
/// the zone keeps its rules (offsets still follow them, as in .NET's GetUtcOffsetFromUtc)
/// but does not support daylight time (IsDaylightSavingTime is false) and its daylight name
/// is empty, as .NET's constructor sets them.
pub(super) fn build_custom(
    id: &str,
    base_offset: i64,
    names: [String; 3],
    rules: Vec<Rule>,
    disable_dst: bool,
    at: usize,
) -> F<Zone> {
    if id.is_empty() {
        return Err(rt(
            "ArgumentException",
            format!("The specified ID parameter '{id}' is not supported. (Parameter 'id')"),
            at,
        ));
    }
    if base_offset.abs() > MAX_OFFSET {
        return Err(arg_range(
            "The TimeSpan parameter must be within plus or minus 14.0 hours. (Parameter 'baseUtcOffset')",
            at,
        ));
    }
    if base_offset % TICKS_PER_MINUTE != 0 {
        return Err(rt(
            "ArgumentException",
            "The TimeSpan parameter cannot be specified more precisely than whole minutes. (Parameter 'baseUtcOffset')",
            at,
        ));
    }
    for (i, r) in rules.iter().enumerate() {
        if (base_offset + r.base_offset_delta + r.daylight_delta).abs() > MAX_OFFSET {
            return Err(invalid_zone(
                "The sum of the BaseUtcOffset and DaylightDelta properties must within plus or minus 14.0 hours.",
                at,
            ));
        }
        if i > 0 && r.date_start.0 <= rules[i - 1].date_end.0 {
            return Err(invalid_zone(
                "The elements of the AdjustmentRule array must be in chronological order and must not overlap.",
                at,
            ));
        }
    }
    let [display_name, standard_name, daylight_name] = names;
    let supports_dst = !rules.is_empty() && !disable_dst;
    Ok(Zone::custom(
        id,
        Custom {
            display_name,
            standard_name,
            daylight_name: if disable_dst {
                String::new()
            } else {
                daylight_name
            },
            base_offset,
            rules,
            supports_dst,
        },
    ))
}

/// `CreateCustomTimeZone(id, baseUtcOffset, displayName, standardDisplayName
/// [, daylightDisplayName, adjustmentRules [, disableDaylightSavingTime]])`.
fn create(it: &mut Interp, args: &Args, at: usize) -> F<Value> {
    let a = |i: usize| arg(args, i, at);
    let id = match a(0)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'id')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    let base = match a(1)? {
        Value::TimeSpan(t) => t.0,
        v => return Err(cast_err(v, "System.TimeSpan", at)),
    };
    let display = name_arg(a(2)?, at)?;
    let standard = name_arg(a(3)?, at)?;
    // The four-argument overload names daylight time as standard time and has no rules.
    let daylight = if args.len() > 4 {
        name_arg(a(4)?, at)?
    } else {
        standard.clone()
    };
    let mut rules = Vec::new();
    if args.len() > 4 {
        match a(5)? {
            Value::Null => {}
            Value::Array(items) => {
                it.charge(items.len() * 256, at)?;
                for v in items {
                    match v {
                        Value::Null => {
                            return Err(invalid_zone(
                                "The AdjustmentRule array cannot contain null elements.",
                                at,
                            ));
                        }
                        v => rules.push(rule_of(v).ok_or_else(|| {
                            cast_err(v, "System.TimeZoneInfo+AdjustmentRule", at)
                        })?),
                    }
                }
            }
            v => return Err(cast_err(v, "System.TimeZoneInfo+AdjustmentRule[]", at)),
        }
    }
    let disable = match args.len() {
        7 => match a(6)? {
            Value::Bool(b) => *b,
            v => return Err(cast_err(v, "System.Boolean", at)),
        },
        _ => false,
    };
    it.charge(
        id.len() + display.len() + standard.len() + daylight.len() + 128,
        at,
    )?;
    let zone = build_custom(&id, base, [display, standard, daylight], rules, disable, at)?;
    Ok(Value::Object(Object::TimeZone(Arc::new(zone))))
}

/// The statics of custom zones; `None` for another name or arity.
pub(super) fn custom_zone_static(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    Ok(Some(match (name, args.len()) {
        ("CreateCustomTimeZone", 4 | 6 | 7) => create(it, args, at)?,
        ("FromSerializedString", 1) => {
            let zone = super::zone_serialization::from_serialized(it, arg(args, 0, at)?, at)?;
            Value::Object(Object::TimeZone(Arc::new(zone)))
        }
        _ => return Ok(None),
    }))
}

/// A zone's adjustment rules: a custom zone's own (a copy, as .NET's array is), and those
/// derived from the database for a system zone (crates/expr/src/timezone/derived.rs).
pub(super) fn zone_rules(it: &mut Interp, z: &Zone, at: usize) -> F<Vec<Rule>> {
    let rules = match &z.custom {
        Some(c) => c.rules.clone(),
        None => {
            // Deriving walks up to a couple of thousand transitions: a bounded but real cost.
            it.check_time(at)?;
            z.derived_rules(it.ctx.now())
        }
    };
    it.charge(rules.len() * 256, at)?;
    Ok(rules)
}

/// `GetAdjustmentRules()`.
pub(super) fn adjustment_rules(it: &mut Interp, z: &Zone, at: usize) -> F<Value> {
    let rules = zone_rules(it, z, at)?;
    Ok(Value::Array(rules.iter().map(rule_value).collect()))
}

/// `HasSameRules`: the same base offset, daylight support and rules (ids aside), as .NET.
pub(super) fn same_rules(it: &mut Interp, a: &Zone, b: &Zone, at: usize) -> F<bool> {
    let now = it.ctx.now();
    if a.custom.is_none() && b.custom.is_none() {
        return Ok(a.id == b.id);
    }
    Ok(a.base_offset(now) == b.base_offset(now)
        && a.supports_dst(now) == b.supports_dst(now)
        && zone_rules(it, a, at)? == zone_rules(it, b, at)?)
}
