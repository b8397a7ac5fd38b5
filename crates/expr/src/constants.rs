//! C#'s compile-time checks of constant expressions, run once after parsing: an integral
//! constant expression that overflows (`int.MaxValue + 1`, CS0220), a division by a constant
//! zero (`1 / 0`, CS0020) and a constant cast to a type it does not fit (`(byte)300`, CS0221)
//! are rejected by the C# compiler, so APIM refuses such a policy when it is saved; gatehouse
//! refuses it at `policy check` and load for the same reason instead of failing at run time.
//! `unchecked(…)` and `unchecked { … }` allow the overflow, as in C#.
//!
//! Only what C# folds is folded here: numeric literals, `T.MaxValue`/`T.MinValue` of the
//! numeric types, and unary, binary, cast and checked/unchecked operators over them. The
//! interpreter still computes every value at run time; this pass only rejects.

use crate::ast::{Arg, BinOp, Case, E, Expr, LambdaBody, Part, Pat, S, Stmt, UnOp};
use crate::error::ExprError;
use crate::numeric::{self, Consts, Kind, Num, NumError, Op};

/// Checks every constant expression of the statements.
pub(crate) fn check_block(body: &[Stmt]) -> Result<(), ExprError> {
    stmts(body, true)
}

/// Checks every constant expression of a single expression.
pub(crate) fn check_expr(e: &Expr) -> Result<(), ExprError> {
    expr(e, true)
}

fn stmts(body: &[Stmt], checked: bool) -> Result<(), ExprError> {
    body.iter().try_for_each(|s| stmt(s, checked))
}

fn stmt(s: &Stmt, checked: bool) -> Result<(), ExprError> {
    let opt = |e: &Option<Expr>| e.as_ref().map_or(Ok(()), |e| expr(e, checked));
    match &s.kind {
        S::Local { init, .. } => opt(init),
        S::Expr(e) | S::Deconstruct(_, e) => expr(e, checked),
        S::If(c, then, other) => {
            expr(c, checked)?;
            stmt(then, checked)?;
            other.as_ref().map_or(Ok(()), |o| stmt(o, checked))
        }
        S::Return(e) | S::Throw(e) => opt(e),
        S::Foreach { iter, body, .. } => {
            expr(iter, checked)?;
            stmt(body, checked)
        }
        S::While(c, body) | S::DoWhile(body, c) => {
            expr(c, checked)?;
            stmt(body, checked)
        }
        S::For {
            init,
            cond,
            step,
            body,
        } => {
            stmts(init, checked)?;
            opt(cond)?;
            step.iter().try_for_each(|e| expr(e, checked))?;
            stmt(body, checked)
        }
        S::Block(b) | S::Seq(b) => stmts(b, checked),
        S::Checked(c, b) => stmts(b, *c),
        S::LocalFn(l) => lambda_body(&l.body, checked),
        S::Switch(e, sections) => {
            expr(e, checked)?;
            for section in sections {
                for case in section.labels.iter().flatten() {
                    case_(case, checked)?;
                }
                stmts(&section.body, checked)?;
            }
            Ok(())
        }
        S::Try {
            body,
            catches,
            finally,
        } => {
            stmts(body, checked)?;
            for c in catches {
                opt(&c.filter)?;
                stmts(&c.body, checked)?;
            }
            finally.as_ref().map_or(Ok(()), |f| stmts(f, checked))
        }
        S::Break | S::Continue | S::Empty => Ok(()),
    }
}

fn lambda_body(b: &LambdaBody, checked: bool) -> Result<(), ExprError> {
    match b {
        LambdaBody::Expr(e) => expr(e, checked),
        LambdaBody::Block(b) => stmts(b, checked),
    }
}

fn case_(c: &Case, checked: bool) -> Result<(), ExprError> {
    pat(&c.pat, checked)?;
    c.guard.as_ref().map_or(Ok(()), |g| expr(g, checked))
}

