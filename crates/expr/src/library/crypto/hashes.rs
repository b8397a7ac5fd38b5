//! `HashAlgorithm` and `HMAC`: MD5, SHA1, SHA256, SHA384, SHA512 and their keyed forms, as
//! `Object::Hasher(kind, state)`: the key (empty for the unkeyed ones) and the streaming
//! state of `TransformBlock`/`TransformFinalBlock`, shared by copies as a .NET object is.
//!
//! Checked against Mono (mcs/mono): data given to `TransformBlock` is hashed with what
//! `TransformFinalBlock` (or `ComputeHash`) adds; `Hash` is null before the first hash,
//! throws `CryptographicUnexpectedOperationException` between `TransformBlock` and
//! `TransformFinalBlock` (`Initialize` and `ComputeHash` drop or use the data, not that
//! state); `Dispose`/`Clear` make `ComputeHash` and `Hash` throw `ObjectDisposedException`;
//! an HMAC key longer than the hash's block size is kept hashed (`Key.Length` 32 for
//! HMACSHA256) and cannot change once data was written.

use std::sync::Mutex;

use sha2::Digest as _;

use super::*;

/// A hasher's key and streaming state.
pub struct HashState(Mutex<Running>);

#[derive(Debug, Clone, Default)]
struct Running {
    key: Vec<u8>,
    /// What `TransformBlock` has given since the last hash: kept, not hashed incrementally,
    /// so one `digest` serves every algorithm; each block is charged to the memory budget
    /// when it is added.
    pending: Vec<u8>,
    /// Between `TransformBlock` and `TransformFinalBlock` (.NET's `State != 0`).
    started: bool,
    /// The last hash computed (`Hash`).
    hash: Option<Vec<u8>>,
    disposed: bool,
}

impl HashState {
    fn new(key: Vec<u8>) -> HashState {
        HashState(Mutex::new(Running {
            key,
            ..Running::default()
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        lock(&self.0)
    }

    /// Bytes held, for the memory budget.
    pub(crate) fn size(&self) -> usize {
        match self.0.try_lock() {
            Ok(r) => r.key.len() + r.pending.len() + r.hash.as_ref().map_or(0, Vec::len),
            Err(_) => 0,
        }
    }

    /// A copy sharing nothing with this one (a value kept beyond the request).
    pub(crate) fn detached(&self) -> Arc<HashState> {
        Arc::new(HashState(Mutex::new(self.lock().clone())))
    }
}

/// Reference equality, as `==` on .NET objects.
impl PartialEq for HashState {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl std::fmt::Debug for HashState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashState")
    }
}

/// The block size of the hash under an HMAC: a longer key is replaced by its hash, as .NET
/// does (`HMACCommon.ChangeKey`), which is what `Key` then returns.
fn actual_key(kind: HashKind, key: Vec<u8>) -> Vec<u8> {
    let (block, hash) = match kind {
        HashKind::HmacMd5 => (64, HashKind::Md5),
        HashKind::HmacSha1 => (64, HashKind::Sha1),
        HashKind::HmacSha256 => (64, HashKind::Sha256),
        HashKind::HmacSha384 => (128, HashKind::Sha384),
        HashKind::HmacSha512 => (128, HashKind::Sha512),
        _ => return key,
    };
    if key.len() > block {
        digest(hash, &[], &key)
    } else {
        key
    }
}

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
    Value::Object(Object::Hasher(
        kind,
        Arc::new(HashState::new(actual_key(kind, key))),
    ))
}

fn disposed(at: usize) -> Flow {
    rt(
        "ObjectDisposedException",
        "Cannot access a disposed object.",
        at,
    )
}

/// A `byte[]` argument hashed where it is (or a string's UTF-8, leniently); other sequences
/// of numbers are copied, and the copy is charged.
fn data_arg<'a>(
    it: &mut Interp,
    args: &'a Args,
    i: usize,
    param: &str,
    copied: &'a mut Vec<u8>,
    at: usize,
) -> F<&'a [u8]> {
    Ok(match arg(args, i, at)? {
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                format!("Value cannot be null. (Parameter '{param}')"),
                at,
            ));
        }
        Value::Bytes(b) => b,
        Value::String(s) => s.as_bytes(),
        v => {
            it.charge(budget::shallow(v), at)?;
            *copied = as_bytes(v, at)?;
            copied
        }
    })
}

/// `TransformBlock`/`TransformFinalBlock`'s `(inputBuffer, inputOffset, inputCount)`, with
/// .NET's checks.
fn block_arg<'a>(
    it: &mut Interp,
    args: &'a Args,
    copied: &'a mut Vec<u8>,
    at: usize,
) -> F<&'a [u8]> {
    let data = data_arg(it, args, 0, "inputBuffer", copied, at)?;
    let offset = as_int(arg(args, 1, at)?, at)?;
    let count = as_int(arg(args, 2, at)?, at)?;
    if offset < 0 {
        return Err(arg_range(
            "Non-negative number required. (Parameter 'inputOffset')",
            at,
        ));
    }
    if count < 0 || count as u64 > data.len() as u64 {
        return Err(rt("ArgumentException", "Value was invalid.", at));
    }
    slice_of(data, offset, count, at)
}

