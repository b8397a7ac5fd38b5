//! .NET's numeric types: which kind a value has (Int32, Int64, UInt32, UInt64, the narrow
//! integers, Single, Double, Decimal), C#'s binary numeric promotion, its arithmetic (unchecked
//! wrap-around by default, OverflowException in `checked`), explicit conversions and the texts
//! `ToString()` gives.
//!
//! Checked against the C# specification (§12.4.7 numeric promotion, §12.10 arithmetic
//! operators, §10.3.2 explicit numeric conversions) and, through the oracle
//! (crates/expr/tests/oracle), against a real C# compiler. Where the result is unspecified
//! (an out-of-range double converted to an integer in an unchecked context) this follows
//! .NET 8 on x64: the conversion instruction's "integer indefinite" value (0x80000000 for int).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::value::Value;

/// A numeric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    SByte,
    Byte,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    Float,
    Double,
    Decimal,
}

impl Kind {
    /// The kind a C# keyword or .NET type name denotes (`int`, `Int32`, `System.Int32`).
    pub fn named(name: &str) -> Option<Kind> {
        let name = name.strip_prefix("System.").unwrap_or(name);
        Some(match name {
            "sbyte" | "SByte" => Kind::SByte,
            "byte" | "Byte" => Kind::Byte,
            "short" | "Int16" => Kind::Short,
            "ushort" | "UInt16" => Kind::UShort,
            "int" | "Int32" => Kind::Int,
            "uint" | "UInt32" => Kind::UInt,
            "long" | "Int64" => Kind::Long,
            "ulong" | "UInt64" => Kind::ULong,
            "float" | "Single" => Kind::Float,
            "double" | "Double" => Kind::Double,
            "decimal" | "Decimal" => Kind::Decimal,
            _ => return None,
        })
    }

    pub fn full_name(self) -> &'static str {
        match self {
            Kind::SByte => "System.SByte",
            Kind::Byte => "System.Byte",
            Kind::Short => "System.Int16",
            Kind::UShort => "System.UInt16",
            Kind::Int => "System.Int32",
            Kind::UInt => "System.UInt32",
            Kind::Long => "System.Int64",
            Kind::ULong => "System.UInt64",
            Kind::Float => "System.Single",
            Kind::Double => "System.Double",
            Kind::Decimal => "System.Decimal",
        }
    }

    /// The word .NET's OverflowException message uses ("… too small for an Int32.").
    pub fn overflow_message(self) -> String {
        let short = &self.full_name()[7..];
        let article = if matches!(self, Kind::Short | Kind::Int | Kind::Long) {
            "an"
        } else {
            "a"
        };
        match self {
            Kind::Byte => "Value was either too large or too small for an unsigned byte.".into(),
            Kind::SByte => "Value was either too large or too small for a signed byte.".into(),
            _ => format!("Value was either too large or too small for {article} {short}."),
        }
    }

    pub fn is_integral(self) -> bool {
        !matches!(self, Kind::Float | Kind::Double | Kind::Decimal)
    }

    pub fn is_signed_integral(self) -> bool {
        matches!(self, Kind::SByte | Kind::Short | Kind::Int | Kind::Long)
    }

    /// The range of an integral kind.
    pub fn range(self) -> (i128, i128) {
        match self {
            Kind::SByte => (i8::MIN as i128, i8::MAX as i128),
            Kind::Byte => (0, u8::MAX as i128),
            Kind::Short => (i16::MIN as i128, i16::MAX as i128),
            Kind::UShort => (0, u16::MAX as i128),
            Kind::Int => (i32::MIN as i128, i32::MAX as i128),
            Kind::UInt => (0, u32::MAX as i128),
            Kind::Long => (i64::MIN as i128, i64::MAX as i128),
            Kind::ULong => (0, u64::MAX as i128),
            _ => (i128::MIN, i128::MAX),
        }
    }

    fn bits(self) -> u32 {
        match self {
            Kind::SByte | Kind::Byte => 8,
            Kind::Short | Kind::UShort => 16,
            Kind::Int | Kind::UInt => 32,
            _ => 64,
        }
    }

    /// The value of an integral kind holding the low bits of `v` (unchecked wrap-around).
    pub fn wrap(self, v: i128) -> Num {
        match self {
            Kind::SByte => Num::I8(v as i8),
            Kind::Byte => Num::U8(v as u8),
            Kind::Short => Num::I16(v as i16),
            Kind::UShort => Num::U16(v as u16),
            Kind::Int => Num::I32(v as i32),
            Kind::UInt => Num::U32(v as u32),
            Kind::Long => Num::I64(v as i64),
            _ => Num::U64(v as u64),
        }
    }

    /// `v` as this integral kind, or `None` when it does not fit.
    pub fn fit(self, v: i128) -> Option<Num> {
        let (lo, hi) = self.range();
        (lo..=hi).contains(&v).then(|| self.wrap(v))
    }
}

