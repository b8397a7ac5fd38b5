//! The service and network resources, private endpoint approval, and how the API answers the
//! store's refusals: a read-only (file-managed) store → 409, a concurrent commit → retried.

mod support;

use axum::http::StatusCode;
use gatehouse_admin::{ManagementApi, Node, NodeInfo};
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Memory, config, keys, send, token, validating_checker};
use time::Duration;

struct StaticNode;
#[async_trait::async_trait]
impl Node for StaticNode {
    async fn network_status(&self) -> Value {
        json!([{"location": "local", "networkStatus": {"dnsServers": ["10.0.0.53"], "connectivityStatus": [{"name": "b1", "status": "success"}]}}])
    }
    async fn apply_network(&self) -> Result<Value, String> {
        Err("store unreachable".into())
    }
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, String> {
        Err(format!("{url}: not reachable"))
    }
}

fn api(store: Arc<Memory>) -> axum::Router {
    ManagementApi {
        service_name: "svc".into(),
        backing: store,
        checker: validating_checker(),
        node: Arc::new(StaticNode),
    }
    .router()
}

/// A store that can refuse writes (file mode) or let another writer win the first `conflicts` commits.
fn store(read_only: bool, conflicts: usize) -> Arc<Memory> {
    let mut m = Memory::new(config("svc"), 7, keys("k1", "k2"));
    m.read_only = read_only;
    *m.conflicts.get_mut() = conflicts;
    Arc::new(m)
}

async fn call(
    r: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let token = token("ops", "k2", Duration::minutes(5));
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut headers = vec![("authorization", token.as_str())];
    headers.extend(if_match.map(|t| ("if-match", t)));
    let uri = format!("{path}{sep}api-version=2022-08-01");
    let (status, headers, json) = send(r, method, &uri, body, &headers).await;
    let etag = headers.get("etag").map(|v| v.to_str().unwrap().to_string());
    (status, etag, json)
}

/// PUT without If-Match.
async fn put(r: &axum::Router, path: &str, body: Value) -> (StatusCode, Option<String>, Value) {
    call(r, "PUT", path, Some(body), None).await
}

/// Creates the user u1 (u@example.com), the write the store tests refuse or retry.
async fn put_user(r: &axum::Router) -> (StatusCode, Option<String>, Value) {
    put(
        r,
        "/users/u1",
        json!({"properties": {"email": "u@example.com"}}),
    )
    .await
}

