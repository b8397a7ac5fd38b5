//! The policy engine: APIM policy documents read as APIM reads them (C# expressions may carry
//! raw `"`, `<`, `>` and `&`), composed across scopes through `<base/>`, and — in later steps —
//! compiled once per config snapshot into a pipeline the gateway runs per request.

pub mod answer;
pub mod cache;
pub mod config;
pub mod cors;
pub mod document;
/// The expression engine lives in its own crate (crates/expr); this keeps the
/// `gatehouse_policy::expr::…` paths the pipeline, the gateway and the tests use.
pub use gatehouse_expr as expr;
pub mod http;
pub mod limits;
pub mod pipeline;
pub mod transform;
