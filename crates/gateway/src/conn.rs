//! What the gateway knows about a client connection, and its in-flight requests (the idle
//! timeout closes a connection only when none is in flight). Requests are also counted over
//! all connections ([`RequestGauge`], bounded by `max_requests_in_flight`): HTTP/2 multiplexes
//! many per connection, so `max_connections` alone does not bound them.

use gatehouse_net::inbound::Admitted;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

#[derive(Debug)]
pub struct ConnInfo {
    /// The client address (the socket peer).
    pub peer: SocketAddr,
    /// The listener address the connection arrived on.
    pub local: SocketAddr,
    pub tls: bool,
    pub state: Arc<ConnState>,
    /// The client's IP (after a PROXY header) as text, made once per connection for
    /// `context.Request.IpAddress` and the access log (see [`ConnInfo::ip_text`]).
    pub client_ip_text: Arc<str>,
    /// The same, and the listener's port, as header values for `X-Forwarded-For` and
    /// `X-Forwarded-Port` (a clone shares the bytes).
    pub peer_ip_header: http::HeaderValue,
    pub local_port_header: http::HeaderValue,
    /// What the network rules decided about this connection.
    pub admitted: Admitted,
    /// The socket peer is a trusted proxy: its `X-Forwarded-For` is believed.
    pub trusted_peer: bool,
    /// The access log's fields that are the same for every request of this connection (peer,
    /// private endpoint, NSG rule, listener, TLS), written once by the first request's line
    /// (crates/gateway/src/access_log.rs): formatting socket addresses is most of a line's cost.
    pub(crate) log_fields: std::sync::OnceLock<Box<str>>,
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
        admitted: Admitted,
        trusted_peer: bool,
        state: Arc<ConnState>,
    ) -> ConnInfo {
        let client_ip_text: Arc<str> = admitted.client.ip().to_string().into();
        ConnInfo {
            peer,
            local,
            tls,
            state,
            // An IP address is always a valid header value.
            peer_ip_header: http::HeaderValue::from_str(&client_ip_text)
                .unwrap_or_else(|_| http::HeaderValue::from_static("unknown")),
            client_ip_text,
            local_port_header: http::HeaderValue::from(local.port()),
            admitted,
            trusted_peer,
            log_fields: std::sync::OnceLock::new(),
            _permit: permit,
        }
    }

    /// `ip` as text: the connection's own client (nearly every request) shares the text made
    /// when the connection was accepted; another (from `X-Forwarded-For`) is written now.
    pub fn ip_text(&self, ip: std::net::IpAddr) -> Arc<str> {
        if ip == self.admitted.client.ip() {
            self.client_ip_text.clone()
        } else {
            ip.to_string().into()
        }
    }
}

/// Requests in flight over all connections.
#[derive(Debug, Default)]
pub struct RequestGauge(AtomicUsize);

impl RequestGauge {
    pub fn current(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct ConnState {
    start: Instant,
    requests: Arc<RequestGauge>,
    /// A request has begun on this connection.
    begun: AtomicBool,
    in_flight: AtomicUsize,
    /// Milliseconds since `start` when the connection last finished a request.
    last_done_ms: AtomicU64,
    /// 1 + milliseconds since `start` when the first byte of a request head arrived while no
    /// request was in flight; 0 when no head is being read. A new connection starts with 1:
    /// its first request is timed from accept, so a client that never sends one is closed
    /// after the header read timeout, not the idle timeout.
    head_started_ms: AtomicU64,
}

impl ConnState {
    /// A connection accepted now, counting its requests in `requests` too.
    pub fn new(requests: Arc<RequestGauge>) -> ConnState {
        ConnState {
            start: Instant::now(),
            requests,
            begun: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_done_ms: AtomicU64::new(0),
            head_started_ms: AtomicU64::new(1),
        }
    }

    /// Restarts the wait for the first request now (after a TLS handshake, which has its own
    /// deadline).
    pub fn expect_first_request(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let now = self.start.elapsed().as_millis() as u64 + 1;
            self.head_started_ms.store(now, Ordering::Relaxed);
        }
    }

    /// Marks a request in flight until the returned guard drops. Its head has been read whole.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.begun.store(true, Ordering::Relaxed);
        let over_all = self.requests.0.fetch_add(1, Ordering::Relaxed) + 1;
        self.head_started_ms.store(0, Ordering::Relaxed);
        InFlight {
            state: self.clone(),
            over_all,
        }
    }

    /// Bytes arrived from the client: with no request in flight they begin a request head.
    pub fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_started_ms.load(Ordering::Relaxed) == 0
        {
            let now = self.start.elapsed().as_millis() as u64 + 1;
            self.head_started_ms.store(now, Ordering::Relaxed);
        }
    }

    /// No request has begun yet: the connection is still waiting for its first.
    pub fn awaiting_first_request(&self) -> bool {
        !self.begun.load(Ordering::Relaxed)
    }

    /// How long the current request head has been arriving, if one is.
    pub fn head_reading_for(&self) -> Option<Duration> {
        match self.head_started_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some(
                self.start
                    .elapsed()
                    .saturating_sub(Duration::from_millis(t - 1)),
            ),
        }
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

/// A request in flight on a connection.
#[derive(Debug)]
pub struct InFlight {
    state: Arc<ConnState>,
    /// Requests in flight over all connections when this one began, itself included.
    over_all: usize,
}

