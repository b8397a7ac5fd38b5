//! `System.Array`'s static members and the collections policies build. Expected values come
//! from Mono (mcs + mono); the C# that produced them is quoted beside each test.

use gatehouse_expr::{ExprKind, MapContext, Value, eval, parse};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    let kind = if src.trim_start().starts_with('{') {
        ExprKind::Block
    } else {
        ExprKind::Single
    };
    let body = if kind == ExprKind::Block {
        let t = src.trim();
        &t[1..t.len() - 1]
    } else {
        src
    };
    let p = parse(body, kind).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    let mut c = MapContext::new();
    c.body_text("Request", "a=1&b=x+y&a=%C3%A9t%C3%A9&empty=&flag");
    eval(&p, &mut c)
}

fn text(src: &str) -> String {
    match run(src) {
        Ok(v) => v.to_display(),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

fn kind(src: &str) -> &'static str {
    match run(src) {
        Ok(v) => panic!("{src:?} gave {v:?}, not an error"),
        Err(e) => e.kind,
    }
}

fn no_findings(src: &str) {
    let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    let found = p.unsupported_members();
    assert!(found.is_empty(), "{src:?}: {found:?}");
}

// var a = new[] { 3, 1, 2 };
// Array.Exists(a, x => x > 2)            -> True
// Array.Find(a, x => x > 5)              -> 0
// Array.FindIndex(a, x => x < 3)         -> 1
// Array.FindLastIndex(a, x => x > 0)     -> 2
// Array.IndexOf(a, 7)                    -> -1
// Array.TrueForAll(a, x => x > 0)        -> True
// string.Join(",", Array.FindAll(a, x => x != 1))   -> 3,2
// string.Join(",", Array.ConvertAll(a, x => x * 2)) -> 6,2,4
// Array.Find(new[]{"b","a","c"}, x => x == "z") == null -> True
// Array.LastIndexOf(new[]{1,2,1}, 1)     -> 2
// Array.FindIndex(new[]{5,6,7,8}, 2, x => x > 5)     -> 2
// Array.FindLastIndex(new[]{5,6,7,8}, 1, x => x > 5) -> 1
// Array.Empty<int>().Length              -> 0
#[test]
fn array_searches_match_dotnet() {
    let cases = [
        ("Array.Exists(new[] { 3, 1, 2 }, x => x > 2)", "True"),
        ("Array.Exists(new[] { 3, 1, 2 }, x => x > 3)", "False"),
        ("Array.Find(new[] { 3, 1, 2 }, x => x > 5)", "0"),
        ("Array.Find(new[] { 3, 1, 2 }, x => x < 3)", "1"),
        ("Array.FindLast(new[] { 3, 1, 2 }, x => x < 3)", "2"),
        ("Array.FindIndex(new[] { 3, 1, 2 }, x => x < 3)", "1"),
        ("Array.FindLastIndex(new[] { 3, 1, 2 }, x => x > 0)", "2"),
        ("Array.IndexOf(new[] { 3, 1, 2 }, 7)", "-1"),
        ("Array.TrueForAll(new[] { 3, 1, 2 }, x => x > 0)", "True"),
        (
            "string.Join(\",\", Array.FindAll(new[] { 3, 1, 2 }, x => x != 1))",
            "3,2",
        ),
        (
            "string.Join(\",\", Array.ConvertAll(new[] { 3, 1, 2 }, x => x * 2))",
            "6,2,4",
        ),
        (
            "Array.Find(new[] { \"b\", \"a\", \"c\" }, x => x == \"z\") == null",
            "True",
        ),
        ("Array.LastIndexOf(new[] { 1, 2, 1 }, 1)", "2"),
        ("Array.FindIndex(new[] { 5, 6, 7, 8 }, 2, x => x > 5)", "2"),
        (
            "Array.FindLastIndex(new[] { 5, 6, 7, 8 }, 1, x => x > 5)",
            "1",
        ),
        ("Array.Empty<int>().Length", "0"),
        ("Array.Exists(\"a,b\".Split(','), s => s == \"b\")", "True"),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

// var a = new[] { 3, 1, 2 }; Array.Sort(a);  -> 1,2,3
// Array.Reverse(a);                          -> 3,2,1
// Array.Clear(a, 0, 2);                      -> 0,0,1
// Array.Sort(s, (x, y) => y.CompareTo(x));   -> c,b,a
// Array.Exists(new int[0], null)             -> ArgumentNullException
#[test]
fn array_sort_reverse_clear_write_back() {
    assert_eq!(
        text("{ var a = new[] { 3, 1, 2 }; Array.Sort(a); return string.Join(\",\", a); }"),
        "1,2,3"
    );
    assert_eq!(
        text(
            "{ var a = new[] { 3, 1, 2 }; Array.Sort(a); Array.Reverse(a); return string.Join(\",\", a); }"
        ),
        "3,2,1"
    );
    assert_eq!(
        text("{ var a = new[] { 3, 2, 1 }; Array.Clear(a, 0, 2); return string.Join(\",\", a); }"),
        "0,0,1"
    );
    assert_eq!(
        text(
            "{ var s = new[] { \"b\", \"a\", \"c\" }; Array.Sort(s, (x, y) => y.CompareTo(x)); return string.Join(\",\", s); }"
        ),
        "c,b,a"
    );
    assert_eq!(
        kind("Array.Exists(new int[0], null)"),
        "ArgumentNullException"
    );
    assert_eq!(
        kind("Array.FindIndex(new[] { 1 }, 5, x => true)"),
        "ArgumentOutOfRangeException"
    );
}

#[test]
fn policy_check_accepts_array_members() {
    no_findings(
        "var a = new[] { 1, 2 }; Array.Sort(a); Array.Reverse(a); return Array.Exists(a, x => x > 1) && Array.IndexOf(a, 2) >= 0 && Array.TrueForAll(a, x => x > 0);",
    );
}
