//! The request path as the gateway routes, authorizes and forwards it: dot segments removed
//! (RFC 3986 §5.2.4) before anything looks at the path, and paths whose meaning depends on who
//! decodes them refused.
//!
//! Why: the router and the key check judge the path the gateway sees, the backend serves the
//! path it sees. If the two can differ — `/open/../private` that the backend resolves, `%2e%2e`
//! or `..%2f` that it decodes, `..;` that Tomcat strips, `\` that IIS treats as `/` — a client
//! reaches a backend path no route allowed. So the gateway resolves what is unambiguous (raw
//! `.` and `..` segments) and refuses what is not, as APIM answers such requests itself.
//!
//! Written by hand: the `url` crate normalizes whole URLs (and decodes `%2e` silently, which is
//! what must be refused here), and the path is needed as the client's bytes otherwise.

use std::borrow::Cow;

/// Why a request path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathRejected {
    /// `%2e`, `.%2e`, `%2E%2E` ... : a dot segment the backend may decode and resolve.
    #[error("an encoded dot segment ('%2e') in the path")]
    EncodedDotSegment,
    /// `%2f` or `%5c`: a separator the backend may decode, splitting a segment the router saw
    /// as one.
    #[error("an encoded slash ('%2f' or '%5c') in the path")]
    EncodedSeparator,
    /// A raw backslash: some servers treat it as `/`.
    #[error("a backslash in the path")]
    Backslash,
    /// `..;x` or `.;x`: servers that strip path parameters (Tomcat, Jetty) see a dot segment.
    #[error("a dot segment with path parameters ('..;') in the path")]
    DotSegmentParameters,
    /// `%00`: servers that hand paths to C strings cut them there.
    #[error("an encoded NUL ('%00') in the path")]
    EncodedNul,
    /// A `%` not followed by two hex digits.
    #[error("an invalid percent-encoding in the path")]
    BadPercentEncoding,
    /// `*` (`OPTIONS *`) or an authority (`CONNECT host:port`): no API path, and appended to
    /// a base path it would make another one (`/public` + `*`).
    #[error("a request target that is not a path")]
    NotAPath,
}

/// The path with its dot segments removed, borrowed when it had none (the usual case), or why
/// the path is refused. A target that is not a path (`*`, an authority) is refused.
pub fn normalize(path: &str) -> Result<Cow<'_, str>, PathRejected> {
    normalize_with(path, Separators::Refused)
}

/// Whether an encoded `/` or `\` may stay in a path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Separators {
    /// A client's path: routing and the key check saw one segment where a decoding backend
    /// would see two, so any encoded separator is refused.
    Refused,
    /// A forwarded path the gateway built (rewrite-uri encodes a value's `/` as `%2F` so that
    /// it stays one segment): allowed, unless decoding would reveal a dot segment.
    Allowed,
}

fn normalize_with(path: &str, separators: Separators) -> Result<Cow<'_, str>, PathRejected> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(PathRejected::NotAPath);
    };
    // Fast path: no byte that needs a closer look.
    if !path
        .bytes()
        .any(|b| matches!(b, b'.' | b'%' | b'\\' | b';'))
    {
        return Ok(Cow::Borrowed(path));
    }
    let mut dot_segments = false;
    for segment in rest.split('/') {
        match check_segment(segment, separators)? {
            Segment::Plain => {}
            Segment::Dot => dot_segments = true,
        }
    }
    if !dot_segments {
        return Ok(Cow::Borrowed(path));
    }
    Ok(Cow::Owned(remove_dot_segments(rest)))
}

/// The forwarded part of a path (after the API prefix, or a rewrite-uri's path): normalized
/// as if it were rooted, so that no `..` in it can climb above the backend's base path it is
/// appended to — neither as it is nor after a backend decodes it. Empty stays empty.
pub fn confine(rest: &str) -> Result<Cow<'_, str>, PathRejected> {
    if rest.is_empty() {
        return Ok(Cow::Borrowed(rest));
    }
    if rest.starts_with('/') {
        return normalize_with(rest, Separators::Allowed);
    }
    match normalize_with(&format!("/{rest}"), Separators::Allowed)? {
        Cow::Borrowed(_) => Ok(Cow::Borrowed(rest)),
        Cow::Owned(s) => Ok(Cow::Owned(s)),
    }
}

enum Segment {
    Plain,
    /// A raw `.` or `..`, to be resolved.
    Dot,
}

