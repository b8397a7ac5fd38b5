//! Turning the client's request into the backend's, and the backend's response into the
//! client's: path rewrite, the subscription key stripped, hop-by-hop headers removed,
//! `X-Forwarded-*` added. Headers are edited in place; bodies are never touched here.

use crate::backend::BackendTarget;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, Uri, Version};

/// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Whether the request asks to switch protocols (WebSocket), HTTP/1.1 style.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE) && connection_has(headers, "upgrade")
}

fn connection_has(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Removes hop-by-hop headers, including those the `Connection` header names. With `upgrade`,
/// the `Upgrade` header and `Connection: upgrade` are kept: they are the handshake.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    // Most messages carry none of these: one pass over the names spares a hash lookup per name.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return;
    }
    let upgrade_value = if upgrade {
        headers.get(header::UPGRADE).cloned()
    } else {
        None
    };
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
            .collect();
        for n in named {
            headers.remove(n);
        }
    }
    for h in &HOP_BY_HOP {
        headers.remove(h);
    }
    if let Some(v) = upgrade_value {
        headers.insert(header::UPGRADE, v);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

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
    let upgrade = is_upgrade(req.headers());
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
    strip_hop_by_hop(headers, upgrade);
    headers.insert(header::HOST, target.host.clone());
    headers.remove(key.header);
    let xff = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(prev) => HeaderValue::from_str(&format!("{prev}, {}", conn.peer_ip)),
        None => HeaderValue::from_str(&conn.peer_ip),
    };
    if let Ok(v) = xff {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
    headers.insert(
        X_FORWARDED_PROTO.clone(),
        HeaderValue::from_static(if conn.tls { "https" } else { "http" }),
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

/// Cleans the backend's response for the client.
pub fn to_client<B>(resp: &mut Response<B>) {
    let upgrade = resp.status() == http::StatusCode::SWITCHING_PROTOCOLS;
    strip_hop_by_hop(resp.headers_mut(), upgrade);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "keep-alive, x-secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert(header::TE, "trailers".parse().unwrap());
        h.insert("x-kept", "1".parse().unwrap());
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn upgrade_handshake_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "Upgrade".parse().unwrap());
        h.insert(header::UPGRADE, "websocket".parse().unwrap());
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
    }

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
