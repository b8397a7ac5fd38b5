//! The C# oracle: every expression of the corpus (crates/expr/tests/oracle/expressions.txt) and
//! a few thousand generated ones (crates/expr/tests/oracle/generate.rs) run in gatehouse and in
//! C# (one file compiled once with Mono's `mcs`, run once with `mono`) against the same request
//! context; result, type family, formatting and exception type must agree, except for the
//! differences crates/expr/tests/oracle/known-differences.txt lists (the test fails on a listed
//! one that no longer differs too, so the list stays true). docs/policies.md ("C# oracle")
//! describes it.

#[path = "oracle/compare.rs"]
mod compare;
#[path = "oracle/corpus.rs"]
mod corpus;
#[path = "oracle/fixture.rs"]
mod fixture;
#[path = "oracle/generate.rs"]
mod generate;
#[path = "oracle/mono.rs"]
mod mono;
#[path = "oracle/render.rs"]
mod render;

use std::collections::{BTreeMap, BTreeSet};

use compare::{CSharp, Gatehouse, Verdict, judge, show_cs, show_gh};
use corpus::Entry;
use gatehouse_expr::{ExprKind, eval, parse};

/// The generator's seed and size: fixed, so every run compares the same expressions.
const SEED: u64 = 0x6761_7465_686f_7573;
const GENERATED: usize = 2_400;

