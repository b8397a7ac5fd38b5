//! Issue 9, findings 10–12: what a policy may spend and what its errors may say. Expressions
//! run within a time and a memory budget (a greedy or slow one fails, it does not take the
//! process down or hold its worker); bodies policies build stay within
//! `max_buffered_body_bytes`; error texts never carry secrets.

use gatehouse_policy::document::{Composed, NamedValue, NamedValues, compose, parse_policies};
use gatehouse_policy::pipeline::{Exchange, Message, Outcome, Pipeline, Section, TestExchange};

fn run_now(p: &Pipeline, section: Section, ex: &mut dyn Exchange) -> Outcome {
    futures_util::FutureExt::now_or_never(p.run(section, ex))
        .unwrap_or_else(|| panic!("the {section:?} section waited"))
}

fn composed(xml: &str, named: Option<&NamedValues>) -> Composed {
    let doc = match parse_policies("t.xml", xml, named) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    };
    match compose(Some(&doc), None, None, None) {
        Ok(c) => c,
        Err(e) => panic!("{e:#?}"),
    }
}

/// An inbound section and an on-error that copies LastError into response headers.
fn pipeline_with(inbound: &str, named: Option<&NamedValues>) -> Pipeline {
    let xml = format!(
        r#"<policies><inbound>{inbound}</inbound><backend/><outbound/><on-error>
        <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
        <set-header name="x-message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
        </on-error></policies>"#
    );
    match Pipeline::compile(&composed(&xml, named)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn pipeline(inbound: &str) -> Pipeline {
    pipeline_with(inbound, None)
}

/// Runs inbound, which must fail into on-error; returns (reason, message).
fn failure(p: &Pipeline, ex: &mut TestExchange) -> (String, String) {
    match run_now(p, Section::Inbound, ex) {
        Outcome::Error(last) => {
            let header = |n: &str| ex.header_joined(Message::Response, n).unwrap_or_default();
            // on-error saw the same LastError the pipeline reports.
            assert_eq!(header("x-message"), last.message);
            (last.reason, last.message)
        }
        other => panic!("expected on-error, got {other:?}"),
    }
}

// ------------------------------------------------------------ finding 11: budgets

/// A pipeline whose expression runs out of memory fails into on-error with a LastError that
/// names the budget.
#[test]
fn an_exhausted_budget_fails_the_request_through_on_error() {
    let p = pipeline(
        r#"<set-variable name="x" value="@{ string s = "x"; while (true) { s = s + s; } }" />"#,
    );
    let mut ex = TestExchange::new();
    let (reason, message) = failure(&p, &mut ex);
    assert_eq!(reason, "ExpressionValueEvaluationFailure");
    assert!(message.contains("memory budget"), "{message}");
}

// ------------------------------------------------------------ finding 10: produced bodies

/// find-and-replace that would multiply a body past max_buffered_body_bytes (16 MiB by
/// default) fails the request instead of building it.
#[test]
fn find_and_replace_cannot_build_a_body_past_the_limit() {
    let p = pipeline(r#"<find-and-replace from="a" to="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" />"#);
    let mut ex = TestExchange::new();
    ex.context.body_text("Request", &"a".repeat(1 << 20));
    let (reason, message) = failure(&p, &mut ex);
    assert_eq!(reason, "BodyTooLarge");
    assert!(message.contains("max_buffered_body_bytes"), "{message}");
    assert_eq!(ex.effects.request_body, None, "no body was set");
}

/// json-to-xml repeats a property's name around each item of its array: a short JSON body can
/// convert to a huge XML one, which is refused as it grows.
#[test]
fn json_to_xml_cannot_build_a_body_past_the_limit() {
    let p = pipeline(r#"<json-to-xml apply="always" consider-accept-header="false" />"#);
    let key = "k".repeat(4096);
    let items = vec!["1"; 8192].join(",");
    let mut ex = TestExchange::new();
    ex.context
        .body_text("Request", &format!(r#"{{"{key}":[{items}]}}"#));
    ex.request_headers
        .insert("content-type".into(), vec!["application/json".into()]);
    let (reason, _) = failure(&p, &mut ex);
    assert_eq!(reason, "BodyTooLarge");
}

// ------------------------------------------------------------ finding 12: secrets

/// int.Parse of a secret named value: the runtime error does not echo the input.
#[test]
fn a_parse_error_does_not_echo_a_secret_named_value() {
    let mut named = NamedValues::new();
    named.insert(
        "sek".into(),
        NamedValue {
            value: "s3cr3t-value".into(),
            secret: true,
        },
    );
    let p = pipeline_with(
        r#"<set-variable name="x" value="@(int.Parse("{{sek}}"))" />"#,
        Some(&named),
    );
    let mut ex = TestExchange::new();
    let (_, message) = failure(&p, &mut ex);
    assert!(!message.contains("s3cr3t"), "{message}");
}

/// The same through the Authorization header and the subscription key, and through messages
/// the library cannot help echoing (a thrown exception's text, an unmatched switch value, a
/// missing dictionary key): LastError never shows them.
#[test]
fn last_error_never_carries_credentials() {
    let cases = [
        r#"@(int.Parse(context.Request.Headers.GetValueOrDefault("Authorization", "")))"#,
        r#"@(long.Parse(context.Subscription.Key))"#,
        r#"@(bool.Parse(context.Subscription.Key))"#,
        r#"@(DateTime.Parse(context.Subscription.Key))"#,
        r#"@{ throw new Exception("bad key " + context.Subscription.Key); }"#,
        r#"@{ throw new Exception(context.Request.Headers.GetValueOrDefault("Authorization", "")); }"#,
        r#"@(context.Subscription.Key switch { "x" => 1 })"#,
        r#"@(context.Variables[context.Subscription.Key])"#,
        r#"@(Regex.IsMatch("a", context.Subscription.Key + "("))"#,
    ];
    for value in cases {
        let p = pipeline(&format!(
            r#"<set-variable name="x" value="{}" />"#,
            value.replace('"', "&quot;")
        ));
        let mut ex = TestExchange::new().with_request_header("Authorization", "Bearer t0ken-abc");
        ex.context.set("Subscription.Id", "sub1");
        ex.context.set("Subscription.Key", "k3y-0123456789");
        let (_, message) = failure(&p, &mut ex);
        assert!(
            !message.contains("t0ken-abc") && !message.contains("k3y-0123456789"),
            "{value}: {message}"
        );
    }
}

/// A trace policy's message is scrubbed too.
#[test]
fn trace_output_is_scrubbed() {
    let p = pipeline(
        r#"<trace source="t"><message>@("key=" + context.Subscription.Key)</message></trace>"#,
    );
    let mut ex = TestExchange::new();
    ex.context.set("Subscription.Id", "sub1");
    ex.context.set("Subscription.Key", "k3y-0123456789");
    assert_eq!(run_now(&p, Section::Inbound, &mut ex), Outcome::Continue);
    let traces = &ex.context.traces;
    assert_eq!(traces.len(), 1);
    assert!(!traces[0].1.contains("k3y-0123456789"), "{traces:?}");
}

/// A document whose expression does not compile, with a secret named value substituted into
/// it: the error shows the named value's name, never its value.
#[test]
fn compile_errors_show_the_named_value_not_its_value() {
    let mut named = NamedValues::new();
    named.insert(
        "sek".into(),
        NamedValue {
            value: "s3cr3t value".into(),
            secret: true,
        },
    );
    let xml = r#"<policies><inbound><set-variable name="x" value="@(int.Parse({{sek}}))" /></inbound><backend/><outbound/><on-error/></policies>"#;
    let errors = parse_policies("t.xml", xml, Some(&named)).expect_err("does not parse");
    let text = format!(
        "{errors:?} {}",
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("{{sek}}"), "{text}");
}
