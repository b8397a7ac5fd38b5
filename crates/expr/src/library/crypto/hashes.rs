//! `HashAlgorithm` and `HMAC`: MD5, SHA1, SHA256, SHA384, SHA512 and their keyed forms, as
//! `Object::Hasher(kind, key)` (the key is empty for the unkeyed ones).

use sha2::Digest as _;

use super::*;

/// The type names that create a hasher (`X.Create()`, `new X()`), with what they create.
pub(super) fn kind_of_type(ty: &str) -> Option<HashKind> {
    Some(match ty {
        "MD5" | "MD5CryptoServiceProvider" => HashKind::Md5,
        "SHA1" | "SHA1Managed" | "SHA1CryptoServiceProvider" => HashKind::Sha1,
        "SHA256" | "SHA256Managed" | "SHA256CryptoServiceProvider" => HashKind::Sha256,
        "SHA384" | "SHA384Managed" | "SHA384CryptoServiceProvider" => HashKind::Sha384,
        "SHA512" | "SHA512Managed" | "SHA512CryptoServiceProvider" => HashKind::Sha512,
        "HMACMD5" => HashKind::HmacMd5,
        "HMACSHA1" => HashKind::HmacSha1,
        "HMACSHA256" => HashKind::HmacSha256,
        "HMACSHA384" => HashKind::HmacSha384,
        "HMACSHA512" => HashKind::HmacSha512,
        _ => return None,
    })
}

/// `HashAlgorithm.Create(name)` / `HMAC.Create(name)`: the names .NET's CryptoConfig maps
/// (simple and namespace-qualified, and the "SHA-256" spellings); unknown names give null.
pub(super) fn kind_of_name(name: &str) -> Option<HashKind> {
    let n = name
        .strip_prefix("System.Security.Cryptography.")
        .unwrap_or(name);
    kind_of_type(n).or(match n {
        "SHA-1" => Some(HashKind::Sha1),
        "SHA-256" => Some(HashKind::Sha256),
        "SHA-384" => Some(HashKind::Sha384),
        "SHA-512" => Some(HashKind::Sha512),
        _ => None,
    })
}

pub(super) fn is_keyed(kind: HashKind) -> bool {
    matches!(
        kind,
        HashKind::HmacMd5
            | HashKind::HmacSha1
            | HashKind::HmacSha256
            | HashKind::HmacSha384
            | HashKind::HmacSha512
    )
}

/// The digest size in bits (`HashSize`).
pub(super) fn hash_size(kind: HashKind) -> i64 {
    match kind {
        HashKind::Md5 | HashKind::HmacMd5 => 128,
        HashKind::Sha1 | HashKind::HmacSha1 => 160,
        HashKind::Sha256 | HashKind::HmacSha256 => 256,
        HashKind::Sha384 | HashKind::HmacSha384 => 384,
        HashKind::Sha512 | HashKind::HmacSha512 => 512,
    }
}

/// The .NET type an instance reports (`GetType()`), as .NET Core's `Create()` builds them.
pub(crate) fn type_name(kind: HashKind) -> &'static str {
    match kind {
        HashKind::Md5 => "System.Security.Cryptography.MD5",
        HashKind::Sha1 => "System.Security.Cryptography.SHA1",
        HashKind::Sha256 => "System.Security.Cryptography.SHA256",
        HashKind::Sha384 => "System.Security.Cryptography.SHA384",
        HashKind::Sha512 => "System.Security.Cryptography.SHA512",
        HashKind::HmacMd5 => "System.Security.Cryptography.HMACMD5",
        HashKind::HmacSha1 => "System.Security.Cryptography.HMACSHA1",
        HashKind::HmacSha256 => "System.Security.Cryptography.HMACSHA256",
        HashKind::HmacSha384 => "System.Security.Cryptography.HMACSHA384",
        HashKind::HmacSha512 => "System.Security.Cryptography.HMACSHA512",
    }
}

fn mac<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    match <M as hmac::Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length, so this arm is unreachable in practice.
        Err(_) => Vec::new(),
    }
}

/// The digest of `data` (keyed by `key` for the HMACs).
pub(crate) fn digest(kind: HashKind, key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::Hmac;
    match kind {
        HashKind::Md5 => md5::Md5::digest(data).to_vec(),
        HashKind::Sha1 => sha1::Sha1::digest(data).to_vec(),
        HashKind::Sha256 => sha2::Sha256::digest(data).to_vec(),
        HashKind::Sha384 => sha2::Sha384::digest(data).to_vec(),
        HashKind::Sha512 => sha2::Sha512::digest(data).to_vec(),
        HashKind::HmacMd5 => mac::<Hmac<md5::Md5>>(key, data),
        HashKind::HmacSha1 => mac::<Hmac<sha1::Sha1>>(key, data),
        HashKind::HmacSha256 => mac::<Hmac<sha2::Sha256>>(key, data),
        HashKind::HmacSha384 => mac::<Hmac<sha2::Sha384>>(key, data),
        HashKind::HmacSha512 => mac::<Hmac<sha2::Sha512>>(key, data),
    }
}

