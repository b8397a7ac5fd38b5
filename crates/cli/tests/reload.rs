//! End to end: live reload of the real `gatehouse` binary. The config file is rewritten (or
//! SIGHUP is sent) while real clients (reqwest) talk to real backends (the testkit's hyper
//! server) through the gateway: valid changes apply to the next request without a single failed
//! request, invalid ones are refused with every error logged and the running config stays.

use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY_MAIN: &str = "key-main-0123456789abcdef";
const KEY_EXTRA: &str = "key-extra-0123456789abcd";
const INVALID_KEY_MESSAGE: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";
/// Generous: the machine may be loaded.
const WAIT: Duration = Duration::from_secs(20);

/// What the config file says; `config` renders it.
#[derive(Clone, Copy)]
struct Cfg<'a> {
    listen: SocketAddr,
    /// Backend URLs by id.
    one: &'a str,
    two: &'a str,
    /// The backend id API `a` forwards to.
    a_backend: &'a str,
    /// API `b` (path `b`) forwarding to backend `two`.
    with_b: bool,
    /// Subscription `extra` (scope api/a, key KEY_EXTRA).
    with_extra: bool,
    max_connections: u32,
}

impl<'a> Cfg<'a> {
    fn new(listen: SocketAddr, one: &'a str, two: &'a str) -> Cfg<'a> {
        Cfg {
            listen,
            one,
            two,
            a_backend: "one",
            with_b: false,
            with_extra: false,
            max_connections: 10000,
        }
    }
}

