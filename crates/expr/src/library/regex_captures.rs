//! Every capture of a group (`Group.Captures`, `CaptureCollection`), and `Match.Result`'s
//! replacement patterns.
//!
//! .NET's regex keeps each capture a group made; the `regex` crate keeps only the last. A group
//! that is not repeated captures at most once, so its captures are exact. A group repeated by
//! its own quantifier (`(x)+`, `(?<d>\d){2,}`) is recovered by matching again: the pattern is
//! run with one more group around the quantified group, giving the span all its iterations
//! cover, and the group's sub-pattern is matched again and again from the start of that span.
//! When those matches tile the span and the last one is the capture the regex crate kept, they
//! are the iterations .NET made; otherwise (a sub-pattern that only backtracking splits as .NET
//! does, a group nested in another repeated group) the captures fall back to the last one.

use super::*;

/// A parenthesized construct of a pattern: where its `(`, its content and its `)` are, the
/// end of the quantifier that repeats it (when one can repeat it more than once), and its
/// group number when it captures.
#[derive(Debug, Clone)]
struct Construct {
    open: usize,
    /// Byte offset of the content (after `(`, `(?:`, `(?<name>`, `(?P<name>`, `(?i:`).
    content: usize,
    close: usize,
    repeat_end: Option<usize>,
    group: Option<usize>,
}

