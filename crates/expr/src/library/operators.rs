//! C# unary and binary operators over values (numeric promotion, string concatenation,
//! DateTime/TimeSpan arithmetic, lifted comparisons).

use super::*;
use crate::numeric::{Consts, Kind, Num, NumError, Op as NumOp};

/// A numeric operation's failure as the .NET exception (or compile error) it stands for.
pub(crate) fn num_err(e: NumError, at: usize) -> Flow {
    match e {
        NumError::Overflow(m) => rt("OverflowException", m, at),
        NumError::DivideByZero => rt("DivideByZeroException", "Attempted to divide by zero.", at),
        NumError::Compile(m) => rt("CompilationError", m, at),
    }
}

/// After `x op= y` or `x++`: the result converted back to `x`'s numeric type, as C# does for
/// the narrow types (`byte b = 255; b++` is 0); the other kinds are already it.
pub(crate) fn narrow_back(v: Value, kind: Option<Kind>, checked: bool, at: usize) -> F<Value> {
    match (kind, Num::of(&v)) {
        (Some(k), Some(n)) if k != n.kind() && !matches!(v, Value::Char(_)) => n
            .convert(k, checked)
            .map(Num::value)
            .map_err(|e| num_err(e, at)),
        _ => Ok(v),
    }
}

pub(crate) fn unary_in(op: UnOp, v: Value, checked: bool, at: usize) -> F<Value> {
    if let Some(n) = Num::of(&v)
        && op != UnOp::Not
    {
        let r = match op {
            UnOp::Neg => crate::numeric::negate(n, checked),
            UnOp::BitNot => crate::numeric::complement(n),
            _ => Ok(crate::numeric::plus(n)),
        };
        return r.map(Num::value).map_err(|e| num_err(e, at));
    }
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::TimeSpan(t)) => Value::TimeSpan(TimeSpan(t.0.wrapping_neg())),
        (_, Value::Null) => Value::Null,
        (op, v) => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "Operator '{op:?}' cannot be applied to operand of type '{}'",
                    v.type_name()
                ),
                at,
            ));
        }
    })
}

pub(super) fn cmp_values(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (x, y) if x.is_number() && y.is_number() => {
            crate::numeric::compare(Num::of(x)?, Num::of(y)?)
        }
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::DateTimeOffset(x), Value::DateTimeOffset(y)) => Some(x.utc.cmp(&y.utc)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.cmp(y)),
        (Value::Char(x), Value::Char(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        // Values of one enum compare by their underlying values.
        (Value::Enum(t, x), Value::Enum(u, y)) if t == u => Some(x.cmp(y)),
        (Value::Enum(..), _) | (_, Value::Enum(..)) => None,
        (Value::Json(j), o) if !j.is_container() => cmp_values(&from_token(j), o),
        (o, Value::Json(j)) if !j.is_container() => cmp_values(o, &from_token(j)),
        _ => {
            let x = as_f64(a, 0).ok()?;
            let y = as_f64(b, 0).ok()?;
            x.partial_cmp(&y)
        }
    }
}

/// C#'s enum operators: `e | f`, `e & f`, `e ^ f` of one enum (the flags idiom), `e + n`,
/// `n + e`, `e - n` (an enum) and `e - f` (the underlying type, `int` for every enum here).
/// The underlying arithmetic wraps as unchecked `int` does.
fn enum_binary(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    use BinOp::*;
    let wrap = |v: i64| v as i32 as i64;
    Some(match (op, a, b) {
        (BitAnd | BitOr | BitXor, Value::Enum(t, x), Value::Enum(u, y)) if t == u => Value::Enum(
            t,
            match op {
                BitAnd => x & y,
                BitOr => x | y,
                _ => x ^ y,
            },
        ),
        (Add, Value::Enum(t, x), Value::Int(n)) | (Add, Value::Int(n), Value::Enum(t, x)) => {
            Value::Enum(t, wrap(x + n))
        }
        (Sub, Value::Enum(t, x), Value::Int(n)) => Value::Enum(t, wrap(x - n)),
        (Sub, Value::Enum(t, x), Value::Enum(u, y)) if t == u => Value::Int(wrap(x - y)),
        _ => return None,
    })
}

pub(crate) fn binary(op: BinOp, a: Value, b: Value, at: usize) -> F<Value> {
    binary_in(op, a, b, false, Consts::default(), at)
}

