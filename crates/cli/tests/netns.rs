//! End to end in real network namespaces: an "internet" host, a "vnet" host and the gateway
//! host, joined by veth pairs, all created (and removed) by the test itself.
//!
//! ```text
//!  gh-vnet-<id>                       gh-gw-<id>                        gh-inet-<id>
//!  10.213.1.10/24 ── veth ── 10.213.1.4/24   10.213.2.1/30 ── veth ── 10.213.2.2/30
//!  (default via .1.4)         gatehouse + demo backend               (default via .2.1)
//! ```
//!
//! The virtual network is 10.213.1.0/24; the gateway's subnet 10.213.1.0/29 holds its private
//! address 10.213.1.4; 10.213.2.1 is its public side. The real `gatehouse` binary runs inside
//! the gateway namespace (`ip netns exec`), in front of a second gatehouse in demo mode on the
//! namespace's own loopback as its backend; the clients are `curl` inside the other two
//! namespaces. Traffic goes only to addresses of the namespaces made here.
//!
//! - internal mode: served to the vnet host; the internet host's connections are closed (even
//!   though an NSG rule allows the internet), and nothing listens on the public side;
//! - external mode with an NSG allowing the internet on the public listener's port: both hosts
//!   served; a deny rule for the internet host's address then refuses it.
//!
//! Needs root and iproute2: otherwise the test prints why it is skipped and passes.

use gatehouse_testkit::{Gatehouse, Probe};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

const GW_PRIVATE: &str = "10.213.1.4";
const VNET_HOST: &str = "10.213.1.10";
const GW_PUBLIC: &str = "10.213.2.1";
const INET_HOST: &str = "10.213.2.2";
/// The demo backend, on the gateway namespace's loopback.
const BACKEND: &str = "127.0.0.1:9000";
/// The demo backend's subscription key (`gatehouse serve` without a config).
const DEMO_KEY: &str = "demo-primary-key-0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------------------

/// Runs `program args`; the output, or why it could not run.
fn run(program: &str, args: &[&str]) -> Result<Output, String> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))
}

/// Runs `ip args`; fails with its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = run("ip", args)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The three namespaces and the veth pairs between them. Dropping it (also while a test
/// panics) kills whatever still runs inside them and deletes them, which deletes the veths.
struct Netns {
    inet: String,
    vnet: String,
    gw: String,
    /// Namespaces created so far (removed on drop).
    created: Vec<String>,
}

/// Why the scenario cannot run here.
struct Skip(String);

