//! End to end: what the gateway accepts at its HTTP edge (issue 9's findings 1 and 3–6), with the
//! real binary, raw TCP clients (so that nothing normalizes the request on the way) and
//! recording backends. Each test is a request an attacker sent, and what must happen instead.

use gatehouse_testkit::raw::{body_of, status_of};
use gatehouse_testkit::{Gatehouse, MockBackend, free_addr_on};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// A source address the config names as a trusted proxy.
const PROXY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 9);

/// Open and key-protected APIs over one backend at different base paths, so the backend's
/// record shows which API's path a request reached.
fn config(gw: SocketAddr, backend: &str, extra_apis: &str) -> String {
    format!(
        r#"
service: {{ name: edge }}
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
  trusted_proxies: [ {PROXY}/32 ]
gateway:
  listeners: [ {{ address: "{gw}" }} ]
apis:
  - id: fopen
    path: fopen
    backend: "{backend}/public"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: private
    path: private
    backend: "{backend}/private"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: secure
    path: secure
    backend: "{backend}/aprivate"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: bprivate
    path: bprivate
    backend: "{backend}/bprivate"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: fitems
    path: fitems
    backend: "{backend}/public"
    subscription_required: false
    operations: [ {{ id: get-item, method: GET, url_template: "/items/{{id}}" }} ]
{extra_apis}
products:
  - {{ id: a, apis: [secure], state: published }}
  - {{ id: b, apis: [bprivate], state: published }}
subscriptions:
  - {{ id: sub-a, scope: product/a, primary_key: "{KEY_A}", state: active }}
"#
    )
}

async fn start(yaml: &str, gw: SocketAddr) -> Gatehouse {
    Gatehouse::start(Path::new(BIN), yaml, gw)
        .await
        .expect("gatehouse starts")
}

/// A TCP connection to `dst` from the loopback address `src`.
async fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(src), 0))
        .unwrap_or_else(|e| panic!("binding a client socket to {src}: {e}"));
    socket
        .connect(dst)
        .await
        .unwrap_or_else(|e| panic!("connecting {src} -> {dst}: {e}"))
}

/// Writes `request` and reads until the gateway closes the connection (the requests say
/// `Connection: close`), at most 10 s.
async fn exchange_from(src: Ipv4Addr, dst: SocketAddr, request: &str) -> Vec<u8> {
    let mut s = connect_from(src, dst).await;
    s.write_all(request.as_bytes()).await.expect("write");
    read_to_end(&mut s).await
}

async fn read_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    out
}

async fn exchange(dst: SocketAddr, request: &str) -> Vec<u8> {
    exchange_from(Ipv4Addr::LOCALHOST, dst, request).await
}

/// `METHOD target` with `Connection: close`, a Host and `headers`.
fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut r = format!("{method} {target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

fn status(reply: &[u8]) -> u16 {
    status_of(reply)
        .unwrap_or_else(|| panic!("no HTTP response in {:?}", String::from_utf8_lossy(reply)))
}

/// The access log line of the request to `path` (by its logged path).
async fn access_line(gw: &Gatehouse, path: &str) -> serde_json::Value {
    gw.wait_for_access(path, Duration::from_secs(5))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// 1. Dot segments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn dot_segments_are_resolved_before_routing_and_the_key_check() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let gw = start(&config(gw_addr, &backend.url(), ""), gw_addr).await;

    // Resolved, then judged as the private API: no key, 401; the backend sees nothing.
    for target in ["/fopen/../private/secret", "/fopen/x/../../private/secret"] {
        let r = exchange(gw_addr, &request("GET", target, &[])).await;
        assert_eq!(status(&r), 401, "{target}");
    }
    // Climbing above the root stays at the root.
    let r = exchange(gw_addr, &request("GET", "/fopen/x/../../../fopen/ok", &[])).await;
    assert_eq!(status(&r), 200);
    // A key for product A reaching product B's backend: judged as bprivate, refused.
    let r = exchange(
        gw_addr,
        &request(
            "GET",
            "/secure/../bprivate/admin",
            &[("Ocp-Apim-Subscription-Key", KEY_A)],
        ),
    )
    .await;
    assert_eq!(status(&r), 401);
    let line = access_line(&gw, "/secure/../bprivate/admin").await;
    assert_eq!(line["api"], "bprivate", "{line}");
    // Paths whose meaning depends on who decodes them: refused with 400, never forwarded.
    for target in [
        "/fopen/%2e%2e/private/secret",
        "/fopen/.%2e/private/secret",
        "/fopen/%2E%2E/private/secret",
        "/fitems/items/..%2f..%2fprivate%2fsecret",
        "/fopen/a%2fb",
        "/fopen/..;x/private/secret",
        "/fopen/a%00.json",
    ] {
        let r = exchange(gw_addr, &request("GET", target, &[])).await;
        assert_eq!(status(&r), 400, "{target}");
        let body = String::from_utf8_lossy(body_of(&r).unwrap_or_default()).into_owned();
        assert!(body.contains("\"statusCode\":400"), "{target}: {body}");
    }
    let reached: Vec<String> = backend.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(reached, ["/public/ok"], "what the backend received");
}

#[tokio::test]
async fn the_operation_allowlist_judges_the_normalized_path() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let _gw = start(&config(gw_addr, &backend.url(), ""), gw_addr).await;
    let r = exchange(gw_addr, &request("GET", "/fitems/items/7", &[])).await;
    assert_eq!(status(&r), 200);
    // `/items/x/..` is `/items/`: no operation matches.
    let r = exchange(gw_addr, &request("GET", "/fitems/items/x/../../admin", &[])).await;
    assert_eq!(status(&r), 404);
    let reached: Vec<String> = backend.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(reached, ["/public/items/7"]);
}

