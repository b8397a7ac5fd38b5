//! `gatehouse policy check`: load each file (policies or fragment) without a named-value
//! store and report, per file, `ok` or its errors plus the policies it uses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::ser::{SerializeStruct, Serializer};

use super::load::load;
use super::{ErrorKind, PolicyError};

/// The verdict on one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub ok: bool,
    pub errors: Vec<PolicyError>,
    /// Every policy element name the document uses (including unsupported ones).
    pub policies_used: BTreeSet<String>,
    /// Policies gatehouse cannot run (Azure-only) or does not run yet, in document order.
    pub unsupported: Vec<String>,
}

/// The JSON form: exactly `{"path", "ok", "errors": [...]}`.
impl serde::Serialize for FileReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("FileReport", 3)?;
        st.serialize_field("path", &self.path.display().to_string())?;
        st.serialize_field("ok", &self.ok)?;
        st.serialize_field("errors", &self.errors)?;
        st.end()
    }
}

/// The JSON form of an error: exactly `{"line", "column", "kind", "policy", "message"}`.
impl serde::Serialize for PolicyError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PolicyError", 5)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("policy", &self.policy)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

/// What `policy check --json` prints: `{"files": [...]}`.
#[derive(Debug, serde::Serialize)]
pub struct CheckOutput<'a> {
    pub files: &'a [FileReport],
}

/// Checks source text already in memory (the file name is used in errors).
pub fn check_source(path: &Path, source: &str) -> FileReport {
    let file = path.display().to_string();
    let out = load(&file, source, None);
    FileReport {
        path: path.to_path_buf(),
        ok: out.errors.is_empty() && out.document.is_some(),
        errors: out.errors,
        policies_used: out.policies_used,
        unsupported: out.unsupported,
    }
}

/// Checks one file.
pub fn check_file(path: &Path) -> FileReport {
    match std::fs::read_to_string(path) {
        Ok(source) => check_source(path, &source),
        Err(e) => FileReport {
            path: path.to_path_buf(),
            ok: false,
            errors: vec![PolicyError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                kind: ErrorKind::Syntax,
                policy: None,
                element_path: String::new(),
                message: format!("cannot read file: {e}"),
            }],
            policies_used: BTreeSet::new(),
            unsupported: Vec::new(),
        },
    }
}

/// Checks files and directories (walked recursively for `*.xml`, in sorted order).
pub fn check_paths(paths: &[PathBuf]) -> Vec<FileReport> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files);
        } else {
            files.push(p.clone());
        }
    }
    files.iter().map(|f| check_file(f)).collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        // An unreadable directory still yields a report through check_file's read error.
        files.push(dir.to_path_buf());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
            files.push(p);
        }
    }
}
