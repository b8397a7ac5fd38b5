//! The `Host` header rules of RFC 9112 §3.2: an HTTP/1.1 request carries exactly one, and it is
//! a valid authority (host and optional port, no user info). Anything else is answered 400 —
//! two `Host` lines, or none, mean the gateway and the backend may disagree on which site the
//! request is for.

use http::Version;
use http::header::{self, HeaderMap};

/// Why a request's `Host` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostRejected {
    #[error("an HTTP/1.1 request without a Host header")]
    Missing,
    #[error("more than one Host header")]
    Repeated,
    #[error("a Host header that is not a host and port")]
    Invalid,
}

/// Checks the `Host` header lines of a request of `version`.
pub fn check(version: Version, headers: &HeaderMap) -> Result<(), HostRejected> {
    let mut lines = headers.get_all(header::HOST).iter();
    let Some(host) = lines.next() else {
        // HTTP/2 and HTTP/3 carry the authority in `:authority`; HTTP/1.0 may omit Host.
        return if version == Version::HTTP_11 {
            Err(HostRejected::Missing)
        } else {
            Ok(())
        };
    };
    if lines.next().is_some() {
        return Err(HostRejected::Repeated);
    }
    // RFC 9112 §3.2: an empty value is allowed when the target has no authority.
    if host.is_empty() {
        return Ok(());
    }
    // RFC 3986 §3.2.2 host (reg-name, IPv4, IP literal) and §3.2.3 port, byte by byte: no
    // user info (`@`), no spaces, slashes or other delimiters. (Checked here rather than with
    // `http::uri::Authority`, which copies the value on every request.)
    let valid = host.as_bytes().iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
            )
    });
    if valid {
        Ok(())
    } else {
        Err(HostRejected::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::HOST, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn one_valid_host_on_http_1_1() {
        assert_eq!(check(Version::HTTP_11, &hosts(&["a.example:8080"])), Ok(()));
        assert_eq!(check(Version::HTTP_11, &hosts(&["[::1]:80"])), Ok(()));
        assert_eq!(check(Version::HTTP_11, &hosts(&[""])), Ok(()));
        assert_eq!(
            check(Version::HTTP_11, &hosts(&[])),
            Err(HostRejected::Missing)
        );
        assert_eq!(
            check(Version::HTTP_11, &hosts(&["a", "b"])),
            Err(HostRejected::Repeated)
        );
        assert_eq!(
            check(Version::HTTP_11, &hosts(&["u@a"])),
            Err(HostRejected::Invalid)
        );
        for bad in ["a b", "a/b", "a\\b", "a\"b", "a<b"] {
            assert_eq!(
                check(Version::HTTP_11, &hosts(&[bad])),
                Err(HostRejected::Invalid),
                "{bad}"
            );
        }
        assert_eq!(check(Version::HTTP_10, &hosts(&[])), Ok(()));
        assert_eq!(check(Version::HTTP_2, &hosts(&[])), Ok(()));
        assert_eq!(
            check(Version::HTTP_2, &hosts(&["a", "a"])),
            Err(HostRejected::Repeated)
        );
    }
}
