//! The inbound decision: for every accepted connection, before a byte of TLS or HTTP is read,
//! who the client is and whether the network rules let it in — and if not, which stage and rule
//! refused it. The stages, in order (docs/network.md):
//!
//! 1. `proxy_protocol`: the PROXY header of a trusted proxy (read by the caller, judged here);
//! 2. `private_endpoint`: the connection's private endpoint (dedicated listener, or the Azure
//!    Private Link LinkID TLV) must exist and be approved;
//! 3. `exposure`: type internal, and private listeners, serve only the virtual network;
//! 4. `nsg`: the subnet's network security group (types external and internal), first match
//!    by priority, Azure's default rules last;
//! 5. `public_network_access`: when disabled, a connection that is not through an approved
//!    private endpoint is admitted but every request on it gets APIM's 403.

use crate::client::TrustedProxies;
use crate::nsg::{CompiledNsg, Flow};
use crate::prefix::canonical;
use crate::proxy_protocol::ProxyHeader;
use crate::tags::ServiceTags;
use gatehouse_model::Exposure;
use gatehouse_model::network::{
    Access, Direction, Network, NetworkType, PrivateEndpointState, Protocol, ProxyProtocolMode,
    PublicNetworkAccess,
};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The stage of the inbound decision that refused (or would refuse) a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    ProxyProtocol,
    PrivateEndpoint,
    Exposure,
    Nsg,
    PublicNetworkAccess,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ProxyProtocol => "proxy_protocol",
            Stage::PrivateEndpoint => "private_endpoint",
            Stage::Exposure => "exposure",
            Stage::Nsg => "nsg",
            Stage::PublicNetworkAccess => "public_network_access",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The NSG rule that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub name: Arc<str>,
    pub priority: u32,
    /// One of Azure's default rules (AllowVnetInBound ...).
    pub default_rule: bool,
}

/// The private endpoint a connection came through (APIM's `IPrivateEndpointConnection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateEndpointRef {
    pub name: Arc<str>,
    pub link_id: u32,
    pub group_id: Arc<str>,
}

/// An admitted connection: what the request path and the access log know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The client: the socket peer, or the source a trusted proxy's PROXY header gave.
    pub client: SocketAddr,
    pub private_endpoint: Option<PrivateEndpointRef>,
    /// The NSG rule that allowed the connection (types external and internal).
    pub nsg_rule: Option<RuleRef>,
    /// Public network access is disabled and this is not a private endpoint: every request on
    /// the connection gets APIM's 403.
    pub public_access_denied: bool,
    /// A PROXY v2 LOCAL header: a load balancer's health probe, with no client address.
    pub health_probe: bool,
}

/// A refused connection: closed at once, counted and logged with these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub stage: Stage,
    pub rule: Option<RuleRef>,
    /// The client the decision was about (after PROXY), for the log line.
    pub client: SocketAddr,
    pub reason: String,
}

/// What is known of a connection when it is judged.
#[derive(Debug, Clone, Copy)]
pub struct ConnFacts<'a> {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub exposure: Exposure,
    /// The PROXY header the peer sent, if it is a trusted proxy and sent one.
    pub proxy: Option<&'a ProxyHeader>,
}

