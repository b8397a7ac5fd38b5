//! The gatehouse data plane.
//!
//! A [`Gateway`] holds the current [`Snapshot`] (compiled from a validated config) behind an
//! `ArcSwap`: every request reads the newest one without a lock, and [`Gateway::reload`] swaps in
//! a new one atomically. [`Gateway::bind`] opens the listeners and [`Gateway::serve`] runs them
//! until [`Gateway::shutdown`].

pub mod access_log;
mod backend;
mod backend_call;
#[doc(hidden)]
pub mod bench_support;
mod body;
mod buffers;
mod client_body;
mod conn;
mod diff;
pub mod egress_connector;
pub mod error;
pub mod exchange;
mod exchange_seed;
mod forward;
pub mod json_line;
/// The forwarding headers' rewrite, public for the fuzz targets.
pub use forward::forwarding_headers;
mod forward_request;
pub mod hop_by_hop;
pub mod host_header;
pub mod keys;
mod lifecycle;
mod origins;
mod outcalls;
mod plain_flow;
mod policies;
mod policy_flow;
mod proxy;
pub mod refusals;
mod request_body;
pub mod request_target;
mod respond;
pub mod router;
mod server;
mod snapshot;
mod tls;
mod upstream;
pub mod workers;

pub use error::{CompileError, ErrorKind, ErrorSource, GatewayError, ServeError, SnapshotError};
pub use lifecycle::HEALTH_PATH;
pub use server::BoundListener;
pub use snapshot::{ListenerSpec, Snapshot};

use arc_swap::ArcSwap;
use backend::ClientCache;
use gatehouse_model::Validated;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

pub(crate) struct Shared {
    /// Everything a request reads, egress rules included: one store switches it all. Shared
    /// with the backend connectors (through `snapshot::SnapshotLink`), which read the egress
    /// rules of the current snapshot at connect time.
    pub(crate) snapshot: Arc<ArcSwap<Snapshot>>,
    pub(crate) connections: Arc<Semaphore>,
    /// Requests in flight over all connections (`max_requests_in_flight`).
    pub(crate) requests: Arc<conn::RequestGauge>,
    /// The semaphore's size, fixed at start.
    max_connections: u32,
    clients: Arc<ClientCache>,
    shutdown: watch::Sender<bool>,
    /// Counts the snapshots swapped in by reloads: what follows the config beside the gateway
    /// (the management API's listeners) waits on it instead of polling.
    reloads: watch::Sender<u64>,
    /// Listeners running now, by configured address. Taken only by start-up and reloads.
    listeners: Mutex<HashMap<SocketAddr, RunningListener>>,
    /// What policies use beyond the request, kept across reloads.
    pub(crate) services: Arc<Services>,
    /// The worker threads listeners are served on (crates/gateway/src/workers.rs); unset: the
    /// runtime that calls `serve`.
    workers: std::sync::OnceLock<Arc<workers::Workers>>,
}

impl Shared {
    /// Fewer than an eighth of the connection places are free (or none, for small limits).
    pub(crate) fn near_max_connections(&self) -> bool {
        (self.connections.available_permits() as u64) * 8 < u64::from(self.max_connections)
    }
}

/// What policies use beyond the request: shared by every request and kept across reloads, so
/// a reload never resets a limit and policy calls reuse warm connections.
pub(crate) struct Services {
    /// The limit policies' counters.
    pub(crate) counters: Arc<dyn gatehouse_policy::limits::Counters>,
    /// send-request and validate-jwt's key fetch, through the egress guard.
    pub(crate) http: Arc<dyn gatehouse_policy::http::HttpClient>,
    /// Connection pools for backends a policy picks at run time.
    pub(crate) clients: Arc<ClientCache>,
    /// The cache policies' store (bounded, in memory).
    pub(crate) cache: Arc<dyn gatehouse_policy::cache::Cache>,
    /// The external cache (`caching-type="external"`), when the node has one.
    pub(crate) external_cache: Option<Arc<dyn gatehouse_policy::cache::Cache>>,
    /// limit-concurrency's slots.
    pub(crate) concurrency: Arc<dyn gatehouse_policy::pipeline::Concurrency>,
}

