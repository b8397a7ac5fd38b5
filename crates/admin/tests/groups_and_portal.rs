//! Groups (built-in and custom), product–group links, portal settings and user passwords,
//! driven through the Router over the in-memory backing with model validation.

mod support;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::http::StatusCode;
use serde_json::{Value, json};
use support::Harness;

fn harness() -> Harness {
    Harness::new("primary-key", "secondary-key")
}

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Harness {
    async fn ok(&self, method: &str, path: &str, body: Option<Value>, want: StatusCode) -> Value {
        let (s, b) = self.call(method, path, body).await;
        assert_eq!(s, want, "{method} {path}: {b}");
        b
    }
    fn config(&self) -> std::sync::Arc<gatehouse_model::Config> {
        self.backing.state.lock().expect("lock").0.clone()
    }
    async fn user(&self, id: &str, extra: Value) -> StatusCode {
        let mut props = json!({"email": format!("{id}@example.com"), "firstName": id});
        if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        self.call(
            "PUT",
            &format!("/users/{id}"),
            Some(json!({"properties": props})),
        )
        .await
        .0
    }
}

#[tokio::test]
async fn builtin_groups_are_listed_and_immutable() {
    let h = harness();
    let list = h.ok("GET", "/groups", None, StatusCode::OK).await;
    assert_eq!(names(&list), ["administrators", "developers", "guests"]);
    assert_eq!(list["count"], 3);
    for g in list["value"].as_array().expect("array") {
        assert_eq!(g["properties"]["builtIn"], true);
        assert_eq!(g["properties"]["type"], "system");
        assert!(
            g["properties"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("built-in group"))
        );
    }
    let dev = h
        .ok("GET", "/groups/developers", None, StatusCode::OK)
        .await;
    assert_eq!(dev["properties"]["displayName"], "Developers");
    assert_eq!(dev["type"], "Microsoft.ApiManagement/service/groups");

    let body = json!({"properties": {"displayName": "Partners"}});
    let g = h
        .ok(
            "PUT",
            "/groups/partners",
            Some(body.clone()),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(g["properties"]["builtIn"], false);
    assert_eq!(g["properties"]["type"], "custom");
    h.ok("PUT", "/groups/partners", Some(body), StatusCode::OK)
        .await;
    let list = h.ok("GET", "/groups", None, StatusCode::OK).await;
    assert_eq!(
        names(&list),
        ["administrators", "developers", "guests", "partners"]
    );

    // Built-in groups: a write is 400 naming the group, a DELETE 405 with Allow.
    for m in ["PUT", "PATCH"] {
        let e = h
            .ok(
                m,
                "/groups/developers",
                Some(json!({"properties": {"displayName": "X"}})),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["error"]["details"][0]["target"], "name");
        assert!(e.to_string().contains("built-in"));
    }
    let (s, headers, _) = h
        .call_with(
            "DELETE",
            "/groups/administrators?api-version=2022-08-01",
            None,
            &[("authorization", &h.token)],
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, HEAD");
    let list = h.ok("GET", "/groups", None, StatusCode::OK).await;
    assert_eq!(list["count"], 4);
    h.ok("GET", "/groups/nope", None, StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn group_membership_of_builtin_and_custom_groups() {
    let h = harness();
    assert_eq!(h.user("ann", json!({})).await, StatusCode::CREATED);
    h.ok(
        "PUT",
        "/groups/partners",
        Some(json!({"properties": {"displayName": "Partners"}})),
        StatusCode::CREATED,
    )
    .await;
    // administrators may list users; developers and guests are implicit. Removing a user
    // nobody listed changes nothing.
    h.ok(
        "DELETE",
        "/groups/administrators/users/ann",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(h.config().groups.iter().all(|g| g.id != "administrators"));
    h.ok(
        "PUT",
        "/groups/administrators/users/ann",
        None,
        StatusCode::CREATED,
    )
    .await;
    h.ok(
        "PUT",
        "/groups/administrators/users/ann",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "PUT",
        "/groups/partners/users/ann",
        None,
        StatusCode::CREATED,
    )
    .await;
    let admins = h
        .ok("GET", "/groups/administrators/users", None, StatusCode::OK)
        .await;
    assert_eq!(names(&admins), ["ann"]);
    let devs = h
        .ok("GET", "/groups/developers/users", None, StatusCode::OK)
        .await;
    assert_eq!(names(&devs), ["ann"]);
    h.ok("GET", "/groups/developers/users/ann", None, StatusCode::OK)
        .await;
    h.ok("HEAD", "/groups/developers/users/ann", None, StatusCode::OK)
        .await;
    h.ok(
        "GET",
        "/groups/guests/users/ann",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let guests = h
        .ok("GET", "/groups/guests/users", None, StatusCode::OK)
        .await;
    assert_eq!(guests["count"], 0);
    for m in ["PUT", "DELETE"] {
        let e = h
            .ok(
                m,
                "/groups/developers/users/ann",
                None,
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert!(e.to_string().contains("implicit"), "{e}");
    }
    h.ok("PUT", "/groups/nope/users/ann", None, StatusCode::NOT_FOUND)
        .await;

    // The user contract lists the user's groups.
    let u = h.ok("GET", "/users/ann", None, StatusCode::OK).await;
    let groups: Vec<&str> = u["properties"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["displayName"].as_str())
        .collect();
    assert_eq!(groups, ["Developers", "Partners", "Administrators"]);

    h.ok(
        "DELETE",
        "/groups/administrators/users/ann",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "DELETE",
        "/groups/administrators/users/ann",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let admins = h
        .ok("GET", "/groups/administrators/users", None, StatusCode::OK)
        .await;
    assert_eq!(admins["count"], 0);
}

#[tokio::test]
async fn product_group_links() {
    let h = harness();
    h.ok(
        "PUT",
        "/products/starter",
        Some(json!({"properties": {"displayName": "Starter"}})),
        StatusCode::CREATED,
    )
    .await;
    // A new product has no groups: administrators only, as in APIM.
    let list = h
        .ok("GET", "/products/starter/groups", None, StatusCode::OK)
        .await;
    assert_eq!(list["count"], 0);
    let g = h
        .ok(
            "PUT",
            "/products/starter/groups/developers",
            None,
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(g["name"], "developers");
    assert_eq!(g["properties"]["builtIn"], true);
    h.ok(
        "PUT",
        "/products/starter/groups/developers",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "GET",
        "/products/starter/groups/developers",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "HEAD",
        "/products/starter/groups/developers",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "GET",
        "/products/starter/groups/guests",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    h.ok(
        "HEAD",
        "/products/starter/groups/guests",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let e = h
        .ok(
            "PUT",
            "/products/starter/groups/nope",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope"))
    );
    let e = h
        .ok(
            "PUT",
            "/products/missing/groups/guests",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing"))
    );

    // Deleting a custom group removes it from the products.
    h.ok("PUT", "/groups/partners", None, StatusCode::CREATED)
        .await;
    h.ok(
        "PUT",
        "/products/starter/groups/partners",
        None,
        StatusCode::CREATED,
    )
    .await;
    let list = h
        .ok("GET", "/products/starter/groups", None, StatusCode::OK)
        .await;
    assert_eq!(names(&list), ["developers", "partners"]);
    assert_eq!(h.config().products[0].groups, ["developers", "partners"]);
    h.ok("DELETE", "/groups/partners", None, StatusCode::OK)
        .await;
    assert_eq!(h.config().products[0].groups, ["developers"]);

    // A PUT of the product keeps its links.
    h.ok(
        "PUT",
        "/products/starter",
        Some(json!({"properties": {"displayName": "Starter 2"}})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(h.config().products[0].groups, ["developers"]);
    h.ok(
        "DELETE",
        "/products/starter/groups/developers",
        None,
        StatusCode::OK,
    )
    .await;
    h.ok(
        "DELETE",
        "/products/starter/groups/developers",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(h.config().products[0].groups.is_empty());
}

#[tokio::test]
async fn signin_and_signup_settings() {
    let h = harness();
    let list = h.ok("GET", "/portalsettings", None, StatusCode::OK).await;
    assert_eq!(names(&list), ["signin", "signup"]);
    let signin = h
        .ok("GET", "/portalsettings/signin", None, StatusCode::OK)
        .await;
    assert_eq!(
        signin["type"],
        "Microsoft.ApiManagement/service/portalsettings"
    );
    assert_eq!(signin["properties"], json!({"enabled": false}));
    let signup = h
        .ok("GET", "/portalsettings/signup", None, StatusCode::OK)
        .await;
    assert_eq!(signup["properties"]["enabled"], true);
    assert_eq!(
        signup["properties"]["termsOfService"],
        json!({"text": null, "enabled": false, "consentRequired": false})
    );

    h.ok(
        "PUT",
        "/portalsettings/signin",
        Some(json!({"properties": {"enabled": true}})),
        StatusCode::OK,
    )
    .await;
    assert!(h.config().portal.signin.enabled);
    let tos = json!({"text": "Be nice", "enabled": true, "consentRequired": true});
    let s = h
        .ok(
            "PATCH",
            "/portalsettings/signup",
            Some(json!({"properties": {"termsOfService": tos}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(s["properties"]["enabled"], true);
    assert_eq!(s["properties"]["termsOfService"], tos);
    h.ok(
        "PATCH",
        "/portalsettings/signup",
        Some(json!({"properties": {"enabled": false}})),
        StatusCode::OK,
    )
    .await;
    let c = h.config();
    assert!(!c.portal.signup.enabled && c.portal.signup.terms_of_service.consent_required);
    // PUT replaces: what is left out takes its default.
    h.ok(
        "PUT",
        "/portalsettings/signup",
        Some(json!({"properties": {"enabled": false}})),
        StatusCode::OK,
    )
    .await;
    assert!(!h.config().portal.signup.terms_of_service.enabled);

    let e = h
        .ok(
            "PUT",
            "/portalsettings/signin",
            Some(json!({"properties": {"enabled": "yes"}})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(e["error"]["details"][0]["target"], "properties");
    let (s, _, _) = h
        .call_with(
            "PUT",
            "/portalsettings/signin?api-version=2022-08-01",
            Some(json!({"properties": {"enabled": false}})),
            &[("authorization", &h.token), ("if-match", "\"stale\"")],
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert!(
        h.config().portal.signin.enabled,
        "a refused write changes nothing"
    );
    h.ok(
        "DELETE",
        "/portalsettings/signin",
        None,
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    h.ok(
        "GET",
        "/portalsettings/delegation",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_portal_section() {
    let h = harness();
    let p = h.ok("GET", "/gatehouse/portal", None, StatusCode::OK).await;
    assert_eq!(p["properties"]["title"], Value::Null);
    let body = json!({"properties": {
        "title": "Contoso APIs",
        "description": "Everything we serve",
        "logoUrl": "/logo.png",
        "colors": {"primary": "#0a5", "background": "#ffffff"},
        "signin": {"enabled": true},
    }});
    let p = h
        .ok("PUT", "/gatehouse/portal", Some(body), StatusCode::OK)
        .await;
    assert_eq!(p["properties"]["logoUrl"], "/logo.png");
    assert_eq!(p["properties"]["colors"]["primary"], "#0a5");
    let c = h.config();
    assert_eq!(c.portal.title.as_deref(), Some("Contoso APIs"));
    assert!(c.portal.signin.enabled && c.portal.signup.enabled);

    let p = h
        .ok(
            "PATCH",
            "/gatehouse/portal",
            Some(json!({"properties": {"colors": {"text": "#111"}}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        p["properties"]["colors"],
        json!({"primary": "#0a5", "background": "#ffffff", "text": "#111"})
    );
    // The section and APIM's portalsettings are one.
    let s = h
        .ok("GET", "/portalsettings/signin", None, StatusCode::OK)
        .await;
    assert_eq!(s["properties"]["enabled"], true);

    for (patch, target) in [
        (json!({"colors": {"text": "red"}}), "properties.colors.text"),
        (
            json!({"logoUrl": "javascript:alert(1)"}),
            "properties.logoUrl",
        ),
    ] {
        let e = h
            .ok(
                "PATCH",
                "/gatehouse/portal",
                Some(json!({"properties": patch})),
                StatusCode::BAD_REQUEST,
            )
            .await;
        assert_eq!(e["error"]["details"][0]["target"], target, "{e}");
    }
    let e = h
        .ok(
            "PUT",
            "/gatehouse/portal",
            Some(json!({"properties": {"colour": "#fff"}})),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(e.to_string().contains("colour"), "{e}");
    assert_eq!(h.config().portal.colors.text.as_deref(), Some("#111"));
}

#[tokio::test]
async fn passwords_are_hashed_and_never_answered() {
    let h = harness();
    let password = "s3cret-Passw0rd";
    assert_eq!(
        h.user("ann", json!({"password": password})).await,
        StatusCode::CREATED
    );
    let hash = h.config().users[0]
        .password_hash
        .clone()
        .expect("hash stored");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let parsed = PasswordHash::new(&hash).expect("PHC");
    assert!(
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    );
    h.ok(
        "PUT",
        "/groups/administrators/users/ann",
        None,
        StatusCode::CREATED,
    )
    .await;

    // No GET body carries the password or its hash.
    let mut bodies = Vec::new();
    for path in [
        "/users",
        "/users/ann",
        "/groups/developers/users",
        "/groups/developers/users/ann",
        "/groups/administrators/users",
    ] {
        bodies.push(h.ok("GET", path, None, StatusCode::OK).await);
    }
    bodies.push(
        h.ok(
            "PATCH",
            "/users/ann",
            Some(json!({"properties": {"firstName": "Ann"}})),
            StatusCode::OK,
        )
        .await,
    );
    for b in &bodies {
        let text = b.to_string();
        assert!(
            !text.contains(password) && !text.contains("argon2") && !text.contains(&hash),
            "{text}"
        );
        assert!(!text.contains("password"), "{text}");
    }
    // A write without a password keeps the hash; with one, replaces it.
    assert_eq!(
        h.config().users[0].password_hash.as_deref(),
        Some(hash.as_str())
    );
    h.ok(
        "PATCH",
        "/users/ann",
        Some(json!({"properties": {"password": "another one"}})),
        StatusCode::OK,
    )
    .await;
    let new_hash = h.config().users[0].password_hash.clone().expect("hash");
    assert_ne!(new_hash, hash);
    let parsed = PasswordHash::new(&new_hash).expect("PHC");
    assert!(
        argon2::Argon2::default()
            .verify_password(b"another one", &parsed)
            .is_ok()
    );

    for bad in [json!(3), json!("")] {
        let (s, e) = h
            .call(
                "PATCH",
                "/users/ann",
                Some(json!({"properties": {"password": bad}})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(e["error"]["details"][0]["target"], "properties.password");
    }
    assert_eq!(
        h.config().users[0].password_hash.as_deref(),
        Some(new_hash.as_str())
    );
}

#[tokio::test]
async fn the_openapi_document_has_the_new_paths() {
    let doc = gatehouse_admin::ManagementApi::openapi_json();
    let paths = &doc["paths"];
    for p in [
        "/products/{productId}/groups",
        "/products/{productId}/groups/{groupId}",
        "/portalsettings",
        "/portalsettings/signin",
        "/portalsettings/signup",
        "/gatehouse/portal",
    ] {
        assert!(paths.get(p).is_some(), "{p} missing");
    }
    let put = &paths["/gatehouse/portal"]["put"];
    assert!(put["requestBody"].to_string().contains("PortalUpdate"));
    let user = &doc["components"]["schemas"]["UserCreate"]["properties"]["properties"];
    assert_eq!(user["properties"]["password"]["minLength"], 1);
    let answered = &doc["components"]["schemas"]["User"]["properties"]["properties"];
    assert!(answered["properties"].get("password").is_none());
}