/// The C# keyword of a numeric type (`int`, `ulong`, `decimal`).
pub fn keyword(k: Kind) -> &'static str {
    match k {
        Kind::SByte => "sbyte",
        Kind::Byte => "byte",
        Kind::Short => "short",
        Kind::UShort => "ushort",
        Kind::Int => "int",
        Kind::UInt => "uint",
        Kind::Long => "long",
        Kind::ULong => "ulong",
        Kind::Float => "float",
        Kind::Double => "double",
        Kind::Decimal => "decimal",
    }
}

/// 2^63 and 2^64 as doubles: the bounds of long and ulong.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_64: f64 = 18_446_744_073_709_551_616.0;

/// A number of one of .NET's numeric types.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    I8(i8),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    F64(f64),
    Dec(Decimal),
}

/// Why a numeric operation has no result.
#[derive(Debug, Clone, PartialEq)]
pub enum NumError {
    /// OverflowException with its message.
    Overflow(String),
    DivideByZero,
    /// C# rejects the operand types at compile time (`1m + 1.0`, `1UL + -x`).
    Compile(String),
}

impl NumError {
    fn overflow() -> NumError {
        NumError::Overflow("Arithmetic operation resulted in an overflow.".into())
    }
}

type R<T> = Result<T, NumError>;

impl Num {
    /// The number a value holds; a char counts as its code unit (C# converts it implicitly).
    pub fn of(v: &Value) -> Option<Num> {
        Some(match v {
            Value::Int(i) => Num::I32(*i as i32),
            Value::Long(i) => Num::I64(*i),
            Value::UInt(i) => Num::U32(*i),
            Value::ULong(i) => Num::U64(*i),
            Value::Short(i) => Num::I16(*i),
            Value::UShort(i) => Num::U16(*i),
            Value::Byte(i) => Num::U8(*i),
            Value::SByte(i) => Num::I8(*i),
            Value::Float(f) => Num::F32(*f),
            Value::Double(d) => Num::F64(*d),
            Value::Decimal(d) => Num::Dec(*d),
            Value::Char(c) => Num::U16(*c as u32 as u16),
            _ => return None,
        })
    }

    pub fn value(self) -> Value {
        match self {
            Num::I8(i) => Value::SByte(i),
            Num::U8(i) => Value::Byte(i),
            Num::I16(i) => Value::Short(i),
            Num::U16(i) => Value::UShort(i),
            Num::I32(i) => Value::Int(i as i64),
            Num::U32(i) => Value::UInt(i),
            Num::I64(i) => Value::Long(i),
            Num::U64(i) => Value::ULong(i),
            Num::F32(f) => Value::Float(f),
            Num::F64(d) => Value::Double(d),
            Num::Dec(d) => Value::Decimal(d),
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Num::I8(_) => Kind::SByte,
            Num::U8(_) => Kind::Byte,
            Num::I16(_) => Kind::Short,
            Num::U16(_) => Kind::UShort,
            Num::I32(_) => Kind::Int,
            Num::U32(_) => Kind::UInt,
            Num::I64(_) => Kind::Long,
            Num::U64(_) => Kind::ULong,
            Num::F32(_) => Kind::Float,
            Num::F64(_) => Kind::Double,
            Num::Dec(_) => Kind::Decimal,
        }
    }

    /// An integral value, exactly.
    pub fn int(self) -> Option<i128> {
        Some(match self {
            Num::I8(i) => i as i128,
            Num::U8(i) => i as i128,
            Num::I16(i) => i as i128,
            Num::U16(i) => i as i128,
            Num::I32(i) => i as i128,
            Num::U32(i) => i as i128,
            Num::I64(i) => i as i128,
            Num::U64(i) => i as i128,
            _ => return None,
        })
    }

