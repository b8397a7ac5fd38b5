//! End to end: the seed's remaining network rules (docs/network.md "Azure service tags", "NSG
//! warnings", "Capacity", "Outbound integration") in the real `gatehouse` binary:
//! `config validate` and `net show` on temporary configs, and an NSG rule written with a tag of
//! Azure's service tags file enforced against clients bound to loopback source addresses.
//!
//! tests/fixtures/azure-service-tags.json mimics Azure's published "Service Tags" format; its
//! prefixes are documentation ranges, plus loopback ranges the enforcement test plays the
//! internet with (on Linux all of 127.0.0.0/8 is local): `ApiManagement.WestEurope` is
//! 127.50.0.0/24 and `AzureCloud` holds 127.51.0.0/16.

use gatehouse_testkit::{Gatehouse, MockBackend, Probe, free_addr_on};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure-service-tags.json")
}

/// A temporary directory holding `gatehouse.yaml` (the text given) and `tags.json` (the
/// fixture), so that the config names the tags file relative to itself.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new(yaml: &str) -> Dir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(fixture(), dir.path().join("tags.json")).expect("copy fixture");
        std::fs::write(dir.path().join("gatehouse.yaml"), yaml).expect("write config");
        Dir { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("gatehouse.yaml")
    }

    /// Runs `gatehouse <args> <config>`; returns (exit code, stdout).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(BIN)
            .args(args)
            .arg(self.config())
            .output()
            .expect("run gatehouse");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn validate_json(&self) -> (i32, Value) {
        let (code, out) = self.run(&["config", "validate", "--json"]);
        (
            code,
            serde_json::from_str(&out).expect("validate --json prints JSON"),
        )
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A Premium deployment in West Europe, injected (`kind`) into 10.10.1.0/24, its NSG's rules
/// given as YAML flow items.
fn premium(kind: &str, capacity: u32, subnet: &str, rules: &[&str]) -> String {
    format!(
        r#"
service: {{ name: contoso, sku: premium, location: westeurope, capacity: {capacity} }}
network:
  type: {kind}
  service_tags_file: tags.json
  load_balancer: [168.63.129.16]
  virtual_network: {{ address_space: [10.10.0.0/16], subnet: {{ prefix: {subnet}, nsg: apim-nsg }} }}
  endpoints: {{ gateway: {{ public: "0.0.0.0:8443", private: "10.10.1.4:8443" }} }}
  network_security_groups:
    apim-nsg:
      security_rules: [{}]
"#,
        rules.join(", ")
    )
}

const MANAGEMENT: &str = "{ name: mgmt, priority: 100, direction: inbound, access: allow, protocol: tcp, source: ApiManagement, source_ports: \"*\", destination: VirtualNetwork, destination_ports: \"3443\" }";
const CLIENTS: &str = "{ name: clients, priority: 110, direction: inbound, access: allow, protocol: tcp, source: Internet, source_ports: \"*\", destination: VirtualNetwork, destination_ports: \"8443\" }";

#[test]
fn validate_and_show_warn_when_the_nsg_lacks_azures_required_rules() {
    let d = Dir::new(&premium("external", 1, "10.10.1.0/24", &[]));
    let (code, v) = d.validate_json();
    assert_eq!(code, 0, "warnings never change the exit code: {v:#}");
    assert_eq!(v["ok"], true);
    let warnings = strings(&v["warnings"]);
    let mgmt = "warning: network.network_security_groups.apim-nsg: NSG 'apim-nsg' lacks the inbound rule VNet injection requires: TCP ApiManagement -> VirtualNetwork port 3443 (the management endpoint) (denied by rule 'DenyAllInBound', priority 65500); add under security_rules: { name: Allow-ApiManagement-3443-In, priority: 4096, direction: inbound, access: allow, protocol: tcp, source: ApiManagement, source_ports: \"*\", destination: VirtualNetwork, destination_ports: \"3443\" }";
    assert!(warnings.iter().any(|w| w == mgmt), "{warnings:#?}");
    assert!(
        warnings.iter().any(|w| w.contains(
            "lacks an inbound rule from Internet to the external gateway's public listener 0.0.0.0:8443: it is unreachable from the internet"
        ) && w.contains("source: Internet, source_ports: \"*\", destination: VirtualNetwork, destination_ports: \"8443\"")),
        "{warnings:#?}"
    );
    // The text form prints the same lines, file first.
    let (code, text) = d.run(&["config", "validate"]);
    assert_eq!(code, 0);
    assert!(
        text.contains(&format!("{}: {mgmt}", d.config().display())),
        "{text}"
    );

    // `net show` warns too, in text and JSON.
    let (code, text) = d.run(&["net", "show", "--config"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.lines().any(|l| l == mgmt), "{text}");
    let (_, json) = d.run(&["net", "show", "--json", "--config"]);
    let show: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(strings(&show["warnings"]).len(), 2, "{show:#}");

    // Pasting the rules silences them; an outbound deny brings the dependencies' warnings.
    let fixed = Dir::new(&premium(
        "external",
        1,
        "10.10.1.0/24",
        &[MANAGEMENT, CLIENTS],
    ));
    let (code, v) = fixed.validate_json();
    assert_eq!(code, 0);
    assert!(
        !strings(&v["warnings"])
            .iter()
            .any(|w| w.contains(" lacks ")),
        "{v:#}"
    );
    let deny = "{ name: deny-internet-out, priority: 999, direction: outbound, access: deny, protocol: \"*\", source: VirtualNetwork, destination: Internet }";
    let locked = Dir::new(&premium(
        "external",
        1,
        "10.10.1.0/24",
        &[MANAGEMENT, CLIENTS, deny],
    ));
    let warnings = strings(&locked.validate_json().1["warnings"]);
    for want in [
        "VirtualNetwork -> Storage port 443",
        "VirtualNetwork -> Sql port 1433",
        "VirtualNetwork -> AzureKeyVault port 443",
        "VirtualNetwork -> AzureMonitor port 1886",
        "VirtualNetwork -> Internet port 80",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(want)
                && w.contains("denied by rule 'deny-internet-out', priority 999")),
            "{want}: {warnings:#?}"
        );
    }
}

