//! `Aes` (and `Rijndael` with its 128-bit block, which is AES): Key, IV, Mode (CBC, ECB),
//! Padding (PKCS7, Zeros, None, ANSIX923, ISO10126), encryptors, and APIM's `byte[].Encrypt` /
//! `Decrypt` extensions. The modes are written out over the AES block function so that every
//! padding mode behaves exactly as .NET's does.

use super::blocks::run;
use super::*;

pub(super) const BLOCK: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Cbc,
    Ecb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Padding {
    None,
    Pkcs7,
    Zeros,
    AnsiX923,
    Iso10126,
}

/// An `Aes` instance. Key and IV are made when first needed, as .NET makes them.
#[derive(Debug, Clone)]
pub struct SymState {
    key: Option<Vec<u8>>,
    iv: Option<Vec<u8>>,
    key_size: usize,
    mode: Mode,
    padding: Padding,
}

impl Default for SymState {
    fn default() -> Self {
        SymState {
            key: None,
            iv: None,
            key_size: 256,
            mode: Mode::Cbc,
            padding: Padding::Pkcs7,
        }
    }
}

/// An `ICryptoTransform`: one direction, with the settings it was created with.
#[derive(Debug, Clone)]
pub struct Transform {
    pub(super) encrypt: bool,
    pub(super) key: Vec<u8>,
    pub(super) iv: Vec<u8>,
    pub(super) mode: Mode,
    pub(super) padding: Padding,
}

impl SymState {
    fn key(&mut self) -> Vec<u8> {
        let n = self.key_size / 8;
        self.key.get_or_insert_with(|| random::bytes(n)).clone()
    }
    fn iv(&mut self) -> Vec<u8> {
        self.iv.get_or_insert_with(|| random::bytes(BLOCK)).clone()
    }
}

pub(super) fn create() -> Value {
    Value::Object(Object::Crypto(Crypto::Symmetric(Arc::new(Mutex::new(
        SymState::default(),
    )))))
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Cbc => "CBC",
        Mode::Ecb => "ECB",
    }
}

fn padding_name(p: Padding) -> &'static str {
    match p {
        Padding::None => "None",
        Padding::Pkcs7 => "PKCS7",
        Padding::Zeros => "Zeros",
        Padding::AnsiX923 => "ANSIX923",
        Padding::Iso10126 => "ISO10126",
    }
}

/// `CipherMode.X` and `PaddingMode.X`: the enum values are their names (as `StringComparison`'s
/// are in this library), and `ToString()` prints them as C# does.
pub(super) fn enum_value(ty: &str, name: &str) -> Option<Value> {
    let ok = match ty {
        "CipherMode" => matches!(name, "CBC" | "ECB" | "OFB" | "CFB" | "CTS"),
        "PaddingMode" => matches!(name, "None" | "PKCS7" | "Zeros" | "ANSIX923" | "ISO10126"),
        _ => false,
    };
    ok.then(|| Value::str(name))
}

fn check_key(k: &[u8], at: usize) -> F<()> {
    if matches!(k.len(), 16 | 24 | 32) {
        Ok(())
    } else {
        Err(crypto_err(
            "Specified key is not a valid size for this algorithm.",
            at,
        ))
    }
}

fn check_iv(iv: &[u8], at: usize) -> F<()> {
    if iv.len() == BLOCK {
        Ok(())
    } else {
        Err(crypto_err(
            "Specified initialization vector (IV) does not match the block size for this algorithm.",
            at,
        ))
    }
}

pub(super) fn member(s: &Mutex<SymState>, name: &str) -> Option<Value> {
    let mut s = lock(s);
    Some(match name {
        "Key" => Value::Bytes(s.key()),
        "IV" => Value::Bytes(s.iv()),
        "KeySize" => Value::Int(s.key_size as i64),
        "BlockSize" | "FeedbackSize" => Value::Int(128),
        "Mode" => {
            crate::library::enum_member("CipherMode", mode_name(s.mode)).unwrap_or(Value::Null)
        }
        "Padding" => crate::library::enum_member("PaddingMode", padding_name(s.padding))
            .unwrap_or(Value::Null),
        // AES's: keys of 128, 192 or 256 bits, blocks of 128 (one KeySizes each).
        "LegalKeySizes" => Value::Array(vec![key_sizes(128, 256, 64)]),
        "LegalBlockSizes" => Value::Array(vec![key_sizes(128, 128, 0)]),
        _ => return None,
    })
}

