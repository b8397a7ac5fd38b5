//! RSA keys in the forms .NET reads and writes: `RSAParameters` (big-endian byte[] fields),
//! the `<RSAKeyValue>` XML of `FromXmlString`/`ToXmlString`, DER (PKCS#1, PKCS#8,
//! SubjectPublicKeyInfo) and PEM.

use ::rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use ::rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ::rsa::traits::{PrivateKeyParts, PublicKeyParts};
use ::rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

use super::rsa::{Key, private_of, public_of};
use super::*;

fn big(v: Option<&Value>, at: usize) -> F<Option<BigUint>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(BigUint::from_bytes_be(&as_bytes(v, at)?))),
    }
}

pub(super) fn bad_data(at: usize) -> Flow {
    crypto_err("Bad Data.", at)
}

/// A key from RSAParameters' fields (each a big-endian byte[]; `D` makes it private).
pub(super) fn from_parameters(p: &BTreeMap<String, Value>, at: usize) -> F<Key> {
    let n = big(p.get("Modulus"), at)?.ok_or_else(|| bad_data(at))?;
    let e = big(p.get("Exponent"), at)?.ok_or_else(|| bad_data(at))?;
    match big(p.get("D"), at)? {
        Some(d) => {
            let primes: Vec<BigUint> = [big(p.get("P"), at)?, big(p.get("Q"), at)?]
                .into_iter()
                .flatten()
                .collect();
            let k = RsaPrivateKey::from_components(n, e, d, primes).map_err(|_| bad_data(at))?;
            Ok(Key::Private(Box::new(k)))
        }
        None => Ok(Key::Public(Box::new(
            RsaPublicKey::new(n, e).map_err(|_| bad_data(at))?,
        ))),
    }
}

/// .NET pads the CRT fields to half the modulus length and `D` to its full length.
fn be(n: &BigUint, len: usize) -> Value {
    let b = n.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(b.len())];
    out.extend(b);
    Value::Bytes(out)
}

pub(super) fn to_parameters(k: &Key, private: bool, at: usize) -> F<BTreeMap<String, Value>> {
    let pubk = public_of(k);
    let mut m = BTreeMap::new();
    m.insert("Modulus".into(), be(pubk.n(), 0));
    m.insert("Exponent".into(), be(pubk.e(), 0));
    if private {
        let p = private_of(k, at)?;
        let size = pubk.size();
        let half = size.div_ceil(2);
        let primes = p.primes();
        let (pp, qq) = match primes {
            [a, b, ..] => (a.clone(), b.clone()),
            _ => return Err(bad_data(at)),
        };
        let one = BigUint::from(1u8);
        let dp = p.d() % (&pp - &one);
        let dq = p.d() % (&qq - &one);
        let qinv = p
            .qinv()
            .and_then(|q| q.to_biguint())
            .ok_or_else(|| bad_data(at))?;
        m.insert("D".into(), be(p.d(), size));
        m.insert("P".into(), be(&pp, half));
        m.insert("Q".into(), be(&qq, half));
        m.insert("DP".into(), be(&dp, half));
        m.insert("DQ".into(), be(&dq, half));
        m.insert("InverseQ".into(), be(&qinv, half));
    }
    Ok(m)
}

const XML_ORDER: &[&str] = &["Modulus", "Exponent", "P", "Q", "DP", "DQ", "InverseQ", "D"];

pub(super) fn to_xml(m: &BTreeMap<String, Value>, at: usize) -> F<String> {
    let mut s = String::from("<RSAKeyValue>");
    for f in XML_ORDER {
        if let Some(v) = m.get(*f) {
            let b = as_bytes(v, at)?;
            s.push_str(&format!(
                "<{f}>{}</{f}>",
                base64::engine::general_purpose::STANDARD.encode(b)
            ));
        }
    }
    s.push_str("</RSAKeyValue>");
    Ok(s)
}

