//! `TimeZoneInfo`: finding zones by Windows or IANA id, their offsets and names, and the
//! `ConvertTime…` statics. The zone rules live in crates/expr/src/timezone.rs.

use super::*;
use crate::timezone::Zone;

fn zone_value(z: Zone) -> Value {
    Value::Object(Object::TimeZone(Arc::new(z)))
}

fn not_found(id: &str, at: usize) -> Flow {
    rt(
        "TimeZoneNotFoundException",
        format!("The time zone ID '{id}' was not found on the local computer."),
        at,
    )
}

/// `FindSystemTimeZoneById(id)`, counting the zone against the memory budget.
fn find(it: &mut Interp, id: &Value, at: usize) -> F<Arc<Zone>> {
    let id = match id {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'id')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    it.charge(id.len() + 64, at)?;
    Zone::find(&id)
        .map(Arc::new)
        .ok_or_else(|| not_found(&id, at))
}

fn zone_arg(v: &Value, at: usize) -> F<Arc<Zone>> {
    match v {
        Value::Object(Object::TimeZone(z)) => Ok(z.clone()),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'destinationTimeZone')",
            at,
        )),
        v => Err(cast_err(v, "System.TimeZoneInfo", at)),
    }
}

fn seconds_span(s: i64) -> Value {
    Value::TimeSpan(TimeSpan(s * TICKS_PER_SECOND))
}

/// A DateTime or DateTimeOffset argument as the UTC instant it names (a DateTime is UTC here).
fn instant(v: &Value, at: usize) -> F<DateTime> {
    match v {
        Value::DateTime(d) => Ok(*d),
        Value::DateTimeOffset(d) => Ok(d.utc),
        v => Err(cast_err(v, "System.DateTime", at)),
    }
}

/// `dt` (or a DateTimeOffset) seen in `to`: a DateTime clock or a DateTimeOffset at its offset.
fn convert(v: &Value, to: &Zone, at: usize) -> F<Value> {
    let utc = instant(v, at)?;
    let (off, _) = to.offset_at(utc);
    let clock = DateTime::checked(utc.0 + off * TICKS_PER_SECOND)
        .ok_or_else(|| arg_range("The resulting DateTime is out of range.", at))?;
    Ok(match v {
        Value::DateTimeOffset(_) => Value::DateTimeOffset(
            DateTimeOffset::from_clock(clock, off / 60)
                .map_err(|_| arg_range("The resulting DateTimeOffset is out of range.", at))?,
        ),
        _ => Value::DateTime(clock.with_kind(kind_in(to))),
    })
}

/// The kind of a time converted into `z`: Utc in the UTC zone (which is also the gateway's
/// local zone), Unspecified in any other, as .NET's `GetCorrespondingKind`.
fn kind_in(z: &Zone) -> DateTimeKind {
    if z.is_utc() {
        DateTimeKind::Utc
    } else {
        DateTimeKind::Unspecified
    }
}

fn kind_mismatch(at: usize) -> Flow {
    rt(
        "ArgumentException",
        "The conversion could not be completed because the supplied DateTime did not have the Kind property set correctly.  For example, when the Kind property is DateTimeKind.Local, the source time zone must be TimeZoneInfo.Local. (Parameter 'sourceTimeZone')",
        at,
    )
}

/// .NET refuses a UTC or local DateTime said to be in another zone. The UTC zone stands for
/// both `TimeZoneInfo.Utc` and `TimeZoneInfo.Local` here, so it accepts either kind.
fn check_kind(v: &Value, from: &Zone, at: usize) -> F<()> {
    match v {
        Value::DateTime(d) if d.1 != DateTimeKind::Unspecified && !from.is_utc() => {
            Err(kind_mismatch(at))
        }
        _ => Ok(()),
    }
}

fn to_utc(clock: DateTime, from: &Zone, at: usize) -> F<DateTime> {
    from.to_utc(clock).ok_or_else(|| {
        rt(
            "ArgumentException",
            "The supplied DateTime represents an invalid time.  For example, when the clock is adjusted forward, any time in the period that is skipped is invalid. (Parameter 'dateTime')",
            at,
        )
    })
}

