//! The PROXY protocol (HAProxy's v1 text line and v2 binary header) as gatehouse reads it off a
//! fresh TCP connection from a trusted load balancer or an Azure Private Link service
//! (docs/network.md, network spec §13).
//!
//! The header is read before any TLS or HTTP byte and **never past its last byte**: the same
//! socket then goes to rustls or hyper, which must see the stream exactly as the client sent it.
//! So v2 is read as its 16 fixed bytes and then exactly the length they announce, and v1 is read
//! only up to its LF (peeking first, then consuming what is known to belong to the line).
//!
//! Parsing is ppp's; this module adds the socket discipline (no over-read, one deadline for the
//! whole header so a trickling peer cannot hold a task, bounded lengths), Azure's Private Link
//! LinkID TLV, and one typed error whose [`ProxyError::reason`] goes into logs and metrics.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use gatehouse_model::network::ProxyProtocolMode;
use ppp::{PartialResult, v1, v2};
use tokio::io::{AsyncReadExt, Interest};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The 12 bytes every v2 header starts with (`\r\n\r\n\0\r\nQUIT\n`): chosen by the protocol so
/// that no HTTP, TLS or other plausible first bytes can be mistaken for it.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// What a v1 line starts with. `PROXY` must be followed by a space: `PROXYX` is not a header.
pub const V1_PREFIX: &[u8] = b"PROXY ";

/// The fixed part of a v2 header: signature, version/command, family/protocol, 16-bit length.
pub const V2_FIXED_LEN: usize = 16;

/// Upper bound on the v2 length field (addresses + TLVs) that we accept. The protocol allows
/// 65,535, but addresses take at most 216 bytes (UNIX) and the TLVs a load balancer or Private
/// Link service sends (LinkID, authority, unique id, SSL info) fit well within 1 KiB; accepting
/// more would only let a peer make us buffer 64 KiB per connection before any check.
pub const MAX_V2_LEN: usize = 1024;

/// The longest v1 line, CRLF included: the protocol's own bound ("PROXY UNKNOWN" with two full
/// IPv6 addresses and two 5-digit ports; a receiver's 108-byte buffer always suffices).
pub const MAX_V1_LEN: usize = 107;

/// `PP2_TYPE_AZURE`: Azure's custom TLV type (network spec PLS-3).
pub const PP2_TYPE_AZURE: u8 = 0xEE;

/// `PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID`: the first value byte of an Azure TLV that carries
/// the private endpoint's LinkID (then 4 bytes, little-endian).
pub const PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID: u8 = 0x01;

/// How long to wait between two looks at a connection whose first bytes are a strict prefix of a
/// signature. Peeking does not consume, so the socket stays "readable" and cannot be awaited for
/// *more* bytes; this case only happens with a client that splits its first segment, so a short
/// sleep costs nothing in practice and keeps the loop from spinning.
const SNIFF_BACKOFF_START: Duration = Duration::from_millis(1);
const SNIFF_BACKOFF_MAX: Duration = Duration::from_millis(20);

/// A PROXY protocol header, as read from the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// 1 (text line) or 2 (binary).
    pub version: u8,
    /// A v2 LOCAL command: the proxy's own connection (a load balancer health probe). It carries
    /// no client, so `source`, `destination`, `link_id` and `tlvs` are empty: the protocol says
    /// the receiver must discard the rest of the block and use the real connection endpoints.
    pub local: bool,
    /// The client as the proxy saw it. `None` for LOCAL, v1 `UNKNOWN`, and v2 families UNSPEC
    /// and UNIX, where the caller falls back to the socket peer (as the protocol allows).
    pub source: Option<SocketAddr>,
    /// The address the client connected to on the proxy (e.g. the private endpoint's IP).
    pub destination: Option<SocketAddr>,
    /// Azure Private Link's LinkID (TLV 0xEE, subtype 0x01, u32 little-endian): which private
    /// endpoint connection the client came through (matched against `private_endpoints`).
    pub link_id: Option<u32>,
    /// Every v2 TLV in wire order, as (type, value) — the LinkID TLV included — so that callers
    /// can read others (0x02 authority, 0x05 unique id, AWS's 0xEA) without reparsing.
    pub tlvs: Vec<(u8, Vec<u8>)>,
}

impl ProxyHeader {
    /// The value of the first TLV of type `kind`, if any.
    pub fn tlv(&self, kind: u8) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }
}

