//! NSG engine end to end: a `network` section read from YAML (both gatehouse and Azure ARM
//! field names), its service tags, the compiled NSG, and the spec's acceptance tests T09, T15,
//! T17, T20 and T21. A randomised test checks the indexed lookup against a plain scan.

use gatehouse_model::network::{
    Access, Direction, Network, NetworkSecurityGroup, OneOrMany, Protocol, SecurityRule,
};
use gatehouse_model::{Config, Format, from_str};
use gatehouse_net::nsg::{CompiledNsg, Flow, NsgDecision, NsgError, Side};
use gatehouse_net::prefix::PrefixSet;
use gatehouse_net::tags::{ServiceTags, TagError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

fn config(network_yaml: &str) -> Config {
    let text = format!("service: {{ name: t }}\nnetwork:\n{network_yaml}");
    from_str(&text, Format::Yaml, Path::new("test.yaml")).expect("test config parses")
}

fn compiled(network: &Network, name: &str) -> CompiledNsg {
    let tags = ServiceTags::new(network).expect("tags");
    CompiledNsg::compile(name, &network.network_security_groups[name], &tags).expect("compiles")
}

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("socket address")
}

fn verify(nsg: &CompiledNsg, d: Direction, p: Protocol, src: &str, dst: &str) -> NsgDecision {
    let flow = Flow::new(sa(src), sa(dst), p);
    let a = nsg.evaluate(d, &flow);
    assert_eq!(a, nsg.evaluate_scan(d, &flow), "index vs scan for {flow:?}");
    a
}

fn inbound(nsg: &CompiledNsg, src: &str, dst: &str) -> NsgDecision {
    verify(nsg, Direction::Inbound, Protocol::Tcp, src, dst)
}

fn outbound(nsg: &CompiledNsg, src: &str, dst: &str) -> NsgDecision {
    verify(nsg, Direction::Outbound, Protocol::Tcp, src, dst)
}

const BASE: &str = r#"
  type: external
  virtual_network:
    address_space: [10.10.0.0/16]
    subnet: { name: apim, prefix: 10.10.1.0/27, nsg: apim-nsg }
    peered: [10.20.0.0/16, 192.168.0.0/16]
  load_balancer: [168.63.129.16]
  service_tags:
    ApiManagement: [51.145.179.78/32, 52.142.95.35/32]
"#;

#[test]
fn t09_external_needs_an_internet_443_allow() {
    let only_defaults = config(&format!(
        "{BASE}  network_security_groups: {{ apim-nsg: {{}} }}\n"
    ));
    let nsg = compiled(&only_defaults.network, "apim-nsg");
    let d = inbound(&nsg, "203.0.113.50:50000", "10.10.1.4:443");
    assert_eq!(
        (&*d.rule, d.priority, d.access),
        ("DenyAllInBound", 65500, Access::Deny)
    );

    let with_r1 = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: R1, priority: 100, direction: inbound, access: allow, protocol: tcp,
            source: Internet, destination: VirtualNetwork, destination_ports: [\"80\", \"443\"] }}
"
    ));
    let nsg = compiled(&with_r1.network, "apim-nsg");
    let d = inbound(&nsg, "203.0.113.50:50000", "10.10.1.4:443");
    assert_eq!((&*d.rule, d.access), ("R1", Access::Allow));
    // Not from the VNet, not to 8443.
    assert_eq!(
        &*inbound(&nsg, "203.0.113.50:1", "10.10.1.4:8443").rule,
        "DenyAllInBound"
    );
    assert_eq!(
        &*inbound(&nsg, "10.20.0.5:1", "10.10.1.4:8443").rule,
        "AllowVnetInBound"
    );
}

