//! Tests of the limit counters and the rate-limit / quota answers. Time is always injected, so
//! window renewal is tested without sleeping.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gatehouse_policy::limits::{
    CounterKey, InMemoryCounters, Limit, Quota, RateLimit, RateLimitHeaders, Window,
    format_timespan, retry_after_secs,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn key(k: &str) -> CounterKey {
    CounterKey::new("api/op/rate-limit-by-key#0", k)
}

#[test]
fn concurrent_hits_admit_exactly_the_limit() {
    // 8 threads x 1000 hits against a limit of 5000 at one instant: exactly 5000 admitted, and
    // the `remaining` values the admitted hits saw are each of 0..5000 exactly once — no lost or
    // doubled increments.
    for window in [Window::sliding(secs(60)), Window::fixed(secs(60))] {
        let counters = Arc::new(InMemoryCounters::new());
        let now = Instant::now();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let counters = Arc::clone(&counters);
                thread::spawn(move || {
                    let k = key("hot");
                    let mut seen = Vec::new();
                    for _ in 0..1000 {
                        let d = counters.hit(&k, window, 1, 5000, now);
                        if d.allowed {
                            seen.push(d.remaining);
                        } else {
                            assert_eq!(d.remaining, 0);
                        }
                    }
                    seen
                })
            })
            .collect();
        let mut remaining: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        assert_eq!(remaining.len(), 5000, "{window:?}");
        remaining.sort_unstable();
        assert!(remaining.iter().copied().eq(0..5000), "{window:?}");
    }
}

#[test]
fn concurrent_hits_with_a_live_clock_never_exceed_the_limit() {
    // Real clock, several keys, 16 threads: per key exactly `limit` admitted within one window.
    let counters = Arc::new(InMemoryCounters::new());
    let window = Window::sliding(secs(3600));
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let counters = Arc::clone(&counters);
            thread::spawn(move || {
                let k = key(&format!("k{}", t % 4));
                (0..500)
                    .filter(|_| counters.hit(&k, window, 1, 1000, Instant::now()).allowed)
                    .count()
            })
        })
        .collect();
    let admitted: usize = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    // 4 keys x 4 threads x 500 hits = 2000 per key, limit 1000.
    assert_eq!(admitted, 4 * 1000);
}

#[test]
fn distinct_keys_are_independent() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let w = Window::sliding(secs(10));
    for _ in 0..3 {
        assert!(c.hit(&key("a"), w, 1, 3, now).allowed);
    }
    assert!(!c.hit(&key("a"), w, 1, 3, now).allowed);
    assert!(c.hit(&key("b"), w, 1, 3, now).allowed);
    // Same key string in another scope is another counter.
    let other = CounterKey::new("another-policy", "a");
    assert_eq!(c.hit(&other, w, 1, 3, now).remaining, 2);
}

#[test]
fn sliding_window_releases_each_hit_one_period_later() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let w = Window::sliding(secs(10));
    let k = key("s");
    assert!(c.hit(&k, w, 1, 2, t0).allowed);
    assert!(c.hit(&k, w, 1, 2, t0 + secs(4)).allowed);
    let denied = c.hit(&k, w, 1, 2, t0 + secs(5));
    assert!(!denied.allowed);
    assert_eq!(denied.remaining, 0);
    // The oldest hit (t0) frees its place at t0+10.
    assert_eq!(denied.retry_after, secs(5));
    // Rejected hits are not counted: still just the two.
    assert!(!c.hit(&k, w, 1, 2, t0 + secs(9)).allowed);
    let d = c.hit(&k, w, 1, 2, t0 + secs(10));
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
    // Now t0+4 and t0+10 are held; the next place frees at t0+14.
    let d = c.hit(&k, w, 1, 2, t0 + secs(11));
    assert!(!d.allowed);
    assert_eq!(d.retry_after, secs(3));
    // Reset is when the newest hit expires.
    assert_eq!(d.reset, secs(9));
}

#[test]
fn sliding_retry_after_covers_the_whole_amount() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let w = Window::sliding(secs(60));
    let k = key("amount");
    assert!(c.hit(&k, w, 3, 10, t0).allowed);
    assert!(c.hit(&k, w, 3, 10, t0 + secs(10)).allowed);
    assert!(c.hit(&k, w, 3, 10, t0 + secs(20)).allowed);
    // 9 used; 5 more needs 4 freed: the first two hits, the second expiring at t0+70.
    let d = c.hit(&k, w, 5, 10, t0 + secs(30));
    assert!(!d.allowed);
    assert_eq!(d.remaining, 1);
    assert_eq!(d.retry_after, secs(40));
    // An amount above the limit can never pass: one full period.
    let d = c.hit(&k, w, 11, 10, t0 + secs(30));
    assert_eq!((d.allowed, d.retry_after), (false, secs(60)));
}

