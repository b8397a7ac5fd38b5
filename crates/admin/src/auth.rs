//! APIM's direct management API authentication: `Authorization: SharedAccessSignature
//! uid=…&ex=…&sn=…`, where `sn` is base64(HMAC-SHA512(key, "uid\nex")) and `ex` is written
//! `2026-12-07T08:00:00.0000000Z` (seven fractional digits, as .NET's "o" format in UTC).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_model::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::backing::AccessKeys;

type HmacSha512 = Hmac<Sha512>;

/// Why a token is refused (the message of the 401 body; never holds the key or signature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Authorization header is missing")]
    Missing,
    #[error("Authorization header is not a SharedAccessSignature token: {0}")]
    Malformed(&'static str),
    #[error("the token expired")]
    Expired,
    #[error("the token's signature does not match an access key")]
    BadSignature,
}

/// APIM's expiry format: `yyyy-MM-ddTHH:mm:ss.fffffffZ`.
pub fn format_expiry(expiry: OffsetDateTime) -> String {
    let utc = expiry.to_offset(time::UtcOffset::UTC);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    // Formatting a UTC date with a fixed description cannot fail for years 0..=9999;
    // outside that range the token would be refused anyway, so an empty date is fine.
    let date = utc.format(&fmt).unwrap_or_default();
    format!("{date}.{:07}Z", utc.nanosecond() / 100)
}

fn parse_expiry(s: &str) -> Option<OffsetDateTime> {
    let (main, rest) = s
        .strip_suffix('Z')?
        .split_once('.')
        .unwrap_or((s.strip_suffix('Z')?, ""));
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let dt = time::PrimitiveDateTime::parse(main, &fmt).ok()?;
    if !rest.chars().all(|c| c.is_ascii_digit()) || rest.len() > 9 {
        return None;
    }
    let nanos: u32 = if rest.is_empty() {
        0
    } else {
        format!("{rest:0<9}").parse().ok()?
    };
    dt.replace_nanosecond(nanos).ok().map(|d| d.assume_utc())
}

