//! `Regex`: .NET patterns and options compiled to the `regex` crate, matches as values, replace.

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

pub(super) fn regex_options(args: &Args, i: usize, at: usize) -> F<i64> {
    match args.get(i) {
        Some((_, v)) => as_int(v, at),
        None => Ok(0),
    }
}

pub(super) fn make_match(re: &regex::Regex, input: &str) -> Value {
    let m = match re.captures(input) {
        Some(c) => {
            let names: Vec<Option<String>> =
                re.capture_names().map(|n| n.map(String::from)).collect();
            let whole = c.get(0);
            RegexMatch {
                success: true,
                value: whole.map(|m| m.as_str().to_string()).unwrap_or_default(),
                index: whole
                    .map(|m| input[..m.start()].chars().count() as i64)
                    .unwrap_or(0),
                groups: (0..c.len())
                    .map(|i| {
                        (
                            names.get(i).cloned().flatten(),
                            c.get(i).map(|m| m.as_str().to_string()),
                        )
                    })
                    .collect(),
            }
        }
        None => RegexMatch {
            success: false,
            value: String::new(),
            index: 0,
            groups: vec![(None, None)],
        },
    };
    Value::Object(Object::Match(Arc::new(m)))
}

/// .NET replacement syntax (`$1`, `${name}`, `$$`) maps onto the regex crate's, except that a
/// bare `$name` in .NET is literal; we pass it through since real policies do not rely on it.
/// Built match by match so that the memory budget is checked before each expansion: a
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
    for caps in re.captures_iter(input) {
        let Some(m) = caps.get(0) else { continue };
        let bound = rep
            .len()
            .saturating_add(dollars.saturating_mul(m.len()))
            .saturating_add(m.start() - last);
        it.charge(out.len().saturating_add(bound), at)?;
        out.push_str(&input[last..m.start()]);
        caps.expand(rep, &mut out);
        last = m.end();
    }
    it.charge(out.len() + (input.len() - last), at)?;
    out.push_str(&input[last..]);
    Ok(out)
}
