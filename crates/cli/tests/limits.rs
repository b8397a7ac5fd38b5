//! End to end: `gateway.limits` enforced by the real `gatehouse` binary against raw TCP
//! clients. Slow request heads (slowloris), idle connections, the connection limit, header
//! count and size, and the request-target length.

use gatehouse_testkit::raw::{self, header_of, status_of};
use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// A gateway on `gw` with one open API (`/api/...`, no key) in front of `backend`, and
/// `limits` (a YAML flow mapping) as `gateway.limits`.
fn config(gw: SocketAddr, backend: &str, limits: &str) -> String {
    format!(
        r#"
service: {{ name: limits }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{gw}" }} ]
  limits: {limits}
backends:
  mock: {{ url: "{backend}" }}
apis:
  - id: api
    path: api
    backend: mock
    protocols: [http, https, ws, wss]           # WebSocket upgrades are carried on ws APIs only
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#
    )
}

struct Env {
    gw: Gatehouse,
    backend: MockBackend,
    addr: SocketAddr,
}

async fn setup(limits: &str) -> Env {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let gw = Gatehouse::start(Path::new(BIN), &config(addr, &backend.url(), limits), addr)
        .await
        .expect("gatehouse starts");
    Env { gw, backend, addr }
}

type Response = raw::RawResponse;

/// Reads one response within 20 s (see [`raw::read_response`]).
async fn read_response(stream: &mut TcpStream) -> Option<Response> {
    raw::read_response(stream, Duration::from_secs(20)).await
}

/// Sends `GET path` (keep-alive) on `stream` and reads the response.
async fn get(stream: &mut TcpStream, path: &str) -> Option<Response> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n");
    stream.write_all(req.as_bytes()).await.ok()?;
    read_response(stream).await
}

