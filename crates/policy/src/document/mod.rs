//! Policy documents as APIM reads them: a tolerant pre-pass lifts the C# expressions out
//! (they carry raw `"`, `<`, `>`, `&`), roxmltree parses the rest strictly, and the tree is
//! checked against the table of known policies into an owned, typed tree. Every error carries
//! the ORIGINAL file's line and column and the element path, and any error refuses the whole
//! document — a config change is all or nothing.

mod check;
mod compose;
mod load;
pub(crate) mod prepass;
mod schema;

use std::collections::HashMap;
use std::fmt;

pub use check::{
    CheckOutput, FileReport, FoundExpression, check_file, check_paths, check_source, expressions_in,
};
pub use compose::{Composed, compose, resolve_fragments};
pub use load::{parse_document, parse_fragment, parse_policies};
pub use prepass::ExprKind;

/// What went wrong, as the `policy check` JSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// Malformed XML, unknown element, misplaced `<base/>`, unknown named value, …
    Syntax,
    /// A missing, unknown or ill-typed attribute.
    Attribute,
    /// An expression that does not parse.
    Expression,
    /// A policy gatehouse deliberately cannot run (Azure-only) or does not run yet.
    Unsupported,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Attribute => "attribute",
            ErrorKind::Expression => "expression",
            ErrorKind::Unsupported => "unsupported",
        })
    }
}

/// One problem in one document, located in the original file. Messages never contain the
/// value of a secret named value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {kind}: {message}{at}", at = at_suffix(.element_path))]
pub struct PolicyError {
    pub file: String,
    /// 1-based line in the original file.
    pub line: u32,
    /// 1-based column (in characters) in the original file.
    pub column: u32,
    pub kind: ErrorKind,
    /// The policy concerned (always set for `Unsupported`).
    pub policy: Option<String>,
    /// e.g. `policies/inbound/choose/when[2]`; empty when the XML itself did not parse.
    pub element_path: String,
    pub message: String,
}

fn at_suffix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (at {path})")
    }
}

/// A named value (`{{name}}`) as configured. Debug never shows a secret's value.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedValue {
    pub value: String,
    pub secret: bool,
}

impl fmt::Debug for NamedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.secret {
            &"<secret>"
        } else {
            &self.value
        };
        f.debug_struct("NamedValue")
            .field("value", value)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Named values by name.
pub type NamedValues = HashMap<String, NamedValue>;

/// `text` with the value of every secret named value replaced by its `{{name}}`, longest
/// values first (one may contain another): for errors and reports about documents into which
/// named values were substituted.
pub fn redact_named(mut text: String, named: &NamedValues) -> String {
    let mut secrets: Vec<(&String, &NamedValue)> = named
        .iter()
        .filter(|(_, nv)| nv.secret && !nv.value.is_empty())
        .collect();
    secrets.sort_by_key(|(_, nv)| std::cmp::Reverse(nv.value.len()));
    for (name, nv) in secrets {
        if text.contains(&nv.value) {
            text = text.replace(&nv.value, &format!("{{{{{name}}}}}"));
        }
    }
    text
}

/// An attribute value or a piece of element text: a literal or one expression. `secret`
/// records that a secret named value was substituted into it, so Debug hides it.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Literal {
        text: String,
        secret: bool,
    },
    Expression {
        kind: ExprKind,
        /// The C# source between the delimiters (XML entities decoded, named values substituted).
        source: String,
        /// Line and column of the `@` in the original file.
        position: (u32, u32),
        secret: bool,
    },
}

impl Value {
    /// A literal without secrets (convenient in tests and synthesized elements).
    pub fn literal(text: impl Into<String>) -> Self {
        Value::Literal {
            text: text.into(),
            secret: false,
        }
    }

    /// The text of a literal, `None` for an expression.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Value::Literal { text, .. } => Some(text),
            Value::Expression { .. } => None,
        }
    }

    pub fn is_expression(&self) -> bool {
        matches!(self, Value::Expression { .. })
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HIDDEN: &str = "<contains a secret named value>";
        match self {
            Value::Literal { text, secret } => {
                let t: &dyn fmt::Debug = if *secret { &HIDDEN } else { text };
                f.debug_tuple("Literal").field(t).finish()
            }
            Value::Expression {
                kind,
                source,
                position,
                secret,
            } => {
                let s: &dyn fmt::Debug = if *secret { &HIDDEN } else { source };
                f.debug_struct("Expression")
                    .field("kind", kind)
                    .field("source", s)
                    .field("position", position)
                    .finish()
            }
        }
    }
}

