//! `X509Certificate2` from DER bytes (`new X509Certificate2(Convert.FromBase64String(s))`):
//! names as .NET prints them (most specific RDN first, ", " between), thumbprint, serial,
//! validity, the RSA public key; `Oid` with the friendly names of the common algorithms.

use ::rsa::RsaPublicKey;
use ::rsa::pkcs8::DecodePublicKey;
use sha1::Digest as _;

use super::*;

/// A parsed certificate: the fields policies read, extracted once.
#[derive(Debug)]
pub struct Cert {
    pub(super) der: Vec<u8>,
    subject: String,
    issuer: String,
    subject_cn: Option<String>,
    issuer_cn: Option<String>,
    serial: String,
    not_before: i64,
    not_after: i64,
    version: i64,
    key_oid: String,
    sig_oid: String,
    key: Option<RsaPublicKey>,
    /// The subjectPublicKey bits and the DER of the key algorithm's parameters, for the legacy
    /// `GetPublicKey()` and `GetKeyAlgorithmParameters()`.
    key_bits: Vec<u8>,
    key_params: Vec<u8>,
    /// The extensions: OID, critical, the extnValue's contents.
    pub(super) extensions: Vec<(String, bool, Vec<u8>)>,
    /// The private key `CopyWithPrivateKey` attached (an RSA object).
    pub(super) private: Option<Value>,
}

/// Short names .NET's X500DistinguishedName uses for attribute types.
fn attr_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "G",
        "2.5.4.12" => "T",
        "1.2.840.113549.1.9.1" => "E",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => return format!("OID.{other}"),
    }
    .to_string()
}

/// `Oid.FriendlyName` for the OIDs certificates and policies commonly carry.
pub(super) fn friendly_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.5" => "sha1RSA",
        "1.2.840.113549.1.1.11" => "sha256RSA",
        "1.2.840.113549.1.1.12" => "sha384RSA",
        "1.2.840.113549.1.1.13" => "sha512RSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.2.1" => "ECC",
        "1.2.840.10045.4.3.2" => "sha256ECDSA",
        "1.2.840.10045.4.3.3" => "sha384ECDSA",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "1.2.840.113549.2.5" => "md5",
        "1.3.6.1.5.5.7.3.1" => "Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "Client Authentication",
        "2.5.29.17" => "Subject Alternative Name",
        "2.5.29.19" => "Basic Constraints",
        "2.5.29.15" => "Key Usage",
        "2.5.29.37" => "Enhanced Key Usage",
        "2.5.4.3" => "CN",
        _ => return None,
    })
}

fn oid_of_friendly(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "1.2.840.113549.1.1.1",
        "1.2.840.113549.1.1.5",
        "1.2.840.113549.1.1.11",
        "1.2.840.113549.1.1.12",
        "1.2.840.113549.1.1.13",
        "1.3.14.3.2.26",
        "2.16.840.1.101.3.4.2.1",
        "2.16.840.1.101.3.4.2.2",
        "2.16.840.1.101.3.4.2.3",
        "1.2.840.113549.2.5",
    ];
    KNOWN
        .iter()
        .find(|o| friendly_name(o).is_some_and(|f| f.eq_ignore_ascii_case(name)))
        .copied()
}

/// `new Oid(value)`, `new Oid(value, friendlyName)`, `Oid.FromFriendlyName(name, group)`.
pub(super) fn oid(value: Option<&str>, friendly: Option<&str>) -> Value {
    let value = value
        .map(str::to_string)
        .or_else(|| friendly.and_then(oid_of_friendly).map(str::to_string));
    let friendly = friendly
        .map(str::to_string)
        .or_else(|| value.as_deref().and_then(friendly_name).map(str::to_string));
    let mut r = BTreeMap::new();
    r.insert("Value".into(), value.map(Value::str).unwrap_or(Value::Null));
    r.insert(
        "FriendlyName".into(),
        friendly.map(Value::str).unwrap_or(Value::Null),
    );
    Value::Object(Object::Record(Arc::new(r)))
}

