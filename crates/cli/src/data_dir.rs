//! Where gatehouse keeps its own files (the embedded store, the store's secret key) when the
//! command line does not say.

use anyhow::Result;
use gatehouse_store::SecretKey;
use std::path::{Path, PathBuf};

/// The secret key file's name inside the data directory.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// `$GATEHOUSE_DATA_DIR`, else `$XDG_DATA_HOME/gatehouse`, else
/// `$HOME/.local/share/gatehouse`, else `.gatehouse` in the working directory (no HOME: a
/// service account or a container).
pub fn data_dir() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("GATEHOUSE_DATA_DIR") {
        return dir;
    }
    if let Some(dir) = var("XDG_DATA_HOME") {
        return dir.join("gatehouse");
    }
    match var("HOME") {
        Some(home) => home.join(".local/share/gatehouse"),
        None => PathBuf::from(".gatehouse"),
    }
}

/// The store's secret key: read from `explicit` (which must exist), else read from — or
/// created in, mode 0600 — `<data dir>/secret.key`.
pub fn secret_key(explicit: Option<&Path>) -> Result<SecretKey> {
    Ok(match explicit {
        Some(path) => SecretKey::from_file(path)?,
        None => SecretKey::load_or_create(&data_dir().join(SECRET_KEY_FILE))?,
    })
}
