//! The crypto types as `policy check` and casts see them: which types and static members
//! exist, the enum-like static values, and the type hierarchy of crypto objects.

use super::*;

pub(super) const HASH_FACTORIES: &[&str] = &["HashAlgorithm", "KeyedHashAlgorithm", "HMAC"];
pub(super) const SYMMETRIC: &[&str] = &[
    "Aes",
    "AesManaged",
    "AesCryptoServiceProvider",
    "Rijndael",
    "RijndaelManaged",
    "SymmetricAlgorithm",
];
const OTHER_TYPES: &[&str] = &[
    "RSA",
    "RSACryptoServiceProvider",
    "RSAParameters",
    "AsymmetricAlgorithm",
    "HashAlgorithmName",
    "RSASignaturePadding",
    "RSAEncryptionPadding",
    "CipherMode",
    "PaddingMode",
    "RNGCryptoServiceProvider",
    "RandomNumberGenerator",
    "Oid",
    "X509Certificate",
    "X509Certificate2",
    "X509NameType",
    "X509ContentType",
    "OidGroup",
    "RSACertificateExtensions",
    "PublicKey",
    "X500DistinguishedName",
    "BitConverter",
];

pub(super) const HASH_NAMES: &[&str] = &["MD5", "SHA1", "SHA256", "SHA384", "SHA512"];
const SIGNATURE_PADDINGS: &[&str] = &["Pkcs1", "Pss"];
const ENCRYPTION_PADDINGS: &[&str] = &[
    "Pkcs1",
    "OaepSHA1",
    "OaepSHA256",
    "OaepSHA384",
    "OaepSHA512",
];
const NAME_TYPES: &[&str] = &[
    "SimpleName",
    "EmailName",
    "UpnName",
    "DnsName",
    "DnsFromAlternativeName",
    "UrlName",
];
const OID_GROUPS: &[&str] = &[
    "All",
    "HashAlgorithm",
    "EncryptionAlgorithm",
    "PublicKeyAlgorithm",
    "SignatureAlgorithm",
    "Attribute",
    "ExtensionOrAttribute",
    "EnhancedKeyUsage",
    "Policy",
    "Template",
    "KeyDerivationFunction",
];
const CONTENT_TYPES: &[&str] = &[
    "Unknown",
    "Cert",
    "SerializedCert",
    "Pfx",
    "Pkcs12",
    "SerializedStore",
    "Pkcs7",
    "Authenticode",
];

/// Whether `ty` is a type this module implements (for the parser and `policy check`).
pub(crate) fn is_crypto_type(ty: &str) -> bool {
    hashes::kind_of_type(ty).is_some()
        || HASH_FACTORIES.contains(&ty)
        || SYMMETRIC.contains(&ty)
        || OTHER_TYPES.contains(&ty)
}

/// Whether static member `ty.name` exists (`call`: a method), or `None` if `ty` is not ours.
/// Mirrors [`call_static`] and [`static_property`].
pub(crate) fn static_exists(ty: &str, name: &str, call: bool) -> Option<bool> {
    if !is_crypto_type(ty) {
        return None;
    }
    let hash = hashes::kind_of_type(ty);
    if call && extras::static_exists(ty, name) {
        return Some(true);
    }
    Some(if call {
        match ty {
            _ if hash.is_some() => matches!(name, "Create" | "HashData"),
            "HashAlgorithm" | "KeyedHashAlgorithm" | "HMAC" => name == "Create",
            _ if SYMMETRIC.contains(&ty) => name == "Create",
            "RSA" | "AsymmetricAlgorithm" => name == "Create",
            "RandomNumberGenerator" => matches!(name, "Create" | "GetBytes" | "GetInt32"),
            "Oid" => matches!(name, "FromFriendlyName" | "FromOidValue"),
            "RSACertificateExtensions" => matches!(name, "GetRSAPublicKey" | "GetRSAPrivateKey"),
            "RSAEncryptionPadding" => name == "CreateOaep",
            "BitConverter" => matches!(
                name,
                "GetBytes"
                    | "ToInt16"
                    | "ToUInt16"
                    | "ToInt32"
                    | "ToUInt32"
                    | "ToInt64"
                    | "ToUInt64"
                    | "ToDouble"
                    | "ToSingle"
                    | "ToBoolean"
                    | "ToChar"
                    | "ToString"
                    | "DoubleToInt64Bits"
                    | "SingleToInt32Bits"
                    | "Int32BitsToSingle"
                    | "Int64BitsToDouble"
            ),
            _ => false,
        }
    } else {
        static_property(ty, name).is_some()
    })
}

/// `HashAlgorithmName.SHA256`, `RSASignaturePadding.Pkcs1`, `CipherMode.CBC` …: enum-like
/// values are their names, as `ToString()` prints them.
pub(crate) fn static_property(ty: &str, name: &str) -> Option<Value> {
    let listed = match ty {
        "HashAlgorithmName" => HASH_NAMES,
        "RSASignaturePadding" => SIGNATURE_PADDINGS,
        "RSAEncryptionPadding" => ENCRYPTION_PADDINGS,
        "X509NameType" => NAME_TYPES,
        "X509ContentType" => CONTENT_TYPES,
        "OidGroup" => OID_GROUPS,
        "CipherMode" | "PaddingMode" => return symmetric::enum_value(ty, name),
        "BitConverter" if name == "IsLittleEndian" => return Some(Value::Bool(true)),
        _ => return None,
    };
    listed.contains(&name).then(|| Value::str(name))
}

/// Whether a crypto object is a `ty` (casts, `as`, `is`), by the .NET type hierarchy; `None`
/// when `v` is not a crypto object.
pub(crate) fn is_instance(v: &Value, ty: &str) -> Option<bool> {
    let is = match v {
        Value::Object(Object::Hasher(kind, _)) => {
            ty == "HashAlgorithm"
                || hashes::kind_of_type(ty) == Some(*kind)
                || (hashes::is_keyed(*kind) && matches!(ty, "KeyedHashAlgorithm" | "HMAC"))
                || matches!(ty, "IDisposable" | "ICryptoTransform")
        }
        Value::Object(Object::Crypto(c)) => match c {
            Crypto::Rsa(_) => matches!(ty, "RSA" | "AsymmetricAlgorithm" | "IDisposable"),
            Crypto::Symmetric(_) => SYMMETRIC.contains(&ty) || ty == "IDisposable",
            Crypto::Transform(_) => matches!(ty, "ICryptoTransform" | "IDisposable"),
            Crypto::Rng => matches!(
                ty,
                "RandomNumberGenerator" | "RNGCryptoServiceProvider" | "IDisposable"
            ),
            Crypto::X509(_) => matches!(ty, "X509Certificate" | "X509Certificate2" | "IDisposable"),
        },
        _ => return None,
    };
    Some(is)
}
