//! gatehouse's network isolation, after Azure API Management's virtual-network model
//! (docs/network.md): prefix sets, service tags, the NSG engine, the PROXY protocol, the client
//! address, the inbound decision taken for every connection before a byte of TLS or HTTP is read,
//! and the subnet planner. No HTTP here.

pub mod client;
pub mod dns;
pub mod egress;
pub mod inbound;
pub mod nsg;
pub mod plan;
pub mod ports;
pub mod prefix;
pub mod proxy_protocol;
pub mod recommended;
pub mod tags;
