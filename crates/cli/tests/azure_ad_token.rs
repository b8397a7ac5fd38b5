//! End to end: validate-azure-ad-token run by the real `gatehouse` binary against a loopback
//! stand-in for Microsoft Entra ID (`gateway.entra_authority`), its OpenID configuration and
//! keys fetched through the egress guard: RS256 tokens with the v2 and v1 issuers pass; a
//! wrong client application, a wrong tenant, an expired token, a wrong key and a missing token
//! are refused with 401 before the backend; the key set is fetched once.

use gatehouse_testkit::{Gatehouse, MockBackend, ScriptedBackend, ScriptedResponse, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "0f5e5e5e-client-app";
const BACKEND_APP: &str = "api://orders";

/// An RS256 key pair: the signing key and its public JWK (with `kid`).
fn rs256_key(kid: &str) -> (EncodingKey, Value) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key pair");
    let key = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).expect("RSA PEM");
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::RS256).expect("JWK");
    jwk.common.key_id = Some(kid.to_string());
    (key, serde_json::to_value(&jwk).expect("JWK as JSON"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn token(key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("entra-k1".into());
    encode(&header, claims, key).expect("signing the token")
}

fn v2_claims() -> Value {
    json!({ "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "aud": BACKEND_APP,
            "azp": CLIENT, "tid": TENANT, "sub": "ann", "iat": now(), "exp": now() + 600 })
}

fn v1_claims() -> Value {
    json!({ "iss": format!("https://sts.windows.net/{TENANT}/"), "aud": BACKEND_APP,
            "appid": CLIENT, "tid": TENANT, "sub": "ann", "iat": now(), "exp": now() + 600 })
}

#[tokio::test]
async fn validate_azure_ad_token_checks_tokens_against_the_tenants_keys() {
    let (key, jwk) = rs256_key("entra-k1");
    let (other_key, _) = rs256_key("entra-k1");
    let jwks = json!({ "keys": [jwk] });
    let own_url: Arc<OnceLock<String>> = Arc::default();
    let entra = {
        let own_url = own_url.clone();
        ScriptedBackend::start(move |r| {
            let base = own_url.get().cloned().unwrap_or_default();
            if r.path == format!("/{TENANT}/v2.0/.well-known/openid-configuration") {
                ScriptedResponse::json(&json!({
                    "issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
                    "jwks_uri": format!("{base}/{TENANT}/discovery/v2.0/keys"),
                }))
            } else if r.path == format!("/{TENANT}/discovery/v2.0/keys") {
                ScriptedResponse::json(&jwks)
            } else {
                ScriptedResponse::new(404)
            }
        })
        .await
        .expect("Entra ID stand-in")
    };
    own_url.set(entra.url()).expect("set once");
    let backend = MockBackend::start().await.expect("backend");

    let addr: SocketAddr = free_addr();
    let policies = format!(
        r#"<policies>
    <inbound>
        <validate-azure-ad-token tenant-id="{TENANT}">
            <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
            <backend-application-ids><application-id>{BACKEND_APP}</application-id></backend-application-ids>
        </validate-azure-ad-token>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"#
    );
    let mut cfg = format!(
        "service: {{ name: aad }}\nnetwork: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}\ngateway:\n  listeners: [ {{ address: \"{addr}\" }} ]\n  entra_authority: \"{}\"\napis:\n  - id: orders\n    path: orders\n    backend: \"{}\"\n    subscription_required: false\n    operations: [ {{ id: any, method: \"*\", url_template: \"/*\" }} ]\n    policies: |\n",
        entra.url(),
        backend.url()
    );
    for line in policies.lines() {
        cfg.push_str("      ");
        cfg.push_str(line);
        cfg.push('\n');
    }
    let _gw = Gatehouse::start(Path::new(BIN), &cfg, addr)
        .await
        .unwrap_or_else(|e| panic!("gatehouse starts with\n{cfg}\n: {e:#}"));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let url = format!("http://{addr}/orders/42");
    let send = |t: Option<String>| {
        let mut req = client.get(&url);
        if let Some(t) = t {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        async move {
            let resp = req.send().await.expect("response from the gateway");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        }
    };

    for (what, claims) in [("v2", v2_claims()), ("v1", v1_claims())] {
        let (status, body) = send(Some(token(&key, &claims))).await;
        assert_eq!(status, 200, "{what} token: {body}");
    }
    assert_eq!(backend.request_count(), 2);

    let mut wrong_app = v2_claims();
    wrong_app["azp"] = json!("someone-else");
    let mut wrong_tenant = v2_claims();
    wrong_tenant["iss"] = json!("https://login.microsoftonline.com/another-tenant/v2.0");
    let mut expired = v1_claims();
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 7200);
    let refused = [
        ("wrong app id", Some(token(&key, &wrong_app))),
        ("wrong tenant", Some(token(&key, &wrong_tenant))),
        ("expired", Some(token(&key, &expired))),
        ("wrong key", Some(token(&other_key, &v2_claims()))),
    ];
    for (what, t) in refused {
        let (status, body) = send(t).await;
        assert_eq!(status, 401, "{what}: {body}");
        let json: Value = serde_json::from_str(&body).expect("APIM's JSON error body");
        assert_eq!(
            json,
            json!({ "statusCode": 401, "message": "Invalid JWT." }),
            "{what}"
        );
    }
    let (status, body) = send(None).await;
    assert_eq!(status, 401, "missing token: {body}");
    let json: Value = serde_json::from_str(&body).expect("APIM's JSON error body");
    assert_eq!(
        json,
        json!({ "statusCode": 401, "message": "JWT not present." })
    );

    assert_eq!(
        backend.request_count(),
        2,
        "refused requests never reach the backend"
    );
    assert_eq!(
        entra.count_path(&format!("/{TENANT}/v2.0/.well-known/openid-configuration")),
        1,
        "the OpenID configuration is fetched once: {:?}",
        entra.requests()
    );
    assert_eq!(
        entra.count_path(&format!("/{TENANT}/discovery/v2.0/keys")),
        1
    );
}