/// Why no header could be read. Any of these closes the connection (except that the caller may
/// choose otherwise); [`ProxyError::reason`] names it in logs.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listener requires a header and the connection started with something else (or
    /// closed before sending anything).
    #[error("the connection did not start with a PROXY protocol header")]
    Missing,
    /// The signature was there but what follows is not a valid header.
    #[error("malformed PROXY protocol header: {0}")]
    Malformed(String),
    /// The connection ended inside the header (or, for [`parse_bytes`], the input did).
    #[error("the connection ended inside the PROXY protocol header")]
    Truncated,
    /// v2: the announced length of addresses + TLVs, above [`MAX_V2_LEN`]; v1: the bytes read
    /// without finding the line's end, above [`MAX_V1_LEN`].
    #[error("PROXY protocol header too long ({len} bytes)")]
    Oversized { len: usize },
    /// The whole header did not arrive within the timeout (a stalled or trickling peer).
    #[error("no complete PROXY protocol header within the timeout")]
    Timeout,
    /// The socket failed (reset, ...).
    #[error("reading the PROXY protocol header: {0}")]
    Io(#[source] io::Error),
}

impl ProxyError {
    /// A short, fixed `stage/reason` for logs and metric labels (no peer data in it).
    pub fn reason(&self) -> &'static str {
        match self {
            ProxyError::Missing => "proxy_protocol/missing",
            ProxyError::Malformed(_) => "proxy_protocol/malformed",
            ProxyError::Truncated => "proxy_protocol/truncated",
            ProxyError::Oversized { .. } => "proxy_protocol/oversized",
            ProxyError::Timeout => "proxy_protocol/timeout",
            ProxyError::Io(_) => "proxy_protocol/io",
        }
    }

    /// EOF while reading a header we know has started is a truncation, not an I/O failure.
    fn from_io(e: io::Error) -> ProxyError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ProxyError::Truncated
        } else {
            ProxyError::Io(e)
        }
    }
}

/// What the first bytes of a connection say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detect {
    V1,
    V2,
    /// They cannot start a header.
    NotProxy,
    /// They are a strict prefix of a signature: more bytes are needed to decide.
    NeedMore,
}

fn detect(prefix: &[u8]) -> Detect {
    if prefix.starts_with(&V2_SIGNATURE) {
        Detect::V2
    } else if prefix.starts_with(V1_PREFIX) {
        Detect::V1
    } else if V2_SIGNATURE.starts_with(prefix) || V1_PREFIX.starts_with(prefix) {
        Detect::NeedMore
    } else {
        Detect::NotProxy
    }
}

/// Reads a PROXY protocol header off a fresh connection, per the listener's (or trusted peer's)
/// `mode`, consuming exactly the header's bytes and nothing after them.
///
/// - `None`: returns `Ok(None)` without touching the stream.
/// - `Required`: the connection must start with a v1 or v2 header; anything else is
///   [`ProxyError::Missing`] (also a connection closed before its first byte).
/// - `Optional`: the header is detected by its signature without consuming anything; if the
///   first bytes cannot be a signature, or nothing at all arrives within `timeout`, or the peer
///   closes without a byte, `Ok(None)` and the stream is untouched (the HTTP layer then applies
///   its own timeouts). First bytes that are a *prefix* of a signature and then stall are a
///   [`ProxyError::Timeout`]: no HTTP or TLS client starts that way.
///
/// `timeout` bounds the whole read, so a peer trickling a byte at a time cannot hold the task.
/// v2 LOCAL (health probes) gives `local: true` and no addresses; v2 UNSPEC/UNIX families and
/// v1 `UNKNOWN` give no addresses (the protocol lets the receiver use the real endpoints).
pub async fn read_header(
    stream: &mut TcpStream,
    mode: ProxyProtocolMode,
    timeout: Duration,
) -> Result<Option<ProxyHeader>, ProxyError> {
    let required = match mode {
        ProxyProtocolMode::None => return Ok(None),
        ProxyProtocolMode::Required => true,
        ProxyProtocolMode::Optional => false,
    };
    let deadline = deadline_after(timeout);

    // Stage 1: decide from peeked bytes, consuming nothing (so `Optional` can step back).
    let mut seen = 0usize;
    let sniffed = tokio::time::timeout_at(deadline, sniff(stream, &mut seen)).await;
    let kind = match sniffed {
        Err(_elapsed) => {
            return if !required && seen == 0 {
                Ok(None)
            } else {
                Err(ProxyError::Timeout)
            };
        }
        Ok(Err(e)) => return Err(ProxyError::from_io(e)),
        Ok(Ok(Sniffed::Kind(Detect::V1))) => Detect::V1,
        Ok(Ok(Sniffed::Kind(Detect::V2))) => Detect::V2,
        Ok(Ok(Sniffed::Kind(_))) => {
            return if required {
                Err(ProxyError::Missing)
            } else {
                Ok(None)
            };
        }
        Ok(Ok(Sniffed::Eof)) => {
            return match (required, seen) {
                (false, 0) => Ok(None),
                (true, 0) => Err(ProxyError::Missing),
                _ => Err(ProxyError::Truncated),
            };
        }
    };

    // Stage 2: the signature is there; read exactly the header.
    let read = async {
        match kind {
            Detect::V2 => read_v2(stream).await,
            _ => read_v1(stream).await,
        }
    };
    match tokio::time::timeout_at(deadline, read).await {
        Ok(result) => result.map(Some),
        Err(_elapsed) => Err(ProxyError::Timeout),
    }
}

