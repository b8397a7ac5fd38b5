//! End to end: the full APIM lifecycle (inbound → backend section → outbound, on-error) run by
//! the real `gatehouse` binary between a real client and real backends: retry, forward-request
//! failures and timeouts, request and response bodies, set-backend-service, send-request and
//! the egress guard, caching, CORS, validate-jwt with an OpenID configuration, and
//! limit-concurrency.

use gatehouse_testkit::{
    Gatehouse, MockBackend, ScriptedBackend, ScriptedResponse, free_addr, free_port,
};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// One API `id` at path `id`, without subscription, with a catch-all operation and `policies`.
fn api(id: &str, backend: &str, policies: &str) -> String {
    let mut s = format!(
        "  - id: {id}\n    path: {id}\n    backend: \"{backend}\"\n    subscription_required: false\n    operations: [ {{ id: any, method: \"*\", url_template: \"/*\" }} ]\n    policies: |\n"
    );
    for line in policies.trim().lines() {
        s.push_str("      ");
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// A running gateway and a client pointed at it.
struct Gw {
    _gw: Gatehouse,
    base: String,
    client: reqwest::Client,
}

impl Gw {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Starts the gateway with `apis` (see [`api`]), `extra` top-level YAML (e.g. `backends:`)
/// and outbound traffic allowed to `allowed` only.
async fn start_with(allowed: &str, extra: &str, apis: &[String]) -> Gw {
    let addr: SocketAddr = free_addr();
    let mut cfg = format!(
        "service: {{ name: policy-flow }}\nnetwork: {{ outbound: {{ allowed_destinations: [{allowed}] }} }}\ngateway:\n  listeners: [ {{ address: \"{addr}\" }} ]\n{extra}\napis:\n"
    );
    for a in apis {
        cfg.push_str(a);
    }
    let gw = Gatehouse::start(Path::new(BIN), &cfg, addr)
        .await
        .unwrap_or_else(|e| panic!("gatehouse starts with\n{cfg}\n: {e:#}"));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    Gw {
        _gw: gw,
        base: format!("http://{addr}"),
        client,
    }
}

async fn start(apis: &[String]) -> Gw {
    start_with("127.0.0.0/8", "", apis).await
}

/// Sends `req` and returns status, headers and body text.
async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = req.send().await.expect("response from the gateway");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("response body");
    (status, headers, body)
}

const ON_ERROR_SOURCE_REASON: &str = r#"<on-error>
    <return-response>
        <set-status code="503" reason="Down" />
        <set-body>@(context.LastError.Source + ":" + context.LastError.Reason)</set-body>
    </return-response>
</on-error>"#;

// ------------------------------------------------------------------------------------- retry

#[tokio::test]
async fn retry_repeats_forward_request_until_the_backend_recovers_and_resends_the_body() {
    let backend = ScriptedBackend::start(|r| {
        if r.index < 2 {
            ScriptedResponse::new(503).body("busy")
        } else {
            ScriptedResponse::new(200).body(format!("ok:{}", r.body_text()))
        }
    })
    .await
    .expect("scripted backend");
    let broken =
        ScriptedBackend::start(|r| ScriptedResponse::new(503).body(format!("busy-{}", r.index)))
            .await
            .expect("always-failing backend");
    const RETRY: &str = r#"<policies>
    <inbound />
    <backend>
        <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="0">
            <forward-request />
        </retry>
    </backend>
    <outbound />
    <on-error />
</policies>"#;
    let g = start(&[
        api("r", &backend.url(), RETRY),
        api("broken", &broken.url(), RETRY),
    ])
    .await;

    let (status, _, body) = send(
        g.client
            .post(g.url("/r/items"))
            .header("content-type", "text/plain")
            .body("payload-123"),
    )
    .await;
    assert_eq!(status, 200, "body: {body}");
    assert_eq!(body, "ok:payload-123");
    let seen = backend.requests();
    assert_eq!(seen.len(), 3, "backend requests: {seen:?}");
    for r in &seen {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/items");
        assert_eq!(r.body_text(), "payload-123", "attempt {}", r.index);
        assert_eq!(
            r.header("content-length"),
            Some("11"),
            "attempt {}",
            r.index
        );
    }

    // Every attempt fails: the first try plus `count` retries, then the last answer as is.
    let (status, _, body) = send(g.client.post(g.url("/broken/items")).body("again")).await;
    assert_eq!(status, 503, "body: {body}");
    assert_eq!(body, "busy-3", "the client gets the last attempt's answer");
    let seen = broken.requests();
    assert_eq!(seen.len(), 4, "1 try + 3 retries: {seen:?}");
    assert!(seen.iter().all(|r| r.body_text() == "again"), "{seen:?}");
}

// ------------------------------------------------------------------ forward-request failures

#[tokio::test]
async fn on_error_sees_backend_connection_failure_and_timeout() {
    let slow = MockBackend::start().await.expect("backend");
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let g = start(&[
        api(
            "down",
            &nobody,
            &format!(
                "<policies><inbound /><backend><forward-request /></backend><outbound />{ON_ERROR_SOURCE_REASON}</policies>"
            ),
        ),
        api(
            "slow",
            &slow.url(),
            &format!(
                "<policies><inbound /><backend><forward-request timeout=\"1\" /></backend><outbound />{ON_ERROR_SOURCE_REASON}</policies>"
            ),
        ),
    ])
    .await;

    let (status, _, body) = send(g.client.get(g.url("/down/x"))).await;
    assert_eq!(status, 503, "body: {body}");
    assert_eq!(body, "forward-request:BackendConnectionFailure");

    let (status, _, body) = send(g.client.get(g.url("/slow/delay/3000"))).await;
    assert_eq!(status, 503, "body: {body}");
    assert_eq!(body, "forward-request:Timeout");
    assert_eq!(slow.request_count(), 1, "the slow backend got the request");
}

// ------------------------------------------------------------------------------ request body

#[tokio::test]
async fn inbound_reads_the_request_body_and_set_body_replaces_it() {
    let backend = ScriptedBackend::start(|_| ScriptedResponse::new(200).body("fine"))
        .await
        .expect("scripted backend");
    let g = start(&[
        api(
            "read",
            &backend.url(),
            r#"<policies>
    <inbound>
        <set-variable name="b" value="@(context.Request.Body.As<JObject>(preserveContent: true)["name"].ToString())" />
        <set-header name="X-Name" exists-action="override"><value>@((string)context.Variables["b"])</value></set-header>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
        ),
        api(
            "wrap",
            &backend.url(),
            r#"<policies>
    <inbound>
        <set-body>@("{\"wrapped\":" + context.Request.Body.As<string>(preserveContent: true) + "}")</set-body>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
        ),
    ])
    .await;

    let original = r#"{"name":"ann","n":[1,2]}"#;
    let (status, _, body) = send(
        g.client
            .post(g.url("/read/people"))
            .header("content-type", "application/json")
            .body(original),
    )
    .await;
    assert_eq!(status, 200, "body: {body}");
    let seen = backend.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("x-name"), Some("ann"));
    assert_eq!(
        seen[0].body_text(),
        original,
        "the body reaches the backend unchanged"
    );
    assert_eq!(
        seen[0].header("content-length"),
        Some(original.len().to_string().as_str())
    );

    let (status, _, body) = send(
        g.client
            .post(g.url("/wrap/people"))
            .header("content-type", "application/json")
            .body(r#"{"a":1}"#),
    )
    .await;
    assert_eq!(status, 200, "body: {body}");
    let seen = backend.requests();
    assert_eq!(seen.len(), 2);
    let expected = r#"{"wrapped":{"a":1}}"#;
    assert_eq!(seen[1].body_text(), expected);
    assert_eq!(
        seen[1].header("content-length"),
        Some(expected.len().to_string().as_str()),
        "headers: {:?}",
        seen[1].headers
    );
    assert_eq!(seen[1].header("transfer-encoding"), None);
}

// ----------------------------------------------------------------------------- response body

#[tokio::test]
async fn outbound_set_body_and_find_and_replace_transform_the_response() {
    let backend = ScriptedBackend::start(|_| {
        ScriptedResponse::new(200)
            .header("content-type", "text/plain")
            .body("hello x-ray")
    })
    .await
    .expect("scripted backend");
    let g = start(&[
        api(
            "upper",
            &backend.url(),
            r#"<policies>
    <inbound />
    <backend><forward-request /></backend>
    <outbound>
        <set-body>@(context.Response.Body.As<string>().ToUpper())</set-body>
    </outbound>
    <on-error />
</policies>"#,
        ),
        api(
            "far",
            &backend.url(),
            r#"<policies>
    <inbound />
    <backend><forward-request /></backend>
    <outbound>
        <find-and-replace from="x" to="y" />
    </outbound>
    <on-error />
</policies>"#,
        ),
    ])
    .await;

    for (path, expected) in [("/upper/t", "HELLO X-RAY"), ("/far/t", "hello y-ray")] {
        let (status, headers, body) = send(g.client.get(g.url(path))).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body, expected, "{path}");
        if let Some(len) = headers.get("content-length") {
            assert_eq!(
                len.to_str().expect("ascii content-length"),
                expected.len().to_string(),
                "{path}"
            );
        }
    }
    assert_eq!(backend.request_count(), 2);
}

// ----------------------------------------------------------------------- set-backend-service

#[tokio::test]
async fn set_backend_service_reaches_a_configured_backend_and_another_origin() {
    let main = MockBackend::start().await.expect("main backend");
    let other = MockBackend::start().await.expect("other backend");
    let third = MockBackend::start().await.expect("third backend");
    let backends = format!("backends:\n  other: {{ url: \"{}\" }}\n", other.url());
    let g = start_with(
        "127.0.0.0/8",
        &backends,
        &[
            api(
                "byid",
                &main.url(),
                r#"<policies>
    <inbound><set-backend-service backend-id="other" /></inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
            ),
            api(
                "byurl",
                &main.url(),
                &format!(
                    r#"<policies>
    <inbound><set-backend-service base-url="{}" /></inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
                    third.url()
                ),
            ),
        ],
    )
    .await;

    let (status, _, body) = send(g.client.get(g.url("/byid/one"))).await;
    assert_eq!(status, 200, "body: {body}");
    let (status, _, body) = send(g.client.get(g.url("/byurl/two"))).await;
    assert_eq!(status, 200, "body: {body}");

    assert_eq!(main.request_count(), 0, "the API's own backend is bypassed");
    let got = other.requests();
    assert_eq!(got.len(), 1, "backend-id=other got the request");
    assert!(got[0].path.ends_with("/one"), "path {}", got[0].path);
    let got = third.requests();
    assert_eq!(got.len(), 1, "base-url origin got the request");
    assert!(got[0].path.ends_with("/two"), "path {}", got[0].path);
}

// ------------------------------------------------------------------------------ send-request

#[tokio::test]
async fn send_request_result_is_readable_and_refused_destinations_go_to_on_error() {
    let main = MockBackend::start().await.expect("main backend");
    let side = MockBackend::start().await.expect("side backend");
    // A canary on 127.0.0.2, outside the allowed 127.0.0.1/32: it must never be contacted.
    let canary = MockBackend::start_on(SocketAddr::from(([127, 0, 0, 2], 0)))
        .await
        .expect("canary backend on 127.0.0.2");
    let refused = |id: &str, url: &str| {
        api(
            id,
            &main.url(),
            &format!(
                r#"<policies>
    <inbound>
        <send-request mode="new" response-variable-name="r" timeout="5" ignore-error="false">
            <set-url>{url}</set-url>
            <set-method>GET</set-method>
        </send-request>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    {ON_ERROR_SOURCE_REASON}
</policies>"#
            ),
        )
    };
    let g = start_with(
        "127.0.0.1/32",
        "",
        &[
            api(
                "side",
                &main.url(),
                &format!(
                    r#"<policies>
    <inbound>
        <send-request mode="new" response-variable-name="r" timeout="5" ignore-error="false">
            <set-url>{}/status/201</set-url>
            <set-method>GET</set-method>
        </send-request>
        <set-header name="X-Side" exists-action="override">
            <value>@(((IResponse)context.Variables["r"]).StatusCode.ToString())</value>
        </set-header>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
                    side.url()
                ),
            ),
            refused("meta", "http://169.254.169.254/metadata/instance"),
            refused("canary", &format!("{}/x", canary.url())),
        ],
    )
    .await;

    let (status, _, body) = send(g.client.get(g.url("/side/call"))).await;
    assert_eq!(status, 200, "body: {body}");
    let got = side.requests();
    assert_eq!(got.len(), 1, "the side call was made once");
    assert_eq!(got[0].path, "/status/201");
    let got = main.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("x-side"), Some("201"));

    for path in ["/meta/x", "/canary/x"] {
        let (status, _, body) = send(g.client.get(g.url(path))).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body, "send-request:OutboundRequestRefused", "{path}");
    }
    assert_eq!(
        canary.request_count(),
        0,
        "a refused destination is never contacted"
    );
    assert_eq!(
        canary.connection_count(),
        0,
        "no connection to a refused destination"
    );
    assert_eq!(main.request_count(), 1, "no forward after a failed inbound");
}

