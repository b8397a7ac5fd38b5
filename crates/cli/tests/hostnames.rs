//! End to end: host names per component (`hostname_configurations`). Each component's TLS
//! listener chooses its certificate by SNI among its own entries; in internal mode a component
//! answers only its host names (404 naming the host and the component otherwise), in external
//! mode any host; `gatehouse net dns-records` prints the records an internal deployment needs.
//! Clients bind loopback source addresses standing for the virtual network.

use gatehouse_testkit::tls::TestCa;
use gatehouse_testkit::{Gatehouse, Probe, TempDir, free_addr_on};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
/// A source inside the virtual network (127.10.0.0/16).
const IN_VNET: Ipv4Addr = Ipv4Addr::new(127, 10, 2, 9);
/// The components' private address inside the subnet.
const PRIVATE_VIP: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 4);
const HEALTH: &str = "/status-0123456789abcdef";

/// GET `path` with `Host: host` from `source` to `to`: status and body.
async fn get(source: Ipv4Addr, to: SocketAddr, host: &str, path: &str) -> (u16, String) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .expect("bind the client's source address");
    let mut stream = socket.connect(to).await.expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("an answer within 10 s")
    .expect("reads");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A config of service `inside` of the given network type, with the gateway and the portal on
/// the private address and an NSG that lets the virtual network in.
fn network_config(kind: &str, gateway: SocketAddr, portal: SocketAddr) -> String {
    format!(
        r#"
service: {{ name: inside, sku: developer }}
hostname_configurations:
  - {{ type: Proxy, host_name: api.contoso.test }}
  - {{ type: DeveloperPortal, host_name: developer.contoso.test }}
network:
  type: {kind}
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ private: "{gateway}" }}
    portal: {{ private: "{portal}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: allow-vnet, priority: 200, direction: inbound, access: allow, protocol: tcp, source: VirtualNetwork, source_ports: "*", destination: "*", destination_ports: "*" }}
"#
    )
}

async fn start(config: &str) -> (Gatehouse, TempDir) {
    let data = TempDir::new().expect("data dir");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env("RUST_LOG", "info")
        .probe(Probe::Log("developer portal listening".into()))
        .start(config)
        .await
        .expect("gatehouse starts");
    (gw, data)
}

#[tokio::test]
async fn internal_mode_answers_only_each_components_host_names() {
    let gateway = free_addr_on(PRIVATE_VIP);
    let portal = free_addr_on(PRIVATE_VIP);
    let (_gw, _data) = start(&network_config("internal", gateway, portal)).await;

    // The gateway: its configured and its default host name (with a port, in any case) are
    // answered; another component's name and the IP address get the 404 that says why.
    for host in [
        "api.contoso.test",
        "inside.azure-api.net",
        &format!("Inside.Azure-Api.NET:{}", gateway.port()),
    ] {
        assert_eq!(get(IN_VNET, gateway, host, HEALTH).await.0, 200, "{host}");
    }
    let (status, body) = get(IN_VNET, gateway, "inside.portal.azure-api.net", HEALTH).await;
    assert_eq!(status, 404);
    assert!(
        body.contains(
            "host 'inside.portal.azure-api.net' is not a host name of the gateway; configured: api.contoso.test, inside.azure-api.net"
        ),
        "{body}"
    );
    let (status, body) = get(IN_VNET, gateway, &gateway.to_string(), HEALTH).await;
    assert_eq!(status, 404);
    assert!(
        body.contains(&format!(
            "host '{}' is not a host name of the gateway",
            gateway.ip()
        )),
        "{body}"
    );

    // The portal answers both portal kinds' names, not the gateway's nor its IP.
    for host in [
        "developer.contoso.test",
        "inside.portal.azure-api.net",
        "inside.developer.azure-api.net",
    ] {
        assert_eq!(get(IN_VNET, portal, host, "/").await.0, 200, "{host}");
    }
    let (status, body) = get(IN_VNET, portal, "api.contoso.test", "/").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        "host 'api.contoso.test' is not a host name of the developer portal; configured: developer.contoso.test, inside.portal.azure-api.net, inside.developer.azure-api.net"
    );
    let (status, body) = get(IN_VNET, portal, &portal.to_string(), "/signup").await;
    assert_eq!(status, 404);
    assert!(
        body.starts_with(&format!(
            "host '{}' is not a host name of the developer portal",
            portal.ip()
        )),
        "{body}"
    );
}

