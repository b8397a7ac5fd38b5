//! JSON text as Newtonsoft's `JsonTextWriter` writes a token: two-space indentation, `"a": 1`,
//! and the tokens serde_json has no syntax for, kept in a copied-out tree as marker objects
//! (crates/expr/src/jtree.rs): a `JConstructor` as `new Name(…)`, a `JRaw`'s text verbatim, a
//! comment as `/*text*/`, undefined as `undefined`.
//!
//! Commas follow `JsonWriter.AutoComplete`: a comment never writes one and does not count as a
//! value, so `[/*c*/1]` and `[1/*c*/,2]`; an indented array or object closes on its own line
//! unless nothing but comments was written in it, a constructor always does (`new Date(\n)`).
//! Checked under Mono (crates/expr/tests/oracle, expressions-json.txt):
//! ```csharp
//! new JConstructor("Date", 1, "a").ToString(Formatting.None)                // new Date(1,"a")
//! new JArray(new JRaw("[1,  2]"), 3).ToString(Formatting.None)              // [[1,  2],3]
//! new JArray(JValue.CreateComment("hi"), 3).ToString(Formatting.None)       // [/*hi*/3]
//! ```

use crate::jtree::{Flavor, marker, marks};
use serde_json::Value as J;

/// The text of `j`, or `None` once it would pass `cap` bytes.
pub(crate) fn text(j: &J, pretty: bool, cap: usize) -> Option<String> {
    let mut w = Writer {
        out: String::new(),
        pretty,
        cap,
    };
    w.value(j, 0)?;
    Some(w.out)
}

/// A string as a JSON literal (`"a\"b"`).
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

struct Writer {
    out: String,
    pretty: bool,
    cap: usize,
}

impl Writer {
    fn push(&mut self, s: &str) -> Option<()> {
        if self.out.len().saturating_add(s.len()) > self.cap {
            return None;
        }
        self.out.push_str(s);
        Some(())
    }

    fn newline(&mut self, depth: usize) -> Option<()> {
        if self.pretty {
            self.push("\n")?;
            for _ in 0..depth {
                self.push("  ")?;
            }
        }
        Some(())
    }

    fn value(&mut self, j: &J, depth: usize) -> Option<()> {
        match j {
            J::Null => self.push("null"),
            J::Bool(b) => self.push(if *b { "true" } else { "false" }),
            J::Number(n) => self.push(&n.to_string()),
            J::String(s) => self.push(&quoted(s)),
            J::Array(items) => self.sequence("[", items, "]", false, depth),
            J::Object(m) => match marker(m) {
                Some(Flavor::Constructor) => {
                    let name = m.get(&marks().new).and_then(J::as_str).unwrap_or("");
                    let items = m.get(&marks().args).and_then(J::as_array);
                    self.sequence(
                        &format!("new {name}("),
                        items.map_or(&[][..], Vec::as_slice),
                        ")",
                        true,
                        depth,
                    )
                }
                Some(Flavor::Raw) => match m.get(&marks().raw) {
                    Some(J::String(s)) => self.push(s),
                    Some(J::Null) | None => Some(()),
                    Some(other) => self.value(other, depth),
                },
                Some(Flavor::Comment) => {
                    let t = m.get(&marks().comment).and_then(J::as_str).unwrap_or("");
                    self.push("/*")?;
                    self.push(t)?;
                    self.push("*/")
                }
                Some(Flavor::Undefined) => self.push("undefined"),
                _ => self.object(m, depth),
            },
        }
    }

    fn sequence(
        &mut self,
        open: &str,
        items: &[J],
        close: &str,
        always_close_on_line: bool,
        depth: usize,
    ) -> Option<()> {
        self.push(open)?;
        if items.is_empty() && !always_close_on_line {
            return self.push(close);
        }
        let mut wrote_value = false;
        for item in items {
            if is_comment(item) {
                self.newline(depth + 1)?;
            } else {
                if wrote_value {
                    self.push(",")?;
                }
                self.newline(depth + 1)?;
                wrote_value = true;
            }
            self.value(item, depth + 1)?;
        }
        if wrote_value || always_close_on_line {
            self.newline(depth)?;
        }
        self.push(close)
    }

    fn object(&mut self, m: &serde_json::Map<String, J>, depth: usize) -> Option<()> {
        self.push("{")?;
        if m.is_empty() {
            return self.push("}");
        }
        for (i, (k, v)) in m.iter().enumerate() {
            if i > 0 {
                self.push(",")?;
            }
            self.newline(depth + 1)?;
            self.property(k, v, depth + 1)?;
        }
        self.newline(depth)?;
        self.push("}")
    }

    /// `"name": value`; a comment as a property's value is followed by the `null` Newtonsoft
    /// 13 completes the property with (`JsonWriter.WriteEnd` in state Property).
    fn property(&mut self, k: &str, v: &J, depth: usize) -> Option<()> {
        self.push(&quoted(k))?;
        self.push(if self.pretty { ": " } else { ":" })?;
        self.value(v, depth)?;
        if is_comment(v) {
            self.push(if self.pretty { " null" } else { "null" })?;
        }
        Some(())
    }
}

fn is_comment(j: &J) -> bool {
    matches!(j, J::Object(m) if marker(m) == Some(Flavor::Comment))
}

/// `"name": value` of a `JProperty` (its `ToString()`), indented or not.
pub(crate) fn property_text(name: &str, v: &J, pretty: bool, cap: usize) -> Option<String> {
    let mut w = Writer {
        out: String::new(),
        pretty,
        cap,
    };
    w.property(name, v, 0)?;
    Some(w.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_as_newtonsoft() {
        let j = json!({"a": [1, {}], "b": []});
        assert_eq!(
            text(&j, true, usize::MAX).as_deref(),
            Some("{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}")
        );
        assert_eq!(text(&j, true, 10), None);
        let k = marks();
        let comment = J::Object([(k.comment.clone(), json!("c"))].into_iter().collect());
        let c = J::Object(
            [
                (k.new.clone(), json!("Date")),
                (k.args.clone(), J::Array(vec![json!(1), comment, json!(2)])),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            text(&c, false, usize::MAX).as_deref(),
            Some("new Date(1/*c*/,2)")
        );
        let e = J::Object(
            [(k.new.clone(), json!("D")), (k.args.clone(), json!([]))]
                .into_iter()
                .collect(),
        );
        assert_eq!(text(&e, true, usize::MAX).as_deref(), Some("new D(\n)"));
    }
}
