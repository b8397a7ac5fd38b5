//! Listeners and connections: accept, enforce the connection limit, TLS handshake (with a
//! deadline), then HTTP/1.1 or HTTP/2 (ALPN, or h2c prior knowledge) with the idle timeout.
//! Between accept and the first byte of TLS or HTTP, every connection is judged by the network
//! rules (PROXY header of a trusted proxy, private endpoint, exposure, NSG): a refused one is
//! closed at once, counted and logged.

use crate::Shared;
use crate::conn::{ConnInfo, ConnState, WatchedIo};
use crate::snapshot::{ListenerSpec, Snapshot};
use gatehouse_model::network::ProxyProtocolMode;
use gatehouse_net::inbound::{ConnFacts, Refused, Stage};
use gatehouse_net::proxy_protocol;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::{sleep, timeout};

/// A bound listener, ready to serve.
#[derive(Debug)]
pub struct BoundListener {
    pub listener: TcpListener,
    pub spec: ListenerSpec,
    /// The real address (the port is known even when the config said 0).
    pub local: SocketAddr,
}

impl BoundListener {
    pub(crate) fn new(
        listener: std::net::TcpListener,
        spec: ListenerSpec,
    ) -> std::io::Result<BoundListener> {
        let listener = TcpListener::from_std(listener)?;
        let local = listener.local_addr()?;
        Ok(BoundListener {
            listener,
            spec,
            local,
        })
    }
}

pub(crate) async fn accept_loop(
    bound: BoundListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let BoundListener {
        listener,
        spec,
        local,
    } = bound;
    let mut draining = false;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = %local, error = %e, "accept failed");
                    sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
            _ = stop.changed() => {
                draining = true;
                break;
            }
        };
        admit(stream, peer, local, spec, &shared, &shutdown);
    }
    if draining {
        // Removed by a reload: connections the kernel already completed wait in the backlog;
        // closing the socket now would reset them. Take and serve each before closing.
        if let Ok(std_listener) = listener.into_std() {
            while let Ok((stream, peer)) = std_listener.accept() {
                if let Ok(stream) = stream
                    .set_nonblocking(true)
                    .and_then(|_| TcpStream::from_std(stream))
                {
                    admit(stream, peer, local, spec, &shared, &shutdown);
                }
            }
        }
    }
    tracing::info!(listener = %local, "listener closed");
}

