//! End to end: "Apply network configuration, live" (issue 4). The real `gatehouse` binary serves
//! real clients bound to chosen loopback source addresses while the network section of its
//! config is rewritten and applied with `gatehouse net apply --config F --json`:
//!
//! 1. an NSG rule flips from allow to deny (the `becomes denied` client's new connections are
//!    refused, stage `nsg`);
//! 2. a private endpoint reached through a trusted proxy (PROXY v2 with the Private Link LinkID
//!    TLV) flips from approved to pending (new connections refused, stage `private_endpoint`);
//! 3. the public listener moves to another port (the old one stops accepting, the new one
//!    serves).
//!
//! Throughout, what stays allowed must never fail a single request, and two long-lived
//! keep-alive connections accepted before the flips (one whose source the NSG comes to deny,
//! one through the private endpoint that becomes pending, on a listener that is later removed)
//! must keep working: NSGs are stateful, a connection keeps the verdict it was accepted with.
//!
//! Private endpoints cannot be combined with an injected (external/internal) gateway, so two
//! gateways run: `ext` (type external, NSG, public and private listeners) and `pe` (type none,
//! behind a trusted proxy, two private endpoints by LinkID).
//!
//! | addresses          | plays                                                            |
//! |--------------------|------------------------------------------------------------------|
//! | 127.10.0.0/16      | the virtual network; subnet 127.10.1.0/24, private VIP 127.10.1.4 |
//! | 127.10.0.5         | `stays allowed`: VNet host -> private listener (AllowVnetInBound) |
//! | 127.10.0.6         | VNet host that checks the added public listener                  |
//! | 127.99.0.7         | `becomes denied`: internet host -> public listener (rule flips)  |
//! | 127.99.0.8         | internet host holding the long-lived keep-alive connection       |
//! | 127.20.0.250       | the trusted proxy (PROXY protocol required) in front of `pe`     |
//! | 198.51.100.9 / .10 | clients as the proxy names them (pe-flip / pe-stay)              |

use bytes::Bytes;
use gatehouse_net::proxy_protocol::encode_v2;
use gatehouse_testkit::raw::status_of;
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr_on};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

const PRIVATE_VIP: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 4);
const STAYS_ALLOWED: Ipv4Addr = Ipv4Addr::new(127, 10, 0, 5);
const VNET_CHECKER: Ipv4Addr = Ipv4Addr::new(127, 10, 0, 6);
const BECOMES_DENIED: Ipv4Addr = Ipv4Addr::new(127, 99, 0, 7);
const LONG_LIVED: Ipv4Addr = Ipv4Addr::new(127, 99, 0, 8);
const PROXY: Ipv4Addr = Ipv4Addr::new(127, 20, 0, 250);
/// The client the proxy names for the endpoint that flips, and for the one that stays.
const PE_FLIP_CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
const PE_STAY_CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
const LINK_STAY: u32 = 4_026_531_841;
const LINK_FLIP: u32 = 4_026_531_842;

/// The NSG rule the `becomes denied` client is judged by.
const RULE: &str = "internet-in";
const RULE_PRIORITY: u64 = 100;

/// How long each phase (before the first flip, and after each flip) runs.
const PHASE: Duration = Duration::from_millis(1200);
/// Pause between two requests of a new-connection loop (keeps the port churn modest).
const PACE: Duration = Duration::from_millis(4);
/// Pause between two requests on a long-lived connection.
const KEEPALIVE_PACE: Duration = Duration::from_millis(20);
/// How long a client waits for an answer (or for the gateway to close the connection).
const READ_TIMEOUT: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------------------
// Configs
// ---------------------------------------------------------------------------------------------

/// One open API (`/echo/...`, no key) in front of `backend` (on 127.0.0.1), with `network` (YAML
/// lines indented by two spaces) as the network section; the egress guard is told the backend's
/// loopback address may be reached.
fn config(service: &str, backend: &str, network: &str) -> String {
    format!(
        r#"
service: {{ name: {service} }}
backends:
  echo: {{ url: "{backend}" }}
apis:
  - id: echo
    path: echo
    backend: echo
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
network:
{network}  outbound: {{ allowed_destinations: [127.0.0.1/32] }}
"#
    )
}

