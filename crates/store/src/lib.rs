//! The configuration store: the resource model of crates/model kept in SQLite (embedded, one
//! file) or PostgreSQL (several nodes), one row per resource, a revision per change, the
//! history of every change, a change feed, and secrets encrypted at rest.
//!
//! - [`Store::open`] connects and applies the schema migrations (`migrations/<backend>`).
//! - [`Store::load`] / [`Store::commit`] / [`Store::import`] read and write whole
//!   configurations; a commit writes only the rows whose content changed, in one transaction,
//!   and only if the store is still at the revision the writer read ([`StoreError::Conflict`]).
//! - [`Store::changes`] follows the revisions committed from then on.
//! - [`Store::heartbeat`] / [`Store::nodes`]: the node registry.
//! - [`Store::history`] / [`Store::resource_history`] say what changed, when and by whom.
//! - [`redis`] holds what a cluster's nodes share besides the configuration: the limit
//!   counters, limit-concurrency's slots and the external cache.

mod access_keys;
mod db;
mod error;
mod feed;
mod history;
mod nodes;
pub mod redis;
mod rows;
mod secret_key;
mod store;

pub use access_keys::AccessKeys;
pub use error::StoreError;
pub use feed::ChangeFeed;
pub use history::{ResourceChange, ResourceVersion, RevisionRecord};
pub use nodes::{NodeRecord, NodeReport};
pub use rows::KINDS;
pub use secret_key::SecretKey;
pub use store::Store;
