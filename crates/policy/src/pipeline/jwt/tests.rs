//! validate-jwt end to end on a test exchange: compile, tokens, keys, OpenID fetching.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

use super::*;
use crate::document::{Section, Value as DocValue, parse_policies};
use crate::expr::Object;
use crate::http::{FnClient, HttpError, HttpResponse};
use crate::pipeline::TestExchange;

/// 2026-01-01T00:00:00Z, the exchange's clock in every test.
pub(super) const NOW: i64 = 1_767_225_600;
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const CONFIG_URL: &str = "https://idp.example/.well-known/openid-configuration";
const JWKS_URL: &str = "https://idp.example/keys";

fn secret_b64() -> String {
    STANDARD.encode(SECRET)
}

pub(super) fn element(policy: &str) -> PolicyElement {
    let src = format!(
        "<policies><inbound>{policy}</inbound><backend /><outbound /><on-error /></policies>"
    );
    let doc = parse_policies("test.xml", &src, None).expect("test policy parses");
    doc.section(Section::Inbound)[0].clone()
}

fn step(policy: &str) -> JwtStep {
    compile(&element(policy)).expect("test policy compiles")
}

/// `<validate-jwt header-name="Authorization" require-scheme="Bearer" …>` with the HMAC key.
fn hs_step(attrs: &str, children: &str) -> JwtStep {
    step(&format!(
        r#"<validate-jwt header-name="Authorization" require-scheme="Bearer" {attrs}>
             <issuer-signing-keys><key>{}</key></issuer-signing-keys>{children}
           </validate-jwt>"#,
        secret_b64()
    ))
}

pub(super) fn sign(alg: Algorithm, kid: Option<&str>, claims: &J, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    encode(&header, claims, key).expect("test token encodes")
}