#[tokio::test]
async fn private_endpoint_approval_and_network_resource() {
    let s = store(false, 0);
    let r = api(s.clone());
    let (st, _, pe) = put(
        &r,
        "/privateEndpointConnections/pe1",
        json!({"properties": {"linkId": 42}}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{pe}");
    assert_eq!(
        pe["properties"]["privateLinkServiceConnectionState"]["status"],
        "Pending"
    );
    let approve = json!({"properties": {"privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}});
    let (st, _, pe) = put(&r, "/privateEndpointConnections/pe1", approve).await;
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
    let (st, _, e) = put(&r, "/privateEndpointConnections/pe1", bad).await;
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
    let (st, _, e) = put(
        &r,
        "/gatehouse/network",
        json!({"properties": {"nonsense": 1}}),
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
    let (st, _, e) = put_user(&r).await;
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
    let (st, _, _) = put_user(&r).await;
    assert_eq!(st, StatusCode::CREATED);
    // Two foreign commits (7 → 9), then ours.
    assert_eq!(s.state.lock().unwrap().1, 10);
    assert_eq!(s.state.lock().unwrap().0.users[0].email, "u@example.com");
}

#[tokio::test]
async fn etag_is_the_same_in_both_path_forms() {
    let r = api(store(false, 0));
    let (_, tag, _) = put(
        &r,
        "/groups/g1",
        json!({"properties": {"displayName": "G"}}),
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

fn node(name: &str, location: &str, age_secs: u64, dns: &str) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        location: location.into(),
        applied_revision: 7,
        last_heartbeat: "2026-01-01T00:00:00Z".into(),
        heartbeat_age: std::time::Duration::from_secs(age_secs),
        network_status: json!([{"location": location, "networkStatus": {"dnsServers": [dns], "connectivityStatus": []}}]),
    }
}

#[tokio::test]
async fn nodes_are_listed_and_networkstatus_answers_per_location() {
    let m = store(false, 0);
    *m.nodes.lock().unwrap() = vec![
        node("we-1", "westeurope", 1, "10.1.0.53"),
        node("we-2", "westeurope", 30, "10.9.9.9"),
        node("ne-1", "northeurope", 2, "10.2.0.53"),
        node("gone", "eastus", 60, "10.3.0.53"),
    ];
    let r = api(m);
    let (st, _, list) = call(&r, "GET", "/gatehouse/nodes", None, None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["count"], 4);
    let states: Vec<(String, String, String)> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap().to_string(),
                n["location"].as_str().unwrap().to_string(),
                n["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(states.contains(&("we-1".into(), "westeurope".into(), "online".into())));
    assert!(states.contains(&("gone".into(), "eastus".into(), "offline".into())));
    assert_eq!(list["value"][0]["appliedRevision"], 7);

    // One entry per location an online node serves, plus the answering node's own.
    let (st, _, ns) = call(&r, "GET", "/networkstatus", None, None).await;
    assert_eq!(st, StatusCode::OK);
    let locations: Vec<&str> = ns
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap())
        .collect();
    assert_eq!(locations, ["local", "northeurope", "westeurope"], "{ns}");
    let (st, _, we) = call(&r, "GET", "/locations/westeurope/networkstatus", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        we["dnsServers"][0], "10.1.0.53",
        "the online node's report: {we}"
    );
    let (st, _, e) = call(&r, "GET", "/locations/eastus/networkstatus", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("westeurope"),
        "{e}"
    );
}

#[tokio::test]
async fn additional_locations_round_trip_through_the_service() {
    let m = store(false, 0);
    let r = api(m.clone());
    let (st, _, body) = call(
        &r,
        "PATCH",
        "/",
        Some(json!({"sku": {"name": "premium", "capacity": 1}, "properties": {"additionalLocations": [
            {"location": "northeurope", "sku": {"name": "Premium", "capacity": 2},
             "virtualNetworkConfiguration": {"address_space": ["10.2.0.0/16"]}},
            {"location": "eastus", "disable_gateway": true, "network": {"service_tags": {"x": ["10.9.0.0/16"]}}}
        ]}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let locs = &body["properties"]["additionalLocations"];
    assert_eq!(locs[0]["location"], "northeurope", "{body}");
    assert_eq!(locs[0]["sku"]["capacity"], 2, "{body}");
    assert_eq!(locs[1]["disableGateway"], true, "{body}");
    let stored = m.state.lock().unwrap().0.clone();
    let ne = &stored.service.additional_locations[0];
    assert_eq!(ne.capacity, 2);
    assert_eq!(
        ne.network
            .virtual_network
            .as_ref()
            .map(|v| v.address_space.clone()),
        Some(vec!["10.2.0.0/16".to_string()])
    );
    assert_eq!(
        stored.service.additional_locations[1]
            .network
            .service_tags
            .len(),
        1
    );
    // What GET answers PATCHes back unchanged.
    let (_, _, got) = call(&r, "GET", "/", None, None).await;
    let (st, _, again) = call(
        &r,
        "PATCH",
        "/",
        Some(json!({"properties": {"additionalLocations": got["properties"]["additionalLocations"]}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(
        again["properties"]["additionalLocations"],
        got["properties"]["additionalLocations"]
    );
    // The main location again is refused with the path of the problem.
    let (st, _, e) = call(
        &r,
        "PATCH",
        "/",
        Some(json!({"properties": {"additionalLocations": [{"location": "local"}]}})),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e.to_string()
            .contains("service.additional_locations[0].location"),
        "{e}"
    );
}