fn pat(p: &Pat, checked: bool) -> Result<(), ExprError> {
    match p {
        Pat::Const(e) | Pat::Rel(_, e) => expr(e, checked),
        Pat::Not(p) => pat(p, checked),
        Pat::And(a, b) | Pat::Or(a, b) => {
            pat(a, checked)?;
            pat(b, checked)
        }
        Pat::Props(props, _) => props.iter().try_for_each(|(_, p)| pat(p, checked)),
        Pat::Discard | Pat::Type(..) => Ok(()),
    }
}

/// An expression: a constant one is folded (which rejects what C# rejects); any other has its
/// parts checked.
fn expr(e: &Expr, checked: bool) -> Result<(), ExprError> {
    if constant(e, checked)?.is_some() {
        return Ok(());
    }
    let all = |es: &[Expr]| es.iter().try_for_each(|e| expr(e, checked));
    let args = |a: &[Arg]| a.iter().try_for_each(|a| expr(&a.value, checked));
    match &e.kind {
        E::Checked(c, inner) => expr(inner, *c),
        E::Interp(parts) => parts.iter().try_for_each(|p| match p {
            Part::Hole(e, _, _) => expr(e, checked),
            Part::Text(_) => Ok(()),
        }),
        E::Member { target, .. }
        | E::NullChain(target)
        | E::Unary(_, target)
        | E::Cast(_, target)
        | E::As(target, _)
        | E::Is(target, _, _)
        | E::Throw(target) => expr(target, checked),
        E::Call {
            callee, args: a, ..
        } => {
            expr(callee, checked)?;
            args(a)
        }
        E::Index {
            target, args: a, ..
        } => {
            expr(target, checked)?;
            all(a)
        }
        E::Binary(_, a, b)
        | E::And(a, b)
        | E::Or(a, b)
        | E::Coalesce(a, b)
        | E::IsConst(a, b, _)
        | E::CoalesceAssign(a, b) => {
            expr(a, checked)?;
            expr(b, checked)
        }
        E::Assign { target, value, .. } => {
            expr(target, checked)?;
            expr(value, checked)
        }
        E::Cond(c, a, b) => {
            expr(c, checked)?;
            expr(a, checked)?;
            expr(b, checked)
        }
        E::Lambda(l) => lambda_body(&l.body, checked),
        E::New { args: a, init, .. } => {
            args(a)?;
            init.as_deref().map_or(Ok(()), all)
        }
        E::NewArray { size, items, .. } => {
            size.as_ref().map_or(Ok(()), |s| expr(s, checked))?;
            items.as_deref().map_or(Ok(()), all)
        }
        E::NewAnon(fields) => fields.iter().try_for_each(|(_, e)| expr(e, checked)),
        E::Tuple(items) => items.iter().try_for_each(|(_, e)| expr(e, checked)),
        E::IncDec { target, .. } => expr(target, checked),
        E::Switch(e, arms) => {
            expr(e, checked)?;
            arms.iter().try_for_each(|(c, v)| {
                case_(c, checked)?;
                expr(v, checked)
            })
        }
        E::Null
        | E::Bool(_)
        | E::Num(_)
        | E::Str(_)
        | E::Char(_)
        | E::Name(_)
        | E::TypeOf(_)
        | E::Default(_)
        | E::Out { .. } => Ok(()),
    }
}