fn hs256(claims: J) -> String {
    sign(
        Algorithm::HS256,
        None,
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
}

pub(super) fn exchange() -> TestExchange {
    let mut ex = TestExchange::new();
    ex.context.now = DateTime::from_unix_seconds(NOW);
    ex
}

pub(super) fn bearer(token: &str) -> TestExchange {
    exchange().with_request_header("Authorization", &format!("Bearer {token}"))
}

pub(super) fn block<F: std::future::Future>(f: F) -> F::Output {
    futures_util::FutureExt::now_or_never(f).expect("no pending I/O with FnClient")
}

fn run(step: &JwtStep, ex: &mut TestExchange) -> Result<(), Failure> {
    block(step.run(ex))
}

fn refused(step: &JwtStep, ex: &mut TestExchange) -> Failure {
    match run(step, ex) {
        Ok(()) => panic!("token was accepted"),
        Err(f) => f,
    }
}

pub(super) fn body(f: &Failure) -> J {
    serde_json::from_str(f.body.as_deref().expect("failure has a body")).expect("json body")
}

fn valid_claims() -> J {
    json!({ "sub": "alice", "exp": NOW + 600, "iss": "https://issuer.example/", "aud": "api://gatehouse" })
}

// ------------------------------------------------------------------------------ HMAC

#[tokio::test]
async fn hs256_inline_key_accepts_and_stores_the_jwt() {
    let s = hs_step(r#"output-token-variable-name="jwt""#, "");
    let token = hs256(json!({
        "sub": "alice", "exp": NOW + 600, "iat": NOW - 10, "jti": "id-1",
        "aud": ["a1", "a2"], "roles": ["admin", "ops"]
    }));
    let mut ex = bearer(&token);
    s.run(&mut ex).await.expect("valid token");
    let Some(Value::Object(Object::Record(jwt))) = ex.variable("jwt").cloned() else {
        panic!("jwt variable is a record");
    };
    assert_eq!(jwt.get("Subject"), Some(&Value::str("alice")));
    assert_eq!(jwt.get("Id"), Some(&Value::str("id-1")));
    assert_eq!(jwt.get("Algorithm"), Some(&Value::str("HS256")));
    assert_eq!(
        jwt.get("Audiences"),
        Some(&Value::Array(vec![Value::str("a1"), Value::str("a2")]))
    );
    assert_eq!(
        jwt.get("ExpirationTime"),
        DateTime::from_unix_seconds(NOW + 600)
            .map(Value::DateTime)
            .as_ref()
    );
    let Some(Value::Object(Object::Dictionary(claims))) = jwt.get("Claims") else {
        panic!("Claims is a dictionary");
    };
    assert_eq!(
        claims.get("roles"),
        Some(&Value::Array(vec![Value::str("admin"), Value::str("ops")]))
    );
}

#[tokio::test]
async fn wrong_key_is_token_signature_invalid() {
    let s = hs_step("", "");
    let token = sign(
        Algorithm::HS256,
        None,
        &valid_claims(),
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    );
    let f = refused(&s, &mut bearer(&token));
    assert_eq!(f.reason, "TokenSignatureInvalid");
    assert_eq!(f.status, 401);
    assert_eq!(
        body(&f),
        json!({ "statusCode": 401, "message": "Invalid JWT." })
    );
    assert!(!f.message.contains(&token));
    assert!(!f.message.contains(&secret_b64()));
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let s = hs_step("", "");
    let token = hs256(valid_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(
        json!({ "sub": "mallory", "exp": NOW + 600 })
            .to_string()
            .as_bytes(),
    );
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(
        refused(&s, &mut bearer(&tampered)).reason,
        "TokenSignatureInvalid"
    );
}

#[tokio::test]
async fn hs384_and_hs512_verify_with_the_same_key() {
    let s = hs_step("", "");
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign(
            alg,
            None,
            &valid_claims(),
            &EncodingKey::from_secret(SECRET),
        );
        run(&s, &mut bearer(&token)).expect("HS384/HS512 token");
    }
}

#[tokio::test]
async fn expired_token_is_token_expired() {
    let s = hs_step("", "");
    let token = hs256(json!({ "exp": NOW - 1 }));
    let f = refused(&s, &mut bearer(&token));
    assert_eq!(f.reason, "TokenExpired");
    assert!(f.message.contains("expired"), "{}", f.message);
    assert!(f.message.ends_with("Access denied."), "{}", f.message);
}

#[tokio::test]
async fn clock_skew_tolerates_recently_expired_and_early_tokens() {
    let token = hs256(json!({ "exp": NOW - 30 }));
    run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&token)).expect("within skew");
    let f = refused(&hs_step(r#"clock-skew="10""#, ""), &mut bearer(&token));
    assert_eq!(f.reason, "TokenExpired");

    let early = hs256(json!({ "exp": NOW + 600, "nbf": NOW + 30 }));
    run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&early)).expect("nbf within skew");
    // Expiry exactly at the skew boundary is still accepted.
    let edge = hs256(json!({ "exp": NOW - 60 }));
    run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&edge)).expect("boundary");
}

#[tokio::test]
async fn not_yet_valid_token_is_refused() {
    let s = hs_step("", "");
    let token = hs256(json!({ "exp": NOW + 600, "nbf": NOW + 120 }));
    let f = refused(&s, &mut bearer(&token));
    assert_eq!(f.reason, "JwtInvalid");
    assert!(f.message.contains("not yet valid"), "{}", f.message);
}

#[tokio::test]
async fn missing_exp_is_refused_unless_not_required() {
    let token = hs256(json!({ "sub": "alice" }));
    let f = refused(&hs_step("", ""), &mut bearer(&token));
    assert_eq!(f.reason, "JwtInvalid");
    assert!(f.message.contains("Expiration Time"), "{}", f.message);
    run(
        &hs_step(r#"require-expiration-time="false""#, ""),
        &mut bearer(&token),
    )
    .expect("exp not required");
}

#[tokio::test]
async fn audiences_allow_list() {
    let s = hs_step(
        "",
        "<audiences><audience>api://other</audience><audience>api://gatehouse</audience></audiences>",
    );
    run(&s, &mut bearer(&hs256(valid_claims()))).expect("allowed audience");
    let arr = hs256(json!({ "exp": NOW + 60, "aud": ["x", "api://gatehouse"] }));
    run(&s, &mut bearer(&arr)).expect("one of several audiences");
    let f = refused(
        &s,
        &mut bearer(&hs256(json!({ "exp": NOW + 60, "aud": "api://evil" }))),
    );
    assert_eq!(f.reason, "TokenAudienceNotAllowed");
    assert!(f.message.contains("api://evil"), "{}", f.message);
    let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW + 60 }))));
    assert_eq!(f.reason, "TokenAudienceNotAllowed");
}

