//! Instance methods of `string`.

use super::*;

pub(super) fn substring(s: &str, start: i64, len: Option<i64>, at: usize) -> F<String> {
    let n = s.chars().count() as i64;
    if start < 0 || start > n {
        return Err(arg_range(
            "startIndex cannot be larger than length of string. (Parameter 'startIndex')",
            at,
        ));
    }
    let len = len.unwrap_or(n - start);
    if len < 0 || start + len > n {
        return Err(arg_range(
            "Index and length must refer to a location within the string. (Parameter 'length')",
            at,
        ));
    }
    // Byte offsets of the char range, without copying the string into chars first.
    let from = byte_index(s, start).unwrap_or(s.len());
    let to = byte_index(s, start + len).unwrap_or(s.len());
    Ok(s.get(from..to).unwrap_or_default().to_string())
}

pub(super) fn char_index(s: &str, byte: usize) -> i64 {
    s.get(..byte)
        .map(|p| p.chars().count() as i64)
        .unwrap_or(-1)
}

pub(super) fn byte_index(s: &str, chars: i64) -> Option<usize> {
    if chars < 0 {
        return None;
    }
    if chars == 0 {
        return Some(0);
    }
    let n = chars as usize;
    s.char_indices()
        .nth(n)
        .map(|(i, _)| i)
        .or_else(|| (s.chars().count() == n).then_some(s.len()))
}

pub(super) fn comparison_arg(args: &Args, i: usize) -> bool {
    args.get(i)
        .map(|(_, v)| v.to_display().ends_with("IgnoreCase"))
        .unwrap_or(false)
}

