//! The store against both real backends: SQLite in a temporary directory, and a real
//! PostgreSQL server started by crates/testkit/src/postgres.rs (skipped with a printed reason
//! when PostgreSQL is not installed, a failure under CI=true).

use gatehouse_model::{Config, Format, Secret};
use gatehouse_store::{AccessKeys, SecretKey, Store, StoreError};
use gatehouse_testkit::postgres::Postgres;
use std::path::Path;
use std::time::{Duration, Instant};

const CLEAR_PRIMARY: &str = "sk-primary-CLEAR-7f3a9";
const CLEAR_SECONDARY: &str = "sk-secondary-CLEAR-2b8c1";
const CLEAR_NAMED: &str = "nv-secret-CLEAR-5d4e6";
const CLEAR_ACCESS: &str = "access-key-CLEAR-9a0b3";

fn parse(yaml: &str) -> Config {
    gatehouse_model::from_str(yaml, Format::Yaml, Path::new("test.yaml")).expect("test config")
}

/// The demo config and every YAML example of the docs that is a whole config.
fn sample_configs() -> Vec<(String, Config)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let demo = std::fs::read_to_string(root.join("crates/cli/src/demo.yaml")).expect("demo.yaml");
    let mut out = vec![("demo.yaml".to_string(), parse(&demo))];
    for doc in ["docs/config.md", "docs/network.md"] {
        let text = std::fs::read_to_string(root.join(doc)).expect("doc");
        for (i, block) in text.split("```yaml\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap_or("");
            // A section example (`network:` ...) becomes a whole config with a service added.
            let whole = if block.contains("service:") {
                block.to_string()
            } else {
                format!("service: {{ name: docs }}\n{block}")
            };
            if let Ok(config) = gatehouse_model::from_str(&whole, Format::Yaml, Path::new(doc)) {
                out.push((format!("{doc} example {i}"), config));
            }
        }
    }
    out
}

fn with_secrets() -> Config {
    parse(&format!(
        r#"
service: {{ name: secretive }}
backends: {{ b: {{ url: "http://127.0.0.1:9" }} }}
apis:
  - id: orders
    path: orders
    backend: b
    operations:
      - {{ id: list, method: GET, url_template: /list }}
      - {{ id: get, method: GET, url_template: "/{{id}}" }}
  - {{ id: users, path: users, backend: b }}
  - {{ id: misc, path: misc, backend: b }}
products:
  - {{ id: gold, apis: [orders] }}
subscriptions:
  - {{ id: s1, scope: product/gold, primary_key: {CLEAR_PRIMARY}, secondary_key: {CLEAR_SECONDARY} }}
named_values:
  - {{ id: visible, value: not-a-secret }}
  - {{ id: hidden, value: {CLEAR_NAMED}, secret: true }}
"#
    ))
}

fn as_json(config: &Config) -> serde_json::Value {
    serde_json::to_value(config).expect("config serializes")
}

/// One backend under test: how to get a fresh database, and everything that is in it as text.
trait Backend {
    fn fresh(&self, name: &str) -> String;
}

struct Sqlite(tempfile::TempDir);

impl Backend for Sqlite {
    fn fresh(&self, name: &str) -> String {
        format!(
            "sqlite://{}",
            self.0.path().join(format!("{name}.db")).display()
        )
    }
}

struct Pg(Postgres);

impl Backend for Pg {
    fn fresh(&self, name: &str) -> String {
        self.0.create_db(name).expect("createdb")
    }
}

async fn round_trip(url: String) {
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    assert_eq!(store.revision().await.unwrap(), 0);
    assert!(store.load().await.unwrap().is_none());
    let samples = sample_configs();
    assert!(
        samples.len() >= 3,
        "the demo and the docs' examples: {}",
        samples.len()
    );
    for (name, config) in samples {
        let revision = store.import(&config, "test").await.unwrap();
        let (loaded, at) = store.load().await.unwrap().expect("imported");
        assert_eq!(at, revision);
        assert_eq!(as_json(&loaded), as_json(&config), "{name} round-trips");
        // Importing the same again changes nothing and makes no revision.
        assert_eq!(store.import(&config, "test").await.unwrap(), revision);
    }
}

