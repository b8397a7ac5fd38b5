//! validate-azure-ad-token on a test exchange, against an Entra-like OpenID configuration
//! served by an in-process client: v1 and v2 issuers, client application ids, audiences,
//! wrong tenant, expired, wrong key, missing token, the authority from the exchange and from
//! `authentication-endpoint`.

use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::Algorithm;
use serde_json::json;

use super::azure_ad::{authority_url, tenant_path};
use super::tests::{NOW, RSA, RSA2, bearer, block, body, element, exchange, jwk_json, sign};
use super::*;
use crate::expr::Object;
use crate::http::{FnClient, HttpResponse};
use crate::pipeline::TestExchange;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const AUTHORITY: &str = "https://login.test";
const CLIENT: &str = "client-app";
const BACKEND: &str = "api://backend";

fn aad(policy: &str) -> AadStep {
    compile_aad(&element(policy)).expect("test policy compiles")
}

fn aad_error(policy: &str) -> CompileError {
    match compile_aad(&element(policy)) {
        Ok(_) => panic!("policy compiled"),
        Err(e) => e,
    }
}

fn standard(attrs: &str) -> AadStep {
    aad(&format!(
        r#"<validate-azure-ad-token tenant-id="{TENANT}" {attrs}>
             <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
             <backend-application-ids><application-id>{BACKEND}</application-id></backend-application-ids>
           </validate-azure-ad-token>"#
    ))
}

