//! End to end: the Git configuration repository of the real binary over a real SQLite store,
//! driven by the real `git` client. A clone holds the configuration in APIOps' layout; a pushed
//! edit of a policy and an API file is served by the gateway; a push with a broken policy and a
//! dangling product reference is refused with both errors (file and line) in git's output and
//! nothing changes; every management API change becomes a commit a `git pull` fast-forwards to,
//! authored by the caller, and a secret value never enters the history; a push racing an API
//! write ends with one configuration in both the store and the repository.

mod support;

use gatehouse_testkit::{Gatehouse, MockBackend, Probe, TempDir, free_addr_on};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const V: &str = "api-version=2022-08-01";
/// How long a change may take to be served or committed (the issue's bound is 1 s; slack for a
/// loaded CI machine; the real figure is printed).
const WITHIN: Duration = Duration::from_secs(10);
const KEY: &str = "gold-key-0123456789";

struct Node {
    gw: Gatehouse,
    dir: PathBuf,
    gateway: SocketAddr,
    management: SocketAddr,
    git: SocketAddr,
    store: String,
    key_file: PathBuf,
    token: String,
    http: reqwest::Client,
}

fn config(gateway: SocketAddr, backend: &str) -> String {
    format!(
        r#"
service: {{ name: contoso }}
gateway:
  listeners: [ {{ address: "{gateway}" }} ]
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
apis:
  - id: orders
    display_name: Orders
    path: orders
    backend: "{backend}"
    operations:
      - {{ id: get-order, method: GET, url_template: "/orders/{{id}}" }}
products:
  - {{ id: gold, display_name: Gold, apis: [orders], subscription_required: true, state: published, groups: [developers] }}
subscriptions:
  - {{ id: s1, scope: product/gold, primary_key: "{KEY}", secondary_key: "gold-key-secondary-01", state: active }}
named_values:
  - {{ id: plain-nv, value: "visible" }}
"#
    )
}

fn gatehouse(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run gatehouse");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn start(dir: &Path) -> Node {
    let backend = MockBackend::start().await.expect("backend");
    // The backend lives as long as the test process: the node's config points at it.
    let backend_url = backend.url();
    std::mem::forget(backend);
    let key_file = dir.join("secret.key");
    std::fs::write(&key_file, format!("{:064x}\n", 0x5eed_u128 * 977)).expect("key");
    let store = format!("sqlite://{}", dir.join("store.db").display());
    let gateway = free_addr_on(Ipv4Addr::LOCALHOST);
    let file = dir.join("initial.yaml");
    std::fs::write(&file, config(gateway, &backend_url)).expect("config");
    support::store_import(BIN, &file, &store, &key_file);
    let management = free_addr_on(Ipv4Addr::LOCALHOST);
    let git = free_addr_on(Ipv4Addr::LOCALHOST);
    let key = key_file.to_str().expect("utf-8");
    let state = dir.join("state");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("builder")
        .args([
            "serve",
            "--store",
            &store,
            "--secret-key-file",
            key,
            "--management-listen",
            &management.to_string(),
            "--git-listen",
            &git.to_string(),
            "--state-dir",
            state.to_str().expect("utf-8"),
        ])
        // The management API binds after the Git endpoint.
        .probe(Probe::Tcp(management))
        .start_without_config()
        .await
        .expect("gatehouse serve starts");
    let (ok, token, err) = gatehouse(&[
        "admin",
        "token",
        "--store",
        &store,
        "--secret-key-file",
        key,
    ]);
    assert!(ok, "{err}");
    Node {
        gw,
        dir: dir.to_path_buf(),
        gateway,
        management,
        git,
        store,
        key_file,
        token: token.trim().to_string(),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    }
}

