//! rate-limit, rate-limit-by-key, quota and quota-by-key through the compiled pipeline, with
//! `TestExchange`s sharing one set of counters.

use std::sync::Arc;

use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::limits::InMemoryCounters;
use gatehouse_policy::pipeline::{Exchange, Outcome, Pipeline, Section, TestExchange};

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

fn compile(body: &str) -> Result<Pipeline, gatehouse_policy::pipeline::CompileError> {
    let xml =
        format!("<policies><inbound>{body}</inbound><backend/><outbound/><on-error/></policies>");
    let doc = match parse_policies("t.xml", &xml, None) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    };
    let composed = match compose(Some(&doc), None, None, None) {
        Ok(c) => c,
        Err(e) => panic!("{e:#?}"),
    };
    Pipeline::compile(&composed)
}

/// Whether the document is refused, by the parser's attribute checks or by the compiler.
fn refused(body: &str) -> bool {
    let xml =
        format!("<policies><inbound>{body}</inbound><backend/><outbound/><on-error/></policies>");
    match parse_policies("t.xml", &xml, None) {
        Err(_) => true,
        Ok(doc) => match compose(Some(&doc), None, None, None) {
            Err(_) => true,
            Ok(c) => Pipeline::compile(&c).is_err(),
        },
    }
}

