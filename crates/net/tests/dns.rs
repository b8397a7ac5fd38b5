//! The resolver against a real DNS server on loopback: the testkit's scripted UDP + TCP server
//! ([`DnsServer`]), so each test chooses per name and per query what the server says (records
//! with chosen TTLs, NXDOMAIN, SERVFAIL, silence, a truncated UDP answer, a different answer on
//! the next query) and counts what it was asked.

use gatehouse_model::network::{Dns, DnsCache, PrivateZone};
use gatehouse_net::dns::{Answer, DnsError, PRIVATE_ZONE_TTL, Resolver, Source};
use gatehouse_testkit::dns::{DnsServer, Query, QueryType, Record, Reply};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers

fn config(server: SocketAddr, min_ttl: u32, max_ttl: u32, negative_ttl: u32) -> Dns {
    Dns {
        servers: vec![server.to_string()],
        private_zones: Vec::new(),
        cache: DnsCache {
            min_ttl_seconds: min_ttl,
            max_ttl_seconds: max_ttl,
            negative_ttl_seconds: negative_ttl,
            max_entries: 1_000,
        },
        timeout_ms: 500,
        attempts: 2,
    }
}

fn zone(name: &str, records: &[(&str, &str, &[&str])]) -> PrivateZone {
    let mut map: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (rel, kind, values) in records {
        map.entry((*rel).into()).or_default().insert(
            (*kind).into(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }
    PrivateZone {
        zone: name.into(),
        records: map,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| ip(s)).collect()
}

fn server_source(server: &DnsServer) -> Source {
    Source::Server {
        server: server.addr().to_string(),
    }
}

async fn ok(r: &Resolver, name: &str) -> Answer {
    match r.resolve(name).await {
        Ok(a) => a,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// Polls until `f` holds, for at most `within`.
async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

/// The scripted "internet" most tests share.
fn public_script(q: &Query) -> Reply {
    match q.name.as_str() {
        "www.example.com" => {
            Reply::addrs(60, ips(&["203.0.113.10", "203.0.113.11", "2001:db8::10"]))
        }
        "short.example.com" => Reply::addrs(1, ips(&["203.0.113.20"])),
        "long.example.com" => Reply::addrs(86_400, ips(&["203.0.113.21"])),
        "alias.example.com" => Reply::Records(vec![
            Record::cname(300, "edge.example.net"),
            Record::cname(30, "pop.example.net").named("edge.example.net"),
            Record::addr(120, ip("198.51.100.50")).named("pop.example.net"),
        ]),
        "backend.example.com" => Reply::addrs(120, ips(&["203.0.113.7"])),
        "orders.contoso.internal" | "anything.contoso.internal" => {
            // What a public server would say for a name the private zone overrides.
            Reply::addrs(60, ips(&["203.0.113.66"]))
        }
        "nodata.example.com" => Reply::empty(),
        "servfail.example.com" => Reply::ServFail,
        "refused.example.com" => Reply::Refused,
        "silent.example.com" => Reply::Silent,
        "big.example.com" => Reply::TruncatedUdp(vec![Record::addr(60, ip("203.0.113.30"))]),
        _ => Reply::NxDomain,
    }
}

// ---------------------------------------------------------------------------------------------
// Servers, TTLs and the cache

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answers_a_and_aaaa_then_the_cache_does() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 10))).unwrap();

    let a = ok(&r, "www.example.com").await;
    assert_eq!(a.name, "www.example.com");
    assert_eq!(
        a.addrs,
        ips(&["203.0.113.10", "203.0.113.11", "2001:db8::10"])
    );
    assert_eq!(a.source, server_source(&server));
    assert_eq!(a.ttl_left, Duration::from_secs(60));
    assert!(a.cname_chain.is_empty());
    assert_eq!(server.queries_of("www.example.com", QueryType::A), 1);
    assert_eq!(server.queries_of("www.example.com", QueryType::Aaaa), 1);

    // Same name, other spelling: normalised, answered by the cache.
    let b = ok(&r, "WWW.Example.COM.").await;
    assert_eq!(b.name, "www.example.com");
    assert_eq!(b.addrs, a.addrs);
    assert_eq!(b.source, Source::Cache);
    assert!(b.ttl_left <= Duration::from_secs(60) && b.ttl_left > Duration::from_secs(58));
    assert_eq!(server.queries("www.example.com"), 2, "no new query");

    // Clones share the cache.
    let clone = r.clone();
    assert_eq!(ok(&clone, "www.example.com").await.source, Source::Cache);

    // resolve_fresh asks again and rewrites the cache.
    let fresh = r.resolve_fresh("www.example.com").await.unwrap();
    assert_eq!(fresh.source, server_source(&server));
    assert_eq!(server.queries("www.example.com"), 4);

    // clear_cache forgets it.
    r.clear_cache();
    assert_eq!(
        ok(&r, "www.example.com").await.source,
        server_source(&server)
    );
    assert_eq!(server.queries("www.example.com"), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_floor_and_ceiling() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 3, 60, 10))).unwrap();

    // TTL 1 s, floor 3 s: cached 3 s, so still a plain cache hit after 1.5 s.
    let a = ok(&r, "short.example.com").await;
    assert_eq!(a.ttl_left, Duration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let b = ok(&r, "short.example.com").await;
    assert_eq!(b.source, Source::Cache);
    assert!(
        b.ttl_left <= Duration::from_millis(1_500),
        "{:?}",
        b.ttl_left
    );
    assert_eq!(server.queries("short.example.com"), 2);

    // TTL one day, ceiling 60 s.
    let c = ok(&r, "long.example.com").await;
    assert_eq!(c.ttl_left, Duration::from_secs(60));
    let d = ok(&r, "long.example.com").await;
    assert_eq!(d.source, Source::Cache);
    assert!(d.ttl_left <= Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_entry_is_served_stale_and_refreshed_once_in_the_background() {
    // A records, TTL 1 s: .1 at once, then .2 after 150 ms (so that the 20 concurrent
    // requests below all find the entry stale), then .3 after 400 ms, so a request waiting on
    // the refresh would show. hickory retransmits a UDP query unanswered after 333 ms, so the
    // query count is exact only up to the second answer.
    let server = DnsServer::start(|q| match (q.name.as_str(), q.qtype, q.nth) {
        ("app.example.com", QueryType::A, 0) => Reply::addrs(1, ips(&["198.51.100.1"])),
        ("app.example.com", QueryType::A, 1) => {
            Reply::addrs(1, ips(&["198.51.100.2"])).after(Duration::from_millis(150))
        }
        ("app.example.com", QueryType::A, _) => {
            Reply::addrs(1, ips(&["198.51.100.3"])).after(Duration::from_millis(400))
        }
        ("app.example.com", _, _) => Reply::empty(),
        _ => Reply::NxDomain,
    })
    .await
    .unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 1, 30, 10))).unwrap();

    let first = ok(&r, "app.example.com").await;
    assert_eq!(first.addrs, ips(&["198.51.100.1"]));
    assert_eq!(first.ttl_left, Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    // 20 concurrent requests on the expired entry: all stale, one refresh between them.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let r = r.clone();
        tasks.push(tokio::spawn(
            async move { r.resolve("app.example.com").await },
        ));
    }
    for t in tasks {
        let a = t.await.unwrap().unwrap();
        assert_eq!(a.source, Source::CacheStale);
        assert_eq!(a.addrs, ips(&["198.51.100.1"]));
        assert_eq!(a.ttl_left, Duration::ZERO);
    }
    let refreshed = eventually(Duration::from_secs(3), || {
        futures_now(&r, "app.example.com").is_some_and(|a| a.source == Source::Cache)
    })
    .await;
    assert!(refreshed, "the refresh never landed");
    let a = ok(&r, "app.example.com").await;
    assert_eq!(a.addrs, ips(&["198.51.100.2"]));
    assert_eq!(a.source, Source::Cache);
    assert_eq!(server.queries_of("app.example.com", QueryType::A), 2);
    assert_eq!(server.queries_of("app.example.com", QueryType::Aaaa), 2);

    // Expired again, and this refresh is slow: requests still get the stale answer at once.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let started = Instant::now();
    for _ in 0..10 {
        let a = ok(&r, "app.example.com").await;
        assert_eq!(a.source, Source::CacheStale);
        assert_eq!(a.addrs, ips(&["198.51.100.2"]));
    }
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "stale answers took {:?}",
        started.elapsed()
    );
    let refreshed = eventually(Duration::from_secs(3), || {
        futures_now(&r, "app.example.com").is_some_and(|a| a.source == Source::Cache)
    })
    .await;
    assert!(refreshed, "the slow refresh never landed");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(
        ok(&r, "app.example.com").await.addrs,
        ips(&["198.51.100.3"])
    );
}

