//! End to end: the egress guard and the resolver (issue 4, docs/network.md
//! "Outbound: the egress guard and DNS") in the real `gatehouse` binary, between a reqwest
//! client, real mock backends and a scripted DNS server on loopback.
//!
//! On Linux all of 127.0.0.0/8 is local, so a backend can listen on 127.10.x.y; the configs read
//! that range as the virtual network. Every address there is loopback, never reachable unless a
//! config line names it (the virtual network, the integration subnet, an allow-list entry):
//!
//! | addresses        | plays                                                         |
//! |------------------|---------------------------------------------------------------|
//! | 127.10.0.0/16    | the virtual network (address space) of the injected configs   |
//! | 127.10.1.0/24    | the gateway's subnet (its NSG's source address is 127.10.1.4)  |
//! | 127.10.2-6.x     | backends inside the virtual network, one range per test       |
//! | 127.0.0.1        | the gateway's own host: listeners, the DNS server, decoys      |
//!
//! A refused backend must get `502` with APIM's body naming no address, one warn line
//! (`target: gatehouse::network`, `backend address refused by the egress guard`) per refused
//! address with destination, class, stage, rule, priority and reason, and a count in
//! `gatehouse_egress_refused_total{stage,rule}`; the backend must not even see a connection.
//! A name that doesn't resolve gets `502` "the backend's host name could not be resolved" and a
//! `backend request failed` line naming the name, the DNS server and the error, within
//! `timeout_ms × attempts`.

use gatehouse_testkit::dns::{DnsServer, Record, Reply};
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// The body of a backend refused by the egress guard.
const REFUSED_BODY: &str = r#"{"statusCode":502,"message":"Bad gateway: the backend's address is not allowed by the gateway's network rules"}"#;
/// The body of a backend whose host name did not resolve.
const DNS_FAILED_BODY: &str =
    r#"{"statusCode":502,"message":"Bad gateway: the backend's host name could not be resolved"}"#;
/// The warn line of one refused address.
const REFUSED_LINE: &str = "backend address refused by the egress guard";
/// The warn line of a failed backend request (DNS failures among them).
const FAILED_LINE: &str = "backend request failed";
const REFUSED_COUNTER: &str = "gatehouse_egress_refused_total";

/// A refusal is decided before any connection: it must come at once, far below the backends'
/// connect timeout ([`CONNECT_TIMEOUT_MS`]), even on a loaded machine.
const AT_ONCE: Duration = Duration::from_millis(2_500);
/// Backends' `connect_timeout_ms`: a connection attempt to an address that doesn't answer
/// (169.254.169.254 off-cloud) would take this long, so a refusal must come sooner.
const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How long to wait for a log line or a counter.
const LOG_WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// Config and processes
// ---------------------------------------------------------------------------------------------

/// A mock backend on `ip`, on a port the OS picks.
async fn backend_on(ip: Ipv4Addr) -> MockBackend {
    MockBackend::start_on(SocketAddr::new(IpAddr::V4(ip), 0))
        .await
        .unwrap_or_else(|e| {
            panic!("mock backend on {ip} (all of 127.0.0.0/8 should be local): {e:#}")
        })
}

/// A config listening on `listen` with one open API per `(id, backend url)` (path `/{id}/...`,
/// no key, backend `id`) and `network` (YAML lines indented by two spaces; empty for none).
fn config(listen: SocketAddr, apis: &[(&str, String)], network: &str) -> String {
    let mut backends = String::new();
    let mut api_list = String::new();
    for (id, url) in apis {
        backends.push_str(&format!(
            "  {id}: {{ url: \"{url}\", connect_timeout_ms: {CONNECT_TIMEOUT_MS}, timeout_ms: 8000 }}\n"
        ));
        api_list.push_str(&format!(
            "  - {{ id: {id}, path: {id}, backend: {id}, subscription_required: false, operations: [ {{ id: any, method: \"*\", url_template: \"/*\" }} ] }}\n"
        ));
    }
    let network = if network.trim().is_empty() {
        "network: {}\n".to_string()
    } else {
        format!("network:\n{network}")
    };
    // Outbound integration is a Standard v2 / Premium v2 option (crates/model/src/tiers.rs).
    let sku = if network.contains("integration_subnet") {
        ", sku: standardv2"
    } else {
        ""
    };
    format!(
        "service: {{ name: egress{sku} }}\ngateway:\n  listeners: [ {{ address: \"{listen}\" }} ]\nbackends:\n{backends}apis:\n{api_list}{network}"
    )
}

