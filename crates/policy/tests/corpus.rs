//! Runs `policy check` over real APIM policy corpora, as a user moving them to gatehouse would:
//! every file that is valid APIM must pass; the only acceptable failures are Azure-only
//! policies and files that APIM would refuse too (malformed, or template placeholders not yet
//! filled in), each listed with why.
//!
//! - `tests/corpus/`: Azure/api-management-policy-snippets (MIT; SOURCE.md there).
//! - `tests/corpus-ai-gateway/`: Azure-Samples/AI-Gateway's labs (MIT; SOURCE.md there).
//! - `tests/corpus-azure-docs/`: the code blocks of APIM's documentation that hold expressions
//!   (CC BY 4.0 / MIT; SOURCE.md there).

mod corpus_support;

use std::path::PathBuf;

use gatehouse_policy::document::{ErrorKind, PolicyError, check_paths, check_source};

/// Snippets that fail for a reason APIM shares (malformed) — each with why.
const SNIPPETS_MALFORMED: &[(&str, &str)] = &[
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

/// AI-Gateway files that are templates, not yet policies: a deployment script substitutes
/// their `{placeholders}` before uploading them, and APIM refuses them as they are.
const AI_GATEWAY_TEMPLATES: &[(&str, &str)] = &[
    (
        "labs__finops-framework__policy.xml",
        "`{product-token-limits}` stands as text inside <choose> until the lab's notebook \
         replaces it with <when> elements",
    ),
    (
        "labs__zero-to-production__policy-1.xml",
        "<retry count=\"{retry-count}\">: the count is filled in by the lab's notebook",
    ),
    (
        "labs__zero-to-production__policy-2.xml",
        "<retry count=\"{retry-count}\">: the count is filled in by the lab's notebook",
    ),
    (
        "labs__zero-to-production__policy-3.xml",
        "<retry count=\"{retry-count}\">: the count is filled in by the lab's notebook",
    ),
    (
        "labs__zero-to-production__policy-4.xml",
        "<retry count=\"{retry-count}\">: the count is filled in by the lab's notebook",
    ),
];

/// Checks every file of `tests/<dir>`: each passes, fails only on Azure-only policies, or is
/// listed in `refused` (and then must still fail). Returns how many passed and how many failed
/// only on Azure-only policies.
fn check_corpus(dir: &str, at_least: usize, refused: &[(&str, &str)]) -> (usize, usize) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    assert!(path.is_dir(), "corpus missing: {}", path.display());
    let reports = check_paths(&[path]);
    assert!(
        reports.len() >= at_least,
        "expected at least {at_least} files in {dir}, found {}",
        reports.len()
    );
    let name_of = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut passed = 0;
    let mut azure_only_files = 0;
    let mut bad = Vec::new();
    for r in &reports {
        let name = name_of(&r.path);
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
        azure_only_files += usize::from(azure_only);
        if !azure_only && !refused.iter().any(|(f, _)| *f == name) {
            bad.push(name);
        }
    }
    println!("{passed}/{} files of {dir} pass", reports.len());
    assert!(bad.is_empty(), "valid APIM files failing: {bad:#?}");
    // A listed file is listed because it fails: when one starts passing, it leaves the list.
    for (file, why) in refused {
        let still_failing = reports.iter().any(|r| !r.ok && name_of(&r.path) == *file);
        assert!(
            still_failing,
            "{file} passes now: remove it from the list ({why})"
        );
    }
    (passed, azure_only_files)
}

#[test]
fn snippets_that_are_valid_apim_pass() {
    check_corpus("corpus", 30, SNIPPETS_MALFORMED);
}

#[test]
fn ai_gateway_policies_that_are_valid_apim_pass() {
    // 114 documents; most that fail use an Azure-only policy (managed identity, Azure OpenAI
    // token metrics), and those still have every expression checked.
    // The README's figures.
    let (passed, azure_only) = check_corpus("corpus-ai-gateway", 114, AI_GATEWAY_TEMPLATES);
    assert_eq!((passed, azure_only), (50, 59));
}

/// Documentation examples whose expressions are not C# as published, each with why: APIM
/// refuses them too.
const DOCS_INVALID_EXPRESSIONS: &[(&str, &str)] = &[
    (
        "api-management-sample-flexible-throttling__3.xml",
        "`request.Headers`: no `request` in scope (the page means `context.Request.Headers`)",
    ),
    (
        "api-management-transformation-policies__2.xml",
        "`@(context.Request.Url.Query.GetValueOrDefault(\"userId\",\"\")` lacks its closing \
         parenthesis, so the expression runs into the attribute's end",
    ),
    (
        "set-backend-service-policy__2.xml",
        "the same unclosed `@(…GetValueOrDefault(\"userId\",\"\")` as the page it was copied from",
    ),
    (
        "api-management-transformation-policies__4.xml",
        "pseudo-code: `if (inBody.attribute == <tag>)`",
    ),
    (
        "set-body-policy__2.xml",
        "pseudo-code: `if (inBody.attribute == <tag>)`",
    ),
    (
        "cache-lookup-policy__1.xml",
        "the syntax summary: `vary-by-query-parameter`'s value is the placeholder \
         `@(expression to evaluate)`",
    ),
    (
        "fragment-metadata-cache__7.xml",
        "`context.Trace.TraceError(…)`: APIM's `context.Trace` is a method (`context.Trace(message)`), \
         it has no TraceError",
    ),
];

/// Whether an error is about an expression (its syntax, or a member the library lacks), as
/// opposed to the document or a policy gatehouse does not run.
fn about_an_expression(e: &PolicyError) -> bool {
    e.kind == ErrorKind::Expression
        || (e.kind == ErrorKind::Unsupported && e.message.starts_with("expression uses"))
}

#[test]
fn azure_docs_examples_expressions_pass() {
    let files = corpus_support::files("corpus-azure-docs");
    assert!(
        files.len() >= 170,
        "expected the corpus, found {}",
        files.len()
    );
    let (mut ok, mut policy_gaps, mut bad) = (0, 0, Vec::new());
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = check_source(path, &corpus_support::as_document(&text));
        let listed = DOCS_INVALID_EXPRESSIONS.iter().any(|(f, _)| *f == name);
        let refused: Vec<&PolicyError> = report
            .errors
            .iter()
            .filter(|e| about_an_expression(e))
            .collect();
        match (refused.is_empty(), listed) {
            (true, true) => bad.push(format!("{name} passes now: remove it from the list")),
            (false, false) => bad.push(format!("{name}: {}", refused[0])),
            _ => {}
        }
        if report.ok {
            ok += 1;
        } else if refused.is_empty() {
            // A policy gatehouse does not run (GraphQL resolvers, data sources, xsl-transform
            // …), or a block that is not a document even wrapped: not this test's concern.
            policy_gaps += 1;
            println!("policy  {name}: {}", report.errors[0]);
        }
    }
    println!(
        "{ok} of {} examples pass; {policy_gaps} fail on something else than an expression",
        files.len()
    );
    assert!(
        bad.is_empty(),
        "examples with refused expressions: {bad:#?}"
    );
    assert!(ok >= 96, "only {ok} examples pass");
}
