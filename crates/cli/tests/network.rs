//! End to end: the network rules of docs/network.md (exposure modes, NSGs, private endpoints,
//! PROXY protocol, public network access, client address) enforced by the real `gatehouse`
//! binary against real clients bound to chosen loopback source addresses.
//!
//! On Linux all of 127.0.0.0/8 is local, so a client socket bound to 127.10.1.20 reaches a
//! gateway on 127.0.0.1 or 127.10.1.4 with that source address. The configs below read the
//! loopback range as a small world:
//!
//! | addresses        | plays                                                         |
//! |------------------|---------------------------------------------------------------|
//! | 127.10.0.0/16    | the virtual network (address space)                           |
//! | 127.10.1.0/24    | the gateway's subnet; its private listener is 127.10.1.4      |
//! | 127.30.0.0/16    | a peered network (part of the `VirtualNetwork` tag)           |
//! | 127.40.0.1       | the load balancer (`AzureLoadBalancer`)                       |
//! | 127.20.0.25x     | proxies (PROXY protocol / X-Forwarded-For)                    |
//! | 127.66.0.0/16    | a "bad" range an NSG rule denies                              |
//! | anything else    | the internet (127.0.0.1, 127.99.0.1, ...)                     |
//!
//! A refused connection must be closed at once with no byte of response and logged as one
//! JSON line (`target: gatehouse::network`, `message: connection refused`, with source,
//! destination, stage, rule, priority and reason); an admitted request's access log line
//! carries `client`, `peer`, `private_endpoint`, `nsg_rule` and `nsg_priority`.

use gatehouse_net::proxy_protocol::{V2_SIGNATURE, encode_v1, encode_v2, encode_v2_local};
use gatehouse_testkit::raw::{body_of, status_of};
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr_on};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const HEALTH: &str = "/status-0123456789abcdef";

/// The gateway's private listener address (inside the subnet).
const PRIVATE_VIP: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 4);
/// A host in the gateway's subnet.
const VNET_HOST: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 20);
/// A host in another subnet of the virtual network.
const VNET_OTHER_SUBNET: Ipv4Addr = Ipv4Addr::new(127, 10, 7, 9);
/// A host in a peered network.
const PEERED_HOST: Ipv4Addr = Ipv4Addr::new(127, 30, 0, 5);
/// The load balancer (its health probes).
const LOAD_BALANCER: Ipv4Addr = Ipv4Addr::new(127, 40, 0, 1);
/// An internet host.
const INTERNET_HOST: Ipv4Addr = Ipv4Addr::new(127, 99, 0, 1);
/// A host in the range the `deny-bad` rule denies.
const BAD_HOST: Ipv4Addr = Ipv4Addr::new(127, 66, 0, 9);
/// A host in the range the `allow-partner` rule allows.
const PARTNER_HOST: Ipv4Addr = Ipv4Addr::new(127, 67, 0, 3);
/// A trusted proxy whose connections must start with a PROXY header.
const PROXY_REQUIRED: Ipv4Addr = Ipv4Addr::new(127, 20, 0, 250);
/// A trusted proxy whose PROXY header is optional (detected by its signature).
const PROXY_OPTIONAL: Ipv4Addr = Ipv4Addr::new(127, 20, 0, 251);
/// A trusted proxy given as a bare prefix: X-Forwarded-For only, no PROXY header.
const PROXY_XFF: Ipv4Addr = Ipv4Addr::new(127, 20, 0, 252);

/// How long a client waits for the gateway's answer (or for it to close the connection).
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// A refusal must come "at once": well under any of the gateway's timeouts.
const AT_ONCE: Duration = Duration::from_secs(2);
/// `gateway.limits.proxy_header_timeout_ms` in these configs.
const PROXY_HEADER_TIMEOUT_MS: u64 = 400;

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

/// A config with one open API (`/echo/...`, no key) in front of `backend`, the service name
/// `service`, and `network` (YAML lines indented by two spaces) as the network section.
fn config(service: &str, backend: &str, network: &str) -> String {
    format!(
        r#"
service: {{ name: {service} }}
gateway:
  limits: {{ proxy_header_timeout_ms: {PROXY_HEADER_TIMEOUT_MS} }}
# The host name the requests carry: internal mode answers only the gateway's host names.
hostname_configurations: [ {{ type: Proxy, host_name: gateway.test }} ]
backends:
  echo: {{ url: "{backend}" }}
apis:
  - id: echo
    path: echo
    backend: echo
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
network:
{network}
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
"#
    )
}

/// The network section of an injected gateway (`kind`: external or internal) with the
/// virtual network, peering and load balancer of the table above; `endpoints` is the
/// `network.endpoints.gateway` mapping and `rules` the NSG's `security_rules` (YAML list items
/// indented by eight spaces, or empty).
fn injected(kind: &str, endpoints: &str, rules: &str) -> String {
    let rules = if rules.trim().is_empty() {
        "      security_rules: []".to_string()
    } else {
        format!("      security_rules:\n{rules}")
    };
    format!(
        r#"  type: {kind}
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
    peered: [127.30.0.0/16]
  load_balancer: [127.40.0.1/32]
  endpoints:
    gateway: {endpoints}
  network_security_groups:
    apim-nsg:
{rules}"#
    )
}

/// One inbound NSG rule as a YAML list item (indented for [`injected`]).
fn rule(
    name: &str,
    priority: u32,
    access: &str,
    source: &str,
    destination: &str,
    ports: &str,
) -> String {
    format!(
        "        - {{ name: {name}, priority: {priority}, direction: inbound, access: {access}, protocol: tcp, source: \"{source}\", source_ports: \"*\", destination: \"{destination}\", destination_ports: \"{ports}\" }}\n"
    )
}

/// Starts the gateway and waits for its "gatehouse started" line (listeners bound). The
/// fixture's default HTTP probe comes from 127.0.0.1, which several configs here refuse.
async fn start(yaml: &str) -> Gatehouse {
    start_with_args(yaml, &["serve"]).await
}

