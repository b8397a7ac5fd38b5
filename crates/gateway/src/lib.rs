//! The gatehouse data plane.
//!
//! A [`Gateway`] holds the current [`Snapshot`] (compiled from a validated config) behind an
//! `ArcSwap`: every request reads the newest one without a lock, and [`Gateway::reload`] swaps in
//! a new one atomically. [`Gateway::bind`] opens the listeners and [`Gateway::serve`] runs them
//! until [`Gateway::shutdown`].

mod access_log;
mod backend;
mod body;
mod conn;
pub mod error;
mod forward;
pub mod keys;
mod proxy;
mod refusals;
pub mod router;
mod server;
mod snapshot;
mod tls;
mod upstream;

pub use error::{CompileError, ErrorKind, ErrorSource, GatewayError, ServeError};
pub use proxy::HEALTH_PATH;
pub use server::BoundListener;
pub use snapshot::{ListenerSpec, Snapshot};

use arc_swap::ArcSwap;
use backend::ClientCache;
use gatehouse_model::Validated;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

pub(crate) struct Shared {
    pub(crate) snapshot: ArcSwap<Snapshot>,
    pub(crate) connections: Arc<Semaphore>,
    /// The semaphore's size, fixed at start.
    max_connections: u32,
    /// The listeners opened at start: a reload cannot change them.
    bound_listeners: Vec<ListenerSpec>,
    clients: ClientCache,
    shutdown: watch::Sender<bool>,
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// (apis, operations, products, subscriptions) of the new config.
    pub counts: (usize, usize, usize, usize),
    /// Settings that changed but only apply after a restart (listeners, max_connections).
    pub needs_restart: Vec<String>,
}

#[derive(Clone)]
pub struct Gateway {
    shared: Arc<Shared>,
}

impl Gateway {
    /// Compiles the config. Does not open any socket.
    pub fn new(v: &Validated) -> Result<Gateway, CompileError> {
        // One crypto provider for the whole process (rustls panics if two are linked and none is chosen).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let clients = ClientCache::default();
        let snapshot = Snapshot::compile(v, &clients)?;
        let max_connections = snapshot.limits.max_connections;
        let connections = Arc::new(Semaphore::new(max_connections as usize));
        let (shutdown, _) = watch::channel(false);
        Ok(Gateway {
            shared: Arc::new(Shared {
                bound_listeners: snapshot.listeners.clone(),
                snapshot: ArcSwap::from_pointee(snapshot),
                connections,
                max_connections,
                clients,
                shutdown,
            }),
        })
    }

    /// The snapshot requests are served with now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.load_full()
    }

    /// Compiles `v` and swaps it in; on error the running snapshot stays untouched.
    pub fn reload(&self, v: &Validated) -> Result<ReloadReport, CompileError> {
        let new = Snapshot::compile(v, &self.shared.clients)?;
        // Compared with what runs, not with the previous file: a change back to the running
        // value needs nothing, and an unapplied change is reported on every reload.
        let mut needs_restart = Vec::new();
        if new.listeners != self.shared.bound_listeners {
            needs_restart.push("gateway.listeners".to_string());
        }
        if new.limits.max_connections != self.shared.max_connections {
            needs_restart.push("gateway.limits.max_connections".to_string());
        }
        let counts = new.counts;
        self.shared.snapshot.store(Arc::new(new));
        Ok(ReloadReport {
            counts,
            needs_restart,
        })
    }

    /// Opens every listener of the current snapshot; fails whole if one cannot be opened.
    pub async fn bind(&self) -> Result<Vec<BoundListener>, ServeError> {
        let snapshot = self.snapshot();
        let mut bound = Vec::new();
        for spec in &snapshot.listeners {
            let listener = tokio::net::TcpListener::bind(spec.addr)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: spec.addr,
                    source,
                })?;
            let local = listener.local_addr().map_err(|source| ServeError::Bind {
                addr: spec.addr,
                source,
            })?;
            bound.push(BoundListener {
                listener,
                spec: *spec,
                local,
            });
        }
        Ok(bound)
    }

    /// Serves until [`Gateway::shutdown`], then lets open connections finish their requests for
    /// up to `drain`.
    pub async fn serve(&self, listeners: Vec<BoundListener>, drain: Duration) {
        let mut tasks = tokio::task::JoinSet::new();
        for l in listeners {
            tasks.spawn(server::accept_loop(
                l,
                self.shared.clone(),
                self.shared.shutdown.subscribe(),
            ));
        }
        while tasks.join_next().await.is_some() {}
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
    }

    /// Stops accepting and asks open connections to close after their current request.
    pub fn shutdown(&self) {
        let _ = self.shared.shutdown.send(true);
    }
}
