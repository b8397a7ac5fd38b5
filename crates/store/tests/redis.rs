//! The Redis-backed shared stores against a real `redis-server` (crates/testkit/src/redis.rs;
//! skipped with a printed reason when it is not installed, a failure under CI=true). Two
//! `connect` calls play two gateway nodes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_policy::cache::{Cache, CachedEntry};
use gatehouse_policy::expr::Value;
use gatehouse_policy::limits::{CounterKey, Counters, InMemoryCounters, Window};
use gatehouse_policy::pipeline::Concurrency;
use gatehouse_store::redis::{AVAILABLE_METRIC, FALLBACK_METRIC, RedisServices, connect};
use gatehouse_testkit::redis::RedisServer;

/// How long a condition that should hold "soon" may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

async fn node(server: &RedisServer) -> RedisServices {
    let node = connect(&server.url()).await.expect("connects");
    assert!(node.is_shared(), "Redis answers: the node counts in it");
    node
}

/// The process's metrics, as the `/metrics` endpoint renders them (one recorder per test
/// binary).
fn metrics() -> String {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .as_ref()
        .map(|h| h.render())
        .expect("the metrics recorder is installed")
}

/// The value of a counter without labels in `text` (0 when not yet registered).
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits for `cond` (polled: the state lives in another process, there is no event to await).
async fn eventually(what: &str, mut cond: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// 300 concurrent hits spread over `nodes`; how many were admitted.
async fn admitted(nodes: &[Arc<dyn Counters>], key: &CounterKey, window: Window) -> usize {
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let counters = nodes[i % nodes.len()].clone();
            let key = key.clone();
            tokio::spawn(async move { counters.hit(&key, window, 1, 100, Instant::now()).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.expect("hit task").allowed {
            allowed += 1;
        }
    }
    allowed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_admit_exactly_the_limit() {
    let Some(server) = RedisServer::start_or_skip("two_nodes_admit_exactly_the_limit") else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let nodes: Vec<Arc<dyn Counters>> = vec![a.counters.clone(), b.counters.clone()];
    for (name, window) in [
        ("rate", Window::sliding(Duration::from_secs(60))),
        ("quota", Window::fixed(Duration::from_secs(3600))),
    ] {
        let key = CounterKey::new("api|orders|inbound/rate-limit[0]", name);
        assert_eq!(admitted(&nodes, &key, window).await, 100, "{name}");
        // A rejected hit says when to come back; nothing was recorded by the rejections.
        let d = b.counters.hit(&key, window, 1, 100, Instant::now()).await;
        assert!(!d.allowed && d.remaining == 0, "{name}: {d:?}");
        assert!(d.retry_after > Duration::ZERO && d.retry_after <= window.period());
        // A check (amount 0) records nothing either.
        assert!(
            !a.counters
                .hit(&key, window, 0, 100, Instant::now())
                .await
                .allowed
        );
        assert!(
            a.counters
                .hit(&key, window, 0, 101, Instant::now())
                .await
                .allowed
        );
    }
}

#[tokio::test]
async fn sliding_window_frees_calls_one_period_after_them() {
    let Some(server) = RedisServer::start_or_skip("sliding_window_frees_calls") else {
        return;
    };
    let a = node(&server).await;
    let key = CounterKey::new("s", "k");
    let window = Window::sliding(Duration::from_millis(400));
    for _ in 0..3 {
        assert!(
            a.counters
                .hit(&key, window, 1, 3, Instant::now())
                .await
                .allowed
        );
    }
    let no = a.counters.hit(&key, window, 1, 3, Instant::now()).await;
    assert!(!no.allowed && no.retry_after <= Duration::from_millis(400));
    tokio::time::sleep(no.retry_after + Duration::from_millis(20)).await;
    assert!(
        a.counters
            .hit(&key, window, 1, 3, Instant::now())
            .await
            .allowed
    );
}

#[tokio::test]
async fn a_quota_period_survives_a_node_restart() {
    let Some(server) = RedisServer::start_or_skip("a_quota_period_survives_a_node_restart") else {
        return;
    };
    let key = CounterKey::new("product|gold|quota", "sub-1");
    let window = Window::fixed(Duration::from_secs(3600));
    {
        let first = node(&server).await;
        for _ in 0..3 {
            assert!(
                first
                    .counters
                    .hit(&key, window, 1, 5, Instant::now())
                    .await
                    .allowed
            );
        }
    }
    // A new process: no memory of its own, the period and count come from Redis.
    let again = node(&server).await;
    let d = again.counters.hit(&key, window, 1, 5, Instant::now()).await;
    assert!(d.allowed && d.remaining == 1, "{d:?}");
    assert!(d.reset < Duration::from_secs(3600));
    assert!(
        again
            .counters
            .hit(&key, window, 1, 5, Instant::now())
            .await
            .allowed
    );
    assert!(
        !again
            .counters
            .hit(&key, window, 1, 5, Instant::now())
            .await
            .allowed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limit_concurrency_is_exact_across_nodes() {
    let Some(server) = RedisServer::start_or_skip("limit_concurrency_is_exact_across_nodes") else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let nodes: [Arc<dyn Concurrency>; 2] = [a.concurrency.clone(), b.concurrency.clone()];
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let slots = nodes[i % 2].clone();
            tokio::spawn(async move { slots.take("api|x|tenant-a".into(), 3).await })
        })
        .collect();
    let mut held = Vec::new();
    for t in tasks {
        if let Some(slot) = t.await.expect("take task") {
            held.push(slot);
        }
    }
    assert_eq!(held.len(), 3, "exactly max-count slots across both nodes");
    // Another key is independent.
    assert!(
        nodes[1]
            .clone()
            .take("api|x|tenant-b".into(), 3)
            .await
            .is_some()
    );
    // A slot given back on one node can be taken on the other.
    held.pop();
    let other = nodes[1].clone();
    eventually("a released slot is free again", async || {
        match other.clone().take("api|x|tenant-a".into(), 3).await {
            Some(slot) => {
                held.push(slot);
                true
            }
            None => false,
        }
    })
    .await;
    assert!(
        nodes[0]
            .clone()
            .take("api|x|tenant-a".into(), 3)
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_serves_locally_then_shared_again_within_5s() {
    let Some(mut server) = RedisServer::start_or_skip("redis_down_serves_locally") else {
        return;
    };
    let before = counter(&metrics(), FALLBACK_METRIC);
    let a = node(&server).await;
    let key = CounterKey::new("api|down", "k");
    let window = Window::sliding(Duration::from_secs(60));
    assert!(
        a.counters
            .hit(&key, window, 1, 2, Instant::now())
            .await
            .allowed
    );
    server.stop();
    // Every hit is still decided, none waits much beyond the call timeout; after the first
    // failed call the node counts locally (its own, fresh count).
    let mut local = 0;
    for _ in 0..4 {
        let t = Instant::now();
        if a.counters
            .hit(&key, window, 1, 2, Instant::now())
            .await
            .allowed
        {
            local += 1;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "a hit waited {:?}",
            t.elapsed()
        );
    }
    assert!(!a.is_shared(), "the node says it is serving locally");
    assert_eq!(local, 2, "limits are per node while Redis is down");
    let rendered = metrics();
    assert!(
        counter(&rendered, FALLBACK_METRIC) >= before + 4,
        "the fallback is counted: {rendered}"
    );
    assert!(rendered.contains(AVAILABLE_METRIC), "{rendered}");
    // The external cache misses and does not fail.
    a.cache
        .put(
            "value:k".into(),
            CachedEntry::Value(Value::Int(1)),
            Duration::from_secs(5),
        )
        .await;
    assert!(a.cache.get("value:k").await.is_none());
    // Slots come from the node itself.
    assert!(a.concurrency.clone().take("c".into(), 1).await.is_some());

    server.restart().expect("redis restarts");
    let back = eventually("shared counters back", async || a.is_shared()).await;
    assert!(back < Duration::from_secs(5), "back after {back:?}");
    // Shared again: a fresh Redis (no persistence) counts from zero for both nodes.
    let b = node(&server).await;
    assert!(
        a.counters
            .hit(&key, window, 1, 2, Instant::now())
            .await
            .allowed
    );
    assert!(
        b.counters
            .hit(&key, window, 1, 2, Instant::now())
            .await
            .allowed
    );
    assert!(
        !a.counters
            .hit(&key, window, 1, 2, Instant::now())
            .await
            .allowed
    );
}

#[tokio::test]
async fn the_external_cache_is_shared_and_honours_ttl() {
    let Some(server) = RedisServer::start_or_skip("the_external_cache_is_shared") else {
        return;
    };
    let (a, b) = (node(&server).await, node(&server).await);
    let value = CachedEntry::Value(Value::json(&serde_json::json!({"price": 3})));
    a.cache
        .put(
            "value:price".into(),
            value.clone(),
            Duration::from_millis(500),
        )
        .await;
    let (found, ttl) = b
        .cache
        .get_with_ttl("value:price")
        .await
        .expect("a put on one node is a hit on the other");
    assert_eq!(found, value);
    assert!(
        ttl.is_some_and(|t| t <= Duration::from_millis(500)),
        "{ttl:?}"
    );
    eventually("the entry expires with its TTL", async || {
        b.cache.get("value:price").await.is_none()
    })
    .await;
    // A value that cannot be stored removes the key instead.
    a.cache
        .put(
            "value:x".into(),
            CachedEntry::Value(Value::Int(1)),
            Duration::from_secs(60),
        )
        .await;
    a.cache
        .put(
            "value:x".into(),
            CachedEntry::Value(Value::Bytes(vec![1])),
            Duration::from_secs(60),
        )
        .await;
    assert!(b.cache.get("value:x").await.is_none());
    a.cache
        .put(
            "value:y".into(),
            CachedEntry::Value(Value::Int(2)),
            Duration::from_secs(60),
        )
        .await;
    b.cache.remove("value:y").await;
    assert!(a.cache.get("value:y").await.is_none());
}

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux for every architecture gatehouse builds for.
    Some(Duration::from_millis(ticks * 10))
}

/// The figure: cost per rate-limit hit, Redis-backed vs local, same run. Printed, not
/// asserted (machines differ). `cargo test -p gatehouse-store --test redis cost -- --nocapture`.
#[tokio::test]
async fn cost_per_rate_limit_hit_redis_vs_local() {
    let Some(server) = RedisServer::start_or_skip("cost_per_rate_limit_hit") else {
        return;
    };
    let a = node(&server).await;
    let local: Arc<dyn Counters> = Arc::new(InMemoryCounters::new());
    let shared: Arc<dyn Counters> = a.counters.clone();
    const N: u32 = 5000;
    let window = Window::sliding(Duration::from_secs(60));
    for (name, counters) in [("local", &local), ("redis", &shared)] {
        let (cpu0, t0) = (cpu_time(), Instant::now());
        let mut allowed = 0u32;
        for i in 0..N {
            let key = CounterKey::new("bench", format!("k{}", i % 64));
            if counters
                .hit(&key, window, 1, u64::MAX, Instant::now())
                .await
                .allowed
            {
                allowed += 1;
            }
        }
        let wall = t0.elapsed() / N;
        let cpu = cpu_time()
            .zip(cpu0)
            .map(|(b, a)| format!("{:.1}", (b - a).as_secs_f64() * 1e6 / f64::from(N)));
        assert_eq!(allowed, N);
        assert!(a.is_shared(), "the Redis figure was measured on Redis");
        println!(
            "rate-limit hit, {name}: {:.1} µs wall, {} µs CPU (this process) per hit over {N} hits",
            wall.as_secs_f64() * 1e6,
            cpu.unwrap_or_else(|| "?".into())
        );
    }
}
