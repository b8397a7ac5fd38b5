//! Where the rest of the library meets this module: one entry per kind of access (static call,
//! constructor, instance call, property get and set, `out` call), each answering `None` for
//! what is not crypto. The tables `policy check` reads are in types.rs.

use super::types::{HASH_FACTORIES, HASH_NAMES, SYMMETRIC, is_crypto_type};
use super::*;

/// Static methods of the crypto types and `BitConverter`.
pub(crate) fn call_static(
    it: &mut Interp,
    ty: &str,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    if ty == "BitConverter" {
        return bits::call_static(it, name, args, at);
    }
    if let Some(r) = extras::call_static(ty, name, args, at) {
        return r.map(Some);
    }
    if ty == "RandomNumberGenerator" {
        return random::call_static(it, name, args, at);
    }
    if let Some(kind) = hashes::kind_of_type(ty) {
        return Ok(Some(match name {
            "Create" => hashes::create(kind, None),
            // `SHA256.HashData(data)`, `HMACSHA256.HashData(key, data)` (.NET 5+/6+).
            "HashData" => {
                let (key, data) = if hashes::is_keyed(kind) {
                    (
                        bytes_arg(args, 0, "key", at)?,
                        bytes_arg(args, 1, "source", at)?,
                    )
                } else {
                    (Vec::new(), bytes_arg(args, 0, "source", at)?)
                };
                it.check_time(at)?;
                Value::Bytes(hashes::digest(kind, &key, &data))
            }
            _ => return Ok(None),
        }));
    }
    Ok(Some(match (ty, name) {
        ("HashAlgorithm" | "KeyedHashAlgorithm" | "HMAC", "Create") => {
            let default = if ty == "HashAlgorithm" {
                "SHA1"
            } else {
                "HMACSHA1"
            };
            let n = match args.first() {
                Some((_, v)) => as_str(v, at)?,
                None => default.to_string(),
            };
            match hashes::kind_of_name(&n) {
                Some(k) if ty == "HashAlgorithm" || hashes::is_keyed(k) => hashes::create(k, None),
                // `HMAC.Create("SHA256")`: CryptoConfig makes a SHA256, which is no HMAC.
                Some(k) => {
                    return Err(cast_err(
                        &hashes::create(k, None),
                        &format!("System.Security.Cryptography.{ty}"),
                        at,
                    ));
                }
                None => Value::Null,
            }
        }
        (_, "Create") if SYMMETRIC.contains(&ty) => symmetric::create(),
        ("RSA" | "AsymmetricAlgorithm", "Create") => match args.first() {
            Some((_, Value::Object(Object::Record(_)))) => {
                let r = rsa::create(None, at)?;
                if let Value::Object(Object::Crypto(Crypto::Rsa(s))) = &r
                    && let Some(res) = rsa::call(it, s, "ImportParameters", args, at)
                {
                    res?;
                }
                r
            }
            Some((_, v)) if !matches!(v, Value::String(_)) => {
                rsa::create(Some(as_int(v, at)?), at)?
            }
            _ => rsa::create(None, at)?,
        },
        ("Oid", "FromFriendlyName") => x509::oid(None, Some(&as_str(a(0)?, at)?)),
        ("Oid", "FromOidValue") => x509::oid(Some(&as_str(a(0)?, at)?), None),
        ("RSAEncryptionPadding", "CreateOaep") => match a(0)? {
            Value::String(h) if !h.is_empty() => Value::str(format!("Oaep{h}")),
            _ => {
                return Err(rt(
                    "ArgumentException",
                    "The hash algorithm name cannot be null or empty. (Parameter 'hashAlgorithm')",
                    at,
                ));
            }
        },
        ("RSACertificateExtensions", "GetRSAPublicKey" | "GetRSAPrivateKey") => match a(0)? {
            Value::Object(Object::Crypto(Crypto::X509(c))) => match x509::call(c, name, args, at) {
                Some(r) => r?,
                None => Value::Null,
            },
            Value::Null => return Err(null_ref(at)),
            v => {
                return Err(cast_err(
                    v,
                    "System.Security.Cryptography.X509Certificates.X509Certificate2",
                    at,
                ));
            }
        },
        _ => return Ok(None),
    }))
}

