//! The crypto members policies rarely write, with what .NET 8 does: RSA's `LegalKeySizes` and
//! its obsolete `EncryptValue`/`DecryptValue` (NotSupportedException), HMACSHA384/512's
//! obsolete `ProduceLegacyHmacValues` (false; true is refused), and the certificate members
//! that need a file system or a platform store: there is none in an expression, so
//! `CreateFromCertFile`/`CreateFromSignedFile` fail as OpenSSL does for a missing file,
//! `Import` throws as .NET on Linux does (certificates are immutable there), and `Verify`
//! builds no chain — no trust anchors are configured, so, as .NET with an empty trust store,
//! it answers false.

use super::*;

/// Whether `ty.name(…)` is one of this module's statics.
pub(super) fn static_exists(ty: &str, name: &str) -> bool {
    matches!(
        (ty, name),
        (
            "X509Certificate" | "X509Certificate2",
            "CreateFromCertFile" | "CreateFromSignedFile"
        ) | ("X509Certificate2", "GetCertContentType")
            | ("RSACertificateExtensions", "CopyWithPrivateKey")
    )
}

pub(super) fn call_static(ty: &str, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    if !static_exists(ty, name) {
        return None;
    }
    Some(match name {
        "CreateFromCertFile" | "CreateFromSignedFile" => match arg(args, 0, at) {
            Ok(v) => missing_file(v, at),
            Err(e) => Err(e),
        },
        "GetCertContentType" => match arg(args, 0, at) {
            Ok(Value::Bytes(b)) => content_type(b, at),
            Ok(Value::Null) => Err(rt(
                "ArgumentException",
                "Array may not be empty or null. (Parameter 'rawData')",
                at,
            )),
            Ok(v) => missing_file(v, at),
            Err(e) => Err(e),
        },
        _ => (|| match arg(args, 0, at)? {
            Value::Object(Object::Crypto(Crypto::X509(c))) => {
                x509::copy_with_private_key(c, arg(args, 1, at)?, at)
            }
            Value::Null => Err(rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'certificate')",
                at,
            )),
            other => Err(cast_err(
                other,
                "System.Security.Cryptography.X509Certificates.X509Certificate2",
                at,
            )),
        })(),
    })
}

/// A certificate file: expressions have no file system, so every name is a missing file.
fn missing_file(name: &Value, at: usize) -> F<Value> {
    match name {
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null. (Parameter 'fileName')",
            at,
        )),
        Value::String(_) => Err(crypto_err(
            "error:80000002:system library::No such file or directory",
            at,
        )),
        other => Err(cast_err(other, "System.String", at)),
    }
}

/// `X509Certificate2.GetCertContentType(bytes)`: a DER or PEM certificate is `Cert`, a
/// PKCS#7 SignedData `Pkcs7`, a PFX `Pkcs12`; anything else is refused.
fn content_type(b: &[u8], at: usize) -> F<Value> {
    if b.is_empty() {
        return Err(rt(
            "ArgumentException",
            "Array may not be empty or null. (Parameter 'rawData')",
            at,
        ));
    }
    let pem = std::str::from_utf8(b).is_ok_and(|s| s.contains("-----BEGIN CERTIFICATE-----"));
    if pem || x509_parser::parse_x509_certificate(b).is_ok() {
        return Ok(Value::Enum("X509ContentType", 1));
    }
    // After the outer SEQUENCE's header: PKCS#7's ContentInfo OID, or PFX's version 3.
    let body = match b {
        [0x30, l, rest @ ..] if *l < 0x80 => rest,
        [0x30, l, rest @ ..] => rest.get(usize::from(l & 0x7f)..).unwrap_or_default(),
        _ => &[],
    };
    const SIGNED_DATA: &[u8] = &[
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
    ];
    if body.starts_with(SIGNED_DATA) {
        return Ok(Value::Enum("X509ContentType", 5));
    }
    if body.starts_with(&[0x02, 0x01, 0x03, 0x30]) {
        return Ok(Value::Enum("X509ContentType", 3));
    }
    Err(crypto_err(
        "Error occurred during a cryptographic operation.",
        at,
    ))
}

/// `rsa.LegalKeySizes`: .NET 8's RSA (OpenSSL) takes 512 to 16384 bits in steps of 8.
pub(super) fn rsa_member(name: &str) -> Option<Value> {
    (name == "LegalKeySizes").then(|| Value::Array(vec![symmetric::key_sizes(512, 16384, 8)]))
}

/// `rsa.EncryptValue(…)` / `DecryptValue(…)`: obsolete, and not supported by .NET Core's RSA.
/// `ExportEncryptedPkcs8PrivateKey(password, pbeParameters)`: see pkcs8_encrypted.rs.
pub(super) fn rsa_call(name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    match name {
        "EncryptValue" | "DecryptValue" => Some(Err(rt(
            "NotSupportedException",
            "Method is not supported.",
            at,
        ))),
        "ExportEncryptedPkcs8PrivateKey" => Some(match args.get(1) {
            Some((_, Value::Null)) | None => Err(pkcs8_encrypted::export_refused(at)),
            Some((_, v)) => Err(cast_err(
                v,
                "System.Security.Cryptography.PbeParameters",
                at,
            )),
        }),
        _ => None,
    }
}

/// HMACSHA384/512's `ProduceLegacyHmacValues`: always false in .NET Core.
pub(super) fn hmac_member(kind: HashKind, name: &str) -> Option<Value> {
    (name == "ProduceLegacyHmacValues" && legacy_capable(kind)).then_some(Value::Bool(false))
}

/// Setting it: false is accepted, true refused (the legacy values are not produced).
pub(super) fn hmac_set(kind: HashKind, name: &str, v: &Value, at: usize) -> Option<F<()>> {
    if name != "ProduceLegacyHmacValues" || !legacy_capable(kind) {
        return None;
    }
    Some(match v {
        Value::Bool(false) => Ok(()),
        Value::Bool(true) => Err(rt(
            "PlatformNotSupportedException",
            "Operation is not supported on this platform.",
            at,
        )),
        other => Err(cast_err(other, "System.Boolean", at)),
    })
}

fn legacy_capable(kind: HashKind) -> bool {
    matches!(kind, HashKind::HmacSha384 | HashKind::HmacSha512)
}

/// `cert.Import(…)`, `cert.Verify()`, `cert.CopyWithPrivateKey(rsa)` (the extension method).
pub(super) fn cert_call(c: &x509::Cert, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    Some(match name {
        "CopyWithPrivateKey" => match arg(args, 0, at) {
            Ok(key) => x509::copy_with_private_key(c, key, at),
            Err(e) => Err(e),
        },
        "Import" => Err(rt(
            "PlatformNotSupportedException",
            "X509Certificate is immutable on this platform. Use the equivalent constructor instead.",
            at,
        )),
        // No trust anchors: no chain can be built, which .NET reports as false.
        "Verify" => Ok(Value::Bool(false)),
        _ => return None,
    })
}