#[test]
fn azure_arm_field_names_and_t12_management_port() {
    let c = config(&format!(
        "{BASE}  networkSecurityGroups:
    apim-nsg:
      securityRules:
        - name: R2-management
          priority: 110
          direction: Inbound
          access: Allow
          protocol: Tcp
          sourceAddressPrefix: ApiManagement
          sourcePortRange: '*'
          destinationAddressPrefix: VirtualNetwork
          destinationPortRange: '3443'
        - name: R14-lb
          priority: 120
          direction: Inbound
          access: Allow
          protocol: TCP
          sourceAddressPrefix: AzureLoadBalancer
          destinationAddressPrefix: VirtualNetwork
          destinationPortRange: '6390'
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    assert_eq!(
        &*inbound(&nsg, "51.145.179.78:40000", "10.10.1.4:3443").rule,
        "R2-management"
    );
    assert_eq!(
        &*inbound(&nsg, "198.51.100.1:40000", "10.10.1.4:3443").rule,
        "DenyAllInBound"
    );
    // T20: a probe from the load balancer, any source port, to 6390.
    assert_eq!(
        &*inbound(&nsg, "168.63.129.16:61234", "10.10.1.4:6390").rule,
        "R14-lb"
    );
    // ... and, being outside the VNet, to anything else by the default LB rule.
    let d = inbound(&nsg, "168.63.129.16:61234", "10.10.1.4:80");
    assert_eq!(
        (&*d.rule, d.priority, d.default_rule),
        ("AllowAzureLoadBalancerInBound", 65001, true)
    );
}

#[test]
fn t15_priority_precedence() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: allow-internet, priority: 200, direction: inbound, access: allow,
            protocol: tcp, source: Internet, destination_ports: \"443\" }}
        - {{ name: deny-net, priority: 100, direction: inbound, access: deny,
            protocol: tcp, source: 203.0.113.0/24, destination_ports: \"443\" }}
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    let d = inbound(&nsg, "203.0.113.5:40000", "10.10.1.4:443");
    assert_eq!(
        (&*d.rule, d.access, d.priority),
        ("deny-net", Access::Deny, 100)
    );
    let d = inbound(&nsg, "198.51.100.7:40000", "10.10.1.4:443");
    assert_eq!(
        (&*d.rule, d.access, d.priority),
        ("allow-internet", Access::Allow, 200)
    );
}

#[test]
fn t17_default_outbound_rules() {
    let none = config(&format!(
        "{BASE}  network_security_groups: {{ apim-nsg: {{}} }}\n"
    ));
    let nsg = compiled(&none.network, "apim-nsg");
    let d = outbound(&nsg, "10.10.1.4:50000", "93.184.216.34:443");
    assert_eq!(
        (&*d.rule, d.priority, d.access),
        ("AllowInternetOutBound", 65001, Access::Allow)
    );

    let deny = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: deny-internet, priority: 999, direction: outbound, access: deny,
            source: VirtualNetwork, destination: Internet }}
"
    ));
    let nsg = compiled(&deny.network, "apim-nsg");
    let d = outbound(&nsg, "10.10.1.4:50000", "93.184.216.34:443");
    assert_eq!((&*d.rule, d.access), ("deny-internet", Access::Deny));
    let d = outbound(&nsg, "10.10.1.4:50000", "192.168.7.7:443");
    assert_eq!(
        (&*d.rule, d.priority, d.access),
        ("AllowVnetOutBound", 65000, Access::Allow)
    );
}

