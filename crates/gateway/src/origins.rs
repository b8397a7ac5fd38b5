//! The per-origin registry behind the backend client cache (crates/gateway/src/backend.rs):
//! read without a lock on the request path, bounded, idle entries evicted.
//!
//! Why an `ArcSwap`'d map copied on insert rather than a concurrent map crate (papaya, scc,
//! dashmap): reads are the hot path (send-request, set-backend-service to another origin,
//! redirects look up their origin on every request) and new origins are rare (configured
//! backends at reload, a policy's first call to a URL). A copy-on-insert map gives a read of
//! one atomic load and one hash lookup, needs no new dependency (arc-swap is already the
//! snapshot's), and its writers — the rare inserts and the sweeps — take one mutex among
//! themselves only. The bound keeps each copy small.
//!
//! An entry is "in use" while anything besides the map holds its value: a snapshot's
//! configured backend, a request's target, a lease on one of its connections. Entries in use
//! are never evicted, so configured backends are always kept. Unused entries go when no one
//! asked for them for `idle_after`, or, the least recently used first, when the map is full.

use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Unused origins kept at most (entries in use come on top: they are never evicted).
pub const MAX_ORIGINS: usize = 1024;
/// An unused origin nobody asked for in this long is evicted. Longer than the pools' idle
/// timeout (crates/gateway/src/upstream.rs), so its idle connections have expired already.
pub const IDLE_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often a lookup may sweep the idle entries out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

struct Slot<V> {
    value: Arc<V>,
    /// Seconds since the registry's epoch at the last lookup.
    last_used: AtomicU64,
}

pub struct Origins<K, V> {
    map: ArcSwap<HashMap<K, Arc<Slot<V>>>>,
    /// Taken by writers only (insert, sweep), never by a lookup that finds its entry.
    write: Mutex<()>,
    max_unused: usize,
    idle_after: u64,
    epoch: Instant,
    /// Seconds since the epoch of the last sweep.
    last_sweep: AtomicU64,
}

