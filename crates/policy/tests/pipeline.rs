//! The compiled pipeline through its public API: XML → document → composition → compile, run
//! against `TestExchange`, effects asserted.

use std::net::IpAddr;

use gatehouse_policy::document::{Composed, PolicyElement, Value, compose, parse_policies};
use gatehouse_policy::expr::Value as V;
use gatehouse_policy::pipeline::{
    BackendChoice, CompileErrorKind, Exchange, ExistsAction, Message, Outcome, Pipeline, Section,
    TestExchange,
};

/// Runs a section whose policies never wait (no backend, no calls): its future is ready at
/// once.
trait RunNow {
    fn run_now(&self, section: Section, ex: &mut dyn Exchange) -> Outcome;
}

impl RunNow for Pipeline {
    fn run_now(&self, section: Section, ex: &mut dyn Exchange) -> Outcome {
        futures_util::FutureExt::now_or_never(self.run(section, ex))
            .unwrap_or_else(|| panic!("the {section:?} section waited"))
    }
}

fn composed(xml: &str) -> Composed {
    let doc = match parse_policies("t.xml", xml, None) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    };
    match compose(Some(&doc), None, None, None) {
        Ok(c) => c,
        Err(e) => panic!("{e:#?}"),
    }
}

fn pipeline(xml: &str) -> Pipeline {
    match Pipeline::compile(&composed(xml)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn inbound(body: &str) -> Pipeline {
    pipeline(&format!(
        "<policies><inbound>{body}</inbound><backend/><outbound/><on-error/></policies>"
    ))
}

fn ip(s: &str) -> IpAddr {
    match s.parse() {
        Ok(a) => a,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn header(ex: &TestExchange, m: Message, name: &str) -> Option<String> {
    ex.header_joined(m, name)
}

#[test]
fn choose_when_otherwise_and_set_variable() {
    let p = inbound(
        r#"<set-variable name="tier" value="@(context.Request.Headers.GetValueOrDefault("x-tier", "free"))" />
        <choose>
          <when condition="@((string)context.Variables["tier"] == "gold")">
            <set-variable name="limit" value="@(1000)" />
          </when>
          <when condition="@((string)context.Variables["tier"] == "silver")">
            <set-variable name="limit" value="@(100)" />
          </when>
          <otherwise><set-variable name="limit" value="10" /></otherwise>
        </choose>"#,
    );
    let mut gold = TestExchange::new().with_request_header("X-Tier", "gold");
    assert_eq!(p.run_now(Section::Inbound, &mut gold), Outcome::Continue);
    assert!(matches!(gold.variable("limit"), Some(V::Int(1000))));
    let mut silver = TestExchange::new().with_request_header("x-tier", "silver");
    p.run_now(Section::Inbound, &mut silver);
    assert!(matches!(silver.variable("limit"), Some(V::Int(100))));
    let mut free = TestExchange::new();
    p.run_now(Section::Inbound, &mut free);
    assert_eq!(
        free.variable("limit").map(V::to_display).as_deref(),
        Some("10")
    );
    assert_eq!(
        free.variable("tier").map(V::to_display).as_deref(),
        Some("free")
    );
}

#[test]
fn set_header_exists_actions_and_multiple_values() {
    let p = inbound(
        r#"<set-header name="a" exists-action="override"><value>1</value><value>2</value></set-header>
        <set-header name="b" exists-action="skip"><value>new</value></set-header>
        <set-header name="c" exists-action="skip"><value>new</value></set-header>
        <set-header name="d" exists-action="append"><value>more</value></set-header>
        <set-header name="e" exists-action="delete" />
        <set-header name="f"><value>@("computed-" + context.Request.Method)</value></set-header>"#,
    );
    let mut ex = TestExchange::new()
        .with_request_header("a", "old")
        .with_request_header("b", "kept")
        .with_request_header("d", "first")
        .with_request_header("e", "gone");
    assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
    assert_eq!(
        ex.header(Message::Request, "A"),
        Some(vec!["1".into(), "2".into()])
    );
    assert_eq!(header(&ex, Message::Request, "b").as_deref(), Some("kept"));
    assert_eq!(header(&ex, Message::Request, "c").as_deref(), Some("new"));
    assert_eq!(
        header(&ex, Message::Request, "d").as_deref(),
        Some("first,more")
    );
    assert_eq!(header(&ex, Message::Request, "e"), None);
    assert_eq!(
        header(&ex, Message::Request, "f").as_deref(),
        Some("computed-GET")
    );
}

#[test]
fn set_header_in_outbound_targets_the_response() {
    let p = pipeline(
        r#"<policies><inbound/><backend/><outbound>
            <set-header name="x-powered-by" exists-action="delete" />
            <set-header name="x-out"><value>yes</value></set-header>
        </outbound><on-error/></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.response_headers
        .insert("x-powered-by".into(), vec!["asp".into()]);
    p.run_now(Section::Outbound, &mut ex);
    assert_eq!(
        header(&ex, Message::Response, "x-out").as_deref(),
        Some("yes")
    );
    assert_eq!(header(&ex, Message::Response, "x-powered-by"), None);
    assert_eq!(header(&ex, Message::Request, "x-out"), None);
}

#[test]
fn private_endpoint_connection_name_or_public() {
    let p = inbound(
        r#"<set-header name="x-network" exists-action="override">
             <value>@(context.Request.PrivateEndpointConnection?.Name ?? "public")</value>
           </set-header>"#,
    );
    let mut public = TestExchange::new();
    assert_eq!(p.run_now(Section::Inbound, &mut public), Outcome::Continue);
    assert_eq!(
        header(&public, Message::Request, "x-network").as_deref(),
        Some("public")
    );

    let mut private = TestExchange::new();
    private
        .context
        .set("Request.PrivateEndpointConnection.Name", "pe-west");
    assert_eq!(p.run_now(Section::Inbound, &mut private), Outcome::Continue);
    assert_eq!(
        header(&private, Message::Request, "x-network").as_deref(),
        Some("pe-west")
    );
}

#[test]
fn set_query_parameter_actions() {
    let p = inbound(
        r#"<set-query-parameter name="api-version" exists-action="skip"><value>2024-01-01</value></set-query-parameter>
        <set-query-parameter name="tag" exists-action="append"><value>b</value></set-query-parameter>
        <set-query-parameter name="debug" exists-action="delete" />"#,
    );
    let mut ex = TestExchange::new();
    ex.query.insert("tag".into(), vec!["a".into()]);
    ex.query.insert("debug".into(), vec!["1".into()]);
    p.run_now(Section::Inbound, &mut ex);
    assert_eq!(
        ex.query_parameter("api-version"),
        Some(vec!["2024-01-01".into()])
    );
    assert_eq!(
        ex.query_parameter("tag"),
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(ex.query_parameter("debug"), None);
}

#[test]
fn set_status_method_body_backend_and_rewrite() {
    let p = inbound(
        r#"<set-method>POST</set-method>
        <set-body>@("{\"id\": \"" + context.Request.MatchedParameters["id"] + "\"}")</set-body>
        <set-backend-service base-url="https://backend.example/v2" />
        <rewrite-uri template="/items/{id}?view=full" copy-unmatched-params="false" />
        <set-status code="202" reason="Queued" />"#,
    );
    let mut ex = TestExchange::new();
    ex.context.entry("Request.MatchedParameters", "id", "42");
    assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
    assert_eq!(ex.method, "POST");
    assert_eq!(ex.effects.request_body.as_deref(), Some(r#"{"id": "42"}"#));
    assert_eq!(
        ex.effects.backend,
        Some(BackendChoice::Url("https://backend.example/v2".into()))
    );
    assert_eq!(
        ex.effects.rewritten_uri,
        Some(("/items/42?view=full".into(), false))
    );
    assert_eq!(ex.effects.status, Some((202, "Queued".into())));
}

#[test]
fn rewrite_uri_copies_unmatched_params_by_default() {
    let p = inbound(r#"<rewrite-uri template="@("/v" + 2 + "/orders")" />"#);
    let mut ex = TestExchange::new();
    p.run_now(Section::Inbound, &mut ex);
    assert_eq!(ex.effects.rewritten_uri, Some(("/v2/orders".into(), true)));
}

#[test]
fn return_response_ends_the_pipeline() {
    let p = inbound(
        r#"<return-response>
             <set-status code="418" reason="I'm a teapot" />
             <set-header name="Content-Type" exists-action="override"><value>text/plain</value></set-header>
             <set-body>@("short and " + "stout")</set-body>
           </return-response>
           <set-variable name="after" value="ran" />"#,
    );
    let mut ex = TestExchange::new();
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut ex) else {
        panic!("expected a response");
    };
    assert_eq!((r.status, r.reason.as_str()), (418, "I'm a teapot"));
    assert_eq!(r.header("content-type"), vec!["text/plain"]);
    assert_eq!(r.body.as_deref(), Some("short and stout"));
    assert!(
        ex.variable("after").is_none(),
        "steps after return-response must not run"
    );
}

#[test]
fn mock_response_status_and_content_type() {
    let p = inbound(r#"<mock-response status-code="201" content-type="application/xml" />"#);
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut TestExchange::new()) else {
        panic!("expected a response");
    };
    assert_eq!((r.status, r.reason.as_str()), (201, "Created"));
    assert_eq!(r.header("Content-Type"), vec!["application/xml"]);

    let p = inbound("<mock-response />");
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut TestExchange::new()) else {
        panic!("expected a response");
    };
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), vec!["application/json"]);
}

const IP_ON_ERROR: &str = r#"<on-error>
    <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
    <set-header name="x-message" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
</on-error>"#;

fn ip_pipeline(filter: &str) -> Pipeline {
    pipeline(&format!(
        "<policies><inbound>{filter}<set-variable name=\"passed\" value=\"yes\" /></inbound><backend/><outbound/>{IP_ON_ERROR}</policies>"
    ))
}

#[test]
fn ip_filter_allow_with_addresses_and_ranges() {
    let p = ip_pipeline(
        r#"<ip-filter action="allow">
             <address>13.66.201.169</address>
             <address-range from="10.0.0.0" to="10.0.255.255" />
             <address-range from="2001:db8::" to="2001:db8::ffff" />
           </ip-filter>"#,
    );
    for allowed in [
        "13.66.201.169",
        "10.0.3.4",
        "::ffff:10.0.0.1",
        "2001:db8::12",
    ] {
        let mut ex = TestExchange::new().with_client_ip(ip(allowed));
        assert_eq!(
            p.run_now(Section::Inbound, &mut ex),
            Outcome::Continue,
            "{allowed}"
        );
        assert!(ex.variable("passed").is_some());
    }
    let mut ex = TestExchange::new().with_client_ip(ip("10.1.0.1"));
    let Outcome::Error(e) = p.run_now(Section::Inbound, &mut ex) else {
        panic!("expected the on-error path");
    };
    assert_eq!(e.source, "ip-filter");
    assert_eq!(e.reason, "CallerIpNotAllowed");
    assert_eq!(
        e.message,
        "Caller IP address 10.1.0.1 is not allowed. Access denied."
    );
    assert_eq!(e.section, "inbound");
    assert_eq!(ex.effects.status, Some((403, "Forbidden".into())));
    assert_eq!(
        header(&ex, Message::Response, "x-reason").as_deref(),
        Some("CallerIpNotAllowed")
    );
    assert!(ex.variable("passed").is_none());
}

#[test]
fn ip_filter_forbid() {
    let p = ip_pipeline(
        r#"<ip-filter action="forbid">
             <address-range from="192.168.0.10" to="192.168.0.20" />
             <address>::1</address>
           </ip-filter>"#,
    );
    for blocked in ["192.168.0.10", "192.168.0.15", "192.168.0.20", "::1"] {
        let mut ex = TestExchange::new().with_client_ip(ip(blocked));
        let Outcome::Error(e) = p.run_now(Section::Inbound, &mut ex) else {
            panic!("{blocked} should be blocked");
        };
        assert_eq!(e.reason, "CallerIpBlocked");
        assert_eq!(e.message, "Caller IP address is blocked. Access denied.");
        assert_eq!(ex.effects.status.as_ref().map(|s| s.0), Some(403));
        assert_eq!(
            header(&ex, Message::Response, "x-message").as_deref(),
            Some("Caller IP address is blocked. Access denied.")
        );
    }
    for ok in ["192.168.0.9", "192.168.0.21", "127.0.0.1"] {
        let mut ex = TestExchange::new().with_client_ip(ip(ok));
        assert_eq!(
            p.run_now(Section::Inbound, &mut ex),
            Outcome::Continue,
            "{ok}"
        );
    }
}

#[test]
fn ip_filter_rejects_bad_addresses_at_compile() {
    let c = composed(
        r#"<policies><inbound><ip-filter action="allow"><address>10.0.0.300</address></ip-filter></inbound></policies>"#,
    );
    let Err(e) = Pipeline::compile(&c) else {
        panic!("expected a compile error");
    };
    assert_eq!(e.kind, CompileErrorKind::Attribute);
    assert!(e.message.contains("10.0.0.300"), "{e}");
}

#[test]
fn check_header_presence_values_and_ignore_case() {
    let p = inbound(
        r#"<check-header name="x-client" failed-check-httpcode="401" failed-check-error-message="Not allowed" ignore-case="true">
             <value>Alpha</value><value>beta</value>
           </check-header>"#,
    );
    let mut ok = TestExchange::new().with_request_header("X-Client", "ALPHA");
    assert_eq!(p.run_now(Section::Inbound, &mut ok), Outcome::Continue);

    let mut missing = TestExchange::new();
    let Outcome::Error(e) = p.run_now(Section::Inbound, &mut missing) else {
        panic!("expected failure");
    };
    assert_eq!(e.reason, "HeaderNotFound");
    assert_eq!(
        e.message,
        "Header x-client was not found in the request. Access denied."
    );
    assert_eq!(missing.effects.status, Some((401, "Unauthorized".into())));
    assert_eq!(
        missing.effects.response_body.as_deref(),
        // APIM's order, statusCode first (crates/policy/src/pipeline/jwt/mod.rs).
        Some(r#"{"statusCode":401,"message":"Not allowed"}"#)
    );

    let mut wrong = TestExchange::new().with_request_header("x-client", "gamma");
    let Outcome::Error(e) = p.run_now(Section::Inbound, &mut wrong) else {
        panic!("expected failure");
    };
    assert_eq!(e.reason, "HeaderValueNotAllowed");
    assert_eq!(
        e.message,
        "Header x-client value of gamma is not allowed. Access denied."
    );

    let strict = inbound(
        r#"<check-header name="x-client" failed-check-httpcode="403" failed-check-error-message="no" ignore-case="false"><value>Alpha</value></check-header>"#,
    );
    let mut ex = TestExchange::new().with_request_header("x-client", "alpha");
    assert!(matches!(
        strict.run_now(Section::Inbound, &mut ex),
        Outcome::Error(_)
    ));
    assert_eq!(ex.effects.status.as_ref().map(|s| s.0), Some(403));
}

#[test]
fn trace_records_and_set_body_outbound() {
    let p = pipeline(
        r#"<policies><inbound>
             <trace source="gate" severity="information"><message>@("method " + context.Request.Method)</message></trace>
           </inbound><backend/><outbound><set-body>done</set-body></outbound><on-error/></policies>"#,
    );
    let mut ex = TestExchange::new();
    p.run_now(Section::Inbound, &mut ex);
    assert_eq!(
        ex.context.traces,
        vec![("gate".to_string(), "method GET".to_string())]
    );
    p.run_now(Section::Outbound, &mut ex);
    assert_eq!(ex.effects.response_body.as_deref(), Some("done"));
    assert_eq!(ex.effects.request_body, None);
}

#[test]
fn expression_failure_goes_to_on_error_with_last_error() {
    let p = pipeline(
        r#"<policies>
  <inbound>
    <choose>
      <when condition="@(true)">
        <set-header name="x-n" exists-action="override"><value>@(int.Parse("not a number").ToString())</value></set-header>
      </when>
    </choose>
    <set-variable name="after" value="ran" />
  </inbound>
  <backend/><outbound/>
  <on-error>
    <set-variable name="source" value="@(context.LastError.Source)" />
    <set-variable name="reason" value="@(context.LastError.Reason)" />
    <set-variable name="section" value="@(context.LastError.Section)" />
    <set-variable name="path" value="@(context.LastError.Path)" />
    <set-body>@(context.LastError.Message)</set-body>
    <set-status code="502" reason="Bad Gateway" />
  </on-error>
</policies>"#,
    );
    let mut ex = TestExchange::new();
    let Outcome::Error(e) = p.run_now(Section::Inbound, &mut ex) else {
        panic!("expected the on-error path");
    };
    assert_eq!(e.source, "set-header");
    assert_eq!(e.reason, "ExpressionValueEvaluationFailure");
    assert!(
        e.message.starts_with("Expression evaluation failed. "),
        "{}",
        e.message
    );
    assert_eq!(e.path, "policies/inbound/choose/when/set-header");
    let var = |n: &str| ex.variable(n).map(V::to_display);
    assert_eq!(var("source").as_deref(), Some("set-header"));
    assert_eq!(
        var("reason").as_deref(),
        Some("ExpressionValueEvaluationFailure")
    );
    assert_eq!(var("section").as_deref(), Some("inbound"));
    assert_eq!(var("path"), Some(e.path.clone()));
    assert_eq!(
        ex.effects.response_body.as_deref(),
        Some(e.message.as_str())
    );
    assert_eq!(
        ex.effects.status,
        Some((502, "Bad Gateway".into())),
        "on-error overrides the preset 500"
    );
    assert!(var("after").is_none());
}

#[test]
fn failure_without_on_error_presets_500_and_on_error_return_response_wins() {
    let p = inbound(r#"<set-variable name="x" value="@(((string)null).Length)" />"#);
    let mut ex = TestExchange::new();
    assert!(matches!(
        p.run_now(Section::Inbound, &mut ex),
        Outcome::Error(_)
    ));
    assert_eq!(
        ex.effects.status,
        Some((500, "Internal Server Error".into()))
    );

    let p = pipeline(
        r#"<policies><inbound><set-variable name="x" value="@(((string)null).Length)" /></inbound>
           <on-error><return-response><set-status code="503" /></return-response></on-error></policies>"#,
    );
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut TestExchange::new()) else {
        panic!("expected on-error's response");
    };
    assert_eq!((r.status, r.reason.as_str()), (503, "Service Unavailable"));
}

#[test]
fn a_failure_inside_on_error_ends_with_500() {
    let p = pipeline(
        r#"<policies><inbound><set-status code="@("abc")" /></inbound>
           <on-error><set-variable name="y" value="@(int.Parse("x"))" /></on-error></policies>"#,
    );
    let mut ex = TestExchange::new();
    let Outcome::Error(e) = p.run_now(Section::Inbound, &mut ex) else {
        panic!("expected failure");
    };
    assert_eq!(e.section, "on-error");
    assert_eq!(e.source, "set-variable");
    assert_eq!(ex.effects.status.as_ref().map(|s| s.0), Some(500));
}

#[test]
fn unsupported_policies_are_compile_errors_naming_them() {
    let c = composed(
        r#"<policies><inbound/><backend><forward-request http-version="2" /></backend></policies>"#,
    );
    let Err(e) = Pipeline::compile(&c) else {
        panic!("forward-request http-version must not be silently skipped");
    };
    assert_eq!(e.kind, CompileErrorKind::Unsupported);
    assert_eq!(e.policy, "forward-request");
    assert_eq!(e.path, "policies/backend/forward-request");

    let mut c = Composed::default();
    c.outbound.push(PolicyElement {
        name: "log-to-eventhub".into(),
        attributes: vec![("logger-id".into(), Value::literal("x"))],
        children: vec![],
        position: (3, 5),
        path: "policies/outbound/log-to-eventhub".into(),
    });
    let Err(e) = Pipeline::compile(&c) else {
        panic!("expected a compile error");
    };
    assert_eq!(
        (e.policy.as_str(), e.line, e.column),
        ("log-to-eventhub", 3, 5)
    );
    assert!(e.to_string().contains("log-to-eventhub"));

    let c = composed(
        r#"<policies><inbound><set-backend-service sf-resolve-condition="@(true)" base-url="http://x" /></inbound></policies>"#,
    );
    assert!(matches!(
        Pipeline::compile(&c),
        Err(e) if e.kind == CompileErrorKind::Unsupported && e.message.contains("sf-resolve-condition")
    ));
}

#[test]
fn set_backend_service_by_id_or_url() {
    let p = inbound(r#"<set-backend-service backend-id="@("b" + "1")" />"#);
    let mut ex = TestExchange::new();
    assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
    assert_eq!(ex.effects.backend, Some(BackendChoice::Id("b1".into())));
    let both = composed(
        r#"<policies><inbound><set-backend-service backend-id="b1" base-url="http://x" /></inbound></policies>"#,
    );
    let err = Pipeline::compile(&both).expect_err("both");
    assert_eq!(err.kind, CompileErrorKind::Attribute);
}

#[test]
fn expressions_are_compiled_once_up_front() {
    let mut c = Composed::default();
    c.inbound.push(PolicyElement {
        name: "set-variable".into(),
        attributes: vec![
            ("name".into(), Value::literal("v")),
            (
                "value".into(),
                Value::Expression {
                    kind: gatehouse_policy::document::ExprKind::Single,
                    source: "1 +".into(),
                    position: (1, 1),
                    secret: false,
                },
            ),
        ],
        children: vec![],
        position: (1, 1),
        path: "policies/inbound/set-variable".into(),
    });
    let Err(e) = Pipeline::compile(&c) else {
        panic!("a broken expression must fail at compile");
    };
    assert_eq!(e.kind, CompileErrorKind::Expression);
}

#[test]
fn exists_action_semantics() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ExistsAction::Override.apply(Some(v(&["a"])), v(&["b"])),
        Some(v(&["b"]))
    );
    assert_eq!(
        ExistsAction::Skip.apply(Some(v(&["a"])), v(&["b"])),
        Some(v(&["a"]))
    );
    assert_eq!(ExistsAction::Skip.apply(None, v(&["b"])), Some(v(&["b"])));
    assert_eq!(
        ExistsAction::Append.apply(Some(v(&["a"])), v(&["b"])),
        Some(v(&["a", "b"]))
    );
    assert_eq!(ExistsAction::Append.apply(None, v(&["b"])), Some(v(&["b"])));
    assert_eq!(ExistsAction::Delete.apply(Some(v(&["a"])), v(&[])), None);
}

#[test]
fn forward_request_attributes_compile_and_bad_values_are_refused() {
    pipeline(
        "<policies><inbound /><backend><forward-request /></backend><outbound /><on-error /></policies>",
    );
    pipeline(
        r#"<policies><inbound /><backend><forward-request timeout="5" follow-redirects="true" buffer-request-body="true" buffer-response="false" fail-on-error-status-code="true" /></backend><outbound /><on-error /></policies>"#,
    );
    for bad in [
        r#"timeout="soon""#,
        r#"timeout="-1""#,
        r#"follow-redirects="yes""#,
    ] {
        let xml = format!(
            "<policies><inbound /><backend><forward-request {bad} /></backend><outbound /><on-error /></policies>"
        );
        // Refused by the document schema or by the compiler; either names the policy.
        let message = match parse_policies("t.xml", &xml, None) {
            Err(errors) => format!("{errors:?}"),
            Ok(doc) => match compose(Some(&doc), None, None, None) {
                Ok(c) => Pipeline::compile(&c).expect_err(bad).to_string(),
                Err(e) => format!("{e:?}"),
            },
        };
        assert!(message.contains("forward-request"), "{bad}: {message}");
    }
}
