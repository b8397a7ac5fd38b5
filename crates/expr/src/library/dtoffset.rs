//! `DateTimeOffset` members: constructors with an offset, the clock and instant views
//! (`DateTime`, `UtcDateTime`, `Offset`), `ToOffset`, arithmetic keeping the offset, and the
//! statics (`Parse`, `FromUnixTime…`, `UtcNow`). The value itself lives in
//! crates/expr/src/datetime_offset.rs; clock fields and `Add…` reuse DateTime's members.

use super::*;
use crate::datetime::parse_with_offset;
use crate::datetime_offset::{OffsetError, offset_minutes};

fn offset_err(e: OffsetError, at: usize) -> Flow {
    rt(e.kind(), e.message(), at)
}

fn utc_range(at: usize) -> Flow {
    arg_range(
        "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')",
        at,
    )
}

fn dto(d: DateTimeOffset) -> Value {
    Value::DateTimeOffset(d)
}

/// At UTC, the gateway's local zone (crates/expr/src/datetime.rs).
/// Ticks at 1601-01-01T00:00:00Z, where Windows file times start.
const FILE_TIME_EPOCH: i64 = 504_911_232_000_000_000;

pub(crate) fn at_utc(utc: DateTime) -> Value {
    dto(DateTimeOffset { utc, offset_min: 0 })
}

fn offset_of(v: &Value, at: usize) -> F<i64> {
    match v {
        Value::TimeSpan(t) => offset_minutes(t.0).map_err(|e| offset_err(e, at)),
        v => Err(cast_err(v, "System.TimeSpan", at)),
    }
}

/// `new DateTimeOffset(...)`: `(DateTime)`, `(DateTime, offset)`, `(ticks, offset)`,
/// `(y, M, d, h, m, s, offset)` and `(y, M, d, h, m, s, ms, offset)`.
pub(super) fn construct_offset(vals: &[Value], at: usize) -> F<Value> {
    let (clock, offset) = match vals {
        [Value::DateTime(d)] => (*d, 0),
        [Value::DateTime(d), off] => {
            let off = offset_of(off, at)?;
            // A UTC or local time has its offset already (local is UTC here).
            match d.1 {
                DateTimeKind::Utc if off != 0 => {
                    return Err(rt(
                        "ArgumentException",
                        "The UTC Offset for Utc DateTime instances must be 0. (Parameter 'offset')",
                        at,
                    ));
                }
                DateTimeKind::Local if off != 0 => {
                    return Err(rt(
                        "ArgumentException",
                        "The UTC Offset of the local dateTime parameter does not match the offset argument. (Parameter 'offset')",
                        at,
                    ));
                }
                _ => (*d, off),
            }
        }
        [ticks, off] => {
            let t = as_int(ticks, at)?;
            let d = DateTime::checked(t).ok_or_else(|| {
                arg_range(
                    "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks. (Parameter 'ticks')",
                    at,
                )
            })?;
            (d, offset_of(off, at)?)
        }
        [parts @ .., off] if parts.len() == 6 || parts.len() == 7 => {
            let n: Vec<i64> = parts.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let g = |i: usize| n.get(i).copied().unwrap_or(0);
            let d = DateTime::from_parts(g(0), g(1), g(2), g(3), g(4), g(5), g(6) * 10_000)
                .ok_or_else(|| {
                    arg_range(
                        "Year, Month, and Day parameters describe an un-representable DateTime.",
                        at,
                    )
                })?;
            (d, offset_of(off, at)?)
        }
        _ => {
            return Err(rt(
                "ArgumentException",
                "unsupported DateTimeOffset constructor",
                at,
            ));
        }
    };
    Ok(dto(
        DateTimeOffset::from_clock(clock, offset).map_err(|e| offset_err(e, at))?
    ))
}

/// Instance properties; the clock fields are DateTime's, read at the offset.
pub(super) fn offset_property(
    it: &mut Interp,
    d: DateTimeOffset,
    name: &str,
    at: usize,
) -> F<Value> {
    Ok(match name {
        "Offset" => Value::TimeSpan(TimeSpan(d.offset_ticks())),
        "DateTime" => Value::DateTime(d.clock()),
        "UtcDateTime" => Value::DateTime(d.utc.with_kind(DateTimeKind::Utc)),
        "LocalDateTime" => Value::DateTime(d.utc.with_kind(DateTimeKind::Local)),
        "UtcTicks" => Value::Long(d.utc.0),
        _ => member(it, Value::DateTime(d.clock()), name, at).map_err(|e| rename(e, name, at))?,
    })
}

/// A DateTime member error names DateTimeOffset, the receiver the script used.
fn rename(e: Flow, name: &str, at: usize) -> Flow {
    match e {
        Flow::Err(ref err) if err.kind == "RuntimeBinderException" => rt(
            "RuntimeBinderException",
            format!("'System.DateTimeOffset' does not contain a definition for '{name}'"),
            at,
        ),
        e => e,
    }
}

