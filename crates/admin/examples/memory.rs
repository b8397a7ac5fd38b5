//! The management API over an in-memory store, for trying it out and for running
//! schemathesis against it (docs/management.md): `cargo run -p gatehouse-admin --example memory
//! -- [PORT]` serves 127.0.0.1:PORT (default 8081) and prints a one-hour token.

use gatehouse_admin::{
    AccessKeys, Backing, BackingError, Checker, Current, ManagementApi, Node, Problem, sas_token,
};
use gatehouse_model::{Config, Secret, Severity};
use gatehouse_policy::config::{ApiPolicies, ConfigPolicies, ProductPolicies, compile_config};
use gatehouse_policy::document::{NamedValue, NamedValues};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

struct Memory {
    state: Mutex<(Arc<Config>, u64)>,
    keys: Mutex<AccessKeys>,
}

#[async_trait::async_trait]
impl Backing for Memory {
    async fn current(&self) -> Result<Current, BackingError> {
        let s = self
            .state
            .lock()
            .map_err(|e| BackingError::Store(e.to_string().into()))?;
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
        let mut s = self
            .state
            .lock()
            .map_err(|e| BackingError::Store(e.to_string().into()))?;
        if s.1 != expected {
            return Err(BackingError::Conflict { current: s.1 });
        }
        *s = (Arc::new(config), expected + 1);
        Ok(s.1)
    }
    async fn access_keys(&self) -> Result<AccessKeys, BackingError> {
        Ok(self
            .keys
            .lock()
            .map_err(|e| BackingError::Store(e.to_string().into()))?
            .clone())
    }
    async fn set_access_keys(&self, keys: AccessKeys) -> Result<(), BackingError> {
        *self
            .keys
            .lock()
            .map_err(|e| BackingError::Store(e.to_string().into()))? = keys;
        Ok(())
    }
}

struct FakeNode;
#[async_trait::async_trait]
impl Node for FakeNode {
    async fn network_status(&self) -> Value {
        json!([{"location": "local", "networkStatus": {"dnsServers": [], "connectivityStatus": []}}])
    }
    async fn apply_network(&self) -> Result<Value, String> {
        Ok(json!({"applied": true}))
    }
}

fn checker() -> Checker {
    Arc::new(|c: &Config| {
        let problems = |issues: Vec<gatehouse_model::Issue>| {
            issues
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .map(|i| Problem {
                    path: i.path,
                    message: i.message,
                })
                .collect::<Vec<_>>()
        };
        if let Err(issues) = gatehouse_model::validate(c.clone()) {
            let p = problems(issues);
            if !p.is_empty() {
                return Err(p);
            }
        }
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(8081);
    let mut config = Config::default();
    config.service.name = "contoso".into();
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| e.to_string())?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let backing = Arc::new(Memory {
        state: Mutex::new((Arc::new(config), 1)),
        keys: Mutex::new(AccessKeys {
            primary: Secret::new(key.clone()),
            secondary: Secret::new(format!("{key}-secondary")),
        }),
    });
    let api = ManagementApi {
        service_name: "contoso".into(),
        backing,
        checker: checker(),
        node: Arc::new(FakeNode),
    };
    let token = sas_token(
        "example",
        OffsetDateTime::now_utc() + Duration::hours(1),
        &Secret::new(key),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("{token}");
    axum::serve(listener, api.router()).await?;
    Ok(())
}
