//! Arbitrary request header lines through what the gateway does with them on the way to the
//! backend: the Host check, the client's hop-by-hop removal (before policies), a header a
//! policy sets, the backend-side removal and the forwarding headers. Never a panic; no
//! hop-by-hop header but the websocket handshake survives; the client cannot remove the
//! policy's header; the peer is the last X-Forwarded-For entry; X-Real-IP never survives.

#![no_main]

use gatehouse_gateway::{forwarding_headers, hop_by_hop, host_header};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Version};
use libfuzzer_sys::fuzz_target;

const HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let version = if flags & 1 == 0 {
        Version::HTTP_11
    } else {
        Version::HTTP_2
    };
    let _ = host_header::check(version, &headers);
    let websocket_api = flags & 2 != 0;
    let websocket =
        websocket_api && hop_by_hop::is_websocket_upgrade(&Method::GET, version, &headers);
    hop_by_hop::strip_client(&mut headers, websocket);
    // What a policy sets survives whatever the client named in Connection.
    headers.insert("x-gw-auth", HeaderValue::from_static("policy"));
    hop_by_hop::strip_for_backend(&mut headers);
    let host = headers.get(http::header::HOST).cloned();
    forwarding_headers(
        &mut headers,
        &HeaderValue::from_static("192.0.2.7"),
        &HeaderValue::from_static("8080"),
        "https",
        host.as_ref(),
    );

    assert_eq!(headers.get("x-gw-auth").map(|v| v.as_bytes()), Some(&b"policy"[..]));
    for name in HOP {
        if websocket && (name == "upgrade" || name == "connection") {
            continue;
        }
        assert!(!headers.contains_key(name), "{name} survived");
    }
    if !websocket {
        assert!(!headers.contains_key("upgrade"));
    }
    assert!(!headers.contains_key("x-real-ip"));
    let xff: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
    assert_eq!(xff.len(), 1);
    let xff = xff[0].to_str().expect("text");
    assert!(xff.rsplit(',').next().map(str::trim) == Some("192.0.2.7"), "{xff}");
    assert_eq!(headers.get_all("x-forwarded-port").iter().count(), 1);
    assert_eq!(headers.get_all("x-forwarded-proto").iter().count(), 1);
    assert!(headers.get_all("forwarded").iter().count() <= 1);
});
