//! APIM URL templates: `/orders/{id}`, `/files/{name}.json`, `/search?q={q}`, the wildcard `/*`
//! and a catch-all `{*path}`. Parsed once at config load; matched per request without allocating
//! except for the captured values.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// Literal and parameter parts within one segment, e.g. `{name}.json`.
    Mixed(Vec<Part>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tail {
    /// Nothing may follow the last segment.
    Exact,
    /// `*`: any rest, including none.
    Wildcard,
    /// `{*name}`: any rest, captured.
    CatchAll(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct QueryParam {
    name: String,
    /// The parameter name in braces, or `None` when the template gives a fixed value.
    capture: Option<String>,
    fixed: Option<String>,
}

/// A parsed URL template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    text: String,
    segments: Vec<Segment>,
    tail: Tail,
    query: Vec<QueryParam>,
    params: Vec<String>,
}

impl UrlTemplate {
    /// Parses a template; the error says what is wrong (`unbalanced '{'`).
    pub fn parse(text: &str) -> Result<UrlTemplate, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty URL template: use '/' or '/*'".to_string());
        }
        if t == "*" {
            return Ok(UrlTemplate::wildcard(text));
        }
        if !t.starts_with('/') {
            return Err(format!("must start with '/': '{t}'"));
        }
        check_braces(t)?;
        let (path, query) = match t.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (t, None),
        };
        let mut params: Vec<String> = Vec::new();
        let mut segments = Vec::new();
        let mut tail = Tail::Exact;
        let raw: Vec<&str> = path[1..].split('/').collect();
        let n = raw.len();
        for (i, seg) in raw.iter().enumerate() {
            let last = i + 1 == n;
            if seg.is_empty() {
                if last {
                    break; // a trailing '/' (or the root "/")
                }
                return Err("empty path segment ('//')".to_string());
            }
            if *seg == "*" {
                if !last {
                    return Err("wildcard '*' is only allowed as the last segment".to_string());
                }
                tail = Tail::Wildcard;
                break;
            }
            if let Some(name) = seg.strip_prefix("{*").and_then(|s| s.strip_suffix('}')) {
                if !last {
                    return Err(format!(
                        "catch-all '{{*{name}}}' is only allowed as the last segment"
                    ));
                }
                add_param(&mut params, name)?;
                tail = Tail::CatchAll(name.to_string());
                break;
            }
            if seg.contains('*') {
                return Err(format!("'*' must be a whole segment: '{seg}'"));
            }
            segments.push(parse_segment(seg, &mut params)?);
        }
        let mut qparams = Vec::new();
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if name.is_empty() || name.contains(['{', '}']) {
                    return Err(format!("invalid query parameter '{pair}'"));
                }
                let capture = match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                    Some(p) => {
                        add_param(&mut params, p)?;
                        Some(p.to_string())
                    }
                    None if value.contains(['{', '}']) => {
                        return Err(format!(
                            "query parameter '{name}' must be a whole '{{param}}' or a fixed value"
                        ));
                    }
                    None => None,
                };
                let fixed = if capture.is_none() {
                    Some(value.to_string())
                } else {
                    None
                };
                qparams.push(QueryParam {
                    name: name.to_string(),
                    capture,
                    fixed,
                });
            }
        }
        Ok(UrlTemplate {
            text: t.to_string(),
            segments,
            tail,
            query: qparams,
            params,
        })
    }

    fn wildcard(text: &str) -> UrlTemplate {
        UrlTemplate {
            text: text.trim().to_string(),
            segments: Vec::new(),
            tail: Tail::Wildcard,
            query: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Names of the parameters, in the order [`UrlTemplate::matches`] returns their values.
    pub fn param_names(&self) -> &[String] {
        &self.params
    }

    /// Matches a path relative to the API's prefix (`/orders/42`, or empty for the API root) and
    /// the raw query string. Returns the captured values (still percent-encoded) in the order of
    /// [`UrlTemplate::param_names`].
    pub fn matches<'a>(&self, path: &'a str, query: Option<&'a str>) -> Option<Vec<&'a str>> {
        let mut values: Vec<&'a str> = Vec::with_capacity(self.params.len());
        let path = path.strip_prefix('/').unwrap_or(path);
        // One trailing slash is not significant: `/orders/42/` is `/orders/42`.
        let path = path.strip_suffix('/').unwrap_or(path);
        let mut rest = path;
        for seg in &self.segments {
            if rest.is_empty() {
                return None;
            }
            let (this, next) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            if !match_segment(seg, this, &mut values) {
                return None;
            }
            rest = next;
        }
        match &self.tail {
            Tail::Exact if !rest.is_empty() => return None,
            Tail::Exact | Tail::Wildcard => {}
            Tail::CatchAll(_) => values.push(rest),
        }
        for qp in &self.query {
            let value = query_value(query.unwrap_or(""), &qp.name)?;
            match (&qp.capture, &qp.fixed) {
                (Some(_), _) => values.push(value),
                (None, Some(fixed)) if fixed == value => {}
                _ => return None,
            }
        }
        // Path parameters are declared before query parameters, as they were pushed.
        Some(values)
    }

    /// Orders templates from most to least specific, so the first match is APIM's choice:
    /// literal segments beat mixed ones, which beat parameters, which beat wildcards; more
    /// required query parameters beat fewer.
    pub fn specificity_cmp(&self, other: &UrlTemplate) -> Ordering {
        let rank = |s: &Segment| match s {
            Segment::Literal(_) => 0u8,
            Segment::Mixed(_) => 1,
            Segment::Param(_) => 2,
        };
        let tail_rank = |t: &Tail| match t {
            Tail::Exact => 0u8,
            Tail::CatchAll(_) => 1,
            Tail::Wildcard => 2,
        };
        for (a, b) in self.segments.iter().zip(&other.segments) {
            match rank(a).cmp(&rank(b)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        // With a common prefix of the same kinds, the longer template is more specific unless it
        // ends in a wildcard and the other does not.
        tail_rank(&self.tail)
            .cmp(&tail_rank(&other.tail))
            .then_with(|| other.segments.len().cmp(&self.segments.len()))
            .then_with(|| other.query.len().cmp(&self.query.len()))
    }
}

fn check_braces(t: &str) -> Result<(), String> {
    let mut open = false;
    for c in t.chars() {
        match c {
            '{' if open => return Err("unbalanced '{': nested '{'".to_string()),
            '{' => open = true,
            '}' if !open => return Err("unbalanced '}'".to_string()),
            '}' => open = false,
            '/' | '?' | '&' | '=' if open => return Err("unbalanced '{'".to_string()),
            _ => {}
        }
    }
    if open {
        Err("unbalanced '{'".to_string())
    } else {
        Ok(())
    }
}

fn add_param(params: &mut Vec<String>, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty parameter name '{}'".to_string());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'))
    {
        return Err(format!("invalid parameter name '{name}'"));
    }
    if params.iter().any(|p| p == name) {
        return Err(format!("duplicate parameter '{name}'"));
    }
    params.push(name.to_string());
    Ok(())
}

fn parse_segment(seg: &str, params: &mut Vec<String>) -> Result<Segment, String> {
    if !seg.contains('{') {
        return Ok(Segment::Literal(seg.to_string()));
    }
    let mut parts = Vec::new();
    let mut rest = seg;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest.find('}').ok_or("unbalanced '{'")?;
                let name = &rest[1..end];
                add_param(params, name)?;
                if matches!(parts.last(), Some(Part::Param(_))) {
                    return Err(format!(
                        "parameters must be separated by literal text in '{seg}'"
                    ));
                }
                parts.push(Part::Param(name.to_string()));
                rest = &rest[end + 1..];
            }
            Some(i) => {
                parts.push(Part::Lit(rest[..i].to_string()));
                rest = &rest[i..];
            }
            None => {
                parts.push(Part::Lit(rest.to_string()));
                rest = "";
            }
        }
    }
    Ok(match parts.as_slice() {
        [Part::Param(p)] => Segment::Param(p.clone()),
        _ => Segment::Mixed(parts),
    })
}

