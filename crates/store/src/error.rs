//! The store's errors. Each keeps its source so a caller can tell a lost connection from a
//! wrong key; none carries a secret's value.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer committed first: the store is at `current`, not at the revision expected.
    #[error("the store changed meanwhile: it is at revision {current}, reload and retry")]
    Conflict { current: u64 },
    #[error(
        "unsupported store URL {url:?}: {reason} (expected sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB)"
    )]
    BadUrl { url: String, reason: String },
    #[error("{backend} store: {action}: {source}")]
    Database {
        backend: &'static str,
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{backend} store: applying the schema migrations: {source}")]
    Migrate {
        backend: &'static str,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A secret stored for `resource` does not decrypt with this key (wrong key file, or the
    /// value was altered).
    #[error(
        "cannot decrypt the secret of {resource}: the secret key does not match the one it was stored with, or the value was altered"
    )]
    Decrypt { resource: String },
    #[error("secret key file {}: {reason}", file.display())]
    KeyFile {
        file: PathBuf,
        reason: String,
        #[source]
        source: Option<std::io::Error>,
    },
    /// The database holds something this version cannot read.
    #[error("the store is corrupt: {resource}: {reason}")]
    Corrupt { resource: String, reason: String },
    /// The config names one resource twice (validation refuses this; the store checks again
    /// because its rows are keyed by id).
    #[error("{kind} {id:?} appears twice")]
    DuplicateId { kind: &'static str, id: String },
    #[error("serializing {resource}: {source}")]
    Serialize {
        resource: String,
        #[source]
        source: serde_json::Error,
    },
}
