//! C# unary and binary operators over values (numeric promotion, string concatenation,
//! DateTime/TimeSpan arithmetic, lifted comparisons).

use super::*;

pub(crate) fn unary(op: UnOp, v: Value, at: usize) -> F<Value> {
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::Int(i)) => Value::Int(i.wrapping_neg()),
        (UnOp::Neg, Value::Double(d)) => Value::Double(-d),
        (UnOp::Neg, Value::TimeSpan(t)) => Value::TimeSpan(TimeSpan(t.0.wrapping_neg())),
        (UnOp::Plus, v @ (Value::Int(_) | Value::Double(_))) => v,
        (UnOp::BitNot, Value::Int(i)) => Value::Int(!i),
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
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::DateTimeOffset(x), Value::DateTimeOffset(y)) => Some(x.utc.cmp(&y.utc)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.cmp(y)),
        (Value::Char(x), Value::Char(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Json(j), o) if !j.is_container() => cmp_values(&from_token(j), o),
        (o, Value::Json(j)) if !j.is_container() => cmp_values(o, &from_token(j)),
        _ => {
            let x = as_f64(a, 0).ok()?;
            let y = as_f64(b, 0).ok()?;
            x.partial_cmp(&y)
        }
    }
}

pub(crate) fn binary(op: BinOp, a: Value, b: Value, at: usize) -> F<Value> {
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
    // C# promotes a char operand of an arithmetic or bitwise operator to int ('a' + 1 == 98).
    let promote = |v: Value| match v {
        Value::Char(c) => Value::Int(c as i64),
        other => other,
    };
    let (a, b) = (promote(a), promote(b));
    Ok(match (op, &a, &b) {
        (_, Value::Null, _) | (_, _, Value::Null) => Value::Null,
        (_, Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            Value::Int(match op {
                Add => x.wrapping_add(y),
                Sub => x.wrapping_sub(y),
                Mul => x.wrapping_mul(y),
                Div | Rem if y == 0 => {
                    return Err(rt(
                        "DivideByZeroException",
                        "Attempted to divide by zero.",
                        at,
                    ));
                }
                Div => x.wrapping_div(y),
                Rem => x.wrapping_rem(y),
                BitAnd => x & y,
                BitOr => x | y,
                BitXor => x ^ y,
                Shl => x.wrapping_shl((y & 63) as u32),
                Shr => x.wrapping_shr((y & 63) as u32),
                _ => 0,
            })
        }
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
        (
            Add | Sub | Mul | Div | Rem,
            Value::Int(_) | Value::Double(_) | Value::Char(_),
            Value::Int(_) | Value::Double(_) | Value::Char(_),
        ) => {
            let x = as_f64(&a, at)?;
            let y = as_f64(&b, at)?;
            Value::Double(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                _ => x % y,
            })
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
        .and_then(DateTime::checked)
        .map(Value::DateTime)
        .ok_or_else(|| {
            arg_range(
                "The added or subtracted value results in an un-representable DateTime.",
                at,
            )
        })
}
