//! Pooled HTTP/1.1 connections to one backend (one scheme, host and port, one TLS profile).
//!
//! Why not hyper-util's legacy `Client`: it is general (any URI, any host, HTTP/2, proxies) and
//! pays for that on every request — a pool keyed by URI behind a mutex, checkout futures, URI
//! re-checks and a `Host` header rebuilt each time — measured at about a tenth of the gateway's
//! CPU per request. A backend target knows its one destination, so its pool is a plain stack of
//! idle connections: the request path pops one, sends, and the response body puts it back when
//! it has been read to the end. Unsent requests on a connection the backend had just closed are
//! retried on another connection, as the legacy client does.
//!
//! A connection's I/O runs in a task of its own, on the worker that opened it. Idle connections
//! are kept per thread: a worker takes the ones its own runtime runs, so sending a request and
//! getting its answer wake no other thread; another thread's are taken only when the origin's
//! limit leaves no room for a new one. (Driving the connection in the request's own task instead
//! was measured 2 µs per request slower in bench/run.sh — most likely because every backend
//! event then re-polls the client connection's whole dispatcher; docs/performance.md.)
//!
//! Connections to one origin (scheme, host, port) are bounded by `max_connections_per_backend`:
//! each open connection holds a permit of its origin's [`ConnectionLimit`] until it closes, so
//! however many requests arrive at once (HTTP/2 streams multiplex hundreds per client
//! connection), a request that finds no idle connection and no permit waits in a queue for
//! either, up to `backend_queue_timeout_ms`, then fails with [`UpstreamError::PoolExhausted`].

use crate::egress_connector::EgressConnector;
use crate::egress_connector::NetworkSource;
use crate::request_body::RequestBody;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_rustls::HttpsConnector;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

/// An idle connection closes after this long unused (the legacy client's default too).
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per backend and thread; more are closed when they become idle.
const MAX_IDLE: usize = 1024;
/// Idle stacks per backend, one per thread key modulo this: workers (one per core) each have
/// their own, so they never contend for one lock nor bounce its cache line between cores.
const IDLE_SHARDS: usize = 16;

/// This thread's key: a connection's task runs on the runtime of the thread that opened it.
fn thread_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|k| *k)
}

/// Why a request did not get a response.
#[derive(Debug)]
pub enum UpstreamError {
    /// No connection could be made (egress guard, DNS, refused, unreachable, connect timeout,
    /// TLS handshake); the error is kept whole so the caller can tell which.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The connection failed while the request was sent or the response awaited.
    Request(hyper::Error),
    /// Every connection the origin may have was busy for the whole queue timeout.
    PoolExhausted { waited: Duration },
}

/// The bound on open connections to one origin, shared by every pool that reaches it (a
/// configured backend and the per-URL targets policies create for the same origin).
#[derive(Debug)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    max: usize,
    /// `backend_queue_timeout_ms`, shared by all origins; a reload stores a new value.
    queue_timeout_ms: Arc<AtomicU64>,
}

impl ConnectionLimit {
    pub fn new(max: u32, queue_timeout_ms: Arc<AtomicU64>) -> ConnectionLimit {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max as usize)),
            max: max as usize,
            queue_timeout_ms,
        }
    }

    /// Connections open now under this limit.
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits()
    }
}

/// An open connection: the handle requests are sent on, and where its task runs.
struct Conn {
    sender: SendRequest<RequestBody>,
    /// The thread whose runtime runs the connection's task (see [`thread_key`]).
    home: u64,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

pub struct Upstream {
    /// `scheme://authority`, what the connector connects to.
    origin: http::Uri,
    connector: HttpsConnector<EgressConnector<dyn NetworkSource>>,
    /// Per home thread (its key modulo [`IDLE_SHARDS`]), most recently used last: taking from
    /// the end keeps warm connections warm and lets the cold ones at the bottom age out.
    idle: [Mutex<Vec<Idle>>; IDLE_SHARDS],
    limit: Arc<ConnectionLimit>,
    /// Wakes a request queued for a connection when one is put back idle.
    returned: Notify,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// A connection lent to one request; [`Lease::release`] gives it back for reuse.
pub struct Lease {
    conn: Conn,
    upstream: Arc<Upstream>,
}

impl Lease {
    /// The response was read whole: the connection can carry the next request.
    pub fn release(self) {
        self.upstream.put(self.conn);
    }
}

impl Upstream {
    pub fn new(
        origin: http::Uri,
        connector: HttpsConnector<EgressConnector<dyn NetworkSource>>,
        limit: Arc<ConnectionLimit>,
    ) -> Upstream {
        Upstream {
            origin,
            connector,
            idle: Default::default(),
            limit,
            returned: Notify::new(),
        }
    }

    /// The limit of this pool's origin (shared with the origin's other pools).
    #[cfg(test)]
    pub(crate) fn limit(&self) -> &Arc<ConnectionLimit> {
        &self.limit
    }

