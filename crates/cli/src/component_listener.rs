//! The listeners of the components beside the gateway (the management API now; the portal and
//! the Git endpoint later). They are judged like the gateway's: every new connection passes the
//! current snapshot's network rules (exposure, virtual network, NSG) at accept, before TLS and
//! before a byte of HTTP is read; a refused one is closed, logged and counted exactly as the
//! gateway's refusals (crates/gateway/src/refusals.rs).
//!
//! Each component answers with its own host names and certificates (crates/model/src/hostnames.rs):
//! its TLS listeners choose the certificate by SNI among its entries (the snapshot's, so they
//! reload with the config), and in internal mode every request passes [`host_names`], which
//! answers 404 to a host that is not one of the component's names (an IP literal included).
//!
//! Not applied here, as in Azure: private endpoints and `public_network_access: disabled` concern
//! the gateway component only, and PROXY protocol headers are read by the gateway's listeners only.

use anyhow::{Context, Result};
use axum::response::IntoResponse;
use gatehouse_gateway::Gateway;
use gatehouse_model::Exposure;
use gatehouse_model::hostnames::Component as Kind;
use gatehouse_net::inbound::ConnFacts;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
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

/// The listeners of one component, kept in step with the config: each reload that changes the
/// component's endpoints opens the new addresses and stops accepting on the removed ones (their
/// open connections finish), as the gateway's own listeners do.
pub struct Component {
    name: &'static str,
    gateway: Gateway,
    router: axum::Router,
    /// Turns true at shutdown: every listener stops and every connection closes gracefully.
    shutdown: watch::Receiver<bool>,
    /// Per configured address: its settings (tls, exposure; changed in place) and its accept
    /// loop's stop.
    running: HashMap<SocketAddr, (watch::Sender<ComponentAddr>, watch::Sender<bool>)>,
    slots: Arc<Semaphore>,
}

impl Component {
    pub fn new(
        name: &'static str,
        gateway: Gateway,
        router: axum::Router,
        shutdown: watch::Receiver<bool>,
    ) -> Component {
        let router = host_names(router, kind_of(name), gateway.clone());
        Component {
            name,
            gateway,
            router,
            shutdown,
            running: HashMap::new(),
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }

    /// Serves on a bound listener.
    pub fn start(&mut self, bound: BoundComponent) {
        let (spec_tx, spec) = watch::channel(bound.spec);
        let (stop_tx, stop) = watch::channel(false);
        self.running.insert(bound.spec.addr, (spec_tx, stop_tx));
        tokio::spawn(accept_loop(
            bound,
            spec,
            stop,
            self.gateway.clone(),
            self.router.clone(),
            self.shutdown.clone(),
            self.slots.clone(),
        ));
    }

    /// Keeps the listeners running until shutdown: on their fixed addresses (the command line's,
    /// the demo's) as they are, else following the config's endpoints through reloads.
    pub fn keep(self, fixed: bool, wanted: fn(&gatehouse_gateway::Snapshot) -> Vec<ComponentAddr>) {
        if fixed {
            let mut stopped = self.shutdown.clone();
            tokio::spawn(async move {
                let _component = self;
                let _ = stopped.wait_for(|s| *s).await;
            });
        } else {
            self.follow(wanted);
        }
    }

    /// Follows the gateway's reloads until shutdown: `wanted` gives the addresses a snapshot
    /// asks for.
    pub fn follow(mut self, wanted: fn(&gatehouse_gateway::Snapshot) -> Vec<ComponentAddr>) {
        let mut reloads = self.gateway.reloads();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    changed = reloads.changed() => if changed.is_err() { return },
                    _ = turned_true(&mut self.shutdown) => return,
                }
                let want = wanted(&self.gateway.snapshot());
                self.apply(&want).await;
            }
        });
    }

    async fn apply(&mut self, want: &[ComponentAddr]) {
        let removed: Vec<SocketAddr> = self
            .running
            .keys()
            .filter(|a| !want.iter().any(|w| w.addr == **a))
            .copied()
            .collect();
        for addr in removed {
            if let Some((_, stop)) = self.running.remove(&addr) {
                let _ = stop.send(true);
                tracing::info!(component = self.name, listener = %addr, "stopped listening (removed from the config); its connections finish");
            }
        }
        for spec in want {
            match self.running.get(&spec.addr) {
                Some((current, _)) => {
                    current.send_if_modified(|c| {
                        let changed = c != spec;
                        *c = *spec;
                        changed
                    });
                }
                None => match bind(self.name, std::slice::from_ref(spec)).await {
                    Ok(mut bound) => {
                        if let Some(b) = bound.pop() {
                            tracing::info!(component = self.name, listener = %b.local, exposure = ?b.spec.exposure, "listening (added by a config change)");
                            self.start(b);
                        }
                    }
                    Err(e) => {
                        tracing::error!(component = self.name, error = %format!("{e:#}"), "a new listener could not be opened; the others keep serving");
                    }
                },
            }
        }
    }
}

