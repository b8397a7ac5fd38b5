//! End to end: the bounds of the `--metrics-listen` listener (issue 9, finding 13).
//!
//! The metrics listener used to take any number of connections, keep silent or idle ones
//! forever and read request heads of any size; it shares the process's file descriptors with
//! the gateway, so a flood of connections to it starved the gateway's own listeners. Now it
//! serves a few connections at a time (more are closed at accept), closes a connection that
//! sends no complete request head within a few seconds (first request or keep-alive), bounds
//! the request head, and answers `GET /metrics` only.

use gatehouse_testkit::raw::{self, status_of};
use gatehouse_testkit::{Gatehouse, Probe, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
/// Generous: the machine may be loaded. The listener's own timeout is a few seconds.
const WAIT: Duration = Duration::from_secs(30);
/// The metrics listener's connection limit (metrics_endpoint.rs).
const LIMIT: usize = 16;

fn config(gw: SocketAddr) -> String {
    format!("service: {{ name: metrics }}\ngateway:\n  listeners: [ {{ address: \"{gw}\" }} ]\n")
}

struct Env {
    _gw: Gatehouse,
    addr: SocketAddr,
    metrics: SocketAddr,
}

/// Starts `gatehouse serve --metrics-listen M`, through `sh -c 'ulimit -n N; exec ...'` when
/// `fd_limit` is given (so the process has few file descriptors, as a busy one would have few
/// left).
async fn start(fd_limit: Option<u32>) -> Env {
    let addr = free_addr();
    let metrics = free_addr();
    let serve = [
        "serve".to_string(),
        "--metrics-listen".into(),
        metrics.to_string(),
    ];
    let builder = match fd_limit {
        None => Gatehouse::builder(Path::new(BIN))
            .expect("fixture")
            .args(serve),
        Some(n) => Gatehouse::builder(Path::new("/bin/sh"))
            .expect("fixture")
            .args(
                [
                    "-c".to_string(),
                    format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                    BIN.to_string(),
                ]
                .into_iter()
                .chain(serve),
            ),
    };
    let gw = builder
        .probe(Probe::Http(addr))
        .start(&config(addr))
        .await
        .expect("gatehouse starts");
    Env {
        _gw: gw,
        addr,
        metrics,
    }
}

/// Waits for the peer to end the connection (EOF or reset), reading and discarding whatever
/// arrives; false if it is still open at `deadline`.
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Reads one whole response with a `Content-Length` body off `stream`.
async fn read_response(stream: &mut TcpStream) -> Vec<u8> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(head_end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let len = raw::header_of(&out, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a Content-Length");
            if out.len() >= head_end + 4 + len {
                return out;
            }
        }
        let n = timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("the response arrives")
            .expect("read");
        assert!(n > 0, "connection closed mid-response: {out:?}");
        out.extend_from_slice(&buf[..n]);
    }
}

async fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    raw::send_raw_timeout(addr, request, Duration::from_secs(10))
        .await
        .expect("exchange")
}

#[tokio::test]
async fn silent_and_idle_metrics_connections_are_closed() {
    let env = start(None).await;
    // One connection that never sends a byte, one that sends a request and then idles.
    let mut silent = raw::connect(env.metrics).await.expect("connect");
    let mut idle = raw::connect(env.metrics).await.expect("connect");
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .expect("send");
    let first = read_response(&mut idle).await;
    assert_eq!(
        status_of(&first),
        Some(200),
        "{}",
        String::from_utf8_lossy(&first)
    );

    let deadline = Instant::now() + WAIT;
    assert!(
        closed_by(&mut silent, deadline).await,
        "a connection that never sent a request head is still open after {WAIT:?}"
    );
    assert!(
        closed_by(&mut idle, deadline).await,
        "an idle keep-alive connection is still open after {WAIT:?}"
    );
}

#[tokio::test]
async fn metrics_answers_get_metrics_only_with_a_bounded_head() {
    let env = start(None).await;
    let m = env.metrics;
    let ok = exchange(
        m,
        b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&ok),
        Some(200),
        "{}",
        String::from_utf8_lossy(&ok)
    );

    let post = exchange(
        m,
        b"POST /metrics HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    .await;
    assert_eq!(
        status_of(&post),
        Some(405),
        "{}",
        String::from_utf8_lossy(&post)
    );
    assert_eq!(raw::header_of(&post, "allow").as_deref(), Some("GET"));

    let other = exchange(
        m,
        b"GET /other HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&other),
        Some(404),
        "{}",
        String::from_utf8_lossy(&other)
    );

    let with_body = exchange(
        m,
        b"GET /metrics HTTP/1.1\r\nHost: m\r\nContent-Length: 5\r\n\r\nhello",
    )
    .await;
    assert_eq!(
        status_of(&with_body),
        Some(400),
        "{}",
        String::from_utf8_lossy(&with_body)
    );

    // A 32 KiB header: over the listener's bound on a request head.
    let big = format!(
        "GET /metrics HTTP/1.1\r\nHost: m\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let r = exchange(m, big.as_bytes()).await;
    assert_ne!(
        status_of(&r),
        Some(200),
        "a 32 KiB request head was served: {}",
        String::from_utf8_lossy(&r[..r.len().min(200)])
    );
}

/// A flood of connections to the metrics listener, in a process with few file descriptors:
/// those beyond the limit are closed at accept, the gateway keeps serving during the flood,
/// and `/metrics` answers again once it ends.
#[tokio::test]
async fn a_flood_of_metrics_connections_does_not_exhaust_the_gateway() {
    const FLOOD: usize = 300;
    let env = start(Some(128)).await;

    // Each connection waits for the gateway to end it and reports that.
    let (ended_tx, mut ended) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..FLOOD {
        let mut s = raw::connect(env.metrics).await.expect("connect");
        let ended_tx = ended_tx.clone();
        flood.spawn(async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = s.read(&mut buf).await
                && n > 0
            {}
            let _ = ended_tx.send(());
        });
    }
    // Those beyond the limit are closed at once.
    let deadline = Instant::now() + WAIT;
    for closed in 0..FLOOD - LIMIT {
        assert!(
            timeout_at(deadline, ended.recv()).await.is_ok(),
            "only {closed} of the {FLOOD} connections beyond the limit of {LIMIT} were closed"
        );
    }

    // The gateway serves while the flood holds what the limit allows.
    let health = exchange(
        env.addr,
        b"GET /status-0123456789abcdef HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&health),
        Some(200),
        "the gateway stopped serving during a metrics flood: {}",
        String::from_utf8_lossy(&health)
    );

    flood.abort_all();
    let deadline = Instant::now() + WAIT;
    loop {
        let r = raw::send_raw_timeout(
            env.metrics,
            b"GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
            Duration::from_secs(2),
        )
        .await;
        if matches!(&r, Ok(r) if status_of(r) == Some(200)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/metrics does not answer after the flood ended: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
