//! `System.Array`'s static members and the collections policies build. Expected values come
//! from Mono (mcs + mono); the C# that produced them is quoted beside each test.

mod support;

use gatehouse_expr::{ExprKind, MapContext, Value, eval, parse};
use support::{kind_of, no_findings, run_in, text_of};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    let mut c = MapContext::new();
    c.body_text("Request", "a=1&b=x+y&a=%C3%A9t%C3%A9&empty=&flag");
    run_in(src, &mut c)
}

fn text(src: &str) -> String {
    text_of(src, run(src))
}

fn kind(src: &str) -> &'static str {
    kind_of(src, run(src))
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

// var d = new Dictionary<string, string>(); d.Add("a", "1");
// d.Add("a", "2")              -> ArgumentException
// d["b"]                       -> KeyNotFoundException
// d.ContainsKey("A")           -> False (the default comparer is exact)
// d.TryGetValue("a", out v)    -> True 1
// d["z"] = "9"; d["a"] = "0";  enumerated: a=0;z=9 (insertion order)
// d.Keys, d.Count, d.Remove("a"), d.Remove("q") -> a,z 2 True False
// new Dictionary<string,int>{{"x",1},{"y",2}}.Values.Sum() -> 3
#[test]
fn dictionary_matches_dotnet() {
    let setup = "var d = new Dictionary<string, string>(); d.Add(\"a\", \"1\");";
    assert_eq!(
        kind(&format!("{{ {setup} d.Add(\"a\", \"2\"); return 1; }}")),
        "ArgumentException"
    );
    assert_eq!(
        kind(&format!("{{ {setup} return d[\"b\"]; }}")),
        "KeyNotFoundException"
    );
    assert_eq!(
        text(&format!("{{ {setup} return d.ContainsKey(\"A\"); }}")),
        "False"
    );
    assert_eq!(
        text(&format!(
            "{{ {setup} string v; var ok = d.TryGetValue(\"a\", out v); return ok + \" \" + v; }}"
        )),
        "True 1"
    );
    assert_eq!(
        text(&format!(
            "{{ {setup} d[\"z\"] = \"9\"; d[\"a\"] = \"0\"; return string.Join(\";\", d.Select(kv => kv.Key + \"=\" + kv.Value)); }}"
        )),
        "a=0;z=9"
    );
    assert_eq!(
        text(&format!(
            "{{ {setup} d[\"z\"] = \"9\"; var k = string.Join(\",\", d.Keys) + \" \" + d.Count; var r1 = d.Remove(\"a\"); var r2 = d.Remove(\"q\"); return k + \" \" + r1 + \" \" + r2; }}"
        )),
        "a,z 2 True False"
    );
    assert_eq!(
        text("new Dictionary<string, int> { { \"x\", 1 }, { \"y\", 2 } }.Values.Sum()"),
        "3"
    );
}

// The body is "a=1&b=x+y&a=%C3%A9t%C3%A9&empty=&flag". APIM's AsFormUrlEncodedContent gives
// IDictionary<string, IList<string>>: repeated keys collect, '+' is a space, %XX is UTF-8.
// Writing back encodes like .NET's FormUrlEncodedContent (Mono):
//   new FormUrlEncodedContent(new[] { new KeyValuePair<string,string>("a b", "x y&z"),
//       new KeyValuePair<string,string>("é", "~*!") }).ReadAsStringAsync().Result
//   -> a+b=x+y%26z&%C3%A9=~%2A%21
#[test]
fn form_body_reads_and_writes() {
    assert_eq!(
        text("context.Request.Body.AsFormUrlEncodedContent()[\"a\"].Count"),
        "2"
    );
    assert_eq!(
        text("context.Request.Body.AsFormUrlEncodedContent()[\"a\"][1]"),
        "été"
    );
    assert_eq!(
        text("context.Request.Body.AsFormUrlEncodedContent(preserveContent: true)[\"b\"].First()"),
        "x y"
    );
    assert_eq!(
        text("context.Request.Body.AsFormUrlEncodedContent()[\"empty\"][0]"),
        ""
    );
    assert_eq!(
        text("context.Request.Body.AsFormUrlEncodedContent().ContainsKey(\"A\")"),
        "False"
    );
    assert_eq!(
        text("string.Join(\",\", context.Request.Body.AsFormUrlEncodedContent().Keys)"),
        "a,b,empty,flag"
    );
    assert_eq!(
        text(
            "{ var form = context.Request.Body.AsFormUrlEncodedContent(true); form.Remove(\"flag\"); form[\"a b\"] = new List<string> { \"x y&z\" }; form.Add(\"é\", new List<string> { \"~*!\" }); return form.ToFormUrlEncodedContent(); }"
        ),
        "a=1&a=%C3%A9t%C3%A9&b=x+y&empty=&a+b=x+y%26z&%C3%A9=~%2A%21"
    );
    no_findings(
        "var form = context.Request.Body.AsFormUrlEncodedContent(preserveContent: true); return form.ToFormUrlEncodedContent();",
    );
}