    /// The value as a double (exact for every integer below 2^53; decimal rounds).
    pub fn f64(self) -> f64 {
        match self {
            Num::F32(f) => f as f64,
            Num::F64(d) => d,
            Num::Dec(d) => d.to_f64().unwrap_or(0.0),
            other => other.int().unwrap_or(0) as f64,
        }
    }

    /// The value as a decimal: exact for integers; doubles round to 15 significant digits and
    /// floats to 7, as .NET's `(decimal)x` does; NaN, infinities and values beyond decimal's
    /// range overflow.
    pub fn decimal(self) -> R<Decimal> {
        match self {
            Num::Dec(d) => Ok(d),
            Num::F32(f) => decimal_from_float(f as f64, 7),
            Num::F64(d) => decimal_from_float(d, 15),
            other => Ok(Decimal::from_i128_with_scale(other.int().unwrap_or(0), 0)),
        }
    }

    /// Explicit conversion to `to` (`(T)x`): integers wrap unless `checked`; a float or double
    /// truncates toward zero (out of range: OverflowException if checked, else the x64
    /// instruction's result); a decimal out of the target's range always overflows.
    pub fn convert(self, to: Kind, checked: bool) -> R<Num> {
        let overflow = || NumError::Overflow(to.overflow_message());
        if let Some(i) = self.int() {
            return Ok(match to {
                Kind::Float => Num::F32(i as f32),
                Kind::Double => Num::F64(i as f64),
                Kind::Decimal => Num::Dec(Decimal::from_i128_with_scale(i, 0)),
                k if checked => k.fit(i).ok_or_else(NumError::overflow)?,
                k => k.wrap(i),
            });
        }
        match self {
            Num::Dec(d) => match to {
                Kind::Decimal => Ok(self),
                Kind::Double => Ok(Num::F64(d.to_f64().unwrap_or(0.0))),
                Kind::Float => Ok(Num::F32(d.to_f32().unwrap_or(0.0))),
                k => {
                    let t = d.trunc().to_i128().ok_or_else(overflow)?;
                    k.fit(t).ok_or_else(overflow)
                }
            },
            Num::F32(_) | Num::F64(_) => {
                let x = self.f64();
                match to {
                    Kind::Double => Ok(Num::F64(x)),
                    Kind::Float => Ok(Num::F32(x as f32)),
                    Kind::Decimal => self.decimal().map(Num::Dec),
                    k => {
                        let t = x.trunc();
                        let (lo, hi) = k.range();
                        if x.is_finite() && t >= lo as f64 && t <= hi as f64 && t < 1.9e19 {
                            // Exactly representable in i128 and within range.
                            return k.fit(t as i128).ok_or_else(NumError::overflow);
                        }
                        if checked {
                            return Err(NumError::overflow());
                        }
                        Ok(unchecked_float_to_int(x, k))
                    }
                }
            }
            _ => Ok(self),
        }
    }
}

/// An out-of-range (or NaN) double converted to an integer in an unchecked context, as .NET 8
/// on x64 does it: `cvttsd2si` gives the "integer indefinite" (the type's minimum bit pattern)
/// for int and long; the narrow types and uint take the low bits of that conversion; ulong
/// goes through long below 2^63 and answers 0x8000000000000000 beyond.
fn unchecked_float_to_int(x: f64, k: Kind) -> Num {
    let via_i64 = |x: f64| {
        if x.is_finite() && x.trunc() >= -TWO_63 && x.trunc() < TWO_63 {
            x.trunc() as i64
        } else {
            i64::MIN
        }
    };
    match k {
        Kind::Int => {
            let t = x.trunc();
            Num::I32(
                if x.is_finite() && t >= i32::MIN as f64 && t <= i32::MAX as f64 {
                    t as i32
                } else {
                    i32::MIN
                },
            )
        }
        Kind::SByte | Kind::Byte | Kind::Short | Kind::UShort => {
            let t = x.trunc();
            let i = if x.is_finite() && t >= i32::MIN as f64 && t <= i32::MAX as f64 {
                t as i32
            } else {
                i32::MIN
            };
            k.wrap(i as i128)
        }
        Kind::ULong => {
            if (TWO_63..TWO_64).contains(&x) {
                Num::U64(x as u64)
            } else {
                Num::U64(via_i64(x) as u64)
            }
        }
        _ => k.wrap(via_i64(x) as i128),
    }
}

