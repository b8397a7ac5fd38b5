//! End to end: `gatehouse store import` and `gatehouse store export` with the real binary over
//! an SQLite store: the demo config round-trips through import ∘ export, and an invalid file
//! is refused with every error while the store stays as it was.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn gatehouse(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("GATEHOUSE_DATA_DIR", data_dir)
        .env_remove("GATEHOUSE_STORE")
        .output()
        .expect("running gatehouse")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn demo_config() -> String {
    include_str!("../src/demo.yaml").replace("${DEMO_BACKEND}", "http://127.0.0.1:9")
}

#[test]
fn import_export_round_trips_and_invalid_files_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = format!("sqlite://{}", dir.path().join("one.db").display());
    let other = format!("sqlite://{}", dir.path().join("two.db").display());
    let demo = dir.path().join("demo.yaml");
    std::fs::write(&demo, demo_config()).unwrap();
    let demo = demo.to_str().unwrap();

    let out = ok(gatehouse(
        &data,
        &["store", "import", demo, "--store", &store],
    ));
    assert!(out.contains("imported as revision 1"), "{out}");
    // The secret key was created in the data directory, readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let first = ok(gatehouse(&data, &["store", "export", "--store", &store]));
    assert!(
        first.contains("demo-primary-key"),
        "secrets in clear in the export"
    );
    let exported = dir.path().join("export.yaml");
    std::fs::write(&exported, &first).unwrap();
    let exported = exported.to_str().unwrap();

    // The export re-imports as the same contents: no new revision in the same store...
    let out = ok(gatehouse(
        &data,
        &["store", "import", exported, "--store", &store],
    ));
    assert!(
        out.contains("unchanged, the store is at revision 1"),
        "{out}"
    );
    // ...and the same export from a fresh store.
    ok(gatehouse(
        &data,
        &["store", "import", exported, "--store", &other],
    ));
    let second = ok(gatehouse(&data, &["store", "export", "--store", &other]));
    assert_eq!(first, second);
    let json = ok(gatehouse(
        &data,
        &["store", "export", "--store", &other, "--format", "json"],
    ));
    let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_json["service"]["name"], "demo");

    // An invalid file: every error with its path, exit 1, nothing written.
    let invalid = demo_config()
        .replacen(r#"url_template: "/*""#, r#"url_template: "/a/{b""#, 1)
        .replacen(
            "subscriptions:\n",
            "subscriptions:\n  - { id: stray, scope: product/missing, primary_key: k-0123456789abcdef }\n",
            1,
        );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, invalid).unwrap();
    let out = gatehouse(
        &data,
        &["store", "import", bad.to_str().unwrap(), "--store", &store],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("url_template"), "{stderr}");
    assert!(stderr.contains("subscriptions"), "{stderr}");
    assert!(stderr.contains("not imported"), "{stderr}");
    let after = ok(gatehouse(&data, &["store", "export", "--store", &store]));
    assert_eq!(after, first, "the store is unchanged");
}

#[test]
fn api_import_reads_an_openapi_document_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = format!("sqlite://{}", dir.path().join("apis.db").display());
    let demo = dir.path().join("demo.yaml");
    std::fs::write(&demo, demo_config()).unwrap();
    ok(gatehouse(
        &data,
        &["store", "import", demo.to_str().unwrap(), "--store", &store],
    ));

    // The OpenAPI Initiative's Swagger 2.0 petstore (crates/admin/tests/data/README.md).
    let petstore = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../admin/tests/data/petstore-v2.json"
    );
    let out = ok(gatehouse(
        &data,
        &[
            "api", "import", petstore, "--store", &store, "--path", "pets", "--id", "pets",
        ],
    ));
    assert!(
        out.contains("API 'pets' at /pets with 3 operations"),
        "{out}"
    );
    let exported: serde_json::Value = serde_json::from_str(&ok(gatehouse(
        &data,
        &["store", "export", "--store", &store, "--format", "json"],
    )))
    .unwrap();
    let api = exported["apis"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "pets"))
        .cloned()
        .expect("the imported API is in the store");
    let ops: Vec<&str> = api["operations"]
        .as_array()
        .map(|o| o.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(ops.contains(&"showPetById"), "{api}");

    // A broken document: exit 1, the place named, nothing written.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},"servers":[{"url":"http://127.0.0.1:9"}],
            "paths":{"/a/{id}":{"get":{"parameters":[{"in":"path"}],"responses":{"200":{"description":"ok"}}}}}}"#,
    )
    .unwrap();
    let out = gatehouse(
        &data,
        &[
            "api",
            "import",
            bad.to_str().unwrap(),
            "--store",
            &store,
            "--path",
            "bad",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("paths./a/{id}.get.parameters[0]"), "{err}");
    let after = ok(gatehouse(
        &data,
        &["store", "export", "--store", &store, "--format", "json"],
    ));
    assert!(!after.contains("\"bad\""), "nothing imported");
}
