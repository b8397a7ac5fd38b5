//! Reading a policy element's attributes and text into [`Operand`]s, with errors that name the
//! element, its path and position. Shared by every policy's compile step — the pipeline's and
//! those compiled outside it (crates/policy/src/cors.rs, cache.rs, transform/mod.rs): one copy
//! of each helper, so every policy words the same mistake the same way.

use super::{CompileError, CompileErrorKind, ExistsAction};
use crate::document::{PolicyElement, Value};
use crate::expr::{self, Program};

/// An attribute value or element text, ready to produce a value per request: literals stay
/// strings, expressions are parsed once here.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Literal(String),
    Program(Box<Program>),
    /// Several text pieces (literal text around an expression), joined as strings.
    Concat(Vec<Operand>),
}

/// Where a step came from, for `context.LastError`.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    /// `global`, `product`, `api` or `operation` (empty when composed by hand).
    pub scope: &'static str,
    pub policy: String,
    pub path: String,
    pub id: String,
}

pub(crate) fn error(
    e: &PolicyElement,
    kind: CompileErrorKind,
    message: impl Into<String>,
) -> CompileError {
    CompileError {
        kind,
        policy: e.name.clone(),
        path: e.path.clone(),
        line: e.position.0,
        column: e.position.1,
        message: message.into(),
    }
}

pub(crate) fn operand(e: &PolicyElement, v: &Value) -> Result<Operand, CompileError> {
    match v {
        Value::Literal { text, .. } => Ok(Operand::Literal(text.clone())),
        Value::Expression { kind, source, .. } => expr::parse(source, *kind)
            .map(|p| Operand::Program(Box::new(p)))
            .map_err(|x| error(e, CompileErrorKind::Expression, x.message)),
    }
}

pub(crate) fn attr(e: &PolicyElement, name: &str) -> Result<Option<Operand>, CompileError> {
    e.attr(name).map(|v| operand(e, v)).transpose()
}

/// The error for a required attribute that is absent.
pub(crate) fn missing(e: &PolicyElement, name: &str) -> CompileError {
    error(
        e,
        CompileErrorKind::Attribute,
        format!("missing attribute '{name}'"),
    )
}

pub(crate) fn required(e: &PolicyElement, name: &str) -> Result<Operand, CompileError> {
    attr(e, name)?.ok_or_else(|| missing(e, name))
}

/// An attribute that must be a literal because it shapes the step itself (names, actions).
pub(crate) fn literal<'a>(
    e: &'a PolicyElement,
    name: &str,
) -> Result<Option<&'a str>, CompileError> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => v.as_literal().map(Some).ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Unsupported,
                format!("attribute '{name}' must be a literal here, not an expression"),
            )
        }),
    }
}

pub(crate) fn required_literal<'a>(
    e: &'a PolicyElement,
    name: &str,
) -> Result<&'a str, CompileError> {
    literal(e, name)?.ok_or_else(|| missing(e, name))
}

pub(crate) fn literal_bool(
    e: &PolicyElement,
    name: &str,
    default: bool,
) -> Result<bool, CompileError> {
    match literal(e, name)? {
        None => Ok(default),
        Some(s) => parse_bool(s).ok_or_else(|| not_bool(e, name, s)),
    }
}

/// `true` or `false` in any case. Callers that accept surrounding blanks trim first.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The error for a boolean attribute whose literal value `s` is neither `true` nor `false`.
pub(crate) fn not_bool(e: &PolicyElement, name: &str, s: &str) -> CompileError {
    error(
        e,
        CompileErrorKind::Attribute,
        format!("attribute '{name}' must be true or false, not '{s}'"),
    )
}

pub(crate) fn literal_status(
    e: &PolicyElement,
    name: &str,
    default: u16,
) -> Result<u16, CompileError> {
    match literal(e, name)? {
        None => Ok(default),
        Some(s) => parse_status(s.trim()).ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Attribute,
                format!("attribute '{name}' must be an HTTP status code (100-599), not '{s}'"),
            )
        }),
    }
}

pub(crate) fn parse_status(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().filter(|c| (100..=599).contains(c))
}

/// The text content of an element: empty text is an empty literal; several pieces concatenate.
pub(crate) fn text(e: &PolicyElement) -> Result<Operand, CompileError> {
    let mut parts: Vec<Operand> = e.text().map(|v| operand(e, v)).collect::<Result<_, _>>()?;
    Ok(match parts.len() {
        0 => Operand::Literal(String::new()),
        1 => parts.remove(0),
        _ => Operand::Concat(parts),
    })
}

/// The `<value>` children of set-header, set-query-parameter and check-header.
pub(crate) fn values(e: &PolicyElement) -> Result<Vec<Operand>, CompileError> {
    e.elements()
        .filter(|c| c.name == "value")
        .map(text)
        .collect()
}

pub(crate) fn exists_action(e: &PolicyElement) -> Result<ExistsAction, CompileError> {
    match literal(e, "exists-action")? {
        None => Ok(ExistsAction::Override),
        Some(s) => ExistsAction::parse(s).ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Attribute,
                format!("unknown exists-action '{s}'"),
            )
        }),
    }
}

pub(crate) fn only_children<'a>(
    e: &'a PolicyElement,
    allowed: &[&str],
) -> Result<Vec<&'a PolicyElement>, CompileError> {
    let children: Vec<&PolicyElement> = e.elements().collect();
    if let Some(bad) = children
        .iter()
        .find(|c| !allowed.contains(&c.name.as_str()))
    {
        return Err(error(
            bad,
            CompileErrorKind::Unsupported,
            format!("<{}> is not supported inside <{}>", bad.name, e.name),
        ));
    }
    Ok(children)
}

pub(crate) fn reject_attrs(e: &PolicyElement, names: &[&str]) -> Result<(), CompileError> {
    if let Some((n, _)) = e
        .attributes
        .iter()
        .find(|(n, _)| names.contains(&n.as_str()))
    {
        return Err(error(
            e,
            CompileErrorKind::Unsupported,
            format!("{} with '{n}' is not supported yet", e.name),
        ));
    }
    Ok(())
}