// ---------------------------------------------------------------------------------------------
// 3. Forwarding headers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_x_forwarded_for_line_counts_and_reaches_the_backend() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let extra = r#"  - id: filtered
    path: filtered
    backend: "BACKEND/public"
    subscription_required: false
    operations: [ { id: any, method: "*", url_template: "/*" } ]
    policies: |
      <policies><inbound><base/>
        <ip-filter action="allow"><address>10.1.2.3</address></ip-filter>
      </inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
"#
    .replace("BACKEND", &backend.url());
    let gw = start(&config(gw_addr, &backend.url(), &extra), gw_addr).await;
    // The client wrote the first line; the trusted proxy appended its own: the client is
    // 203.0.113.9, whatever the first line claims.
    let r = exchange_from(
        PROXY,
        gw_addr,
        &request(
            "GET",
            "/filtered/x",
            &[
                ("X-Forwarded-For", "10.1.2.3"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
        ),
    )
    .await;
    assert_eq!(status(&r), 403, "{}", String::from_utf8_lossy(&r));
    let line = access_line(&gw, "/filtered/x").await;
    assert_eq!(line["client"], "203.0.113.9", "{line}");
    assert_eq!(backend.request_count(), 0);

    // Forwarded: both lines, in order, then the proxy (the connection's peer).
    let r = exchange_from(
        PROXY,
        gw_addr,
        &request(
            "GET",
            "/fopen/xff",
            &[
                ("X-Forwarded-For", "10.1.2.3"),
                ("X-Forwarded-For", "203.0.113.9"),
            ],
        ),
    )
    .await;
    assert_eq!(status(&r), 200);
    let seen = backend.last_request().expect("forwarded");
    assert_eq!(
        seen.header_all("x-forwarded-for"),
        ["10.1.2.3, 203.0.113.9, 127.0.0.9"]
    );
}

#[tokio::test]
async fn client_sent_forwarding_headers_are_rewritten() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let _gw = start(&config(gw_addr, &backend.url(), ""), gw_addr).await;
    let r = exchange(
        gw_addr,
        &request(
            "GET",
            "/fopen/fwd",
            &[
                ("Forwarded", "for=10.0.0.1;proto=https"),
                ("X-Real-IP", "10.0.0.1"),
                ("X-Forwarded-Port", "1"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "admin.internal"),
            ],
        ),
    )
    .await;
    assert_eq!(status(&r), 200);
    let seen = backend.last_request().expect("forwarded");
    assert_eq!(
        seen.header_all("forwarded"),
        ["for=10.0.0.1;proto=https, for=127.0.0.1;proto=http;host=\"gw.test\""]
    );
    assert!(seen.header_all("x-real-ip").is_empty());
    assert_eq!(
        seen.header_all("x-forwarded-port"),
        [gw_addr.port().to_string()]
    );
    assert_eq!(seen.header_all("x-forwarded-proto"), ["http"]);
    assert_eq!(seen.header_all("x-forwarded-host"), ["gw.test"]);
    assert_eq!(seen.header_all("x-forwarded-for"), ["127.0.0.1"]);
}

// ---------------------------------------------------------------------------------------------
// 4. Upgrades
// ---------------------------------------------------------------------------------------------

/// A backend that answers every request head with 101 and then records every byte that comes
/// after it on that connection (what a tunnel would carry).
struct SwitchingBackend {
    addr: SocketAddr,
    received: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
}

impl SwitchingBackend {
    async fn start() -> SwitchingBackend {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut all = Vec::new();
                    let mut buf = [0u8; 4096];
                    let mut answered = false;
                    loop {
                        let n = match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        all.extend_from_slice(&buf[..n]);
                        if !answered && all.windows(4).any(|w| w == b"\r\n\r\n") {
                            answered = true;
                            let _ = s
                                .write_all(
                                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
                                )
                                .await;
                        }
                        let _ = tx.send(all.clone());
                    }
                });
            }
        });
        SwitchingBackend { addr, received }
    }

    /// Everything the backend has received so far on its latest connection.
    fn latest(&mut self) -> Vec<u8> {
        let mut last = Vec::new();
        while let Ok(b) = self.received.try_recv() {
            last = b;
        }
        last
    }
}

