//! `gatehouse policy check`: load each file (policies or fragment) without a named-value
//! store and report, per file, `ok` or its errors plus the policies it uses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::ser::{SerializeStruct, Serializer};

use super::load::load;
use super::{Document, ErrorKind, Node, PolicyElement, PolicyError, Section, Value};
use crate::expr::{ExprKind, parse};

/// The verdict on one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub ok: bool,
    pub errors: Vec<PolicyError>,
    /// Every policy element name the document uses (including unsupported ones).
    pub policies_used: BTreeSet<String>,
    /// Policies gatehouse cannot run (Azure-only) or does not run yet, in document order.
    pub unsupported: Vec<String>,
}

/// The JSON form: exactly `{"path", "ok", "errors": [...]}`.
impl serde::Serialize for FileReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("FileReport", 3)?;
        st.serialize_field("path", &self.path.display().to_string())?;
        st.serialize_field("ok", &self.ok)?;
        st.serialize_field("errors", &self.errors)?;
        st.end()
    }
}

/// The JSON form of an error: exactly `{"line", "column", "kind", "policy", "message"}`.
impl serde::Serialize for PolicyError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PolicyError", 5)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("policy", &self.policy)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

/// What `policy check --json` prints: `{"files": [...]}`.
#[derive(Debug, serde::Serialize)]
pub struct CheckOutput<'a> {
    pub files: &'a [FileReport],
}

/// Checks source text already in memory (the file name is used in errors).
pub fn check_source(path: &Path, source: &str) -> FileReport {
    let file = path.display().to_string();
    let mut out = load(&file, source, None);
    if let Some(doc) = &out.document {
        unsupported_members(&file, doc, &mut out.errors);
    }
    FileReport {
        path: path.to_path_buf(),
        ok: out.errors.is_empty() && out.document.is_some(),
        errors: out.errors,
        policies_used: out.policies_used,
        unsupported: out.unsupported,
    }
}

/// Adds an `unsupported` error for each member or type an expression uses that the expression
/// library does not implement (see `Program::unsupported_members`): loading only parses
/// expressions, so without this such a policy would pass `check` and fail on its first request.
/// Expressions that do not parse were reported by the load already and are skipped.
fn unsupported_members(file: &str, doc: &Document, errors: &mut Vec<PolicyError>) {
    each_expression(doc, |policy, el, found| {
        for (at, message) in expression_findings(&found.source, found.kind, found.position) {
            errors.push(PolicyError {
                file: file.to_string(),
                line: at.0,
                column: at.1,
                kind: ErrorKind::Unsupported,
                policy: Some(policy.name.clone()),
                element_path: el.path.clone(),
                message,
            });
        }
    });
}

/// One policy expression of a document, as written there (entities decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundExpression {
    pub kind: ExprKind,
    pub source: String,
    /// Line and column of its `@` in the file.
    pub position: (u32, u32),
    /// The element that holds it, e.g. `policies/inbound/set-body`.
    pub element_path: String,
}

/// Every expression of a policy document or fragment, in document order, also when the
/// document has other errors (an Azure-only policy): what a tool lists, or an oracle runs.
/// Empty when the file does not load as XML at all.
pub fn expressions_in(path: &Path, source: &str) -> Vec<FoundExpression> {
    let out = load(&path.display().to_string(), source, None);
    let mut found = Vec::new();
    if let Some(doc) = &out.document {
        each_expression(doc, |_, _, e| found.push(e));
    }
    found
}

/// Calls `f` with (top-level policy, element, expression) for every expression in `doc`'s
/// attributes and text, in document order.
fn each_expression(
    doc: &Document,
    mut f: impl FnMut(&PolicyElement, &PolicyElement, FoundExpression),
) {
    let top: Vec<&PolicyElement> = match doc {
        Document::Policies(d) => Section::ALL
            .iter()
            .flat_map(|s| d.section(*s).iter())
            .collect(),
        Document::Fragment(f) => f.elements.iter().collect(),
    };
    for policy in top {
        let mut stack = vec![policy];
        while let Some(el) = stack.pop() {
            let values = el.attributes.iter().map(|(_, v)| v).chain(el.text());
            for v in values {
                if let Value::Expression {
                    kind,
                    source,
                    position,
                    ..
                } = v
                {
                    let found = FoundExpression {
                        kind: *kind,
                        source: source.clone(),
                        position: *position,
                        element_path: el.path.clone(),
                    };
                    f(policy, el, found);
                }
            }
            // Children in reverse so that expressions come out in document order.
            stack.extend(el.children.iter().rev().filter_map(|n| match n {
                Node::Element(e) => Some(e),
                Node::Text(_) => None,
            }));
        }
    }
}

/// The findings of one expression, each located in the file: the expression text starts two
/// characters after its `@` (`@(` or `@{`). Columns after an XML entity inside the expression
/// are approximate, since the text here is entity-decoded.
fn expression_findings(
    source: &str,
    kind: ExprKind,
    position: (u32, u32),
) -> Vec<((u32, u32), String)> {
    let probe = without_named_values(source);
    let Ok(program) = parse(&probe, kind) else {
        return Vec::new();
    };
    program
        .unsupported_members()
        .into_iter()
        .map(|e| {
            let (mut line, mut column) = (position.0, position.1.saturating_add(2));
            let prefix = probe.get(..e.offset.min(probe.len())).unwrap_or("");
            for c in prefix.chars() {
                if c == '\n' {
                    line = line.saturating_add(1);
                    column = 1;
                } else {
                    column = column.saturating_add(1);
                }
            }
            let message = format!(
                "expression uses {}, which gatehouse does not support yet",
                e.unsupported.unwrap_or(e.message)
            );
            ((line, column), message)
        })
        .collect()
}

/// `{{name}}` stands for a value when there is no named-value store (as at load): `0` parses
/// wherever a value may go.
fn without_named_values(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j)
                if !after[..j].is_empty()
                    && after[..j]
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
            {
                out.push_str(&rest[..i]);
                out.push('0');
                rest = &after[j + 2..];
            }
            _ => {
                out.push_str(&rest[..i + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks one file.
pub fn check_file(path: &Path) -> FileReport {
    match std::fs::read_to_string(path) {
        Ok(source) => check_source(path, &source),
        Err(e) => FileReport {
            path: path.to_path_buf(),
            ok: false,
            errors: vec![PolicyError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                kind: ErrorKind::Syntax,
                policy: None,
                element_path: String::new(),
                message: format!("cannot read file: {e}"),
            }],
            policies_used: BTreeSet::new(),
            unsupported: Vec::new(),
        },
    }
}

/// Checks files and directories (walked recursively for `*.xml`, in sorted order).
pub fn check_paths(paths: &[PathBuf]) -> Vec<FileReport> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files);
        } else {
            files.push(p.clone());
        }
    }
    files.iter().map(|f| check_file(f)).collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // An unreadable directory still yields a report through check_file's read error.
        files.push(dir.to_path_buf());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
            files.push(p);
        }
    }
}
