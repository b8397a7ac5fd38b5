//! The node registry against both real backends: SQLite in a temporary directory and a real
//! PostgreSQL (crates/testkit/src/postgres.rs; skipped with a printed reason when it is not
//! installed, a failure under CI=true).

use gatehouse_store::{NodeReport, SecretKey, Store};
use gatehouse_testkit::postgres::Postgres;
use serde_json::json;
use std::time::Duration;

fn report(name: &str, location: &str, revision: u64) -> NodeReport {
    NodeReport {
        name: name.to_string(),
        location: location.to_string(),
        applied_revision: revision,
        started_at: "2026-01-02T03:04:05Z".to_string(),
        version: "0.1.0".to_string(),
        status: json!({"connectivityStatus": [{"name": "b", "status": "success"}]}),
    }
}

async fn registry(store: &Store) {
    assert!(store.nodes().await.unwrap().is_empty());
    store
        .heartbeat(&report("node-b", "westeurope", 1))
        .await
        .unwrap();
    store
        .heartbeat(&report("node-a", "northeurope", 1))
        .await
        .unwrap();
    let first = store.nodes().await.unwrap();
    assert_eq!(
        first
            .iter()
            .map(|n| n.report.name.as_str())
            .collect::<Vec<_>>(),
        ["node-a", "node-b"]
    );
    assert_eq!(first[0].report, report("node-a", "northeurope", 1));
    assert!(first[0].heartbeat_age < Duration::from_secs(5), "{first:?}");
    assert!(first[0].last_heartbeat.ends_with('Z'), "{first:?}");
    // A later heartbeat replaces the node's row: a new revision, a newer time.
    tokio::time::sleep(Duration::from_millis(20)).await;
    store
        .heartbeat(&report("node-a", "northeurope", 7))
        .await
        .unwrap();
    let second = store.nodes().await.unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(second[0].report.applied_revision, 7);
    assert!(
        second[0].last_heartbeat > first[0].last_heartbeat,
        "{} then {}",
        first[0].last_heartbeat,
        second[0].last_heartbeat
    );
    assert_eq!(second[1], {
        let mut b = first[1].clone();
        b.heartbeat_age = second[1].heartbeat_age;
        b
    });
}

#[tokio::test]
async fn sqlite_node_registry() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    registry(&store).await;
}

#[tokio::test]
async fn postgres_node_registry() {
    let Some(pg) = Postgres::start_or_skip("postgres_node_registry") else {
        return;
    };
    let url = pg.create_db("nodes_registry").unwrap();
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    registry(&store).await;
}
