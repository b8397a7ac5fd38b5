//! The gatehouse resource model: what a user writes in `gatehouse.yaml`.
//!
//! Data flows one way: [`load`] reads a file (YAML or JSON) into the typed [`Config`]
//! (unknown fields refused, Azure ARM names accepted as aliases), then [`validate()`]
//! checks every cross-reference and value and reports *every* problem with its path
//! inside the file (`apis[1].operations[0].url_template: unbalanced '{'`). Only a
//! [`Validated`] config may be compiled by the gateway.

mod config;
mod error;
pub mod groups;
pub mod hostnames;
mod load;
mod locations;
pub mod network;
mod outbound_integration;
pub mod portal;
mod scope;
mod secret;
pub mod service_tags_file;
pub mod subnet_plan;
pub mod template;
pub mod tiers;
mod validate;
mod validate_network;

pub use config::*;
pub use error::{ConfigError, Issue, Severity};
pub use load::{Format, from_str, load, load_validated, schema_json};
pub use locations::{AdditionalLocation, for_location};
pub use scope::Scope;
pub use secret::Secret;
pub use validate::{Exposure, ListenerPlan, Validated, normalize_api_path, validate};
