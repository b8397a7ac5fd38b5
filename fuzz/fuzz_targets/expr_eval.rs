//! Arbitrary expressions parsed and run against a small request context with small budgets:
//! evaluation never panics, never hangs (the step and time budgets stop it) and never holds
//! more than its memory budget — an exhausted budget is an error naming the budget, never a
//! crash. libFuzzer's own `-timeout` and `-rss_limit_mb` catch a budget that does not hold.

#![no_main]

use std::time::{Duration, Instant};

use gatehouse_policy::expr::{ExprKind, Limits, MapContext, eval_with, parse};
use libfuzzer_sys::fuzz_target;

/// Small budgets: a run is cheap, and the fuzzer meets every budget's edge often.
const LIMITS: Limits = Limits {
    steps: 20_000,
    time: Duration::from_millis(50),
    memory: 256 * 1024,
};

fn context() -> MapContext {
    let mut c = MapContext::new();
    c.header("Request", "Authorization", "Bearer abc.def.ghi")
        .header("Request", "Content-Type", "application/json")
        .body_text("Request", r#"{"a":[1,2,{"b":"c"}],"d":null}"#)
        .variable("count", 3i64)
        .variable("name", "gatehouse")
        .set("Request.Method", "POST")
        .set("Request.IpAddress", "10.0.0.1");
    c
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks the kind, so the corpus covers both without doubling each run.
    let (kind, source) = match text.strip_prefix('{') {
        Some(rest) => (ExprKind::Block, rest),
        None => (ExprKind::Single, text),
    };
    let Ok(program) = parse(source, kind) else {
        return;
    };
    let mut ctx = context();
    let started = Instant::now();
    let _ = eval_with(&program, &mut ctx, &LIMITS);
    // The time budget bounds the run; allow generous slack for a loaded machine and the
    // sanitizer, but a run far past it is a budget that does not hold.
    let took = started.elapsed();
    assert!(
        took < LIMITS.time * 40,
        "evaluation ran {took:?}, budget {:?}",
        LIMITS.time
    );
});
