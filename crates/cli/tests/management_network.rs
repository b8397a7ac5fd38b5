//! End to end: the management API's and the developer portal's listeners
//! (`network.endpoints.management`, `network.endpoints.portal`) are judged like the gateway's — exposure and the NSG at accept, before a byte of HTTP — with clients bound to
//! loopback source addresses standing for the internet, the virtual network and a partner.

use gatehouse_testkit::{Gatehouse, Probe, free_addr_on};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
/// A source the NSG denies on the management port.
const PARTNER: Ipv4Addr = Ipv4Addr::new(127, 50, 0, 7);
/// A source inside the virtual network (127.10.0.0/16).
const IN_VNET: Ipv4Addr = Ipv4Addr::new(127, 10, 2, 9);
/// The gateway's (and the management API's) private address inside the subnet.
const PRIVATE_VIP: Ipv4Addr = Ipv4Addr::new(127, 10, 1, 4);

/// GET /openapi.json from `source` to `to`: the status code, or `None` when the connection
/// was closed without an answer (refused at accept).
async fn get_from(source: Ipv4Addr, to: SocketAddr) -> Option<u16> {
    get_path_from(source, to, "/openapi.json").await
}

async fn get_path_from(source: Ipv4Addr, to: SocketAddr, path: &str) -> Option<u16> {
    get_host_path_from(source, to, &to.to_string(), path).await
}

/// The same with a given `Host` (internal mode answers only a component's host names).
async fn get_host_path_from(
    source: Ipv4Addr,
    to: SocketAddr,
    host: &str,
    path: &str,
) -> Option<u16> {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .expect("bind the client's source address");
    let mut stream = socket.connect(to).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return None;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer and no close within 10 s");
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

#[tokio::test]
async fn management_endpoints_are_judged_by_exposure_and_the_nsg_at_accept() {
    let gateway = free_addr_on(Ipv4Addr::LOCALHOST);
    let public = free_addr_on(Ipv4Addr::LOCALHOST);
    let private = free_addr_on(PRIVATE_VIP);
    let mport = public.port();
    let config = format!(
        r#"
service: {{ name: guarded }}
network:
  type: external
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ public: "{gateway}" }}
    management: {{ public: "{public}", private: "{private}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: deny-partner-management, priority: 100, direction: inbound, access: deny, protocol: tcp, source: "{PARTNER}/32", source_ports: "*", destination: "*", destination_ports: "{mport}" }}
        - {{ name: allow-rest, priority: 200, direction: inbound, access: allow, protocol: tcp, source: "*", source_ports: "*", destination: "*", destination_ports: "*" }}
"#
    );
    let data = gatehouse_testkit::TempDir::new().expect("data dir");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env("RUST_LOG", "info")
        .probe(Probe::Log("management API listening".into()))
        .start(&config)
        .await
        .expect("gatehouse starts");
    gw.wait_for_log(&private.to_string(), Duration::from_secs(10))
        .await
        .expect("both management listeners up");

    // The internet (127.0.0.1 is outside the virtual network) reaches the public listener.
    assert_eq!(get_from(Ipv4Addr::LOCALHOST, public).await, Some(200));
    // The partner is denied by the NSG rule, at accept: no HTTP answer at all.
    assert_eq!(get_from(PARTNER, public).await, None);
    let line = gw
        .wait_for_log("deny-partner-management", Duration::from_secs(10))
        .await
        .expect("the refusal is logged with its rule");
    assert!(line.contains("connection refused"), "{line}");
    assert!(line.contains(&PARTNER.to_string()), "{line}");
    // The private listener serves the virtual network only.
    assert_eq!(get_from(IN_VNET, private).await, Some(200));
    assert_eq!(get_from(Ipv4Addr::LOCALHOST, private).await, None);
    // The gateway's own listener is judged by the same rules, unchanged.
    assert!(
        gatehouse_testkit::process::http_probe(gateway).await,
        "the gateway still serves"
    );

    // The endpoint moves in the config: the reload opens the new address and closes the old
    // one, without a restart.
    let moved = free_addr_on(Ipv4Addr::LOCALHOST);
    gw.write_config(&config.replace(
        &format!("public: \"{public}\", private"),
        &format!("public: \"{moved}\", private"),
    ))
    .expect("rewrite the config");
    gw.wait_for_log(
        &format!("\"listener\":\"{moved}\""),
        Duration::from_secs(10),
    )
    .await
    .expect("the new management listener opens");
    assert_eq!(get_from(Ipv4Addr::LOCALHOST, moved).await, Some(200));
    gw.wait_for_log(
        "stopped listening (removed from the config)",
        Duration::from_secs(10),
    )
    .await
    .expect("the old one closes");
    assert!(
        TcpStream::connect(public).await.is_err(),
        "nothing listens on the old address"
    );
}

#[tokio::test]
async fn portal_endpoints_are_judged_like_the_other_components() {
    let gateway = free_addr_on(PRIVATE_VIP);
    let private = free_addr_on(PRIVATE_VIP);
    let pport = private.port();
    // Internal mode: the portal has a private listener only, reachable from the virtual network,
    // and the NSG denies one subnet of it on the portal's port.
    let config = format!(
        r#"
service: {{ name: inside, sku: developer }}
network:
  type: internal
  virtual_network:
    address_space: [127.10.0.0/16]
    subnet: {{ name: apim, prefix: 127.10.1.0/24, nsg: apim-nsg }}
  endpoints:
    gateway: {{ private: "{gateway}" }}
    portal: {{ private: "{private}" }}
  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: deny-lab-portal, priority: 100, direction: inbound, access: deny, protocol: tcp, source: "127.10.9.0/24", source_ports: "*", destination: "*", destination_ports: "{pport}" }}
        - {{ name: allow-vnet, priority: 200, direction: inbound, access: allow, protocol: tcp, source: VirtualNetwork, source_ports: "*", destination: "*", destination_ports: "*" }}
"#
    );
    let data = gatehouse_testkit::TempDir::new().expect("data dir");
    let gw = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .env("GATEHOUSE_DATA_DIR", data.path())
        .env("RUST_LOG", "info")
        .probe(Probe::Log("developer portal listening".into()))
        .start(&config)
        .await
        .expect("gatehouse starts");
    // The virtual network reaches the portal's home page (by the portal's default host name:
    // internal mode answers no other); the internet and the denied subnet are refused at accept.
    const PORTAL: &str = "inside.portal.azure-api.net";
    assert_eq!(
        get_host_path_from(IN_VNET, private, PORTAL, "/").await,
        Some(200)
    );
    assert_eq!(
        get_host_path_from(Ipv4Addr::LOCALHOST, private, PORTAL, "/").await,
        None
    );
    assert_eq!(
        get_host_path_from(Ipv4Addr::new(127, 10, 9, 5), private, PORTAL, "/").await,
        None
    );
    gw.wait_for_log("deny-lab-portal", Duration::from_secs(10))
        .await
        .expect("the refusal is logged with its rule");
    // Every page is served on it, not only the home page.
    assert_eq!(
        get_host_path_from(IN_VNET, private, PORTAL, "/signup").await,
        Some(200)
    );
    // By its IP address it is not.
    assert_eq!(get_path_from(IN_VNET, private, "/").await, Some(404));
}