/// A `KeySizes` (its three properties).
pub(super) fn key_sizes(min: i64, max: i64, skip: i64) -> Value {
    let mut r = BTreeMap::new();
    r.insert("MinSize".to_string(), Value::Int(min));
    r.insert("MaxSize".to_string(), Value::Int(max));
    r.insert("SkipSize".to_string(), Value::Int(skip));
    Value::Object(Object::Record(Arc::new(r)))
}

pub(super) fn set_member(s: &Mutex<SymState>, name: &str, v: Value, at: usize) -> Option<F<()>> {
    let mut s = lock(s);
    Some((|| {
        match name {
            "Key" => {
                let k = as_bytes(&v, at)?;
                check_key(&k, at)?;
                s.key_size = k.len() * 8;
                s.key = Some(k);
            }
            "IV" => {
                let iv = as_bytes(&v, at)?;
                check_iv(&iv, at)?;
                s.iv = Some(iv);
            }
            "KeySize" => {
                let n = as_int(&v, at)?;
                if !matches!(n, 128 | 192 | 256) {
                    return Err(crypto_err(
                        "Specified key is not a valid size for this algorithm.",
                        at,
                    ));
                }
                s.key_size = n as usize;
                s.key = None;
            }
            "BlockSize" => {
                if as_int(&v, at)? != 128 {
                    return Err(crypto_err(
                        "Specified block size is not valid for this algorithm.",
                        at,
                    ));
                }
            }
            "Mode" => {
                if !matches!(v, Value::Enum("CipherMode", _)) {
                    return Err(cast_err(&v, "System.Security.Cryptography.CipherMode", at));
                }
                s.mode = match v.to_display().as_str() {
                    "CBC" => Mode::Cbc,
                    "ECB" => Mode::Ecb,
                    _ => {
                        return Err(crypto_err(
                            "Specified cipher mode is not valid for this algorithm.",
                            at,
                        ));
                    }
                }
            }
            "Padding" => {
                if !matches!(v, Value::Enum("PaddingMode", _)) {
                    return Err(cast_err(&v, "System.Security.Cryptography.PaddingMode", at));
                }
                s.padding = match v.to_display().as_str() {
                    "None" => Padding::None,
                    "PKCS7" => Padding::Pkcs7,
                    "Zeros" => Padding::Zeros,
                    "ANSIX923" => Padding::AnsiX923,
                    "ISO10126" => Padding::Iso10126,
                    _ => {
                        return Err(crypto_err(
                            "Specified padding mode is not valid for this algorithm.",
                            at,
                        ));
                    }
                }
            }
            _ => {
                return Err(no_member(&create(), name, at));
            }
        }
        Ok(())
    })())
}

/// A transform from the algorithm's settings, or from the key and IV given.
fn transform(s: &Mutex<SymState>, encrypt: bool, args: &Args, at: usize) -> F<Transform> {
    let mut s = lock(s);
    let (key, iv) = match (args.first(), args.get(1)) {
        (Some((_, k)), Some((_, iv))) => (as_bytes(k, at)?, as_bytes(iv, at)?),
        _ => (s.key(), s.iv()),
    };
    check_key(&key, at)?;
    if s.mode == Mode::Cbc {
        check_iv(&iv, at)?;
    }
    Ok(Transform {
        encrypt,
        key,
        iv,
        mode: s.mode,
        padding: s.padding,
    })
}

