//! Newtonsoft JSON tokens as a tree with identity and parent links (crates/expr/src/jtree.rs):
//! a token taken from a document is that document's, so changes through it show in the
//! document; `Parent`, `Root`, `Path`, siblings; `Remove`, `Replace`, adding copies of tokens
//! that already have a parent. Expected values are Newtonsoft's (Mono's Newtonsoft.Json through
//! crates/expr/tests/oracle, and Newtonsoft 13's source for members Newtonsoft 6 lacks).

mod support;

use gatehouse_expr::{ExprKind, Limits, MapContext, eval_with, parse};
use support::{kind_of, run_in, text_of, text_or_kind};

fn body_ctx() -> MapContext {
    let mut c = MapContext::new();
    c.body_text(
        "Request",
        r#"{"items":[{"id":1},{"id":2}],"meta":{"count":0},"secret":"s","_x":1,"n":{"_y":2,"z":3}}"#,
    );
    c
}

fn text_in(src: &str) -> String {
    let mut c = body_ctx();
    text_of(src, run_in(src, &mut c))
}

#[test]
fn the_briefs_policy_changes_the_document_through_its_tokens() {
    let src = r#"{
        var body = context.Request.Body.As<JObject>();
        var items = (JArray)body["items"];
        items.Add(new JObject(new JProperty("id", 3)));
        body["meta"]["count"] = items.Count;
        body.SelectToken("$.secret")?.Parent.Remove();
        foreach (var t in body.Descendants().OfType<JProperty>().Where(p => p.Name.StartsWith("_")).ToList()) t.Remove();
        return body.ToString(Formatting.None);
    }"#;
    assert_eq!(
        text_in(src),
        r#"{"items":[{"id":1},{"id":2},{"id":3}],"meta":{"count":3},"n":{"z":3}}"#
    );
}

#[test]
fn a_token_is_shared_by_every_reference_to_it() {
    assert_eq!(
        text_in(
            r#"{ var o = JObject.Parse("{\"a\":{\"b\":1}}"); var a = (JObject)o["a"]; a["c"] = 2; return o.ToString(Formatting.None); }"#
        ),
        r#"{"a":{"b":1,"c":2}}"#
    );
    let src = r#"{
        var o = JObject.Parse("{\"a\":{\"b\":1}}");
        var a = o["a"];
        var same = a == o["a"];
        var copy = a.DeepClone();
        return same + " " + (copy == a) + " " + JToken.DeepEquals(copy, a);
    }"#;
    assert_eq!(text_in(src), "True False True");
}

#[test]
fn adding_a_token_that_has_a_parent_adds_a_copy() {
    let src = r#"{
        var o = JObject.Parse("{\"a\":{\"b\":1}}");
        var arr = new JArray(o["a"]);
        ((JObject)arr[0])["b"] = 5;
        o["self"] = o;
        return o.ToString(Formatting.None) + " " + arr.ToString(Formatting.None);
    }"#;
    assert_eq!(
        text_in(src),
        r#"{"a":{"b":1},"self":{"a":{"b":1}}} [{"b":5}]"#
    );
}

