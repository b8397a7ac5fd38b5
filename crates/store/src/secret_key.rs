//! The key that encrypts secrets at rest, and the `enc:v1:` envelope they are stored in.
//!
//! AES-256-GCM from RustCrypto's `aes-gcm`, a fresh random 96-bit nonce per value, stored as
//! `enc:v1:<base64(nonce || ciphertext || tag)>`. The resource a value belongs to is bound as
//! associated data, so a ciphertext copied onto another resource does not decrypt.

use crate::error::StoreError;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::Path;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;

/// A 32-byte key for authenticated encryption of the store's secrets.
#[derive(Clone)]
pub struct SecretKey {
    cipher: Aes256Gcm,
    /// Keys for other purposes are derived from this one (see [`SecretKey::derive`]), so that a
    /// cluster shares them by sharing the one key file.
    derivation: [u8; 32],
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        // The derivation key is a hash of the key, not the key: what is derived from it (and
        // may be exposed to other code) says nothing of the encryption key.
        let derivation: [u8; 32] = Sha256::new()
            .chain_update(b"gatehouse key derivation v1\n")
            .chain_update(bytes)
            .finalize()
            .into();
        SecretKey {
            cipher: Aes256Gcm::new(&bytes.into()),
            derivation,
        }
    }

    /// A 32-byte key for `purpose` (e.g. `"portal"`: the developer portal signs sessions and
    /// links with it): SHA-256 over the derivation key and the label, the same on every node
    /// that holds this key and different for every purpose.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.derivation)
            .chain_update(b"\n")
            .chain_update(purpose.as_bytes())
            .finalize()
            .into()
    }

    /// A fresh random key.
    pub fn generate() -> SecretKey {
        SecretKey::from_bytes(random_key())
    }

    /// Reads a key file: 64 hex characters (surrounding whitespace ignored) or 32 raw bytes.
    pub fn from_file(path: &Path) -> Result<SecretKey, StoreError> {
        let bytes = std::fs::read(path).map_err(|source| StoreError::KeyFile {
            file: path.to_path_buf(),
            reason: "cannot be read".into(),
            source: Some(source),
        })?;
        parse_key(&bytes)
            .map(SecretKey::from_bytes)
            .ok_or_else(|| StoreError::KeyFile {
                file: path.to_path_buf(),
                reason: format!(
                    "holds {} bytes; a key is 64 hex characters or 32 raw bytes",
                    bytes.len()
                ),
                source: None,
            })
    }

    /// Reads `path`, or creates it with a random key (hex, mode 0600; missing parent
    /// directories are created with mode 0700).
    pub fn load_or_create(path: &Path) -> Result<SecretKey, StoreError> {
        if path.exists() {
            return SecretKey::from_file(path);
        }
        let io_err = |reason: &str, source| StoreError::KeyFile {
            file: path.to_path_buf(),
            reason: reason.to_string(),
            source: Some(source),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_err("cannot create its directory", e))?;
        }
        let key = random_key();
        use std::os::unix::fs::OpenOptionsExt;
        // create_new: two processes racing to create the key must not each write their own.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        match file {
            Ok(mut file) => {
                file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_err("cannot be written", e))?;
                tracing::info!(file = %path.display(), "created a new secret key for the store");
                Ok(SecretKey::from_bytes(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => SecretKey::from_file(path),
            Err(e) => Err(io_err("cannot be created", e)),
        }
    }

    /// Encrypts `clear` for `resource` (bound as associated data). Public for secrets kept
    /// beside the store (a file-mode gateway's access keys: crates/cli/src/file_keys.rs).
    pub fn encrypt(&self, resource: &str, clear: &str) -> Result<String, StoreError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: clear.as_bytes(),
            aad: resource.as_bytes(),
        };
        // AES-GCM encryption fails only for messages beyond 64 GiB, far past any secret.
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .map_err(|_| StoreError::Corrupt {
                resource: resource.to_string(),
                reason: "the secret is too long to encrypt".into(),
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`SecretKey::encrypt`] for the same `resource`.
    pub fn decrypt(&self, resource: &str, stored: &str) -> Result<String, StoreError> {
        let fail = || StoreError::Decrypt {
            resource: resource.to_string(),
        };
        let encoded = stored
            .strip_prefix(PREFIX)
            .ok_or_else(|| StoreError::Corrupt {
                resource: resource.to_string(),
                reason: "a secret is stored in clear".into(),
            })?;
        let raw = STANDARD.decode(encoded).map_err(|_| fail())?;
        if raw.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: resource.as_bytes(),
        };
        let clear = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| fail())?;
        String::from_utf8(clear).map_err(|_| fail())
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    key
}

/// Random bytes for access keys.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    OsRng.fill_bytes(&mut out);
    out
}

fn parse_key(bytes: &[u8]) -> Option<[u8; 32]> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let text = text.trim();
        if text.len() == 64 {
            let mut key = [0u8; 32];
            if hex::decode_to_slice(text, &mut key).is_ok() {
                return Some(key);
            }
        }
    }
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn derived_keys_differ_by_purpose_and_key_and_repeat() {
        let a = super::SecretKey::from_bytes([1; 32]);
        let b = super::SecretKey::from_bytes([2; 32]);
        assert_eq!(
            a.derive("portal"),
            super::SecretKey::from_bytes([1; 32]).derive("portal")
        );
        assert_ne!(a.derive("portal"), a.derive("other"));
        assert_ne!(a.derive("portal"), b.derive("portal"));
        assert_ne!(a.derive("portal"), [1; 32]);
    }

    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SecretKey::generate();
        let sealed = key.encrypt("subscription/s1", "hunter2").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            key.encrypt("subscription/s1", "hunter2").unwrap(),
            "fresh nonce"
        );
        assert_eq!(key.decrypt("subscription/s1", &sealed).unwrap(), "hunter2");
        // Bound to its resource, and to its key.
        assert!(matches!(
            key.decrypt("subscription/s2", &sealed),
            Err(StoreError::Decrypt { resource }) if resource == "subscription/s2"
        ));
        assert!(matches!(
            SecretKey::generate().decrypt("subscription/s1", &sealed),
            Err(StoreError::Decrypt { .. })
        ));
    }

    #[test]
    fn key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/secret.key");
        let key = SecretKey::load_or_create(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let again = SecretKey::load_or_create(&path).unwrap();
        let sealed = key.encrypt("r", "v").unwrap();
        assert_eq!(again.decrypt("r", &sealed).unwrap(), "v");

        let raw = dir.path().join("raw.key");
        std::fs::write(&raw, [7u8; 32]).unwrap();
        SecretKey::from_file(&raw).unwrap();

        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "not a key").unwrap();
        let err = SecretKey::from_file(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.key") && err.contains("64 hex"), "{err}");
    }
}
