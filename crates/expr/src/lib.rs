//! The C# expression subset APIM policies use inside `@( … )` and `@{ … }`.
//!
//! Policies must run unchanged, so the surface follows C# (literals, operators, LINQ, the BCL
//! methods APIM allows). Text is parsed once into a tree ([`parse`]) and run per request
//! ([`eval`]) against a [`Context`] that exposes `context.…`. There is deliberately no library
//! function that touches files, the network or processes: an expression cannot reach them.

use std::collections::BTreeSet;
use std::sync::Arc;

mod ast;
mod budget;
mod constants;
mod context;
mod cycles;
mod datetime;
mod datetime_offset;
mod error;
mod exceptions;
mod features;
mod interp;
mod io;
mod jtree;
mod lexer;
mod library;
mod limits;
mod numeric;
mod parser;
mod scan;
mod timezone;
mod tuple;
mod value;
mod xml;

pub mod surface;

pub use context::{Context, MapContext, list_values};
/// The proleptic Gregorian calendar under `DateTime`, for .NET-compatible date handling
/// elsewhere (the policy crate's json-to-xml dates).
pub use datetime::{civil_from_days, days_from_civil};
pub use error::{ExprError, RuntimeError};
pub use exceptions::Exception;
pub use jtree::{JToken, Kind as JKind, TreeError};
pub use library::crypto::{Crypto, x509::certificate as x509_certificate};
pub use library::{NotATime, claim_strings, jws_json_part, jwt_object, numeric_date};
pub use limits::{Budget, DEFAULT_MEMORY_BUDGET, DEFAULT_STEP_BUDGET, DEFAULT_TIME_BUDGET, Limits};
pub use tuple::Tuple;
pub use value::{
    DateTime, DateTimeKind, HashKind, Lambda, Object, RegexMatch, RegexSpec, TimeSpan, Value,
};
pub use xml::{XData, XDeclaration, XKind, XName, XObject, XRef};

/// Which form the expression was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExprKind {
    /// `@( … )`: exactly one expression.
    Single,
    /// `@{ … }`: statements that end in `return`.
    Block,
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
            constants::check_expr(&e)?;
            Body::Expr(e)
        }
        ExprKind::Block => {
            p.features.insert("statements");
            let body = p.statements_to_eof()?;
            constants::check_block(&body)?;
            Body::Block(body)
        }
    };
    Ok(Program {
        kind,
        body,
        features: p.features,
    })
}

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
    // Parent links of LINQ to XML nodes are strong until the evaluation ends (src/xml.rs).
    let _links = xml::ParentScope::begin();
    // Events raised and handlers subscribed belong to this evaluation (src/interp/events.rs).
    let _events = interp::events::EvaluationScope::begin();
    // Annotations of JSON tokens are dropped when it ends (src/jtree.rs).
    let _annotations = jtree::AnnotationScope::begin();
    // Collections it touched that now hold themselves are emptied when it ends (src/cycles.rs).
    let _cycles = cycles::CycleScope::begin();
    let mut it = interp::Interp::new(ctx, *limits);
    let result = match &program.body {
        Body::Expr(e) => it.eval_expr(e),
        Body::Block(stmts) => it.run_block(stmts),
    };
    if let Ok(v) = &result {
        xml::keep_scope(v);
    }
    result
}

/// Convenience for callers holding shared strings.
pub fn string_value(s: Arc<str>) -> Value {
    Value::String(s)
}
