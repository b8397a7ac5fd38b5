//! Issue 9, finding 11, the engine's side: an expression runs within a time and a memory
//! budget, so a greedy or slow one fails instead of taking the process down or holding its
//! worker. (How a pipeline reports it is in crates/policy/tests/budgets.rs.)

use gatehouse_expr::{ExprKind, MapContext, eval, parse};

/// A string that doubles itself stops at the memory budget (16 MiB by default) before the
/// allocation that would pass it; nothing near the gigabytes it would reach is built.
#[test]
fn a_self_doubling_string_stops_at_the_memory_budget() {
    let p = parse(
        r#"string s = "0123456789abcdef"; for (int i = 0; i < 24; i++) { s = s + s; } return s.Length;"#,
        ExprKind::Block,
    )
    .expect("parses");
    let e = eval(&p, &mut MapContext::new()).expect_err("over the memory budget");
    assert!(e.message.contains("memory budget"), "{}", e.message);
}

/// Other ways to grow: Replace, PadLeft, string.Join, new string(c, n), a list of copies,
/// an array allocation, a JSON document serialised, a Split into many parts.
#[test]
fn every_growing_operation_checks_the_memory_budget() {
    let cases = [
        r#"var s = new string('a', 1048576); return s.Replace("a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").Length;"#,
        r#"var s = new string('a', 1048576); var l = new List<string>(); for (int i = 0; i < 40; i++) { l.Add(s + i); } return l.Count;"#,
        r#"var s = new string('a', 1048576); var l = new List<string>(); for (int i = 0; i < 40; i++) { l.Add(s); } return string.Join(",", l).Length;"#,
        r#"var a = new object[16000000]; return a.Length;"#,
        r#"var s = new string(',', 1048576); return s.Split(',').Length;"#,
        r#"var s = new string('a', 1048576); var t = $"{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}{s}"; return t.Length;"#,
        r#"var s = new string('a', 1048576); return string.Concat(s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s).Length;"#,
        r#"var s = new string('a', 1048576); var o = new JArray(); for (int i = 0; i < 20; i++) { o.Add(s + i); } return o.ToString().Length;"#,
        r#"var s = new string('a', 1048576); var t = s; for (int i = 0; i < 20; i++) { t += s; } return t.Length;"#,
    ];
    for src in cases {
        let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("{src}: {e}"));
        match eval(&p, &mut MapContext::new()) {
            Err(e) => assert!(e.message.contains("memory budget"), "{src}: {}", e.message),
            Ok(v) => panic!("{src}: ran to {v:?}"),
        }
    }
}

/// A loop of expensive steps (ToUpper over a megabyte) is cut at the time budget (100 ms by
/// default), not after the thousands of steps the step budget allows.
#[test]
fn expensive_steps_stop_at_the_time_budget() {
    let p = parse(
        r#"var s = new string('a', 1048576); var n = 0; for (int i = 0; i < 3000; i++) { n += s.ToUpper().Length; } return n;"#,
        ExprKind::Block,
    )
    .expect("parses");
    let e = eval(&p, &mut MapContext::new()).expect_err("over the time budget");
    assert!(e.message.contains("time budget"), "{}", e.message);
}
