//! The node's state directory (`--state-dir`, default `<data dir>/state`): the last
//! configuration the node applied, so that a node starting while the store is unreachable
//! serves what it served before (as APIM's self-hosted gateway does with its local backup).
//!
//! `applied.json` holds `{"revision": N, "sealed": "enc:v1:…"}`: the configuration (the store's,
//! before `for_location`) as JSON, encrypted with the store's secret key
//! (crates/store/src/secret_key.rs) because it holds every secret the store holds. It is written
//! to a temporary file, synced and renamed over the old one, so a crash leaves either the old
//! file or the new one, never half of one.

use gatehouse_model::Config;
use gatehouse_store::SecretKey;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The saved configuration's file name inside the state directory.
pub const APPLIED_FILE: &str = "applied.json";

/// The associated data the saved configuration is sealed with: a sealed value copied from
/// elsewhere (a store row) does not decrypt as a saved configuration.
const SEAL_CONTEXT: &str = "state/applied.json";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a saved configuration: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{} cannot be sealed or unsealed with this secret key", .path.display())]
    Seal {
        path: PathBuf,
        source: gatehouse_store::StoreError,
    },
}

/// A configuration as the node applied it.
#[derive(Debug, Clone)]
pub struct Saved {
    pub revision: u64,
    pub config: Config,
}

/// The state directory: where the node saves what it applies.
#[derive(Clone)]
pub struct StateDir {
    dir: PathBuf,
    /// Shared: the expanded AES key is large, and clones of this go to every follower.
    key: std::sync::Arc<SecretKey>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    revision: u64,
    sealed: String,
}

impl StateDir {
    /// `dir` (created with mode 0700 when missing); `key` seals the saved configuration.
    pub fn open(dir: PathBuf, key: SecretKey) -> Result<StateDir, StateError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| StateError::Io {
                action: "create the state directory",
                path: dir.clone(),
                source,
            })?;
        Ok(StateDir {
            dir,
            key: std::sync::Arc::new(key),
        })
    }

    /// `<data dir>/state`.
    pub fn default_path() -> PathBuf {
        crate::data_dir::data_dir().join("state")
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(APPLIED_FILE)
    }

    /// Saves `config` at `revision`: temporary file (mode 0600), fsync, rename, fsync of the
    /// directory (so the rename itself survives a power loss).
    pub fn save(&self, revision: u64, config: &Config) -> Result<(), StateError> {
        let path = self.file();
        let json = serde_json::to_string(config).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let sealed = self
            .key
            .encrypt(SEAL_CONTEXT, &json)
            .map_err(|source| StateError::Seal {
                path: path.clone(),
                source,
            })?;
        let body =
            serde_json::to_vec(&OnDisk { revision, sealed }).map_err(|e| StateError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        crate::private_file::write_atomically(&path, &body).map_err(|source| StateError::Io {
            action: "write the saved configuration to",
            path: path.clone(),
            source,
        })?;
        Ok(())
    }

    /// The saved configuration, `None` when there is none.
    pub fn load(&self) -> Result<Option<Saved>, StateError> {
        let path = self.file();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let corrupt = |reason: String| StateError::Corrupt {
            path: path.clone(),
            reason,
        };
        let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let json = self
            .key
            .decrypt(SEAL_CONTEXT, &disk.sealed)
            .map_err(|source| StateError::Seal {
                path: path.clone(),
                source,
            })?;
        let config: Config = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
        Ok(Some(Saved {
            revision: disk.revision,
            config,
        }))
    }
}

/// Where the state directory is: `--state-dir`, else the default.
pub fn path(explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(StateDir::default_path, Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn config(name: &str) -> Config {
        let mut c = Config::default();
        c.service.name = name.to_string();
        c.named_values.push(
            serde_json::from_value(
                serde_json::json!({"id": "s", "value": "hunter2", "secret": true}),
            )
            .unwrap(),
        );
        c
    }

    #[test]
    fn saves_sealed_and_loads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/state");
        let key = SecretKey::generate();
        let state = StateDir::open(dir.clone(), key.clone()).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(state.load().unwrap().is_none());
        state.save(3, &config("name-one")).unwrap();
        state.save(4, &config("name-two")).unwrap();
        let file = std::fs::read_to_string(state.file()).unwrap();
        // The names carry a '-', which base64 never produces, so a random
        // ciphertext cannot contain them by chance (a bare "two" once did).
        assert!(
            !file.contains("hunter2") && !file.contains("name-two"),
            "{file}"
        );
        assert_eq!(
            std::fs::metadata(state.file())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        let saved = state.load().unwrap().unwrap();
        assert_eq!(saved.revision, 4);
        assert_eq!(saved.config.service.name, "name-two");
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // Another key cannot read it.
        let other = StateDir::open(dir, SecretKey::generate()).unwrap();
        assert!(matches!(other.load(), Err(StateError::Seal { .. })));
    }
}
