//! The members of .NET's numeric types (`Int32` … `UInt64`, `Single`, `Double`, `Decimal`):
//! their constants, `Parse`, `System.Decimal`'s static arithmetic and rounding, `Double`'s and
//! `Single`'s classification (`IsNaN`, `IsSubnormal` …), and the instance members every number
//! has (`CompareTo`, `Equals`, `GetTypeCode`, `GetHashCode`). The arithmetic itself is
//! crates/expr/src/numeric.rs; checked against .NET's reference source and the C# oracle.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::*;
use crate::numeric::{Kind, Num};

const INTEGRAL_STATICS: &[&str] = &["MaxValue", "MinValue"];
const REAL_PROPERTIES: &[&str] = &[
    "MaxValue",
    "MinValue",
    "Epsilon",
    "NaN",
    "PositiveInfinity",
    "NegativeInfinity",
];
const REAL_METHODS: &[&str] = &[
    "Parse",
    "IsNaN",
    "IsInfinity",
    "IsPositiveInfinity",
    "IsNegativeInfinity",
    "IsFinite",
    "IsNegative",
    "IsNormal",
    "IsSubnormal",
];
const DECIMAL_PROPERTIES: &[&str] = &["MaxValue", "MinValue", "One", "Zero", "MinusOne"];
const DECIMAL_METHODS: &[&str] = &[
    "Parse",
    "Add",
    "Subtract",
    "Multiply",
    "Divide",
    "Remainder",
    "Negate",
    "Round",
    "Truncate",
    "Floor",
    "Ceiling",
    "Compare",
    "Equals",
    "GetBits",
    "ToDouble",
    "ToSingle",
    "ToInt32",
    "ToInt64",
    "ToInt16",
    "ToByte",
    "ToSByte",
    "ToUInt16",
    "ToUInt32",
    "ToUInt64",
    "FromOACurrency",
    "ToOACurrency",
];

/// Whether a numeric type (by C# keyword) has the static member `name` here.
pub(crate) fn numeric_static_exists(ty: &str, name: &str, call: bool) -> bool {
    let Some(k) = Kind::named(ty) else {
        return false;
    };
    if call && name == "ReferenceEquals" {
        return true;
    }
    match (k, call) {
        (Kind::Decimal, false) => DECIMAL_PROPERTIES.contains(&name),
        (Kind::Decimal, true) => DECIMAL_METHODS.contains(&name),
        (Kind::Float | Kind::Double, false) => REAL_PROPERTIES.contains(&name),
        (Kind::Float | Kind::Double, true) => REAL_METHODS.contains(&name) || name == "Equals",
        (_, false) => INTEGRAL_STATICS.contains(&name),
        (_, true) => matches!(name, "Parse" | "Equals"),
    }
}

/// `int.MaxValue`, `double.Epsilon`, `decimal.One` …
pub(super) fn static_property(ty: &str, name: &str) -> Option<Value> {
    let k = Kind::named(ty)?;
    if k.is_integral() {
        let (lo, hi) = k.range();
        return match name {
            "MaxValue" => Some(k.wrap(hi).value()),
            "MinValue" => Some(k.wrap(lo).value()),
            _ => None,
        };
    }
    Some(match (k, name) {
        (Kind::Decimal, "MaxValue") => Value::Decimal(Decimal::MAX),
        (Kind::Decimal, "MinValue") => Value::Decimal(Decimal::MIN),
        (Kind::Decimal, "One") => Value::Decimal(Decimal::ONE),
        (Kind::Decimal, "Zero") => Value::Decimal(Decimal::ZERO),
        (Kind::Decimal, "MinusOne") => Value::Decimal(Decimal::NEGATIVE_ONE),
        (Kind::Double, "MaxValue") => Value::Double(f64::MAX),
        (Kind::Double, "MinValue") => Value::Double(f64::MIN),
        // The smallest positive subnormal, as .NET's Epsilon (not machine epsilon).
        (Kind::Double, "Epsilon") => Value::Double(f64::from_bits(1)),
        (Kind::Double, "NaN") => Value::Double(f64::NAN),
        (Kind::Double, "PositiveInfinity") => Value::Double(f64::INFINITY),
        (Kind::Double, "NegativeInfinity") => Value::Double(f64::NEG_INFINITY),
        (Kind::Float, "MaxValue") => Value::Float(f32::MAX),
        (Kind::Float, "MinValue") => Value::Float(f32::MIN),
        (Kind::Float, "Epsilon") => Value::Float(f32::from_bits(1)),
        (Kind::Float, "NaN") => Value::Float(f32::NAN),
        (Kind::Float, "PositiveInfinity") => Value::Float(f32::INFINITY),
        (Kind::Float, "NegativeInfinity") => Value::Float(f32::NEG_INFINITY),
        _ => return None,
    })
}

