//! What visitors browse and what subscribers do, end to end over the router: visibility by
//! groups, search, the API page and its OpenAPI document, subscribing (approval, limits), the
//! profile's keys (hidden until shown, regenerate, rename, cancel), and the "try it" console
//! against a real HTTP server standing in for the gateway.

mod support;

use gatehouse_model::{Config, SubscriptionState, UserState};
use http::StatusCode;
use std::sync::Arc;
use support::{Browser, Memory, Site, add_user, checker};

const CONFIG: &str = r##"
service: { name: shop }
backends: { b: { url: "http://127.0.0.1:9" } }
apis:
  - id: orders
    display_name: Orders API
    description: Place and track orders
    path: orders
    backend: b
    tags: [commerce]
    schemas: { Order: { type: object, properties: { grand_total: { type: number } } } }
    operations:
      - id: get-order
        display_name: Get an order
        method: GET
        url_template: "/orders/{id}"
        description: One order by its id
        parameters: [ { name: id, in: path, required: true, description: The order id, schema: { type: integer } } ]
        responses:
          - status: "200"
            description: The order
            content: [ { content_type: application/json, schema: { $ref: "#/components/schemas/Order" }, examples: { default: { id: 7, total: 12.5 } } } ]
  - { id: weather, display_name: Weather, path: weather, backend: b, tags: [forecast], operations: [ { id: now, method: GET, url_template: /now } ] }
  - { id: internal, display_name: Internal tools, path: internal, backend: b, operations: [ { id: x, method: GET, url_template: /x } ] }
products:
  - { id: public, display_name: Public, apis: [orders, weather], groups: [developers, guests] }
  - { id: gold, display_name: Gold, apis: [weather], groups: [developers], approval_required: true }
  - { id: limited, display_name: Limited, apis: [weather], groups: [developers], subscriptions_limit: 1 }
  - { id: staff, display_name: Staff, apis: [internal] }
"##;

fn site_with(config: Config, gateway_url: Option<String>) -> Site {
    let backing = Arc::new(Memory::new(config));
    let router = gatehouse_portal::PortalOptions {
        backing: backing.clone(),
        checker: checker(),
        signing_key: [3u8; 32],
        gateway_url,
        public_url: "http://portal.test".into(),
        mailer: None,
        secure_cookies: false,
    }
    .router();
    Site { router, backing }
}

fn config() -> Config {
    gatehouse_model::from_str(
        CONFIG,
        gatehouse_model::Format::Yaml,
        std::path::Path::new("t.yaml"),
    )
    .expect("config")
}