#[test]
fn zero_amount_checks_without_counting() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let w = Window::sliding(secs(10));
    let k = key("peek");
    assert!(c.hit(&k, w, 0, 1, now).allowed);
    assert!(c.is_empty(), "a check records nothing");
    assert!(c.hit(&k, w, 1, 1, now).allowed);
    let d = c.hit(&k, w, 0, 1, now + secs(2));
    assert!(!d.allowed);
    assert_eq!(d.retry_after, secs(8));
}

#[test]
fn coalesced_slots_never_release_early() {
    // Many hits within one slot width: the slot is released one period after its latest hit.
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let w = Window::sliding(secs(256)); // slot width 1 s
    let k = key("slots");
    for ms in [0, 300, 600, 900] {
        assert!(c.hit(&k, w, 1, 4, t0 + Duration::from_millis(ms)).allowed);
    }
    assert!(!c.hit(&k, w, 1, 4, t0 + secs(256)).allowed);
    assert!(
        c.hit(&k, w, 1, 4, t0 + Duration::from_millis(256_900))
            .allowed
    );
}

#[test]
fn fixed_window_is_aligned_to_first_use_and_renews() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let w = Window::fixed(secs(100));
    let k = key("q");
    let first = c.hit(&k, w, 1, 2, t0 + secs(7));
    assert_eq!(first.reset, secs(100));
    assert!(c.hit(&k, w, 1, 2, t0 + secs(50)).allowed);
    let d = c.hit(&k, w, 1, 2, t0 + secs(60));
    assert!(!d.allowed);
    // The period began at the first call (t0+7), so it ends at t0+107.
    assert_eq!(d.retry_after, secs(47));
    assert_eq!(d.reset, secs(47));
    assert!(!c.hit(&k, w, 1, 2, t0 + secs(106)).allowed);
    let d = c.hit(&k, w, 1, 2, t0 + secs(107));
    assert!(d.allowed);
    assert_eq!(d.remaining, 1);
    assert_eq!(d.reset, secs(100));
}

#[test]
fn changing_the_window_of_a_key_starts_afresh() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let k = key("changed");
    assert!(c.hit(&k, Window::fixed(secs(10)), 1, 1, now).allowed);
    assert!(!c.hit(&k, Window::fixed(secs(10)), 1, 1, now).allowed);
    assert!(c.hit(&k, Window::fixed(secs(20)), 1, 1, now).allowed);
}

#[test]
fn expired_keys_are_evicted() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let w = Window::sliding(secs(1));
    // 50 rounds of 1000 fresh keys, 2 s apart: the map follows the live keys, not all 50 000.
    for round in 0..50u64 {
        let now = t0 + secs(2 * round);
        for i in 0..1000 {
            assert!(c.hit(&key(&format!("{round}-{i}")), w, 1, 1, now).allowed);
        }
        assert!(c.len() <= 8192, "round {round}: {} keys held", c.len());
    }
    let end = t0 + secs(100);
    assert!(c.evict_expired(end) > 0);
    assert!(c.is_empty());

    // Explicit eviction keeps live keys.
    let q = Window::fixed(secs(60));
    assert!(c.hit(&key("live"), q, 1, 5, end).allowed);
    assert!(
        c.hit(&key("dead"), Window::fixed(secs(1)), 1, 5, end)
            .allowed
    );
    assert_eq!(c.evict_expired(end + secs(5)), 1);
    assert_eq!(c.len(), 1);
    assert_eq!(c.hit(&key("live"), q, 1, 5, end + secs(5)).remaining, 3);
}

#[test]
fn huge_periods_do_not_overflow() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let w = Window::fixed(Duration::from_secs(u64::MAX));
    assert!(c.hit(&key("big"), w, 1, 1, now).allowed);
    let d = c.hit(&key("big"), w, 1, 1, now);
    assert!(!d.allowed);
    assert_eq!(d.retry_after, w.period());
    // An injected clock earlier than recorded hits is tolerated.
    let s = Window::sliding(secs(10));
    assert!(c.hit(&key("late"), s, 1, 1, now + secs(5)).allowed);
    assert!(!c.hit(&key("late"), s, 1, 1, now).allowed);
}