#[tokio::test]
async fn issuers_allow_list() {
    let s = hs_step(
        "",
        "<issuers><issuer>https://issuer.example/</issuer></issuers>",
    );
    run(&s, &mut bearer(&hs256(valid_claims()))).expect("allowed issuer");
    let f = refused(
        &s,
        &mut bearer(&hs256(
            json!({ "exp": NOW + 60, "iss": "https://evil.example/" }),
        )),
    );
    assert_eq!(f.reason, "TokenIssuerNotAllowed");
    let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW + 60 }))));
    assert_eq!(f.reason, "TokenIssuerNotAllowed");
}

#[tokio::test]
async fn required_claims_all_and_any_with_separator() {
    let s = hs_step(
        "",
        r#"<required-claims>
             <claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim>
             <claim name="group" match="any"><value>finance</value><value>logistics</value></claim>
           </required-claims>"#,
    );
    let ok =
        hs256(json!({ "exp": NOW + 60, "scp": "read write admin", "group": ["hr", "logistics"] }));
    run(&s, &mut bearer(&ok)).expect("claims match");

    let partial = hs256(json!({ "exp": NOW + 60, "scp": "read", "group": "finance" }));
    let f = refused(&s, &mut bearer(&partial));
    assert_eq!(f.reason, "TokenClaimValueNotAllowed");
    assert!(
        f.message.starts_with("Claim scp value of read"),
        "{}",
        f.message
    );

    let none = hs256(json!({ "exp": NOW + 60, "scp": "read write", "group": "hr" }));
    assert_eq!(
        refused(&s, &mut bearer(&none)).reason,
        "TokenClaimValueNotAllowed"
    );

    let missing = hs256(json!({ "exp": NOW + 60 }));
    let f = refused(&s, &mut bearer(&missing));
    assert_eq!(f.reason, "TokenClaimNotFound");
    assert_eq!(
        f.message,
        "JWT token is missing the following claims: scp, group. Access denied."
    );
}

#[tokio::test]
async fn missing_token_is_token_not_present_with_configured_response() {
    let f = refused(&hs_step("", ""), &mut exchange());
    assert_eq!(f.reason, "TokenNotPresent");
    assert_eq!(f.message, "JWT not present.");
    assert_eq!(
        body(&f),
        json!({ "statusCode": 401, "message": "JWT not present." })
    );

    let s = hs_step(
        r#"failed-validation-httpcode="403" failed-validation-error-message="Unauthorized. Access token is missing or invalid.""#,
        "",
    );
    let f = refused(
        &s,
        &mut exchange().with_request_header("Authorization", "Bearer "),
    );
    assert_eq!(f.reason, "TokenNotPresent");
    assert_eq!(f.status, 403);
    assert_eq!(
        body(&f),
        json!({ "statusCode": 403, "message": "Unauthorized. Access token is missing or invalid." })
    );
}

#[tokio::test]
async fn scheme_is_required_on_authorization_only() {
    let token = hs256(valid_claims());
    let s = hs_step("", "");
    let mut basic = exchange().with_request_header("Authorization", &format!("Basic {token}"));
    assert_eq!(refused(&s, &mut basic).reason, "JwtInvalid");
    let mut bare = exchange().with_request_header("Authorization", &token);
    assert_eq!(refused(&s, &mut bare).reason, "JwtInvalid");
    let mut lower = exchange().with_request_header("Authorization", &format!("bearer {token}"));
    run(&s, &mut lower).expect("scheme compares case-insensitively");

    // APIM ignores require-scheme on a custom header; a scheme there is still stripped.
    let custom = step(&format!(
        r#"<validate-jwt header-name="X-Token" require-scheme="Bearer">
             <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
        secret_b64()
    ));
    run(
        &custom,
        &mut exchange().with_request_header("X-Token", &token),
    )
    .expect("bare");
    run(
        &custom,
        &mut exchange().with_request_header("X-Token", &format!("Bearer {token}")),
    )
    .expect("with scheme");
}