// var sb = new StringBuilder("ab");
// sb.Append(1).Append('c').Append(true).AppendFormat("{0}-{1}", 2, "x");
// sb + " " + sb.Length                         -> ab1cTrue2-x 11
// sb.Insert(0, "<").Remove(1, 2).Replace("True", "T"); sb.ToString() -> <1cT2-x
// sb.ToString(1, 2)                            -> 1c
#[test]
fn string_builder_matches_dotnet() {
    assert_eq!(
        text(
            "{ var sb = new StringBuilder(\"ab\"); sb.Append(1).Append('c').Append(true).AppendFormat(\"{0}-{1}\", 2, \"x\"); return sb + \" \" + sb.Length; }"
        ),
        "ab1cTrue2-x 11"
    );
    assert_eq!(
        text(
            "{ var sb = new StringBuilder(\"ab1cTrue2-x\"); sb.Insert(0, \"<\").Remove(1, 2).Replace(\"True\", \"T\"); return sb.ToString() + \"|\" + sb.ToString(1, 2); }"
        ),
        "<1cT2-x|1c"
    );
    assert_eq!(
        text(
            "{ var sb = new System.Text.StringBuilder(); sb.AppendLine(\"a\"); sb.Append(\"b\"); return sb.ToString(); }"
        ),
        "a\r\nb"
    );
    assert_eq!(
        kind("{ var sb = new StringBuilder(\"ab\"); sb.Remove(1, 5); return 1; }"),
        "ArgumentOutOfRangeException"
    );
}

// var q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2);
// q.Peek() + " " + q.Dequeue() + " " + q.Count          -> 1 1 1
// var s = new Stack<string>(); s.Push("a"); s.Push("b");
// string.Join(",", s) + " " + s.Pop() + " " + s.Count   -> b,a b 1
// new Queue<int>().Dequeue()  -> InvalidOperationException: Queue empty.
// new Stack<int>().Pop()      -> InvalidOperationException: Stack empty.
// new Queue<string>(new[] {"x","y"}).Where(z => z != "x").First() + q2.Count() -> y2
#[test]
fn queue_and_stack_match_dotnet() {
    assert_eq!(
        text(
            "{ var q = new Queue<int>(); q.Enqueue(1); q.Enqueue(2); var p = q.Peek(); var d = q.Dequeue(); return p + \" \" + d + \" \" + q.Count; }"
        ),
        "1 1 1"
    );
    assert_eq!(
        text(
            "{ var s = new Stack<string>(); s.Push(\"a\"); s.Push(\"b\"); var all = string.Join(\",\", s); var top = s.Pop(); return all + \" \" + top + \" \" + s.Count; }"
        ),
        "b,a b 1"
    );
    assert_eq!(
        kind("new Queue<int>().Dequeue()"),
        "InvalidOperationException"
    );
    assert_eq!(kind("new Stack<int>().Pop()"), "InvalidOperationException");
    assert_eq!(
        text(
            "{ var q2 = new Queue<string>(new[] { \"x\", \"y\" }); return q2.Where(z => z != \"x\" && q2.Count > 1).First() + q2.Count(); }"
        ),
        "y2"
    );
}