#[derive(Debug)]
struct Endpoint {
    name: Arc<str>,
    link_id: u32,
    group_id: Arc<str>,
    state: PrivateEndpointState,
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("network.service_tags / virtual network: {0}")]
    Tags(#[from] crate::tags::TagError),
    #[error("network.network_security_groups.{name}: {source}")]
    Nsg {
        name: String,
        source: Box<crate::nsg::NsgError>,
    },
    #[error("network.trusted_proxies: {0}")]
    Trusted(#[from] crate::client::ClientError),
    #[error("network.virtual_network.subnet.nsg: no network security group named '{0}'")]
    MissingNsg(String),
}

/// The compiled inbound rules of one config snapshot.
#[derive(Debug)]
pub struct InboundPolicy {
    kind: NetworkType,
    tags: ServiceTags,
    nsg: Option<CompiledNsg>,
    trusted: TrustedProxies,
    endpoints: Vec<Endpoint>,
    by_link_id: HashMap<u32, usize>,
    public_access: PublicNetworkAccess,
    /// What a public listener's traffic is addressed to after Azure's DNAT (NSG-7): the
    /// gateway's address inside the subnet.
    nat_destination: Option<IpAddr>,
}

impl InboundPolicy {
    pub fn compile(n: &Network) -> Result<InboundPolicy, InboundError> {
        let tags = ServiceTags::new(n)?;
        let injected = matches!(n.kind, NetworkType::External | NetworkType::Internal);
        let subnet = n.virtual_network.as_ref().and_then(|v| v.subnet.as_ref());
        let nsg = match subnet.and_then(|s| s.nsg.as_deref()) {
            Some(name) if injected => {
                let group = n
                    .network_security_groups
                    .get(name)
                    .ok_or_else(|| InboundError::MissingNsg(name.to_string()))?;
                Some(CompiledNsg::compile(name, group, &tags).map_err(|source| {
                    InboundError::Nsg {
                        name: name.to_string(),
                        source: Box::new(source),
                    }
                })?)
            }
            _ => None,
        };
        let private_vip = n
            .endpoints
            .gateway
            .as_ref()
            .and_then(|g| g.private.as_ref())
            .and_then(|p| p.address().parse::<SocketAddr>().ok())
            .map(|a| a.ip());
        // Without a private listener, the first address Azure hands out in a subnet (.4).
        let first_host = subnet
            .and_then(|s| gatehouse_model::network::parse_prefix(&s.prefix).ok())
            .and_then(|net| match net {
                ipnet::IpNet::V4(v4) => Some(IpAddr::V4(std::net::Ipv4Addr::from(
                    u32::from(v4.network()).saturating_add(4),
                ))),
                ipnet::IpNet::V6(_) => None,
            });
        let endpoints: Vec<Endpoint> = n
            .private_endpoints
            .iter()
            .map(|pe| Endpoint {
                name: pe.name.as_str().into(),
                link_id: pe.link_id,
                group_id: pe.group_id.as_str().into(),
                state: pe.state,
            })
            .collect();
        let by_link_id = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| (e.link_id, i))
            .collect();
        Ok(InboundPolicy {
            kind: n.kind,
            tags,
            nsg,
            trusted: TrustedProxies::compile(&n.trusted_proxies)?,
            endpoints,
            by_link_id,
            public_access: n.public_network_access,
            nat_destination: private_vip.or(first_host),
        })
    }

    /// Whether (and how) a connection from `peer` starts with a PROXY header.
    pub fn proxy_mode(&self, peer: IpAddr) -> ProxyProtocolMode {
        self.trusted
            .mode_for(canonical(peer))
            .unwrap_or(ProxyProtocolMode::None)
    }

    /// The trusted proxies, for `X-Forwarded-For`.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted
    }

    pub fn tags(&self) -> &ServiceTags {
        &self.tags
    }

    pub fn nsg(&self) -> Option<&CompiledNsg> {
        self.nsg.as_ref()
    }

    pub fn kind(&self) -> NetworkType {
        self.kind
    }

    /// Judges a connection. Cheap: no allocation unless it refuses.
    pub fn judge(&self, facts: &ConnFacts<'_>) -> Result<Admitted, Refused> {
        let health_probe = facts.proxy.is_some_and(|h| h.local);
        let client = match facts.proxy.and_then(|h| h.source) {
            Some(src) => SocketAddr::new(canonical(src.ip()), src.port()),
            None => SocketAddr::new(canonical(facts.peer.ip()), facts.peer.port()),
        };
        let refuse = |stage: Stage, rule: Option<RuleRef>, reason: String| Refused {
            stage,
            rule,
            client,
            reason,
        };

        // Private endpoint.
        let link_id = facts.proxy.and_then(|h| h.link_id);
        let endpoint = match (facts.exposure, link_id) {
            (Exposure::PrivateEndpoint(i), _) => self.endpoints.get(i),
            (_, Some(id)) => match self.by_link_id.get(&id) {
                Some(&i) => self.endpoints.get(i),
                None => {
                    return Err(refuse(
                        Stage::PrivateEndpoint,
                        None,
                        format!("no private endpoint has LinkID {id}"),
                    ));
                }
            },
            _ => None,
        };
        if let Some(e) = endpoint
            && e.state != PrivateEndpointState::Approved
        {
            return Err(refuse(
                Stage::PrivateEndpoint,
                None,
                format!("private endpoint '{}' is {}", e.name, state_name(e.state)),
            ));
        }

        // Exposure.
        let in_vnet = self.tags.is_virtual_network(client.ip());
        if self.kind == NetworkType::Internal && !in_vnet {
            return Err(refuse(
                Stage::Exposure,
                None,
                format!(
                    "{} is outside the virtual network and the gateway is internal",
                    client.ip()
                ),
            ));
        }
        if facts.exposure == Exposure::Private && !in_vnet {
            return Err(refuse(
                Stage::Exposure,
                None,
                format!(
                    "{} is outside the virtual network: private listeners serve only the virtual network",
                    client.ip()
                ),
            ));
        }

        // Network security group.
        let mut nsg_rule = None;
        if let Some(nsg) = &self.nsg {
            let destination_ip = match facts.exposure {
                Exposure::Private => canonical(facts.local.ip()),
                _ => self
                    .nat_destination
                    .unwrap_or_else(|| canonical(facts.local.ip())),
            };
            let flow = Flow {
                source: client,
                destination: SocketAddr::new(destination_ip, facts.local.port()),
                protocol: Protocol::Tcp,
            };
            let d = nsg.evaluate(Direction::Inbound, &flow);
            let rule = RuleRef {
                name: d.rule.clone(),
                priority: d.priority,
                default_rule: d.default_rule,
            };
            if d.access == Access::Deny {
                return Err(refuse(
                    Stage::Nsg,
                    Some(rule),
                    format!("denied by NSG rule '{}' (priority {})", d.rule, d.priority),
                ));
            }
            nsg_rule = Some(rule);
        }

        Ok(Admitted {
            client,
            private_endpoint: endpoint.map(|e| PrivateEndpointRef {
                name: e.name.clone(),
                link_id: e.link_id,
                group_id: e.group_id.clone(),
            }),
            nsg_rule,
            public_access_denied: self.public_access == PublicNetworkAccess::Disabled
                && endpoint.is_none(),
            health_probe,
        })
    }
}

