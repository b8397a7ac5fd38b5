//! The JSONPath of Newtonsoft's `SelectToken`/`SelectTokens`: `$`, `.name`, `['name']`,
//! `[0]`, `[-1]` (from the end), `[*]`/`.*`, `['a','b']`, `[0,2]`, `..name`/`..*` (recursive
//! descent), and filters `[?(@.a.b == 'x')]` with `==`, `!=`, `<`, `<=`, `>`, `>=`, an
//! existence test `[?(@.a)]`, joined by `&&`/`||` (evaluated left to right), and slices
//! `[start:end:step]` as Newtonsoft's ArraySliceFilter takes them (negative bounds from the end,
//! a negative step backwards). Script expressions are not supported (an error says so).
//!
//! Checked against Newtonsoft.Json under Mono:
//! ```csharp
//! var o = JObject.Parse(@"{'a':{'b':[{'id':1,'n':'x'},{'id':2,'n':'y'}]},'n':'top'}");
//! o.SelectToken("$.a.b[1].n")                       // y
//! o.SelectTokens("$..n")                            // x y top
//! o.SelectToken("$.a.b[?(@.id == 2)].n")            // y
//! o.SelectTokens("a.b[*].id")                       // 1 2
//! o.SelectToken("$.a.b[*].id")                      // JsonException: Path returned multiple tokens.
//! o.SelectToken("$.missing")                        // null
//! JArray.Parse("[1,2,3,4]").SelectTokens("[1:3]")   // 2 3
//! JArray.Parse("[1,2,3,4]").SelectTokens("[-2:]")   // 3 4
//! JArray.Parse("[1,2,3,4]").SelectTokens("[::-2]")  // 4 2
//! ```

use super::*;

#[derive(Debug)]
enum Step {
    Name(String),
    Names(Vec<String>),
    Index(Vec<i64>),
    /// `[start:end:step]`.
    Slice(Option<i64>, Option<i64>, i64),
    Wildcard,
    Descend(Option<String>),
    Filter(Vec<(Cond, bool)>),
}

/// One comparison of a filter; the flag after it says whether it is joined to the next by `&&`.
#[derive(Debug)]
struct Cond {
    path: Vec<String>,
    test: Option<(String, J)>,
}

fn err(msg: impl Into<String>, at: usize) -> Flow {
    rt("JsonException", msg.into(), at)
}

fn parse(path: &str, at: usize) -> F<Vec<Step>> {
    let mut steps = Vec::new();
    let s = path.trim();
    let mut rest = s.strip_prefix('$').unwrap_or(s);
    // A leading bare name: `a.b` means `$.a.b`.
    if !rest.is_empty() && !rest.starts_with(['.', '[']) {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        steps.push(Step::Name(rest[..end].to_string()));
        rest = &rest[end..];
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("..") {
            if let Some(r2) = r.strip_prefix('*') {
                steps.push(Step::Descend(None));
                rest = r2;
            } else {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                steps.push(Step::Descend(Some(r[..end].to_string())));
                rest = &r[end..];
            }
        } else if let Some(r) = rest.strip_prefix('.') {
            if let Some(r2) = r.strip_prefix('*') {
                steps.push(Step::Wildcard);
                rest = r2;
            } else {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err(err(
                        format!("Unexpected character while parsing path: {r}"),
                        at,
                    ));
                }
                steps.push(Step::Name(r[..end].to_string()));
                rest = &r[end..];
            }
        } else if let Some(r) = rest.strip_prefix('[') {
            let (step, after) = bracket(r, at)?;
            steps.push(step);
            rest = after;
        } else {
            return Err(err(
                format!("Unexpected character while parsing path: {rest}"),
                at,
            ));
        }
    }
    Ok(steps)
}

/// The inside of `[…]` and what follows its `]`.
fn bracket(r: &str, at: usize) -> F<(Step, &str)> {
    if let Some(f) = r.strip_prefix("?(") {
        let close = f
            .find(")]")
            .ok_or_else(|| err("Path ended with an open query.", at))?;
        return Ok((Step::Filter(filter(&f[..close], at)?), &f[close + 2..]));
    }
    let close = quoted_close(r).ok_or_else(|| err("Path ended with open indexer.", at))?;
    let inner = r[..close].trim();
    let after = &r[close + 1..];
    if inner == "*" {
        return Ok((Step::Wildcard, after));
    }
    if inner.starts_with(['\'', '"']) {
        let names = inner
            .split(',')
            .map(|n| n.trim().trim_matches(['\'', '"']).to_string())
            .collect::<Vec<_>>();
        return Ok((
            if names.len() == 1 {
                Step::Name(names.into_iter().next().unwrap_or_default())
            } else {
                Step::Names(names)
            },
            after,
        ));
    }
    if inner.contains(':') {
        return Ok((slice(inner, at)?, after));
    }
    let idx = inner
        .split(',')
        .map(|n| n.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            err(
                format!("Unexpected character while parsing path indexer: {inner}"),
                at,
            )
        })?;
    Ok((Step::Index(idx), after))
}

