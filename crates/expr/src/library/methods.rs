//! Instance method calls: dispatch on the receiver's type to strings, LINQ, JSON, XML, hashers,
//! regex matches and the rest.

use super::*;

pub(crate) fn call_method(
    it: &mut Interp,
    t: Value,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    // System.Object's members (crates/expr/src/library/objects.rs): GetHashCode and
    // GetTypeCode are answered for every value (no type here defines them otherwise; a Uri's
    // hash is left to its module); Equals/ToString/GetType fall back to Object's when the
    // type's own dispatcher does not define them.
    // Numbers hash by their own kind's rule (crates/expr/src/library/numeric_members.rs).
    let own_hash = t.is_number() || matches!(&t, Value::Object(Object::Net(net::Net::Uri(_))));
    if generics.is_empty()
        && ((name == "GetHashCode" && !own_hash) || name == "GetTypeCode")
        && is_object_method(name, args.len())
    {
        return object_method(it, &t, name, &args, at);
    }
    // Arrays, lists and byte arrays are held by value (never the same object as another
    // read: the interpreter answers `a.Equals(a)`); a JToken's dispatcher has its own.
    let by_value = matches!(
        &t,
        Value::Array(_) | Value::Bytes(_) | Value::Json(_) | Value::Lambda(_)
    );
    if by_value && name == "Equals" && args.len() == 1 && !matches!(t, Value::Json(_)) {
        return object_method(it, &t, name, &args, at);
    }
    if by_value || !generics.is_empty() || !is_object_method(name, args.len()) {
        return typed_method(it, t, name, generics, args, at);
    }
    // Cheap to keep: a string, a small value or a shared object.
    let receiver = t.clone();
    match typed_method(it, t, name, generics, args.clone(), at) {
        Err(Flow::Err(e)) if e.kind == "RuntimeBinderException" => {
            object_method(it, &receiver, name, &args, at).map_err(|_| Flow::Err(e))
        }
        r => r,
    }
}

