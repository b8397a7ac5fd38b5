//! Password hashing: argon2id with the `argon2` crate's default parameters, as a PHC string.
//! Hashing is deliberately slow, so it runs on the blocking pool, never on the async workers.

use crate::page::PageError;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::{Algorithm, Argon2};
use std::sync::OnceLock;

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Argon2 hashes whatever it is given; this bounds the work one form can ask for.
pub const MAX_LEN: usize = 1024;

/// Why a new password is refused, as the form says it.
pub fn problem(password: &str, confirm: Option<&str>) -> Option<&'static str> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Some("The password must have at least 8 characters.");
    }
    if password.len() > MAX_LEN {
        return Some("The password is too long (at most 1024 bytes).");
    }
    if confirm.is_some_and(|c| c != password) {
        return Some("The two passwords differ.");
    }
    None
}

/// The argon2id PHC string of `password` under a fresh random salt.
pub async fn hash(password: String) -> Result<String, PageError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| PageError::Internal(format!("password hashing task: {e}")))?
}

/// The management API's hasher (crates/admin/src/password.rs), so both write the same hashes.
fn hash_now(password: &str) -> Result<String, PageError> {
    gatehouse_admin::password::hash(password).map_err(|e| PageError::Internal(e.to_string()))
}

/// `password` matches the stored `phc` (only argon2id hashes are accepted). With no stored
/// hash, a dummy hash is checked anyway so that an unknown account takes as long to refuse as
/// a wrong password (no account enumeration by timing).
pub async fn verify(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_now(&password, &phc),
        None => {
            let _ = verify_now(&password, dummy());
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn verify_now(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("not a password of anyone").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse".into()).await.expect("hashes");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse".into(), Some(h.clone())).await);
        assert!(!verify("x".into(), None).await);
        assert!(!verify("x".into(), Some("not a hash".into())).await);
        let again = hash("correct horse".into()).await.expect("hashes");
        assert_ne!(h, again, "fresh salt each time");
    }

    #[test]
    fn new_passwords_are_checked() {
        assert!(problem("short", None).is_some());
        assert!(problem("long enough", Some("other one")).is_some());
        assert_eq!(problem("long enough", Some("long enough")), None);
        assert!(problem(&"x".repeat(2000), None).is_some());
    }
}
