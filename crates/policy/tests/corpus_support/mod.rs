//! What the corpus tests share: listing a corpus's files, and reading a documentation code
//! block (often a lone policy element, or an `<inbound>` section) as the document APIM would
//! hold it.

// Each test binary uses the helpers it needs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The `*.xml` files of `crates/policy/tests/<dir>`, sorted.
pub fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    out.sort();
    out
}

/// A code block as a document: `<policies>` and `<fragment>` as they are, sections wrapped in
/// `<policies>`, anything else (one or more policy elements) in `<fragment>`. The wrapper
/// goes on the block's first line so that line numbers stay the block's own.
pub fn as_document(block: &str) -> String {
    let first = block
        .split('<')
        .skip(1)
        .find(|t| t.starts_with(|c: char| c.is_ascii_alphabetic()))
        .map(|t| {
            t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .next()
                .unwrap_or("")
        })
        .unwrap_or("");
    match first {
        "policies" | "fragment" => block.to_string(),
        "inbound" | "backend" | "outbound" | "on-error" => format!("<policies>{block}</policies>"),
        _ => format!("<fragment>{block}</fragment>"),
    }
}
