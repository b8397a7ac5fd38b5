//! Turning the client's request into the backend's, and the backend's response into the
//! client's: path rewrite (kept under the backend's base path), the subscription key stripped,
//! hop-by-hop headers removed, the forwarding headers rewritten. Headers are edited in place;
//! bodies are never touched here.
//!
//! Forwarding headers: `X-Forwarded-For` is one list over all its lines, in order, with the
//! connection's peer appended (what a backend may believe is the right-most entry);
//! `Forwarded` likewise gets the gateway's element appended when the client sent one;
//! `X-Forwarded-Proto`, `-Host` and `-Port` are the gateway's own; `X-Real-IP` is the client's
//! claim and is dropped.

use crate::backend::BackendTarget;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::hop_by_hop;
use crate::request_target;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, Uri, Version};
use std::borrow::Cow;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// The query without the parameter `name` (the subscription key), or `None` when nothing is left.
fn query_without(query: &str, name: &str) -> Option<String> {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split_once('=').map_or(*p, |(n, _)| n) != name)
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

/// Where the subscription key must be removed from.
pub struct KeyNames<'a> {
    pub header: &'a HeaderName,
    pub query: &'a str,
}

/// Rewrites `req` in place into the backend request: `rest` (the path after the API prefix) is
/// appended to the backend's base path (`base_path`, when a policy set another one on the same
/// origin, else the target's), the query is kept without the key.
pub fn to_backend<B>(
    req: &mut Request<B>,
    target: &BackendTarget,
    base_path: Option<&str>,
    rest: &str,
    key: KeyNames<'_>,
    conn: &ConnInfo,
) -> Result<(), GatewayError> {
    let rest = request_target::confine(rest)
        .map_err(|e| GatewayError::new(ErrorKind::RequestRejected, format!("backend path: {e}")))?;
    let rest = rest.as_ref();
    let query = match req.uri().query() {
        Some(q) if q.contains(key.query) => query_without(q, key.query),
        Some(q) => Some(q.to_string()),
        None => None,
    };
    let base_path = base_path.unwrap_or(&target.base_path);
    let mut path_and_query = String::with_capacity(
        base_path.len() + rest.len() + query.as_ref().map_or(0, |q| q.len() + 1) + 1,
    );
    path_and_query.push_str(base_path);
    path_and_query.push_str(rest);
    if path_and_query.is_empty() {
        path_and_query.push('/');
    }
    if let Some(q) = &query {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    // Origin form (`/path?query`): the connection already goes to the backend's host.
    let uri = Uri::builder()
        .path_and_query(path_and_query)
        .build()
        .map_err(|e| {
            GatewayError::new(
                ErrorKind::BadRequest,
                format!("cannot build the backend URL: {e}"),
            )
        })?;

    // The host the client asked for, before it is replaced by the backend's.
    let original_host = req.headers().get(header::HOST).cloned().or_else(|| {
        req.uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    let headers = req.headers_mut();
    hop_by_hop::strip_for_backend(headers);
    headers.insert(header::HOST, target.host.clone());
    headers.remove(key.header);
    let proto = if conn.tls { "https" } else { "http" };
    forwarding_headers(
        headers,
        &conn.peer_ip_header,
        &conn.local_port_header,
        proto,
        original_host.as_ref(),
    );
    match original_host {
        Some(h) => headers.insert(X_FORWARDED_HOST.clone(), h),
        None => headers.remove(&X_FORWARDED_HOST),
    };
    *req.uri_mut() = uri;
    // Backends are spoken to in HTTP/1.1 whatever the client used.
    *req.version_mut() = Version::HTTP_11;
    Ok(())
}

/// Rewrites the forwarding headers: `X-Forwarded-For` (all lines as one list, the peer
/// appended), `Forwarded` (the gateway's element appended, when the client sent the header),
/// `X-Forwarded-Proto` and `-Port` set, `X-Real-IP` removed.
pub fn forwarding_headers(
    headers: &mut HeaderMap,
    peer: &HeaderValue,
    local_port: &HeaderValue,
    proto: &'static str,
    host: Option<&HeaderValue>,
) {
    // The peer is an IP address: text by construction.
    let peer_text = peer.to_str().unwrap_or("unknown");
    let xff = match joined(headers, &X_FORWARDED_FOR) {
        Some(prev) => HeaderValue::from_str(&format!("{prev}, {peer_text}")).ok(),
        None => None,
    };
    // Never leave the client's lines in place: at worst the peer alone.
    headers.insert(X_FORWARDED_FOR.clone(), xff.unwrap_or_else(|| peer.clone()));
    if let Some(prev) = joined(headers, &header::FORWARDED) {
        // RFC 7239 §6: an IPv6 node is quoted and bracketed; the host is a quoted string.
        let node = if peer_text.contains(':') {
            format!("\"[{peer_text}]\"")
        } else {
            peer_text.to_string()
        };
        let mut element = format!("{prev}, for={node};proto={proto}");
        if let Some(h) = host.and_then(|h| h.to_str().ok()) {
            element.push_str(";host=\"");
            element.extend(h.chars().filter(|c| *c != '"' && *c != '\\'));
            element.push('"');
        }
        match HeaderValue::from_str(&element) {
            Ok(v) => headers.insert(header::FORWARDED, v),
            Err(_) => headers.remove(header::FORWARDED),
        };
    }
    headers.remove(&X_REAL_IP);
    headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
    headers.insert(X_FORWARDED_PORT.clone(), local_port.clone());
}

/// All lines of a list header, in order, as one comma-separated list; `None` when absent.
/// Lines that are not text are dropped. One line (the usual case) is borrowed.
pub fn joined<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<Cow<'h, str>> {
    let mut lines = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let first = lines.next()?;
    let Some(second) = lines.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut out = format!("{first}, {second}");
    for line in lines {
        out.push_str(", ");
        out.push_str(line);
    }
    Some(Cow::Owned(out))
}

/// Cleans the backend's response for the client.
pub fn to_client<B>(resp: &mut Response<B>) {
    let switching = resp.status() == http::StatusCode::SWITCHING_PROTOCOLS;
    hop_by_hop::strip_response(resp.headers_mut(), switching);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_leaves_the_query() {
        assert_eq!(
            query_without("a=1&subscription-key=k&b=2", "subscription-key").as_deref(),
            Some("a=1&b=2")
        );
        assert_eq!(
            query_without("subscription-key=k", "subscription-key"),
            None
        );
        assert_eq!(
            query_without("subscription-keyx=1", "subscription-key").as_deref(),
            Some("subscription-keyx=1")
        );
    }
}