/// The external gateway: public listener `public`, private listener `private`, and the NSG
/// rule `internet-in` (priority 100, source Internet) with `access`.
fn ext_config(backend: &str, public: SocketAddr, private: SocketAddr, access: &str) -> String {
    let network = format!(
        r#"  type: external
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ public: "{public}", private: "{private}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: {RULE}, priority: {RULE_PRIORITY}, direction: inbound, access: {access}, protocol: tcp, source: Internet, source_ports: "*", destination: "*", destination_ports: "*" }}
"#
    );
    config("live-apply-ext", backend, &network)
}

/// The type-none gateway behind the trusted proxy, with `pe-stay` (approved) and `pe-flip`
/// (in `flip_state`), both reached by LinkID only.
fn pe_config(backend: &str, public: SocketAddr, flip_state: &str) -> String {
    let network = format!(
        r#"  type: none
  endpoints:
    gateway: {{ public: "{public}" }}
  trusted_proxies:
    - {{ prefix: {PROXY}/32, proxy_protocol: required }}
  private_endpoints:
    - {{ name: pe-stay, link_id: {LINK_STAY}, state: approved }}
    - {{ name: pe-flip, link_id: {LINK_FLIP}, state: {flip_state} }}
"#
    );
    config("live-apply-pe", backend, &network)
}

async fn start(yaml: &str) -> Gatehouse {
    Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .env("RUST_LOG", "info")
        .probe(Probe::Log("gatehouse started".into()))
        .start(yaml)
        .await
        .expect("gatehouse starts")
}

/// Rewrites the gateway's config file and runs `gatehouse net apply --config F --json`;
/// returns its JSON answer (asserting the command succeeded and the change was applied).
///
/// The gateway also watches its config file and reloads it once the file has been quiet for
/// 200 ms; `net apply` runs right after the write, so it is the reload that finds the change
/// (the watcher's, later, finds none) and its answer lists what changed.
async fn apply(gw: &Gatehouse, yaml: &str) -> Value {
    gw.write_config(yaml).expect("rewrite the config");
    let out = tokio::process::Command::new(BIN)
        .args(["net", "apply", "--json", "--config"])
        .arg(gw.config_path())
        .output()
        .await
        .expect("run gatehouse net apply");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "gatehouse net apply failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("net apply --json printed no JSON ({e}): {stdout}"));
    assert_eq!(answer["ok"], true, "net apply: {answer}");
    answer
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// 200 from the backend.
    Ok,
    /// Closed by the gateway without a byte of response.
    Refused,
    /// The TCP connection could not be opened (nobody listens).
    ConnectFailed(String),
    /// Anything else: another status, a partial answer, a timeout.
    Failed(String),
}

/// One request of a loop.
#[derive(Debug)]
struct Record {
    /// The epoch when the request started and when it ended (see [`Phases`]).
    epochs: (u64, u64),
    outcome: Outcome,
    /// The source a refusal is logged with: the socket's own address, or the client the
    /// PROXY header names.
    source: Option<SocketAddr>,
    /// The listener it went to.
    dst: SocketAddr,
}

impl Record {
    /// The phase the request ran entirely in, or None if it overlapped an apply.
    fn phase(&self) -> Option<u64> {
        let (a, b) = self.epochs;
        (a == b && a % 2 == 0).then_some(a / 2)
    }
}

/// Epochs: even = a stable phase (phase = epoch / 2), odd = an apply in progress. A request is
/// judged against a phase only if it started and ended in it.
#[derive(Default)]
struct Phases {
    epoch: AtomicU64,
}

impl Phases {
    fn now(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
    fn begin_apply(&self) {
        let e = self.epoch.fetch_add(1, Ordering::SeqCst);
        assert_eq!(e % 2, 0);
    }
    fn end_apply(&self) {
        let e = self.epoch.fetch_add(1, Ordering::SeqCst);
        assert_eq!(e % 2, 1);
    }
}

/// A TCP connection to `dst` from `src` (port chosen by the kernel).
async fn connect_from(src: Ipv4Addr, dst: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(src), 0))?;
    let stream = tokio::time::timeout(READ_TIMEOUT, socket.connect(dst))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Reads until the peer ends the connection (true) or `dur` passes (false).
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

fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// One request on a new connection from `src` to `dst`, `prefix` (a PROXY header) first.
/// Returns the outcome and the socket's own address.
async fn one_request(
    src: Ipv4Addr,
    dst: SocketAddr,
    prefix: &[u8],
    path: &str,
) -> (Outcome, Option<SocketAddr>) {
    let mut stream = match connect_from(src, dst).await {
        Ok(s) => s,
        Err(e) => return (Outcome::ConnectFailed(format!("{src} -> {dst}: {e}")), None),
    };
    let local = stream.local_addr().ok();
    let mut bytes = prefix.to_vec();
    bytes.extend(get_request(path));
    // A refused connection may be closed before (or while) the request is written: what came
    // back is what counts.
    let _ = stream.write_all(&bytes).await;
    let mut answer = Vec::new();
    let ended = read_for(&mut stream, &mut answer, READ_TIMEOUT).await;
    let outcome = match status_of(&answer) {
        Some(200) if ended => Outcome::Ok,
        _ if answer.is_empty() && ended => Outcome::Refused,
        _ => Outcome::Failed(format!(
            "{src} -> {dst} (ended: {ended}): {:?}",
            String::from_utf8_lossy(&answer)
        )),
    };
    (outcome, local)
}

/// Through the trusted proxy: a PROXY v2 header naming `client` (a fresh port per request)
/// and carrying `link_id`.
#[derive(Clone)]
struct ViaProxy {
    client: Ipv4Addr,
    link_id: u32,
    next_port: Arc<AtomicU16>,
}

/// A new-connection-per-request loop until `stop`: from `src` to whatever `target` holds now.
async fn client_loop(
    src: Ipv4Addr,
    target: Arc<Mutex<SocketAddr>>,
    via: Option<ViaProxy>,
    path: &'static str,
    phases: Arc<Phases>,
    stop: Arc<AtomicBool>,
) -> Vec<Record> {
    let mut records = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let start = phases.now();
        let dst = *target.lock().unwrap();
        let (outcome, source) = match &via {
            None => one_request(src, dst, &[], path).await,
            Some(v) => {
                let named = SocketAddr::new(
                    IpAddr::V4(v.client),
                    v.next_port.fetch_add(1, Ordering::SeqCst),
                );
                let header = encode_v2(named, dst, Some(v.link_id));
                let (outcome, _) = one_request(src, dst, &header, path).await;
                (outcome, Some(named))
            }
        };
        records.push(Record {
            epochs: (start, phases.now()),
            outcome,
            source,
            dst,
        });
        tokio::time::sleep(PACE).await;
    }
    records
}

/// A long-lived HTTP/1.1 keep-alive connection (hyper's client on a socket we bound):
/// requests on it are always on that one connection, never a new one.
struct KeepAlive {
    local: SocketAddr,
    remote: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl KeepAlive {
    async fn open(src: Ipv4Addr, dst: SocketAddr, prefix: &[u8]) -> KeepAlive {
        let mut stream = connect_from(src, dst)
            .await
            .unwrap_or_else(|e| panic!("long-lived connection {src} -> {dst}: {e}"));
        let local = stream.local_addr().expect("local address");
        if !prefix.is_empty() {
            stream.write_all(prefix).await.expect("write PROXY header");
        }
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        KeepAlive {
            local,
            remote: dst,
            sender,
        }
    }

    async fn get(&mut self, path: &str) -> Outcome {
        let request = hyper::Request::get(path)
            .header("host", "gateway.test")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let sent = tokio::time::timeout(READ_TIMEOUT, async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        })
        .await;
        match sent {
            Ok(Ok((200, _))) => Outcome::Ok,
            Ok(Ok((status, body))) => Outcome::Failed(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body)
            )),
            Ok(Err(e)) => Outcome::Failed(format!("connection error: {e}")),
            Err(_) => Outcome::Failed("timed out".into()),
        }
    }
}

/// Requests on `conn` until `stop` (or until it fails: a dead connection stays dead).
async fn keepalive_loop(
    mut conn: KeepAlive,
    path: &'static str,
    phases: Arc<Phases>,
    stop: Arc<AtomicBool>,
) -> (KeepAlive, Vec<Record>) {
    let mut records = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let start = phases.now();
        let outcome = conn.get(path).await;
        let failed = outcome != Outcome::Ok;
        records.push(Record {
            epochs: (start, phases.now()),
            outcome,
            source: Some(conn.local),
            dst: conn.remote,
        });
        if failed {
            break;
        }
        tokio::time::sleep(KEEPALIVE_PACE).await;
    }
    (conn, records)
}

