//! The management API's access keys when there is no store (file mode), and the default store.
//!
//! A file-mode gateway has no database to keep its two access keys in: they live in
//! `<data dir>/access-keys.json`, created at random on first use, encrypted with the store's
//! secret key (`--secret-key-file`, else `<data dir>/secret.key`) like the store's own secrets,
//! with mode 0600, and replaced whole on regeneration (write, then rename).

use anyhow::{Context, Result};
use gatehouse_admin::AccessKeys;
use gatehouse_model::Secret;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The store `gatehouse serve` with no arguments uses: SQLite in the data directory.
pub fn default_store_url() -> String {
    format!(
        "sqlite://{}",
        crate::data_dir::data_dir().join("gatehouse.db").display()
    )
}

fn keys_path() -> PathBuf {
    crate::data_dir::data_dir().join("access-keys.json")
}

/// Reads the file-mode keys (creating them if missing), or replaces them with `new`.
pub fn file_mode_access_keys(
    secret_key_file: Option<&Path>,
    new: Option<AccessKeys>,
) -> Result<AccessKeys> {
    let path = keys_path();
    let sealer = crate::data_dir::secret_key(secret_key_file)?;
    let keys = match new {
        Some(k) => k,
        None => match fs::read(&path) {
            Ok(bytes) => {
                let v: serde_json::Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not JSON", path.display()))?;
                let field = |name: &str| -> Result<Secret> {
                    let sealed = v[name]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .with_context(|| format!("{}: no {name} key", path.display()))?;
                    let clear = sealer
                        .decrypt(&format!("access_keys/{name}"), sealed)
                        .with_context(|| {
                            format!(
                                "{}: the {name} key does not decrypt with this secret key",
                                path.display()
                            )
                        })?;
                    Ok(Secret::new(clear))
                };
                return Ok(AccessKeys {
                    primary: field("primary")?,
                    secondary: field("secondary")?,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // The same keys a store creates (crates/store/src/access_keys.rs).
                let k = gatehouse_store::AccessKeys::generate();
                AccessKeys {
                    primary: k.primary,
                    secondary: k.secondary,
                }
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        },
    };
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let body = serde_json::json!({
        "primary": sealer.encrypt("access_keys/primary", keys.primary.expose())?,
        "secondary": sealer.encrypt("access_keys/secondary", keys.secondary.expose())?,
    });
    crate::private_file::write_atomically(&path, body.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(keys)
}
