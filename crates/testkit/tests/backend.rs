//! Exercises every MockBackend route with real clients (reqwest over HTTP/1.1 and h2c,
//! tokio-tungstenite for WebSocket).

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use gatehouse_testkit::backend::{BYTES_CHUNK_SIZE, MockBackend, pattern_byte};
use http::Version;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const MIB: u64 = 1024 * 1024;

fn h1() -> reqwest::Client {
    reqwest::Client::builder().http1_only().build().unwrap()
}

fn h2c() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

async fn json(resp: reqwest::Response) -> serde_json::Value {
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn echo_reports_the_request_over_http1() {
    let backend = MockBackend::start().await.unwrap();
    assert!(backend.addr().ip().is_loopback());
    assert_eq!(backend.url(), format!("http://{}", backend.addr()));

    let resp = h1()
        .post(format!("{}/orders/v1/orders/42?x=1&y=%20z", backend.url()))
        .header("X-Test", "a")
        .header("x-multi", "1")
        .header("x-multi", "2")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let echo = json(resp).await;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/orders/v1/orders/42");
    assert_eq!(echo["query"], "x=1&y=%20z");
    assert_eq!(echo["headers"]["x-test"], "a");
    assert_eq!(echo["headers"]["x-multi"], "1, 2");
    assert_eq!(echo["headers"]["content-length"], "5");
    assert_eq!(echo["body_bytes"], 5);
    assert_eq!(echo["version"], "HTTP/1.1");
    assert_eq!(echo["authority"], backend.addr().to_string());

    let reqs = backend.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(backend.request_count(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, http::Method::POST);
    assert_eq!(r.path_and_query, "/orders/v1/orders/42?x=1&y=%20z");
    assert_eq!(r.path, "/orders/v1/orders/42");
    assert_eq!(r.query.as_deref(), Some("x=1&y=%20z"));
    assert_eq!(r.header("x-test"), Some("a"));
    assert_eq!(r.header_all("x-multi"), vec!["1", "2"]);
    assert_eq!(r.body_bytes, 5);
    assert!(r.body_error.is_none());
    assert_eq!(r.version, Version::HTTP_11);
    assert!(r.peer_addr.ip().is_loopback());

    // No query gives null.
    let echo = json(h1().get(backend.url()).send().await.unwrap()).await;
    assert_eq!(echo["path"], "/");
    assert!(echo["query"].is_null());
    assert_eq!(echo["body_bytes"], 0);
}

#[tokio::test]
async fn echo_over_h2c_prior_knowledge() {
    let backend = MockBackend::start().await.unwrap();
    let client = h2c();
    let resp = client
        .put(format!("{}/a/b?c", backend.url()))
        .header("x-h2", "yes")
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    let echo = json(resp).await;
    assert_eq!(echo["version"], "HTTP/2.0");
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/a/b");
    assert_eq!(echo["query"], "c");
    assert_eq!(echo["headers"]["x-h2"], "yes");
    assert_eq!(echo["body_bytes"], 100_000);

    // Several streams on one connection.
    let (a, b) = tokio::join!(
        client.get(format!("{}/one", backend.url())).send(),
        client.get(format!("{}/two", backend.url())).send()
    );
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 200);
    let reqs = backend.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.version == Version::HTTP_2));
    assert!(
        reqs.iter()
            .all(|r| r.connection_id == reqs[0].connection_id)
    );
    assert_eq!(backend.connection_count(), 1);
}

