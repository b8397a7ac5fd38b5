//! In-process tests of the request lifecycle: a gateway built from a config in this process
//! (no `gatehouse` binary), a mock backend, and requests that stop at — or pass — each phase in
//! turn: health probe → Host → client address → limits → route → intake → authorize → inbound →
//! backend → outbound → respond → access log. The end-to-end suite (crates/cli/tests) drives
//! the same through the real binary; these show which phase answers, and run in milliseconds.

use gatehouse_gateway::Gateway;
use gatehouse_testkit::MockBackend;
use gatehouse_testkit::raw::{send_raw, status_of};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const KEY: &str = "lifecycle-key-0123456789abcdef";
const SUSPENDED_KEY: &str = "suspended-key-0123456789abcdef";

/// A gateway serving `config` (its listener on an ephemeral loopback port) in this process.
struct Running {
    gateway: Gateway,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.gateway.shutdown();
    }
}

async fn start(backend: &MockBackend) -> Running {
    logs();
    let yaml = format!(
        r#"
service: {{ name: lifecycle }}
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
  trusted_proxies: [ 127.0.0.9/32 ]
gateway:
  listeners: [ {{ address: "127.0.0.1:0" }} ]
  limits: {{ max_request_line_bytes: 256 }}
apis:
  - id: plain
    path: plain
    backend: "{backend}/base"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: policed
    path: policed
    backend: "{backend}/base"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
      <policies>
        <inbound><base/>
          <choose><when condition="@(context.Request.Url.Path.EndsWith(&quot;/early&quot;))">
            <return-response><set-status code="299" reason="Early"/><set-body>from inbound</set-body></return-response>
          </when></choose>
          <set-header name="X-Client" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header>
        </inbound>
        <backend><base/></backend>
        <outbound><base/>
          <set-header name="X-Outbound" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
        </outbound>
        <on-error><base/></on-error>
      </policies>
subscriptions:
  - {{ id: active, scope: all, primary_key: "{KEY}", state: active }}
  - {{ id: held, scope: all, primary_key: "{SUSPENDED_KEY}", state: suspended }}
"#,
        backend = backend.url()
    );
    let cfg = gatehouse_model::from_str(&yaml, gatehouse_model::Format::Yaml, Path::new("t.yaml"))
        .expect("config parses");
    let validated = gatehouse_model::validate(cfg).expect("config validates");
    let gateway = Gateway::new(&validated).expect("gateway compiles");
    let bound = gateway.bind().await.expect("binds");
    let addr = bound[0].local;
    let serving = gateway.clone();
    tokio::spawn(async move { serving.serve(bound, Duration::from_secs(1)).await });
    Running { gateway, addr }
}

/// Every log line of this test process, as text (the access log among them).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// One request as raw bytes (`Connection: close`), and the status the gateway answered.
async fn status(addr: SocketAddr, request: &str) -> (u16, String) {
    let reply = send_raw(addr, request.as_bytes()).await.expect("connects");
    let text = String::from_utf8_lossy(&reply).into_owned();
    (status_of(&reply).unwrap_or(0), text)
}

fn get(target: &str, headers: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n{headers}\r\n")
}

#[tokio::test]
async fn phases_before_the_backend_answer_for_themselves() {
    let backend = MockBackend::start().await.expect("backend");
    let gw = start(&backend).await;
    // Health probe: no key, no backend.
    let (s, _) = status(gw.addr, &get("/status-0123456789abcdef", "")).await;
    assert_eq!(s, 200);
    // Host: two lines on HTTP/1.1.
    let (s, _) = status(
        gw.addr,
        "GET /plain/x HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(s, 400);
    // Limits: a target over max_request_line_bytes.
    let (s, _) = status(gw.addr, &get(&format!("/plain/{}", "x".repeat(300)), "")).await;
    assert_eq!(s, 414);
    // Route: no API; an ambiguous path.
    let (s, body) = status(gw.addr, &get("/nowhere", "")).await;
    assert_eq!(s, 404);
    assert!(body.contains("Resource not found"), "{body}");
    let (s, _) = status(gw.addr, &get("/plain/%2e%2e/x", "")).await;
    assert_eq!(s, 400);
    // Authorize: missing key, suspended subscription; dot segments resolved first.
    let (s, _) = status(gw.addr, &get("/policed/../plain/x", "")).await;
    assert_eq!(s, 401);
    let (s, _) = status(
        gw.addr,
        &get(
            "/plain/x",
            &format!("Ocp-Apim-Subscription-Key: {SUSPENDED_KEY}\r\n"),
        ),
    )
    .await;
    assert_eq!(s, 403);
    // Inbound: a policy's own response.
    let (s, body) = status(gw.addr, &get("/policed/early", "")).await;
    assert_eq!(s, 299);
    assert!(body.ends_with("from inbound"), "{body}");
    assert_eq!(backend.request_count(), 0, "nothing reached the backend");
}

#[tokio::test]
async fn a_request_through_every_phase() {
    let backend = MockBackend::start().await.expect("backend");
    let gw = start(&backend).await;
    // Plain API, with the key: intake drops the client's hop-by-hop headers, the backend gets
    // the rewritten path and the forwarding headers, the key stays behind.
    let (s, _) = status(
        gw.addr,
        &get(
            "/plain/a/./b?k=1",
            &format!(
                "Ocp-Apim-Subscription-Key: {KEY}\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
            ),
        ),
    )
    .await;
    assert_eq!(s, 200);
    let seen = backend.last_request().expect("forwarded");
    assert_eq!(seen.path_and_query, "/base/a/b?k=1");
    assert!(seen.header("x-hop").is_none());
    assert!(seen.header("ocp-apim-subscription-key").is_none());
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    // Policed API: inbound sees the client address, outbound the backend's status.
    let (s, text) = status(gw.addr, &get("/policed/echo", "")).await;
    assert_eq!(s, 200);
    assert!(
        text.to_ascii_lowercase().contains("x-outbound: 200"),
        "{text}"
    );
    let seen = backend.last_request().expect("forwarded");
    assert_eq!(seen.header("x-client"), Some("127.0.0.1"));
    // Access log: one line per request, naming the API and the status.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = log_text();
        if text
            .lines()
            .any(|l| l.contains("api=\"policed\"") && l.contains("status=200"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no access log line:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