/// The parenthesized constructs of `pattern`, capturing groups numbered as the regex crate
/// numbers them (by opening parenthesis).
fn constructs_of(pattern: &str) -> Vec<Construct> {
    let b = pattern.as_bytes();
    let mut out: Vec<Construct> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut groups = 0;
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // A `]` first in a class is literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let rest = &pattern[i..];
                let named = rest.starts_with("(?P<")
                    || (rest.starts_with("(?<")
                        && !rest.starts_with("(?<=")
                        && !rest.starts_with("(?<!"));
                let (content, group) = if named {
                    groups += 1;
                    (rest.find('>').map_or(i + 1, |e| i + e + 1), Some(groups))
                } else if rest.starts_with("(?") {
                    // `(?:…)`, `(?i:…)`; a bare flag group `(?i)` has no content.
                    let e = rest
                        .find([':', ')'])
                        .map_or(i + 1, |e| i + e + usize::from(rest.as_bytes()[e] == b':'));
                    (e, None)
                } else {
                    groups += 1;
                    (i + 1, Some(groups))
                };
                out.push(Construct {
                    open: i,
                    content,
                    close: 0,
                    repeat_end: None,
                    group,
                });
                stack.push(out.len() - 1);
            }
            b')' if !in_class => {
                if let Some(k) = stack.pop() {
                    out[k].close = i;
                    out[k].repeat_end = repeat_after(b, i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The end of a quantifier at `i` that can repeat what precedes it more than once (`*`, `+`,
/// `{n,…}` with n or the upper bound above 1), with its lazy `?`.
fn repeat_after(b: &[u8], i: usize) -> Option<usize> {
    let end = match b.get(i)? {
        b'*' | b'+' => i + 1,
        b'{' => {
            let close = i + b[i..].iter().position(|c| *c == b'}')?;
            let inner = std::str::from_utf8(&b[i + 1..close]).ok()?;
            let most = match inner.split_once(',') {
                Some((_, "")) => u64::MAX,
                Some((_, hi)) => hi.trim().parse().ok()?,
                None => inner.trim().parse().ok()?,
            };
            if most <= 1 {
                return None;
            }
            close + 1
        }
        _ => return None,
    };
    Some(if b.get(end) == Some(&b'?') {
        end + 1
    } else {
        end
    })
}

/// Every capture (byte spans) of each group of the match `caps` found at or after byte
/// `start` of `input`: index 0 is the whole match.
pub(crate) fn all_captures(
    spec: &RegexSpec,
    input: &str,
    start: usize,
    caps: &regex::Captures,
) -> Vec<Vec<(i64, String)>> {
    let syntax = constructs_of(&spec.pattern);
    let mut out = Vec::with_capacity(caps.len());
    for g in 0..caps.len() {
        let found = match caps.get(g).map(|m| (m.start(), m.end())) {
            None => Vec::new(),
            Some(last) => repeated(&syntax, g)
                .and_then(|c| iterations(spec, &syntax, input, start, g, c, last))
                .unwrap_or_else(|| vec![last]),
        };
        // Positions count UTF-16 code units, as .NET's do.
        out.push(
            found
                .into_iter()
                .map(|(a, b)| {
                    (
                        input[..a].encode_utf16().count() as i64,
                        input[a..b].to_string(),
                    )
                })
                .collect(),
        );
    }
    out
}

/// The innermost repeated construct holding group `g` (or `g` itself), when no other repeated
/// construct holds that one: its iterations then give the group's captures.
fn repeated(syntax: &[Construct], g: usize) -> Option<&Construct> {
    let me = syntax.iter().find(|c| c.group == Some(g))?;
    let holds = |c: &Construct, inner: &Construct| c.open <= inner.open && c.close >= inner.close;
    let mut around: Vec<&Construct> = syntax
        .iter()
        .filter(|c| c.repeat_end.is_some() && holds(c, me))
        .collect();
    around.sort_by_key(|c| std::cmp::Reverse(c.open));
    match around.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

thread_local! {
    /// The patterns made for recovering captures, compiled once per thread: `Matches` makes
    /// the same ones for every match.
    static COMPILED: std::cell::RefCell<Vec<((String, i64), regex::Regex)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// How many of those patterns are kept (the oldest goes first).
const CACHED: usize = 16;

fn cached_regex(pattern: &str, options: i64) -> Option<regex::Regex> {
    COMPILED.with(|c| {
        if let Some((_, re)) = c
            .borrow()
            .iter()
            .find(|((p, o), _)| p == pattern && *o == options)
        {
            return Some(re.clone());
        }
        let re = compile_regex(pattern, options, 0).ok()?;
        let mut c = c.borrow_mut();
        if c.len() >= CACHED {
            c.remove(0);
        }
        c.push(((pattern.to_string(), options), re.clone()));
        Some(re)
    })
}

/// The captures of group `g` over the iterations of the repeated construct `c`, or `None`
/// when they cannot be told.
fn iterations(
    spec: &RegexSpec,
    syntax: &[Construct],
    input: &str,
    start: usize,
    g: usize,
    c: &Construct,
    last: (usize, usize),
) -> Option<Vec<(usize, usize)>> {
    // The patterns made here are the user's with a group added: within the same size limit.
    let compile = |p: &str| cached_regex(p, spec.options);
    let end = c.repeat_end?;
    let p = &spec.pattern;
    // The added group's number: after the groups opened before the construct.
    let outer_no = 1 + syntax
        .iter()
        .filter(|x| x.group.is_some() && x.open < c.open)
        .count();
    let wrapped = format!("{}({}){}", &p[..c.open], &p[c.open..end], &p[end..]);
    let span = compile(&wrapped)?
        .captures_at(input, start)?
        .get(outer_no)?;
    // Flags set inline before the construct (`(?i)`) hold inside it too.
    let flags: String = syntax
        .iter()
        .filter(|x| x.open < c.open && x.content == x.close && x.group.is_none())
        .map(|x| &p[x.open..=x.close])
        .collect();
    let piece = compile(&format!(r"\A{flags}(?:{})", &p[c.content..c.close]))?;
    // The group's number inside one iteration (0: the iteration is the group).
    let inner_no = if c.group == Some(g) {
        0
    } else {
        let me = syntax.iter().find(|x| x.group == Some(g))?;
        1 + syntax
            .iter()
            .filter(|x| x.group.is_some() && x.open >= c.content && x.open < me.open)
            .count()
    };
    let mut pos = span.start();
    let mut found = Vec::new();
    while pos < span.end() {
        let m = piece.captures(&input[pos..span.end()])?;
        let whole = m.get(0)?;
        if whole.end() == 0 {
            return None;
        }
        if let Some(x) = m.get(inner_no) {
            found.push((pos + x.start(), pos + x.end()));
        }
        pos += whole.end();
    }
    (found.last() == Some(&last)).then_some(found)
}

/// `match.Result(replacement)`: .NET's replacement syntax — `$n` and `${n}`, `${name}`, `$$`,
/// `$&` (the match), `` $` `` and `$'` (the input before and after it), `$+` (the last group),
/// `$_` (the whole input); anything else stays literal. `groups` are the match's groups by
/// number (with their names), `before`/`after` the input around the match.
pub(crate) fn expand_replacement(
    rep: &str,
    groups: &[(Option<String>, Option<String>)],
    input: &str,
    before: &str,
    after: &str,
) -> String {
    let group = |n: usize| groups.get(n).and_then(|(_, v)| v.clone());
    let mut out = String::new();
    let mut rest = rep;
    while let Some(d) = rest.find('$') {
        out.push_str(&rest[..d]);
        let tail = &rest[d + 1..];
        let take = |out: &mut String, text: &str, used: usize| {
            out.push_str(text);
            used
        };
        let used = match tail.as_bytes().first() {
            Some(b'$') => take(&mut out, "$", 1),
            Some(b'&') => take(&mut out, &group(0).unwrap_or_default(), 1),
            Some(b'`') => take(&mut out, before, 1),
            Some(b'\'') => take(&mut out, after, 1),
            Some(b'_') => take(&mut out, input, 1),
            Some(b'+') => {
                let last = groups.len().saturating_sub(1);
                take(&mut out, &group(last).unwrap_or_default(), 1)
            }
            Some(c) if c.is_ascii_digit() => {
                let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                match tail[..digits]
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n < groups.len())
                {
                    Some(n) => take(&mut out, &group(n).unwrap_or_default(), digits),
                    None => take(&mut out, "$", 0),
                }
            }
            Some(b'{') => {
                let name = tail[1..].find('}').map(|e| &tail[1..1 + e]);
                let idx = name.and_then(|n| match n.parse::<usize>() {
                    Ok(k) if k < groups.len() => Some(k),
                    Ok(_) => None,
                    Err(_) => groups.iter().position(|(gn, _)| gn.as_deref() == Some(n)),
                });
                match (name, idx) {
                    (Some(n), Some(k)) => {
                        take(&mut out, &group(k).unwrap_or_default(), n.len() + 2)
                    }
                    _ => take(&mut out, "$", 0),
                }
            }
            _ => take(&mut out, "$", 0),
        };
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

/// A `Capture`: its `Index`, `Length` (UTF-16 units) and `Value`.
fn capture_value(index: i64, text: &str) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Index".to_string(), Value::Int(index));
    r.insert(
        "Length".to_string(),
        Value::Int(text.encode_utf16().count() as i64),
    );
    r.insert("Value".to_string(), Value::str(text));
    Value::Object(Object::Record(Arc::new(r)))
}

/// A `CaptureCollection`: the captures, first to last (`Count`, `[i]`, enumerable).
fn captures_value(list: &[(i64, String)]) -> Value {
    Value::Array(list.iter().map(|(i, t)| capture_value(*i, t)).collect())
}

/// `match.Groups`: each group by number and by name, with `Success`, `Name`, `Index`,
/// `Length`, `Value` (of its last capture) and `Captures`.
pub(crate) fn groups_value(m: &RegexMatch) -> Value {
    let mut d = BTreeMap::new();
    for (i, (gname, v)) in m.groups.iter().enumerate() {
        let caps = m.captures.get(i).map(Vec::as_slice).unwrap_or_default();
        let (index, _) = caps.last().cloned().unwrap_or((0, String::new()));
        let text = v.clone().unwrap_or_default();
        let mut r = BTreeMap::new();
        r.insert("Success".to_string(), Value::Bool(v.is_some()));
        r.insert(
            "Name".to_string(),
            Value::str(gname.clone().unwrap_or_else(|| i.to_string())),
        );
        r.insert("Index".to_string(), Value::Int(index));
        r.insert(
            "Length".to_string(),
            Value::Int(text.encode_utf16().count() as i64),
        );
        r.insert("Value".to_string(), Value::str(text));
        r.insert("Captures".to_string(), captures_value(caps));
        let rec = Value::Object(Object::Record(Arc::new(r)));
        d.insert(i.to_string(), rec.clone());
        if let Some(n) = gname {
            d.insert(n.clone(), rec);
        }
    }
    Value::Object(Object::Dictionary(Arc::new(d)))
}

/// `match.Captures`: the match's own capture (none for a failed match).
pub(crate) fn match_captures(m: &RegexMatch) -> Value {
    if !m.success {
        return Value::Array(Vec::new());
    }
    captures_value(&[(m.index, m.value.clone())])
}

/// `match.Result(replacement)`; a failed match has nothing to expand (NotSupportedException,
/// as .NET).
pub(crate) fn match_result(it: &mut Interp, m: &RegexMatch, args: &Args, at: usize) -> F<Value> {
    let rep = match arg(args, 0, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'replacement')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    let Some((_, input, _)) = m.next.as_ref().filter(|_| m.success) else {
        return Err(rt(
            "NotSupportedException",
            "Result cannot be called on a failed Match.",
            at,
        ));
    };
    // The match's byte offset: its index counts UTF-16 units.
    let mut units = 0i64;
    let start = input
        .char_indices()
        .find(|(_, c)| {
            let here = units >= m.index;
            units += c.len_utf16() as i64;
            here
        })
        .map_or(input.len(), |(o, _)| o);
    let end = (start + m.value.len()).min(input.len());
    let (before, after) = (&input[..start], &input[end..]);
    let out = expand_replacement(&rep, &m.groups, input, before, after);
    it.charge(out.len(), at)?;
    Ok(Value::str(out))
}

/// `Match.Empty`: the failed match.
pub(crate) fn empty_match() -> Value {
    Value::Object(Object::Match(Arc::new(failed_match())))
}

/// A match that did not succeed (`Match.Empty`, what `Match` finds in no text): its group 0
/// empty and unsuccessful.
pub(crate) fn failed_match() -> RegexMatch {
    RegexMatch {
        success: false,
        value: String::new(),
        index: 0,
        groups: vec![(None, None)],
        captures: vec![Vec::new()],
        next: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeated_constructs() {
        let c = constructs_of(r"(?<x>[a-z])+(\d)(?:(y)z)*[(]{2}");
        let groups: Vec<_> = c.iter().filter_map(|x| x.group).collect();
        assert_eq!(groups, vec![1, 2, 3]);
        assert!(repeated(&c, 1).is_some_and(|r| r.group == Some(1)));
        assert!(repeated(&c, 2).is_none());
        assert!(repeated(&c, 3).is_some_and(|r| r.group.is_none()));
        assert!(constructs_of("(a){1}")[0].repeat_end.is_none());
        assert!(constructs_of("(a){1,3}?")[0].repeat_end.is_some());
        // Nested in two repeated constructs: not told apart.
        assert!(repeated(&constructs_of("((a)+b)+"), 2).is_none());
    }

    #[test]
    fn expands_dotnet_replacements() {
        let groups = vec![
            (None, Some("b1".to_string())),
            (None, Some("b".to_string())),
            (Some("n".to_string()), Some("1".to_string())),
        ];
        let r = expand_replacement(
            "[$1|${n}|$2|$$|$&|$`|$'|$9|$+|$_|${x}]",
            &groups,
            "ab1c",
            "a",
            "c",
        );
        assert_eq!(r, "[b|1|1|$|b1|a|c|$9|1|ab1c|${x}]");
    }
}
