//! Newtonsoft's less common LINQ to JSON pieces (crates/expr/src/library/json_special.rs):
//! what the C# oracle cannot show — that they stay within the evaluation's budgets — and a
//! few results checked under Mono (crates/expr/tests/oracle/expressions-json.txt has the rest).

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind_as;

fn block(src: &str) -> String {
    text_or_kind_as(src, ExprKind::Block)
}

#[test]
fn constructors_raw_and_comments_write_as_newtonsoft() {
    assert_eq!(
        block(r#"return JToken.Parse("{'d': new Date(1, 'x')}").ToString(Formatting.None);"#),
        r#"{"d":new Date(1,"x")}"#
    );
    assert_eq!(
        block(
            r#"return new JArray(new JRaw("[1,  2]"), JValue.CreateComment("c"), 3).ToString(Formatting.None);"#
        ),
        "[[1,  2]/*c*/,3]"
    );
}

#[test]
fn event_handlers_run_in_order_and_may_not_change_their_container() {
    assert_eq!(
        block(
            r#"var log = ""; var a = new JArray(); a.ListChanged += (s, e) => { log += "L"; }; a.CollectionChanged += (s, e) => { log += e.Action; }; a.Add(1); a.Clear(); return log;"#
        ),
        "LAddLReset"
    );
    assert_eq!(
        block(
            r#"var a = new JArray(); a.CollectionChanged += (s, e) => { a.Add(2); }; a.Add(1); return 0;"#
        ),
        "!InvalidOperationException"
    );
}

/// A handler that changes its object again (PropertyChanged does not make the object busy):
/// each handler runs inside the previous one's call, so the call depth stops them rather than
/// the process's stack. (Two arrays adding to each other stop sooner: the first is busy.)
#[test]
fn handlers_that_raise_each_other_are_bounded() {
    let r = block(
        r#"var o = JObject.Parse("{\"x\":0}"); o.PropertyChanged += (s, e) => { o["x"] = (int)o["x"] + 1; }; o["x"] = 1; return (int)o["x"];"#,
    );
    assert_eq!(r, "!InsufficientExecutionStackException");
    let r = block(
        r#"var a = new JArray(); var b = new JArray(); a.CollectionChanged += (s, e) => { b.Add(1); }; b.CollectionChanged += (s, e) => { a.Add(1); }; a.Add(1); return a.Count;"#,
    );
    assert_eq!(r, "!InvalidOperationException");
}

#[test]
fn annotations_and_subscriptions_count_against_the_memory_budget() {
    let r = block(
        r#"var a = new JArray(); for (int i = 0; i < 10000000; i++) { a.AddAnnotation("x"); } return 1;"#,
    );
    assert!(r.starts_with('!'), "{r}");
    // What an annotation holds counts while the token is held, after the locals are counted
    // again too.
    let r = block(
        r#"var a = new JArray(); for (int i = 0; i < 40; i++) { a.AddAnnotation(new string('x', 1000000) + i); } return 1;"#,
    );
    assert_eq!(r, "!OutOfMemoryException");
    let r = block(
        r#"var a = new JArray(); for (int i = 0; i < 10000000; i++) { a.CollectionChanged += (s, e) => { }; } return 1;"#,
    );
    assert!(r.starts_with('!'), "{r}");
}

#[test]
fn a_reader_is_read_once_and_a_writer_adds_copies() {
    assert_eq!(
        block(
            r#"var r = JToken.Parse("{\"a\":1}").CreateReader(); var o = JObject.Load(r); try { JObject.Load(r); } catch (JsonReaderException) { return o.ToString(Formatting.None) + "!"; } return "";"#
        ),
        r#"{"a":1}!"#
    );
    assert_eq!(
        block(
            r#"var a = new JArray(); var t = JToken.Parse("[1]"); t.WriteTo(a.CreateWriter()); t.WriteTo(a.CreateWriter()); return a.ToString(Formatting.None);"#
        ),
        "[[1],[1]]"
    );
}

#[test]
fn policy_check_knows_the_statics() {
    support::no_findings(
        r#"var c = JToken.EqualityComparer; var r = JRaw.Create(JToken.Parse("1").CreateReader()); var v = JValue.CreateComment("c"); var u = JValue.CreateUndefined(); var k = JContainer.Parse("[]"); var l = JObject.Load(JToken.Parse("{}").CreateReader()); var m = JConstructor.DeepEquals(k, k); return JArray.ReadFrom(k.CreateReader());"#,
    );
}

/// Annotations end with their evaluation: two trees annotated with each other are a cycle of
/// strong links that reference counting would never free, so the annotations an evaluation
/// added are dropped when it ends (the fuzzer's LeakSanitizer found the cycle otherwise).
#[test]
fn annotations_end_with_the_evaluation() {
    let src = "var a = new JArray(); var b = new JObject(); a.AddAnnotation(b); b.AddAnnotation(a); \
               return a.Annotation<JObject>().Annotation<JArray>() == a ? (object)a : null;";
    let p = gatehouse_expr::parse(src, ExprKind::Block).expect("parses");
    let v = gatehouse_expr::eval(&p, &mut gatehouse_expr::MapContext::new()).expect("runs");
    let gatehouse_expr::Value::Json(a) = v else {
        panic!("{v:?}")
    };
    assert!(a.annotations().is_empty(), "{:?}", a.annotations());
}
