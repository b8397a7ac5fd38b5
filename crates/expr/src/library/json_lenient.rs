//! Newtonsoft reads more than strict JSON, and C# written for APIM relies on it
//! (`JObject.Parse("{'a': 1}")`): single-quoted strings, unquoted property names and
//! `//`/`/* */` comments. Text serde_json refuses is rewritten into strict JSON and parsed
//! again; strict text never takes this path.
//!
//! Checked against Newtonsoft under Mono:
//! ```csharp
//! JObject.Parse("{'a': 'it\\'s \"q\"', b: 1, /* c */ 'c': [true, null] // end\n}")
//!     .ToString(Formatting.None)   // {"a":"it's \"q\"","b":1,"c":[true,null]}
//! ```

use crate::jtree::marks;

/// A string as a JSON literal.
fn key(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Strict JSON for Newtonsoft's lenient syntax; `None` when the text is malformed either way
/// (the caller then reports serde_json's error on the original).
pub(super) fn strict_text(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 16);
    let mut it = s.chars().peekable();
    // Open constructors (`new Date(`), closed by `)`: each is written as the marker object
    // crates/expr/src/jtree.rs turns into a JConstructor.
    let mut open_constructors = 0usize;
    while let Some(c) = it.next() {
        match c {
            ')' => {
                open_constructors = open_constructors.checked_sub(1)?;
                out.push_str("]}");
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for d in it.by_ref() {
                    out.push(d);
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                out.push('"');
                loop {
                    match it.next()? {
                        '\\' => match it.next()? {
                            '\'' => out.push('\''),
                            e => {
                                out.push('\\');
                                out.push(e);
                            }
                        },
                        '"' => out.push_str("\\\""),
                        '\'' => break,
                        d => out.push(d),
                    }
                }
                out.push('"');
            }
            '/' => match it.next()? {
                '/' => {
                    for d in it.by_ref() {
                        if d == '\n' {
                            break;
                        }
                    }
                    out.push(' ');
                }
                '*' => {
                    let mut prev = ' ';
                    loop {
                        let d = it.next()?;
                        if prev == '*' && d == '/' {
                            break;
                        }
                        prev = d;
                    }
                    out.push(' ');
                }
                _ => return None,
            },
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&d) = it.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        word.push(d);
                        it.next();
                    } else {
                        break;
                    }
                }
                // A property name is followed by ':'; anything else must be a literal.
                let rest: String = it.clone().take_while(|d| d.is_whitespace()).collect();
                let is_name = it.clone().nth(rest.chars().count()) == Some(':');
                if is_name {
                    out.push('"');
                    out.push_str(&word);
                    out.push('"');
                } else if matches!(word.as_str(), "true" | "false" | "null") {
                    out.push_str(&word);
                } else if word == "undefined" {
                    out.push('{');
                    out.push_str(&key(&marks().undefined));
                    out.push_str(":null}");
                } else if word == "new" {
                    // `new Name(`: Newtonsoft's constructor syntax (JsonTextReader's
                    // ParseConstructor: a name of letters and digits, then `(`).
                    while it.peek().is_some_and(|d| d.is_whitespace()) {
                        it.next();
                    }
                    let mut name = String::new();
                    while let Some(&d) = it.peek() {
                        if d.is_alphanumeric() {
                            name.push(d);
                            it.next();
                        } else {
                            break;
                        }
                    }
                    while it.peek().is_some_and(|d| d.is_whitespace()) {
                        it.next();
                    }
                    if name.is_empty() || it.next() != Some('(') {
                        return None;
                    }
                    open_constructors += 1;
                    out.push('{');
                    out.push_str(&key(&marks().new));
                    out.push(':');
                    out.push_str(&key(&name));
                    out.push(',');
                    out.push_str(&key(&marks().args));
                    out.push_str(":[");
                } else {
                    return None;
                }
            }
            c => out.push(c),
        }
    }
    (open_constructors == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{key, strict_text};
    use crate::jtree::marks;

    #[test]
    fn rewrites_newtonsoft_syntax() {
        let t = strict_text("{'a': 'it\\'s \"q\"', b: 1, /* c */ 'c': [true, null] // end\n}");
        let j: serde_json::Value =
            serde_json::from_str(t.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_eq!(j.to_string(), r#"{"a":"it's \"q\"","b":1,"c":[true,null]}"#);
        let k = marks();
        assert_eq!(
            strict_text("{a: undefined}"),
            Some(format!(r#"{{"a": {{{}:null}}}}"#, key(&k.undefined)))
        );
        assert_eq!(
            strict_text("[new Date(1, 2)]"),
            Some(format!(
                r#"[{{{}:"Date",{}:[1, 2]}}]"#,
                key(&k.new),
                key(&k.args)
            ))
        );
        assert_eq!(strict_text("new Date(1"), None);
        assert_eq!(strict_text("{'open: 1}"), None);
    }
}