/// `(decimal)x` for a double (`digits` 15) or a float (7): rounded to that many significant
/// digits, trailing zeros dropped, as .NET's VarDecFromR8/R4 do.
fn decimal_from_float(x: f64, digits: usize) -> R<Decimal> {
    let overflow =
        || NumError::Overflow("Value was either too large or too small for a Decimal.".into());
    if !x.is_finite() || x.abs() >= 7.922816251426434e28 {
        return Err(overflow());
    }
    if x == 0.0 {
        return Ok(Decimal::ZERO);
    }
    let s = format!("{:.*e}", digits - 1, x);
    let (mant, exp) = s.split_once('e').ok_or_else(overflow)?;
    let exp: i32 = exp.parse().map_err(|_| overflow())?;
    let neg = mant.starts_with('-');
    let digits_only: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut m: i128 = digits_only.parse().map_err(|_| overflow())?;
    // value = m × 10^(exp − (digits − 1))
    let mut e = exp - (digits as i32 - 1);
    while e < -28 {
        // Beyond decimal's 28 places: round half to even on the dropped digit.
        let (q, r) = (m / 10, m % 10);
        m = if r > 5 || (r == 5 && q % 2 == 1) {
            q + 1
        } else {
            q
        };
        e += 1;
    }
    let v = if e >= 0 {
        let mut d = Decimal::from_i128_with_scale(m, 0);
        for _ in 0..e {
            d = d.checked_mul(Decimal::TEN).ok_or_else(overflow)?;
        }
        d
    } else {
        Decimal::from_i128_with_scale(m, (-e) as u32)
    };
    let v = v.normalize();
    Ok(if neg { -v } else { v })
}

/// Whether an operand was written as a constant (a literal), which C# converts implicitly to
/// an unsigned type when its value fits (`1U + 1` is a uint, `1UL + 1` compiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consts {
    pub left: bool,
    pub right: bool,
}

/// C#'s binary numeric promotion: the kind both operands convert to.
pub fn promote(a: Num, b: Num, consts: Consts) -> R<Kind> {
    use Kind::*;
    let (ka, kb) = (a.kind(), b.kind());
    let err = || {
        NumError::Compile(format!(
            "Operator cannot be applied to operands of type '{}' and '{}'",
            ka.full_name(),
            kb.full_name()
        ))
    };
    // A constant of a signed type converts to an unsigned one when it is not negative.
    let fits_unsigned =
        |n: Num, konst: bool, to: Kind| konst && n.int().is_some_and(|i| to.fit(i).is_some());
    Ok(if ka == Decimal || kb == Decimal {
        if matches!(ka, Float | Double) || matches!(kb, Float | Double) {
            return Err(err());
        }
        Decimal
    } else if ka == Double || kb == Double {
        Double
    } else if ka == Float || kb == Float {
        Float
    } else if ka == ULong || kb == ULong {
        let (other, konst) = if ka == ULong {
            (b, consts.right)
        } else {
            (a, consts.left)
        };
        if other.kind().is_signed_integral() && !fits_unsigned(other, konst, ULong) {
            return Err(err());
        }
        ULong
    } else if ka == Long || kb == Long {
        Long
    } else if ka == UInt || kb == UInt {
        let (other, konst) = if ka == UInt {
            (b, consts.right)
        } else {
            (a, consts.left)
        };
        if other.kind().is_signed_integral() && !fits_unsigned(other, konst, UInt) {
            Long
        } else {
            UInt
        }
    } else {
        Int
    })
}