/// `now + timeout`, saturating: `Duration::MAX` means "no deadline" rather than a panic.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365 * 30)))
        .unwrap_or(now)
}

enum Sniffed {
    Kind(Detect),
    /// The peer closed; `seen` says how many (signature-prefix) bytes it had sent.
    Eof,
}

/// Peeks until the first bytes decide between v1, v2 and "not a header". `seen` is kept up to
/// date so that the caller can tell "nothing arrived" from "a stalled partial signature" when
/// the deadline cancels this future.
async fn sniff(stream: &TcpStream, seen: &mut usize) -> io::Result<Sniffed> {
    let mut buf = [0u8; V2_SIGNATURE.len()];
    let mut backoff = SNIFF_BACKOFF_START;
    loop {
        let n = stream.peek(&mut buf).await?;
        *seen = (*seen).max(n);
        if n == 0 {
            return Ok(Sniffed::Eof);
        }
        match detect(&buf[..n]) {
            Detect::NeedMore => {
                // Peeked bytes stay in the socket, so a closed peer would look like a peer
                // that stalls; the READ_CLOSED readiness (EPOLLRDHUP) tells them apart.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(SNIFF_BACKOFF_MAX);
                let ready = stream.ready(Interest::READABLE).await?;
                if ready.is_read_closed() {
                    let n = stream.peek(&mut buf).await?;
                    *seen = (*seen).max(n);
                    return match detect(&buf[..n]) {
                        Detect::NeedMore => Ok(Sniffed::Eof),
                        other => Ok(Sniffed::Kind(other)),
                    };
                }
            }
            other => return Ok(Sniffed::Kind(other)),
        }
    }
}

/// v2: the 16 fixed bytes, then exactly the announced length (checked against [`MAX_V2_LEN`]
/// before a byte of it is read).
async fn read_v2(stream: &mut TcpStream) -> Result<ProxyHeader, ProxyError> {
    let mut header = vec![0u8; V2_FIXED_LEN];
    stream
        .read_exact(&mut header)
        .await
        .map_err(ProxyError::from_io)?;
    let total = v2_total_len(&header)?;
    // Refuse a bad version, command or family now rather than after reading the rest.
    if let Err(e) = v2::Header::try_from(header.as_slice())
        && !e.is_incomplete()
    {
        return Err(ProxyError::Malformed(e.to_string()));
    }
    header.resize(total, 0);
    stream
        .read_exact(&mut header[V2_FIXED_LEN..])
        .await
        .map_err(ProxyError::from_io)?;
    parse_v2(&header)
}

/// v1: peek what is there, consume the part that belongs to the line (up to and including the
/// LF), repeat. Consuming what was peeked makes the next peek wait for new bytes.
async fn read_v1(stream: &mut TcpStream) -> Result<ProxyHeader, ProxyError> {
    let mut line = Vec::with_capacity(MAX_V1_LEN);
    let mut buf = [0u8; MAX_V1_LEN];
    loop {
        let room = MAX_V1_LEN - line.len();
        if room == 0 {
            return Err(ProxyError::Oversized { len: line.len() });
        }
        let n = stream
            .peek(&mut buf[..room])
            .await
            .map_err(ProxyError::Io)?;
        if n == 0 {
            return Err(ProxyError::Truncated);
        }
        let take = match buf[..n].iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => n,
        };
        stream
            .read_exact(&mut buf[..take])
            .await
            .map_err(ProxyError::from_io)?;
        line.extend_from_slice(&buf[..take]);
        if line.last() == Some(&b'\n') {
            return parse_v1(&line);
        }
    }
}