// ---------------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------------

/// Per phase (None: overlapping an apply): how many of each outcome.
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    ok: usize,
    refused: usize,
    connect_failed: usize,
    failed: usize,
}

impl Tally {
    fn total(&self) -> usize {
        self.ok + self.refused + self.connect_failed + self.failed
    }
}

fn tally(records: &[Record]) -> BTreeMap<Option<u64>, Tally> {
    let mut out: BTreeMap<Option<u64>, Tally> = BTreeMap::new();
    for r in records {
        let t = out.entry(r.phase()).or_default();
        match r.outcome {
            Outcome::Ok => t.ok += 1,
            Outcome::Refused => t.refused += 1,
            Outcome::ConnectFailed(_) => t.connect_failed += 1,
            Outcome::Failed(_) => t.failed += 1,
        }
    }
    out
}

fn sum<'a>(tallies: impl Iterator<Item = &'a Tally>) -> Tally {
    tallies.fold(Tally::default(), |a, t| Tally {
        ok: a.ok + t.ok,
        refused: a.refused + t.refused,
        connect_failed: a.connect_failed + t.connect_failed,
        failed: a.failed + t.failed,
    })
}

fn summary_line(name: &str, records: &[Record]) -> String {
    let t = tally(records);
    let mut s = format!("{name:<34} {:>5} requests", records.len());
    for (phase, c) in &t {
        let label = phase.map_or("apply".to_string(), |p| format!("phase {p}"));
        s.push_str(&format!(
            " | {label}: {} ok, {} refused{}{}",
            c.ok,
            c.refused,
            if c.connect_failed > 0 {
                format!(", {} connect failed", c.connect_failed)
            } else {
                String::new()
            },
            if c.failed > 0 {
                format!(", {} FAILED", c.failed)
            } else {
                String::new()
            }
        ));
    }
    s
}