#[test]
fn rate_limit_answers_429_with_retry_after_and_configured_headers() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let mut policy = RateLimit::new(2, 30, key("sub-1"));
    policy.headers = RateLimitHeaders {
        remaining_calls_header_name: Some("x-remaining".into()),
        retry_after_header_name: Some("x-retry".into()),
        total_calls_header_name: Some("x-total".into()),
    };
    let ok = policy.check(&c, t0);
    assert!(ok.is_allowed());
    assert_eq!(
        ok.headers,
        vec![
            ("x-remaining".to_owned(), "1".to_owned()),
            ("x-total".to_owned(), "2".to_owned()),
        ]
    );
    assert!(
        policy
            .check(&c, t0 + Duration::from_millis(500))
            .is_allowed()
    );
    let no = policy.check(&c, t0 + Duration::from_millis(1500));
    let answer = no
        .rejection
        .clone()
        .unwrap_or_else(|| panic!("not rejected: {no:?}"));
    assert_eq!(answer.status, 429);
    // 28.5 s rounds up to 29.
    assert_eq!(
        answer.message,
        "Rate limit is exceeded. Try again in 29 seconds."
    );
    assert_eq!(
        answer.headers,
        vec![
            ("Retry-After".to_owned(), "29".to_owned()),
            ("x-retry".to_owned(), "29".to_owned()),
            ("x-remaining".to_owned(), "0".to_owned()),
            ("x-total".to_owned(), "2".to_owned()),
        ]
    );
    let body: serde_json::Value =
        serde_json::from_str(&answer.body()).unwrap_or(serde_json::Value::Null);
    assert_eq!(body["statusCode"], 429);
    assert_eq!(body["message"], answer.message.as_str());
}

#[test]
fn rate_limit_without_header_attributes_sends_only_retry_after() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let policy = RateLimit::new(0, 60, key("nobody"));
    let out = policy.check(&c, now);
    assert!(out.headers.is_empty());
    let answer = out
        .rejection
        .unwrap_or_else(|| panic!("calls=0 must reject"));
    assert_eq!(
        answer.headers,
        vec![("Retry-After".to_owned(), "60".to_owned())]
    );
}

#[test]
fn quota_answers_403_with_replenish_time() {
    let c = InMemoryCounters::new();
    let t0 = Instant::now();
    let policy = Quota::new(3, 86_400 * 2, key("quota-sub"));
    for _ in 0..3 {
        assert!(policy.check(&c, t0).is_allowed());
    }
    let out = policy.check(&c, t0 + secs(3723));
    let answer = out
        .rejection
        .unwrap_or_else(|| panic!("quota must be exhausted"));
    assert_eq!(answer.status, 403);
    // 2 days - 1h02m03s = 1 day 22:57:57.
    assert_eq!(
        answer.message,
        "Out of call volume quota. Quota will be replenished in 1.22:57:57."
    );
    // The next period starts with the first call after this one ends.
    let next = policy.check(&c, t0 + secs(86_400 * 2 + 5));
    assert!(next.is_allowed());
    assert_eq!(next.decision.remaining, 2);
    assert_eq!(next.decision.reset, secs(86_400 * 2));
}

#[test]
fn increment_count_is_the_amount_counted() {
    let c = InMemoryCounters::new();
    let now = Instant::now();
    let mut policy = Quota::new(10, 60, key("weighted"));
    policy.increment_count = 4;
    assert!(policy.check(&c, now).is_allowed());
    assert!(policy.check(&c, now).is_allowed());
    let out = policy.check(&c, now);
    assert!(!out.is_allowed());
    assert_eq!(out.decision.remaining, 2);
    // A check (amount 0) still passes: two calls remain.
    assert!(policy.hit(&c, 0, now).is_allowed());
}

#[test]
fn seconds_and_timespans_round_up() {
    assert_eq!(retry_after_secs(Duration::ZERO), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    assert_eq!(retry_after_secs(secs(5)), 5);
    assert_eq!(format_timespan(Duration::from_millis(59_001)), "00:01:00");
    assert_eq!(format_timespan(secs(3600 * 23 + 61)), "23:01:01");
    assert_eq!(format_timespan(secs(86_400)), "1.00:00:00");
}
