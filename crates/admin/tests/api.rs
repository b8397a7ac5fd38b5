//! The management API driven through its Router with an in-memory Backing that supports
//! optimistic conflicts, and a Checker that runs model validation and policy compilation.

mod support;

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use support::{Harness, token};
use time::Duration;

fn harness() -> Harness {
    Harness::new("primary-key", "secondary-key")
}

const V: &str = "api-version=2022-08-01";

impl Harness {
    /// The status of a GET of `path` (which carries its api-version) signed with `token`.
    async fn get_as(&self, path: &str, token: &str) -> StatusCode {
        self.call_with("GET", path, None, &[("authorization", token)])
            .await
            .0
    }
    fn revision(&self) -> u64 {
        self.backing.state.lock().unwrap().1
    }
    async fn seed(&self) {
        let (s, _) = self.call("PUT", "/apis/orders", Some(json!({"properties": {"displayName": "Orders", "path": "orders", "serviceUrl": "http://127.0.0.1:9000"}}))).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = self
            .call(
                "PUT",
                "/apis/orders/operations/get",
                Some(json!({"properties": {"method": "GET", "urlTemplate": "/items/{id}"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = self
            .call(
                "PUT",
                "/products/starter",
                Some(json!({"properties": {"displayName": "Starter"}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn auth_rules() {
    let h = harness();
    let path = format!("/apis?{V}");
    let (s, _, body) = h.call_with("GET", &path, None, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "Unauthorized");
    let expired = token("alice", "primary-key", -Duration::minutes(1));
    assert_eq!(h.get_as(&path, &expired).await, StatusCode::UNAUTHORIZED);
    let wrong = token("alice", "nope", Duration::hours(1));
    assert_eq!(h.get_as(&path, &wrong).await, StatusCode::UNAUTHORIZED);
    let secondary = token("bob", "secondary-key", Duration::hours(1));
    assert_eq!(h.get_as(&path, &secondary).await, StatusCode::OK);
    // Regenerating the primary key invalidates tokens signed with the old one.
    assert_eq!(
        h.call("POST", "/tenant/access/regeneratePrimaryKey", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(h.get_as(&path, &h.token).await, StatusCode::UNAUTHORIZED);
    let (s, _, keys) = h
        .call_with(
            "POST",
            &format!("/tenant/access/listSecrets?{V}"),
            None,
            &[("authorization", &secondary)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let fresh = keys["primaryKey"].as_str().unwrap();
    assert_ne!(fresh, "primary-key");
    let t = token("alice", fresh, Duration::hours(1));
    assert_eq!(h.get_as(&path, &t).await, StatusCode::OK);
}

#[tokio::test]
async fn api_version_and_paths() {
    let h = harness();
    let auth = [("authorization", h.token.as_str())];
    let (s, _, b) = h.call_with("GET", "/apis", None, &auth).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MissingApiVersionParameter"))
    );
    let (s, _, b) = h
        .call_with("GET", "/apis?api-version=2019-12-01", None, &auth)
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidApiVersionParameter"))
    );
    assert_eq!(
        h.call_with("GET", "/apis?api-version=2024-05-01", None, &auth)
            .await
            .0,
        StatusCode::OK
    );
    h.seed().await;
    let arm =
        "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ApiManagement/service/contoso";
    let (s, b) = h.call("GET", &format!("{arm}/apis/orders"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["id"], format!("{arm}/apis/orders"));
    assert_eq!(b["type"], "Microsoft.ApiManagement/service/apis");
    let (s, _) = h.call("GET", "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ApiManagement/service/other/apis", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The short /subscriptions collection is APIM's subscriptions, not an ARM prefix.
    assert_eq!(
        h.call("GET", "/subscriptions", None).await.0,
        StatusCode::OK
    );
    let (s, _, doc) = h.call_with("GET", "/openapi.json", None, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/apis/{apiId}/operations/{operationId}"]["put"].is_object());
    assert!(doc["paths"][format!("{}/apis", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}")].is_object());
}

#[tokio::test]
async fn crud_defaults_and_secrets() {
    let h = harness();
    h.seed().await;
    let (s, api) = h.call("GET", "/apis/orders", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api["properties"]["subscriptionRequired"], true);
    assert_eq!(api["properties"]["protocols"], json!(["http", "https"]));
    // PUT again → 200; PATCH merges.
    let body = json!({"properties": {"displayName": "Orders v2", "path": "orders", "serviceUrl": "http://127.0.0.1:9000"}});
    assert_eq!(
        h.call("PUT", "/apis/orders", Some(body)).await.0,
        StatusCode::OK
    );
    let (s, api) = h
        .call(
            "PATCH",
            "/apis/orders",
            Some(json!({"properties": {"description": "d"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(api["properties"]["displayName"], "Orders v2");
    assert_eq!(api["properties"]["description"], "d");
    // The operation survived the PUT of its API.
    assert_eq!(
        h.call("GET", "/apis/orders/operations/get", None).await.0,
        StatusCode::OK
    );
    // Product link.
    let (s, linked) = h.call("PUT", "/products/starter/apis/orders", None).await;
    assert_eq!(
        (s, linked["name"].as_str()),
        (StatusCode::CREATED, Some("orders"))
    );
    assert_eq!(
        h.call("PUT", "/products/starter/apis/orders", None).await.0,
        StatusCode::OK
    );
    let (_, list) = h.call("GET", "/products/starter/apis", None).await;
    assert_eq!(list["count"], 1);
    // Subscription: keys generated, never in GET, listed by listSecrets.
    let (s, sub) = h
        .call(
            "PUT",
            "/subscriptions/s1",
            Some(json!({"properties": {"scope": "/products/starter", "displayName": "S1"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(sub["properties"].get("primaryKey").is_none());
    let (_, keys) = h.call("POST", "/subscriptions/s1/listSecrets", None).await;
    let k1 = keys["primaryKey"].as_str().unwrap().to_string();
    assert_eq!(k1.len(), 32);
    assert_eq!(
        h.call("POST", "/subscriptions/s1/regeneratePrimaryKey", None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, keys) = h.call("POST", "/subscriptions/s1/listSecrets", None).await;
    assert_ne!(keys["primaryKey"].as_str().unwrap(), k1);
    let (_, all) = h.call("GET", "/subscriptions", None).await;
    assert!(
        !all.to_string()
            .contains(keys["primaryKey"].as_str().unwrap())
    );
    // Secret named value.
    let (s, nv) = h
        .call(
            "PUT",
            "/namedValues/pw",
            Some(json!({"properties": {"displayName": "pw", "value": "hunter2", "secret": true}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(!nv.to_string().contains("hunter2"));
    assert!(
        !h.call("GET", "/namedValues", None)
            .await
            .1
            .to_string()
            .contains("hunter2")
    );
    assert_eq!(
        h.call("POST", "/namedValues/pw/listValue", None).await.1["value"],
        "hunter2"
    );
    // Policies, users, groups, backends, fragments, private endpoints, network.
    let xml = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    let (s, pol) = h
        .call(
            "PUT",
            "/apis/orders/policies/policy",
            Some(json!({"properties": {"format": "rawxml", "value": xml}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(pol["properties"]["format"], "xml");
    assert_eq!(
        h.call(
            "PUT",
            "/users/u1",
            Some(json!({"properties": {"email": "u1@example.com"}}))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        h.call(
            "PUT",
            "/groups/g1",
            Some(json!({"properties": {"displayName": "G"}}))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        h.call("PUT", "/groups/g1/users/u1", None).await.0,
        StatusCode::CREATED
    );
    assert_eq!(h.call("GET", "/groups/g1/users", None).await.1["count"], 1);
    assert_eq!(
        h.call(
            "PUT",
            "/backends/b1",
            Some(json!({"properties": {"url": "http://127.0.0.1:9100", "protocol": "http"}}))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, net) = h.call("GET", "/gatehouse/network", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(net["properties"]["type"], "none");
    let (s, svc) = h.call("GET", "/", None).await;
    assert_eq!(
        (s, svc["properties"]["virtualNetworkType"].as_str()),
        (StatusCode::OK, Some("None"))
    );
    // DELETE → 200, then 204.
    assert_eq!(
        h.call("DELETE", "/groups/g1/users/u1", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.call("DELETE", "/backends/b1", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        h.call("DELETE", "/backends/b1", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call("GET", "/backends/b1", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn lists_filters_paging() {
    let h = harness();
    for (id, path) in [("alpha", "a"), ("beta", "b"), ("alphabet", "ab")] {
        let b = json!({"properties": {"displayName": id.to_uppercase(), "path": path, "serviceUrl": "http://127.0.0.1:9000"}});
        assert_eq!(
            h.call("PUT", &format!("/apis/{id}"), Some(b)).await.0,
            StatusCode::CREATED
        );
    }
    let (_, l) = h
        .call("GET", "/apis?$filter=startswith(name,'alpha')", None)
        .await;
    assert_eq!(l["count"], 2);
    let (_, l) = h.call("GET", "/apis?$filter=path%20eq%20'b'", None).await;
    assert_eq!(l["value"][0]["name"], "beta");
    let (_, l) = h
        .call("GET", "/apis?$filter=contains(displayName,'phab')", None)
        .await;
    assert_eq!(l["value"][0]["name"], "alphabet");
    let (_, l) = h.call("GET", "/apis?$top=2", None).await;
    assert_eq!(
        (l["value"].as_array().unwrap().len(), l["count"].as_u64()),
        (2, Some(3))
    );
    assert!(l["nextLink"].as_str().unwrap().contains("$skip=2"));
    let (_, l) = h.call("GET", "/apis?$top=2&$skip=2", None).await;
    assert_eq!(l["value"].as_array().unwrap().len(), 1);
    assert!(l["nextLink"].is_null());
    let (s, e) = h.call("GET", "/apis?$filter=owner%20eq%20'x'", None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidFilter"))
    );
}

#[tokio::test]
async fn etag_race_has_one_winner() {
    let h = Arc::new(harness());
    h.seed().await;
    let path = format!("/apis/orders?{V}");
    let (_, headers, _) = h
        .call_with("GET", &path, None, &[("authorization", &h.token)])
        .await;
    let tag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for name in ["one", "two"] {
        let (h, tag, path) = (h.clone(), tag.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"properties": {"displayName": name}});
            h.call_with(
                "PATCH",
                &path,
                Some(body),
                &[("authorization", &h.token), ("if-match", &tag)],
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![StatusCode::OK, StatusCode::PRECONDITION_FAILED]
    );
    let (s, _, _) = h
        .call_with(
            "DELETE",
            &path,
            None,
            &[("authorization", &h.token), ("if-match", "*")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn bad_writes_change_nothing() {
    let h = harness();
    h.seed().await;
    let before = h.revision();
    let (s, e) = h
        .call(
            "PUT",
            "/apis/orders/operations/bad",
            Some(json!({"properties": {"method": "GET", "urlTemplate": "/a/{b"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "ValidationError");
    assert!(
        e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["target"] == "properties.urlTemplate"),
        "{e}"
    );
    let (s, e) = h
        .call(
            "PUT",
            "/subscriptions/s9",
            Some(json!({"properties": {"scope": "/products/missing", "displayName": "x"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["target"] == "properties.scope"),
        "{e}"
    );
    let (s, e) = h
        .call(
            "PUT",
            "/apis/orders/policies/policy",
            Some(
                json!({"properties": {"value": "<policies><inbound><nope/></inbound></policies>"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["target"] == "properties.value"),
        "{e}"
    );
    assert_eq!(h.revision(), before);
    assert_eq!(
        h.call("GET", "/apis/orders/policies/policy", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn next_link_keeps_the_callers_api_version_and_filter() {
    let h = harness();
    for id in ["a1", "a2", "a3"] {
        let b = json!({"properties": {"path": id, "serviceUrl": "http://127.0.0.1:9000"}});
        assert_eq!(
            h.call("PUT", &format!("/apis/{id}"), Some(b)).await.0,
            StatusCode::CREATED
        );
    }
    let auth = [("authorization", h.token.as_str())];
    let (s, _, l) = h
        .call_with(
            "GET",
            "/apis?api-version=2024-05-01&$top=1&$filter=startswith(name,'a')",
            None,
            &auth,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let next = l["nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("api-version=2024-05-01"), "{next}");
    assert!(!next.contains("2022-08-01"), "{next}");
    // Following the link gives the next page under the same filter.
    let (s, _, l2) = h.call_with("GET", &next, None, &auth).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(l2["value"][0]["name"], "a2");
    assert_eq!(l2["count"], 3);
}

#[tokio::test]
async fn methods_head_and_resource_names() {
    let h = harness();
    let auth = [("authorization", h.token.as_str())];
    // A known path with a method it does not serve: 405 with Allow.
    let (s, headers, e) = h
        .call_with("POST", &format!("/apis?{V}"), None, &auth)
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET");
    assert_eq!(e["error"]["code"], "MethodNotAllowed");
    // HEAD: GET's status and ETag, no body.
    let b = json!({"properties": {"path": "h", "serviceUrl": "http://127.0.0.1:9000"}});
    let (_, put_headers, _) = h
        .call_with("PUT", &format!("/apis/h?{V}"), Some(b), &auth)
        .await;
    let (s, headers, body) = h
        .call_with("HEAD", &format!("/apis/h?{V}"), None, &auth)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers["etag"], put_headers["etag"]);
    assert!(body.is_null());
    let (s, _, body) = h
        .call_with("HEAD", &format!("/apis/nope?{V}"), None, &auth)
        .await;
    assert_eq!((s, body), (StatusCode::NOT_FOUND, Value::Null));
    // A name validation would refuse: 400 before anything is read or written.
    let (s, _, e) = h
        .call_with("DELETE", &format!("/apis/a%20b?{V}"), None, &auth)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["details"][0]["target"], "name");
    // A body that is JSON but not an object, and a PUT without a required field.
    let (s, _, _) = h
        .call_with("PUT", &format!("/groups/g?{V}"), Some(json!([1])), &auth)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = h
        .call("PUT", "/apis/h", Some(json!({"properties": {"path": "h"}})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["details"][0]["target"], "properties.serviceUrl");
    // listValue answers the named value's ETag, as NamedValue_ListValue does.
    let nv = json!({"properties": {"displayName": "nv", "value": "s3cret", "secret": true}});
    let (s, put_headers, _) = h
        .call_with("PUT", &format!("/namedValues/nv?{V}"), Some(nv), &auth)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, headers, v) = h
        .call_with(
            "POST",
            &format!("/namedValues/nv/listValue?{V}"),
            None,
            &auth,
        )
        .await;
    assert_eq!((s, v["value"].as_str()), (StatusCode::OK, Some("s3cret")));
    assert_eq!(headers["etag"], put_headers["etag"]);
    // The tenant access list (TenantAccess_ListByService) names `access`.
    let (s, l) = h.call("GET", "/tenant", None).await;
    assert_eq!((s, l["count"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(l["value"][0]["name"], "access");
    // An api-version that is not a release.
    let (s, _, e) = h
        .call_with("GET", "/apis?api-version=2022-01-01", None, &auth)
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidApiVersionParameter"))
    );
}

/// `POST users/git/token`: a password of the Git endpoint (user `apim`), signed with the key
/// `keyType` names; refused for other users, without an expiry, or with one in the past.
#[tokio::test]
async fn git_user_token() {
    let h = harness();
    let expiry = (time::OffsetDateTime::now_utc() + Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = json!({"properties": {"keyType": "secondary", "expiry": expiry}});
    let (s, b) = h.call("POST", "/users/git/token", Some(body.clone())).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let password = b["value"].as_str().unwrap();
    assert!(password.starts_with("git&"), "{password}");
    let keys = gatehouse_admin::AccessKeys {
        primary: gatehouse_model::Secret::new("primary-key"),
        secondary: gatehouse_model::Secret::new("secondary-key"),
    };
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        gatehouse_admin::verify_git_password(password, &keys, now),
        Ok(())
    );
    // Past its expiry it is refused.
    assert_eq!(
        gatehouse_admin::verify_git_password(password, &keys, now + Duration::hours(3)),
        Err(gatehouse_admin::AuthError::Expired)
    );
    // Regenerating the secondary key revokes it.
    let (s, _) = h
        .call("POST", "/tenant/access/regenerateSecondaryKey", None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, fresh) = h.call("POST", "/tenant/access/listSecrets", None).await;
    let keys = gatehouse_admin::AccessKeys {
        primary: gatehouse_model::Secret::new("primary-key"),
        secondary: gatehouse_model::Secret::new(fresh["secondaryKey"].as_str().unwrap()),
    };
    assert!(gatehouse_admin::verify_git_password(password, &keys, now).is_err());

    let (s, b) = h.call("POST", "/users/alice/token", Some(body)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.to_string().contains("Git user only"), "{b}");
    let (s, b) = h
        .call(
            "POST",
            "/users/git/token",
            Some(json!({"properties": {"keyType": "primary"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.to_string().contains("expiry"), "{b}");
    let (s, b) = h
        .call(
            "POST",
            "/users/git/token",
            Some(json!({"properties": {"keyType": "primary", "expiry": "2001-01-01T00:00:00Z"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.to_string().contains("future"), "{b}");
    let (s, b) = h
        .call(
            "POST",
            "/users/git/token",
            Some(json!({"properties": {"keyType": "tertiary", "expiry": "2099-01-01T00:00:00Z"}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.to_string().contains("keyType"), "{b}");
}

/// The service's `hostnameConfigurations`: a Proxy entry with a certificate is one of
/// `gateway.hostnames`, every other type one of `hostname_configurations`; GET lists both with
/// their types, and a bad type names its entry.
#[tokio::test]
async fn service_hostname_configurations_of_every_type() {
    let h = harness();
    let (s, body) = h
        .call(
            "PATCH",
            "/",
            Some(json!({"properties": {"hostnameConfigurations": [
                {"type": "Scm", "hostName": "scm.contoso.test"},
                {"type": "Management", "hostName": "management.contoso.test", "defaultSslBinding": false},
                {"type": "Proxy", "hostName": "api.contoso.test"}
            ]}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, svc) = h.call("GET", "/", None).await;
    let list = svc["properties"]["hostnameConfigurations"]
        .as_array()
        .expect("a list");
    let kinds: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["hostName"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Scm", "scm.contoso.test"),
            ("Management", "management.contoso.test"),
            ("Proxy", "api.contoso.test")
        ]
    );
    let (s, body) = h
        .call(
            "PATCH",
            "/",
            Some(json!({"properties": {"hostnameConfigurations": [{"type": "Mainframe", "hostName": "x.test"}]}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string()
            .contains("properties.hostnameConfigurations[0].type"),
        "{body}"
    );
}
