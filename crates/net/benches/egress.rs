//! Cost of the egress guard's verdict per backend address (`EgressPolicy::judge`), which runs
//! for every address of every backend connection the gateway opens.
//!
//! Policies: `none` (type none: no NSG, prefix lookups only) and `external_nsg` (type external
//! with the subnet's NSG holding `RULES` outbound user rules, each a deny of one /24 on port
//! 5432, before Azure's default rules). Destinations, 64 of each kind cycled so that one cached
//! path doesn't flatter the numbers:
//!
//! - `allow_public`: public addresses (answered by `AllowInternetOutBound` under the NSG);
//! - `allow_vnet`: peered-network addresses (`AllowVnetOutBound`);
//! - `refuse_class`: loopback and metadata addresses (stage `address_class`: the reason
//!   string is built, the only allocation of a refusal);
//! - `refuse_type`: private addresses outside the virtual network (stage `network_type`);
//! - `refuse_nsg`: addresses a user rule denies (stage `nsg`).
//!
//! The allocation profiler's columns show what each verdict allocates.

use divan::{AllocProfiler, Bencher, black_box};
use gatehouse_model::{Format, from_str};
use gatehouse_net::egress::EgressPolicy;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

const RULES: [usize; 2] = [0, 100];
const N: usize = 64;

fn policy(yaml: &str) -> EgressPolicy {
    let text = format!("service: {{ name: bench }}\nnetwork:\n{yaml}");
    let cfg = from_str(&text, Format::Yaml, Path::new("bench.yaml")).expect("bench config parses");
    EgressPolicy::compile(&cfg.network).expect("bench config compiles")
}

const VNET: &str = "  virtual_network:\n    address_space: [10.10.0.0/16]\n    subnet: { prefix: 10.10.1.0/27, nsg: apim-nsg }\n    peered: [10.20.0.0/16, 192.168.0.0/16]\n";

/// Type external; the NSG denies 10.20.i.0/24:5432 for i < `rules`.
fn external(rules: usize) -> EgressPolicy {
    let mut yaml = format!(
        "  type: external\n{VNET}  network_security_groups:\n    apim-nsg:\n      security_rules:\n"
    );
    if rules == 0 {
        yaml.push_str("        []\n");
    }
    for i in 0..rules {
        let _ = writeln!(
            yaml,
            "        - {{ name: deny-db-{i}, priority: {}, direction: outbound, access: deny, protocol: tcp, destination: 10.20.{}.0/24, destination_ports: \"5432\" }}",
            100 + i,
            i % 256
        );
    }
    policy(&yaml)
}

fn none() -> EgressPolicy {
    policy(&format!(
        "  type: none\n{}",
        VNET.replace(", nsg: apim-nsg", "")
    ))
}

fn v4(a: u8, b: u8, c: u8, d: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), port)
}

fn public() -> Vec<SocketAddr> {
    (0..N)
        .map(|i| {
            v4(
                20 + i as u8,
                (i * 7) as u8,
                (i * 13) as u8,
                1 + i as u8,
                443,
            )
        })
        .collect()
}

fn peered() -> Vec<SocketAddr> {
    (0..N)
        .map(|i| v4(10, 20, 100 + i as u8, 1 + i as u8, 443))
        .collect()
}

fn special() -> Vec<SocketAddr> {
    (0..N)
        .map(|i| {
            if i % 2 == 0 {
                v4(127, 0, 0, 1 + i as u8, 80)
            } else {
                v4(169, 254, 169, 254, 80)
            }
        })
        .collect()
}

fn private_outside() -> Vec<SocketAddr> {
    (0..N)
        .map(|i| v4(172, 16 + (i % 16) as u8, i as u8, 1, 443))
        .collect()
}

/// Denied by rule `deny-db-0` (the first user rule).
fn denied() -> Vec<SocketAddr> {
    (0..N).map(|i| v4(10, 20, 0, 1 + i as u8, 5432)).collect()
}

fn run(bencher: Bencher, policy: EgressPolicy, dests: Vec<SocketAddr>, allowed: bool) {
    for d in &dests {
        assert_eq!(policy.judge(*d).is_ok(), allowed, "{d}");
    }
    let mut i = 0usize;
    bencher.bench_local(|| {
        i = (i + 1) % dests.len();
        black_box(policy.judge(black_box(dests[i]))).is_ok()
    });
}

mod none {
    use super::*;

    #[divan::bench]
    fn allow_public(bencher: Bencher) {
        run(bencher, none(), public(), true);
    }

    #[divan::bench]
    fn refuse_class(bencher: Bencher) {
        run(bencher, none(), special(), false);
    }

    #[divan::bench]
    fn refuse_type(bencher: Bencher) {
        run(bencher, none(), private_outside(), false);
    }
}

mod external_nsg {
    use super::*;

    #[divan::bench(args = RULES)]
    fn allow_public(bencher: Bencher, rules: usize) {
        run(bencher, external(rules), public(), true);
    }

    #[divan::bench(args = RULES)]
    fn allow_vnet(bencher: Bencher, rules: usize) {
        run(bencher, external(rules), peered(), true);
    }

    #[divan::bench(args = RULES)]
    fn refuse_class(bencher: Bencher, rules: usize) {
        run(bencher, external(rules), special(), false);
    }

    #[divan::bench(args = RULES)]
    fn refuse_type(bencher: Bencher, rules: usize) {
        run(bencher, external(rules), private_outside(), false);
    }

    #[divan::bench(args = [100])]
    fn refuse_nsg(bencher: Bencher, rules: usize) {
        run(bencher, external(rules), denied(), false);
    }
}
