//! `--metrics-listen ADDR`: Prometheus metrics at `GET /metrics`, on a listener of its own
//! (never on the gateway's: metrics are for operators, not API clients).
//!
//! The listener shares the process's file descriptors and memory with the gateway, so it is
//! bounded on its own: a few connections at a time (more are closed as soon as they are
//! accepted), a short deadline for each request head (which also ends idle keep-alive
//! connections), a cap on a connection's life, a small request head and no request body. A
//! scraper needs one connection and one small request every few seconds.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 16;
/// A connection must deliver a complete request head within this long of being accepted or of
/// its previous answer (hyper's header read timer also runs while a keep-alive connection
/// waits for its next request): silent, trickling and idle connections are closed.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// No connection lives longer than this, whatever it does (e.g. never reads its answers).
const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(30);
/// The largest request head (hyper's read buffer: at least 8 KiB) and its most headers.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 32;
/// Pause after a failed accept (e.g. out of file descriptors): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Installs the metrics recorder and serves it on `addr`; returns the bound address.
pub async fn start(addr: SocketAddr) -> Result<SocketAddr> {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    let local = listener.local_addr()?;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::debug!(error = %e, "metrics: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tracing::debug!(client = %peer, limit = MAX_CONNECTIONS, "metrics: connection limit reached, connection closed");
                continue;
            };
            let handle = handle.clone();
            let conn = http.serve_connection(
                TokioIo::new(stream),
                service_fn(move |req| answer(req, handle.clone())),
            );
            tokio::spawn(async move {
                let _slot = slot;
                match tokio::time::timeout(MAX_CONNECTION_LIFE, conn).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(client = %peer, error = %e, "metrics: connection ended")
                    }
                    Err(_) => {
                        tracing::debug!(client = %peer, "metrics: connection closed after its maximum life")
                    }
                }
            });
        }
    });
    Ok(local)
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    handle: PrometheusHandle,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let has_body = !req.body().is_end_stream();
    let mut r = if req.method() != Method::GET {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "only GET /metrics\n");
        r.headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("GET"));
        r
    } else if req.uri().path() != "/metrics" {
        text(StatusCode::NOT_FOUND, "not found: try /metrics\n")
    } else if has_body {
        text(StatusCode::BAD_REQUEST, "a metrics request has no body\n")
    } else {
        let mut r = Response::new(Full::new(Bytes::from(handle.render())));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        r
    };
    if has_body {
        // The body is never read: end the connection rather than skip it.
        r.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    Ok(r)
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}
