//! End to end: three real `gatehouse serve` processes on one real PostgreSQL and one real Redis
//! (issue 12). A write through one node's management API is served by all three; a 100-call
//! limit lets exactly 100 of 300 concurrent requests spread over the nodes pass; Redis stopped
//! mid-run fails no request, limits fall back to per-node counting, and shared counting returns
//! by itself after Redis restarts. (PostgreSQL going away: crates/cli/tests/nodes.rs.)

use gatehouse_testkit::postgres::Postgres;
use gatehouse_testkit::redis::RedisServer;
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, TempDir, free_addr_on};
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const V: &str = "api-version=2022-08-01";
/// Slack for a loaded CI machine: the issue's bound (1 s) is measured and printed here, and
/// its p50/p99 come from `python3 bench/cluster.py`.
const WITHIN: Duration = Duration::from_secs(10);

fn config(backend: &str) -> String {
    // Two limited APIs whose counter key comes from a header, so each phase of the test counts
    // on a key of its own.
    let limited = |id: &str, calls: u32| {
        format!(
            r#"  - id: {id}
    path: {id}
    backend: "{backend}"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
      <policies><inbound><base/><rate-limit-by-key calls="{calls}" renewal-period="300" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;X-Phase&quot;, &quot;none&quot;))" /></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>
"#
        )
    };
    format!(
        r#"service: {{ name: cluster }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
apis:
  - id: open
    path: open
    backend: "{backend}"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
{}{}"#,
        limited("lim100", 100),
        limited("lim10", 10)
    )
}

struct Node {
    gw: Gatehouse,
    gateway: SocketAddr,
    management: SocketAddr,
}

async fn start_node(store: &str, key: &Path, redis: &str, name: &str, state: &Path) -> Node {
    let gateway = free_addr_on(Ipv4Addr::LOCALHOST);
    let management = free_addr_on(Ipv4Addr::LOCALHOST);
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args([
            "serve",
            "--store",
            store,
            "--secret-key-file",
            key.to_str().expect("utf-8"),
            "--counters",
            redis,
            "--node-name",
            name,
            "--state-dir",
            state.to_str().expect("utf-8"),
            "--listen",
            &gateway.to_string(),
            "--management-listen",
            &management.to_string(),
        ])
        .probe(Probe::Http(gateway))
        .start_without_config()
        .await
        .expect("node starts");
    Node {
        gw,
        gateway,
        management,
    }
}

/// GET `path` on `node` with header X-Phase: the status code (0 when no answer came).
async fn get(http: &reqwest::Client, node: &Node, path: &str, phase: &str) -> u16 {
    http.get(format!("http://{}{path}", node.gateway))
        .header("X-Phase", phase)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// `total` concurrent requests to `path`, spread evenly over the nodes: (passed, limited, other).
async fn burst(
    http: &reqwest::Client,
    nodes: &[Node],
    path: &str,
    phase: &str,
    total: usize,
) -> (usize, usize, usize) {
    let calls = (0..total).map(|i| get(http, &nodes[i % nodes.len()], path, phase));
    let codes = futures_util::future::join_all(calls).await;
    let passed = codes.iter().filter(|c| **c == 200).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    (passed, limited, total - passed - limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_configuration_and_limits_and_survive_redis_going_away() {
    let Some(pg) = Postgres::start_or_skip("three_nodes_share_configuration") else {
        return;
    };
    let Some(mut redis) = RedisServer::start_or_skip("three_nodes_share_configuration") else {
        return;
    };
    let backend = MockBackend::start().await.expect("backend");
    let dir = TempDir::new().expect("temp dir");
    let key = dir.path().join("secret.key");
    std::fs::write(&key, format!("{:064x}\n", 0x5eed_u128 << 64 | 0xc0ffee)).expect("key");
    let store = pg.create_db("cluster_e2e").expect("database");
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, config(&backend.url())).expect("config");
    let out = Command::new(BIN)
        .args([
            "store",
            "import",
            file.to_str().expect("utf-8"),
            "--store",
            &store,
        ])
        .args(["--secret-key-file", key.to_str().expect("utf-8")])
        .output()
        .expect("import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut nodes = Vec::new();
    for i in 0..3 {
        let state = dir.path().join(format!("state-{i}"));
        nodes.push(start_node(&store, &key, &redis.url(), &format!("node-{i}"), &state).await);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");

    // 1. A write through node 0's management API is served by all three.
    let out = Command::new(BIN)
        .args(["admin", "token", "--store", &store])
        .args(["--secret-key-file", key.to_str().expect("utf-8")])
        .output()
        .expect("token");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let policy = r#"<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/><set-header name="X-Rev" exists-action="override"><value>one</value></set-header></outbound><on-error><base/></on-error></policies>"#;
    let start = Instant::now();
    let resp = http
        .put(format!(
            "http://{}/apis/open/policies/policy?{V}",
            nodes[0].management
        ))
        .header("Authorization", &token)
        .header("content-type", "application/json")
        .body(json!({"properties": {"format": "xml", "value": policy}}).to_string())
        .send()
        .await
        .expect("PUT");
    assert!(resp.status().is_success(), "{}", resp.status());
    let mut served_after = Vec::new();
    for node in &nodes {
        loop {
            let rev = http
                .get(format!("http://{}/open/x", node.gateway))
                .send()
                .await
                .ok()
                .and_then(|r| r.headers().get("x-rev").map(|v| v.as_bytes().to_vec()));
            if rev.as_deref() == Some(b"one") {
                served_after.push(start.elapsed());
                break;
            }
            assert!(
                start.elapsed() < WITHIN,
                "not served:\n{}",
                node.gw.logs_text()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    eprintln!("the write was served by the three nodes after {served_after:?}");

    // 2. A 100-call limit: exactly 100 of 300 concurrent requests over three nodes pass.
    let (passed, limited, other) = burst(&http, &nodes, "/lim100/x", "shared", 300).await;
    assert_eq!(
        (passed, limited, other),
        (100, 200, 0),
        "exact across nodes"
    );

    // 3. Redis stops while requests run: none fails; the limits count per node.
    let running = {
        let http = http.clone();
        let gateways: Vec<SocketAddr> = nodes.iter().map(|n| n.gateway).collect();
        tokio::spawn(async move {
            let mut codes = Vec::new();
            for i in 0..400 {
                let gw = gateways[i % gateways.len()];
                let code = http
                    .get(format!("http://{gw}/open/during"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                codes.push(code);
            }
            codes
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    redis.stop();
    let codes = running.await.expect("load");
    assert!(
        codes.iter().all(|c| *c == 200),
        "no request fails while Redis goes away: {:?}",
        codes.iter().filter(|c| **c != 200).collect::<Vec<_>>()
    );
    // Make every node notice (a limited call each), then count: 10 per node.
    for node in &nodes {
        get(&http, node, "/lim10/x", "probe-down").await;
        node.gw
            .wait_for_log("redis is unreachable", WITHIN)
            .await
            .expect("each node says so");
    }
    let (passed, _, other) = burst(&http, &nodes, "/lim10/x", "while-down", 60).await;
    assert_eq!((passed, other), (30, 0), "per node while Redis is down");

    // 4. Redis returns: shared counting again, by itself.
    redis.restart().expect("redis restarts");
    for node in &nodes {
        node.gw
            .wait_for_log("shared counters back", WITHIN)
            .await
            .expect("each node goes back to Redis within 5 s");
    }
    let (passed, limited, other) = burst(&http, &nodes, "/lim10/x", "after", 60).await;
    assert_eq!((passed, limited, other), (10, 50, 0), "shared again");
}
