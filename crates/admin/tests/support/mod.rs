//! Test fixtures shared by the integration tests and examples/memory.rs (which includes this file
//! with `#[path]`): an in-memory Backing that can refuse writes or lose commit races, the
//! Checkers, a Node that answers without a network, SAS tokens, and a request helper.
//! Every user takes a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use gatehouse_admin::{
    AccessKeys, Backing, BackingError, Checker, Current, Node, NodeInfo, Problem, sas_token,
};
use gatehouse_model::{Config, Secret};
use gatehouse_policy::config::{ApiPolicies, ConfigPolicies, ProductPolicies, compile_config};
use gatehouse_policy::document::{NamedValue, NamedValues};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

/// An in-memory store with optimistic concurrency. `read_only` refuses every write as a
/// file-managed config does; `conflicts` lets another writer win that many commits first.
pub struct Memory {
    pub state: Mutex<(Arc<Config>, u64)>,
    pub keys: Mutex<AccessKeys>,
    pub read_only: bool,
    pub conflicts: AtomicUsize,
    /// The node registry: what the nodes reported.
    pub nodes: Mutex<Vec<NodeInfo>>,
}

impl Memory {
    /// A writable store at `revision` holding `config` and `keys`.
    pub fn new(config: Config, revision: u64, keys: AccessKeys) -> Self {
        Memory {
            state: Mutex::new((Arc::new(config), revision)),
            keys: Mutex::new(keys),
            read_only: false,
            conflicts: AtomicUsize::new(0),
            nodes: Mutex::new(Vec::new()),
        }
    }
}

fn poisoned(e: impl ToString) -> BackingError {
    BackingError::Store(e.to_string().into())
}

fn read_only() -> BackingError {
    BackingError::ReadOnly(
        "the configuration is file-managed (serve --config); edit the file".into(),
    )
}

#[async_trait::async_trait]
impl Backing for Memory {
    async fn current(&self) -> Result<Current, BackingError> {
        let s = self.state.lock().map_err(poisoned)?;
        Ok(Current {
            config: s.0.clone(),
            revision: s.1,
        })
    }
    async fn commit(
        &self,
        config: Config,
        expected: u64,
        _: &str,
        _: &str,
    ) -> Result<u64, BackingError> {
        if self.read_only {
            return Err(read_only());
        }
        let mut s = self.state.lock().map_err(poisoned)?;
        if self.conflicts.load(Ordering::SeqCst) > 0 {
            // Another node committed an unrelated change first.
            self.conflicts.fetch_sub(1, Ordering::SeqCst);
            s.1 += 1;
            return Err(BackingError::Conflict { current: s.1 });
        }
        if s.1 != expected {
            return Err(BackingError::Conflict { current: s.1 });
        }
        *s = (Arc::new(config), expected + 1);
        Ok(s.1)
    }
    async fn access_keys(&self) -> Result<AccessKeys, BackingError> {
        Ok(self.keys.lock().map_err(poisoned)?.clone())
    }
    async fn set_access_keys(&self, keys: AccessKeys) -> Result<(), BackingError> {
        if self.read_only {
            return Err(read_only());
        }
        *self.keys.lock().map_err(poisoned)? = keys;
        Ok(())
    }
    async fn nodes(&self) -> Result<Vec<NodeInfo>, BackingError> {
        Ok(self.nodes.lock().map_err(poisoned)?.clone())
    }
}

/// A config whose service is named `name`.
pub fn config(name: &str) -> Config {
    let mut config = Config::default();
    config.service.name = name.into();
    config
}

/// The access keys `primary` / `secondary`.
pub fn keys(primary: &str, secondary: &str) -> AccessKeys {
    AccessKeys {
        primary: Secret::new(primary),
        secondary: Secret::new(secondary),
    }
}

/// A SAS token for `user`, signed with `key`, valid for `valid_for` from now (negative: expired).
pub fn token(user: &str, key: &str, valid_for: Duration) -> String {
    sas_token(
        user,
        OffsetDateTime::now_utc() + valid_for,
        &Secret::new(key),
    )
}