fn gatehouse(e: &Entry) -> Gatehouse {
    let kind = if e.block {
        ExprKind::Block
    } else {
        ExprKind::Single
    };
    let program = match parse(&e.source, kind) {
        Ok(p) => p,
        Err(err) => return Gatehouse::Rejected(err.to_string()),
    };
    match eval(&program, &mut fixture::context()) {
        Ok(v) => Gatehouse::Ok(v),
        Err(err) => Gatehouse::Exception {
            kind: err.kind.to_string(),
            message: err.message,
        },
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    agreed: usize,
    both_reject: usize,
    known_class: usize,
    known_expr: usize,
}

#[test]
fn csharp_oracle() {
    if let Err(why) = mono::available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the C# oracle cannot run on CI: {why} (scripts/test.sh installs Mono)"
        );
        eprintln!("C# oracle skipped: {why} (install mono-mcs mono-runtime, see scripts/test.sh)");
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    // The hand-written corpus: expressions.txt, then every expressions-<area>.txt in name
    // order (one file per area of the library, so work on two areas never edits one file).
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
        .filter_map(|d| d.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("expressions-") && n.ends_with(".txt"))
        .collect();
    names.sort();
    names.insert(0, "expressions.txt".to_string());
    let mut entries = Vec::new();
    for name in &names {
        entries.extend(corpus::parse_corpus(&read(name), name));
    }
    let handwritten = entries.len();
    // The expressions of real APIM policies (crates/policy/tests/corpus_expressions.rs
    // extracts them), compared like the hand-written ones.
    entries.extend(corpus::parse_corpus(
        &read("real-world.txt"),
        "real-world.txt",
    ));
    let real_world = entries.len() - handwritten;
    entries.extend(
        generate::expressions(SEED, GENERATED)
            .into_iter()
            .map(|s| Entry::new(&s, "generated".into())),
    );
    let mut known =
        corpus::parse_known(&read("known-differences.txt")).unwrap_or_else(|e| panic!("{e}"));

    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let csharp = mono::run_all(&entries, work.path()).unwrap_or_else(|e| panic!("{e}"));

    let mut tally = Tally::default();
    let mut used_classes: BTreeMap<&str, usize> = BTreeMap::new();
    // ORACLE_PRUNE=1 drops the listed differences that no longer show (after the library
    // learnt something) from known-differences.txt instead of failing on them.
    let prune = std::env::var("ORACLE_PRUNE").as_deref() == Ok("1");
    let mut used_exprs = BTreeSet::new();
    let mut failures = Vec::new();
    let mut rejected = Vec::new();
    for (e, cs) in entries.iter().zip(&csharp) {
        tally.compared += 1;
        let gh = gatehouse(e);
        if let CSharp::Rejected(why) = cs {
            rejected.push(format!("{} {:?}: {why}", e.origin, e.key()));
        }
        let key = e.key();
        let mut verdict = judge(cs, &gh);
        // The generator writes valid C# only; mcs misparses some relational operators next to
        // lambdas, indexers and conditionals (CS1525 "Unexpected symbol `<'"), which Roslyn,
        // the compiler APIM uses, accepts.
        if let (CSharp::Rejected(why), Gatehouse::Ok(_) | Gatehouse::Exception { .. }) = (cs, &gh)
            && e.origin == "generated"
            && why.starts_with("CS1525")
        {
            verdict = Verdict::KnownClass("mcs-misparses-generated");
        }
        // A value read from the clock or a fresh Guid differs between two runs by nature:
        // such an expression is compared by its .NET type only (and counted in its class
        // whether or not the two values happened to match, so the counts stay stable).
        if let (Verdict::Differ(_) | Verdict::Agree, CSharp::Ok { ty, .. }, Gatehouse::Ok(v)) =
            (&verdict, cs, &gh)
            && nondeterministic(&e.source)
            && *ty == v.type_name()
        {
            verdict = Verdict::KnownClass("nondeterministic");
        }
        let listed = known.exprs.contains_key(&key);
        match verdict {
            Verdict::Agree | Verdict::BothReject if listed && !prune => {
                failures.push(format!(
                    "{} {key:?} is listed in known-differences.txt but agrees now ({}); remove it",
                    e.origin,
                    show_gh(&gh)
                ));
            }
            Verdict::Agree => tally.agreed += 1,
            Verdict::BothReject => {
                tally.agreed += 1;
                tally.both_reject += 1;
            }
            Verdict::KnownClass(class) if known.classes.contains_key(class) => {
                tally.known_class += 1;
                *used_classes.entry(class).or_default() += 1;
            }
            Verdict::KnownClass(_) | Verdict::Differ(_) if listed => {
                tally.known_expr += 1;
                used_exprs.insert(key);
            }
            Verdict::KnownClass(class) => failures.push(format!(
                "{} {key:?}: differs in class {class} (not listed): C# {}, gatehouse {}",
                e.origin,
                show_cs(cs),
                show_gh(&gh)
            )),
            Verdict::Differ(why) => failures.push(format!("{} {key:?}: {why}", e.origin)),
        }
    }
    if prune {
        prune_known(&dir.join("known-differences.txt"), &used_exprs);
        known.exprs.retain(|k, _| used_exprs.contains(k));
    } else {
        for stale in known
            .exprs
            .keys()
            .filter(|k| !used_exprs.contains(k.as_str()))
        {
            if !failures.iter().any(|f| f.contains(&format!("{stale:?}"))) {
                failures.push(format!(
                    "known-differences.txt lists {stale:?}, which no longer differs (or is not in the corpus)"
                ));
            }
        }
    }
    for class in known.classes.keys() {
        if !used_classes.contains_key(class.as_str()) {
            failures.push(format!(
                "known-differences.txt lists class {class}, which no expression shows any more"
            ));
        }
    }
    eprintln!(
        "C# oracle: mcs rejected {} expressions, gatehouse {} of them at parse time",
        rejected.len(),
        tally.both_reject
    );
    eprintln!(
        "C# oracle: {} expressions compared ({handwritten} hand-written, {real_world} from real \
         policies, {GENERATED} generated): \
         {} agreed ({} of them rejected by both), \
         {} known differences by class, {} listed one by one, {} unlisted differences",
        tally.compared,
        tally.agreed,
        tally.both_reject,
        tally.known_class,
        tally.known_expr,
        failures.len()
    );
    for r in &rejected {
        eprintln!("mcs rejected {r}");
    }
    if failures.is_empty() {
        let section = doc_section(
            &tally,
            (handwritten, real_world),
            rejected.len(),
            &known,
            &used_classes,
        );
        check_docs(&section);
    }
    assert!(
        failures.is_empty(),
        "{} differences from C#:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whether an expression reads the clock or a random source (`DateTime.UtcNow`,
/// `Guid.NewGuid()`, an unseeded `Random`), so that its value differs from run to run.
fn nondeterministic(source: &str) -> bool {
    [
        "DateTime.Now",
        "DateTime.UtcNow",
        "DateTimeOffset.Now",
        "DateTimeOffset.UtcNow",
        "NewGuid()",
        "new Random()",
    ]
    .iter()
    .any(|s| source.contains(s))
}

const DOCS_BEGIN: &str = "<!-- oracle:begin -->";
const DOCS_END: &str = "<!-- oracle:end -->";

/// The counts and every known difference, for docs/policies.md's "C# oracle" section.
fn doc_section(
    tally: &Tally,
    (handwritten, real_world): (usize, usize),
    mcs_rejected: usize,
    known: &corpus::Known,
    classes: &BTreeMap<&str, usize>,
) -> String {
    let mut out = format!(
        "\n{} expressions compared ({handwritten} hand-written, {real_world} from the real APIM \
         policies of crates/policy/tests, {GENERATED} generated): {} agree \
         ({} of them rejected by both compilers), {} differ \
         in a known class, {} are known differences listed one by one. `mcs` rejected \
         {mcs_rejected} of them, gatehouse {} of those at parse time.\n\n\
         Known differences by class:\n\n",
        tally.compared,
        tally.agreed,
        tally.both_reject,
        tally.known_class,
        tally.known_expr,
        tally.both_reject,
    );
    for (name, why) in &known.classes {
        let n = classes.get(name.as_str()).copied().unwrap_or(0);
        out.push_str(&format!("- `{name}` ({n} expressions): {why}\n"));
    }
    out.push_str("\nKnown differences one by one, by reason:\n\n");
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (expr, why) in &known.exprs {
        by_reason
            .entry(why.as_str())
            .or_default()
            .push(expr.as_str());
    }
    for (why, exprs) in by_reason {
        let shown: Vec<String> = exprs.iter().map(|e| format!("`{e}`")).collect();
        out.push_str(&format!("- {why}: {}\n", shown.join("; ")));
    }
    out
}

/// docs/policies.md's section between the oracle markers must be `section`;
/// `UPDATE_DOCS=1` rewrites it.
fn check_docs(section: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policies.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let (Some(b), Some(e)) = (doc.find(DOCS_BEGIN), doc.find(DOCS_END)) else {
        panic!("docs/policies.md lacks the {DOCS_BEGIN} … {DOCS_END} markers");
    };
    if &doc[b + DOCS_BEGIN.len()..e] == section {
        return;
    }
    if std::env::var("UPDATE_DOCS").as_deref() == Ok("1") {
        let updated = format!("{}{section}{}", &doc[..b + DOCS_BEGIN.len()], &doc[e..]);
        std::fs::write(&path, updated).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        return;
    }
    panic!(
        "docs/policies.md's C# oracle section is out of date: \
         run UPDATE_DOCS=1 cargo test -p gatehouse-expr --test oracle"
    );
}

/// The generator is deterministic, big enough, and writes only what gatehouse parses (this runs
/// without Mono too).
#[test]
fn generated_expressions_parse() {
    let a = generate::expressions(SEED, GENERATED);
    assert_eq!(a, generate::expressions(SEED, GENERATED));
    assert!(a.len() >= 2_000);
    let distinct: BTreeSet<&String> = a.iter().collect();
    assert!(distinct.len() > 1_500, "only {} distinct", distinct.len());
    for src in &a {
        if let Err(e) = parse(src, ExprKind::Single) {
            panic!("generated {src:?} does not parse: {e}");
        }
    }
}

/// Rewrites known-differences.txt without the `expr` lines that no longer differ.
fn prune_known(path: &std::path::Path, still_differ: &BTreeSet<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let Some(expr) = line.strip_prefix("expr ") else {
                return true;
            };
            let key = expr.rsplit_once(" #why ").map_or(expr, |(k, _)| k).trim();
            still_differ.contains(key)
        })
        .collect();
    let pruned = text.lines().count() - kept.len();
    std::fs::write(path, kept.join("\n") + "\n").unwrap_or_else(|e| panic!("{path:?}: {e}"));
    eprintln!("C# oracle: pruned {pruned} differences that no longer show from {path:?}");
}