pub(super) fn call(
    it: &mut Interp,
    s: &Mutex<SymState>,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some((|| {
        Ok(match name {
            // `ValidKeySize(bits)`: one of LegalKeySizes.
            "ValidKeySize" => {
                let bits = as_int(arg(args, 0, at)?, at)?;
                Value::Bool(matches!(bits, 128 | 192 | 256))
            }
            "GenerateKey" => {
                let mut st = lock(s);
                st.key = Some(random::bytes(st.key_size / 8));
                Value::Null
            }
            "GenerateIV" => {
                lock(s).iv = Some(random::bytes(BLOCK));
                Value::Null
            }
            "CreateEncryptor" | "CreateDecryptor" => {
                let t = transform(s, name == "CreateEncryptor", args, at)?;
                Value::Object(Object::Crypto(Crypto::Transform(Arc::new(t))))
            }
            "EncryptCbc" | "EncryptEcb" | "DecryptCbc" | "DecryptEcb" => {
                // .NET 6's one-shot methods: (data, iv[, padding]) for CBC, (data, padding) for ECB.
                let data = bytes_arg(args, 0, "plaintext", at)?;
                let cbc = name.ends_with("Cbc");
                let key = lock(s).key();
                let iv = if cbc {
                    bytes_arg(args, 1, "iv", at)?
                } else {
                    vec![0; BLOCK]
                };
                let pad_arg = args
                    .get(if cbc { 2 } else { 1 })
                    .map(|(_, v)| v.to_display());
                let t = Transform {
                    encrypt: name.starts_with("Encrypt"),
                    key,
                    iv,
                    mode: if cbc { Mode::Cbc } else { Mode::Ecb },
                    padding: match pad_arg.as_deref() {
                        Some("None") => Padding::None,
                        Some("Zeros") => Padding::Zeros,
                        Some("ANSIX923") => Padding::AnsiX923,
                        Some("ISO10126") => Padding::Iso10126,
                        _ => Padding::Pkcs7,
                    },
                };
                Value::Bytes(run(it, &t, &data, at)?)
            }
            "Clear" | "Dispose" => Value::Null,
            _ => return Err(no_member(&create(), name, at)),
        })
    })())
}

pub(super) fn transform_member(t: &Transform, name: &str) -> Option<Value> {
    Some(match name {
        "InputBlockSize" | "OutputBlockSize" => Value::Int(BLOCK as i64),
        "CanTransformMultipleBlocks" => Value::Bool(true),
        "CanReuseTransform" => Value::Bool(t.mode == Mode::Ecb),
        _ => return None,
    })
}

pub(super) fn transform_call(
    it: &mut Interp,
    t: &Transform,
    name: &str,
    args: &Args,
    at: usize,
) -> Option<F<Value>> {
    Some((|| {
        Ok(match name {
            "TransformFinalBlock" => {
                let data = bytes_arg(args, 0, "inputBuffer", at)?;
                let data = match (args.get(1), args.get(2)) {
                    (Some((_, o)), Some((_, c))) => {
                        hashes::slice_of(&data, as_int(o, at)?, as_int(c, at)?, at)?.to_vec()
                    }
                    _ => data,
                };
                Value::Bytes(run(it, t, &data, at)?)
            }
            "Dispose" => Value::Null,
            _ => {
                return Err(no_member(
                    &Value::Object(Object::Crypto(Crypto::Transform(Arc::new(t.clone())))),
                    name,
                    at,
                ));
            }
        })
    })())
}

/// APIM's `byte[].Encrypt(…)` / `Decrypt(…)`: `(string alg, key, iv)`, `(SymmetricAlgorithm)`,
/// `(SymmetricAlgorithm, key, iv)`; CBC with PKCS7 unless the algorithm object says otherwise.
pub(super) fn extension(
    it: &mut Interp,
    data: &[u8],
    encrypt: bool,
    args: &Args,
    at: usize,
) -> F<Value> {
    let t = match arg(args, 0, at)? {
        Value::String(alg) => {
            if !matches!(
                &**alg,
                "Aes" | "Rijndael" | "AesManaged" | "RijndaelManaged"
            ) {
                return Err(rt(
                    "ArgumentException",
                    format!("Unsupported symmetric algorithm '{alg}'."),
                    at,
                ));
            }
            let key = bytes_arg(args, 1, "key", at)?;
            let iv = bytes_arg(args, 2, "iv", at)?;
            check_key(&key, at)?;
            check_iv(&iv, at)?;
            Transform {
                encrypt,
                key,
                iv,
                mode: Mode::Cbc,
                padding: Padding::Pkcs7,
            }
        }
        Value::Object(Object::Crypto(Crypto::Symmetric(s))) => {
            let rest: Args = args.iter().skip(1).cloned().collect();
            transform(s, encrypt, &rest, at)?
        }
        v => {
            return Err(cast_err(
                v,
                "System.Security.Cryptography.SymmetricAlgorithm",
                at,
            ));
        }
    };
    Ok(Value::Bytes(run(it, &t, data, at)?))
}
