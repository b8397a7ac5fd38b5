//! The slots of `limit-concurrency`: how many requests are inside the policy per key. APIM
//! answers 429 at once when a key is full (no queueing), so a counter per key is enough; the
//! guard gives the slot back however the request ends (finished, failed or cancelled).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Requests inside limit-concurrency policies, by policy and key. Entries are removed at zero,
/// so the map holds only keys with requests in flight. One per gateway, kept across reloads, so
/// a reload never lets more requests in than `max-count`.
#[derive(Debug, Default)]
pub struct ConcurrencySlots {
    in_use: Mutex<HashMap<String, usize>>,
}

/// A taken slot, given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<ConcurrencySlots>,
    key: String,
}

impl ConcurrencySlots {
    /// Takes a slot for `key` unless `max` are in use.
    pub(crate) fn try_take(self: &Arc<Self>, key: String, max: usize) -> Option<Slot> {
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
