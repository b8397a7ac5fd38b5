//! What the gateway knows about a client connection, and its in-flight requests (the idle
//! timeout closes a connection only when none is in flight).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::OwnedSemaphorePermit;

#[derive(Debug)]
pub struct ConnInfo {
    /// The client address (the socket peer).
    pub peer: SocketAddr,
    /// The listener address the connection arrived on.
    pub local: SocketAddr,
    pub tls: bool,
    pub state: Arc<ConnState>,
    /// The client's IP as text, made once per connection for `X-Forwarded-For`.
    pub peer_ip: Box<str>,
    /// The connection's place under `max_connections`, held as long as anything (the HTTP
    /// connection, an upgraded tunnel) still uses the connection.
    _permit: Option<OwnedSemaphorePermit>,
}

impl ConnInfo {
    pub fn new(
        peer: SocketAddr,
        local: SocketAddr,
        tls: bool,
        permit: Option<OwnedSemaphorePermit>,
    ) -> ConnInfo {
        ConnInfo {
            peer,
            local,
            tls,
            state: Arc::new(ConnState::new()),
            peer_ip: peer.ip().to_string().into(),
            _permit: permit,
        }
    }
}

#[derive(Debug)]
pub struct ConnState {
    start: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds since `start` when the connection last finished a request.
    last_done_ms: AtomicU64,
}

impl ConnState {
    pub fn new() -> ConnState {
        ConnState {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
        }
    }

    /// Marks a request in flight until the returned guard drops.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long the connection has had no request in flight, or `None` while one is.
    pub fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_done_ms.load(Ordering::Relaxed));
        Some(self.start.elapsed().saturating_sub(last))
    }
}

impl Default for ConnState {
    fn default() -> Self {
        Self::new()
    }
}

/// A request in flight on a connection.
#[derive(Debug)]
pub struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.0.start.elapsed().as_millis() as u64;
        self.0.last_done_ms.store(now, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}
