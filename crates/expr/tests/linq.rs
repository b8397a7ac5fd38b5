//! LINQ as C# gives it: folds, groups, set operations, ordering, `default(T)` of the
//! `…OrDefault` operators, `Enumerable`'s factories. Expected values come from Mono (mcs + mono);
//! the C# expression is the test's input.

mod support;

use gatehouse_expr::{MapContext, Value};
use support::{kind_of, run_in};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    run_in(src, &mut MapContext::new())
}

/// The result as the oracle renders it: sequences as `[a, b]`.
fn text(src: &str) -> String {
    match run(src) {
        Ok(Value::Array(items)) => {
            let parts: Vec<String> = items.iter().map(Value::to_display).collect();
            format!("[{}]", parts.join(", "))
        }
        Ok(v) => v.to_display(),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

fn kind(src: &str) -> &'static str {
    kind_of(src, run(src))
}

#[test]
fn or_default_gives_default_of_the_element_type() {
    assert_eq!(text("new[] { 1, 2, 3 }.FirstOrDefault(x => x > 5)"), "0");
    assert_eq!(text("new int[0].FirstOrDefault()"), "0");
    assert_eq!(text("new int[0].SingleOrDefault()"), "0");
    assert_eq!(text("new bool[0].LastOrDefault()"), "False");
    assert_eq!(
        text("new[] { 1, 2 }.Where(x => x > 5).FirstOrDefault()"),
        "0"
    );
    assert_eq!(text("Enumerable.Empty<int>().FirstOrDefault()"), "0");
    assert!(matches!(
        run("new string[0].FirstOrDefault()"),
        Ok(Value::Null)
    ));
    assert_eq!(text("new[] { 1, 2, 3 }.ElementAtOrDefault(5)"), "0");
    assert_eq!(text("new int[0].DefaultIfEmpty().First()"), "0");
    assert_eq!(text("new int[0].DefaultIfEmpty(7).First()"), "7");
}

#[test]
fn element_at_out_of_range() {
    assert_eq!(
        kind("new[] { 1, 2, 3 }.ElementAt(5)"),
        "ArgumentOutOfRangeException"
    );
    assert_eq!(
        kind("new[] { 1, 2, 3 }.ElementAt(-1)"),
        "ArgumentOutOfRangeException"
    );
}

#[test]
fn aggregate_all_overloads() {
    assert_eq!(text("new[] { 1, 2, 3 }.Aggregate((a, b) => a * b)"), "6");
    assert_eq!(
        text("new[] { 1, 2, 3 }.Aggregate(10, (a, b) => a + b)"),
        "16"
    );
    assert_eq!(
        text("new[] { 1, 2, 3 }.Aggregate(\"\", (a, b) => a + b, s => s.Length)"),
        "3"
    );
    assert_eq!(
        kind("new int[0].Aggregate((a, b) => a + b)"),
        "InvalidOperationException"
    );
}

#[test]
fn group_by_keys_in_first_seen_order() {
    assert_eq!(
        text(
            "new[] { \"a\", \"bb\", \"cc\" }.GroupBy(s => s.Length).Select(g => g.Key + \":\" + g.Count()).ToArray()"
        ),
        "[1:1, 2:2]"
    );
    assert_eq!(
        text(
            "new[] { 1, 2, 3, 4 }.GroupBy(x => x % 2, x => x * 10).Select(g => g.Sum()).ToArray()"
        ),
        "[40, 60]"
    );
}

#[test]
fn to_dictionary_rejects_duplicates() {
    assert_eq!(
        text("new[] { \"a\", \"bb\", \"cc\" }.ToDictionary(s => s, s => s.Length)[\"bb\"]"),
        "2"
    );
    assert_eq!(
        kind("new[] { \"a\", \"a\" }.ToDictionary(s => s)"),
        "ArgumentException"
    );
}

#[test]
fn set_operations_are_distinct() {
    assert_eq!(
        text("new[] { 1, 2, 3, 3 }.Union(new[] { 3, 4 }).ToArray()"),
        "[1, 2, 3, 4]"
    );
    assert_eq!(
        text("new[] { 1, 2, 2, 3 }.Intersect(new[] { 2, 3, 4 }).ToArray()"),
        "[2, 3]"
    );
    assert_eq!(
        text("new[] { 1, 1, 2, 3 }.Except(new[] { 2 }).ToArray()"),
        "[1, 3]"
    );
    assert_eq!(
        text("new[] { 1, 2, 3 }.Zip(new[] { \"a\", \"b\" }, (n, s) => s + n).ToArray()"),
        "[a1, b2]"
    );
    assert_eq!(text("new[] { 1, 2 }.SequenceEqual(new[] { 1, 2 })"), "True");
    assert_eq!(text("new[] { 1, 2 }.SequenceEqual(new[] { 1 })"), "False");
}

#[test]
fn partitions_and_indexed_lambdas() {
    assert_eq!(
        text("new[] { 1, 2, 3, 1 }.SkipWhile(x => x < 3).ToArray()"),
        "[3, 1]"
    );
    assert_eq!(
        text("new[] { 1, 2, 3, 1 }.TakeWhile(x => x < 3).ToArray()"),
        "[1, 2]"
    );
    assert_eq!(
        text("new[] { 5, 6, 7, 8 }.Where((x, i) => i % 2 == 0).ToArray()"),
        "[5, 7]"
    );
    assert_eq!(text("new[] { 1, 2, 3 }.LongCount(x => x > 1)"), "2");
}

#[test]
fn ordering_follows_the_invariant_culture_and_is_stable() {
    assert_eq!(
        text("new[] { \"b\", \"a\", \"C\" }.OrderBy(s => s).ToArray()"),
        "[a, b, C]"
    );
    assert_eq!(
        text(
            "new[] { \"bb\", \"a\", \"ccc\", \"aa\" }.OrderBy(s => s.Length).ThenByDescending(s => s).ToArray()"
        ),
        "[a, bb, aa, ccc]"
    );
    assert_eq!(
        text("new[] { \"x1\", \"y1\", \"x2\" }.OrderByDescending(s => s[1]).ToArray()"),
        "[x2, x1, y1]"
    );
    assert_eq!(
        text("{ var l = new List<string> { \"b\", \"a\", \"B\" }; l.Sort(); return l; }"),
        "[a, b, B]"
    );
    assert_eq!(text("new[] { \"b\", \"a\", \"C\" }.Max()"), "C");
}

#[test]
fn of_type_and_cast() {
    assert_eq!(
        text("new object[] { 1, \"a\", 2 }.OfType<int>().Sum()"),
        "3"
    );
    assert_eq!(
        text("new object[] { 1, \"a\" }.OfType<string>().First()"),
        "a"
    );
    assert_eq!(
        kind("new object[] { 1, \"a\" }.Cast<int>().ToArray()"),
        "InvalidCastException"
    );
}

#[test]
fn enumerable_factories() {
    assert_eq!(text("Enumerable.Range(1, 5).ToArray()"), "[1, 2, 3, 4, 5]");
    assert_eq!(text("Enumerable.Repeat(\"x\", 2).ToArray()"), "[x, x]");
    assert_eq!(text("Enumerable.Empty<int>().Count()"), "0");
    assert_eq!(
        kind("Enumerable.Range(1, -1)"),
        "ArgumentOutOfRangeException"
    );
    // A huge range is refused by the memory budget, not allocated.
    assert!(run("Enumerable.Range(0, 2000000000).Count()").is_err());
}

// new[] { 1, 2 }.Append(3) -> [1, 2, 3]; new[] { 1, 2, 3, 4 }.TakeLast(2) -> [3, 4]
// new[] { 1, 2, 2, 3 }.ToHashSet().Count -> 3
#[test]
fn append_prepend_skip_take_last_to_hash_set() {
    let cases = [
        ("new[] { 1, 2 }.Append(3)", "[1, 2, 3]"),
        ("new[] { 1, 2 }.Prepend(0)", "[0, 1, 2]"),
        ("new[] { 1, 2, 3, 4 }.SkipLast(1)", "[1, 2, 3]"),
        ("new[] { 1, 2, 3, 4 }.TakeLast(2)", "[3, 4]"),
        ("new[] { 1, 2 }.TakeLast(-1)", "[]"),
        ("new[] { 1, 2 }.SkipLast(5)", "[]"),
        ("new[] { 1, 2 }.AsEnumerable()", "[1, 2]"),
        ("new[] { 1, 2, 2, 3 }.ToHashSet().Count", "3"),
        ("new[] { 1, 2, 2, 3 }.ToHashSet().Add(2)", "False"),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

// new[] { 1, 2, 3 }.Join(new[] { "1a", "3b", "1c", "4d" }, o => o.ToString(),
//     i => i.Substring(0, 1), (o, i) => o + ":" + i)            -> [1:1a, 1:1c, 3:3b]
// GroupJoin: one result per outer element, its matches (maybe none) -> [1:2, 2:0, 3:1]
#[test]
fn join_and_group_join() {
    assert_eq!(
        text(
            r#"new[] { 1, 2, 3 }.Join(new[] { "1a", "3b", "1c", "4d" }, o => o.ToString(), i => i.Substring(0, 1), (o, i) => o + ":" + i)"#
        ),
        "[1:1a, 1:1c, 3:3b]"
    );
    assert_eq!(
        text(
            r#"new[] { 1, 2, 3 }.GroupJoin(new[] { "1a", "3b", "1c" }, o => o.ToString(), i => i.Substring(0, 1), (o, g) => o + ":" + g.Count())"#
        ),
        "[1:2, 2:0, 3:1]"
    );
    // A null key matches nothing.
    assert_eq!(
        text(
            r#"new[] { "a", null }.Join(new[] { "a", null }, o => o, i => i, (o, i) => o + i).Count()"#
        ),
        "1"
    );
}
