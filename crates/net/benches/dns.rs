//! What a backend request pays to resolve its host when the answer is already known: the
//! resolver runs before every backend connection, so a cache hit and a private-zone answer must
//! cost next to nothing.
//!
//! - `cache_hit_*`: `resolve` of a warm name (A, TTL one hour, floor and ceiling one hour so it
//!   never expires mid-run), answered by a loopback DNS server once during setup. `no_zones` has
//!   no private zones; `with_zones` has 100 (the name is under none, so every call also checks
//!   its suffixes against them first); `mixed_case` pays for lowercasing the name. Run on 1 and
//!   4 threads: hits only take the read lock.
//! - `private_zone_*`: an exact record, a wildcard two labels down, and a one-hop CNAME.
//! - `literal`: an IP address (parse only).
//!
//! A hit never waits, so each future is polled once with a no-op waker: the figures are the
//! resolver's own cost, without an executor's.

use divan::{Bencher, black_box};
use gatehouse_model::network::{Dns, DnsCache, PrivateZone};
use gatehouse_net::dns::{Answer, DnsError, Resolver, Source};
use hickory_resolver::proto::op::Message;
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{SocketAddr, UdpSocket};
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

fn main() {
    divan::main();
}

const WARM: &str = "www.example.com";

struct Setup {
    plain: Resolver,
    zoned: Resolver,
    /// Keeps the runtime the warm-up ran on (and hickory's background tasks) alive.
    _rt: tokio::runtime::Runtime,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let server = start_server();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let plain = Resolver::new(Some(&config(server, Vec::new()))).expect("resolver");
        let zoned = Resolver::new(Some(&config(server, zones()))).expect("resolver");
        for r in [&plain, &zoned] {
            let a = rt.block_on(r.resolve(WARM)).expect("warm-up");
            assert!(matches!(a.source, Source::Server { .. }));
            let hit = poll_once(r.resolve(WARM)).expect("hit");
            assert_eq!(hit.source, Source::Cache);
        }
        Setup {
            plain,
            zoned,
            _rt: rt,
        }
    })
}

fn config(server: SocketAddr, private_zones: Vec<PrivateZone>) -> Dns {
    Dns {
        servers: vec![server.to_string()],
        private_zones,
        cache: DnsCache {
            min_ttl_seconds: 3_600,
            max_ttl_seconds: 3_600,
            negative_ttl_seconds: 60,
            max_entries: 10_000,
        },
        timeout_ms: 1_000,
        attempts: 2,
    }
}

fn zones() -> Vec<PrivateZone> {
    let rec = |pairs: &[(&str, &str, &str)]| {
        let mut m: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for (name, kind, value) in pairs {
            m.entry((*name).into())
                .or_default()
                .insert((*kind).into(), vec![(*value).into()]);
        }
        m
    };
    let mut out = vec![PrivateZone {
        zone: "contoso.internal".into(),
        records: rec(&[
            ("orders", "A", "10.10.2.5"),
            ("api", "CNAME", "orders.contoso.internal"),
            ("*", "A", "10.10.9.9"),
        ]),
    }];
    for i in 0..99 {
        out.push(PrivateZone {
            zone: format!("team{i}.privatelink.example.net"),
            records: rec(&[("app", "A", "10.20.0.1")]),
        });
    }
    out
}

/// A loopback DNS server for the warm-up: A 203.0.113.10 (TTL one hour) for any name, no AAAA.
fn start_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
            reply.metadata.recursion_available = true;
            reply.add_queries(query.queries.iter().cloned());
            if let Some(q) = query.queries.first()
                && q.query_type() == RecordType::A
            {
                let rdata = RData::A(A([203, 0, 113, 10].into()));
                reply.add_answer(Record::from_rdata(q.name().clone(), 3_600, rdata));
            }
            if let Ok(bytes) = reply.to_vec() {
                let _ = socket.send_to(&bytes, peer);
            }
        }
    });
    addr
}

fn poll_once<F: Future<Output = Result<Answer, DnsError>>>(f: F) -> Result<Answer, DnsError> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("not answered at once: not a cache hit"),
    }
}

#[divan::bench(threads = [1, 4])]
fn cache_hit_no_zones(b: Bencher) {
    let r = &setup().plain;
    b.bench(|| poll_once(r.resolve(black_box(WARM))));
}

#[divan::bench(threads = [1, 4])]
fn cache_hit_with_zones(b: Bencher) {
    let r = &setup().zoned;
    b.bench(|| poll_once(r.resolve(black_box(WARM))));
}

#[divan::bench]
fn cache_hit_mixed_case(b: Bencher) {
    let r = &setup().plain;
    b.bench(|| poll_once(r.resolve(black_box("WWW.Example.com."))));
}

#[divan::bench]
fn private_zone_exact(b: Bencher) {
    let r = &setup().zoned;
    b.bench(|| poll_once(r.resolve(black_box("orders.contoso.internal"))));
}

#[divan::bench]
fn private_zone_wildcard(b: Bencher) {
    let r = &setup().zoned;
    b.bench(|| poll_once(r.resolve(black_box("a.b.contoso.internal"))));
}

#[divan::bench]
fn private_zone_cname(b: Bencher) {
    let r = &setup().zoned;
    b.bench(|| poll_once(r.resolve(black_box("api.contoso.internal"))));
}

#[divan::bench]
fn literal(b: Bencher) {
    let r = &setup().plain;
    b.bench(|| poll_once(r.resolve(black_box("10.10.2.5"))));
}
