//! `ImportEncryptedPkcs8PrivateKey(password, bytes, out read)`: a PKCS#8 EncryptedPrivateKeyInfo
//! protected with PBES2 — PBKDF2 (HMAC-SHA1/256/384/512) and AES-128/192/256-CBC, what .NET and
//! OpenSSL write — decrypted to the PrivateKeyInfo it holds. The key derivation is the costly
//! part: its iterations are checked against the time budget as they run. PBES1 schemes (3DES,
//! RC2) are refused as an algorithm not handled.
//!
//! `ExportEncryptedPkcs8PrivateKey` / `TryExport…` need a `PbeParameters`, a type no expression
//! can make: the only argument that reaches them is null, refused as .NET refuses it.

use aes::cipher::{BlockDecrypt, KeyInit, generic_array::GenericArray};
use hmac::{Hmac, Mac};

use super::keyformats::import_der;
use super::rsa::Key;
use super::*;

const PBES2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D];
const PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
/// hmacWithSHA1/256/384/512: 1.2.840.113549.2.{7,9,10,11}.
const HMAC_PREFIX: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02];
/// aes{128,192,256}-CBC: 2.16.840.1.101.3.4.1.{2,22,42}.
const AES_PREFIX: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

/// One DER element: tag, contents, and what follows it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn expect(b: &[u8], tag: u8, at: usize) -> F<(&[u8], &[u8])> {
    match tlv(b) {
        Some((t, c, r)) if t == tag => Ok((c, r)),
        _ => Err(corrupt(at)),
    }
}

fn corrupt(at: usize) -> Flow {
    crypto_err("ASN1 corrupted data.", at)
}

fn unknown(oid: &[u8], at: usize) -> Flow {
    crypto_err(
        &format!(
            "The algorithm identified by '{}' is unknown, not valid for the requested usage, or was not handled.",
            oid_text(oid)
        ),
        at,
    )
}

