//! `new T(…)`: constructors of the BCL and Newtonsoft types policies build, and arrays.

use super::*;

pub(crate) fn construct(
    it: &mut Interp,
    ty: &TypeRef,
    args: Args,
    init: Option<Vec<Value>>,
    at: usize,
) -> F<Value> {
    if let Some(r) = net::construct(it, &ty.name, &args, at) {
        return r;
    }
    if let Some(r) = crypto::construct(it, &ty.name, &args, at) {
        return r;
    }
    if let Some(r) = construct_settings(&ty.name, &args, at) {
        return r;
    }
    if let Some(r) = special_construct(&ty.name, &args, at) {
        it.charge(args.iter().map(|(_, v)| it.size_of(v) + SLOT).sum(), at)?;
        return r;
    }
    // A `StringComparer` given to a dictionary or set (crates/expr/src/library/comparers.rs).
    let (args, comparer) = take_comparer(&ty.name, args, at)?;
    let vals: Vec<Value> = args.iter().map(|(_, v)| v.clone()).collect();
    if matches!(
        ty.name.as_str(),
        "JObject" | "JArray" | "JValue" | "List" | "Dictionary"
    ) {
        // A copy of what it is built from.
        let mut bytes = 0usize;
        for v in vals.iter().chain(init.iter().flatten()) {
            bytes = bytes.saturating_add(it.size_of(v) + SLOT);
        }
        it.charge(bytes, at)?;
    }
    if let Some(r) = exception_new(it, &ty.name, &vals, at) {
        return r;
    }
    if ty.name == "Tuple" {
        return reference_tuple(it, &args, at);
    }
    Ok(match ty.name.as_str() {
        "JObject" => {
            let o = JToken::new_object();
            for v in vals.iter().chain(init.iter().flatten()) {
                match v {
                    // `new JObject(other)`: a copy of its properties.
                    Value::Json(j) if j.is_object() => {
                        for p in j.children() {
                            o.insert(None, p).map_err(|e| tree_err(e, at))?;
                        }
                    }
                    Value::Json(p) if p.is_property() => {
                        o.insert(None, p.clone()).map_err(|e| tree_err(e, at))?;
                    }
                    // `{ { "k", v } }` in an initializer.
                    Value::Array(kv)
                        if kv.len() == 2
                            && matches!(kv[0], Value::String(_))
                            && !matches!(kv[1], Value::Json(ref p) if p.is_property()) =>
                    {
                        o.set_property(&kv[0].to_display(), to_token(&kv[1], at)?)
                            .map_err(|e| tree_err(e, at))?;
                    }
                    // A sequence of properties (`new JObject(o.Properties().Where(…))`).
                    Value::Array(_) => {
                        for p in content_items(v, at)? {
                            o.insert(None, p).map_err(|e| tree_err(e, at))?;
                        }
                    }
                    other => return Err(cast_err(other, "JProperty", at)),
                }
            }
            Value::Json(o)
        }
        // `new JProperty(other)`: a copy.
        "JProperty"
            if args.len() == 1 && matches!(&args[0].1, Value::Json(p) if p.is_property()) =>
        {
            match &args[0].1 {
                Value::Json(p) => Value::Json(p.deep_clone()),
                other => return Err(cast_err(other, "JProperty", at)),
            }
        }
        // `new JProperty(name, params object[] content)`: several values make an array.
        "JProperty" if args.len() > 2 => {
            let name = as_str(arg(&args, 0, at)?, at)?;
            let items = JToken::new_array();
            for (_, v) in &args[1..] {
                for x in content_items(v, at)? {
                    items.insert(None, x).map_err(|e| tree_err(e, at))?;
                }
            }
            Value::Json(JToken::new_property(&name, items).map_err(|e| tree_err(e, at))?)
        }
        "JProperty" => {
            let name = as_str(arg(&args, 0, at)?, at)?;
            let value = to_token(arg(&args, 1, at)?, at)?;
            Value::Json(JToken::new_property(&name, value).map_err(|e| tree_err(e, at))?)
        }
        "JArray" => {
            let a = JToken::new_array();
            // `new JArray(other)` copies its items; `params object[] content` is added as one
            // collection (content_items keeps Newtonsoft's order); an initializer's items are
            // each an `Add`.
            let params = match vals.as_slice() {
                [Value::Json(j)] if j.is_array() && !j.is_constructor() => j.children(),
                _ => content_items(&Value::Array(vals.clone()), at)?,
            };
            for i in params {
                a.insert(None, i).map_err(|e| tree_err(e, at))?;
            }
            for v in init.iter().flatten() {
                for i in content_items(v, at)? {
                    a.insert(None, i).map_err(|e| tree_err(e, at))?;
                }
            }
            Value::Json(a)
        }
        "JValue" => Value::Json(JToken::scalar_value(to_json(arg(&args, 0, at)?, at)?)),
        "decimal" => numeric_members::new_decimal(&args, at)?,
        "Dictionary" => {
            // A copy of a dictionary given, then the `{ { k, v }, … }` initializer's pairs.
            // The copied entries are added again under the new dictionary's comparer.
            let mut entries = Entries {
                items: Vec::new(),
                comparer,
            };
            if let Some(Value::Object(Object::Map(m))) = vals.first() {
                for (k, v) in m.iter() {
                    map_mutate(
                        &mut entries,
                        "Add",
                        vec![(None, k.clone()), (None, v.clone())],
                        at,
                    )?;
                }
            }
            for kv in init.unwrap_or_default() {
                match kv {
                    Value::Array(mut kv) if kv.len() == 2 => {
                        let v = kv.pop().unwrap_or(Value::Null);
                        let k = kv.pop().unwrap_or(Value::Null);
                        map_mutate(&mut entries, "Add", vec![(None, k), (None, v)], at)?;
                    }
                    other => return Err(cast_err(&other, "KeyValuePair", at)),
                }
            }
            map_value(entries)
        }
        "List" => {
            let mut a = match vals.first() {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            };
            a.extend(init.unwrap_or_default());
            // `new List<long> { 1, 2 }`: the elements in the list's numeric type.
            implicit(Value::Array(a), ty)
        }
        "string" => new_string(it, &vals, at)?,
        "DateTime" => {
            // A last DateTimeKind argument gives the kind.
            let (vals, kind) = match vals.split_last() {
                Some((k @ Value::Enum("DateTimeKind", _), rest)) => {
                    match DateTimeKind::from_name(&k.to_display()) {
                        Some(kind) => (rest, kind),
                        None => {
                            return Err(rt(
                                "ArgumentException",
                                "Invalid DateTimeKind value. (Parameter 'kind')",
                                at,
                            ));
                        }
                    }
                }
                _ => (&vals[..], DateTimeKind::Unspecified),
            };
            let n: Vec<i64> = vals.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let g = |i: usize| n.get(i).copied().unwrap_or(0);
            // `new DateTime(ticks[, kind])`.
            let d = if n.len() == 1 {
                DateTime::checked(g(0)).ok_or_else(|| {
                    arg_range(
                        "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks. (Parameter 'ticks')",
                        at,
                    )
                })?
            } else {
                DateTime::from_parts(g(0), g(1), g(2), g(3), g(4), g(5), g(6) * 10_000)
                    .ok_or_else(|| {
                        arg_range(
                            "Year, Month, and Day parameters describe an un-representable DateTime.",
                            at,
                        )
                    })?
            };
            Value::DateTime(d.with_kind(kind))
        }
        "DateTimeOffset" => construct_offset(&vals, at)?,
        "TimeSpan" => {
            let n: Vec<i64> = vals.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let secs = match n.as_slice() {
                [t] => return Ok(Value::TimeSpan(TimeSpan(*t))),
                [h, m, s] => h * 3600 + m * 60 + s,
                [d, h, m, s] => d * 86_400 + h * 3600 + m * 60 + s,
                // (days, hours, minutes, seconds, milliseconds)
                [d, h, m, s, ms] => {
                    let secs = d
                        .saturating_mul(86_400)
                        .saturating_add(h.saturating_mul(3600))
                        .saturating_add(m.saturating_mul(60))
                        .saturating_add(*s);
                    let ticks = secs
                        .checked_mul(TICKS_PER_SECOND)
                        .and_then(|t| t.checked_add(ms.checked_mul(10_000)?))
                        .ok_or_else(|| {
                            rt(
                                "ArgumentOutOfRangeException",
                                "The TimeSpan could not be parsed because at least one of the numeric components is out of range.",
                                at,
                            )
                        })?;
                    return Ok(Value::TimeSpan(TimeSpan(ticks)));
                }
                _ => {
                    return Err(rt(
                        "ArgumentException",
                        "unsupported TimeSpan constructor",
                        at,
                    ));
                }
            };
            Value::TimeSpan(TimeSpan(secs.saturating_mul(TICKS_PER_SECOND)))
        }
        "Random" => {
            it.charge(RANDOM_BYTES, at)?;
            new_random(vals.first(), at)?
        }
        "Regex" => {
            let pattern = as_str(vals.first().ok_or_else(|| null_ref(at))?, at)?;
            let options = match vals.get(1) {
                Some(o) => as_int(o, at)?,
                None => 0,
            };
            // Compiled once here so that a bad pattern fails where C# fails: at construction.
            compile_regex(&pattern, options, at)?;
            it.charge(pattern.len() + SLOT, at)?;
            Value::Object(Object::Regex(Arc::new(RegexSpec { pattern, options })))
        }
        "Guid" => match vals.first() {
            // `new Guid(byte[16])`: .NET's mixed-endian layout, the inverse of ToByteArray.
            Some(v @ (Value::Bytes(_) | Value::Array(_))) => {
                let b: [u8; 16] = as_bytes(v, at)?.try_into().map_err(|_| {
                    rt(
                        "ArgumentException",
                        "Byte array for Guid must be exactly 16 bytes long.",
                        at,
                    )
                })?;
                let mut o = b;
                o[0..4].copy_from_slice(&[b[3], b[2], b[1], b[0]]);
                o[4..6].copy_from_slice(&[b[5], b[4]]);
                o[6..8].copy_from_slice(&[b[7], b[6]]);
                Value::Guid(u128::from_be_bytes(o))
            }
            Some(v) => parse_guid(&as_str(v, at)?, at)?,
            None => Value::Guid(0),
        },
        other => {
            if let Some(r) = construct_textio(other, &vals, at) {
                return r;
            }
            if let Some(r) = construct_builder(it, other, &vals, init.as_deref(), comparer, at) {
                return r;
            }
            if let Some(r) = construct_xml(it, other, &vals, at) {
                return r;
            }
            if let Some(v) = construct_pair(other, &vals) {
                return Ok(v);
            }
            return Err(rt(
                "NotSupportedException",
                format!("Creating instances of '{other}' is not supported"),
                at,
            ));
        }
    })
}