fn sign(uid: &str, ex: &str, key: &Secret) -> Vec<u8> {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    let mut mac = match HmacSha512::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(uid.as_bytes());
    mac.update(b"\n");
    mac.update(ex.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `gatehouse admin token`: the header value `SharedAccessSignature uid=…&ex=…&sn=…`.
pub fn sas_token(uid: &str, expiry: OffsetDateTime, key: &Secret) -> String {
    let ex = format_expiry(expiry);
    let sn = STANDARD.encode(sign(uid, &ex, key));
    format!("SharedAccessSignature uid={uid}&ex={ex}&sn={sn}")
}

/// Checks an `Authorization` header value against both access keys; returns the uid.
pub fn verify(
    header: Option<&str>,
    keys: &AccessKeys,
    now: OffsetDateTime,
) -> Result<String, AuthError> {
    let header = header.ok_or(AuthError::Missing)?.trim();
    let token = header
        .strip_prefix("SharedAccessSignature ")
        .ok_or(AuthError::Malformed(
            "expected 'SharedAccessSignature uid=…&ex=…&sn=…'",
        ))?
        .trim();
    let (mut uid, mut ex, mut sn) = (None, None, None);
    // The signature is base64 and may itself hold '=': split each pair at its first '='.
    for part in token.split('&') {
        match part.split_once('=') {
            Some(("uid", v)) => uid = Some(v),
            Some(("ex", v)) => ex = Some(v),
            Some(("sn", v)) => sn = Some(v),
            _ => return Err(AuthError::Malformed("unknown field")),
        }
    }
    let (Some(uid), Some(ex), Some(sn)) = (uid, ex, sn) else {
        return Err(AuthError::Malformed("uid, ex and sn are required"));
    };
    if uid.is_empty() {
        return Err(AuthError::Malformed("uid is empty"));
    }
    let expiry = parse_expiry(ex).ok_or(AuthError::Malformed(
        "ex is not a date such as 2026-12-07T08:00:00.0000000Z",
    ))?;
    let given = STANDARD
        .decode(sn)
        .map_err(|_| AuthError::Malformed("sn is not base64"))?;
    let mut ok = subtle::Choice::from(0u8);
    for key in [&keys.primary, &keys.secondary] {
        if key.expose().is_empty() {
            continue;
        }
        ok |= sign(uid, ex, key).ct_eq(&given);
    }
    if !bool::from(ok) {
        return Err(AuthError::BadSignature);
    }
    if expiry <= now {
        return Err(AuthError::Expired);
    }
    Ok(uid.to_string())
}

/// The key that signs Git passwords, derived from an access key: a Git password is then never
/// also a management API token (APIM keeps Git access apart from management access too).
fn git_key(key: &Secret) -> Secret {
    if key.expose().is_empty() {
        return Secret::new("");
    }
    let mut mac = match HmacSha512::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => return Secret::new(""),
    };
    mac.update(b"gatehouse git access");
    Secret::new(STANDARD.encode(mac.finalize().into_bytes()))
}

/// The Git user's name, as in APIM.
pub const GIT_USER: &str = "apim";

/// A password of the Git endpoint (user [`GIT_USER`]), valid until `expiry`:
/// `git&<expiry>&<signature>`, as `POST users/git/token` answers it.
pub fn git_password(expiry: OffsetDateTime, key: &Secret) -> String {
    let ex = format_expiry(expiry);
    let sn = STANDARD.encode(sign("git", &ex, &git_key(key)));
    format!("git&{ex}&{sn}")
}

/// Checks a Git endpoint password against both access keys.
pub fn verify_git_password(
    password: &str,
    keys: &AccessKeys,
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    let mut parts = password.trim().splitn(3, '&');
    let (Some("git"), Some(ex), Some(sn)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Malformed(
            "a Git password is 'git&<expiry>&<signature>' (POST users/git/token)",
        ));
    };
    let derived = AccessKeys {
        primary: git_key(&keys.primary),
        secondary: git_key(&keys.secondary),
    };
    let header = format!("SharedAccessSignature uid=git&ex={ex}&sn={sn}");
    verify(Some(&header), &derived, now).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn keys() -> AccessKeys {
        AccessKeys {
            primary: Secret::new("p-key"),
            secondary: Secret::new("s-key"),
        }
    }

    #[test]
    fn expiry_has_seven_fraction_digits() {
        assert_eq!(
            format_expiry(datetime!(2026-12-07 08:00:00 UTC)),
            "2026-12-07T08:00:00.0000000Z"
        );
        assert_eq!(
            parse_expiry("2026-12-07T08:00:00.0000000Z"),
            Some(datetime!(2026-12-07 08:00:00 UTC))
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let now = datetime!(2026-01-01 00:00:00 UTC);
        let later = datetime!(2026-12-07 08:00:00 UTC);
        let t = sas_token("admin", later, &Secret::new("s-key"));
        assert_eq!(verify(Some(&t), &keys(), now), Ok("admin".into()));
        assert_eq!(verify(Some(&t), &keys(), later), Err(AuthError::Expired));
        let bad = sas_token("admin", later, &Secret::new("other"));
        assert_eq!(
            verify(Some(&bad), &keys(), now),
            Err(AuthError::BadSignature)
        );
        assert_eq!(verify(None, &keys(), now), Err(AuthError::Missing));
        assert!(matches!(
            verify(Some("Bearer x"), &keys(), now),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn git_passwords_are_not_management_tokens() {
        let now = datetime!(2026-12-06 08:00 UTC);
        let pw = git_password(datetime!(2026-12-07 08:00 UTC), &keys().secondary);
        assert!(pw.starts_with("git&2026-12-07T08:00:00.0000000Z&"), "{pw}");
        assert_eq!(verify_git_password(&pw, &keys(), now), Ok(()));
        assert_eq!(
            verify_git_password(&pw, &keys(), datetime!(2026-12-08 08:00 UTC)),
            Err(AuthError::Expired)
        );
        let other = AccessKeys {
            primary: Secret::new("x"),
            secondary: Secret::new("y"),
        };
        assert_eq!(
            verify_git_password(&pw, &other, now),
            Err(AuthError::BadSignature)
        );
        assert!(verify_git_password("hunter2", &keys(), now).is_err());
        // The same signature is not a management token.
        let rest = pw.trim_start_matches("git&");
        let (ex, sn) = rest.split_once('&').expect("three parts");
        let header = format!("SharedAccessSignature uid=git&ex={ex}&sn={sn}");
        assert_eq!(
            verify(Some(&header), &keys(), now),
            Err(AuthError::BadSignature)
        );
        // A management token is not a Git password.
        let token = sas_token("git", datetime!(2026-12-07 08:00 UTC), &keys().primary);
        let fields = token.trim_start_matches("SharedAccessSignature uid=git&ex=");
        let (ex, sn) = fields.split_once("&sn=").expect("fields");
        assert_eq!(
            verify_git_password(&format!("git&{ex}&{sn}"), &keys(), now),
            Err(AuthError::BadSignature)
        );
    }
}
