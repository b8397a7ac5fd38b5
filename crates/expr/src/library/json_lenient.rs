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

/// Strict JSON for Newtonsoft's lenient syntax; `None` when the text is malformed either way
/// (the caller then reports serde_json's error on the original).
pub(super) fn strict_text(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() + 16);
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
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
                } else {
                    return None;
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::strict_text;

    #[test]
    fn rewrites_newtonsoft_syntax() {
        let t = strict_text("{'a': 'it\\'s \"q\"', b: 1, /* c */ 'c': [true, null] // end\n}");
        let j: serde_json::Value =
            serde_json::from_str(t.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_eq!(j.to_string(), r#"{"a":"it's \"q\"","b":1,"c":[true,null]}"#);
        assert_eq!(strict_text("{a: undefined}"), None);
        assert_eq!(strict_text("{'open: 1}"), None);
    }
}
