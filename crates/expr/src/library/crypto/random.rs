//! `RNGCryptoServiceProvider` / `RandomNumberGenerator`, and the random bytes the other crypto
//! types need (HMAC keys, AES keys and IVs, RSA key generation): the operating system's CSPRNG.

use ::rsa::rand_core::{OsRng, RngCore as _};

use super::*;

/// `n` random bytes from the operating system.
pub(crate) fn bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    OsRng.fill_bytes(&mut out);
    out
}

/// `n` random bytes none of which is zero (`GetNonZeroBytes`).
fn non_zero(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(bytes(n - out.len()).into_iter().filter(|b| *b != 0));
    }
    out
}

/// The length of the array `GetBytes(byte[])` fills, and what it fills it with. The interpreter
/// writes the result into the argument (crates/expr/src/interp/calls.rs), as C# does by
/// reference.
pub(crate) fn fill(it: &mut Interp, name: &str, len: usize, at: usize) -> F<Vec<u8>> {
    it.charge(len, at)?;
    it.check_time(at)?;
    Ok(if name == "GetNonZeroBytes" {
        non_zero(len)
    } else {
        bytes(len)
    })
}

/// `RandomNumberGenerator.GetBytes(int)`, `GetInt32(max)` / `GetInt32(min, max)` (.NET 6+).
pub(super) fn call_static(it: &mut Interp, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    Ok(Some(match name {
        "Create" => Value::Object(Object::Crypto(Crypto::Rng)),
        "GetBytes" => {
            let n = as_int(arg(args, 0, at)?, at)?;
            let n = usize::try_from(n)
                .map_err(|_| arg_range("Non-negative number required. (Parameter 'count')", at))?;
            Value::Bytes(fill(it, name, n, at)?)
        }
        "GetInt32" => {
            let (lo, hi) = match args.len() {
                1 => (0, as_int(arg(args, 0, at)?, at)?),
                _ => (
                    as_int(arg(args, 0, at)?, at)?,
                    as_int(arg(args, 1, at)?, at)?,
                ),
            };
            if lo >= hi {
                return Err(rt(
                    "ArgumentException",
                    "Range of random number does not contain at least one possibility.",
                    at,
                ));
            }
            let span = (hi - lo) as u64;
            // Rejection sampling keeps the result uniform.
            let zone = u64::MAX - (u64::MAX % span);
            loop {
                let v = OsRng.next_u64();
                if v < zone {
                    break Value::Int(lo + (v % span) as i64);
                }
            }
        }
        _ => return Ok(None),
    }))
}
