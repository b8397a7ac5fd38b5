//! `gatehouse net plan`: the subnet arithmetic. It lives in crates/model/src/subnet_plan.rs so
//! that `config validate` (model validation, which may not depend on this crate) checks each
//! capacity against its subnet with the very same arithmetic; re-exported here for the tools
//! that reach it through crates/net.

pub use gatehouse_model::subnet_plan::*;