/// Parses a complete header at the start of `bytes` and says how many bytes it took; whatever
/// follows is left alone. For the fuzzer, unit tests and callers that already hold the bytes.
///
/// Errors as [`read_header`] in `Required` mode; [`ProxyError::Truncated`] when `bytes` ends
/// inside the header (or is a strict prefix of a signature, including empty input).
pub fn parse_bytes(bytes: &[u8]) -> Result<(ProxyHeader, usize), ProxyError> {
    match detect(bytes) {
        Detect::NotProxy => Err(ProxyError::Missing),
        Detect::NeedMore => Err(ProxyError::Truncated),
        Detect::V2 => {
            let total = v2_total_len(bytes)?;
            let header = bytes.get(..total).ok_or(ProxyError::Truncated)?;
            Ok((parse_v2(header)?, total))
        }
        Detect::V1 => {
            let window = &bytes[..bytes.len().min(MAX_V1_LEN)];
            match window.iter().position(|&b| b == b'\n') {
                Some(i) => Ok((parse_v1(&window[..=i])?, i + 1)),
                None if bytes.len() >= MAX_V1_LEN => {
                    Err(ProxyError::Oversized { len: bytes.len() })
                }
                None => Err(ProxyError::Truncated),
            }
        }
    }
}

/// The full v2 header length announced by its fixed part (which must be complete).
fn v2_total_len(fixed: &[u8]) -> Result<usize, ProxyError> {
    let len = match fixed.get(14..V2_FIXED_LEN) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Err(ProxyError::Truncated),
    };
    if len > MAX_V2_LEN {
        return Err(ProxyError::Oversized { len });
    }
    Ok(V2_FIXED_LEN + len)
}

/// Maps one complete v2 header (exactly its bytes) to a [`ProxyHeader`].
fn parse_v2(bytes: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let header = v2::Header::try_from(bytes).map_err(|e| {
        if e.is_incomplete() {
            ProxyError::Truncated
        } else {
            ProxyError::Malformed(e.to_string())
        }
    })?;
    if header.len() != bytes.len() {
        return Err(ProxyError::Malformed(format!(
            "v2 header of {} bytes where {} were expected",
            header.len(),
            bytes.len()
        )));
    }

    if header.command == v2::Command::Local {
        // The protocol: "the receiver must accept this connection as valid and must use the
        // real connection endpoints and discard the protocol block including the family".
        return Ok(ProxyHeader {
            version: 2,
            local: true,
            source: None,
            destination: None,
            link_id: None,
            tlvs: Vec::new(),
        });
    }

    let (source, destination, tlv_bytes) = match header.addresses {
        v2::Addresses::IPv4(a) => (
            Some(SocketAddr::new(IpAddr::V4(a.source_address), a.source_port)),
            Some(SocketAddr::new(
                IpAddr::V4(a.destination_address),
                a.destination_port,
            )),
            header.tlv_bytes(),
        ),
        v2::Addresses::IPv6(a) => (
            Some(SocketAddr::new(IpAddr::V6(a.source_address), a.source_port)),
            Some(SocketAddr::new(
                IpAddr::V6(a.destination_address),
                a.destination_port,
            )),
            header.tlv_bytes(),
        ),
        v2::Addresses::Unix(_) => (None, None, header.tlv_bytes()),
        // UNSPEC has a 0-byte address block, so its TLVs start right after the fixed part; ppp
        // counts the whole block as addresses, so we take the TLV bytes ourselves.
        v2::Addresses::Unspecified => (
            None,
            None,
            header.as_bytes().get(V2_FIXED_LEN..).unwrap_or(&[]),
        ),
    };

    let mut link_id = None;
    let mut tlvs = Vec::new();
    for tlv in v2::TypeLengthValues::from(tlv_bytes) {
        let tlv = tlv.map_err(|e| ProxyError::Malformed(e.to_string()))?;
        if let Some(id) = azure_link_id(tlv.kind, &tlv.value) {
            // Two different LinkIDs would make the endpoint ambiguous: refuse rather than guess.
            if link_id.is_some_and(|previous| previous != id) {
                return Err(ProxyError::Malformed(
                    "two different Azure Private Link LinkIDs".to_string(),
                ));
            }
            link_id = Some(id);
        }
        tlvs.push((tlv.kind, tlv.value.into_owned()));
    }

    Ok(ProxyHeader {
        version: 2,
        local: false,
        source,
        destination,
        link_id,
        tlvs,
    })
}

