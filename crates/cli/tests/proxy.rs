//! End to end: the real `gatehouse` binary between a real client (reqwest) and a real backend
//! (the testkit's hyper server). Every status the gateway answers itself, the path rewrite,
//! header handling and the access log.

use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY_ALL: &str = "key-all-0123456789abcdef";
const KEY_STARTER: &str = "key-starter-0123456789ab";
const KEY_STARTER_2: &str = "key-starter-second-0123";
const KEY_API_OTHER: &str = "key-api-other-012345678";
const KEY_SUSPENDED: &str = "key-suspended-012345678";

fn config(gw: SocketAddr, backend: &str, dead: SocketAddr) -> String {
    format!(
        r#"
service: {{ name: e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{gw}" }} ]
  limits: {{ max_request_line_bytes: 1024 }}
backends:
  orders: {{ url: "{backend}/v1", timeout_ms: 800 }}
  dead: {{ url: "http://{dead}", connect_timeout_ms: 500 }}
apis:
  - id: orders
    path: orders
    backend: orders
    operations:
      - {{ id: get-order, method: GET, url_template: "/orders/{{id}}" }}
      - {{ id: slow, method: GET, url_template: "/delay/{{ms}}" }}
      - {{ id: create, method: POST, url_template: "/orders" }}
  - id: other
    path: other/v2
    backend: orders
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: open
    path: open
    serviceUrl: "{backend}"
    subscriptionRequired: false
    subscription_key: {{ header: X-Api-Key, query: apikey }}
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: dead
    path: dead
    backend: dead
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
products:
  - {{ id: starter, apis: [orders] }}
subscriptions:
  - {{ id: all, scope: all, primary_key: "{KEY_ALL}" }}
  - {{ id: starter-sub, scope: product/starter, primary_key: "{KEY_STARTER}", secondary_key: "{KEY_STARTER_2}" }}
  - {{ id: other-sub, scope: api/other, primary_key: "{KEY_API_OTHER}" }}
  - {{ id: gone, scope: all, primary_key: "{KEY_SUSPENDED}", state: suspended }}
"#
    )
}

struct Env {
    gw: Gatehouse,
    backend: MockBackend,
    base: String,
    client: reqwest::Client,
}

async fn setup() -> Env {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let dead = free_addr(); // nothing listens there
    let gw = Gatehouse::start(Path::new(BIN), &config(addr, &backend.url(), dead), addr)
        .await
        .expect("gatehouse starts");
    Env {
        gw,
        backend,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

async fn status_and_json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}

#[tokio::test]
async fn statuses_the_gateway_answers_itself() {
    let e = setup().await;
    let get = |path: &str, key: Option<&str>| {
        let mut r = e.client.get(format!("{}{path}", e.base));
        if let Some(k) = key {
            r = r.header("Ocp-Apim-Subscription-Key", k);
        }
        r.send()
    };
    let cases: Vec<(&str, Option<&str>, u16, &str)> = vec![
        ("/orders/orders/1", Some(KEY_ALL), 200, ""),
        ("/orders/orders/1", Some(KEY_STARTER), 200, ""),
        ("/orders/orders/1", Some(KEY_STARTER_2), 200, ""),
        (
            "/orders/orders/1",
            None,
            401,
            "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
        ),
        (
            "/orders/orders/1",
            Some("not-a-key-at-all-000000"),
            401,
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        ),
        (
            "/orders/orders/1",
            Some(KEY_API_OTHER),
            401,
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        ),
        (
            "/orders/orders/1",
            Some(KEY_SUSPENDED),
            403,
            "Access denied due to inactive subscription. Make sure to provide a valid key for an active subscription.",
        ),
        ("/other/v2/anything", Some(KEY_API_OTHER), 200, ""),
        (
            "/other/v2/anything",
            Some(KEY_STARTER),
            401,
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        ),
        ("/nothing/here", Some(KEY_ALL), 404, "Resource not found"),
        (
            "/orders/unknown/op",
            Some(KEY_ALL),
            404,
            "Resource not found",
        ),
        ("/status-0123456789abcdef", None, 200, ""),
        ("/open/x", None, 200, ""),
    ];
    for (path, key, want, message) in cases {
        let (status, body) = status_and_json(get(path, key).await.expect("request")).await;
        assert_eq!(status, want, "{path} with {key:?}: {body}");
        if !message.is_empty() {
            assert_eq!(
                body,
                serde_json::json!({"statusCode": want, "message": message}),
                "{path}"
            );
        }
    }
    // The wrong method for an operation is 404 too.
    let r = e
        .client
        .delete(format!("{}/orders/orders/1", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The key in the query works as well as in the header, and never reaches the backend.
    let r = e
        .client
        .get(format!(
            "{}/orders/orders/7?a=1&subscription-key={KEY_STARTER}&b=2",
            e.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = e.backend.last_request().expect("backend saw it");
    assert_eq!(seen.path_and_query, "/v1/orders/7?a=1&b=2");
    // A request target past max_request_line_bytes.
    let long = "x".repeat(2000);
    let r = e
        .client
        .get(format!("{}/orders/orders/{long}", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
}

#[tokio::test]
async fn path_rewrite_and_headers() {
    let e = setup().await;
    let r = e
        .client
        .get(format!("{}/orders/orders/42?x=1&y=%20z", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .header("Connection", "keep-alive, X-Hop")
        .header("X-Hop", "must not pass")
        .header("X-Forwarded-For", "203.0.113.7")
        .header("X-Custom", "passes")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = e.backend.last_request().unwrap();
    assert_eq!(seen.path_and_query, "/v1/orders/42?x=1&y=%20z");
    assert_eq!(seen.header("x-custom"), Some("passes"));
    assert_eq!(
        seen.header("x-hop"),
        None,
        "a header named in Connection is hop-by-hop"
    );
    assert_eq!(
        seen.header("ocp-apim-subscription-key"),
        None,
        "the key is stripped"
    );
    assert_eq!(
        seen.header("x-forwarded-for"),
        Some("203.0.113.7, 127.0.0.1")
    );
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    let gw_host = e.base.trim_start_matches("http://");
    assert_eq!(seen.header("x-forwarded-host"), Some(gw_host));
    assert_eq!(
        seen.header("host"),
        Some(e.backend.addr().to_string().as_str()),
        "Host is the backend's"
    );

    // API prefix replaced by the backend's (empty) path; custom key names on `open`.
    let r = e
        .client
        .get(format!("{}/open/a/b?apikey={KEY_ALL}&k=v", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = e.backend.last_request().unwrap();
    assert_eq!(seen.path_and_query, "/a/b?k=v");

    // POST bodies pass through.
    let r = e
        .client
        .post(format!("{}/orders/orders", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(e.backend.last_request().unwrap().body_bytes, 100_000);
}

#[tokio::test]
async fn backend_failures_are_502_and_504_and_logged() {
    let e = setup().await;
    let (status, body) = status_and_json(
        e.client
            .get(format!("{}/dead/x", e.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["statusCode"], 502);
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "the client is not told internal addresses: {body}"
    );
    let line =
        e.gw.wait_for_log("backend request failed", Duration::from_secs(5))
            .await
            .expect("a log line");
    assert!(line.contains("\"backend\":\"dead\""), "{line}");

    let (status, body) = status_and_json(
        e.client
            .get(format!("{}/orders/delay/3000", e.base))
            .header("Ocp-Apim-Subscription-Key", KEY_ALL)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["statusCode"], 504);
    let line =
        e.gw.wait_for_log("backend timed out", Duration::from_secs(5))
            .await
            .expect("a log line");
    assert!(line.contains("\"backend\":\"orders\""), "{line}");
}

#[tokio::test]
async fn access_log_has_one_line_per_request_and_no_key() {
    let e = setup().await;
    for _ in 0..3 {
        let r = e
            .client
            .get(format!(
                "{}/orders/orders/9?subscription-key={KEY_STARTER}",
                e.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    let r = e
        .client
        .get(format!("{}/orders/orders/9", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let access: Vec<serde_json::Value> =
        e.gw.json_logs()
            .into_iter()
            .filter(|l| l["target"] == "gatehouse::access" && l["path"] == "/orders/orders/9")
            .collect();
    assert_eq!(access.len(), 4, "{access:#?}");
    let ok = &access[0];
    for field in [
        "timestamp",
        "client",
        "method",
        "api",
        "operation",
        "subscription",
        "status",
        "bytes_sent",
        "backend_ms",
        "total_ms",
    ] {
        assert!(!ok[field].is_null(), "field {field} missing in {ok}");
    }
    assert_eq!(ok["api"], "orders");
    assert_eq!(ok["operation"], "get-order");
    assert_eq!(ok["subscription"], "starter-sub");
    assert_eq!(ok["status"], 200);
    assert_eq!(access[3]["status"], 401);
    assert_eq!(access[3]["error"], "subscription_key_missing");
    assert!(
        !e.gw.logs_text().contains(KEY_STARTER),
        "a key reached the log"
    );
}

/// The access log's line, written by the gateway itself in the JSON format
/// (crates/gateway/src/access_log.rs), has every other line's shape: timestamp, level, message,
/// the fields in their order, target.
#[tokio::test]
async fn access_log_lines_have_the_json_log_shape() {
    let e = setup().await;
    let r = e
        .client
        .get(format!("{}/orders/orders/7", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let line =
        e.gw.wait_for_log("\"path\":\"/orders/orders/7\"", Duration::from_secs(10))
            .await
            .expect("the access line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    assert_eq!(v["target"], "gatehouse::access");
    assert!(
        line.starts_with("{\"timestamp\":\"")
            && line.contains("\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":"),
        "{line}"
    );
    let order = [
        "\"client\":",
        "\"peer\":",
        "\"listener\":",
        "\"tls\":false",
        "\"method\":\"GET\"",
        "\"path\":",
        "\"version\":\"HTTP/1.1\"",
        "\"api\":\"orders\"",
        "\"operation\":",
        "\"subscription\":",
        "\"backend\":",
        "\"status\":200",
        "\"bytes_sent\":",
        "\"backend_ms\":",
        "\"total_ms\":",
        "\"aborted\":false",
        "\"target\":\"gatehouse::access\"}",
    ];
    let mut at = 0;
    for field in order {
        let found = line[at..]
            .find(field)
            .unwrap_or_else(|| panic!("{field} missing or out of order in {line}"));
        at += found + field.len();
    }
}

#[tokio::test]
async fn backend_connections_are_pooled_and_reused() {
    let e = setup().await;
    for i in 0..20 {
        let r = e
            .client
            .get(format!("{}/orders/orders/{i}", e.base))
            .header("Ocp-Apim-Subscription-Key", KEY_ALL)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    // One after another, the requests share one backend connection.
    assert_eq!(
        e.backend.connection_count(),
        1,
        "each request opened a connection"
    );
    let ids: std::collections::HashSet<u64> = e
        .backend
        .requests()
        .iter()
        .map(|r| r.connection_id)
        .collect();
    assert_eq!(ids.len(), 1);
    // A body read only halfway does not return its connection to the pool half-read.
    let r = e
        .client
        .get(format!("{}/other/v2/bytes/5000000", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(r);
    let r = e
        .client
        .get(format!("{}/orders/orders/after", e.base))
        .header("Ocp-Apim-Subscription-Key", KEY_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(body["path"], "/v1/orders/after");
}

/// A backend that answers each connection's first request as keep-alive, then closes it: the
/// pooled connection the gateway kept is found closed by the next request, which goes out on a
/// new connection instead of failing (crates/gateway/src/upstream.rs drives idle connections
/// only when a request takes them).
#[tokio::test]
async fn a_pooled_connection_the_backend_closed_is_replaced() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    // No `Connection: close`: the gateway keeps the connection, which the backend then ends.
    let accepted = gatehouse_testkit::raw::answer_once_per_connection(
        listener,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    );
    let addr = free_addr();
    let config = format!(
        r#"
service: {{ name: e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
apis:
  - id: flaky
    path: flaky
    serviceUrl: "http://{backend}"
    subscriptionRequired: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#
    );
    let _gw = Gatehouse::start(Path::new(BIN), &config, addr)
        .await
        .expect("gatehouse starts");
    let client = reqwest::Client::new();
    for i in 0..10 {
        let r = client
            .get(format!("http://{addr}/flaky/{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(r.text().await.unwrap(), "ok");
    }
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        10,
        "one connection per request"
    );
}