/// Takes one accepted connection: its place under max_connections, then its own task.
fn admit(
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    spec: ListenerSpec,
    shared: &Arc<Shared>,
    shutdown: &watch::Receiver<bool>,
) {
    let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
        tracing::warn!(listener = %local, client = %peer, "connection refused: max_connections reached");
        return;
    };
    let _ = stream.set_nodelay(true);
    // The listener's exposure and TLS as the current config says (a reload may change them
    // without re-binding).
    let spec = shared
        .snapshot
        .load()
        .listeners
        .iter()
        .find(|l| l.addr == spec.addr)
        .copied()
        .unwrap_or(spec);
    let shared = shared.clone();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        connection(stream, peer, local, spec, shared, permit, shutdown).await;
    });
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    listener: SocketAddr,
    spec: ListenerSpec,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
    shutdown: watch::Receiver<bool>,
) {
    // Connection-level settings come from the snapshot current at accept.
    let snapshot = shared.snapshot.load_full();
    // From here the connection is timed by the header read timeout until its first request.
    let state = Arc::new(ConnState::new(shared.requests.clone()));
    let tls = spec.tls;
    // The address the client reached (the listener may be bound to 0.0.0.0).
    let local = stream.local_addr().unwrap_or(listener);
    let policy = &snapshot.inbound;
    let mode = policy.proxy_mode(peer.ip());
    let header = if mode == ProxyProtocolMode::None {
        // A PROXY header from a peer that is not trusted to send one is never believed: the
        // connection is refused (and logged) rather than served as garbage HTTP. A client
        // that sends nothing at all gets the header read timeout, not the idle timeout.
        let first_bytes = Duration::from_millis(snapshot.limits.header_read_timeout_ms)
            .min(Duration::from_millis(snapshot.limits.idle_timeout_ms));
        match timeout(first_bytes, starts_with_proxy_signature(&stream)).await {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => {
                let refused = Refused {
                    stage: Stage::ProxyProtocol,
                    rule: None,
                    client: peer,
                    reason: "a PROXY protocol header from a peer that is not a trusted proxy"
                        .to_string(),
                };
                crate::refusals::record(&refused, local);
                return;
            }
            // Closed before sending anything, or silent past the header read timeout.
            Ok(Err(_)) | Err(_) => return,
        }
        None
    } else {
        let deadline = Duration::from_millis(snapshot.limits.proxy_header_timeout_ms);
        match proxy_protocol::read_header(&mut stream, mode, deadline).await {
            Ok(h) => h,
            Err(e) => {
                let refused = Refused {
                    stage: Stage::ProxyProtocol,
                    rule: None,
                    client: peer,
                    reason: e.to_string(),
                };
                crate::refusals::record(&refused, local);
                return;
            }
        }
    };
    let facts = ConnFacts {
        peer,
        local,
        exposure: spec.exposure,
        proxy: header.as_ref(),
    };
    let admitted = match policy.judge(&facts) {
        Ok(a) => a,
        Err(refused) => {
            crate::refusals::record(&refused, local);
            return;
        }
    };
    let trusted_peer = policy.trusted_proxies().is_trusted(peer.ip());
    let info = Arc::new(ConnInfo::new(
        peer,
        local,
        tls,
        Some(permit),
        admitted,
        trusted_peer,
        state,
    ));
    if !tls {
        return serve_http(stream, false, info, snapshot, shared, shutdown).await;
    }
    let Some(config) = snapshot.tls.clone() else {
        tracing::warn!(listener = %local, "TLS listener without certificates: connection closed");
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let deadline = Duration::from_millis(snapshot.limits.tls_handshake_timeout_ms);
    match timeout(deadline, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => {
            info.state.expect_first_request();
            let http2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
            serve_http(tls_stream, http2, info, snapshot, shared, shutdown).await
        }
        Ok(Err(e)) => tracing::debug!(client = %peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(client = %peer, "TLS handshake timed out"),
    }
}

/// Whether the first bytes the client sent are a PROXY protocol v1 (`PROXY `) or v2 signature.
/// Peeks: nothing is consumed. An HTTP request or a TLS ClientHello never starts like either.
async fn starts_with_proxy_signature(stream: &TcpStream) -> std::io::Result<bool> {
    const V1: &[u8] = b"PROXY ";
    const V2: &[u8] = b"\r\n\r\n\x00\r\nQUIT\n";
    let mut buf = [0u8; 12];
    let n = stream.peek(&mut buf).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let got = &buf[..n];
    // Only a whole signature prefix of at least 5 bytes counts: a client that trickles its
    // first bytes is judged by the HTTP parser instead.
    Ok(n >= 5
        && (V1.starts_with(&got[..n.min(V1.len())]) || V2.starts_with(&got[..n.min(V2.len())])))
}

async fn serve_http<I>(
    io: I,
    http2: bool,
    info: Arc<ConnInfo>,
    snapshot: Arc<Snapshot>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = info.state.clone();
    let idle = Duration::from_millis(snapshot.limits.idle_timeout_ms);
    let head_timeout = Duration::from_millis(snapshot.limits.header_read_timeout_ms);
    let io = WatchedIo::new(io, state.clone(), http2);
    let svc = {
        let info = info.clone();
        let shared = shared.clone();
        // Each request reads the newest snapshot: a reload applies to the next request.
        service_fn(move |req| {
            crate::proxy::handle(
                req,
                info.clone(),
                shared.snapshot.load_full(),
                shared.services.clone(),
            )
        })
    };
    let conn = snapshot
        .http
        .serve_connection_with_upgrades(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let mut closing = false;
    let mut check_in = idle.min(head_timeout);
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(client = %info.peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = sleep(check_in) => {
                if let Some(d) = state.head_reading_for() {
                    // A connection's first request may not take longer than an idle
                    // connection is kept either.
                    let head_timeout = if state.awaiting_first_request() {
                        head_timeout.min(idle)
                    } else {
                        head_timeout
                    };
                    if d >= head_timeout {
                        // A request head that trickles in (slowloris): drop the connection.
                        tracing::debug!(client = %info.peer, "request head not received within header_read_timeout: connection closed");
                        return;
                    }
                    check_in = head_timeout - d;
                    continue;
                }
                // Near max_connections, idle keep-alive connections make room first: they
                // are closed once idle for the header read timeout instead of the idle timeout.
                let idle = if shared.near_max_connections() {
                    idle.min(head_timeout)
                } else {
                    idle
                };
                check_in = match state.idle_for() {
                    Some(d) if d >= idle && !closing => {
                        tracing::debug!(client = %info.peer, "idle timeout: closing connection");
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        head_timeout
                    }
                    Some(d) if d < idle => (idle - d).min(head_timeout),
                    _ => idle.min(head_timeout),
                };
            }
            _ = shutdown.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