/// Instance methods.
pub(super) fn offset_method(
    it: &mut Interp,
    d: DateTimeOffset,
    name: &str,
    args: Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    Ok(match name {
        "ToString" => Value::str(match args.first() {
            Some((_, f)) if !f.is_null() => d.format(&as_str(f, at)?),
            _ => d.format(""),
        }),
        "ToUniversalTime" | "ToLocalTime" => at_utc(d.utc),
        "ToOffset" => {
            let off = offset_of(a(0)?, at)?;
            dto(DateTimeOffset::from_utc(d.utc, off).ok_or_else(|| {
                arg_range(
                    "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')",
                    at,
                )
            })?)
        }
        "ToUnixTimeSeconds" => Value::Long(d.utc.unix_seconds()),
        "ToFileTime" => {
            let ft = d.utc.0 - FILE_TIME_EPOCH;
            if ft < 0 {
                return Err(arg_range(
                    "Not a valid Win32 FileTime. (Parameter 'fileTime')",
                    at,
                ));
            }
            Value::Long(ft)
        }
        "ToUnixTimeMilliseconds" => Value::Long((d.utc.0 - UNIX_EPOCH_TICKS).div_euclid(10_000)),
        "CompareTo" => Value::Int(match a(0)? {
            Value::DateTimeOffset(o) => d.utc.cmp(&o.utc) as i64,
            v => return Err(cast_err(v, "System.DateTimeOffset", at)),
        }),
        "Equals" => Value::Bool(values_equal(&dto(d), a(0)?)),
        "EqualsExact" => Value::Bool(match a(0)? {
            Value::DateTimeOffset(o) => d == *o,
            _ => false,
        }),
        "Subtract" => match a(0)? {
            Value::DateTimeOffset(o) => Value::TimeSpan(TimeSpan(d.utc.0 - o.utc.0)),
            Value::TimeSpan(ts) => shift(d, ts.0.saturating_neg(), at)?,
            v => return Err(cast_err(v, "System.DateTimeOffset", at)),
        },
        "Add" | "AddTicks" | "AddMilliseconds" | "AddSeconds" | "AddMinutes" | "AddHours"
        | "AddDays" | "AddMonths" | "AddYears" => {
            // .NET adds to the clock time and keeps the offset.
            match call_method(it, Value::DateTime(d.clock()), name, &[], args, at)? {
                Value::DateTime(clock) => {
                    dto(DateTimeOffset::from_clock(clock, d.offset_min)
                        .map_err(|_| utc_range(at))?)
                }
                v => v,
            }
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.DateTimeOffset' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// `d + ts`, `d - ts`: the same offset, a later or earlier instant.
pub(crate) fn shift(d: DateTimeOffset, ticks: i64, at: usize) -> F<Value> {
    d.clock()
        .0
        .checked_add(ticks)
        .and_then(DateTime::checked)
        .and_then(|c| DateTimeOffset::from_clock(c, d.offset_min).ok())
        .map(dto)
        .ok_or_else(|| {
            arg_range(
                "The added or subtracted value results in an un-representable DateTime. (Parameter 'value')",
                at,
            )
        })
}

/// Static methods; `None` for a name DateTimeOffset does not have.
pub(super) fn offset_static(name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match name {
        "Parse" => {
            let s = as_str(a(0)?, at)?;
            let (clock, offset) = parse_with_offset(&s).ok_or_else(|| {
                rt(
                    "FormatException",
                    format!("The string '{s}' was not recognized as a valid DateTime."),
                    at,
                )
            })?;
            dto(DateTimeOffset::from_clock(clock, offset.unwrap_or(0))
                .map_err(|e| offset_err(e, at))?)
        }
        "ParseExact" => {
            let s = match a(0)? {
                Value::Null => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'input')",
                        at,
                    ));
                }
                v => as_str(v, at)?,
            };
            let fmt = as_str(a(1)?, at)?;
            let (clock, offset) = parse_exact_offset(&s, &fmt).ok_or_else(|| {
                rt(
                    "FormatException",
                    "String was not recognized as a valid DateTime.",
                    at,
                )
            })?;
            dto(DateTimeOffset::from_clock(clock, offset.unwrap_or(0))
                .map_err(|e| offset_err(e, at))?)
        }
        // A Windows file time: 100 ns intervals since 1601-01-01 UTC, seen in the gateway's
        // zone (UTC).
        "FromFileTime" => {
            let ft = as_int(a(0)?, at)?;
            at_utc(
                ft.checked_add(FILE_TIME_EPOCH)
                    .and_then(DateTime::checked)
                    .filter(|_| ft >= 0)
                    .ok_or_else(|| {
                        arg_range("Not a valid Win32 FileTime. (Parameter 'fileTime')", at)
                    })?,
            )
        }
        "FromUnixTimeSeconds" => {
            let s = as_int(a(0)?, at)?;
            at_utc(DateTime::from_unix_seconds(s).ok_or_else(|| {
                arg_range(
                    "Valid values are between -62135596800 and 253402300799, inclusive. (Parameter 'seconds')",
                    at,
                )
            })?)
        }
        "FromUnixTimeMilliseconds" => {
            let ms = as_int(a(0)?, at)?;
            let t = ms
                .checked_mul(10_000)
                .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
                .and_then(DateTime::checked);
            at_utc(t.ok_or_else(|| {
                arg_range(
                    "Valid values are between -62135596800000 and 253402300799999, inclusive. (Parameter 'milliseconds')",
                    at,
                )
            })?)
        }
        "Compare" => match (a(0)?, a(1)?) {
            (Value::DateTimeOffset(x), Value::DateTimeOffset(y)) => {
                Value::Int(x.utc.cmp(&y.utc) as i64)
            }
            (v, _) => return Err(cast_err(v, "System.DateTimeOffset", at)),
        },
        _ => return Ok(None),
    }))
}

/// Static properties.
pub(super) fn offset_static_property(it: &mut Interp, name: &str) -> Option<Value> {
    Some(match name {
        "UtcNow" | "Now" => at_utc(it.ctx.now()),
        "MinValue" => at_utc(DateTime(0, DateTimeKind::Unspecified)),
        "MaxValue" => at_utc(DateTime(MAX_TICKS, DateTimeKind::Unspecified)),
        "UnixEpoch" => at_utc(DateTime(UNIX_EPOCH_TICKS, DateTimeKind::Utc)),
        _ => return None,
    })
}