#[tokio::test]
async fn upgrades_other_than_websocket_on_websocket_apis_are_never_tunnels() {
    let mut backend = SwitchingBackend::start().await;
    let plain = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let extra = format!(
        r#"  - id: open
    path: open
    backend: "http://{}/public"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: ws
    path: ws
    backend: "{}"
    protocols: [ws, wss]
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#,
        backend.addr,
        plain.url()
    );
    let gw = start(&config(gw_addr, &plain.url(), &extra), gw_addr).await;
    // h2c upgrade on an HTTP API: the backend answers 101 anyway; the client gets 502, and what
    // it sends next is never carried to the backend as tunnel bytes.
    let mut s = connect_from(Ipv4Addr::LOCALHOST, gw_addr).await;
    s.write_all(
        b"GET /open/x HTTP/1.1\r\nHost: gw.test\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
    )
    .await
    .expect("write");
    let mut head = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut head))
        .await
        .expect("an answer")
        .expect("read");
    assert_eq!(
        status(&head[..n]),
        502,
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    let _ = s
        .write_all(b"GET /private/admin HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        .await;
    let _ = read_to_end(&mut s).await;
    let seen = String::from_utf8_lossy(&backend.latest()).to_ascii_lowercase();
    assert!(seen.starts_with("get /public/x http/1.1"), "{seen}");
    assert!(
        !seen.contains("upgrade"),
        "the upgrade reached the backend: {seen}"
    );
    assert!(!seen.contains("http2-settings"), "{seen}");
    assert!(!seen.contains("/private/admin"), "a tunnel carried: {seen}");
    let line = access_line(&gw, "/open/x").await;
    assert_eq!(line["status"], 502, "{line}");

    // A WebSocket handshake on an HTTP-only API is a plain request.
    let r = exchange(
        gw_addr,
        &request(
            "GET",
            "/fopen/plain",
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
        ),
    )
    .await;
    assert_eq!(status(&r), 200);
    let seen = plain.last_request().expect("forwarded");
    assert!(seen.header("upgrade").is_none(), "{:?}", seen.headers);
    // On a WebSocket API, the handshake goes through (the mock backend accepts it); the
    // tunnel stays open, so only the response head is read.
    let mut s = connect_from(Ipv4Addr::LOCALHOST, gw_addr).await;
    s.write_all(
        b"GET /ws/ws HTTP/1.1\r\nHost: gw.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("write");
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(n > 0, "closed after {}", String::from_utf8_lossy(&head));
        head.extend_from_slice(&buf[..n]);
    }
    assert_eq!(status(&head), 101, "{}", String::from_utf8_lossy(&head));
}

// ---------------------------------------------------------------------------------------------
// 5. Connection-named headers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_clients_connection_header_cannot_remove_what_a_policy_set() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let extra = r#"  - id: auth
    path: auth
    backend: "BACKEND/public"
    subscription_required: false
    operations: [ { id: any, method: "*", url_template: "/*" } ]
    policies: |
      <policies><inbound><base/>
        <set-header name="X-Gw-Auth" exists-action="override"><value>gateway-secret</value></set-header>
        <set-header name="X-Secret" exists-action="append"><value>from-policy</value></set-header>
      </inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
"#
    .replace("BACKEND", &backend.url());
    let _gw = start(&config(gw_addr, &backend.url(), &extra), gw_addr).await;
    let r = exchange(
        gw_addr,
        &request(
            "GET",
            "/auth/x",
            &[
                ("Connection", "X-Gw-Auth, X-Secret, X-Client-Hop"),
                ("X-Secret", "from-client"),
                ("X-Client-Hop", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(status(&r), 200);
    let seen = backend.last_request().expect("forwarded");
    assert_eq!(seen.header_all("x-gw-auth"), ["gateway-secret"]);
    // The client's own hop-by-hop header went before the policy appended.
    assert_eq!(seen.header_all("x-secret"), ["from-policy"]);
    assert!(seen.header_all("x-client-hop").is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. Host
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn http_1_1_needs_exactly_one_valid_host() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr_on(Ipv4Addr::LOCALHOST);
    let _gw = start(&config(gw_addr, &backend.url(), ""), gw_addr).await;
    for (what, req) in [
        (
            "no Host",
            "GET /fopen/x HTTP/1.1\r\nConnection: close\r\n\r\n",
        ),
        (
            "two Hosts",
            "GET /fopen/x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
        ),
        (
            "user info",
            "GET /fopen/x HTTP/1.1\r\nHost: user@a.test\r\nConnection: close\r\n\r\n",
        ),
    ] {
        let r = exchange(gw_addr, req).await;
        assert_eq!(status(&r), 400, "{what}: {}", String::from_utf8_lossy(&r));
    }
    assert_eq!(backend.request_count(), 0);
    // Targets that are not paths: a CONNECT tunnel, the server-wide `OPTIONS *`.
    for req in [
        "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n",
    ] {
        let r = exchange(gw_addr, req).await;
        assert_eq!(status(&r), 400, "{req}: {}", String::from_utf8_lossy(&r));
    }
    assert_eq!(backend.request_count(), 0);
    // HTTP/1.0 may omit it.
    let r = exchange(gw_addr, "GET /fopen/x HTTP/1.0\r\n\r\n").await;
    assert_eq!(status(&r), 200);
}