/// Waits up to `within` for the peer to close `stream` (EOF or reset). Returns when that
/// was noticed and whatever arrived before, or `None` if it stayed open.
async fn wait_closed(stream: &mut TcpStream, within: Duration) -> Option<(Instant, Vec<u8>)> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match timeout_at(start + within, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((Instant::now(), got)),
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Opens a connection and sends `GET path` on it until one is served (200), for up to
/// `within`; returns the open, kept-alive connection.
async fn open_served(addr: SocketAddr, path: &str, within: Duration) -> TcpStream {
    let deadline = Instant::now() + within;
    loop {
        let mut stream = raw::connect(addr).await.expect("connect");
        if let Some(resp) = get(&mut stream, path).await
            && resp.status == 200
        {
            return stream;
        }
        assert!(
            Instant::now() < deadline,
            "no connection to {addr} was served within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Connects and sends `GET path`: the gateway must close the connection (within 10 s)
/// without answering, as it does past `max_connections`.
async fn assert_refused(addr: SocketAddr, path: &str, why: &str) {
    let mut stream = raw::connect(addr)
        .await
        .expect("TCP connect still succeeds");
    let req = format!("GET {path} HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n");
    // Writing may fail when the gateway already closed the connection: that is the point.
    let _ = stream.write_all(req.as_bytes()).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let closed = loop {
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
        }
    };
    assert!(
        closed && got.is_empty(),
        "{why}: expected the connection to be closed without a response, but it was {} after \
         answering {:?}",
        if closed {
            "closed"
        } else {
            "still open 10 s later"
        },
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn slowloris_head_is_cut_off_after_header_read_timeout() {
    let e = setup("{ header_read_timeout_ms: 1000 }").await;

    // A client dribbling a request head, one byte every 300 ms: finishing it would take
    // about a minute.
    let head = format!(
        "GET /api/slow HTTP/1.1\r\nHost: gatehouse.test\r\nX-Slow: {}\r\n\r\n",
        "a".repeat(150)
    );
    let addr = e.addr;
    let slow = tokio::spawn(async move {
        let mut stream = raw::connect(addr).await.expect("connect");
        let start = Instant::now();
        let mut received = Vec::new();
        let mut sent = 0;
        let mut chunk = [0u8; 4096];
        for byte in head.as_bytes() {
            if stream.write_all(&[*byte]).await.is_err() {
                // Refused: the gateway already closed (reset) the connection.
                return (Some(start.elapsed()), sent, received);
            }
            sent += 1;
            let pause = Instant::now() + Duration::from_millis(300);
            loop {
                match timeout_at(pause, stream.read(&mut chunk)).await {
                    Err(_) => break,
                    Ok(Ok(0)) | Ok(Err(_)) => return (Some(start.elapsed()), sent, received),
                    Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
                }
            }
            if start.elapsed() > Duration::from_secs(20) {
                break;
            }
        }
        (None, sent, received)
    });

    // Meanwhile normal requests on other connections are served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("http://{}/api/normal", e.addr))
        .send()
        .await
        .expect("a normal request");
    assert_eq!(resp.status(), 200);

    let (closed_after, sent, received) = slow.await.expect("slow client task");
    let closed_after = closed_after.unwrap_or_else(|| {
        panic!("the slow connection was still open after 20 s ({sent} bytes of the head sent)")
    });
    assert!(
        closed_after >= Duration::from_millis(700),
        "closed after {closed_after:?}: before the 1 s header read timeout could expire"
    );
    assert!(
        closed_after <= Duration::from_secs(10),
        "closed only after {closed_after:?}"
    );
    assert!(
        status_of(&received).is_none_or(|s| s >= 400),
        "the slow head must not be served: {:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        e.backend.requests().iter().all(|r| r.path != "/slow"),
        "the slow request reached the backend"
    );

    // A head that arrives in pieces but whole within the timeout is served.
    let pieces: [&[u8]; 3] = [
        b"GET /api/pieces HTTP/1.1\r\n",
        b"Host: gatehouse.test\r\n",
        b"Connection: close\r\n\r\n",
    ];
    let answer = raw::send_raw_paced(
        e.addr,
        &pieces,
        Duration::from_millis(100),
        Duration::from_secs(10),
    )
    .await
    .expect("connect");
    assert_eq!(
        status_of(&answer),
        Some(200),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // And the gateway is still fine.
    let resp = client
        .get(format!("http://{}/api/after", e.addr))
        .send()
        .await
        .expect("a request after the slow client");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn header_read_timeout_does_not_close_idle_keep_alive_connections() {
    // The header read timeout bounds the time to receive a request head ("once it started",
    // says the Limits docs in crates/model); a connection with no request in flight is closed
    // after idle_timeout_ms (docs/config.md), 4 minutes by default as in Azure.
    let e = setup("{ header_read_timeout_ms: 1000, idle_timeout_ms: 30000 }").await;
    let mut stream = raw::connect(e.addr).await.expect("connect");
    let resp = get(&mut stream, "/api/first")
        .await
        .expect("first response");
    assert_eq!(resp.status, 200);
    let idle_since = Instant::now();
    // Silent for 3 s: longer than the header read timeout, far shorter than the idle timeout.
    let closed = wait_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(
        closed.is_none(),
        "the idle keep-alive connection was closed after {:?} (header_read_timeout_ms 1000, \
         idle_timeout_ms 30000)",
        closed.map(|c| c.0 - idle_since)
    );
    let resp = get(&mut stream, "/api/second")
        .await
        .expect("second response on the same connection");
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_after_idle_timeout() {
    // A long header read timeout, so that only the idle timeout can close connections.
    let e = setup("{ idle_timeout_ms: 1000, header_read_timeout_ms: 60000 }").await;

    // A kept-alive connection that served one request and then stays silent.
    let mut served = raw::connect(e.addr).await.expect("connect");
    let resp = get(&mut served, "/api/once").await.expect("a response");
    assert_eq!(resp.status, 200);
    let served_idle_since = Instant::now();
    assert!(
        header_of(resp.head.as_bytes(), "connection").is_none_or(|v| !v.contains("close")),
        "the connection is kept alive: {}",
        resp.head
    );
    // A connection that never sends anything.
    let silent_opened = Instant::now();
    let mut silent = raw::connect(e.addr).await.expect("connect");

    let (served_closed, served_bytes) = wait_closed(&mut served, Duration::from_secs(10))
        .await
        .expect("the idle kept-alive connection is closed within 10 s");
    let served_after = served_closed - served_idle_since;
    assert!(
        served_after >= Duration::from_millis(500),
        "closed after {served_after:?}, before the 1 s idle timeout"
    );
    assert!(
        served_bytes.is_empty(),
        "nothing is sent on an idle close: {:?}",
        String::from_utf8_lossy(&served_bytes)
    );
    let (silent_closed, silent_bytes) = wait_closed(&mut silent, Duration::from_secs(10))
        .await
        .expect("the silent connection is closed within 10 s");
    let silent_after = silent_closed - silent_opened;
    assert!(
        silent_after >= Duration::from_millis(500),
        "closed after {silent_after:?}"
    );
    assert!(silent_bytes.is_empty());

    // A connection that keeps making requests stays open past the idle timeout...
    let mut busy = raw::connect(e.addr).await.expect("connect");
    for i in 0..8 {
        let resp = get(&mut busy, &format!("/api/busy/{i}"))
            .await
            .unwrap_or_else(|| panic!("request {i} on the busy connection"));
        assert_eq!(resp.status, 200);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        e.backend
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/busy/"))
            .count(),
        8
    );

    // ...and a request in flight for longer than the idle timeout is not cut.
    let mut slow = raw::connect(e.addr).await.expect("connect");
    let resp = get(&mut slow, "/api/delay/2500")
        .await
        .expect("the slow response arrives");
    assert_eq!(resp.status, 200);
    // Afterwards that connection is idle and gets closed too.
    assert!(
        wait_closed(&mut slow, Duration::from_secs(10))
            .await
            .is_some(),
        "the connection is closed once idle"
    );
}

#[tokio::test]
async fn max_connections_refuses_further_connections() {
    let e = setup("{ max_connections: 2, header_read_timeout_ms: 60000 }").await;

    // Two connections, each served once and kept alive. (Retried: the health probe's
    // connection may still hold a permit for a moment.)
    let mut first = open_served(e.addr, "/api/first", Duration::from_secs(10)).await;
    let mut second = open_served(e.addr, "/api/second", Duration::from_secs(10)).await;

    // A third is closed at once, without a response.
    assert_refused(
        e.addr,
        "/api/third",
        "a third connection with max_connections 2",
    )
    .await;
    assert!(
        e.backend.requests().iter().all(|r| r.path != "/third"),
        "the refused request reached the backend"
    );
    e.gw.wait_for_log("max_connections reached", Duration::from_secs(5))
        .await
        .expect("the refusal is logged");

    // The first two still work.
    let resp = get(&mut first, "/api/first/again").await.expect("first");
    assert_eq!(resp.status, 200);
    let resp = get(&mut second, "/api/second/again").await.expect("second");
    assert_eq!(resp.status, 200);

    // Closing one frees its permit: a new connection is served again.
    drop(first);
    let mut fourth = open_served(e.addr, "/api/fourth", Duration::from_secs(10)).await;
    let resp = get(&mut second, "/api/second/still").await.expect("second");
    assert_eq!(resp.status, 200);

    // And with both permits taken again, the next is refused again.
    assert_refused(e.addr, "/api/fifth", "a connection past the limit again").await;
    let resp = get(&mut fourth, "/api/fourth/again").await.expect("fourth");
    assert_eq!(resp.status, 200);
}

/// A request with `extra` header lines (each without CRLF) and `Connection: close`.
fn request_with_headers(path: &str, extra: &[String]) -> Vec<u8> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: gatehouse.test\r\nConnection: close\r\n");
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

#[tokio::test]
async fn header_count_and_size_limits_answer_431() {
    let e = setup("{ max_headers: 20, max_header_bytes: 8192 }").await;
    let addr = e.addr;
    let send = move |req: Vec<u8>| async move {
        raw::send_raw_timeout(addr, &req, Duration::from_secs(10))
            .await
            .expect("connect")
    };

    // 2 + 16 = 18 headers: served.
    let few: Vec<String> = (0..16).map(|i| format!("X-H{i}: v{i}")).collect();
    let answer = send(request_with_headers("/api/few", &few)).await;
    assert_eq!(
        status_of(&answer),
        Some(200),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // 2 + 28 = 30 headers: 431, not forwarded.
    let many: Vec<String> = (0..28).map(|i| format!("X-H{i}: v{i}")).collect();
    let answer = send(request_with_headers("/api/many", &many)).await;
    assert_eq!(
        status_of(&answer),
        Some(431),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // A head of about 6 KB: served.
    let medium = vec![format!("X-Medium: {}", "m".repeat(6000))];
    let answer = send(request_with_headers("/api/medium", &medium)).await;
    assert_eq!(
        status_of(&answer),
        Some(200),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // A head of about 10 KB (one big header): 431.
    let big = vec![format!("X-Big: {}", "b".repeat(10_000))];
    let answer = send(request_with_headers("/api/big", &big)).await;
    assert_eq!(
        status_of(&answer),
        Some(431),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // About 10 KB spread over few headers: 431 as well.
    let spread: Vec<String> = (0..5)
        .map(|i| format!("X-Part{i}: {}", "p".repeat(2000)))
        .collect();
    let answer = send(request_with_headers("/api/spread", &spread)).await;
    assert_eq!(
        status_of(&answer),
        Some(431),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // HTTP/2 (h2c): the header list is bounded by max_header_bytes too.
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let resp = h2c
        .get(format!("http://{}/api/h2/medium", e.addr))
        .header("X-Medium", "m".repeat(6000))
        .send()
        .await
        .expect("h2c request within limits");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let resp = h2c
        .get(format!("http://{}/api/h2/big", e.addr))
        .header("X-Big", "b".repeat(10_000))
        .send()
        .await
        .expect("h2c request over the limit gets an answer");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 431);

    let paths: Vec<String> = e.backend.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/few", "/medium", "/h2/medium"],
        "only the requests within limits"
    );

    // The gateway is fine afterwards.
    let answer = send(request_with_headers("/api/after", &[])).await;
    assert_eq!(status_of(&answer), Some(200));
}

#[tokio::test]
async fn long_request_target_is_414_with_apim_body() {
    let e = setup("{ max_request_line_bytes: 1024 }").await;
    let client = reqwest::Client::new();

    // Exactly at the limit: served.
    let at_limit = format!("/api/{}", "a".repeat(1024 - "/api/".len()));
    assert_eq!(at_limit.len(), 1024);
    let resp = client
        .get(format!("http://{}{at_limit}", e.addr))
        .send()
        .await
        .expect("request at the limit");
    assert_eq!(resp.status(), 200);
    assert_eq!(e.backend.request_count(), 1);

    // One byte more: 414 with APIM's body, not forwarded.
    for target in [
        format!("/api/{}", "a".repeat(1025 - "/api/".len())),
        format!("/api/x?q={}", "q".repeat(2000)),
        format!("/nowhere/{}", "n".repeat(5000)),
    ] {
        let resp = client
            .get(format!("http://{}{target}", e.addr))
            .send()
            .await
            .expect("request over the limit");
        assert_eq!(resp.status(), 414, "target of {} bytes", target.len());
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let text = resp.text().await.expect("body");
        let body: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        assert_eq!(
            body,
            serde_json::json!({"statusCode": 414, "message": "Request URI is too long"})
        );
    }
    assert_eq!(
        e.backend.request_count(),
        1,
        "nothing over the limit is forwarded"
    );

    // The same over a raw connection, which then stays usable (a 414 is an ordinary answer).
    let mut stream = raw::connect(e.addr).await.expect("connect");
    let resp = get(&mut stream, &format!("/api/{}", "z".repeat(3000)))
        .await
        .expect("a 414 response");
    assert_eq!(resp.status, 414, "{}", resp.head);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&resp.body_text()).expect("JSON"),
        serde_json::json!({"statusCode": 414, "message": "Request URI is too long"})
    );
    let resp = get(&mut stream, "/api/short").await.expect("next response");
    assert_eq!(resp.status, 200);

    // The access log records the refusal.
    e.gw.wait_for_log("uri_too_long", Duration::from_secs(5))
        .await
        .expect("an access log line with the reason");
}

#[tokio::test]
async fn max_connections_counts_websocket_connections() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let e = setup("{ max_connections: 2, header_read_timeout_ms: 60000 }").await;

    // Two WebSocket sessions through the gateway take both connection permits. (Retried: the
    // health probe's connection may still hold a permit for a moment.)
    let mut sessions = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sessions.len() < 2 {
        match tokio_tungstenite::connect_async(format!("ws://{}/api/ws", e.addr)).await {
            Ok((ws, _)) => sessions.push(ws),
            Err(err) => {
                assert!(Instant::now() < deadline, "WebSocket handshake: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    for (i, ws) in sessions.iter_mut().enumerate() {
        let msg = Message::text(format!("session {i}"));
        ws.send(msg.clone()).await.expect("send");
        let echo = timeout_at(Instant::now() + Duration::from_secs(20), ws.next())
            .await
            .expect("an echo within 20 s")
            .expect("open")
            .expect("a message");
        assert_eq!(echo, msg);
    }

    // Both sessions are open connections: a third connection is refused.
    assert_refused(
        e.addr,
        "/api/third",
        "with 2 WebSocket sessions open and max_connections 2, a third connection",
    )
    .await;
    assert!(
        e.backend.requests().iter().all(|r| r.path != "/third"),
        "the request on the third connection reached the backend"
    );
}
