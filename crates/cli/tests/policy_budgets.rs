//! End to end (issue 9, findings 2, 10, 11, 12): what policies may spend and produce, run by
//! the real `gatehouse` binary. A greedy expression fails its own request and leaves the
//! process small and serving; a slow one is cut at its time budget while the health probe
//! keeps answering; rewrite-uri cannot be steered by encoded parameters; a policy cannot
//! build a body past `max_buffered_body_bytes`; error answers and logs never carry secrets.

use gatehouse_testkit::raw::{self, body_of, status_of};
use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

const SECRET: &str = "s3cr3t-named-value";
const TOKEN: &str = "t0ken-0123456789";

/// APIs, each with the policy under test in inbound (no on-error: the gateway answers a
/// failure with its JSON error, whose message is `context.LastError.Message`).
fn config(gw: SocketAddr, backend: &str) -> String {
    format!(
        r#"
service: {{ name: budgets }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{gw}" }} ]
  limits: {{ max_buffered_body_bytes: 1048576 }}
named_values:
  - {{ id: sek, value: "{SECRET}", secret: true }}
backends:
  mock: {{ url: "{backend}" }}
apis:
  - id: dbl
    path: dbl
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: GET, url_template: "/*" }} ]
    policies: |
      <policies><inbound>
        <set-header name="x-len" exists-action="override"><value>@{{ string s = "0123456789abcdef"; for (int i = 0; i < 25; i++) {{ s = s + s; }} return s.Length.ToString(); }}</value></set-header>
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
  - id: slow
    path: slow
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: GET, url_template: "/*" }} ]
    policies: |
      <policies><inbound>
        <set-header name="x-n" exists-action="override"><value>@{{ var s = new string('a', 1048576); var n = 0; for (int i = 0; i < 3000; i++) {{ n += s.ToUpper().Length; }} return n.ToString(); }}</value></set-header>
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
  - id: rw
    path: rw
    backend: mock
    subscription_required: false
    operations: [ {{ id: item, method: GET, url_template: "/x/{{id}}" }} ]
    policies: |
      <policies><inbound>
        <rewrite-uri template="/public/items/{{id}}" copy-unmatched-params="false" />
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
  - id: far
    path: far
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: POST, url_template: "/*" }} ]
    policies: |
      <policies><inbound>
        <find-and-replace from="a" to="bbbbbbbbbbbbbbbb" />
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
  - id: sek
    path: sek
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: GET, url_template: "/*" }} ]
    policies: |
      <policies><inbound>
        <set-header name="x-n" exists-action="override"><value>@(int.Parse("{{{{sek}}}}").ToString())</value></set-header>
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
  - id: auth
    path: auth
    backend: mock
    subscription_required: false
    operations: [ {{ id: any, method: GET, url_template: "/*" }} ]
    policies: |
      <policies><inbound>
        <set-header name="x-n" exists-action="override"><value>@(int.Parse(context.Request.Headers.GetValueOrDefault("Authorization", "")).ToString())</value></set-header>
      </inbound><backend><forward-request /></backend><outbound /><on-error /></policies>
"#
    )
}

struct Env {
    gw: Gatehouse,
    backend: MockBackend,
    addr: SocketAddr,
}

async fn setup() -> Env {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let gw = Gatehouse::start(Path::new(BIN), &config(addr, &backend.url()), addr)
        .await
        .expect("gatehouse starts");
    Env { gw, backend, addr }
}