#[test]
fn validate_refuses_unknown_tags_bad_files_and_capacities_that_do_not_fit() {
    // A tag absent from the file: the rule and the tag are named.
    let sql = "{ name: sql-out, priority: 120, direction: outbound, access: allow, protocol: tcp, source: VirtualNetwork, destination: Sql.WestEurope, destination_ports: \"1433\" }";
    let d = Dir::new(&premium(
        "external",
        1,
        "10.10.1.0/24",
        &[MANAGEMENT, CLIENTS, sql],
    ));
    let (code, v) = d.validate_json();
    assert_eq!(code, 1, "{v:#}");
    let errors = strings(&v["errors"]);
    assert!(
        errors.iter().any(|e| e.contains(
            "network.network_security_groups.apim-nsg.security_rules[2].destination: unknown service tag 'Sql.WestEurope' in rule 'sql-out': not in the service tags file"
        )),
        "{errors:#?}"
    );
    // The regional tag that is in the file, in another case, passes.
    let storage = sql.replace("Sql.WestEurope", "storage.westeurope");
    let ok = Dir::new(&premium(
        "external",
        1,
        "10.10.1.0/24",
        &[MANAGEMENT, CLIENTS, &storage],
    ));
    assert_eq!(ok.validate_json().0, 0);

    // A broken file: the file and the JSON path are named.
    std::fs::write(
        ok.dir.path().join("tags.json"),
        r#"{"values":[{"name":"Sql","properties":{"addressPrefixes":["10.0.0.0/8","nope"]}}]}"#,
    )
    .expect("write");
    let (code, v) = ok.validate_json();
    assert_eq!(code, 1);
    let tags = ok.dir.path().join("tags.json");
    assert!(
        strings(&v["errors"]).iter().any(|e| e.contains(&format!(
            "network.service_tags_file: service tags file {}: at values[0].properties.addressPrefixes[1]: invalid prefix 'nope'",
            tags.display()
        ))),
        "{v:#}"
    );

    // Capacity against the subnet, with net plan's arithmetic: a /29 holds one Premium unit.
    let small = Dir::new(&premium(
        "external",
        2,
        "10.10.1.0/29",
        &[MANAGEMENT, CLIENTS],
    ));
    let (code, v) = small.validate_json();
    assert_eq!(code, 1, "{v:#}");
    assert!(
        strings(&v["errors"]).iter().any(|e| e.contains(
            "service.capacity: 2 unit(s) do not fit network.virtual_network.subnet 10.10.1.0/29: 2 units need 9 addresses (5 reserved + 2×2); 10.10.1.0/29 has 8"
        )),
        "{v:#}"
    );
    let plan = Command::new(BIN)
        .args([
            "net",
            "plan",
            "--subnet",
            "10.10.1.0/29",
            "--sku",
            "premium",
            "--type",
            "external",
            "--units",
            "2",
        ])
        .output()
        .expect("net plan");
    assert!(String::from_utf8_lossy(&plan.stdout).contains("2 unit(s): does not fit"));
    let one = Dir::new(&premium(
        "external",
        1,
        "10.10.1.0/29",
        &[MANAGEMENT, CLIENTS],
    ));
    assert_eq!(one.validate_json().0, 0);

    // Outbound integration: a v2 tier, and the subnet's facts.
    let integration = |sku: &str, subnet: &str| {
        format!(
            "service: {{ name: contoso, sku: {sku} }}\nnetwork:\n  virtual_network: {{ address_space: [10.10.0.0/16] }}\n  network_security_groups: {{ int-nsg: {{}} }}\n  outbound: {{ integration_subnet: {subnet} }}\n"
        )
    };
    let full = "{ prefix: 10.10.3.0/24, delegation: Microsoft.Web/serverFarms, nsg: int-nsg }";
    assert_eq!(
        Dir::new(&integration("standardv2", full)).validate_json().0,
        0
    );
    let (code, v) = Dir::new(&integration("premium", full)).validate_json();
    assert_eq!(code, 1);
    assert!(
        strings(&v["errors"]).iter().any(|e| e.contains(
            "network.outbound.integration_subnet: outbound VNet integration is not offered on the Premium tier"
        )),
        "{v:#}"
    );
    let undelegated = full.replace(", delegation: Microsoft.Web/serverFarms", "");
    let (code, v) = Dir::new(&integration("standardv2", &undelegated)).validate_json();
    assert_eq!(code, 1);
    assert!(
        strings(&v["errors"]).iter().any(|e| e.contains(
            "network.outbound.integration_subnet.delegation: the integration subnet must be delegated to Microsoft.Web/serverFarms"
        )),
        "{v:#}"
    );
}

