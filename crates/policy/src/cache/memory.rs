//! [`InMemoryCache`]: the cache inside the gateway process (`caching-type="internal"`, and every
//! type when no external cache is configured).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Cache, CachedEntry};
use crate::answer::Answer;

/// What moka holds: the entry and the TTL it was stored with (read by [`PerEntryTtl`]).
#[derive(Debug)]
struct Stored {
    entry: CachedEntry,
    ttl: Duration,
    /// When `ttl` runs out, for [`Cache::get_with_ttl`].
    expires_at: Instant,
    weight: u32,
}

/// Expires each entry `ttl` after it was (re)written; reads do not extend it, as in APIM.
struct PerEntryTtl;

impl moka::Expiry<String, Arc<Stored>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<Stored>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<Stored>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The built-in cache: one process-wide moka cache bounded by (approximate) total bytes, with
/// a TTL per entry. Eviction beyond the bound is least-recently/frequently used (moka's
/// TinyLFU), which may refuse a new entry in favour of hotter ones — a cache miss later, never
/// a wrong answer.
pub struct InMemoryCache {
    inner: moka::sync::Cache<String, Arc<Stored>>,
    max_bytes: u64,
}

impl std::fmt::Debug for InMemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryCache")
            .field("max_bytes", &self.max_bytes)
            .field("entries", &self.inner.entry_count())
            .field("weighted_size", &self.inner.weighted_size())
            .finish()
    }
}

impl InMemoryCache {
    /// A cache holding at most about `max_bytes` of keys and entries.
    pub fn new(max_bytes: u64) -> Self {
        let inner = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_k: &String, v: &Arc<Stored>| v.weight)
            .expire_after(PerEntryTtl)
            .build();
        InMemoryCache { inner, max_bytes }
    }

    /// The weight an entry counts for: key, entry and bookkeeping, saturated at `u32::MAX`.
    fn weight(key: &str, entry: &CachedEntry) -> u64 {
        (key.len() + entry.approx_bytes() + 64) as u64
    }

    /// Approximate bytes held (after [`InMemoryCache::run_pending_tasks`] it is exact in moka's
    /// terms).
    pub fn weighted_size(&self) -> u64 {
        self.inner.weighted_size()
    }

    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }

    /// Applies pending evictions and expirations now (moka otherwise batches them); useful in
    /// tests and for metrics.
    pub fn run_pending_tasks(&self) {
        self.inner.run_pending_tasks();
    }
}

// Decided now, so named like the trait's methods: a caller holding the concrete type (tests, the
// dry run) needs no await.
impl InMemoryCache {
    pub fn get(&self, key: &str) -> Option<CachedEntry> {
        self.inner.get(key).map(|s| s.entry.clone())
    }

    pub fn put(&self, key: String, entry: CachedEntry, ttl: Duration) {
        let weight = Self::weight(&key, &entry);
        if ttl.is_zero() || weight > self.max_bytes || weight > u64::from(u32::MAX) {
            // Too big to ever fit (moka would admit then evict it, churning the cache) or
            // already expired: make sure the old value does not outlive the write.
            self.inner.invalidate(&key);
            return;
        }
        let stored = Stored {
            entry,
            ttl,
            expires_at: Instant::now() + ttl,
            weight: weight as u32,
        };
        self.inner.insert(key, Arc::new(stored));
    }

    pub fn remove(&self, key: &str) {
        self.inner.invalidate(key);
    }

    pub fn get_with_ttl(&self, key: &str) -> Option<(CachedEntry, Option<Duration>)> {
        self.inner.get(key).map(|s| {
            let left = s.expires_at.saturating_duration_since(Instant::now());
            (s.entry.clone(), Some(left))
        })
    }
}

impl Cache for InMemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> Answer<'a, Option<CachedEntry>> {
        Answer::ready(InMemoryCache::get(self, key))
    }

    fn put(&self, key: String, entry: CachedEntry, ttl: Duration) -> Answer<'_, ()> {
        InMemoryCache::put(self, key, entry, ttl);
        Answer::ready(())
    }

    fn remove<'a>(&'a self, key: &'a str) -> Answer<'a, ()> {
        InMemoryCache::remove(self, key);
        Answer::ready(())
    }

    fn get_with_ttl<'a>(
        &'a self,
        key: &'a str,
    ) -> Answer<'a, Option<(CachedEntry, Option<Duration>)>> {
        Answer::ready(InMemoryCache::get_with_ttl(self, key))
    }
}
