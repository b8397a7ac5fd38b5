//! [`RedisCounters`]: the limit policies' counters shared by every node of a cluster.
//!
//! One Lua script per hit decides atomically in Redis (the same contract as
//! `gatehouse_policy::limits::Counters`: a rejected hit records nothing, `amount == 0` only
//! checks), with Redis's `TIME` as the clock since nodes' `Instant`s are not comparable:
//! - rate limits (sliding window, as APIM): the admitted hits coalesced into at most ~257
//!   slots per key (a sorted set scored by each slot's latest hit, a hash of their amounts and
//!   the running total); slots older than one period are dropped at each hit;
//! - quotas (fixed periods aligned to first use): a hash with the period's start and its count,
//!   so a period survives node restarts; the key expires when the period ends.
//!
//! Keys are `gatehouse:{HASH}:…` where HASH digests the policy scope, the counter key and the
//! window: the `{…}` hash tag keeps a counter's keys in one Redis Cluster slot, and a window
//! changed by a new configuration starts a fresh counter (as the in-memory counters do).
//! While Redis is unreachable hits are decided by this node's in-memory counters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_policy::answer::Answer;
use gatehouse_policy::limits::{
    CounterKey, Counters, Decision, InMemoryCounters, Window, WindowKind,
};
use redis::Script;

use super::link::Link;
use super::tag;

/// How both scripts begin: the time from Redis's clock in µs (nodes' clocks are not compared),
/// and ARGV: period µs, amount, limit. A macro, not a const, so `concat!` can join it.
macro_rules! prelude {
    () => {
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
"#
    };
}

/// The sliding-window script. KEYS: the slots (zset: slot → its latest hit), the meta hash
/// (`used`, and each slot's amount). ARGV: period µs, amount, limit. Returns {allowed,
/// remaining, retry_after µs, reset µs}.
///
/// Hits are coalesced into slots of `period / 256` (as `gatehouse_policy::limits` does in
/// memory, `SLIDING_SLOTS`): a key holds at most ~257 slots whatever the call rate, so a hit —
/// even a rejected one, which looks for the slots that must expire — costs a bounded amount of
/// Redis time. A slot expires one period after its latest hit, so a call may be held up to one
/// slot width longer than exactly one period, never admitted early.
const SLIDING: &str = concat!(
    prelude!(),
    r#"local width = math.max(math.floor(period / 256), 1)
local used = tonumber(redis.call('HGET', KEYS[2], 'used') or '0')
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - period)
for _, slot in ipairs(old) do
  used = used - tonumber(redis.call('HGET', KEYS[2], slot) or '0')
  redis.call('HDEL', KEYS[2], slot)
end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period) end
if used < 0 then used = 0 end
local allowed
if amount == 0 then allowed = used < limit else allowed = used + amount <= limit end
if allowed and amount > 0 then
  local slot = string.format('%d', math.floor(now / width))
  redis.call('ZADD', KEYS[1], now, slot)
  redis.call('HINCRBY', KEYS[2], slot, amount)
  used = used + amount
end
redis.call('HSET', KEYS[2], 'used', used)
local ttl = math.floor(period / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local retry = 0
if not allowed then
  local want = amount
  if want == 0 then want = 1 end
  retry = period
  if want <= limit then
    local need = used + want - limit
    local freed = 0
    local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do
      freed = freed + tonumber(redis.call('HGET', KEYS[2], all[i]) or '0')
      if freed >= need then
        retry = tonumber(all[i + 1]) + period - now
        break
      end
    end
  end
end
local reset = 0
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #newest == 2 then reset = tonumber(newest[2]) + period - now end
local remaining = limit - used
if remaining < 0 then remaining = 0 end
return {allowed and 1 or 0, remaining, math.max(retry, 0), math.max(reset, 0)}
"#
);