// ------------------------------------------------------------------------------------- cache

#[tokio::test]
async fn cache_lookup_and_store_answer_repeats_from_the_cache() {
    let backend = ScriptedBackend::start(|r| {
        ScriptedResponse::new(200)
            .header("content-type", "text/plain")
            .body(format!("answer-{}", r.index))
    })
    .await
    .expect("scripted backend");
    let g = start(&[api(
        "c",
        &backend.url(),
        r#"<policies>
    <inbound>
        <cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
            <vary-by-query-parameter>page</vary-by-query-parameter>
        </cache-lookup>
    </inbound>
    <backend><forward-request /></backend>
    <outbound><cache-store duration="60" /></outbound>
    <on-error />
</policies>"#,
    )])
    .await;

    let (s1, h1, b1) = send(g.client.get(g.url("/c/items?page=1"))).await;
    let (s2, h2, b2) = send(g.client.get(g.url("/c/items?page=1"))).await;
    assert_eq!((s1, s2), (200, 200), "bodies: {b1} / {b2}");
    assert_eq!(b1, "answer-0");
    assert_eq!(b2, b1, "the second answer comes from the cache");
    assert_eq!(
        h2.get("content-type"),
        h1.get("content-type"),
        "the cached answer keeps the content type"
    );
    assert_eq!(backend.request_count(), 1, "the backend saw one request");

    let (s3, _, b3) = send(g.client.get(g.url("/c/items?page=2"))).await;
    assert_eq!(s3, 200, "body: {b3}");
    assert_eq!(b3, "answer-1", "another page is another cache entry");
    assert_eq!(backend.request_count(), 2);
}