/// Sends one request (`Connection: close`) and returns (status, body); the read is generous,
/// the assertion is on what arrives, never on how fast.
async fn request(addr: SocketAddr, head: &str, body: &[u8]) -> (Option<u16>, String) {
    let mut bytes = format!(
        "{head}\r\nHost: gatehouse.test\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    let answer = raw::send_raw_timeout(addr, &bytes, Duration::from_secs(30))
        .await
        .expect("connects");
    let text = body_of(&answer)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    (status_of(&answer), text)
}

async fn get(addr: SocketAddr, path: &str) -> (Option<u16>, String) {
    request(addr, &format!("GET {path} HTTP/1.1"), b"").await
}

async fn probe(addr: SocketAddr) -> Option<u16> {
    get(addr, "/status-0123456789abcdef").await.0
}

/// Waits (up to 10 s) until the gateway's captured output has `n` lines containing every one
/// of `parts`: log lines are read off its pipes asynchronously.
async fn wait_for_log(gw: &Gatehouse, parts: &[&str], n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = gw
            .logs()
            .iter()
            .filter(|l| parts.iter().all(|p| l.contains(p)))
            .count();
        if found >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no log line with {parts:?}:\n{}",
            gw.logs_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Finding 11: a string that doubles itself stops at the memory budget. The request gets the
/// on-error answer (500, naming the budget), the gateway's peak memory stays small — the
/// expression would reach half a gigabyte — and it keeps serving.
#[tokio::test]
async fn a_greedy_expression_fails_its_request_and_the_gateway_stays_small() {
    let env = setup().await;
    let (status, body) = get(env.addr, "/dbl/x").await;
    assert_eq!(status, Some(500), "{body}");
    assert!(body.contains("memory budget"), "{body}");
    assert_eq!(
        env.backend.request_count(),
        0,
        "the request was not forwarded"
    );
    assert_eq!(probe(env.addr).await, Some(200));
    assert!(
        env.gw.try_exit_status().expect("status").is_none(),
        "gateway exited"
    );
    let peak = peak_rss(env.gw.pid());
    assert!(peak < 200 * 1024 * 1024, "peak RSS {peak} bytes");
    wait_for_log(&env.gw, &["expression stopped at its budget", "memory"], 1).await;
}

/// Finding 11: expensive steps (ToUpper over a megabyte, thousands of times) are cut at the
/// time budget; while two such requests run, the health probe answers.
#[tokio::test]
async fn a_slow_expression_is_cut_at_its_time_budget_and_probes_keep_answering() {
    let env = setup().await;
    let addr = env.addr;
    let slow: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async move { get(addr, "/slow/x").await }))
        .collect();
    for _ in 0..5 {
        assert_eq!(probe(addr).await, Some(200));
    }
    for s in slow {
        let (status, body) = s.await.expect("joins");
        assert_eq!(status, Some(500), "{body}");
        assert!(body.contains("time budget"), "{body}");
    }
    assert_eq!(probe(addr).await, Some(200));
    wait_for_log(&env.gw, &["expression stopped at its budget", "time"], 2).await;
}

/// Finding 2: rewrite-uri encodes template values, so an encoded `?` or `#` in a parameter
/// stays inside its path segment at the backend. (An encoded `/` never gets that far: the
/// gateway refuses `%2F` in a client's path, see `edge.rs`.)
#[tokio::test]
async fn rewrite_uri_keeps_parameters_inside_their_segment() {
    let env = setup().await;
    let (status, body) = get(env.addr, "/rw/x/a%3Fadmin%3Dtrue").await;
    assert_eq!(status, Some(200), "{body}");
    let (status, body) = get(env.addr, "/rw/x/a%23frag").await;
    assert_eq!(status, Some(200), "{body}");
    let (status, body) = get(env.addr, "/rw/x/a%2Fb").await;
    assert_eq!(status, Some(400), "{body}");
    let seen: Vec<(String, Option<String>)> = env
        .backend
        .requests()
        .into_iter()
        .map(|r| (r.path, r.query))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("/public/items/a%3Fadmin%3Dtrue".to_string(), None),
            ("/public/items/a%23frag".to_string(), None),
        ]
    );
}

/// Finding 10: find-and-replace that would multiply the body past max_buffered_body_bytes
/// (1 MiB here) fails the request instead of building and forwarding it.
#[tokio::test]
async fn find_and_replace_cannot_produce_a_body_past_the_limit() {
    let env = setup().await;
    let body = vec![b'a'; 256 * 1024];
    let (status, text) = request(env.addr, "POST /far/x HTTP/1.1", &body).await;
    assert_eq!(status, Some(500), "{text}");
    assert!(text.contains("max_buffered_body_bytes"), "{text}");
    assert_eq!(env.backend.request_count(), 0, "nothing was forwarded");
    // Within the limit it still works.
    let (status, text) = request(env.addr, "POST /far/x HTTP/1.1", b"xax").await;
    assert_eq!(status, Some(200), "{text}");
}

/// Finding 12: a failing expression over a secret named value or the Authorization header
/// answers 500 without the secret, and logs no secret either.
#[tokio::test]
async fn expression_errors_carry_no_secrets_to_clients_or_logs() {
    let env = setup().await;
    let (status, body) = get(env.addr, "/sek/x").await;
    assert_eq!(status, Some(500), "{body}");
    assert!(!body.contains(SECRET), "{body}");
    let (status, body) = request(
        env.addr,
        &format!("GET /auth/x HTTP/1.1\r\nAuthorization: Bearer {TOKEN}"),
        b"",
    )
    .await;
    assert_eq!(status, Some(500), "{body}");
    assert!(!body.contains(TOKEN), "{body}");
    // Both failures were logged (the policy_flow log line), neither with its secret.
    wait_for_log(&env.gw, &["policy failed"], 2).await;
    let logs = env.gw.logs_text();
    assert!(!logs.contains(SECRET) && !logs.contains(TOKEN), "{logs}");
}
