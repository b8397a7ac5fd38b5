//! Producing values from compiled operands per request, and the failure a policy reports.

use super::Exchange;
use super::attrs::Operand;
use super::attrs::parse_status;
use super::reason_phrase;
use crate::expr::{self, RuntimeError, Value};

/// Why a step failed, with the response APIM presets for it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub reason: String,
    pub message: String,
    pub status: u16,
    pub body: Option<String>,
}

impl Failure {
    /// An expression threw: APIM reports `ExpressionValueEvaluationFailure` and answers 500.
    pub(crate) fn expression(e: RuntimeError) -> Self {
        Failure {
            reason: "ExpressionValueEvaluationFailure".into(),
            message: format!("Expression evaluation failed. {}", e.message),
            status: 500,
            body: None,
        }
    }

    /// A policy would produce a body (or text) larger than `gateway.limits.
    /// max_buffered_body_bytes`: refused before it is built.
    pub(crate) fn too_large(max: usize) -> Self {
        Failure {
            reason: "BodyTooLarge".into(),
            message: format!(
                "The policy would produce a body larger than the limit of {max} bytes \
                 (gateway.limits.max_buffered_body_bytes)."
            ),
            status: 500,
            body: None,
        }
    }

    pub(crate) fn evaluation(message: String) -> Self {
        Failure {
            reason: "ExpressionValueEvaluationFailure".into(),
            message: format!("Expression evaluation failed. {message}"),
            status: 500,
            body: None,
        }
    }
}

pub(crate) fn value(op: &Operand, ex: &mut dyn Exchange) -> Result<Value, Failure> {
    match op {
        Operand::Literal(s) => Ok(Value::str(s)),
        Operand::Program(p) => {
            let limits = ex.budgets().expression;
            expr::eval_with(p, ex, &limits).map_err(|e| {
                if let Some(budget) = e.budget {
                    // A policy that needs more than its budget is worth an operator's look;
                    // the message is the budget's own, so it carries no request data.
                    tracing::warn!(
                        target: "gatehouse::policy",
                        budget = budget.name(),
                        error = %e.message,
                        "expression stopped at its budget"
                    );
                }
                Failure::expression(e)
            })
        }
        Operand::Concat(parts) => {
            let max = ex.budgets().max_body_bytes;
            let mut out = String::new();
            for p in parts {
                let s = string(p, ex)?;
                if out.len().saturating_add(s.len()) > max {
                    return Err(Failure::too_large(max));
                }
                out.push_str(&s);
            }
            Ok(Value::str(out))
        }
    }
}

/// A `context` member as text, empty when it is null.
pub(crate) fn member_text(ex: &mut dyn Exchange, path: &[&str]) -> String {
    ex.member(path).map(|v| v.to_display()).unwrap_or_default()
}

pub(crate) fn string(op: &Operand, ex: &mut dyn Exchange) -> Result<String, Failure> {
    match op {
        // A literal is its own text: one copy, not a Value and then its display.
        Operand::Literal(s) => Ok(s.clone()),
        _ => value(op, ex).map(|v| v.to_display()),
    }
}

pub(crate) fn strings(ops: &[Operand], ex: &mut dyn Exchange) -> Result<Vec<String>, Failure> {
    ops.iter().map(|o| string(o, ex)).collect()
}

pub(crate) fn condition(op: &Operand, ex: &mut dyn Exchange) -> Result<bool, Failure> {
    match value(op, ex)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(Failure::evaluation(format!(
            "Unable to cast object of type '{}' to type 'System.Boolean'.",
            other.type_name()
        ))),
    }
}

pub(crate) fn status(op: &Operand, ex: &mut dyn Exchange) -> Result<u16, Failure> {
    let s = string(op, ex)?;
    parse_status(s.trim())
        .ok_or_else(|| Failure::evaluation(format!("'{s}' is not a valid HTTP status code.")))
}

pub(crate) fn reason(
    op: Option<&Operand>,
    code: u16,
    ex: &mut dyn Exchange,
) -> Result<String, Failure> {
    match op {
        Some(o) => string(o, ex),
        None => Ok(reason_phrase(code).to_string()),
    }
}