async fn start_with_args(yaml: &str, args: &[&str]) -> Gatehouse {
    Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args(args.iter().copied())
        .env("RUST_LOG", "info")
        .probe(Probe::Log("gatehouse started".into()))
        .start(yaml)
        .await
        .expect("gatehouse starts")
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// What a client got back on one connection.
#[derive(Debug)]
struct Reply {
    /// The client's own address (its source port identifies the connection in the logs).
    local: SocketAddr,
    bytes: Vec<u8>,
    /// The gateway ended the connection (EOF or reset), rather than the read timing out.
    ended: bool,
    /// From connecting to the end of reading.
    elapsed: Duration,
}

impl Reply {
    fn status(&self) -> Option<u16> {
        status_of(&self.bytes)
    }

    fn body(&self) -> String {
        String::from_utf8_lossy(body_of(&self.bytes).unwrap_or_default()).into_owned()
    }

    /// Closed without a single byte of response.
    fn closed_silently(&self) -> bool {
        self.bytes.is_empty() && self.ended
    }

    #[track_caller]
    fn assert_status(&self, want: u16, what: &str) {
        assert_eq!(
            self.status(),
            Some(want),
            "{what}: expected {want}, got {:?} (ended: {}, after {:?}): {:?}",
            self.status(),
            self.ended,
            self.elapsed,
            String::from_utf8_lossy(&self.bytes)
        );
    }

    /// Closed at once, with nothing sent back.
    #[track_caller]
    fn assert_refused(&self, what: &str) {
        assert!(
            self.closed_silently(),
            "{what}: expected the connection to be closed without a response, got (ended: {}, after {:?}): {:?}",
            self.ended,
            self.elapsed,
            String::from_utf8_lossy(&self.bytes)
        );
        assert!(
            self.elapsed < AT_ONCE,
            "{what}: refused only after {:?}",
            self.elapsed
        );
    }
}

/// A TCP connection to `dst` from `src` (port chosen by the kernel).
async fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(src), 0))
        .unwrap_or_else(|e| panic!("binding a client socket to {src}: {e}"));
    let stream = tokio::time::timeout(READ_TIMEOUT, socket.connect(dst))
        .await
        .unwrap_or_else(|_| panic!("connecting {src} -> {dst} timed out"))
        .unwrap_or_else(|e| panic!("connecting {src} -> {dst}: {e}"));
    let _ = stream.set_nodelay(true);
    stream
}

/// Connects from `src` to `dst`, writes `chunks` with `pause` between them (stopping if the
/// gateway closes the connection meanwhile), then reads until the gateway closes the
/// connection or [`READ_TIMEOUT`] passes.
async fn exchange_paced(
    src: Ipv4Addr,
    dst: SocketAddr,
    chunks: &[&[u8]],
    pause: Duration,
) -> Reply {
    let started = Instant::now();
    let mut stream = connect_from(src, dst).await;
    let local = stream.local_addr().expect("local address");
    let mut bytes = Vec::new();
    let mut ended = false;
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 && !pause.is_zero() && read_for(&mut stream, &mut bytes, pause).await {
            ended = true;
            break;
        }
        // A write may fail when the gateway has already closed: what it answered (if
        // anything) is read below.
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    if !ended {
        ended = read_for(&mut stream, &mut bytes, READ_TIMEOUT).await;
    }
    Reply {
        local,
        bytes,
        ended,
        elapsed: started.elapsed(),
    }
}

