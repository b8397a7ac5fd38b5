//! End to end: the `gatehouse` command line. `config validate` and `config schema` on real
//! files, demo mode (`serve` without a config) driven by the real `curl`, and a graceful stop on
//! SIGTERM with a request in flight.

use gatehouse_testkit::process::http_probe;
use gatehouse_testkit::{Gatehouse, MockBackend, free_addr, free_port};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const DEMO_KEY: &str = "demo-primary-key-0123456789abcdef";
const DEMO_KEY_2: &str = "demo-secondary-key-0123456789abcd";
/// Generous: the machine may be loaded.
const WAIT: Duration = Duration::from_secs(30);

/// A file under the system temp dir with a unique name, removed on drop.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "gatehouse-cli-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile { path }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `gatehouse ARGS...` to completion.
fn gatehouse(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const VALID: &str = r#"
service: { name: contoso, sku: premium, location: westeurope, capacity: 2 }
gateway:
  listeners: [ { address: "127.0.0.1:8080" } ]
backends:
  orders: { url: "http://127.0.0.1:9001/v1", timeout_ms: 30000 }
apis:
  - id: orders
    path: orders
    backend: orders
    operations:
      - { id: get-order, method: GET, url_template: "/orders/{id}" }
      - { id: search, method: GET, url_template: "/search?q={q}" }
  - id: echo
    path: echo
    serviceUrl: "http://127.0.0.1:9002"
    policies: "<policies><inbound><base /></inbound></policies>"
    operations: [ { id: any, method: "*", url_template: "/*" } ]
products:
  - { id: starter, apis: [orders] }
subscriptions:
  - { id: sub1, scope: product/starter, primary_key: "0123456789abcdef0123" }
  - { id: sub2, scope: all, primary_key: "fedcba9876543210fedc" }
"#;

#[test]
fn validate_accepts_a_valid_file() {
    let file = TempFile::new("valid.yaml", VALID);
    let out = gatehouse(&["config", "validate", &file.display()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(&format!(
            "{}: ok (2 apis, 3 operations, 1 products, 2 subscriptions)",
            file.display()
        )),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    // Policies run now: no "not run yet" warning for them.
    assert!(!stdout.contains("apis[1].policies"), "{stdout}");
    assert!(!stdout.contains(": error: "), "{stdout}");

    let out = gatehouse(&["config", "validate", &file.display(), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert_eq!(v["file"], file.display(), "{v}");
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(0), "{v}");
}

const SHORT_KEY: &str = "sekrit-Q9x";

fn invalid() -> String {
    format!(
        r#"
service: {{ name: contoso }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
backends:
  b1: {{ url: "http://127.0.0.1:9001/v1" }}
apis:
  - id: a
    path: a
    backend: nope
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
  - id: c
    path: c
    backend: b1
    operations: [ {{ id: get, method: GET, url_template: "/orders/{{id" }} ]
  - id: a
    path: a2
    backend: b1
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
products:
  - {{ id: starter, apis: [c] }}
subscriptions:
  - {{ id: s1, scope: all, primary_key: "{SHORT_KEY}" }}
  - {{ id: s2, scope: product/gold, primary_key: "0123456789abcdef0123" }}
"#
    )
}

/// (path, message) of every error in [`invalid`].
const INVALID_ERRORS: [(&str, &str); 5] = [
    (
        "apis[0].backend",
        "no backend with id 'nope' (and not a URL)",
    ),
    ("apis[1].operations[0].url_template", "unbalanced '{'"),
    ("apis[2].id", "duplicate api id 'a' (first at apis[0])"),
    (
        "subscriptions[0].primary_key",
        "a key must be 16 to 256 characters long (this one has 10)",
    ),
    ("subscriptions[1].scope", "no product with id 'gold'"),
];

#[test]
fn validate_lists_every_error_with_its_path() {
    let file = TempFile::new("invalid.yaml", &invalid());
    let out = gatehouse(&["config", "validate", &file.display()]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "an invalid file must fail: {out:?}");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    for (path, message) in INVALID_ERRORS {
        let want = format!("{}: error: {path}: {message}", file.display());
        assert!(
            stdout.lines().any(|l| l == want),
            "missing line {want:?} in:\n{stdout}{stderr}"
        );
    }
    assert_eq!(
        stdout.lines().filter(|l| l.contains(": error: ")).count(),
        INVALID_ERRORS.len(),
        "{stdout}"
    );
    assert!(!stdout.contains(": ok ("), "{stdout}");
    assert!(
        !stdout.contains(SHORT_KEY) && !stderr.contains(SHORT_KEY),
        "the key value was printed:\n{stdout}{stderr}"
    );

    let out = gatehouse(&["config", "validate", &file.display(), "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{out:?}");
    let v: Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert!(v.is_object(), "{v}");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["file"], file.display(), "{v}");
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .map(|e| e.as_str().expect("each error is a string"))
        .collect();
    assert_eq!(errors.len(), INVALID_ERRORS.len(), "{errors:#?}");
    for (path, message) in INVALID_ERRORS {
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&format!("{path}: {message}"))),
            "no error for {path} in {errors:#?}"
        );
    }
    assert!(
        !stdout.contains(SHORT_KEY) && !stderr.contains(SHORT_KEY),
        "the key value was printed"
    );
}

const TYPE_ERROR: &str = "service:\n  name: contoso\n  capacity: lots\napis: []\n";

#[test]
fn validate_names_path_and_line_of_a_type_error() {
    let file = TempFile::new("type-error.yaml", TYPE_ERROR);
    let out = gatehouse(&["config", "validate", &file.display()]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{out:?}");
    let prefix = format!("{}: error: service.capacity: 3:", file.display());
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{stdout}{stderr}"));
    assert!(line.contains("invalid type"), "{line}");
    assert!(line.contains("lots"), "{line}");

    let out = gatehouse(&["config", "validate", &file.display(), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false, "{v}");
    let e = v["errors"][0].as_str().expect("an error");
    assert!(e.contains("service.capacity: 3:"), "{v}");
}

/// The path is printed once (as in `apis[1].operations[0].url_template: unbalanced '{'`).
#[test]
fn a_type_error_names_its_path_once() {
    let file = TempFile::new("type-error-once.yaml", TYPE_ERROR);
    let out = gatehouse(&["config", "validate", &file.display()]);
    let (stdout, _) = text(&out);
    let line = stdout
        .lines()
        .find(|l| l.contains(": error: "))
        .expect("an error line");
    assert_eq!(line.matches("service.capacity").count(), 1, "{line}");
}

/// A policy error's place reaches `config validate --json` as separate fields (the text line
/// stays as it was), and a secret named value is shown as `{{name}}` there too.
#[test]
fn validate_json_gives_a_policy_errors_line_and_column() {
    let yaml = r#"
service: { name: t }
named_values:
  - { id: secret-one, value: "s3cr3t-value", secret: true }
apis:
  - id: a
    path: a
    backend: "http://203.0.113.1"
    operations:
      - id: o
        method: GET
        url_template: "/"
        policies: |
          <policies>
            <inbound>
              <set-header name="{{secret-one}}" exists-action="sometimes"><value>x</value></set-header>
            </inbound>
          </policies>
"#;
    let file = TempFile::new("policy-error.yaml", yaml);
    let out = gatehouse(&["config", "validate", &file.display(), "--json"]);
    assert!(!out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false, "{v}");
    let text = v["errors"][0].as_str().expect("an error line");
    assert!(
        text.starts_with(
            "error: apis[0].operations[0].policies: apis[0].operations[0].policies:3:"
        ),
        "{text}"
    );
    let e = &v["policy_errors"][0];
    assert_eq!(e["path"], "apis[0].operations[0].policies", "{v}");
    assert_eq!(e["file"], "apis[0].operations[0].policies", "{v}");
    assert_eq!(e["line"], 3, "{v}");
    assert!(e["column"].as_u64().is_some_and(|c| c > 1), "{v}");
    assert_eq!(e["policy"], "set-header", "{v}");
    assert_eq!(e["kind"], "attribute", "{v}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(
        !out_text(&out).contains("s3cr3t-value"),
        "a secret was printed"
    );
}

fn out_text(out: &Output) -> String {
    let (stdout, stderr) = text(out);
    format!("{stdout}{stderr}")
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let missing = std::env::temp_dir().join(format!(
        "gatehouse-cli-test-{}-does-not-exist.yaml",
        std::process::id()
    ));
    let missing = missing.display().to_string();
    let out = gatehouse(&["config", "validate", &missing]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{out:?}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&missing) && all.contains("cannot read") && all.contains("No such file"),
        "{all}"
    );
    assert!(!all.contains("panicked"), "{all}");

    let out = gatehouse(&["config", "validate", &missing, "--json"]);
    assert!(!out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["errors"][0].as_str().unwrap().contains("cannot read"),
        "{v}"
    );

    // `serve` with a missing config fails at once, saying why.
    let out = gatehouse(&["serve", "--config", &missing]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{out:?}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&missing) && all.contains("cannot read"),
        "{all}"
    );
}

#[test]
fn schema_is_a_json_schema_of_the_file() {
    let out = gatehouse(&["config", "schema"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}{stderr}"));
    assert!(
        v["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("json-schema.org")),
        "{}",
        v["$schema"]
    );
    assert_eq!(v["type"], "object");
    let props = v["properties"].as_object().expect("top-level properties");
    for field in [
        "service",
        "gateway",
        "backends",
        "apis",
        "products",
        "subscriptions",
        "named_values",
    ] {
        assert!(
            props.contains_key(field),
            "no property {field} in {:?}",
            props.keys().collect::<Vec<_>>()
        );
    }
    // Unknown fields are errors, so the schema says so.
    assert_eq!(v["additionalProperties"], false);
}

/// A process spawned by a test: killed (and its output printed, on panic) when dropped.
struct Spawned {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Spawned {
    /// Runs `BIN ARGS` with its data directory (the demo's store) in `data`.
    fn start(args: &[&str], data: &Path) -> Spawned {
        let mut child = Command::new(BIN)
            .args(args)
            .env("GATEHOUSE_DATA_DIR", data)
            .env_remove("GATEHOUSE_STORE")
            .env("NO_COLOR", "1")
            .env_remove("GATEHOUSE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gatehouse");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        Self::reader(stdout, lines.clone(), "");
        Self::reader(stderr, lines.clone(), "stderr: ");
        Spawned { child, lines }
    }

    fn reader(stream: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>, tag: &str) {
        let tag = tag.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(format!("{tag}{line}"));
            }
        });
    }

    fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits for the health probe at `addr`; panics with the output if the process exits first.
    async fn wait_ready(&mut self, addr: std::net::SocketAddr) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "gatehouse exited with {status} before serving:\n{}",
                    self.output()
                );
            }
            if http_probe(addr).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gatehouse not ready at {addr} within {WAIT:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the process printed a line containing `needle`.
    async fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line containing {needle:?} within {WAIT:?}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- gatehouse (pid {}) output ----\n{}\n---- end ----",
                self.child.id(),
                self.output()
            );
        }
    }
}

