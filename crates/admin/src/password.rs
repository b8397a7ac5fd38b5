//! A user's portal password, written through `PUT/PATCH users/{u}` as `properties.password`
//! (write-only, as APIM's UserCreateParameters): hashed with argon2id into the model's
//! `password_hash` (a PHC string); the password itself is never stored, answered or logged.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHasher, SaltString};
use serde_json::{Map, Value};

/// Longest password accepted: hashing is deliberately slow, so an unbounded input is a cheap
/// way to make the server work.
const MAX_LEN: usize = 1024;

/// Takes `password` out of a request's `properties` and hashes it; `None` when not given.
pub async fn take(props: &mut Map<String, Value>) -> Result<Option<String>, ApiError> {
    let password = match props.remove("password") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ApiError::property(
                "properties.password",
                "must be a string",
            ));
        }
    };
    if password.is_empty() || password.chars().count() > MAX_LEN {
        return Err(ApiError::property(
            "properties.password",
            format!("a password has 1 to {MAX_LEN} characters"),
        ));
    }
    // argon2 takes tens of milliseconds of CPU: off the async workers.
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| ApiError::internal(format!("password hashing stopped: {e}")))?
        .map(Some)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Why a password could not be hashed (the OS gave no randomness, or argon2 refused).
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

/// An argon2id PHC string (the crate's defaults: argon2id v19, m=19456 KiB, t=2, p=1, OWASP's
/// recommendation) with a random 16-byte salt. The one hasher of gatehouse: the management API
/// and the developer portal (crates/portal/src/accounts/password.rs) both call it. Slow by
/// design: call it off the async workers.
pub fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse").expect("hashes");
        let b = hash("correct horse").expect("hashes");
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        let parsed = PasswordHash::new(&a).expect("PHC string");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            argon2::Argon2::default()
                .verify_password(b"wrong", &parsed)
                .is_err()
        );
    }

    #[tokio::test]
    async fn password_is_taken_out_of_the_body() {
        let mut m = serde_json::json!({"email": "a@b.c", "password": "pw"})
            .as_object()
            .cloned()
            .expect("object");
        let h = take(&mut m).await.expect("ok").expect("given");
        assert!(h.starts_with("$argon2id$") && !m.contains_key("password"));
        let mut bad = serde_json::json!({"password": 3})
            .as_object()
            .cloned()
            .expect("object");
        let e = take(&mut bad).await.expect_err("refused");
        assert_eq!(e.details[0].target, "properties.password");
    }
}
