//! End to end: thread-per-core. `--workers N` serves every listener from N worker threads, each
//! with its own SO_REUSEPORT socket; with no flag the count is the cores the process may run on
//! (`taskset` narrows it); listeners added and removed by a reload are served by every worker.

use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY: &str = "workers-key-0123456789";
const WAIT: Duration = Duration::from_secs(20);

fn config(listeners: &[SocketAddr], backend: &str) -> String {
    let listeners: Vec<String> = listeners
        .iter()
        .map(|l| format!("{{ address: \"{l}\" }}"))
        .collect();
    format!(
        r#"
service: {{ name: workers }}
gateway:
  listeners: [ {} ]
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
apis:
  - {{ id: a, path: a, backend: "{backend}", operations: [ {{ id: any, method: "*", url_template: "/*" }} ] }}
subscriptions:
  - {{ id: s, scope: all, primary_key: "{KEY}" }}
"#,
        listeners.join(", ")
    )
}

/// `n` requests, each on a new connection, through `addr`: all must answer 200.
async fn all_served(addr: SocketAddr, n: usize) {
    for i in 0..n {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let status = client
            .get(format!("http://{addr}/a/{i}"))
            .header("Ocp-Apim-Subscription-Key", KEY)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 200, "request {i} through {addr}");
    }
}

/// The names of the process's threads.
fn thread_names(pid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("/proc")
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn workers_serve_every_listener_through_reloads() {
    let backend = MockBackend::start().await.expect("backend");
    let one = free_addr();
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args(["serve", "--workers", "3"])
        .probe(Probe::Http(one))
        .start(&config(&[one], &backend.url()))
        .await
        .expect("gatehouse starts");
    gw.wait_for_log("\"workers\":3", WAIT)
        .await
        .expect("three workers");
    let workers = thread_names(gw.pid())
        .into_iter()
        .filter(|n| n.starts_with("gatehouse-worke"))
        .count();
    assert_eq!(workers, 3, "{:?}", thread_names(gw.pid()));
    all_served(one, 30).await;

    // A reload adds a listener (every worker opens its socket) and removes the first.
    let two = free_addr();
    gw.write_config(&config(&[two], &backend.url()))
        .expect("rewrite");
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(two).await.is_err()
        || tokio::net::TcpStream::connect(one).await.is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the reload did not move the listener\n{}",
            gw.logs_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    all_served(two, 30).await;
}

#[tokio::test]
async fn the_default_is_the_cores_the_process_may_run_on() {
    let backend = MockBackend::start().await.expect("backend");
    let dir = gatehouse_testkit::TempDir::new().expect("dir");
    let listen = free_addr();
    let file = dir.path().join("gatehouse.yaml");
    std::fs::write(&file, config(&[listen], &backend.url())).expect("config");
    // Pinned to one core: one worker, served on the process's own thread.
    let mut child = Command::new("taskset")
        .args(["-c", "0", BIN, "serve", "--config"])
        .arg(&file)
        .env("GATEHOUSE_DATA_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("taskset (util-linux) runs gatehouse");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("gatehouse started") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let started = rx.recv_timeout(WAIT);
    let pid = child.id();
    let names = thread_names(pid);
    let _ = child.kill();
    let _ = child.wait();
    let started = started.expect("gatehouse started");
    assert!(started.contains("\"workers\":1"), "{started}");
    assert!(
        !names.iter().any(|n| n.starts_with("gatehouse-worke")),
        "{names:?}"
    );
}
