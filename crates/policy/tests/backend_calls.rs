//! The policies that wait: forward-request in the backend section, retry, send-request,
//! send-one-way-request, wait (all/any) and limit-concurrency — run against a scripted backend
//! (`TestExchange::backend`) and scripted HTTP clients.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::expr::Value;
use gatehouse_policy::http::{
    FnClient, HttpClient, HttpError, HttpFuture, HttpRequest, HttpResponse,
};
use gatehouse_policy::pipeline::{
    BackendFailure, Message, Outcome, Pipeline, Response, Section, TestExchange,
};

fn pipeline(xml: &str) -> Pipeline {
    let doc = parse_policies("test.xml", xml, None).unwrap_or_else(|e| panic!("{xml}: {e:?}"));
    let composed = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:?}"));
    Pipeline::compile(&composed).unwrap_or_else(|e| panic!("{e}"))
}

fn answer(status: u16, body: &str) -> Result<Response, BackendFailure> {
    let mut r = Response::ok();
    r.status = status;
    r.body = Some(body.to_string());
    Ok(r)
}

fn unreachable() -> Result<Response, BackendFailure> {
    Err(BackendFailure {
        reason: "BackendConnectionFailure".into(),
        message: "connection refused".into(),
        status: 502,
    })
}

fn status(ex: &TestExchange) -> Option<u16> {
    ex.effects.status.as_ref().map(|s| s.0)
}