fn num_arg(args: &Args, i: usize, at: usize) -> F<Num> {
    let v = arg(args, i, at)?;
    let v = match v {
        Value::Json(j) => from_token(j),
        other => other.clone(),
    };
    match Num::of(&v) {
        Some(n) => Ok(n),
        None if v.is_null() => Err(null_ref(at)),
        None => Err(cast_err(&v, "System.Double", at)),
    }
}

fn decimal_arg(args: &Args, i: usize, at: usize) -> F<Decimal> {
    num_arg(args, i, at)?.decimal().map_err(|e| num_err(e, at))
}

/// The static methods of the numeric types; `None` when `ty.name` is not one of them.
pub(super) fn static_method(ty: &str, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    let k = Kind::named(ty)?;
    if !numeric_static_exists(ty, name, true) {
        return None;
    }
    Some(match (k, name) {
        (_, "Parse") => arg(args, 0, at).and_then(|v| parse_number(k, v, at)),
        // `object.ReferenceEquals` through a value type: each argument is boxed on its own, so
        // only two nulls are the same reference.
        (_, "ReferenceEquals") => (|| {
            Ok(Value::Bool(
                arg(args, 0, at)?.is_null() && arg(args, 1, at)?.is_null(),
            ))
        })(),
        (_, "Equals") => (|| {
            let (x, y) = (num_arg(args, 0, at)?, num_arg(args, 1, at)?);
            let (x, y) = (
                x.convert(k, false).map_err(|e| num_err(e, at))?,
                y.convert(k, false).map_err(|e| num_err(e, at))?,
            );
            Ok(Value::Bool(equals_same_kind(x, y)))
        })(),
        (Kind::Decimal, _) => decimal_static(name, args, at),
        (_, _) => (|| {
            let x = num_arg(args, 0, at)?;
            let d = x.f64();
            let single = k == Kind::Float;
            let (min_normal, bits_neg) = if single {
                (f32::MIN_POSITIVE as f64, (d as f32).is_sign_negative())
            } else {
                (f64::MIN_POSITIVE, d.is_sign_negative())
            };
            let d = if single { (d as f32) as f64 } else { d };
            Ok(Value::Bool(match name {
                "IsNaN" => d.is_nan(),
                "IsInfinity" => d.is_infinite(),
                "IsPositiveInfinity" => d == f64::INFINITY,
                "IsNegativeInfinity" => d == f64::NEG_INFINITY,
                "IsFinite" => d.is_finite(),
                "IsNegative" => bits_neg,
                "IsNormal" => d.is_finite() && d.abs() >= min_normal,
                _ => d != 0.0 && d.is_finite() && d.abs() < min_normal,
            }))
        })(),
    })
}