/// `new T(…)` (and object initializers, which arrive as named arguments), or `None`.
pub(crate) fn construct(it: &mut Interp, ty: &str, args: &Args, at: usize) -> Option<F<Value>> {
    let positional: Args = args.iter().filter(|(n, _)| n.is_none()).cloned().collect();
    let props: Vec<(String, Value)> = args
        .iter()
        .filter_map(|(n, v)| n.clone().map(|n| (n, v.clone())))
        .collect();
    if !is_crypto_type(ty) || HASH_FACTORIES.contains(&ty) {
        return None;
    }
    Some((|| {
        let made = if let Some(kind) = hashes::kind_of_type(ty) {
            let key = match positional.first() {
                Some((_, v)) if hashes::is_keyed(kind) => {
                    Some(bytes_arg(&positional, 0, "key", at).or_else(|_| as_bytes(v, at))?)
                }
                _ => None,
            };
            hashes::create(kind, key)
        } else {
            match ty {
                "RSAParameters" => {
                    let mut r = BTreeMap::new();
                    for (k, v) in &props {
                        r.insert(k.clone(), v.clone());
                    }
                    return Ok(Value::Object(Object::Record(Arc::new(r))));
                }
                _ if SYMMETRIC.contains(&ty) => symmetric::create(),
                "RSACryptoServiceProvider" => match positional.first() {
                    Some((_, v)) => rsa::create(Some(as_int(v, at)?), at)?,
                    None => rsa::create(None, at)?,
                },
                "RNGCryptoServiceProvider" => Value::Object(Object::Crypto(Crypto::Rng)),
                "Oid" => {
                    let s = |i: usize| -> F<Option<String>> {
                        match positional.get(i) {
                            Some((_, Value::Null)) | None => Ok(None),
                            Some((_, v)) => Ok(Some(as_str(v, at)?)),
                        }
                    };
                    x509::oid(s(0)?.as_deref(), s(1)?.as_deref())
                }
                "HashAlgorithmName" => Value::str(as_str(arg(&positional, 0, at)?, at)?),
                "X509Certificate" | "X509Certificate2" => match positional.first() {
                    Some((_, Value::String(_))) => {
                        return Err(rt(
                            "NotSupportedException",
                            "Loading a certificate from a file is not supported; pass its bytes",
                            at,
                        ));
                    }
                    Some((_, v)) => x509::load(it, &as_bytes(v, at)?, at)?,
                    None => return Err(crypto_err("Cannot find the requested object.", at)),
                },
                _ => {
                    return Err(rt(
                        "MissingMethodException",
                        format!("Cannot create an instance of '{ty}'."),
                        at,
                    ));
                }
            }
        };
        for (k, v) in props {
            if let Some(r) = set_member(&made, &k, v, at) {
                r?;
            }
        }
        Ok(made)
    })())
}

/// Instance methods: hashers, RSA, AES and its transforms, RNG, certificates, and APIM's
/// `byte[].Encrypt`/`Decrypt` extensions.
pub(crate) fn call_method(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    match t {
        Value::Object(Object::Hasher(kind, key)) => hashes::call(it, *kind, key, name, args, at),
        Value::Object(Object::Crypto(c)) => match c {
            Crypto::Rsa(s) => {
                extras::rsa_call(name, args, at).or_else(|| rsa::call(it, s, name, args, at))
            }
            Crypto::Symmetric(s) => symmetric::call(it, s, name, args, at),
            Crypto::Transform(tr) => symmetric::transform_call(it, tr, name, args, at),
            Crypto::X509(cert) => {
                x509::call(cert, name, args, at).or_else(|| extras::cert_call(cert, name, args, at))
            }
            Crypto::Rng => match name {
                // `GetBytes(byte[])` with a local writes into it (crates/expr/src/interp/calls.rs);
                // here the array is a temporary, so filling it is unobservable.
                "GetBytes" | "GetNonZeroBytes" | "Dispose" => Some(Ok(Value::Null)),
                _ => None,
            },
        },
        Value::Bytes(data) if matches!(name, "Encrypt" | "Decrypt") => {
            Some(symmetric::extension(it, data, name == "Encrypt", args, at))
        }
        _ => None,
    }
}