#[test]
fn parent_root_path_and_siblings() {
    let doc = r#"JObject.Parse("{\"a\":[{\"b c\":1},{\"d\":[true]}],\"e\":2}")"#;
    let cases = [
        (r#"["a"][1]["d"][0].Path"#, "a[1].d[0]"),
        (r#"["a"][0]["b c"].Path"#, "a[0]['b c']"),
        (r#"["a"].Parent.Type"#, "Property"),
        (r#"["a"][0].Root.Type"#, "Object"),
        (r#"["a"][0].Next.Path"#, "a[1]"),
        (r#"["a"][1].Previous.Path"#, "a[0]"),
        (r#"["a"][1].Next == null"#, "True"),
        (r#"["a"].Next == null"#, "True"),
        (r#".Property("a").Next.ToString()"#, "\"e\": 2"),
        (r#".Property("e").Previous.Path"#, "a"),
        (r#"["a"][0].Parent.Parent.Path"#, "a"),
        (r#".Path"#, ""),
    ];
    for (tail, want) in cases {
        let src = format!("{doc}{tail}");
        assert_eq!(text_or_kind(&src), want, "{src}");
    }
}

#[test]
fn remove_and_replace() {
    let src = r#"{
        var o = JObject.Parse("{\"a\":[1,2,3],\"b\":{\"c\":1}}");
        o["a"][1].Remove();
        o["b"]["c"].Replace(new JArray(7));
        o.Property("b").AddAfterSelf(new JProperty("z", 0));
        ((JArray)o["a"]).Insert(0, 9);
        o["a"].Last.AddBeforeSelf("x");
        return o.ToString(Formatting.None);
    }"#;
    assert_eq!(text_in(src), r#"{"a":[9,1,"x",3],"b":{"c":[7]},"z":0}"#);
    // A token without a parent has nothing to leave.
    let mut c = body_ctx();
    let lone = r#"{ var v = new JValue(1); v.Remove(); return v; }"#;
    assert_eq!(
        kind_of(lone, run_in(lone, &mut c)),
        "InvalidOperationException"
    );
    // A property's value cannot leave the property.
    let value = r#"{ var o = JObject.Parse("{\"a\":1}"); o["a"].Remove(); return o; }"#;
    assert_eq!(kind_of(value, run_in(value, &mut c)), "JsonException");
}

#[test]
fn property_members_and_value_setters() {
    let src = r#"{
        var o = JObject.Parse("{\"a\":1,\"b\":\"x\"}");
        var p = o.Property("a");
        p.Value = new JArray(1, 2);
        ((JValue)o["b"]).Value = "y";
        return p.Name + " " + p.Value.Type + " " + o.ToString(Formatting.None);
    }"#;
    assert_eq!(text_in(src), r#"a Array {"a":[1,2],"b":"y"}"#);
    let dup = r#"{ var o = new JObject(); o.Add("a", 1); o.Add("a", 2); return o; }"#;
    let mut c = body_ctx();
    assert_eq!(kind_of(dup, run_in(dup, &mut c)), "ArgumentException");
}

#[test]
fn trees_stay_shallow_enough_to_print_and_drop() {
    let src = r#"{
        JToken cur = new JArray();
        for (var i = 0; i < 5000; i++) { var next = new JArray(); next.Add(cur); cur = next; }
        return cur.ToString().Length;
    }"#;
    // Building a chain costs time in proportion to its size at each step (each addition is
    // measured for the memory budget): a larger time budget lets it reach the depth bound.
    let limits = Limits {
        time: std::time::Duration::from_secs(30),
        ..Limits::default()
    };
    let p = parse(
        src.trim().trim_start_matches('{').trim_end_matches('}'),
        ExprKind::Block,
    )
    .expect("parses");
    let r = eval_with(&p, &mut body_ctx(), &limits);
    assert_eq!(kind_of(src, r), "InsufficientExecutionStackException");
}

#[test]
fn siblings_ancestors_and_sequences() {
    let cases = [
        (r#"JArray.Parse("[1,2,3]")[1].AfterSelf().Count()"#, "1"),
        (r#"JArray.Parse("[1,2,3]")[1].BeforeSelf().First()"#, "1"),
        (
            r#"JObject.Parse("{\"a\":{\"b\":[1]}}")["a"]["b"][0].Ancestors().Count()"#,
            "5",
        ),
        (
            r#"JObject.Parse("{\"a\":{\"b\":[1]}}").DescendantsAndSelf().Count()"#,
            "6",
        ),
        (
            r#"JObject.Parse("{\"a\":1,\"b\":2}").PropertyValues().Count()"#,
            "2",
        ),
        (
            r#"JArray.Parse("[[1,2],[3]]").Children().Values<int>().Sum()"#,
            "6",
        ),
        (
            r#"JArray.Parse("[[1,2],[3]]").Children().Children().Count()"#,
            "3",
        ),
        (
            r#"JObject.Parse("{\"Ab\":1}").GetValue("ab", StringComparison.OrdinalIgnoreCase)"#,
            "1",
        ),
        (r#"JObject.Parse("{\"Ab\":1}").GetValue("ab")"#, ""),
        (r#"new JValue("b").CompareTo(new JValue("abc"))"#, "1"),
        (r#"new JValue("abc").CompareTo(new JValue("ab"))"#, "1"),
        (r#"new JValue(1).CompareTo(new JValue(2))"#, "-1"),
        (
            r#"JObject.DeepEquals(JObject.Parse("{\"a\":1}"), JObject.Parse("{\"a\":1.0}"))"#,
            "False",
        ),
        (r#"JValue.CreateNull().Type"#, "Null"),
        (
            r#"JArray.Parse("[1,2]")[5]"#,
            "!ArgumentOutOfRangeException",
        ),
        (r#"new JValue(1).First"#, "!InvalidOperationException"),
    ];
    for (src, want) in cases {
        assert_eq!(text_or_kind(src), want, "{src}");
    }
    let src = r#"{
        var a = JArray.Parse("[1,2,3]");
        var two = a[1];
        return a.IndexOf(two) + " " + a.Contains(two) + " " + a.IndexOf(new JValue(2));
    }"#;
    assert_eq!(text_in(src), "1 True -1");
    let src = r#"{
        var o = new JObject();
        var v = new JValue(1);
        o["a"] = v;
        o["b"] = v;
        return (o["a"] == v) + " " + (o["b"] == v);
    }"#;
    assert_eq!(text_in(src), "True False");
}
