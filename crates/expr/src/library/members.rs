//! Instance properties (`s.Length`, `d.Year`, `j.Count`) and static properties (`DateTime.UtcNow`).

use super::*;

pub(crate) fn member(it: &mut Interp, t: Value, name: &str, at: usize) -> F<Value> {
    // `x.Value` / `x.HasValue` of a `T?` read from an object (a JWT's ExpirationTime, a
    // subscription's EndDate): values carry no static type, and these value types have no
    // member of either name, so Nullable<T>'s members answer for a value that is there.
    if matches!(name, "Value" | "HasValue")
        && matches!(
            t,
            Value::DateTime(_)
                | Value::DateTimeOffset(_)
                | Value::TimeSpan(_)
                | Value::Int(_)
                | Value::Double(_)
                | Value::Bool(_)
                | Value::Char(_)
                | Value::Guid(_)
        )
    {
        return Ok(if name == "Value" {
            t
        } else {
            Value::Bool(true)
        });
    }
    if let Some(v) = collection_property(&t, name) {
        return Ok(v);
    }
    if let Some(r) = enumerator_current(&t, name, at) {
        return r;
    }
    if let Some(r) = xml::member(&t, name, at) {
        return r;
    }
    if let Value::Object(Object::Exception(e)) = &t {
        return exception_member(e, name, at);
    }
    if let Value::Object(Object::Tuple(tu)) = &t {
        return tu
            .member(name)
            .cloned()
            .ok_or_else(|| no_member(&t, name, at));
    }
    if let Some(r) = net::member(it, &t, name, at) {
        return r;
    }
    if let Some(r) = crypto::member(it, &t, name, at) {
        return r;
    }
    if let Value::Json(j) = &t
        && let Some(v) = json_member(j, name)
    {
        return Ok(v);
    }
    if let Value::Object(Object::JsonAux(a)) = &t
        && let Some(v) = aux_member(a, name)
    {
        return Ok(v);
    }
    Ok(match (&t, name) {
        (Value::Object(Object::Context(path)), _) => return context_member(it, path, name, at),
        (Value::Object(Object::Encoding(e)), _) => {
            return encoding_member(*e, name).ok_or_else(|| no_member(&t, name, at));
        }
        (Value::String(s), "Length") => Value::Int(s.encode_utf16().count() as i64),
        (Value::Array(a), "Length" | "Count") => Value::Int(a.len() as i64),
        (Value::Bytes(b), "Length") => Value::Int(b.len() as i64),
        (Value::Array(_) | Value::Bytes(_), "Rank") => Value::Int(1),
        (Value::Array(a), "LongLength") => Value::Long(a.len() as i64),
        (Value::Bytes(b), "LongLength") => Value::Long(b.len() as i64),
        // An array's fixed-size, writable, unsynchronized `IList`; its SyncRoot is itself.
        (Value::Array(_) | Value::Bytes(_), "IsFixedSize") => Value::Bool(true),
        (Value::Array(_) | Value::Bytes(_), "IsReadOnly" | "IsSynchronized") => Value::Bool(false),
        (Value::Array(_) | Value::Bytes(_), "SyncRoot") => {
            it.charge(it.size_of(&t), at)?;
            t.clone()
        }
        (Value::Json(j), "Count") if j.is_object() || j.is_array() => Value::Int(j.len() as i64),
        (Value::Json(j), "Type") => {
            let kind = match (j.kind(), j.scalar()) {
                (JKind::Object, _) => "Object",
                (JKind::Array, _) => "Array",
                (JKind::Property, _) => "Property",
                (_, Some(J::String(_))) => "String",
                (_, Some(J::Number(n))) if n.is_f64() => "Float",
                (_, Some(J::Number(_))) => "Integer",
                (_, Some(J::Bool(_))) => "Boolean",
                _ => "Null",
            };
            enum_member("JTokenType", kind).unwrap_or(Value::Null)
        }
        (Value::Json(j), "HasValues") => Value::Bool(j.is_container() && !j.is_empty()),
        (Value::Json(j), "First" | "Last") if !j.is_container() => {
            return Err(no_child(j, "access", at));
        }
        (Value::Json(j), _) if j.is_null() => return Err(null_ref(at)),
        (Value::Object(Object::Record(r)), _) => match r.get(name) {
            Some(v) => v.clone(),
            None => return Err(no_member(&t, name, at)),
        },
        (Value::Object(Object::Io(_)), "Capacity") if let Some(c) = builder_capacity(&t) => c,
        (Value::Object(Object::Io(io)), _) => match &*io.state() {
            crate::io::IoState::XmlReader(s) => match xml_reader_member(s, name) {
                Some(v) => v,
                None => return Err(no_member(&t, name, at)),
            },
            crate::io::IoState::Misc(m) => match misc_member(m, name, at) {
                Some(r) => r?,
                None => return Err(no_member(&t, name, at)),
            },
            crate::io::IoState::XmlReaderSettings(s) => match settings_member(s, name) {
                Some(v) => v,
                None => return Err(no_member(&t, name, at)),
            },
            other if let Some(r) = textio_member(other, name, at) => r?,
            other => match builder_member(other, name) {
                Some(v) => v,
                None => return Err(no_member(&t, name, at)),
            },
        },
        (Value::Object(Object::Map(m)), "Count" | "Keys" | "Values") => {
            map_member(m, name).unwrap_or(Value::Null)
        }
        (Value::Object(Object::Dictionary(d)), "Count") => Value::Int(d.len() as i64),
        (Value::Object(Object::Dictionary(d)), "Keys") => {
            Value::Array(d.keys().map(Value::str).collect())
        }
        (Value::Object(Object::Match(m)), _) => match name {
            "Success" => Value::Bool(m.success),
            "Value" => Value::str(&m.value),
            "Index" => Value::Int(m.index),
            "Length" => Value::Int(m.value.chars().count() as i64),
            "Groups" => groups_value(m),
            "Captures" => match_captures(m),
            _ => return Err(no_member(&t, name, at)),
        },
        (Value::DateTime(d), _) => {
            let p = d.parts();
            match name {
                "Ticks" => Value::Long(d.0),
                "Year" => Value::Int(p.year),
                "Month" => Value::Int(p.month),
                "Day" => Value::Int(p.day),
                "Hour" => Value::Int(p.hour),
                "Minute" => Value::Int(p.minute),
                "Second" => Value::Int(p.second),
                "Millisecond" => Value::Int(p.fraction / 10_000),
                "DayOfWeek" => Value::Enum("DayOfWeek", p.weekday.rem_euclid(7)),
                "DayOfYear" => Value::Int(
                    days_from_civil(p.year, p.month, p.day) - days_from_civil(p.year, 1, 1) + 1,
                ),
                "Date" => Value::DateTime(DateTime(d.0 - d.0.rem_euclid(TICKS_PER_DAY), d.1)),
                "Kind" => enum_member("DateTimeKind", d.1.name()).unwrap_or(Value::Null),
                "TimeOfDay" => Value::TimeSpan(TimeSpan(d.0.rem_euclid(TICKS_PER_DAY))),
                "UtcDateTime" | "DateTime" => t.clone(),
                _ => return Err(no_member(&t, name, at)),
            }
        }
        (Value::DateTimeOffset(d), _) => return offset_property(it, *d, name, at),
        (Value::Object(Object::TimeZone(z)), _) => {
            let z = z.clone();
            return timezone_member(it, &z, name, &Vec::new(), at);
        }
        (Value::TimeSpan(ts), _) => {
            let v = ts.0;
            let tps = TICKS_PER_SECOND;
            match name {
                "Ticks" => Value::Long(v),
                "TotalMilliseconds" => Value::Double(v as f64 / 10_000.0),
                "TotalSeconds" => Value::Double(v as f64 / tps as f64),
                "TotalMinutes" => Value::Double(v as f64 / (60 * tps) as f64),
                "TotalHours" => Value::Double(v as f64 / (3600 * tps) as f64),
                "TotalDays" => Value::Double(v as f64 / TICKS_PER_DAY as f64),
                "Days" => Value::Int(v / TICKS_PER_DAY),
                "Hours" => Value::Int(v / (3600 * tps) % 24),
                "Minutes" => Value::Int(v / (60 * tps) % 60),
                "Seconds" => Value::Int(v / tps % 60),
                "Milliseconds" => Value::Int(v / 10_000 % 1000),
                _ => return Err(no_member(&t, name, at)),
            }
        }
        _ => return Err(no_member(&t, name, at)),
    })
}