/// A Node with an empty network status that applies network updates successfully.
pub struct FakeNode;
#[async_trait::async_trait]
impl Node for FakeNode {
    async fn network_status(&self) -> Value {
        json!([{"location": "local", "networkStatus": {"dnsServers": [], "connectivityStatus": []}}])
    }
    async fn apply_network(&self) -> Result<Value, String> {
        Ok(json!({"applied": true}))
    }
    /// `http://docs.test/NAME` serves `tests/data/NAME`; any other URL is refused, as an
    /// egress guard refuses a destination the rules do not allow.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        let name = url
            .strip_prefix("http://docs.test/")
            .filter(|n| !n.contains('/') && !n.contains(".."))
            .ok_or_else(|| format!("{url}: denied by the outbound rules"))?;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        std::fs::read(&path).map_err(|e| format!("{url}: {e}"))
    }
}

/// A Checker that runs model validation only.
pub fn validating_checker() -> Checker {
    gatehouse_admin::model_checker()
}

/// A Checker that runs model validation, then compiles every policy document. The policy input
/// is filled as crates/gateway/src/policies.rs fills it: gatehouse_policy takes plain text by
/// scope and does not know gatehouse_model, and the gateway's module is private.
pub fn checker() -> Checker {
    let model = gatehouse_admin::model_checker();
    Arc::new(move |c: &Config| {
        model(c)?;
        let named_values: NamedValues = c
            .named_values
            .iter()
            .map(|n| {
                (
                    n.id.clone(),
                    NamedValue {
                        value: n.value.expose().to_string(),
                        secret: n.secret,
                    },
                )
            })
            .collect();
        let input = ConfigPolicies {
            global: c.policies.global.as_deref(),
            fragments: c
                .policies
                .fragments
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            products: c
                .products
                .iter()
                .map(|p| ProductPolicies {
                    id: &p.id,
                    policies: p.policies.as_deref(),
                    apis: p.apis.iter().map(String::as_str).collect(),
                })
                .collect(),
            apis: c
                .apis
                .iter()
                .map(|a| ApiPolicies {
                    id: &a.id,
                    policies: a.policies.as_deref(),
                    operations: a.operations.iter().map(|o| o.policies.as_deref()).collect(),
                })
                .collect(),
            named_values,
        };
        compile_config(&input).map(|_| ()).map_err(|e| {
            vec![Problem {
                path: e.path.clone(),
                message: e.to_string(),
            }]
        })
    })
}

/// Sends one request through `router`; the body comes back as JSON (`Null` when empty).
pub async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = body
        .map(|v| Body::from(v.to_string()))
        .unwrap_or_else(Body::empty);
    let resp = router.clone().oneshot(b.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, json)
}

/// The Router over an in-memory [`Memory`] ("contoso", revision 1, the access keys given),
/// with a token of `alice` signed by the primary key.
pub struct Harness {
    pub backing: Arc<Memory>,
    pub router: axum::Router,
    pub token: String,
}

impl Harness {
    pub fn new(primary: &str, secondary: &str) -> Harness {
        let backing = Arc::new(Memory::new(config("contoso"), 1, keys(primary, secondary)));
        let api = gatehouse_admin::ManagementApi {
            service_name: "contoso".into(),
            backing: backing.clone(),
            checker: checker(),
            node: Arc::new(FakeNode),
        };
        Harness {
            backing,
            router: api.router(),
            token: token("alice", primary, Duration::hours(1)),
        }
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        send(&self.router, method, path, body, headers).await
    }

    /// `method path?api-version=2022-08-01` with the harness's token: status and JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (s, _, j) = self
            .call_with(
                method,
                &format!("{path}{sep}api-version=2022-08-01"),
                body,
                &[("authorization", &self.token)],
            )
            .await;
        (s, j)
    }
}