#[tokio::test]
async fn external_mode_answers_any_host() {
    let gateway = free_addr_on(PRIVATE_VIP);
    let portal = free_addr_on(PRIVATE_VIP);
    let (_gw, _data) = start(&network_config("external", gateway, portal)).await;
    for host in [gateway.to_string().as_str(), "anything.example"] {
        assert_eq!(get(IN_VNET, gateway, host, HEALTH).await.0, 200, "{host}");
    }
    for host in [portal.to_string().as_str(), "anything.example"] {
        assert_eq!(get(IN_VNET, portal, host, "/").await.0, 200, "{host}");
    }
}

#[tokio::test]
async fn each_component_chooses_its_certificate_by_sni() {
    let dir = TempDir::new().expect("temp dir");
    let ca = TestCa::new();
    // One certificate per name, each valid for that name alone: a client that verifies the
    // name succeeds only when the listener chose the certificate by SNI.
    let mut files = Vec::new();
    for (name, file) in [
        ("portal.contoso.test", "portal"),
        ("developer.contoso.test", "developer"),
        ("management.contoso.test", "management"),
        ("api.contoso.test", "gateway"),
    ] {
        let (cert, key) = ca.issue(&[name]).write_pem(dir.path(), file);
        files.push((cert.display().to_string(), key.display().to_string()));
    }
    let gateway = free_addr_on(Ipv4Addr::LOCALHOST);
    let portal = free_addr_on(Ipv4Addr::LOCALHOST);
    let management = free_addr_on(Ipv4Addr::LOCALHOST);
    let cert = |i: usize| {
        format!(
            "{{ cert_file: '{}', key_file: '{}' }}",
            files[i].0, files[i].1
        )
    };
    let config = format!(
        r#"
service: {{ name: contoso }}
gateway:
  listeners: [ {{ address: "{gateway}", tls: true }} ]
hostname_configurations:
  - {{ type: Portal, host_name: portal.contoso.test, certificate: {} }}
  - {{ type: DeveloperPortal, host_name: developer.contoso.test, certificate: {} }}
  - {{ type: Management, host_name: management.contoso.test, certificate: {} }}
  - {{ type: Proxy, host_name: api.contoso.test, certificate: {} }}
network:
  endpoints:
    portal: {{ public: {{ address: "{portal}", tls: true }} }}
    management: {{ public: {{ address: "{management}", tls: true }} }}
"#,
        cert(0),
        cert(1),
        cert(2),
        cert(3)
    );
    let data = TempDir::new().expect("data dir");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env("RUST_LOG", "info")
        .probe(Probe::Log("developer portal listening".into()))
        .start(&config)
        .await
        .expect("gatehouse starts");
    let root = reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("CA");
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .resolve("portal.contoso.test", portal)
        .resolve("developer.contoso.test", portal)
        .resolve("management.contoso.test", management)
        .resolve("api.contoso.test", gateway)
        .build()
        .expect("client");
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(&url).send().await.map(|r| r.status().as_u16()) }
    };
    let pp = portal.port();
    let mp = management.port();
    let gp = gateway.port();
    // The portal's listener serves both portal names, each with its own certificate.
    assert_eq!(
        status(format!("https://portal.contoso.test:{pp}/"))
            .await
            .ok(),
        Some(200)
    );
    assert_eq!(
        status(format!("https://developer.contoso.test:{pp}/"))
            .await
            .ok(),
        Some(200)
    );
    // The management API's listener has its own certificate.
    let m = status(format!("https://management.contoso.test:{mp}/openapi.json")).await;
    assert!(m.is_ok(), "management over TLS: {m:?}");
    // The gateway keeps the Proxy certificate.
    let g = status(format!("https://api.contoso.test:{gp}{HEALTH}")).await;
    assert_eq!(g.ok(), Some(200));
    // A component never serves another component's certificate: the portal's listener asked
    // for the management name answers with a portal certificate, which the client refuses.
    let resolve_wrong = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("CA")])
        .resolve("management.contoso.test", portal)
        .build()
        .expect("client");
    let wrong = resolve_wrong
        .get(format!("https://management.contoso.test:{pp}/"))
        .send()
        .await;
    assert!(
        wrong.is_err(),
        "the portal served the management certificate"
    );
    // Certificates reload with the config: a new Portal name with its own certificate is served
    // by the running portal listener.
    let (cert, key) = ca
        .issue(&["portal2.contoso.test"])
        .write_pem(dir.path(), "portal2");
    let reloaded = config
        .replace(
            "host_name: portal.contoso.test",
            "host_name: portal2.contoso.test",
        )
        .replace(&files[0].0, &cert.display().to_string())
        .replace(&files[0].1, &key.display().to_string());
    let mark = gw.log_mark();
    gw.write_config(&reloaded).expect("rewrite the config");
    gw.wait_for_log_since(mark, "config reloaded", std::time::Duration::from_secs(20))
        .await
        .expect("the change is reloaded");
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("CA")])
        .resolve("portal2.contoso.test", portal)
        .build()
        .expect("client");
    let got = client
        .get(format!("https://portal2.contoso.test:{pp}/"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(got.as_ref().ok(), Some(&200), "{got:?}");
}

#[test]
fn dns_records_in_zone_and_json_formats() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("gatehouse.yaml");
    let config = network_config(
        "internal",
        SocketAddr::new(IpAddr::V4(PRIVATE_VIP), 443),
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 10, 1, 5)), 443),
    );
    std::fs::write(&path, config).expect("config written");
    let run = |format: &str| {
        let out = std::process::Command::new(BIN)
            .args(["net", "dns-records", "--config"])
            .arg(&path)
            .args(["--format", format])
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };

    let json: serde_json::Value = serde_json::from_str(&run("json")).expect("JSON");
    let rows: Vec<(String, String, String, String)> = json
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("name"), s("type"), s("address"), s("component"))
        })
        .collect();
    let row = |n: &str, a: &str, c: &str| (n.into(), "A".into(), a.into(), c.into());
    assert_eq!(
        rows,
        vec![
            row("api.contoso.test", "127.10.1.4", "gateway"),
            row("inside.azure-api.net", "127.10.1.4", "gateway"),
            row("developer.contoso.test", "127.10.1.5", "portal"),
            row("inside.portal.azure-api.net", "127.10.1.5", "portal"),
            row("inside.developer.azure-api.net", "127.10.1.5", "portal"),
        ]
    );

    // The zone text, read by a real zone-file parser.
    let zone = run("zone");
    let (origin, records) = hickory_proto::serialize::txt::Parser::new(zone.as_str(), None, None)
        .parse()
        .unwrap_or_else(|e| panic!("zone parses: {e}\n{zone}"));
    assert_eq!(origin.to_ascii(), "azure-api.net.");
    let mut got: Vec<(String, String, u32)> = records
        .values()
        .flat_map(|set| set.records_without_rrsigs())
        .map(|r| (r.name.to_ascii(), r.data.to_string(), r.ttl))
        .collect();
    got.sort();
    let mut want: Vec<(String, String, u32)> = [
        ("api.contoso.test.", "127.10.1.4"),
        ("inside.azure-api.net.", "127.10.1.4"),
        ("developer.contoso.test.", "127.10.1.5"),
        ("inside.portal.azure-api.net.", "127.10.1.5"),
        ("inside.developer.azure-api.net.", "127.10.1.5"),
    ]
    .iter()
    .map(|(n, a)| (n.to_string(), a.to_string(), 300))
    .collect();
    want.sort();
    assert_eq!(got, want, "{zone}");
}

#[test]
fn dns_records_need_a_private_address() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("gatehouse.yaml");
    std::fs::write(&path, "service: { name: plain }\n").expect("config written");
    let out = std::process::Command::new(BIN)
        .args(["net", "dns-records", "--config"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no private addresses to publish"), "{err}");
}