#[test]
fn t20_port_lists_and_udp() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: ports, priority: 100, direction: inbound, access: deny, protocol: tcp,
            source: '*', destination: '*', destination_ports: \"80, 10000-10005\" }}
        - {{ name: R13-sync, priority: 110, direction: inbound, access: allow, protocol: udp,
            source: VirtualNetwork, destination: VirtualNetwork, destination_ports: \"4290\" }}
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    assert_eq!(
        &*inbound(&nsg, "8.8.8.8:1", "10.10.1.4:10003").rule,
        "ports"
    );
    assert_eq!(
        &*inbound(&nsg, "8.8.8.8:1", "10.10.1.4:10006").rule,
        "DenyAllInBound"
    );
    assert_eq!(&*inbound(&nsg, "10.10.0.9:1", "10.10.1.4:80").rule, "ports");
    let udp = verify(
        &nsg,
        Direction::Inbound,
        Protocol::Udp,
        "10.10.1.5:4290",
        "10.10.1.4:4290",
    );
    assert_eq!(&*udp.rule, "R13-sync");
    // The same flow over TCP falls to the default VNet rule.
    assert_eq!(
        &*inbound(&nsg, "10.10.1.5:4290", "10.10.1.4:4290").rule,
        "AllowVnetInBound"
    );
}

#[test]
fn t21_public_vip_literal_does_not_match_after_dnat() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: to-public-vip, priority: 100, direction: inbound, access: allow,
            protocol: tcp, source: Internet, destination: 20.50.60.70, destination_ports: \"443\" }}
        - {{ name: to-vnet, priority: 200, direction: inbound, access: allow,
            protocol: tcp, source: Internet, destination: VirtualNetwork, destination_ports: \"443\" }}
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    // The NSG sees the private (post-DNAT) destination.
    assert_eq!(
        &*inbound(&nsg, "198.51.100.1:1", "10.10.1.4:443").rule,
        "to-vnet"
    );
}

#[test]
fn dual_stack_peers_are_seen_as_ipv4() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: deny-one, priority: 100, direction: inbound, access: deny,
            source: 198.51.100.66 }}
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    assert_eq!(
        &*inbound(&nsg, "[::ffff:198.51.100.66]:1", "[::ffff:10.10.1.4]:443").rule,
        "deny-one"
    );
    assert_eq!(
        &*inbound(&nsg, "[::ffff:10.20.0.1]:1", "[::ffff:10.10.1.4]:443").rule,
        "AllowVnetInBound"
    );
}

#[test]
fn compile_errors_are_typed_and_name_the_rule() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: typo, priority: 100, direction: inbound, access: allow, source: 10.0.0.0/33 }}
"
    ));
    let tags = ServiceTags::new(&c.network).expect("tags");
    let err = CompiledNsg::compile(
        "apim-nsg",
        &c.network.network_security_groups["apim-nsg"],
        &tags,
    )
    .expect_err("bad prefix");
    assert!(
        err.to_string()
            .contains("rule 'typo': bad prefix '10.0.0.0/33'"),
        "{err}"
    );
    assert!(matches!(
        err,
        NsgError::Address {
            side: Side::Source,
            error: TagError::Prefix(_),
            ..
        }
    ));
}