/// The LinkID of an Azure TLV (`0xEE`, value `[0x01, b0, b1, b2, b3]`, little-endian). Another
/// subtype or another length is not a LinkID (it stays in `tlvs`, ignored).
fn azure_link_id(kind: u8, value: &[u8]) -> Option<u32> {
    match (kind, value) {
        (PP2_TYPE_AZURE, &[PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID, b0, b1, b2, b3]) => {
            Some(u32::from_le_bytes([b0, b1, b2, b3]))
        }
        _ => None,
    }
}

/// Maps one complete v1 line (through its LF) to a [`ProxyHeader`].
fn parse_v1(line: &[u8]) -> Result<ProxyHeader, ProxyError> {
    if !line.ends_with(b"\r\n") {
        return Err(ProxyError::Malformed(
            "v1 line does not end with CRLF".to_string(),
        ));
    }
    let unknown = ProxyHeader {
        version: 1,
        local: false,
        source: None,
        destination: None,
        link_id: None,
        tlvs: Vec::new(),
    };
    match v1::Header::try_from(line) {
        Ok(header) if header.header.len() == line.len() => {
            let (source, destination) = match header.addresses {
                v1::Addresses::Tcp4(a) => (
                    SocketAddr::new(IpAddr::V4(a.source_address), a.source_port),
                    SocketAddr::new(IpAddr::V4(a.destination_address), a.destination_port),
                ),
                v1::Addresses::Tcp6(a) => (
                    SocketAddr::new(IpAddr::V6(a.source_address), a.source_port),
                    SocketAddr::new(IpAddr::V6(a.destination_address), a.destination_port),
                ),
                v1::Addresses::Unknown => return Ok(unknown),
            };
            Ok(ProxyHeader {
                source: Some(source),
                destination: Some(destination),
                ..unknown
            })
        }
        Ok(_) => Err(ProxyError::Malformed(
            "v1 line has a CR before its end".to_string(),
        )),
        // The protocol: after "UNKNOWN" the receiver must ignore anything up to the CRLF; ppp
        // only accepts up to four more fields there.
        Err(_) if is_v1_unknown(line) => Ok(unknown),
        Err(e) => Err(ProxyError::Malformed(e.to_string())),
    }
}

fn is_v1_unknown(line: &[u8]) -> bool {
    line.strip_prefix(b"PROXY UNKNOWN")
        .is_some_and(|rest| rest.starts_with(b" ") || rest == b"\r\n")
}

/// A v2 PROXY header for `source` → `destination` over TCP, with Azure's LinkID TLV when
/// `link_id` is given: what a load balancer / Private Link service sends (tests, test proxies).
/// Mixed families are sent as IPv6 with the IPv4 side mapped (`::ffff:a.b.c.d`).
pub fn encode_v2(source: SocketAddr, destination: SocketAddr, link_id: Option<u32>) -> Vec<u8> {
    let link = link_id.map(|id| {
        let b = id.to_le_bytes();
        [
            PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID,
            b[0],
            b[1],
            b[2],
            b[3],
        ]
    });
    let tlvs: Vec<(u8, &[u8])> = link
        .as_ref()
        .map(|v| (PP2_TYPE_AZURE, v.as_slice()))
        .into_iter()
        .collect();
    // The builder's only failure is a header above 64 KiB; this one is under 60 bytes.
    encode_v2_tlvs(source, destination, &tlvs).expect("a v2 header under 64 KiB always builds")
}

/// A v2 PROXY header with arbitrary TLVs (in order). Fails only if the header would exceed the
/// protocol's 64 KiB.
pub fn encode_v2_tlvs(
    source: SocketAddr,
    destination: SocketAddr,
    tlvs: &[(u8, &[u8])],
) -> io::Result<Vec<u8>> {
    let (source, destination) = same_family(source, destination);
    let mut builder = v2::Builder::with_addresses(
        v2::Version::Two | v2::Command::Proxy,
        v2::Protocol::Stream,
        (source, destination),
    );
    for (kind, value) in tlvs {
        builder = builder.write_tlv(*kind, value)?;
    }
    builder.build()
}

