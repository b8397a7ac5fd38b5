//! The policy engine: APIM policy documents read as APIM reads them (C# expressions may carry
//! raw `"`, `<`, `>` and `&`), composed across scopes through `<base/>`, and — in later steps —
//! compiled once per config snapshot into a pipeline the gateway runs per request.

pub mod cache;
pub mod cors;
pub mod document;
pub mod expr;
pub mod http;
pub mod limits;
pub mod pipeline;
pub mod transform;
