//! Redis for a cluster's shared state: the limit policies' counters ([`RedisCounters`]),
//! limit-concurrency's slots ([`RedisConcurrency`]) and the external cache ([`RedisCache`]),
//! over one multiplexed connection per node ([`link`]).
//!
//! Redis being unreachable never fails a request: counters and slots are then this node's
//! own (limits are per node until Redis returns), the external cache misses, the switch is
//! logged once each way and shown by the `gatehouse_shared_counters_available` gauge and the
//! `gatehouse_shared_counters_fallback_total` counter (docs/cluster.md).

mod cache;
mod concurrency;
mod counters;
mod link;

use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use cache::{RedisCache, StoredEntry, StoredValue};
pub use concurrency::{LEASE, RENEW_EVERY, RedisConcurrency};
pub use counters::RedisCounters;
pub use link::{AVAILABLE_METRIC, CALL_TIMEOUT, FALLBACK_METRIC, PROBE_EVERY};

/// Why [`connect`] refused.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// Not a Redis URL (`redis://HOST:PORT[/DB]`). The URL is not repeated: it may hold a
    /// password.
    #[error("invalid Redis URL (expected redis://HOST:PORT)")]
    InvalidUrl(#[source] redis::RedisError),
}

/// The shared stores of one node, for `gatehouse_gateway::SharedServices`.
#[derive(Debug, Clone)]
pub struct RedisServices {
    pub counters: Arc<RedisCounters>,
    pub cache: Arc<RedisCache>,
    pub concurrency: Arc<RedisConcurrency>,
}

impl RedisServices {
    /// Whether Redis is in use now (false: serving locally until it answers again).
    pub fn is_shared(&self) -> bool {
        self.counters.is_shared()
    }
}

/// Connects to Redis at `url`. Must run on a tokio runtime (the reconnecting probe runs on
/// it). A malformed URL is an error; an unreachable Redis is not: the node starts on its local
/// counters, says so in the log, and switches to Redis once it answers.
pub async fn connect(url: &str) -> Result<RedisServices, RedisError> {
    let client = redis::Client::open(url).map_err(RedisError::InvalidUrl)?;
    let link = link::Link::open(client).await;
    Ok(RedisServices {
        counters: Arc::new(RedisCounters::new(link.clone())),
        cache: Arc::new(RedisCache::new(link.clone())),
        concurrency: Arc::new(RedisConcurrency::new(link)),
    })
}

/// The hash-tag text of a key made of `parts`: a digest, so any text (braces included) makes a
/// short key, and every key of one counter lands in one Redis Cluster slot.
fn tag(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_separate_their_parts() {
        assert_ne!(tag(&["ab", "c"]), tag(&["a", "bc"]));
        assert_eq!(tag(&["x}{", "y"]).len(), 32);
    }

    #[tokio::test]
    async fn a_bad_url_is_an_error_an_unreachable_redis_is_not() {
        assert!(matches!(
            connect("http://nope").await,
            Err(RedisError::InvalidUrl(_))
        ));
        // Port 1 on loopback: refused at once.
        let services = connect("redis://127.0.0.1:1/")
            .await
            .expect("starts in fallback");
        assert!(!services.is_shared());
    }
}