/// `decimal.Add` … `decimal.ToOACurrency`.
fn decimal_static(name: &str, args: &Args, at: usize) -> F<Value> {
    use crate::numeric::Op;
    let d = |i| decimal_arg(args, i, at);
    let op = |o: Op| -> F<Value> {
        crate::numeric::binary(
            o,
            Num::Dec(d(0)?),
            Num::Dec(d(1)?),
            true,
            Default::default(),
        )
        .map(Num::value)
        .map_err(|e| num_err(e, at))
    };
    let to = |k: Kind| -> F<Value> {
        Num::Dec(d(0)?)
            .convert(k, true)
            .map(Num::value)
            .map_err(|e| num_err(e, at))
    };
    Ok(match name {
        "Add" => op(Op::Add)?,
        "Subtract" => op(Op::Sub)?,
        "Multiply" => op(Op::Mul)?,
        "Divide" => op(Op::Div)?,
        "Remainder" => op(Op::Rem)?,
        "Negate" => Value::Decimal(-d(0)?),
        "Truncate" => Value::Decimal(d(0)?.trunc()),
        "Floor" => Value::Decimal(d(0)?.floor()),
        "Ceiling" => Value::Decimal(d(0)?.ceil()),
        "Round" => Value::Decimal(round_decimal(args, at)?),
        "Compare" => Value::Int(d(0)?.cmp(&d(1)?) as i64),
        "GetBits" => {
            let m = d(0)?;
            let mant = m.mantissa().unsigned_abs();
            let flags = (m.scale() << 16) | if m.is_sign_negative() { 1 << 31 } else { 0 };
            Value::Array(
                [mant as u32, (mant >> 32) as u32, (mant >> 64) as u32, flags]
                    .iter()
                    .map(|w| Value::Int(*w as i32 as i64))
                    .collect(),
            )
        }
        "ToDouble" => to(Kind::Double)?,
        "ToSingle" => to(Kind::Float)?,
        "ToInt32" => to(Kind::Int)?,
        "ToInt64" => to(Kind::Long)?,
        "ToInt16" => to(Kind::Short)?,
        "ToByte" => to(Kind::Byte)?,
        "ToSByte" => to(Kind::SByte)?,
        "ToUInt16" => to(Kind::UShort)?,
        "ToUInt32" => to(Kind::UInt)?,
        "ToUInt64" => to(Kind::ULong)?,
        // OLE Automation currency: a long of ten-thousandths.
        "FromOACurrency" => {
            let n = as_int(arg(args, 0, at)?, at)?;
            Value::Decimal(Decimal::from_i128_with_scale(n as i128, 4))
        }
        "ToOACurrency" => {
            let r = d(0)?
                .checked_mul(Decimal::from(10_000))
                .map(|x| x.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven))
                .and_then(|x| x.to_i64())
                .ok_or_else(|| {
                    rt(
                        "OverflowException",
                        "Value was either too large or too small for a Currency.",
                        at,
                    )
                })?;
            Value::Long(r)
        }
        _ => return Err(rt("MissingMethodException", format!("decimal.{name}"), at)),
    })
}

/// `Math.Round(decimal[, decimals][, mode])` and `decimal.Round`: ties to even unless a
/// MidpointRounding says otherwise; decimals in 0–28 (ArgumentOutOfRangeException otherwise).
pub(super) fn round_decimal(args: &Args, at: usize) -> F<Decimal> {
    let m = decimal_arg(args, 0, at)?;
    let mut dp = 0i64;
    let mut mode = "ToEven".to_string();
    for (_, v) in args.iter().skip(1) {
        match v {
            Value::Enum(..) => mode = v.to_display(),
            v => dp = as_int(v, at)?,
        }
    }
    if !(0..=28).contains(&dp) {
        return Err(rt(
            "ArgumentOutOfRangeException",
            "Decimal can only round to between 0 and 28 digits of precision. (Parameter 'decimals')",
            at,
        ));
    }
    let strategy = match mode.as_str() {
        "AwayFromZero" => RoundingStrategy::MidpointAwayFromZero,
        "ToZero" => RoundingStrategy::ToZero,
        "ToNegativeInfinity" => RoundingStrategy::ToNegativeInfinity,
        "ToPositiveInfinity" => RoundingStrategy::ToPositiveInfinity,
        "ToEven" => RoundingStrategy::MidpointNearestEven,
        _ => {
            return Err(rt(
                "ArgumentException",
                "The value is not a valid MidpointRounding. (Parameter 'mode')",
                at,
            ));
        }
    };
    // The result keeps `decimals` places where the value had more (Round(1.005m, 2) is 1.00).
    let mut r = m.round_dp_with_strategy(dp as u32, strategy);
    if m.scale() > dp as u32 && r.scale() < dp as u32 {
        r.rescale(dp as u32);
    }
    Ok(r)
}

