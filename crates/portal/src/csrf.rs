//! CSRF protection: every visitor holds a random `gh_csrf` cookie (HttpOnly, SameSite=Lax);
//! every form carries `csrf` = HMAC(portal key, cookie). A POST whose field does not match its
//! cookie is refused with 403 before anything else runs. Another site can make a browser send
//! the cookie (not on cross-site POSTs with Lax) but can never read it to compute the field.

use crate::sign;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "gh_csrf";
pub const FIELD: &str = "csrf";

/// The visitor's CSRF cookie value, put in the request's extensions by the security layer.
#[derive(Debug, Clone)]
pub struct CsrfCookie(pub String);

/// The token forms carry for this cookie.
pub fn token(key: &[u8; 32], cookie: &str) -> String {
    sign::hmac_hex(key, "csrf", cookie)
}

/// `field` is the token for `cookie`.
pub fn check(key: &[u8; 32], cookie: &str, field: Option<&str>) -> bool {
    match field {
        Some(f) if !cookie.is_empty() => {
            let want = token(key, cookie);
            want.as_bytes().ct_eq(f.as_bytes()).into()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cookies_own_token_passes() {
        let key = [1u8; 32];
        let t = token(&key, "abc");
        assert!(check(&key, "abc", Some(&t)));
        assert!(!check(&key, "abd", Some(&t)));
        assert!(!check(&key, "abc", None));
        assert!(!check(&key, "", Some(&token(&key, ""))));
    }
}