impl Netns {
    fn create() -> Result<Netns, Skip> {
        let uid = run("id", &["-u"]).map_err(Skip)?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err(Skip("not running as root".into()));
        }
        run("ip", &["-V"]).map_err(|e| Skip(format!("iproute2 is missing: {e}")))?;
        match run("curl", &["--version"]) {
            Ok(out) if out.status.success() => {}
            _ => return Err(Skip("curl is missing".into())),
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}{}",
            std::process::id(),
            match COUNTER.fetch_add(1, Ordering::Relaxed) {
                0 => String::new(),
                n => format!("x{n}"),
            }
        );
        let mut net = Netns {
            inet: format!("gh-inet-{id}"),
            vnet: format!("gh-vnet-{id}"),
            gw: format!("gh-gw-{id}"),
            created: Vec::new(),
        };
        for ns in [net.inet.clone(), net.vnet.clone(), net.gw.clone()] {
            // If this fails, `net` drops and removes the ones made so far.
            ip(&["netns", "add", &ns])
                .map_err(|e| Skip(format!("network namespaces are not available: {e}")))?;
            net.created.push(ns);
        }
        // From here on, a failure is a real failure.
        net.wire(&id)
            .unwrap_or_else(|e| panic!("building the namespaces: {e}"));
        Ok(net)
    }

    fn wire(&self, id: &str) -> Result<(), String> {
        let (gw, vnet, inet) = (self.gw.as_str(), self.vnet.as_str(), self.inet.as_str());
        // Interface names (at most 15 bytes), made only inside the new namespaces.
        let (gw_v, vnet_v) = (format!("ghv{id}g"), format!("ghv{id}v"));
        let (gw_i, inet_i) = (format!("ghi{id}g"), format!("ghi{id}i"));
        for name in [&gw_v, &vnet_v, &gw_i, &inet_i] {
            assert!(name.len() <= 15, "interface name {name} too long");
        }
        #[rustfmt::skip]
        let steps: Vec<Vec<&str>> = vec![
            vec!["-n", gw, "link", "add", &gw_v, "type", "veth", "peer", "name", &vnet_v, "netns", vnet],
            vec!["-n", gw, "link", "add", &gw_i, "type", "veth", "peer", "name", &inet_i, "netns", inet],
            vec!["-n", gw, "addr", "add", "10.213.1.4/24", "dev", &gw_v],
            vec!["-n", gw, "addr", "add", "10.213.2.1/30", "dev", &gw_i],
            vec!["-n", vnet, "addr", "add", "10.213.1.10/24", "dev", &vnet_v],
            vec!["-n", inet, "addr", "add", "10.213.2.2/30", "dev", &inet_i],
            vec!["-n", gw, "link", "set", "lo", "up"],
            vec!["-n", vnet, "link", "set", "lo", "up"],
            vec!["-n", inet, "link", "set", "lo", "up"],
            vec!["-n", gw, "link", "set", &gw_v, "up"],
            vec!["-n", gw, "link", "set", &gw_i, "up"],
            vec!["-n", vnet, "link", "set", &vnet_v, "up"],
            vec!["-n", inet, "link", "set", &inet_i, "up"],
            // Both hosts reach every gateway address (its other side included) through it.
            vec!["-n", vnet, "route", "add", "default", "via", GW_PRIVATE],
            vec!["-n", inet, "route", "add", "default", "via", GW_PUBLIC],
        ];
        for step in steps {
            ip(&step)?;
        }
        Ok(())
    }

    /// `curl` from inside `ns`.
    fn curl(&self, ns: &str, url: &str, headers: &[&str]) -> Curl {
        let mut args = vec![
            "netns",
            "exec",
            ns,
            "curl",
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--connect-timeout",
            "3",
            "--max-time",
            "5",
            "--write-out",
            "\n%{http_code}",
        ];
        for h in headers {
            args.extend(["--header", h]);
        }
        args.push(url);
        let started = Instant::now();
        let out = run("ip", &args).unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", stdout.as_str()));
        Curl {
            what: format!("curl {url} from {ns}"),
            exit: out.status.code(),
            status: code.trim().parse().unwrap_or(0),
            body: body.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            elapsed: started.elapsed(),
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            // Only processes this test started can be inside: end them by their ids.
            if let Ok(out) = run("ip", &["netns", "pids", ns]) {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = run("kill", &["-KILL", pid]);
                }
            }
            if let Err(e) = ip(&["netns", "del", ns]) {
                eprintln!("netns test: could not delete namespace {ns}: {e}");
            }
        }
    }
}

/// What one `curl` got.
#[derive(Debug)]
struct Curl {
    what: String,
    exit: Option<i32>,
    /// 0 when no response arrived.
    status: u16,
    body: String,
    stderr: String,
    elapsed: Duration,
}

impl Curl {
    #[track_caller]
    fn assert_served(&self) {
        assert!(
            self.exit == Some(0) && self.status == 200,
            "{}: expected 200, got {self:?}",
            self.what
        );
        assert!(
            self.body.contains("gatehouse demo echo"),
            "{}: expected the backend's echo, got {self:?}",
            self.what
        );
    }