/// Whether C# converts a `from` implicitly to a `to` (§10.2.3), so that `1L.CompareTo(1)`
/// binds `CompareTo(long)` while `1.CompareTo(1L)` binds `CompareTo(object)`.
pub fn implicit(from: Kind, to: Kind) -> bool {
    use Kind::*;
    from == to
        || match from {
            SByte => matches!(to, Short | Int | Long | Float | Double | Decimal),
            Byte => matches!(
                to,
                Short | UShort | Int | UInt | Long | ULong | Float | Double | Decimal
            ),
            Short => matches!(to, Int | Long | Float | Double | Decimal),
            UShort => matches!(to, Int | UInt | Long | ULong | Float | Double | Decimal),
            Int => matches!(to, Long | Float | Double | Decimal),
            UInt => matches!(to, Long | ULong | Float | Double | Decimal),
            Long | ULong => matches!(to, Float | Double | Decimal),
            Float => to == Double,
            _ => false,
        }
}

/// The overload of a method with one per numeric type (`Math.Max`, `Math.Abs` …) that C#
/// picks for arguments of these kinds: the first of `overloads` (most specific first) every
/// argument converts to implicitly; `None` when none does (or the choice is ambiguous).
pub fn overload(kinds: &[Kind], overloads: &[Kind]) -> Option<Kind> {
    if let Some(first) = kinds.first()
        && kinds.iter().all(|k| k == first)
        && overloads.contains(first)
    {
        return Some(*first);
    }
    let fits: Vec<Kind> = overloads
        .iter()
        .copied()
        .filter(|o| kinds.iter().all(|k| implicit(*k, *o)))
        .collect();
    // The better target converts implicitly to every other candidate (float to double …);
    // float and decimal (or double and decimal) are unrelated: ambiguous.
    fits.iter()
        .copied()
        .find(|c| fits.iter().all(|o| implicit(*c, *o)))
}

/// Unary promotion (the operand of `-`, `~`, `+` and the left of a shift): the narrow integers
/// become int.
pub fn unary_kind(k: Kind) -> Kind {
    match k {
        Kind::SByte | Kind::Byte | Kind::Short | Kind::UShort => Kind::Int,
        k => k,
    }
}

/// The arithmetic and bitwise operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

/// `a op b` under C#'s rules: promotion, then the operator of the promoted type; integers wrap
/// unless `checked`, integral and decimal division by zero throws.
pub fn binary(op: Op, a: Num, b: Num, checked: bool, consts: Consts) -> R<Num> {
    if matches!(op, Op::Shl | Op::Shr) {
        return shift(op, a, b);
    }
    let k = promote(a, b, consts)?;
    let x = a.convert(k, false)?;
    let y = b.convert(k, false)?;
    if matches!(op, Op::And | Op::Or | Op::Xor) && !k.is_integral() {
        return Err(NumError::Compile(format!(
            "Operator cannot be applied to operands of type '{}'",
            k.full_name()
        )));
    }
    match (x, y) {
        (Num::F64(x), Num::F64(y)) => Ok(Num::F64(match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
            _ => x % y,
        })),
        (Num::F32(x), Num::F32(y)) => Ok(Num::F32(match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
            _ => x % y,
        })),
        (Num::Dec(x), Num::Dec(y)) => decimal_op(op, x, y).map(Num::Dec),
        _ => {
            let (x, y) = (x.int().unwrap_or(0), y.int().unwrap_or(0));
            let r = match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x.checked_mul(y).unwrap_or(i128::MAX),
                Op::Div | Op::Rem if y == 0 => return Err(NumError::DivideByZero),
                Op::Div | Op::Rem => {
                    // int.MinValue / -1 overflows in every context (.NET throws).
                    if y == -1 && k.is_signed_integral() && x == k.range().0 {
                        return Err(NumError::overflow());
                    }
                    if op == Op::Div { x / y } else { x % y }
                }
                Op::And => x & y,
                Op::Or => x | y,
                _ => x ^ y,
            };
            if checked && k.fit(r).is_none() {
                return Err(NumError::overflow());
            }
            if op == Op::Mul && !checked {
                // The full product of two 64-bit values fits i128 only when unsigned ones are
                // small enough; wrap from the exact low 64 bits instead.
                let lo = (x as u128 as u64).wrapping_mul(y as u128 as u64);
                return Ok(k.wrap(lo as i128));
            }
            Ok(k.wrap(r))
        }
    }
}

