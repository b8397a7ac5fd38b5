//! Runs `policy check` over the real APIM snippets corpus: every file that is valid APIM must
//! pass; the only acceptable failures are genuinely malformed files and Azure-only policies.

use std::path::PathBuf;

use gatehouse_policy::document::{ErrorKind, check_paths};

/// Files that fail for a reason APIM shares (malformed) — each with why.
const MALFORMED: &[(&str, &str)] = &[
    (
        "Call out to an HTTP endpoint and cache the response.policy.xml",
        "mangled upstream: `\"latlong=\"\"\"` and a rewrite-uri template whose C# string runs over \
         line ends (unterminated string literal at 41:73); no C# compiler accepts it",
    ),
    (
        "Filter response content based on product name.policy.xml",
        "the leading comment contains a nested `<!--`, i.e. `--` inside a comment: not XML, \
         rejected by .NET's XmlReader as by roxmltree",
    ),
    (
        "Pre-authorize requests based on HTTP method with validate-jwt.policy.xml",
        "mangled upstream like the first: `Equals(\"patch=\"\"\",...)` and `{\"post=\"\"\", \"put=\"\"\"}` \
         are not C# (a string followed by an empty string literal); no C# compiler accepts them",
    ),
];

/// Valid APIM files that fail on a feature gatehouse does not support yet (to do, not accepted).
/// Empty now: the last entry (a C# local function in "Filter on IP Address when using
/// Application Gateway") runs since local functions are supported.
const NOT_YET: &[(&str, &str)] = &[];

#[test]
fn corpus_files_that_are_valid_apim_pass() {
    // A copy of the shared corpus (MIT, see LICENSE and SOURCE.md there), kept in the
    // repository so the test runs the same on a clean clone.
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"));
    if !dir.is_dir() {
        eprintln!("corpus not found at {}; skipping", dir.display());
        return;
    }
    let reports = check_paths(&[dir]);
    assert!(
        reports.len() >= 30,
        "expected the corpus, found {} files",
        reports.len()
    );
    let mut passed = 0;
    let mut bad = Vec::new();
    for r in &reports {
        let name = r
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if r.ok {
            passed += 1;
            println!("ok    {name}");
            continue;
        }
        println!("FAIL  {name}");
        for e in &r.errors {
            println!("        {e}");
        }
        let azure_only = r
            .errors
            .iter()
            .all(|e| e.kind == ErrorKind::Unsupported && e.message.contains("Azure-only"));
        let malformed = MALFORMED.iter().any(|(f, _)| *f == name);
        let not_yet = NOT_YET.iter().any(|(f, _)| *f == name);
        if !azure_only && !malformed && !not_yet {
            bad.push(name);
        }
    }
    println!("{passed}/{} corpus files pass", reports.len());
    assert!(bad.is_empty(), "valid APIM files failing: {bad:#?}");
    // The known gaps are real gaps: when one starts passing, it leaves the list.
    for (file, why) in NOT_YET {
        let still_failing = reports.iter().any(|r| {
            !r.ok
                && r.path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == *file)
        });
        assert!(
            still_failing,
            "{file} passes now: remove it from NOT_YET ({why})"
        );
    }
}