fn state_name(s: PrivateEndpointState) -> &'static str {
    match s {
        PrivateEndpointState::Pending => "pending",
        PrivateEndpointState::Approved => "approved",
        PrivateEndpointState::Rejected => "rejected",
        PrivateEndpointState::Disconnected => "disconnected",
    }
}

/// APIM's 403 message when public network access is disabled (spec PE-12).
pub fn public_access_disabled_message(client: IpAddr, service: &str) -> String {
    format!(
        "Request originated from client public IP address {client}, public network access on this 'Microsoft.ApiManagement/service/{service}' is disabled. To connect to 'Microsoft.ApiManagement/service/{service}', please use the Private Endpoint from inside your virtual network."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_model::{Format, from_str};
    use std::path::Path;

    fn policy(network_yaml: &str) -> InboundPolicy {
        let text = format!("service: {{ name: contoso }}\nnetwork:\n{network_yaml}");
        let cfg = from_str(&text, Format::Yaml, Path::new("t.yaml")).expect("parses");
        InboundPolicy::compile(&cfg.network).expect("compiles")
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    fn judge(
        p: &InboundPolicy,
        peer: &str,
        local: &str,
        exposure: Exposure,
        proxy: Option<&ProxyHeader>,
    ) -> Result<Admitted, Refused> {
        p.judge(&ConnFacts {
            peer: addr(peer),
            local: addr(local),
            exposure,
            proxy,
        })
    }

    const EXTERNAL: &str = r#"
  type: external
  virtual_network:
    address_space: [10.10.0.0/16]
    subnet: { prefix: 10.10.1.0/27, nsg: nsg }
    peered: [10.20.0.0/16]
  load_balancer: [168.63.129.16/32]
  endpoints: { gateway: { public: "0.0.0.0:443", private: "10.10.1.4:443" } }
  network_security_groups:
    nsg:
      security_rules:
        - { name: deny-bad, priority: 100, direction: inbound, access: deny, source: 192.0.2.0/24 }
        - { name: allow-web, priority: 200, direction: inbound, access: allow, protocol: tcp, source: Internet, destination: 10.10.1.4, destination_ports: "443" }
"#;

    #[test]
    fn type_none_admits_everyone_without_an_nsg() {
        let p = policy("  type: none\n");
        let a = judge(
            &p,
            "203.0.113.5:1000",
            "127.0.0.1:8080",
            Exposure::Public,
            None,
        )
        .expect("admitted");
        assert_eq!(a.client, addr("203.0.113.5:1000"));
        assert_eq!(
            (a.nsg_rule, a.private_endpoint, a.public_access_denied),
            (None, None, false)
        );
    }

    #[test]
    fn external_nsg_first_match_and_dnat_destination() {
        let p = policy(EXTERNAL);
        let r =
            judge(&p, "192.0.2.9:1000", "0.0.0.0:443", Exposure::Public, None).expect_err("denied");
        assert_eq!(
            (r.stage, r.rule.as_ref().map(|x| (&*x.name, x.priority))),
            (Stage::Nsg, Some(("deny-bad", 100)))
        );
        // The public listener's traffic reaches the NSG addressed to the gateway's private IP (DNAT).
        let a = judge(
            &p,
            "203.0.113.5:1000",
            "0.0.0.0:443",
            Exposure::Public,
            None,
        )
        .expect("allowed");
        assert_eq!(
            a.nsg_rule.as_ref().map(|x| (&*x.name, x.priority)),
            Some(("allow-web", 200))
        );
        let a = judge(
            &p,
            "10.20.0.1:1000",
            "10.10.1.4:443",
            Exposure::Private,
            None,
        )
        .expect("peered is VirtualNetwork");
        assert_eq!(
            a.nsg_rule.as_ref().map(|x| (&*x.name, x.default_rule)),
            Some(("AllowVnetInBound", true))
        );
        let r = judge(
            &p,
            "203.0.113.5:1000",
            "10.10.1.4:443",
            Exposure::Private,
            None,
        )
        .expect_err("private: VNet only");
        assert_eq!(r.stage, Stage::Exposure);
    }

    #[test]
    fn internal_refuses_outside_the_virtual_network_even_if_the_nsg_allows() {
        let p = policy(
            &EXTERNAL
                .replace("type: external", "type: internal")
                .replace("public: \"0.0.0.0:443\", ", ""),
        );
        let r = judge(
            &p,
            "203.0.113.5:1000",
            "10.10.1.4:443",
            Exposure::Private,
            None,
        )
        .expect_err("refused");
        assert_eq!(r.stage, Stage::Exposure);
        assert!(
            r.reason.contains("outside the virtual network"),
            "{}",
            r.reason
        );
        assert!(
            judge(
                &p,
                "10.10.3.3:1000",
                "10.10.1.4:443",
                Exposure::Private,
                None
            )
            .is_ok()
        );
    }

    const PRIVATE_ENDPOINTS: &str = r#"
  public_network_access: disabled
  trusted_proxies: [ { prefix: 10.9.0.1/32, proxy_protocol: required } ]
  private_endpoints:
    - { name: pe-ok, link_id: 4026531841, state: approved, listen: "127.0.0.1:8081" }
    - { name: pe-pending, link_id: 2, state: pending, listen: "127.0.0.1:8082" }
    - { name: pe-rejected, link_id: 3, state: rejected }
    - { name: pe-gone, link_id: 4, state: disconnected }
"#;

    fn through_proxy(link_id: Option<u32>) -> ProxyHeader {
        ProxyHeader {
            version: 2,
            local: false,
            source: Some(addr("172.16.0.9:5555")),
            destination: Some(addr("10.0.0.1:443")),
            link_id,
            tlvs: Vec::new(),
        }
    }

    #[test]
    fn private_endpoints_by_listener_and_by_link_id() {
        let p = policy(PRIVATE_ENDPOINTS);
        let a = judge(
            &p,
            "127.0.0.1:1000",
            "127.0.0.1:8081",
            Exposure::PrivateEndpoint(0),
            None,
        )
        .expect("approved listener");
        assert_eq!(a.private_endpoint.as_ref().map(|e| &*e.name), Some("pe-ok"));
        assert!(!a.public_access_denied);
        let r = judge(
            &p,
            "127.0.0.1:1000",
            "127.0.0.1:8082",
            Exposure::PrivateEndpoint(1),
            None,
        )
        .expect_err("pending");
        assert_eq!(r.stage, Stage::PrivateEndpoint);
        let h = through_proxy(Some(4026531841));
        let a = judge(
            &p,
            "10.9.0.1:1000",
            "127.0.0.1:8080",
            Exposure::Public,
            Some(&h),
        )
        .expect("approved link id");
        assert_eq!(
            (a.client, a.private_endpoint.as_ref().map(|e| e.link_id)),
            (addr("172.16.0.9:5555"), Some(4026531841))
        );
        for (id, state) in [(2, "pending"), (3, "rejected"), (4, "disconnected")] {
            let h = through_proxy(Some(id));
            let r = judge(
                &p,
                "10.9.0.1:1000",
                "127.0.0.1:8080",
                Exposure::Public,
                Some(&h),
            )
            .expect_err(state);
            assert!(r.reason.contains(state), "{}", r.reason);
        }
        let h = through_proxy(Some(99));
        let r = judge(
            &p,
            "10.9.0.1:1000",
            "127.0.0.1:8080",
            Exposure::Public,
            Some(&h),
        )
        .expect_err("unknown");
        assert_eq!(r.stage, Stage::PrivateEndpoint);
        // Not through a private endpoint, with public access disabled: admitted, but every request gets 403.
        let a = judge(
            &p,
            "198.51.100.1:1000",
            "127.0.0.1:8080",
            Exposure::Public,
            None,
        )
        .expect("admitted");
        assert!(a.public_access_denied);
        let h = through_proxy(None);
        assert!(
            judge(
                &p,
                "10.9.0.1:1000",
                "127.0.0.1:8080",
                Exposure::Public,
                Some(&h)
            )
            .expect("admitted")
            .public_access_denied
        );
    }

    #[test]
    fn a_local_proxy_header_is_a_health_probe() {
        let p = policy(PRIVATE_ENDPOINTS);
        let h = ProxyHeader {
            version: 2,
            local: true,
            source: None,
            destination: None,
            link_id: None,
            tlvs: Vec::new(),
        };
        let a = judge(
            &p,
            "10.9.0.1:1000",
            "127.0.0.1:8080",
            Exposure::Public,
            Some(&h),
        )
        .expect("admitted");
        assert!(a.health_probe);
        assert_eq!(a.client, addr("10.9.0.1:1000"));
        assert_eq!(
            p.proxy_mode("10.9.0.1".parse().unwrap()),
            ProxyProtocolMode::Required
        );
        assert_eq!(
            p.proxy_mode("10.9.0.2".parse().unwrap()),
            ProxyProtocolMode::None
        );
    }

    #[test]
    fn the_403_message_is_apims() {
        assert_eq!(
            public_access_disabled_message("192.0.2.12".parse().unwrap(), "my-apim-service"),
            "Request originated from client public IP address 192.0.2.12, public network access on this 'Microsoft.ApiManagement/service/my-apim-service' is disabled. To connect to 'Microsoft.ApiManagement/service/my-apim-service', please use the Private Endpoint from inside your virtual network."
        );
    }
}