async fn commit_touches_only_changed_rows(url: String) {
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    let mut config = with_secrets();
    let first = store.import(&config, "alice").await.unwrap();
    assert_eq!(first, 1);

    config.apis[1].display_name = Some("Users, renamed".into());
    config.apis[0].operations.remove(1);
    let second = store
        .commit(&config, first, "bob", "rename users, drop get")
        .await
        .unwrap();
    assert_eq!(second, 2);
    assert_eq!(
        store.commit(&config, second, "bob", "no-op").await.unwrap(),
        second,
        "no empty revisions"
    );

    let history = store.history(10).await.unwrap();
    assert_eq!(history.len(), 2);
    let newest = &history[0];
    assert_eq!((newest.revision, newest.actor.as_str()), (2, "bob"));
    assert_eq!(newest.summary, "rename users, drop get");
    let changes: Vec<_> = newest
        .changes
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.parent.as_str(),
                c.id.as_str(),
                c.op.as_str(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            ("api", "", "users", "put"),
            ("operation", "orders", "get", "delete")
        ]
    );
    assert!(history[1].changes.len() > 8, "the import wrote every row");
    assert!(
        history[1].time.contains('T'),
        "RFC 3339: {}",
        history[1].time
    );

    let users = store.resource_history("api", "users").await.unwrap();
    assert_eq!(users.iter().map(|v| v.revision).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        users[1].body.as_ref().unwrap()["display_name"],
        "Users, renamed"
    );
    let misc = store.resource_history("api", "misc").await.unwrap();
    assert_eq!(misc.len(), 1, "an untouched API keeps its one version");
    let get = store
        .resource_history("operation", "orders/get")
        .await
        .unwrap();
    assert_eq!(
        get.iter().map(|v| v.op.as_str()).collect::<Vec<_>>(),
        ["put", "delete"]
    );
    // History shows secrets masked.
    let sub = store.resource_history("subscription", "s1").await.unwrap();
    assert_eq!(sub[0].body.as_ref().unwrap()["primary_key"], "***");

    let (loaded, at) = store.load().await.unwrap().unwrap();
    assert_eq!(at, 2);
    assert_eq!(as_json(&loaded), as_json(&config));
}

async fn stale_revision_conflicts(url: String) {
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    let mut config = with_secrets();
    store.import(&config, "t").await.unwrap();
    config.apis[2].description = Some("one".into());
    store.commit(&config, 1, "t", "one").await.unwrap();
    config.apis[2].description = Some("two".into());
    match store.commit(&config, 1, "t", "stale").await {
        Err(StoreError::Conflict { current }) => assert_eq!(current, 2),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.revision().await.unwrap(), 2);
}

async fn concurrent_committers_one_wins(url: String) {
    let key = SecretKey::generate();
    let a = Store::open(&url, key.clone()).await.unwrap();
    let b = Store::open(&url, key).await.unwrap();
    let base = with_secrets();
    let at = a.import(&base, "t").await.unwrap();
    for round in 0..5 {
        let at = at + round;
        let mut one = a.load().await.unwrap().unwrap().0;
        let mut two = one.clone();
        one.apis[2].description = Some(format!("a{round}"));
        two.apis[2].description = Some(format!("b{round}"));
        let (ra, rb) = tokio::join!(a.commit(&one, at, "a", "a"), b.commit(&two, at, "b", "b"));
        let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
        let conflicts = [&ra, &rb]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { current }) if *current == at + 1))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {round}: {ra:?} {rb:?}");
    }
}

