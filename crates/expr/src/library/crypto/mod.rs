//! System.Security.Cryptography, its X509Certificates namespace and `BitConverter`: the types
//! APIM's policy-expression surface lists (hashes, HMACs, RSA, AES, random numbers, OIDs,
//! certificates). Stateful objects (an `Aes` whose `Key` a policy sets, an `RSA` that imports
//! a key) are [`Crypto`] handles shared by reference, as .NET objects are.
//!
//! The rest of the library calls in through the functions here, one line each
//! (crates/expr/src/library/{statics,methods,members,construct}.rs, crates/expr/src/features.rs).

use std::sync::Mutex;

use super::*;

pub(crate) mod bits;
mod blocks;
mod extras;
pub(crate) mod hashes;
mod keyformats;
mod pkcs8_encrypted;
pub(crate) mod random;
pub(crate) mod rsa;
mod surface;
pub(crate) mod symmetric;
mod types;
pub(crate) mod x509;

pub(crate) use surface::{call_method, call_static, call_with_out, construct, member, set_member};
pub(crate) use types::{is_crypto_type, is_instance, static_exists, static_property};

/// A cryptographic object with identity: copies of the value are the same object.
#[derive(Clone)]
pub enum Crypto {
    Rsa(Arc<Mutex<rsa::RsaState>>),
    Symmetric(Arc<Mutex<symmetric::SymState>>),
    /// What `CreateEncryptor`/`CreateDecryptor` return: the algorithm's settings at that moment.
    Transform(Arc<symmetric::Transform>),
    Rng,
    X509(Arc<x509::Cert>),
}

impl PartialEq for Crypto {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Crypto::Rsa(a), Crypto::Rsa(b)) => Arc::ptr_eq(a, b),
            (Crypto::Symmetric(a), Crypto::Symmetric(b)) => Arc::ptr_eq(a, b),
            (Crypto::Transform(a), Crypto::Transform(b)) => Arc::ptr_eq(a, b),
            (Crypto::X509(a), Crypto::X509(b)) => Arc::ptr_eq(a, b),
            (Crypto::Rng, Crypto::Rng) => true,
            _ => false,
        }
    }
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}

impl Crypto {
    /// The .NET type name (`GetType()`, cast errors).
    pub fn type_name(&self) -> &'static str {
        match self {
            Crypto::Rsa(_) => "System.Security.Cryptography.RSA",
            Crypto::Symmetric(_) => "System.Security.Cryptography.Aes",
            Crypto::Transform(_) => "System.Security.Cryptography.ICryptoTransform",
            Crypto::Rng => "System.Security.Cryptography.RandomNumberGenerator",
            Crypto::X509(_) => "System.Security.Cryptography.X509Certificates.X509Certificate2",
        }
    }

    /// Bytes held, for the memory budget (crates/expr/src/budget.rs).
    pub(crate) fn size(&self) -> usize {
        match self {
            Crypto::Rsa(_) => rsa::HELD_BYTES,
            Crypto::Symmetric(_) | Crypto::Transform(_) => 64,
            Crypto::Rng => 0,
            Crypto::X509(c) => c.der.len(),
        }
    }
}

/// A poisoned lock (a panic while it was held) still guards consistent data here: every
/// update is a single assignment.
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn crypto_err(msg: &str, at: usize) -> Flow {
    rt("CryptographicException", msg.to_string(), at)
}

/// A byte[] argument; null is .NET's `ArgumentNullException`.
pub(super) fn bytes_arg(args: &Args, i: usize, param: &str, at: usize) -> F<Vec<u8>> {
    match arg(args, i, at)? {
        Value::Null => Err(rt(
            "ArgumentNullException",
            format!("Value cannot be null. (Parameter '{param}')"),
            at,
        )),
        v => as_bytes(v, at),
    }
}
