//! Helpers shared by the store-mode end-to-end tests (management.rs, nodes.rs): importing a
//! config into a store, a management API call, and waiting for the gateway to answer a status.

use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// `gatehouse store import FILE --store STORE --secret-key-file KEY` with the binary `bin`,
/// which must succeed.
pub fn store_import(bin: &str, file: &Path, store: &str, key: &Path) {
    let out = Command::new(bin)
        .args([
            "store",
            "import",
            file.to_str().expect("utf-8"),
            "--store",
            store,
        ])
        .args(["--secret-key-file", key.to_str().expect("utf-8")])
        .output()
        .expect("run gatehouse");
    assert!(
        out.status.success(),
        "import failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends a management API request, with `body` as JSON when given: the status, and the answer as
/// JSON (or as a JSON string when it is not JSON, so a test can print it).
pub async fn send_json(req: reqwest::RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = req;
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("management API answers");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asks `status` every 20 ms until it says `want`, and returns the time that took; fails the test
/// after `within`, with `logs` (the node's output).
pub async fn wait_for_status<F: Future<Output = u16>>(
    path: &str,
    want: u16,
    within: Duration,
    mut status: impl FnMut() -> F,
    logs: impl Fn() -> String,
) -> Duration {
    let start = Instant::now();
    loop {
        let status = status().await;
        if status == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{path} still answers {status}, not {want}:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