/// Runs the real `curl` with `args` (no proxy, bounded time); returns (exit ok, stdout).
async fn curl(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-s", "--noproxy", "*", "--max-time", "20"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run curl (is it installed?)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The banner's Git line as a user pastes it: `git clone http://apim@ADDR/ gatehouse-config`,
/// answering git's password prompt with the line `gatehouse admin git-token` prints.
async fn demo_git_clone(gw: &Spawned, git: &str, data: &Path) {
    let line = gw
        .wait_for_line(&format!("git clone http://apim@{git}/ gatehouse-config"))
        .await;
    let pasted = line
        .trim_start()
        .strip_prefix("git:")
        .expect("a git: line")
        .trim();
    let token = Command::new(BIN)
        .args(["admin", "git-token"])
        .env("GATEHOUSE_DATA_DIR", data)
        .env_remove("GATEHOUSE_STORE")
        .output()
        .expect("gatehouse admin git-token");
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let password = String::from_utf8_lossy(&token.stdout).trim().to_string();
    // GIT_ASKPASS answers the prompt the way a person would.
    let askpass = data.join("askpass.sh");
    std::fs::write(
        &askpass,
        format!("#!/bin/sh\nprintf '%s\\n' '{password}'\n"),
    )
    .expect("askpass");
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod");
    let out = Command::new("sh")
        .args(["-c", pasted])
        .current_dir(data)
        .env("GIT_ASKPASS", &askpass)
        .env("HOME", data)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git (Debian: apt-get install git)");
    assert!(
        out.status.success(),
        "{pasted}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = std::fs::read_to_string(data.join("gatehouse-config/apis/echo/apiInformation.json"))
        .expect("the clone holds the demo API");
    assert!(info.contains("\"path\": \"echo\""), "{info}");
}

#[tokio::test]
async fn demo_mode_serves_the_echo_api_to_curl() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let management = free_addr().to_string();
    let portal = free_addr().to_string();
    let git = free_addr().to_string();
    let data = gatehouse_testkit::TempDir::new().expect("data dir");
    let args = [
        "serve",
        "--listen",
        &listen,
        "--management-listen",
        &management,
        "--portal-listen",
        &portal,
        "--git-listen",
        &git,
    ];
    let mut gw = Spawned::start(&args, data.path());
    gw.wait_ready(listen.parse().unwrap()).await;

    // The banner tells what to paste, with the address actually served.
    let try_line = gw
        .wait_for_line(&format!(
            "curl -H \"Ocp-Apim-Subscription-Key: {DEMO_KEY}\" http://{listen}/echo/hello"
        ))
        .await;
    assert!(try_line.trim_start().starts_with("try:"), "{try_line}");
    assert!(!try_line.starts_with("stderr: "), "the banner is on stdout");
    gw.wait_for_line(&format!("gateway:      http://{listen}"))
        .await;
    // The developer portal: its address in the banner, the demo API shown to anonymous visitors
    // (the demo's product is linked to the guests group).
    gw.wait_for_line(&format!("portal:       http://{portal}"))
        .await;
    let (ok, page) = curl(&[&format!("http://{portal}/apis/echo")]).await;
    assert!(ok, "{page}");
    for shown in ["Echo API", "Get an item", "/items/{id}", "Starter"] {
        assert!(page.contains(shown), "the portal shows {shown}:\n{page}");
    }
    let (ok, doc) = curl(&[&format!("http://{portal}/apis/echo/openapi.json")]).await;
    assert!(ok, "{doc}");
    let doc: Value = serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
    assert!(doc["paths"]["/items/{id}"]["get"].is_object(), "{doc}");
    demo_git_clone(&gw, &git, data.path()).await;

    let url = format!("http://{listen}/echo/hello");
    let (ok, body) = curl(&[
        "-H",
        &format!("Ocp-Apim-Subscription-Key: {DEMO_KEY}"),
        &url,
    ])
    .await;
    assert!(ok, "curl failed: {body}");
    let echo: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(echo["path"], "/hello", "{echo}");
    assert_eq!(echo["method"], "GET", "{echo}");
    assert_eq!(echo["backend"], "gatehouse demo echo", "{echo}");
    assert!(
        echo["headers"].get("ocp-apim-subscription-key").is_none(),
        "the key is not forwarded: {echo}"
    );

    // The secondary key in the query works too, and is stripped.
    let (ok, body) = curl(&[&format!(
        "http://{listen}/echo/items/42?subscription-key={DEMO_KEY_2}"
    )])
    .await;
    assert!(ok, "{body}");
    let echo: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(echo["path"], "/items/42", "{echo}");
    assert_eq!(echo["query"], Value::Null, "{echo}");

    // No key: 401.
    let (ok, code) = curl(&["-o", "/dev/null", "-w", "%{http_code}", &url]).await;
    assert!(ok);
    assert_eq!(code, "401");
    let (ok, body) = curl(&[&url]).await;
    assert!(ok);
    assert!(
        body.contains("Access denied due to missing subscription key"),
        "{body}"
    );

    // It stops cleanly on SIGTERM.
    let pid = gw.child.id().to_string();
    let kill = Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = gw.child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}\n{}", gw.output());

    // Started again over the same data directory: the store keeps the demo, now pointed at
    // the new demo backend, and the management API's printed curl answers with the demo API.
    let mut gw = Spawned::start(&args, data.path());
    gw.wait_ready(listen.parse().unwrap()).await;
    gw.wait_for_line(&format!("management:   http://{management}"))
        .await;
    let try_api = gw
        .wait_for_line(&format!(
            "'http://{management}/apis?api-version=2022-08-01'"
        ))
        .await;
    let pasted = try_api
        .trim_start()
        .strip_prefix("try:")
        .expect("a try: line")
        .trim()
        .to_string();
    assert!(
        pasted.contains("Authorization: SharedAccessSignature uid="),
        "{pasted}"
    );
    let out = Command::new("sh")
        .args(["-c", &format!("{pasted} -s --noproxy '*' --max-time 20")])
        .output()
        .expect("run the pasted curl");
    let body = String::from_utf8_lossy(&out.stdout);
    let list: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(list["value"][0]["name"], "echo", "{list}");
    let (ok, body) = curl(&[
        "-H",
        &format!("Ocp-Apim-Subscription-Key: {DEMO_KEY}"),
        &url,
    ])
    .await;
    assert!(ok && body.contains("gatehouse demo echo"), "{body}");

    // The README's management section, as written there: a token from `gatehouse admin token`
    // (the data directory's store), an API on the demo backend, an operation, a product, a
    // subscription, then the new key through the gateway.
    let out = Command::new(BIN)
        .args(["admin", "token", "--ttl", "1h"])
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env_remove("GATEHOUSE_STORE")
        .output()
        .expect("gatehouse admin token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let m = format!("http://{management}");
    let auth = format!("Authorization: {token}");
    for (path, body, want) in README_WRITES {
        let mut args = vec![
            "-o".to_string(),
            "/dev/null".to_string(),
            "-w".to_string(),
            "%{http_code}".to_string(),
            "-X".to_string(),
            "PUT".to_string(),
            "-H".to_string(),
            auth.clone(),
            format!("{m}/{path}?api-version=2022-08-01"),
        ];
        if let Some(b) = body {
            args.extend([
                "-H".to_string(),
                "Content-Type: application/json".to_string(),
                "-d".to_string(),
                b.to_string(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, code) = curl(&args).await;
        assert!(ok, "curl PUT {path}");
        assert_eq!(code, want, "PUT {path}\n{}", gw.output());
    }
    // The README's portal settings: a PATCH of gatehouse/portal, shown on the portal's pages.
    let (ok, code) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PATCH",
        "-H",
        &auth,
        "-H",
        "Content-Type: application/json",
        &format!("{m}/gatehouse/portal?api-version=2022-08-01"),
        "-d",
        r##"{"properties":{"title":"Contoso APIs","colors":{"primary":"#6b2fb3"}}}"##,
    ])
    .await;
    assert!(ok && code == "200", "PATCH gatehouse/portal: {code}");
    let (_, home) = curl(&[&format!("http://{portal}/")]).await;
    assert!(home.contains("<title>Contoso APIs</title>"), "{home}");
    let (_, theme) = curl(&[&format!("http://{portal}/theme.css")]).await;
    assert!(theme.contains("--primary: #6b2fb3;"), "{theme}");
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, body) = curl(&[
            "-H",
            "Ocp-Apim-Subscription-Key: gold-key-0123456789abcdef",
            &format!("http://{listen}/orders/orders/42"),
        ])
        .await;
        if body.contains("gatehouse demo echo") {
            assert!(body.contains("\"/orders/42\""), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new API is not served: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The README's management writes (path, body, expected status), in its order.
const README_WRITES: [(&str, Option<&str>, &str); 6] = [
    (
        "apis/orders",
        Some(
            r#"{"properties":{"displayName":"Orders","path":"orders","backendId":"echo","subscriptionRequired":true}}"#,
        ),
        "201",
    ),
    (
        "apis/orders/operations/get-order",
        Some(
            r#"{"properties":{"displayName":"Get order","method":"GET","urlTemplate":"/orders/{id}"}}"#,
        ),
        "201",
    ),
    (
        "products/gold",
        Some(
            r#"{"properties":{"displayName":"Gold","subscriptionRequired":true,"state":"published"}}"#,
        ),
        "201",
    ),
    ("products/gold/apis/orders", None, "201"),
    (
        "subscriptions/gold-1",
        Some(
            r#"{"properties":{"displayName":"Gold 1","scope":"/products/gold","primaryKey":"gold-key-0123456789abcdef"}}"#,
        ),
        "201",
    ),
    (
        "apis/orders/operations/bad",
        Some(r#"{"properties":{"method":"GET","urlTemplate":"/a/{b"}}"#),
        "400",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_request_in_flight_finish_and_exits_0() {
    const KEY: &str = "key-sigterm-0123456789ab";
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let config = format!(
        r#"
service: {{ name: sigterm-e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
apis:
  - id: a
    path: a
    backend: "{backend}"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
subscriptions:
  - {{ id: s, scope: all, primary_key: "{KEY}" }}
"#,
        backend = backend.url()
    );
    let gw = Gatehouse::start(Path::new(BIN), &config, addr)
        .await
        .expect("gatehouse starts");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT)
        .build()
        .unwrap();
    let base = format!("http://{addr}");

    let in_flight = tokio::spawn({
        let (client, url) = (client.clone(), format!("{base}/a/delay/1500"));
        async move {
            let resp = client
                .get(url)
                .header("Ocp-Apim-Subscription-Key", KEY)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body = resp.text().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
    });
    // The backend has the request (and sleeps 1.5 s before answering): now stop the gateway.
    backend
        .wait_for_requests(1, WAIT)
        .await
        .expect("the request reaches the backend");
    gw.sigterm().expect("SIGTERM");
    assert!(
        !in_flight.is_finished(),
        "test premise: the request is still in flight at SIGTERM"
    );
    gw.wait_for_log("shutting down", WAIT)
        .await
        .expect("shutdown is logged");
    gw.wait_for_log("listener closed", WAIT)
        .await
        .expect("the listener is closed");

    // No new connections are accepted while the open request drains.
    let fresh = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let refused = fresh
        .get(format!("{base}/a/x"))
        .header("Ocp-Apim-Subscription-Key", KEY)
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a new request after shutdown began got an answer: {refused:?}"
    );

    let (status, body) = in_flight
        .await
        .expect("task")
        .expect("the request in flight completes");
    assert_eq!(status, 200, "{body}");
    let echo: Value = serde_json::from_str(&body).expect("echo JSON");
    assert_eq!(echo["path"], "/delay/1500", "{echo}");

    let exit = gw.wait_exit(WAIT).await.expect("gatehouse exits");
    assert!(exit.success(), "exit status {exit}\n{}", gw.logs_text());
    assert_eq!(exit.code(), Some(0));
    gw.wait_for_log("gatehouse stopped", WAIT)
        .await
        .expect("a last log line");
    assert_eq!(
        backend.request_count(),
        1,
        "the refused request never reached the backend"
    );
}

/// docs/network.md's tier example: VNet injection on the Basic tier is refused by `config
/// validate`, with Azure's tier table in the message.
#[test]
fn validate_refuses_a_network_option_the_tier_does_not_offer() {
    let file = TempFile::new(
        "basic.yaml",
        r#"
service: { name: t, sku: basic }
network:
  type: external
  virtual_network: { address_space: [10.0.0.0/16], subnet: { prefix: 10.0.1.0/24, nsg: n } }
  network_security_groups: { n: { security_rules: [] } }
"#,
    );
    let out = gatehouse(&["config", "validate", &file.display()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&format!(
            "{}: error: network.type: VNet injection is not offered on the Basic tier. Azure's tiers: VNet injection (type external/internal): Developer, Premium, and Premium v2",
            file.display()
        )),
        "{all}"
    );
}