fn check_segment(segment: &str, separators: Separators) -> Result<Segment, PathRejected> {
    if segment == "." || segment == ".." {
        return Ok(Segment::Dot);
    }
    if segment.contains('\\') {
        return Err(PathRejected::Backslash);
    }
    // What a server that strips `;params` sees.
    let before_params = segment.split(';').next().unwrap_or(segment);
    if segment.contains(';') && matches!(before_params, "." | "..") {
        return Err(PathRejected::DotSegmentParameters);
    }
    if !segment.contains('%') {
        return Ok(Segment::Plain);
    }
    let decoded = decode(segment)?;
    if decoded.contains(&0) {
        return Err(PathRejected::EncodedNul);
    }
    // What a backend that decodes the segment (and splits it at `/` or `\\`) sees.
    let dot = decoded.split(|&b| b == b'/' || b == b'\\').any(|part| {
        let name = part.split(|&b| b == b';').next().unwrap_or(part);
        name == b"." || name == b".."
    });
    if dot {
        return Err(PathRejected::EncodedDotSegment);
    }
    if separators == Separators::Refused && decoded.iter().any(|&b| b == b'/' || b == b'\\') {
        return Err(PathRejected::EncodedSeparator);
    }
    Ok(Segment::Plain)
}

fn decode(segment: &str) -> Result<Vec<u8>, PathRejected> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or(PathRejected::BadPercentEncoding)?;
            let hi = (hex[0] as char).to_digit(16);
            let lo = (hex[1] as char).to_digit(16);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(PathRejected::BadPercentEncoding);
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// RFC 3986 §5.2.4 on a rooted path given without its leading `/`: `.` goes, `..` takes the
/// segment before it (never above the root), a dot segment at the end leaves a trailing `/`.
fn remove_dot_segments(rest: &str) -> String {
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, s) in segments.iter().enumerate() {
        match *s {
            "." | ".." => {
                if *s == ".." {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let mut path = String::with_capacity(rest.len() + 1);
    for s in &out {
        path.push('/');
        path.push_str(s);
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(p: &str) -> Result<String, PathRejected> {
        normalize(p).map(Cow::into_owned)
    }

    #[test]
    fn dot_segments_are_removed_as_rfc_3986_says() {
        // RFC 3986 §5.4 examples, as rooted paths.
        assert_eq!(n("/a/b/c/./../../g").unwrap(), "/a/g");
        assert_eq!(n("/mid/content=5/../6").unwrap(), "/mid/6");
        assert_eq!(n("/fopen/../private/secret").unwrap(), "/private/secret");
        assert_eq!(n("/x/../../").unwrap(), "/");
        assert_eq!(n("/..").unwrap(), "/");
        assert_eq!(n("/a/b/..").unwrap(), "/a/");
        assert_eq!(n("/a/./b/.").unwrap(), "/a/b/");
        assert_eq!(n("/a//../b").unwrap(), "/a/b");
        assert_eq!(n("/a/.hidden/..x/x..").unwrap(), "/a/.hidden/..x/x..");
    }

    #[test]
    fn clean_paths_are_borrowed() {
        for p in ["/", "/orders/42", "/a/file.json", "/a%20b", "/v1.2/x"] {
            assert!(matches!(normalize(p), Ok(Cow::Borrowed(_))), "{p}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        use PathRejected::*;
        for (p, e) in [
            ("/fopen/%2e%2e/private", EncodedDotSegment),
            ("/fopen/.%2e/private", EncodedDotSegment),
            ("/fopen/%2E./private", EncodedDotSegment),
            ("/fopen/%2e/private", EncodedDotSegment),
            ("/fitems/items/..%2f..%2fprivate", EncodedDotSegment),
            ("/fitems/items/x%2f..%2fadmin", EncodedDotSegment),
            ("/a/b%2Fc", EncodedSeparator),
            ("/a/b%5cc", EncodedSeparator),
            ("/a/..\\b", Backslash),
            ("/a/..;x/b", DotSegmentParameters),
            ("/a/.;/b", DotSegmentParameters),
            ("/a/%2e%2e;x/b", EncodedDotSegment),
            ("/a/b%00.json", EncodedNul),
            ("/a/b%zz", BadPercentEncoding),
            ("/a/b%2", BadPercentEncoding),
            ("*", NotAPath),
            ("", NotAPath),
            ("host:443", NotAPath),
        ] {
            assert_eq!(normalize(p), Err(e), "{p}");
        }
        // Encoded characters that change nothing stay as sent.
        assert_eq!(n("/a/file%2ejson").unwrap(), "/a/file%2ejson");
        assert_eq!(n("/a/b;v=1").unwrap(), "/a/b;v=1");
    }

    #[test]
    fn confined_rest_never_climbs() {
        assert_eq!(confine("").unwrap(), "");
        assert_eq!(confine("/items/7").unwrap(), "/items/7");
        assert_eq!(confine("/../private").unwrap(), "/private");
        assert_eq!(confine("items/../../x").unwrap(), "/x");
        assert!(confine("/%2e%2e/x").is_err());
        // rewrite-uri's encoded values: a `/` inside a value is fine, a hidden `..` is not.
        assert_eq!(confine("/items/a%2Fb").unwrap(), "/items/a%2Fb");
        assert_eq!(
            confine("/items/x%2F..%2F..%2Fadmin"),
            Err(PathRejected::EncodedDotSegment)
        );
        assert_eq!(
            confine("/items/%2E%2E"),
            Err(PathRejected::EncodedDotSegment)
        );
    }
}
