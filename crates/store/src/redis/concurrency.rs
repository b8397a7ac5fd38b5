//! [`RedisConcurrency`]: limit-concurrency's slots shared by every node of a cluster.
//!
//! A slot is a lease: a member of the key's sorted set scored by when it expires (Redis `TIME`
//! plus [`LEASE`]). Taking one first drops the expired leases, so a node that died holding
//! slots gives them back at most [`LEASE`] later. A request that runs longer keeps its lease
//! by renewing it every [`RENEW_EVERY`]; its end (however it ends) removes it. While Redis is
//! unreachable this node's own slots are used.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gatehouse_policy::answer::Answer;
use gatehouse_policy::pipeline::{Concurrency, ConcurrencySlot, ConcurrencySlots};
use redis::Script;

use super::link::Link;
use super::tag;

/// How long a slot is held without renewal: the longest a dead node's slots stay taken.
pub const LEASE: Duration = Duration::from_secs(30);

/// How often a running request renews its lease.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);

/// KEYS: the lease set. ARGV: lease id, max, lease µs. Returns 1 when taken, 0 when full.
const TAKE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[3]) / 1000) + 1000)
return 1
"#;

/// KEYS: the lease set. ARGV: lease id, lease µs. Extends a lease still held.
const RENEW: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[2]) / 1000) + 1000)
return n
"#;

/// limit-concurrency slots in Redis, exact across nodes; this node's slots while Redis is down.
pub struct RedisConcurrency {
    link: Arc<Link>,
    local: Arc<ConcurrencySlots>,
    take: Script,
    renew: Arc<Script>,
    /// Lease ids are this node's random prefix and a sequence: unique across nodes.
    node: String,
    seq: AtomicU64,
}

impl std::fmt::Debug for RedisConcurrency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConcurrency")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl RedisConcurrency {
    pub(crate) fn new(link: Arc<Link>) -> Self {
        let mut id = [0u8; 8];
        // Uniqueness, not secrecy: should the OS refuse randomness, the time still separates
        // nodes started at different instants.
        if getrandom::fill(&mut id).is_err() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            id = now.to_le_bytes();
        }
        RedisConcurrency {
            link,
            local: Arc::new(ConcurrencySlots::default()),
            take: Script::new(TAKE),
            renew: Arc::new(Script::new(RENEW)),
            node: hex::encode(id),
            seq: AtomicU64::new(0),
        }
    }

    fn local_take(&self, key: String, max: usize) -> Option<ConcurrencySlot> {
        self.link.count_fallback();
        self.local.try_take(key, max).map(ConcurrencySlot::shared)
    }
}

/// A held lease: renewed while held, removed on drop.
struct Lease {
    link: Arc<Link>,
    key: String,
    id: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
        let (link, key, id) = (
            self.link.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.id),
        );
        // Giving back is I/O: done on the runtime. Should it fail, the lease expires.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = link
                    .call(|mut conn| async move {
                        redis::cmd("ZREM")
                            .arg(&key)
                            .arg(&id)
                            .query_async::<i64>(&mut conn)
                            .await
                    })
                    .await;
            });
        }
    }
}

impl Concurrency for RedisConcurrency {
    fn take(self: Arc<Self>, key: String, max: usize) -> Answer<'static, Option<ConcurrencySlot>> {
        if !self.link.is_up() {
            return Answer::ready(self.local_take(key, max));
        }
        Answer::pending(async move {
            let redis_key = format!("gatehouse:{{{}}}:cc", tag(&[&key]));
            let id = format!("{}:{}", self.node, self.seq.fetch_add(1, Ordering::Relaxed));
            let lease = micros(LEASE);
            let taken = self
                .link
                .call(|mut conn| {
                    let mut i = self.take.key(&redis_key);
                    i.arg(&id).arg(max).arg(lease);
                    async move { i.invoke_async::<i64>(&mut conn).await }
                })
                .await;
            match taken {
                Ok(1) => {
                    let renewer = tokio::spawn(renew(
                        self.link.clone(),
                        self.renew.clone(),
                        redis_key.clone(),
                        id.clone(),
                    ));
                    Some(ConcurrencySlot::shared(Lease {
                        link: self.link.clone(),
                        key: redis_key,
                        id,
                        renewer,
                    }))
                }
                Ok(_) => None,
                Err(_) => self.local_take(key, max),
            }
        })
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Keeps a lease alive while its request runs (aborted when the lease drops).
async fn renew(link: Arc<Link>, script: Arc<Script>, key: String, id: String) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let _ = link
            .call(|mut conn| {
                let mut i = script.key(&key);
                i.arg(&id).arg(micros(LEASE));
                async move { i.invoke_async::<i64>(&mut conn).await }
            })
            .await;
    }
}
