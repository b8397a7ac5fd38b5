//! End to end: slow and broken clients against the real `gatehouse` binary (issue 9, findings
//! 7, 8, 9, 10 and 14). Request bodies that stall (`body_read_timeout_ms`), connections that
//! never send a request (`header_read_timeout_ms`), HTTP/2 streams fanning out to the backend
//! (`max_connections_per_backend`, `backend_queue_timeout_ms`, `max_requests_in_flight`),
//! buffered bodies (`max_buffered_body_bytes`, `max_buffered_total_bytes`) and request bodies
//! the client frames badly (a bad chunk, shorter than its `Content-Length`).

use gatehouse_testkit::raw::{self, status_of};
use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// Policies that need the request body whole: the gateway buffers it (backend_call::collect).
/// Indented for its place in the YAML block scalar below.
const READS_BODY: &str = r#"<policies>
        <inbound>
          <set-variable name="b" value="@(context.Request.Body.As<string>(preserveContent: true))" />
        </inbound>
        <backend><forward-request /></backend>
        <outbound />
        <on-error />
      </policies>"#;

/// A gateway on `gw` with two open APIs in front of `backend`: `/api/...` streams bodies
/// through, `/buf/...` has policies that read the request body whole. `limits` (a YAML flow
/// mapping) is `gateway.limits`.
fn config(gw: SocketAddr, backend: &str, limits: &str) -> String {
    format!(
        r#"
service: {{ name: slow-clients }}
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
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: buf
    path: buf
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
      {READS_BODY}
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

impl Env {
    /// Waits for an access log line of `path` that names `error`; fails with the output.
    async fn access_error(&self, path: &str, error: &str) -> serde_json::Value {
        let v = self
            .gw
            .wait_for_access(path, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let line = v.to_string();
        assert!(
            line.contains(error),
            "the access log line of {path} does not name {error}: {line}"
        );
        v
    }
}

use raw::{RawResponse as Response, read_response};

/// Waits up to `within` for the peer to close `stream` (EOF or reset); `false` if it stayed
/// open.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut chunk = [0u8; 4096];
    loop {
        match timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends `GET path` (keep-alive) on `stream` and reads the response.
async fn get(stream: &mut TcpStream, path: &str) -> Option<Response> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: gatehouse.test\r\n\r\n");
    stream.write_all(req.as_bytes()).await.ok()?;
    read_response(stream, Duration::from_secs(20)).await
}

/// A POST head announcing `length` body bytes.
fn post_head(path: &str, length: usize) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: {length}\r\n\r\n")
}

fn json_of(resp: &Response) -> serde_json::Value {
    serde_json::from_slice(&resp.body).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} / {}",
            resp.head,
            String::from_utf8_lossy(&resp.body)
        )
    })
}

fn h2c_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("h2c client")
}

type Held = tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>;

/// `n` requests (HTTP/2 streams of `client`) that the backend holds for 30 s, once all of them
/// reached it; abort them to let go.
async fn hold(e: &Env, client: &reqwest::Client, n: usize) -> Vec<Held> {
    let held = (0..n)
        .map(|i| {
            let c = client.clone();
            let url = format!("http://{}/api/held{i}/delay/30000", e.addr);
            tokio::spawn(async move { c.get(url).send().await })
        })
        .collect();
    e.backend
        .wait_for_requests(n, Duration::from_secs(10))
        .await
        .expect("the held requests reach the backend");
    held
}

/// `GET path` answers APIM's JSON error with `status` and `message`.
async fn assert_apim_error(
    e: &Env,
    client: &reqwest::Client,
    path: &str,
    status: u16,
    message: &str,
) {
    let resp = client
        .get(format!("http://{}{path}", e.addr))
        .send()
        .await
        .unwrap_or_else(|err| panic!("no answer to {path}: {err}"));
    assert_eq!(resp.status(), status);
    let body: serde_json::Value =
        serde_json::from_str(&resp.text().await.expect("body")).expect("JSON");
    assert_eq!(
        body,
        serde_json::json!({"statusCode": status, "message": message})
    );
}

