//! `policy check` accepts the C# statements and syntax APIM accepts (try/catch/finally, throw,
//! using, foreach over dictionaries, tuples, patterns, interpolation with alignment, Unicode
//! whitespace) and still reports what gatehouse cannot run.

use gatehouse_policy::document::{ErrorKind, check_source};

const POLICY: &str = "<policies>
    <inbound>
        <base />
        <set-variable name=\"id\" value=\"@{
            try {
                var n = int.Parse(context.Request.Headers.GetValueOrDefault(&quot;X-Id&quot;, &quot;x&quot;));
                return n &gt; 0 ? n : throw new ArgumentOutOfRangeException(&quot;X-Id&quot;);
            } catch (FormatException) {
                return -1;
            } catch (Exception ex) when (ex is ArgumentException) {
                return -2;
            } finally {
                context.Trace(&quot;id&quot;, &quot;parsed&quot;);
            }
        }\" />
        <set-variable name=\"h\" value=\"@{
            var\u{a0}sb = new System.Text.StringBuilder();
            foreach (var (k, v) in context.Request.Headers) { sb.Append($&quot;{k,-10}|{v}&quot;); }
            var t = (count: context.Request.Headers.Count, text: sb.ToString());
            var (c, _) = t;
            using (var h = new HMACSHA256(new byte[] { 1 })) { }
            object o = c;
            if (o is int i &amp;&amp; i &gt;= 0) { return $&quot;{t.text}{i,3:D2}{nameof(o)}&quot;; }
            try { throw new InvalidOperationException(&quot;x&quot;); } catch { throw; }
        }\" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>";

#[test]
fn statements_and_syntax_pass_policy_check() {
    let r = check_source(std::path::Path::new("t.xml"), POLICY);
    assert!(r.ok, "{:?}", r.errors);
    // Still reported: an unsupported member inside a catch block.
    let bad = POLICY.replace("return -1;", "return char.IsAsciiHexDigit('1') ? 1 : -1;");
    let r = check_source(std::path::Path::new("t.xml"), &bad);
    assert!(!r.ok);
    assert!(
        r.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Unsupported && e.message.contains("char.IsAsciiHexDigit")),
        "{:?}",
        r.errors
    );
    // And an unsupported statement.
    let bad = POLICY.replace("var (c, _) = t;", "var c = 0; goto done;");
    let r = check_source(std::path::Path::new("t.xml"), &bad);
    assert!(!r.ok);
}

// ------------------------------------------------------------ at run time, in a pipeline

use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::pipeline::{Message, Outcome, Pipeline, Section, TestExchange};

/// An inbound section and an on-error that copies LastError into response headers.
fn pipeline(inbound: &str) -> Pipeline {
    let xml = format!(
        r#"<policies><inbound>{inbound}</inbound><backend/><outbound/><on-error>
        <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
        <set-header name="x-message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
        </on-error></policies>"#
    );
    let doc = parse_policies("t.xml", &xml, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let c = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:#?}"));
    Pipeline::compile(&c).unwrap_or_else(|e| panic!("{e}"))
}

fn run(p: &Pipeline, ex: &mut TestExchange) -> Outcome {
    futures_util::FutureExt::now_or_never(p.run(Section::Inbound, ex))
        .unwrap_or_else(|| panic!("the inbound section waited"))
}

#[test]
fn an_uncaught_exception_is_an_expression_evaluation_failure() {
    let p = pipeline(
        r#"<set-variable name="x" value="@{ try { int.Parse(&quot;x&quot;); } catch (FormatException e) { throw new InvalidOperationException(&quot;no id: &quot; + e.Message); } return 1; }" />"#,
    );
    let mut ex = TestExchange::new();
    match run(&p, &mut ex) {
        Outcome::Error(last) => {
            assert_eq!(last.reason, "ExpressionValueEvaluationFailure");
            assert!(
                last.message
                    .contains("no id: Input string was not in a correct format."),
                "{}",
                last.message
            );
            let reason = ex.header_joined(Message::Response, "x-reason");
            assert_eq!(reason.as_deref(), Some("ExpressionValueEvaluationFailure"));
        }
        other => panic!("expected on-error, got {other:?}"),
    }
}

#[test]
fn a_caught_exception_does_not_fail_the_request_but_a_budget_still_does() {
    let p = pipeline(
        r#"<set-header name="x-id" exists-action="override"><value>@{ try { return int.Parse(&quot;x&quot;).ToString(); } catch (Exception e) when (e is FormatException) { return e.GetType().Name; } }</value></set-header>"#,
    );
    let mut ex = TestExchange::new();
    assert!(!matches!(run(&p, &mut ex), Outcome::Error(_)));
    assert_eq!(
        ex.header_joined(Message::Request, "x-id").as_deref(),
        Some("FormatException")
    );
    let p = pipeline(
        r#"<set-variable name="x" value="@{ string s = &quot;x&quot;; try { while (true) { s = s + s; } } catch (Exception) { return &quot;swallowed&quot;; } }" />"#,
    );
    let mut ex = TestExchange::new();
    match run(&p, &mut ex) {
        Outcome::Error(last) => {
            assert_eq!(last.reason, "ExpressionValueEvaluationFailure");
            assert!(last.message.contains("memory budget"), "{}", last.message);
        }
        other => panic!("expected on-error, got {other:?}"),
    }
}
