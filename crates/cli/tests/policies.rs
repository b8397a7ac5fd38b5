//! End to end: APIM policies run by the real `gatehouse` binary (inbound and outbound), between
//! a real client and the testkit's backend.

use gatehouse_testkit::{Gatehouse, MockBackend, free_addr};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

const CONFIG: &str = r#"
service: { name: e2e }
network: { outbound: { allowed_destinations: [127.0.0.0/8] } }
gateway:
  listeners: [ { address: "GW" } ]
policies:
  global: |
    <policies>
      <inbound>
        <set-header name="X-Order" exists-action="append"><value>g</value></set-header>
      </inbound>
      <backend />
      <outbound />
      <on-error />
    </policies>
  fragments:
    stamp: |
      <fragment>
        <set-header name="X-Frag" exists-action="override"><value>@("frag:" + context.Operation.Id)</value></set-header>
      </fragment>
apis:
  - id: p
    path: p
    backend: "BACKEND"
    subscription_required: false
    policies: |
      <policies>
        <inbound>
          <set-header name="X-Order" exists-action="append"><value>a1</value></set-header>
          <base />
          <set-header name="X-Order" exists-action="append"><value>a2</value></set-header>
        </inbound>
        <backend><base /></backend>
        <outbound>
          <base />
          <set-header name="X-Out" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
        </outbound>
        <on-error><base /></on-error>
      </policies>
    operations:
      - id: order
        method: GET
        url_template: "/order/{id}"
        policies: |
          <policies>
            <inbound>
              <base />
              <set-header name="X-Order" exists-action="append"><value>o</value></set-header>
              <set-header name="X-Id" exists-action="override"><value>@(context.Request.MatchedParameters["id"])</value></set-header>
              <set-header name="X-Pe" exists-action="override"><value>@(context.Request.PrivateEndpointConnection?.Name ?? "public")</value></set-header>
              <include-fragment fragment-id="stamp" />
            </inbound>
            <backend><base /></backend>
            <outbound><base /></outbound>
            <on-error><base /></on-error>
          </policies>
      - id: ret
        method: GET
        url_template: "/ret"
        policies: |
          <policies>
            <inbound>
              <return-response>
                <set-status code="201" reason="Made" />
                <set-header name="X-Ret" exists-action="override"><value>1</value></set-header>
                <set-body>hello</set-body>
              </return-response>
            </inbound>
            <backend><base /></backend>
            <outbound><base /></outbound>
            <on-error><base /></on-error>
          </policies>
      - id: blocked
        method: GET
        url_template: "/blocked"
        policies: |
          <policies>
            <inbound>
              <ip-filter action="forbid"><address>127.0.0.1</address></ip-filter>
            </inbound>
            <backend><base /></backend>
            <outbound><base /></outbound>
            <on-error><base /></on-error>
          </policies>
      - id: fails
        method: GET
        url_template: "/fails"
        policies: |
          <policies>
            <inbound>
              <set-header name="X-Bad" exists-action="override"><value>@(int.Parse("x").ToString())</value></set-header>
            </inbound>
            <backend><base /></backend>
            <outbound><base /></outbound>
            <on-error>
              <set-status code="599" reason="Policy" />
              <set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
            </on-error>
          </policies>
"#;

struct Env {
    _gw: Gatehouse,
    backend: MockBackend,
    base: String,
    client: reqwest::Client,
}