/// `start:end:step`, each part optional.
fn slice(inner: &str, at: usize) -> F<Step> {
    let bad = || {
        err(
            format!("Unexpected character while parsing path indexer: {inner}"),
            at,
        )
    };
    let mut parts = inner.split(':').map(|p| {
        let p = p.trim();
        if p.is_empty() {
            Ok(None)
        } else {
            p.parse::<i64>().map(Some).map_err(|_| bad())
        }
    });
    let start = parts.next().unwrap_or(Ok(None))?;
    let end = parts.next().unwrap_or(Ok(None))?;
    let step = parts.next().unwrap_or(Ok(None))?.unwrap_or(1);
    if parts.next().is_some() {
        return Err(bad());
    }
    if step == 0 {
        return Err(err("Step cannot be zero.", at));
    }
    Ok(Step::Slice(start, end, step))
}

/// The positions a slice takes from an array of `len`, as Newtonsoft's ArraySliceFilter
/// computes them.
fn slice_positions(len: usize, start: Option<i64>, end: Option<i64>, step: i64) -> Vec<usize> {
    let n = len as i64;
    let forward = step > 0;
    let mut from = start.unwrap_or(if forward { 0 } else { n - 1 });
    let mut to = end.unwrap_or(if forward { n } else { -1 });
    if start.is_some_and(|s| s < 0) {
        from += n;
    }
    if end.is_some_and(|e| e < 0) {
        to += n;
    }
    if forward {
        from = from.clamp(0, n);
    } else {
        from = from.min(n - 1);
    }
    to = to.clamp(-1, n);
    let mut out = Vec::new();
    let mut i = from;
    while if forward { i < to } else { i > to } {
        if let Ok(u) = usize::try_from(i) {
            out.push(u);
        }
        i += step;
    }
    out
}

/// The position of the `]` closing an indexer, skipping quoted names.
fn quoted_close(r: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in r.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ']') => return Some(i),
            _ => {}
        }
    }
    None
}

fn filter(expr: &str, at: usize) -> F<Vec<(Cond, bool)>> {
    let mut out = Vec::new();
    let mut rest = expr.trim();
    loop {
        let (part, join, next) = match (rest.find("&&"), rest.find("||")) {
            (Some(a), Some(o)) if a < o => (&rest[..a], true, Some(&rest[a + 2..])),
            (_, Some(o)) => (&rest[..o], false, Some(&rest[o + 2..])),
            (Some(a), None) => (&rest[..a], true, Some(&rest[a + 2..])),
            (None, None) => (rest, false, None),
        };
        out.push((condition(part.trim(), at)?, join));
        match next {
            Some(n) => rest = n.trim(),
            None => return Ok(out),
        }
    }
}

fn condition(part: &str, at: usize) -> F<Cond> {
    let ops = ["==", "!=", "<=", ">=", "<", ">"];
    let found = ops
        .iter()
        .filter_map(|op| part.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, std::cmp::Reverse(op.len())));
    let (lhs, test) = match found {
        Some((i, op)) => {
            let lit = part[i + op.len()..].trim();
            let value = if let Some(s) = lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
                J::String(s.to_string())
            } else {
                serde_json::from_str(lit)
                    .map_err(|_| err(format!("Could not read query value: {lit}"), at))?
            };
            (&part[..i], Some((op.to_string(), value)))
        }
        None => (part, None),
    };
    let lhs = lhs.trim();
    let path = lhs.strip_prefix('@').ok_or_else(|| {
        err(
            format!("Unexpected character while parsing path query: {lhs}"),
            at,
        )
    })?;
    let path = path
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_matches(['[', ']', '\'']).to_string())
        .collect();
    Ok(Cond { path, test })
}

fn descend(j: &JToken, name: Option<&str>, out: &mut Vec<JToken>) {
    match j.kind() {
        JKind::Object => {
            for p in j.children() {
                let Some(v) = p.property_value() else {
                    continue;
                };
                if name.is_none_or(|n| Some(n) == p.name().as_deref()) {
                    out.push(v.clone());
                }
                descend(&v, name, out);
            }
        }
        JKind::Array => {
            for v in j.children() {
                if name.is_none() {
                    out.push(v.clone());
                }
                descend(&v, name, out);
            }
        }
        _ => {}
    }
}

