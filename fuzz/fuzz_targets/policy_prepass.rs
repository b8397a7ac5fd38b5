//! Arbitrary documents through the policy loader: the tolerant pre-pass that cuts `@( … )` and
//! `@{ … }` spans out of the XML (crates/policy/src/document/prepass.rs), the XML parse, the
//! schema checks and the expressions' parse, as `policy check` runs them. Loading never panics,
//! and every error's line and column lie inside the source.

#![no_main]

use std::path::Path;

use gatehouse_policy::document::check_source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = check_source(Path::new("fuzz.xml"), text);
    let lines = text.split('\n').count();
    for e in &report.errors {
        assert!(e.line >= 1 && e.line as usize <= lines.max(1), "{e:?} in {lines} lines");
    }
});
