//! `BitConverter`: little-endian bytes of numbers and back, and the "01-AB-…" hex text. Each
//! number gives the bytes of its own type (an int 4, a long 8, a float 4, a short 2;
//! crates/expr/src/numeric.rs), as the overload C# picks for it does.

use super::*;

fn start_index(bytes: &[u8], args: &Args, width: usize, at: usize) -> F<usize> {
    let start = match args.get(1) {
        Some((_, v)) => as_int(v, at)?,
        None => 0,
    };
    let s = usize::try_from(start)
        .ok()
        .filter(|s| *s < bytes.len())
        .ok_or_else(|| {
            arg_range(
                "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')",
                at,
            )
        })?;
    if s + width > bytes.len() {
        return Err(rt(
            "ArgumentException",
            "Destination array is not long enough to copy all the items in the collection. Check array index and length. (Parameter 'value')",
            at,
        ));
    }
    Ok(s)
}

fn read<const N: usize>(bytes: &[u8], args: &Args, at: usize) -> F<[u8; N]> {
    let s = start_index(bytes, args, N, at)?;
    let mut b = [0u8; N];
    b.copy_from_slice(&bytes[s..s + N]);
    Ok(b)
}

fn hex(it: &mut Interp, bytes: &[u8], at: usize) -> F<Value> {
    it.charge(bytes.len().saturating_mul(3), at)?;
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        s.push_str(&format!("{b:02X}"));
    }
    Ok(Value::str(s))
}

pub(super) fn call_static(it: &mut Interp, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    let data = |name: &str| -> F<Vec<u8>> {
        match arg(args, 0, at)? {
            Value::Null => Err(rt(
                "ArgumentNullException",
                format!("Value cannot be null. (Parameter '{name}')"),
                at,
            )),
            v => as_bytes(v, at),
        }
    };
    Ok(Some(match name {
        "GetBytes" => Value::Bytes(match a(0)? {
            Value::Bool(b) => vec![*b as u8],
            Value::Char(c) => (*c as u32 as u16).to_le_bytes().to_vec(),
            Value::Int(i) => (*i as i32).to_le_bytes().to_vec(),
            Value::Long(i) => i.to_le_bytes().to_vec(),
            Value::UInt(i) => i.to_le_bytes().to_vec(),
            Value::ULong(i) => i.to_le_bytes().to_vec(),
            Value::Short(i) => i.to_le_bytes().to_vec(),
            Value::UShort(i) => i.to_le_bytes().to_vec(),
            // A byte or sbyte binds the Int16 overload (the narrowest C# widens it to).
            Value::Byte(i) => (*i as i16).to_le_bytes().to_vec(),
            Value::SByte(i) => (*i as i16).to_le_bytes().to_vec(),
            Value::Float(f) => f.to_le_bytes().to_vec(),
            Value::Double(d) => d.to_le_bytes().to_vec(),
            v => return Err(cast_err(v, "System.Int32", at)),
        }),
        "ToInt16" => Value::Short(i16::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToUInt16" => Value::UShort(u16::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToInt32" => Value::Int(i32::from_le_bytes(read(&data("value")?, args, at)?) as i64),
        "ToUInt32" => Value::UInt(u32::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToInt64" => Value::Long(i64::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToUInt64" => Value::ULong(u64::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToDouble" => Value::Double(f64::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToSingle" => Value::Float(f32::from_le_bytes(read(&data("value")?, args, at)?)),
        "ToBoolean" => Value::Bool(read::<1>(&data("value")?, args, at)?[0] != 0),
        "ToChar" => {
            let u = u16::from_le_bytes(read(&data("value")?, args, at)?);
            Value::Char(char::from_u32(u as u32).unwrap_or('\u{FFFD}'))
        }
        "DoubleToInt64Bits" => Value::Long(as_f64(a(0)?, at)?.to_bits() as i64),
        "Int64BitsToDouble" => Value::Double(f64::from_bits(as_int(a(0)?, at)? as u64)),
        "SingleToInt32Bits" => {
            let f = match a(0)? {
                Value::Float(f) => *f,
                v => as_f64(v, at)? as f32,
            };
            Value::Int(f.to_bits() as i32 as i64)
        }
        "Int32BitsToSingle" => Value::Float(f32::from_bits(as_int(a(0)?, at)? as u32)),
        "ToString" => {
            let bytes = data("value")?;
            let (start, len) = match (args.get(1), args.get(2)) {
                (None, _) => (0, bytes.len() as i64),
                (Some((_, s)), None) => {
                    let s = as_int(s, at)?;
                    (s, bytes.len() as i64 - s)
                }
                (Some((_, s)), Some((_, l))) => (as_int(s, at)?, as_int(l, at)?),
            };
            if start < 0 || (start >= bytes.len() as i64 && start > 0) {
                return Err(arg_range(
                    "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'startIndex')",
                    at,
                ));
            }
            if len < 0 {
                return Err(arg_range(
                    "Value must be positive. (Parameter 'length')",
                    at,
                ));
            }
            if start + len > bytes.len() as i64 {
                return Err(rt(
                    "ArgumentException",
                    "Destination array is not long enough to copy all the items in the collection. Check array index and length.",
                    at,
                ));
            }
            hex(it, &bytes[start as usize..(start + len) as usize], at)?
        }
        _ => return Ok(None),
    }))
}