/// A cache hit completes without waiting: poll it once.
fn futures_now(r: &Resolver, name: &str) -> Option<Answer> {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(r.resolve(name));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(a)) => Some(a),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_refresh_keeps_the_stale_entry_until_the_window_ends() {
    let server = DnsServer::start(|q| match (q.name.as_str(), q.nth) {
        ("flaky.example.com", 0) => Reply::addrs(1, ips(&["198.51.100.9"])),
        ("flaky.example.com", _) => Reply::ServFail,
        _ => Reply::NxDomain,
    })
    .await
    .unwrap();
    // TTL 1 s, stale window = max_ttl = 2 s: stale from 1 s to 3 s.
    let r = Resolver::new(Some(&config(server.addr(), 1, 2, 10))).unwrap();
    let start = Instant::now();
    assert_eq!(
        ok(&r, "flaky.example.com").await.source,
        server_source(&server)
    );

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let a = ok(&r, "flaky.example.com").await;
    assert_eq!(a.source, Source::CacheStale);
    // The refresh fails (SERVFAIL)...
    assert!(
        eventually(Duration::from_secs(1), || {
            server.queries_of("flaky.example.com", QueryType::A) >= 2
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...and the stale answer is still served.
    let b = ok(&r, "flaky.example.com").await;
    assert_eq!(b.source, Source::CacheStale);
    assert_eq!(b.addrs, ips(&["198.51.100.9"]));

    // Past the stale window, the error surfaces.
    let until = start + Duration::from_millis(3_300);
    tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
    match r.resolve("flaky.example.com").await {
        Err(DnsError::ServerFailure {
            name,
            server: s,
            detail,
        }) => {
            assert_eq!(name, "flaky.example.com");
            assert_eq!(s, server.addr().to_string());
            assert_eq!(detail, "SERVFAIL");
        }
        other => panic!("expected ServerFailure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_answers_are_cached_for_negative_ttl() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 1))).unwrap();

    for _ in 0..3 {
        match r.resolve("missing.example.com").await {
            Err(e @ DnsError::NotFound { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("missing.example.com"), "{msg}");
                assert!(msg.contains(&server.addr().to_string()), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.queries("missing.example.com"), 2, "one A, one AAAA");

    for _ in 0..3 {
        assert!(matches!(
            r.resolve("nodata.example.com").await,
            Err(DnsError::NoRecords { .. })
        ));
    }
    assert_eq!(server.queries("nodata.example.com"), 2);

    // negative_ttl 1 s: asked again afterwards (never served stale).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(matches!(
        r.resolve("missing.example.com").await,
        Err(DnsError::NotFound { .. })
    ));
    assert_eq!(server.queries("missing.example.com"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_and_refused_fail_fast_and_are_not_cached() {
    let server = DnsServer::start(public_script).await.unwrap();
    let mut cfg = config(server.addr(), 5, 300, 10);
    cfg.timeout_ms = 2_000;
    let r = Resolver::new(Some(&cfg)).unwrap();

    let started = Instant::now();
    let e = r.resolve("servfail.example.com").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&e, DnsError::ServerFailure { detail, .. } if detail == "SERVFAIL"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("servfail.example.com") && msg.contains(&server.addr().to_string()));

    let before = server.queries("servfail.example.com");
    assert!(r.resolve("servfail.example.com").await.is_err());
    assert!(
        server.queries("servfail.example.com") > before,
        "not cached"
    );

    let e = r.resolve("refused.example.com").await.unwrap_err();
    assert!(
        matches!(&e, DnsError::ServerFailure { detail, .. } if detail == "REFUSED"),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out_within_timeout_times_attempts() {
    let server = DnsServer::start(public_script).await.unwrap();
    let mut cfg = config(server.addr(), 5, 300, 10);
    cfg.timeout_ms = 200;
    cfg.attempts = 2;
    let r = Resolver::new(Some(&cfg)).unwrap();

    for _ in 0..2 {
        let started = Instant::now();
        let e = r.resolve("silent.example.com").await.unwrap_err();
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_millis(900),
            "took {took:?}"
        );
        match &e {
            DnsError::Timeout {
                name,
                server: s,
                after,
            } => {
                assert_eq!(name, "silent.example.com");
                assert_eq!(s, &server.addr().to_string());
                assert!(*after <= took);
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(e.to_string().contains("silent.example.com"));
    }
    // Two tries per type per lookup, and nothing cached between the two lookups.
    assert_eq!(
        server.queries_of("silent.example.com", QueryType::A),
        4,
        "tries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_answers_when_the_first_is_silent() {
    let dead = DnsServer::start(|_| Reply::Silent).await.unwrap();
    let live = DnsServer::start(public_script).await.unwrap();
    let mut cfg = config(dead.addr(), 5, 300, 10);
    cfg.servers.push(live.addr().to_string());
    cfg.timeout_ms = 1_000;
    let r = Resolver::new(Some(&cfg)).unwrap();
    let started = Instant::now();
    let a = ok(&r, "www.example.com").await;
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(a.addrs[0], "203.0.113.10".parse::<IpAddr>().unwrap());
    // hickory doesn't say which server answered: the source names both.
    assert_eq!(
        a.source,
        Source::Server {
            server: format!("{}, {}", dead.addr(), live.addr())
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cname_chain_is_reported_with_the_smallest_ttl() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 10))).unwrap();
    let a = ok(&r, "alias.example.com").await;
    assert_eq!(a.addrs, ips(&["198.51.100.50"]));
    assert_eq!(a.cname_chain, ["edge.example.net", "pop.example.net"]);
    assert_eq!(a.ttl_left, Duration::from_secs(30));
    let b = ok(&r, "alias.example.com").await;
    assert_eq!(b.source, Source::Cache);
    assert_eq!(b.cname_chain, a.cname_chain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_udp_answer_is_retried_over_tcp() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 10))).unwrap();
    let a = ok(&r, "big.example.com").await;
    assert_eq!(a.addrs, ips(&["203.0.113.30"]));
    assert!(server.tcp_queries() >= 1, "TCP was not used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_keeps_at_most_max_entries() {
    let server = DnsServer::start(|q| {
        if q.qtype == QueryType::A && q.name.ends_with(".example.com") {
            let (owner, ip) = match q.name.as_str() {
                "a.example.com" => ("a.example.com", Ipv4Addr::new(203, 0, 113, 1)),
                "b.example.com" => ("b.example.com", Ipv4Addr::new(203, 0, 113, 2)),
                _ => ("c.example.com", Ipv4Addr::new(203, 0, 113, 3)),
            };
            Reply::Records(vec![Record::addr(60, ip).named(owner)])
        } else {
            Reply::empty()
        }
    })
    .await
    .unwrap();
    let mut cfg = config(server.addr(), 5, 300, 10);
    cfg.cache.max_entries = 2;
    let r = Resolver::new(Some(&cfg)).unwrap();
    for n in ["a.example.com", "b.example.com", "c.example.com"] {
        ok(&r, n).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // a, the oldest, was evicted; c is still there.
    assert_eq!(ok(&r, "c.example.com").await.source, Source::Cache);
    assert_eq!(ok(&r, "a.example.com").await.source, server_source(&server));
}

// ---------------------------------------------------------------------------------------------
// Private zones

fn contoso() -> Vec<PrivateZone> {
    vec![
        zone(
            "contoso.internal",
            &[
                ("@", "A", &["10.10.0.1"]),
                ("orders", "A", &["10.10.2.5", "10.10.2.6"]),
                ("orders", "AAAA", &["fd00::2:5"]),
                ("api", "CNAME", &["orders.contoso.internal"]),
                ("hop", "CNAME", &["api.contoso.internal."]),
                ("ext", "CNAME", &["backend.example.com"]),
                ("loop1", "CNAME", &["loop2.contoso.internal"]),
                ("loop2", "CNAME", &["loop1.contoso.internal"]),
                ("*", "A", &["10.10.9.9"]),
                ("*.eu", "A", &["10.10.8.8"]),
            ],
        ),
        // A longer zone under the first one answers for its own names.
        zone("db.contoso.internal", &[("primary", "A", &["10.10.5.1"])]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_zone_answers_and_is_never_forwarded() {
    let server = DnsServer::start(public_script).await.unwrap();
    let mut cfg = config(server.addr(), 5, 300, 10);
    cfg.private_zones = contoso();
    let r = Resolver::new(Some(&cfg)).unwrap();
    let zone_src = |z: &str| Source::PrivateZone { zone: z.into() };

    // Exact record, overriding what the server would say.
    let a = ok(&r, "Orders.Contoso.Internal").await;
    assert_eq!(a.name, "orders.contoso.internal");
    assert_eq!(a.addrs, ips(&["10.10.2.5", "10.10.2.6", "fd00::2:5"]));
    assert_eq!(a.source, zone_src("contoso.internal"));
    assert_eq!(a.ttl_left, PRIVATE_ZONE_TTL);
    // Not cached: still the zone the second time.
    assert_eq!(
        ok(&r, "orders.contoso.internal").await.source,
        zone_src("contoso.internal")
    );
    assert_eq!(
        r.resolve_fresh("orders.contoso.internal")
            .await
            .unwrap()
            .source,
        zone_src("contoso.internal")
    );

    // Apex.
    assert_eq!(ok(&r, "contoso.internal").await.addrs, ips(&["10.10.0.1"]));
    // Wildcards: one or more labels, the closest wins.
    assert_eq!(
        ok(&r, "anything.contoso.internal").await.addrs,
        ips(&["10.10.9.9"])
    );
    assert_eq!(
        ok(&r, "a.b.c.contoso.internal").await.addrs,
        ips(&["10.10.9.9"])
    );
    assert_eq!(
        ok(&r, "x.eu.contoso.internal").await.addrs,
        ips(&["10.10.8.8"])
    );
    // The longer zone: its record, and NXDOMAIN for what it lacks (no wildcard there, and the
    // parent zone's wildcard doesn't reach into it).
    let db = ok(&r, "primary.db.contoso.internal").await;
    assert_eq!(db.addrs, ips(&["10.10.5.1"]));
    assert_eq!(db.source, zone_src("db.contoso.internal"));
    match r.resolve("replica.db.contoso.internal").await {
        Err(e @ DnsError::NotFound { .. }) => {
            assert!(
                e.to_string().contains("private zone db.contoso.internal"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }

    // CNAMEs within the zone.
    let api = ok(&r, "api.contoso.internal").await;
    assert_eq!(api.addrs, ips(&["10.10.2.5", "10.10.2.6", "fd00::2:5"]));
    assert_eq!(api.cname_chain, ["orders.contoso.internal"]);
    let hop = ok(&r, "hop.contoso.internal").await;
    assert_eq!(
        hop.cname_chain,
        ["api.contoso.internal", "orders.contoso.internal"]
    );
    assert!(matches!(
        r.resolve("loop1.contoso.internal").await,
        Err(DnsError::CnameLoop { .. })
    ));

    // Nothing above reached the server.
    assert_eq!(
        server.total_queries(),
        0,
        "a private-zone name was forwarded"
    );

    // A CNAME out of the zone is resolved through the server (and its cache).
    let ext = ok(&r, "ext.contoso.internal").await;
    assert_eq!(ext.addrs, ips(&["203.0.113.7"]));
    assert_eq!(ext.cname_chain, ["backend.example.com"]);
    assert_eq!(ext.source, server_source(&server));
    assert!(ext.ttl_left <= PRIVATE_ZONE_TTL);
    assert_eq!(server.queries("backend.example.com"), 2);
    let again = ok(&r, "ext.contoso.internal").await;
    assert_eq!(again.source, Source::Cache);
    assert_eq!(server.queries("backend.example.com"), 2);
    assert_eq!(server.queries("ext.contoso.internal"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_zone_missing_name_is_not_found_without_a_query() {
    let server = DnsServer::start(public_script).await.unwrap();
    let mut cfg = config(server.addr(), 5, 300, 10);
    cfg.private_zones = vec![zone(
        "corp.internal",
        &[("app", "A", &["10.1.1.1"]), ("empty", "A", &[])],
    )];
    let r = Resolver::new(Some(&cfg)).unwrap();
    match r.resolve("nope.corp.internal").await {
        Err(DnsError::NotFound { name, server: s }) => {
            assert_eq!(name, "nope.corp.internal");
            assert_eq!(s, "private zone corp.internal");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.resolve("empty.corp.internal").await,
        Err(DnsError::NoRecords { .. })
    ));
    // The zone has no apex record: the apex is in the zone, so not forwarded either.
    assert!(matches!(
        r.resolve("corp.internal").await,
        Err(DnsError::NotFound { .. })
    ));
    assert_eq!(server.total_queries(), 0);
    // A name merely ending like the zone is not under it.
    assert!(matches!(
        r.resolve("xcorp.internal").await,
        Err(DnsError::NotFound { .. })
    ));
    assert_eq!(server.queries("xcorp.internal"), 2);
}

// ---------------------------------------------------------------------------------------------
// Literals, names, rebinding, configuration

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_literals_are_returned_as_is() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 10))).unwrap();
    for (host, ip) in [
        ("10.0.0.1", "10.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("::1", "::1"),
        ("[fd00::1]", "fd00::1"),
    ] {
        let a = ok(&r, host).await;
        assert_eq!(a.name, ip);
        assert_eq!(a.addrs, ips(&[ip]));
        assert_eq!(a.source, Source::Literal);
        assert!(a.cname_chain.is_empty());
    }
    assert_eq!(server.total_queries(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_names_are_refused_before_any_query() {
    let server = DnsServer::start(public_script).await.unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 5, 300, 10))).unwrap();
    for bad in ["", "a..b", "bad name.com", "evil.com/x", "x.com:443"] {
        match r.resolve(bad).await {
            Err(DnsError::InvalidName { name, .. }) => assert_eq!(name, bad),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(server.total_queries(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebinding_answers_are_reported_as_received() {
    // A public address first, loopback on every later query.
    let server = DnsServer::start(|q| match (q.name.as_str(), q.qtype, q.nth) {
        ("rebind.example.com", QueryType::A, 0) => Reply::addrs(1, ips(&["93.184.216.34"])),
        ("rebind.example.com", QueryType::A, _) => Reply::addrs(1, ips(&["127.0.0.1"])),
        _ => Reply::empty(),
    })
    .await
    .unwrap();
    let r = Resolver::new(Some(&config(server.addr(), 1, 30, 10))).unwrap();

    let first = ok(&r, "rebind.example.com").await;
    assert_eq!(first.addrs, ips(&["93.184.216.34"]));
    assert_eq!(first.source, server_source(&server));
    assert_eq!(
        ok(&r, "rebind.example.com").await.addrs,
        ips(&["93.184.216.34"])
    );

    // After expiry: the stale public answer once, then what the refresh got.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let stale = ok(&r, "rebind.example.com").await;
    assert_eq!(stale.source, Source::CacheStale);
    assert_eq!(stale.addrs, ips(&["93.184.216.34"]));
    assert!(
        eventually(Duration::from_secs(3), || {
            futures_now(&r, "rebind.example.com").is_some_and(|a| a.source == Source::Cache)
        })
        .await
    );
    let rebound = ok(&r, "rebind.example.com").await;
    assert_eq!(rebound.addrs, ips(&["127.0.0.1"]));
    assert_eq!(rebound.source, Source::Cache);

    // And a fresh lookup reports the server's current answer.
    let fresh = r.resolve_fresh("rebind.example.com").await.unwrap();
    assert_eq!(fresh.addrs, ips(&["127.0.0.1"]));
    assert_eq!(fresh.source, server_source(&server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_and_the_system_resolver() {
    let mut cfg = Dns {
        servers: vec!["dns.example.com:53".into()],
        ..Dns::default()
    };
    assert!(matches!(
        Resolver::new(Some(&cfg)),
        Err(DnsError::Config { .. })
    ));
    cfg.servers = vec!["10.0.0.53".into(), "[fd00::53]:5353".into()];
    Resolver::new(Some(&cfg)).unwrap();
    cfg.servers.clear();
    cfg.private_zones = vec![zone("z.internal", &[("a", "TXT", &["hello"])])];
    assert!(matches!(
        Resolver::new(Some(&cfg)),
        Err(DnsError::Config { .. })
    ));

    // No dns section: the system configuration. Literals need no server; "localhost" is
    // answered locally (RFC 6761) or from /etc/hosts, never by a remote server.
    let r = Resolver::new(None).unwrap();
    assert_eq!(ok(&r, "192.0.2.1").await.source, Source::Literal);
    match r.resolve("localhost").await {
        Ok(a) => {
            assert_eq!(a.source, Source::System);
            assert!(a.addrs.iter().all(|ip| ip.is_loopback()), "{a:?}");
        }
        // Only when the host has no resolver configuration at all.
        Err(e @ DnsError::NoServer { .. }) => eprintln!("no system resolver: {e}"),
        Err(e) => panic!("{e}"),
    }
}
