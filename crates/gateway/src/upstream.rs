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
//! A connection has no task of its own: its I/O (hyper's connection future) is driven by the
//! task that uses it — the request's, while it sends and awaits the head, then the response body
//! ([`BackendBody`]) while the client's connection reads it. A spawned task per connection cost
//! every request a channel hand-off and two cross-task wake-ups (sending, then the answer).
//! Idle connections are kept per thread: a worker takes the ones whose sockets its own runtime
//! registered, so their readiness events arrive on the thread that polls them; another thread's
//! are taken only when the origin's limit leaves no room for a new one.
//!
//! Connections to one origin (scheme, host, port) are bounded by `max_connections_per_backend`:
//! each open connection holds a permit of its origin's [`ConnectionLimit`] until it closes, so
//! however many requests arrive at once (HTTP/2 streams multiplex hundreds per client
//! connection), a request that finds no idle connection and no permit waits in a queue for
//! either, up to `backend_queue_timeout_ms`, then fails with [`UpstreamError::PoolExhausted`].

use crate::egress_connector::EgressConnector;
use crate::egress_connector::NetworkSource;
use crate::request_body::RequestBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, StatusCode};
use hyper_rustls::HttpsConnector;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
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

/// hyper's connection future (unnameable: its upgrade-aware type is private to hyper), boxed
/// once per connection.
type Driver = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

/// One backend connection: the handle requests are sent on and the future that runs its I/O.
struct Conn {
    sender: SendRequest<RequestBody>,
    /// `None` once the connection has ended (closed, failed, or handed to an upgrade).
    driver: Option<Driver>,
    /// The connection's place under its origin's limit, given back when it closes.
    _permit: OwnedSemaphorePermit,
    /// The thread whose runtime registered the socket (see [`thread_key`]).
    home: u64,
}

impl Conn {
    fn reusable(&self) -> bool {
        self.driver.is_some() && !self.sender.is_closed()
    }
}

/// Runs a connection's I/O as far as it can go now, in the caller's task; `false` once the
/// connection has ended.
fn drive(driver: &mut Option<Driver>, cx: &mut Context<'_>) -> bool {
    let Some(d) = driver.as_mut() else {
        return false;
    };
    match d.as_mut().poll(cx) {
        Poll::Pending => true,
        Poll::Ready(result) => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "backend connection ended with an error");
            }
            // Never polled again: an upgraded connection's future must not be.
            *driver = None;
            false
        }
    }
}

/// This thread's key: a worker's connections are registered with its own runtime.
fn thread_key() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|k| *k)
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

/// A backend's response body. Reading it drives its connection, which goes back to the pool
/// when the body has been read whole (and is closed otherwise).
pub struct BackendBody {
    inner: Incoming,
    conn: Option<(Conn, Arc<Upstream>)>,
    finished: bool,
}

impl BackendBody {
    fn new(inner: Incoming, conn: Option<(Conn, Arc<Upstream>)>) -> BackendBody {
        BackendBody {
            inner,
            conn,
            finished: false,
        }
    }
}

impl Body for BackendBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let mut polled = Pin::new(&mut this.inner).poll_frame(cx);
        // Nothing yet: the connection reads what the body now wants, then the body is asked
        // again, in the same poll.
        if polled.is_pending()
            && let Some((conn, _)) = this.conn.as_mut()
        {
            drive(&mut conn.driver, cx);
            polled = Pin::new(&mut this.inner).poll_frame(cx);
        }
        if let Poll::Ready(None) = polled {
            this.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for BackendBody {
    fn drop(&mut self) {
        if let Some((conn, upstream)) = self.conn.take()
            && (self.finished || self.inner.is_end_stream())
        {
            upstream.put(conn);
        }
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
        let home = thread_key();
        let keys = if any_thread {
            0..IDLE_SHARDS as u64
        } else {
            home..home + 1
        };
        for key in keys {
            let mut idle = self.shard(key);
            // Another thread whose key falls in the same shard may have put its own here.
            while let Some(at) = idle.iter().rposition(|i| any_thread || i.conn.home == home) {
                let i = idle.remove(at);
                if i.conn.reusable() && i.since.elapsed() < IDLE_TIMEOUT {
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
        if !conn.reusable() {
            return;
        }
        let mut idle = self.shard(conn.home);
        // The bottom of the stack is the coldest: drop what has aged out there.
        let expired = idle
            .iter()
            .take_while(|i| i.since.elapsed() >= IDLE_TIMEOUT || !i.conn.reusable())
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

    /// Opens a connection; it keeps `permit` (its place under the origin's limit) until it
    /// closes.
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
        Ok(Conn {
            sender,
            driver: Some(Box::pin(conn.with_upgrades())),
            _permit: permit,
            home: thread_key(),
        })
    }

    /// Sends `req` (origin-form URI, `Host` set) on a pooled or new connection, driving the
    /// connection in this task until the response head arrives. The connection then travels
    /// with the response's body, which gives it back once read whole.
    pub async fn send(
        self: &Arc<Self>,
        mut req: Request<RequestBody>,
    ) -> Result<Response<BackendBody>, UpstreamError> {
        loop {
            let (mut conn, fresh) = self.checkout().await?;
            let Conn { sender, driver, .. } = &mut conn;
            let ready = poll_fn(|cx| {
                drive(driver, cx);
                sender.poll_ready(cx)
            })
            .await;
            if ready.is_err() {
                if fresh {
                    return Err(UpstreamError::Connect(
                        "the backend closed the new connection".into(),
                    ));
                }
                continue;
            }
            let answer = {
                let mut answer = pin!(sender.try_send_request(req));
                poll_fn(|cx| {
                    drive(driver, cx);
                    answer.as_mut().poll(cx)
                })
                .await
            };
            match answer {
                Ok(resp) if resp.status() == StatusCode::SWITCHING_PROTOCOLS => {
                    // The connection's future hands the socket to the upgrade once it has
                    // seen the 101; it is the tunnel's from then on, never the pool's.
                    poll_fn(|cx| {
                        if drive(driver, cx) {
                            Poll::Pending
                        } else {
                            Poll::Ready(())
                        }
                    })
                    .await;
                    return Ok(resp.map(|b| BackendBody::new(b, None)));
                }
                Ok(resp) => {
                    let upstream = self.clone();
                    return Ok(resp.map(|b| BackendBody::new(b, Some((conn, upstream)))));
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
