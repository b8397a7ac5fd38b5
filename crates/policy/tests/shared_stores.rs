//! The pipeline against stores that wait (as Redis does) and the external cache's routing by
//! `caching-type`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_policy::answer::Answer;
use gatehouse_policy::cache::{CachedEntry, InMemoryCache};
use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::expr::Value;
use gatehouse_policy::limits::{CounterKey, Counters, Decision, InMemoryCounters, Window};
use gatehouse_policy::pipeline::{Outcome, Pipeline, Section, TestExchange};

fn pipeline(inbound: &str) -> Pipeline {
    let xml = format!(
        "<policies><inbound>{inbound}</inbound><backend/><outbound/><on-error/></policies>"
    );
    let doc = parse_policies("t.xml", &xml, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let composed = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:#?}"));
    Pipeline::compile(&composed).unwrap_or_else(|e| panic!("{e}"))
}

/// Counters that answer only after yielding to the runtime, like a networked store.
struct Waiting(Arc<InMemoryCounters>);

impl Counters for Waiting {
    fn hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Answer<'static, Decision> {
        let (inner, key) = (self.0.clone(), key.clone());
        Answer::pending(async move {
            tokio::task::yield_now().await;
            inner.hit(&key, window, amount, limit, now)
        })
    }
}

#[tokio::test]
async fn limits_await_a_store_that_waits() {
    let p = pipeline(r#"<rate-limit calls="2" renewal-period="60" />"#);
    let counters: Arc<dyn Counters> = Arc::new(Waiting(Arc::new(InMemoryCounters::new())));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let mut ex = TestExchange::new()
            .with_counters(counters.clone())
            .with_subscription("s");
        statuses.push(match p.run(Section::Inbound, &mut ex).await {
            Outcome::Continue => 200,
            Outcome::Respond(r) => r.status,
            Outcome::Error(e) => panic!("{e:?}"),
        });
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn a_deferred_count_in_a_store_that_waits_is_made_on_the_runtime() {
    let p = pipeline(
        r#"<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" increment-condition="@(true)" />"#,
    );
    let inner = Arc::new(InMemoryCounters::new());
    let counters: Arc<dyn Counters> = Arc::new(Waiting(inner.clone()));
    let mut ex = TestExchange::new().with_counters(counters.clone());
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    p.count_deferred(&mut ex);
    // The count was spawned; it lands once the runtime runs it.
    let start = Instant::now();
    while inner.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the deferred count never ran"
        );
        tokio::task::yield_now().await;
    }
    let mut second = TestExchange::new().with_counters(counters);
    let Outcome::Respond(r) = p.run(Section::Inbound, &mut second).await else {
        panic!("the counted call fills the limit");
    };
    assert_eq!(r.status, 429);
}

#[tokio::test]
async fn caching_type_picks_the_external_cache_when_there_is_one() {
    let store = |ty: &str, key: &str| {
        pipeline(&format!(
            r#"<cache-store-value key="{key}" value="v" duration="60" caching-type="{ty}" />"#
        ))
    };
    let internal = Arc::new(InMemoryCache::new(1 << 20));
    let external = Arc::new(InMemoryCache::new(1 << 20));
    let exchange = |with_external: bool| {
        let mut ex = TestExchange::new();
        ex.cache = internal.clone();
        if with_external {
            ex.external_cache = Some(external.clone());
        }
        ex
    };
    for (ty, key, with_external, goes_external) in [
        ("external", "a", true, true),
        ("prefer-external", "b", true, true),
        ("internal", "c", true, false),
        ("prefer-external", "d", false, false),
        ("external", "e", false, false),
    ] {
        let mut ex = exchange(with_external);
        assert_eq!(
            store(ty, key).run(Section::Inbound, &mut ex).await,
            Outcome::Continue
        );
        let k = gatehouse_policy::cache::value_key(key);
        let want = Some(CachedEntry::Value(Value::str("v")));
        let (hit, miss) = if goes_external {
            (&external, &internal)
        } else {
            (&internal, &external)
        };
        assert_eq!(hit.get(&k), want, "{ty} with external={with_external}");
        assert_eq!(miss.get(&k), None, "{ty} with external={with_external}");
    }
    // A lookup reads where its caching-type says.
    let lookup =
        pipeline(r#"<cache-lookup-value key="a" variable-name="got" caching-type="external" />"#);
    let mut ex = exchange(true);
    assert_eq!(
        lookup.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(ex.variable("got"), Some(&Value::str("v")));
}