async fn signed_in(site: &Site, id: &str) -> Browser {
    add_user(
        site,
        id,
        &format!("{id}@example.com"),
        "password-1",
        UserState::Active,
    )
    .await;
    let mut b = Browser::new(site);
    let r = b
        .post(
            "/signin",
            &[
                ("email", &format!("{id}@example.com")),
                ("password", "password-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b
}

#[tokio::test]
async fn visibility_follows_the_visitors_groups() {
    let site = site_with(config(), None);
    let mut guest = Browser::new(&site);
    let products = guest.get("/products").await.body;
    assert!(
        products.contains("Public") && !products.contains("Gold") && !products.contains("Staff")
    );
    assert_eq!(
        guest.get("/products/gold").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        guest.get("/apis/internal").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(guest.get("/apis/orders").await.status, StatusCode::OK);

    let mut dev = signed_in(&site, "ann").await;
    let products = dev.get("/products").await.body;
    assert!(
        products.contains("Gold") && products.contains("Limited") && !products.contains("Staff")
    );
    assert_eq!(
        dev.get("/apis/internal").await.status,
        StatusCode::NOT_FOUND
    );

    // An administrator (listed in the built-in group) sees the product linked to no group.
    site.backing.edit(|c| {
        c.groups.push(gatehouse_model::Group {
            id: "administrators".into(),
            display_name: None,
            users: vec!["ann".into()],
        })
    });
    assert!(dev.get("/products").await.body.contains("Staff"));
    assert_eq!(dev.get("/apis/internal").await.status, StatusCode::OK);
}

#[tokio::test]
async fn apis_are_searched_by_name_and_tag_and_documented() {
    let site = site_with(config(), None);
    let mut b = Browser::new(&site);
    let hits = b.get("/apis?q=order").await.body;
    assert!(hits.contains("Orders API") && !hits.contains(">Weather<"));
    let hits = b.get("/apis?tag=forecast").await.body;
    assert!(hits.contains(">Weather<") && !hits.contains("Orders API"));
    let hits = b.get("/apis?q=COMMERCE").await.body;
    assert!(hits.contains("Orders API"), "tags match the query too");

    let page = b.get("/apis/orders").await.body;
    // The response schema refers to the API's shared schemas: it is shown expanded
    // (`grand_total`), and the document keeps it shared.
    for shown in [
        "grand_total",
        "Get an order",
        "/orders/{id}",
        "The order id",
        "integer",
        "The order",
        "total",
        "12.5",
    ] {
        assert!(page.contains(shown), "the API page shows {shown}");
    }
    let doc = b.get("/apis/orders/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&doc.body).expect("json");
    assert!(doc["paths"]["/orders/{id}"]["get"].is_object(), "{doc}");
}

#[tokio::test]
async fn subscribing_honours_approval_and_limits_and_keys_are_managed_on_the_profile() {
    let site = site_with(config(), None);
    let mut b = signed_in(&site, "ann").await;

    let r = b
        .post("/products/public/subscribe", &[("name", "My app")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/profile?done=subscribed"));
    let sub = site
        .backing
        .config()
        .subscriptions
        .into_iter()
        .find(|s| s.owner.as_deref() == Some("ann"))
        .expect("made");
    assert_eq!(sub.state, SubscriptionState::Active);
    assert_eq!(sub.scope, "product/public");
    let key = sub.primary_key.expose().to_string();
    assert_eq!(key.len(), 32);

    // Keys are hidden until shown.
    let profile = b.get("/profile?done=subscribed").await.body;
    assert!(profile.contains("My app") && !profile.contains(&key));
    let shown = b
        .post(&format!("/profile/subscriptions/{}/show", sub.id), &[])
        .await;
    assert!(shown.body.contains(&key));

    // Regenerate: a new primary key replaces the old one.
    let r = b
        .post(
            &format!("/profile/subscriptions/{}/regenerate", sub.id),
            &[("key", "primary")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let fresh = site
        .backing
        .config()
        .subscriptions
        .into_iter()
        .find(|s| s.id == sub.id)
        .expect("kept");
    assert_ne!(fresh.primary_key.expose(), key);
    assert!(r.body.contains(fresh.primary_key.expose()) && !r.body.contains(&key));

    // Rename, cancel.
    b.post(
        &format!("/profile/subscriptions/{}/rename", sub.id),
        &[("name", "Renamed app")],
    )
    .await;
    let b_conf = site.backing.config();
    assert_eq!(
        b_conf
            .subscriptions
            .iter()
            .find(|s| s.id == sub.id)
            .and_then(|s| s.display_name.clone())
            .as_deref(),
        Some("Renamed app")
    );
    b.post(&format!("/profile/subscriptions/{}/cancel", sub.id), &[])
        .await;
    let state = site
        .backing
        .config()
        .subscriptions
        .into_iter()
        .find(|s| s.id == sub.id)
        .map(|s| s.state);
    assert_eq!(state, Some(SubscriptionState::Cancelled));

    // Approval required: submitted.
    let r = b
        .post("/products/gold/subscribe", &[("name", "Gold app")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/profile?done=submitted"));
    let gold = site
        .backing
        .config()
        .subscriptions
        .into_iter()
        .find(|s| s.scope == "product/gold")
        .expect("made");
    assert_eq!(gold.state, SubscriptionState::Submitted);

    // The limit: one subscription to `limited`.
    let r = b
        .post("/products/limited/subscribe", &[("name", "One")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b
        .post("/products/limited/subscribe", &[("name", "Two")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("its limit is 1"), "{}", r.body);

    // Another user cannot touch ann's subscription, nor subscribe to a hidden product.
    let mut bob = signed_in(&site, "bob").await;
    let r = bob
        .post(&format!("/profile/subscriptions/{}/show", gold.id), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bob
        .post("/products/staff/subscribe", &[("name", "x")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Anonymous visitors are sent to sign in.
    let mut guest = Browser::new(&site);
    let r = guest
        .post("/products/public/subscribe", &[("name", "x")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/signin"));
}

#[tokio::test]
async fn the_console_sends_a_real_request_with_the_users_key() {
    // A stand-in gateway: answers 200 with the key it got, 401 without one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|req: http::Request<axum::body::Body>| async move {
        match req
            .headers()
            .get("ocp-apim-subscription-key")
            .and_then(|v| v.to_str().ok())
        {
            Some(k) => (
                StatusCode::OK,
                format!(
                    "path={} key={k} trace={}",
                    req.uri().path(),
                    req.headers()
                        .get("x-trace")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                ),
            ),
            None => (StatusCode::UNAUTHORIZED, "no key".to_string()),
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let site = site_with(config(), Some(format!("http://{addr}")));
    let mut b = signed_in(&site, "ann").await;
    b.post("/products/public/subscribe", &[("name", "App")])
        .await;
    let sub = site
        .backing
        .config()
        .subscriptions
        .into_iter()
        .next()
        .expect("made");

    let page = b.get("/apis/orders").await.body;
    assert!(
        page.contains("console-subscription"),
        "the console offers the key"
    );
    let r = b
        .post(
            "/apis/orders/try",
            &[
                ("operation", "get-order"),
                ("method", "GET"),
                ("path", "/orders/7"),
                ("subscription", &sub.id),
                ("headers", "X-Trace: t1"),
                ("body", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("200 OK"), "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "path=/orders/orders/7 key={} trace=t1",
            sub.primary_key.expose()
        )),
        "{}",
        r.body
    );

    // Without a subscription: the request goes without a key, and the gateway's 401 is shown.
    let r = b
        .post(
            "/apis/orders/try",
            &[
                ("method", "GET"),
                ("path", "/orders/7"),
                ("subscription", ""),
            ],
        )
        .await;
    assert!(r.body.contains("401 Unauthorized"), "{}", r.body);
    // A path that leaves the API is refused before anything is sent.
    let r = b
        .post(
            "/apis/orders/try",
            &[("method", "GET"), ("path", "//evil.example/x")],
        )
        .await;
    assert!(r.body.contains("must start with a single"), "{}", r.body);
}
