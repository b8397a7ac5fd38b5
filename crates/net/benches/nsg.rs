//! `CompiledNsg::evaluate` must cost the same for 10 or 100,000 prefixes: it runs at accept for
//! every connection. Rules hold random, non-overlapping IPv4 prefixes (/20 to /28), 100 per rule
//! (so 1, 10 and 1,000 rules: Azure's rule limit at the top end; 100 prefixes per rule is within
//! its 4,000), all `tcp Internet-prefixes → VirtualNetwork:443 allow`.
//!
//! Flows: `hit_last_rule` comes from a prefix of the last user rule (the worst case for a scan),
//! `fall_through_deny` from an internet address in no rule (answered by `DenyAllInBound`),
//! `fall_through_vnet` from a peered address (answered by `AllowVnetInBound`), and
//! `hit_last_rule_wrong_port` matches the last rule's source but not its port, so every
//! candidate fails before the default rules answer. `scan_*` is the same lookup without the
//! index, for contrast. 64 different flows are cycled so one cached path doesn't flatter the
//! numbers.

use divan::{Bencher, black_box};
use gatehouse_model::network::{
    Access, Direction, Network, NetworkSecurityGroup, OneOrMany, Protocol, SecurityRule,
    VirtualNetwork,
};
use gatehouse_net::nsg::{CompiledNsg, Flow};
use gatehouse_net::tags::ServiceTags;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

fn main() {
    divan::main();
}

const PREFIXES: [usize; 3] = [10, 1_000, 100_000];
const PER_RULE: usize = 100;
const FLOWS: usize = 64;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

struct Setup {
    nsg: CompiledNsg,
    hit_last: Vec<Flow>,
    wrong_port: Vec<Flow>,
    deny: Vec<Flow>,
    vnet: Vec<Flow>,
}

fn network() -> Network {
    Network {
        virtual_network: Some(VirtualNetwork {
            address_space: vec!["10.10.0.0/16".into()],
            subnet: None,
            peered: vec!["10.20.0.0/16".into()],
        }),
        load_balancer: vec!["168.63.129.16".into()],
        ..Network::default()
    }
}

/// `total` random non-overlapping prefixes: each in its own /20 block (first octet 11-223, so
/// clear of the VNet's 10/8 and of the 198.18/15 the fall-through flows come from), of length
/// /20 to /28 at the block's start.
fn prefixes(total: usize, rng: &mut Rng) -> Vec<(Ipv4Addr, u8)> {
    let mut blocks = HashSet::new();
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        let block = (rng.next() % (1 << 20)) as u32; // a /20: 20 bits
        let addr = block << 12;
        let first = addr >> 24;
        if !(11..=223).contains(&first) || (addr >> 17) == ((198 << 7) | (18 >> 1)) {
            continue;
        }
        if blocks.insert(block) {
            let len = 20 + (rng.next() % 9) as u8;
            out.push((Ipv4Addr::from(addr), len));
        }
    }
    out
}