/// The fixed-window script. KEYS: the period hash (start, used). ARGV: period µs, amount, limit.
const FIXED: &str = concat!(
    prelude!(),
    r#"local start = tonumber(redis.call('HGET', KEYS[1], 'start') or '-1')
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if start < 0 or now - start >= period or used == 0 then
  start = now
  used = 0
end
local allowed
if amount == 0 then allowed = used < limit else allowed = used + amount <= limit end
if allowed and amount > 0 then
  used = used + amount
  redis.call('HSET', KEYS[1], 'start', start, 'used', used)
  redis.call('PEXPIRE', KEYS[1], math.floor((start + period - now) / 1000) + 1000)
end
local reset = start + period - now
local remaining = limit - used
if remaining < 0 then remaining = 0 end
local retry = 0
if not allowed then retry = reset end
return {allowed and 1 or 0, remaining, retry, reset}
"#
);

/// Counters in Redis, exact across nodes; this node's in-memory counters while Redis is down.
#[derive(Clone)]
pub struct RedisCounters {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    local: InMemoryCounters,
    sliding: Script,
    fixed: Script,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCounters")
            .field("link", &self.inner.link)
            .finish_non_exhaustive()
    }
}

impl RedisCounters {
    pub(crate) fn new(link: Arc<Link>) -> Self {
        RedisCounters {
            inner: Arc::new(Inner {
                link,
                local: InMemoryCounters::new(),
                sliding: Script::new(SLIDING),
                fixed: Script::new(FIXED),
            }),
        }
    }

    /// Whether hits are counted in Redis now (false: locally, Redis being unreachable).
    pub fn is_shared(&self) -> bool {
        self.inner.link.is_up()
    }
}

/// The largest count Lua's numbers (doubles) hold exactly; limits and amounts are clamped to
/// it (a limit that high is "unlimited" anyway).
const MAX_EXACT: u64 = 1 << 53;

/// Microseconds of `d`, saturated (periods are clamped far below the limit anyway).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Inner {
    async fn shared_hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
    ) -> Option<Decision> {
        let tag = tag(&[
            &key.scope,
            &key.key,
            match window.kind() {
                WindowKind::Sliding => "sliding",
                WindowKind::Fixed => "fixed",
            },
            &micros(window.period()).to_string(),
        ]);
        let period = micros(window.period()).max(1);
        let answer = self
            .link
            .call(|mut conn| async move {
                let mut invocation = match window.kind() {
                    WindowKind::Sliding => {
                        let mut i = self.sliding.key(format!("gatehouse:{{{tag}}}:rl"));
                        i.key(format!("gatehouse:{{{tag}}}:rl-meta"));
                        i
                    }
                    WindowKind::Fixed => self.fixed.key(format!("gatehouse:{{{tag}}}:quota")),
                };
                invocation
                    .arg(period)
                    .arg(amount.min(MAX_EXACT))
                    .arg(limit.min(MAX_EXACT));
                invocation.invoke_async::<Vec<u64>>(&mut conn).await
            })
            .await;
        match answer {
            Ok(v) if v.len() == 4 => Some(Decision {
                allowed: v[0] == 1,
                remaining: v[1],
                retry_after: Duration::from_micros(v[2]),
                reset: Duration::from_micros(v[3]),
            }),
            Ok(v) => {
                tracing::warn!(target: "gatehouse::shared", len = v.len(), "unexpected answer of the counter script: counted locally");
                None
            }
            Err(_) => None,
        }
    }

    async fn hit(
        &self,
        key: CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Decision {
        if let Some(decision) = self.shared_hit(&key, window, amount, limit).await {
            return decision;
        }
        self.link.count_fallback();
        self.local.hit(&key, window, amount, limit, now)
    }
}

impl Counters for RedisCounters {
    fn hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Answer<'static, Decision> {
        if !self.inner.link.is_up() {
            // Down: decided here and now, no allocation, no wait.
            self.inner.link.count_fallback();
            return Answer::ready(self.inner.local.hit(key, window, amount, limit, now));
        }
        let inner = self.inner.clone();
        let key = key.clone();
        Answer::pending(async move { inner.hit(key, window, amount, limit, now).await })
    }
}