    /// No response: the connection was closed or refused (curl exits non-zero).
    #[track_caller]
    fn assert_no_response(&self) {
        assert!(
            self.exit != Some(0) && self.status == 0,
            "{}: expected no response, got {self:?}",
            self.what
        );
        assert!(!self.stderr.is_empty(), "{}: curl says why", self.what);
        // Closed or refused at once, not a timeout (curl's exit code 28).
        assert_ne!(self.exit, Some(28), "{}: timed out: {self:?}", self.what);
        assert!(
            self.elapsed < Duration::from_secs(3),
            "{}: took {:?}",
            self.what,
            self.elapsed
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/// A process started by the test (killed and reaped on drop), and its data directory (removed
/// after it).
struct Spawned {
    child: Child,
    _data: gatehouse_testkit::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo gatehouse (built-in echo backend behind a demo API) inside the gateway namespace.
fn start_backend(net: &Netns) -> Spawned {
    // The demo keeps its store in a data directory: a temporary one, never the user's.
    let data = gatehouse_testkit::TempDir::new().expect("data dir");
    let child = Command::new("ip")
        .args(["netns", "exec", &net.gw, BIN, "serve", "--listen", BACKEND])
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning the demo backend");
    let backend = Spawned { child, _data: data };
    let url = format!("http://{BACKEND}/status-0123456789abcdef");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if net.curl(&net.gw, &url, &[]).status == 200 {
            return backend;
        }
        assert!(
            Instant::now() < deadline,
            "the demo backend did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The gateway config: `/api/...` (no key of its own: the demo backend's key header passes
/// through) in front of the demo backend, and `network` as the network section.
fn config(name: &str, network: &str) -> String {
    format!(
        r#"
service: {{ name: {name} }}
backends:
  demo: {{ url: "http://{BACKEND}/echo" }}
apis:
  - id: api
    path: api
    backend: demo
    subscription_required: false
    subscription_key: {{ header: X-Gateway-Key, query: gateway-key }}
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
network:
{network}
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
"#
    )
}

/// An injected network section: the virtual network 10.213.1.0/24, the subnet 10.213.1.0/29
/// with NSG `apim-nsg` holding `rules` (YAML list items).
fn network(kind: &str, endpoints: &str, rules: &[&str]) -> String {
    let rules: String = rules.iter().map(|r| format!("        - {r}\n")).collect();
    format!(
        r#"  type: {kind}
  virtual_network:
    address_space: [10.213.1.0/24]
    subnet: {{ name: apim, prefix: 10.213.1.0/29, nsg: apim-nsg }}
  endpoints:
    gateway: {endpoints}
  network_security_groups:
    apim-nsg:
      security_rules:
{rules}"#
    )
}

/// The real gatehouse inside the gateway namespace.
async fn start_gateway(net: &Netns, yaml: &str) -> Gatehouse {
    Gatehouse::builder(Path::new("ip"))
        .expect("fixture")
        .args(["netns", "exec", net.gw.as_str(), BIN, "serve"])
        .env("RUST_LOG", "info")
        .probe(Probe::Log("gatehouse started".into()))
        .start(yaml)
        .await
        .expect("gatehouse starts inside the gateway namespace")
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Waits (up to 5 s) for a JSON log line satisfying `pred`.
async fn wait_log(gw: &Gatehouse, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = gw.json_logs().into_iter().find(|v| pred(v)) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "no log line for {what}; output:\n{}",
            gw.logs_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The access line of a request from `client` to `listener`, with its NSG rule.
async fn assert_access(gw: &Gatehouse, client: &str, listener: &str, rule: (&str, u64)) {
    let line = wait_log(gw, &format!("{client} -> {listener}"), |v| {
        str_field(v, "target") == Some("gatehouse::access")
            && str_field(v, "client") == Some(client)
            && str_field(v, "listener") == Some(listener)
    })
    .await;
    assert_eq!(str_field(&line, "nsg_rule"), Some(rule.0), "{line}");
    assert_eq!(
        line.get("nsg_priority").and_then(Value::as_u64),
        Some(rule.1),
        "{line}"
    );
    assert_eq!(
        line.get("status").and_then(Value::as_u64),
        Some(200),
        "{line}"
    );
}

/// The refusal line of a connection from `source` (any port) to `destination`.
async fn assert_refusal(
    gw: &Gatehouse,
    source: &str,
    destination: &str,
    stage: &str,
    rule: Option<(&str, u64)>,
) {
    let prefix = format!("{source}:");
    let line = wait_log(gw, &format!("refusal {source} -> {destination}"), |v| {
        str_field(v, "target") == Some("gatehouse::network")
            && str_field(v, "message") == Some("connection refused")
            && str_field(v, "source").is_some_and(|s| s.starts_with(&prefix))
            && str_field(v, "destination") == Some(destination)
    })
    .await;
    assert_eq!(str_field(&line, "stage"), Some(stage), "{line}");
    assert_eq!(str_field(&line, "rule"), rule.map(|r| r.0), "{line}");
    assert_eq!(
        line.get("priority").and_then(Value::as_u64),
        rule.map(|r| r.1),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn internal_and_external_modes_across_network_namespaces() {
    let net = match Netns::create() {
        Ok(net) => net,
        Err(Skip(reason)) => {
            eprintln!(
                "SKIPPED internal_and_external_modes_across_network_namespaces: {reason} (needs root, iproute2 and curl; CI runs it as root)"
            );
            return;
        }
    };
    // Dropped before `net` (reverse order of declaration), also on panic.
    let _backend = start_backend(&net);
    let key = format!("Ocp-Apim-Subscription-Key: {DEMO_KEY}");
    let key = [key.as_str()];
    let url = |addr: &str| format!("http://{addr}/api/hello");

    // (a) internal: only the private listener; the internet host is refused even though an
    // NSG rule allows the internet.
    {
        let private = format!("{GW_PRIVATE}:8443");
        let yaml = config(
            "netns-internal",
            &network(
                "internal",
                &format!(r#"{{ private: "{private}" }}"#),
                &[
                    r#"{ name: allow-internet, priority: 100, direction: inbound, access: allow, protocol: tcp, source: Internet, destination: "*", destination_ports: "8443" }"#,
                ],
            ),
        );
        let gw = start_gateway(&net, &yaml).await;

        // Internal mode answers only the gateway's host names (crates/gateway/src/host_header.rs).
        let by_name = [key[0], "Host: netns-internal.azure-api.net"];
        net.curl(&net.vnet, &url(&private), &by_name)
            .assert_served();
        assert_access(&gw, VNET_HOST, &private, ("AllowVnetInBound", 65000)).await;
        let by_ip = net.curl(&net.vnet, &url(&private), &key);
        assert_eq!(by_ip.status, 404, "by its IP address: {by_ip:?}");

        let r = net.curl(&net.inet, &url(&private), &key);
        r.assert_no_response();
        assert_refusal(&gw, INET_HOST, &private, "exposure", None).await;

        // Nothing listens on the gateway's public side.
        let r = net.curl(&net.inet, &url(&format!("{GW_PUBLIC}:8443")), &key);
        r.assert_no_response();
        assert_eq!(r.exit, Some(7), "connection refused by the kernel: {r:?}");
    }

    // (b) external, the NSG allowing the internet on the public listener's port: both hosts.
    let allow_internet = r#"{ name: allow-internet-http, priority: 100, direction: inbound, access: allow, protocol: tcp, source: Internet, destination: "*", destination_ports: "8080" }"#;
    {
        let (public, private) = (format!("{GW_PUBLIC}:8080"), format!("{GW_PRIVATE}:8444"));
        let yaml = config(
            "netns-external",
            &network(
                "external",
                &format!(r#"{{ public: "{public}", private: "{private}" }}"#),
                &[allow_internet],
            ),
        );
        let gw = start_gateway(&net, &yaml).await;

        net.curl(&net.inet, &url(&public), &key).assert_served();
        assert_access(&gw, INET_HOST, &public, ("allow-internet-http", 100)).await;
        net.curl(&net.vnet, &url(&public), &key).assert_served();
        assert_access(&gw, VNET_HOST, &public, ("AllowVnetInBound", 65000)).await;
        net.curl(&net.vnet, &url(&private), &key).assert_served();
        assert_access(&gw, VNET_HOST, &private, ("AllowVnetInBound", 65000)).await;

        // The private listener stays the virtual network's.
        net.curl(&net.inet, &url(&private), &key)
            .assert_no_response();
        assert_refusal(&gw, INET_HOST, &private, "exposure", None).await;
    }

    // (b') the same with a rule denying the internet host: refused, by that rule.
    {
        let (public, private) = (format!("{GW_PUBLIC}:8081"), format!("{GW_PRIVATE}:8445"));
        let yaml = config(
            "netns-external",
            &network(
                "external",
                &format!(r#"{{ public: "{public}", private: "{private}" }}"#),
                &[
                    &format!(
                        r#"{{ name: deny-inet-host, priority: 100, direction: inbound, access: deny, protocol: "*", source: "{INET_HOST}/32", destination: "*", destination_ports: "*" }}"#
                    ),
                    &allow_internet
                        .replace("8080", "8081")
                        .replace("priority: 100", "priority: 110"),
                ],
            ),
        );
        let gw = start_gateway(&net, &yaml).await;

        net.curl(&net.inet, &url(&public), &key)
            .assert_no_response();
        assert_refusal(
            &gw,
            INET_HOST,
            &public,
            "nsg",
            Some(("deny-inet-host", 100)),
        )
        .await;
        net.curl(&net.vnet, &url(&public), &key).assert_served();
        assert_access(&gw, VNET_HOST, &public, ("AllowVnetInBound", 65000)).await;
    }
}