/// Every request of `records` succeeded, in every phase and across every apply.
#[track_caller]
fn assert_never_failed(name: &str, records: &[Record], at_least: usize) {
    let bad: Vec<&Record> = records
        .iter()
        .filter(|r| r.outcome != Outcome::Ok)
        .collect();
    assert!(
        bad.is_empty(),
        "{name}: {} of {} requests did not succeed, e.g. {:#?}",
        bad.len(),
        records.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(
        records.len() >= at_least,
        "{name}: only {} requests",
        records.len()
    );
}

/// Served in every phase before `flip_phase`, refused (and only refused) in every phase from
/// it on; during applies, either (or, while a listener moves, a refused TCP connect).
#[track_caller]
fn assert_flips(name: &str, records: &[Record], flip_phase: u64, last_phase: u64) {
    let t = tally(records);
    for phase in 0..=last_phase {
        let c = t.get(&Some(phase)).copied().unwrap_or_default();
        assert!(c.total() > 0, "{name}: no request in phase {phase}: {t:?}");
        if phase < flip_phase {
            assert_eq!(
                (c.refused, c.connect_failed, c.failed),
                (0, 0, 0),
                "{name}: phase {phase} is before the flip, every request must succeed: {t:?}"
            );
        } else {
            assert_eq!(
                (c.ok, c.connect_failed, c.failed),
                (0, 0, 0),
                "{name}: phase {phase} is after the flip, every new connection must be refused: {t:?}"
            );
        }
    }
    let during = t.get(&None).copied().unwrap_or_default();
    assert_eq!(
        during.failed, 0,
        "{name}: during applies only served or refused: {t:?}"
    );
    let failed: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    assert!(failed.is_empty(), "{name}: {failed:#?}");
}

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn is_refusal(v: &Value) -> bool {
    str_field(v, "target") == Some("gatehouse::network")
        && str_field(v, "message") == Some("connection refused")
}

/// The parsed JSON lines of `gw` from line `mark` on.
fn json_since(gw: &Gatehouse, mark: usize) -> Vec<Value> {
    gw.logs_since(mark)
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// The refusal lines of `gw` (from line `mark` on) whose source address is `ip`, counted by
/// source (a client port may be reused by a later connection, so a source can appear more
/// than once). Waits up to 5 s for them to match `want` (the refused connections the client
/// saw, counted the same way: at least that many lines per source), then returns them.
async fn refusal_lines(
    gw: &Gatehouse,
    mark: usize,
    ip: Ipv4Addr,
    want: &BTreeMap<String, usize>,
) -> (BTreeMap<String, usize>, Vec<Value>) {
    let prefix = format!("{ip}:");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let lines: Vec<Value> = json_since(gw, mark)
            .into_iter()
            .filter(is_refusal)
            .filter(|l| str_field(l, "source").is_some_and(|s| s.starts_with(&prefix)))
            .collect();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for l in &lines {
            *counts
                .entry(str_field(l, "source").unwrap_or_default().to_string())
                .or_default() += 1;
        }
        let complete = want
            .iter()
            .all(|(source, n)| counts.get(source).is_some_and(|c| c >= n));
        if complete || Instant::now() >= deadline {
            return (counts, lines);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The access log lines of `gw` whose socket peer is `peer`.
fn access_lines(gw: &Gatehouse, peer: SocketAddr) -> Vec<Value> {
    let want = peer.to_string();
    gw.json_logs()
        .into_iter()
        .filter(|v| {
            str_field(v, "target") == Some("gatehouse::access")
                && str_field(v, "peer") == Some(want.as_str())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn network_changes_apply_live_without_failing_what_stays_allowed() {
    let started = Instant::now();
    let backend = MockBackend::start().await.expect("backend");
    let url = backend.url();

    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let private = free_addr_on(PRIVATE_VIP);
    let ext = start(&ext_config(&url, public, private, "allow")).await;
    let pe_public = free_addr_on(Ipv4Addr::LOCALHOST);
    let pe = start(&pe_config(&url, pe_public, "approved")).await;

    // Before anything runs: each client is served as the first config says.
    let (o, _) = one_request(STAYS_ALLOWED, private, &[], "/echo/check").await;
    assert_eq!(o, Outcome::Ok, "VNet host -> private listener");
    let (o, _) = one_request(BECOMES_DENIED, public, &[], "/echo/check").await;
    assert_eq!(
        o,
        Outcome::Ok,
        "internet host -> public listener (rule allows)"
    );
    let named = SocketAddr::new(IpAddr::V4(PE_FLIP_CLIENT), 9999);
    let (o, _) = one_request(
        PROXY,
        pe_public,
        &encode_v2(named, pe_public, Some(LINK_FLIP)),
        "/echo/check",
    )
    .await;
    assert_eq!(o, Outcome::Ok, "proxy with pe-flip's LinkID");

    // The long-lived connections, accepted under the first rules.
    let nsg_keepalive = KeepAlive::open(LONG_LIVED, public, &[]).await;
    let pe_keepalive_named = SocketAddr::new(IpAddr::V4(PE_FLIP_CLIENT), 9998);
    let pe_keepalive = KeepAlive::open(
        PROXY,
        pe_public,
        &encode_v2(pe_keepalive_named, pe_public, Some(LINK_FLIP)),
    )
    .await;
    let (nsg_keepalive_local, pe_keepalive_local) = (nsg_keepalive.local, pe_keepalive.local);

    // The loops.
    let phases = Arc::new(Phases::default());
    let stop = Arc::new(AtomicBool::new(false));
    let fixed = |a: SocketAddr| Arc::new(Mutex::new(a));
    let denied_target = fixed(public);
    let stays = tokio::spawn(client_loop(
        STAYS_ALLOWED,
        fixed(private),
        None,
        "/echo/stays",
        phases.clone(),
        stop.clone(),
    ));
    let denied = tokio::spawn(client_loop(
        BECOMES_DENIED,
        denied_target.clone(),
        None,
        "/echo/denied",
        phases.clone(),
        stop.clone(),
    ));
    let via = |client, link_id| ViaProxy {
        client,
        link_id,
        next_port: Arc::new(AtomicU16::new(10_000)),
    };
    let pe_stay = tokio::spawn(client_loop(
        PROXY,
        fixed(pe_public),
        Some(via(PE_STAY_CLIENT, LINK_STAY)),
        "/echo/pe-stay",
        phases.clone(),
        stop.clone(),
    ));
    let pe_flip = tokio::spawn(client_loop(
        PROXY,
        fixed(pe_public),
        Some(via(PE_FLIP_CLIENT, LINK_FLIP)),
        "/echo/pe-flip",
        phases.clone(),
        stop.clone(),
    ));
    let nsg_long = tokio::spawn(keepalive_loop(
        nsg_keepalive,
        "/echo/long-nsg",
        phases.clone(),
        stop.clone(),
    ));
    let pe_long = tokio::spawn(keepalive_loop(
        pe_keepalive,
        "/echo/long-pe",
        phases.clone(),
        stop.clone(),
    ));

    // Phase 0: the first rules.
    tokio::time::sleep(PHASE).await;
    let ext_mark_nsg = ext.log_mark();
    let pe_mark_flip = pe.log_mark();

    // Flip 1: the NSG rule the internet host is allowed by becomes a deny.
    phases.begin_apply();
    let applied_at = Instant::now();
    let answer = apply(&ext, &ext_config(&url, public, private, "deny")).await;
    let apply_nsg = applied_at.elapsed();
    phases.end_apply();
    assert_eq!(
        strings(&answer["network_changes"]),
        vec![format!("nsg apim-nsg: rule {RULE} changed")],
        "{answer}"
    );
    assert_eq!(strings(&answer["listeners_added"]), Vec::<String>::new());
    assert_eq!(strings(&answer["listeners_removed"]), Vec::<String>::new());

    // Phase 1.
    tokio::time::sleep(PHASE).await;

    // Flip 2: pe-flip goes from approved to pending.
    phases.begin_apply();
    let applied_at = Instant::now();
    let answer = apply(&pe, &pe_config(&url, pe_public, "pending")).await;
    let apply_pe = applied_at.elapsed();
    phases.end_apply();
    assert_eq!(
        strings(&answer["network_changes"]),
        vec!["private endpoint pe-flip: approved → pending".to_string()],
        "{answer}"
    );
    assert_eq!(strings(&answer["listeners_added"]), Vec::<String>::new());
    assert_eq!(strings(&answer["listeners_removed"]), Vec::<String>::new());

    // Phase 2.
    tokio::time::sleep(PHASE).await;

    // Flip 3: the public listener moves to another port.
    let moved = free_addr_on(Ipv4Addr::LOCALHOST);
    phases.begin_apply();
    let applied_at = Instant::now();
    let answer = apply(&ext, &ext_config(&url, moved, private, "deny")).await;
    let apply_move = applied_at.elapsed();
    *denied_target.lock().unwrap() = moved;
    // The removed listener stops accepting at once (its socket closes with its accept loop).
    let stopped_at = Instant::now();
    let old_closed_after = loop {
        match connect_from(VNET_CHECKER, public).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                break stopped_at.elapsed();
            }
            other => {
                drop(other);
                assert!(
                    stopped_at.elapsed() < Duration::from_secs(2),
                    "the removed listener {public} still accepts 2 s after the apply"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    phases.end_apply();
    assert_eq!(
        strings(&answer["listeners_added"]),
        vec![moved.to_string()],
        "{answer}"
    );
    assert_eq!(
        strings(&answer["listeners_removed"]),
        vec![public.to_string()],
        "{answer}"
    );
    assert_eq!(
        strings(&answer["network_changes"]),
        vec!["endpoints changed".to_string()],
        "{answer}"
    );

    // Phase 3.
    tokio::time::sleep(PHASE).await;
    stop.store(true, Ordering::SeqCst);
    let stays = stays.await.expect("stays-allowed loop");
    let denied = denied.await.expect("becomes-denied loop");
    let pe_stay = pe_stay.await.expect("pe-stay loop");
    let pe_flip = pe_flip.await.expect("pe-flip loop");
    let (mut nsg_keepalive, nsg_long) = nsg_long.await.expect("long-lived NSG loop");
    let (mut pe_keepalive, pe_long) = pe_long.await.expect("long-lived PE loop");
    let loops_ran = started.elapsed();

    // After everything: the old listener refuses connections, the new one serves the virtual
    // network and still refuses the denied internet host, the private listener never moved,
    // and both long-lived connections still answer.
    let (o, _) = one_request(VNET_CHECKER, public, &[], "/echo/old").await;
    assert!(
        matches!(o, Outcome::ConnectFailed(_)),
        "the removed listener {public}: {o:?}"
    );
    let (o, vnet_on_moved) = one_request(VNET_CHECKER, moved, &[], "/echo/moved").await;
    assert_eq!(o, Outcome::Ok, "VNet host -> the added listener {moved}");
    let (o, denied_on_moved) = one_request(BECOMES_DENIED, moved, &[], "/echo/moved").await;
    assert_eq!(o, Outcome::Refused, "internet host -> the added listener");
    assert_eq!(nsg_keepalive.get("/echo/long-nsg-last").await, Outcome::Ok);
    assert_eq!(pe_keepalive.get("/echo/long-pe-last").await, Outcome::Ok);

    // Summary.
    let loops: [(&str, &[Record]); 6] = [
        ("stays allowed (VNet -> private)", &stays),
        ("pe-stay (proxy, approved)", &pe_stay),
        ("becomes denied (internet -> public)", &denied),
        ("pe-flip (proxy, approved->pending)", &pe_flip),
        ("long-lived, NSG-denied source", &nsg_long),
        ("long-lived, pe-flip", &pe_long),
    ];
    eprintln!(
        "live apply: phases of {PHASE:?}; applies took {apply_nsg:?} (nsg), {apply_pe:?} (private endpoint), {apply_move:?} (listener move; old listener refused connections {old_closed_after:?} after the answer)"
    );
    for (name, records) in &loops {
        eprintln!("  {}", summary_line(name, records));
    }

    // What stayed allowed never failed.
    assert_never_failed("stays allowed", &stays, 50);
    assert_never_failed("pe-stay", &pe_stay, 50);
    assert_never_failed("long-lived connection (NSG)", &nsg_long, 20);
    assert_never_failed("long-lived connection (private endpoint)", &pe_long, 20);
    for (name, records) in [("stays allowed", &stays), ("pe-stay", &pe_stay)] {
        let t = tally(records);
        for phase in 0..=3 {
            assert!(
                t.get(&Some(phase)).is_some_and(|c| c.ok > 0),
                "{name}: no request in phase {phase}: {t:?}"
            );
        }
    }
    // What became denied: served before its flip, refused after it.
    assert_flips("becomes denied", &denied, 1, 3);
    assert_flips("pe-flip", &pe_flip, 2, 3);

    // The logs: no refusal before the flips; one `connection refused` line per refused
    // connection after, with the stage and rule.
    let refusals_before = |gw: &Gatehouse, mark: usize| {
        gw.logs()
            .iter()
            .take(mark)
            .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .filter(is_refusal)
            .count()
    };
    assert_eq!(
        refusals_before(&ext, ext_mark_nsg),
        0,
        "{}",
        ext.logs_text()
    );
    assert_eq!(refusals_before(&pe, pe_mark_flip), 0, "{}", pe.logs_text());

    let refused_sources = |records: &mut dyn Iterator<Item = &Record>| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for source in records
            .filter(|r| r.outcome == Outcome::Refused)
            .filter_map(|r| r.source)
        {
            *counts.entry(source.to_string()).or_default() += 1;
        }
        counts
    };
    // A connection the kernel had queued on the removed listener when it closed is reset
    // without being judged: it looks refused to the client but has no refusal line. Only
    // connections to the old listener during the move's apply can be such.
    const MOVE_EPOCH: u64 = 5;
    let in_removed_backlog =
        |r: &Record| r.dst == public && r.epochs.0 <= MOVE_EPOCH && MOVE_EPOCH <= r.epochs.1;
    let mut nsg_sources = refused_sources(&mut denied.iter().filter(|r| !in_removed_backlog(r)));
    let maybe_unlogged = refused_sources(&mut denied.iter().filter(|r| in_removed_backlog(r)));
    if let Some(s) = denied_on_moved {
        *nsg_sources.entry(s.to_string()).or_default() += 1;
    }
    let (counts, lines) = refusal_lines(&ext, ext_mark_nsg, BECOMES_DENIED, &nsg_sources).await;
    let mut unlogged = maybe_unlogged.values().sum::<usize>();
    for (source, want) in &nsg_sources {
        let got = counts.get(source).copied().unwrap_or(0);
        assert!(
            got >= *want,
            "{source}: {want} refused connection(s) but {got} `connection refused` line(s)"
        );
    }
    for (source, got) in &counts {
        let want = nsg_sources.get(source).copied().unwrap_or(0);
        let extra = got - want.min(*got);
        assert!(
            extra <= maybe_unlogged.get(source).copied().unwrap_or(0),
            "{source}: {got} `connection refused` line(s) for {want} refused connection(s)"
        );
        unlogged -= extra;
    }
    for l in &lines {
        assert_eq!(str_field(l, "stage"), Some("nsg"), "{l}");
        assert_eq!(str_field(l, "rule"), Some(RULE), "{l}");
        assert_eq!(
            l.get("priority").and_then(Value::as_u64),
            Some(RULE_PRIORITY),
            "{l}"
        );
    }
    let nsg_refusal_lines = lines.len();
    let pe_sources = refused_sources(&mut pe_flip.iter());
    let (counts, lines) = refusal_lines(&pe, pe_mark_flip, PE_FLIP_CLIENT, &pe_sources).await;
    assert_eq!(
        counts, pe_sources,
        "one refusal line for each refused connection through pe-flip (by named client)"
    );
    for l in &lines {
        assert_eq!(str_field(l, "stage"), Some("private_endpoint"), "{l}");
        let reason = str_field(l, "reason").unwrap_or_default();
        assert!(
            reason.contains("pe-flip") && reason.contains("pending"),
            "{l}"
        );
    }
    let pe_refusal_lines = lines.len();
    // Nothing that stayed allowed was ever refused.
    for (gw, name) in [(&ext, "ext"), (&pe, "pe")] {
        for l in gw.json_logs().into_iter().filter(is_refusal) {
            let source = str_field(&l, "source").unwrap_or_default();
            for allowed in [STAYS_ALLOWED, PE_STAY_CLIENT, VNET_CHECKER] {
                assert!(
                    !source.starts_with(&format!("{allowed}:")),
                    "{name}: an allowed source was refused: {l}"
                );
            }
        }
    }

    // The long-lived connections kept the verdict they were accepted with.
    let ls = access_lines(&ext, nsg_keepalive_local);
    assert!(
        ls.len() > nsg_long.len() / 2,
        "access lines of the long-lived connection"
    );
    for l in &ls {
        assert_eq!(str_field(l, "nsg_rule"), Some(RULE), "{l}");
        assert_eq!(l.get("status").and_then(Value::as_u64), Some(200), "{l}");
    }
    let ls = access_lines(&pe, pe_keepalive_local);
    assert!(
        ls.len() > pe_long.len() / 2,
        "access lines of the long-lived connection"
    );
    for l in &ls {
        assert_eq!(str_field(l, "private_endpoint"), Some("pe-flip"), "{l}");
        assert_eq!(
            str_field(l, "client"),
            Some(PE_FLIP_CLIENT.to_string().as_str()),
            "{l}"
        );
    }
    // The added listener's request is logged on it.
    let vnet_on_moved = vnet_on_moved.expect("local address");
    let ls = access_lines(&ext, vnet_on_moved);
    assert_eq!(ls.len(), 1, "the request on the added listener: {ls:?}");
    assert_eq!(
        str_field(&ls[0], "nsg_rule"),
        Some("AllowVnetInBound"),
        "{}",
        ls[0]
    );

    let t = |r: &[Record]| sum(tally(r).values());
    let (st, ps, dn, pf) = (t(&stays), t(&pe_stay), t(&denied), t(&pe_flip));
    let not_ok = |c: Tally| c.refused + c.connect_failed + c.failed;
    eprintln!(
        "live apply: stayed allowed: {} requests on new connections, {} not served; {} on the two long-lived connections, {} not served",
        st.total() + ps.total(),
        not_ok(st) + not_ok(ps),
        nsg_long.len() + pe_long.len(),
        nsg_long
            .iter()
            .chain(&pe_long)
            .filter(|r| r.outcome != Outcome::Ok)
            .count(),
    );
    eprintln!(
        "live apply: became denied: 0 refused before the flips; {} (nsg) + {} (private_endpoint) refused after (+1 check on the added listener), logged as {} + {} `connection refused` lines ({} reset in the removed listener's backlog, unlogged); total run {:?} (loops {:?})",
        dn.refused,
        pf.refused,
        nsg_refusal_lines,
        pe_refusal_lines,
        unlogged,
        started.elapsed(),
        loops_ran,
    );
}