#[tokio::test]
async fn keep_alive_reuses_a_connection_and_separate_clients_do_not() {
    let backend = MockBackend::start().await.unwrap();
    let client = h1();
    for _ in 0..3 {
        let resp = client.get(backend.url()).send().await.unwrap();
        resp.bytes().await.unwrap();
    }
    h1().get(backend.url()).send().await.unwrap();
    let reqs = backend
        .wait_for_requests(4, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reqs[0].connection_id, reqs[1].connection_id);
    assert_eq!(reqs[1].connection_id, reqs[2].connection_id);
    assert_ne!(reqs[2].connection_id, reqs[3].connection_id);
    assert_eq!(backend.take_requests().len(), 4);
    assert_eq!(backend.request_count(), 0);
    assert!(
        backend
            .wait_for_requests(1, Duration::from_millis(50))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn status_route_under_any_prefix() {
    let backend = MockBackend::start().await.unwrap();
    let client = h1();
    for (path, want) in [
        ("/status/503", 503),
        ("/api/v2/status/404", 404),
        ("/x/status/201", 201),
        ("/status/599", 599),
    ] {
        let resp = client
            .get(format!("{}{path}", backend.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), want, "{path}");
        let body = json(resp).await;
        assert_eq!(body["status"], want);
        assert_eq!(body["path"], path);
    }

    let resp = client
        .get(format!("{}/status/204", backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());

    // Not a number: plain echo. Out of range: 400.
    let resp = client
        .get(format!("{}/status/abc", backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .get(format!("{}/status/101", backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn delay_route_sleeps_then_echoes() {
    let backend = MockBackend::start().await.unwrap();
    let start = Instant::now();
    let resp = h1()
        .get(format!("{}/slow/delay/300?q=1", backend.url()))
        .send()
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), 200);
    let echo = json(resp).await;
    assert_eq!(echo["path"], "/slow/delay/300");
    assert_eq!(echo["query"], "q=1");

    // The request is recorded before the sleep, so a client timeout still leaves a record.
    let err = h1()
        .get(format!("{}/delay/5000", backend.url()))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(backend.request_count(), 2);
}

/// Downloads `/bytes/{n}` chunk by chunk, checking the pattern without buffering.
async fn download_and_verify(client: &reqwest::Client, url: &str, n: u64) {
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(n));
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let mut stream = resp.bytes_stream();
    let mut offset = 0u64;
    let mut chunks = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for (i, b) in chunk.iter().enumerate() {
            if *b != pattern_byte(offset + i as u64) {
                panic!(
                    "byte {} is {b}, want {}",
                    offset + i as u64,
                    pattern_byte(offset + i as u64)
                );
            }
        }
        offset += chunk.len() as u64;
        chunks += 1;
    }
    assert_eq!(offset, n);
    assert!(chunks > 1 || n <= BYTES_CHUNK_SIZE as u64);
}

#[tokio::test]
async fn bytes_route_streams_50_mib_over_http1() {
    let backend = MockBackend::start().await.unwrap();
    let n = 50 * MIB;
    download_and_verify(&h1(), &format!("{}/dl/bytes/{n}", backend.url()), n).await;
}

#[tokio::test]
async fn bytes_route_streams_over_h2c_and_handles_odd_sizes() {
    let backend = MockBackend::start().await.unwrap();
    let client = h2c();
    for n in [0, 1, 65_535, 65_536, 65_537, 5 * MIB + 3] {
        download_and_verify(&client, &format!("{}/bytes/{n}", backend.url()), n).await;
    }
}

#[tokio::test]
async fn bytes_route_announces_multi_gib_length_without_allocating() {
    let backend = MockBackend::start().await.unwrap();
    let n = 8 * 1024 * MIB;
    let resp = h1()
        .get(format!("{}/bytes/{n}", backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.content_length(), Some(n));
    // Read a few MiB, then hang up.
    let mut stream = resp.bytes_stream();
    let mut got = 0u64;
    while got < 4 * MIB {
        got += stream.next().await.unwrap().unwrap().len() as u64;
    }
}

#[tokio::test]
async fn uploads_are_counted_streaming() {
    let backend = MockBackend::start().await.unwrap();
    const CHUNK: usize = 256 * 1024;
    const COUNT: usize = 256; // 64 MiB
    for client in [h1(), h2c()] {
        let chunks = futures_util::stream::iter(
            (0..COUNT).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![1u8; CHUNK]))),
        );
        let resp = client
            .post(format!("{}/upload", backend.url()))
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let echo = json(resp).await;
        assert_eq!(echo["body_bytes"], (CHUNK * COUNT) as u64);
    }
    let reqs = backend.requests();
    assert!(reqs.iter().all(|r| r.body_bytes == (CHUNK * COUNT) as u64));
    // Chunked on HTTP/1.1: no content-length.
    assert_eq!(reqs[0].header("transfer-encoding"), Some("chunked"));
}

#[tokio::test]
async fn websocket_echo() {
    let backend = MockBackend::start().await.unwrap();
    let mut request = format!("ws://{}/chat/ws?room=1", backend.addr())
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chat.v1, chat.v2".parse().unwrap(),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.headers()["sec-websocket-protocol"], "chat.v1");

    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));

    let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    ws.send(Message::binary(big.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));

    ws.send(Message::Ping(Bytes::from_static(b"p")))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Pong(Bytes::from_static(b"p"))
    );

    ws.close(None).await.unwrap();
    // The server acknowledges the close and the stream ends.
    while let Some(msg) = ws.next().await {
        match msg {
            Ok(Message::Close(_)) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }

    let reqs = backend.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path_and_query, "/chat/ws?room=1");
    assert_eq!(reqs[0].header("upgrade"), Some("websocket"));

    // The plain URL helper works too.
    let (mut ws, _) = tokio_tungstenite::connect_async(backend.ws_url())
        .await
        .unwrap();
    ws.send(Message::text("again")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("again"));
}

#[tokio::test]
async fn websocket_route_without_upgrade_is_426() {
    let backend = MockBackend::start().await.unwrap();
    let resp = h1()
        .get(format!("{}/ws", backend.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 426);
    assert_eq!(resp.headers()["upgrade"], "websocket");
}

#[tokio::test]
async fn dropping_the_backend_stops_it() {
    let backend = MockBackend::start().await.unwrap();
    let addr = backend.addr();
    // An open WebSocket session is closed too.
    let (mut ws, _) = tokio_tungstenite::connect_async(backend.ws_url())
        .await
        .unwrap();
    drop(backend);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("the session should end when the backend is dropped");
    assert!(!matches!(next, Some(Ok(Message::Text(_)))));
}

#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let err = MockBackend::start_on("0.0.0.0:0".parse().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    let backend = MockBackend::start_on("127.0.0.2:0".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(backend.addr().ip().to_string(), "127.0.0.2");
}