fn shift(op: Op, a: Num, b: Num) -> R<Num> {
    let k = unary_kind(a.kind());
    let count = match b.kind() {
        Kind::SByte | Kind::Byte | Kind::Short | Kind::UShort | Kind::Int => {
            b.int().unwrap_or(0) as i64
        }
        _ => {
            return Err(NumError::Compile(format!(
                "Operator cannot be applied to operands of type '{}' and '{}'",
                a.kind().full_name(),
                b.kind().full_name()
            )));
        }
    };
    if !k.is_integral() {
        return Err(NumError::Compile(format!(
            "Operator cannot be applied to operands of type '{}' and 'System.Int32'",
            a.kind().full_name()
        )));
    }
    // The count is masked to the width: 5 bits for 32-bit types, 6 for 64-bit ones.
    let n = (count & (k.bits() as i64 - 1)) as u32;
    let x = a.int().unwrap_or(0);
    Ok(match (op, k) {
        (Op::Shl, _) => k.wrap(((x as u128) << n) as i128),
        (_, Kind::Int) => Num::I32((x as i32) >> n),
        (_, Kind::Long) => Num::I64((x as i64) >> n),
        (_, Kind::UInt) => Num::U32((x as u32) >> n),
        _ => Num::U64((x as u64) >> n),
    })
}

fn decimal_op(op: Op, x: Decimal, y: Decimal) -> R<Decimal> {
    let overflow =
        || NumError::Overflow("Value was either too large or too small for a Decimal.".into());
    match op {
        Op::Div | Op::Rem if y.is_zero() => Err(NumError::DivideByZero),
        Op::Add => x.checked_add(y).ok_or_else(overflow),
        Op::Sub => x.checked_sub(y).ok_or_else(overflow),
        Op::Mul => x.checked_mul(y).ok_or_else(overflow),
        Op::Div => {
            // .NET gives the exact quotient with the smallest scale that holds it, but not
            // below the operands' scale difference (10m / 4 is 2.5, 10.00m / 2 is 5.00).
            let q = x.checked_div(y).ok_or_else(overflow)?.normalize();
            let preferred = (x.scale() as i64 - y.scale() as i64).clamp(0, 28) as u32;
            if q.scale() < preferred {
                let mut r = q;
                r.rescale(preferred);
                if r == q {
                    return Ok(r);
                }
            }
            Ok(q)
        }
        _ => x.checked_rem(y).ok_or_else(overflow),
    }
}

/// `-x`: int.MinValue stays itself unless checked; `-uint` is a long; `-ulong` does not compile.
pub fn negate(a: Num, checked: bool) -> R<Num> {
    let k = unary_kind(a.kind());
    Ok(match a.convert(k, false)? {
        Num::F64(d) => Num::F64(-d),
        Num::F32(f) => Num::F32(-f),
        Num::Dec(d) => Num::Dec(-d),
        Num::U32(u) => Num::I64(-(u as i64)),
        Num::U64(_) => {
            return Err(NumError::Compile(
                "Operator '-' cannot be applied to operand of type 'ulong'".into(),
            ));
        }
        n => {
            let r = -n.int().unwrap_or(0);
            if checked && k.fit(r).is_none() {
                return Err(NumError::overflow());
            }
            k.wrap(r)
        }
    })
}

/// `~x` for the integral kinds.
pub fn complement(a: Num) -> R<Num> {
    let k = unary_kind(a.kind());
    if !k.is_integral() {
        return Err(NumError::Compile(format!(
            "Operator '~' cannot be applied to operand of type '{}'",
            a.kind().full_name()
        )));
    }
    Ok(k.wrap(!a.int().unwrap_or(0)))
}

/// `+x`: the promoted operand.
pub fn plus(a: Num) -> Num {
    a.convert(unary_kind(a.kind()), false).unwrap_or(a)
}

/// Comparison after promotion (a NaN compares as unordered). Kinds C# cannot compare
/// (decimal with double) compare as doubles.
pub fn compare(a: Num, b: Num) -> Option<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (a.int(), b.int()) {
        return Some(x.cmp(&y));
    }
    match promote(a, b, Consts::default()) {
        Ok(Kind::Decimal) => {
            let (x, y) = (a.decimal().ok()?, b.decimal().ok()?);
            Some(x.cmp(&y))
        }
        Ok(Kind::Float) => {
            let (x, y) = (a.f64() as f32, b.f64() as f32);
            x.partial_cmp(&y)
        }
        _ => a.f64().partial_cmp(&b.f64()),
    }
}

