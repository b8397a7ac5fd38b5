//! .NET composite and numeric formatting: `string.Format`, `ToString(format)` for numbers,
//! Guids and dates, and joining values as text within the memory budget.

use super::*;

/// Formats a value for `{0:fmt}` / `$"{x:fmt}"` / `ToString(fmt)`.
pub(crate) fn format_value(v: &Value, fmt: Option<&str>, at: usize) -> F<String> {
    let Some(fmt) = fmt else {
        return Ok(v.to_display());
    };
    Ok(match v {
        Value::DateTime(d) => format_datetime(*d, fmt),
        Value::DateTimeOffset(d) => d.format(fmt),
        Value::Double(d) => format_number(*d, None, fmt, at)?,
        Value::Float(f) => format_float_as(*f, fmt, at)?,
        Value::Decimal(m) => format_decimal_as(*m, fmt, at)?,
        v if v.is_number() => {
            let n = crate::numeric::Num::of(v)
                .and_then(|n| n.int())
                .unwrap_or(0);
            let bits = match v {
                Value::Byte(_) | Value::SByte(_) => 8,
                Value::Short(_) | Value::UShort(_) => 16,
                Value::Int(_) | Value::UInt(_) => 32,
                _ => 64,
            };
            format_integer_as(n, bits, fmt, at)?
        }
        Value::Guid(g) => format_guid_as(*g, fmt),
        Value::TimeSpan(t) => format_timespan_as(*t, fmt, at)?,
        Value::Enum(t, x) => enum_format(t, *x, fmt, at)?,
        other => other.to_display(),
    })
}

pub(super) fn format_guid_as(g: u128, fmt: &str) -> String {
    let d = format_guid(g);
    match fmt {
        "N" | "n" => d.replace('-', ""),
        "B" | "b" => format!("{{{d}}}"),
        "P" | "p" => format!("({d})"),
        _ => d,
    }
}

/// `string.Format` with `{index[,align][:format]}` holes and `{{`/`}}` escapes.
pub(super) fn string_format(
    interp: &mut Interp,
    fmt: &str,
    args: &[Value],
    at: usize,
) -> F<String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{');
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                loop {
                    match it.next() {
                        Some('}') => break,
                        Some(ch) => spec.push(ch),
                        None => return Err(format_err(at)),
                    }
                }
                let (head, f) = match spec.split_once(':') {
                    Some((h, f)) => (h, Some(f)),
                    None => (spec.as_str(), None),
                };
                let (idx, align) = match head.split_once(',') {
                    Some((i, a)) => (i, a.trim().parse::<i64>().ok()),
                    None => (head, None),
                };
                let idx: usize = idx.trim().parse().map_err(|_| format_err(at))?;
                let v = args.get(idx).ok_or_else(|| {
                    rt(
                        "FormatException",
                        "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
                        at,
                    )
                })?;
                let s = match f {
                    None => interp.text(v, at)?.into_owned(),
                    Some(_) => format_value(v, f, at)?,
                };
                // Padding widens a hole to at most 1000 characters.
                interp.charge(out.len() + s.len().max(4000), at)?;
                match align {
                    Some(a) if a > 0 => out.push_str(&format!("{s:>w$}", w = a.min(1000) as usize)),
                    Some(a) if a < 0 => {
                        out.push_str(&format!("{s:<w$}", w = a.unsigned_abs().min(1000) as usize))
                    }
                    _ => out.push_str(&s),
                }
            }
            '}' => return Err(format_err(at)),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// `string.Join`/`string.Concat`: the texts of `items` with `sep` between them, refused before
/// it is built when the result would not fit the memory budget.
pub(super) fn join_texts(it: &mut Interp, items: &[Value], sep: &str, at: usize) -> F<String> {
    let mut texts = Vec::with_capacity(items.len());
    let mut total = 0usize;
    for v in items {
        let t = it.text(v, at)?.into_owned();
        total = total
            .saturating_add(t.len())
            .saturating_add(sep.len())
            .saturating_add(std::mem::size_of::<String>());
        // The pieces and the result are held at once.
        it.charge(total.saturating_mul(2), at)?;
        texts.push(t);
    }
    Ok(texts.join(sep))
}
