//! Newtonsoft token navigation: `Value<T>()` without a key, `JValue.Value`, `First`/`Last`,
//! `Descendants()`, `JToken.DeepEquals`, and how a `JProperty` and a `KeyValuePair` print.
//! Expected values come from Mono with Debian's Newtonsoft.Json; the C# is the test's input.

use gatehouse_expr::{ExprKind, MapContext, Value, eval, parse};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    let p = parse(src, ExprKind::Single).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    eval(&p, &mut MapContext::new())
}

fn text(src: &str) -> String {
    match run(src) {
        Ok(v) => v.to_display(),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

#[test]
fn value_without_a_key_converts_the_token() {
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":1.5}")["a"].Value<double>()"#),
        "1.5"
    );
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":1}")["a"].Value<string>()"#),
        "1"
    );
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":\"7\"}")["a"].Value<int>() + 1"#),
        "8"
    );
    assert_eq!(
        text(r#"(JObject.Parse("{\"a\":1}")["a"] as JValue).Value"#),
        "1"
    );
}

#[test]
fn first_last_and_descendants() {
    assert_eq!(text(r#"JArray.Parse("[1,2]").First"#), "1");
    assert_eq!(text(r#"JArray.Parse("[1,2]").Last"#), "2");
    assert!(matches!(
        run(r#"JArray.Parse("[]").First"#),
        Ok(Value::Null)
    ));
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":1,\"b\":2}").First.ToString()"#),
        "\"a\": 1"
    );
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":1,\"b\":2}").Last.ToString()"#),
        "\"b\": 2"
    );
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":[1,2]}").Descendants().Count()"#),
        "4"
    );
    assert_eq!(
        text(r#"JObject.Parse("{\"a\":{\"b\":true}}").Descendants().Count()"#),
        "4"
    );
}

#[test]
fn deep_equals_ignores_layout_and_property_order() {
    assert_eq!(
        text(
            r#"JToken.DeepEquals(JToken.Parse("{\"a\":1,\"b\":[2]}"), JToken.Parse("{ \"b\": [2], \"a\" : 1 }"))"#
        ),
        "True"
    );
    assert_eq!(
        text(r#"JToken.DeepEquals(JToken.Parse("[1,2]"), JToken.Parse("[2,1]"))"#),
        "False"
    );
}

#[test]
fn property_and_pair_text() {
    assert_eq!(
        text(r#"new JProperty("n", "v").ToString()"#),
        "\"n\": \"v\""
    );
    assert_eq!(
        text(r#"new KeyValuePair<string, int>("k", 1).ToString()"#),
        "[k, 1]"
    );
}

#[test]
fn a_dictionary_serialises_as_an_object() {
    assert_eq!(
        text(
            r#"JsonConvert.SerializeObject(new Dictionary<string, int> { { "k", 1 }, { "j", 2 } })"#
        ),
        r#"{"k":1,"j":2}"#
    );
    assert_eq!(
        text(r#"JObject.FromObject(new Dictionary<string, string> { { "a", "b" } })["a"]"#),
        "b"
    );
}

/// C# (Newtonsoft 5 under Mono): `j["a"].Replace(5)` gives `{"a":5}`;
/// `ToObject<Dictionary<string, object>>()` has the object's entries; slices select like
/// Newtonsoft's ArraySliceFilter.
#[test]
fn replace_to_object_and_slices() {
    let p = parse(
        r#"var j = JObject.Parse("{\"a\":1,\"b\":[1]}"); j["a"].Replace(5); j["b"][0].Replace("x"); return j.ToString(Newtonsoft.Json.Formatting.None);"#,
        ExprKind::Block,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let v = eval(&p, &mut MapContext::new()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(v.to_display(), r#"{"a":5,"b":["x"]}"#);
    assert_eq!(
        text(
            r#"JObject.Parse("{\"a\":{\"b\":1},\"c\":2}").ToObject<Dictionary<string, object>>().Count"#
        ),
        "2"
    );
    assert_eq!(
        text(r#"string.Join(",", JArray.Parse("[1,2,3,4]").SelectTokens("[-2:]"))"#),
        "3,4"
    );
    assert_eq!(
        text(r#"string.Join(",", JArray.Parse("[1,2,3,4]").SelectTokens("[::-2]"))"#),
        "4,2"
    );
}