impl InFlight {
    /// Whether this request is within `max_requests_in_flight`; one beyond is answered 503
    /// (and still counted until its answer is sent, as it holds memory until then).
    pub fn within(&self, max_requests_in_flight: u32) -> bool {
        self.over_all <= max_requests_in_flight as usize
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let now = self.state.start.elapsed().as_millis() as u64;
        self.state.last_done_ms.store(now, Ordering::Relaxed);
        self.state.requests.0.fetch_sub(1, Ordering::Relaxed);
        self.state.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// The client side of a connection as the HTTP server reads it, telling [`ConnState`] when
/// bytes arrive so the gateway can time request heads itself.
///
/// Why not hyper's `header_read_timeout`: hyper starts that timer as soon as it waits for the
/// next request, so it also closes idle keep-alive connections (after 10 s instead of the idle
/// timeout). Here the timer starts with the first byte of a head. HTTP/2 connections (seen by
/// their preface, or ALPN) are not timed this way: their frames flow between requests.
pub struct WatchedIo<I> {
    inner: I,
    state: Arc<ConnState>,
    /// How many bytes of the HTTP/2 preface have matched so far; `None` once decided.
    preface_matched: Option<usize>,
    http2: bool,
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

impl<I> WatchedIo<I> {
    pub fn new(inner: I, state: Arc<ConnState>, http2: bool) -> WatchedIo<I> {
        WatchedIo {
            inner,
            state,
            preface_matched: if http2 { None } else { Some(0) },
            http2,
        }
    }

    fn observe(&mut self, bytes: &[u8]) {
        if let Some(k) = self.preface_matched {
            let want = &H2_PREFACE[k..];
            let n = want.len().min(bytes.len());
            if bytes[..n] != want[..n] {
                self.preface_matched = None;
            } else if k + n == H2_PREFACE.len() {
                self.preface_matched = None;
                self.http2 = true;
            } else {
                self.preface_matched = Some(k + n);
            }
        }
        if !self.http2 {
            self.state.bytes_arrived();
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WatchedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && buf.filled().len() > before
        {
            let this = &mut *self;
            this.observe(&buf.filled()[before..]);
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WatchedIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_state() -> Arc<ConnState> {
        Arc::new(ConnState::new(Arc::default()))
    }

    #[test]
    fn ip_text_is_the_connections_own_or_written_as_display_writes_it() {
        for (client, other) in [("10.20.3.45", "255.255.255.255"), ("::1", "fe80::1")] {
            let client: std::net::IpAddr = client.parse().expect("ip");
            let other: std::net::IpAddr = other.parse().expect("ip");
            let peer = SocketAddr::new(client, 40000);
            let admitted = Admitted {
                client: peer,
                private_endpoint: None,
                nsg_rule: None,
                public_access_denied: false,
                health_probe: false,
            };
            let local = "127.0.0.1:8080".parse().expect("addr");
            let conn = ConnInfo::new(peer, local, false, None, admitted, false, new_state());
            let own = conn.ip_text(client);
            assert_eq!(&*own, client.to_string());
            assert!(Arc::ptr_eq(&own, &conn.client_ip_text));
            assert_eq!(&*conn.ip_text(other), other.to_string());
            assert_eq!(conn.peer_ip_header.to_str().ok(), Some(&*own));
        }
    }

    #[test]
    fn a_new_connection_is_timed_until_its_first_request() {
        let state = new_state();
        assert!(state.head_reading_for().is_some());
        assert!(state.awaiting_first_request());
        state.bytes_arrived(); // the first bytes do not restart the clock
        assert!(state.head_reading_for().is_some());
        drop(state.begin());
        assert!(!state.awaiting_first_request());
        // Between requests: the idle timeout, until the next head starts.
        assert_eq!(state.head_reading_for(), None);
        assert!(state.idle_for().is_some());
    }

    #[test]
    fn requests_are_counted_over_all_connections() {
        let gauge = Arc::new(RequestGauge::default());
        let a = Arc::new(ConnState::new(gauge.clone()));
        let b = Arc::new(ConnState::new(gauge.clone()));
        let first = a.begin();
        let second = b.begin();
        let third = a.begin();
        assert!(first.within(2) && second.within(2));
        assert!(!third.within(2));
        assert_eq!(gauge.current(), 3);
        drop((first, second, third));
        assert_eq!(gauge.current(), 0);
        assert!(b.begin().within(1));
    }

    #[test]
    fn head_timer_starts_with_bytes_and_stops_with_the_request() {
        let state = new_state();
        drop(state.begin());
        assert_eq!(state.head_reading_for(), None);
        state.bytes_arrived();
        assert!(state.head_reading_for().is_some());
        let req = state.begin();
        assert_eq!(state.head_reading_for(), None);
        state.bytes_arrived(); // body bytes while in flight start nothing
        assert_eq!(state.head_reading_for(), None);
        assert_eq!(state.idle_for(), None);
        drop(req);
        assert!(state.idle_for().is_some());
    }

    #[test]
    fn http2_preface_switches_the_head_timer_off() {
        let state = new_state();
        let mut io = WatchedIo::new((), state.clone(), false);
        io.observe(b"PRI * HT");
        io.observe(b"TP/2.0\r\n\r\nSM\r\n\r\n");
        assert!(io.http2);
        state.begin();
        io.observe(b"\x00\x00\x08\x06"); // a PING frame between requests
        let state1 = new_state();
        drop(state1.begin());
        let mut h1 = WatchedIo::new((), state1.clone(), false);
        h1.observe(b"GET / HTTP/1.1\r\n");
        assert!(!h1.http2);
        assert!(state1.head_reading_for().is_some());
    }
}
