//! PROXY protocol headers read off real loopback sockets, as a load balancer or an Azure Private
//! Link service would send them: the header is parsed, and the bytes after it (TLS or HTTP) are
//! still in the socket, untouched, for the next layer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use gatehouse_model::network::{ProxyProtocolMode, TrustedProxy};
use gatehouse_net::client::{TrustedProxies, client_from_forwarded_for, client_from_proxy_header};
use gatehouse_net::proxy_protocol::{
    MAX_V1_LEN, ProxyError, ProxyHeader, V2_SIGNATURE, encode_v1, encode_v2, encode_v2_local,
    parse_bytes, read_header,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const HTTP: &[u8] = b"GET / HTTP/1.1\r\nHost: api.contoso.com\r\n\r\n";
/// Azure's example LinkID (docs/network.md's `link_id`): 0xF0000001, so byte order matters.
const LINK_ID: u32 = 4_026_531_841;
const GENEROUS: Duration = Duration::from_secs(10);

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// What the test client does, in order.
enum Step {
    Write(Vec<u8>),
    /// Write these bytes one at a time, sleeping between them.
    Trickle(Vec<u8>, Duration),
    Sleep(Duration),
    /// Half-close: the server sees EOF after what was written.
    Shutdown,
}

struct Outcome {
    result: Result<Option<ProxyHeader>, ProxyError>,
    /// After a successful read: everything left in the socket up to the client's EOF.
    rest: Option<Vec<u8>>,
}

/// Runs `steps` on a client socket against `read_header(mode, timeout)` on the accepted one.
async fn run(steps: Vec<Step>, mode: ProxyProtocolMode, timeout: Duration) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        for step in steps {
            match step {
                Step::Write(b) => s.write_all(&b).await.unwrap(),
                Step::Trickle(b, gap) => {
                    for byte in b {
                        s.write_all(&[byte]).await.unwrap();
                        tokio::time::sleep(gap).await;
                    }
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Shutdown => s.shutdown().await.unwrap(),
            }
        }
        // Keep the socket open until the test ends.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(s);
    });
    let (mut server, _) = listener.accept().await.unwrap();
    let result = read_header(&mut server, mode, timeout).await;
    let rest = if result.is_ok() {
        let mut rest = Vec::new();
        tokio::time::timeout(GENEROUS, server.read_to_end(&mut rest))
            .await
            .expect("the client's EOF")
            .unwrap();
        Some(rest)
    } else {
        None
    };
    client.abort();
    Outcome { result, rest }
}

/// Header + HTTP in one write, then EOF.
async fn send_all(bytes: Vec<u8>, mode: ProxyProtocolMode) -> Outcome {
    run(vec![Step::Write(bytes), Step::Shutdown], mode, GENEROUS).await
}

fn with_http(header: &[u8]) -> Vec<u8> {
    [header, HTTP].concat()
}

fn header_of(o: &Outcome) -> &ProxyHeader {
    match &o.result {
        Ok(Some(h)) => h,
        other => panic!("expected a header, got {other:?}"),
    }
}

#[tokio::test]
async fn v1_tcp4() {
    let src = sa("198.51.100.9:50000");
    let dst = sa("10.10.1.5:8443");
    let o = send_all(with_http(&encode_v1(src, dst)), ProxyProtocolMode::Required).await;
    let h = header_of(&o);
    assert_eq!((h.version, h.local), (1, false));
    assert_eq!(
        (h.source, h.destination, h.link_id),
        (Some(src), Some(dst), None)
    );
    assert_eq!(o.rest.as_deref(), Some(HTTP));
}

#[tokio::test]
async fn v1_tcp6() {
    let src = sa("[2001:db8:9::1]:50000");
    let dst = sa("[2001:db8:1::5]:8443");
    let o = send_all(with_http(&encode_v1(src, dst)), ProxyProtocolMode::Required).await;
    let h = header_of(&o);
    assert_eq!((h.source, h.destination), (Some(src), Some(dst)));
    assert_eq!(o.rest.as_deref(), Some(HTTP));
}

#[tokio::test]
async fn v1_unknown() {
    for line in [
        &b"PROXY UNKNOWN\r\n"[..],
        b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    ] {
        let o = send_all(with_http(line), ProxyProtocolMode::Required).await;
        let h = header_of(&o);
        assert_eq!((h.version, h.local, h.source), (1, false, None));
        assert_eq!(o.rest.as_deref(), Some(HTTP));
    }
}

