//! The Gatehouse fixture, driven with a stand-in for the real binary: `sh -c SCRIPT`, which
//! receives `--config PATH` as its arguments like `gatehouse serve` would.

use std::path::Path;
use std::time::Duration;

use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr, free_port};

const FAKE: &str = r#"
echo "fake gatehouse args: $*"
echo '{"level":"INFO","message":"listening","port":8443}'
echo "to stderr" >&2
trap 'echo "got HUP: $(cat "$2")"' HUP
trap 'echo "got TERM"; exit 3' TERM
while true; do sleep 0.05; done
"#;

fn sh() -> &'static Path {
    Path::new("/bin/sh")
}

#[tokio::test]
async fn runs_captures_output_signals_and_cleans_up() {
    let builder = Gatehouse::builder(sh())
        .unwrap()
        .args(["-c", FAKE, "fake-gatehouse"])
        .probe(Probe::Log("listening".into()))
        .env("FAKE_VAR", "1");
    std::fs::write(builder.dir().join("extra.pem"), "x").unwrap();
    let gh = builder.start("service: { name: one }\n").await.unwrap();

    let dir = gh.dir().to_owned();
    assert!(dir.join("extra.pem").exists());
    assert_eq!(gh.config_path(), dir.join("gatehouse.yaml"));
    assert_eq!(
        std::fs::read_to_string(gh.config_path()).unwrap(),
        "service: { name: one }\n"
    );
    let line = gh
        .wait_for_log("fake gatehouse args", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        line.ends_with(&format!("--config {}", gh.config_path().display())),
        "{line}"
    );
    gh.wait_for_log("to stderr", Duration::from_secs(5))
        .await
        .unwrap();
    let json = gh.json_logs();
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["port"], 8443);
    assert!(gh.pid() > 0);

    // Reload: atomic rewrite, then SIGHUP.
    let mark = gh.log_mark();
    gh.write_config("service: { name: two }\n").unwrap();
    gh.sighup().unwrap();
    let line = gh
        .wait_for_log_since(mark, "got HUP", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(line, "got HUP: service: { name: two }");
    assert!(
        gh.logs_since(mark)
            .iter()
            .all(|l| !l.contains("fake gatehouse"))
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temp files left beside the config"
    );

    let err = gh
        .wait_for_log("never printed", Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("to stderr"),
        "the error shows the output: {err}"
    );

    gh.sigterm().unwrap();
    let status = gh.wait_exit(Duration::from_secs(5)).await.unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(gh.sighup().is_err(), "signalling an exited process fails");

    drop(gh);
    assert!(!dir.exists(), "the temp dir is removed on drop");
}

#[tokio::test]
async fn early_exit_reports_the_output() {
    // A listener that never answers: the probe cannot succeed, whoever else runs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Gatehouse::start_with_args(
        sh(),
        &[
            "-c",
            "echo 'config error: apis[0].path is empty' >&2; exit 7",
            "x",
        ],
        "apis: []",
        silent.local_addr().unwrap(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("exit status: 7"), "{msg}");
    assert!(msg.contains("apis[0].path is empty"), "{msg}");
}

#[tokio::test]
async fn http_probe_waits_for_200() {
    // The mock backend answers 200 on any path, including the health probe's.
    let backend = MockBackend::start().await.unwrap();
    let gh = Gatehouse::builder(sh())
        .unwrap()
        .args(["-c", FAKE, "x"])
        .probe(Probe::Http(backend.addr()))
        .start("")
        .await
        .unwrap();
    assert_eq!(backend.requests()[0].path, "/status-0123456789abcdef");
    let pid = gh.pid();
    drop(gh);
    // SIGKILLed and reaped.
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[tokio::test]
async fn probe_timeout_reports_the_output() {
    let err = Gatehouse::builder(sh())
        .unwrap()
        .args(["-c", FAKE, "x"])
        .probe(Probe::Log("never printed".into()))
        .startup_timeout(Duration::from_millis(300))
        .start("")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("not ready"), "{msg}");
    assert!(msg.contains("fake gatehouse args"), "{msg}");
}

#[test]
fn free_ports_are_bindable() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    assert!(free_addr().ip().is_loopback());
}