fn inbound(body: &str) -> Pipeline {
    match compile(body) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn exchange(counters: &Arc<InMemoryCounters>, sub: &str) -> TestExchange {
    TestExchange::new()
        .with_counters(counters.clone())
        .with_subscription(sub)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn rate_limit_answers_429_with_retry_after_on_the_fourth_call() {
    let p = inbound(r#"<rate-limit calls="3" renewal-period="60" />"#);
    let counters = Arc::new(InMemoryCounters::new());
    for _ in 0..3 {
        let mut ex = exchange(&counters, "sub-a");
        assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
    }
    let mut ex = exchange(&counters, "sub-a");
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut ex) else {
        panic!("fourth call admitted");
    };
    assert_eq!(r.status, 429);
    assert_eq!(r.reason, "Too Many Requests");
    let secs: u64 = r.header("Retry-After")[0].parse().unwrap_or(0);
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    let body = r.body.unwrap_or_default();
    assert!(body.contains("\"statusCode\":429"), "{body}");
    assert!(
        body.contains("Rate limit is exceeded. Try again in"),
        "{body}"
    );
    // Per subscription: another subscription is not limited.
    let mut other = exchange(&counters, "sub-b");
    assert_eq!(p.run_now(Section::Inbound, &mut other), Outcome::Continue);
}

#[test]
fn rate_limit_by_key_counts_distinct_keys_independently_and_sets_headers() {
    let p = inbound(
        r#"<rate-limit-by-key calls="2" renewal-period="30"
             counter-key="@(context.Request.Headers.GetValueOrDefault("x-client", "none"))"
             remaining-calls-header-name="x-remaining" total-calls-header-name="x-total"
             retry-after-header-name="x-retry" remaining-calls-variable-name="left"
             retry-after-variable-name="wait" />"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    let call = |client: &str| {
        let mut ex = TestExchange::new()
            .with_counters(counters.clone())
            .with_request_header("x-client", client);
        let out = p.run_now(Section::Inbound, &mut ex);
        (out, ex)
    };
    let (out, ex) = call("a");
    assert_eq!(out, Outcome::Continue);
    assert_eq!(
        header(&ex.effects.added_response_headers, "x-remaining"),
        Some("1")
    );
    assert_eq!(
        header(&ex.effects.added_response_headers, "x-total"),
        Some("2")
    );
    assert_eq!(
        ex.variable("left").map(|v| v.to_display()),
        Some("1".into())
    );
    assert_eq!(call("a").0, Outcome::Continue);
    let (out, ex) = call("a");
    let Outcome::Respond(r) = out else {
        panic!("third call for key a admitted")
    };
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-retry"), r.header("Retry-After"));
    assert_eq!(r.header("x-remaining"), vec!["0"]);
    assert!(ex.variable("wait").is_some());
    // Key b has its own count.
    assert_eq!(call("b").0, Outcome::Continue);
    assert_eq!(call("b").0, Outcome::Continue);
    assert!(matches!(call("b").0, Outcome::Respond(_)));
}

#[test]
fn quota_answers_403_with_apims_text() {
    let p = inbound(r#"<quota calls="2" renewal-period="3600" />"#);
    let counters = Arc::new(InMemoryCounters::new());
    for _ in 0..2 {
        assert_eq!(
            p.run_now(Section::Inbound, &mut exchange(&counters, "s")),
            Outcome::Continue
        );
    }
    let Outcome::Respond(r) = p.run_now(Section::Inbound, &mut exchange(&counters, "s")) else {
        panic!("quota not enforced");
    };
    assert_eq!(r.status, 403);
    let body = r.body.unwrap_or_default();
    assert!(
        body.contains("Out of call volume quota. Quota will be replenished in 0"),
        "{body}"
    );
    assert!(body.contains("\"statusCode\":403"), "{body}");
}

#[test]
fn quota_by_key_with_false_increment_condition_does_not_count() {
    let p = inbound(
        r#"<quota-by-key calls="1" renewal-period="60" counter-key="k"
             increment-condition="@(context.Request.Headers.GetValueOrDefault("x-count", "no") == "yes")" />"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    let call = |count: &str| {
        let mut ex = TestExchange::new()
            .with_counters(counters.clone())
            .with_request_header("x-count", count);
        let out = p.run_now(Section::Inbound, &mut ex);
        // The condition is judged once the response is known.
        p.count_deferred(&mut ex);
        out
    };
    for _ in 0..5 {
        assert_eq!(call("no"), Outcome::Continue);
    }
    assert_eq!(call("yes"), Outcome::Continue);
    // Now at the limit: even uncounted requests are refused.
    assert!(matches!(call("no"), Outcome::Respond(r) if r.status == 403));
    assert!(matches!(call("yes"), Outcome::Respond(r) if r.status == 403));
}

#[test]
fn rate_limit_by_key_increment_condition_false_does_not_count() {
    let p = inbound(
        r#"<rate-limit-by-key calls="2" renewal-period="60" counter-key="k"
             increment-condition="@(false)" />"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    for _ in 0..10 {
        let mut ex = TestExchange::new().with_counters(counters.clone());
        assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
        p.count_deferred(&mut ex);
    }
}

#[test]
fn increment_condition_is_judged_on_the_response() {
    // Only successful calls count, as in APIM's documented example.
    let p = inbound(
        r#"<rate-limit-by-key calls="2" renewal-period="60" counter-key="k"
             increment-condition="@(context.Response.StatusCode >= 200 && context.Response.StatusCode < 300)" />"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    let call = |status: u16| {
        let mut ex = TestExchange::new().with_counters(counters.clone());
        let out = p.run_now(Section::Inbound, &mut ex);
        if out == Outcome::Continue {
            ex.effects.status = Some((status, String::new()));
            p.count_deferred(&mut ex);
        }
        out
    };
    for _ in 0..5 {
        assert_eq!(call(500), Outcome::Continue, "failed calls are not counted");
    }
    assert_eq!(call(200), Outcome::Continue);
    assert_eq!(call(200), Outcome::Continue);
    assert!(matches!(call(200), Outcome::Respond(r) if r.status == 429));
}

#[test]
fn two_policies_with_the_same_key_do_not_share_counts() {
    let p = inbound(
        r#"<rate-limit-by-key calls="1" renewal-period="60" counter-key="same" />
           <choose><when condition="@(true)">
             <rate-limit-by-key calls="1" renewal-period="60" counter-key="same" />
           </when></choose>"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    let mut ex = TestExchange::new().with_counters(counters.clone());
    assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
}

#[test]
fn increment_count_and_bad_attributes() {
    let p = inbound(
        r#"<rate-limit-by-key calls="5" renewal-period="60" counter-key="x" increment-count="3" />"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    let mut ex = TestExchange::new().with_counters(counters.clone());
    assert_eq!(p.run_now(Section::Inbound, &mut ex), Outcome::Continue);
    let mut ex = TestExchange::new().with_counters(counters.clone());
    assert!(matches!(p.run_now(Section::Inbound, &mut ex), Outcome::Respond(r) if r.status == 429));

    assert!(refused(
        r#"<rate-limit-by-key calls="5" renewal-period="60" />"#
    ));
    assert!(refused(
        r#"<rate-limit calls="many" renewal-period="60" />"#
    ));
    assert!(refused(r#"<quota bandwidth="100" renewal-period="60" />"#));
    assert!(refused(
        r#"<rate-limit calls="5" renewal-period="60"><api name="x" calls="1" /></rate-limit>"#
    ));
    assert!(refused(
        r#"<rate-limit-by-key calls="x" renewal-period="60" counter-key="k" />"#
    ));
}
