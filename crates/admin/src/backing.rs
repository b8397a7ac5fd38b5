//! The two seams of the management API: where the configuration lives ([`Backing`], the CLI
//! implements it over the store and over file mode) and what the running node answers
//! ([`Node`]). This crate knows no database and no gateway.

use gatehouse_model::{Config, Secret};
use std::sync::Arc;

/// Where the configuration lives. Implemented by the CLI over the store (and file mode).
#[async_trait::async_trait]
pub trait Backing: Send + Sync + 'static {
    /// The newest committed configuration and its revision.
    async fn current(&self) -> Result<Current, BackingError>;
    /// Commit `config` as the next revision if the store is still at `expected`.
    async fn commit(
        &self,
        config: Config,
        expected: u64,
        actor: &str,
        summary: &str,
    ) -> Result<u64, BackingError>;
    async fn access_keys(&self) -> Result<AccessKeys, BackingError>;
    async fn set_access_keys(&self, keys: AccessKeys) -> Result<(), BackingError>;
    /// The gateway nodes that reported to the store (`GET gatehouse/nodes`, and `networkstatus`
    /// per location). A backing without a registry (file mode) has none: the answering node
    /// speaks for itself.
    async fn nodes(&self) -> Result<Vec<NodeInfo>, BackingError> {
        Ok(Vec::new())
    }
}

/// A gateway node as its last heartbeat describes it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub location: String,
    pub applied_revision: u64,
    /// RFC 3339, UTC.
    pub last_heartbeat: String,
    /// How old the last heartbeat is (by the store's clock).
    pub heartbeat_age: std::time::Duration,
    /// The node's `networkstatus` answer: `[{location, networkStatus}]`.
    pub network_status: serde_json::Value,
}

#[derive(Clone)]
pub struct Current {
    pub config: Arc<Config>,
    pub revision: u64,
}

#[derive(Clone)]
pub struct AccessKeys {
    pub primary: Secret,
    pub secondary: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum BackingError {
    #[error("another change was committed first (revision {current})")]
    Conflict { current: u64 },
    /// File mode: writes are refused with 409 and this message.
    #[error("{0}")]
    ReadOnly(String),
    #[error("store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Checks a whole candidate config as the gateway would load it (model validation + policy compile).
/// Each problem's `path` is the config path (`apis[2].operations[0].url_template`).
pub type Checker = Arc<dyn Fn(&Config) -> Result<(), Vec<Problem>> + Send + Sync>;

/// A [`Checker`] that runs the model's validation only (its errors; warnings pass): what a
/// backing without a gateway to compile against can check (tests, examples).
pub fn model_checker() -> Checker {
    std::sync::Arc::new(|c: &Config| match gatehouse_model::validate(c.clone()) {
        Ok(_) => Ok(()),
        Err(issues) => {
            let p: Vec<Problem> = issues
                .into_iter()
                .filter(|i| i.severity == gatehouse_model::Severity::Error)
                .map(|i| Problem {
                    path: i.path,
                    message: i.message,
                })
                .collect();
            if p.is_empty() { Ok(()) } else { Err(p) }
        }
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// What the running node answers (the CLI implements it over the gateway's snapshot).
#[async_trait::async_trait]
pub trait Node: Send + Sync + 'static {
    /// GET networkstatus: APIM's list of NetworkStatusContractByLocation (`[{location,
    /// networkStatus: {dnsServers, connectivityStatus}}]`), extended with each backend's
    /// reachability as the egress guard judges it.
    async fn network_status(&self) -> serde_json::Value;
    /// POST applynetworkconfigurationupdates: re-read the store and apply; returns the report.
    async fn apply_network(&self) -> Result<serde_json::Value, String>;
    /// GET `url` for an OpenAPI `-link` import, through the node's egress guard (so the network
    /// rules decide what may be fetched); the body, or why not.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String>;
}