async fn setup() -> Env {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let cfg = CONFIG
        .replace("GW", &addr.to_string())
        .replace("BACKEND", &backend.url());
    let gw = Gatehouse::start(Path::new(BIN), &cfg, addr)
        .await
        .expect("gatehouse starts");
    Env {
        _gw: gw,
        backend,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn inbound_composes_scopes_in_base_order_and_outbound_reaches_the_client() {
    let e = setup().await;
    let resp = e
        .client
        .get(format!("{}/p/order/42", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers().get("x-out").unwrap(), "200");
    let req = e.backend.last_request().expect("backend called");
    assert_eq!(req.header_all("x-order").join(","), "a1,g,a2,o");
    // A fragment from `policies.fragments`, included at operation scope.
    assert_eq!(req.header("x-frag"), Some("frag:order"));
    assert_eq!(req.header("x-id"), Some("42"));
    assert_eq!(req.header("x-pe"), Some("public"));
}

#[tokio::test]
async fn return_response_answers_without_the_backend() {
    let e = setup().await;
    let resp = e
        .client
        .get(format!("{}/p/ret", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(resp.headers().get("x-ret").unwrap(), "1");
    assert_eq!(resp.text().await.unwrap(), "hello");
    assert_eq!(e.backend.request_count(), 0);
}

#[tokio::test]
async fn ip_filter_forbids_with_apims_message() {
    let e = setup().await;
    let resp = e
        .client
        .get(format!("{}/p/blocked", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(
        body["message"],
        "Caller IP address is blocked. Access denied."
    );
    assert_eq!(e.backend.request_count(), 0);
}

#[tokio::test]
async fn on_error_sees_last_error_of_a_failing_expression() {
    let e = setup().await;
    let resp = e
        .client
        .get(format!("{}/p/fails", e.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 599);
    assert_eq!(
        resp.headers().get("x-reason").unwrap(),
        "ExpressionValueEvaluationFailure"
    );
    assert_eq!(e.backend.request_count(), 0);
}

/// ip-filter judges the client as the network layer established it: behind a trusted proxy, the
/// right-most untrusted X-Forwarded-For hop, not the proxy's address. The private-endpoint
/// expression sees the endpoint's name when the connection came through one.
#[tokio::test]
async fn ip_filter_uses_the_client_behind_a_trusted_proxy_and_policies_see_the_private_endpoint() {
    let backend = MockBackend::start().await.expect("backend");
    let gw_addr = free_addr();
    let pe_addr = free_addr();
    let config = format!(
        r#"
service: {{ name: e2e }}
network:
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
  trusted_proxies: [ 127.0.0.1/32 ]
  private_endpoints:
    - {{ name: pe-partner, link_id: 7, state: approved, listen: "{pe_addr}" }}
gateway:
  listeners: [ {{ address: "{gw_addr}" }} ]
apis:
  - id: f
    path: f
    backend: "{backend}"
    subscription_required: false
    policies: |
      <policies>
        <inbound>
          <ip-filter action="forbid"><address-range from="198.51.100.0" to="198.51.100.255" /></ip-filter>
          <set-header name="X-Pe" exists-action="override"><value>@(context.Request.PrivateEndpointConnection?.Name ?? "public")</value></set-header>
          <set-header name="X-Ip" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header>
        </inbound>
        <backend><forward-request /></backend>
        <outbound />
        <on-error />
      </policies>
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#,
        backend = backend.url()
    );
    let _gw = Gatehouse::start(Path::new(BIN), &config, gw_addr)
        .await
        .expect("gatehouse starts");
    let client = reqwest::Client::new();

    // From the trusted proxy (127.0.0.1), on behalf of a blocked client: 403 with APIM's message.
    let r = client
        .get(format!("http://{gw_addr}/f/x"))
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 403);
    let body: serde_json::Value =
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("json");
    assert_eq!(
        body["message"], "Caller IP address is blocked. Access denied.",
        "{body}"
    );
    assert_eq!(backend.request_count(), 0);

    // On behalf of an allowed client: served, and the policy saw that client's address.
    let r = client
        .get(format!("http://{gw_addr}/f/x"))
        .header("X-Forwarded-For", "203.0.113.9")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let seen = backend.last_request().expect("backend saw it");
    assert_eq!(seen.header("x-ip"), Some("203.0.113.9"));
    assert_eq!(seen.header("x-pe"), Some("public"));

    // Through the private endpoint's dedicated listener: the policy sees its name.
    let r = client
        .get(format!("http://{pe_addr}/f/y"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    assert_eq!(
        backend.last_request().expect("backend").header("x-pe"),
        Some("pe-partner")
    );
}

/// The context members that come from the request's subscription, the clock and the backend.
#[tokio::test]
async fn context_knows_the_subscription_keys_the_clock_and_the_service_url() {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let config = format!(
        r#"
service: {{ name: e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
apis:
  - id: k
    path: k
    backend: "{backend}/base"
    subscription_required: true
    policies: |
      <policies>
        <inbound>
          <set-header name="X-Key-Is-Primary" exists-action="override"><value>@((context.Subscription.Key == context.Subscription.PrimaryKey).ToString())</value></set-header>
          <set-header name="X-Secondary-Length" exists-action="override"><value>@(context.Subscription.SecondaryKey.Length.ToString())</value></set-header>
          <set-header name="X-Clock" exists-action="override"><value>@((context.Timestamp.Year >= 2024 &amp;&amp; context.Elapsed.TotalMilliseconds >= 0).ToString())</value></set-header>
          <set-header name="X-Service-Url" exists-action="override"><value>@(context.Api.ServiceUrl.Host + context.Api.ServiceUrl.Path)</value></set-header>
          <set-header name="X-User" exists-action="override"><value>@(context.User?.FirstName + " " + context.User?.Email)</value></set-header>
        </inbound>
      </policies>
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
users:
  - {{ id: u1, email: ann@example.com, first_name: Ann }}
subscriptions:
  - {{ id: s1, scope: all, owner: u1, primary_key: "primary-key-0123456789", secondary_key: "secondary-0123456789", state: active }}
"#,
        backend = backend.url()
    );
    let _gw = Gatehouse::start(Path::new(BIN), &config, addr)
        .await
        .expect("gatehouse starts");
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/k/x"))
        .header("Ocp-Apim-Subscription-Key", "primary-key-0123456789")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let seen = backend.last_request().expect("backend called");
    assert_eq!(seen.header("x-key-is-primary"), Some("True"));
    assert_eq!(seen.header("x-secondary-length"), Some("20"));
    assert_eq!(seen.header("x-clock"), Some("True"));
    assert_eq!(seen.header("x-service-url"), Some("127.0.0.1/base"));
    assert_eq!(seen.header("x-user"), Some("Ann ann@example.com"));
}

/// Headers and query parameters are `IReadOnlyDictionary<string, string[]>` in APIM: the
/// indexer gives every value (header lines and their comma lists; repeated query parameters),
/// `GetValueOrDefault` joins them, and headers whose values hold commas or dates stay whole.
#[tokio::test]
async fn header_and_query_values_are_string_arrays() {
    let backend = MockBackend::start().await.expect("backend");
    let addr = free_addr();
    let config = format!(
        r#"
service: {{ name: e2e }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners: [ {{ address: "{addr}" }} ]
apis:
  - id: h
    path: h
    backend: "{backend}"
    subscription_required: false
    policies: |
      <policies>
        <inbound>
          <set-header name="X-Count" exists-action="override"><value>@(context.Request.Headers["X-List"].Length.ToString())</value></set-header>
          <set-header name="X-Second" exists-action="override"><value>@(context.Request.Headers["X-List"][1])</value></set-header>
          <set-header name="X-Joined" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("X-List"))</value></set-header>
          <set-header name="X-Date-Count" exists-action="override"><value>@(context.Request.Headers["If-Modified-Since"].Length.ToString())</value></set-header>
          <set-header name="X-Last-A" exists-action="override"><value>@(context.Request.Url.Query["a"].Last())</value></set-header>
          <set-header name="X-Pairs" exists-action="override"><value>@{{
            var n = 0;
            foreach (var h in context.Request.Headers) {{ if (string.Equals(h.Key, "X-List", StringComparison.OrdinalIgnoreCase)) {{ n = h.Value.Length; }} }}
            string[] v;
            context.Request.Headers.TryGetValue("X-List", out v);
            return n + "/" + v.Length;
          }}</value></set-header>
          <set-header name="X-Linq" exists-action="override"><value>@(string.Join(";", context.Request.Headers.Where(h => h.Key.StartsWith("x-li")).Select(h => new {{ h.Key, n = h.Value.Length }}).Select(o => o.Key + "=" + o.n)))</value></set-header>
          <set-header name="X-Query-Linq" exists-action="override"><value>@(context.Request.Url.Query.Sum(q => q.Value.Length).ToString())</value></set-header>
        </inbound>
      </policies>
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
"#,
        backend = backend.url()
    );
    let _gw = Gatehouse::start(Path::new(BIN), &config, addr)
        .await
        .expect("gatehouse starts");
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/h/x?a=1&a=2"))
        .header("X-List", "one, two")
        .header("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let seen = backend.last_request().expect("backend called");
    assert_eq!(seen.header("x-count"), Some("2"));
    assert_eq!(seen.header("x-second"), Some("two"));
    assert_eq!(seen.header("x-joined"), Some("one, two"));
    assert_eq!(seen.header("x-date-count"), Some("1"));
    assert_eq!(seen.header("x-last-a"), Some("2"));
    assert_eq!(seen.header("x-pairs"), Some("2/2"));
    // LINQ walks KeyValuePair<string, string[]>s; the HTTP library gives header names in lower
    // case (docs/policies.md says so), so "X-List" is enumerated as "x-list"; headers set
    // by the policies above are seen too, as in APIM.
    assert_eq!(seen.header("x-linq"), Some("x-list=2"));
    assert_eq!(seen.header("x-query-linq"), Some("2"));
}