pub(crate) fn new_array(
    it: &mut Interp,
    ty: Option<&TypeRef>,
    size: Option<Value>,
    items: Vec<Value>,
    at: usize,
) -> F<Value> {
    let is_byte = ty
        .map(|t| t.name == "byte" && t.array == 0)
        .unwrap_or(false);
    if let Some(size) = size {
        let n = as_int(&size, at)?;
        if !(0..=1 << 24).contains(&n) {
            return Err(rt(
                "OverflowException",
                "Arithmetic operation resulted in an overflow.",
                at,
            ));
        }
        it.charge(n as usize * if is_byte { 1 } else { SLOT }, at)?;
        if !items.is_empty() && items.len() as i64 != n {
            return Err(rt(
                "CompilationError",
                "An array initializer of the wrong length",
                at,
            ));
        }
        if is_byte {
            return Ok(Value::Bytes(if items.is_empty() {
                vec![0; n as usize]
            } else {
                as_bytes(&Value::Array(items), at)?
            }));
        }
        if items.is_empty() {
            let d = ty.map(default_of).unwrap_or(Value::Null);
            return Ok(Value::Array(vec![d; n as usize]));
        }
    }
    if is_byte {
        return Ok(Value::Bytes(as_bytes(&Value::Array(items), at)?));
    }
    // `new[] { 1L, 2 }`: C#'s best common type of the elements (long).
    let kinds: Option<Vec<crate::numeric::Kind>> = items
        .iter()
        .map(|v| {
            v.is_number()
                .then(|| crate::numeric::Num::of(v).map(|n| n.kind()))
                .flatten()
        })
        .collect();
    if ty.is_none()
        && let Some(kinds) = kinds
        && let Some(k) = crate::numeric::overload(&kinds, &kinds)
    {
        let t = TypeRef {
            name: crate::numeric::keyword(k).to_string(),
            args: Vec::new(),
            array: 0,
            nullable: false,
        };
        return Ok(Value::Array(
            items.into_iter().map(|v| implicit(v, &t)).collect(),
        ));
    }
    // `new long[] { 1, 2 }`, `new double[] { 1 }`: each element in the array's numeric type.
    if let Some(t) = ty
        && t.array == 0
        && crate::numeric::Kind::named(&t.name).is_some()
    {
        return Ok(Value::Array(
            items.into_iter().map(|v| implicit(v, t)).collect(),
        ));
    }
    Ok(Value::Array(items))
}