/// Stores shared by the nodes of a cluster (e.g. Redis, `gatehouse_store::redis::connect`),
/// for [`Gateway::with_services`]. A `None` keeps the in-memory store of [`Gateway::new`].
#[derive(Clone, Default)]
pub struct SharedServices {
    /// The limit policies' counters (rate-limit, quota and their by-key forms).
    pub counters: Option<Arc<dyn gatehouse_policy::limits::Counters>>,
    /// The external cache of `caching-type="external"`/`"prefer-external"`.
    pub external_cache: Option<Arc<dyn gatehouse_policy::cache::Cache>>,
    /// limit-concurrency's slots.
    pub concurrency: Option<Arc<dyn gatehouse_policy::pipeline::Concurrency>>,
}

/// The bound of the policy cache: cache-store and cache-store-value entries beyond it are
/// evicted (least recently used first).
pub const POLICY_CACHE_BYTES: u64 = 64 * 1024 * 1024;

struct RunningListener {
    /// Set to stop this listener alone (removed by a reload); its connections carry on.
    stop: watch::Sender<bool>,
    local: SocketAddr,
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReloadReport {
    /// (apis, operations, products, subscriptions) of the new config.
    pub counts: (usize, usize, usize, usize),
    /// Listeners opened by this reload (real addresses).
    pub listeners_added: Vec<SocketAddr>,
    /// Listeners that stopped accepting (their open connections drain on their own).
    pub listeners_removed: Vec<SocketAddr>,
    /// What changed in the network section, one line each.
    pub network_changes: Vec<String>,
    /// Settings that changed but only apply after a restart (max_connections,
    /// max_connections_per_backend).
    pub needs_restart: Vec<String>,
}

#[derive(Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

impl Gateway {
    /// Compiles the config. Does not open any socket. Counters, cache and concurrency slots are
    /// this process's own.
    pub fn new(v: &Validated) -> Result<Gateway, SnapshotError> {
        Self::with_services(v, SharedServices::default())
    }