impl<K: Hash + Eq + Clone, V> Origins<K, V> {
    pub fn new(max_unused: usize, idle_after: Duration) -> Self {
        Origins {
            map: ArcSwap::from_pointee(HashMap::new()),
            write: Mutex::new(()),
            max_unused,
            idle_after: idle_after.as_secs(),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_secs()
    }

    /// The value of `key`, made by `make` (under the writers' mutex) when there is none.
    pub fn get_or_insert_with<E>(
        &self,
        key: &K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        self.get_or_insert_at(key, self.now(), make)
    }

    /// [`Origins::get_or_insert_with`] at `now` (seconds since the epoch), for tests.
    fn get_or_insert_at<E>(
        &self,
        key: &K,
        now: u64,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some(v) = self.lookup(key, now) {
            if now.saturating_sub(self.last_sweep.load(Ordering::Relaxed)) >= SWEEP_EVERY.as_secs()
            {
                self.sweep(now);
            }
            return Ok(v);
        }
        let _write = self.write.lock().unwrap_or_else(|p| p.into_inner());
        // Another writer may have inserted it while this one waited.
        if let Some(v) = self.lookup(key, now) {
            return Ok(v);
        }
        let value = Arc::new(make()?);
        let mut map = HashMap::clone(&self.map.load());
        evict(
            &mut map,
            now,
            self.idle_after,
            self.max_unused.saturating_sub(1),
        );
        self.last_sweep.store(now, Ordering::Relaxed);
        map.insert(
            key.clone(),
            Arc::new(Slot {
                value: value.clone(),
                last_used: AtomicU64::new(now),
            }),
        );
        self.map.store(Arc::new(map));
        Ok(value)
    }

    fn lookup(&self, key: &K, now: u64) -> Option<Arc<V>> {
        let map = self.map.load();
        let slot = map.get(key)?;
        // A plain store: racing lookups all write about the same instant.
        if slot.last_used.load(Ordering::Relaxed) != now {
            slot.last_used.store(now, Ordering::Relaxed);
        }
        Some(slot.value.clone())
    }

    /// Evicts the unused entries idle for `idle_after`.
    pub fn sweep_now(&self) {
        self.sweep(self.now());
    }

    fn sweep(&self, now: u64) {
        let Ok(_write) = self.write.try_lock() else {
            // Another writer is at it: it sweeps too.
            return;
        };
        self.last_sweep.store(now, Ordering::Relaxed);
        let current = self.map.load_full();
        let mut map = HashMap::clone(&current);
        evict(&mut map, now, self.idle_after, self.max_unused);
        if map.len() != current.len() {
            self.map.store(Arc::new(map));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.load().len()
    }
}

/// Removes from `map` the unused entries idle for `idle_after` seconds, then the least
/// recently used unused ones beyond `keep_unused`.
fn evict<K: Hash + Eq + Clone, V>(
    map: &mut HashMap<K, Arc<Slot<V>>>,
    now: u64,
    idle_after: u64,
    keep_unused: usize,
) {
    // The map's own Arc is the one reference of an unused value.
    let unused = |s: &Slot<V>| Arc::strong_count(&s.value) == 1;
    map.retain(|_, s| {
        !(unused(s) && now.saturating_sub(s.last_used.load(Ordering::Relaxed)) >= idle_after)
    });
    let mut idle: Vec<(u64, K)> = map
        .iter()
        .filter(|(_, s)| unused(s))
        .map(|(k, s)| (s.last_used.load(Ordering::Relaxed), k.clone()))
        .collect();
    if idle.len() > keep_unused {
        idle.sort_unstable_by_key(|(t, _)| *t);
        let excess = idle.len() - keep_unused;
        for (_, k) in idle.into_iter().take(excess) {
            map.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(max: usize) -> Origins<String, u32> {
        Origins::new(max, Duration::from_secs(300))
    }

    fn add(o: &Origins<String, u32>, key: &str, now: u64) -> Arc<u32> {
        o.get_or_insert_at(&key.to_string(), now, || Ok::<_, ()>(now as u32))
            .expect("made")
    }

    #[test]
    fn a_lookup_finds_the_same_value() {
        let o = origins(4);
        let a = add(&o, "a", 1);
        let again = add(&o, "a", 2);
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(o.len(), 1);
    }

    #[test]
    fn the_bound_evicts_the_least_recently_used_unused_origin() {
        let o = origins(3);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            add(&o, k, i as u64);
        }
        add(&o, "a", 10); // a is now the most recently used
        add(&o, "d", 11);
        assert_eq!(o.len(), 3);
        let map = o.map.load();
        assert!(map.contains_key("a") && map.contains_key("c") && map.contains_key("d"));
        assert!(!map.contains_key("b"));
    }

    #[test]
    fn origins_in_use_are_kept_beyond_the_bound() {
        let o = origins(2);
        // Held, as a snapshot holds its configured backends.
        let held: Vec<Arc<u32>> = (0..3).map(|i| add(&o, &format!("held{i}"), i)).collect();
        add(&o, "x", 5);
        add(&o, "y", 6);
        add(&o, "z", 7);
        let map = o.map.load();
        assert_eq!(map.len(), 5, "3 in use + 2 unused");
        assert!((0..3).all(|i| map.contains_key(&format!("held{i}"))));
        assert!(map.contains_key("y") && map.contains_key("z"));
        drop(held);
    }

    #[test]
    fn idle_unused_origins_are_evicted() {
        let o = origins(100);
        let held = add(&o, "held", 0);
        add(&o, "idle", 0);
        add(&o, "recent", 200);
        // A lookup past the sweep interval sweeps: idle (300 s unused) goes, the rest stay.
        add(&o, "recent", 301);
        let map = o.map.load();
        assert!(map.contains_key("held") && map.contains_key("recent"));
        assert!(!map.contains_key("idle"));
        drop(map);
        drop(held);
        o.sweep(1000);
        assert_eq!(o.len(), 0, "released and idle: evicted");
    }
}