/// `GET /echo/x` from `src` to `dst`: the response bytes, empty when the gateway closed the
/// connection without answering (an NSG refusal).
async fn get_from(src: Ipv4Addr, dst: SocketAddr) -> Vec<u8> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(src), 0))
        .unwrap_or_else(|e| panic!("binding a client socket to {src}: {e}"));
    let mut stream = tokio::time::timeout(Duration::from_secs(5), socket.connect(dst))
        .await
        .expect("connect in time")
        .expect("connect");
    let _ = stream
        .write_all(b"GET /echo/x HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n")
        .await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    out
}

#[tokio::test]
async fn a_rule_written_with_a_tag_of_the_file_is_enforced() {
    let backend = MockBackend::start().await.expect("backend");
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let private = free_addr_on(Ipv4Addr::new(127, 10, 1, 4));
    let port = public.port();
    let yaml = format!(
        r#"
service: {{ name: contoso, sku: premium, location: westeurope }}
backends:
  echo: {{ url: "{url}" }}
apis:
  - {{ id: echo, path: echo, backend: echo, subscription_required: false, operations: [ {{ id: any, method: "*", url_template: "/*" }} ] }}
network:
  type: external
  service_tags_file: {tags}
  virtual_network: {{ address_space: [127.10.0.0/16], subnet: {{ prefix: 127.10.1.0/24, nsg: apim-nsg }} }}
  endpoints: {{ gateway: {{ public: "{public}", private: "{private}" }} }}
  outbound: {{ allowed_destinations: [127.0.0.0/8] }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: from-apim-we, priority: 100, direction: inbound, access: allow, protocol: tcp, source: apimanagement.westeurope, destination: VirtualNetwork, destination_ports: "{port}" }}
        - {{ name: no-azure-cloud, priority: 110, direction: inbound, access: deny, protocol: "*", source: AzureCloud, destination: "*" }}
        - {{ name: internet, priority: 120, direction: inbound, access: allow, protocol: tcp, source: Internet, destination: VirtualNetwork, destination_ports: "{port}" }}
"#,
        url = backend.url(),
        tags = fixture().display(),
    );
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args(["serve"])
        .env("RUST_LOG", "info")
        .probe(Probe::Log("gatehouse started".into()))
        .start(&yaml)
        .await
        .expect("gatehouse starts");

    // In ApiManagement.WestEurope (allowed at 100, before AzureCloud's deny at 110).
    let r = get_from(Ipv4Addr::new(127, 50, 0, 7), public).await;
    assert!(
        r.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    // In AzureCloud: denied at 110 although Internet is allowed at 120.
    let r = get_from(Ipv4Addr::new(127, 51, 3, 9), public).await;
    assert!(
        r.is_empty(),
        "refused without a byte: {}",
        String::from_utf8_lossy(&r)
    );
    // Elsewhere on the internet: allowed at 120.
    let r = get_from(Ipv4Addr::new(127, 99, 0, 1), public).await;
    assert!(
        r.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    drop(gw);
}
