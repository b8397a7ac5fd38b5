//! Hop-by-hop headers (RFC 9110 §7.6.1) and the one protocol upgrade the gateway carries.
//!
//! The client's hop-by-hop headers — the fixed list and every header its `Connection` names —
//! are removed when the request is taken in, before policies run: a client must not be able to
//! remove, by naming it in `Connection`, a header a policy sets for the backend. What goes to
//! the backend later loses only the fixed list (a policy may have set one of those).
//!
//! Upgrades: only `websocket`, only on APIs whose protocols include ws or wss (APIM's WebSocket
//! APIs). Any other `Upgrade` (`h2c`, `TLS/1.0`, made-up tokens) is removed like any hop-by-hop
//! header, so no backend can turn the connection into a tunnel the gateway does not see into.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Version};

/// Hop-by-hop headers, never forwarded.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Whether a request asks to switch to WebSocket, HTTP/1.1 style (RFC 6455 §4.1: a GET with
/// `Upgrade: websocket` and `Connection: upgrade`).
pub fn is_websocket_upgrade(method: &Method, version: Version, headers: &HeaderMap) -> bool {
    method == Method::GET
        && version == Version::HTTP_11
        && headers.contains_key(header::UPGRADE)
        && list_has(headers, &header::UPGRADE, "websocket")
        && list_has(headers, &header::CONNECTION, "upgrade")
}

/// Whether a message's headers carry the websocket handshake (after [`strip_client`] kept it).
pub fn carries_websocket_handshake(headers: &HeaderMap) -> bool {
    list_has(headers, &header::UPGRADE, "websocket")
        && list_has(headers, &header::CONNECTION, "upgrade")
}

fn list_has(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            // `websocket/13` names a version of the protocol; the name is what counts.
            let t = t.trim();
            let t = t.split_once('/').map_or(t, |(n, _)| n);
            t.eq_ignore_ascii_case(token)
        })
}

/// Removes the client's hop-by-hop headers: the fixed list and the headers its `Connection`
/// names. With `websocket`, the handshake (`Upgrade: websocket`, `Connection: upgrade`) is put
/// back in a canonical form, and nothing else of the client's `Upgrade` survives.
pub fn strip_client(headers: &mut HeaderMap, websocket: bool) {
    strip(headers, true);
    if websocket {
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Removes the fixed hop-by-hop headers of a request about to be sent to the backend, keeping
/// a websocket handshake that [`strip_client`] kept.
pub fn strip_for_backend(headers: &mut HeaderMap) {
    // The usual case, nothing to strip, costs no header lookup.
    if !has_hop_by_hop(headers) {
        return;
    }
    let websocket = carries_websocket_handshake(headers);
    strip(headers, false);
    if websocket {
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Removes a response's hop-by-hop headers (the backend's `Connection`-named ones included);
/// a 101 keeps its `Upgrade` and `Connection: upgrade`.
pub fn strip_response(headers: &mut HeaderMap, switching: bool) {
    let upgrade = switching
        .then(|| headers.get(header::UPGRADE).cloned())
        .flatten();
    strip(headers, true);
    if let Some(v) = upgrade {
        headers.insert(header::UPGRADE, v);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Most messages carry none of these: one pass over the names spares a hash lookup per name.
fn has_hop_by_hop(headers: &HeaderMap) -> bool {
    headers.keys().any(|name| HOP_BY_HOP.contains(name))
}

fn strip(headers: &mut HeaderMap, named: bool) {
    if !has_hop_by_hop(headers) {
        return;
    }
    if named && headers.contains_key(header::CONNECTION) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn client_hop_by_hop_and_connection_named_headers_go() {
        let mut h = map(&[
            ("connection", "keep-alive, x-secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("x-kept", "1"),
        ]);
        strip_client(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-kept"));
    }

    #[test]
    fn only_websocket_is_an_upgrade() {
        let ws = map(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
        ]);
        assert!(is_websocket_upgrade(&Method::GET, Version::HTTP_11, &ws));
        assert!(!is_websocket_upgrade(&Method::POST, Version::HTTP_11, &ws));
        assert!(!is_websocket_upgrade(&Method::GET, Version::HTTP_2, &ws));
        for other in ["h2c", "TLS/1.0", "websocketx", "foo, bar"] {
            let h = map(&[("connection", "upgrade"), ("upgrade", other)]);
            assert!(
                !is_websocket_upgrade(&Method::GET, Version::HTTP_11, &h),
                "{other}"
            );
        }
        let mut h = ws.clone();
        strip_client(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
        let mut h = map(&[("connection", "upgrade"), ("upgrade", "h2c")]);
        strip_client(&mut h, false);
        assert!(h.is_empty());
    }

    #[test]
    fn backend_side_keeps_what_policies_set() {
        // After intake the client's Connection is gone; a policy's header survives.
        let mut h = map(&[("x-gw-auth", "s"), ("transfer-encoding", "chunked")]);
        strip_for_backend(&mut h);
        assert_eq!(h.len(), 1);
        let mut h = map(&[("upgrade", "websocket"), ("connection", "upgrade")]);
        strip_for_backend(&mut h);
        assert_eq!(h.len(), 2);
    }
}
