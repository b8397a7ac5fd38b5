//! The service and network resources, private endpoint approval, and how the API answers the
//! store's refusals: a read-only (file-managed) store → 409, a concurrent commit → retried.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_admin::{
    AccessKeys, Backing, BackingError, Current, ManagementApi, Node, Problem, sas_token,
};
use gatehouse_model::{Config, Secret, Severity};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

/// A store that can refuse writes (file mode) or let another writer win the first `conflicts` commits.
struct Store {
    state: Mutex<(Arc<Config>, u64)>,
    read_only: bool,
    conflicts: AtomicUsize,
}

#[async_trait::async_trait]
impl Backing for Store {
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
        if self.read_only {
            return Err(BackingError::ReadOnly(
                "the configuration is file-managed (serve --config); edit the file".into(),
            ));
        }
        let mut s = self
            .state
            .lock()
            .map_err(|e| BackingError::Store(e.to_string().into()))?;
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
        Ok(AccessKeys {
            primary: Secret::new("k1"),
            secondary: Secret::new("k2"),
        })
    }
    async fn set_access_keys(&self, _: AccessKeys) -> Result<(), BackingError> {
        Err(BackingError::ReadOnly("keys are fixed in this test".into()))
    }
}

struct StaticNode;
#[async_trait::async_trait]
impl Node for StaticNode {
    async fn network_status(&self) -> Value {
        json!([{"location": "local", "networkStatus": {"dnsServers": ["10.0.0.53"], "connectivityStatus": [{"name": "b1", "status": "success"}]}}])
    }
    async fn apply_network(&self) -> Result<Value, String> {
        Err("store unreachable".into())
    }
}

fn api(store: Arc<Store>) -> axum::Router {
    ManagementApi {
        service_name: "svc".into(),
        backing: store,
        checker: Arc::new(|c: &Config| match gatehouse_model::validate(c.clone()) {
            Ok(_) => Ok(()),
            Err(issues) => {
                let p: Vec<Problem> = issues
                    .into_iter()
                    .filter(|i| i.severity == Severity::Error)
                    .map(|i| Problem {
                        path: i.path,
                        message: i.message,
                    })
                    .collect();
                if p.is_empty() { Ok(()) } else { Err(p) }
            }
        }),
        node: Arc::new(StaticNode),
    }
    .router()
}

fn store(read_only: bool, conflicts: usize) -> Arc<Store> {
    let mut c = Config::default();
    c.service.name = "svc".into();
    Arc::new(Store {
        state: Mutex::new((Arc::new(c), 7)),
        read_only,
        conflicts: AtomicUsize::new(conflicts),
    })
}

