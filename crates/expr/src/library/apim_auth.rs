//! APIM's string extensions for credentials, listed on its "policy expressions" page:
//! `AsJwt()` / `TryParseJwt(out Jwt)` and `AsBasic()` / `TryParseBasic(out
//! BasicAuthCredentials)`, and the `Jwt` object itself, which validate-jwt's
//! output-token-variable-name holds too (crates/policy/src/pipeline/jwt/token.rs builds it
//! here).
//!
//! APIM's semantics: the input is an Authorization header value or a bare credential; parsing
//! checks the shape only (a JWT's signature, lifetime and audience are validate-jwt's job), and
//! anything that is not one gives null (`As…`) or false (`TryParse…`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value as J};

use crate::datetime::DateTime;
use crate::value::{Object, Value};

/// The credential after an optional `scheme ` prefix (case-insensitive), trimmed.
fn credential<'a>(input: &'a str, scheme: &str) -> &'a str {
    let t = input.trim();
    match t.split_once(' ') {
        Some((s, rest)) if s.eq_ignore_ascii_case(scheme) => rest.trim(),
        _ => t,
    }
}

/// A JSON object from one base64url part of a compact JWS (its header or its claims); also
/// validate-jwt's decoding (crates/policy/src/pipeline/jwt/token.rs).
pub fn jws_json_part(part: &str) -> Option<Map<String, J>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice::<J>(&bytes).ok()? {
        J::Object(m) => Some(m),
        _ => None,
    }
}

/// `s.AsJwt()`: the token of a `Bearer` header value or a bare compact JWS, or null.
pub(crate) fn as_jwt(s: &str) -> Value {
    let token = credential(s, "Bearer");
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts[..] else {
        return Value::Null;
    };
    match (jws_json_part(header), jws_json_part(payload)) {
        (Some(h), Some(c)) => jwt_object(&h, &c),
        _ => Value::Null,
    }
}

/// `s.AsBasic()`: user id and password of a `Basic` header value (or its bare base64), or
/// null when it is not base64 of UTF-8 text with a colon.
pub(crate) fn as_basic(s: &str) -> Value {
    let Ok(bytes) = STANDARD.decode(credential(s, "Basic")) else {
        return Value::Null;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Value::Null;
    };
    let Some((user, password)) = text.split_once(':') else {
        return Value::Null;
    };
    let mut r = BTreeMap::new();
    r.insert("UserId".to_string(), Value::str(user));
    r.insert("Password".to_string(), Value::str(password));
    Value::Object(Object::Record(Arc::new(r)))
}

/// A claim's values as strings, as .NET's JWT handler exposes them (an array claim is its
/// elements; a number or boolean its JSON text).
pub fn claim_strings(v: &J) -> Vec<String> {
    match v {
        J::Array(items) => items.iter().map(scalar_string).collect(),
        other => vec![scalar_string(other)],
    }
}

fn scalar_string(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// A NumericDate claim that is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The '{0}' claim is not a valid time.")]
pub struct NotATime(pub String);

/// A NumericDate claim in whole seconds (a fraction is dropped, as .NET does); `Err` when the
/// claim is there but is not a number.
pub fn numeric_date(claims: &Map<String, J>, name: &str) -> Result<Option<i64>, NotATime> {
    match claims.get(name) {
        None | Some(J::Null) => Ok(None),
        Some(J::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| NotATime(name.to_string())),
        Some(_) => Err(NotATime(name.to_string())),
    }
}

/// APIM's `Jwt` object from a token's decoded header and claims: Algorithm, Type, Id, Issuer,
/// Subject, Audiences, ExpirationTime, NotBefore, IssuedAt (UTC, null when absent) and Claims
/// (each claim's values as strings).
pub fn jwt_object(header: &Map<String, J>, claims: &Map<String, J>) -> Value {
    let str_of = |m: &Map<String, J>, name: &str| match m.get(name) {
        Some(J::String(s)) => Value::str(s),
        _ => Value::Null,
    };
    let time = |name: &str| {
        numeric_date(claims, name)
            .ok()
            .flatten()
            .and_then(DateTime::from_unix_seconds)
            .map_or(Value::Null, Value::DateTime)
    };
    let audiences = claims
        .get("aud")
        .map(claim_strings)
        .unwrap_or_default()
        .into_iter()
        .map(Value::str)
        .collect();
    let claim_values: BTreeMap<String, Value> = claims
        .iter()
        .map(|(k, v)| {
            let values = claim_strings(v).into_iter().map(Value::str).collect();
            (k.clone(), Value::Array(values))
        })
        .collect();
    let mut r = BTreeMap::new();
    r.insert("Algorithm".to_string(), str_of(header, "alg"));
    r.insert("Type".to_string(), str_of(header, "typ"));
    r.insert("Id".to_string(), str_of(claims, "jti"));
    r.insert("Issuer".to_string(), str_of(claims, "iss"));
    r.insert("Subject".to_string(), str_of(claims, "sub"));
    r.insert("Audiences".to_string(), Value::Array(audiences));
    r.insert("ExpirationTime".to_string(), time("exp"));
    r.insert("NotBefore".to_string(), time("nbf"));
    r.insert("IssuedAt".to_string(), time("iat"));
    r.insert(
        "Claims".to_string(),
        Value::Object(Object::Dictionary(Arc::new(claim_values))),
    );
    Value::Object(Object::Record(Arc::new(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_from_a_header_value() {
        // "user:pa:ss" — the password keeps its colons.
        let Value::Object(Object::Record(r)) = as_basic("Basic dXNlcjpwYTpzcw==") else {
            panic!("not parsed");
        };
        assert_eq!(r.get("UserId"), Some(&Value::str("user")));
        assert_eq!(r.get("Password"), Some(&Value::str("pa:ss")));
        assert_eq!(as_basic("Basic !!!"), Value::Null);
        assert_eq!(as_basic("Basic dXNlcg=="), Value::Null); // "user": no colon
    }

    #[test]
    fn jwt_needs_three_parts_of_json() {
        assert_eq!(as_jwt("abc.def"), Value::Null);
        assert_eq!(as_jwt("Bearer a.b.c"), Value::Null);
        // {"alg":"none"} . {"sub":"ada","aud":["x","y"],"exp":1700000000}
        let t =
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEiLCJhdWQiOlsieCIsInkiXSwiZXhwIjoxNzAwMDAwMDAwfQ.";
        let Value::Object(Object::Record(r)) = as_jwt(&format!("bearer {t}")) else {
            panic!("not parsed");
        };
        assert_eq!(r.get("Subject"), Some(&Value::str("ada")));
        assert_eq!(r.get("Algorithm"), Some(&Value::str("none")));
        assert_eq!(
            r.get("Audiences"),
            Some(&Value::Array(vec![Value::str("x"), Value::str("y")]))
        );
    }
}
