//! The slots of `limit-concurrency`: how many requests are inside the policy per key. APIM
//! answers 429 at once when a key is full (no queueing), so a counter per key is enough; the
//! guard gives the slot back however the request ends (finished, failed or cancelled).
//!
//! The slots sit behind [`Concurrency`] so a cluster can share them (Redis leases,
//! crates/store/src/redis/concurrency.rs); [`ConcurrencySlots`] is the in-process one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::answer::Answer;

/// Where limit-concurrency takes its slots.
pub trait Concurrency: Send + Sync {
    /// Takes a slot for `key` unless `max` are in use; `None` when full. The slot is given back
    /// when the returned guard drops. The answer owns what it needs (`'static`).
    fn take(self: Arc<Self>, key: String, max: usize) -> Answer<'static, Option<ConcurrencySlot>>;
}

/// A taken slot of any [`Concurrency`], given back on drop.
#[derive(Debug)]
pub struct ConcurrencySlot {
    _held: Held,
}

#[derive(Debug)]
enum Held {
    // Both are held only to be dropped (their Drop gives the slot back). The in-process slot
    // is unboxed: taking one costs no allocation.
    Local(#[allow(dead_code)] Slot),
    Shared(#[allow(dead_code)] SharedGuard),
}

/// A shared store's guard; its `Drop` gives the slot back.
struct SharedGuard {
    // Held only to be dropped: its Drop gives the slot back.
    _guard: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for SharedGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedGuard")
    }
}

impl ConcurrencySlot {
    /// A slot whose `guard` gives it back when dropped (a shared store's lease).
    pub fn shared(guard: impl Send + Sync + 'static) -> Self {
        ConcurrencySlot {
            _held: Held::Shared(SharedGuard {
                _guard: Box::new(guard),
            }),
        }
    }
}

impl Concurrency for ConcurrencySlots {
    fn take(self: Arc<Self>, key: String, max: usize) -> Answer<'static, Option<ConcurrencySlot>> {
        Answer::ready(self.try_take(key, max).map(|slot| ConcurrencySlot {
            _held: Held::Local(slot),
        }))
    }
}

/// Requests inside limit-concurrency policies, by policy and key. Entries are removed at zero,
/// so the map holds only keys with requests in flight. One per gateway, kept across reloads, so
/// a reload never lets more requests in than `max-count`.
#[derive(Debug, Default)]
pub struct ConcurrencySlots {
    in_use: Mutex<HashMap<String, usize>>,
}

/// A taken in-process slot, given back on drop.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ConcurrencySlots>,
    key: String,
}

impl ConcurrencySlots {
    /// Takes a slot for `key` unless `max` are in use.
    pub fn try_take(self: &Arc<Self>, key: String, max: usize) -> Option<Slot> {
        let mut in_use = self.in_use.lock().unwrap_or_else(|p| p.into_inner());
        let n = in_use.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }

    #[cfg(test)]
    fn in_use(&self, key: &str) -> usize {
        let in_use = self.in_use.lock().unwrap_or_else(|p| p.into_inner());
        in_use.get(key).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut in_use = self.slots.in_use.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = in_use.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                in_use.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_key_and_given_back_on_drop() {
        let slots = Arc::new(ConcurrencySlots::default());
        let a1 = slots.try_take("a".into(), 2);
        let a2 = slots.try_take("a".into(), 2);
        assert!(a1.is_some() && a2.is_some());
        assert!(slots.try_take("a".into(), 2).is_none());
        assert!(slots.try_take("b".into(), 2).is_some());
        drop(a1);
        assert_eq!(slots.in_use("a"), 1);
        assert!(slots.try_take("a".into(), 2).is_some());
        drop(a2);
        assert_eq!(slots.in_use("a"), 0);
    }
}
