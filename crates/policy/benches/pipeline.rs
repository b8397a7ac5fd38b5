//! What running a compiled pipeline costs per request, without any network: the typical
//! inbound pipeline of the issue (ip-filter, rate-limit-by-key on the subscription, set-header
//! with an expression) against an empty one, on the map-backed test exchange.
//! `cargo bench -p gatehouse-policy --bench pipeline`

use std::sync::Arc;

use futures_util::FutureExt;
use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::limits::InMemoryCounters;
use gatehouse_policy::pipeline::{Outcome, Pipeline, Section, TestExchange};

fn main() {
    divan::main();
}

fn pipeline(inbound: &str) -> Pipeline {
    let xml = format!("<policies><inbound>{inbound}</inbound></policies>");
    let doc = parse_policies("bench.xml", &xml, None).unwrap_or_else(|e| panic!("{e:?}"));
    let c = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:?}"));
    Pipeline::compile(&c).unwrap_or_else(|e| panic!("{e}"))
}

const TYPICAL: &str = r#"
    <ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>
    <rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Subscription.Id)" />
    <set-header name="X-Caller" exists-action="override"><value>@(context.Request.IpAddress + "/" + context.Subscription.Id)</value></set-header>
"#;

fn run(b: divan::Bencher, p: &Pipeline) {
    let counters = Arc::new(InMemoryCounters::new());
    b.with_inputs(|| {
        TestExchange::new()
            .with_counters(counters.clone())
            .with_subscription("sub-1")
    })
    .bench_local_refs(|ex| {
        let out = p.run(Section::Inbound, ex).now_or_never();
        assert_eq!(out, Some(Outcome::Continue));
    });
}

#[divan::bench]
fn empty_inbound(b: divan::Bencher) {
    run(b, &pipeline(""));
}

#[divan::bench]
fn typical_inbound(b: divan::Bencher) {
    run(b, &pipeline(TYPICAL));
}

#[divan::bench]
fn choose_with_json_body(b: divan::Bencher) {
    let p = pipeline(
        r#"<choose><when condition="@(context.Request.Headers.GetValueOrDefault("x-tier", "") == "gold")">
            <set-variable name="v" value="@(JObject.Parse("{\"a\":{\"b\":[1,2,3]}}")["a"]["b"].Count())" />
        </when><otherwise><set-variable name="v" value="0" /></otherwise></choose>"#,
    );
    let counters = Arc::new(InMemoryCounters::new());
    b.with_inputs(|| {
        TestExchange::new()
            .with_counters(counters.clone())
            .with_request_header("x-tier", "gold")
    })
    .bench_local_refs(|ex| p.run(Section::Inbound, ex).now_or_never());
}