async fn call(
    r: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let token = sas_token(
        "ops",
        OffsetDateTime::now_utc() + Duration::minutes(5),
        &Secret::new("k2"),
    );
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut b = Request::builder()
        .method(method)
        .uri(format!("{path}{sep}api-version=2022-08-01"))
        .header("authorization", token);
    if let Some(t) = if_match {
        b = b.header("if-match", t);
    }
    let resp = r
        .clone()
        .oneshot(
            b.body(
                body.map(|v| Body::from(v.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        etag,
        if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        },
    )
}

#[tokio::test]
async fn private_endpoint_approval_and_network_resource() {
    let s = store(false, 0);
    let r = api(s.clone());
    let (st, _, pe) = call(
        &r,
        "PUT",
        "/privateEndpointConnections/pe1",
        Some(json!({"properties": {"linkId": 42}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{pe}");
    assert_eq!(
        pe["properties"]["privateLinkServiceConnectionState"]["status"],
        "Pending"
    );
    let approve = json!({"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}});
    let (st, _, pe) = call(
        &r,
        "PUT",
        "/privateEndpointConnections/pe1",
        Some(approve),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{pe}");
    assert_eq!(
        pe["properties"]["privateLinkServiceConnectionState"]["status"],
        "Approved"
    );
    assert_eq!(pe["properties"]["linkId"], 42);
    assert_eq!(
        s.state.lock().unwrap().0.network.private_endpoints[0].state,
        gatehouse_model::network::PrivateEndpointState::Approved
    );
    let bad = json!({"properties": {"privateLinkServiceConnectionState": {"status": "Maybe"}}});
    let (st, _, e) = call(
        &r,
        "PUT",
        "/privateEndpointConnections/pe1",
        Some(bad),
        None,
    )
    .await;
    assert_eq!(
        (st, e["error"]["details"][0]["target"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("properties.privateLinkServiceConnectionState.status")
        )
    );

    // The gatehouse network section, in the config file's own names; PATCH merges.
    let (st, tag, net) = call(&r, "GET", "/gatehouse/network", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(net["properties"]["private_endpoints"][0]["name"], "pe1");
    let patch = json!({"properties": {"trusted_proxies": ["10.0.0.5/32"]}});
    let (st, _, net) = call(
        &r,
        "PATCH",
        "/gatehouse/network",
        Some(patch.clone()),
        tag.as_deref(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{net}");
    assert_eq!(net["properties"]["trusted_proxies"], json!(["10.0.0.5/32"]));
    assert_eq!(net["properties"]["private_endpoints"][0]["name"], "pe1");
    // The old ETag no longer matches.
    assert_eq!(
        call(
            &r,
            "PATCH",
            "/gatehouse/network",
            Some(patch),
            tag.as_deref()
        )
        .await
        .0,
        StatusCode::PRECONDITION_FAILED
    );
    let (st, _, e) = call(
        &r,
        "PUT",
        "/gatehouse/network",
        Some(json!({"properties": {"nonsense": 1}})),
        None,
    )
    .await;
    assert_eq!(
        (st, e["error"]["details"][0]["target"].as_str()),
        (StatusCode::BAD_REQUEST, Some("properties"))
    );

    // The service: sku and publicNetworkAccess.
    let (st, _, svc) = call(&r, "PATCH", "/", Some(json!({"sku": {"name": "Premium", "capacity": 2}, "properties": {"publicNetworkAccess": "Disabled"}})), None).await;
    assert_eq!(st, StatusCode::OK, "{svc}");
    assert_eq!(svc["sku"], json!({"name": "premium", "capacity": 2}));
    assert_eq!(svc["properties"]["publicNetworkAccess"], "Disabled");

    // Node answers.
    let (st, _, ns) = call(&r, "GET", "/networkstatus", None, None).await;
    assert_eq!(
        (st, ns[0]["networkStatus"]["dnsServers"][0].as_str()),
        (StatusCode::OK, Some("10.0.0.53"))
    );
    let (st, _, e) = call(&r, "POST", "/applynetworkconfigurationupdates", None, None).await;
    assert_eq!(
        (st, e["error"]["message"].as_str()),
        (StatusCode::CONFLICT, Some("store unreachable"))
    );
}

#[tokio::test]
async fn read_only_store_answers_409() {
    let r = api(store(true, 0));
    let (st, _, e) = call(
        &r,
        "PUT",
        "/users/u1",
        Some(json!({"properties": {"email": "u@example.com"}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "ConfigurationReadOnly");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("file-managed")
    );
    assert_eq!(
        call(&r, "GET", "/users", None, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &r,
            "POST",
            "/tenant/access/regeneratePrimaryKey",
            None,
            None
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_concurrent_commit_is_retried() {
    let s = store(false, 2);
    let r = api(s.clone());
    let (st, _, _) = call(
        &r,
        "PUT",
        "/users/u1",
        Some(json!({"properties": {"email": "u@example.com"}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    // Two foreign commits (7 → 9), then ours.
    assert_eq!(s.state.lock().unwrap().1, 10);
    assert_eq!(s.state.lock().unwrap().0.users[0].email, "u@example.com");
}

#[tokio::test]
async fn etag_is_the_same_in_both_path_forms() {
    let r = api(store(false, 0));
    let (_, tag, _) = call(
        &r,
        "PUT",
        "/groups/g1",
        Some(json!({"properties": {"displayName": "G"}})),
        None,
    )
    .await;
    let arm =
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.ApiManagement/service/svc/groups/g1";
    let (st, arm_tag, body) = call(&r, "GET", arm, None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(tag, arm_tag);
    assert_eq!(body["id"], arm);
    let (st, _, _) = call(
        &r,
        "PATCH",
        arm,
        Some(json!({"properties": {"displayName": "H"}})),
        Some("\"0000\""),
    )
    .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
}