/// `T.Parse(s)` for a numeric type: integers take NumberStyles.Integer (white space, a
/// leading sign), float and double NumberStyles.Float | AllowThousands, decimal
/// NumberStyles.Number (no exponent). Never echoes the input.
pub(crate) fn parse_number(k: Kind, v: &Value, at: usize) -> F<Value> {
    let s = match v {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 's')",
                at,
            ));
        }
        v => as_str(v, at)?,
    };
    let t = s.trim();
    let overflow = || rt("OverflowException", k.overflow_message(), at);
    if k.is_integral() {
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format_err(at));
        }
        // All digits: a value outside the type is an overflow, not a format error.
        let n: i128 = t.parse().map_err(|_| overflow())?;
        return k.fit(n).map(Num::value).ok_or_else(overflow);
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if k != Kind::Decimal {
        let special = match body {
            b if b.eq_ignore_ascii_case("Infinity") || b == "∞" => Some(f64::INFINITY),
            b if b.eq_ignore_ascii_case("NaN") => Some(f64::NAN),
            _ => None,
        };
        if let Some(x) = special {
            let x = if neg { -x } else { x };
            return Ok(if k == Kind::Float {
                Value::Float(x as f32)
            } else {
                Value::Double(x)
            });
        }
    }
    // Thousands separators are allowed in the integer part.
    let (int_part, rest) = match body.find(['.', 'e', 'E']) {
        Some(i) => body.split_at(i),
        None => (body, ""),
    };
    let int_clean: String = int_part.chars().filter(|c| *c != ',').collect();
    let ok_chars = |s: &str, exp: bool| {
        s.bytes().all(|b| {
            b.is_ascii_digit() || b == b'.' || (exp && matches!(b, b'e' | b'E' | b'+' | b'-'))
        })
    };
    if int_part.starts_with(',')
        || !ok_chars(&int_clean, false)
        || !ok_chars(rest, k != Kind::Decimal)
        || (int_clean.is_empty() && !rest.starts_with('.'))
    {
        return Err(format_err(at));
    }
    let text = format!("{}{int_clean}{rest}", if neg { "-" } else { "" });
    Ok(match k {
        Kind::Decimal => {
            if rest.starts_with('.') && rest.len() == 1 && int_clean.is_empty() {
                return Err(format_err(at));
            }
            let text = text.strip_suffix('.').unwrap_or(&text);
            let d = parse_decimal(text).ok_or_else(|| {
                // All digits but no decimal: beyond its range.
                if text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.')
                {
                    overflow()
                } else {
                    format_err(at)
                }
            })?;
            Value::Decimal(d)
        }
        Kind::Float => Value::Float(text.parse::<f32>().map_err(|_| format_err(at))?),
        _ => Value::Double(text.parse::<f64>().map_err(|_| format_err(at))?),
    })
}

/// `a.Equals(b)` of two numbers of one kind (NaN equals NaN, as .NET's Equals says).
fn equals_same_kind(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::F64(x), Num::F64(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Num::F32(x), Num::F32(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => crate::numeric::compare(a, b) == Some(std::cmp::Ordering::Equal),
    }
}

/// The instance members every number has; `None` for other names.
pub(super) fn instance_method(t: &Value, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    let n = Num::of(t)?;
    let k = n.kind();
    Some(match name {
        "CompareTo" | "Equals" => (|| {
            let other = arg(args, 0, at)?;
            let other = match other {
                Value::Json(j) => from_token(j),
                v => v.clone(),
            };
            let o = Num::of(&other).filter(|_| other.is_number());
            let Some(o) = o.filter(|o| crate::numeric::implicit(o.kind(), k)) else {
                // The object overload: another type is unequal, and not comparable.
                if name == "Equals" {
                    return Ok(Value::Bool(false));
                }
                if other.is_null() {
                    return Ok(Value::Int(1));
                }
                return Err(rt(
                    "ArgumentException",
                    format!("Object must be of type {}.", &k.full_name()[7..]),
                    at,
                ));
            };
            let o = o.convert(k, false).map_err(|e| num_err(e, at))?;
            if name == "Equals" {
                return Ok(Value::Bool(equals_same_kind(n, o)));
            }
            // NaN sorts below every number and equal to itself.
            let (xn, yn) = (
                n.f64().is_nan() && !k.is_integral(),
                o.f64().is_nan() && !k.is_integral(),
            );
            let ord = match (xn, yn) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                _ => crate::numeric::compare(n, o).unwrap_or(std::cmp::Ordering::Equal),
            };
            Ok(Value::Int(ord as i64))
        })(),
        "GetTypeCode" => Ok(enum_member("TypeCode", &k.full_name()[7..]).unwrap_or(Value::Null)),
        // A decimal's hash mixes its bits in a way .NET does not document: not offered.
        "GetHashCode" if k != Kind::Decimal => Ok(Value::Int(hash_code(n) as i64)),
        _ => return None,
    })
}

