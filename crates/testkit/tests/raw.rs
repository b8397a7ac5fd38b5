//! The raw TCP helpers against a MockBackend (hyper parses, so malformed input gets 400).

use std::time::{Duration, Instant};

use gatehouse_testkit::MockBackend;
use gatehouse_testkit::raw::{
    body_of, head_of, header_of, send_raw, send_raw_paced, send_raw_timeout, status_of,
};

#[tokio::test]
async fn valid_request_gets_the_echo() {
    let backend = MockBackend::start().await.unwrap();
    let resp = send_raw(
        backend.addr(),
        b"GET /raw/path?a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(status_of(&resp), Some(200));
    assert!(head_of(&resp).unwrap().starts_with("HTTP/1.1 200 OK"));
    assert_eq!(
        header_of(&resp, "Content-Type").as_deref(),
        Some("application/json")
    );
    let echo: serde_json::Value = serde_json::from_slice(body_of(&resp).unwrap()).unwrap();
    assert_eq!(echo["path"], "/raw/path");
    assert_eq!(echo["query"], "a=b");
    assert_eq!(echo["headers"]["host"], "x");
}

#[tokio::test]
async fn malformed_request_gets_400() {
    let backend = MockBackend::start().await.unwrap();
    let resp = send_raw(backend.addr(), b"GARBAGE\x01 / HTTP/9\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        status_of(&resp),
        Some(400),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    assert_eq!(backend.request_count(), 0);
}

#[tokio::test]
async fn silent_server_times_out_with_nothing() {
    let backend = MockBackend::start().await.unwrap();
    // An incomplete head: hyper waits for more, so the read times out empty.
    let start = Instant::now();
    let resp = send_raw_timeout(
        backend.addr(),
        b"GET / HTTP/1.1\r\nHost:",
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert!(resp.is_empty());
    assert_eq!(status_of(&resp), None);
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn paced_writes_arrive_as_one_request() {
    let backend = MockBackend::start().await.unwrap();
    let chunks: [&[u8]; 4] = [
        b"GET /slow",
        b"loris HTTP/1.1\r\n",
        b"Host: x\r\nConnection: close\r\n",
        b"\r\n",
    ];
    let start = Instant::now();
    let resp = send_raw_paced(
        backend.addr(),
        &chunks,
        Duration::from_millis(100),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(status_of(&resp), Some(200));
    assert_eq!(backend.requests()[0].path, "/slowloris");
}

#[tokio::test]
async fn connect_failure_is_an_error() {
    let addr = gatehouse_testkit::free_addr();
    let err = send_raw(addr, b"GET / HTTP/1.1\r\n\r\n").await.unwrap_err();
    assert!(format!("{err:#}").contains(&addr.to_string()), "{err:#}");
}