fn name_of(n: &x509_parser::x509::X509Name<'_>) -> (String, Option<String>) {
    let mut parts = Vec::new();
    let mut cn = None;
    for rdn in n.iter_rdn() {
        for a in rdn.iter() {
            let oid = a.attr_type().to_id_string();
            let v = a
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|_| String::from_utf8_lossy(a.attr_value().data).into_owned());
            if oid == "2.5.4.3" && cn.is_none() {
                cn = Some(v.clone());
            }
            parts.push(format!("{}={v}", attr_name(&oid)));
        }
    }
    parts.reverse();
    (parts.join(", "), cn)
}

fn bad_cert(at: usize) -> Flow {
    crypto_err("Cannot find the requested object.", at)
}

/// Parses a DER certificate (PEM text is accepted too, as .NET accepts it).
pub(super) fn load(it: &mut Interp, data: &[u8], at: usize) -> F<Value> {
    it.charge(data.len().saturating_mul(2), at)?;
    it.check_time(at)?;
    let der = match std::str::from_utf8(data) {
        Ok(s) if s.contains("-----BEGIN CERTIFICATE-----") => {
            let body = s
                .split("-----BEGIN CERTIFICATE-----")
                .nth(1)
                .and_then(|r| r.split("-----END CERTIFICATE-----").next())
                .ok_or_else(|| bad_cert(at))?;
            b64_decode(body, at)?
        }
        _ => data.to_vec(),
    };
    certificate(der).ok_or_else(|| bad_cert(at))
}

/// An `X509Certificate2` value from DER bytes, or `None` if they are not a certificate: how a
/// host exposes a client certificate (`context.Request.Certificate`) to expressions.
pub fn certificate(der: Vec<u8>) -> Option<Value> {
    let (_, c) = x509_parser::parse_x509_certificate(&der).ok()?;
    let (subject, subject_cn) = name_of(c.subject());
    let (issuer, issuer_cn) = name_of(c.issuer());
    let spki = c.public_key();
    let cert = Cert {
        subject,
        issuer,
        subject_cn,
        issuer_cn,
        serial: c.raw_serial().iter().map(|b| format!("{b:02X}")).collect(),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        version: c.version().0 as i64 + 1,
        key_oid: spki.algorithm.algorithm.to_id_string(),
        sig_oid: c.signature_algorithm.algorithm.to_id_string(),
        key: RsaPublicKey::from_public_key_der(spki.raw).ok(),
        key_bits: spki.subject_public_key.data.to_vec(),
        key_params: spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| x509_parser::asn1_rs::ToDer::to_der_vec(p).ok())
            .unwrap_or_default(),
        extensions: c
            .extensions()
            .iter()
            .map(|e| (e.oid.to_id_string(), e.critical, e.value.to_vec()))
            .collect(),
        private: None,
        der: Vec::new(),
    };
    Some(Value::Object(Object::Crypto(Crypto::X509(Arc::new(
        Cert { der, ..cert },
    )))))
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02X}")).collect()
}

fn time(secs: i64) -> Value {
    // .NET gives the validity dates in local time (the gateway's zone, UTC).
    DateTime::from_unix_seconds(secs)
        .map(|d| Value::DateTime(d.with_kind(DateTimeKind::Local)))
        .unwrap_or(Value::Null)
}

/// An `AsnEncodedData`: its OID and raw bytes.
pub(super) fn asn_encoded(oid_value: &str, raw: &[u8]) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Oid".into(), oid(Some(oid_value), None));
    r.insert("RawData".into(), Value::Bytes(raw.to_vec()));
    Value::Object(Object::Record(Arc::new(r)))
}

fn public_key(c: &Cert) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Oid".into(), oid(Some(&c.key_oid), None));
    r.insert(
        "EncodedKeyValue".into(),
        asn_encoded(&c.key_oid, &c.key_bits),
    );
    r.insert(
        "EncodedParameters".into(),
        asn_encoded(&c.key_oid, &c.key_params),
    );
    r.insert(
        "Key".into(),
        c.key.clone().map(rsa::from_public).unwrap_or(Value::Null),
    );
    Value::Object(Object::Record(Arc::new(r)))
}

