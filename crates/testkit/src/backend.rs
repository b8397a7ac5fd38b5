//! [`MockBackend`]: a real HTTP server standing in for an API backend.
//!
//! It serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one loopback port, with
//! upgrades enabled, and records every request it receives. Routes are chosen by the *last*
//! path segment(s) only, so they work under whatever prefix the gateway adds:
//!
//! | path ends in      | answer                                                              |
//! |-------------------|---------------------------------------------------------------------|
//! | `/status/{code}`  | that status (200..=999), with the echo JSON plus `"status"`         |
//! | `/delay/{ms}`     | sleeps `ms` milliseconds, then 200 with the echo JSON               |
//! | `/bytes/{n}`      | 200, `content-length: n`, `n` pattern bytes streamed in 64 KiB chunks |
//! | `/ws`             | WebSocket echo (text and binary messages are sent back)             |
//! | anything else     | 200 with the echo JSON                                              |
//!
//! The echo JSON is
//! `{"method","path","query","headers":{lowercased name: value},"body_bytes","version",
//! "authority","remote_addr","connection_id"}`; repeated headers are joined with `", "`.
//! `version` is `http::Version`'s `Debug` form: `"HTTP/1.0"`, `"HTTP/1.1"` or `"HTTP/2.0"`.
//!
//! Request bodies are always consumed frame by frame and only counted, never buffered, so
//! multi-GiB uploads use bounded memory; `/bytes/{n}` likewise never allocates `n` bytes.

use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version, header};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{self, Message};

/// The response body type produced by the mock backend.
pub type ResponseBody = BoxBody<Bytes, Infallible>;

/// Size of the chunks `/bytes/{n}` streams.
pub const BYTES_CHUNK_SIZE: usize = 64 * 1024;

/// The byte `/bytes/{n}` sends at absolute offset `offset` of its body (`offset % 256`), so
/// a client can verify the content without buffering it.
pub fn pattern_byte(offset: u64) -> u8 {
    (offset % 256) as u8
}

/// One request as the mock backend received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The request method.
    pub method: Method,
    /// Path and query exactly as received (e.g. `/orders/42?x=1`).
    pub path_and_query: String,
    /// The path without the query.
    pub path: String,
    /// The raw query string (without `?`), if any.
    pub query: Option<String>,
    /// All request headers (names are lowercase; duplicates are kept).
    pub headers: HeaderMap,
    /// How many body bytes were received (counted, never buffered).
    pub body_bytes: u64,
    /// Set when reading the body failed (e.g. the client or gateway aborted the upload);
    /// `body_bytes` then counts what arrived before the error.
    pub body_error: Option<String>,
    /// The HTTP version of the request.
    pub version: Version,
    /// The authority: the URI's authority (HTTP/2, absolute-form) or else the `Host` header.
    pub authority: Option<String>,
    /// The peer address of the TCP connection (the gateway's outbound address).
    pub peer_addr: SocketAddr,
    /// A per-backend counter identifying the TCP connection; requests sharing a value were
    /// sent over the same connection (keep-alive / HTTP/2 multiplexing).
    pub connection_id: u64,
    /// When the request head arrived.
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The first value of header `name` as a string, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All values of header `name` (lossily decoded), in order.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<RecordedRequest>>,
    next_connection: AtomicU64,
    connections: AtomicU64,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Per-connection context handed to the request handler.
#[derive(Clone)]
struct ConnCtx {
    shared: Arc<Shared>,
    peer_addr: SocketAddr,
    connection_id: u64,
    shutdown: watch::Receiver<()>,
}

/// A real HTTP/1.1 + h2c server on loopback that records what it receives.
///
/// Dropping it stops the accept loop and closes every open connection (including
/// WebSocket sessions and pending `/delay` requests).
pub struct MockBackend {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
    // Dropping the sender wakes every `changed()` on the receivers: the shutdown signal.
    _shutdown: watch::Sender<()>,
}

impl fmt::Debug for MockBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockBackend")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .finish()
    }
}