fn config(c: Cfg) -> String {
    let mut y = format!(
        r#"
service: {{ name: reload-e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{listen}" }} ]
  limits: {{ max_connections: {max} }}
backends:
  one: {{ url: "{one}" }}
  two: {{ url: "{two}" }}
apis:
  - id: a
    path: a
    backend: {a_backend}
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#,
        listen = c.listen,
        max = c.max_connections,
        one = c.one,
        two = c.two,
        a_backend = c.a_backend,
    );
    if c.with_b {
        y.push_str(
            r#"  - id: b
    path: b
    backend: two
    operations: [ { id: any, method: "*", url_template: "/*" } ]
"#,
        );
    }
    y.push_str(&format!(
        "subscriptions:\n  - {{ id: main, scope: all, primary_key: \"{KEY_MAIN}\" }}\n"
    ));
    if c.with_extra {
        y.push_str(&format!(
            "  - {{ id: extra, scope: api/a, primary_key: \"{KEY_EXTRA}\" }}\n"
        ));
    }
    y
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// GET `base/path` with an optional key: (status, body as JSON or as a string).
async fn get(client: &reqwest::Client, base: &str, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut r = client.get(format!("{base}{path}"));
    if let Some(k) = key {
        r = r.header("Ocp-Apim-Subscription-Key", k);
    }
    let resp = r
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}"));
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// GET `path` with KEY_MAIN, expecting 200 from the mock backend at `backend`; returns the echo.
async fn expect_served_by(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    backend: &MockBackend,
) -> Value {
    let (status, body) = get(client, base, path, Some(KEY_MAIN)).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    assert_eq!(
        body["authority"],
        backend.addr().to_string(),
        "GET {path} should be answered by backend {}: {body}",
        backend.addr()
    );
    body
}

/// The captured lines after `mark` that are JSON objects.
fn json_since(gw: &Gatehouse, mark: usize) -> Vec<Value> {
    gw.logs_since(mark)
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// Waits for a JSON log line after `mark` that satisfies `pred`.
async fn wait_for_json(
    gw: &Gatehouse,
    mark: usize,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = json_since(gw, mark).into_iter().find(|v| pred(v)) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no log line {what} within {WAIT:?}; output:\n{}",
            gw.logs_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rewrites the config file (atomically), waits for `config reloaded` and checks the change
/// was not refused. Returns the `config reloaded` line.
async fn rewrite_and_wait(gw: &Gatehouse, yaml: &str) -> Value {
    let mark = gw.log_mark();
    gw.write_config(yaml).expect("rewrite the config");
    let line = gw
        .wait_for_log_since(mark, "config reloaded", WAIT)
        .await
        .expect("the change is reloaded");
    let line: Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(line["trigger"], "file changed", "{line}");
    let refused: Vec<String> = gw
        .logs_since(mark)
        .into_iter()
        .filter(|l| l.contains("refused"))
        .collect();
    assert!(
        refused.is_empty(),
        "a valid change was refused: {refused:#?}"
    );
    line
}

/// What the client loop saw.
#[derive(Default)]
struct LoopStats {
    ok: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl LoopStats {
    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }
}

/// Waits until the client loop has completed at least `more` further requests (proves traffic
/// is flowing across the reload just done).
async fn loop_makes_progress(stats: &LoopStats, more: u64) {
    let start = stats.ok();
    let deadline = Instant::now() + WAIT;
    while stats.ok() < start + more {
        assert!(
            Instant::now() < deadline,
            "the client loop stalled at {} requests; failures: {:#?}",
            stats.ok(),
            stats.failures.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many requests `backend` recorded under `path_prefix`.
fn count_under(backend: &MockBackend, path_prefix: &str) -> usize {
    backend
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(path_prefix))
        .count()
}

/// Waits a moment for requests that started on the previous snapshot to land, then checks that
/// over the next interval only `to` (not `from`) receives the loop's `/x` requests.
async fn loop_traffic_moved(from: &MockBackend, to: &MockBackend) {
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (from_before, to_before) = (count_under(from, "/x"), count_under(to, "/x"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (from_after, to_after) = (count_under(from, "/x"), count_under(to, "/x"));
    assert_eq!(
        from_after,
        from_before,
        "backend {} still receives API a's requests after the reload",
        from.addr()
    );
    assert!(
        to_after > to_before,
        "backend {} receives none of API a's requests after the reload ({to_before} -> {to_after})",
        to.addr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_a_client_loop_apply_without_a_failed_request() {
    let b1 = MockBackend::start().await.expect("backend 1");
    let b2 = MockBackend::start().await.expect("backend 2");
    let (u1, u2) = (b1.url(), b2.url());
    let addr = free_addr();
    let base = format!("http://{addr}");
    let mut cfg = Cfg::new(addr, &u1, &u2);
    let gw = Gatehouse::start(Path::new(BIN), &config(cfg), addr)
        .await
        .expect("gatehouse starts");
    let c = client();

    // Before: API a on backend 1, no API b, KEY_EXTRA unknown.
    let echo = expect_served_by(&c, &base, "/a/x", &b1).await;
    assert_eq!(echo["path"], "/x");
    assert_eq!(get(&c, &base, "/b/y", Some(KEY_MAIN)).await.0, 404);
    assert_eq!(get(&c, &base, "/a/x", Some(KEY_EXTRA)).await.0, 401);

    // The client loop: 4 tasks on one keep-alive client, GET /a/x with a valid key.
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(LoopStats::default());
    let loop_client = client();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (stop, stats, client, url) = (
            stop.clone(),
            stats.clone(),
            loop_client.clone(),
            format!("{base}/a/x"),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let sent = client
                    .get(&url)
                    .header("Ocp-Apim-Subscription-Key", KEY_MAIN)
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        match resp.bytes().await {
                            Ok(_) if status == 200 => Ok(()),
                            Ok(body) => Err(format!(
                                "status {status}: {}",
                                String::from_utf8_lossy(&body)
                            )),
                            Err(e) => Err(format!("status {status}, body error: {e:?}")),
                        }
                    }
                    Err(e) => Err(format!("transport error: {e:?}")),
                };
                match outcome {
                    Ok(()) => {
                        stats.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(f) => stats.failures.lock().unwrap().push(f),
                }
            }
        }));
    }
    loop_makes_progress(&stats, 20).await;

    // 1. Add API b (backend two).
    cfg.with_b = true;
    let line = rewrite_and_wait(&gw, &config(cfg)).await;
    assert_eq!(line["apis"], 2, "{line}");
    let echo = expect_served_by(&c, &base, "/b/y", &b2).await;
    assert_eq!(echo["path"], "/y");
    assert_eq!(count_under(&b2, "/y"), 1);
    expect_served_by(&c, &base, "/a/x", &b1).await;
    loop_makes_progress(&stats, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 2. Move API a to backend two.
    cfg.a_backend = "two";
    rewrite_and_wait(&gw, &config(cfg)).await;
    expect_served_by(&c, &base, "/a/x", &b2).await;
    loop_traffic_moved(&b1, &b2).await;
    loop_makes_progress(&stats, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 3. Add subscription `extra` (scope api/a): its key now opens API a, not API b.
    cfg.with_extra = true;
    let line = rewrite_and_wait(&gw, &config(cfg)).await;
    assert_eq!(line["subscriptions"], 2, "{line}");
    let (status, body) = get(&c, &base, "/a/x", Some(KEY_EXTRA)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&c, &base, "/b/y", Some(KEY_EXTRA)).await;
    assert_eq!(status, 401, "{body}");
    loop_makes_progress(&stats, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 4. Move API a back to backend one.
    cfg.a_backend = "one";
    rewrite_and_wait(&gw, &config(cfg)).await;
    expect_served_by(&c, &base, "/a/x", &b1).await;
    loop_traffic_moved(&b2, &b1).await;
    loop_makes_progress(&stats, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 5. Remove subscription `extra` and API b.
    cfg.with_extra = false;
    cfg.with_b = false;
    let line = rewrite_and_wait(&gw, &config(cfg)).await;
    assert_eq!(
        (&line["apis"], &line["subscriptions"]),
        (&1.into(), &1.into()),
        "{line}"
    );
    let (status, body) = get(&c, &base, "/a/x", Some(KEY_EXTRA)).await;
    assert_eq!(status, 401, "a removed subscription's key: {body}");
    assert_eq!(body["message"], INVALID_KEY_MESSAGE);
    let (status, body) = get(&c, &base, "/b/y", Some(KEY_MAIN)).await;
    assert_eq!(status, 404, "a removed API: {body}");
    loop_makes_progress(&stats, 20).await;

    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("client task");
    }
    let failures = stats.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during the reloads: {:#?}",
        failures.len(),
        failures.len() as u64 + stats.ok(),
        &failures[..failures.len().min(20)]
    );
    assert!(stats.ok() >= 100, "only {} requests were made", stats.ok());
    eprintln!(
        "client loop: {} requests over 5 reloads, none failed",
        stats.ok()
    );
    assert_eq!(
        gw.try_exit_status().unwrap(),
        None,
        "gatehouse is still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_change_is_refused_and_the_running_config_stays() {
    let b1 = MockBackend::start().await.expect("backend 1");
    let b2 = MockBackend::start().await.expect("backend 2");
    let (u1, u2) = (b1.url(), b2.url());
    let addr = free_addr();
    let base = format!("http://{addr}");
    let cfg = Cfg::new(addr, &u1, &u2);
    let gw = Gatehouse::start(Path::new(BIN), &config(cfg), addr)
        .await
        .expect("gatehouse starts");
    let c = client();

    // What is served before (and must be served the same after each refused change).
    let check_unchanged = async || {
        let echo = expect_served_by(&c, &base, "/a/orders/7", &b1).await;
        assert_eq!(echo["path"], "/orders/7");
        expect_served_by(&c, &base, "/a/x", &b1).await;
        let (status, body) = get(&c, &base, "/a/x", Some(KEY_EXTRA)).await;
        assert_eq!(status, 401, "{body}");
        let (status, _) = get(&c, &base, "/a/x", None).await;
        assert_eq!(status, 401);
        assert_eq!(b2.request_count(), 0, "nothing may reach backend two");
    };
    check_unchanged().await;

    // Semantically invalid: API a moves to backend two, but its operation's template is
    // broken and a new subscription names a product that does not exist.
    let invalid = format!(
        r#"
service: {{ name: reload-e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
backends:
  one: {{ url: "{u1}" }}
  two: {{ url: "{u2}" }}
apis:
  - id: a
    path: a
    backend: two
    operations: [ {{ id: get-order, method: GET, url_template: "/orders/{{id" }} ]
subscriptions:
  - {{ id: main, scope: all, primary_key: "{KEY_MAIN}" }}
  - {{ id: extra, scope: product/missing, primary_key: "{KEY_EXTRA}" }}
"#
    );
    let mark = gw.log_mark();
    gw.write_config(&invalid).expect("write the invalid config");
    let refused = gw
        .wait_for_log_since(mark, "config change refused", WAIT)
        .await
        .expect("the change is refused");
    assert!(refused.contains("the running config stays"), "{refused}");
    let issues: Vec<(String, String)> = json_since(&gw, mark)
        .iter()
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("config refused: "))
        })
        .map(|v| {
            (
                v["path"].as_str().unwrap_or_default().to_string(),
                v["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (path, message) in [
        (
            "apis[0].operations[0].url_template",
            "config refused: unbalanced '{'",
        ),
        (
            "subscriptions[1].scope",
            "config refused: no product with id 'missing'",
        ),
    ] {
        assert!(
            issues.iter().any(|(p, m)| p == path && m == message),
            "no error line for {path} ({message}) in {issues:#?}"
        );
    }
    assert!(
        !gw.logs_since(mark)
            .iter()
            .any(|l| l.contains("config reloaded")),
        "an invalid config was reloaded"
    );
    check_unchanged().await;

    // A YAML syntax error is refused the same way.
    let mark = gw.log_mark();
    gw.write_config("service: { name: reload-e2e }\napis: [ { id: a, path: a\nsubscriptions: []\n")
        .expect("write the broken YAML");
    gw.wait_for_log_since(mark, "config change refused", WAIT)
        .await
        .expect("the broken YAML is refused");
    let syntax = json_since(&gw, mark)
        .into_iter()
        .find(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("config refused: "))
        })
        .expect("the syntax error is logged");
    // "config refused: LINE:COLUMN: what is wrong"
    let location = syntax["message"]
        .as_str()
        .unwrap()
        .trim_start_matches("config refused: ")
        .split(':')
        .take(2)
        .map(|n| n.trim().parse::<usize>().ok())
        .collect::<Vec<_>>();
    assert!(
        matches!(location[..], [Some(line), Some(_)] if (2..=4).contains(&line)),
        "the syntax error names its line and column: {syntax}"
    );
    assert!(
        !gw.logs_since(mark)
            .iter()
            .any(|l| l.contains("config reloaded")),
        "broken YAML was reloaded"
    );
    check_unchanged().await;
    assert!(
        !gw.logs_text().contains(KEY_MAIN) && !gw.logs_text().contains(KEY_EXTRA),
        "a subscription key reached the log"
    );

    // Fixing the file applies it.
    let fixed = Cfg {
        a_backend: "two",
        with_extra: true,
        ..cfg
    };
    rewrite_and_wait(&gw, &config(fixed)).await;
    let echo = expect_served_by(&c, &base, "/a/orders/7", &b2).await;
    assert_eq!(echo["path"], "/orders/7");
    let (status, body) = get(&c, &base, "/a/x", Some(KEY_EXTRA)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_change_the_file_watcher_misses() {
    let b1 = MockBackend::start().await.expect("backend 1");
    let b2 = MockBackend::start().await.expect("backend 2");
    let (u1, u2) = (b1.url(), b2.url());
    let addr = free_addr();
    let base = format!("http://{addr}");
    let cfg = Cfg::new(addr, &u1, &u2);

    // The layout of a Kubernetes ConfigMap volume: gatehouse.yaml -> ..data/gatehouse.yaml,
    // ..data -> v1 (a directory). An update writes v2/ and atomically renames a new `..data`
    // symlink over the old one: the only directory event names `..data`, never gatehouse.yaml,
    // and the old file is not touched, so a watcher of gatehouse.yaml misses it. SIGHUP is how
    // such a change gets applied.
    let builder = Gatehouse::builder(Path::new(BIN))
        .expect("builder")
        .probe(Probe::Http(addr));
    let dir = builder.dir().to_path_buf();
    std::fs::create_dir(dir.join("v1")).expect("mkdir v1");
    std::os::unix::fs::symlink("v1", dir.join("..data")).expect("symlink ..data");
    std::os::unix::fs::symlink("..data/gatehouse.yaml", dir.join("gatehouse.yaml"))
        .expect("symlink gatehouse.yaml");
    // The fixture writes the config through the symlinks: it lands in v1/gatehouse.yaml.
    let gw = builder.start(&config(cfg)).await.expect("gatehouse starts");
    assert!(
        dir.join("v1/gatehouse.yaml").is_file(),
        "written through the symlinks"
    );
    let c = client();
    expect_served_by(&c, &base, "/a/x", &b1).await;

    // SIGHUP with an unchanged file: reloaded, trigger SIGHUP, nothing changes.
    let mark = gw.log_mark();
    gw.sighup().expect("SIGHUP");
    wait_for_json(&gw, mark, "`config reloaded` with trigger SIGHUP", |v| {
        v["message"] == "config reloaded" && v["trigger"] == "SIGHUP"
    })
    .await;
    expect_served_by(&c, &base, "/a/x", &b1).await;

    // The ConfigMap update: API a moves to backend two, subscription `extra` is added.
    let changed = Cfg {
        a_backend: "two",
        with_extra: true,
        ..cfg
    };
    let mark = gw.log_mark();
    std::fs::create_dir(dir.join("v2")).expect("mkdir v2");
    std::fs::write(dir.join("v2/gatehouse.yaml"), config(changed)).expect("write v2");
    std::os::unix::fs::symlink("v2", dir.join("..data_tmp")).expect("symlink ..data_tmp");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap ..data");
    assert_eq!(
        std::fs::read_to_string(gw.config_path()).unwrap(),
        config(changed),
        "gatehouse.yaml now reads as the new config"
    );
    // Today the watcher misses this swap (it only reacts to events naming gatehouse.yaml), so
    // the old config is still served until SIGHUP. Should the watcher learn to follow the
    // symlinks, the change applies on its own: fine too, SIGHUP must still reload.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let watcher_saw_it = gw
        .logs_since(mark)
        .iter()
        .any(|l| l.contains("config reloaded"));
    if watcher_saw_it {
        eprintln!("note: the file watcher applied the ConfigMap-style swap by itself");
    } else {
        expect_served_by(&c, &base, "/a/x", &b1).await;
    }

    gw.sighup().expect("SIGHUP");
    let line = wait_for_json(&gw, mark, "`config reloaded` with trigger SIGHUP", |v| {
        v["message"] == "config reloaded" && v["trigger"] == "SIGHUP"
    })
    .await;
    assert_eq!(line["subscriptions"], 2, "{line}");
    let echo = expect_served_by(&c, &base, "/a/x", &b2).await;
    assert_eq!(echo["path"], "/x");
    let (status, body) = get(&c, &base, "/a/x", Some(KEY_EXTRA)).await;
    assert_eq!(status, 200, "the new subscription's key: {body}");
    assert!(
        !gw.logs_since(mark).iter().any(|l| l.contains("refused")),
        "{}",
        gw.logs_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_listener_is_applied_live_and_the_old_one_stops_accepting() {
    let b1 = MockBackend::start().await.expect("backend 1");
    let b2 = MockBackend::start().await.expect("backend 2");
    let (u1, u2) = (b1.url(), b2.url());
    let addr = free_addr();
    let base = format!("http://{addr}");
    let cfg = Cfg::new(addr, &u1, &u2);
    let gw = Gatehouse::start(Path::new(BIN), &config(cfg), addr)
        .await
        .expect("gatehouse starts");
    let c = client();
    expect_served_by(&c, &base, "/a/x", &b1).await;

    // A new listener address (applied live), max_connections (start-only) and API b.
    let moved = Cfg {
        listen: free_addr(),
        max_connections: 500,
        with_b: true,
        ..cfg
    };
    let mark = gw.log_mark();
    gw.write_config(&config(moved)).expect("rewrite");
    gw.wait_for_log_since(mark, "config reloaded", WAIT)
        .await
        .expect("reloaded");
    let logs = json_since(&gw, mark);
    let restart: Vec<&str> = logs
        .iter()
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("applies only after a restart"))
        })
        .filter_map(|v| v["setting"].as_str())
        .collect();
    assert_eq!(
        restart,
        ["gateway.limits.max_connections"],
        "{}",
        gw.logs_text()
    );
    let new_addr = moved.listen.to_string();
    assert!(
        logs.iter()
            .any(|v| v["message"] == "listening (added by reload)"
                && v["listener"] == new_addr.as_str()),
        "{}",
        gw.logs_text()
    );
    assert!(
        logs.iter().any(|v| v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("stopped listening"))
            && v["listener"] == addr.to_string().as_str()),
        "{}",
        gw.logs_text()
    );

    // The new listener serves the new config; the old address takes no new connection.
    let new_base = format!("http://{}", moved.listen);
    let fresh = client();
    expect_served_by(&fresh, &new_base, "/a/x", &b1).await;
    let echo = expect_served_by(&fresh, &new_base, "/b/y", &b2).await;
    assert_eq!(echo["path"], "/y");
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(
        refused.is_err(),
        "the removed listener still accepts connections"
    );
    assert!(gw.try_exit_status().unwrap().is_none());
}

/// A start-only setting (max_connections) is compared with the running value, not with the
/// previous file: an unrelated reload that keeps the unapplied value still warns, and going back
/// to the running value warns no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restart_warning_compares_with_the_running_value() {
    let b1 = MockBackend::start().await.expect("backend 1");
    let (u1, u2) = (b1.url(), b1.url());
    let addr = free_addr();
    let cfg = Cfg::new(addr, &u1, &u2);
    let gw = Gatehouse::start(Path::new(BIN), &config(cfg), addr)
        .await
        .expect("gatehouse starts");
    let restart_settings = |mark: usize| -> Vec<String> {
        json_since(&gw, mark)
            .iter()
            .filter(|v| {
                v["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("applies only after a restart"))
            })
            .map(|v| v["setting"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let raised = Cfg {
        max_connections: cfg.max_connections + 7,
        ..cfg
    };
    let mark = gw.log_mark();
    rewrite_and_wait(&gw, &config(raised)).await;
    assert_eq!(restart_settings(mark), ["gateway.limits.max_connections"]);

    let mark = gw.log_mark();
    rewrite_and_wait(
        &gw,
        &config(Cfg {
            with_b: true,
            ..raised
        }),
    )
    .await;
    assert_eq!(
        restart_settings(mark),
        ["gateway.limits.max_connections"],
        "the unapplied value is still unapplied"
    );

    let mark = gw.log_mark();
    rewrite_and_wait(&gw, &config(cfg)).await;
    assert!(
        restart_settings(mark).is_empty(),
        "back to the running value: nothing to restart"
    );
}
