//! `Regex`: .NET patterns and options compiled to the `regex` crate; the static members, `new
//! Regex(pattern, options)` instances, matches as values (with `NextMatch`), replacement by a
//! string or a `MatchEvaluator` lambda, `Escape`/`Unescape`.

use super::*;

pub(super) fn compile_regex(pattern: &str, options: i64, at: usize) -> F<regex::Regex> {
    let mut flags = String::new();
    if options & 1 != 0 {
        flags.push('i');
    }
    if options & 2 != 0 {
        flags.push('m');
    }
    if options & 16 != 0 {
        flags.push('s');
    }
    if options & 32 != 0 {
        flags.push('x');
    }
    let full = if flags.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{flags}){pattern}")
    };
    regex::RegexBuilder::new(&full)
        .size_limit(1 << 20)
        .build()
        // Neither the pattern nor the regex crate's message (which quotes it) is shown.
        .map_err(|_| {
            rt(
                "ArgumentException",
                "Invalid pattern: the regular expression does not parse.",
                at,
            )
        })
}

/// The `RegexOptions` argument at `i` (none: `RegexOptions.None`). `Compiled` and
/// `CultureInvariant` change nothing observable here; `ExplicitCapture` (4), `RightToLeft` (64)
/// and `ECMAScript` (256) change what matches and which groups capture, which
/// [`compile_regex`] does not do: refused rather than ignored.
pub(super) fn regex_options(args: &Args, i: usize, at: usize) -> F<i64> {
    let o = match args.get(i) {
        Some((_, v)) => as_int(v, at)?,
        None => 0,
    };
    if o & (4 | 64 | 256) != 0 {
        return Err(rt(
            "NotSupportedException",
            "RegexOptions.ExplicitCapture, RightToLeft and ECMAScript are not supported.",
            at,
        ));
    }
    Ok(o)
}

/// The first match at or after byte `start` of `input`, as a `Match` value that remembers
/// where `NextMatch` goes on from. Its `Index` counts UTF-16 code units, as .NET's does.
pub(super) fn make_match(
    re: &regex::Regex,
    spec: &Arc<RegexSpec>,
    input: &Arc<str>,
    start: usize,
) -> Value {
    let m = match re.captures_at(input, start) {
        Some(c) => {
            let names: Vec<Option<String>> =
                re.capture_names().map(|n| n.map(String::from)).collect();
            let whole = c.get(0);
            let (s, e) = whole.map_or((start, start), |m| (m.start(), m.end()));
            // After an empty match the search goes on one char further, as in .NET.
            let next = if e == s {
                input[e..]
                    .chars()
                    .next()
                    .map_or(e + 1, |ch| e + ch.len_utf8())
            } else {
                e
            };
            RegexMatch {
                success: true,
                value: whole.map(|m| m.as_str().to_string()).unwrap_or_default(),
                index: input[..s].encode_utf16().count() as i64,
                groups: (0..c.len())
                    .map(|i| {
                        (
                            names.get(i).cloned().flatten(),
                            c.get(i).map(|m| m.as_str().to_string()),
                        )
                    })
                    .collect(),
                captures: all_captures(spec, input, start, &c),
                next: Some((spec.clone(), input.clone(), next)),
            }
        }
        None => failed_match(),
    };
    Value::Object(Object::Match(Arc::new(m)))
}

/// `match.NextMatch()`: the pattern run again from the end of this match.
pub(super) fn next_match(it: &mut Interp, m: &RegexMatch, at: usize) -> F<Value> {
    let Some((spec, input, from)) = &m.next else {
        return Ok(make_failed());
    };
    if *from > input.len() {
        return Ok(make_failed());
    }
    it.check_time(at)?;
    let re = compile_regex(&spec.pattern, spec.options, at)?;
    let found = make_match(&re, spec, input, *from);
    it.charge(it.size_of(&found), at)?;
    Ok(found)
}

fn make_failed() -> Value {
    empty_match()
}

/// .NET's replacement syntax (`$1`, `${name}`, `$$`, `$&`, `` $` ``, `$'`, `$+`, `$_`; a bare
/// `$name` is literal), expanded by crates/expr/src/library/regex_captures.rs. Built match by match so that the memory budget is checked before each expansion: a
/// replacement can be far longer than what it replaces.
pub(super) fn regex_replace(
    it: &mut Interp,
    re: &regex::Regex,
    input: &str,
    rep: &str,
    at: usize,
) -> F<String> {
    // An expansion is at most the replacement's text plus, per `$`, the longest group (which
    // is no longer than the whole match).
    let dollars = rep.bytes().filter(|b| *b == b'$').count();
    let mut out = String::new();
    let mut last = 0;
    let names: Vec<Option<String>> = re.capture_names().map(|n| n.map(String::from)).collect();
    for caps in re.captures_iter(input) {
        let Some(m) = caps.get(0) else { continue };
        // `$_`, `` $` `` and `$'` can add the whole input per `$`.
        let bound = rep
            .len()
            .saturating_add(dollars.saturating_mul(input.len()))
            .saturating_add(m.start() - last);
        it.charge(out.len().saturating_add(bound), at)?;
        out.push_str(&input[last..m.start()]);
        let groups: Vec<(Option<String>, Option<String>)> = (0..caps.len())
            .map(|i| {
                (
                    names.get(i).cloned().flatten(),
                    caps.get(i).map(|g| g.as_str().to_string()),
                )
            })
            .collect();
        out.push_str(&expand_replacement(
            rep,
            &groups,
            input,
            &input[..m.start()],
            &input[m.end()..],
        ));
        last = m.end();
    }
    it.charge(out.len() + (input.len() - last), at)?;
    out.push_str(&input[last..]);
    Ok(out)
}