fn holds(item: &JToken, conds: &[(Cond, bool)]) -> bool {
    let mut acc: Option<bool> = None;
    let mut joined_and = false;
    for (c, and_next) in conds {
        let mut cur = Some(item.clone());
        for p in &c.path {
            cur = cur.and_then(|x| match x.kind() {
                JKind::Object => x.get(p),
                JKind::Array => p.parse::<usize>().ok().and_then(|i| x.at(i)),
                _ => None,
            });
        }
        let r = match (&c.test, cur) {
            (None, v) => v.is_some(),
            (Some(_), None) => false,
            (Some((op, want)), Some(v)) => compare(&v.to_serde(), op, want),
        };
        acc = Some(match acc {
            None => r,
            Some(a) if joined_and => a && r,
            Some(a) => a || r,
        });
        joined_and = *and_next;
    }
    acc.unwrap_or(false)
}

fn compare(v: &J, op: &str, want: &J) -> bool {
    use std::cmp::Ordering::*;
    let ord = match (v, want) {
        (J::Number(a), J::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (J::String(a), J::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(Equal),
        _ => None,
    };
    match op {
        "==" => ord == Some(Equal),
        "!=" => ord != Some(Equal),
        "<" => ord == Some(Less),
        "<=" => matches!(ord, Some(Less | Equal)),
        ">" => ord == Some(Greater),
        _ => matches!(ord, Some(Greater | Equal)),
    }
}

/// Every token `path` selects from `j`, in document order (the tokens themselves, not
/// copies). Each token visited is a step of the evaluation's time: the caller reads the clock
/// for large documents.
pub(crate) fn select_tokens(j: &JToken, path: &str, at: usize) -> F<Vec<JToken>> {
    let mut cur = vec![j.clone()];
    for step in parse(path, at)? {
        let mut next = Vec::new();
        for x in cur {
            let (object, array) = (x.is_object(), x.is_array());
            match &step {
                Step::Name(n) if object => next.extend(x.get(n)),
                Step::Names(ns) if object => next.extend(ns.iter().filter_map(|n| x.get(n))),
                Step::Index(ix) if array => {
                    let len = x.len();
                    for i in ix {
                        let i = if *i < 0 { len as i64 + i } else { *i };
                        next.extend(usize::try_from(i).ok().and_then(|i| x.at(i)));
                    }
                }
                Step::Slice(from, to, step) if array => {
                    for i in slice_positions(x.len(), *from, *to, *step) {
                        next.extend(x.at(i));
                    }
                }
                Step::Wildcard | Step::Filter(_) if object || array => {
                    let items = x.children().into_iter().filter_map(|c| {
                        if c.is_property() {
                            c.property_value()
                        } else {
                            Some(c)
                        }
                    });
                    match &step {
                        Step::Filter(c) => next.extend(items.filter(|i| holds(i, c))),
                        _ => next.extend(items),
                    }
                }
                Step::Descend(n) => descend(&x, n.as_deref(), &mut next),
                _ => {}
            }
        }
        cur = next;
    }
    Ok(cur)
}

/// `SelectToken(path)`: the one token selected, null for none, an error for several.
pub(crate) fn select_one(j: &JToken, path: &str, at: usize) -> F<Option<JToken>> {
    let mut found = select_tokens(j, path, at)?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(err("Path returned multiple tokens.", at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nums(path: &str) -> Vec<i64> {
        let j = JToken::from_serde(&serde_json::from_str("[1,2,3,4]").unwrap_or(J::Null));
        select_tokens(&j, path, 0)
            .map(|v| v.iter().filter_map(|x| x.scalar()?.as_i64()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn slices_as_newtonsoft_takes_them() {
        assert_eq!(nums("[1:3]"), [2, 3]);
        assert_eq!(nums("[-2:]"), [3, 4]);
        assert_eq!(nums("[:2]"), [1, 2]);
        assert_eq!(nums("[::2]"), [1, 3]);
        assert_eq!(nums("[::-2]"), [4, 2]);
        assert_eq!(nums("[5:9]"), Vec::<i64>::new());
        let j = JToken::from_serde(&serde_json::from_str("[1]").unwrap_or(J::Null));
        assert!(select_tokens(&j, "[::0]", 0).is_err());
    }
}