/// Every character but letters and digits percent-encoded, for a password in a URL.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Node {
    fn password(&self) -> String {
        let (ok, out, err) = gatehouse(&[
            "admin",
            "git-token",
            "--store",
            &self.store,
            "--secret-key-file",
            self.key_file.to_str().expect("utf-8"),
        ]);
        assert!(ok, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "the password alone on one line: {out}");
        lines[0].to_string()
    }

    fn url(&self, password: &str) -> String {
        format!("http://apim:{}@{}/", encode(password), self.git)
    }

    /// `git ARGS` in `cwd`, isolated from the machine's git configuration.
    fn git(&self, cwd: &Path, args: &[&str]) -> (bool, String) {
        let home = self.dir.join("home");
        std::fs::create_dir_all(&home).expect("home");
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Git Tester",
                "-c",
                "user.email=tester@example.com",
            ])
            .args(["-c", "credential.helper=", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(cwd)
            .env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .expect("git runs (Debian: apt-get install git)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn clone(&self, name: &str) -> PathBuf {
        let to = self.dir.join(name);
        let (ok, out) = self.git(&self.dir, &["clone", &self.url(&self.password()), name]);
        assert!(ok, "clone: {out}\n{}", self.gw.logs_text());
        to
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let req = self
            .http
            .request(method, format!("http://{}/{path}{sep}{V}", self.management))
            .header("Authorization", &self.token);
        support::send_json(req, body).await
    }

    async fn wait_served(&self, path: &str, want: u16) -> Duration {
        let status = || async {
            self.http
                .get(format!("http://{}{path}", self.gateway))
                .header("Ocp-Apim-Subscription-Key", KEY)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        };
        support::wait_for_status(path, want, WITHIN, status, || self.gw.logs_text()).await
    }

    /// Pulls until `file` exists in the clone (the committer runs after each store revision).
    fn pull_until(&self, clone: &Path, file: &str) -> Duration {
        let start = Instant::now();
        loop {
            let (ok, out) = self.git(clone, &["pull", "--ff-only", "--quiet"]);
            assert!(ok, "pull: {out}");
            if clone.join(file).exists() {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < WITHIN,
                "{file} never committed\n{}",
                self.gw.logs_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read(clone: &Path, file: &str) -> String {
    std::fs::read_to_string(clone.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn write(clone: &Path, file: &str, text: &str) {
    let path = clone.join(file);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    std::fs::write(path, text).expect("write");
}

const TEAPOT_POLICY: &str = r#"<policies>
  <inbound>
    <base />
    <return-response>
      <set-status code="418" reason="from git" />
    </return-response>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>
"#;

#[tokio::test]
async fn clone_edit_push_and_every_change_a_commit() {
    let tmp = TempDir::new().expect("tmp");
    let node = start(tmp.path()).await;
    node.wait_served("/orders/orders/1", 200).await;

    // Wrong credentials: 401, and git says so.
    let (ok, out) = node.git(
        &node.dir,
        &["clone", &format!("http://apim:wrong@{}/", node.git), "nope"],
    );
    assert!(!ok && out.contains("Authentication failed"), "{out}");
    let (ok, out) = node.git(
        &node.dir,
        &[
            "clone",
            &format!("http://someone:{}@{}/", encode(&node.password()), node.git),
            "nope",
        ],
    );
    assert!(!ok && out.contains("Authentication failed"), "{out}");

    // The clone: APIOps' layout, on main.
    let clone = node.clone("work");
    let (_, branch) = node.git(&clone, &["rev-parse", "--abbrev-ref", "HEAD"]);
    assert_eq!(branch.trim(), "main");
    for file in [
        "apis/orders/apiInformation.json",
        "apis/orders/specification.yaml",
        "products/gold/productInformation.json",
        "products/gold/apis.json",
        "namedValues/plain-nv/namedValueInformation.json",
        "gatehouse/network.yaml",
        "gatehouse/gateway.yaml",
    ] {
        assert!(clone.join(file).is_file(), "{file} missing");
    }
    let apis: Value = serde_json::from_str(&read(&clone, "products/gold/apis.json")).expect("json");
    assert_eq!(apis, json!([{"name": "orders"}]));
    assert!(read(&clone, "apis/orders/specification.yaml").contains("/orders/{id}"));

    // Edit a policy and an API file; push; the gateway serves both.
    write(&clone, "apis/orders/policy.xml", TEAPOT_POLICY);
    let info = read(&clone, "apis/orders/apiInformation.json");
    let mut info: Value = serde_json::from_str(&info).expect("apiInformation.json");
    info["properties"]["path"] = json!("shop");
    write(
        &clone,
        "apis/orders/apiInformation.json",
        &serde_json::to_string_pretty(&info).expect("json"),
    );
    let (ok, out) = node.git(&clone, &["add", "-A"]);
    assert!(ok, "{out}");
    let (ok, out) = node.git(
        &clone,
        &["commit", "-q", "-m", "orders: served at /shop, teapot"],
    );
    assert!(ok, "{out}");
    let (ok, out) = node.git(&clone, &["push", "-q", "origin", "main"]);
    assert!(ok, "push: {out}\n{}", node.gw.logs_text());
    assert!(out.contains("deployed as revision"), "{out}");
    let took = node.wait_served("/shop/orders/1", 418).await;
    println!("pushed change served after {took:?}");
    node.wait_served("/orders/orders/1", 404).await;
    // The management API sees the pushed configuration.
    let (s, body) = node.call(reqwest::Method::GET, "apis/orders", None).await;
    assert_eq!(
        (s, body["properties"]["path"].as_str()),
        (StatusCode::OK, Some("shop")),
        "{body}"
    );

    // A management API change becomes a commit by its caller, which a pull fast-forwards to.
    let (s, body) = node
        .call(
            reqwest::Method::PUT,
            "namedValues/api-secret",
            Some(json!({"properties": {"displayName": "api-secret", "value": "s3cr3t-value-77", "secret": true}})),
        )
        .await;
    assert!(s.is_success(), "{s} {body}");
    let took = node.pull_until(&clone, "namedValues/api-secret/namedValueInformation.json");
    println!("management change committed and pulled after {took:?}");
    let (_, log) = node.git(&clone, &["log", "-1", "--format=%an%n%B"]);
    assert!(log.starts_with("integration\n"), "{log}");
    assert!(log.contains("Gatehouse-Revision:"), "{log}");
    // The secret value is nowhere in the history.
    let (_, history) = node.git(&clone, &["log", "-p", "--all"]);
    assert!(!history.contains("s3cr3t-value-77"), "secret in history");
    let info = read(&clone, "namedValues/api-secret/namedValueInformation.json");
    assert!(info.contains("\"secret\": true"), "{info}");

    // A change the files do not hold (a user) is a commit too: same files, its summary.
    let (_, before) = node.git(&clone, &["rev-parse", "HEAD"]);
    let (s, body) = node
        .call(
            reqwest::Method::PUT,
            "users/carol",
            Some(json!({"properties": {"email": "carol@example.com", "firstName": "Carol", "lastName": "C"}})),
        )
        .await;
    assert!(s.is_success(), "{s} {body}");
    let deadline = Instant::now() + WITHIN;
    loop {
        node.git(&clone, &["pull", "--ff-only", "--quiet"]);
        let (_, head) = node.git(&clone, &["rev-parse", "HEAD"]);
        if head != before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the user's revision is no commit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, log) = node.git(&clone, &["log", "-1", "--format=%an%n%s"]);
    assert_eq!(log.trim(), "integration\nPUT users/carol");
    let (_, diff) = node.git(&clone, &["diff", "--stat", "HEAD~1", "HEAD"]);
    assert_eq!(diff.trim(), "", "a user changes no file");

    // A pushed secret named value without a value keeps its stored one.
    write(
        &clone,
        "namedValues/api-secret/namedValueInformation.json",
        &serde_json::to_string_pretty(
            &json!({"properties": {"displayName": "api-secret-renamed", "secret": true}}),
        )
        .expect("json"),
    );
    node.git(&clone, &["commit", "-qam", "rename the secret"]);
    let (ok, out) = node.git(&clone, &["push", "-q", "origin", "main"]);
    assert!(ok, "push: {out}");
    let (s, body) = node
        .call(
            reqwest::Method::POST,
            "namedValues/api-secret/listValue",
            None,
        )
        .await;
    assert_eq!(
        (s, body["value"].as_str()),
        (StatusCode::OK, Some("s3cr3t-value-77")),
        "{body}"
    );

    // Only main holds the configuration.
    node.git(&clone, &["checkout", "-q", "-b", "feature"]);
    let (ok, out) = node.git(&clone, &["push", "origin", "feature"]);
    assert!(!ok && out.contains("only the branch main"), "{out}");
    node.git(&clone, &["checkout", "-q", "main"]);

    // A clone that did not pull cannot push over a newer revision: git tells it to pull.
    let stale = node.clone("stale");
    let (s, _) = node
        .call(
            reqwest::Method::PUT,
            "namedValues/later",
            Some(json!({"properties": {"displayName": "later", "value": "v"}})),
        )
        .await;
    assert!(s.is_success());
    node.pull_until(&clone, "namedValues/later/namedValueInformation.json");
    write(&stale, "policy.xml", TEAPOT_POLICY);
    node.git(&stale, &["add", "-A"]);
    node.git(&stale, &["commit", "-qm", "global policy"]);
    let (ok, out) = node.git(&stale, &["push", "origin", "main"]);
    assert!(!ok && out.contains("pull"), "{out}");
}

#[tokio::test]
async fn a_broken_push_is_refused_whole_with_every_error() {
    let tmp = TempDir::new().expect("tmp");
    let node = start(tmp.path()).await;
    node.wait_served("/orders/orders/1", 200).await;
    let clone = node.clone("work");
    let (_, before) = node.git(&clone, &["ls-remote", "origin", "main"]);

    // A broken policy and a product naming an API that does not exist.
    write(
        &clone,
        "apis/orders/policy.xml",
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <backend>\n</policies>\n",
    );
    write(
        &clone,
        "products/gold/apis.json",
        "[\n  {\n    \"name\": \"orders\"\n  },\n  {\n    \"name\": \"missing-api\"\n  }\n]\n",
    );
    node.git(&clone, &["add", "-A"]);
    node.git(&clone, &["commit", "-qm", "two mistakes"]);
    let (ok, out) = node.git(&clone, &["push", "origin", "main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("pre-receive hook declined"), "{out}");
    assert!(
        out.contains("apis/orders/policy.xml"),
        "policy error named: {out}"
    );
    assert!(
        out.contains("products/gold/apis.json:"),
        "product error with its line: {out}"
    );
    assert!(out.contains("missing-api"), "{out}");
    // Nothing changed: not the branch, not the gateway, not the store.
    let (_, after) = node.git(&clone, &["ls-remote", "origin", "main"]);
    assert_eq!(before, after);
    node.wait_served("/orders/orders/1", 200).await;
    let (s, body) = node
        .call(reqwest::Method::GET, "products/gold/apis", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["count"], 1, "{body}");
}

#[tokio::test]
async fn a_push_racing_an_api_write_ends_in_one_configuration() {
    let tmp = TempDir::new().expect("tmp");
    let node = start(tmp.path()).await;
    node.wait_served("/orders/orders/1", 200).await;
    let clone = node.clone("work");
    write(&clone, "apis/orders/policy.xml", TEAPOT_POLICY);
    node.git(&clone, &["add", "-A"]);
    node.git(&clone, &["commit", "-qm", "teapot"]);

    let push = {
        let clone = clone.clone();
        let node_git = (node.dir.clone(), node.git);
        tokio::task::spawn_blocking(move || {
            let home = node_git.0.join("home");
            let out = Command::new("git")
                .args(["push", "origin", "main"])
                .current_dir(&clone)
                .env("HOME", &home)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_TERMINAL_PROMPT", "0")
                .output()
                .expect("git push");
            (
                out.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            )
        })
    };
    let (s, body) = node
        .call(
            reqwest::Method::PUT,
            "namedValues/racer",
            Some(json!({"properties": {"displayName": "racer", "value": "r"}})),
        )
        .await;
    assert!(s.is_success(), "{s} {body}");
    let (pushed, out) = push.await.expect("push task");
    if !pushed {
        assert!(out.contains("pull"), "a refused push says to pull: {out}");
    }
    // Either way the API's write is in the repository, on top of whatever main holds, and the
    // push's policy is served exactly when the push was accepted.
    let fresh = node.clone("after");
    let deadline = Instant::now() + WITHIN;
    while !fresh
        .join("namedValues/racer/namedValueInformation.json")
        .exists()
    {
        assert!(
            Instant::now() < deadline,
            "the API write never reached the repository"
        );
        node.git(&fresh, &["pull", "--ff-only", "--quiet"]);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        fresh.join("apis/orders/policy.xml").exists()
            && read(&fresh, "apis/orders/policy.xml").contains("418"),
        pushed,
        "{out}"
    );
    node.wait_served("/orders/orders/1", if pushed { 418 } else { 200 })
        .await;
}

/// `GET path` with `Host: host` from a client bound to `source`: the status, or `None` when
/// the connection was closed without an answer (refused at accept).
async fn status_from(source: Ipv4Addr, to: SocketAddr, host: &str, path: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source.into(), 0))
        .expect("bind the client's source address");
    let mut stream = socket.connect(to).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer and no close within 10 s");
    String::from_utf8_lossy(&answer)
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
}

/// `network.endpoints.git` in internal mode: the virtual network reaches the repository by its
/// host name (401 without a password; by its IP address 404, as every internal component), the
/// internet and a subnet the NSG denies are refused at accept.
#[tokio::test]
async fn the_git_endpoint_is_judged_like_the_other_components() {
    const VIP: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 4);
    const IN_VNET: Ipv4Addr = Ipv4Addr::new(127, 10, 2, 9);
    let tmp = TempDir::new().expect("tmp");
    let gateway = free_addr_on(VIP);
    let git = free_addr_on(VIP);
    let management = free_addr_on(VIP);
    let config = format!(
        r#"
service: {{ name: inside, sku: developer }}
network:
  type: internal
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ private: "{gateway}" }}
    management: {{ private: "{management}" }}
    git: {{ private: "{git}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: deny-lab-git, priority: 100, direction: inbound, access: deny, protocol: tcp, source: "127.10.9.0/24", source_ports: "*", destination: "*", destination_ports: "{}" }}
        - {{ name: allow-vnet, priority: 200, direction: inbound, access: allow, protocol: tcp, source: VirtualNetwork, source_ports: "*", destination: "*", destination_ports: "*" }}
"#,
        git.port()
    );
    let key_file = tmp.path().join("secret.key");
    std::fs::write(&key_file, format!("{:064x}\n", 0xbeef_u128)).expect("key");
    let store = format!("sqlite://{}", tmp.path().join("store.db").display());
    let file = tmp.path().join("config.yaml");
    std::fs::write(&file, config).expect("config");
    support::store_import(BIN, &file, &store, &key_file);
    // `net show` lists the endpoint with the other components'.
    let (ok, shown, err) = gatehouse(&[
        "net",
        "show",
        "--config",
        file.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&shown).expect("json");
    assert!(
        shown["listeners"]
            .as_array()
            .expect("listeners")
            .iter()
            .any(|l| l["component"] == "git"
                && l["address"] == git.to_string()
                && l["exposure"] == "private"),
        "{shown}"
    );
    let state = tmp.path().join("state");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("builder")
        .args([
            "serve",
            "--store",
            &store,
            "--secret-key-file",
            key_file.to_str().expect("utf-8"),
            "--state-dir",
            state.to_str().expect("utf-8"),
        ])
        .probe(Probe::Log("Git configuration repository listening".into()))
        .start_without_config()
        .await
        .expect("gatehouse serve starts");
    const SCM: &str = "inside.scm.azure-api.net";
    let refs = "/info/refs?service=git-upload-pack";
    assert_eq!(status_from(IN_VNET, git, SCM, refs).await, Some(401));
    assert_eq!(
        status_from(IN_VNET, git, &git.to_string(), refs).await,
        Some(404)
    );
    assert_eq!(status_from(Ipv4Addr::LOCALHOST, git, SCM, refs).await, None);
    let denied = Ipv4Addr::new(127, 10, 9, 5);
    assert_eq!(status_from(denied, git, SCM, refs).await, None);
    gw.wait_for_log("deny-lab-git", Duration::from_secs(10))
        .await
        .expect("the refusal is logged with its rule");
}