/// .NET's GetHashCode of a number (its documented bit mixing; the values are stable).
fn hash_code(n: Num) -> i32 {
    match n {
        Num::I8(i) => (i as i32) ^ ((i as i32) << 8),
        Num::U8(i) => i as i32,
        Num::I16(i) => (i as u16 as i32) | ((i as i32) << 16),
        Num::U16(i) => i as i32,
        Num::I32(i) => i,
        Num::U32(i) => i as i32,
        Num::I64(i) => (i as i32) ^ ((i >> 32) as i32),
        Num::U64(i) => (i as i32) ^ ((i >> 32) as i32),
        Num::F64(d) => {
            let mut bits = d.to_bits() as i64;
            // 0.0 and -0.0, and every NaN, hash alike.
            if (bits.wrapping_sub(1) & 0x7FFF_FFFF_FFFF_FFFF) >= 0x7FEF_FFFF_FFFF_FFFF {
                bits &= 0x7FF0_0000_0000_0000;
            }
            (bits as i32) ^ ((bits >> 32) as i32)
        }
        Num::F32(f) => {
            let mut bits = f.to_bits() as i32;
            if ((bits.wrapping_sub(1)) & 0x7FFF_FFFF) >= 0x7F7F_FFFF {
                bits &= 0x7F80_0000;
            }
            bits
        }
        Num::Dec(_) => 0,
    }
}

/// The type `Convert.To…` converts to.
pub(super) fn convert_target(name: &str) -> Option<Kind> {
    Some(match name {
        "ToInt32" => Kind::Int,
        "ToInt64" => Kind::Long,
        "ToInt16" => Kind::Short,
        "ToByte" => Kind::Byte,
        "ToSByte" => Kind::SByte,
        "ToUInt16" => Kind::UShort,
        "ToUInt32" => Kind::UInt,
        "ToUInt64" => Kind::ULong,
        "ToSingle" => Kind::Float,
        "ToDouble" => Kind::Double,
        "ToDecimal" => Kind::Decimal,
        _ => return None,
    })
}

/// `Convert.ToInt32(x)` and its siblings: null is 0, text parses as `T.Parse` does, a bool is
/// 1 or 0, a real rounds to the nearest integer (ties to even: `Convert.ToInt32(2.5)` is 2)
/// and anything out of range throws OverflowException, whatever the context.
pub(super) fn convert_to(k: Kind, v: &Value, at: usize) -> F<Value> {
    let v = match v {
        Value::Json(j) if !j.is_object() && !j.is_array() => from_token(j),
        other => other.clone(),
    };
    let n = match &v {
        Value::Null => return Ok(k.wrap(0).convert(k, false).unwrap_or(Num::I32(0)).value()),
        Value::String(_) => return parse_number(k, &v, at),
        Value::Bool(b) => Num::I32(*b as i32),
        // An enum converts (IConvertible) as its underlying Int32.
        Value::Enum(_, x) => Num::I32(*x as i32),
        Value::Char(_) if !k.is_integral() => {
            return Err(rt(
                "InvalidCastException",
                format!("Invalid cast from 'Char' to '{}'.", &k.full_name()[7..]),
                at,
            ));
        }
        other => match Num::of(other) {
            Some(n) => n,
            None => {
                return Err(rt(
                    "InvalidCastException",
                    format!(
                        "Invalid cast from '{}' to '{}'.",
                        other.type_name().trim_start_matches("System."),
                        &k.full_name()[7..]
                    ),
                    at,
                ));
            }
        },
    };
    let n = match n {
        Num::F32(_) | Num::F64(_) if k.is_integral() => {
            let d = n.f64();
            let r = d.round_ties_even();
            let (lo, hi) = k.range();
            if !(d.is_finite() && r >= lo as f64 && r <= hi as f64 && r < 1.8446744073709552e19) {
                return Err(rt("OverflowException", k.overflow_message(), at));
            }
            Num::F64(r)
        }
        Num::Dec(d) if k.is_integral() => {
            Num::Dec(d.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven))
        }
        n => n,
    };
    n.convert(k, true).map(Num::value).map_err(|e| match e {
        crate::numeric::NumError::Overflow(_) => rt("OverflowException", k.overflow_message(), at),
        e => num_err(e, at),
    })
}