async fn feed_sees_commits(url: String, other_process: bool) {
    let key = SecretKey::generate();
    let watcher = Store::open(&url, key.clone()).await.unwrap();
    let writer = if other_process {
        // A second pool: on PostgreSQL it shares nothing with the watcher but the database.
        Store::open(&url, key).await.unwrap()
    } else {
        watcher.clone()
    };
    let mut feed = watcher.changes();
    assert_eq!(feed.last(), 0);
    let config = with_secrets();
    let waiting = tokio::spawn(async move {
        let first = feed.next().await.unwrap();
        (first, feed)
    });
    let revision = writer.import(&config, "writer").await.unwrap();
    let (seen, mut feed) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the feed delivers within 10 s")
        .unwrap();
    assert_eq!(seen, revision);
    let mut changed = config.clone();
    changed.apis[0].description = Some("again".into());
    let next = writer
        .commit(&changed, revision, "w", "again")
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("the feed delivers within 10 s")
        .unwrap();
    assert_eq!(seen, next);
}

/// PostgreSQL: the listener's connection is killed; the commit made meanwhile still arrives.
async fn feed_survives_a_lost_connection(url: String) {
    let key = SecretKey::generate();
    let watcher = Store::open(&url, key.clone()).await.unwrap();
    let writer = Store::open(&url, key).await.unwrap();
    let mut config = with_secrets();
    let first = writer.import(&config, "w").await.unwrap();
    let mut feed = watcher.changes_after(0);
    assert_eq!(feed.next().await.unwrap(), first, "listening now");

    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(
        !killed.is_empty(),
        "the listener's connection was there to kill"
    );

    config.apis[0].description = Some("while the listener was away".into());
    let second = writer.commit(&config, first, "w", "missed").await.unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("the feed recovers within 10 s")
        .unwrap();
    assert_eq!(seen, second);
}

async fn secrets_encrypted_and_key_checked(url: String) -> Store {
    let key = SecretKey::generate();
    let store = Store::open(&url, key.clone()).await.unwrap();
    let mut config = with_secrets();
    store.import(&config, "t").await.unwrap();
    config.subscriptions[0].display_name = Some("changed".into());
    store.commit(&config, 1, "t", "history too").await.unwrap();
    store
        .set_access_keys(&AccessKeys {
            primary: Secret::new(CLEAR_ACCESS),
            secondary: Secret::new("x"),
        })
        .await
        .unwrap();
    let (loaded, _) = store.load().await.unwrap().unwrap();
    assert_eq!(loaded.subscriptions[0].primary_key.expose(), CLEAR_PRIMARY);
    assert_eq!(loaded.named_values[1].value.expose(), CLEAR_NAMED);
    assert_eq!(
        store.access_keys().await.unwrap().primary.expose(),
        CLEAR_ACCESS
    );

    let stranger = Store::open(&url, SecretKey::generate()).await.unwrap();
    match stranger.load().await {
        Err(StoreError::Decrypt { resource }) => assert!(
            ["subscription/s1", "named_value/hidden"].contains(&resource.as_str()),
            "names the resource: {resource}"
        ),
        other => panic!("expected a decrypt error, got {:?}", other.map(|_| ())),
    }
    let message = stranger.access_keys().await.unwrap_err().to_string();
    assert!(message.contains("access_key/primary"), "{message}");
    store
}

fn assert_no_clear_secret(text: &[u8], what: &str) {
    let text = String::from_utf8_lossy(text);
    for secret in [CLEAR_PRIMARY, CLEAR_SECONDARY, CLEAR_NAMED, CLEAR_ACCESS] {
        assert!(!text.contains(secret), "{secret} in clear in {what}");
    }
    assert!(text.contains("not-a-secret"), "{what} holds the data");
}

async fn access_keys_created_once(url: String) {
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    let keys = store.access_keys().await.unwrap();
    assert_eq!(keys.primary.expose().len(), 88);
    assert_ne!(keys.primary, keys.secondary);
    assert_eq!(store.access_keys().await.unwrap(), keys);
    assert_eq!(format!("{keys:?}").matches("***").count(), 2);
}

fn thousand_apis() -> Config {
    let mut yaml = String::from(
        "service: { name: big }\nbackends: { b: { url: \"http://127.0.0.1:9\" } }\napis:\n",
    );
    for a in 0..1000 {
        yaml.push_str(&format!(
            "  - id: api{a}\n    path: p{a}\n    backend: b\n    operations:\n"
        ));
        for o in 0..10 {
            yaml.push_str(&format!(
                "      - {{ id: op{o}, method: GET, url_template: \"/r{o}/{{id}}\" }}\n"
            ));
        }
    }
    parse(&yaml)
}