#[test]
fn show_lists_effective_rules() {
    let c = config(&format!(
        "{BASE}  network_security_groups:
    apim-nsg:
      security_rules:
        - {{ name: web, priority: 100, direction: inbound, access: allow, protocol: tcp,
            source: Internet, destination: VirtualNetwork, destination_ports: [\"443\", \"80\"] }}
"
    ));
    let nsg = compiled(&c.network, "apim-nsg");
    let rows: Vec<String> = nsg
        .rules(Direction::Inbound)
        .map(|r| {
            format!(
                "{} {} {:?} {:?} {}:{} -> {}:{} {}",
                r.priority,
                r.name,
                r.access,
                r.protocol,
                r.source,
                r.source_ports,
                r.destination,
                r.destination_ports,
                r.default_rule
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "100 web Allow Tcp Internet:* -> VirtualNetwork:80,443 false",
            "65000 AllowVnetInBound Allow Any VirtualNetwork:* -> VirtualNetwork:* true",
            "65001 AllowAzureLoadBalancerInBound Allow Any AzureLoadBalancer:* -> *:* true",
            "65500 DenyAllInBound Deny Any *:* -> *:* true",
        ]
    );
}

/// xorshift64*: deterministic randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Random overlapping rules over a small address space (so flows hit them) and random flows:
/// the trie-indexed lookup must answer exactly as a first-match scan, for every flow.
#[test]
fn index_agrees_with_scan_on_random_nsgs() {
    let network = config(BASE).network;
    let tags = ServiceTags::new(&network).expect("tags");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let addr = |rng: &mut Rng| -> IpAddr {
        // 10.10/16 (VNet), 10.20/16 (peered), 198.51/16 and 203.0/16 (internet).
        let a = [10u8, 10, 198, 203][rng.below(4) as usize];
        let b = match a {
            10 => [10u8, 20][rng.below(2) as usize],
            198 => 51,
            _ => 0,
        };
        IpAddr::V4(Ipv4Addr::new(
            a,
            b,
            rng.below(4) as u8,
            rng.below(256) as u8,
        ))
    };
    let protocols = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Any];
    let (mut by_user_rule, mut total) = (0u32, 0u32);
    for round in 0..40 {
        let mut rules = Vec::new();
        let mut priorities: Vec<u32> = (100..=4096).collect();
        for i in 0..(5 + rng.below(60)) {
            let side = |rng: &mut Rng| -> OneOrMany {
                match rng.below(6) {
                    0 => OneOrMany::One(
                        rng.pick(&[
                            "*",
                            "Internet",
                            "VirtualNetwork",
                            "AzureLoadBalancer",
                            "ApiManagement",
                        ])
                        .to_string(),
                    ),
                    _ => OneOrMany::Many(
                        (0..1 + rng.below(5))
                            .map(|_| format!("{}/{}", addr(rng), 12 + rng.below(21)))
                            .collect(),
                    ),
                }
            };
            let ports = |rng: &mut Rng| -> OneOrMany {
                OneOrMany::One(
                    rng.pick(&["*", "*", "80", "443", "80,443", "1000-2000", "0-1023"])
                        .to_string(),
                )
            };
            let p = priorities.swap_remove(rng.below(priorities.len() as u64) as usize);
            rules.push(SecurityRule {
                name: format!("r{round}-{i}"),
                description: None,
                priority: p,
                direction: if rng.below(2) == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                access: if rng.below(2) == 0 {
                    Access::Allow
                } else {
                    Access::Deny
                },
                protocol: protocols[rng.below(4) as usize],
                source: side(&mut rng),
                source_ports: if rng.below(4) == 0 {
                    ports(&mut rng)
                } else {
                    OneOrMany::One("*".into())
                },
                destination: side(&mut rng),
                destination_ports: ports(&mut rng),
            });
        }
        let nsg = CompiledNsg::compile(
            "r",
            &NetworkSecurityGroup {
                security_rules: rules,
            },
            &tags,
        )
        .expect("random NSG compiles");
        let port_choices = [80u16, 443, 1500, 22, 8080, 0];
        for _ in 0..500 {
            let flow = Flow::new(
                SocketAddr::new(addr(&mut rng), port_choices[rng.below(6) as usize]),
                SocketAddr::new(addr(&mut rng), port_choices[rng.below(6) as usize]),
                protocols[rng.below(3) as usize],
            );
            for d in [Direction::Inbound, Direction::Outbound] {
                let decision = nsg.evaluate(d, &flow);
                assert_eq!(decision, nsg.evaluate_scan(d, &flow), "{flow:?} {d:?}");
                total += 1;
                by_user_rule += u32::from(!decision.default_rule);
            }
        }
    }
    // Many flows must meet user rules (not only the defaults), or the comparison proves little.
    assert!(by_user_rule * 4 > total, "{by_user_rule} of {total}");
}

#[test]
fn prefix_set_public_api() {
    let set = PrefixSet::from_strs(&["10.0.0.0/8", "fd00::/8"]).expect("parses");
    assert!(set.contains("::ffff:10.1.1.1".parse().expect("ip")));
    assert_eq!(set.iter().count(), 2);
}
