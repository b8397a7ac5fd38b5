//! The policy cache store and the response-cache key through the public API. The TTL test
//! sleeps about 0.6 s in total.

use std::thread::sleep;
use std::time::Duration;

use gatehouse_policy::cache::{
    CacheLookup, CachedEntry, CachedResponse, CachingType, DownstreamCaching, InMemoryCache,
    ResponseCacheKeyParts, downstream_cache_control, lookup_applies, parse_duration, response_key,
    store_applies, value_key,
};
use gatehouse_policy::expr::Value;

fn response(body: &[u8]) -> CachedEntry {
    CachedEntry::Response(CachedResponse {
        status: 200,
        reason: "OK".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_vec(),
    })
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn put_get_replace_remove() {
    let c = InMemoryCache::new(1 << 20);
    assert_eq!(c.get("k"), None);
    c.put("k".into(), CachedEntry::Value(Value::str("one")), MINUTE);
    assert_eq!(c.get("k"), Some(CachedEntry::Value(Value::str("one"))));
    c.put("k".into(), CachedEntry::Value(Value::Int(2)), MINUTE);
    assert_eq!(c.get("k"), Some(CachedEntry::Value(Value::Int(2))));
    c.put("r".into(), response(b"{}"), MINUTE);
    assert_eq!(c.get("r"), Some(response(b"{}")));
    c.remove("k");
    assert_eq!(c.get("k"), None);
    c.remove("absent");
    assert_eq!(c.get("r"), Some(response(b"{}")));
    match c.get_with_ttl("r") {
        Some((e, Some(left))) => {
            assert_eq!(e, response(b"{}"));
            assert!(left <= MINUTE && left > Duration::from_secs(50), "{left:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn entries_expire_after_their_own_ttl() {
    let c = InMemoryCache::new(1 << 20);
    c.put(
        "short".into(),
        CachedEntry::Value(Value::Int(1)),
        Duration::from_millis(250),
    );
    c.put("long".into(), CachedEntry::Value(Value::Int(2)), MINUTE);
    // Rewriting restarts the clock with the new TTL.
    c.put(
        "rewritten".into(),
        CachedEntry::Value(Value::Int(3)),
        MINUTE,
    );
    c.put(
        "rewritten".into(),
        CachedEntry::Value(Value::Int(4)),
        Duration::from_millis(250),
    );
    assert!(c.get("short").is_some());
    sleep(Duration::from_millis(100));
    // Reads do not extend an entry's life.
    assert!(c.get("short").is_some());
    sleep(Duration::from_millis(350));
    assert_eq!(c.get("short"), None);
    assert_eq!(c.get("rewritten"), None);
    assert_eq!(c.get("long"), Some(CachedEntry::Value(Value::Int(2))));
}

#[test]
fn zero_ttl_removes() {
    let c = InMemoryCache::new(1 << 20);
    c.put("k".into(), CachedEntry::Value(Value::Int(1)), MINUTE);
    c.put(
        "k".into(),
        CachedEntry::Value(Value::Int(2)),
        Duration::ZERO,
    );
    assert_eq!(c.get("k"), None);
}

#[test]
fn oversized_entries_are_not_stored_and_drop_the_old_value() {
    let c = InMemoryCache::new(4096);
    c.put("k".into(), response(b"small"), MINUTE);
    assert!(c.get("k").is_some());
    c.put("k".into(), response(&[0u8; 8192]), MINUTE);
    assert_eq!(c.get("k"), None);
    c.run_pending_tasks();
    assert_eq!(c.entry_count(), 0);
}

#[test]
fn byte_bound_evicts() {
    let max = 64 * 1024;
    let c = InMemoryCache::new(max);
    // 40 entries of ~4 KiB each: far more than 64 KiB.
    for i in 0..40 {
        c.put(format!("k{i}"), response(&[b'x'; 4096]), MINUTE);
        c.run_pending_tasks();
    }
    c.run_pending_tasks();
    assert!(c.weighted_size() <= max, "{}", c.weighted_size());
    let live = (0..40)
        .filter(|i| c.get(&format!("k{i}")).is_some())
        .count();
    assert!(live > 0 && live < 40, "{live}");
    assert!(c.entry_count() <= 16, "{}", c.entry_count());
}

#[test]
fn value_entries_weigh_by_content() {
    let small = CachedEntry::Value(Value::str("x"));
    let big = CachedEntry::Value(Value::Array(vec![Value::str("y".repeat(10_000))]));
    assert!(big.approx_bytes() > small.approx_bytes() + 9_000);
    let json = CachedEntry::Value(Value::json(&serde_json::json!({"a": "z".repeat(5000)})));
    assert!(json.approx_bytes() > 5000);
}

#[test]
fn value_keys_never_collide_with_response_keys() {
    let l = lookup(&[], &[], false, false);
    let r = response_key(&parts("GET", "/x", &[]), &|_| None, &l);
    assert_ne!(value_key(&r), r);
    assert!(value_key("k").starts_with("value:"));
    assert!(r.starts_with("response:"));
}

fn lookup(headers: &[&str], params: &[&str], dev: bool, groups: bool) -> CacheLookup<()> {
    CacheLookup {
        vary_by_developer: dev,
        vary_by_developer_groups: groups,
        caching_type: CachingType::Internal,
        downstream_caching_type: None,
        must_revalidate: true,
        allow_private_response_caching: None,
        vary_by_headers: headers.iter().map(|s| s.to_string()).collect(),
        vary_by_query_parameters: params.iter().map(|s| s.to_string()).collect(),
    }
}

fn parts<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a [(String, String)],
) -> ResponseCacheKeyParts<'a> {
    ResponseCacheKeyParts {
        api_id: "echo",
        operation_id: "get-thing",
        method,
        path,
        query,
        developer: None,
        developer_groups: &[],
    }
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn key_varies_only_by_listed_query_parameters() {
    let l = lookup(&[], &["a", "version"], false, false);
    let none = |_: &str| None;
    let k1 = response_key(
        &parts("GET", "/t", &q(&[("version", "1"), ("a", "x")])),
        &none,
        &l,
    );
    // Order of parameters and unlisted parameters do not matter; names are case-insensitive.
    let k2 = response_key(
        &parts(
            "get",
            "/t",
            &q(&[("A", "x"), ("other", "9"), ("version", "1")]),
        ),
        &none,
        &l,
    );
    assert_eq!(k1, k2);
    let k3 = response_key(
        &parts("GET", "/t", &q(&[("version", "2"), ("a", "x")])),
        &none,
        &l,
    );
    assert_ne!(k1, k3);
    // A missing parameter differs from an empty one.
    let missing = response_key(&parts("GET", "/t", &q(&[("version", "1")])), &none, &l);
    let empty = response_key(
        &parts("GET", "/t", &q(&[("version", "1"), ("a", "")])),
        &none,
        &l,
    );
    assert_ne!(missing, empty);
    // The path always counts.
    let other_path = response_key(
        &parts("GET", "/u", &q(&[("version", "1"), ("a", "x")])),
        &none,
        &l,
    );
    assert_ne!(k1, other_path);
}

#[test]
fn key_varies_by_listed_headers() {
    let l = lookup(&["accept"], &[], false, false);
    let json = |n: &str| (n == "accept").then(|| "application/json".to_string());
    let xml = |n: &str| (n == "accept").then(|| "application/xml".to_string());
    let json_and_more = |n: &str| match n {
        "accept" => Some("application/json".to_string()),
        _ => Some("ignored".to_string()),
    };
    let p = parts("GET", "/t", &[]);
    assert_ne!(response_key(&p, &json, &l), response_key(&p, &xml, &l));
    assert_eq!(
        response_key(&p, &json, &l),
        response_key(&p, &json_and_more, &l)
    );
    assert_ne!(response_key(&p, &json, &l), response_key(&p, &|_| None, &l));
}

#[test]
fn key_varies_by_developer_only_when_asked() {
    let mut p = parts("GET", "/t", &[]);
    let none = |_: &str| None;
    let anon = response_key(&p, &none, &lookup(&[], &[], true, false));
    let shared = response_key(&p, &none, &lookup(&[], &[], false, false));
    p.developer = Some("alice");
    let alice = response_key(&p, &none, &lookup(&[], &[], true, false));
    assert_eq!(
        shared,
        response_key(&p, &none, &lookup(&[], &[], false, false))
    );
    p.developer = Some("bob");
    let bob = response_key(&p, &none, &lookup(&[], &[], true, false));
    assert_ne!(alice, bob);
    assert_ne!(alice, anon);

    let g1 = ["b".to_string(), "a".to_string()];
    let g2 = ["a".to_string(), "b".to_string()];
    let g3 = ["a".to_string()];
    let by_groups = lookup(&[], &[], false, true);
    p.developer_groups = &g1;
    let k1 = response_key(&p, &none, &by_groups);
    p.developer = Some("alice");
    p.developer_groups = &g2;
    // Same groups in another order, another developer: same entry.
    assert_eq!(k1, response_key(&p, &none, &by_groups));
    p.developer_groups = &g3;
    assert_ne!(k1, response_key(&p, &none, &by_groups));
}

#[test]
fn what_is_cached() {
    assert!(lookup_applies("GET", false, false));
    assert!(lookup_applies("get", false, false));
    assert!(!lookup_applies("POST", false, false));
    assert!(!lookup_applies("HEAD", false, false));
    assert!(!lookup_applies("GET", true, false));
    assert!(lookup_applies("GET", true, true));
    assert!(store_applies(200, false));
    assert!(!store_applies(404, false));
    assert!(!store_applies(201, false));
    assert!(store_applies(404, true));
}

#[test]
fn downstream_headers_and_durations() {
    assert_eq!(
        downstream_cache_control(DownstreamCaching::Public, true, Duration::from_secs(3600)),
        "public, max-age=3600, must-revalidate"
    );
    assert_eq!(
        DownstreamCaching::parse("private"),
        Some(DownstreamCaching::Private)
    );
    assert_eq!(DownstreamCaching::parse("Private"), None);
    assert_eq!(CachingType::parse("external"), Some(CachingType::External));
    assert_eq!(parse_duration(" 30 "), Some(Duration::from_secs(30)));
    assert_eq!(parse_duration("-1"), None);
    assert_eq!(parse_duration("1.5"), None);
}
