//! cors, validate-jwt and the cache policies as the pipeline runs them (their decision logic
//! has its own tests beside `cors.rs`, `cache.rs` and `pipeline/jwt/tests.rs`).

use std::sync::Arc;

use gatehouse_policy::cache::InMemoryCache;
use gatehouse_policy::document::{compose, parse_policies};
use gatehouse_policy::expr::Value;
use gatehouse_policy::pipeline::{Outcome, Pipeline, Response, Section, TestExchange};

fn pipeline(xml: &str) -> Pipeline {
    let doc = parse_policies("test.xml", xml, None).unwrap_or_else(|e| panic!("{xml}: {e:?}"));
    let composed = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:?}"));
    Pipeline::compile(&composed).unwrap_or_else(|e| panic!("{e}"))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

const CORS: &str = r#"<policies><inbound>
    <cors allow-credentials="true">
        <allowed-origins><origin>https://app.example</origin></allowed-origins>
        <allowed-methods preflight-result-max-age="300"><method>GET</method><method>PUT</method></allowed-methods>
        <allowed-headers><header>content-type</header></allowed-headers>
        <expose-headers><header>x-trace</header></expose-headers>
    </cors>
</inbound></policies>"#;

#[tokio::test]
async fn cors_answers_a_matching_preflight_without_the_backend() {
    let p = pipeline(CORS);
    let mut ex = TestExchange::new()
        .with_request_header("Origin", "https://app.example")
        .with_request_header("Access-Control-Request-Method", "PUT")
        .with_request_header("Access-Control-Request-Headers", "Content-Type");
    ex.method = "OPTIONS".into();
    let Outcome::Respond(r) = p.run(Section::Inbound, &mut ex).await else {
        panic!("a preflight is answered by the gateway");
    };
    assert_eq!(r.status, 200);
    assert_eq!(
        header(&r.headers, "Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(
        header(&r.headers, "Access-Control-Allow-Credentials"),
        Some("true")
    );
    assert_eq!(header(&r.headers, "Access-Control-Max-Age"), Some("300"));
    assert!(ex.forwarded.is_empty());

    // A preflight from another origin: answered, without any CORS header.
    let mut other = TestExchange::new()
        .with_request_header("Origin", "https://evil.example")
        .with_request_header("Access-Control-Request-Method", "PUT");
    other.method = "OPTIONS".into();
    let Outcome::Respond(r) = p.run(Section::Inbound, &mut other).await else {
        panic!("an unmatched preflight is terminated");
    };
    assert_eq!(header(&r.headers, "Access-Control-Allow-Origin"), None);
}

#[tokio::test]
async fn cors_adds_its_headers_to_an_actual_request() {
    let p = pipeline(CORS);
    let mut ex = TestExchange::new().with_request_header("Origin", "https://app.example");
    ex.method = "PUT".into();
    assert_eq!(p.run(Section::Inbound, &mut ex).await, Outcome::Continue);
    let added = &ex.effects.added_response_headers;
    assert_eq!(
        header(added, "Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    assert_eq!(
        header(added, "Access-Control-Expose-Headers"),
        Some("x-trace")
    );
}

const CACHED: &str = r#"<policies>
    <inbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" downstream-caching-type="public">
        <vary-by-query-parameter>page</vary-by-query-parameter>
    </cache-lookup></inbound>
    <backend><forward-request /></backend>
    <outbound><cache-store duration="60" /></outbound>
</policies>"#;

fn cached_exchange(cache: &Arc<InMemoryCache>, page: &str) -> TestExchange {
    let mut ex = TestExchange::new().with_request_header("Cache-Control", "no-cache");
    ex.cache = cache.clone();
    ex.query.insert("page".into(), vec![page.into()]);
    ex.context.set("Api.Id", Value::str("api"));
    ex.context.set("Operation.Id", Value::str("op"));
    ex.context.set("Request.Url.Path", Value::str("/items"));
    ex.context
        .entry("Request.Url.Query", "page", Value::str(page));
    ex
}

async fn through(p: &Pipeline, ex: &mut TestExchange) -> Outcome {
    for section in [Section::Inbound, Section::Backend, Section::Outbound] {
        let out = p.run(section, ex).await;
        if out != Outcome::Continue {
            return out;
        }
    }
    Outcome::Continue
}

#[tokio::test]
async fn cache_store_then_cache_lookup_answers_from_the_cache() {
    let p = pipeline(CACHED);
    let cache = Arc::new(InMemoryCache::new(1024 * 1024));
    let mut first = cached_exchange(&cache, "1");
    let mut answer = Response::ok();
    answer.body = Some("page one".into());
    answer
        .headers
        .push(("Content-Type".into(), "text/plain".into()));
    first.backend.push_back(Ok(answer));
    assert_eq!(through(&p, &mut first).await, Outcome::Continue);
    assert_eq!(first.forwarded.len(), 1);
    assert!(
        !first.forwarded[0].headers.contains_key("cache-control"),
        "a miss strips the client's cache headers"
    );
    assert_eq!(
        first.header_joined(
            gatehouse_policy::pipeline::Message::Response,
            "cache-control"
        ),
        Some("public, max-age=60, must-revalidate".into())
    );

    let mut second = cached_exchange(&cache, "1");
    let Outcome::Respond(r) = through(&p, &mut second).await else {
        panic!("the second request is answered from the cache");
    };
    assert!(second.forwarded.is_empty());
    assert_eq!((r.status, r.body.as_deref()), (200, Some("page one")));
    assert_eq!(header(&r.headers, "Content-Type"), Some("text/plain"));

    // Another value of a vary-by query parameter is another entry.
    let mut other_page = cached_exchange(&cache, "2");
    assert_eq!(through(&p, &mut other_page).await, Outcome::Continue);
    assert_eq!(other_page.forwarded.len(), 1);
}

#[tokio::test]
async fn cache_values_are_stored_looked_up_and_removed() {
    let store = pipeline(
        r#"<policies><inbound><cache-store-value key="@("tok-" + "a")" value="@(42)" duration="60" /></inbound></policies>"#,
    );
    let lookup = pipeline(
        r#"<policies><inbound><cache-lookup-value key="tok-a" variable-name="v" default-value="none" /></inbound></policies>"#,
    );
    let remove =
        pipeline(r#"<policies><inbound><cache-remove-value key="tok-a" /></inbound></policies>"#);
    let cache = Arc::new(InMemoryCache::new(1024 * 1024));
    let mut ex = TestExchange::new();
    ex.cache = cache.clone();
    assert_eq!(
        lookup.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(ex.variable("v"), Some(&Value::str("none")));
    assert_eq!(
        store.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(
        lookup.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(ex.variable("v"), Some(&Value::Int(42)));
    assert_eq!(
        remove.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(
        lookup.run(Section::Inbound, &mut ex).await,
        Outcome::Continue
    );
    assert_eq!(ex.variable("v"), Some(&Value::str("none")));
}

#[tokio::test]
async fn validate_jwt_admits_a_valid_token_and_sends_failures_to_on_error() {
    use base64::Engine as _;
    let secret = b"0123456789abcdef0123456789abcdef";
    let key = base64::engine::general_purpose::STANDARD.encode(secret);
    let p = pipeline(&format!(
        r#"<policies><inbound>
            <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid." output-token-variable-name="jwt">
                <issuer-signing-keys><key>{key}</key></issuer-signing-keys>
                <audiences><audience>api://orders</audience></audiences>
            </validate-jwt>
        </inbound><on-error /></policies>"#
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let token = |aud: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"aud": aud, "exp": now + 600, "sub": "ann"}),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut ok = TestExchange::new().with_request_header(
        "Authorization",
        &format!("Bearer {}", token("api://orders")),
    );
    assert_eq!(p.run(Section::Inbound, &mut ok).await, Outcome::Continue);
    assert!(ok.variable("jwt").is_some());

    let mut wrong = TestExchange::new()
        .with_request_header("Authorization", &format!("Bearer {}", token("api://other")));
    let Outcome::Error(e) = p.run(Section::Inbound, &mut wrong).await else {
        panic!("another audience is refused");
    };
    assert_eq!(e.source, "validate-jwt");
    assert_eq!(wrong.effects.status.as_ref().map(|s| s.0), Some(401));
    let body = wrong.effects.response_body.clone().unwrap_or_default();
    assert!(
        body.contains("Unauthorized. Access token is missing or invalid."),
        "{body}"
    );

    let mut missing = TestExchange::new();
    let Outcome::Error(e) = p.run(Section::Inbound, &mut missing).await else {
        panic!("no token is refused");
    };
    assert_eq!(e.reason, "TokenNotPresent");
}