#[tokio::test]
async fn forward_request_sends_what_inbound_left_and_outbound_sees_the_answer() {
    let p = pipeline(
        r#"<policies>
            <inbound><set-header name="x-in" exists-action="override"><value>1</value></set-header></inbound>
            <backend><forward-request timeout="7" /></backend>
            <outbound><set-header name="x-status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header></outbound>
        </policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.backend.push_back(answer(201, "made"));
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    assert_eq!(p.run(Section::Backend, &mut ex).await, Outcome::Continue);
    assert_eq!(p.run(Section::Outbound, &mut ex).await, Outcome::Continue);
    assert_eq!(ex.forwarded.len(), 1);
    assert_eq!(
        ex.forwarded[0].headers.get("x-in"),
        Some(&vec!["1".to_string()])
    );
    assert_eq!(
        ex.forwarded[0].options.timeout,
        Some(Duration::from_secs(7))
    );
    assert_eq!(status(&ex), Some(201));
    assert_eq!(
        ex.header_joined(Message::Response, "x-status").as_deref(),
        Some("201")
    );
}

#[tokio::test]
async fn retry_sends_again_while_the_condition_holds() {
    let p = pipeline(
        r#"<policies><inbound/><backend>
            <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="0">
                <forward-request />
            </retry>
        </backend></policies>"#,
    );
    let mut ex = TestExchange::new();
    for a in [answer(500, ""), answer(503, ""), answer(200, "ok")] {
        ex.backend.push_back(a);
    }
    assert_eq!(p.run(Section::Backend, &mut ex).await, Outcome::Continue);
    assert_eq!(ex.forwarded.len(), 3);
    assert_eq!(status(&ex), Some(200));
}

#[tokio::test]
async fn retry_stops_after_count_retries_with_the_last_answer() {
    let p = pipeline(
        r#"<policies><inbound/><backend>
            <retry condition="@(context.Response.StatusCode == 500)" count="2" interval="0" delta="0" max-interval="0" first-fast-retry="true">
                <forward-request />
            </retry>
        </backend></policies>"#,
    );
    let mut ex = TestExchange::new();
    for _ in 0..5 {
        ex.backend.push_back(answer(500, ""));
    }
    assert_eq!(p.run(Section::Backend, &mut ex).await, Outcome::Continue);
    assert_eq!(ex.forwarded.len(), 3, "one try and two retries");
    assert_eq!(status(&ex), Some(500));
}

#[tokio::test]
async fn retry_covers_connection_failures_when_the_condition_says_so() {
    let p = pipeline(
        r#"<policies><inbound/><backend>
            <retry condition="@(context.Response == null || context.Response.StatusCode >= 500)" count="3" interval="0">
                <forward-request />
            </retry>
        </backend></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.backend.push_back(unreachable());
    ex.backend.push_back(answer(200, "ok"));
    assert_eq!(p.run(Section::Backend, &mut ex).await, Outcome::Continue);
    assert_eq!(ex.forwarded.len(), 2);
    assert_eq!(status(&ex), Some(200));
}

#[tokio::test]
async fn a_backend_failure_runs_on_error_with_last_error_from_forward_request() {
    let p = pipeline(
        r#"<policies><inbound/><backend><forward-request /></backend><outbound/>
            <on-error>
                <set-header name="x-why" exists-action="override"><value>@(context.LastError.Source + "/" + context.LastError.Reason + "/" + context.LastError.Section)</value></set-header>
            </on-error>
        </policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.backend.push_back(unreachable());
    let Outcome::Error(e) = p.run(Section::Backend, &mut ex).await else {
        panic!("expected the failure to reach on-error");
    };
    assert_eq!(e.source, "forward-request");
    assert_eq!(e.reason, "BackendConnectionFailure");
    assert_eq!(e.message, "connection refused");
    assert_eq!(status(&ex), Some(502));
    assert_eq!(
        ex.header_joined(Message::Response, "x-why").as_deref(),
        Some("forward-request/BackendConnectionFailure/backend")
    );
}

#[tokio::test]
async fn fail_outside_runs_on_error_for_the_gateways_own_forward() {
    let p = pipeline(
        r#"<policies><inbound/><outbound/><on-error><return-response><set-status code="503" reason="Down" /><set-body>@(context.LastError.Reason)</set-body></return-response></on-error></policies>"#,
    );
    let mut ex = TestExchange::new();
    let out = p
        .fail_outside(
            &mut ex,
            Section::Backend,
            "forward-request",
            BackendFailure {
                reason: "Timeout".into(),
                message: "no answer".into(),
                status: 504,
            },
        )
        .await;
    let Outcome::Respond(r) = out else {
        panic!("on-error answers: {out:?}");
    };
    assert_eq!((r.status, r.body.as_deref()), (503, Some("Timeout")));
}

/// A client that records every request and answers with a JSON body.
fn recording_client(seen: Arc<Mutex<Vec<HttpRequest>>>) -> Arc<dyn HttpClient> {
    Arc::new(FnClient(move |req: HttpRequest| {
        seen.lock().unwrap_or_else(|p| p.into_inner()).push(req);
        Ok(HttpResponse {
            status: 200,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"token":"t-123","n":2}"#.to_vec(),
        })
    }))
}

#[tokio::test]
async fn send_request_builds_the_request_and_stores_the_response() {
    let p = pipeline(
        r#"<policies><inbound>
            <send-request mode="new" response-variable-name="auth" timeout="5" ignore-error="false">
                <set-url>@("https://auth.example/token?user=" + context.Request.Headers.GetValueOrDefault("x-user", "none"))</set-url>
                <set-method>POST</set-method>
                <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
                <set-body>@("{\"scope\":\"" + context.Api.Name + "\"}")</set-body>
            </send-request>
            <set-header name="Authorization" exists-action="override">
                <value>@("Bearer " + ((IResponse)context.Variables["auth"]).Body.As<JObject>()["token"])</value>
            </set-header>
            <set-variable name="code" value="@(((IResponse)context.Variables["auth"]).StatusCode)" />
        </inbound></policies>"#,
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut ex = TestExchange::new().with_request_header("x-user", "ann");
    ex.context.set("Api.Name", Value::str("orders"));
    ex.http = recording_client(seen.clone());
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].url, "https://auth.example/token?user=ann");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].timeout, Duration::from_secs(5));
    assert_eq!(
        seen[0].headers,
        vec![("Content-Type".to_string(), "application/json".to_string())]
    );
    assert_eq!(seen[0].body, br#"{"scope":"orders"}"#);
    assert_eq!(
        ex.header_joined(Message::Request, "authorization")
            .as_deref(),
        Some("Bearer t-123")
    );
    assert_eq!(ex.variable("code"), Some(&Value::Int(200)));
}