/// `float.ToString()`: the shortest text that round-trips to the same float (.NET Core 3.0+).
pub fn format_float(f: f32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    shortest(
        &format!("{f:E}"),
        &format!("{f}"),
        f == 0.0,
        f.is_sign_negative(),
        9,
    )
}

/// The shortest round-trip text of a double (`precision` 17) or float (9), as .NET Core 3.0+'s
/// `FormatDouble`/`FormatSingle` lay it out: `sci` is Rust's shortest exponent form (`1.5E-7`),
/// `plain` its shortest plain form. .NET switches to scientific notation when the decimal
/// exponent reaches max(digits, precision) or falls below -4 ("1E+17", "1E-05").
pub fn shortest(sci: &str, plain: &str, zero: bool, negative: bool, precision: i32) -> String {
    if zero {
        return if negative { "-0" } else { "0" }.into();
    }
    let Some((m, e)) = sci.split_once('E') else {
        return plain.into();
    };
    let exp: i32 = e.parse().unwrap_or(0);
    let digits = m.chars().filter(char::is_ascii_digit).count() as i32;
    let scale = exp + 1;
    if scale > precision.max(digits) || scale < -3 {
        let (sign, d) = match e.strip_prefix('-') {
            Some(r) => ('-', r),
            None => ('+', e),
        };
        let d = if d.len() < 2 {
            format!("0{d}")
        } else {
            d.to_string()
        };
        return format!("{m}E{sign}{d}");
    }
    plain.into()
}

/// `decimal.ToString()`: every digit, the scale kept (`1.50m` prints "1.50").
pub fn format_decimal(d: Decimal) -> String {
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_and_wrap() {
        let c = Consts::default();
        assert_eq!(
            binary(Op::Add, Num::I32(i32::MAX), Num::I32(1), false, c),
            Ok(Num::I32(i32::MIN))
        );
        assert!(matches!(
            binary(Op::Add, Num::I32(i32::MAX), Num::I32(1), true, c),
            Err(NumError::Overflow(_))
        ));
        assert_eq!(
            binary(Op::Shl, Num::I32(1), Num::I32(33), false, c),
            Ok(Num::I32(2))
        );
        assert_eq!(
            binary(Op::Add, Num::I32(1), Num::U32(1), false, c),
            Ok(Num::I64(2))
        );
        assert_eq!(
            binary(
                Op::Add,
                Num::I32(1),
                Num::U32(1),
                false,
                Consts {
                    left: true,
                    right: false
                }
            ),
            Ok(Num::U32(2))
        );
        assert!(matches!(
            binary(Op::Add, Num::I64(1), Num::U64(1), false, c),
            Err(NumError::Compile(_))
        ));
        assert_eq!(
            binary(Op::Mul, Num::F32(1.1), Num::I32(3), false, c),
            Ok(Num::F32(1.1f32 * 3.0))
        );
        assert_eq!(
            binary(Op::Mul, Num::U64(u64::MAX), Num::U64(3), false, c),
            Ok(Num::U64(u64::MAX.wrapping_mul(3)))
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(
            Num::F64(f64::NAN).convert(Kind::Int, false),
            Ok(Num::I32(i32::MIN))
        );
        assert_eq!(Num::F64(-1.9).convert(Kind::Int, false), Ok(Num::I32(-1)));
        assert_eq!(Num::I32(300).convert(Kind::Byte, false), Ok(Num::U8(44)));
        assert!(Num::I32(300).convert(Kind::Byte, true).is_err());
        assert_eq!(
            Num::F64(0.1).decimal().map(|d| d.to_string()),
            Ok("0.1".to_string())
        );
        assert_eq!(
            Num::F64(1.0 / 3.0).decimal().map(|d| d.to_string()),
            Ok("0.333333333333333".to_string())
        );
    }

    #[test]
    fn float_text() {
        assert_eq!(format_float(1.1f32 * 3.0), "3.3000002");
        assert_eq!(format_float(1e20), "1E+20");
        assert_eq!(format_float(1e7), "10000000");
        assert_eq!(format_float(0.5), "0.5");
    }
}