/// Static methods of `TimeZoneInfo`; `None` for a name it does not have.
pub(super) fn timezone_static(
    it: &mut Interp,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (name, args.len()) {
        ("FindSystemTimeZoneById", 1) => zone_value(find(it, a(0)?, at)?.as_ref().clone()),
        ("ConvertTimeFromUtc", 2) => {
            // The source zone is UTC, which a local time is not said to be in.
            if let Value::DateTime(d) = a(0)?
                && d.1 == DateTimeKind::Local
            {
                return Err(kind_mismatch(at));
            }
            convert(
                &Value::DateTime(instant(a(0)?, at)?),
                zone_arg(a(1)?, at)?.as_ref(),
                at,
            )?
        }
        // The source is the gateway's zone, UTC.
        ("ConvertTimeToUtc", 1) => {
            Value::DateTime(instant(a(0)?, at)?.with_kind(DateTimeKind::Utc))
        }
        ("ConvertTimeToUtc", 2) => {
            let from = zone_arg(a(1)?, at)?;
            check_kind(a(0)?, &from, at)?;
            Value::DateTime(
                to_utc(instant(a(0)?, at)?, from.as_ref(), at)?.with_kind(DateTimeKind::Utc),
            )
        }
        ("ConvertTime", 2) => convert(a(0)?, zone_arg(a(1)?, at)?.as_ref(), at)?,
        ("ConvertTime", 3) => {
            let from = zone_arg(a(1)?, at)?;
            check_kind(a(0)?, &from, at)?;
            let utc = to_utc(instant(a(0)?, at)?, from.as_ref(), at)?;
            convert(&Value::DateTime(utc), zone_arg(a(2)?, at)?.as_ref(), at)?
        }
        ("ConvertTimeBySystemTimeZoneId", 2) => {
            let to = find(it, a(1)?, at)?;
            convert(a(0)?, &to, at)?
        }
        // The zones come from the bundled database, read once: there is no cache of
        // machine settings to drop.
        ("ClearCachedData", 0) => Value::Null,
        ("GetSystemTimeZones", 0) => {
            let zones = Zone::windows_zones();
            it.charge(zones.len() * 96, at)?;
            Value::Array(zones.into_iter().map(zone_value).collect())
        }
        ("ConvertTimeBySystemTimeZoneId", 3) => {
            let (from, to) = (find(it, a(1)?, at)?, find(it, a(2)?, at)?);
            check_kind(a(0)?, &from, at)?;
            let utc = to_utc(instant(a(0)?, at)?, &from, at)?;
            convert(&Value::DateTime(utc), &to, at)?
        }
        _ => return super::custom_zones::custom_zone_static(it, name, args, at),
    }))
}

/// Static properties: `Utc`, and `Local`, which is UTC on the gateway, as is the obsolete
/// `TimeZone.CurrentTimeZone`.
pub(super) fn timezone_static_property(ty: &str, name: &str) -> Option<Value> {
    match (ty, name) {
        ("TimeZoneInfo", "Utc" | "Local") => Some(zone_value(Zone::utc())),
        ("TimeZone", "CurrentTimeZone") => Some(zone_value(Zone::current_legacy())),
        _ => None,
    }
}

