//! The egress guard end to end, on real sockets: listeners on 127.x addresses that a config
//! names (as the gateway's end-to-end tests place virtual networks), a fake resolver that counts
//! its calls and can change its answer between calls (DNS rebinding), the real resolver's
//! private zones. The hyper connector built on the guard is tested with the gateway
//! (crates/gateway/tests/egress_connector.rs).

use gatehouse_net::dns::{DnsError, Resolver, Source};
use gatehouse_net::egress::{
    AddressClass, ConnectError, EgressPolicy, EgressStage, KEEPALIVE_IDLE, connect,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts this thread's allocations, to prove `judge` allocates nothing when it allows.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[path = "support/egress.rs"]
mod support;
use support::*;

/// One request/response over a real socket: the guard connected to the listener, not merely
/// to some address.
async fn ping(client: &mut TcpStream, listener: &TcpListener) {
    let (mut server, _) = tokio::time::timeout(TIMEOUT, listener.accept())
        .await
        .expect("accept in time")
        .expect("accept");
    client.write_all(b"ping").await.expect("write");
    let mut buf = [0u8; 4];
    server.read_exact(&mut buf).await.expect("read");
    assert_eq!(&buf, b"ping");
}

#[tokio::test]
async fn connect_reaches_a_listener_the_config_names() {
    let (listener, addr) = listen("127.10.0.5").await;
    let resolver = FakeResolver::always(&[addr.ip()]);
    let (mut stream, connected) = connect(
        &loopback_vnet(),
        &*resolver,
        "backend.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect("connects");
    assert_eq!(connected.addr, addr);
    assert_eq!(stream.peer_addr().expect("peer"), addr);
    assert_eq!(
        connected.answer_source,
        Source::Server {
            server: "fake".into()
        }
    );
    assert!(connected.refused.is_empty());
    assert_eq!(connected.allowed.class, AddressClass::Loopback);
    assert_eq!(connected.allowed.rule, None, "no NSG on the subnet");
    // TCP_NODELAY and keepalive are set.
    let sock = socket2::SockRef::from(&stream);
    assert!(sock.tcp_nodelay().expect("nodelay"));
    assert!(sock.keepalive().expect("keepalive"));
    #[cfg(target_os = "linux")]
    assert_eq!(sock.tcp_keepalive_time().expect("idle"), KEEPALIVE_IDLE);
    ping(&mut stream, &listener).await;
    assert_eq!(resolver.calls(), 1);
}

#[tokio::test]
async fn refuses_127_0_0_1_when_the_config_does_not_name_it() {
    let (secret, addr) = listen("127.0.0.1").await;
    let resolver = FakeResolver::always(&[addr.ip()]);
    let err = connect(
        &loopback_vnet(),
        &*resolver,
        "metadata.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect_err("refused");
    let ConnectError::AllRefused { host, refused } = &err else {
        panic!("expected AllRefused, got {err}");
    };
    assert_eq!(host, "metadata.test");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].destination, addr);
    assert_eq!(refused[0].stage, EgressStage::AddressClass);
    assert_eq!(refused[0].class, AddressClass::Loopback);
    let text = err.to_string();
    assert!(
        text.starts_with("every address of backend host 'metadata.test' is refused: 127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("127.0.0.1 is a loopback address"), "{text}");
    assert_untouched(&secret, "127.0.0.1").await;

    // The IPv4-mapped form and the metadata address too, as IP literals (no lookup at all).
    for literal in [
        "::ffff:127.0.0.1",
        "[::ffff:127.0.0.1]",
        "169.254.169.254",
        "[::1]",
    ] {
        let err = connect(&loopback_vnet(), &*resolver, literal, addr.port(), TIMEOUT)
            .await
            .expect_err(literal);
        assert!(
            matches!(&err, ConnectError::AllRefused { refused, .. } if refused[0].stage == EgressStage::AddressClass),
            "{literal}: {err}"
        );
    }
    assert_eq!(resolver.calls(), 1, "IP literals are not resolved");
    assert_untouched(&secret, "127.0.0.1").await;
}

#[tokio::test]
async fn tries_the_next_answer_when_the_first_is_refused() {
    let ((listener, addr), (secret, secret_addr)) = listen_pair("127.10.0.6").await;
    let resolver = FakeResolver::always(&[secret_addr.ip(), ip("10.99.0.1"), addr.ip()]);
    let (mut stream, connected) = connect(
        &loopback_vnet(),
        &*resolver,
        "multi.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect("the third answer is allowed");
    assert_eq!(connected.addr, addr);
    let refused: Vec<(IpAddr, EgressStage)> = connected
        .refused
        .iter()
        .map(|r| (r.destination.ip(), r.stage))
        .collect();
    assert_eq!(
        refused,
        [
            (ip("127.0.0.1"), EgressStage::AddressClass),
            (ip("10.99.0.1"), EgressStage::NetworkType)
        ]
    );
    ping(&mut stream, &listener).await;
    assert_untouched(&secret, "127.0.0.1").await;
    assert_eq!(resolver.calls(), 1);
}

/// DNS rebinding: the first lookup answers an allowed address, every later one a forbidden
/// one. The guard connects to what it judged; it never asks again within a connection.
#[tokio::test]
async fn never_re_resolves_between_judging_and_connecting() {
    let ((listener, addr), (secret, _)) = listen_pair("127.10.0.7").await;
    let resolver = FakeResolver::new(vec![Ok(vec![addr.ip()]), Ok(vec![ip("127.0.0.1")])]);
    let (mut stream, connected) = connect(
        &loopback_vnet(),
        &*resolver,
        "rebind.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect("first answer is allowed");
    assert_eq!(resolver.calls(), 1, "one lookup per connection");
    assert_eq!(stream.peer_addr().expect("peer"), addr);
    assert_eq!(connected.addr, addr);
    ping(&mut stream, &listener).await;

    // The next connection sees the rebound answer, judges it, and refuses it.
    let err = connect(
        &loopback_vnet(),
        &*resolver,
        "rebind.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect_err("rebound to loopback");
    assert!(matches!(err, ConnectError::AllRefused { .. }), "{err}");
    assert_eq!(resolver.calls(), 2);
    assert_untouched(&secret, "127.0.0.1").await;
}

/// The issue's form of the attack: a public address first, loopback on the next lookup. The
/// public address is unreachable from the test box (TEST-NET-1), so the attempt fails — but at
/// that address, after one lookup, and the loopback listener never sees a connection.
#[tokio::test]
async fn public_then_loopback_rebinding_never_reaches_loopback() {
    let (secret, secret_addr) = listen("127.0.0.1").await;
    let resolver = FakeResolver::new(vec![Ok(vec![ip("192.0.2.1")]), Ok(vec![ip("127.0.0.1")])]);
    let p = policy("  type: none\n");
    let err = connect(
        &p,
        &*resolver,
        "rebind.test",
        secret_addr.port(),
        Duration::from_millis(300),
    )
    .await
    .expect_err("TEST-NET-1 does not answer");
    match &err {
        ConnectError::Timeout { addr, .. } | ConnectError::Unreachable { addr, .. } => {
            assert_eq!(*addr, SocketAddr::new(ip("192.0.2.1"), secret_addr.port()));
        }
        other => panic!("expected a failed attempt at 192.0.2.1, got {other}"),
    }
    assert_eq!(resolver.calls(), 1);
    assert_untouched(&secret, "127.0.0.1").await;
}

#[tokio::test]
async fn dns_failures_and_empty_answers_are_typed() {
    let failing = FakeResolver::new(vec![Err(DnsError::Timeout {
        name: "slow.test".into(),
        server: "fake".into(),
        after: Duration::from_secs(4),
    })]);
    let err = connect(&loopback_vnet(), &*failing, "slow.test", 443, TIMEOUT)
        .await
        .expect_err("dns");
    assert!(
        matches!(err, ConnectError::Dns(DnsError::Timeout { .. })),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("resolving backend host: DNS lookup of 'slow.test' timed out"),
        "{err}"
    );
    let empty = FakeResolver::always(&[]);
    let err = connect(&loopback_vnet(), &*empty, "empty.test", 443, TIMEOUT)
        .await
        .expect_err("no address");
    assert!(
        matches!(err, ConnectError::NoAddresses { ref host } if host == "empty.test"),
        "{err}"
    );
}

#[tokio::test]
async fn an_allowed_address_that_refuses_falls_through_to_the_next() {
    // Nothing listens at 127.10.0.8 (on the listener's port): the connection is refused there.
    let (listener, addr) = listen("127.10.0.9").await;
    let dead = SocketAddr::new(ip("127.10.0.8"), addr.port());
    let resolver = FakeResolver::always(&[dead.ip(), addr.ip()]);
    let (mut stream, connected) = connect(
        &loopback_vnet(),
        &*resolver,
        "flaky.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect("second address answers");
    assert_eq!(connected.addr, addr);
    ping(&mut stream, &listener).await;
    // Only the dead one: the error names it.
    let resolver = FakeResolver::always(&[dead.ip()]);
    let err = connect(
        &loopback_vnet(),
        &*resolver,
        "dead.test",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect_err("nothing listens");
    assert!(
        matches!(&err, ConnectError::Unreachable { addr: a, .. } if *a == SocketAddr::new(dead.ip(), addr.port())),
        "{err}"
    );
}

#[tokio::test]
async fn the_real_resolver_through_the_trait_private_zone() {
    let (listener, addr) = listen("127.10.0.10").await;
    let net = network(&format!(
        "  type: external\n  virtual_network: {{ address_space: [127.10.0.0/16] }}\n  dns:\n    private_zones:\n      - {{ zone: contoso.internal, records: {{ orders: {{ A: [{}] }}, meta: {{ A: [169.254.169.254] }} }} }}\n",
        addr.ip()
    ));
    let p = EgressPolicy::compile(&net).expect("compiles");
    let resolver = Resolver::new(net.dns.as_ref()).expect("resolver");
    let (mut stream, connected) = connect(
        &p,
        &resolver,
        "orders.contoso.internal",
        addr.port(),
        TIMEOUT,
    )
    .await
    .expect("private zone answer is in the virtual network");
    assert_eq!(connected.addr, addr);
    assert_eq!(
        connected.answer_source,
        Source::PrivateZone {
            zone: "contoso.internal".into()
        }
    );
    ping(&mut stream, &listener).await;
    let err = connect(&p, &resolver, "meta.contoso.internal", 80, TIMEOUT)
        .await
        .expect_err("metadata");
    assert!(
        matches!(&err, ConnectError::AllRefused { refused, .. } if refused[0].class == AddressClass::LinkLocal),
        "{err}"
    );
}

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn judge_allocates_nothing_of_its_own_when_it_allows() {
    let dests: Vec<SocketAddr> = ["8.8.8.8:443", "10.20.0.4:443", "[::ffff:10.10.2.2]:80"]
        .iter()
        .map(|s| s.parse().expect("addr"))
        .collect();
    let vnet = "  virtual_network:\n    address_space: [10.10.0.0/16]\n    subnet: { prefix: 10.10.1.0/27, nsg: apim-nsg }\n    peered: [10.20.0.0/16]\n";
    let rules = r#"  network_security_groups:
    apim-nsg:
      security_rules:
        - { name: deny-db, priority: 100, direction: outbound, access: deny, protocol: tcp, destination: 10.20.5.0/24, destination_ports: "5432" }
"#;
    // Without an NSG (type none with outbound integration): nothing at all.
    let p = policy(&format!(
        "  type: none\n{}  outbound: {{ integration_subnet: 10.10.3.0/24 }}\n",
        vnet.replace(", nsg: apim-nsg", "")
    ));
    assert!(p.nsg().is_none());
    for d in &dests {
        let _ = p.judge(*d); // warm-up: lazily initialised thread-locals
        assert_eq!(
            allocations(|| assert!(p.judge(*d).is_ok(), "{d}")),
            0,
            "{d}"
        );
    }
    // With the subnet's NSG: what the NSG engine's trie walk allocates (prefix_trie's cover
    // iterator keeps a small Vec), nothing more — the same cost the inbound decision pays.
    let p = policy(&format!("  type: external\n{vnet}{rules}"));
    for d in &dests {
        let _ = p.judge(*d);
        let nsg_alone = allocations(|| {
            let flow = gatehouse_net::nsg::Flow::tcp(
                "10.10.1.4:49152".parse().expect("addr"),
                SocketAddr::new(gatehouse_net::prefix::canonical(d.ip()), d.port()),
            );
            let _ = p
                .nsg()
                .expect("nsg")
                .evaluate(gatehouse_model::network::Direction::Outbound, &flow);
        });
        assert_eq!(
            allocations(|| assert!(p.judge(*d).is_ok(), "{d}")),
            nsg_alone,
            "{d}"
        );
    }
    // A refusal allocates its reason.
    assert!(allocations(|| assert!(p.judge("127.0.0.1:80".parse().expect("addr")).is_err())) >= 1);
}
