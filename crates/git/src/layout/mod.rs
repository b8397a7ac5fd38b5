//! The configuration as files in the APIOps artifact layout, and back.
//!
//! [`export`] writes every section the layout covers (global policy, APIs with their
//! operations and policies, products, named values, backends, policy fragments, and the
//! gatehouse `network` and `gateway` sections) as files; [`import`] reads such a tree back into
//! a candidate config, keeping the sections the layout does not cover (service, users, groups,
//! subscriptions, portal) from the current one; [`locate`] maps a whole-config validation
//! problem (`products[1].apis[0]`) to the file and line it comes from. Pure functions: no git,
//! no I/O.
//!
//! `*Information.json` files hold `{"properties": {...}}` in the management API's ARM shape
//! (crates/admin/src/resources/), read through the same conversions as a `PUT`, so a file means
//! what the same body means to the management API. Secret named values are written without
//! their value; importing one without a value keeps the current value.

mod export;
mod import;
mod locate;
pub mod paths;
mod spec;
mod text;

pub use export::export;
pub use import::import;
pub use locate::locate;

use std::fmt;

/// A tree of files: '/'-separated path relative to the repository root → contents.
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;

/// Largest file import reads (the largest policy or OpenAPI document anyone keeps is far
/// smaller; a bigger one is a mistake or an attack on memory).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Largest tree import reads, all files together.
pub const MAX_TREE_BYTES: usize = 256 * 1024 * 1024;

/// A problem with one file of a pushed tree: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for FileProblem {}

/// Why a config cannot be written as files.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot write {file} as JSON: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write {file} as YAML: {source}")]
    Yaml {
        file: String,
        #[source]
        source: yaml_serde::Error,
    },
    /// An id that cannot be a directory name (empty, `.`, `..`, or with a `/` or `\`).
    #[error("the {kind} id '{id}' cannot be a directory name")]
    Name { kind: &'static str, id: String },
}
