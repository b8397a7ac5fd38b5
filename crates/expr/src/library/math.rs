//! `System.Math`: what C# computes, including its exceptions (`Math.Sign(double.NaN)`,
//! `Math.Clamp` with min > max) and `MidpointRounding`. Every member does constant work.

use super::*;
use crate::numeric::{Kind, Num, compare, overload};

/// `MidpointRounding`'s members, held by name as enums are (crates/expr/src/library/members.rs).
pub(crate) const MIDPOINT_ROUNDING: &[&str] = &[
    "ToEven",
    "AwayFromZero",
    "ToZero",
    "ToNegativeInfinity",
    "ToPositiveInfinity",
];

/// The `Math` members [`math`] implements ([`crate::features::static_member_exists`] reads it).
pub(crate) const MATH_METHODS: &[&str] = &[
    "Abs",
    "Max",
    "Min",
    "Floor",
    "Ceiling",
    "Round",
    "Truncate",
    "Pow",
    "Sqrt",
    "Cbrt",
    "Log",
    "Log10",
    "Log2",
    "Exp",
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Atan2",
    "Sinh",
    "Cosh",
    "Tanh",
    "Sign",
    "Clamp",
    "BigMul",
    "DivRem",
    "Acosh",
    "Asinh",
    "Atanh",
    "IEEERemainder",
];

/// `Math.DivRem(a, b)`: the quotient and remainder of two ints (or two longs) by C#'s `/` and
/// `%` (DivideByZeroException; int.MinValue / -1 overflows).
pub(crate) fn div_rem(a: &Value, b: &Value, at: usize) -> F<(Value, Value)> {
    let (Some(x), Some(y)) = (Num::of(a), Num::of(b)) else {
        return Err(cast_err(a, "System.Int32", at));
    };
    let k = overload(&[x.kind(), y.kind()], &[Kind::Int, Kind::Long])
        .ok_or_else(|| no_overload("DivRem", &[x.kind(), y.kind()], at))?;
    let (x, y) = (
        x.convert(k, false).map_err(|e| num_err(e, at))?,
        y.convert(k, false).map_err(|e| num_err(e, at))?,
    );
    let q = crate::numeric::binary(crate::numeric::Op::Div, x, y, false, Default::default())
        .map_err(|e| num_err(e, at))?;
    let r = crate::numeric::binary(crate::numeric::Op::Rem, x, y, false, Default::default())
        .map_err(|e| num_err(e, at))?;
    Ok((q.value(), r.value()))
}

/// Rounds `x` to an integral value the way `mode` says.
fn round_with(x: f64, mode: &str) -> f64 {
    match mode {
        "AwayFromZero" => x.round(),
        "ToZero" => x.trunc(),
        "ToNegativeInfinity" => x.floor(),
        "ToPositiveInfinity" => x.ceil(),
        _ => x.round_ties_even(),
    }
}

/// The overloads `Math.Abs` and `Math.Sign` have, most specific first.
const SIGNED: &[Kind] = &[
    Kind::SByte,
    Kind::Short,
    Kind::Int,
    Kind::Long,
    Kind::Float,
    Kind::Double,
    Kind::Decimal,
];
/// The overloads `Math.Max`, `Min` and `Clamp` have.
const EVERY: &[Kind] = &[
    Kind::SByte,
    Kind::Byte,
    Kind::Short,
    Kind::UShort,
    Kind::Int,
    Kind::UInt,
    Kind::Long,
    Kind::ULong,
    Kind::Float,
    Kind::Double,
    Kind::Decimal,
];

