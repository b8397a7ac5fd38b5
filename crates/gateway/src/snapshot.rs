//! The compiled, immutable form of a validated config that the hot path reads: route table,
//! key index, backend targets, TLS and HTTP settings, and the egress rules and resolver new
//! backend connections are judged by. A reload (or `gatehouse net apply`) builds a new one and
//! swaps it in with one store, so no request sees the new routes with the old egress rules.

use crate::backend::{BackendTarget, ClientCache, build_targets};
use crate::error::CompileError;
use crate::host_header::HostNames;
use crate::keys::KeyIndex;
use crate::router::Router;
use arc_swap::ArcSwap;
use gatehouse_model::hostnames::{self, Component};
use gatehouse_model::{Exposure, Limits, Validated};
use gatehouse_net::egress::{EgressPolicy, Resolve};
use gatehouse_net::inbound::InboundPolicy;
use http::HeaderName;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

/// Per-API settings the request path needs besides routing.
#[derive(Debug)]
pub struct ApiSettings {
    pub subscription_required: bool,
    /// The API's protocols include ws or wss: WebSocket upgrades are carried (no other kind is).
    pub websocket: bool,
    pub key_header: HeaderName,
    pub key_query: Box<str>,
    /// For `context.Api`: display name (or id) and path.
    pub name: Box<str>,
    pub path: Box<str>,
    /// For `context.Operation`, by config index: (display name or id, method, URL template).
    pub operations: Vec<(Box<str>, Box<str>, Box<str>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerSpec {
    pub addr: SocketAddr,
    pub tls: bool,
    pub exposure: Exposure,
}

pub struct Snapshot {
    pub router: Router,
    pub keys: KeyIndex,
    /// Per API (by index), its backend.
    pub targets: Vec<Arc<BackendTarget>>,
    /// Per user (by config index): id, email, first and last name, for `context.User`.
    pub users: Vec<[Box<str>; 4]>,
    /// Per product (by config index): id and display name, for `context.Product`.
    pub products: Vec<(Box<str>, Box<str>)>,
    /// Every configured backend by id (set-backend-service backend-id).
    pub backends: std::collections::HashMap<String, Arc<BackendTarget>>,
    /// Per API (by index).
    pub apis: Vec<ApiSettings>,
    pub limits: Limits,
    /// `gateway.entra_authority` (validate-azure-ad-token), `None` for the default.
    pub entra_authority: Option<Arc<str>>,
    pub listeners: Vec<ListenerSpec>,
    /// The gateway's TLS (Proxy host names), chosen by SNI.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Per component, in [`Component::ALL`] order: its TLS configuration (the gateway's is
    /// [`Snapshot::tls`]) and the host names it answers (crates/model/src/hostnames.rs).
    pub component_tls: [Option<Arc<rustls::ServerConfig>>; 4],
    pub host_names: [HostNames; 4],
    /// The network rules every new connection is judged by.
    pub inbound: InboundPolicy,
    /// The rules every new backend connection is judged by (read at connect time through
    /// [`SnapshotLink`], by pools that outlive this snapshot).
    pub egress: Arc<EgressPolicy>,
    /// The resolver of backend host names: the previous snapshot's (and its cache) unless the
    /// DNS settings changed.
    pub resolver: Arc<dyn Resolve>,
    /// The policy documents and the pipelines compiled from them.
    pub policies: crate::policies::PolicySet,
    /// The service name, for APIM's messages.
    pub service_name: Box<str>,
    /// The service's location, for `context.Deployment.Region`.
    pub region: Box<str>,
    /// The network section this snapshot was compiled from (to tell what a reload changed).
    pub network: gatehouse_model::network::Network,
    pub access_log: bool,
    /// The HTTP server settings new connections get.
    pub http: auto::Builder<TokioExecutor>,
    /// What the config holds, for logs: (apis, operations, products, subscriptions).
    pub counts: (usize, usize, usize, usize),
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("listeners", &self.listeners)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// `component`'s TLS configuration (certificates chosen by SNI among its host names).
    pub fn tls_of(&self, component: Component) -> Option<Arc<rustls::ServerConfig>> {
        self.component_tls[component_index(component)].clone()
    }

    /// The host names `component` answers.
    pub fn host_names_of(&self, component: Component) -> &HostNames {
        &self.host_names[component_index(component)]
    }

    /// `outbound` is the config's egress rules and the resolver to use (see
    /// [`Snapshot::resolver`]), compiled first by the caller, which knows the previous one.
    pub fn compile(
        v: &Validated,
        clients: &ClientCache,
        outbound: Outbound,
    ) -> Result<Snapshot, crate::error::SnapshotError> {
        let cfg = &v.config;
        let Outbound { egress, resolver } = outbound;
        let crate::backend::Targets {
            per_api: targets,
            by_id: backends,
        } = build_targets(v, clients)?;
        let mut apis = Vec::with_capacity(cfg.apis.len());
        for (i, api) in cfg.apis.iter().enumerate() {
            let key_header = HeaderName::from_bytes(api.subscription_key.header.as_bytes())
                .map_err(|e| CompileError {
                    path: format!("apis[{i}].subscription_key.header"),
                    message: e.to_string(),
                })?;
            apis.push(ApiSettings {
                subscription_required: api.subscription_required,
                websocket: api.protocols.iter().any(|p| {
                    matches!(
                        p,
                        gatehouse_model::Protocol::Ws | gatehouse_model::Protocol::Wss
                    )
                }),
                key_header,
                key_query: api.subscription_key.query.as_str().into(),
                name: api.display_name.as_deref().unwrap_or(&api.id).into(),
                path: api.path.as_str().into(),
                operations: api
                    .operations
                    .iter()
                    .map(|op| {
                        (
                            op.display_name.as_deref().unwrap_or(&op.id).into(),
                            op.method.as_str().into(),
                            op.url_template.as_str().into(),
                        )
                    })
                    .collect(),
            });
        }
        let listeners = v
            .listeners
            .iter()
            .map(|l| ListenerSpec {
                addr: l.addr,
                tls: l.tls,
                exposure: l.exposure,
            })
            .collect();
        let limits = cfg.gateway.limits.clone();
        let inbound = InboundPolicy::compile(&cfg.network).map_err(|e| CompileError {
            path: "network".into(),
            message: e.to_string(),
        })?;
        let policies = crate::policies::load(v)?;
        let mut component_tls: [Option<Arc<rustls::ServerConfig>>; 4] = Default::default();
        for (slot, c) in component_tls.iter_mut().zip(Component::ALL) {
            *slot = crate::tls::server_config(&hostnames::certificates(cfg, c))?;
        }
        Ok(Snapshot {
            entra_authority: cfg.gateway.entra_authority.as_deref().map(Arc::from),
            tls: component_tls[0].clone(),
            component_tls,
            host_names: Component::ALL.map(|c| HostNames::compile(cfg, c)),
            inbound,
            egress: Arc::new(egress),
            resolver,
            policies,
            service_name: cfg.service.name.as_str().into(),
            region: cfg.service.location.as_str().into(),
            network: cfg.network.clone(),
            router: Router::build(v),
            keys: KeyIndex::build(v),
            targets,
            backends,
            users: cfg
                .users
                .iter()
                .map(|u| {
                    [
                        u.id.as_str().into(),
                        u.email.as_str().into(),
                        u.first_name.as_deref().unwrap_or("").into(),
                        u.last_name.as_deref().unwrap_or("").into(),
                    ]
                })
                .collect(),
            products: cfg
                .products
                .iter()
                .map(|p| {
                    let name = p.display_name.as_deref().unwrap_or(&p.id);
                    (p.id.as_str().into(), name.into())
                })
                .collect(),
            apis,
            http: http_builder(&limits),
            limits,
            listeners,
            access_log: cfg.gateway.access_log,
            counts: (
                cfg.apis.len(),
                cfg.apis.iter().map(|a| a.operations.len()).sum(),
                cfg.products.len(),
                cfg.subscriptions.len(),
            ),
        })
    }
}

fn component_index(component: Component) -> usize {
    // Component::ALL's order.
    match component {
        Component::Gateway => 0,
        Component::Management => 1,
        Component::Portal => 2,
        Component::Git => 3,
    }
}

/// The backend side of the network section: egress rules and resolver.
pub struct Outbound {
    pub egress: EgressPolicy,
    pub resolver: Arc<dyn Resolve>,
}

/// The connectors' way to the gateway's current snapshot: the gateway's `ArcSwap<Snapshot>`,
/// linked once it exists (the first snapshot is compiled before it, with the pools that hold
/// this link). Weak, because the snapshot holds those pools: a strong link would be a cycle.
#[derive(Default)]
pub struct SnapshotLink(OnceLock<Weak<ArcSwap<Snapshot>>>);

impl SnapshotLink {
    pub(crate) fn link(&self, live: &Arc<ArcSwap<Snapshot>>) {
        // Set once, by Gateway::new; a second gateway never shares a client cache.
        let _ = self.0.set(Arc::downgrade(live));
    }
}

impl crate::egress_connector::NetworkSource for SnapshotLink {
    fn load(&self) -> Option<(Arc<EgressPolicy>, Arc<dyn Resolve>)> {
        let live = self.0.get()?.upgrade()?;
        let snapshot = live.load();
        Some((snapshot.egress.clone(), snapshot.resolver.clone()))
    }
}

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        // The gateway times request heads itself (conn::WatchedIo): hyper would also time idle keep-alive waits.
        .header_read_timeout(None::<Duration>)
        .max_buf_size(limits.max_header_bytes as usize)
        .max_headers(limits.max_headers as usize)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_bytes)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    b
}