impl MockBackend {
    /// Starts a backend on `127.0.0.1:0` (a free port chosen by the OS).
    pub async fn start() -> Result<MockBackend> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts a backend on `addr`, which must be a loopback address (port 0 picks a free one).
    pub async fn start_on(addr: SocketAddr) -> Result<MockBackend> {
        if !addr.ip().is_loopback() {
            bail!("mock backend must bind to loopback, not {addr}");
        }
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("mock backend: binding {addr}"))?;
        let addr = listener
            .local_addr()
            .context("mock backend: reading the bound address")?;
        let shared = Arc::new(Shared::default());
        let (tx, rx) = watch::channel(());
        let accept_task = tokio::spawn(accept_loop(listener, shared.clone(), rx));
        Ok(MockBackend {
            addr,
            shared,
            accept_task,
            _shutdown: tx,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws`, the WebSocket echo endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A snapshot of every request recorded so far, in arrival order (a request is recorded
    /// once its body has been read, or at once for WebSocket upgrades).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests().clone()
    }

    /// How many requests were recorded so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests().len()
    }

    /// The most recently recorded request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.requests().last().cloned()
    }

    /// Returns the recorded requests and forgets them.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut *self.shared.requests())
    }

    /// How many TCP connections were accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Waits until at least `n` requests are recorded, polling every 10 ms, and returns them;
    /// fails after `timeout` with the count reached.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>> {
        let what = format!("mock backend {}", self.addr);
        crate::wait::until_count(n, timeout, &what, "requests", || self.requests(), Vec::len).await
    }
}

impl Drop for MockBackend {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<()>) {
    loop {
        let (tcp, peer_addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Typically EMFILE or a connection reset before accept: back off and go on.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let ctx = ConnCtx {
            connection_id: shared.next_connection.fetch_add(1, Ordering::Relaxed),
            shared: shared.clone(),
            peer_addr,
            shutdown: shutdown.clone(),
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(serve_connection(tcp, ctx));
    }
}

async fn serve_connection(tcp: TcpStream, ctx: ConnCtx) {
    let _ = tcp.set_nodelay(true);
    let mut shutdown = ctx.shutdown.clone();
    let service = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(ctx, req).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
    tokio::pin!(conn);
    tokio::select! {
        // Connection errors (client resets, malformed requests) are expected in tests.
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {}
    }
}

/// Which mock route a path selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Echo,
    Status(u16),
    Delay(u64),
    Bytes(u64),
    WebSocket,
}

impl Route {
    fn of(path: &str) -> Route {
        let mut segments = path.rsplit('/');
        let last = segments.next().unwrap_or("");
        let prev = segments.next().unwrap_or("");
        if last == "ws" {
            return Route::WebSocket;
        }
        match prev {
            "status" => last.parse().map(Route::Status).unwrap_or(Route::Echo),
            "delay" => last.parse().map(Route::Delay).unwrap_or(Route::Echo),
            "bytes" => last.parse().map(Route::Bytes).unwrap_or(Route::Echo),
            _ => Route::Echo,
        }
    }
}

async fn handle(ctx: ConnCtx, req: Request<Incoming>) -> Response<ResponseBody> {
    let route = Route::of(req.uri().path());
    if route == Route::WebSocket {
        return websocket(ctx, req);
    }
    let received_at = Instant::now();
    let (parts, body) = req.into_parts();
    let (body_bytes, body_error) = drain(body).await;
    let record = record_of(&ctx, &parts, body_bytes, body_error, received_at);
    let mut echo = echo_json(&record);
    let is_head = record.method == Method::HEAD;
    ctx.shared.requests().push(record);

    match route {
        Route::Status(code) => {
            let status = match StatusCode::from_u16(code) {
                Ok(status) if code >= 200 => status,
                _ => {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        serde_json::json!({"error": format!("mock backend: cannot answer status {code}; use 200..=999")}),
                    );
                }
            };
            if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED || is_head {
                return Response::builder()
                    .status(status)
                    .body(Empty::new().boxed())
                    .unwrap_or_else(|_| internal_error());
            }
            if let Some(obj) = echo.as_object_mut() {
                obj.insert("status".into(), code.into());
            }
            json_response(status, echo)
        }
        Route::Delay(ms) => {
            let mut shutdown = ctx.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                _ = shutdown.changed() => {}
            }
            json_response(StatusCode::OK, echo)
        }
        Route::Bytes(n) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, n)
            .body(PatternBody { remaining: n }.boxed())
            .unwrap_or_else(|_| internal_error()),
        Route::Echo | Route::WebSocket => json_response(StatusCode::OK, echo),
    }
}

/// Reads the whole body frame by frame, counting data bytes without keeping them.
async fn drain(mut body: Incoming) -> (u64, Option<String>) {
    let mut n = 0u64;
    loop {
        match body.frame().await {
            None => return (n, None),
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    n += data.len() as u64;
                }
            }
            Some(Err(e)) => return (n, Some(e.to_string())),
        }
    }
}

fn record_of(
    ctx: &ConnCtx,
    parts: &http::request::Parts,
    body_bytes: u64,
    body_error: Option<String>,
    received_at: Instant,
) -> RecordedRequest {
    let uri = &parts.uri;
    let authority = uri.authority().map(|a| a.to_string()).or_else(|| {
        parts
            .headers
            .get(header::HOST)
            .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
    });
    RecordedRequest {
        method: parts.method.clone(),
        path_and_query: uri
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| uri.path().to_owned()),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body_bytes,
        body_error,
        version: parts.version,
        authority,
        peer_addr: ctx.peer_addr,
        connection_id: ctx.connection_id,
        received_at,
    }
}

fn echo_json(r: &RecordedRequest) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for name in r.headers.keys() {
        let joined = r
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        headers.insert(name.as_str().to_owned(), joined.into());
    }
    serde_json::json!({
        "method": r.method.as_str(),
        "path": r.path,
        "query": r.query,
        "headers": headers,
        "body_bytes": r.body_bytes,
        "version": format!("{:?}", r.version),
        "authority": r.authority,
        "remote_addr": r.peer_addr.to_string(),
        "connection_id": r.connection_id,
    })
}

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<ResponseBody> {
    let body = serde_json::to_vec(&value).unwrap_or_default();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap_or_else(|_| internal_error())
}

fn internal_error() -> Response<ResponseBody> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"mock backend error")).boxed());
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp
}

/// The shared 64 KiB chunk `/bytes/{n}` slices its frames from.
fn pattern_chunk() -> Bytes {
    static CHUNK: OnceLock<Bytes> = OnceLock::new();
    CHUNK
        .get_or_init(|| {
            (0..BYTES_CHUNK_SIZE as u64)
                .map(pattern_byte)
                .collect::<Vec<u8>>()
                .into()
        })
        .clone()
}

/// A body of `remaining` pattern bytes produced lazily, one 64 KiB frame per poll. Every
/// frame but the last is a full chunk, so byte `i` of the body is `pattern_byte(i)`.
struct PatternBody {
    remaining: u64,
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(BYTES_CHUNK_SIZE as u64) as usize;
        self.remaining -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(pattern_chunk().slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Answers a WebSocket upgrade with 101 and runs an echo session on the upgraded connection.
fn websocket(ctx: ConnCtx, req: Request<Incoming>) -> Response<ResponseBody> {
    let received_at = Instant::now();
    let headers = req.headers();
    let is_upgrade = req.version() <= Version::HTTP_11
        && has_token(headers, header::CONNECTION, "upgrade")
        && has_token(headers, header::UPGRADE, "websocket");
    let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned();
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());

    let (parts, body) = req.into_parts();
    let record = record_of(&ctx, &parts, 0, None, received_at);
    ctx.shared.requests().push(record);
    let mut req = Request::from_parts(parts, body);

    let Some(key) = key.filter(|_| is_upgrade && version_ok) else {
        let mut resp = json_response(
            StatusCode::UPGRADE_REQUIRED,
            serde_json::json!({"error": "mock backend: /ws expects an HTTP/1.1 WebSocket upgrade (version 13)"}),
        );
        resp.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return resp;
    };

    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut shutdown = ctx.shutdown.clone();
    tokio::spawn(async move {
        let session = async move {
            let upgraded = on_upgrade.await?;
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            echo_messages(ws).await.map_err(anyhow::Error::from)
        };
        tokio::select! {
            // A peer that vanishes mid-session is not our concern: just end the session.
            _ = session => {}
            _ = shutdown.changed() => {}
        }
    });

    let mut builder = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        );
    if let Some(protocol) = protocol {
        builder = builder.header(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    builder
        .body(Empty::new().boxed())
        .unwrap_or_else(|_| internal_error())
}

async fn echo_messages<S>(mut ws: WebSocketStream<S>) -> Result<(), tungstenite::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // Pings are answered and close frames acknowledged by tungstenite itself; the stream
    // ends after the closing handshake.
    while let Some(msg) = ws.next().await {
        if let msg @ (Message::Text(_) | Message::Binary(_)) = msg? {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_on_last_segments() {
        assert_eq!(Route::of("/"), Route::Echo);
        assert_eq!(Route::of("/orders/42"), Route::Echo);
        assert_eq!(Route::of("/api/status/503"), Route::Status(503));
        assert_eq!(Route::of("/status/abc"), Route::Echo);
        assert_eq!(Route::of("/x/y/delay/250"), Route::Delay(250));
        assert_eq!(Route::of("/bytes/10737418240"), Route::Bytes(10 << 30));
        assert_eq!(Route::of("/chat/ws"), Route::WebSocket);
        assert_eq!(Route::of("/ws/"), Route::Echo);
    }

    #[test]
    fn pattern_is_continuous_across_chunks() {
        let chunk = pattern_chunk();
        assert_eq!(chunk.len(), BYTES_CHUNK_SIZE);
        assert_eq!(chunk[0], 0);
        assert_eq!(
            chunk[BYTES_CHUNK_SIZE - 1],
            pattern_byte(BYTES_CHUNK_SIZE as u64 - 1)
        );
        assert_eq!(pattern_byte(BYTES_CHUNK_SIZE as u64), 0);
    }
}