/// `Math.Abs`, `Max`, `Min`, `Clamp`, `Sign`, `BigMul` and the decimal `Round`/`Floor`/
/// `Ceiling`/`Truncate` by the overload C# picks for the arguments' types; `None` for the
/// double-only members (and double arguments, which the code below handles).
fn typed(name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    let nums: Vec<Num> = args
        .iter()
        .map(|(_, v)| match v {
            Value::Json(j) => Num::of(&from_token(j)),
            v if v.is_number() => Num::of(v),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let kinds: Vec<Kind> = nums.iter().map(|n| n.kind()).collect();
    let first = *kinds.first()?;
    if matches!(name, "Round" | "Floor" | "Ceiling" | "Truncate") {
        if first != Kind::Decimal {
            return None;
        }
        return Some((|| {
            let m = nums[0].decimal().map_err(|e| num_err(e, at))?;
            Ok(Value::Decimal(match name {
                "Floor" => m.floor(),
                "Ceiling" => m.ceil(),
                "Truncate" => m.trunc(),
                _ => return Ok(Value::Decimal(numeric_members::round_decimal(args, at)?)),
            }))
        })());
    }
    if name == "BigMul" {
        return Some(match (nums.as_slice(), overload(&kinds, &[Kind::Int])) {
            ([x, y], Some(_)) => Ok(Value::Long(
                x.int().unwrap_or(0) as i64 * y.int().unwrap_or(0) as i64,
            )),
            _ => Err(no_overload(name, &kinds, at)),
        });
    }
    let overloads = if matches!(name, "Abs" | "Sign") {
        SIGNED
    } else {
        EVERY
    };
    if !matches!(name, "Abs" | "Sign" | "Max" | "Min" | "Clamp") {
        return None;
    }
    let Some(k) = overload(&kinds, overloads) else {
        return Some(Err(no_overload(name, &kinds, at)));
    };
    // Double arguments keep the code below (NaN handling); the others are exact here.
    if k == Kind::Double {
        return None;
    }
    let xs: Vec<Num> = match nums.iter().map(|n| n.convert(k, false)).collect() {
        Ok(v) => v,
        Err(e) => return Some(Err(num_err(e, at))),
    };
    let cmp = |x: &Num, y: &Num| compare(*x, *y).unwrap_or(std::cmp::Ordering::Equal);
    Some(Ok(match (name, xs.as_slice()) {
        ("Abs", [x]) => {
            if x.f64().is_sign_negative() || x.int().is_some_and(|i| i < 0) {
                match crate::numeric::negate(*x, true).and_then(|n| n.convert(k, true)) {
                    Ok(n) => n.value(),
                    Err(_) => {
                        return Some(Err(rt(
                            "OverflowException",
                            "Negating the minimum value of a twos complement number is invalid.",
                            at,
                        )));
                    }
                }
            } else {
                x.value()
            }
        }
        ("Sign", [x]) => {
            if let Num::F32(f) = x
                && f.is_nan()
            {
                return Some(Err(rt(
                    "ArithmeticException",
                    "Function does not accept floating point Not-a-Number values.",
                    at,
                )));
            }
            Value::Int(match compare(*x, Num::I32(0)) {
                Some(std::cmp::Ordering::Greater) => 1,
                Some(std::cmp::Ordering::Less) => -1,
                _ => 0,
            })
        }
        ("Max" | "Min", [x, y]) => {
            if let (Num::F32(p), Num::F32(q)) = (x, y)
                && (p.is_nan() || q.is_nan())
            {
                Value::Float(f32::NAN)
            } else if (cmp(x, y) == std::cmp::Ordering::Greater) == (name == "Max") {
                x.value()
            } else {
                y.value()
            }
        }
        ("Clamp", [v, lo, hi]) => {
            if cmp(lo, hi) == std::cmp::Ordering::Greater {
                return Some(Err(clamp_err(
                    lo.value().to_display(),
                    hi.value().to_display(),
                    at,
                )));
            }
            if cmp(v, lo) == std::cmp::Ordering::Less {
                lo.value()
            } else if cmp(v, hi) == std::cmp::Ordering::Greater {
                hi.value()
            } else {
                v.value()
            }
        }
        _ => return Some(Err(no_overload(name, &kinds, at))),
    }))
}

fn no_overload(name: &str, kinds: &[Kind], at: usize) -> Flow {
    rt(
        "CompilationError",
        format!(
            "The call to 'Math.{name}' with arguments ({}) is ambiguous or has no overload",
            kinds
                .iter()
                .map(|k| k.full_name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        at,
    )
}

pub(super) fn math(name: &str, args: &Args, at: usize) -> F<Value> {
    if let Some(r) = typed(name, args, at) {
        return r;
    }
    let f = |i: usize| as_f64(arg(args, i, at)?, at);
    Ok(match name {
        "Abs" => Value::Double(f(0)?.abs()),
        // .NET's Max/Min propagate NaN (f64::max would drop it).
        "Max" => {
            let (x, y) = (f(0)?, f(1)?);
            Value::Double(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            })
        }
        "Min" => {
            let (x, y) = (f(0)?, f(1)?);
            Value::Double(if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            })
        }
        "Clamp" => {
            let (v, lo, hi) = (f(0)?, f(1)?, f(2)?);
            if lo > hi {
                return Err(clamp_err(format_double(lo), format_double(hi), at));
            }
            Value::Double(if v < lo {
                lo
            } else if v > hi {
                hi
            } else {
                v
            })
        }
        "Floor" => Value::Double(f(0)?.floor()),
        "Ceiling" => Value::Double(f(0)?.ceil()),
        "Truncate" => Value::Double(f(0)?.trunc()),
        "Round" => {
            let x = f(0)?;
            let (digits, mode) = match (args.get(1), args.get(2)) {
                (Some((_, m @ Value::Enum(..))), _) => (0, m.to_display()),
                (Some((_, d)), Some((_, m))) => (as_int(d, at)?, m.to_display()),
                (Some((_, d)), None) => (as_int(d, at)?, "ToEven".to_string()),
                (None, _) => (0, "ToEven".to_string()),
            };
            if !(0..=15).contains(&digits) {
                return Err(arg_range(
                    "Rounding digits must be between 0 and 15, inclusive. (Parameter 'digits')",
                    at,
                ));
            }
            if !MIDPOINT_ROUNDING.contains(&mode.as_str()) {
                return Err(rt(
                    "ArgumentException",
                    format!(
                        "The value '{mode}' is not valid for this usage of the type MidpointRounding. (Parameter 'mode')"
                    ),
                    at,
                ));
            }
            // .NET scales by a power of ten, rounds and scales back, for |x| < 1e16.
            let p = 10f64.powi(digits as i32);
            Value::Double(if digits == 0 {
                round_with(x, &mode)
            } else if x.abs() < 1e16 {
                round_with(x * p, &mode) / p
            } else {
                x
            })
        }
        "Pow" => Value::Double(f(0)?.powf(f(1)?)),
        "Sqrt" => Value::Double(f(0)?.sqrt()),
        "Cbrt" => Value::Double(f(0)?.cbrt()),
        "Log" => {
            let x = f(0)?;
            match args.get(1) {
                None => Value::Double(x.ln()),
                Some((_, b)) => Value::Double(log_base(x, as_f64(b, at)?)),
            }
        }
        "Log10" => Value::Double(f(0)?.log10()),
        "Log2" => Value::Double(f(0)?.log2()),
        "Exp" => Value::Double(f(0)?.exp()),
        "Sin" => Value::Double(f(0)?.sin()),
        "Cos" => Value::Double(f(0)?.cos()),
        "Tan" => Value::Double(f(0)?.tan()),
        "Asin" => Value::Double(f(0)?.asin()),
        "Acos" => Value::Double(f(0)?.acos()),
        "Atan" => Value::Double(f(0)?.atan()),
        "Atan2" => Value::Double(f(0)?.atan2(f(1)?)),
        "Sinh" => Value::Double(f(0)?.sinh()),
        "Asinh" => Value::Double(f(0)?.asinh()),
        "Acosh" => Value::Double(f(0)?.acosh()),
        "Atanh" => Value::Double(f(0)?.atanh()),
        // x − y·round(x / y) with the quotient rounded to even (IEEE 754 remainder).
        "IEEERemainder" => {
            let (x, y) = (f(0)?, f(1)?);
            Value::Double(if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
                f64::NAN
            } else if y.is_infinite() {
                x
            } else {
                let r = x - y * (x / y).round_ties_even();
                if r == 0.0 { 0.0f64.copysign(x) } else { r }
            })
        }
        // .NET 6's `(int Quotient, int Remainder) DivRem(int, int)`.
        "DivRem" if args.len() == 2 => {
            let (q, r) = div_rem(arg(args, 0, at)?, arg(args, 1, at)?, at)?;
            Value::Object(Object::Tuple(Arc::new(crate::tuple::Tuple {
                items: vec![q, r],
                names: vec![Some("Quotient".into()), Some("Remainder".into())],
                kind: crate::tuple::TupleKind::Value,
            })))
        }
        "Cosh" => Value::Double(f(0)?.cosh()),
        "Tanh" => Value::Double(f(0)?.tanh()),
        "Sign" => {
            let x = f(0)?;
            if x.is_nan() {
                return Err(rt(
                    "ArithmeticException",
                    "Function does not accept floating point Not-a-Number values.",
                    at,
                ));
            }
            Value::Int(if x > 0.0 {
                1
            } else if x < 0.0 {
                -1
            } else {
                0
            })
        }
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'Math' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// `Math.Log(a, newBase)` with .NET's special cases (base 1, negative or NaN → NaN).
fn log_base(x: f64, b: f64) -> f64 {
    if x.is_nan() || b.is_nan() || b == 1.0 || (x != 1.0 && (b == 0.0 || b == f64::INFINITY)) {
        return f64::NAN;
    }
    x.ln() / b.ln()
}

fn clamp_err(lo: String, hi: String, at: usize) -> Flow {
    rt(
        "ArgumentException",
        format!("'{lo}' cannot be greater than {hi}."),
        at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, args: &[Value]) -> Value {
        let args: Args = args.iter().map(|v| (None, v.clone())).collect();
        math(name, &args, 0).unwrap_or(Value::str("<error>"))
    }

    #[test]
    fn math_agrees_with_csharp() {
        let d = Value::Double;
        assert_eq!(m("Round", &[d(2.5)]).to_display(), "2");
        assert_eq!(m("Round", &[d(-2.5)]).to_display(), "-2");
        assert_eq!(
            m("Round", &[d(2.5), Value::Enum("MidpointRounding", 1)]).to_display(),
            "3"
        );
        assert_eq!(m("Round", &[d(2.345), Value::Int(2)]).to_display(), "2.35");
        assert_eq!(m("Round", &[d(2.125), Value::Int(2)]).to_display(), "2.12");
        assert_eq!(
            m(
                "Round",
                &[d(2.5), Value::Int(0), Value::str("ToPositiveInfinity")]
            )
            .to_display(),
            "3"
        );
        assert_eq!(m("Log", &[Value::Int(8), Value::Int(2)]).to_display(), "3");
        assert_eq!(m("Sign", &[d(0.0)]).to_display(), "0");
        assert_eq!(m("Sign", &[d(-3.5)]).to_display(), "-1");
        assert_eq!(
            m("Clamp", &[Value::Int(15), Value::Int(0), Value::Int(10)]).to_display(),
            "10"
        );
        assert_eq!(
            m("Clamp", &[Value::Int(1), Value::Int(5), Value::Int(0)]).to_display(),
            "<error>"
        );
        assert_eq!(m("Exp", &[Value::Int(0)]).to_display(), "1");
        assert_eq!(m("Max", &[d(f64::NAN), d(1.0)]).to_display(), "NaN");
        assert_eq!(m("Sign", &[d(f64::NAN)]).to_display(), "<error>");
    }
}