// Finding 7: a request body that stops arriving.
#[tokio::test]
async fn stalled_request_body_gets_408_and_the_connection_closed() {
    // The idle timeout is long: only the body read timeout may end these requests.
    let e = setup("{ body_read_timeout_ms: 300, idle_timeout_ms: 60000 }").await;

    // Streaming (no policy needs the body) and buffering (a policy reads it).
    for path in ["/api/upload", "/buf/upload"] {
        let mut stream = raw::connect(e.addr).await.expect("connect");
        let mut req = post_head(path, 100_000).into_bytes();
        req.extend_from_slice(&[b'x'; 1000]);
        stream.write_all(&req).await.expect("send the head");
        // ...and then nothing more.
        let resp = read_response(&mut stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{path}: no response within 10 s to a stalled body"));
        assert_eq!(resp.status, 408, "{path}: {}", resp.head);
        assert_eq!(
            json_of(&resp),
            serde_json::json!({"statusCode": 408,
                "message": "Request timeout: the request body did not arrive in time"})
        );
        assert!(
            resp.head
                .to_ascii_lowercase()
                .contains("\r\nconnection: close"),
            "{path}: the 408 announces the close: {}",
            resp.head
        );
        assert!(
            closed_within(&mut stream, Duration::from_secs(10)).await,
            "{path}: the connection stays open after the 408"
        );
        e.access_error(path, "client_body_timeout").await;
    }
    // The streamed request reached the backend and was aborted there; the buffered one never
    // left the gateway.
    let seen = e
        .backend
        .wait_for_requests(1, Duration::from_secs(10))
        .await
        .expect("the streamed request reached the backend");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].body_error.is_some() && seen[0].body_bytes < 100_000,
        "the backend request was not aborted: {:?}",
        seen[0]
    );

    // A body that arrives slowly but steadily (gaps shorter than the timeout) is served.
    let head = "POST /api/steady HTTP/1.1\r\nHost: gatehouse.test\r\nContent-Length: 800\r\nConnection: close\r\n\r\n";
    let pieces: Vec<Vec<u8>> = std::iter::once(head.as_bytes().to_vec())
        .chain((0..8).map(|_| vec![b'y'; 100]))
        .collect();
    let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
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
}