pub(super) fn from_xml(text: &str, at: usize) -> F<Key> {
    let doc = roxmltree::Document::parse(text).map_err(|_| bad_data(at))?;
    let mut m = BTreeMap::new();
    for e in doc.root_element().children().filter(|n| n.is_element()) {
        let name = e.tag_name().name();
        if XML_ORDER.contains(&name) {
            let b = b64_decode(e.text().unwrap_or(""), at)?;
            m.insert(name.to_string(), Value::Bytes(b));
        }
    }
    from_parameters(&m, at)
}

/// The length of the DER element at the start of `der` (what the `out int bytesRead` of the
/// `Import…` methods reports).
pub(super) fn der_len(der: &[u8], at: usize) -> F<i64> {
    let first = *der.get(1).ok_or_else(|| bad_data(at))? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let bytes = der.get(2..2 + n).ok_or_else(|| bad_data(at))?;
        let len = bytes
            .iter()
            .try_fold(0usize, |acc, b| {
                acc.checked_mul(256).map(|a| a + *b as usize)
            })
            .ok_or_else(|| bad_data(at))?;
        (len, 2 + n)
    };
    Ok(len.saturating_add(header) as i64)
}

pub(super) fn import_der(format: &str, der: &[u8], at: usize) -> F<Key> {
    let bad = || crypto_err("ASN1 corrupted data.", at);
    let len = usize::try_from(der_len(der, at)?).unwrap_or(usize::MAX);
    let der = der.get(..len).ok_or_else(bad)?;
    Ok(match format {
        "ImportRSAPrivateKey" => Key::Private(Box::new(
            RsaPrivateKey::from_pkcs1_der(der).map_err(|_| bad())?,
        )),
        "ImportPkcs8PrivateKey" => Key::Private(Box::new(
            RsaPrivateKey::from_pkcs8_der(der).map_err(|_| bad())?,
        )),
        "ImportRSAPublicKey" => Key::Public(Box::new(
            RsaPublicKey::from_pkcs1_der(der).map_err(|_| bad())?,
        )),
        _ => Key::Public(Box::new(
            RsaPublicKey::from_public_key_der(der).map_err(|_| bad())?,
        )),
    })
}

pub(super) fn import_pem(text: &str, at: usize) -> F<Key> {
    const LABELS: &[(&str, &str)] = &[
        ("RSA PRIVATE KEY", "ImportRSAPrivateKey"),
        ("PRIVATE KEY", "ImportPkcs8PrivateKey"),
        ("RSA PUBLIC KEY", "ImportRSAPublicKey"),
        ("PUBLIC KEY", "ImportSubjectPublicKeyInfo"),
    ];
    for (label, format) in LABELS {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(i) = text.find(&begin)
            && let Some(j) = text[i..].find(&end)
        {
            let body = &text[i + begin.len()..i + j];
            return import_der(format, &b64_decode(body, at)?, at);
        }
    }
    Err(rt(
        "ArgumentException",
        "No supported key formats were found. Check that the input represents the contents of a PEM-encoded key file, not the path to such a file. (Parameter 'input')",
        at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der_len(&[0x30, 0x03, 1, 2, 3, 9], 0).ok(), Some(5));
        assert_eq!(der_len(&[0x30, 0x81, 0x80], 0).ok(), Some(0x83));
        assert_eq!(der_len(&[0x30, 0x82, 0x01, 0x00], 0).ok(), Some(0x104));
        assert!(der_len(&[0x30], 0).is_err());
        assert!(der_len(&[0x30, 0x84, 1], 0).is_err());
    }

    #[test]
    fn big_endian_fields_are_padded() {
        let n = BigUint::from(0x0102u32);
        assert_eq!(be(&n, 4), Value::Bytes(vec![0, 0, 1, 2]));
        assert_eq!(be(&n, 0), Value::Bytes(vec![1, 2]));
    }
}
