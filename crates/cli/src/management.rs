//! The management API's wiring: where it listens, what it reads and writes (the store, or the
//! config file read-only), and what the running node answers (network status, re-apply).

use crate::component_listener::ComponentAddr;
use crate::follow::Follower;
use crate::serve::ConfigCheck;
use anyhow::Result;
use gatehouse_admin::{AccessKeys, Backing, BackingError, Current, ManagementApi, Node};
use gatehouse_gateway::Gateway;
use gatehouse_model::{Config, Exposure};
use gatehouse_store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where `gatehouse serve` with no arguments serves the management API.
pub const DEMO_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8081);

/// `network.endpoints.management`: its public address (exposure public) and its private one.
pub fn configured_addrs(config: &Config) -> Vec<ComponentAddr> {
    endpoint_addrs(&config.network)
}

/// The same, from a snapshot's network section (what a reload asks for).
pub fn snapshot_addrs(snapshot: &gatehouse_gateway::Snapshot) -> Vec<ComponentAddr> {
    endpoint_addrs(&snapshot.network)
}

fn endpoint_addrs(network: &gatehouse_model::network::Network) -> Vec<ComponentAddr> {
    component_addrs(&network.endpoints.management)
}

/// A component's configured endpoints (`network.endpoints.<component>`) as listeners.
pub fn component_addrs(
    endpoints: &Option<gatehouse_model::network::ComponentEndpoints>,
) -> Vec<ComponentAddr> {
    let Some(ep) = endpoints else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (spec, exposure) in [
        (&ep.public, Exposure::Public),
        (&ep.private, Exposure::Private),
    ] {
        if let Some(spec) = spec
            && let Ok(addr) = spec.address().parse::<SocketAddr>()
        {
            out.push(ComponentAddr {
                addr,
                tls: spec.tls(),
                exposure,
            });
        }
    }
    out
}

/// The router of the management API for this node.
pub fn api(
    config: &Config,
    backing: Arc<dyn Backing>,
    check: ConfigCheck,
    gateway: Gateway,
    follower: Option<Follower>,
) -> axum::Router {
    let checker: gatehouse_admin::Checker = Arc::new(move |c: &Config| check(c).map(|_| ()));
    ManagementApi {
        service_name: config.service.name.clone(),
        backing,
        checker,
        node: Arc::new(NodeStatus { gateway, follower }),
    }
    .router()
}

/// The expiry of a token that lives `ttl` from now.
pub fn token_expiry(ttl: Duration) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + ttl
}

/// Store mode: reads and writes go to the store. The newest configuration is kept as long as
/// the store's revision has not moved, so a read costs one small query rather than loading
/// every resource (a store with thousands of APIs takes a good part of a second to load).
struct StoreBacking {
    store: Store,
    newest: std::sync::Mutex<Option<Current>>,
}

pub fn store_backing(store: Store) -> Arc<dyn Backing> {
    Arc::new(StoreBacking {
        store,
        newest: std::sync::Mutex::new(None),
    })
}

impl StoreBacking {
    fn cached(&self, revision: u64) -> Option<Current> {
        let newest = self.newest.lock().unwrap_or_else(|p| p.into_inner());
        newest.as_ref().filter(|c| c.revision == revision).cloned()
    }

    fn keep(&self, current: &Current) {
        let mut newest = self.newest.lock().unwrap_or_else(|p| p.into_inner());
        if newest
            .as_ref()
            .is_none_or(|c| c.revision < current.revision)
        {
            *newest = Some(current.clone());
        }
    }
}

fn store_error(e: gatehouse_store::StoreError) -> BackingError {
    match e {
        gatehouse_store::StoreError::Conflict { current } => BackingError::Conflict { current },
        other => BackingError::Store(Box::new(other)),
    }
}

