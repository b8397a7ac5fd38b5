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
    let object = crate::expr::jws_json_part;
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
    crate::expr::numeric_date(claims, name).map_err(|e| Denial::invalid(e.to_string()))
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

/// A claim's values as strings, as .NET's JWT handler exposes them (shared with the
/// expression library's `AsJwt()`).
pub(super) use crate::expr::claim_strings;

/// The `Jwt` object APIM stores in output-token-variable-name: the same object `AsJwt()` gives
/// (crates/expr/src/library/apim_auth.rs).
pub(super) fn jwt_value(token: &Token<'_>) -> Value {
    crate::expr::jwt_object(&token.header, &token.claims)
}
