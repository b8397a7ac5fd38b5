//! The listeners of the components beside the gateway (the management API now; the portal and
//! the Git endpoint later). They are judged like the gateway's: every new connection passes the
//! current snapshot's network rules (exposure, virtual network, NSG) at accept, before TLS and
//! before a byte of HTTP is read; a refused one is closed, logged and counted exactly as the
//! gateway's refusals (crates/gateway/src/refusals.rs).
//!
//! Not applied here, as in Azure: private endpoints and `public_network_access: disabled` concern
//! the gateway component only, and PROXY protocol headers are read by the gateway's listeners only.

use anyhow::{Context, Result};
use gatehouse_gateway::Gateway;
use gatehouse_model::Exposure;
use gatehouse_net::inbound::ConnFacts;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections one component serves at once; further ones are closed at accept. A management
/// API or portal sees people and scripts, not the gateway's traffic.
const MAX_CONNECTIONS: usize = 512;
/// Time a client has to send a whole request head, and to finish a TLS handshake.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a component listens: the address and how it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentAddr {
    pub addr: SocketAddr,
    pub tls: bool,
    pub exposure: Exposure,
}

/// One bound listener of a component.
pub struct BoundComponent {
    pub component: &'static str,
    pub spec: ComponentAddr,
    /// The address actually bound (port 0 resolved).
    pub local: SocketAddr,
    listener: TcpListener,
}

/// Binds every address of `component` now, so that an address in use fails the start.
pub async fn bind(component: &'static str, specs: &[ComponentAddr]) -> Result<Vec<BoundComponent>> {
    let mut out = Vec::new();
    for spec in specs {
        let listener = TcpListener::bind(spec.addr)
            .await
            .with_context(|| format!("{component}: cannot listen on {}", spec.addr))?;
        let local = listener.local_addr()?;
        out.push(BoundComponent {
            component,
            spec: *spec,
            local,
            listener,
        });
    }
    Ok(out)
}

/// Serves `router` on `bound` until `stop` turns true.
pub fn serve(
    bound: BoundComponent,
    gateway: Gateway,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = bound.listener.accept() => a,
                _ = stop.changed() => return,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                // Out of descriptors and the like: wait a moment instead of spinning.
                Err(e) => {
                    tracing::warn!(component = bound.component, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                continue;
            };
            let local = stream.local_addr().unwrap_or(bound.local);
            let snapshot = gateway.snapshot();
            let facts = ConnFacts {
                peer,
                local,
                exposure: bound.spec.exposure,
                proxy: None,
            };
            if let Err(refused) = snapshot.inbound.judge(&facts) {
                gatehouse_gateway::refusals::record(&refused, local);
                continue;
            }
            let tls = if bound.spec.tls {
                match snapshot.tls.clone() {
                    Some(config) => Some(tokio_rustls::TlsAcceptor::from(config)),
                    None => {
                        tracing::warn!(component = bound.component, listener = %local, "TLS listener without certificates (gateway.hostnames): connection closed");
                        continue;
                    }
                }
            } else {
                None
            };
            let router = router.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match tls {
                    None => connection(TokioIo::new(stream), router, stop).await,
                    Some(acceptor) => {
                        let Ok(Ok(tls)) =
                            tokio::time::timeout(HEAD_TIMEOUT, acceptor.accept(stream)).await
                        else {
                            return;
                        };
                        connection(TokioIo::new(tls), router, stop).await;
                    }
                }
            });
        }
    });
}

async fn connection<I>(io: I, router: axum::Router, mut stop: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    let service = TowerToHyperService::new(router);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