#[tokio::test]
async fn send_request_copy_mode_starts_from_the_current_request() {
    let p = pipeline(
        r#"<policies><inbound>
            <send-request mode="copy" response-variable-name="r">
                <set-url>https://mirror.example/x</set-url>
                <set-header name="x-copy" exists-action="override"><value>yes</value></set-header>
            </send-request>
        </inbound></policies>"#,
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut ex = TestExchange::new().with_request_header("x-keep", "k");
    ex.method = "PUT".into();
    ex.effects.request_body = Some("payload".into());
    ex.http = recording_client(seen.clone());
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].body, b"payload");
    assert!(seen[0].headers.contains(&("x-keep".into(), "k".into())));
    assert!(seen[0].headers.contains(&("x-copy".into(), "yes".into())));
}

#[tokio::test]
async fn send_request_failures_go_to_on_error_unless_ignored() {
    let failing: Arc<dyn HttpClient> = Arc::new(FnClient(|_req: HttpRequest| {
        Err(HttpError::Timeout(Duration::from_secs(1)))
    }));
    let strict = pipeline(
        r#"<policies><inbound><send-request response-variable-name="r"><set-url>https://x.example/</set-url></send-request></inbound><on-error /></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.http = failing.clone();
    let Outcome::Error(e) = strict.run(Section::Inbound, &mut ex).await else {
        panic!("expected an error");
    };
    assert_eq!(
        (e.source.as_str(), e.reason.as_str()),
        ("send-request", "Timeout")
    );

    let lenient = pipeline(
        r#"<policies><inbound><send-request response-variable-name="r" ignore-error="true"><set-url>https://x.example/</set-url></send-request>
            <set-variable name="none" value="@(context.Variables["r"] == null)" /></inbound></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.http = failing;
    assert_eq!(
        lenient.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(ex.variable("none"), Some(&Value::Bool(true)));
}

#[test]
fn send_request_without_url_or_variable_is_refused() {
    for xml in [
        r#"<policies><inbound><send-request response-variable-name="r" /></inbound></policies>"#,
        r#"<policies><inbound><send-request><set-url>https://x/</set-url></send-request></inbound></policies>"#,
        r#"<policies><inbound><send-request mode="clone" response-variable-name="r"><set-url>https://x/</set-url></send-request></inbound></policies>"#,
    ] {
        // Refused when the document loads (schema) or when it compiles: either names it.
        let policy = match parse_policies("t.xml", xml, None) {
            Err(errors) => errors[0].policy.clone().unwrap_or_default(),
            Ok(doc) => {
                let c = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:?}"));
                Pipeline::compile(&c).expect_err(xml).policy
            }
        };
        assert_eq!(policy, "send-request", "{xml}");
    }
}

#[tokio::test]
async fn send_one_way_request_is_sent_without_waiting_for_an_answer() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<HttpRequest>();
    struct Channel(tokio::sync::mpsc::UnboundedSender<HttpRequest>);
    impl HttpClient for Channel {
        fn send(&self, request: HttpRequest) -> HttpFuture {
            let tx = self.0.clone();
            Box::pin(async move {
                let _ = tx.send(request);
                Ok(HttpResponse::default())
            })
        }
    }
    let p = pipeline(
        r#"<policies><inbound><send-one-way-request mode="new"><set-url>https://log.example/e</set-url><set-method>POST</set-method><set-body>hello</set-body></send-one-way-request></inbound></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.http = Arc::new(Channel(tx));
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the one-way request was never sent"));
    assert_eq!(
        (got.method.as_str(), got.body.as_slice()),
        ("POST", &b"hello"[..])
    );
}

/// A client whose calls only finish once `parties` calls are in flight together: a sequential
/// runner would never get there.
struct Rendezvous {
    barrier: Arc<tokio::sync::Barrier>,
}

impl HttpClient for Rendezvous {
    fn send(&self, request: HttpRequest) -> HttpFuture {
        let barrier = self.barrier.clone();
        Box::pin(async move {
            barrier.wait().await;
            Ok(HttpResponse {
                status: 200,
                reason: "OK".into(),
                headers: Vec::new(),
                body: request.url.into_bytes(),
            })
        })
    }
}

#[tokio::test]
async fn wait_all_runs_its_requests_at_the_same_time() {
    let p = pipeline(
        r#"<policies><inbound><wait for="all">
            <send-request response-variable-name="a"><set-url>https://a.example/</set-url></send-request>
            <choose><when condition="@(true)">
                <send-request response-variable-name="b"><set-url>https://b.example/</set-url></send-request>
            </when></choose>
        </wait>
        <set-variable name="both" value="@(((IResponse)context.Variables["a"]).Body.As<string>() + ((IResponse)context.Variables["b"]).Body.As<string>())" />
        </inbound></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.http = Arc::new(Rendezvous {
        barrier: Arc::new(tokio::sync::Barrier::new(2)),
    });
    let out = tokio::time::timeout(Duration::from_secs(10), p.run(Section::Inbound, &mut ex))
        .await
        .unwrap_or_else(|_| panic!("the two requests did not run at the same time"));
    assert_eq!(out, Outcome::Continue);
    assert_eq!(
        ex.variable("both"),
        Some(&Value::str("https://a.example/https://b.example/"))
    );
}

#[tokio::test]
async fn wait_any_finishes_with_the_first_answer() {
    struct OneNeverAnswers;
    impl HttpClient for OneNeverAnswers {
        fn send(&self, request: HttpRequest) -> HttpFuture {
            Box::pin(async move {
                if request.url.contains("slow") {
                    std::future::pending::<()>().await;
                }
                Ok(HttpResponse {
                    status: 204,
                    ..Default::default()
                })
            })
        }
    }
    let p = pipeline(
        r#"<policies><inbound><wait for="any">
            <send-request response-variable-name="slow"><set-url>https://slow.example/</set-url></send-request>
            <send-request response-variable-name="fast"><set-url>https://fast.example/</set-url></send-request>
        </wait></inbound></policies>"#,
    );
    let mut ex = TestExchange::new();
    ex.http = Arc::new(OneNeverAnswers);
    let out = tokio::time::timeout(Duration::from_secs(10), p.run(Section::Inbound, &mut ex))
        .await
        .unwrap_or_else(|_| panic!("wait any waited for the slow request"));
    assert_eq!(out, Outcome::Continue);
    assert!(ex.variable("fast").is_some());
    assert!(ex.variable("slow").is_none());
}

#[tokio::test]
async fn limit_concurrency_answers_429_while_the_key_is_full() {
    // The held request waits inside the policy on a call that finishes only when released.
    struct Gate {
        started: Arc<tokio::sync::Notify>,
        release: Arc<tokio::sync::Notify>,
        calls: Arc<AtomicUsize>,
    }
    impl HttpClient for Gate {
        fn send(&self, _request: HttpRequest) -> HttpFuture {
            let (started, release) = (self.started.clone(), self.release.clone());
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    started.notify_one();
                    release.notified().await;
                }
                Ok(HttpResponse::default())
            })
        }
    }
    let p = Arc::new(pipeline(
        r#"<policies><inbound><limit-concurrency key="@(context.Request.Headers.GetValueOrDefault("x-tenant", ""))" max-count="1">
            <send-request response-variable-name="r"><set-url>https://x.example/</set-url></send-request>
        </limit-concurrency></inbound></policies>"#,
    ));
    let gate = Arc::new(Gate {
        started: Arc::new(tokio::sync::Notify::new()),
        release: Arc::new(tokio::sync::Notify::new()),
        calls: Arc::new(AtomicUsize::new(0)),
    });
    let client = |g: &Arc<Gate>| -> Arc<dyn HttpClient> {
        Arc::new(Gate {
            started: g.started.clone(),
            release: g.release.clone(),
            calls: g.calls.clone(),
        })
    };
    // One set of slots for every request, as the gateway keeps one across reloads.
    let slots = Arc::new(gatehouse_policy::pipeline::ConcurrencySlots::default());
    let exchange = |tenant: &str, http: Arc<dyn HttpClient>| {
        let mut ex = TestExchange::new().with_request_header("x-tenant", tenant);
        ex.http = http;
        ex.concurrency = slots.clone();
        ex
    };
    let held = {
        let (p, mut ex) = (p.clone(), exchange("a", client(&gate)));
        tokio::spawn(async move { p.run(Section::Inbound, &mut ex).await })
    };
    gate.started.notified().await;
    let mut second = exchange("a", client(&gate));
    let Outcome::Respond(r) = p.run(Section::Inbound, &mut second).await else {
        panic!("the second request of tenant a must be refused");
    };
    assert_eq!(r.status, 429);
    let mut other = exchange("b", client(&gate));
    assert_eq!(p.run(Section::Inbound, &mut other).await, Outcome::Continue);
    gate.release.notify_one();
    assert_eq!(held.await.ok(), Some(Outcome::Continue));
    let mut third = exchange("a", client(&gate));
    assert_eq!(p.run(Section::Inbound, &mut third).await, Outcome::Continue);
}

