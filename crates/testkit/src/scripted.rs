//! [`ScriptedBackend`]: a tiny HTTP/1.1 + h2c server on loopback whose answers come from a
//! closure, and which keeps every request *with its whole body* (unlike
//! [`MockBackend`](crate::MockBackend), which only counts body bytes).
//!
//! Use it when a test needs the backend to change its answer from one request to the next
//! (fail twice, then succeed), to serve fixed documents (an OpenID configuration and its JWKS),
//! or to check the exact bytes a request carried.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use gatehouse_testkit::{ScriptedBackend, ScriptedResponse};
//! let backend = ScriptedBackend::start(|req| {
//!     if req.index < 2 {
//!         ScriptedResponse::new(503).body("busy")
//!     } else {
//!         ScriptedResponse::new(200).body(req.body.clone())
//!     }
//! })
//! .await?;
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as a [`ScriptedBackend`] received it, body included.
#[derive(Debug, Clone)]
pub struct ScriptedRequest {
    /// 0 for the first request this backend received, 1 for the second, and so on.
    pub index: usize,
    /// The request method.
    pub method: Method,
    /// Path and query exactly as received (e.g. `/orders/42?x=1`).
    pub path_and_query: String,
    /// The path without the query.
    pub path: String,
    /// All request headers (names are lowercase; duplicates are kept).
    pub headers: HeaderMap,
    /// The whole request body.
    pub body: Bytes,
}

impl ScriptedRequest {
    /// The first value of header `name` as a string, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as (lossily decoded) text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The answer a [`ScriptedBackend`]'s closure gives.
#[derive(Debug, Clone)]
pub struct ScriptedResponse {
    /// The status code (an invalid one answers 500).
    pub status: u16,
    /// Headers, in order (an invalid name or value is skipped).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl ScriptedResponse {
    /// A response with `status`, no headers and an empty body.
    pub fn new(status: u16) -> ScriptedResponse {
        ScriptedResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// A 200 with `value` as its `application/json` body.
    pub fn json(value: &serde_json::Value) -> ScriptedResponse {
        ScriptedResponse::new(200)
            .header("content-type", "application/json")
            .body(value.to_string())
    }
}

type Handler = dyn Fn(&ScriptedRequest) -> ScriptedResponse + Send + Sync;

struct Shared {
    requests: Mutex<Vec<ScriptedRequest>>,
    handler: Box<Handler>,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<ScriptedRequest>> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A loopback HTTP server answering from a closure and recording each request with its body.
///
/// Dropping it stops the accept loop.
pub struct ScriptedBackend {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

impl fmt::Debug for ScriptedBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedBackend")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .finish()
    }
}

impl ScriptedBackend {
    /// Starts a server on `127.0.0.1:0` answering every request with `handler`.
    ///
    /// The request is recorded (and its `index` assigned) before `handler` runs, so a handler
    /// sees requests numbered in arrival order.
    pub async fn start<F>(handler: F) -> Result<ScriptedBackend>
    where
        F: Fn(&ScriptedRequest) -> ScriptedResponse + Send + Sync + 'static,
    {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), handler).await
    }

    /// Like [`ScriptedBackend::start`] on `addr`, which must be a loopback address.
    pub async fn start_on<F>(addr: SocketAddr, handler: F) -> Result<ScriptedBackend>
    where
        F: Fn(&ScriptedRequest) -> ScriptedResponse + Send + Sync + 'static,
    {
        if !addr.ip().is_loopback() {
            bail!("scripted backend must bind to loopback, not {addr}");
        }
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("scripted backend: binding {addr}"))?;
        let addr = listener
            .local_addr()
            .context("scripted backend: reading the bound address")?;
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            handler: Box::new(handler),
        });
        let accept_task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(ScriptedBackend {
            addr,
            shared,
            accept_task,
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

    /// A snapshot of every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<ScriptedRequest> {
        self.shared.requests().clone()
    }

    /// How many requests were recorded so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests().len()
    }

    /// How many recorded requests had exactly this path.
    pub fn count_path(&self, path: &str) -> usize {
        self.shared
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Waits until at least `n` requests are recorded, polling every 10 ms.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ScriptedRequest>> {
        let what = format!("scripted backend {}", self.addr);
        crate::wait::until_count(n, timeout, &what, "requests", || self.requests(), Vec::len).await
    }
}

impl Drop for ScriptedBackend {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        // Kept in the JoinSet so aborting the accept loop also ends its connections.
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("scripted backend: reading the body: {e}"),
            );
        }
    };
    let request = {
        let mut requests = shared.requests();
        let request = ScriptedRequest {
            index: requests.len(),
            method: parts.method,
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body,
        };
        requests.push(request.clone());
        request
    };
    let answer = (shared.handler)(&request);
    let Ok(status) = StatusCode::from_u16(answer.status) else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scripted backend: invalid status {}", answer.status),
        );
    };
    let mut resp = Response::new(Full::new(answer.body));
    *resp.status_mut() = status;
    for (name, value) in &answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

fn plain(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(message)));
    *resp.status_mut() = status;
    resp
}
