//! The C# expression subset APIM policies use inside `@( … )` and `@{ … }`.
//!
//! Policies must run unchanged, so the surface follows C# (literals, operators, LINQ, the BCL
//! methods APIM allows). Text is parsed once into a tree ([`parse`]) and run per request
//! ([`eval`]) against a [`Context`] that exposes `context.…`. There is deliberately no library
//! function that touches files, the network or processes: an expression cannot reach them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod ast;
mod budget;
mod datetime;
mod features;
mod interp;
mod lexer;
mod library;
mod parser;
mod scan;
mod value;
mod xml;

pub use budget::{Budget, DEFAULT_MEMORY_BUDGET, DEFAULT_TIME_BUDGET, Limits};
pub use value::{DateTime, HashKind, Lambda, Object, RegexMatch, TimeSpan, Value};
pub use xml::{XAttribute, XElement, XName, XNode};

/// Which form the expression was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExprKind {
    /// `@( … )`: exactly one expression.
    Single,
    /// `@{ … }`: statements that end in `return`.
    Block,
}

/// A parse error. `offset` is a byte offset into the parsed text so `policy check` can point at
/// it; `unsupported` names a C# feature we deliberately do not support yet, so authors can tell
/// "you made a typo" from "gatehouse cannot run this".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at offset {offset})")]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
    pub unsupported: Option<String>,
}

impl ExprError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        ExprError {
            offset,
            message: message.into(),
            unsupported: None,
        }
    }

    pub(crate) fn unsupported(mut self, feature: impl Into<String>) -> Self {
        self.unsupported = Some(feature.into());
        self
    }
}

/// An error raised while running an expression. It becomes `context.LastError` in `on-error`,
/// so the message follows the wording of the .NET exception the same code raises in APIM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuntimeError {
    pub message: String,
    /// The .NET exception type, e.g. `NullReferenceException`, `InvalidCastException`.
    pub kind: &'static str,
    /// Byte offset of the failing node in the source.
    pub offset: usize,
    /// Set when the evaluation ran out of one of its budgets (not an error of the program's
    /// own logic): the gateway logs these.
    pub budget: Option<Budget>,
}

/// A parsed expression, ready to run any number of times.
#[derive(Debug, Clone)]
pub struct Program {
    kind: ExprKind,
    body: Body,
    features: BTreeSet<&'static str>,
}

#[derive(Debug, Clone)]
enum Body {
    Expr(ast::Expr),
    Block(Vec<ast::Stmt>),
}

impl Program {
    /// The library features the program uses (`json`, `regex`, `crypto`, `linq`, `context` …),
    /// for `policy check` to report what a policy relies on.
    pub fn features(&self) -> BTreeSet<&'static str> {
        self.features.clone()
    }

    pub fn kind(&self) -> ExprKind {
        self.kind
    }

    /// Members and types the program uses that the library does not implement, where that is
    /// decidable from the text (static members of known types, unknown types, `context`
    /// members, methods on string literals). Each is an error with `unsupported` set; running
    /// the program would fail on it when reached. Conservative: no finding for anything the
    /// interpreter can run.
    pub fn unsupported_members(&self) -> Vec<ExprError> {
        let found = match &self.body {
            Body::Expr(e) => scan::scan_exprs(&[e], &[]),
            Body::Block(b) => scan::scan_exprs(&[], b),
        };
        found
            .into_iter()
            .map(|f| {
                ExprError::new(f.offset, format!("{} is not supported", f.what)).unsupported(f.what)
            })
            .collect()
    }
}

/// Parses the text inside `@( … )` (kind Single: one expression) or `@{ … }` (kind Block:
/// statements with `return`).
pub fn parse(source: &str, kind: ExprKind) -> Result<Program, ExprError> {
    let mut p = parser::Parser::new(source, 0)?;
    let body = match kind {
        ExprKind::Single => {
            let e = p.expr()?;
            p.expect_eof()?;
            Body::Expr(e)
        }
        ExprKind::Block => {
            p.features.insert("statements");
            Body::Block(p.statements_to_eof()?)
        }
    };
    Ok(Program {
        kind,
        body,
        features: p.features,
    })
}

/// Upper bound on evaluation steps per run, so a `while (true)` in a policy fails with an error
/// instead of pinning a worker thread.
pub const DEFAULT_STEP_BUDGET: u64 = 1_000_000;

/// Runs a program against a context with the default [`Limits`].
pub fn eval(program: &Program, ctx: &mut dyn Context) -> Result<Value, RuntimeError> {
    eval_with(program, ctx, &Limits::default())
}

/// Runs a program against a context within `limits`: running out of steps, time or memory
/// fails the evaluation with a [`RuntimeError`] whose `budget` says which, and no allocation
/// beyond the memory budget is made first.
pub fn eval_with(
    program: &Program,
    ctx: &mut dyn Context,
    limits: &Limits,
) -> Result<Value, RuntimeError> {
    let mut it = interp::Interp::new(ctx, *limits);
    match &program.body {
        Body::Expr(e) => it.eval_expr(e),
        Body::Block(stmts) => it.run_block(stmts),
    }
}

/// What `context.` exposes. Paths are member names below `context`, e.g. `["Request", "Method"]`.
/// The interpreter knows the shape of APIM's context (which members are objects, which are
/// dictionaries) and only asks the implementation for leaves, so a gateway implements a handful
/// of methods rather than an object model.
pub trait Context {
    /// A scalar member such as `["Request","Method"]`, `["Subscription","Id"]`, `["RequestId"]`.
    /// `None` means the member is null.
    fn member(&mut self, path: &[&str]) -> Option<Value>;