    /// An idle connection of this thread (any thread's with `any_thread`).
    fn take(&self, any_thread: bool) -> Option<Conn> {
        let me = thread_key();
        let keys = if any_thread {
            0..IDLE_SHARDS as u64
        } else {
            me..me + 1
        };
        for key in keys {
            let mut idle = self.shard(key);
            // Another thread whose key falls in the same shard may have put its own here.
            while let Some(at) = idle.iter().rposition(|i| any_thread || i.conn.home == me) {
                let i = idle.remove(at);
                if !i.conn.sender.is_closed() && i.since.elapsed() < IDLE_TIMEOUT {
                    return Some(i.conn);
                }
            }
        }
        None
    }

    /// The idle stack of the thread with `key`. Locked for a push or a pop only, never across
    /// an await.
    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle[(key % IDLE_SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Back to its home thread's idle stack, whichever thread used it last.
    fn put(&self, conn: Conn) {
        if conn.sender.is_closed() {
            return;
        }
        let mut idle = self.shard(conn.home);
        // The bottom of the stack is the coldest: drop what has aged out there.
        let expired = idle
            .iter()
            .take_while(|i| i.since.elapsed() >= IDLE_TIMEOUT || i.conn.sender.is_closed())
            .count();
        if expired > 0 {
            idle.drain(..expired);
        }
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
            drop(idle);
            self.returned.notify_one();
        }
    }

    /// An idle connection, or a new one under the origin's limit; waits in the queue for
    /// either when all are busy. `true` with a new connection.
    async fn checkout(&self) -> Result<(Conn, bool), UpstreamError> {
        if let Some(c) = self.take(false) {
            return Ok((c, false));
        }
        // Boxed: connecting and queueing are rare, and their state would otherwise enlarge
        // (and be copied with) every request's future.
        Box::pin(self.checkout_slow()).await
    }

    async fn checkout_slow(&self) -> Result<(Conn, bool), UpstreamError> {
        let mut deadline = None;
        loop {
            if let Some(c) = self.take(false) {
                return Ok((c, false));
            }
            if let Ok(permit) = self.limit.permits.clone().try_acquire_owned() {
                return Ok((self.connect(permit).await?, true));
            }
            // No room for a new connection: another thread's idle one will do.
            if let Some(c) = self.take(true) {
                return Ok((c, false));
            }
            // In the queue: the deadline is set once, at the first wait.
            let (until, wait) = *deadline.get_or_insert_with(|| {
                let wait =
                    Duration::from_millis(self.limit.queue_timeout_ms.load(Ordering::Relaxed));
                (tokio::time::Instant::now() + wait, wait)
            });
            tokio::select! {
                biased;
                permit = self.limit.permits.clone().acquire_owned() => match permit {
                    Ok(permit) => return Ok((self.connect(permit).await?, true)),
                    // Never closed; were it, no connection could ever be made.
                    Err(_) => return Err(UpstreamError::PoolExhausted { waited: wait }),
                },
                _ = self.returned.notified() => continue,
                _ = tokio::time::sleep_until(until) => {
                    return Err(UpstreamError::PoolExhausted { waited: wait });
                }
            }
        }
    }

    /// Opens a connection, its task on this thread's runtime; it keeps `permit` (its place
    /// under the origin's limit) until it closes.
    async fn connect(&self, permit: OwnedSemaphorePermit) -> Result<Conn, UpstreamError> {
        let mut connector = self.connector.clone();
        let io = connector
            .call(self.origin.clone())
            .await
            .map_err(UpstreamError::Connect)?;
        let (sender, conn) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|e| UpstreamError::Connect(Box::new(e)))?;
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = conn.with_upgrades().await {
                tracing::debug!(error = %e, "backend connection ended with an error");
            }
        });
        Ok(Conn {
            sender,
            home: thread_key(),
        })
    }

    /// Sends `req` (origin-form URI, `Host` set) on a pooled or new connection. The response comes
    /// with the lease of its connection, to be released once the body has been read whole.
    pub async fn send(
        self: &Arc<Self>,
        mut req: Request<RequestBody>,
    ) -> Result<(Response<Incoming>, Lease), UpstreamError> {
        loop {
            let (mut conn, fresh) = self.checkout().await?;
            if conn.sender.ready().await.is_err() {
                if fresh {
                    return Err(UpstreamError::Connect(
                        "the backend closed the new connection".into(),
                    ));
                }
                continue;
            }
            match conn.sender.try_send_request(req).await {
                Ok(resp) => {
                    return Ok((
                        resp,
                        Lease {
                            conn,
                            upstream: self.clone(),
                        },
                    ));
                }
                Err(mut e) => match e.take_message() {
                    // Not sent: the pooled connection was closed under us. Try another.
                    Some(unsent) if !fresh => req = unsent,
                    _ => return Err(UpstreamError::Request(e.into_error())),
                },
            }
        }
    }
}

/// The error and its causes in one line (`tcp connect error: Connection refused`).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut s = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        s.push_str(": ");
        s.push_str(&e.to_string());
        source = e.source();
    }
    s
}
