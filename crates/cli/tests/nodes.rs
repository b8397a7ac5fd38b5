//! End to end: gateway nodes on one real PostgreSQL store, with the real binary. A node saves
//! what it applies to its state directory; PostgreSQL stopped, a running node keeps serving and
//! says so (log, metric), and a node started meanwhile serves its saved configuration; PostgreSQL
//! back, a write through the management API reaches both.

mod support;

use gatehouse_testkit::postgres::Postgres;
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr_on};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const V: &str = "api-version=2022-08-01";
/// Slack for a loaded machine (the issue's bound, 1 s, is measured in bench/).
const WITHIN: Duration = Duration::from_secs(15);

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run gatehouse");
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Cluster {
    store: String,
    key: PathBuf,
    backend: MockBackend,
    http: reqwest::Client,
}

/// A running node: its process, gateway, management and metrics addresses.
struct Node {
    gw: Gatehouse,
    gateway: SocketAddr,
    management: SocketAddr,
    metrics: SocketAddr,
}

impl Cluster {
    /// `gatehouse serve --store` with its own state directory and addresses; `ready` waits for
    /// the gateway to answer.
    async fn start(&self, state: &Path, extra: &[&str]) -> Node {
        self.start_on(state, extra, None).await
    }

    /// `configured`: the gateway listens where the config's network endpoints say (no
    /// `--listen`), and readiness is the "gatehouse started" line (its NSG may refuse
    /// 127.0.0.1).
    async fn start_on(&self, state: &Path, extra: &[&str], configured: Option<SocketAddr>) -> Node {
        let gateway = configured.unwrap_or_else(|| free_addr_on(Ipv4Addr::LOCALHOST));
        let management = free_addr_on(Ipv4Addr::LOCALHOST);
        let metrics = free_addr_on(Ipv4Addr::LOCALHOST);
        let mut args = vec![
            "serve".to_string(),
            "--store".into(),
            self.store.clone(),
            "--secret-key-file".into(),
            self.key.display().to_string(),
            "--state-dir".into(),
            state.display().to_string(),
            "--management-listen".into(),
            management.to_string(),
            "--metrics-listen".into(),
            metrics.to_string(),
        ];
        if configured.is_none() {
            args.extend(["--listen".to_string(), gateway.to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let probe = match configured {
            None => Probe::Http(gateway),
            Some(_) => Probe::Log("gatehouse started".into()),
        };
        let gw = Gatehouse::builder(Path::new(BIN))
            .expect("builder")
            .args(args)
            .probe(probe)
            .start_without_config()
            .await
            .expect("gatehouse serve --store starts");
        Node {
            gw,
            gateway,
            management,
            metrics,
        }
    }

    async fn status(&self, node: &Node, path: &str) -> u16 {
        self.http
            .get(format!("http://{}{path}", node.gateway))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// Waits until `path` answers `want` through `node`'s gateway.
    async fn wait_served(&self, node: &Node, path: &str, want: u16) -> Duration {
        let status = || self.status(node, path);
        let logs = || node.gw.logs_text();
        support::wait_for_status(path, want, WITHIN, status, logs).await
    }

    async fn metric(&self, node: &Node, name: &str) -> Option<f64> {
        let text = self
            .http
            .get(format!("http://{}/metrics", node.metrics))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    async fn wait_metric(&self, node: &Node, name: &str, want: f64) {
        let start = Instant::now();
        while self.metric(node, name).await != Some(want) {
            assert!(
                start.elapsed() < WITHIN,
                "{name} is {:?}, not {want}:\n{}",
                self.metric(node, name).await,
                node.gw.logs_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn management(
        &self,
        node: &Node,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = run(&[
            "admin",
            "token",
            "--store",
            &self.store,
            "--secret-key-file",
            self.key.to_str().expect("utf-8"),
            "--ttl",
            "1h",
        ]);
        let req = self
            .http
            .request(method, format!("http://{}/{path}?{V}", node.management))
            .header("Authorization", token);
        support::send_json(req, body).await
    }

    /// GETs `path` from `node`'s management API every 200 ms until `done` holds for the answer.
    async fn wait_management(&self, node: &Node, path: &str, done: impl Fn(&Value) -> bool) {
        let start = Instant::now();
        loop {
            let (s, answer) = self
                .management(node, reqwest::Method::GET, path, None)
                .await;
            assert_eq!(s, StatusCode::OK, "{answer}");
            if done(&answer) {
                return;
            }
            assert!(start.elapsed() < WITHIN, "{answer}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The node registry's rows (`GET gatehouse/nodes`): name, location, state, applied revision.
fn nodes(list: &Value) -> Vec<(String, String, String, u64)> {
    list["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                n["name"].as_str().unwrap_or("").to_string(),
                n["location"].as_str().unwrap_or("").to_string(),
                n["state"].as_str().unwrap_or("").to_string(),
                n["appliedRevision"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn initial_config(backend: &str) -> String {
    format!(
        r#"
service: {{ name: contoso, location: westeurope }}
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
apis:
  - id: a
    path: a
    backend: "{backend}"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#
    )
}

/// A cluster on a fresh database: `config(backend URL)` imported, a key of the test's own.
fn cluster(
    pg: &Postgres,
    db: &str,
    dir: &Path,
    backend: MockBackend,
    config: impl Fn(&str) -> String,
) -> Cluster {
    let store = pg.create_db(db).expect("create database");
    let key = dir.join("secret.key");
    std::fs::write(
        &key,
        format!("{:064x}\n", 0x5eed_u128 * 0x9e37_79b9_7f4a_7c15),
    )
    .expect("key");
    let file = dir.join("initial.yaml");
    std::fs::write(&file, config(&backend.url())).expect("config");
    support::store_import(BIN, &file, &store, &key);
    Cluster {
        store,
        key,
        backend,
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client"),
    }
}

#[tokio::test]
async fn nodes_survive_the_store_going_away_and_catch_up() {
    let Some(pg) = Postgres::start_or_skip("nodes_survive_the_store_going_away") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = MockBackend::start().await.expect("backend");
    let c = cluster(&pg, "nodes_e2e", dir.path(), backend, initial_config);
    let (state1, state2) = (dir.path().join("state1"), dir.path().join("state2"));

    let one = c.start(&state1, &["--node-name", "node-one"]).await;
    c.wait_served(&one, "/a/x", 200).await;
    assert!(state1.join("applied.json").is_file());
    c.wait_metric(&one, "gatehouse_store_reachable", 1.0).await;
    c.wait_metric(&one, "gatehouse_config_from_saved_state", 0.0)
        .await;
    // The second node runs once, so that its state directory holds a saved configuration.
    {
        let two = c.start(&state2, &["--node-name", "node-two"]).await;
        c.wait_served(&two, "/a/x", 200).await;
        assert!(state2.join("applied.json").is_file());
    }
    let saved = std::fs::read_to_string(state2.join("applied.json")).expect("saved");
    assert!(
        !saved.contains("contoso"),
        "the saved configuration is sealed"
    );

    // The store goes away: the running node keeps serving and says so once.
    pg.pause().expect("stop PostgreSQL");
    let mark = one.gw.log_mark();
    one.gw
        .wait_for_log_since(mark, "store unreachable", WITHIN)
        .await
        .expect("the node logs that the store is unreachable");
    c.wait_metric(&one, "gatehouse_store_reachable", 0.0).await;
    assert_eq!(c.status(&one, "/a/x").await, 200, "{}", one.gw.logs_text());

    // A node started now serves its saved configuration.
    let two = c.start(&state2, &["--node-name", "node-two"]).await;
    c.wait_served(&two, "/a/x", 200).await;
    let text = two.gw.logs_text();
    assert!(
        text.contains("store unreachable: serving the saved configuration of revision 1 from"),
        "{text}"
    );
    c.wait_metric(&two, "gatehouse_config_from_saved_state", 1.0)
        .await;
    // The store returns: both catch up, and a write reaches both.
    pg.resume().expect("start PostgreSQL");
    c.wait_metric(&one, "gatehouse_store_reachable", 1.0).await;
    one.gw
        .wait_for_log_since(mark, "store reachable again", WITHIN)
        .await
        .expect("the node logs that the store is back");
    // Over the whole outage, the node said it once.
    let said = one
        .gw
        .logs_since(mark)
        .iter()
        .filter(|l| l.contains("store unreachable"))
        .count();
    assert_eq!(said, 1, "said once: {}", one.gw.logs_text());
    c.wait_metric(&two, "gatehouse_store_reachable", 1.0).await;
    c.wait_metric(&two, "gatehouse_config_from_saved_state", 0.0)
        .await;
    let (s, body) = c
        .management(
            &one,
            reqwest::Method::PUT,
            "apis/b",
            Some(
                json!({"properties": {"path": "b", "serviceUrl": c.backend.url(), "subscriptionRequired": false}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = c
        .management(
            &one,
            reqwest::Method::PUT,
            "apis/b/operations/any",
            Some(
                json!({"properties": {"displayName": "Any", "method": "GET", "urlTemplate": "/*"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    for node in [&one, &two] {
        let took = c.wait_served(node, "/b/y", 200).await;
        eprintln!("served by {} {took:?} after the write", node.gateway);
    }
    // The second node's state directory now holds the newest revision.
    let newest = c
        .management(&two, reqwest::Method::GET, "apis/b", None)
        .await;
    assert_eq!(newest.0, StatusCode::OK, "{}", newest.1);

    // Both nodes are in the registry, online, at the newest revision, in the main location.
    c.wait_management(&two, "gatehouse/nodes", |list| {
        let rows = nodes(list);
        let want = |name: &str| {
            rows.iter()
                .any(|r| r.0 == name && r.1 == "westeurope" && r.2 == "online" && r.3 >= 3)
        };
        want("node-one") && want("node-two")
    })
    .await;
    let (s, ns) = c
        .management(&one, reqwest::Method::GET, "networkstatus", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{ns}");
    assert_eq!(ns[0]["location"], "westeurope", "{ns}");
}

/// One plain HTTP GET from source address `src`: the status, or `None` when the gateway closed
/// the connection without an answer (a refusal).
async fn get_from(src: Ipv4Addr, dst: SocketAddr, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(src.into(), 0))
        .expect("bind the source address");
    let mut stream = socket.connect(dst).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut bytes)).await;
    assert!(read.is_ok(), "the gateway neither answered nor closed");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

#[tokio::test]
async fn a_node_in_an_additional_location_applies_that_locations_network() {
    let Some(pg) = Postgres::start_or_skip("a_node_in_an_additional_location") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = MockBackend::start().await.expect("backend");
    let north = free_addr_on(Ipv4Addr::LOCALHOST);
    // The main location: no virtual network. northeurope: an external virtual network whose
    // NSG admits the virtual network (Azure's default rules) and denies everything else.
    let config = move |backend: &str| {
        format!(
            r#"
service:
  name: contoso
  sku: premium
  location: westeurope
  additional_locations:
    - location: northeurope
      network:
        type: external
        virtual_network:
          address_space: [127.10.0.0/16]
          subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: north-nsg }}
        load_balancer: [127.40.0.1/32]
        endpoints:
          gateway: {{ public: "{north}" }}
        network_security_groups:
          north-nsg: {{ security_rules: [] }}
        outbound: {{ allowed_destinations: [127.0.0.0/8] }}
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
apis:
  - id: a
    path: a
    backend: "{backend}"
    subscription_required: false
    policies: |
      <policies>
        <inbound><base /></inbound>
        <backend><base /></backend>
        <outbound><base /><set-header name="X-Region" exists-action="override"><value>@(context.Deployment.Region)</value></set-header></outbound>
        <on-error><base /></on-error>
      </policies>
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#
        )
    };
    let c = cluster(&pg, "locations_e2e", dir.path(), backend, config);
    let west = c
        .start(&dir.path().join("west"), &["--node-name", "west-1"])
        .await;
    let ne = c
        .start_on(
            &dir.path().join("north"),
            &["--node-name", "north-1", "--location", "northeurope"],
            Some(north),
        )
        .await;

    // The main location serves 127.0.0.1; northeurope's NSG refuses it (DenyAllInBound) and
    // admits a host of its virtual network.
    let (status, text) = get_from(Ipv4Addr::LOCALHOST, west.gateway, "/a/x")
        .await
        .expect("the main location answers");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("x-region: westeurope"),
        "{text}"
    );
    assert!(
        get_from(Ipv4Addr::LOCALHOST, north, "/a/x").await.is_none(),
        "northeurope's NSG refuses the internet:\n{}",
        ne.gw.logs_text()
    );
    let (status, text) = get_from(Ipv4Addr::new(127, 10, 1, 20), north, "/a/x")
        .await
        .expect("northeurope admits its virtual network");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("x-region: northeurope"),
        "{text}"
    );

    // The registry and networkstatus know both locations.
    c.wait_management(&west, "networkstatus", |ns| {
        let locations: Vec<&str> = ns
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["location"].as_str())
            .collect();
        locations == ["northeurope", "westeurope"]
    })
    .await;
    let (s, one) = c
        .management(
            &west,
            reqwest::Method::GET,
            "locations/northeurope/networkstatus",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert!(one["connectivityStatus"].is_array(), "{one}");
    // (northeurope's NSG also guards its node's management API: asked from the main location.)
    let (s, list) = c
        .management(&west, reqwest::Method::GET, "gatehouse/nodes", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let rows = nodes(&list);
    let pairs: Vec<(&str, &str)> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        pairs,
        [("north-1", "northeurope"), ("west-1", "westeurope")],
        "{list}"
    );

    // An unknown location is refused at start, naming the known ones.
    let out = Command::new(BIN)
        .args([
            "serve",
            "--store",
            &c.store,
            "--secret-key-file",
            c.key.to_str().expect("utf-8"),
            "--state-dir",
            dir.path().join("mars").to_str().expect("utf-8"),
            "--location",
            "mars",
        ])
        .env("GATEHOUSE_DATA_DIR", dir.path().join("data"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no location 'mars'") && err.contains("westeurope, northeurope"),
        "{err}"
    );
}
