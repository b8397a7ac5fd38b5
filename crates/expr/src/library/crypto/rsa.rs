//! `RSA`: keys imported from `RSAParameters`, XML, DER (PKCS#1, PKCS#8, SubjectPublicKeyInfo) or
//! PEM, or generated when first needed; signatures (PKCS#1 v1.5, PSS) and encryption (PKCS#1
//! v1.5, OAEP) with the hash a `HashAlgorithmName` names.
//!
//! `ImportRSAPrivateKey`, `ImportRSAPublicKey`, `ImportSubjectPublicKeyInfo`,
//! `ImportPkcs8PrivateKey`, `ImportFromPem` and their `Export…` counterparts are .NET Core 3+/.NET 5
//! APIs: Mono (the differential oracle, crates/expr/tests/crypto.rs) lacks them, so their tests
//! check round trips and interop with `ImportParameters`, not Mono's output.

use ::rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use ::rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use ::rsa::rand_core::OsRng;
use ::rsa::traits::PublicKeyParts;
use ::rsa::{Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};

use super::keyformats::{
    bad_data, der_len, from_parameters, from_xml, import_der, import_pem, to_parameters, to_xml,
};
use super::*;

/// What an RSA object is counted as holding (a 4096-bit key's numbers and their CRT values).
pub(crate) const HELD_BYTES: usize = 4096;

/// The largest key generated on demand: generation time grows with the fourth power of the
/// size, and one evaluation must stay within its time budget.
const MAX_GENERATED_BITS: usize = 4096;

#[derive(Debug, Clone)]
pub(super) enum Key {
    Private(Box<RsaPrivateKey>),
    Public(Box<RsaPublicKey>),
}

/// An RSA instance: no key until one is imported or first needed (then generated).
#[derive(Debug)]
pub struct RsaState {
    pub(super) key: Option<Key>,
    key_size: usize,
}

pub(super) fn create(bits: Option<i64>, at: usize) -> F<Value> {
    let key_size = match bits {
        Some(b) => legal_size(b, at)?,
        None => 2048,
    };
    Ok(wrap(RsaState {
        key: None,
        key_size,
    }))
}

pub(crate) fn from_public(k: RsaPublicKey) -> Value {
    let key_size = k.n().bits();
    wrap(RsaState {
        key: Some(Key::Public(Box::new(k))),
        key_size,
    })
}

fn wrap(s: RsaState) -> Value {
    Value::Object(Object::Crypto(Crypto::Rsa(Arc::new(Mutex::new(s)))))
}

fn legal_size(b: i64, at: usize) -> F<usize> {
    if (512..=16384).contains(&b) && b % 8 == 0 {
        Ok(b as usize)
    } else {
        Err(crypto_err(
            "Specified key is not a valid size for this algorithm.",
            at,
        ))
    }
}

impl RsaState {
    /// The key, generated now if none was imported: a fixed, large cost, so it is checked
    /// against the time budget first and capped in size.
    fn key(&mut self, it: &mut Interp, at: usize) -> F<&Key> {
        if self.key.is_none() {
            if self.key_size > MAX_GENERATED_BITS {
                return Err(crypto_err(
                    "Generating RSA keys larger than 4096 bits is not supported.",
                    at,
                ));
            }
            it.check_time(at)?;
            it.charge(HELD_BYTES, at)?;
            let k = RsaPrivateKey::new(&mut OsRng, self.key_size)
                .map_err(|e| crypto_err(&e.to_string(), at))?;
            it.check_time(at)?;
            self.key = Some(Key::Private(Box::new(k)));
        }
        self.key.as_ref().ok_or_else(|| crypto_err("No key.", at))
    }

    pub(super) fn set(&mut self, k: Key) {
        self.key_size = match &k {
            Key::Private(p) => p.n().bits(),
            Key::Public(p) => p.n().bits(),
        };
        self.key = Some(k);
    }
}

pub(super) fn public_of(k: &Key) -> RsaPublicKey {
    match k {
        Key::Private(p) => p.to_public_key(),
        Key::Public(p) => (**p).clone(),
    }
}

pub(super) fn private_of(k: &Key, at: usize) -> F<&RsaPrivateKey> {
    match k {
        Key::Private(p) => Ok(p),
        Key::Public(_) => Err(crypto_err("Key does not exist.", at)),
    }
}

pub(super) fn member(
    it: &mut Interp,
    s: &Mutex<RsaState>,
    name: &str,
    _at: usize,
) -> Option<Value> {
    let _ = it;
    let s = lock(s);
    Some(match name {
        "KeySize" => Value::Int(s.key_size as i64),
        "SignatureAlgorithm" => Value::str("RSA"),
        "KeyExchangeAlgorithm" => Value::str("RSA"),
        _ => return None,
    })
}