pub(super) fn trim_chars(args: &Args) -> Vec<char> {
    args.iter()
        .flat_map(|(_, v)| match v {
            Value::Char(c) => vec![*c],
            Value::String(s) => s.chars().collect(),
            Value::Array(a) => a
                .iter()
                .flat_map(|c| c.to_display().chars().collect::<Vec<_>>())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

pub(super) fn string_method(
    it: &mut Interp,
    s: &str,
    name: &str,
    args: Args,
    at: usize,
) -> F<Value> {
    let a = |i: usize| arg(&args, i, at);
    Ok(match name {
        // APIM's extensions (crates/expr/src/library/apim_auth.rs).
        "AsJwt" if args.is_empty() => as_jwt(s),
        "AsBasic" if args.is_empty() => as_basic(s),
        "Normalize" | "IsNormalized" => {
            use unicode_normalization::UnicodeNormalization;
            let form = match args.first() {
                Some((_, f)) => f.to_display(),
                None => "FormC".to_string(),
            };
            // Compatibility decomposition can grow a char many times (U+FDFA: 18 chars).
            it.charge(s.len().saturating_mul(18), at)?;
            let out: String = match form.as_str() {
                "FormC" => s.nfc().collect(),
                "FormD" => s.nfd().collect(),
                "FormKC" => s.nfkc().collect(),
                "FormKD" => s.nfkd().collect(),
                _ => {
                    return Err(rt(
                        "ArgumentException",
                        "Invalid normalization form. (Parameter 'normalizationForm')",
                        at,
                    ));
                }
            };
            if name == "IsNormalized" {
                Value::Bool(out == s)
            } else {
                Value::str(out)
            }
        }
        "Substring" => {
            let len = match args.get(1) {
                Some((_, v)) => Some(as_int(v, at)?),
                None => None,
            };
            Value::str(substring(s, as_int(a(0)?, at)?, len, at)?)
        }
        "IndexOf" | "LastIndexOf" => {
            let needle = a(0)?.to_display();
            let ci = comparison_arg(&args, args.len().saturating_sub(1)) && args.len() > 1;
            let (hay, needle) = if ci {
                (s.to_lowercase(), needle.to_lowercase())
            } else {
                (s.to_string(), needle)
            };
            let start = match args.get(1) {
                Some((_, i)) if i.is_number() => byte_index(&hay, int_of(i).unwrap_or(-1))
                    .ok_or_else(|| arg_range("Index was out of range.", at))?,
                _ => 0,
            };
            let found = if name == "IndexOf" {
                hay.get(start..)
                    .and_then(|h| h.find(&needle))
                    .map(|i| i + start)
            } else {
                hay.rfind(&needle)
            };
            Value::Int(found.map(|b| char_index(&hay, b)).unwrap_or(-1))
        }
        // (chars[, startIndex[, count]]): the first (last) of any of the chars, searched from
        // startIndex forwards (backwards) over count chars.
        "IndexOfAny" | "LastIndexOfAny" => {
            let any: Vec<char> = match a(0)? {
                Value::Array(cs) => cs
                    .iter()
                    .map(|c| match c {
                        Value::Char(c) => Ok(*c),
                        v => Err(cast_err(v, "System.Char", at)),
                    })
                    .collect::<F<_>>()?,
                Value::Null => {
                    return Err(rt(
                        "ArgumentNullException",
                        "Value cannot be null. (Parameter 'anyOf')",
                        at,
                    ));
                }
                v => return Err(cast_err(v, "System.Char[]", at)),
            };
            let chars: Vec<char> = s.chars().collect();
            let n = chars.len() as i64;
            let forward = name == "IndexOfAny";
            let start = match args.get(1) {
                Some((_, v)) => as_int(v, at)?,
                None if forward => 0,
                None => n - 1,
            };
            let bad = |p: &str| {
                arg_range(
                    &format!(
                        "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter '{p}')"
                    ),
                    at,
                )
            };
            if n == 0 && !forward {
                return Ok(Value::Int(-1));
            }
            if start < 0 || (forward && start > n) || (!forward && start >= n) {
                return Err(bad("startIndex"));
            }
            let count = match args.get(2) {
                Some((_, v)) => as_int(v, at)?,
                None if forward => n - start,
                None => start + 1,
            };
            if count < 0 || (forward && count > n - start) || (!forward && count > start + 1) {
                return Err(arg_range(
                    "Count must be positive and count must refer to a location within the string/array/collection. (Parameter 'count')",
                    at,
                ));
            }
            let range: Vec<i64> = if forward {
                (start..start + count).collect()
            } else {
                (start - count + 1..=start).rev().collect()
            };
            Value::Int(
                range
                    .into_iter()
                    .find(|i| chars.get(*i as usize).is_some_and(|c| any.contains(c)))
                    .unwrap_or(-1),
            )
        }
        // A string is immutable: its clone is itself.
        "Clone" if args.is_empty() => Value::String(Arc::from(s)),
        "Contains" => {
            let needle = a(0)?.to_display();
            if comparison_arg(&args, 1) {
                Value::Bool(s.to_lowercase().contains(&needle.to_lowercase()))
            } else {
                Value::Bool(s.contains(&needle))
            }
        }
        "StartsWith" | "EndsWith" => {
            let p = as_str(a(0)?, at)?;
            let (h, p) = if comparison_arg(&args, 1) {
                (s.to_lowercase(), p.to_lowercase())
            } else {
                (s.to_string(), p)
            };
            Value::Bool(if name == "StartsWith" {
                h.starts_with(&p)
            } else {
                h.ends_with(&p)
            })
        }
        "Replace" => {
            let from = a(0)?.to_display();
            if from.is_empty() {
                return Err(rt(
                    "ArgumentException",
                    "String cannot be of zero length. (Parameter 'oldValue')",
                    at,
                ));
            }
            let to = match a(1)? {
                Value::Null => String::new(),
                v => v.to_display(),
            };
            // The result's size is known before building it.
            if to.len() > from.len() {
                let n = s.matches(from.as_str()).count();
                it.charge(
                    s.len()
                        .saturating_add(n.saturating_mul(to.len() - from.len())),
                    at,
                )?;
            } else {
                it.charge(s.len(), at)?;
            }
            Value::str(s.replace(&from, &to))
        }
        "Split" => {
            let mut seps: Vec<String> = Vec::new();
            let mut remove_empty = false;
            let mut count: Option<usize> = None;
            for (_, v) in &args {
                match v {
                    Value::Char(c) => seps.push(c.to_string()),
                    Value::Enum("StringSplitOptions", o) => remove_empty = o & 1 == 1,
                    Value::String(x) => seps.push(x.to_string()),
                    Value::Array(xs) => seps.extend(xs.iter().map(|x| x.to_display())),
                    n if n.is_number() => count = Some(int_of(n).unwrap_or(0).max(0) as usize),
                    _ => {}
                }
            }
            // One value per part: counted before the parts are built.
            let n = if seps.is_empty() {
                s.split(char::is_whitespace).count()
            } else {
                split_multi(s, &seps, count, |_| {})
            };
            it.charge(s.len().saturating_add(n.saturating_mul(SLOT)), at)?;
            let mut parts: Vec<String> = Vec::with_capacity(n);
            if seps.is_empty() {
                parts.extend(s.split(char::is_whitespace).map(String::from));
            } else {
                split_multi(s, &seps, count, |p| parts.push(p.to_string()));
            }
            if remove_empty {
                parts.retain(|p| !p.is_empty());
            }
            Value::Array(parts.into_iter().map(Value::from).collect())
        }
        "ToLower" | "ToLowerInvariant" | "ToUpper" | "ToUpperInvariant" => {
            // .NET maps char by char with the simple (invariant) mappings: ß stays, Σ is σ
            // wherever it stands. A char's UTF-8 length may change; the result is counted after.
            it.charge(s.len(), at)?;
            let out: String = if name.starts_with("ToLower") {
                s.chars().map(lower_char).collect()
            } else {
                s.chars().map(upper_char).collect()
            };
            it.charge(out.len(), at)?;
            Value::str(out)
        }
        "Trim" | "TrimStart" | "TrimEnd" => {
            let cs = trim_chars(&args);
            let f = |c: char| {
                if cs.is_empty() {
                    c.is_whitespace()
                } else {
                    cs.contains(&c)
                }
            };
            Value::str(match name {
                "Trim" => s.trim_matches(f),
                "TrimStart" => s.trim_start_matches(f),
                _ => s.trim_end_matches(f),
            })
        }
        "Equals" => match a(0)? {
            Value::Null => Value::Bool(false),
            v => Value::Bool(str_equals(
                s,
                &v.to_display(),
                &args.get(1).map(|(_, c)| c.to_display()).unwrap_or_default(),
            )),
        },
        "CompareTo" => Value::Int(s.cmp(&a(0)?.to_display()) as i64),
        "ToString" => Value::str(s),
        "PadLeft" | "PadRight" => {
            let w = as_int(a(0)?, at)?.clamp(0, 1 << 16) as usize;
            let c = match args.get(1) {
                Some((_, Value::Char(c))) => *c,
                _ => ' ',
            };
            let n = s.chars().count();
            it.charge(s.len() + w.saturating_sub(n) * c.len_utf8(), at)?;
            let pad: String = std::iter::repeat_n(c, w.saturating_sub(n)).collect();
            Value::str(if name == "PadLeft" {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            })
        }
        "Insert" => {
            let i = byte_index(s, as_int(a(0)?, at)?)
                .ok_or_else(|| arg_range("Index was out of range.", at))?;
            let x = it.text(a(1)?, at)?;
            it.charge(s.len() + x.len(), at)?;
            Value::str(format!("{}{}{}", &s[..i], x, &s[i..]))
        }
        "Remove" => {
            let start = as_int(a(0)?, at)?;
            let n = s.chars().count() as i64;
            let len = match args.get(1) {
                Some((_, v)) => as_int(v, at)?,
                None => n - start,
            };
            let head = substring(s, 0, Some(start.clamp(0, n)), at)?;
            if start < 0 || len < 0 || start + len > n {
                return Err(arg_range(
                    "Index and count must refer to a location within the string.",
                    at,
                ));
            }
            let tail = substring(s, start + len, None, at)?;
            Value::str(format!("{head}{tail}"))
        }
        "GetEnumerator" if args.is_empty() => char_enumerator(s.into()),
        "ToCharArray" => {
            it.charge(s.len().saturating_mul(SLOT), at)?;
            Value::Array(s.chars().map(Value::Char).collect())
        }
        _ => return linq(it, Value::str(s), name, args, at),
    })
}

/// Splits `s` at any of `seps` (at most `count` parts), handing each part to `part`; returns
/// how many parts there are. Each separator's next occurrence is remembered, so a separator
/// that occurs rarely is not searched for again from every part (which would be quadratic).
pub(super) fn split_multi(
    s: &str,
    seps: &[String],
    count: Option<usize>,
    mut part: impl FnMut(&str),
) -> usize {
    if count == Some(0) {
        return 0;
    }
    let seps: Vec<&str> = seps
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    // Next match of each separator at or after `pos` (byte offset into `s`), None when none.
    let mut next: Vec<Option<usize>> = seps.iter().map(|p| s.find(p)).collect();
    let mut pos = 0;
    let mut n = 0;
    loop {
        if count.is_some_and(|c| n + 1 >= c) {
            break;
        }
        for (k, p) in seps.iter().enumerate() {
            if let Some(i) = next[k]
                && i < pos
            {
                next[k] = s.get(pos..).and_then(|r| r.find(p)).map(|j| j + pos);
            }
        }
        let found = next
            .iter()
            .zip(&seps)
            .filter_map(|(i, p)| i.map(|i| (i, p.len())))
            .min();
        match found {
            Some((i, l)) => {
                part(&s[pos..i]);
                n += 1;
                pos = i + l;
            }
            None => break,
        }
    }
    part(&s[pos..]);
    n + 1
}