pub(crate) fn static_property(it: &mut Interp, ty: &str, name: &str, at: usize) -> F<Value> {
    // The enums' members first (crates/expr/src/library/enums.rs): every module's enum
    // arguments take them.
    if let Some(v) = enum_static_property(ty, name)
        .or_else(|| xml_static_property(ty, name))
        .or_else(|| net::static_property(ty, name))
        .or_else(|| reader_static_property(ty, name))
        .or_else(|| misc_static_property(ty, name))
        .or_else(|| textio_static_property(ty, name))
        .or_else(|| json_static_property(ty, name))
    {
        return Ok(v);
    }
    Ok(match (ty, name) {
        ("DateTimeOffset", _) if let Some(v) = offset_static_property(it, name) => v,
        (_, _) if let Some(v) = timezone_static_property(ty, name) => v,
        // The gateway's zone is UTC: local time has UTC's ticks.
        ("DateTime", "UtcNow") => Value::DateTime(it.ctx.now().with_kind(DateTimeKind::Utc)),
        ("DateTime", "Now") => Value::DateTime(it.ctx.now().with_kind(DateTimeKind::Local)),
        ("DateTime", "Today" | "UtcToday") => {
            let n = it.ctx.now();
            Value::DateTime(DateTime(
                n.0 - n.0.rem_euclid(TICKS_PER_DAY),
                DateTimeKind::Local,
            ))
        }
        ("DateTime", "MinValue") => Value::DateTime(DateTime(0, DateTimeKind::Unspecified)),
        ("DateTime", "MaxValue") => Value::DateTime(DateTime(MAX_TICKS, DateTimeKind::Unspecified)),
        ("DateTime", "UnixEpoch") => Value::DateTime(DateTime(UNIX_EPOCH_TICKS, DateTimeKind::Utc)),
        ("TimeSpan", "Zero") => Value::TimeSpan(TimeSpan(0)),
        ("TimeSpan", "MaxValue") => Value::TimeSpan(TimeSpan(i64::MAX)),
        ("TimeSpan", "MinValue") => Value::TimeSpan(TimeSpan(i64::MIN)),
        ("TimeSpan", "TicksPerDay") => Value::Long(TICKS_PER_DAY),
        ("TimeSpan", "TicksPerHour") => Value::Long(3600 * TICKS_PER_SECOND),
        ("TimeSpan", "TicksPerMinute") => Value::Long(60 * TICKS_PER_SECOND),
        ("TimeSpan", "TicksPerSecond") => Value::Long(TICKS_PER_SECOND),
        ("TimeSpan", "TicksPerMillisecond") => Value::Long(10_000),
        ("Guid", "Empty") => Value::Guid(0),
        ("Match", "Empty") => empty_match(),
        ("string", "Empty") => Value::str(""),
        ("char", "MaxValue") => Value::Char('\u{ffff}'),
        ("char", "MinValue") => Value::Char('\0'),
        _ if let Some(v) = numeric_members::static_property(ty, name) => v,
        ("Math", "PI") => Value::Double(std::f64::consts::PI),
        ("Math", "E") => Value::Double(std::f64::consts::E),
        ("StringComparer", _) if let Some(c) = comparer_static_property(ty, name) => c,
        ("Encoding", _) if let Some(e) = TextEncoding::named(name) => {
            Value::Object(Object::Encoding(e))
        }
        // The provider argument of ParseExact/ToString: only the invariant culture exists here.
        ("CultureInfo", "InvariantCulture") => Value::Null,
        _ if let Some(v) = crypto::static_property(ty, name) => v,
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'{ty}' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}