pub(super) fn set_member(s: &Mutex<RsaState>, name: &str, v: &Value, at: usize) -> Option<F<()>> {
    (name == "KeySize").then(|| {
        let bits = legal_size(as_int(v, at)?, at)?;
        let mut s = lock(s);
        if s.key_size != bits {
            s.key_size = bits;
            s.key = None;
        }
        Ok(())
    })
}

/// Methods with an `out int bytesRead` argument: the value returned and the out value.
pub(super) fn call_with_out(
    s: &Mutex<RsaState>,
    name: &str,
    inputs: &[Value],
    at: usize,
) -> Option<F<(Value, Value)>> {
    if !matches!(
        name,
        "ImportRSAPrivateKey"
            | "ImportRSAPublicKey"
            | "ImportSubjectPublicKeyInfo"
            | "ImportPkcs8PrivateKey"
    ) {
        return None;
    }
    Some((|| {
        let der = match inputs.first() {
            Some(v) => as_bytes(v, at)?,
            None => return Err(bad_data(at)),
        };
        let k = import_der(name, &der, at)?;
        lock(s).set(k);
        Ok((Value::Null, Value::Int(der_len(&der, at)?)))
    })())
}

/// The data of an `(data, offset, count, …)` overload when `with_range`, and the index of the
/// argument after the data.
fn sliced(data: Vec<u8>, args: &Args, with_range: bool, at: usize) -> F<(Vec<u8>, usize)> {
    if !with_range {
        return Ok((data, 1));
    }
    let o = as_int(arg(args, 1, at)?, at)?;
    let c = as_int(arg(args, 2, at)?, at)?;
    Ok((hashes::slice_of(&data, o, c, at)?.to_vec(), 3))
}

fn hash_of(name: &Value, at: usize) -> F<HashKind> {
    let n = name.to_display();
    Ok(match n.as_str() {
        "MD5" => HashKind::Md5,
        "SHA1" => HashKind::Sha1,
        "SHA256" => HashKind::Sha256,
        "SHA384" => HashKind::Sha384,
        "SHA512" => HashKind::Sha512,
        "" => {
            return Err(rt(
                "ArgumentException",
                "The hash algorithm name cannot be null or empty. (Parameter 'hashAlgorithm')",
                at,
            ));
        }
        _ => {
            return Err(crypto_err(
                &format!("'{n}' is not a known hash algorithm."),
                at,
            ));
        }
    })
}

fn pkcs1_sign(h: HashKind) -> Pkcs1v15Sign {
    match h {
        HashKind::Md5 => Pkcs1v15Sign::new::<md5::Md5>(),
        HashKind::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        HashKind::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        HashKind::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        _ => Pkcs1v15Sign::new::<sha2::Sha256>(),
    }
}

fn pss(h: HashKind) -> Pss {
    match h {
        HashKind::Md5 => Pss::new::<md5::Md5>(),
        HashKind::Sha1 => Pss::new::<sha1::Sha1>(),
        HashKind::Sha384 => Pss::new::<sha2::Sha384>(),
        HashKind::Sha512 => Pss::new::<sha2::Sha512>(),
        _ => Pss::new::<sha2::Sha256>(),
    }
}

fn oaep(padding: &str, at: usize) -> F<Oaep> {
    Ok(match padding {
        "OaepSHA1" => Oaep::new::<sha1::Sha1>(),
        "OaepSHA256" => Oaep::new::<sha2::Sha256>(),
        "OaepSHA384" => Oaep::new::<sha2::Sha384>(),
        "OaepSHA512" => Oaep::new::<sha2::Sha512>(),
        other => return Err(crypto_err(&format!("Unknown padding mode '{other}'."), at)),
    })
}

fn is_pss(v: &Value, at: usize) -> F<bool> {
    match v.to_display().as_str() {
        "Pkcs1" => Ok(false),
        "Pss" => Ok(true),
        _ => Err(cast_err(
            v,
            "System.Security.Cryptography.RSASignaturePadding",
            at,
        )),
    }
}