/// Instance properties and methods of a `TimeZoneInfo`.
pub(super) fn timezone_member(
    it: &mut Interp,
    z: &Zone,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let now = it.ctx.now();
    let a = |i: usize| arg(args, i, at);
    let legacy_member = matches!(
        name,
        "StandardName"
            | "DaylightName"
            | "GetUtcOffset"
            | "IsDaylightSavingTime"
            | "ToLocalTime"
            | "ToUniversalTime"
            | "ToString"
            | "Equals"
            | "GetDaylightChanges"
    );
    Ok(match name {
        _ if z.legacy && !legacy_member => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.TimeZone' does not contain a definition for '{name}'"),
                at,
            ));
        }
        // The gateway's zone, UTC, has no daylight time, whose name .NET gives as "".
        "DaylightName" if z.legacy => Value::str(""),
        "Id" => Value::str(z.id.as_ref()),
        "ToString" if z.legacy => Value::str("System.CurrentSystemTimeZone"),
        "DisplayName" | "ToString" if !z.legacy => Value::str(z.display_name(now)),
        "StandardName" => Value::str(z.standard_name(now)),
        "DaylightName" => Value::str(z.daylight_name(now)),
        "BaseUtcOffset" => seconds_span(z.base_offset(now)),
        "SupportsDaylightSavingTime" => Value::Bool(z.supports_dst(now)),
        "GetUtcOffset" | "IsDaylightSavingTime" => {
            let (offset, dst) = match a(0)? {
                // An Unspecified time is a clock time in this zone: a skipped or repeated
                // one has the standard offset, as in .NET.
                Value::DateTime(d) if d.1 == DateTimeKind::Unspecified && !z.legacy => {
                    match z.offsets_of_clock(*d).as_slice() {
                        [one] => *one,
                        _ => (z.base_offset(*d), false),
                    }
                }
                v => z.offset_at(instant(v, at)?),
            };
            if name == "GetUtcOffset" {
                seconds_span(offset)
            } else {
                Value::Bool(dst)
            }
        }
        "IsAmbiguousTime" | "IsInvalidTime" | "GetAmbiguousTimeOffsets" => {
            let v = a(0)?;
            // A UTC, local or DateTimeOffset time is first seen on this zone's clock; an
            // instant is never invalid.
            let (clock, instant_given) = match v {
                Value::DateTime(d) if d.1 == DateTimeKind::Unspecified => (*d, false),
                v => {
                    let utc = instant(v, at)?;
                    let (off, _) = z.offset_at(utc);
                    let clock = DateTime::checked(utc.0 + off * TICKS_PER_SECOND)
                        .ok_or_else(|| arg_range("The resulting DateTime is out of range.", at))?;
                    (clock, true)
                }
            };
            let offsets = z.offsets_of_clock(clock);
            match name {
                "IsInvalidTime" => Value::Bool(!instant_given && offsets.is_empty()),
                "IsAmbiguousTime" => Value::Bool(offsets.len() > 1),
                _ if offsets.len() > 1 => {
                    Value::Array(offsets.iter().map(|(o, _)| seconds_span(*o)).collect())
                }
                _ => {
                    return Err(rt(
                        "ArgumentException",
                        "The supplied DateTime is not in an ambiguous time range. (Parameter 'dateTime')",
                        at,
                    ));
                }
            }
        }
        // The gateway's zone, UTC, has no daylight time: .NET's DaylightTime for that is
        // (MinValue, MinValue, Zero), for any year it accepts.
        "GetDaylightChanges" if z.legacy => {
            let year = as_int(a(0)?, at)?;
            if !(1..=9999).contains(&year) {
                return Err(arg_range(
                    "Year must be between 1 and 9999. (Parameter 'year')",
                    at,
                ));
            }
            let min = Value::DateTime(DateTime(0, DateTimeKind::Unspecified));
            let mut r = std::collections::BTreeMap::new();
            r.insert("Start".to_string(), min.clone());
            r.insert("End".to_string(), min);
            r.insert("Delta".to_string(), Value::TimeSpan(TimeSpan(0)));
            Value::Object(Object::Record(std::sync::Arc::new(r)))
        }
        // `TimeZone.CurrentTimeZone` is the gateway's zone, UTC: both directions are the same.
        "ToLocalTime" | "ToUniversalTime" if z.legacy => Value::DateTime(instant(a(0)?, at)?),
        "Equals" | "HasSameRules" => Value::Bool(match a(0)? {
            // Equals: the same id (ignoring case) and rules; HasSameRules: the rules alone.
            Value::Object(Object::TimeZone(o)) if z.custom.is_some() || o.custom.is_some() => {
                (name == "HasSameRules" || o.id.to_uppercase() == z.id.to_uppercase())
                    && super::custom_zones::same_rules(it, z, o, at)?
            }
            Value::Object(Object::TimeZone(o)) => o.id == z.id,
            _ => false,
        }),
        "GetAdjustmentRules" => super::custom_zones::adjustment_rules(it, z, at)?,
        "ToSerializedString" => Value::str(super::zone_serialization::to_serialized(it, z, at)?),
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "'{}' does not contain a definition for '{name}'",
                    if z.legacy {
                        "System.TimeZone"
                    } else {
                        "System.TimeZoneInfo"
                    }
                ),
                at,
            ));
        }
    })
}
