//! A compact JWS taken apart: header and claims decoded, NumericDate claims read, claim
//! values as .NET shows them, and the `Jwt` object stored in output-token-variable-name.

use super::*;

/// A decoded token: header and claims (the signature is checked separately).
pub(super) struct Token<'a> {
    pub(super) header: serde_json::Map<String, J>,
    pub(super) claims: serde_json::Map<String, J>,
    /// `header.payload`, the signed bytes.
    pub(super) message: &'a str,
    pub(super) signature: &'a str,
}

/// Splits and decodes a compact JWS. Encrypted tokens (five parts) are refused.
pub(super) fn parse_token(raw: &str) -> Result<Token<'_>, Denial> {
    let malformed = || Denial::invalid("The token is not a well-formed JWT.");
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() == 5 {
        return Err(Denial::invalid(
            "The token is encrypted (JWE); decryption is not supported.",
        ));
    }
    let [header, payload, signature] = parts[..] else {
        return Err(malformed());
    };
    let object = |part: &str| -> Option<serde_json::Map<String, J>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        match serde_json::from_slice::<J>(&bytes).ok()? {
            J::Object(m) => Some(m),
            _ => None,
        }
    };
    let header_map = object(header).ok_or_else(malformed)?;
    let claims = object(payload).ok_or_else(malformed)?;
    let message_len = header.len() + 1 + payload.len();
    Ok(Token {
        header: header_map,
        claims,
        message: &raw[..message_len],
        signature,
    })
}

/// A NumericDate claim in whole seconds; a non-numeric value makes the token invalid.
pub(super) fn time_claim(
    claims: &serde_json::Map<String, J>,
    name: &str,
) -> Result<Option<i64>, Denial> {
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
            .ok_or_else(|| Denial::invalid(format!("The '{name}' claim is not a valid time."))),
        Some(_) => Err(Denial::invalid(format!(
            "The '{name}' claim is not a valid time."
        ))),
    }
}

pub(super) fn show_time(unix: i64) -> String {
    match DateTime::from_unix_seconds(unix) {
        Some(t) => {
            let p = t.parts();
            format!(
                "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
                p.month, p.day, p.year, p.hour, p.minute, p.second
            )
        }
        None => unix.to_string(),
    }
}

/// Text from the token shown in a message: control characters removed, length bounded.
pub(super) fn printable(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// A claim's values as strings, as .NET's JWT handler exposes them.
pub(super) fn claim_strings(v: &J) -> Vec<String> {
    match v {
        J::Array(items) => items.iter().map(scalar_string).collect(),
        other => vec![scalar_string(other)],
    }
}

pub(super) fn scalar_string(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// The `Jwt` object APIM stores in output-token-variable-name.
pub(super) fn jwt_value(token: &Token<'_>) -> Value {
    let str_claim = |name: &str| match token.claims.get(name) {
        Some(J::String(s)) => Value::str(s),
        _ => Value::Null,
    };
    let time = |name: &str| {
        time_claim(&token.claims, name)
            .ok()
            .flatten()
            .and_then(DateTime::from_unix_seconds)
            .map_or(Value::Null, Value::DateTime)
    };
    let header_str = |name: &str| match token.header.get(name) {
        Some(J::String(s)) => Value::str(s),
        _ => Value::Null,
    };
    let audiences = token
        .claims
        .get("aud")
        .map(claim_strings)
        .unwrap_or_default()
        .into_iter()
        .map(Value::str)
        .collect();
    let claims: BTreeMap<String, Value> = token
        .claims
        .iter()
        .map(|(k, v)| {
            let values = claim_strings(v).into_iter().map(Value::str).collect();
            (k.clone(), Value::Array(values))
        })
        .collect();
    let mut r = BTreeMap::new();
    r.insert("Algorithm".to_string(), header_str("alg"));
    r.insert("Type".to_string(), header_str("typ"));
    r.insert("Id".to_string(), str_claim("jti"));
    r.insert("Issuer".to_string(), str_claim("iss"));
    r.insert("Subject".to_string(), str_claim("sub"));
    r.insert("Audiences".to_string(), Value::Array(audiences));
    r.insert("ExpirationTime".to_string(), time("exp"));
    r.insert("NotBefore".to_string(), time("nbf"));
    r.insert("IssuedAt".to_string(), time("iat"));
    r.insert(
        "Claims".to_string(),
        Value::Object(Object::Dictionary(Arc::new(claims))),
    );
    Value::Object(Object::Record(Arc::new(r)))
}