fn x500(name: &str) -> Value {
    let mut r = BTreeMap::new();
    r.insert("Name".into(), Value::str(name));
    Value::Object(Object::Record(Arc::new(r)))
}

pub(super) fn member(c: &Cert, name: &str) -> Option<Value> {
    Some(match name {
        "Subject" => Value::str(&c.subject),
        "Issuer" => Value::str(&c.issuer),
        "SubjectName" => x500(&c.subject),
        "IssuerName" => x500(&c.issuer),
        "Thumbprint" => Value::str(
            sha1::Sha1::digest(&c.der)
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>(),
        ),
        "SerialNumber" => Value::str(&c.serial),
        "NotBefore" => time(c.not_before),
        "NotAfter" => time(c.not_after),
        "Version" => Value::Int(c.version),
        "RawData" => Value::Bytes(c.der.clone()),
        "PublicKey" => public_key(c),
        "SignatureAlgorithm" => oid(Some(&c.sig_oid), None),
        // Certificates are loaded from their DER bytes: a private key only by
        // `CopyWithPrivateKey`.
        "HasPrivateKey" => Value::Bool(c.private.is_some()),
        "Archived" => Value::Bool(false),
        "PrivateKey" => c.private.clone().unwrap_or(Value::Null),
        // X509ExtensionCollection: each extension's Oid, Critical and RawData.
        "Extensions" => Value::Array(
            c.extensions
                .iter()
                .map(|(o, critical, raw)| {
                    let mut r = BTreeMap::new();
                    r.insert("Oid".into(), oid(Some(o), None));
                    r.insert("Critical".into(), Value::Bool(*critical));
                    r.insert("RawData".into(), Value::Bytes(raw.clone()));
                    Value::Object(Object::Record(Arc::new(r)))
                })
                .collect(),
        ),
        "FriendlyName" => Value::str(""),
        _ => return None,
    })
}

pub(super) fn call(c: &Cert, name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    Some(Ok(match name {
        "GetRSAPublicKey" => c.key.clone().map(rsa::from_public).unwrap_or(Value::Null),
        "GetRSAPrivateKey" => c.private.clone().unwrap_or(Value::Null),
        // The legacy getters: the name's RDNs in their encoded order (the properties give
        // them reversed), as X500DistinguishedNameFlags.None decodes it.
        "GetName" => Value::str(legacy_name(&c.subject)),
        "GetIssuerName" => Value::str(legacy_name(&c.issuer)),
        "GetNameInfo" => {
            let kind = arg(args, 0, at).map(|v| v.to_display()).unwrap_or_default();
            let issuer = matches!(args.get(1), Some((_, Value::Bool(true))));
            let (dn, cn) = if issuer {
                (&c.issuer, &c.issuer_cn)
            } else {
                (&c.subject, &c.subject_cn)
            };
            match kind.as_str() {
                // SimpleName: the CN, else the whole name's first RDN value.
                "SimpleName" | "DnsName" | "DnsFromAlternativeName" => match cn {
                    Some(cn) => Value::str(cn),
                    None => Value::str(
                        dn.split(", ")
                            .next()
                            .and_then(|p| p.split_once('='))
                            .map(|(_, v)| v)
                            .unwrap_or(""),
                    ),
                },
                _ => Value::str(""),
            }
        }
        "GetCertHashString" => member(c, "Thumbprint")?,
        "GetCertHash" => Value::Bytes(sha1::Sha1::digest(&c.der).to_vec()),
        "GetSerialNumberString" => Value::str(&c.serial),
        // .NET's legacy getters: the serial number little-endian, the key as its bits.
        "GetSerialNumber" => Value::Bytes(
            (0..c.serial.len() / 2)
                .rev()
                .filter_map(|i| u8::from_str_radix(c.serial.get(2 * i..2 * i + 2)?, 16).ok())
                .collect(),
        ),
        "GetFormat" => Value::str("X509"),
        "GetKeyAlgorithm" => Value::str(&c.key_oid),
        "GetKeyAlgorithmParameters" => Value::Bytes(c.key_params.clone()),
        "GetKeyAlgorithmParametersString" => Value::str(hex_upper(&c.key_params)),
        "GetPublicKey" => Value::Bytes(c.key_bits.clone()),
        "GetPublicKeyString" => Value::str(hex_upper(&c.key_bits)),
        "GetRawCertData" | "Export" => Value::Bytes(c.der.clone()),
        "GetRawCertDataString" => {
            Value::str(c.der.iter().map(|b| format!("{b:02X}")).collect::<String>())
        }
        "GetExpirationDateString" => Value::str(time(c.not_after).to_display()),
        "GetEffectiveDateString" => Value::str(time(c.not_before).to_display()),
        "Dispose" | "Reset" => Value::Null,
        _ => return None,
    }))
}