async fn large_import(url: String, backend: &str) {
    let store = Store::open(&url, SecretKey::generate()).await.unwrap();
    let config = thousand_apis();
    let started = Instant::now();
    store.import(&config, "bulk").await.unwrap();
    let import = started.elapsed();
    let started = Instant::now();
    let (loaded, _) = store.load().await.unwrap().unwrap();
    let load = started.elapsed();
    println!(
        "{backend}: import of 1,000 APIs x 10 operations: {:.0} ms; load: {:.0} ms",
        import.as_secs_f64() * 1e3,
        load.as_secs_f64() * 1e3
    );
    assert_eq!(loaded.apis.len(), 1000);
    assert!(loaded.apis.iter().all(|a| a.operations.len() == 10));
    assert_eq!(as_json(&loaded), as_json(&config));
}

fn sqlite() -> Sqlite {
    Sqlite(tempfile::tempdir().unwrap())
}

#[tokio::test]
async fn sqlite_round_trip() {
    let b = sqlite();
    round_trip(b.fresh("s")).await;
}

#[tokio::test]
async fn sqlite_commit_touches_only_changed_rows() {
    let b = sqlite();
    commit_touches_only_changed_rows(b.fresh("s")).await;
}

#[tokio::test]
async fn sqlite_stale_revision_conflicts() {
    let b = sqlite();
    stale_revision_conflicts(b.fresh("s")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_committers_one_wins() {
    let b = sqlite();
    concurrent_committers_one_wins(b.fresh("s")).await;
}

#[tokio::test]
async fn sqlite_feed_sees_commits_of_its_store() {
    let b = sqlite();
    feed_sees_commits(b.fresh("s"), false).await;
}

#[tokio::test]
async fn sqlite_secrets_not_in_clear_in_the_file() {
    let b = sqlite();
    let url = b.fresh("s");
    let store = secrets_encrypted_and_key_checked(url).await;
    drop(store);
    // The database file and its write-ahead log, byte for byte.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(b.0.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert_no_clear_secret(&bytes, "the SQLite files");
}

#[tokio::test]
async fn sqlite_access_keys_created_once() {
    let b = sqlite();
    access_keys_created_once(b.fresh("s")).await;
}

#[tokio::test]
async fn sqlite_large_import() {
    let b = sqlite();
    large_import(b.fresh("s"), "sqlite").await;
}

/// Every PostgreSQL case on one server (starting one takes seconds), each in its own database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_suite() {
    let Some(pg) = Postgres::start_or_skip("postgres_suite") else {
        return;
    };
    let b = Pg(pg);
    round_trip(b.fresh("round_trip")).await;
    commit_touches_only_changed_rows(b.fresh("touched")).await;
    stale_revision_conflicts(b.fresh("stale")).await;
    concurrent_committers_one_wins(b.fresh("concurrent")).await;
    feed_sees_commits(b.fresh("feed"), true).await;
    feed_survives_a_lost_connection(b.fresh("reconnect")).await;
    access_keys_created_once(b.fresh("access")).await;

    let url = b.fresh("secrets");
    let _store = secrets_encrypted_and_key_checked(url.clone()).await;
    // Everything stored, as text, the way a dump would show it.
    let mut dump = String::new();
    for table in [
        "meta",
        "revisions",
        "resources",
        "resource_history",
        "access_keys",
    ] {
        let rows = rows_as_text(&url, table).await;
        dump.push_str(&rows.join("\n"));
    }
    assert_no_clear_secret(dump.as_bytes(), "the PostgreSQL tables");

    large_import(b.fresh("large"), "postgres").await;
}

/// A table's rows as PostgreSQL prints them (`row::text`), through a connection of its own.
async fn rows_as_text(url: &str, table: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.expect("connecting");
    // `table` is one of this file's fixed names.
    let sql = sqlx::AssertSqlSafe(format!("SELECT t::text FROM {table} t"));
    sqlx::query_scalar(sql)
        .fetch_all(&pool)
        .await
        .expect("reading the table as text")
}