/// Dotted text of an encoded OID.
fn oid_text(b: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut v: u64 = 0;
    for &x in b {
        v = (v << 7) | u64::from(x & 0x7F);
        if x & 0x80 == 0 {
            if parts.is_empty() {
                let first = (v / 40).min(2);
                parts.push(first);
                parts.push(v - first * 40);
            } else {
                parts.push(v);
            }
            v = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn int(b: &[u8]) -> Option<u64> {
    (b.len() <= 8).then(|| b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// PBKDF2 (RFC 8018) with HMAC over `D`, checking the time budget every 1024 rounds.
fn pbkdf2<M: Mac + KeyInit + Clone>(
    it: &mut Interp,
    pw: &[u8],
    salt: &[u8],
    rounds: u64,
    len: usize,
    at: usize,
) -> F<Vec<u8>> {
    let keyed = <M as KeyInit>::new_from_slice(pw).map_err(|_| corrupt(at))?;
    let mut out = Vec::with_capacity(len);
    let mut block = 1u32;
    while out.len() < len {
        let mut m = keyed.clone();
        m.update(salt);
        m.update(&block.to_be_bytes());
        let mut u = m.finalize().into_bytes().to_vec();
        let mut t = u.clone();
        for r in 1..rounds {
            if r.is_multiple_of(1024) {
                it.check_time(at)?;
            }
            let mut m = keyed.clone();
            m.update(&u);
            u = m.finalize().into_bytes().to_vec();
            for (a, b) in t.iter_mut().zip(&u) {
                *a ^= b;
            }
        }
        out.extend_from_slice(&t);
        block += 1;
    }
    out.truncate(len);
    Ok(out)
}

fn aes_cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8], at: usize) -> F<Vec<u8>> {
    fn run<C: BlockDecrypt + KeyInit>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let c = C::new_from_slice(key).ok()?;
        let mut prev = iv.to_vec();
        let mut out = Vec::with_capacity(data.len());
        for chunk in data.chunks(16) {
            let mut b = chunk.to_vec();
            c.decrypt_block(GenericArray::from_mut_slice(&mut b));
            for (x, p) in b.iter_mut().zip(&prev) {
                *x ^= p;
            }
            out.extend_from_slice(&b);
            prev = chunk.to_vec();
        }
        Some(out)
    }
    if iv.len() != 16 || data.is_empty() || !data.len().is_multiple_of(16) {
        return Err(corrupt(at));
    }
    let plain = match key.len() {
        16 => run::<aes::Aes128>(key, iv, data),
        24 => run::<aes::Aes192>(key, iv, data),
        _ => run::<aes::Aes256>(key, iv, data),
    }
    .ok_or_else(|| corrupt(at))?;
    // PKCS#7 padding; a wrong password shows here.
    let pad = usize::from(*plain.last().unwrap_or(&0));
    if pad == 0
        || pad > 16
        || !plain[plain.len() - pad..]
            .iter()
            .all(|&x| usize::from(x) == pad)
    {
        return Err(wrong_password(at));
    }
    Ok(plain[..plain.len() - pad].to_vec())
}

fn wrong_password(at: usize) -> Flow {
    crypto_err(
        "The EncryptedPrivateKeyInfo structure was decoded but was not successfully interpreted, the password may be incorrect.",
        at,
    )
}

/// The private key in `der` (an EncryptedPrivateKeyInfo) and how many bytes it took.
pub(super) fn import(it: &mut Interp, password: &Value, der: &[u8], at: usize) -> F<(Key, usize)> {
    let pw = match password {
        Value::Null => Vec::new(),
        Value::Bytes(b) => b.clone(),
        v => spans::span_text(v, at)?.into_bytes(),
    };
    let (outer, rest) = expect(der, 0x30, at)?;
    let read = der.len() - rest.len();
    let (alg, after) = expect(outer, 0x30, at)?;
    let (data, _) = expect(after, 0x04, at)?;
    let (oid, params) = expect(alg, 0x06, at)?;
    if oid != PBES2 {
        return Err(unknown(oid, at));
    }
    let (params, _) = expect(params, 0x30, at)?;
    let (kdf, enc) = expect(params, 0x30, at)?;
    let (kdf_oid, kdf_params) = expect(kdf, 0x06, at)?;
    if kdf_oid != PBKDF2 {
        return Err(unknown(kdf_oid, at));
    }
    let (kdf_params, _) = expect(kdf_params, 0x30, at)?;
    let (salt, rest) = expect(kdf_params, 0x04, at)?;
    let (rounds, mut rest) = expect(rest, 0x02, at)?;
    let rounds = int(rounds).filter(|&r| r > 0).ok_or_else(|| corrupt(at))?;
    if let Some((0x02, _, r)) = tlv(rest) {
        rest = r;
    }
    let prf = match tlv(rest) {
        Some((0x30, p, _)) => expect(p, 0x06, at)?.0,
        _ => &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x07][..],
    };
    let (enc, _) = expect(enc, 0x30, at)?;
    let (enc_oid, iv) = expect(enc, 0x06, at)?;
    let (iv, _) = expect(iv, 0x04, at)?;
    let key_len = match enc_oid.strip_prefix(AES_PREFIX) {
        Some([2]) => 16,
        Some([22]) => 24,
        Some([42]) => 32,
        _ => return Err(unknown(enc_oid, at)),
    };
    it.charge(data.len().saturating_mul(2), at)?;
    it.check_time(at)?;
    let key = match prf.strip_prefix(HMAC_PREFIX) {
        Some([7]) => pbkdf2::<Hmac<sha1::Sha1>>(it, &pw, salt, rounds, key_len, at)?,
        Some([9]) => pbkdf2::<Hmac<sha2::Sha256>>(it, &pw, salt, rounds, key_len, at)?,
        Some([10]) => pbkdf2::<Hmac<sha2::Sha384>>(it, &pw, salt, rounds, key_len, at)?,
        Some([11]) => pbkdf2::<Hmac<sha2::Sha512>>(it, &pw, salt, rounds, key_len, at)?,
        _ => return Err(unknown(prf, at)),
    };
    let plain = aes_cbc_decrypt(&key, iv, data, at)?;
    let k = import_der("ImportPkcs8PrivateKey", &plain, at).map_err(|_| wrong_password(at))?;
    Ok((k, read))
}

/// `ExportEncryptedPkcs8PrivateKey(password, pbeParameters)` and its `Try…` form: the
/// parameters can only be null here.
pub(super) fn export_refused(at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        "Value cannot be null. (Parameter 'pbeParameters')",
        at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_print_dotted() {
        assert_eq!(oid_text(PBES2), "1.2.840.113549.1.5.13");
        assert_eq!(
            oid_text(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A]),
            "2.16.840.1.101.3.4.1.42"
        );
    }

    #[test]
    fn reads_der_lengths() {
        assert_eq!(
            tlv(&[0x04, 0x02, 1, 2, 9]),
            Some((0x04, &[1u8, 2][..], &[9u8][..]))
        );
        assert_eq!(
            tlv(&[0x04, 0x81, 0x01, 7]),
            Some((0x04, &[7u8][..], &[][..]))
        );
        assert_eq!(tlv(&[0x04, 0x05, 1]), None);
    }
}