pub(super) fn call(
    it: &mut Interp,
    s: &Mutex<RsaState>,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    let mut st = lock(s);
    Some((|| {
        let a = |i: usize| arg(args, i, at);
        Ok(match name {
            "ImportParameters" => {
                let k = match a(0)? {
                    Value::Object(Object::Record(r)) => from_parameters(r, at)?,
                    v => {
                        return Err(cast_err(
                            v,
                            "System.Security.Cryptography.RSAParameters",
                            at,
                        ));
                    }
                };
                st.set(k);
                Value::Null
            }
            "ExportParameters" => {
                let private = as_bool(a(0)?, at)?;
                let k = st.key(it, at)?;
                Value::Object(Object::Record(Arc::new(to_parameters(k, private, at)?)))
            }
            "FromXmlString" => {
                let k = from_xml(&as_str(a(0)?, at)?, at)?;
                st.set(k);
                Value::Null
            }
            "ToXmlString" => {
                let private = as_bool(a(0)?, at)?;
                let k = st.key(it, at)?;
                Value::str(to_xml(&to_parameters(k, private, at)?, at)?)
            }
            "ImportFromPem" => {
                let k = import_pem(&as_str(a(0)?, at)?, at)?;
                st.set(k);
                Value::Null
            }
            "ExportRSAPublicKey" | "ExportSubjectPublicKeyInfo" => {
                let p = public_of(st.key(it, at)?);
                let der = if name == "ExportRSAPublicKey" {
                    p.to_pkcs1_der()
                        .map(|d| d.into_vec())
                        .map_err(|e| crypto_err(&e.to_string(), at))?
                } else {
                    p.to_public_key_der()
                        .map(|d| d.into_vec())
                        .map_err(|e| crypto_err(&e.to_string(), at))?
                };
                Value::Bytes(der)
            }
            "ExportRSAPrivateKey" | "ExportPkcs8PrivateKey" => {
                let p = private_of(st.key(it, at)?, at)?;
                let der = if name == "ExportRSAPrivateKey" {
                    p.to_pkcs1_der()
                        .map(|d| d.as_bytes().to_vec())
                        .map_err(|e| e.to_string())
                } else {
                    p.to_pkcs8_der()
                        .map(|d| d.as_bytes().to_vec())
                        .map_err(|e| e.to_string())
                };
                Value::Bytes(der.map_err(|e| crypto_err(&e.to_string(), at))?)
            }
            "SignData" | "SignHash" => {
                let data = bytes_arg(
                    args,
                    0,
                    if name == "SignData" { "data" } else { "hash" },
                    at,
                )?;
                // `SignData(data, offset, count, hash, padding)` signs a slice.
                let (data, rest) = sliced(data, args, name == "SignData" && args.len() == 5, at)?;
                let h = hash_of(a(rest)?, at)?;
                let use_pss = is_pss(a(rest + 1)?, at)?;
                it.check_time(at)?;
                let hashed = if name == "SignData" {
                    hashes::digest(h, &[], &data)
                } else {
                    data
                };
                let k = private_of(st.key(it, at)?, at)?;
                it.charge(k.size(), at)?;
                let sig = if use_pss {
                    k.sign_with_rng(&mut OsRng, pss(h), &hashed)
                } else {
                    k.sign(pkcs1_sign(h), &hashed)
                };
                Value::Bytes(sig.map_err(|e| crypto_err(&e.to_string(), at))?)
            }
            "VerifyData" | "VerifyHash" => {
                let data = bytes_arg(
                    args,
                    0,
                    if name == "VerifyData" { "data" } else { "hash" },
                    at,
                )?;
                // `VerifyData(data, offset, count, signature, hash, padding)` verifies a slice.
                let (data, rest) = sliced(data, args, name == "VerifyData" && args.len() == 6, at)?;
                let sig = bytes_arg(args, rest, "signature", at)?;
                let h = hash_of(a(rest + 1)?, at)?;
                let use_pss = is_pss(a(rest + 2)?, at)?;
                it.check_time(at)?;
                let hashed = if name == "VerifyData" {
                    hashes::digest(h, &[], &data)
                } else {
                    data
                };
                let p = public_of(st.key(it, at)?);
                let ok = if use_pss {
                    p.verify(pss(h), &hashed, &sig)
                } else {
                    p.verify(pkcs1_sign(h), &hashed, &sig)
                };
                Value::Bool(ok.is_ok())
            }
            "Encrypt" | "Decrypt" => {
                let data = bytes_arg(args, 0, "data", at)?;
                let padding = match args.get(1) {
                    Some((_, Value::Bool(true))) => "OaepSHA1".to_string(),
                    Some((_, Value::Bool(false))) => "Pkcs1".to_string(),
                    Some((_, v)) => v.to_display(),
                    None => return Err(arg(args, 1, at).err().unwrap_or_else(|| bad_data(at))),
                };
                it.check_time(at)?;
                let k = st.key(it, at)?;
                it.charge(public_of(k).size(), at)?;
                let r = if name == "Encrypt" {
                    let p = public_of(k);
                    if padding == "Pkcs1" {
                        p.encrypt(&mut OsRng, Pkcs1v15Encrypt, &data)
                    } else {
                        p.encrypt(&mut OsRng, oaep(&padding, at)?, &data)
                    }
                } else {
                    let p = private_of(k, at)?;
                    if padding == "Pkcs1" {
                        p.decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, &data)
                    } else {
                        p.decrypt_blinded(&mut OsRng, oaep(&padding, at)?, &data)
                    }
                };
                Value::Bytes(r.map_err(|_| crypto_err("The parameter is incorrect.", at))?)
            }
            "Clear" | "Dispose" => Value::Null,
            _ => return Err(no_member(&create(None, at)?, name, at)),
        })
    })())
}
