//! Base64 and URI escaping for `Convert`, `Uri` and `WebUtility` (hashing is in
//! crates/expr/src/library/crypto).

use super::*;

pub(super) fn b64_decode(s: &str, at: usize) -> F<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean.as_bytes()).map_err(|_| {
        rt(
            "FormatException",
            "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.",
            at,
        )
    })
}

pub(super) fn uri_escape(s: &str) -> String {
    escape_except(s, b"-_.~")
}

/// `Uri.EscapeUriString`: as [`uri_escape`], but RFC 3986's reserved characters stay, since
/// they may delimit the URI's parts (.NET's UriHelper with the reserved set unescaped).
pub(super) fn uri_escape_keeping_reserved(s: &str) -> String {
    escape_except(s, b"-_.~:/?#[]@!$&'()*+,;=")
}

/// Percent-encodes every UTF-8 byte but ASCII letters, digits and `keep`, in upper-case hex.
fn escape_except(s: &str, keep: &[u8]) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn uri_unescape(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && b[i] == b'+' {
            b' '
        } else {
            b[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