// -------------------------------------------------------------------------------------- cors

#[tokio::test]
async fn cors_answers_preflight_itself_and_decorates_actual_requests() {
    let backend = MockBackend::start().await.expect("backend");
    let g = start(&[api(
        "cors",
        &backend.url(),
        r#"<policies>
    <inbound>
        <cors>
            <allowed-origins><origin>https://app.example</origin></allowed-origins>
            <allowed-methods><method>GET</method><method>PUT</method></allowed-methods>
            <allowed-headers><header>content-type</header></allowed-headers>
        </cors>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
    )])
    .await;

    let (status, headers, body) = send(
        g.client
            .request(reqwest::Method::OPTIONS, g.url("/cors/things"))
            .header("Origin", "https://app.example")
            .header("Access-Control-Request-Method", "PUT")
            .header("Access-Control-Request-Headers", "content-type"),
    )
    .await;
    assert_eq!(status, 200, "body: {body}");
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example"),
        "headers: {headers:?}"
    );
    let methods = headers
        .get("access-control-allow-methods")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(methods.contains("PUT"), "allow-methods {methods:?}");
    assert_eq!(
        backend.request_count(),
        0,
        "the preflight never reaches the backend"
    );

    let (status, headers, body) = send(
        g.client
            .get(g.url("/cors/things"))
            .header("Origin", "https://app.example"),
    )
    .await;
    assert_eq!(status, 200, "body: {body}");
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example"),
        "headers: {headers:?}"
    );
    assert_eq!(backend.request_count(), 1);
}