// var l = new List<int> { 4, 5, 6 };
// l.Exists(x => x > 5) + " " + l.Find(x => x > 4) + " " + l.FindIndex(x => x == 6) + " "
//     + l.FindAll(x => x > 4).Count + " " + l.TrueForAll(x => x > 3)   -> True 5 2 2 True
// var acc = 0; l.ForEach(x => acc += x);  -> 15 (a lambda here cannot assign to an outer
// local, so the test sums through a list instead)
#[test]
fn list_search_methods_match_dotnet() {
    assert_eq!(
        text(
            "{ var l = new List<int> { 4, 5, 6 }; return l.Exists(x => x > 5) + \" \" + l.Find(x => x > 4) + \" \" + l.FindIndex(x => x == 6) + \" \" + l.FindAll(x => x > 4).Count + \" \" + l.TrueForAll(x => x > 3); }"
        ),
        "True 5 2 2 True"
    );
    assert_eq!(
        text(
            "{ var l = new List<int> { 4, 5, 6 }; var sb = new StringBuilder(); l.ForEach(x => sb.Append(x)); return sb.ToString(); }"
        ),
        "456"
    );
}

/// What this file's members build counts against the memory budget (16 MiB by default):
/// a builder, a writer, a queue, a dictionary, a form body written back, XML built from
/// content. Each grows past the budget and must fail there.
#[test]
fn collections_and_builders_stop_at_the_memory_budget() {
    let cases = [
        r#"var s = new string('a', 1048576); var sb = new StringBuilder(); for (int i = 0; i < 40; i++) { sb.Append(s); } return sb.Length;"#,
        r#"var s = new string('a', 1048576); var sb = new StringBuilder(s); for (int i = 0; i < 30; i++) { sb.Append(sb.ToString()); } return sb.Length;"#,
        r#"var s = new string('a', 1048576); var w = new StringWriter(); for (int i = 0; i < 40; i++) { w.WriteLine(s); } return w.ToString().Length;"#,
        r#"var s = new string('a', 1048576); var q = new Queue<string>(); for (int i = 0; i < 40; i++) { q.Enqueue(s + i); } return q.Count;"#,
        r#"var s = new string('a', 1048576); var d = new Dictionary<string, string>(); for (int i = 0; i < 40; i++) { d.Add("k" + i, s + i); } return d.Count;"#,
        r#"var s = new string(' ', 1048576); var d = new Dictionary<string, string>(); for (int i = 0; i < 8; i++) { d.Add("k" + i, s); } return d.ToFormUrlEncodedContent().Length;"#,
        r#"var s = new string('a', 1048576); var e = new XElement("a"); for (int i = 0; i < 40; i++) { e = new XElement("a", e, s); } return e.ToString().Length;"#,
        r#"var a = new string('a', 1048576); var l = new List<string>(); for (int i = 0; i < 40; i++) { l.Add(a); } return Array.ConvertAll(l.ToArray(), x => x + "b").Length;"#,
    ];
    for src in cases {
        let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("{src}: {e}"));
        match eval(&p, &mut MapContext::new()) {
            Err(e) => assert!(e.message.contains("memory budget"), "{src}: {}", e.message),
            Ok(v) => panic!("{src}: ran to {v:?}"),
        }
    }
}