fn setup(total: usize) -> Setup {
    let mut rng = Rng(0x5DEE_CE66_D1CE_5EED ^ total as u64);
    let all = prefixes(total, &mut rng);
    let tags = ServiceTags::new(&network()).expect("bench tags");
    let nsg =
        CompiledNsg::compile("bench", &synthetic_nsg(&all), &tags).expect("bench NSG compiles");

    let last_rule = &all[(all.len() - 1) / PER_RULE * PER_RULE..];
    let gateway = |port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 10, 1, 4)), port);
    let mut hit_last = Vec::new();
    let mut wrong_port = Vec::new();
    let mut deny = Vec::new();
    let mut vnet = Vec::new();
    for i in 0..FLOWS {
        let (net, len) = last_rule[i % last_rule.len()];
        let host = u32::from(net) | (rng.next() as u32 & ((1u32 << (32 - len)) - 1));
        let src = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(host)), 40000 + i as u16);
        hit_last.push(Flow::tcp(src, gateway(443)));
        wrong_port.push(Flow::tcp(src, gateway(8443)));
        let outside = Ipv4Addr::from((198u32 << 24) | (18 << 16) | (rng.next() as u32 & 0x1_FFFF));
        deny.push(Flow::tcp(
            SocketAddr::new(IpAddr::V4(outside), 40000),
            gateway(443),
        ));
        let peer = Ipv4Addr::from((10u32 << 24) | (20 << 16) | (rng.next() as u32 & 0xFFFF));
        vnet.push(Flow::tcp(
            SocketAddr::new(IpAddr::V4(peer), 40000),
            gateway(443),
        ));
    }
    // The flows are what they claim to be.
    let expect = |flows: &[Flow], rule: &str| {
        for f in flows {
            let d = nsg.evaluate(Direction::Inbound, f);
            assert_eq!(&*d.rule, rule, "{f:?}");
            assert_eq!(d, nsg.evaluate_scan(Direction::Inbound, f));
        }
    };
    let last_name = format!("allow-partners-{}", (all.len() - 1) / PER_RULE);
    expect(&hit_last, &last_name);
    expect(&wrong_port, "DenyAllInBound");
    expect(&deny, "DenyAllInBound");
    expect(&vnet, "AllowVnetInBound");
    Setup {
        nsg,
        hit_last,
        wrong_port,
        deny,
        vnet,
    }
}

fn run(bencher: Bencher, nsg: &CompiledNsg, flows: &[Flow], scan: bool) {
    let mut i = 0usize;
    bencher
        .with_inputs(|| {
            i = (i + 1) % flows.len();
            flows[i]
        })
        .bench_local_values(|flow| {
            if scan {
                nsg.evaluate_scan(Direction::Inbound, black_box(&flow))
            } else {
                nsg.evaluate(Direction::Inbound, black_box(&flow))
            }
        });
}

#[divan::bench(args = PREFIXES)]
fn hit_last_rule(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.hit_last, false);
}

#[divan::bench(args = PREFIXES)]
fn hit_last_rule_wrong_port(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.wrong_port, false);
}

#[divan::bench(args = PREFIXES)]
fn fall_through_deny(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.deny, false);
}

#[divan::bench(args = PREFIXES)]
fn fall_through_vnet(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.vnet, false);
}

/// Baseline: the same as `hit_last_rule` by scanning every rule in order.
#[divan::bench(args = PREFIXES)]
fn scan_hit_last_rule(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.hit_last, true);
}

/// Baseline: the same as `fall_through_deny` by scanning every rule in order.
#[divan::bench(args = PREFIXES)]
fn scan_fall_through_deny(bencher: Bencher, prefixes: usize) {
    let s = setup(prefixes);
    run(bencher, &s.nsg, &s.deny, true);
}

/// Compiling (not on the connection path; for the record: a config reload pays it).
#[divan::bench(args = PREFIXES, sample_count = 10, sample_size = 1)]
fn compile(bencher: Bencher, prefixes: usize) {
    let nsg = synthetic_nsg(&self::prefixes(prefixes, &mut Rng(7)));
    let tags = ServiceTags::new(&network()).expect("bench tags");
    bencher.bench_local(|| CompiledNsg::compile("bench", black_box(&nsg), &tags));
}

/// One inbound rule per 100 prefixes: `tcp <prefixes> → VirtualNetwork:443 allow`, priorities
/// from 100 in order.
fn synthetic_nsg(all: &[(Ipv4Addr, u8)]) -> NetworkSecurityGroup {
    NetworkSecurityGroup {
        security_rules: all
            .chunks(PER_RULE)
            .enumerate()
            .map(|(i, chunk)| SecurityRule {
                name: format!("allow-partners-{i}"),
                description: None,
                priority: 100 + i as u32,
                direction: Direction::Inbound,
                access: Access::Allow,
                protocol: Protocol::Tcp,
                source: OneOrMany::Many(chunk.iter().map(|(a, l)| format!("{a}/{l}")).collect()),
                source_ports: OneOrMany::One("*".into()),
                destination: OneOrMany::One("VirtualNetwork".into()),
                destination_ports: OneOrMany::One("443".into()),
            })
            .collect(),
    }
}