/// The value of a numeric constant expression, `None` when `e` is not one, or the compile
/// error C# reports for it.
fn constant(e: &Expr, checked: bool) -> Result<Option<Num>, ExprError> {
    let fail = |why: NumError, what: &str| -> ExprError {
        let message = match why {
            NumError::DivideByZero => "Division by constant zero (CS0020)".to_string(),
            NumError::Overflow(_) => {
                format!("The operation overflows at compile time in checked mode (CS0220): {what}")
            }
            NumError::Compile(m) => m,
        };
        ExprError::new(e.at, message)
    };
    Ok(Some(match &e.kind {
        E::Num(n) => *n,
        E::Member { target, name, .. } => {
            let (E::Name(ty), "MaxValue" | "MinValue") = (&target.kind, name.as_str()) else {
                return Ok(None);
            };
            let Some(kind) = Kind::named(ty) else {
                return Ok(None);
            };
            match bound(kind, name == "MaxValue") {
                Some(n) => n,
                None => return Ok(None),
            }
        }
        E::Checked(c, inner) => return constant(inner, *c),
        E::Unary(op, inner) => {
            let Some(n) = constant(inner, checked)? else {
                return Ok(None);
            };
            match op {
                UnOp::Neg => numeric::negate(n, checked).map_err(|w| fail(w, "negation"))?,
                UnOp::Plus => numeric::plus(n),
                UnOp::BitNot => numeric::complement(n).map_err(|w| fail(w, "complement"))?,
                UnOp::Not => return Ok(None),
            }
        }
        E::Binary(op, a, b) => {
            let Some(op) = arithmetic(*op) else {
                return Ok(None);
            };
            let (Some(x), Some(y)) = (constant(a, checked)?, constant(b, checked)?) else {
                return Ok(None);
            };
            let consts = Consts {
                left: true,
                right: true,
            };
            numeric::binary(op, x, y, checked, consts).map_err(|w| fail(w, "arithmetic"))?
        }
        E::Cast(ty, inner) => {
            if ty.nullable || ty.array > 0 || !ty.args.is_empty() {
                return Ok(None);
            }
            let Some(kind) = Kind::named(&ty.name) else {
                return Ok(None);
            };
            let Some(n) = constant(inner, checked)? else {
                return Ok(None);
            };
            match n.convert(kind, checked) {
                Ok(v) => v,
                Err(NumError::Overflow(_)) => {
                    return Err(ExprError::new(
                        e.at,
                        format!(
                            "Constant value '{}' cannot be converted to a '{}' (use 'unchecked' syntax to override) (CS0221)",
                            n.value().to_display(),
                            numeric::keyword(kind)
                        ),
                    ));
                }
                Err(w) => return Err(fail(w, "conversion")),
            }
        }
        _ => return Ok(None),
    }))
}

fn arithmetic(op: BinOp) -> Option<Op> {
    Some(match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::Rem => Op::Rem,
        BinOp::BitAnd => Op::And,
        BinOp::BitOr => Op::Or,
        BinOp::BitXor => Op::Xor,
        BinOp::Shl => Op::Shl,
        BinOp::Shr => Op::Shr,
        _ => return None,
    })
}

/// `T.MaxValue` / `T.MinValue` of an integral type (the only bounds whose arithmetic C# can
/// reject; float and decimal bounds are left to run time).
fn bound(kind: Kind, max: bool) -> Option<Num> {
    if !kind.is_integral() {
        return None;
    }
    let (lo, hi) = kind.range();
    kind.fit(if max { hi } else { lo })
}

#[cfg(test)]
mod tests {
    use crate::{ExprKind, parse};

    fn rejects(src: &str, code: &str) {
        match parse(src, ExprKind::Single) {
            Err(e) => assert!(e.message.contains(code), "{src}: {}", e.message),
            Ok(_) => panic!("{src} should be rejected with {code}"),
        }
    }

    #[test]
    fn rejects_what_csharp_rejects() {
        rejects("1 / 0", "CS0020");
        rejects("1 % 0", "CS0020");
        rejects("int.MaxValue + 1", "CS0220");
        rejects("2147483647 + 1", "CS0220");
        rejects("checked(int.MaxValue + 1)", "CS0220");
        rejects("(byte)300", "CS0221");
        rejects("(short)70000", "CS0221");
        rejects("(int)3000000000L", "CS0221");
        rejects("x => x + (byte)256", "CS0221");
    }

    #[test]
    fn accepts_what_csharp_accepts() {
        for src in [
            "unchecked(int.MaxValue + 1)",
            "unchecked((byte)300)",
            "1.0 / 0",
            "int.MaxValue + 1L",
            "(byte)255",
            "-2147483648",
            "x / 0 + 1",
            "long.MaxValue - 1",
        ] {
            assert!(parse(src, ExprKind::Single).is_ok(), "{src}");
        }
        let block = "unchecked { int a = int.MaxValue + 1; return a; }";
        assert!(parse(block, ExprKind::Block).is_ok());
    }
}