/// `new decimal()` (zero), `new decimal(x)` (an int, long, uint, ulong, float or double, as the conversion gives it),
/// `new decimal(lo, mid, hi, isNegative, scale)` and `new decimal(int[] bits)` (GetBits'
/// layout; a scale above 28 or stray flag bits throw ArgumentException).
pub(super) fn new_decimal(args: &Args, at: usize) -> F<Value> {
    let words = |lo: i64, mid: i64, hi: i64| {
        (lo as u32 as i128) | ((mid as u32 as i128) << 32) | ((hi as u32 as i128) << 64)
    };
    let bad = |what: &str| rt("ArgumentException", what.to_string(), at);
    match args.as_slice() {
        [(_, Value::Array(bits))] => {
            let b: Vec<i64> = bits.iter().map(|v| as_int(v, at)).collect::<F<_>>()?;
            let [lo, mid, hi, flags] = b.as_slice() else {
                return Err(bad(
                    "Decimal constructor requires an array or span of four valid decimal bytes.",
                ));
            };
            let flags = *flags as u32;
            let scale = (flags >> 16) & 0xFF;
            if flags & 0x7F00_FFFF != 0 || scale > 28 {
                return Err(bad(
                    "Decimal constructor requires an array or span of four valid decimal bytes.",
                ));
            }
            let m = Decimal::from_i128_with_scale(words(*lo, *mid, *hi), scale);
            Ok(Value::Decimal(if flags >> 31 == 1 { -m } else { m }))
        }
        [(_, lo), (_, mid), (_, hi), (_, neg), (_, scale)] => {
            let scale = as_int(scale, at)?;
            if !(0..=28).contains(&scale) {
                return Err(rt(
                    "ArgumentOutOfRangeException",
                    "Decimal's scale value must be between 0 and 28, inclusive. (Parameter 'scale')",
                    at,
                ));
            }
            let m = Decimal::from_i128_with_scale(
                words(as_int(lo, at)?, as_int(mid, at)?, as_int(hi, at)?),
                scale as u32,
            );
            Ok(Value::Decimal(if as_bool(neg, at)? { -m } else { m }))
        }
        [(_, v)] => convert_to_decimal_ctor(v, at),
        // The struct's default: 0.
        [] => Ok(Value::Decimal(Decimal::ZERO)),
        _ => Err(rt(
            "CompilationError",
            format!(
                "'decimal' does not contain a constructor that takes {} arguments",
                args.len()
            ),
            at,
        )),
    }
}

fn convert_to_decimal_ctor(v: &Value, at: usize) -> F<Value> {
    match Num::of(v).filter(|_| v.is_number()) {
        Some(n) => n.decimal().map(Value::Decimal).map_err(|e| num_err(e, at)),
        None => Err(cast_err(v, "System.Decimal", at)),
    }
}

/// `Convert.ChangeType(value, typeof(T))`: a number, bool or string converted as `Convert.ToT`
/// does; null stays null for a reference type (InvalidCastException for a value type).
pub(super) fn change_type(v: &Value, ty: &Value, at: usize) -> F<Value> {
    let name = match ty {
        Value::String(s) => crate::parser::normalize_type_name(s),
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'conversionType')",
                at,
            ));
        }
        other => other.to_display(),
    };
    if let Some(k) = Kind::named(&name) {
        if v.is_null() {
            return Err(rt(
                "InvalidCastException",
                "Null object cannot be converted to a value type.",
                at,
            ));
        }
        return convert_to(k, v, at);
    }
    match name.as_str() {
        "string" if v.is_null() => Ok(Value::Null),
        "string" => Ok(Value::str(v.to_display())),
        "object" => Ok(v.clone()),
        "bool" => match v {
            Value::String(s) => parse_bool(s, at),
            Value::Bool(_) => Ok(v.clone()),
            n if n.is_number() => Ok(Value::Bool(Num::of(n).is_some_and(|x| x.f64() != 0.0))),
            _ => Err(cast_err(v, "System.Boolean", at)),
        },
        _ => Err(rt(
            "InvalidCastException",
            format!("Invalid cast from '{}' to '{name}'.", v.type_name()),
            at,
        )),
    }
}

/// `Convert.GetTypeCode(x)`: System.TypeCode by name (Empty for null, Object for anything
/// without a code of its own).
pub(super) fn type_code(v: &Value) -> Value {
    let name = match v {
        Value::Null => "Empty",
        Value::Bool(_) => "Boolean",
        Value::Char(_) => "Char",
        Value::String(_) => "String",
        Value::DateTime(_) => "DateTime",
        n if n.is_number() => Num::of(n).map_or("Object", |x| &x.kind().full_name()[7..]),
        // An enum's is its underlying type's.
        Value::Enum(..) => "Int32",
        _ => "Object",
    };
    enum_member("TypeCode", name).unwrap_or(Value::Null)
}