#[tokio::test]
async fn query_parameter_source() {
    let s = step(&format!(
        r#"<validate-jwt query-parameter-name="access_token">
             <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
        secret_b64()
    ));
    let mut ex = exchange();
    ex.query
        .insert("access_token".into(), vec![hs256(valid_claims())]);
    run(&s, &mut ex).expect("token from the query");
    assert_eq!(refused(&s, &mut exchange()).reason, "TokenNotPresent");
}

#[tokio::test]
async fn token_value_expression_source() {
    let s = step(&format!(
        r#"<validate-jwt token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Jwt&quot;, &quot;&quot;))">
             <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
        secret_b64()
    ));
    let mut ex = exchange().with_request_header("X-Jwt", &hs256(valid_claims()));
    run(&s, &mut ex).expect("token from the expression");
    assert_eq!(refused(&s, &mut exchange()).reason, "TokenNotPresent");
}

#[tokio::test]
async fn unsigned_tokens_only_when_allowed() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(json!({ "exp": NOW + 60 }).to_string().as_bytes());
    let token = format!("{header}.{payload}.");
    let f = refused(&hs_step("", ""), &mut bearer(&token));
    assert_eq!(f.reason, "TokenSignatureInvalid");
    run(
        &hs_step(r#"require-signed-tokens="false""#, ""),
        &mut bearer(&token),
    )
    .expect("unsigned allowed");
}

#[tokio::test]
async fn malformed_token_is_jwt_invalid() {
    let f = refused(&hs_step("", ""), &mut bearer("not-a-jwt"));
    assert_eq!(f.reason, "JwtInvalid");
    assert!(!f.message.contains("not-a-jwt"));
}

// ------------------------------------------------------------------------ RSA and EC

pub(super) struct KeyPair {
    pub(super) encoding: EncodingKey,
    jwk: Jwk,
}

fn key_pair(alg: &'static rcgen::SignatureAlgorithm, jwt_alg: Algorithm) -> KeyPair {
    let kp = rcgen::KeyPair::generate_for(alg).expect("test key generates");
    let pem = kp.serialize_pem();
    let encoding = match jwt_alg.family() {
        AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem.as_bytes()),
        _ => EncodingKey::from_ec_pem(pem.as_bytes()),
    }
    .expect("test key loads");
    let jwk = Jwk::from_encoding_key(&encoding, jwt_alg).expect("public jwk");
    KeyPair { encoding, jwk }
}

pub(super) static RSA: LazyLock<KeyPair> =
    LazyLock::new(|| key_pair(&rcgen::PKCS_RSA_SHA256, Algorithm::RS256));
pub(super) static RSA2: LazyLock<KeyPair> =
    LazyLock::new(|| key_pair(&rcgen::PKCS_RSA_SHA256, Algorithm::RS256));
static EC: LazyLock<KeyPair> =
    LazyLock::new(|| key_pair(&rcgen::PKCS_ECDSA_P256_SHA256, Algorithm::ES256));

pub(super) fn jwk_json(k: &KeyPair, kid: &str) -> J {
    let mut v = serde_json::to_value(&k.jwk).expect("jwk serializes");
    if let J::Object(m) = &mut v {
        m.insert("kid".into(), J::String(kid.into()));
        m.insert("use".into(), J::String("sig".into()));
    }
    v
}