/// A child of an element: an element or a piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(PolicyElement),
    Text(Value),
}

/// One element of a policy document (a policy, or a sub-element such as `when` or `value`).
/// `<base/>` is an element named `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyElement {
    pub name: String,
    pub attributes: Vec<(String, Value)>,
    pub children: Vec<Node>,
    /// Line and column of the `<` in the original file.
    pub position: (u32, u32),
    /// e.g. `policies/inbound/choose/when[2]` (index 1-based, only among same-named siblings).
    pub path: String,
}

impl PolicyElement {
    /// The value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &PolicyElement> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The text children, in order.
    pub fn text(&self) -> impl Iterator<Item = &Value> {
        self.children.iter().filter_map(|n| match n {
            Node::Text(v) => Some(v),
            Node::Element(_) => None,
        })
    }

    pub fn is_base(&self) -> bool {
        self.name == "base"
    }
}

/// The four sections of APIM, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Inbound,
    Backend,
    Outbound,
    OnError,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Inbound,
        Section::Backend,
        Section::Outbound,
        Section::OnError,
    ];

    /// The element name of the section.
    pub fn name(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }
}

/// The four sections of a policy: what a scope's document holds and what composition produces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sections {
    pub inbound: Vec<PolicyElement>,
    pub backend: Vec<PolicyElement>,
    pub outbound: Vec<PolicyElement>,
    pub on_error: Vec<PolicyElement>,
}

impl Sections {
    pub fn section(&self, s: Section) -> &[PolicyElement] {
        match s {
            Section::Inbound => &self.inbound,
            Section::Backend => &self.backend,
            Section::Outbound => &self.outbound,
            Section::OnError => &self.on_error,
        }
    }

    pub fn section_mut(&mut self, s: Section) -> &mut Vec<PolicyElement> {
        match s {
            Section::Inbound => &mut self.inbound,
            Section::Backend => &mut self.backend,
            Section::Outbound => &mut self.outbound,
            Section::OnError => &mut self.on_error,
        }
    }
}

/// A `<policies>` document of one scope. A section the document omits holds a single
/// synthesized `<base/>`: it inherits, like a missing scope document does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    /// The file name used in errors.
    pub file: String,
    pub sections: Sections,
}

// A document *is* its sections plus a file name: `doc.inbound`, `doc.section(s)` read through.
impl std::ops::Deref for PolicyDocument {
    type Target = Sections;
    fn deref(&self) -> &Sections {
        &self.sections
    }
}

impl std::ops::DerefMut for PolicyDocument {
    fn deref_mut(&mut self) -> &mut Sections {
        &mut self.sections
    }
}

/// A `<fragment>` document: policies to include elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fragment {
    pub file: String,
    pub elements: Vec<PolicyElement>,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    Policies(PolicyDocument),
    Fragment(Fragment),
}

/// THE single call site where expression sources are checked at load. The lead points this
/// at the expression parser (`crate::expr::parse`) once it exists; until then only balanced
/// delimiters (outside C# literals and comments) and non-emptiness are checked. Returns the
/// byte offset in `source` and a message.
pub fn check_expression(source: &str, kind: ExprKind) -> Result<(), ExpressionProblem> {
    if source.trim().is_empty() {
        return Err(ExpressionProblem {
            offset: 0,
            message: "empty expression".into(),
            unsupported: None,
        });
    }
    // Named values are substituted as text before APIM compiles an expression; without a store
    // (`policy check`) each `{{name}}` stands for a value: `0` parses wherever a value may go,
    // inside a string literal as well as outside.
    let probe = without_named_values(source);
    crate::expr::parse(&probe, kind)
        .map(|_| ())
        .map_err(|e| ExpressionProblem {
            offset: e.offset.min(source.len()),
            message: e.message,
            unsupported: e.unsupported,
        })
}

/// Why an expression does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionProblem {
    /// Byte offset in the expression's source.
    pub offset: usize,
    pub message: String,
    /// A C# feature gatehouse deliberately does not support yet, named.
    pub unsupported: Option<String>,
}

fn without_named_values(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains("{{") {
        return std::borrow::Cow::Borrowed(source);
    }
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
    std::borrow::Cow::Owned(out)
}