/// Entra ID for `authority`: the tenant's configuration (v2 issuer) and its JWKS; counts hits.
fn entra(authority: &'static str, hits: Arc<AtomicUsize>) -> Arc<dyn HttpClient> {
    Arc::new(FnClient(move |req: HttpRequest| {
        hits.fetch_add(1, Ordering::SeqCst);
        let config = format!("{authority}/{TENANT}/v2.0/.well-known/openid-configuration");
        let jwks = format!("{authority}/{TENANT}/discovery/v2.0/keys");
        let body = if req.url == config {
            json!({ "issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
                    "jwks_uri": jwks })
        } else if req.url == jwks {
            json!({ "keys": [jwk_json(&RSA, "entra-1")] })
        } else {
            return Ok(HttpResponse {
                status: 404,
                ..Default::default()
            });
        };
        Ok(HttpResponse {
            status: 200,
            reason: "OK".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
    }))
}

fn with_entra(mut ex: TestExchange) -> TestExchange {
    ex.http = entra(AUTHORITY, Arc::new(AtomicUsize::new(0)));
    ex.entra_authority = Some(AUTHORITY.into());
    ex
}

fn v2_claims() -> J {
    json!({ "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "aud": BACKEND,
            "azp": CLIENT, "tid": TENANT, "sub": "alice", "exp": NOW + 600, "nbf": NOW - 60 })
}

fn v1_claims() -> J {
    json!({ "iss": format!("https://sts.windows.net/{TENANT}/"), "aud": BACKEND,
            "appid": CLIENT, "tid": TENANT, "sub": "alice", "exp": NOW + 600 })
}

fn token(claims: &J) -> String {
    sign(Algorithm::RS256, Some("entra-1"), claims, &RSA.encoding)
}

fn outcome(s: &AadStep, ex: &mut TestExchange) -> Result<(), Failure> {
    block(s.run(ex))
}

fn refused(s: &AadStep, claims: J) -> Failure {
    match outcome(s, &mut with_entra(bearer(&token(&claims)))) {
        Ok(()) => panic!("token was accepted"),
        Err(f) => f,
    }
}

#[test]
fn v2_and_v1_tokens_are_accepted_and_stored() {
    let s = standard(r#"output-token-variable-name="jwt""#);
    let mut ex = with_entra(bearer(&token(&v2_claims())));
    outcome(&s, &mut ex).expect("v2 token");
    let Some(Value::Object(Object::Record(jwt))) = ex.variable("jwt").cloned() else {
        panic!("jwt variable is a record");
    };
    assert_eq!(jwt.get("Subject"), Some(&Value::str("alice")));
    outcome(&s, &mut with_entra(bearer(&token(&v1_claims())))).expect("v1 token");
    // The v2 issuer under the configured authority is the tenant's too.
    let mut c = v2_claims();
    c["iss"] = json!(format!("{AUTHORITY}/{TENANT}/v2.0"));
    outcome(&s, &mut with_entra(bearer(&token(&c)))).expect("authority's v2 issuer");
}

#[test]
fn key_set_is_fetched_once_from_the_authority() {
    let s = standard("");
    let hits = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let mut ex = bearer(&token(&v2_claims()));
        ex.http = entra(AUTHORITY, hits.clone());
        ex.entra_authority = Some(AUTHORITY.into());
        outcome(&s, &mut ex).expect("valid token");
    }
    // The configuration and the JWKS, once.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn wrong_client_application_is_refused() {
    let s = standard("");
    let mut c = v2_claims();
    c["azp"] = json!("someone-else");
    let f = refused(&s, c);
    assert_eq!(f.status, 401);
    assert_eq!(f.reason, "TokenClaimValueNotAllowed");
    assert!(f.message.contains("someone-else"), "{}", f.message);
    assert_eq!(body(&f)["message"], "Invalid JWT.");
    let mut c = v1_claims();
    c.as_object_mut().map(|m| m.remove("appid"));
    assert_eq!(refused(&s, c).reason, "TokenClaimValueNotAllowed");
}

#[test]
fn wrong_tenant_audience_expiry_and_key_are_refused() {
    let s = standard(r#"failed-validation-error-message="Not for you""#);
    let mut c = v2_claims();
    c["iss"] = json!("https://login.microsoftonline.com/99999999-0000-0000-0000-000000000000/v2.0");
    let f = refused(&s, c);
    assert_eq!(
        (f.status, f.reason.as_str()),
        (401, "TokenIssuerNotAllowed")
    );
    assert_eq!(body(&f)["message"], "Not for you");
    let mut c = v1_claims();
    c["iss"] = json!("https://sts.windows.net/other-tenant/");
    assert_eq!(refused(&s, c).reason, "TokenIssuerNotAllowed");

    let mut c = v2_claims();
    c["aud"] = json!("api://another");
    assert_eq!(refused(&s, c).reason, "TokenAudienceNotAllowed");

    let mut c = v2_claims();
    c["exp"] = json!(NOW - 600);
    c["nbf"] = json!(NOW - 1200);
    assert_eq!(refused(&s, c).reason, "TokenExpired");

    let forged = sign(
        Algorithm::RS256,
        Some("entra-1"),
        &v2_claims(),
        &RSA2.encoding,
    );
    let f = match outcome(&s, &mut with_entra(bearer(&forged))) {
        Err(f) => f,
        Ok(()) => panic!("forged token accepted"),
    };
    assert_eq!(f.reason, "TokenSignatureInvalid");
    let unknown = sign(Algorithm::RS256, Some("other"), &v2_claims(), &RSA.encoding);
    let f = match outcome(&s, &mut with_entra(bearer(&unknown))) {
        Err(f) => f,
        Ok(()) => panic!("unknown kid accepted"),
    };
    assert_eq!(f.reason, "TokenSignatureKeyNotFound");
}

#[test]
fn missing_token_is_401_not_present() {
    let s = standard(r#"failed-validation-httpcode="403""#);
    let f = outcome(&s, &mut with_entra(exchange())).expect_err("no token");
    assert_eq!((f.status, f.reason.as_str()), (403, "TokenNotPresent"));
    assert_eq!(body(&f)["message"], "JWT not present.");
    // The Authorization header must use the Bearer scheme.
    let mut ex = with_entra(
        exchange().with_request_header("Authorization", &format!("Basic {}", token(&v2_claims()))),
    );
    assert_eq!(
        outcome(&s, &mut ex).expect_err("basic").reason,
        "JwtInvalid"
    );
}

#[test]
fn authentication_endpoint_overrides_the_gateway_authority() {
    let s = standard(r#"authentication-endpoint="login.other.test""#);
    let mut ex = bearer(&token(&v2_claims()));
    ex.http = entra("https://login.other.test", Arc::new(AtomicUsize::new(0)));
    ex.entra_authority = Some(AUTHORITY.into());
    outcome(&s, &mut ex).expect("keys from the policy's endpoint");
    // Without either, the public cloud is asked, which this client does not serve.
    let f = outcome(&standard(""), &mut {
        let mut ex = bearer(&token(&v2_claims()));
        ex.http = entra(AUTHORITY, Arc::new(AtomicUsize::new(0)));
        ex
    })
    .expect_err("public cloud not reachable here");
    assert_eq!(f.reason, "TokenSignatureKeyNotFound");
    assert!(
        f.message
            .contains("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/.well-known/openid-configuration"),
        "{}",
        f.message
    );
}

#[test]
fn required_claims_apply() {
    let s = aad(&format!(
        r#"<validate-azure-ad-token tenant-id="{TENANT}">
             <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
             <required-claims><claim name="roles" match="any"><value>admin</value></claim></required-claims>
           </validate-azure-ad-token>"#
    ));
    let mut c = v2_claims();
    c["roles"] = json!(["reader", "admin"]);
    outcome(&s, &mut with_entra(bearer(&token(&c)))).expect("has the role");
    c["roles"] = json!(["reader"]);
    assert_eq!(refused(&s, c).reason, "TokenClaimValueNotAllowed");
}

#[test]
fn compile_errors() {
    let no_clients = aad_error(&format!(
        r#"<validate-azure-ad-token tenant-id="{TENANT}"><audiences><audience>a</audience></audiences></validate-azure-ad-token>"#
    ));
    assert!(
        no_clients.message.contains("client-application-ids"),
        "{no_clients:?}"
    );
    let two = aad_error(
        r#"<validate-azure-ad-token tenant-id="t" header-name="A" token-value="x">
             <client-application-ids><application-id>c</application-id></client-application-ids>
           </validate-azure-ad-token>"#,
    );
    assert!(two.message.contains("at most one"), "{two:?}");
    let bad_tenant = aad_error(
        r#"<validate-azure-ad-token tenant-id="a/b">
             <client-application-ids><application-id>c</application-id></client-application-ids>
           </validate-azure-ad-token>"#,
    );
    assert!(bad_tenant.message.contains("tenant-id"), "{bad_tenant:?}");
    let decrypt = aad_error(
        r#"<validate-azure-ad-token tenant-id="t">
             <client-application-ids><application-id>c</application-id></client-application-ids>
             <decryption-keys><key>AAAA</key></decryption-keys>
           </validate-azure-ad-token>"#,
    );
    assert_eq!(decrypt.kind, CompileErrorKind::Unsupported);
}

#[test]
fn tenant_and_authority_forms() {
    assert_eq!(
        tenant_path("https://contoso.onmicrosoft.com/"),
        Some("contoso.onmicrosoft.com")
    );
    assert_eq!(
        tenant_path(" contoso.onmicrosoft.com "),
        Some("contoso.onmicrosoft.com")
    );
    assert_eq!(tenant_path(""), None);
    assert_eq!(tenant_path("../x"), None);
    assert_eq!(
        authority_url("login.microsoftonline.us"),
        Some("https://login.microsoftonline.us".into())
    );
    assert_eq!(
        authority_url("http://127.0.0.1:9/"),
        Some("http://127.0.0.1:9".into())
    );
    assert_eq!(authority_url("https://a.test/?x"), None);
    assert_eq!(authority_url(""), None);
}

#[test]
fn query_parameter_source_and_tenant_expression() {
    let s = aad(&format!(
        r#"<validate-azure-ad-token tenant-id="@((string)context.Variables[&quot;tenant&quot;])" query-parameter-name="access_token">
             <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
           </validate-azure-ad-token>"#
    ));
    let mut ex = with_entra(exchange());
    ex.context.variable("tenant", TENANT);
    ex.query
        .insert("access_token".into(), vec![token(&v1_claims())]);
    outcome(&s, &mut ex).expect("token from the query, tenant from a variable");
    // A tenant that is not a path segment is an expression failure, not a token problem.
    let mut ex = with_entra(exchange());
    ex.context.variable("tenant", "../admin");
    ex.query
        .insert("access_token".into(), vec![token(&v1_claims())]);
    let f = outcome(&s, &mut ex).expect_err("bad tenant");
    assert_ne!(f.status, 401, "{f:?}");
    assert!(f.message.contains("tenant-id"), "{}", f.message);
}

#[test]
fn tenant_by_domain_accepts_the_configurations_tenant_id() {
    // Entra ID answers for a domain with the configuration of the tenant's GUID.
    let source = OpenIdSource::new("https://login.test/contoso.onmicrosoft.com/v2.0/x");
    source.lock().set = Some(Arc::new(KeySet {
        issuer: Some(format!("https://login.microsoftonline.com/{TENANT}/v2.0")),
        keys: Vec::new(),
    }));
    let allowed = azure_ad::allowed_issuers(AUTHORITY, "contoso.onmicrosoft.com", &source);
    for want in [
        format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        format!("https://sts.windows.net/{TENANT}/"),
        format!("{AUTHORITY}/contoso.onmicrosoft.com/v2.0"),
        "https://sts.windows.net/contoso.onmicrosoft.com/".to_string(),
    ] {
        assert!(allowed.contains(&want), "{want} not in {allowed:?}");
    }
}