/// `ComputeHash(byte[])` / `ComputeHash(byte[], offset, count)`, the streaming
/// `TransformBlock`/`TransformFinalBlock`, and the rest of a hasher's methods.
pub(super) fn call(
    it: &mut Interp,
    kind: HashKind,
    state: &Arc<HashState>,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some((|| {
        let mut copied = Vec::new();
        Ok(match name {
            "ComputeHash" => {
                let data = data_arg(it, args, 0, "buffer", &mut copied, at)?;
                let data = match (args.get(1), args.get(2)) {
                    (Some((_, o)), Some((_, c))) => {
                        slice_of(data, as_int(o, at)?, as_int(c, at)?, at)?
                    }
                    _ => data,
                };
                it.check_time(at)?;
                it.charge(64, at)?;
                let mut s = state.lock();
                if s.disposed {
                    return Err(disposed(at));
                }
                // What TransformBlock gave before is hashed with it, as in .NET.
                let hash = if s.pending.is_empty() {
                    digest(kind, &s.key, data)
                } else {
                    let mut all = std::mem::take(&mut s.pending);
                    all.extend_from_slice(data);
                    digest(kind, &s.key, &all)
                };
                s.hash = Some(hash.clone());
                Value::Bytes(hash)
            }
            "TransformBlock" | "TransformFinalBlock" => {
                let data = block_arg(it, args, &mut copied, at)?;
                let last = name == "TransformFinalBlock";
                if !last {
                    // The output buffer receives a copy of the input: only a copy that
                    // changes nothing (null, or the same bytes already there) can be done
                    // on a value, which is what an array argument is here.
                    let out = arg(args, 3, at)?;
                    if !out.is_null() {
                        let out = as_bytes(out, at)?;
                        let o = as_int(arg(args, 4, at)?, at)?;
                        if slice_of(&out, o, data.len() as i64, at)? != data {
                            return Err(rt(
                                "NotSupportedException",
                                "TransformBlock copying into a different output array is not supported; pass null",
                                at,
                            ));
                        }
                    }
                }
                it.check_time(at)?;
                it.charge(data.len() + 64, at)?;
                let mut s = state.lock();
                if s.disposed {
                    return Err(disposed(at));
                }
                s.pending.extend_from_slice(data);
                if last {
                    let all = std::mem::take(&mut s.pending);
                    s.hash = Some(digest(kind, &s.key, &all));
                    s.started = false;
                    Value::Bytes(data.to_vec())
                } else {
                    s.started = true;
                    Value::Int(data.len() as i64)
                }
            }
            "Initialize" => {
                state.lock().pending.clear();
                Value::Null
            }
            "Dispose" | "Clear" => {
                let mut s = state.lock();
                s.disposed = true;
                s.pending.clear();
                s.hash = None;
                Value::Null
            }
            _ => {
                return Err(no_member(
                    &Value::Object(Object::Hasher(kind, state.clone())),
                    name,
                    at,
                ));
            }
        })
    })())
}

/// `data[offset..offset + count]` with .NET's argument checks.
pub(super) fn slice_of(data: &[u8], offset: i64, count: i64, at: usize) -> F<&[u8]> {
    let range = sub_range(data.len(), offset, count, ("offset", "count"), at)?;
    Ok(&data[range])
}

/// Properties: `HashSize`, `Key` (HMAC), `Hash`, `CanReuseTransform`.
pub(super) fn member(kind: HashKind, state: &HashState, name: &str, at: usize) -> Option<F<Value>> {
    let s = state.lock();
    Some(Ok(match name {
        "HashSize" => Value::Int(hash_size(kind)),
        // Disposing drops the key: .NET then fails on the null it keeps.
        "Key" if is_keyed(kind) && s.disposed => return Some(Err(null_ref(at))),
        "Key" if is_keyed(kind) => Value::Bytes(s.key.clone()),
        "Hash" if s.disposed => return Some(Err(disposed(at))),
        "Hash" if s.started => {
            return Some(Err(rt(
                "CryptographicUnexpectedOperationException",
                "Hash must be finalized before the hash value is retrieved.",
                at,
            )));
        }
        "Hash" => s.hash.clone().map_or(Value::Null, Value::Bytes),
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
    }))
}

/// `hmac.Key = key`: a new key (hashed when longer than the block), refused once data was
/// written; `None` for another property.
pub(super) fn set_member(
    kind: HashKind,
    state: &HashState,
    name: &str,
    v: &Value,
    at: usize,
) -> Option<F<()>> {
    if name != "Key" || !is_keyed(kind) {
        return None;
    }
    Some((|| {
        let key = match v {
            Value::Null => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'value')",
                    at,
                ));
            }
            v => as_bytes(v, at)?,
        };
        let mut s = state.lock();
        if s.started {
            return Err(crypto_err(
                "Hash key cannot be changed after the first write to the stream.",
                at,
            ));
        }
        s.key = actual_key(kind, key);
        Ok(())
    })())
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