// Finding 8: connections that never send a request.
#[tokio::test]
async fn silent_connections_get_the_header_read_timeout_not_the_idle_timeout() {
    let e =
        setup("{ header_read_timeout_ms: 300, idle_timeout_ms: 60000, max_connections: 4 }").await;

    // Four connections that say nothing fill max_connections...
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(raw::connect(e.addr).await.expect("connect"));
    }
    // ...each is closed after the header read timeout, not the 60 s idle timeout.
    for s in &mut silent {
        assert!(
            closed_within(s, Duration::from_secs(10)).await,
            "a connection that sent nothing is still open after 10 s"
        );
    }
    // So a real client gets served again.
    let mut served = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while served.is_none() {
        let mut stream = raw::connect(e.addr).await.expect("connect");
        if let Some(resp) = get(&mut stream, "/api/after").await
            && resp.status == 200
        {
            served = Some(stream);
        } else {
            assert!(Instant::now() < deadline, "no connection was served");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // A kept-alive connection between requests keeps the idle timeout.
    let mut stream = served.expect("served");
    assert!(
        !closed_within(&mut stream, Duration::from_millis(1500)).await,
        "a kept-alive connection was closed after the header read timeout"
    );
    let resp = get(&mut stream, "/api/again")
        .await
        .expect("second response");
    assert_eq!(resp.status, 200);
}

/// Opens connections and sends `GET path` until one is served (200), for up to 10 s; returns
/// the open, kept-alive connection.
async fn open_served(addr: SocketAddr, path: &str) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut stream = raw::connect(addr).await.expect("connect");
        if let Some(resp) = get(&mut stream, path).await
            && resp.status == 200
        {
            return stream;
        }
        assert!(
            Instant::now() < deadline,
            "no connection to {addr} was served within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn idle_keep_alive_connections_make_room_near_max_connections() {
    let e =
        setup("{ header_read_timeout_ms: 300, idle_timeout_ms: 60000, max_connections: 4 }").await;
    // Four clients served once and then idle (kept alive) take every place...
    let mut idle = Vec::new();
    for i in 0..4 {
        idle.push(open_served(e.addr, &format!("/api/idle{i}")).await);
    }
    // ...yet a fifth client is served: at the limit, idle connections are closed after the
    // header read timeout instead of the 60 s idle timeout.
    let _fifth = open_served(e.addr, "/api/fifth").await;
    let mut closed = 0;
    for s in &mut idle {
        if closed_within(s, Duration::from_millis(10)).await {
            closed += 1;
        }
    }
    assert!(closed >= 1, "no idle connection was closed to make room");
}

// Finding 9: HTTP/2 streams share a bounded pool of backend connections.
#[tokio::test]
async fn h2_streams_never_open_more_backend_connections_than_the_limit() {
    let e = setup("{ max_connections_per_backend: 4, backend_queue_timeout_ms: 20000 }").await;
    let client = h2c_client();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = client.clone();
        let url = format!("http://{}/api/s{i}/delay/100", e.addr);
        tasks.push(tokio::spawn(async move { c.get(url).send().await }));
    }
    for t in tasks {
        let resp = t.await.expect("task").expect("response");
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(e.backend.request_count(), 40);
    let opened = e.backend.connection_count();
    assert!(
        opened <= 4,
        "40 concurrent streams opened {opened} backend connections (limit 4)"
    );
}

#[tokio::test]
async fn requests_beyond_the_backend_queue_get_503() {
    let e = setup("{ max_connections_per_backend: 2, backend_queue_timeout_ms: 300 }").await;
    let client = h2c_client();
    // Two requests hold both backend connections.
    let held = hold(&e, &client, 2).await;
    // A third waits in the queue, then gets 503.
    assert_apim_error(
        &e,
        &client,
        "/api/third",
        503,
        "Service unavailable: no connection to the backend service became free in time",
    )
    .await;
    assert_eq!(e.backend.connection_count(), 2);
    e.access_error("/api/third", "backend_pool_exhausted").await;
    for h in held {
        h.abort();
    }
}

#[tokio::test]
async fn requests_in_flight_are_bounded_over_all_h2_streams() {
    let e = setup("{ max_requests_in_flight: 3 }").await;
    let client = h2c_client();
    let held = hold(&e, &client, 3).await;
    assert_apim_error(
        &e,
        &client,
        "/api/fourth",
        503,
        "Service unavailable: the gateway is at its request limit",
    )
    .await;
    e.access_error("/api/fourth", "overloaded").await;
    assert_eq!(
        e.backend.request_count(),
        3,
        "the fourth reached the backend"
    );
    for h in held {
        h.abort();
    }
}

// Finding 14: the client's framing errors are the client's.
#[tokio::test]
async fn client_body_framing_errors_are_400_not_502() {
    let e = setup("{ idle_timeout_ms: 60000 }").await;
    for prefix in ["/api", "/buf"] {
        // A chunk whose size line is not hexadecimal.
        let path = format!("{prefix}/bad-chunk");
        let mut stream = raw::connect(e.addr).await.expect("connect");
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: gatehouse.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("send");
        let resp = read_response(&mut stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{path}: no response"));
        assert_eq!(resp.status, 400, "{path}: {}", resp.head);
        assert_eq!(
            json_of(&resp),
            serde_json::json!({"statusCode": 400, "message": "Bad request: the request body is malformed"})
        );
        let line = e.access_error(&path, "client_body_broken").await;
        assert!(!line.to_string().contains("backend_broken"), "{line}");

        // A body shorter than its Content-Length: the client stops sending (half-close).
        let path = format!("{prefix}/short");
        let mut stream = raw::connect(e.addr).await.expect("connect");
        let mut req = post_head(&path, 100).into_bytes();
        req.extend_from_slice(&[b'z'; 10]);
        stream.write_all(&req).await.expect("send");
        stream.shutdown().await.expect("half-close");
        let resp = read_response(&mut stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{path}: no response"));
        assert_eq!(resp.status, 400, "{path}: {}", resp.head);
        e.access_error(&path, "client_body_broken").await;
    }
    assert!(
        !e.gw.logs_text().contains("backend request failed"),
        "a client's error was logged as the backend's:\n{}",
        e.gw.logs_text()
    );
}

// Finding 10 (gateway side): buffered bodies.
#[tokio::test]
async fn buffered_bodies_are_bounded_one_by_one_and_together() {
    let e = setup(
        "{ max_buffered_body_bytes: 1024, max_buffered_total_bytes: 4096, body_read_timeout_ms: 60000 }",
    )
    .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    // One body over max_buffered_body_bytes: 413, as for the built-in limit.
    let resp = client
        .post(format!("http://{}/buf/big", e.addr))
        .body(vec![b'b'; 2000])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 413);
    // Within it: served.
    let resp = client
        .post(format!("http://{}/buf/small", e.addr))
        .body(vec![b's'; 1000])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);

    // Ten uploads of 1000 bytes that stall after their head: the body is reserved before it
    // is read, so four fit in the 4096-byte budget (whichever come first) and the six others
    // are refused at once.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut uploads = Vec::new();
    for i in 0..10 {
        let mut s = raw::connect(e.addr).await.expect("connect");
        s.write_all(post_head(&format!("/buf/stalled{i}"), 1000).as_bytes())
            .await
            .expect("send");
        let tx = tx.clone();
        uploads.push(tokio::spawn(async move {
            let resp = read_response(&mut s, Duration::from_secs(60)).await;
            let _ =
                tx.send(resp.map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned())));
            s
        }));
    }
    for n in 0..6 {
        let answer = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {n} of 6 stalled uploads were refused within 10 s"))
            .expect("channel");
        let (status, body) = answer.expect("a response");
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).expect("JSON"),
            serde_json::json!({"statusCode": 503,
                "message": "Service unavailable: the gateway's memory for request bodies is in use"})
        );
    }
    assert!(
        rx.try_recv().is_err(),
        "more than six uploads were answered"
    );
    e.gw.wait_for_log("buffer_budget_exhausted", Duration::from_secs(10))
        .await
        .expect("the refusal is in the access log");
    // While the budget is full, another buffered request is refused too...
    let resp = client
        .post(format!("http://{}/buf/refused", e.addr))
        .body(vec![b'r'; 1000])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 503);
    // ...but a streamed request needs no buffer.
    let resp = client
        .post(format!("http://{}/api/streamed", e.addr))
        .body(vec![b's'; 1000])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);

    // The stalled clients go away: their reservations are released.
    for u in uploads {
        u.abort();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = client
            .post(format!("http://{}/buf/released", e.addr))
            .body(vec![b'r'; 1000])
            .send()
            .await
            .expect("answer");
        if resp.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the budget was not released (got {})",
            resp.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