/// Properties of crypto objects (or the exception reading one throws), or `None`.
pub(crate) fn member(it: &mut Interp, t: &Value, name: &str, at: usize) -> Option<F<Value>> {
    match t {
        Value::Object(Object::Hasher(kind, state)) => hashes::member(*kind, state, name, at)
            .or_else(|| extras::hmac_member(*kind, name).map(Ok)),
        Value::Object(Object::Crypto(c)) => match c {
            Crypto::Rsa(s) => rsa::member(it, s, name, at).or_else(|| extras::rsa_member(name)),
            Crypto::Symmetric(s) => symmetric::member(s, name),
            Crypto::Transform(tr) => symmetric::transform_member(tr, name),
            Crypto::X509(cert) => x509::member(cert, name),
            Crypto::Rng => None,
        }
        .map(Ok),
        // `HashAlgorithmName.SHA256.Name`: the value is its name.
        Value::String(s) if name == "Name" && HASH_NAMES.contains(&&**s) => Some(Ok(t.clone())),
        // `RSAEncryptionPadding.OaepSHA256.Mode`, `RSASignaturePadding.Pss.Mode`: the
        // paddings are their names too.
        Value::String(s) if name == "Mode" && matches!(&**s, "Pkcs1" | "Pss") => {
            Some(Ok(t.clone()))
        }
        Value::String(s) if matches!(name, "Mode" | "OaepHashAlgorithm") => {
            let hash = s.strip_prefix("Oaep")?;
            Some(Ok(Value::str(if name == "Mode" { "Oaep" } else { hash })))
        }
        _ => None,
    }
}

/// `obj.Prop = v` on a crypto object (`aes.Key = key`, `rsa.KeySize = 2048`), or `None`.
pub(crate) fn set_member(t: &Value, name: &str, v: Value, at: usize) -> Option<F<()>> {
    match t {
        Value::Object(Object::Crypto(Crypto::Symmetric(s))) => {
            symmetric::set_member(s, name, v, at)
        }
        Value::Object(Object::Crypto(Crypto::Rsa(s))) => rsa::set_member(s, name, &v, at),
        Value::Object(Object::Hasher(kind, state)) => {
            hashes::set_member(*kind, state, name, &v, at)
                .or_else(|| extras::hmac_set(*kind, name, &v, at))
        }
        _ => None,
    }
}

/// A call with an `out` argument on a crypto object: what it returns and what the out
/// variable receives.
pub(crate) fn call_with_out(
    it: &mut Interp,
    t: &Value,
    name: &str,
    inputs: &[Value],
    at: usize,
) -> Option<F<(Value, Value)>> {
    match t {
        Value::Object(Object::Crypto(Crypto::Rsa(s)))
            if name == "ImportEncryptedPkcs8PrivateKey" =>
        {
            Some((|| {
                let (password, source) = match inputs {
                    [p, b] => (p, b),
                    _ => return Err(keyformats::bad_data(at)),
                };
                let der = spans::span_bytes(source, at)?;
                let (k, read) = pkcs8_encrypted::import(it, password, &der, at)?;
                lock(s).set(k);
                Ok((Value::Null, Value::Int(read as i64)))
            })())
        }
        Value::Object(Object::Crypto(Crypto::Rsa(s))) => rsa::call_with_out(s, name, inputs, at),
        _ => None,
    }
}