#[tokio::test]
async fn rs256_with_modulus_and_exponent() {
    let AlgorithmParameters::RSA(rsa) = &RSA.jwk.algorithm else {
        panic!("RSA jwk");
    };
    let s = step(&format!(
        r#"<validate-jwt header-name="Authorization">
             <issuer-signing-keys><key n="{}" e="{}" /></issuer-signing-keys></validate-jwt>"#,
        rsa.n, rsa.e
    ));
    let token = sign(Algorithm::RS256, None, &valid_claims(), &RSA.encoding);
    run(&s, &mut bearer(&token)).expect("RS256 with n/e");
    let other = sign(Algorithm::RS256, None, &valid_claims(), &RSA2.encoding);
    assert_eq!(
        refused(&s, &mut bearer(&other)).reason,
        "TokenSignatureInvalid"
    );
    // An HMAC token cannot use the RSA key (no algorithm confusion).
    assert_eq!(
        refused(&s, &mut bearer(&hs256(valid_claims()))).reason,
        "TokenSignatureInvalid"
    );
}

/// An identity provider whose JWKS can change; counts requests per URL.
struct Idp {
    jwks: Arc<Mutex<J>>,
    config_hits: Arc<AtomicUsize>,
    jwks_hits: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Idp {
    fn new(keys: Vec<J>) -> Self {
        Idp {
            jwks: Arc::new(Mutex::new(json!({ "keys": keys }))),
            config_hits: Arc::new(AtomicUsize::new(0)),
            jwks_hits: Arc::new(AtomicUsize::new(0)),
            down: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    fn client(&self) -> Arc<dyn HttpClient> {
        let (jwks, config_hits, jwks_hits, down) = (
            self.jwks.clone(),
            self.config_hits.clone(),
            self.jwks_hits.clone(),
            self.down.clone(),
        );
        Arc::new(FnClient(move |req: HttpRequest| {
            if down.load(Ordering::SeqCst) {
                return Err(HttpError::Failed("connection refused".into()));
            }
            let body = match req.url.as_str() {
                CONFIG_URL => {
                    config_hits.fetch_add(1, Ordering::SeqCst);
                    json!({ "issuer": "https://idp.example/", "jwks_uri": JWKS_URL })
                }
                JWKS_URL => {
                    jwks_hits.fetch_add(1, Ordering::SeqCst);
                    jwks.lock().map(|j| j.clone()).unwrap_or(J::Null)
                }
                _ => {
                    return Ok(HttpResponse {
                        status: 404,
                        ..Default::default()
                    });
                }
            };
            Ok(HttpResponse {
                status: 200,
                reason: "OK".into(),
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
            })
        }))
    }

    fn exchange(&self, token: &str) -> TestExchange {
        let mut ex = bearer(token);
        ex.http = self.client();
        ex
    }
}

fn openid_step(children: &str) -> JwtStep {
    step(&format!(
        r#"<validate-jwt header-name="Authorization" require-scheme="Bearer">
             <openid-config url="{CONFIG_URL}" />{children}</validate-jwt>"#
    ))
}

fn idp_claims() -> J {
    json!({ "sub": "alice", "exp": NOW + 600, "iss": "https://idp.example/" })
}

#[tokio::test]
async fn rs256_via_openid_config_is_cached() {
    let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
    let s = openid_step("");
    let token = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
    s.run(&mut idp.exchange(&token))
        .await
        .expect("first request");
    s.run(&mut idp.exchange(&token))
        .await
        .expect("second request");
    // A clone of the step (a recompiled pipeline shares nothing, a clone shares the cache).
    s.clone()
        .run(&mut idp.exchange(&token))
        .await
        .expect("clone");
    assert_eq!(idp.config_hits.load(Ordering::SeqCst), 1);
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

    // The configuration's issuer is the allowed issuer when none is configured.
    let foreign = sign(
        Algorithm::RS256,
        Some("k1"),
        &json!({ "exp": NOW + 600, "iss": "https://other.example/" }),
        &RSA.encoding,
    );
    let f = refused(&s, &mut idp.exchange(&foreign));
    assert_eq!(f.reason, "TokenIssuerNotAllowed");
}

#[tokio::test]
async fn unknown_kid_refetches_once_per_interval() {
    let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
    let s = openid_step("");
    let t1 = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
    s.run(&mut idp.exchange(&t1)).await.expect("k1");
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

    // Key rotation: k2 appears at the IdP; the first k2 token triggers one reload.
    if let Ok(mut j) = idp.jwks.lock() {
        *j = json!({ "keys": [jwk_json(&RSA, "k1"), jwk_json(&RSA2, "k2")] });
    }
    let t2 = sign(Algorithm::RS256, Some("k2"), &idp_claims(), &RSA2.encoding);
    s.run(&mut idp.exchange(&t2))
        .await
        .expect("k2 after reload");
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);

    // Unknown kids do not flood the IdP: one more reload at most, then none.
    let bogus = sign(
        Algorithm::RS256,
        Some("nope"),
        &idp_claims(),
        &RSA2.encoding,
    );
    for _ in 0..5 {
        let f = refused(&s, &mut idp.exchange(&bogus));
        assert_eq!(f.reason, "TokenSignatureKeyNotFound");
        assert!(f.message.contains("'nope'"), "{}", f.message);
    }
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);
    s.run(&mut idp.exchange(&t1)).await.expect("k1 still valid");
    assert_eq!(idp.config_hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn es256_via_openid_config() {
    let idp = Idp::new(vec![jwk_json(&RSA, "r1"), jwk_json(&EC, "e1")]);
    let s = openid_step("<audiences><audience>api://gatehouse</audience></audiences>");
    let claims =
        json!({ "exp": NOW + 600, "iss": "https://idp.example/", "aud": "api://gatehouse" });
    let token = sign(Algorithm::ES256, Some("e1"), &claims, &EC.encoding);
    s.run(&mut idp.exchange(&token)).await.expect("ES256 token");
    // Same kid, wrong key type: refused.
    let mismatched = sign(Algorithm::RS256, Some("e1"), &claims, &RSA.encoding);
    assert_eq!(
        refused(&s, &mut idp.exchange(&mismatched)).reason,
        "TokenSignatureKeyNotFound"
    );
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn openid_fetch_failure_is_401_naming_the_url() {
    let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
    idp.down.store(true, Ordering::SeqCst);
    let s = openid_step("");
    let token = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
    let f = refused(&s, &mut idp.exchange(&token));
    assert_eq!(f.status, 401);
    assert_eq!(f.reason, "TokenSignatureKeyNotFound");
    assert!(f.message.contains(CONFIG_URL), "{}", f.message);
    assert!(!f.message.contains(&token));
    // The failure is remembered: no retry storm within the interval.
    idp.down.store(false, Ordering::SeqCst);
    assert_eq!(refused(&s, &mut idp.exchange(&token)).status, 401);
    assert_eq!(idp.config_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn failed_reload_keeps_the_last_good_key_set() {
    let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
    let s = openid_step("");
    let t1 = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
    s.run(&mut idp.exchange(&t1)).await.expect("k1");
    idp.down.store(true, Ordering::SeqCst);
    let t2 = sign(Algorithm::RS256, Some("k2"), &idp_claims(), &RSA2.encoding);
    assert_eq!(
        refused(&s, &mut idp.exchange(&t2)).reason,
        "TokenSignatureKeyNotFound"
    );
    s.run(&mut idp.exchange(&t1))
        .await
        .expect("old set still serves");
}

#[tokio::test]
async fn inline_key_ids_select_by_kid() {
    let other = b"ffffffffffffffffffffffffffffffff";
    let s = step(&format!(
        r#"<validate-jwt header-name="Authorization">
             <issuer-signing-keys><key id="a">{}</key><key id="b">{}</key></issuer-signing-keys>
           </validate-jwt>"#,
        STANDARD.encode(other),
        secret_b64()
    ));
    let key = EncodingKey::from_secret(SECRET);
    run(
        &s,
        &mut bearer(&sign(Algorithm::HS256, Some("b"), &valid_claims(), &key)),
    )
    .expect("kid b");
    run(
        &s,
        &mut bearer(&sign(Algorithm::HS256, None, &valid_claims(), &key)),
    )
    .expect("no kid: every key is tried");
    let f = refused(
        &s,
        &mut bearer(&sign(Algorithm::HS256, Some("a"), &valid_claims(), &key)),
    );
    assert_eq!(f.reason, "TokenSignatureInvalid");
}

#[tokio::test]
async fn clock_skew_may_be_an_expression() {
    let s = hs_step(r#"clock-skew="@(30 * 2)""#, "");
    run(&s, &mut bearer(&hs256(json!({ "exp": NOW - 45 })))).expect("within 60 s");
    let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW - 90 }))));
    assert_eq!(f.reason, "TokenExpired");
}

#[tokio::test]
async fn key_set_lifetime_follows_max_age_within_bounds() {
    for (header, expected) in [
        (None, DEFAULT_TTL),
        (Some("public, max-age=60"), MIN_TTL),
        (Some("max-age=7200"), Duration::from_secs(7200)),
        (Some("max-age=9999999"), MAX_TTL),
    ] {
        let client = FnClient(move |req: HttpRequest| {
            let body = if req.url == CONFIG_URL {
                json!({ "issuer": "https://idp.example/", "jwks_uri": JWKS_URL })
            } else {
                json!({ "keys": [jwk_json(&EC, "e1"), { "kty": "unknown" }] })
            };
            let headers = header
                .map(|h| vec![("Cache-Control".to_string(), h.to_string())])
                .unwrap_or_default();
            Ok(HttpResponse {
                status: 200,
                reason: "OK".into(),
                headers,
                body: body.to_string().into_bytes(),
            })
        });
        let (set, ttl) = fetch_key_set(&client, CONFIG_URL)
            .await
            .expect("key set loads");
        assert_eq!(ttl, expected, "{header:?}");
        assert_eq!(set.issuer.as_deref(), Some("https://idp.example/"));
        assert_eq!(set.keys.len(), 1, "unknown key types are skipped");
        assert!(set.has_kid("e1"));
    }
}

#[test]
fn run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let s = hs_step("", "");
    let mut ex = exchange();
    let fut = s.run(&mut ex);
    assert_send(&fut);
}

// ---------------------------------------------------------------------------- compile

fn compile_error(e: &PolicyElement) -> CompileError {
    match compile(e) {
        Ok(_) => panic!("compiled"),
        Err(err) => err,
    }
}

#[test]
fn two_token_sources_do_not_compile() {
    let mut e = element(&format!(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
        secret_b64()
    ));
    e.attributes
        .push(("query-parameter-name".into(), DocValue::literal("t")));
    let err = compile_error(&e);
    assert_eq!(err.kind, CompileErrorKind::Attribute);
    assert!(err.message.contains("exactly one"), "{}", err.message);
}

#[test]
fn certificate_id_is_unsupported_and_named() {
    let e = element(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="my-rsa-cert" /></issuer-signing-keys></validate-jwt>"#,
    );
    let err = compile_error(&e);
    assert_eq!(err.kind, CompileErrorKind::Unsupported);
    assert!(err.message.contains("my-rsa-cert"), "{}", err.message);
}

#[test]
fn decryption_keys_are_unsupported() {
    let e = element(&format!(
        r#"<validate-jwt header-name="Authorization"><decryption-keys><key>{}</key></decryption-keys></validate-jwt>"#,
        secret_b64()
    ));
    assert_eq!(compile_error(&e).kind, CompileErrorKind::Unsupported);
}

#[test]
fn bad_clock_skew_and_keys_do_not_compile() {
    let mut e = element(r#"<validate-jwt header-name="Authorization" />"#);
    e.attributes
        .push(("clock-skew".into(), DocValue::literal("five")));
    let err = compile_error(&e);
    assert_eq!(err.kind, CompileErrorKind::Attribute);
    assert!(err.message.contains("clock-skew"), "{}", err.message);

    let e = element(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>not base64!</key></issuer-signing-keys></validate-jwt>"#,
    );
    let err = compile_error(&e);
    assert_eq!(err.kind, CompileErrorKind::Attribute);
    assert!(!err.message.contains("not base64!"), "{}", err.message);

    let e = element(
        r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key n="AQAB" /></issuer-signing-keys></validate-jwt>"#,
    );
    assert_eq!(compile_error(&e).kind, CompileErrorKind::Attribute);
}