async fn accept_loop(
    bound: BoundComponent,
    spec: watch::Receiver<ComponentAddr>,
    mut stop: watch::Receiver<bool>,
    gateway: Gateway,
    router: axum::Router,
    mut shutdown: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
) {
    loop {
        let accepted = tokio::select! {
            a = bound.listener.accept() => a,
            _ = turned_true(&mut stop) => return,
            _ = turned_true(&mut shutdown) => return,
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
        let current = *spec.borrow();
        let local = stream.local_addr().unwrap_or(bound.local);
        let snapshot = gateway.snapshot();
        let facts = ConnFacts {
            peer,
            local,
            exposure: current.exposure,
            proxy: None,
        };
        if let Err(refused) = snapshot.inbound.judge(&facts) {
            gatehouse_gateway::refusals::record(&refused, local);
            continue;
        }
        let tls = if current.tls {
            match snapshot.tls_of(kind_of(bound.component)) {
                Some(config) => Some(tokio_rustls::TlsAcceptor::from(config)),
                None => {
                    tracing::warn!(component = bound.component, listener = %local, "TLS listener without certificates (hostname_configurations): connection closed");
                    continue;
                }
            }
        } else {
            None
        };
        // The peer for handlers that limit per source (the portal's sign-in), as axum's
        // `ConnectInfo` extractor reads it.
        let router = router
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(TokioIo::new(stream), router, shutdown).await,
                Some(acceptor) => {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(HEAD_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    connection(TokioIo::new(tls), router, shutdown).await;
                }
            }
        });
    }
}

/// The kind of host names a component answers, by its name (`management`, `portal`, `git`).
fn kind_of(name: &str) -> Kind {
    match name {
        "portal" => Kind::Portal,
        "git" => Kind::Git,
        "management" => Kind::Management,
        // A component this file does not know yet answers the management API's names rather
        // than every host.
        _ => Kind::Management,
    }
}

/// The layer every component router passes through: in internal mode, a request whose host is
/// not one of the component's names gets a 404 that names the host and the component. The
/// names are the current snapshot's, so a reload changes them for the next request.
pub fn host_names(router: axum::Router, kind: Kind, gateway: Gateway) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let snapshot = gateway.snapshot();
            async move {
                let names = snapshot.host_names_of(kind);
                if names.enforced() {
                    let host =
                        gatehouse_gateway::host_header::request_host(req.uri(), req.headers());
                    if let Err(message) = names.admit(host) {
                        tracing::debug!(component = kind.name(), %message, "host refused");
                        return (
                            http::StatusCode::NOT_FOUND,
                            [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                            message,
                        )
                            .into_response();
                    }
                }
                next.run(req).await
            }
        },
    ))
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
        _ = turned_true(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Resolves once the flag is true; never if its sender is gone without setting it (a dropped
/// sender is not a stop).
async fn turned_true(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}