// var s = new HashSet<string> { "a", "b" };
// s.Add("a") + " " + s.Add("c") + " " + s.Count + " " + string.Join(",", s)   -> False True 3 a,b,c
// s.UnionWith(new[] { "c", "d" }); s.ExceptWith(new[] { "a" });
// string.Join(",", s) + " " + s.Contains("b") + " " + s.Remove("z") + " "
//     + s.IsSubsetOf(new[] { "b", "c", "d", "e" })                            -> b,c,d True False True
// var h2 = new HashSet<int>(new[] { 1, 1, 2 }); h2.Count + " " + h2.Sum()      -> 2 3
// JsonConvert.DeserializeObject<Dictionary<string, string>>("{\"x\":\"1\",\"y\":\"2\"}")
//     d["y"] + d.Count + string.Join(",", d.Keys)                               -> 22x,y
// new KeyValuePair<string, int>("k", 3): kv.Key + kv.Value                      -> k3
// JsonConvert.DeserializeObject<List<int>>("[1,2,3]").Sum()                     -> 6
// f["a"].Add("2") on a Dictionary<string, IList<string>>                        -> 1,2
#[test]
fn hash_set_pairs_and_deserialized_collections() {
    assert_eq!(
        text(
            "{ var s = new HashSet<string> { \"a\", \"b\" }; var r1 = s.Add(\"a\"); var r2 = s.Add(\"c\"); return r1 + \" \" + r2 + \" \" + s.Count + \" \" + string.Join(\",\", s); }"
        ),
        "False True 3 a,b,c"
    );
    assert_eq!(
        text(
            "{ var s = new HashSet<string> { \"a\", \"b\", \"c\" }; s.UnionWith(new[] { \"c\", \"d\" }); s.ExceptWith(new[] { \"a\" }); var all = string.Join(\",\", s); return all + \" \" + s.Contains(\"b\") + \" \" + s.Remove(\"z\") + \" \" + s.IsSubsetOf(new[] { \"b\", \"c\", \"d\", \"e\" }); }"
        ),
        "b,c,d True False True"
    );
    assert_eq!(
        text(
            "{ var h2 = new HashSet<int>(new[] { 1, 1, 2 }); return h2.Count + \" \" + h2.Sum(); }"
        ),
        "2 3"
    );
    assert_eq!(
        text("{ var s = new HashSet<int> { 1, 2 }; s.UnionWith(s); return s.Count; }"),
        "2"
    );
    assert_eq!(
        text(
            "{ var d = JsonConvert.DeserializeObject<Dictionary<string, string>>(\"{\\\"x\\\":\\\"1\\\",\\\"y\\\":\\\"2\\\"}\"); return d[\"y\"] + d.Count + string.Join(\",\", d.Keys); }"
        ),
        "22x,y"
    );
    assert_eq!(
        text("{ var kv = new KeyValuePair<string, int>(\"k\", 3); return kv.Key + kv.Value; }"),
        "k3"
    );
    assert_eq!(
        text("JsonConvert.DeserializeObject<List<int>>(\"[1,2,3]\").Sum()"),
        "6"
    );
    assert_eq!(
        text(
            "{ var f = new Dictionary<string, IList<string>> { { \"a\", new List<string> { \"1\" } } }; f[\"a\"].Add(\"2\"); return string.Join(\",\", f[\"a\"]); }"
        ),
        "1,2"
    );
}

/// `policy check` finds nothing to refuse in what this file's members cover.
#[test]
fn policy_check_accepts_collections_and_builders() {
    no_findings(
        "var sb = new System.Text.StringBuilder(); var d = new Dictionary<string, string>(); var s = new HashSet<string>(); var q = new Queue<int>(); var st = new Stack<int>(); var kv = new KeyValuePair<string, string>(\"a\", \"b\"); var l = new List<int> { 1 }; string v; d.TryGetValue(\"a\", out v); sb.Append(v).AppendLine(); return sb.ToString() + l.Exists(x => x > 0) + s.Add(\"x\") + q.Count + st.Count + kv.Key + JsonConvert.DeserializeObject<Dictionary<string, string>>(\"{}\").Count;",
    );
}

