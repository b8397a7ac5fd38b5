//! Signed, expiring tokens for sessions and e-mail links: `payload.mac`, the payload base64url
//! JSON, the MAC HMAC-SHA256 under the portal key with the token's purpose bound in, so a
//! confirmation link cannot serve as a session. Stateless, so every node of a cluster accepts
//! what another issued (they share the key).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Unix seconds.
    pub exp: i64,
    /// What the token is bound to: a fingerprint of the user's password hash for sessions and
    /// resets (a password change ends every session and spends a reset link).
    pub bind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Session,
    Confirm,
    Reset,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Session => "session",
            Purpose::Confirm => "confirm",
            Purpose::Reset => "reset",
        }
    }
}

fn mac(key: &[u8; 32], purpose: Purpose, payload: &str) -> HmacSha256 {
    // HMAC accepts keys of any length: this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(purpose.label().as_bytes());
    m.update(b"\n");
    m.update(payload.as_bytes());
    m
}

pub fn issue(key: &[u8; 32], purpose: Purpose, claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = B64.encode(json);
    let tag = B64.encode(mac(key, purpose, &payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

/// The claims of a genuine, unexpired token of this purpose.
pub fn verify(key: &[u8; 32], purpose: Purpose, token: &str, now: i64) -> Option<Claims> {
    let (payload, tag) = token.split_once('.')?;
    let tag = B64.decode(tag).ok()?;
    mac(key, purpose, payload).verify_slice(&tag).ok()?;
    let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
    (claims.exp > now).then_some(claims)
}

/// A short fingerprint of a password hash (or of its absence).
pub fn fingerprint(password_hash: Option<&str>) -> String {
    let digest = Sha256::digest(password_hash.unwrap_or("").as_bytes());
    hex::encode(&digest[..8])
}

/// HMAC-SHA256 of `data` under the portal key, hex (CSRF tokens).
pub fn hmac_hex(key: &[u8; 32], label: &str, data: &str) -> String {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(label.as_bytes());
    m.update(b"\n");
    m.update(data.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// 32 random bytes as hex: subscription keys, CSRF cookies, ids.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // The OS has no randomness to give: nothing secure can be made; fail closed.
        tracing::error!("the operating system gave no randomness");
        return String::new();
    }
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_purpose_key_and_time() {
        let key = [7u8; 32];
        let c = Claims {
            sub: "u1".into(),
            exp: 1000,
            bind: "x".into(),
        };
        let t = issue(&key, Purpose::Session, &c);
        assert_eq!(verify(&key, Purpose::Session, &t, 999), Some(c.clone()));
        assert_eq!(verify(&key, Purpose::Session, &t, 1000), None, "expired");
        assert_eq!(
            verify(&key, Purpose::Confirm, &t, 999),
            None,
            "other purpose"
        );
        assert_eq!(
            verify(&[8u8; 32], Purpose::Session, &t, 999),
            None,
            "other key"
        );
        let forged = format!("{}x", t);
        assert_eq!(verify(&key, Purpose::Session, &forged, 999), None);
        assert_eq!(verify(&key, Purpose::Session, "garbage", 0), None);
    }
}
