//! Fuzzes the NSG config loader: arbitrary text as a `network` section is parsed, validated,
//! and — when validation accepts it — compiled into the inbound policy and evaluated.
//! Invariants: nothing panics, and a config that validation accepts always compiles (the
//! gateway relies on it: a reload that validated must not fail later).
#![no_main]

use gatehouse_model::network::{Direction, Protocol};
use gatehouse_model::{Format, from_str, validate};
use gatehouse_net::inbound::InboundPolicy;
use gatehouse_net::nsg::Flow;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let doc = format!("service: {{ name: fuzz }}\nnetwork:\n{text}");
    let Ok(config) = from_str(&doc, Format::Yaml, Path::new("fuzz.yaml")) else { return };
    let Ok(valid) = validate(config) else { return };
    let policy = match InboundPolicy::compile(&valid.config.network) {
        Ok(p) => p,
        Err(e) => panic!("validated config did not compile: {e}\n{doc}"),
    };
    if let Some(nsg) = policy.nsg() {
        for (src, dst) in [("10.0.0.1:1000", "10.0.0.2:443"), ("[2001:db8::1]:1", "[2001:db8::2]:80"), ("203.0.113.9:5", "10.10.1.4:8443")] {
            let flow = Flow::new(src.parse().unwrap_or_else(|_| unreachable!()), dst.parse().unwrap_or_else(|_| unreachable!()), Protocol::Tcp);
            let _ = nsg.evaluate(Direction::Inbound, &flow);
            let _ = nsg.evaluate(Direction::Outbound, &flow);
        }
    }
});