#[async_trait::async_trait]
impl Backing for StoreBacking {
    async fn current(&self) -> Result<Current, BackingError> {
        let revision = self.store.revision().await.map_err(store_error)?;
        if let Some(current) = self.cached(revision) {
            return Ok(current);
        }
        match self.store.load().await.map_err(store_error)? {
            Some((config, revision)) => {
                let current = Current {
                    config: Arc::new(config),
                    revision,
                };
                self.keep(&current);
                Ok(current)
            }
            None => Err(BackingError::Store(
                "the store holds no configuration".into(),
            )),
        }
    }
    async fn commit(
        &self,
        config: Config,
        expected: u64,
        actor: &str,
        summary: &str,
    ) -> Result<u64, BackingError> {
        let revision = self
            .store
            .commit(&config, expected, actor, summary)
            .await
            .map_err(store_error)?;
        // What was committed is the newest configuration: the next read needs no load.
        self.keep(&Current {
            config: Arc::new(config),
            revision,
        });
        Ok(revision)
    }
    async fn access_keys(&self) -> Result<AccessKeys, BackingError> {
        let k = self.store.access_keys().await.map_err(store_error)?;
        Ok(AccessKeys {
            primary: k.primary,
            secondary: k.secondary,
        })
    }
    async fn set_access_keys(&self, keys: AccessKeys) -> Result<(), BackingError> {
        self.store
            .set_access_keys(&gatehouse_store::AccessKeys {
                primary: keys.primary,
                secondary: keys.secondary,
            })
            .await
            .map_err(store_error)
    }
    async fn nodes(&self) -> Result<Vec<gatehouse_admin::NodeInfo>, BackingError> {
        let nodes = self.store.nodes().await.map_err(store_error)?;
        Ok(nodes
            .into_iter()
            .map(|n| gatehouse_admin::NodeInfo {
                name: n.report.name,
                location: n.report.location,
                applied_revision: n.report.applied_revision,
                last_heartbeat: n.last_heartbeat,
                heartbeat_age: n.heartbeat_age,
                network_status: n.report.status,
            })
            .collect())
    }
}

/// File mode: the API reads the file; writes are refused (the file is the source of truth).
/// The access keys live in the data directory (crates/cli/src/data_dir.rs).
struct FileBacking {
    path: PathBuf,
    secret_key_file: Option<PathBuf>,
}

pub fn file_backing(path: PathBuf, secret_key_file: Option<PathBuf>) -> Result<Arc<dyn Backing>> {
    Ok(Arc::new(FileBacking {
        path,
        secret_key_file,
    }))
}

#[async_trait::async_trait]
impl Backing for FileBacking {
    async fn current(&self) -> Result<Current, BackingError> {
        let config =
            gatehouse_model::load(&self.path).map_err(|e| BackingError::Store(Box::new(e)))?;
        Ok(Current {
            config: Arc::new(config),
            revision: 0,
        })
    }
    async fn commit(&self, _: Config, _: u64, _: &str, _: &str) -> Result<u64, BackingError> {
        Err(BackingError::ReadOnly(format!(
            "the configuration is file-managed ({}): edit the file, or serve from a store (gatehouse store import FILE --store URL; gatehouse serve --store URL)",
            self.path.display()
        )))
    }
    async fn access_keys(&self) -> Result<AccessKeys, BackingError> {
        crate::file_keys::file_mode_access_keys(self.secret_key_file.as_deref(), None)
            .map_err(|e| BackingError::Store(e.into()))
    }
    async fn set_access_keys(&self, keys: AccessKeys) -> Result<(), BackingError> {
        crate::file_keys::file_mode_access_keys(self.secret_key_file.as_deref(), Some(keys))
            .map(|_| ())
            .map_err(|e| BackingError::Store(e.into()))
    }
}

/// How long a `-link` import may take to fetch its document.
const LINK_TIMEOUT: Duration = Duration::from_secs(30);

/// What the running node answers.
struct NodeStatus {
    gateway: Gateway,
    follower: Option<Follower>,
}

#[async_trait::async_trait]
impl Node for NodeStatus {
    async fn network_status(&self) -> serde_json::Value {
        crate::network_status::report(&self.gateway).await
    }
    async fn apply_network(&self) -> Result<serde_json::Value, String> {
        match &self.follower {
            Some(f) => Ok(f.apply("applynetworkconfigurationupdates").await),
            None => Err(
                "the configuration is file-managed: `gatehouse net apply CONFIG` applies it"
                    .to_string(),
            ),
        }
    }
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        // Through the gateway's own client: the egress guard and the outbound NSG decide what
        // a `-link` import may reach (Azure requires a public URL; here the network rules do),
        // and the buffered-body limit bounds the document.
        let request = gatehouse_policy::http::HttpRequest::get(url, LINK_TIMEOUT);
        match self.gateway.http_client().send(request).await {
            Ok(r) if (200..300).contains(&r.status) => Ok(r.body),
            Ok(r) => Err(format!("{url} answered {} {}", r.status, r.reason)),
            Err(e) => Err(format!("cannot fetch {url}: {e}")),
        }
    }
}
