//! The oracle's inputs: the hand-written corpus (crates/expr/tests/oracle/expressions.txt,
//! entries separated by `----` lines) and the list of known differences
//! (crates/expr/tests/oracle/known-differences.txt).

use std::collections::BTreeMap;

/// One expression: `{ … }` is a block (the body of `@{ … }`), anything else the inside of `@( … )`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub source: String,
    pub block: bool,
    /// Where it came from, for the report: `expressions.txt:<line>` or `generated`.
    pub origin: String,
}

impl Entry {
    pub fn new(text: &str, origin: String) -> Entry {
        let t = text.trim();
        match t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            Some(body) => Entry {
                source: body.trim().to_string(),
                block: true,
                origin,
            },
            None => Entry {
                source: t.to_string(),
                block: false,
                origin,
            },
        }
    }

    /// The entry on one line (whitespace runs collapsed): how known-differences.txt names it.
    pub fn key(&self) -> String {
        let collapsed = self.source.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.block {
            format!("{{ {collapsed} }}")
        } else {
            collapsed
        }
    }
}

/// Splits the corpus file: `----` lines separate entries, `//` lines at the start of an entry
/// are comments.
pub fn parse_corpus(text: &str, file: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (n, line) in text.lines().enumerate() {
        if line.trim() == "----" {
            push_entry(&mut out, &current, file, start);
            current.clear();
            start = n + 2;
            continue;
        }
        if current.trim().is_empty() && line.trim_start().starts_with("//") {
            start = n + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    push_entry(&mut out, &current, file, start);
    out
}

fn push_entry(out: &mut Vec<Entry>, text: &str, file: &str, line: usize) {
    if !text.trim().is_empty() {
        out.push(Entry::new(text, format!("{file}:{line}")));
    }
}

/// The known differences: whole classes (judged by a predicate in compare.rs) and single
/// expressions, each with why.
#[derive(Debug, Default)]
pub struct Known {
    pub classes: BTreeMap<String, String>,
    pub exprs: BTreeMap<String, String>,
}

/// Lines `class <name> #why <reason>` and `expr <expression on one line> #why <reason>`;
/// `#` lines are comments.
pub fn parse_known(text: &str) -> Result<Known, String> {
    let mut known = Known::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((head, why)) = line.rsplit_once(" #why ") else {
            return Err(format!(
                "known-differences.txt:{}: no ` #why ` reason",
                n + 1
            ));
        };
        if let Some(name) = head.strip_prefix("class ") {
            known.classes.insert(name.trim().into(), why.trim().into());
        } else if let Some(expr) = head.strip_prefix("expr ") {
            known.exprs.insert(expr.trim().into(), why.trim().into());
        } else {
            return Err(format!(
                "known-differences.txt:{}: neither `class` nor `expr`",
                n + 1
            ));
        }
    }
    Ok(known)
}
