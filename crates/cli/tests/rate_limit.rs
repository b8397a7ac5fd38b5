//! End to end: rate-limit-by-key on the subscription, run by the real `gatehouse` binary under
//! a concurrent client loop — exact on one node.

use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY: &str = "key-ratelimit-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_by_key_admits_exactly_the_limit_under_concurrency() {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let config = format!(
        r#"
service: {{ name: rate-limit-e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
apis:
  - id: a
    path: a
    backend: "{backend}"
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
      <policies>
        <inbound>
          <rate-limit-by-key calls="50" renewal-period="60"
              counter-key="@(context.Subscription.Id)"
              remaining-calls-header-name="x-ratelimit-remaining" />
        </inbound>
        <backend><forward-request /></backend>
        <outbound />
        <on-error />
      </policies>
subscriptions:
  - {{ id: s, scope: all, primary_key: "{KEY}" }}
"#,
        backend = backend.url()
    );
    let _gw = Gatehouse::start(Path::new(BIN), &config, addr)
        .await
        .expect("gatehouse starts");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let url = format!("http://{addr}/a/hello");

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..20 {
                let resp = client
                    .get(&url)
                    .header("Ocp-Apim-Subscription-Key", KEY)
                    .send()
                    .await
                    .expect("response");
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let remaining = resp.headers().get("x-ratelimit-remaining").is_some();
                let body = resp.text().await.expect("body");
                got.push((status, retry_after, remaining, body));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    assert_eq!(all.len(), 160);
    let ok = all.iter().filter(|r| r.0 == 200).count();
    let limited: Vec<_> = all.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(ok, 50, "admitted");
    assert_eq!(limited.len(), 110, "rate limited");
    for (_, retry_after, _, body) in &limited {
        assert!(
            matches!(retry_after, Some(s) if (1..=60).contains(s)),
            "Retry-After {retry_after:?}"
        );
        assert!(body.contains("Rate limit is exceeded"), "{body}");
    }
    assert!(
        all.iter().filter(|r| r.0 == 200).all(|r| r.2),
        "admitted responses carry the remaining-calls header"
    );
    assert_eq!(backend.request_count(), 50, "backend calls");
}