#[tokio::test]
async fn v2_ipv4_with_azure_link_id() {
    let src = sa("198.51.100.9:50000");
    let dst = sa("10.10.1.5:8443");
    let o = send_all(
        with_http(&encode_v2(src, dst, Some(LINK_ID))),
        ProxyProtocolMode::Required,
    )
    .await;
    let h = header_of(&o);
    assert_eq!((h.version, h.local), (2, false));
    assert_eq!((h.source, h.destination), (Some(src), Some(dst)));
    assert_eq!(h.link_id, Some(LINK_ID));
    assert_eq!(h.tlvs, vec![(0xEE, vec![0x01, 0x01, 0x00, 0x00, 0xF0])]);
    assert_eq!(o.rest.as_deref(), Some(HTTP));
}

#[tokio::test]
async fn v2_ipv6_with_azure_link_id() {
    let src = sa("[2001:db8:9::1]:50000");
    let dst = sa("[2001:db8:1::5]:8443");
    let o = send_all(
        with_http(&encode_v2(src, dst, Some(LINK_ID))),
        ProxyProtocolMode::Optional,
    )
    .await;
    let h = header_of(&o);
    assert_eq!((h.source, h.destination), (Some(src), Some(dst)));
    assert_eq!(h.link_id, Some(LINK_ID));
    assert_eq!(o.rest.as_deref(), Some(HTTP));
}

#[tokio::test]
async fn v2_local_health_probe() {
    let o = send_all(encode_v2_local(), ProxyProtocolMode::Required).await;
    let h = header_of(&o);
    assert!(h.local);
    assert_eq!(
        (h.version, h.source, h.destination, h.link_id),
        (2, None, None, None)
    );
    assert_eq!(o.rest.as_deref(), Some(&b""[..]));
}

#[tokio::test]
async fn required_but_missing() {
    let o = send_all(HTTP.to_vec(), ProxyProtocolMode::Required).await;
    assert!(
        matches!(o.result, Err(ProxyError::Missing)),
        "{:?}",
        o.result
    );
    // A TLS ClientHello.
    let o = send_all(
        vec![0x16, 0x03, 0x01, 0x00, 0xF4, 0x01],
        ProxyProtocolMode::Required,
    )
    .await;
    assert!(
        matches!(o.result, Err(ProxyError::Missing)),
        "{:?}",
        o.result
    );
    // A connection that closes without a byte (a plain TCP probe).
    let o = run(vec![Step::Shutdown], ProxyProtocolMode::Required, GENEROUS).await;
    assert!(
        matches!(o.result, Err(ProxyError::Missing)),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn optional_with_header() {
    let src = sa("198.51.100.9:50000");
    let dst = sa("10.10.1.5:8443");
    for header in [encode_v1(src, dst), encode_v2(src, dst, None)] {
        let o = send_all(with_http(&header), ProxyProtocolMode::Optional).await;
        assert_eq!(header_of(&o).source, Some(src));
        assert_eq!(o.rest.as_deref(), Some(HTTP));
    }
}

#[tokio::test]
async fn optional_without_header_leaves_every_byte() {
    for first in [
        HTTP.to_vec(),
        b"POST /orders HTTP/1.1\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        vec![0x16, 0x03, 0x01, 0x00, 0xF4, 0x01],
    ] {
        let o = send_all(first.clone(), ProxyProtocolMode::Optional).await;
        assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
        assert_eq!(o.rest, Some(first));
    }
    // Closed without a byte: nothing to say, the HTTP layer sees the EOF.
    let o = run(vec![Step::Shutdown], ProxyProtocolMode::Optional, GENEROUS).await;
    assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
}

#[tokio::test]
async fn optional_silent_client_is_left_to_the_http_layer() {
    let o = run(
        vec![
            Step::Sleep(Duration::from_millis(400)),
            Step::Write(HTTP.to_vec()),
            Step::Shutdown,
        ],
        ProxyProtocolMode::Optional,
        Duration::from_millis(150),
    )
    .await;
    assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
    assert_eq!(o.rest.as_deref(), Some(HTTP));
}

#[tokio::test]
async fn optional_first_bytes_split_inside_the_signature() {
    // "P" then "OST": a prefix of "PROXY " at first, then not — nothing consumed.
    let o = run(
        vec![
            Step::Write(b"P".to_vec()),
            Step::Sleep(Duration::from_millis(30)),
            Step::Write(HTTP.to_vec()),
            Step::Shutdown,
        ],
        ProxyProtocolMode::Optional,
        GENEROUS,
    )
    .await;
    assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
    assert_eq!(o.rest, Some([&b"P"[..], HTTP].concat()));
}

#[tokio::test]
async fn none_mode_does_not_touch_the_stream() {
    let bytes = with_http(&encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), Some(LINK_ID)));
    let o = send_all(bytes.clone(), ProxyProtocolMode::None).await;
    assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
    assert_eq!(o.rest, Some(bytes));
}