/// A new hasher; the HMACs built without a key get a random one, as .NET's do (64 bytes, 128
/// for SHA384/SHA512: their block sizes).
pub(super) fn create(kind: HashKind, key: Option<Vec<u8>>) -> Value {
    let key = match (is_keyed(kind), key) {
        (false, _) => Vec::new(),
        (true, Some(k)) => k,
        (true, None) => {
            let n = if matches!(kind, HashKind::HmacSha384 | HashKind::HmacSha512) {
                128
            } else {
                64
            };
            random::bytes(n)
        }
    };
    Value::Object(Object::Hasher(kind, Arc::from(key)))
}

/// `ComputeHash(byte[])` / `ComputeHash(byte[], offset, count)`, and the rest of a hasher's
/// methods.
pub(super) fn call(
    it: &mut Interp,
    kind: HashKind,
    key: &[u8],
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some((|| {
        Ok(match name {
            "ComputeHash" => {
                // Hashed where it is (a byte[] or a string's UTF-8, leniently); other
                // sequences of numbers are copied first, and that copy is charged.
                let copied;
                let data: &[u8] = match arg(args, 0, at)? {
                    Value::Null => {
                        return Err(rt(
                            "ArgumentNullException",
                            "Value cannot be null. (Parameter 'buffer')",
                            at,
                        ));
                    }
                    Value::Bytes(b) => b,
                    Value::String(s) => s.as_bytes(),
                    v => {
                        it.charge(budget::shallow(v), at)?;
                        copied = as_bytes(v, at)?;
                        &copied
                    }
                };
                let data = match (args.get(1), args.get(2)) {
                    (Some((_, o)), Some((_, c))) => {
                        slice_of(data, as_int(o, at)?, as_int(c, at)?, at)?
                    }
                    _ => data,
                };
                it.check_time(at)?;
                it.charge(64, at)?;
                Value::Bytes(digest(kind, key, data))
            }
            "Initialize" | "Dispose" | "Clear" => Value::Null,
            _ => {
                return Err(no_member(
                    &Value::Object(Object::Hasher(kind, key.into())),
                    name,
                    at,
                ));
            }
        })
    })())
}

/// `data[offset..offset + count]` with .NET's argument checks.
pub(super) fn slice_of(data: &[u8], offset: i64, count: i64, at: usize) -> F<&[u8]> {
    if offset < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'offset')",
            at,
        ));
    }
    if count < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'count')",
            at,
        ));
    }
    usize::try_from(offset)
        .ok()
        .zip(usize::try_from(count).ok())
        .and_then(|(o, c)| data.get(o..o.checked_add(c)?))
        .ok_or_else(|| {
            rt(
                "ArgumentException",
                "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.",
                at,
            )
        })
}

/// Properties: `HashSize`, `Key` (HMAC), `CanReuseTransform`.
pub(super) fn member(kind: HashKind, key: &[u8], name: &str) -> Option<Value> {
    Some(match name {
        "HashSize" => Value::Int(hash_size(kind)),
        "Key" if is_keyed(kind) => Value::Bytes(key.to_vec()),
        "HashName" if is_keyed(kind) => Value::str(match kind {
            HashKind::HmacMd5 => "MD5",
            HashKind::HmacSha1 => "SHA1",
            HashKind::HmacSha256 => "SHA256",
            HashKind::HmacSha384 => "SHA384",
            _ => "SHA512",
        }),
        "InputBlockSize" | "OutputBlockSize" => Value::Int(1),
        "CanReuseTransform" | "CanTransformMultipleBlocks" => Value::Bool(true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_cryptoconfig_maps_them() {
        assert_eq!(kind_of_name("SHA-256"), Some(HashKind::Sha256));
        assert_eq!(
            kind_of_name("System.Security.Cryptography.HMACSHA512"),
            Some(HashKind::HmacSha512)
        );
        assert_eq!(kind_of_name("SHA3-256"), None);
        assert!(is_keyed(HashKind::HmacMd5) && !is_keyed(HashKind::Md5));
        assert_eq!(hash_size(HashKind::HmacSha384), 384);
    }

    #[test]
    fn digests_have_their_sizes() {
        for k in [
            HashKind::Md5,
            HashKind::Sha1,
            HashKind::Sha256,
            HashKind::Sha384,
            HashKind::Sha512,
            HashKind::HmacMd5,
            HashKind::HmacSha1,
            HashKind::HmacSha256,
            HashKind::HmacSha384,
            HashKind::HmacSha512,
        ] {
            assert_eq!(
                digest(k, b"k", b"x").len() as i64 * 8,
                hash_size(k),
                "{k:?}"
            );
        }
        assert_eq!(slice_of(b"abcdef", 2, 3, 0).ok(), Some(&b"cde"[..]));
        assert!(slice_of(b"abc", 2, 3, 0).is_err());
        assert!(slice_of(b"abc", -1, 1, 0).is_err());
    }
}