/// The network section of an external gateway in the virtual network 127.10.0.0/16, subnet
/// 127.10.1.0/24 with the NSG `apim-nsg`: clients from anywhere may come in (rule `clients-in`),
/// `outbound_rules` are YAML list items indented by eight spaces (or empty), and `extra` more
/// lines of the section (indented by two spaces).
fn injected(outbound_rules: &str, extra: &str) -> String {
    format!(
        r#"  type: external
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: clients-in, priority: 100, direction: inbound, access: allow, protocol: tcp, source: "*", source_ports: "*", destination: "*", destination_ports: "*" }}
{outbound_rules}{extra}"#
    )
}

/// A running gateway and what the tests talk to it with.
struct Gw {
    gw: Gatehouse,
    base: String,
    metrics: Option<SocketAddr>,
    client: reqwest::Client,
}

/// Starts the gateway with `network`, serving `apis`; `with_metrics` adds `--metrics-listen`.
async fn start(apis: &[(&str, String)], network: &str, with_metrics: bool) -> Gw {
    let listen = free_addr();
    let metrics = with_metrics.then(free_addr);
    let mut args = vec!["serve".to_string()];
    if let Some(m) = metrics {
        args.extend(["--metrics-listen".to_string(), m.to_string()]);
    }
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args(args)
        .env("RUST_LOG", "info")
        .probe(Probe::Http(listen))
        .start(&config(listen, apis, network))
        .await
        .expect("gatehouse starts");
    Gw {
        gw,
        base: format!("http://{listen}"),
        metrics,
        client: client(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client")
}

/// What the client got.
#[derive(Debug)]
struct Got {
    status: u16,
    body: String,
    elapsed: Duration,
}

impl Gw {
    async fn get(&self, path: &str) -> Got {
        let started = Instant::now();
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        let body = resp.text().await.expect("body");
        Got {
            status,
            body,
            elapsed: started.elapsed(),
        }
    }

    /// Waits for a JSON log line with `message` and `backend`, satisfying `pred`.
    async fn log_line(&self, message: &str, backend: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let found = self.gw.json_logs().into_iter().find(|v| {
                str_field(v, "message") == Some(message)
                    && str_field(v, "backend") == Some(backend)
                    && pred(v)
            });
            if let Some(v) = found {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no {message:?} line for backend {backend} matching the test; output:\n{}",
                self.gw.logs_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The refusal line for `backend` and `destination`.
    async fn refusal(&self, backend: &str, destination: &str) -> Value {
        self.log_line(REFUSED_LINE, backend, |v| {
            str_field(v, "destination") == Some(destination)
        })
        .await
    }

    /// Refusal lines logged so far for `backend`.
    fn refusals(&self, backend: &str) -> Vec<Value> {
        self.gw
            .json_logs()
            .into_iter()
            .filter(|v| {
                str_field(v, "message") == Some(REFUSED_LINE)
                    && str_field(v, "backend") == Some(backend)
            })
            .collect()
    }

    /// Waits until `name{labels}` reads `want` at `--metrics-listen`; returns the last scrape.
    async fn counter_reaches(&self, name: &str, labels: &[(&str, &str)], want: f64) -> String {
        let addr = self.metrics.expect("started with --metrics-listen");
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let text = self
                .client
                .get(format!("http://{addr}/metrics"))
                .send()
                .await
                .expect("GET /metrics")
                .text()
                .await
                .expect("metrics body");
            let got = sample(&text, name, labels);
            if got == Some(want) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "expected {name}{labels:?} = {want}, got {got:?} in:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The value of `name{labels...}` in Prometheus text, if one sample has all `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.trim().parse().ok())
}

/// A 502 from the egress guard: the exact body, at once.
#[track_caller]
fn assert_refused(got: &Got, what: &str) {
    assert_eq!(
        (got.status, got.body.as_str()),
        (502, REFUSED_BODY),
        "{what}"
    );
    assert!(
        got.elapsed < AT_ONCE,
        "{what}: refused only after {:?}",
        got.elapsed
    );
}

#[track_caller]
fn assert_ok(got: &Got, what: &str) {
    assert_eq!(got.status, 200, "{what}: {}", got.body);
}

/// Checks one refusal line: class, stage, rule and priority, and a reason naming the address.
#[track_caller]
fn assert_refusal_line(
    line: &Value,
    class: &str,
    stage: &str,
    rule: Option<(&str, u64)>,
    reason_names: &str,
) {
    assert_eq!(
        str_field(line, "target"),
        Some("gatehouse::network"),
        "{line}"
    );
    assert_eq!(str_field(line, "level"), Some("WARN"), "{line}");
    assert_eq!(str_field(line, "class"), Some(class), "{line}");
    assert_eq!(str_field(line, "stage"), Some(stage), "{line}");
    assert_eq!(
        (
            str_field(line, "rule"),
            line.get("priority").and_then(Value::as_u64)
        ),
        (rule.map(|r| r.0), rule.map(|r| r.1)),
        "{line}"
    );
    let reason = str_field(line, "reason").unwrap_or_default();
    assert!(
        reason.contains(reason_names),
        "reason should name {reason_names}: {line}"
    );
}

/// Runs `gatehouse ARGS...` (without blocking the runtime the DNS server answers on) and
/// returns stdout parsed as JSON.
async fn cli_json(args: &[&str]) -> Value {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .output()
        .await
        .expect("running gatehouse");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "gatehouse {args:?} ({}): not JSON ({e}): {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `gatehouse net resolve NAME --config F --json`.
async fn net_resolve(gw: &Gw, name: &str) -> Value {
    let config = gw.gw.config_path().to_str().expect("utf-8 path").to_owned();
    cli_json(&["net", "resolve", name, "--config", &config, "--json"]).await
}

/// The `dns` section (indented for the network section) asking `server`, with `extra` keys.
fn dns_section(server: SocketAddr, extra: &str) -> String {
    format!("  dns:\n    servers: [\"{server}\"]\n{extra}")
}

// ---------------------------------------------------------------------------------------------
// 1. addresses that are never reachable unless named
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn metadata_link_local_loopback_and_unspecified_backends_are_refused() {
    // A real server on loopback: the guard must keep the gateway from even connecting to it,
    // by any spelling of its address.
    let local = MockBackend::start().await.expect("backend");
    let port = local.addr().port();
    let cases: [(&str, String, &str, String); 6] = [
        (
            "metadata",
            "http://169.254.169.254/".into(),
            "link_local",
            "169.254.169.254:80".into(),
        ),
        (
            "metadatav6",
            "http://[::ffff:169.254.169.254]/".into(),
            "link_local",
            "[::ffff:169.254.169.254]:80".into(),
        ),
        (
            "linklocalv6",
            "http://[fe80::1]:8080/".into(),
            "link_local",
            "[fe80::1]:8080".into(),
        ),
        (
            "loopback",
            format!("http://127.0.0.1:{port}"),
            "loopback",
            format!("127.0.0.1:{port}"),
        ),
        (
            "loopbackv6",
            format!("http://[::ffff:127.0.0.1]:{port}"),
            "loopback",
            format!("[::ffff:127.0.0.1]:{port}"),
        ),
        (
            "unspecified",
            format!("http://0.0.0.0:{port}"),
            "unspecified",
            format!("0.0.0.0:{port}"),
        ),
    ];
    let apis: Vec<(&str, String)> = cases.iter().map(|c| (c.0, c.1.clone())).collect();
    let gw = start(&apis, "  type: none\n", true).await;

    for (id, url, class, destination) in &cases {
        let what = format!("{id} ({url})");
        for _ in 0..2 {
            let got = gw.get(&format!("/{id}/latest/meta-data/")).await;
            assert_refused(&got, &what);
            for leak in ["169.254", "127.0.0.1", "fe80", "0.0.0.0", &port.to_string()] {
                assert!(!got.body.contains(leak), "{what}: body names {leak}");
            }
        }
        let line = gw.refusal(id, destination).await;
        let ip = destination
            .rsplit_once(':')
            .map(|(ip, _)| ip.trim_matches(['[', ']']))
            .unwrap_or_default()
            .trim_start_matches("::ffff:");
        assert_refusal_line(&line, class, "address_class", None, ip);
        // The request failed as a refusal, not as an unreachable backend.
        let failed = gw.log_line(FAILED_LINE, id, |_| true).await;
        assert!(
            str_field(&failed, "error").is_some_and(|e| e.starts_with("egress_refused")),
            "{failed}"
        );
    }
    assert_eq!(
        local.connection_count(),
        0,
        "the gateway connected to the loopback server"
    );
    let requests = (cases.len() * 2) as f64;
    gw.counter_reaches(REFUSED_COUNTER, &[("stage", "address_class")], requests)
        .await;
}

#[tokio::test]
async fn loopback_backend_needs_an_explicit_allowed_destination() {
    let backend = MockBackend::start().await.expect("backend");
    let apis = [("echo", backend.url())];

    // No allow-list: loopback is never reachable.
    let denied = start(&apis, "  type: none\n", true).await;
    let got = denied.get("/echo/x").await;
    assert_refused(&got, "127.0.0.1 without allowed_destinations");
    assert!(!got.body.contains("127.0.0.1"));
    let line = denied.refusal("echo", &backend.addr().to_string()).await;
    assert_refusal_line(&line, "loopback", "address_class", None, "127.0.0.1");
    denied
        .counter_reaches(
            REFUSED_COUNTER,
            &[("stage", "address_class"), ("rule", "")],
            1.0,
        )
        .await;
    assert_eq!(backend.connection_count(), 0);

    // A catch-all prefix is not an explicit naming of loopback.
    let broad = start(
        &apis,
        "  type: none\n  outbound: { allowed_destinations: [0.0.0.0/0] }\n",
        false,
    )
    .await;
    assert_refused(
        &broad.get("/echo/x").await,
        "127.0.0.1 with 0.0.0.0/0 allowed",
    );
    let line = broad.refusal("echo", &backend.addr().to_string()).await;
    assert_refusal_line(&line, "loopback", "address_class", None, "127.0.0.1");
    assert_eq!(backend.connection_count(), 0);

    // Named explicitly: served.
    let allowed = start(
        &apis,
        "  type: none\n  outbound: { allowed_destinations: [127.0.0.1/32] }\n",
        false,
    )
    .await;
    let got = allowed.get("/echo/orders/1").await;
    assert_ok(&got, "127.0.0.1 with allowed_destinations [127.0.0.1/32]");
    let seen = backend
        .wait_for_requests(1, LOG_WAIT)
        .await
        .expect("backend saw the request");
    assert_eq!(seen[0].path, "/orders/1");
    assert!(allowed.refusals("echo").is_empty());
}

// ---------------------------------------------------------------------------------------------
// 2. the outbound NSG
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn outbound_nsg_rule_denies_the_backend_port_and_allow_vnet_outbound_the_others() {
    // Two backends on one address of the virtual network: the rule denies one port only.
    let denied = backend_on(Ipv4Addr::new(127, 10, 2, 10)).await;
    let allowed = backend_on(Ipv4Addr::new(127, 10, 2, 10)).await;
    let denied_port = denied.addr().port();
    let rules = format!(
        "        - {{ name: deny-backend-port, priority: 200, direction: outbound, access: deny, protocol: tcp, source: \"*\", source_ports: \"*\", destination: \"*\", destination_ports: \"{denied_port}\" }}\n"
    );
    let apis = [("denied", denied.url()), ("allowed", allowed.url())];
    let gw = start(&apis, &injected(&rules, ""), true).await;

    for _ in 0..2 {
        assert_refused(&gw.get("/denied/x").await, "the denied port");
    }
    let line = gw.refusal("denied", &denied.addr().to_string()).await;
    assert_refusal_line(
        &line,
        "loopback",
        "nsg",
        Some(("deny-backend-port", 200)),
        "deny-backend-port",
    );
    assert!(
        str_field(&line, "reason")
            .is_some_and(|r| r.contains("apim-nsg") && r.contains(&denied.addr().to_string())),
        "the reason names the NSG and the flow: {line}"
    );
    gw.counter_reaches(
        REFUSED_COUNTER,
        &[("stage", "nsg"), ("rule", "deny-backend-port")],
        2.0,
    )
    .await;
    assert_eq!(denied.connection_count(), 0);

    let got = gw.get("/allowed/y").await;
    assert_ok(&got, "another port of the same address");
    allowed
        .wait_for_requests(1, LOG_WAIT)
        .await
        .expect("allowed backend saw the request");
    assert!(gw.refusals("allowed").is_empty());

    // `net verify` explains both verdicts the same way.
    let config = gw.gw.config_path().to_str().expect("utf-8 path").to_owned();
    let verify = |dst: String| {
        let config = config.clone();
        async move {
            cli_json(&[
                "net",
                "verify",
                "--config",
                &config,
                "--direction",
                "outbound",
                "--source",
                "127.10.1.4",
                "--destination",
                &dst,
                "--json",
            ])
            .await
        }
    };
    let v = verify(denied.addr().to_string()).await;
    assert_eq!(
        (
            v["decision"].as_str(),
            v["stage"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (
            Some("deny"),
            Some("nsg"),
            Some("deny-backend-port"),
            Some(200)
        ),
        "{v}"
    );
    let v = verify(allowed.addr().to_string()).await;
    assert_eq!(
        (
            v["decision"].as_str(),
            v["rule"].as_str(),
            v["priority"].as_u64()
        ),
        (Some("allow"), Some("AllowVnetOutBound"), Some(65000)),
        "{v}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. outbound integration (type none)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn integration_subnet_lets_a_type_none_gateway_reach_it() {
    let inside = backend_on(Ipv4Addr::new(127, 10, 3, 5)).await;
    let outside = backend_on(Ipv4Addr::new(127, 10, 4, 5)).await;
    let apis = [("inside", inside.url()), ("outside", outside.url())];

    let integrated = start(
        &apis,
        "  type: none\n  outbound: { integration_subnet: 127.10.3.0/24 }\n",
        false,
    )
    .await;
    assert_ok(
        &integrated.get("/inside/x").await,
        "127.10.3.5 in the integration subnet",
    );
    inside
        .wait_for_requests(1, LOG_WAIT)
        .await
        .expect("the backend in the integration subnet saw the request");
    // The subnet names 127.10.3.0/24, nothing around it.
    assert_refused(&integrated.get("/outside/x").await, "127.10.4.5 outside it");
    let line = integrated
        .refusal("outside", &outside.addr().to_string())
        .await;
    assert_refusal_line(&line, "loopback", "address_class", None, "127.10.4.5");

    let plain = start(&apis, "  type: none\n", false).await;
    assert_refused(
        &plain.get("/inside/x").await,
        "127.10.3.5 without an integration subnet",
    );
    let line = plain.refusal("inside", &inside.addr().to_string()).await;
    assert_refusal_line(&line, "loopback", "address_class", None, "127.10.3.5");
    assert_eq!(
        inside.request_count(),
        1,
        "only the integrated gateway got through"
    );
    assert_eq!(outside.connection_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. private DNS zones
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_zone_answers_first_and_is_never_forwarded() {
    let backend = backend_on(Ipv4Addr::new(127, 10, 5, 20)).await;
    let port = backend.addr().port();
    // What a public server would say for the zone's names: an address that never answers.
    let dns = DnsServer::start(|q| {
        if q.name.ends_with("contoso.internal") {
            Reply::addrs(60, [Ipv4Addr::new(203, 0, 113, 66)])
        } else if q.name == "public.example.test" {
            Reply::addrs(60, [Ipv4Addr::new(127, 10, 5, 20)])
        } else {
            Reply::NxDomain
        }
    })
    .await
    .expect("dns server");
    let zones = r#"    private_zones:
      - zone: contoso.internal
        records:
          orders: { A: [127.10.5.20] }
          api: { CNAME: [orders.contoso.internal] }
"#;
    let apis = [
        ("orders", format!("http://orders.contoso.internal:{port}")),
        ("alias", format!("http://api.contoso.internal:{port}")),
        ("missing", format!("http://missing.contoso.internal:{port}")),
        ("public", format!("http://public.example.test:{port}")),
    ];
    let gw = start(&apis, &injected("", &dns_section(dns.addr(), zones)), false).await;

    let got = gw.get("/orders/o/1").await;
    assert_ok(&got, "orders.contoso.internal from the zone");
    let seen = backend
        .wait_for_requests(1, LOG_WAIT)
        .await
        .expect("backend saw the request");
    assert_eq!(
        seen[0].header("host"),
        Some(format!("orders.contoso.internal:{port}").as_str()),
        "the backend is addressed by its name"
    );
    assert_ok(&gw.get("/alias/o/2").await, "a CNAME within the zone");

    // A name under the zone that it doesn't hold: NXDOMAIN from the zone, not the server.
    let got = gw.get("/missing/x").await;
    assert_eq!((got.status, got.body.as_str()), (502, DNS_FAILED_BODY));
    let line = gw.log_line(FAILED_LINE, "missing", |_| true).await;
    let error = str_field(&line, "error").unwrap_or_default();
    assert!(
        error.contains("missing.contoso.internal")
            && error.contains("private zone contoso.internal"),
        "{line}"
    );

    // The server is really in use: a name outside the zone goes to it.
    assert_ok(
        &gw.get("/public/x").await,
        "a name outside the zone, through the server",
    );
    assert!(dns.queries("public.example.test") >= 1);
    let leaked: Vec<String> = dns
        .query_log()
        .into_iter()
        .map(|q| q.name)
        .filter(|n| n.ends_with("contoso.internal"))
        .collect();
    assert!(
        leaked.is_empty(),
        "private-zone names were forwarded: {leaked:?}"
    );
    assert_eq!(dns.queries("orders.contoso.internal"), 0);
    assert_eq!(backend.request_count(), 3);

    let v = net_resolve(&gw, "orders.contoso.internal").await;
    assert_eq!(v["source"]["kind"], "private_zone", "{v}");
    assert_eq!(v["source"]["zone"], "contoso.internal", "{v}");
    assert_eq!(v["addresses"][0]["address"], "127.10.5.20:443", "{v}");
    assert_eq!(v["addresses"][0]["decision"], "allow", "{v}");
    assert_eq!(dns.queries("orders.contoso.internal"), 0);
}

// ---------------------------------------------------------------------------------------------
// 5. DNS rebinding
// ---------------------------------------------------------------------------------------------

const REBIND_NAME: &str = "rebind.example.test";

/// A backend in the virtual network and a decoy on 127.0.0.1, on the same port.
async fn backend_and_decoy(ip: Ipv4Addr) -> (MockBackend, MockBackend) {
    for _ in 0..50 {
        let allowed = backend_on(ip).await;
        let decoy_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, allowed.addr().port()));
        if let Ok(decoy) = MockBackend::start_on(decoy_addr).await {
            return (allowed, decoy);
        }
    }
    panic!("no port free on both {ip} and 127.0.0.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebinding_to_loopback_never_reaches_the_decoy() {
    let allowed_ip = Ipv4Addr::new(127, 10, 6, 30);
    let (allowed, decoy) = backend_and_decoy(allowed_ip).await;
    let port = allowed.addr().port();
    let dns = DnsServer::with_answers([(REBIND_NAME, Reply::addrs(1, [allowed_ip]))])
        .await
        .expect("dns server");
    let cache = "    cache: { min_ttl_seconds: 1, max_ttl_seconds: 30, negative_ttl_seconds: 1 }\n";
    let apis = [("rebind", format!("http://{REBIND_NAME}:{port}"))];
    let gw = start(&apis, &injected("", &dns_section(dns.addr(), cache)), false).await;

    // Before: the name points into the virtual network.
    let mut ok = 0;
    for _ in 0..3 {
        let got = gw.get("/rebind/a").await;
        assert_ok(&got, "before the rebinding");
        ok += 1;
    }
    let burst = futures_util::future::join_all((0..4).map(|_| gw.get("/rebind/delay/100"))).await;
    for got in &burst {
        assert_ok(got, "a burst before the rebinding");
        ok += 1;
    }
    assert!(dns.queries(REBIND_NAME) >= 1);
    let v = net_resolve(&gw, REBIND_NAME).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        v["addresses"][0]["address"],
        format!("{allowed_ip}:443"),
        "{v}"
    );
    assert_eq!(
        (
            v["addresses"][0]["decision"].as_str(),
            v["addresses"][0]["rule"].as_str()
        ),
        (Some("allow"), Some("AllowVnetOutBound")),
        "{v}"
    );

    // The attacker's server now answers 127.0.0.1, where the decoy listens on the same port.
    dns.set(REBIND_NAME, Reply::addrs(1, [Ipv4Addr::LOCALHOST]));
    let queries_before = dns.queries(REBIND_NAME);
    let v = net_resolve(&gw, REBIND_NAME).await;
    assert_eq!(v["addresses"][0]["address"], "127.0.0.1:443", "{v}");
    assert_eq!(
        (
            v["addresses"][0]["decision"].as_str(),
            v["addresses"][0]["stage"].as_str(),
            v["addresses"][0]["class"].as_str()
        ),
        (Some("deny"), Some("address_class"), Some("loopback")),
        "{v}"
    );

    // Requests on the gateway's warm backend connections don't resolve anything: only a new
    // connection does. So: let the cached answer expire, then send bursts wider than the pool
    // (which holds at most as many connections as the widest burst so far), each wider than
    // the last. The first new connections after expiry still get the stale answer (served
    // while the refresh runs); once the refresh has landed, new ones get 127.0.0.1 — and must
    // be refused.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let decoy_dest = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut refused = 0;
    for round in 1.. {
        let burst =
            futures_util::future::join_all((0..4 + 4 * round).map(|_| gw.get("/rebind/delay/100")))
                .await;
        for got in &burst {
            match got.status {
                200 => ok += 1,
                502 => {
                    assert_eq!(got.body, REFUSED_BODY, "a 502 after the rebinding");
                    refused += 1;
                }
                other => panic!("after the rebinding: {other} {}", got.body),
            }
        }
        assert_eq!(
            decoy.connection_count(),
            0,
            "the gateway connected to the decoy"
        );
        let seen = gw
            .refusals("rebind")
            .iter()
            .any(|l| str_field(l, "destination") == Some(decoy_dest.as_str()));
        if seen && refused > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no refusal of {decoy_dest} within 8 s ({refused} 502s, {ok} 200s, {} queries since)",
            dns.queries(REBIND_NAME) - queries_before
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(
        dns.queries(REBIND_NAME) > queries_before,
        "the name was asked again"
    );
    let line = gw.refusal("rebind", &decoy_dest).await;
    assert_refusal_line(&line, "loopback", "address_class", None, "127.0.0.1");
    // Every 200 came from the allowed backend; the decoy saw nothing.
    allowed
        .wait_for_requests(ok, LOG_WAIT)
        .await
        .expect("the allowed backend served every 200");
    assert_eq!(allowed.request_count(), ok);
    assert_eq!(decoy.request_count(), 0);
    assert_eq!(decoy.connection_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 6. DNS failures
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_and_nxdomain_are_quick_502s_naming_the_name() {
    let dns = DnsServer::with_answers([("broken.example.test", Reply::ServFail)])
        .await
        .expect("dns server");
    let apis = [
        ("broken", "http://broken.example.test:8080".to_string()),
        ("nowhere", "http://nowhere.example.test:8080".to_string()),
    ];
    let dns_cfg = dns_section(dns.addr(), "    timeout_ms: 1500\n    attempts: 2\n");
    let gw = start(&apis, &format!("  type: none\n{dns_cfg}"), false).await;

    for round in 1..=2 {
        let got = gw.get("/broken/x").await;
        assert_eq!(
            (got.status, got.body.as_str()),
            (502, DNS_FAILED_BODY),
            "SERVFAIL, round {round}"
        );
        assert!(
            got.elapsed < Duration::from_millis(1_500),
            "SERVFAIL took {:?}",
            got.elapsed
        );
        assert!(!got.body.contains(&dns.addr().to_string()));
        // Not cached: each request asks again.
        let asked = dns.queries("broken.example.test");
        assert!(asked >= round, "round {round}: {asked} queries");
    }
    let line = gw.log_line(FAILED_LINE, "broken", |_| true).await;
    let error = str_field(&line, "error").unwrap_or_default();
    assert!(
        error.starts_with("backend_dns_failed")
            && error.contains("broken.example.test")
            && error.contains("SERVFAIL")
            && error.contains(&dns.addr().to_string()),
        "the line names the name, the server and the error: {line}"
    );

    let got = gw.get("/nowhere/x").await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (502, DNS_FAILED_BODY),
        "NXDOMAIN"
    );
    assert!(
        got.elapsed < Duration::from_millis(1_500),
        "NXDOMAIN took {:?}",
        got.elapsed
    );
    let line = gw.log_line(FAILED_LINE, "nowhere", |_| true).await;
    let error = str_field(&line, "error").unwrap_or_default();
    assert!(
        error.contains("nowhere.example.test") && error.contains("NXDOMAIN"),
        "{line}"
    );
    assert!(gw.refusals("broken").is_empty() && gw.refusals("nowhere").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_dns_server_is_a_502_within_the_timeout_not_a_hang() {
    let dns = DnsServer::start(|_| Reply::Silent)
        .await
        .expect("dns server");
    let apis = [("quiet", "http://quiet.example.test:8080".to_string())];
    let dns_cfg = dns_section(dns.addr(), "    timeout_ms: 300\n    attempts: 1\n");
    let gw = start(&apis, &format!("  type: none\n{dns_cfg}"), false).await;

    for round in 1..=2 {
        let got = gw.get("/quiet/x").await;
        assert_eq!(
            (got.status, got.body.as_str()),
            (502, DNS_FAILED_BODY),
            "silent server, round {round}"
        );
        // It waited for the server (300 ms), and not much longer.
        assert!(
            got.elapsed >= Duration::from_millis(250) && got.elapsed < Duration::from_secs(2),
            "round {round} took {:?}",
            got.elapsed
        );
    }
    assert!(dns.queries("quiet.example.test") >= 2, "each request asked");
    let line = gw.log_line(FAILED_LINE, "quiet", |_| true).await;
    let error = str_field(&line, "error").unwrap_or_default();
    assert!(
        error.starts_with("backend_dns_failed")
            && error.contains("quiet.example.test")
            && error.contains("timed out")
            && error.contains(&dns.addr().to_string()),
        "{line}"
    );
    // The gateway itself stayed responsive meanwhile.
    assert_eq!(gw.get("/status-0123456789abcdef").await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// 7. CNAME chains from the server
// ---------------------------------------------------------------------------------------------

/// The guard judges the addresses at the end of a server's CNAME chain: an innocent-looking
/// name that is an alias of the metadata address is refused like the address itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cname_chain_is_followed_and_judged_at_its_end() {
    let backend = backend_on(Ipv4Addr::new(127, 10, 6, 40)).await;
    let port = backend.addr().port();
    let dns = DnsServer::with_answers([
        (
            "alias.example.test",
            Reply::Records(vec![
                Record::cname(60, "edge.example.test"),
                Record::addr(60, Ipv4Addr::new(127, 10, 6, 40)).named("edge.example.test"),
            ]),
        ),
        (
            "meta.example.test",
            Reply::Records(vec![
                Record::cname(60, "instance-data.example.test"),
                Record::addr(60, Ipv4Addr::new(169, 254, 169, 254))
                    .named("instance-data.example.test"),
            ]),
        ),
    ])
    .await
    .expect("dns server");
    let apis = [
        ("alias", format!("http://alias.example.test:{port}")),
        ("meta", "http://meta.example.test/".to_string()),
    ];
    let gw = start(&apis, &injected("", &dns_section(dns.addr(), "")), false).await;
    assert_ok(&gw.get("/alias/x").await, "a CNAME to the virtual network");
    backend
        .wait_for_requests(1, LOG_WAIT)
        .await
        .expect("backend saw the request");
    assert_refused(&gw.get("/meta/x").await, "a CNAME to the metadata address");
    let line = gw.refusal("meta", "169.254.169.254:80").await;
    assert_refusal_line(
        &line,
        "link_local",
        "address_class",
        None,
        "169.254.169.254",
    );
}
