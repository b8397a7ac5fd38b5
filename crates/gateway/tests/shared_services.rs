//! Two gateways built with `Gateway::with_services` on one set of shared stores (in-memory
//! here; Redis in a cluster, crates/store/src/redis/): a limit counts the calls of both, and a
//! value stored in the external cache by one is read by the other.

use gatehouse_gateway::{Gateway, SharedServices};
use gatehouse_policy::cache::InMemoryCache;
use gatehouse_policy::limits::InMemoryCounters;
use gatehouse_policy::pipeline::ConcurrencySlots;
use gatehouse_testkit::raw::{body_of, send_raw, status_of};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const POLICIES: &str = r#"
      <policies>
        <inbound>
          <choose>
            <when condition="@(context.Request.Url.Path.EndsWith(&quot;/put&quot;))">
              <cache-store-value key="shared" value="from-a" duration="60" caching-type="external" />
              <return-response><set-status code="201" reason="Stored"/></return-response>
            </when>
            <when condition="@(context.Request.Url.Path.EndsWith(&quot;/get&quot;))">
              <cache-lookup-value key="shared" variable-name="v" default-value="none" caching-type="external" />
              <return-response><set-status code="200" reason="OK"/><set-body>@((string)context.Variables[&quot;v&quot;])</set-body></return-response>
            </when>
          </choose>
          <rate-limit-by-key calls="5" renewal-period="60" counter-key="everyone" />
          <return-response><set-status code="200" reason="OK"/></return-response>
        </inbound>
        <backend><base/></backend><outbound/><on-error/>
      </policies>"#;

async fn start(shared: SharedServices) -> (Gateway, SocketAddr) {
    let indented: String = POLICIES.lines().map(|l| format!("  {l}\n")).collect();
    let yaml = format!(
        r#"
service: {{ name: shared }}
gateway:
  listeners: [ {{ address: "127.0.0.1:0" }} ]
apis:
  - id: a
    path: a
    backend: "http://127.0.0.1:9"
    subscription_required: false
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
    policies: |
{indented}"#
    );
    let cfg = gatehouse_model::from_str(&yaml, gatehouse_model::Format::Yaml, Path::new("t.yaml"))
        .expect("config parses");
    let validated = gatehouse_model::validate(cfg).expect("config validates");
    let gateway = Gateway::with_services(&validated, shared).expect("gateway compiles");
    let bound = gateway.bind().await.expect("binds");
    let addr = bound[0].local;
    let serving = gateway.clone();
    tokio::spawn(async move { serving.serve(bound, Duration::from_secs(1)).await });
    (gateway, addr)
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let reply = send_raw(addr, request.as_bytes()).await.expect("connects");
    let status = status_of(&reply).expect("a status line");
    let body = String::from_utf8_lossy(body_of(&reply).unwrap_or_default()).into_owned();
    (status, body)
}

#[tokio::test]
async fn gateways_on_shared_services_count_and_cache_together() {
    let shared = SharedServices {
        counters: Some(Arc::new(InMemoryCounters::new())),
        external_cache: Some(Arc::new(InMemoryCache::new(1 << 20))),
        concurrency: Some(Arc::new(ConcurrencySlots::default())),
    };
    let (a, a_addr) = start(shared.clone()).await;
    let (b, b_addr) = start(shared).await;
    let mut passed = 0;
    for i in 0..10 {
        let addr = if i % 2 == 0 { a_addr } else { b_addr };
        let (status, _) = get(addr, "/a/x").await;
        assert!(status == 200 || status == 429, "{status}");
        passed += usize::from(status == 200);
    }
    assert_eq!(passed, 5, "one limit across both gateways");
    assert_eq!(get(b_addr, "/a/get").await, (200, "none".to_owned()));
    assert_eq!(get(a_addr, "/a/put").await.0, 201);
    assert_eq!(get(b_addr, "/a/get").await, (200, "from-a".to_owned()));
    a.shutdown();
    b.shutdown();
}