/// The members of the receiver's own type.
fn typed_method(
    it: &mut Interp,
    t: Value,
    name: &str,
    generics: &[TypeRef],
    args: Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    if let Value::Object(Object::Exception(e)) = &t {
        return exception_method(e, name, at);
    }
    if let Value::Object(Object::Tuple(_)) = &t
        && name == "Equals"
    {
        return Ok(Value::Bool(values_equal(&t, a(0)?)));
    }
    if name == "GetType" {
        return Ok(Value::str(t.type_name()));
    }
    // `GetEnumerator()` and enumerators (crates/expr/src/library/enumerators.rs).
    if let Some(r) = enumerator_call(it, &t, name, &args, at) {
        return r;
    }
    if let Some(r) = io_collection_method(it, &t, name, &args, at) {
        return r;
    }
    if let Value::Json(j) = &t
        && let Some(r) = json_method(it, j, name, &args, generics, at)
    {
        return r;
    }
    if let Some(r) = lookup_call(it, &t, name, &args, at) {
        return r;
    }
    if let Value::Object(Object::JsonAux(a)) = &t
        && let Some(r) = aux_method(a, name, &args, at)
    {
        return r;
    }
    // A group of `GroupBy`: LINQ over its elements.
    if let Value::Object(Object::Record(r)) = &t
        && r.contains_key(GROUP_ITEMS)
        && name != "ToString"
    {
        return linq(it, t, name, args, at);
    }
    if let Some(ty) = generics.first() {
        if matches!(name, "OfType" | "Cast") {
            return of_type(it, t, name, ty, at);
        }
        if DEFAULTING.contains(&name) && is_sequence(&t) {
            return with_default(it, t, name, ty, args, at);
        }
    }
    if let Value::Object(Object::Comparer(k)) = &t
        && let Some(r) = comparer_method(*k, name, &args, at)
    {
        return r;
    }
    if let Some(r) = net::call_method(it, &t, name, &args, at) {
        return r;
    }
    if let Some(r) = crypto::call_method(it, &t, name, &args, at) {
        return r;
    }
    if let Value::Object(
        Object::XDocument(_)
        | Object::XElement(_)
        | Object::XAttribute(_)
        | Object::XName(_)
        | Object::XNamespace(_)
        | Object::XNode(_)
        | Object::XComparer(_),
    ) = &t
    {
        let plain: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
        // Save, WriteTo, CreateWriter … (crates/expr/src/library/xml_save.rs).
        if let Some(r) = xml_io_call(it, &t, name, generics, &plain, at) {
            return r;
        }
        if let Some(r) = xml::annotation_call(&t, name, generics, &plain, at) {
            return r;
        }
        if let Some(r) = xml_edit(it, &t, name, &plain, at) {
            return r;
        }
        if let Some(r) = xml::call(&t, name, &plain, at) {
            return r;
        }
    }
    if name == "RemoveWhere"
        && let Some(r) = hash_set_remove_where(it, &t, &args, at)
    {
        return r;
    }
    if let Value::Object(Object::Io(io)) = &t {
        // LINQ over a queue or stack runs on a copy of its items, the object unlocked: a
        // lambda may look at the object again.
        let items = builder_items(&io.state());
        if let Some(items) = items
            && !builder_own_method(name)
        {
            return linq(it, Value::Array(items), name, args, at);
        }
        let mut state = io.state();
        if let Some(r) = builder_call(it, &t, &mut state, name, &args, at) {
            return r;
        }
        if let crate::io::IoState::XmlReader(s) = &mut *state {
            return xml_reader_call(it, s, name, &args, at);
        }
        if let Some(r) = textio_call(it, &mut state, name, &args, at) {
            return r;
        }
    }
    if let Value::Array(items) = &t
        && let Some(r) = json_sequence_call(it, items, name, &args, generics, at)
    {
        return r;
    }
    // List and dictionary members (crates/expr/src/library/collection_members.rs).
    if let Some(r) = collection_method(it, &t, name, &args, at) {
        return r;
    }
    if let Some(r) = array_instance(it, &t, name, &args, at) {
        return r;
    }
    if let Value::Array(_) = &t
        && let Some(r) = list_call(it, &t, name, &args, at)
    {
        return r;
    }
    if let Value::Object(Object::Map(m)) = &t
        && let Some(v) = map_call(it, m, name, &args, at)?
    {
        return Ok(v);
    }
    Ok(match &t {
        Value::Object(Object::Context(path)) => {
            return context_call(it, path, name, generics, args, at);
        }
        Value::String(s) => return string_method(it, s, name, args, at),
        Value::Object(Object::Body(b)) if name == "As" => {
            return body_as(it, b.clone(), generics, at);
        }
        Value::Object(Object::Body(b)) if name == "AsFormUrlEncodedContent" => {
            return form_decode(it, b, at);
        }
        Value::Object(Object::Encoding(e)) => {
            return encoding_method(it, *e, name, &args, at)?
                .ok_or_else(|| no_member(&t, name, at));
        }
        Value::Object(Object::Dictionary(d)) | Value::Object(Object::Record(d))
            if matches!(name, "GetValueOrDefault" | "ContainsKey") =>
        {
            let key = as_str(a(0)?, at)?;
            let found = dict_get(d, &key);
            if name == "ContainsKey" {
                Value::Bool(found.is_some())
            } else {
                let default = args.get(1).map(|(_, v)| v.clone());
                match (found, generics.first()) {
                    (Some(v), Some(ty)) => cast(v, ty, at)?,
                    // A multi-valued entry (a JWT's claims): APIM's GetValueOrDefault(name[,
                    // string]) joins the values with commas; .NET's own, with a string[]
                    // default, gives the array.
                    (Some(Value::Array(items)), None)
                        if !matches!(default, Some(Value::Array(_))) =>
                    {
                        let parts: Vec<String> = items.iter().map(|v| v.to_display()).collect();
                        Value::str(parts.join(","))
                    }
                    (Some(v), None) => v,
                    (None, _) => default.unwrap_or(Value::Null),
                }
            }
        }
        Value::Json(j) => match name {
            "ToString" => {
                let compact = matches!(args.first(), Some((_, Value::Enum("Formatting", 0))));
                if j.is_object() || j.is_array() {
                    Value::str(json_text(it, j, !compact, at)?)
                } else if j.is_property() && compact {
                    // `"n":v` (Formatting.None).
                    let name =
                        serde_json::to_string(&*j.name().unwrap_or_default()).unwrap_or_default();
                    let v = j.property_value().map(|v| v.to_serde()).unwrap_or(J::Null);
                    let room = it.room();
                    let text = budget::json_text(&v, false, room.saturating_sub(name.len()))
                        .ok_or_else(|| it.out_of_memory(at))?;
                    Value::str(format!("{name}:{text}"))
                } else {
                    it.charge(it.size_of(&t).saturating_mul(2), at)?;
                    Value::str(json_to_string(j))
                }
            }
            "Value" => {
                let k = a(0)?;
                let child = match j.kind() {
                    JKind::Object => j.get(&as_str(k, at)?),
                    JKind::Array => j.at(json_idx(k, j.len(), false, at)?),
                    _ => {
                        return Err(rt(
                            "InvalidOperationException",
                            "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
                            at,
                        ));
                    }
                };
                json_value_as(child.as_ref(), generics, at)?
            }
            // Into a collection as `JsonConvert.DeserializeObject<T>` reads one.
            "ToObject"
                if generics.first().is_some_and(|t| {
                    t.array > 0
                        || matches!(
                            t.name.as_str(),
                            "Dictionary" | "IDictionary" | "IReadOnlyDictionary" | "List" | "IList"
                        )
                }) =>
            {
                it.charge(it.size_of(&t), at)?;
                deserialize_as(j.to_serde(), generics, at)?
            }
            "ToObject" => json_value_as(Some(j), generics, at)?,
            "SelectToken" => {
                json_value_as(select_one(j, &as_str(a(0)?, at)?, at)?.as_ref(), &[], at)?
            }
            "SelectTokens" => {
                it.heavy(&t, at)?;
                let found = select_tokens(j, &as_str(a(0)?, at)?, at)?;
                it.charge(found.len().saturating_mul(SLOT), at)?;
                Value::Array(found.into_iter().map(Value::Json).collect())
            }
            "Children" | "Values" => {
                if !j.is_container() {
                    return Err(rt(
                        "InvalidOperationException",
                        "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
                        at,
                    ));
                }
                let children = j.children();
                it.charge(children.len() * SLOT, at)?;
                match (name, generics.first()) {
                    // `Children<T>()`: the children that are `T` (Newtonsoft's OfType).
                    ("Children", Some(ty)) => Value::Array(
                        children
                            .into_iter()
                            .map(Value::Json)
                            .filter(|v| is_instance(v, ty))
                            .collect(),
                    ),
                    ("Children", None) => {
                        Value::Array(children.into_iter().map(Value::Json).collect())
                    }
                    // `Values<T>()` (JContainer's): each child converted to `T`.
                    (_, Some(ty)) => Value::Array(
                        children
                            .into_iter()
                            .map(|c| convert_token(c, ty, at))
                            .collect::<F<Vec<_>>>()?,
                    ),
                    // `Values()` is the Extensions method over the children.
                    (_, None) => Value::Array(
                        token_values(children.iter())
                            .into_iter()
                            .map(Value::Json)
                            .collect(),
                    ),
                }
            }
            "ContainsKey" => Value::Bool(j.property(&as_str(a(0)?, at)?).is_some()),
            "GetValue" => json_value_as(j.get(&as_str(a(0)?, at)?).as_ref(), &[], at)?,
            "Property" => j
                .property(&as_str(a(0)?, at)?)
                .map_or(Value::Null, Value::Json),
            "Properties" => {
                let props = j.children();
                it.charge(props.len() * SLOT, at)?;
                Value::Array(
                    props
                        .into_iter()
                        .filter(|p| p.is_property())
                        .map(Value::Json)
                        .collect(),
                )
            }
            "DeepClone" => {
                it.charge(it.size_of(&t), at)?;
                Value::Json(j.deep_clone())
            }
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            _ => return linq(it, t, name, args, at),
        },
        Value::DateTimeOffset(d) => return offset_method(it, *d, name, args, at),
        Value::Object(Object::TimeZone(z)) => {
            let z = z.clone();
            return timezone_member(it, &z, name, &args, at);
        }
        Value::DateTime(d) => match name {
            "ToString" => Value::str(format_datetime(
                *d,
                &args
                    .first()
                    .map(|(_, f)| f.to_display())
                    .unwrap_or_default(),
            )),
            // Local time is UTC here: converting changes the kind, not the ticks (an
            // Unspecified time counts as local for one, as UTC for the other, as in .NET).
            "ToUniversalTime" => Value::DateTime(d.with_kind(DateTimeKind::Utc)),
            "ToLocalTime" => Value::DateTime(d.with_kind(DateTimeKind::Local)),
            "AddTicks" | "AddMilliseconds" | "AddSeconds" | "AddMinutes" | "AddHours"
            | "AddDays" => {
                let unit = match name {
                    "AddTicks" => 1.0,
                    "AddMilliseconds" => 10_000.0,
                    "AddSeconds" => TICKS_PER_SECOND as f64,
                    "AddMinutes" => 60.0 * TICKS_PER_SECOND as f64,
                    "AddHours" => 3600.0 * TICKS_PER_SECOND as f64,
                    _ => TICKS_PER_DAY as f64,
                };
                let delta = as_f64(a(0)?, at)? * unit;
                if !delta.is_finite() || delta.abs() > MAX_TICKS as f64 {
                    return Err(arg_range(
                        "The added or subtracted value results in an un-representable DateTime.",
                        at,
                    ));
                }
                add_ticks(*d, delta.round() as i64, at)?
            }
            "AddMonths" | "AddYears" => {
                let n = as_int(a(0)?, at)?;
                let months = if name == "AddYears" {
                    n.saturating_mul(12)
                } else {
                    n
                };
                let p = d.parts();
                let total = (p.year * 12 + p.month - 1).saturating_add(months);
                let (y, m) = (total.div_euclid(12), total.rem_euclid(12) + 1);
                let day = p.day.min(days_in_month(y, m));
                let nd = DateTime::from_parts(y, m, day, p.hour, p.minute, p.second, p.fraction)
                    .ok_or_else(|| arg_range("The added or subtracted value results in an un-representable DateTime.", at))?;
                Value::DateTime(nd.with_kind(d.1))
            }
            "Add" => match a(0)? {
                Value::TimeSpan(ts) => add_ticks(*d, ts.0, at)?,
                v => return Err(cast_err(v, "System.TimeSpan", at)),
            },
            "Subtract" => match a(0)? {
                Value::TimeSpan(ts) => add_ticks(*d, ts.0.saturating_neg(), at)?,
                Value::DateTime(o) => Value::TimeSpan(TimeSpan(d.0 - o.0)),
                v => return Err(cast_err(v, "System.DateTime", at)),
            },
            // Local time is UTC, which has no daylight time.
            "IsDaylightSavingTime" => Value::Bool(false),
            "ToUnixTimeSeconds" => Value::Long(d.unix_seconds()),
            "ToUnixTimeMilliseconds" => Value::Long((d.0 - UNIX_EPOCH_TICKS).div_euclid(10_000)),
            "CompareTo" => Value::Int(match a(0)? {
                Value::DateTime(o) => d.cmp(o) as i64,
                v => return Err(cast_err(v, "System.DateTime", at)),
            }),
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            _ => return Err(no_member(&t, name, at)),
        },
        Value::TimeSpan(ts) => match name {
            "ToString" => Value::str(match args.first() {
                Some((_, f)) if !f.is_null() => format_timespan_as(*ts, &as_str(f, at)?, at)?,
                _ => format_timespan(*ts),
            }),
            "Negate" => Value::TimeSpan(TimeSpan(ts.0.checked_neg().ok_or_else(|| {
                rt(
                    "OverflowException",
                    "Negating the minimum value of a twos complement number is invalid.",
                    at,
                )
            })?)),
            _ => match timespan_method(*ts, name, &args, at) {
                Some(r) => r?,
                None => return Err(no_member(&t, name, at)),
            },
        },
        Value::Guid(g) => match name {
            "ToString" => Value::str(format_guid_as(
                *g,
                &args
                    .first()
                    .map(|(_, f)| f.to_display())
                    .unwrap_or_default(),
            )),
            "ToByteArray" => {
                // .NET's mixed-endian layout: the first three groups are little-endian.
                let b = g.to_be_bytes();
                let mut o = b;
                o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
                o[4..6].copy_from_slice(&[b[5], b[4]]);
                o[6..8].copy_from_slice(&[b[7], b[6]]);
                Value::Bytes(o.to_vec())
            }
            "Equals" => Value::Bool(values_equal(&t, a(0)?)),
            "CompareTo" => return guid_compare_to(*g, a(0)?, at),
            _ => return Err(no_member(&t, name, at)),
        },
        v if v.is_number()
            && let Some(r) = numeric_members::instance_method(v, name, &args, at) =>
        {
            r?
        }
        Value::Enum(ty, x) if let Some(r) = enum_method(ty, *x, name, &args, at) => r?,
        v if v.is_number() || matches!(v, Value::Bool(_) | Value::Char(_)) => match name {
            "ToString" => Value::str(format_value(
                &t,
                args.first().map(|(_, f)| f.to_display()).as_deref(),
                at,
            )?),
            // Object's Equals: `1.Equals(1.0)` is false (crates/expr/src/library/objects.rs).
            "Equals" => Value::Bool(object_equals(&t, a(0)?)),
            "GetValueOrDefault" => t.clone(),
            "CompareTo" => Value::Int(cmp_values(&t, a(0)?).map(|o| o as i64).unwrap_or(1)),
            _ => return Err(no_member(&t, name, at)),
        },
        // LINQ to XML's extension methods on sequences of elements:
        // `doc.Root.Elements("a").Elements("b")` flattens, in document order.
        Value::Array(items)
            if name == "Remove"
                && args.is_empty()
                && let Some(r) = xml_sequence_remove(items, at) =>
        {
            r?
        }
        Value::Array(items)
            if let Some(r) = xml::sequence_call(
                items,
                name,
                &args.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
                at,
            ) =>
        {
            r?
        }
        Value::Bytes(_)
        | Value::Array(_)
        | Value::Object(Object::Dictionary(_))
        | Value::Object(Object::Map(_)) => match name {
            "ToString" => Value::str(t.to_display()),
            _ => return linq(it, t, name, args, at),
        },
        Value::Object(Object::Match(m)) if name == "NextMatch" => return next_match(it, m, at),
        Value::Object(Object::Match(m)) if name == "Result" => {
            return match_result(it, m, &args, at);
        }
        Value::Object(Object::Match(m)) if name == "ToString" => Value::str(&m.value),
        Value::Object(Object::Random(r)) if name != "ToString" => {
            return random_method(r, name, &args, at)?.ok_or_else(|| no_member(&t, name, at));
        }
        Value::Object(Object::Regex(r)) => {
            if name == "ToString" {
                return Ok(Value::str(&r.pattern));
            }
            let r = r.clone();
            return regex_op(it, &r, name, a(0)?, args.get(1).map(|(_, v)| v), at)?
                .ok_or_else(|| no_member(&t, name, at));
        }
        _ if name == "ToString" => Value::str(it.text(&t, at)?),
        _ => return Err(no_member(&t, name, at)),
    })
}