fn match_segment<'a>(seg: &Segment, text: &'a str, values: &mut Vec<&'a str>) -> bool {
    match seg {
        Segment::Literal(l) => l == text,
        Segment::Param(_) => {
            values.push(text);
            !text.is_empty()
        }
        Segment::Mixed(parts) => {
            let mut rest = text;
            let mut i = 0;
            while i < parts.len() {
                match &parts[i] {
                    Part::Lit(l) => match rest.strip_prefix(l.as_str()) {
                        Some(r) => rest = r,
                        None => return false,
                    },
                    Part::Param(_) => {
                        // The value runs to the next literal (its first occurrence), or to the
                        // end of the segment when the parameter is last.
                        let end = match parts.get(i + 1) {
                            Some(Part::Lit(l)) if i + 2 == parts.len() => {
                                if !rest.ends_with(l.as_str()) || rest.len() <= l.len() {
                                    return false;
                                }
                                rest.len() - l.len()
                            }
                            Some(Part::Lit(l)) => match rest.find(l.as_str()) {
                                Some(0) | None => return false,
                                Some(e) => e,
                            },
                            _ => {
                                if rest.is_empty() {
                                    return false;
                                }
                                rest.len()
                            }
                        };
                        values.push(&rest[..end]);
                        rest = &rest[end..];
                    }
                }
                i += 1;
            }
            rest.is_empty()
        }
    }
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (n == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> UrlTemplate {
        UrlTemplate::parse(s).unwrap()
    }

    #[test]
    fn literal_and_params() {
        let tpl = t("/orders/{id}");
        assert_eq!(tpl.param_names(), ["id"]);
        assert_eq!(tpl.matches("/orders/42", None), Some(vec!["42"]));
        assert_eq!(tpl.matches("/orders/42/", None), Some(vec!["42"]));
        assert_eq!(tpl.matches("/orders", None), None);
        assert_eq!(tpl.matches("/orders/", None), None);
        assert_eq!(tpl.matches("/orders/42/items", None), None);
        assert_eq!(tpl.matches("/order/42", None), None);
    }

    #[test]
    fn several_params_and_mixed_segments() {
        let tpl = t("/users/{uid}/files/{name}.{ext}");
        assert_eq!(
            tpl.matches("/users/u1/files/report.v2.pdf", None),
            Some(vec!["u1", "report", "v2.pdf"])
        );
        let tpl = t("/files/{name}.json");
        assert_eq!(tpl.matches("/files/a.b.json", None), Some(vec!["a.b"]));
        assert_eq!(tpl.matches("/files/.json", None), None);
        assert_eq!(tpl.matches("/files/a.xml", None), None);
        let tpl = t("/v{major}");
        assert_eq!(tpl.matches("/v2", None), Some(vec!["2"]));
        assert_eq!(tpl.matches("/v", None), None);
    }

    #[test]
    fn root_and_wildcards() {
        assert_eq!(t("/").matches("", None), Some(vec![]));
        assert_eq!(t("/").matches("/", None), Some(vec![]));
        assert_eq!(t("/").matches("/x", None), None);
        for w in ["/*", "*"] {
            let tpl = t(w);
            assert!(tpl.matches("", None).is_some());
            assert!(tpl.matches("/a/b/c", Some("x=1")).is_some());
        }
        let tpl = t("/files/*");
        assert!(tpl.matches("/files", None).is_some());
        assert!(tpl.matches("/files/a/b", None).is_some());
        assert!(tpl.matches("/other", None).is_none());
        let tpl = t("/static/{*path}");
        assert_eq!(
            tpl.matches("/static/css/site.css", None),
            Some(vec!["css/site.css"])
        );
    }

    #[test]
    fn query_parameters_in_template() {
        let tpl = t("/search?q={q}&mode=fast");
        assert_eq!(tpl.param_names(), ["q"]);
        assert_eq!(
            tpl.matches("/search", Some("mode=fast&q=cats")),
            Some(vec!["cats"])
        );
        assert_eq!(tpl.matches("/search", Some("q=cats")), None);
        assert_eq!(tpl.matches("/search", Some("q=cats&mode=slow")), None);
        assert_eq!(tpl.matches("/search", None), None);
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("/orders/{id", "unbalanced '{'"),
            ("/orders/id}", "unbalanced '}'"),
            ("/orders/{{id}}", "nested '{'"),
            ("/orders/{}", "empty parameter name"),
            ("/a/{id}/b/{id}", "duplicate parameter 'id'"),
            ("orders", "must start with '/'"),
            ("/a/*/b", "only allowed as the last segment"),
            ("/a//b", "empty path segment"),
            ("/a/{x}{y}", "separated by literal text"),
            ("/a/b*", "must be a whole segment"),
            ("", "empty URL template"),
            ("/a/{x y}", "invalid parameter name"),
        ];
        for (tpl, want) in cases {
            let err = UrlTemplate::parse(tpl).unwrap_err();
            assert!(err.contains(want), "{tpl}: got {err:?}, want {want:?}");
        }
    }

    #[test]
    fn specificity_orders_literal_before_param_before_wildcard() {
        let mut v = [
            t("/*"),
            t("/orders/{id}"),
            t("/orders/recent"),
            t("/orders/*"),
            t("/orders/{id}/items"),
        ];
        v.sort_by(|a, b| a.specificity_cmp(b));
        let order: Vec<&str> = v.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            order,
            [
                "/orders/recent",
                "/orders/{id}/items",
                "/orders/{id}",
                "/orders/*",
                "/*"
            ]
        );
    }
}