#[tokio::test]
async fn malformed_signature_and_header() {
    // One byte off the signature: not a PROXY header at all.
    let mut bad_sig = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), None);
    bad_sig[10] = b'X';
    let o = send_all(with_http(&bad_sig), ProxyProtocolMode::Required).await;
    assert!(
        matches!(o.result, Err(ProxyError::Missing)),
        "{:?}",
        o.result
    );
    let o = send_all(with_http(&bad_sig), ProxyProtocolMode::Optional).await;
    assert!(matches!(o.result, Ok(None)), "{:?}", o.result);
    assert_eq!(o.rest, Some(with_http(&bad_sig)));

    // The signature, then version 3: refused from the 16 fixed bytes.
    let mut bad_version = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), None);
    bad_version[12] = 0x31;
    let o = send_all(with_http(&bad_version), ProxyProtocolMode::Optional).await;
    assert!(
        matches!(o.result, Err(ProxyError::Malformed(_))),
        "{:?}",
        o.result
    );

    // v1 with a bad address.
    let o = send_all(
        with_http(b"PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n"),
        ProxyProtocolMode::Required,
    )
    .await;
    assert!(
        matches!(o.result, Err(ProxyError::Malformed(_))),
        "{:?}",
        o.result
    );
    assert_eq!(
        o.result.as_ref().map_err(ProxyError::reason).err(),
        Some("proxy_protocol/malformed")
    );
}

#[tokio::test]
async fn truncated_when_the_client_closes_mid_header() {
    let v2 = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), Some(LINK_ID));
    let v1 = encode_v1(sa("1.2.3.4:1"), sa("5.6.7.8:2"));
    for (bytes, mode) in [
        (v2[..20].to_vec(), ProxyProtocolMode::Required),
        (v2[..14].to_vec(), ProxyProtocolMode::Optional),
        (v2[..5].to_vec(), ProxyProtocolMode::Required),
        (v2[..5].to_vec(), ProxyProtocolMode::Optional),
        (v1[..10].to_vec(), ProxyProtocolMode::Required),
        (v1[..3].to_vec(), ProxyProtocolMode::Optional),
    ] {
        let n = bytes.len();
        let o = run(vec![Step::Write(bytes), Step::Shutdown], mode, GENEROUS).await;
        assert!(
            matches!(o.result, Err(ProxyError::Truncated)),
            "{n} bytes, {mode:?}: {:?}",
            o.result
        );
    }
}