/// `Regex.Replace(input, pattern, m => …)`: each match replaced by what the lambda returns.
fn replace_with(
    it: &mut Interp,
    re: &regex::Regex,
    spec: &Arc<RegexSpec>,
    input: &Arc<str>,
    f: &Lambda,
    at: usize,
) -> F<String> {
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(input) {
        it.check_time(at)?;
        let found = make_match(re, spec, input, m.start());
        let rep = f.clone();
        let v = it.call_lambda(&rep, vec![found], at)?;
        let text = it.text(&v, at)?;
        it.charge(out.len() + (m.start() - last) + text.len(), at)?;
        out.push_str(&input[last..m.start()]);
        out.push_str(&text);
        last = m.end();
    }
    it.charge(out.len() + (input.len() - last), at)?;
    out.push_str(&input[last..]);
    Ok(out)
}

/// What a regex does with an input: the instance methods and, after the pattern and options
/// are read, the static ones. `rest` is what follows the input (a replacement).
pub(super) fn regex_op(
    it: &mut Interp,
    spec: &Arc<RegexSpec>,
    name: &str,
    input: &Value,
    rest: Option<&Value>,
    at: usize,
) -> F<Option<Value>> {
    if !matches!(name, "IsMatch" | "Match" | "Matches" | "Replace" | "Split") {
        return Ok(None);
    }
    let re = compile_regex(&spec.pattern, spec.options, at)?;
    let input: Arc<str> = match input {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'input')",
                at,
            ));
        }
        v => Arc::from(as_str(v, at)?),
    };
    Ok(Some(match name {
        "IsMatch" => Value::Bool(re.is_match(&input)),
        "Match" => make_match(&re, spec, &input, 0),
        "Matches" => {
            let mut out = Vec::new();
            let mut bytes = 0usize;
            for m in re.find_iter(&input) {
                // Each match is matched again for its groups: time and memory per match.
                it.check_time(at)?;
                let found = make_match(&re, spec, &input, m.start());
                bytes = bytes.saturating_add(it.size_of(&found) + SLOT);
                it.charge(bytes, at)?;
                out.push(found);
            }
            Value::Array(out)
        }
        "Replace" => match rest {
            Some(Value::Lambda(f)) => Value::str(replace_with(it, &re, spec, &input, f, at)?),
            Some(r) => Value::str(regex_replace(it, &re, &input, &as_str(r, at)?, at)?),
            None => return Ok(None),
        },
        _ => {
            let n = re.split(&input).count();
            it.charge(input.len().saturating_add(n.saturating_mul(SLOT)), at)?;
            Value::Array(re.split(&input).map(Value::str).collect())
        }
    }))
}

/// `Regex.X(input, pattern, …)`; `Escape`, `Unescape`.
pub(super) fn regex_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    if ty != "Regex" {
        return Ok(None);
    }
    match name {
        "Escape" => {
            let input = as_str(a(0)?, at)?;
            it.charge(input.len().saturating_mul(2), at)?;
            Ok(Some(Value::str(regex::escape(&input))))
        }
        "Unescape" => {
            let input = as_str(a(0)?, at)?;
            it.charge(input.len(), at)?;
            Ok(Some(Value::str(unescape(&input, at)?)))
        }
        _ => {
            let opt_at = if name == "Replace" { 3 } else { 2 };
            let spec = Arc::new(RegexSpec {
                pattern: as_str(a(1)?, at)?,
                options: regex_options(args, opt_at, at)?,
            });
            let rest = if name == "Replace" { Some(a(2)?) } else { None };
            regex_op(it, &spec, name, a(0)?, rest, at)
        }
    }
}

/// `Regex.Unescape`: .NET's character escapes (`\n`, `\t`, `\xHH`, `\uHHHH`, `\0oo`, `\cX`)
/// decoded; `\` before any other char gives that char.
fn unescape(s: &str, at: usize) -> F<String> {
    let bad = || {
        rt(
            "RegexParseException",
            "Invalid pattern: an escape sequence is not recognized.",
            at,
        )
    };
    let mut out = String::with_capacity(s.len());
    let mut cs = s.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = cs.next() else {
            return Err(bad());
        };
        let hex = |cs: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> F<char> {
            let h: String = (0..n).filter_map(|_| cs.next()).collect();
            u32::from_str_radix(&h, 16)
                .ok()
                .filter(|_| h.len() == n)
                .and_then(char::from_u32)
                .ok_or_else(bad)
        };
        out.push(match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\u{c}',
            'v' => '\u{b}',
            'a' => '\u{7}',
            'e' => '\u{1b}',
            'x' => hex(&mut cs, 2)?,
            'u' => hex(&mut cs, 4)?,
            'c' => {
                let k = cs.next().ok_or_else(bad)?.to_ascii_uppercase();
                if !k.is_ascii_uppercase() {
                    return Err(bad());
                }
                char::from(k as u8 - b'@')
            }
            '0'..='7' => {
                let mut v = e as u32 - '0' as u32;
                for _ in 0..2 {
                    match cs.peek() {
                        Some(d @ '0'..='7') => {
                            v = v * 8 + (*d as u32 - '0' as u32);
                            cs.next();
                        }
                        _ => break,
                    }
                }
                char::from_u32(v & 0xff).ok_or_else(bad)?
            }
            other => other,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_decodes_dotnet_escapes() {
        assert_eq!(unescape(r"a\.b", 0).ok().as_deref(), Some("a.b"));
        assert_eq!(
            unescape(r"\x41\u0042\t\101", 0).ok().as_deref(),
            Some("AB\tA")
        );
        assert!(unescape("a\\", 0).is_err());
    }
}