/// `a op b` in a checked or unchecked context, knowing which operands are literals.
pub(crate) fn binary_in(
    op: BinOp,
    a: Value,
    b: Value,
    checked: bool,
    consts: Consts,
    at: usize,
) -> F<Value> {
    use BinOp::*;
    // JToken has no `==` operator: two tokens are equal when they are the same token.
    // A JSON null is a JValue, not a null reference: `o["a"] == null` is false for `"a": null`.
    match (op, &a, &b) {
        (Eq | Ne, Value::Json(x), Value::Json(y)) => {
            return Ok(Value::Bool(x.same(y) == (op == Eq)));
        }
        (Eq | Ne, Value::Json(_), Value::Null) | (Eq | Ne, Value::Null, Value::Json(_)) => {
            return Ok(Value::Bool(op == Ne));
        }
        _ => {}
    }
    match op {
        // A System.Tuple is a class: `==` compares references.
        Eq | Ne if is_reference_tuple(&a) || is_reference_tuple(&b) => {
            return Ok(Value::Bool(reference_equals(&a, &b) == (op == Eq)));
        }
        Eq => return Ok(Value::Bool(values_equal(&a, &b))),
        Ne => return Ok(Value::Bool(!values_equal(&a, &b))),
        Lt | Gt | Le | Ge => {
            if a.is_null() || b.is_null() {
                return Ok(Value::Bool(false));
            }
            let Some(o) = cmp_values(&a, &b) else {
                return Err(rt(
                    "RuntimeBinderException",
                    format!(
                        "Operator '{op:?}' cannot be applied to operands of type '{}' and '{}'",
                        a.type_name(),
                        b.type_name()
                    ),
                    at,
                ));
            };
            use std::cmp::Ordering::*;
            return Ok(Value::Bool(match op {
                Lt => o == Less,
                Gt => o == Greater,
                Le => o != Greater,
                _ => o != Less,
            }));
        }
        _ => {}
    }
    // String concatenation: either side a string (null prints as empty).
    if op == Add && (matches!(a, Value::String(_)) || matches!(b, Value::String(_))) {
        return Ok(Value::String(
            format!("{}{}", a.to_display(), b.to_display()).into(),
        ));
    }
    let a = match a {
        Value::Json(ref j) if !j.is_container() => from_token(j),
        other => other,
    };
    let b = match b {
        Value::Json(ref j) if !j.is_container() => from_token(j),
        other => other,
    };
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    if let Some(r) = enum_binary(op, &a, &b) {
        return Ok(r);
    }
    // Numbers (a char operand converts to int: 'a' + 1 == 98) follow C#'s promotion and
    // overflow rules (crates/expr/src/numeric.rs).
    if let (Some(x), Some(y)) = (Num::of(&a), Num::of(&b)) {
        let nop = match op {
            Add => NumOp::Add,
            Sub => NumOp::Sub,
            Mul => NumOp::Mul,
            Div => NumOp::Div,
            Rem => NumOp::Rem,
            BitAnd => NumOp::And,
            BitOr => NumOp::Or,
            BitXor => NumOp::Xor,
            Shl => NumOp::Shl,
            Shr => NumOp::Shr,
            _ => return Err(no_operator(op, &a, &b, at)),
        };
        return crate::numeric::binary(nop, x, y, checked, consts)
            .map(Num::value)
            .map_err(|e| num_err(e, at));
    }
    Ok(match (op, &a, &b) {
        (_, Value::Bool(x), Value::Bool(y)) if matches!(op, BitAnd | BitOr | BitXor) => {
            Value::Bool(match op {
                BitAnd => x & y,
                BitOr => x | y,
                _ => x ^ y,
            })
        }
        (Add, Value::DateTime(d), Value::TimeSpan(t))
        | (Add, Value::TimeSpan(t), Value::DateTime(d)) => add_ticks(*d, t.0, at)?,
        (Sub, Value::DateTime(d), Value::TimeSpan(t)) => add_ticks(*d, t.0.saturating_neg(), at)?,
        (Sub, Value::DateTime(x), Value::DateTime(y)) => Value::TimeSpan(TimeSpan(x.0 - y.0)),
        (Add, Value::DateTimeOffset(d), Value::TimeSpan(t))
        | (Add, Value::TimeSpan(t), Value::DateTimeOffset(d)) => shift(*d, t.0, at)?,
        (Sub, Value::DateTimeOffset(d), Value::TimeSpan(t)) => shift(*d, t.0.saturating_neg(), at)?,
        (Sub, Value::DateTimeOffset(x), Value::DateTimeOffset(y)) => {
            Value::TimeSpan(TimeSpan(x.utc.0 - y.utc.0))
        }
        (Add, Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Value::TimeSpan(TimeSpan(x.0.saturating_add(y.0)))
        }
        (Sub, Value::TimeSpan(x), Value::TimeSpan(y)) => {
            Value::TimeSpan(TimeSpan(x.0.saturating_sub(y.0)))
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!(
                    "Operator '{op:?}' cannot be applied to operands of type '{}' and '{}'",
                    a.type_name(),
                    b.type_name()
                ),
                at,
            ));
        }
    })
}

pub(super) fn add_ticks(d: DateTime, t: i64, at: usize) -> F<Value> {
    d.0.checked_add(t)
        .and_then(|t| d.with_ticks(t))
        .map(Value::DateTime)
        .ok_or_else(|| {
            arg_range(
                "The added or subtracted value results in an un-representable DateTime.",
                at,
            )
        })
}

fn no_operator(op: BinOp, a: &Value, b: &Value, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!(
            "Operator '{op:?}' cannot be applied to operands of type '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ),
        at,
    )
}