/// `cert.CopyWithPrivateKey(rsa)`: a new certificate with the private key attached, which must
/// be the private half of the certificate's own key.
pub(super) fn copy_with_private_key(c: &Cert, key: &Value, at: usize) -> F<Value> {
    if c.private.is_some() {
        return Err(rt(
            "InvalidOperationException",
            "The certificate already has an associated private key.",
            at,
        ));
    }
    let Value::Object(Object::Crypto(Crypto::Rsa(s))) = key else {
        return Err(match key {
            Value::Null => rt(
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'privateKey')",
                at,
            ),
            other => cast_err(other, "System.Security.Cryptography.RSA", at),
        });
    };
    let matches = match &lock(s).key {
        Some(k @ rsa::Key::Private(_)) => c.key.as_ref() == Some(&rsa::public_of(k)),
        _ => false,
    };
    if !matches {
        return Err(rt(
            "ArgumentException",
            "The provided key does not match the public key for this certificate. (Parameter 'privateKey')",
            at,
        ));
    }
    let copy = Cert {
        der: c.der.clone(),
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        subject_cn: c.subject_cn.clone(),
        issuer_cn: c.issuer_cn.clone(),
        serial: c.serial.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
        version: c.version,
        key_oid: c.key_oid.clone(),
        sig_oid: c.sig_oid.clone(),
        key: c.key.clone(),
        key_bits: c.key_bits.clone(),
        key_params: c.key_params.clone(),
        extensions: c.extensions.clone(),
        private: Some(key.clone()),
    };
    Ok(Value::Object(Object::Crypto(Crypto::X509(Arc::new(copy)))))
}

/// A distinguished name as `Subject` prints it (`CN=a, O=b`), its RDNs in the other order
/// (`O=b, CN=a`); a quoted value may hold the separator.
fn legacy_name(dn: &str) -> String {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let b = dn.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted && b.get(i + 1) == Some(&b' ') => {
                parts.push(&dn[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    parts.push(&dn[start..]);
    parts.reverse();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_reverse_the_rdns() {
        assert_eq!(
            legacy_name("CN=a, O=\"b, c\", C=US"),
            "C=US, O=\"b, c\", CN=a"
        );
        assert_eq!(legacy_name(""), "");
    }

    #[test]
    fn oids_and_friendly_names() {
        assert_eq!(friendly_name("2.16.840.1.101.3.4.2.1"), Some("sha256"));
        assert_eq!(oid_of_friendly("SHA256RSA"), Some("1.2.840.113549.1.1.11"));
        assert_eq!(attr_name("2.5.4.8"), "S");
        assert_eq!(attr_name("1.2.3"), "OID.1.2.3");
        let Value::Object(Object::Record(r)) = oid(None, Some("sha1")) else {
            panic!("an Oid is a record");
        };
        assert_eq!(r.get("Value"), Some(&Value::str("1.3.14.3.2.26")));
    }
}