    /// [`Gateway::new`] with the stores a cluster shares (each `None` stays in memory).
    pub fn with_services(v: &Validated, shared: SharedServices) -> Result<Gateway, SnapshotError> {
        // One crypto provider for the whole process (rustls panics if two are linked and none is chosen).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let outbound = outbound(v, None)?;
        let link = Arc::new(snapshot::SnapshotLink::default());
        let clients = Arc::new(ClientCache::new(&v.config.gateway.limits, link.clone()));
        let snapshot = Snapshot::compile(v, &clients, outbound)?;
        let max_connections = snapshot.limits.max_connections;
        let snapshot = Arc::new(ArcSwap::from_pointee(snapshot));
        link.link(&snapshot);
        let connections = Arc::new(Semaphore::new(max_connections as usize));
        let (shutdown, _) = watch::channel(false);
        Ok(Gateway {
            shared: Arc::new(Shared {
                snapshot,
                connections,
                requests: Arc::default(),
                max_connections,
                services: Arc::new(Services {
                    counters: shared.counters.unwrap_or_else(|| {
                        Arc::new(gatehouse_policy::limits::InMemoryCounters::new())
                    }),
                    http: Arc::new(outcalls::GatewayHttp::new(clients.clone())),
                    clients: clients.clone(),
                    cache: Arc::new(gatehouse_policy::cache::InMemoryCache::new(
                        POLICY_CACHE_BYTES,
                    )),
                    external_cache: shared.external_cache,
                    concurrency: shared.concurrency.unwrap_or_else(|| {
                        Arc::new(gatehouse_policy::pipeline::ConcurrencySlots::default())
                    }),
                }),
                clients,
                shutdown,
                reloads: watch::channel(0).0,
                listeners: Mutex::new(HashMap::new()),
                workers: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The HTTP client policies call through (send-request, validate-jwt's key fetch): every
    /// connection passes the egress guard of the current snapshot. The management API fetches
    /// `-link` imports with it, so the network rules decide what it may reach.
    pub fn http_client(&self) -> Arc<dyn gatehouse_policy::http::HttpClient> {
        self.shared.services.http.clone()
    }

    /// Changes each time a reload swaps in a new snapshot.
    pub fn reloads(&self) -> watch::Receiver<u64> {
        self.shared.reloads.subscribe()
    }

    /// The snapshot requests are served with now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.load_full()
    }

    /// Compiles `v` and swaps it in, with its listeners: new ones are opened first (a reload
    /// whose listener cannot be opened is refused whole), removed ones stop accepting after the
    /// swap and their connections drain on their own; listeners that stay are not re-bound and
    /// keep their connections. Connections keep the network verdict they were accepted with;
    /// new ones are judged by the new rules. On error the running snapshot stays untouched.
    pub fn reload(&self, v: &Validated) -> Result<ReloadReport, SnapshotError> {
        let old = self.shared.snapshot.load_full();
        let new = Snapshot::compile(v, &self.shared.clients, outbound(v, Some(&old))?)?;
        let mut running = self
            .shared
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let serving = !running.is_empty();
        let mut opened = Vec::new();
        if serving {
            for spec in new
                .listeners
                .iter()
                .filter(|l| !running.contains_key(&l.addr))
            {
                match bind_now(spec.addr, self.reuse_port()) {
                    Ok(listener) => opened.push((*spec, listener)),
                    Err(source) => {
                        return Err(CompileError {
                            path: "listeners".into(),
                            message: ServeError::Bind {
                                addr: spec.addr,
                                source,
                            }
                            .to_string(),
                        }
                        .into());
                    }
                }
            }
        }
        let mut report = ReloadReport {
            counts: new.counts,
            network_changes: diff::network(&old.network, &new.network),
            ..ReloadReport::default()
        };
        if new.limits.max_connections != self.shared.max_connections {
            report
                .needs_restart
                .push("gateway.limits.max_connections".to_string());
        }
        if new.limits.max_connections_per_backend != self.shared.clients.max_per_origin() {
            report
                .needs_restart
                .push("gateway.limits.max_connections_per_backend".to_string());
        }
        let removed: Vec<SocketAddr> = if serving {
            running
                .keys()
                .filter(|a| !new.listeners.iter().any(|l| l.addr == **a))
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        self.shared.clients.configure(&new.limits);
        // The one store: routes, keys, pipelines, TLS, egress rules and resolver together.
        self.shared.snapshot.store(Arc::new(new));
        self.shared.reloads.send_modify(|n| *n += 1);
        for (spec, listener) in opened {
            if let Ok(bound) = BoundListener::new(listener, spec) {
                report.listeners_added.push(bound.local);
                self.start(bound, &mut running);
            }
        }
        for addr in removed {
            if let Some(r) = running.remove(&addr) {
                let _ = r.stop.send(true);
                report.listeners_removed.push(r.local);
            }
        }
        Ok(report)
    }

    /// Opens every listener of the current snapshot; fails whole if one cannot be opened.
    pub async fn bind(&self) -> Result<Vec<BoundListener>, ServeError> {
        let snapshot = self.snapshot();
        let mut bound = Vec::new();
        for spec in &snapshot.listeners {
            let listener =
                bind_now(spec.addr, self.reuse_port()).map_err(|source| ServeError::Bind {
                    addr: spec.addr,
                    source,
                })?;
            bound.push(
                BoundListener::new(listener, *spec).map_err(|source| ServeError::Bind {
                    addr: spec.addr,
                    source,
                })?,
            );
        }
        Ok(bound)
    }

    /// Serves the listeners on `count` worker threads, each with its own socket of every
    /// listener (thread-per-core: crates/gateway/src/workers.rs). Call before [`Gateway::bind`];
    /// with one worker (or never called) listeners are served on the caller's runtime.
    pub fn use_workers(&self, count: usize) -> std::io::Result<()> {
        if count > 1 && self.shared.workers.get().is_none() {
            let _ = self
                .shared
                .workers
                .set(Arc::new(workers::Workers::start(count)?));
        }
        Ok(())
    }

    /// The number of threads serving connections.
    pub fn worker_count(&self) -> usize {
        self.shared.workers.get().map_or(1, |w| w.count())
    }

    fn reuse_port(&self) -> bool {
        self.shared.workers.get().is_some()
    }

    fn start(&self, bound: BoundListener, running: &mut HashMap<SocketAddr, RunningListener>) {
        let (stop, stopped) = watch::channel(false);
        running.insert(
            bound.spec.addr,
            RunningListener {
                stop,
                local: bound.local,
            },
        );
        let Some(workers) = self.shared.workers.get() else {
            tokio::spawn(server::accept_loop(
                bound,
                self.shared.clone(),
                self.shared.shutdown.subscribe(),
                stopped,
            ));
            return;
        };
        // Worker 0 takes the bound socket; every other worker binds its own to the same
        // address (SO_REUSEPORT), so the kernel spreads connections over them.
        let BoundListener {
            listener,
            spec,
            local,
        } = bound;
        let mut first = listener.into_std().ok();
        workers.spawn_each(|i| {
            let socket = if i == 0 {
                first.take()
            } else {
                bind_now(local, true)
                    .map_err(|e| tracing::warn!(listener = %local, error = %e, "a worker's socket could not be opened; the other workers serve this listener"))
                    .ok()
            };
            let shared = self.shared.clone();
            let shutdown = self.shared.shutdown.subscribe();
            let stopped = stopped.clone();
            async move {
                let Some(socket) = socket else { return };
                match tokio::net::TcpListener::from_std(socket) {
                    Ok(listener) => {
                        let bound = BoundListener {
                            listener,
                            spec,
                            local,
                        };
                        server::accept_loop(bound, shared, shutdown, stopped).await;
                    }
                    Err(e) => {
                        tracing::warn!(listener = %local, error = %e, "a worker cannot listen")
                    }
                }
            }
        });
    }

    /// Serves until [`Gateway::shutdown`], then lets open connections finish their requests for
    /// up to `drain`.
    pub async fn serve(&self, listeners: Vec<BoundListener>, drain: Duration) {
        let mut shutdown = self.shared.shutdown.subscribe();
        {
            let mut running = self
                .shared
                .listeners
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for l in listeners {
                self.start(l, &mut running);
            }
        }
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        // Connections hold a permit each: all permits back means all connections closed.
        let drained = tokio::time::timeout(
            drain,
            self.shared
                .connections
                .acquire_many(self.shared.max_connections),
        )
        .await;
        if drained.is_err() {
            tracing::warn!(
                after_ms = drain.as_millis() as u64,
                "connections still open after the drain time"
            );
        }
        if let Some(workers) = self.shared.workers.get() {
            workers.stop();
        }
    }

    /// The addresses listening now.
    pub fn listening(&self) -> Vec<SocketAddr> {
        let running = self
            .shared
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<SocketAddr> = running.values().map(|r| r.local).collect();
        v.sort();
        v
    }

    /// Stops accepting and asks open connections to close after their current request.
    pub fn shutdown(&self) {
        let _ = self.shared.shutdown.send(true);
    }
}

/// Binds a listening socket now (synchronously, so a reload can do it), with the same options
/// as tokio's own `bind`; with `reuse_port`, one of several sockets of the address, one per
/// worker (the kernel allows that to processes of the same user only).
fn bind_now(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// The egress guard and the resolver of a config. The resolver of `old` (and its cache) is
/// kept unless the DNS settings changed.
fn outbound(v: &Validated, old: Option<&Snapshot>) -> Result<snapshot::Outbound, CompileError> {
    let egress = gatehouse_net::egress::EgressPolicy::compile(&v.config.network).map_err(|e| {
        CompileError {
            path: "network".into(),
            message: e.to_string(),
        }
    })?;
    let resolver = match old {
        Some(old) if dns_text(&old.network) == dns_text(&v.config.network) => old.resolver.clone(),
        _ => Arc::new(
            gatehouse_net::dns::Resolver::new(v.config.network.dns.as_ref()).map_err(|e| {
                CompileError {
                    path: "network.dns".into(),
                    message: e.to_string(),
                }
            })?,
        ),
    };
    Ok(snapshot::Outbound { egress, resolver })
}

fn dns_text(n: &gatehouse_model::network::Network) -> String {
    serde_json::to_string(&n.dns).unwrap_or_default()
}