// ------------------------------------------------------------------------------ validate-jwt

/// An ES256 key pair: the signing key and its public JWK (with `kid`).
fn es256_key(kid: &str) -> (jsonwebtoken::EncodingKey, serde_json::Value) {
    let pair = rcgen::KeyPair::generate().expect("P-256 key pair");
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes())
        .expect("encoding key from PKCS#8 PEM");
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)
        .expect("JWK of the key");
    jwk.common.key_id = Some(kid.to_string());
    (key, serde_json::to_value(&jwk).expect("JWK as JSON"))
}

fn es256_token(key: &jsonwebtoken::EncodingKey, kid: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(
        &header,
        &serde_json::json!({
            "iss": "https://issuer.example/",
            "aud": "api://gatehouse",
            "sub": "ann",
            "iat": now,
            "exp": now + 600,
        }),
        key,
    )
    .expect("signing the token")
}

#[tokio::test]
async fn validate_jwt_uses_the_openid_configuration_and_caches_its_keys() {
    let (good_key, jwk) = es256_key("k1");
    let (evil_key, _) = es256_key("k1");
    let jwks = serde_json::json!({ "keys": [jwk] });
    let own_url: Arc<OnceLock<String>> = Arc::default();
    let idp = {
        let own_url = own_url.clone();
        ScriptedBackend::start(move |r| {
            let base = own_url.get().cloned().unwrap_or_default();
            match r.path.as_str() {
                "/.well-known/openid-configuration" => ScriptedResponse::json(&serde_json::json!({
                    "issuer": "https://issuer.example/",
                    "jwks_uri": format!("{base}/keys"),
                })),
                "/keys" => ScriptedResponse::json(&jwks),
                _ => ScriptedResponse::new(404),
            }
        })
        .await
        .expect("identity provider")
    };
    own_url.set(idp.url()).expect("set once");
    let backend = MockBackend::start().await.expect("backend");
    let g = start(&[api(
        "jwt",
        &backend.url(),
        &format!(
            r#"<policies>
    <inbound>
        <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401">
            <openid-config url="{}/.well-known/openid-configuration" />
            <audiences><audience>api://gatehouse</audience></audiences>
            <issuers><issuer>https://issuer.example/</issuer></issuers>
        </validate-jwt>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#,
            idp.url()
        ),
    )])
    .await;

    let good = es256_token(&good_key, "k1");
    for i in 0..2 {
        let (status, _, body) = send(
            g.client
                .get(g.url("/jwt/me"))
                .header("Authorization", format!("Bearer {good}")),
        )
        .await;
        assert_eq!(status, 200, "valid token, request {i}: {body}");
    }
    assert_eq!(
        backend.request_count(),
        2,
        "both valid requests were forwarded"
    );

    let forged = es256_token(&evil_key, "k1");
    let (status, _, body) = send(
        g.client
            .get(g.url("/jwt/me"))
            .header("Authorization", format!("Bearer {forged}")),
    )
    .await;
    assert_eq!(status, 401, "bad signature: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("APIM's JSON error body");
    assert_eq!(json["statusCode"], 401, "{body}");
    assert!(json["message"].is_string(), "{body}");
    assert!(
        !body.contains(&forged),
        "the token never appears in the answer"
    );

    let (status, _, body) = send(g.client.get(g.url("/jwt/me"))).await;
    assert_eq!(status, 401, "missing token: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("APIM's JSON error body");
    assert_eq!(
        json,
        serde_json::json!({ "statusCode": 401, "message": "JWT not present." })
    );

    assert_eq!(
        backend.request_count(),
        2,
        "refused requests never reach the backend"
    );
    assert_eq!(
        idp.count_path("/.well-known/openid-configuration"),
        1,
        "the OpenID configuration is fetched once: {:?}",
        idp.requests()
    );
    assert_eq!(idp.count_path("/keys"), 1, "the JWKS is fetched once");
}

// ------------------------------------------------------------------------- limit-concurrency

#[tokio::test]
async fn limit_concurrency_admits_one_and_answers_429_to_the_other() {
    let backend = MockBackend::start().await.expect("backend");
    let g = start(&[api(
        "lc",
        &backend.url(),
        r#"<policies>
    <inbound />
    <backend>
        <limit-concurrency key="only" max-count="1">
            <forward-request />
        </limit-concurrency>
    </backend>
    <outbound />
    <on-error />
</policies>"#,
    )])
    .await;

    let first = {
        let req = g.client.get(g.url("/lc/delay/1000"));
        tokio::spawn(async move { send(req).await })
    };
    // The first request holds the only slot while the backend sleeps on it.
    backend
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .expect("the first request reaches the backend");
    let (second, _, second_body) = send(g.client.get(g.url("/lc/delay/1000"))).await;
    let (first, _, first_body) = first.await.expect("first request task");
    assert_eq!(first, 200, "first: {first_body}");
    assert_eq!(second, 429, "second: {second_body}");
    assert_eq!(
        backend.request_count(),
        1,
        "the refused request never reached the backend"
    );
}