    /// Whether an object on the path exists: `Response` (absent inbound), `Subscription`,
    /// `User`, `Request.PrivateEndpointConnection` may be null in APIM.
    fn object_exists(&mut self, path: &[&str]) -> bool {
        let _ = path;
        true
    }

    /// A dictionary entry. Dictionaries are `Request.Headers`, `Response.Headers`,
    /// `Request.Url.Query`, `Request.OriginalUrl.Query`, `Request.MatchedParameters` and
    /// `Variables`. Header names must match case-insensitively. Header values come back as a
    /// single comma-joined string, as `GetValueOrDefault` returns them in APIM.
    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value>;

    /// Keys of a dictionary (for `.Keys`, `.Count` and enumeration).
    fn keys(&mut self, dictionary: &[&str]) -> Vec<String>;

    /// Sets a variable (used by the set-variable policy; APIM expressions cannot assign to
    /// `context.Variables` themselves).
    fn set_variable(&mut self, name: &str, value: Value);

    /// The body of `"Request"` or `"Response"` as text; `preserve_content: false` lets the
    /// implementation hand it over instead of copying.
    fn body(&mut self, message: &str, preserve_content: bool) -> Option<String>;

    /// The clock behind `DateTime.UtcNow`/`Now`; overridable so tests are deterministic.
    fn now(&mut self) -> DateTime {
        DateTime::now_utc()
    }

    /// `context.Trace(source, message)` sink; ignored by default.
    fn trace(&mut self, source: &str, message: &str) {
        let _ = (source, message);
    }
}

/// A [`Context`] backed by maps, for tests and for `policy check`'s dry runs.
#[derive(Debug, Clone, Default)]
pub struct MapContext {
    /// Scalars by dotted path: `"Request.Method"`, `"Subscription.Id"`.
    pub members: BTreeMap<String, Value>,
    /// Dictionaries by dotted path; header dictionaries are looked up case-insensitively.
    pub dictionaries: BTreeMap<String, BTreeMap<String, Value>>,
    /// Objects that are null. By default `Response`, `Subscription`, `User`, `LastError` and
    /// `Request.PrivateEndpointConnection` are null unless a member below them is set.
    pub null_objects: BTreeSet<String>,
    pub bodies: BTreeMap<String, String>,
    pub now: Option<DateTime>,
    pub traces: Vec<(String, String)>,
}

impl MapContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a scalar member by dotted path, e.g. `set("Request.Method", "GET")`.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> &mut Self {
        self.members.insert(path.to_string(), value.into());
        self
    }

    /// Sets a header (`message` is `"Request"` or `"Response"`).
    pub fn header(&mut self, message: &str, name: &str, value: &str) -> &mut Self {
        self.dictionaries
            .entry(format!("{message}.Headers"))
            .or_default()
            .insert(name.to_ascii_lowercase(), Value::str(value));
        self
    }

    /// Sets an entry of any dictionary (`"Request.MatchedParameters"`, `"Request.Url.Query"`).
    pub fn entry(&mut self, dictionary: &str, key: &str, value: impl Into<Value>) -> &mut Self {
        self.dictionaries
            .entry(dictionary.to_string())
            .or_default()
            .insert(key.to_string(), value.into());
        self
    }

    pub fn variable(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.entry("Variables", name, value)
    }

    pub fn body_text(&mut self, message: &str, body: &str) -> &mut Self {
        self.bodies.insert(message.to_string(), body.to_string());
        self
    }

    fn is_headers(d: &str) -> bool {
        d.ends_with(".Headers")
    }
}

impl Context for MapContext {
    fn member(&mut self, path: &[&str]) -> Option<Value> {
        self.members.get(&path.join(".")).cloned()
    }

    fn object_exists(&mut self, path: &[&str]) -> bool {
        let p = path.join(".");
        if self.null_objects.contains(&p) {
            return false;
        }
        let nullable = matches!(
            p.as_str(),
            "Response"
                | "Subscription"
                | "User"
                | "LastError"
                | "Request.PrivateEndpointConnection"
        );
        if !nullable {
            return true;
        }
        let prefix = format!("{p}.");
        self.members.keys().any(|k| k.starts_with(&prefix))
            || self.dictionaries.keys().any(|k| k.starts_with(&prefix))
            || self.bodies.contains_key(&p)
    }

    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value> {
        let d = dictionary.join(".");
        let map = self.dictionaries.get(&d)?;
        if Self::is_headers(&d) {
            map.get(&key.to_ascii_lowercase()).cloned()
        } else {
            map.get(key).cloned()
        }
    }

    fn keys(&mut self, dictionary: &[&str]) -> Vec<String> {
        self.dictionaries
            .get(&dictionary.join("."))
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        self.variable(name, value);
    }

    fn body(&mut self, message: &str, _preserve_content: bool) -> Option<String> {
        self.bodies.get(message).cloned()
    }

    fn now(&mut self) -> DateTime {
        self.now.unwrap_or_else(DateTime::now_utc)
    }

    fn trace(&mut self, source: &str, message: &str) {
        self.traces.push((source.to_string(), message.to_string()));
    }
}

/// Convenience for callers holding shared strings.
pub fn string_value(s: Arc<str>) -> Value {
    Value::String(s)
}