/// A v2 LOCAL header (UNSPEC family, no addresses): what a load balancer's health probe sends.
pub fn encode_v2_local() -> Vec<u8> {
    v2::Builder::new(
        v2::Version::Two | v2::Command::Local,
        v2::AddressFamily::Unspecified | v2::Protocol::Unspecified,
    )
    .build()
    // The builder's only failure is a header above 64 KiB; this one is 16 bytes.
    .expect("a 16-byte v2 header always builds")
}

/// A v1 line (`PROXY TCP4|TCP6 src dst sport dport\r\n`). Mixed families are sent as TCP6 with
/// the IPv4 side mapped.
pub fn encode_v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    v1::Addresses::from(same_family(source, destination))
        .to_string()
        .into_bytes()
}

/// Both addresses in one family, so the encoders never silently fall back to UNSPEC/UNKNOWN.
fn same_family(source: SocketAddr, destination: SocketAddr) -> (SocketAddr, SocketAddr) {
    fn to_v6(a: SocketAddr) -> SocketAddr {
        match a.ip() {
            IpAddr::V4(ip) => SocketAddr::new(IpAddr::V6(ip.to_ipv6_mapped()), a.port()),
            IpAddr::V6(_) => a,
        }
    }
    if source.is_ipv4() == destination.is_ipv4() {
        (source, destination)
    } else {
        (to_v6(source), to_v6(destination))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The acceptance test T27 bytes, written out by hand (not by our encoder).
    fn t27() -> Vec<u8> {
        let mut b = V2_SIGNATURE.to_vec();
        b.extend([0x21, 0x11, 0x00, 12 + 8]);
        b.extend([198, 51, 100, 9, 10, 0, 0, 4]);
        b.extend(50000u16.to_be_bytes());
        b.extend(443u16.to_be_bytes());
        b.extend([0xEE, 0x00, 0x05, 0x01, 0x04, 0x03, 0x02, 0x01]);
        b
    }

    #[test]
    fn t27_link_id_is_little_endian() {
        let mut bytes = t27();
        let len = bytes.len();
        bytes.extend(b"GET / HTTP/1.1\r\n");
        let (h, used) = parse_bytes(&bytes).unwrap();
        assert_eq!(used, len);
        assert_eq!(h.version, 2);
        assert!(!h.local);
        assert_eq!(h.source, Some(sa("198.51.100.9:50000")));
        assert_eq!(h.destination, Some(sa("10.0.0.4:443")));
        assert_eq!(h.link_id, Some(0x0102_0304));
        assert_eq!(h.tlvs, vec![(0xEE, vec![0x01, 0x04, 0x03, 0x02, 0x01])]);
        assert_eq!(h.tlv(0xEE), Some(&[0x01, 0x04, 0x03, 0x02, 0x01][..]));
        assert_eq!(h.tlv(0x02), None);
    }

    #[test]
    fn other_azure_subtypes_and_lengths_are_not_link_ids() {
        let src = sa("198.51.100.9:50000");
        let dst = sa("10.0.0.4:443");
        for value in [
            &[0x02, 1, 2, 3, 4][..],
            &[0x01, 1, 2, 3][..],
            &[0x01, 1, 2, 3, 4, 5][..],
            &[][..],
        ] {
            let bytes =
                encode_v2_tlvs(src, dst, &[(0xEE, value), (0x02, b"api.contoso.com")]).unwrap();
            let (h, used) = parse_bytes(&bytes).unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(h.link_id, None, "{value:?}");
            assert_eq!(h.tlvs.len(), 2);
            assert_eq!(h.tlv(0xEE), Some(value));
            assert_eq!(h.tlv(0x02), Some(&b"api.contoso.com"[..]));
        }
    }

    #[test]
    fn duplicate_link_ids() {
        let src = sa("198.51.100.9:50000");
        let dst = sa("10.0.0.4:443");
        let same = encode_v2_tlvs(
            src,
            dst,
            &[(0xEE, &[1, 1, 0, 0, 0]), (0xEE, &[1, 1, 0, 0, 0])],
        )
        .unwrap();
        assert_eq!(parse_bytes(&same).unwrap().0.link_id, Some(1));
        let different = encode_v2_tlvs(
            src,
            dst,
            &[(0xEE, &[1, 1, 0, 0, 0]), (0xEE, &[1, 2, 0, 0, 0])],
        )
        .unwrap();
        assert!(matches!(
            parse_bytes(&different),
            Err(ProxyError::Malformed(_))
        ));
    }

    #[test]
    fn encode_v2_round_trips() {
        for (src, dst) in [
            (sa("198.51.100.9:50000"), sa("10.0.0.4:443")),
            (sa("[2001:db8::9]:50000"), sa("[2001:db8::4]:443")),
        ] {
            for link in [None, Some(4_026_531_841u32), Some(0), Some(u32::MAX)] {
                let bytes = encode_v2(src, dst, link);
                let (h, used) = parse_bytes(&bytes).unwrap();
                assert_eq!(used, bytes.len());
                assert_eq!(
                    (h.source, h.destination, h.link_id),
                    (Some(src), Some(dst), link)
                );
            }
        }
        // Mixed families: IPv6 with the IPv4 side mapped.
        let (h, _) = parse_bytes(&encode_v2(sa("1.2.3.4:1"), sa("[::1]:2"), None)).unwrap();
        assert_eq!(h.source, Some(sa("[::ffff:1.2.3.4]:1")));
        // 4026531841 = 0xF0000001: little-endian on the wire.
        let bytes = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), Some(4_026_531_841));
        assert!(bytes.ends_with(&[0xEE, 0x00, 0x05, 0x01, 0x01, 0x00, 0x00, 0xF0]));
    }

    #[test]
    fn v2_local_discards_the_block() {
        let bytes = encode_v2_local();
        assert_eq!(bytes.len(), 16);
        let (h, used) = parse_bytes(&bytes).unwrap();
        assert_eq!(used, 16);
        assert!(h.local);
        assert_eq!((h.source, h.link_id), (None, None));

        // LOCAL with an IPv4 block and a LinkID: still no client and no LinkID.
        let mut with_block = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), Some(7));
        with_block[12] = 0x20;
        let (h, used) = parse_bytes(&with_block).unwrap();
        assert_eq!(used, with_block.len());
        assert!(h.local);
        assert_eq!((h.source, h.link_id, h.tlvs.len()), (None, None, 0));
    }

    #[test]
    fn v2_unspec_and_unix_have_no_addresses() {
        // PROXY + UNSPEC with a LinkID TLV right after the fixed part.
        let mut b = V2_SIGNATURE.to_vec();
        b.extend([
            0x21, 0x00, 0x00, 0x08, 0xEE, 0x00, 0x05, 0x01, 0x2A, 0, 0, 0,
        ]);
        let (h, used) = parse_bytes(&b).unwrap();
        assert_eq!(used, b.len());
        assert!(!h.local);
        assert_eq!((h.source, h.destination, h.link_id), (None, None, Some(42)));

        let mut u = V2_SIGNATURE.to_vec();
        u.extend([0x21, 0x31]);
        u.extend(216u16.to_be_bytes());
        u.extend([0u8; 216]);
        let (h, used) = parse_bytes(&u).unwrap();
        assert_eq!(used, u.len());
        assert_eq!((h.source, h.destination, h.local), (None, None, false));
    }

    #[test]
    fn v2_malformed() {
        let good = encode_v2(sa("1.2.3.4:1"), sa("5.6.7.8:2"), None);
        for (i, byte, why) in [
            (12, 0x11, "version 1 in a binary header"),
            (12, 0x22, "command 2"),
            (13, 0x41, "family 4"),
            (13, 0x13, "transport 3"),
        ] {
            let mut b = good.clone();
            b[i] = byte;
            assert!(
                matches!(parse_bytes(&b), Err(ProxyError::Malformed(_))),
                "{why}"
            );
        }
        // Length too short for the IPv4 block.
        let mut short = good[..16].to_vec();
        short[15] = 4;
        short.extend([1, 2, 3, 4]);
        assert!(matches!(parse_bytes(&short), Err(ProxyError::Malformed(_))));
        // A TLV running past the end / a 2-byte leftover.
        let mut bad_tlv = good.clone();
        bad_tlv.extend([0x02, 0x00, 0x09, b'x']);
        bad_tlv[15] += 4;
        assert!(matches!(
            parse_bytes(&bad_tlv),
            Err(ProxyError::Malformed(_))
        ));
        let mut leftover = good.clone();
        leftover.extend([0x02, 0x00]);
        leftover[15] += 2;
        assert!(matches!(
            parse_bytes(&leftover),
            Err(ProxyError::Malformed(_))
        ));
    }

    #[test]
    fn v2_oversized() {
        let mut b = V2_SIGNATURE.to_vec();
        b.extend([0x21, 0x11]);
        b.extend(1025u16.to_be_bytes());
        assert!(matches!(
            parse_bytes(&b),
            Err(ProxyError::Oversized { len: 1025 })
        ));
        // Exactly the bound is fine.
        let value = vec![b'x'; MAX_V2_LEN - 12 - 3];
        let max = encode_v2_tlvs(sa("1.2.3.4:1"), sa("5.6.7.8:2"), &[(0x05, &value)]).unwrap();
        assert_eq!(max.len(), V2_FIXED_LEN + MAX_V2_LEN);
        assert_eq!(parse_bytes(&max).unwrap().1, max.len());
    }

    #[test]
    fn every_strict_prefix_is_truncated() {
        for full in [
            t27(),
            encode_v2_local(),
            encode_v1(sa("1.2.3.4:1"), sa("5.6.7.8:2")),
            b"PROXY UNKNOWN\r\n".to_vec(),
        ] {
            for n in 0..full.len() {
                assert!(
                    matches!(parse_bytes(&full[..n]), Err(ProxyError::Truncated)),
                    "{n} bytes of {full:?}"
                );
            }
            assert_eq!(parse_bytes(&full).unwrap().1, full.len());
        }
    }

    #[test]
    fn not_a_header() {
        for b in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"PRI * HTTP/2.0\r\n",
            b"\x16\x03\x01\x02\x00",
            b"PROXYX",
            b"\r\n\r\nGET",
            b"\r\n\r\n\0\r\nQUIT\r",
        ] {
            assert!(matches!(parse_bytes(b), Err(ProxyError::Missing)), "{b:?}");
        }
    }

    #[test]
    fn v1_forms() {
        let (h, used) = parse_bytes(b"PROXY TCP4 198.51.100.9 10.0.0.4 50000 443\r\nGET").unwrap();
        assert_eq!(used, 44);
        assert_eq!(h.version, 1);
        assert_eq!(h.source, Some(sa("198.51.100.9:50000")));
        assert_eq!(h.destination, Some(sa("10.0.0.4:443")));

        let (h, _) = parse_bytes(b"PROXY TCP6 2001:db8::9 2001:db8::4 50000 443\r\n").unwrap();
        assert_eq!(h.source, Some(sa("[2001:db8::9]:50000")));

        for unknown in [
            &b"PROXY UNKNOWN\r\n"[..],
            b"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY UNKNOWN whatever the proxy wants to say here\r\n",
        ] {
            let (h, used) = parse_bytes(unknown).unwrap();
            assert_eq!(used, unknown.len());
            assert_eq!((h.version, h.source, h.destination), (1, None, None));
        }

        let max = b"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assert_eq!(max.len(), MAX_V1_LEN);
        assert_eq!(parse_bytes(max).unwrap().1, MAX_V1_LEN);
    }

    #[test]
    fn v1_malformed_and_oversized() {
        for b in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"[..],
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            b"PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n",
            b"PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n",
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY UNKNOWNX\r\n",
            b"PROXY \xff\xfe\r\n",
        ] {
            assert!(
                matches!(parse_bytes(b), Err(ProxyError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(b)
            );
        }
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(MAX_V1_LEN, b'x');
        assert!(matches!(
            parse_bytes(&long),
            Err(ProxyError::Oversized { .. })
        ));
        long.extend(b"\r\n");
        assert!(matches!(
            parse_bytes(&long),
            Err(ProxyError::Oversized { .. })
        ));
    }

    #[test]
    fn encode_v1_round_trips() {
        for (src, dst) in [
            (sa("198.51.100.9:50000"), sa("10.0.0.4:443")),
            (sa("[2001:db8::9]:1"), sa("[2001:db8::4]:65535")),
        ] {
            let b = encode_v1(src, dst);
            let (h, used) = parse_bytes(&b).unwrap();
            assert_eq!(used, b.len());
            assert_eq!((h.source, h.destination), (Some(src), Some(dst)));
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(ProxyError::Missing.reason(), "proxy_protocol/missing");
        assert_eq!(
            ProxyError::Oversized { len: 2000 }.reason(),
            "proxy_protocol/oversized"
        );
        assert_eq!(
            ProxyError::from_io(io::ErrorKind::UnexpectedEof.into()).reason(),
            "proxy_protocol/truncated"
        );
        assert_eq!(
            ProxyError::from_io(io::ErrorKind::ConnectionReset.into()).reason(),
            "proxy_protocol/io"
        );
    }
}