/// Reads into `out` for at most `dur`; true when the connection ended (EOF or error).
async fn read_for(stream: &mut TcpStream, out: &mut Vec<u8>, dur: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + dur;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Connects from `src` to `dst`, writes `bytes` and reads the answer.
async fn exchange(src: Ipv4Addr, dst: SocketAddr, bytes: &[u8]) -> Reply {
    exchange_paced(src, dst, &[bytes], Duration::ZERO).await
}

/// `GET path` over HTTP/1.1 with `Connection: close` and `headers`.
fn get(path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("GET {path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n");
    for (name, value) in headers {
        r.push_str(&format!("{name}: {value}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// `GET /echo/<what>` from `src` to `dst`.
async fn get_from(src: Ipv4Addr, dst: SocketAddr, what: &str) -> Reply {
    exchange(src, dst, &get(&format!("/echo/{what}"), &[])).await
}

/// `prefix` (a PROXY header, or anything) followed by `GET path`, from `src` to `dst`.
async fn get_after(src: Ipv4Addr, dst: SocketAddr, prefix: &[u8], path: &str) -> Reply {
    let mut bytes = prefix.to_vec();
    bytes.extend(get(path, &[]));
    exchange(src, dst, &bytes).await
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Waits (up to 5 s) for a JSON log line satisfying `pred`.
async fn wait_log(gw: &Gatehouse, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = gw.json_logs().into_iter().find(|v| pred(v)) {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("no log line for {what}; output:\n{}", gw.logs_text());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The refusal line whose `source` is `source`.
async fn refusal(gw: &Gatehouse, source: SocketAddr) -> Value {
    let want = source.to_string();
    wait_log(gw, &format!("the refusal of {want}"), |v| {
        str_field(v, "target") == Some("gatehouse::network")
            && str_field(v, "message") == Some("connection refused")
            && str_field(v, "source") == Some(want.as_str())
    })
    .await
}

/// The access log line of the request whose socket peer is `peer`.
async fn access(gw: &Gatehouse, peer: SocketAddr) -> Value {
    let want = peer.to_string();
    wait_log(gw, &format!("the access of {want}"), |v| {
        str_field(v, "target") == Some("gatehouse::access")
            && str_field(v, "peer") == Some(want.as_str())
    })
    .await
}

/// Asserts the refusal line of `source`: its stage, the NSG rule and priority (or none), and
/// the destination (the listener the connection reached). Returns the line.
#[track_caller]
fn check_refusal(
    line: &Value,
    stage: &str,
    rule: Option<(&str, u64)>,
    destination: SocketAddr,
) -> String {
    assert_eq!(str_field(line, "stage"), Some(stage), "stage in {line}");
    match rule {
        Some((name, priority)) => {
            assert_eq!(str_field(line, "rule"), Some(name), "rule in {line}");
            assert_eq!(
                line.get("priority").and_then(Value::as_u64),
                Some(priority),
                "priority in {line}"
            );
        }
        None => {
            assert!(
                line.get("rule").is_none_or(Value::is_null),
                "no rule expected in {line}"
            );
            assert!(
                line.get("priority").is_none_or(Value::is_null),
                "no priority expected in {line}"
            );
        }
    }
    assert_eq!(
        str_field(line, "destination"),
        Some(destination.to_string().as_str()),
        "destination in {line}"
    );
    let reason = str_field(line, "reason").unwrap_or_default().to_string();
    assert!(!reason.is_empty(), "a reason in {line}");
    reason
}

/// Asserts a refused connection end to end: closed at once without a response, and logged
/// with `stage` and `rule`. Returns the reason.
async fn assert_refused(
    gw: &Gatehouse,
    reply: &Reply,
    what: &str,
    stage: &str,
    rule: Option<(&str, u64)>,
    destination: SocketAddr,
) -> String {
    reply.assert_refused(what);
    let line = refusal(gw, reply.local).await;
    check_refusal(&line, stage, rule, destination)
}

/// Asserts a served request: 200 from the backend, and an access log line with `client`, the
/// NSG rule and priority (or none) and the private endpoint (or none). Returns the line.
async fn assert_served(
    gw: &Gatehouse,
    reply: &Reply,
    what: &str,
    client: IpAddr,
    nsg: Option<(&str, u64)>,
    private_endpoint: Option<&str>,
) -> Value {
    reply.assert_status(200, what);
    let line = access(gw, reply.local).await;
    assert_eq!(
        str_field(&line, "client"),
        Some(client.to_string().as_str()),
        "{what}: client in {line}"
    );
    assert_eq!(
        str_field(&line, "nsg_rule"),
        nsg.map(|(n, _)| n),
        "{what}: nsg_rule in {line}"
    );
    assert_eq!(
        line.get("nsg_priority").and_then(Value::as_u64),
        nsg.map(|(_, p)| p),
        "{what}: nsg_priority in {line}"
    );
    assert_eq!(
        str_field(&line, "private_endpoint"),
        private_endpoint,
        "{what}: private_endpoint in {line}"
    );
    line
}

fn ip(a: Ipv4Addr) -> IpAddr {
    IpAddr::V4(a)
}

// ---------------------------------------------------------------------------------------------
// 1. type none
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn type_none_serves_every_source_and_ignores_nsgs() {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    // An NSG that would deny everything, named by the subnet: ignored with type none.
    let network = format!(
        r#"  type: none
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ public: "{public}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
{}"#,
        rule("deny-everything", 100, "deny", "*", "*", "*")
    );
    let gw = start(&config("none", &backend.url(), &network)).await;
    wait_log(&gw, "the warning that NSGs are ignored", |v| {
        str_field(v, "level") == Some("WARN")
            && str_field(v, "path") == Some("network.network_security_groups")
            && str_field(v, "message").is_some_and(|m| m.contains("type none"))
    })
    .await;
    for src in [
        Ipv4Addr::LOCALHOST,
        VNET_HOST,
        PEERED_HOST,
        INTERNET_HOST,
        BAD_HOST,
        LOAD_BALANCER,
    ] {
        let r = get_from(src, public, "none").await;
        assert_served(&gw, &r, &format!("{src} (type none)"), ip(src), None, None).await;
    }
    assert_eq!(backend.request_count(), 6);
    assert!(
        !gw.logs_text().contains("connection refused"),
        "nothing may be refused with type none:\n{}",
        gw.logs_text()
    );
}

// ---------------------------------------------------------------------------------------------
// 2. type external
// ---------------------------------------------------------------------------------------------

struct External {
    gw: Gatehouse,
    _backend: MockBackend,
    public: SocketAddr,
    private: SocketAddr,
}

/// An external gateway with a public listener on 127.0.0.1 and a private one on 127.10.1.4;
/// `rules(public_port, private_port)` gives the NSG's rules.
async fn external(rules: impl FnOnce(u16, u16) -> String) -> External {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let private = free_addr_on(PRIVATE_VIP);
    let endpoints = format!(r#"{{ public: "{public}", private: "{private}" }}"#);
    let network = injected(
        "external",
        &endpoints,
        &rules(public.port(), private.port()),
    );
    let gw = start(&config("external", &backend.url(), &network)).await;
    External {
        gw,
        _backend: backend,
        public,
        private,
    }
}

#[tokio::test]
async fn external_serves_the_virtual_network_peerings_and_load_balancer_by_default_rules() {
    let e = external(|_, _| String::new()).await;
    let vnet = Some(("AllowVnetInBound", 65000));
    for (src, listener, what) in [
        (VNET_HOST, e.public, "vnet host -> public"),
        (VNET_HOST, e.private, "vnet host -> private"),
        (VNET_OTHER_SUBNET, e.private, "other subnet -> private"),
        (PEERED_HOST, e.public, "peered host -> public"),
        (PEERED_HOST, e.private, "peered host -> private"),
    ] {
        let r = get_from(src, listener, "ext").await;
        assert_served(&e.gw, &r, what, ip(src), vnet, None).await;
    }
    // The load balancer is not in the virtual network: the public listener, by 65001.
    let r = get_from(LOAD_BALANCER, e.public, "lb").await;
    assert_served(
        &e.gw,
        &r,
        "load balancer -> public",
        ip(LOAD_BALANCER),
        Some(("AllowAzureLoadBalancerInBound", 65001)),
        None,
    )
    .await;
    // Its health probe too.
    let r = exchange(LOAD_BALANCER, e.public, &get(HEALTH, &[])).await;
    r.assert_status(200, "load balancer health probe");
}

#[tokio::test]
async fn external_refuses_the_internet_by_deny_all_and_on_private_listeners_by_exposure() {
    let e = external(|_, _| String::new()).await;
    for src in [INTERNET_HOST, Ipv4Addr::LOCALHOST] {
        let r = get_from(src, e.public, "ext").await;
        let reason = assert_refused(
            &e.gw,
            &r,
            &format!("{src} -> public"),
            "nsg",
            Some(("DenyAllInBound", 65500)),
            e.public,
        )
        .await;
        assert!(reason.contains("DenyAllInBound"), "{reason}");
        let r = get_from(src, e.private, "ext").await;
        let reason = assert_refused(
            &e.gw,
            &r,
            &format!("{src} -> private"),
            "exposure",
            None,
            e.private,
        )
        .await;
        assert!(reason.contains(&src.to_string()), "{reason}");
    }
    // The load balancer is not in the virtual network either: no private listener for it.
    let r = get_from(LOAD_BALANCER, e.private, "lb").await;
    assert_refused(
        &e.gw,
        &r,
        "load balancer -> private",
        "exposure",
        None,
        e.private,
    )
    .await;
}

#[tokio::test]
async fn external_nsg_rules_first_match_by_priority() {
    let e = external(|_, _| {
        [
            rule("deny-bad", 100, "deny", "127.66.0.0/16", "*", "*"),
            rule("deny-vnet-host", 110, "deny", "127.10.1.66/32", "*", "*"),
            rule("allow-bad", 200, "allow", "127.66.0.0/16", "*", "*"),
            rule("allow-partner", 210, "allow", "127.67.0.0/16", "*", "*"),
        ]
        .concat()
    })
    .await;
    // deny @100 beats allow @200.
    let r = get_from(BAD_HOST, e.public, "bad").await;
    let reason = assert_refused(
        &e.gw,
        &r,
        "bad host -> public",
        "nsg",
        Some(("deny-bad", 100)),
        e.public,
    )
    .await;
    assert!(
        reason.contains("deny-bad") && reason.contains("100"),
        "{reason}"
    );
    // An allow rule of the user's beats DenyAllInBound.
    let r = get_from(PARTNER_HOST, e.public, "partner").await;
    assert_served(
        &e.gw,
        &r,
        "partner -> public",
        ip(PARTNER_HOST),
        Some(("allow-partner", 210)),
        None,
    )
    .await;
    // A deny rule of the user's beats AllowVnetInBound, on the private listener too.
    let denied_vnet = Ipv4Addr::new(127, 10, 1, 66);
    for listener in [e.private, e.public] {
        let r = get_from(denied_vnet, listener, "vnet").await;
        assert_refused(
            &e.gw,
            &r,
            "denied vnet host",
            "nsg",
            Some(("deny-vnet-host", 110)),
            listener,
        )
        .await;
    }
    // The rest of the virtual network is still allowed by the default rule.
    let r = get_from(VNET_HOST, e.private, "vnet").await;
    assert_served(
        &e.gw,
        &r,
        "vnet host -> private",
        ip(VNET_HOST),
        Some(("AllowVnetInBound", 65000)),
        None,
    )
    .await;
}

#[tokio::test]
async fn external_internet_is_allowed_by_a_rule_on_the_listener_port_after_dnat() {
    let e = external(|public_port, private_port| {
        [
            // The NSG sees the destination after Azure's DNAT: the gateway's private address,
            // never the public VIP literal (spec T21). This rule must not match.
            rule(
                "allow-internet-vip-literal",
                300,
                "allow",
                "Internet",
                "127.0.0.1/32",
                &public_port.to_string(),
            ),
            // Another port: must not match either.
            rule(
                "allow-internet-other-port",
                310,
                "allow",
                "Internet",
                "*",
                &private_port.to_string(),
            ),
            rule(
                "allow-internet-gateway",
                320,
                "allow",
                "Internet",
                "VirtualNetwork",
                &public_port.to_string(),
            ),
        ]
        .concat()
    })
    .await;
    let r = get_from(INTERNET_HOST, e.public, "internet").await;
    assert_served(
        &e.gw,
        &r,
        "internet -> public",
        ip(INTERNET_HOST),
        Some(("allow-internet-gateway", 320)),
        None,
    )
    .await;
    // An NSG rule cannot open a private listener to the internet.
    let r = get_from(INTERNET_HOST, e.private, "internet").await;
    assert_refused(
        &e.gw,
        &r,
        "internet -> private",
        "exposure",
        None,
        e.private,
    )
    .await;
    // The virtual network keeps its default rule.
    let r = get_from(VNET_HOST, e.public, "vnet").await;
    assert_served(
        &e.gw,
        &r,
        "vnet host -> public",
        ip(VNET_HOST),
        Some(("AllowVnetInBound", 65000)),
        None,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. type internal
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn internal_serves_only_the_virtual_network_even_when_an_nsg_rule_allows_more() {
    let backend = MockBackend::start().await.expect("backend");
    let private = free_addr_on(PRIVATE_VIP);
    let rules = [
        rule("allow-internet", 100, "allow", "Internet", "*", "*"),
        rule("allow-bad", 110, "allow", "127.66.0.0/16", "*", "*"),
    ]
    .concat();
    let network = injected(
        "internal",
        &format!(r#"{{ private: "{private}" }}"#),
        &rules,
    );
    let gw = start(&config("internal", &backend.url(), &network)).await;

    for (src, what) in [
        (VNET_HOST, "subnet host"),
        (VNET_OTHER_SUBNET, "other subnet"),
        (PEERED_HOST, "peered host"),
    ] {
        let r = get_from(src, private, "int").await;
        assert_served(
            &gw,
            &r,
            what,
            ip(src),
            Some(("AllowVnetInBound", 65000)),
            None,
        )
        .await;
    }
    for src in [INTERNET_HOST, BAD_HOST, LOAD_BALANCER, Ipv4Addr::LOCALHOST] {
        let r = get_from(src, private, "int").await;
        let reason = assert_refused(
            &gw,
            &r,
            &format!("{src} -> internal gateway"),
            "exposure",
            None,
            private,
        )
        .await;
        assert!(reason.contains(&src.to_string()), "{reason}");
    }
    // Not even its health probe.
    let r = exchange(INTERNET_HOST, private, &get(HEALTH, &[])).await;
    r.assert_refused("internet health probe -> internal gateway");
    assert_eq!(backend.request_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// 4. private endpoints on dedicated listeners
// ---------------------------------------------------------------------------------------------

const STATES: [&str; 4] = ["approved", "pending", "rejected", "disconnected"];

async fn dedicated_listeners(public_network_access: &str) {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let listeners: Vec<SocketAddr> = STATES
        .iter()
        .enumerate()
        .map(|(i, _)| free_addr_on(Ipv4Addr::new(127, 50, 0, i as u8 + 1)))
        .collect();
    let endpoints: String = STATES
        .iter()
        .zip(&listeners)
        .enumerate()
        .map(|(i, (state, addr))| {
            format!(
                "    - {{ name: pe-{state}, link_id: {}, listen: \"{addr}\", state: {state} }}\n",
                100 + i
            )
        })
        .collect();
    let network = format!(
        r#"  type: none
  public_network_access: {public_network_access}
  endpoints:
    gateway: {{ public: "{public}" }}
  private_endpoints:
{endpoints}"#
    );
    let gw = start(&config("contoso", &backend.url(), &network)).await;

    for (state, listener) in STATES.iter().zip(&listeners) {
        for src in [VNET_HOST, INTERNET_HOST] {
            let what = format!("{src} -> pe-{state} ({public_network_access})");
            let r = get_from(src, *listener, "pe").await;
            if *state == "approved" {
                assert_served(&gw, &r, &what, ip(src), None, Some("pe-approved")).await;
            } else {
                let reason =
                    assert_refused(&gw, &r, &what, "private_endpoint", None, *listener).await;
                assert!(
                    reason.contains(&format!("pe-{state}")) && reason.contains(state),
                    "{what}: {reason}"
                );
            }
        }
    }
    // The public listener: served, or APIM's 403, and never a private endpoint.
    let r = get_from(INTERNET_HOST, public, "public").await;
    if public_network_access == "enabled" {
        assert_served(&gw, &r, "public listener", ip(INTERNET_HOST), None, None).await;
    } else {
        r.assert_status(403, "public listener with public access disabled");
        let line = access(&gw, r.local).await;
        assert_eq!(str_field(&line, "private_endpoint"), None, "{line}");
    }
    assert_eq!(
        backend.request_count(),
        2 + usize::from(public_network_access == "enabled")
    );
}

#[tokio::test]
async fn private_endpoint_listeners_serve_only_approved_endpoints_with_public_access_enabled() {
    dedicated_listeners("enabled").await;
}

#[tokio::test]
async fn private_endpoint_listeners_serve_only_approved_endpoints_with_public_access_disabled() {
    dedicated_listeners("disabled").await;
}

// ---------------------------------------------------------------------------------------------
// 5. private endpoints behind a trusted proxy (PROXY v2 with the LinkID TLV)
// ---------------------------------------------------------------------------------------------

const LINK_APPROVED: u32 = 4_026_531_841;
const LINK_PENDING: u32 = 2;
const LINK_REJECTED: u32 = 3;
const LINK_DISCONNECTED: u32 = 4;
const LINK_UNKNOWN: u32 = 99;

struct Proxied {
    gw: Gatehouse,
    backend: MockBackend,
    public: SocketAddr,
}

/// A type-none gateway behind trusted proxies (required, optional, X-Forwarded-For only) with
/// four private endpoints reached through the PROXY v2 LinkID only.
async fn proxied(public_network_access: &str) -> Proxied {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let network = format!(
        r#"  type: none
  public_network_access: {public_network_access}
  endpoints:
    gateway: {{ public: "{public}" }}
  trusted_proxies:
    - {{ prefix: {PROXY_REQUIRED}/32, proxy_protocol: required }}
    - {{ prefix: {PROXY_OPTIONAL}/32, proxy_protocol: optional }}
    - {PROXY_XFF}/32
  private_endpoints:
    - {{ name: pe-partner, link_id: {LINK_APPROVED}, state: approved }}
    - {{ name: pe-pending, link_id: {LINK_PENDING}, state: pending }}
    - {{ name: pe-rejected, link_id: {LINK_REJECTED}, state: rejected }}
    - {{ name: pe-gone, link_id: {LINK_DISCONNECTED}, state: disconnected }}
"#
    );
    let gw = start(&config("contoso", &backend.url(), &network)).await;
    Proxied {
        gw,
        backend,
        public,
    }
}

/// The client as the proxy saw it; each case uses its own port, so log lines are told apart.
fn client(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9)), port)
}

async fn link_ids_for_every_state(public_network_access: &str) {
    let p = proxied(public_network_access).await;
    let gw = &p.gw;

    // Approved: served, the client is the PROXY source, the endpoint is named.
    let header = encode_v2(client(50001), p.public, Some(LINK_APPROVED));
    let r = get_after(PROXY_REQUIRED, p.public, &header, "/echo/pe").await;
    let line = assert_served(
        gw,
        &r,
        "approved LinkID",
        client(50001).ip(),
        None,
        Some("pe-partner"),
    )
    .await;
    assert_eq!(
        str_field(&line, "peer"),
        Some(r.local.to_string().as_str()),
        "{line}"
    );
    assert!(
        r.body().contains("\"path\""),
        "the backend's echo: {}",
        r.body()
    );

    // Every other state, and a LinkID no endpoint has: closed, stage private_endpoint.
    for (i, (link, name)) in [
        (LINK_PENDING, Some("pe-pending")),
        (LINK_REJECTED, Some("pe-rejected")),
        (LINK_DISCONNECTED, Some("pe-gone")),
        (LINK_UNKNOWN, None),
    ]
    .into_iter()
    .enumerate()
    {
        let source = client(50010 + i as u16);
        let header = encode_v2(source, p.public, Some(link));
        let r = get_after(PROXY_REQUIRED, p.public, &header, "/echo/pe").await;
        let what = format!("LinkID {link} ({public_network_access})");
        r.assert_refused(&what);
        // The refusal is about the client the proxy named, not the proxy.
        let line = refusal(gw, source).await;
        let reason = check_refusal(&line, "private_endpoint", None, p.public);
        match name {
            Some(name) => assert!(reason.contains(name), "{what}: {reason}"),
            None => assert!(reason.contains(&link.to_string()), "{what}: {reason}"),
        }
    }

    // No LinkID: not a private endpoint.
    let header = encode_v2(client(50020), p.public, None);
    let r = get_after(PROXY_REQUIRED, p.public, &header, "/echo/plain").await;
    if public_network_access == "enabled" {
        assert_served(
            gw,
            &r,
            "PROXY v2 without LinkID",
            client(50020).ip(),
            None,
            None,
        )
        .await;
    } else {
        r.assert_status(403, "PROXY v2 without LinkID, public access disabled");
        assert!(
            r.body()
                .contains(&format!("client public IP address {}", client(50020).ip())),
            "the 403 names the PROXY source: {}",
            r.body()
        );
    }
    assert_eq!(
        p.backend.request_count(),
        1 + usize::from(public_network_access == "enabled")
    );
}

#[tokio::test]
async fn proxy_v2_link_id_selects_the_private_endpoint_for_every_state_with_public_access_enabled()
{
    link_ids_for_every_state("enabled").await;
}

#[tokio::test]
async fn proxy_v2_link_id_selects_the_private_endpoint_for_every_state_with_public_access_disabled()
{
    link_ids_for_every_state("disabled").await;
}

#[tokio::test]
async fn proxy_v1_and_optional_headers_give_the_client_address() {
    let p = proxied("enabled").await;
    // v1 from the required-mode proxy.
    let header = encode_v1(client(50101), p.public);
    let r = get_after(PROXY_REQUIRED, p.public, &header, "/echo/v1").await;
    assert_served(&p.gw, &r, "PROXY v1", client(50101).ip(), None, None).await;
    // Optional mode: with a header (v2, with the LinkID) ...
    let header = encode_v2(client(50102), p.public, Some(LINK_APPROVED));
    let r = get_after(PROXY_OPTIONAL, p.public, &header, "/echo/opt").await;
    assert_served(
        &p.gw,
        &r,
        "optional proxy with a header",
        client(50102).ip(),
        None,
        Some("pe-partner"),
    )
    .await;
    // ... and without one: the proxy itself is the client.
    let r = get_from(PROXY_OPTIONAL, p.public, "opt").await;
    assert_served(
        &p.gw,
        &r,
        "optional proxy without a header",
        ip(PROXY_OPTIONAL),
        None,
        None,
    )
    .await;
    // Detection by signature must not mistake a request that starts like one ("P" of POST is
    // also the "P" of "PROXY "), even when it trickles in a byte at a time.
    let post =
        b"POST /echo/trickle HTTP/1.1\r\nHost: g\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let chunks: Vec<&[u8]> = post.chunks(1).collect();
    let r = exchange_paced(PROXY_OPTIONAL, p.public, &chunks, Duration::from_millis(10)).await;
    assert_served(
        &p.gw,
        &r,
        "optional proxy, trickled POST without a header",
        ip(PROXY_OPTIONAL),
        None,
        None,
    )
    .await;
    // A refused LinkID through the optional proxy is refused as well.
    let header = encode_v2(client(50103), p.public, Some(LINK_REJECTED));
    let r = get_after(PROXY_OPTIONAL, p.public, &header, "/echo/opt").await;
    r.assert_refused("optional proxy, rejected LinkID");
    let line = refusal(&p.gw, client(50103)).await;
    check_refusal(&line, "private_endpoint", None, p.public);
}

#[tokio::test]
async fn proxy_v2_local_header_is_accepted_as_a_health_probe() {
    for pna in ["enabled", "disabled"] {
        let p = proxied(pna).await;
        let r = get_after(PROXY_REQUIRED, p.public, &encode_v2_local(), HEALTH).await;
        r.assert_status(200, &format!("LOCAL health probe ({pna})"));
        // LOCAL carries no client: the connection's own peer is the client.
        let line = access(&p.gw, r.local).await;
        assert_eq!(
            str_field(&line, "client"),
            Some(PROXY_REQUIRED.to_string().as_str()),
            "{line}"
        );
        assert_eq!(str_field(&line, "private_endpoint"), None, "{line}");
    }
}

#[tokio::test]
async fn proxy_header_from_an_untrusted_source_is_never_parsed() {
    let p = proxied("enabled").await;
    // From an untrusted source, and from a trusted proxy that is trusted for
    // X-Forwarded-For only: the connection is refused and logged, never served.
    for (i, src) in [INTERNET_HOST, VNET_HOST, PROXY_XFF]
        .into_iter()
        .enumerate()
    {
        let source = client(50200 + i as u16);
        for header in [
            encode_v2(source, p.public, Some(LINK_APPROVED)),
            encode_v1(source, p.public),
        ] {
            let r = get_after(src, p.public, &header, "/echo/spoof").await;
            assert!(
                r.closed_silently(),
                "a PROXY header from {src} must close the connection, got: {:?}",
                String::from_utf8_lossy(&r.bytes)
            );
        }
        // Nothing was believed: no line names the spoofed client or the endpoint.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for line in p.gw.json_logs() {
            assert_ne!(
                str_field(&line, "client"),
                Some(source.ip().to_string().as_str()),
                "{line}"
            );
            if str_field(&line, "target") == Some("gatehouse::access") {
                assert_eq!(str_field(&line, "private_endpoint"), None, "{line}");
            }
        }
    }
    assert_eq!(p.backend.request_count(), 0);
    let refusals =
        p.gw.json_logs()
            .into_iter()
            .filter(|l| {
                str_field(l, "message") == Some("connection refused")
                    && str_field(l, "stage") == Some("proxy_protocol")
            })
            .filter(|l| str_field(l, "reason").is_some_and(|r| r.contains("not a trusted proxy")))
            .count();
    assert_eq!(refusals, 6, "one refusal logged per untrusted PROXY header");
}

#[tokio::test]
async fn required_proxy_protocol_violations_close_the_connection() {
    let p = proxied("enabled").await;
    let gw = &p.gw;

    // No header at all: the request itself.
    let r = get_from(PROXY_REQUIRED, p.public, "nohdr").await;
    let reason = assert_refused(
        gw,
        &r,
        "required proxy without a header",
        "proxy_protocol",
        None,
        p.public,
    )
    .await;
    assert!(reason.contains("PROXY"), "{reason}");

    // Malformed v2: the signature, then version 3.
    let mut bad_v2 = V2_SIGNATURE.to_vec();
    bad_v2.extend([0x31, 0x11, 0x00, 12]);
    bad_v2.extend([198, 51, 100, 9, 127, 0, 0, 1, 0xC3, 0x50, 0x01, 0xBB]);
    // Malformed v1: not an address.
    let bad_v1 = b"PROXY TCP4 not.an.address 127.0.0.1 50000 443\r\n".to_vec();
    // v2 whose announced length runs past the addresses into garbage TLVs.
    let mut bad_tlv = V2_SIGNATURE.to_vec();
    bad_tlv.extend([0x21, 0x11, 0x00, 12 + 3]);
    bad_tlv.extend([198, 51, 100, 9, 127, 0, 0, 1, 0xC3, 0x50, 0x01, 0xBB]);
    bad_tlv.extend([0xEE, 0x00, 0x40]); // a TLV announcing 64 bytes that never come
    for (what, header) in [
        ("malformed v2", bad_v2),
        ("malformed v1", bad_v1),
        ("v2 with a broken TLV", bad_tlv),
    ] {
        let r = get_after(PROXY_REQUIRED, p.public, &header, "/echo/bad").await;
        let reason = assert_refused(gw, &r, what, "proxy_protocol", None, p.public).await;
        assert!(
            reason.contains("malformed PROXY protocol header"),
            "{what}: {reason}"
        );
    }

    // A header trickled one byte every 100 ms: closed once the header timeout passes.
    let header = encode_v2(client(50300), p.public, Some(LINK_APPROVED));
    let mut request = header.clone();
    request.extend(get("/echo/slow", &[]));
    let chunks: Vec<&[u8]> = request.chunks(1).collect();
    let r = exchange_paced(
        PROXY_REQUIRED,
        p.public,
        &chunks,
        Duration::from_millis(100),
    )
    .await;
    assert!(
        r.closed_silently(),
        "a trickled header: closed without a response, got (ended {}): {:?}",
        r.ended,
        String::from_utf8_lossy(&r.bytes)
    );
    let timeout = Duration::from_millis(PROXY_HEADER_TIMEOUT_MS);
    assert!(
        r.elapsed >= timeout && r.elapsed < timeout + AT_ONCE,
        "closed after {:?}, the header timeout is {timeout:?}",
        r.elapsed
    );
    let line = refusal(gw, r.local).await;
    let reason = check_refusal(&line, "proxy_protocol", None, p.public);
    assert!(reason.contains("timeout"), "{reason}");
    // A header that stalls (part of it, then nothing): the same.
    let r = exchange(PROXY_REQUIRED, p.public, &header[..20]).await;
    assert!(r.closed_silently(), "a stalled header: {r:?}");
    assert!(
        r.elapsed >= timeout && r.elapsed < timeout + AT_ONCE,
        "closed after {:?}",
        r.elapsed
    );
    check_refusal(
        &refusal(gw, r.local).await,
        "proxy_protocol",
        None,
        p.public,
    );
    assert_eq!(p.backend.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 6. public network access
// ---------------------------------------------------------------------------------------------

/// APIM's 403 body when public network access is disabled (spec PE-12).
fn apim_403(client: IpAddr, service: &str) -> Value {
    serde_json::json!({
        "statusCode": 403,
        "message": format!(
            "Request originated from client public IP address {client}, public network access on this 'Microsoft.ApiManagement/service/{service}' is disabled. To connect to 'Microsoft.ApiManagement/service/{service}', please use the Private Endpoint from inside your virtual network."
        )
    })
}

async fn public_access_gateway(
    public_network_access: &str,
) -> (Gatehouse, MockBackend, SocketAddr, SocketAddr) {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let pe = free_addr_on(Ipv4Addr::new(127, 50, 1, 1));
    let network = format!(
        r#"  type: none
  public_network_access: {public_network_access}
  endpoints:
    gateway: {{ public: "{public}" }}
  trusted_proxies:
    - {{ prefix: {PROXY_REQUIRED}/32, proxy_protocol: required }}
  private_endpoints:
    - {{ name: pe-contoso, link_id: {LINK_APPROVED}, listen: "{pe}", state: approved }}
"#
    );
    let gw = start(&config("contoso-apim", &backend.url(), &network)).await;
    (gw, backend, public, pe)
}

#[tokio::test]
async fn public_network_access_disabled_answers_apims_403_outside_private_endpoints() {
    let (gw, backend, public, pe) = public_access_gateway("disabled").await;
    for src in [INTERNET_HOST, VNET_HOST, Ipv4Addr::LOCALHOST] {
        let r = get_from(src, public, "public").await;
        r.assert_status(403, &format!("{src} -> public listener"));
        let body: Value = serde_json::from_str(&r.body())
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {:?}", r.body()));
        assert_eq!(body, apim_403(ip(src), "contoso-apim"));
        // Exactly APIM's bytes: statusCode first.
        assert!(
            r.body().starts_with("{\"statusCode\":403,\"message\":"),
            "{}",
            r.body()
        );
        let line = access(&gw, r.local).await;
        assert_eq!(
            line.get("status").and_then(Value::as_u64),
            Some(403),
            "{line}"
        );
    }
    // The health probe is exempt.
    let r = exchange(INTERNET_HOST, public, &get(HEALTH, &[])).await;
    r.assert_status(200, "health probe with public access disabled");
    // Through the private endpoint's listener, and through a proxy with its LinkID: served.
    let r = get_from(INTERNET_HOST, pe, "pe").await;
    assert_served(
        &gw,
        &r,
        "dedicated listener",
        ip(INTERNET_HOST),
        None,
        Some("pe-contoso"),
    )
    .await;
    let header = encode_v2(client(50400), public, Some(LINK_APPROVED));
    let r = get_after(PROXY_REQUIRED, public, &header, "/echo/pe").await;
    assert_served(
        &gw,
        &r,
        "proxy with LinkID",
        client(50400).ip(),
        None,
        Some("pe-contoso"),
    )
    .await;
    // Through the proxy without a LinkID: the 403 names the client the proxy gave.
    let header = encode_v2(client(50401), public, None);
    let r = get_after(PROXY_REQUIRED, public, &header, "/echo/pe").await;
    r.assert_status(403, "proxy without LinkID");
    let body: Value = serde_json::from_str(&r.body()).expect("JSON body");
    assert_eq!(body, apim_403(client(50401).ip(), "contoso-apim"));
    assert_eq!(backend.request_count(), 2);
}

#[tokio::test]
async fn public_network_access_enabled_serves_the_public_listener_too() {
    let (gw, backend, public, pe) = public_access_gateway("enabled").await;
    let r = get_from(INTERNET_HOST, public, "public").await;
    assert_served(&gw, &r, "public listener", ip(INTERNET_HOST), None, None).await;
    let r = get_from(INTERNET_HOST, pe, "pe").await;
    assert_served(
        &gw,
        &r,
        "dedicated listener",
        ip(INTERNET_HOST),
        None,
        Some("pe-contoso"),
    )
    .await;
    assert_eq!(backend.request_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// 7. X-Forwarded-For
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_trusted_proxies() {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let network = format!(
        r#"  type: none
  endpoints:
    gateway: {{ public: "{public}" }}
  trusted_proxies:
    - {PROXY_XFF}/32
    - 10.9.0.0/16
"#
    );
    let gw = start(&config("xff", &backend.url(), &network)).await;
    let cases: [(Ipv4Addr, &str, &str); 6] = [
        // The right-most hop is an untrusted client.
        (PROXY_XFF, "203.0.113.50", "203.0.113.50"),
        // Hops added by other trusted proxies are skipped; what the client wrote further
        // left proves nothing.
        (PROXY_XFF, "1.2.3.4, 198.51.100.7, 10.9.0.3", "198.51.100.7"),
        // A port on the hop (as Application Gateway writes it).
        (PROXY_XFF, "203.0.113.50:51234", "203.0.113.50"),
        // From an untrusted source the header is ignored.
        (INTERNET_HOST, "203.0.113.50", "127.99.0.1"),
        (VNET_HOST, "198.51.100.7, 10.9.0.3", "127.10.1.20"),
        // A trusted proxy with no header: itself.
        (PROXY_XFF, "", "127.20.0.252"),
    ];
    for (src, xff, want) in cases {
        let headers: Vec<(&str, &str)> = if xff.is_empty() {
            Vec::new()
        } else {
            vec![("X-Forwarded-For", xff)]
        };
        let r = exchange(src, public, &get("/echo/xff", &headers)).await;
        let what = format!("{src} with X-Forwarded-For {xff:?}");
        let line = assert_served(&gw, &r, &what, want.parse().unwrap(), None, None).await;
        assert_eq!(
            str_field(&line, "peer"),
            Some(r.local.to_string().as_str()),
            "{what}: {line}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. refusals are counted
// ---------------------------------------------------------------------------------------------

/// The value of `name{labels...}` in Prometheus text, if a sample has all `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse().ok())
}

async fn scrape(addr: SocketAddr) -> String {
    let r = exchange(Ipv4Addr::LOCALHOST, addr, &get("/metrics", &[])).await;
    r.assert_status(200, "GET /metrics");
    r.body()
}

#[tokio::test]
async fn refused_connections_are_counted_by_stage_and_rule() {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let private = free_addr_on(PRIVATE_VIP);
    let metrics = free_addr_on(Ipv4Addr::LOCALHOST);
    let network = injected(
        "external",
        &format!(r#"{{ public: "{public}", private: "{private}" }}"#),
        &rule("deny-bad", 100, "deny", "127.66.0.0/16", "*", "*"),
    );
    let gw = start_with_args(
        &config("metrics", &backend.url(), &network),
        &["serve", "--metrics-listen", &metrics.to_string()],
    )
    .await;
    for _ in 0..3 {
        let r = get_from(BAD_HOST, public, "bad").await;
        assert_refused(&gw, &r, "bad host", "nsg", Some(("deny-bad", 100)), public).await;
    }
    for _ in 0..2 {
        let r = get_from(INTERNET_HOST, private, "x").await;
        assert_refused(&gw, &r, "internet -> private", "exposure", None, private).await;
    }
    let r = get_from(VNET_HOST, public, "ok").await;
    r.assert_status(200, "vnet host");

    let name = "gatehouse_connections_refused_total";
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(metrics).await;
        let nsg = sample(&text, name, &[("stage", "nsg"), ("rule", "deny-bad")]);
        let exposure = sample(&text, name, &[("stage", "exposure")]);
        if nsg == Some(3.0) && exposure == Some(2.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected {name}{{stage=\"nsg\",rule=\"deny-bad\"}} 3 and {{stage=\"exposure\"}} 2, got {nsg:?} and {exposure:?} in:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