#[tokio::test]
async fn authentication_basic_and_find_and_replace() {
    let p = pipeline(
        r#"<policies>
            <inbound><authentication-basic username="ann" password="{{pw}}" /></inbound>
            <outbound><find-and-replace from="secret" to="*****" /></outbound>
        </policies>"#
            .replace("{{pw}}", "s3cret:x")
            .as_str(),
    );
    let mut ex = TestExchange::new();
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    assert_eq!(
        ex.header_joined(Message::Request, "authorization")
            .as_deref(),
        // base64("ann:s3cret:x")
        Some("Basic YW5uOnMzY3JldDp4")
    );
    ex.effects.response_body = Some("a secret and another secret".into());
    assert_eq!(p.run(Section::Outbound, &mut ex).await, Outcome::Continue);
    assert_eq!(
        ex.effects.response_body.as_deref(),
        Some("a ***** and another *****")
    );
}

#[test]
fn the_pipeline_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let p = pipeline("<policies><inbound /></policies>");
    let mut ex = TestExchange::new();
    let fut = p.run(Section::Inbound, &mut ex);
    assert_send(&fut);
}

#[tokio::test]
async fn last_error_scope_names_the_scope_the_failing_policy_came_from() {
    let global = parse_policies(
        "global.xml",
        r#"<policies><inbound><set-variable name="g" value="1" /><base /></inbound></policies>"#,
        None,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let api = parse_policies(
        "api.xml",
        r#"<policies><inbound><base /><choose><when condition="@(true)"><set-variable name="x" value="@(((string)null).Length)" /></when></choose></inbound>
            <on-error><set-header name="x-scope" exists-action="override"><value>@(context.LastError.Scope)</value></set-header></on-error></policies>"#,
        None,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let composed =
        compose(Some(&global), None, Some(&api), None).unwrap_or_else(|e| panic!("{e:?}"));
    let p = Pipeline::compile(&composed).unwrap_or_else(|e| panic!("{e}"));
    let mut ex = TestExchange::new();
    let Outcome::Error(e) = p.run(Section::Inbound, &mut ex).await else {
        panic!("the null dereference fails");
    };
    assert_eq!(
        (e.scope.as_str(), e.source.as_str()),
        ("api", "set-variable")
    );
    assert_eq!(ex.variable("g"), Some(&Value::str("1")));
    assert_eq!(
        ex.header_joined(Message::Response, "x-scope").as_deref(),
        Some("api")
    );
}

#[test]
fn bodies_are_buffered_only_where_policies_need_them() {
    let needs = |xml: &str| pipeline(xml).body_needs();
    let none = needs(
        r#"<policies><inbound><set-header name="a" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("b", ""))</value></set-header></inbound><backend><forward-request /></backend></policies>"#,
    );
    assert!(!none.request && !none.response);
    let inbound = needs(
        r#"<policies><inbound><set-variable name="v" value="@(context.Request.Body.As<string>(preserveContent: true))" /></inbound></policies>"#,
    );
    assert!(inbound.request && !inbound.response);
    let retry = needs(
        r#"<policies><inbound /><backend><retry condition="@(context.Response.StatusCode == 503)" count="2" interval="0"><forward-request /></retry></backend></policies>"#,
    );
    assert!(retry.request && !retry.response);
    let retry_on_body = needs(
        r#"<policies><inbound /><backend><retry condition="@(context.Response.Body.As<string>(preserveContent: true).Contains("busy"))" count="2" interval="0"><forward-request /></retry></backend></policies>"#,
    );
    assert!(retry_on_body.response);
    let outbound = needs(
        r#"<policies><inbound /><outbound><set-header name="x" exists-action="override"><value>@(context.Request.Body.As<string>(preserveContent: true).Length.ToString())</value></set-header><find-and-replace from="a" to="b" /></outbound></policies>"#,
    );
    assert!(outbound.request && outbound.response);
}