/// C#: `new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 }` has 2 entries; `d["y"]` is 2.
#[test]
fn dictionary_index_initializer() {
    assert_eq!(
        text(
            r#"{ var d = new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 }; return d.Count; }"#
        ),
        "2"
    );
    assert_eq!(
        text(r#"new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 }["y"]"#),
        "2"
    );
}

/// C#: `var l = new List<int> { 1, 2, 3, 4 }; l.RemoveAll(x => x % 2 == 0)` gives 2 and leaves
/// 1,3.
#[test]
fn list_remove_all_in_place() {
    assert_eq!(
        text(
            r#"{ var l = new List<int> { 1, 2, 3, 4 }; var n = l.RemoveAll(x => x % 2 == 0); return n + ":" + string.Join(",", l); }"#
        ),
        "2:1,3"
    );
}

// var s = new HashSet<int> { 1, 2, 3 }; s.SymmetricExceptWith(new[] { 2, 4, 4 }) -> 1,3,4
// new HashSet<int> { 1, 2, 3, 4 }.RemoveWhere(x => x % 2 == 0)                   -> 2
// Array.BinarySearch(new[] { 1, 3, 5, 7 }, 4)                                    -> -3
// new List<int> { 1, 2, 5 } InsertRange(2, { 3, 4 })                             -> 1,2,3,4,5
#[test]
fn remaining_collection_members() {
    let cases = [
        (
            "{ var s = new HashSet<int> { 1, 2 }; return s.IsProperSubsetOf(new[] { 1, 2, 3 }) + \" \" + s.IsProperSubsetOf(new[] { 1, 2, 2 }); }",
            "True False",
        ),
        (
            "{ var s = new HashSet<int> { 1, 2, 3 }; return s.IsProperSupersetOf(new[] { 1, 2 }); }",
            "True",
        ),
        (
            "{ var s = new HashSet<int> { 1, 2, 3 }; s.SymmetricExceptWith(new[] { 2, 4, 4 }); return string.Join(\",\", s.OrderBy(x => x)); }",
            "1,3,4",
        ),
        (
            "{ var s = new HashSet<int> { 1, 2, 3, 4 }; var n = s.RemoveWhere(x => x % 2 == 0); return n + \":\" + string.Join(\",\", s); }",
            "2:1,3",
        ),
        ("new[] { 1, 3, 5, 7 }.GetLength(0)", "4"),
        ("new[] { 1, 3, 5, 7 }.GetUpperBound(0)", "3"),
        ("new[] { 1, 3, 5, 7 }.GetValue(2)", "5"),
        ("new[] { 1, 3, 5, 7 }.LongLength", "4"),
        ("Array.BinarySearch(new[] { 1, 3, 5, 7 }, 5)", "2"),
        ("Array.BinarySearch(new[] { 1, 3, 5, 7 }, 4)", "-3"),
        ("Array.BinarySearch(new[] { 1, 3, 5, 7 }, 1, 2, 1)", "-2"),
        (
            "{ var a = new int[4]; Array.Fill(a, 7, 1, 2); return string.Join(\",\", a); }",
            "0,7,7,0",
        ),
        (
            "{ var a = new[] { 1, 2, 3 }; var b = new int[3]; Array.ConstrainedCopy(a, 1, b, 0, 2); return string.Join(\",\", b); }",
            "2,3,0",
        ),
        (
            "{ var l = new List<int> { 1, 2, 3, 4, 5 }; return string.Join(\",\", l.GetRange(1, 3)); }",
            "2,3,4",
        ),
        (
            "{ var l = new List<int> { 1, 2, 5 }; l.InsertRange(2, new[] { 3, 4 }); return string.Join(\",\", l); }",
            "1,2,3,4,5",
        ),
        (
            "{ var l = new List<int> { 1, 2, 3, 4, 5 }; l.RemoveRange(1, 2); return string.Join(\",\", l); }",
            "1,4,5",
        ),
        (
            "{ var l = new List<int> { 1, 3, 5 }; return l.BinarySearch(3) + \" \" + l.BinarySearch(4); }",
            "1 -3",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
    for (src, want) in [
        ("new[] { 1 }.GetLength(1)", "IndexOutOfRangeException"),
        ("new[] { 1 }.GetValue(1)", "IndexOutOfRangeException"),
        (
            "{ var a = new int[4]; Array.Fill(a, 7, 3, 2); return a; }",
            "ArgumentOutOfRangeException",
        ),
        (
            "{ var l = new List<int> { 1, 2, 3 }; l.RemoveRange(2, 2); return l; }",
            "ArgumentException",
        ),
        (
            "{ var l = new List<int> { 1 }; return l.GetRange(0, 2); }",
            "ArgumentException",
        ),
    ] {
        assert_eq!(kind(src), want, "{src}");
    }
    no_findings(
        "var a = new int[2]; Array.Fill(a, 1); Array.ConstrainedCopy(a, 0, a, 1, 1); return Array.BinarySearch(a, 1);",
    );
}

// var q = new Queue<int>(); q.Enqueue(5); q.TryDequeue(out var x) -> True, x = 5
// new Queue<int>().TryDequeue(out int x) -> False, x = 0
#[test]
fn queue_stack_and_set_try_methods() {
    let cases = [
        (
            "{ var q = new Queue<int>(); q.Enqueue(5); q.Enqueue(6); var ok = q.TryDequeue(out var x); return ok + \" \" + x + \" \" + q.Count; }",
            "True 5 1",
        ),
        (
            "{ var q = new Queue<int>(); var ok = q.TryDequeue(out int x); return ok + \" \" + x; }",
            "False 0",
        ),
        (
            "{ var s = new Stack<int>(); s.Push(1); s.Push(2); var ok = s.TryPop(out var x); return ok + \" \" + x + \" \" + s.Count; }",
            "True 2 1",
        ),
        (
            "{ var s = new Stack<int>(); s.Push(3); s.TryPeek(out var x); return x + s.Count; }",
            "4",
        ),
        (
            "{ var s = new HashSet<string> { \"a\" }; var ok = s.TryGetValue(\"a\", out var v); return ok + v; }",
            "Truea",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

// new StringBuilder("a").AppendJoin(", ", 1, "b", 'c') -> a1, b, c
// new StringBuilder("ab").Equals(new StringBuilder("ab")) -> True (the same text)
// Nullable.Compare<int>(null, 1) -> -1
#[test]
fn string_builder_append_join_and_nullable_compare() {
    let cases = [
        (
            r#"new StringBuilder("a").AppendJoin(", ", 1, "b", 'c').ToString()"#,
            "a1, b, c",
        ),
        (
            r#"new StringBuilder().AppendJoin("-", new[] { 1, 2, 3 }).ToString()"#,
            "1-2-3",
        ),
        ("new StringBuilder().MaxCapacity", "2147483647"),
        (
            r#"new StringBuilder("ab").Equals(new StringBuilder("ab"))"#,
            "True",
        ),
        (
            r#"new StringBuilder("ab").Equals(new StringBuilder("ac"))"#,
            "False",
        ),
        ("Nullable.Compare<int>(null, 1)", "-1"),
        ("Nullable.Compare<int>(2, 1)", "1"),
        ("Nullable.Compare<int>(null, null)", "0"),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
    no_findings(
        "return Nullable.Compare<int>(1, 2) + new StringBuilder().AppendJoin(\",\", 1, 2).ToString();",
    );
}

// string.Join(",", (int[])Array.CreateInstance(typeof(int), 3)) -> 0,0,0
#[test]
fn array_create_instance() {
    assert_eq!(
        text("string.Join(\",\", (int[])Array.CreateInstance(typeof(int), 3))"),
        "0,0,0"
    );
    assert_eq!(
        text("((string[])Array.CreateInstance(typeof(string), 2))[0] == null"),
        "True"
    );
    assert_eq!(
        kind("Array.CreateInstance(typeof(int), -1)"),
        "ArgumentOutOfRangeException"
    );
    no_findings("return Array.CreateInstance(typeof(int), 2).Length;");
}

// Obsolete serialization members (.NET 8): only a null SerializationInfo can be passed.
// new Dictionary<string, int>().GetObjectData(null, default)  -> ArgumentNullException
// new HashSet<int>().OnDeserialization(null)                   -> (nothing)
#[test]
fn serialization_members() {
    assert_eq!(
        kind(
            "{ new Dictionary<string, int> { { \"a\", 1 } }.GetObjectData(null, null); return 0; }"
        ),
        "ArgumentNullException"
    );
    assert_eq!(
        kind("{ new HashSet<int> { 1 }.GetObjectData(null, null); return 0; }"),
        "ArgumentNullException"
    );
    assert_eq!(
        kind("{ new HashSet<int> { 1 }.GetObjectData(1, null); return 0; }"),
        "InvalidCastException"
    );
    assert_eq!(
        text(
            "{ var d = new Dictionary<string, int> { { \"a\", 1 } }; d.OnDeserialization(null); return d.Count; }"
        ),
        "1"
    );
}

// Mutators on a receiver that is not a variable change a copy: the result is what shows.
// new List<int> { 1, 2 }.Remove(2) -> True
#[test]
fn mutators_on_temporaries() {
    assert_eq!(text("new List<int> { 1, 2 }.Remove(2)"), "True");
    assert_eq!(text("new List<int> { 1, 2, 3 }.RemoveAll(x => x > 1)"), "2");
    assert_eq!(
        text(
            "new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase) { { \"a\", 1 } }.TryAdd(\"A\", 2)"
        ),
        "False"
    );
    assert_eq!(
        kind("{ new List<int> { 1 }.RemoveAt(1); return 0; }"),
        "ArgumentOutOfRangeException"
    );
}

// An enumerator keeps its own position; a queue changed under it invalidates it.
#[test]
fn enumerators() {
    assert_eq!(
        text(
            "{ var e = new List<int> { 1, 2 }.GetEnumerator(); var s = 0; while (e.MoveNext()) s += e.Current; return s; }"
        ),
        "3"
    );
    assert_eq!(
        kind(
            "{ var q = new Queue<int>(); q.Enqueue(1); var e = q.GetEnumerator(); q.Enqueue(2); return e.MoveNext(); }"
        ),
        "InvalidOperationException"
    );
}