#[tokio::test]
async fn oversized() {
    let mut v2 = V2_SIGNATURE.to_vec();
    v2.extend([0x21, 0x11]);
    v2.extend(2000u16.to_be_bytes());
    v2.extend(vec![0u8; 2000]);
    let o = send_all(v2, ProxyProtocolMode::Required).await;
    assert!(
        matches!(o.result, Err(ProxyError::Oversized { len: 2000 })),
        "{:?}",
        o.result
    );

    let mut v1 = b"PROXY TCP4 ".to_vec();
    v1.resize(300, b'1');
    let o = send_all(v1, ProxyProtocolMode::Optional).await;
    assert!(
        matches!(o.result, Err(ProxyError::Oversized { len: MAX_V1_LEN })),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn trickle_slower_than_the_timeout() {
    let header = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), Some(LINK_ID));
    for mode in [ProxyProtocolMode::Required, ProxyProtocolMode::Optional] {
        let started = std::time::Instant::now();
        let o = run(
            vec![Step::Trickle(header.clone(), Duration::from_millis(100))],
            mode,
            Duration::from_millis(300),
        )
        .await;
        assert!(
            matches!(o.result, Err(ProxyError::Timeout)),
            "{:?}",
            o.result
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    // v1, and a stall right after the v2 fixed part.
    let o = run(
        vec![Step::Trickle(
            encode_v1(sa("1.2.3.4:1"), sa("5.6.7.8:2")),
            Duration::from_millis(100),
        )],
        ProxyProtocolMode::Required,
        Duration::from_millis(300),
    )
    .await;
    assert!(
        matches!(o.result, Err(ProxyError::Timeout)),
        "{:?}",
        o.result
    );
    let o = run(
        vec![Step::Write(header[..16].to_vec())],
        ProxyProtocolMode::Required,
        Duration::from_millis(200),
    )
    .await;
    assert!(
        matches!(o.result, Err(ProxyError::Timeout)),
        "{:?}",
        o.result
    );
}

#[tokio::test]
async fn byte_at_a_time_within_the_timeout() {
    let src = sa("198.51.100.9:50000");
    let dst = sa("10.10.1.5:8443");
    for (header, mode) in [
        (
            encode_v2(src, dst, Some(LINK_ID)),
            ProxyProtocolMode::Required,
        ),
        (
            encode_v2(src, dst, Some(LINK_ID)),
            ProxyProtocolMode::Optional,
        ),
        (encode_v1(src, dst), ProxyProtocolMode::Required),
        (encode_v1(src, dst), ProxyProtocolMode::Optional),
    ] {
        let o = run(
            vec![
                Step::Trickle(header, Duration::from_millis(2)),
                Step::Trickle(HTTP.to_vec(), Duration::from_millis(1)),
                Step::Shutdown,
            ],
            mode,
            GENEROUS,
        )
        .await;
        let h = header_of(&o);
        assert_eq!(h.source, Some(src), "{mode:?}");
        assert_eq!(o.rest.as_deref(), Some(HTTP), "{mode:?}");
    }
}

#[tokio::test]
async fn link_id_round_trips_through_parse_bytes() {
    let bytes = encode_v2(
        sa("198.51.100.9:50000"),
        sa("10.10.1.5:8443"),
        Some(LINK_ID),
    );
    let (h, used) = parse_bytes(&with_http(&bytes)).unwrap();
    assert_eq!((h.link_id, used), (Some(LINK_ID), bytes.len()));
}

fn trusted() -> TrustedProxies {
    TrustedProxies::compile(&[
        TrustedProxy::Full {
            prefix: "127.0.0.1/32".to_string(),
            proxy_protocol: ProxyProtocolMode::Required,
        },
        TrustedProxy::Prefix("10.10.1.251".to_string()),
    ])
    .unwrap()
}

#[tokio::test]
async fn client_address_from_a_trusted_load_balancer() {
    let t = trusted();
    let peer: IpAddr = "127.0.0.1".parse().unwrap();
    let mode = t.mode_for(peer).unwrap();
    let o = send_all(
        with_http(&encode_v2(
            sa("198.51.100.9:50000"),
            sa("10.10.1.5:8443"),
            None,
        )),
        mode,
    )
    .await;
    let h = header_of(&o);
    assert_eq!(
        client_from_proxy_header(peer, Some(h), &t),
        "198.51.100.9".parse::<IpAddr>().unwrap()
    );
    // The same header from an untrusted peer proves nothing.
    let stranger: IpAddr = "203.0.113.5".parse().unwrap();
    assert_eq!(t.mode_for(stranger), None);
    assert_eq!(client_from_proxy_header(stranger, Some(h), &t), stranger);
}

#[test]
fn forwarded_for() {
    let t = trusted();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let lb = ip("10.10.1.251");
    for (peer, xff, want) in [
        (lb, None, lb),
        (lb, Some("198.51.100.9"), ip("198.51.100.9")),
        (lb, Some("6.6.6.6, 198.51.100.9"), ip("198.51.100.9")),
        (
            lb,
            Some("6.6.6.6, 198.51.100.9, 127.0.0.1"),
            ip("198.51.100.9"),
        ),
        (
            lb,
            Some("198.51.100.9:443,[2001:db8::7]:8443"),
            ip("2001:db8::7"),
        ),
        (lb, Some("198.51.100.9, garbage"), lb),
        (
            lb,
            Some("198.51.100.9, garbage, 127.0.0.1"),
            ip("127.0.0.1"),
        ),
        (lb, Some("127.0.0.1, 10.10.1.251"), ip("127.0.0.1")),
        (
            ip("::ffff:10.10.1.251"),
            Some("198.51.100.9"),
            ip("198.51.100.9"),
        ),
        (ip("203.0.113.5"), Some("198.51.100.9"), ip("203.0.113.5")),
        (ip("::ffff:203.0.113.5"), Some("1.1.1.1"), ip("203.0.113.5")),
    ] {
        assert_eq!(
            client_from_forwarded_for(peer, xff, &t),
            want,
            "{peer} {xff:?}"
        );
    }
}
