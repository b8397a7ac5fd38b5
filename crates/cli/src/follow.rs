//! Store mode: the node follows the store. Every revision the change feed announces (and, as a
//! safety net after a lost notification, a periodic revision check finds) is loaded, validated
//! and compiled like a config file, and swapped in atomically; an invalid one is refused with
//! every error logged and the running config stays.

use crate::serve::ConfigCheck;
use crate::state_dir::StateDir;
use gatehouse_gateway::Gateway;
use gatehouse_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// How often the revision is checked besides the change feed: it finds what the feed cannot
/// announce (a SQLite store written by another process, such as `gatehouse store import`, and
/// PostgreSQL notifications lost while the listening connection was down). One small query.
const SAFETY_NET: Duration = Duration::from_secs(1);

/// How long a revision check (and opening the store) may take before the store counts as
/// unreachable: the pool would otherwise wait for a connection for its whole acquire timeout
/// (sqlx: 30 s) before saying so.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// The node's view of the store: what it applied, and the one path that applies a revision.
#[derive(Clone)]
pub struct Follower {
    store: Store,
    gateway: Gateway,
    check: ConfigCheck,
    applied: Arc<AtomicU64>,
    /// One apply at a time (the feed, the safety net, applynetworkconfigurationupdates).
    applying: Arc<Mutex<()>>,
    /// Where each applied revision is saved (a node restarted while the store is down
    /// starts from it).
    state: Option<StateDir>,
    /// Whether the last revision check reached the store: a change is logged once.
    reachable: Arc<std::sync::atomic::AtomicBool>,
    /// The node serves a configuration read from its state directory, not yet the store's.
    from_saved: Arc<std::sync::atomic::AtomicBool>,
}

/// `gatehouse_store_reachable`: 1 while the revision check reaches the store, else 0.
pub fn set_store_reachable(up: bool) {
    metrics::gauge!("gatehouse_store_reachable").set(if up { 1.0 } else { 0.0 });
}

/// `gatehouse_config_from_saved_state`: 1 while the node serves its saved configuration.
pub fn set_from_saved(saved: bool) {
    metrics::gauge!("gatehouse_config_from_saved_state").set(if saved { 1.0 } else { 0.0 });
}

impl Follower {
    /// `applied` is the revision the gateway serves; `from_saved` says it came from the state
    /// directory (the follower applies the store's newest revision as soon as it reads it).
    pub fn new(
        store: Store,
        gateway: Gateway,
        check: ConfigCheck,
        applied: u64,
        state: Option<StateDir>,
        from_saved: bool,
    ) -> Follower {
        Follower {
            store,
            gateway,
            check,
            applied: Arc::new(AtomicU64::new(applied)),
            applying: Arc::default(),
            state,
            reachable: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            from_saved: Arc::new(std::sync::atomic::AtomicBool::new(from_saved)),
        }
    }

    /// Records whether the store answered; logs and counts only a change.
    fn reached(&self, up: bool, error: Option<&gatehouse_store::StoreError>) {
        let was = self.reachable.swap(up, Ordering::AcqRel);
        if was == up {
            return;
        }
        set_store_reachable(up);
        if up {
            tracing::info!(revision = self.applied(), "store reachable again");
        } else {
            tracing::warn!(
                error = error.map(tracing::field::display),
                revision = self.applied(),
                "store unreachable: serving the last applied revision until it returns"
            );
        }
    }

    /// The revision the gateway serves.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Follows the change feed until the process ends.
    pub fn spawn(self) {
        tokio::spawn(async move {
            let mut feed = self.store.changes_after(self.applied());
            let mut tick = tokio::time::interval(SAFETY_NET);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut feed_down = false;
            loop {
                let announced = tokio::select! {
                    r = feed.next() => match r {
                        Ok(rev) => {
                            feed_down = false;
                            Some(rev)
                        }
                        Err(e) => {
                            // Said once per outage; the revision check below keeps running.
                            if !feed_down {
                                tracing::warn!(error = %e, "store change feed interrupted; checking the revision periodically until it returns");
                            }
                            feed_down = true;
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            None
                        }
                    },
                    _ = tick.tick() => None,
                };
                let newest = match announced {
                    Some(rev) => rev,
                    None => {
                        match tokio::time::timeout(STORE_TIMEOUT, self.store.revision()).await {
                            Ok(Ok(rev)) => {
                                self.reached(true, None);
                                rev
                            }
                            Ok(Err(e)) => {
                                self.reached(false, Some(&e));
                                continue;
                            }
                            Err(_) => {
                                self.reached(false, None);
                                continue;
                            }
                        }
                    }
                };
                // A node serving its saved configuration applies the store's newest revision
                // even when the numbers match (another store may have been restored).
                if newest > self.applied() || self.from_saved.load(Ordering::Acquire) {
                    let _ = self.apply("change feed").await;
                }
            }
        });
    }

    /// Loads the newest revision and applies it now (also when it is the one applied: POST
    /// applynetworkconfigurationupdates re-applies). Returns the report as JSON.
    pub async fn apply(&self, why: &str) -> serde_json::Value {
        let _one = self.applying.lock().await;
        let (config, revision) = match self.store.load().await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return serde_json::json!({"ok": false, "errors": ["the store holds no configuration"]});
            }
            Err(e) => {
                tracing::error!(error = %e, trigger = why, "cannot read the store: the running config stays");
                return serde_json::json!({"ok": false, "errors": [e.to_string()]});
            }
        };
        let validated = match (self.check)(&config) {
            Ok(v) => v,
            Err(problems) => {
                for p in &problems {
                    tracing::error!(revision, path = %p.path, trigger = why, "config refused: {}", p.message);
                }
                tracing::error!(
                    revision,
                    trigger = why,
                    "store revision refused: the running config stays"
                );
                return serde_json::json!({"ok": false, "revision": revision, "errors": problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect::<Vec<_>>()});
            }
        };
        let mut report = crate::reload::apply_validated(
            &self.gateway,
            &validated,
            &format!("store revision {revision}"),
            why,
        );
        if report["ok"] == true {
            self.applied.store(revision, Ordering::Release);
            if self.from_saved.swap(false, Ordering::AcqRel) {
                set_from_saved(false);
                tracing::info!(
                    revision,
                    "caught up with the store: serving its newest revision, no longer the saved configuration"
                );
            }
            if let Some(state) = &self.state
                && let Err(e) = state.save(revision, &config)
            {
                tracing::warn!(error = %e, revision, "cannot save the applied configuration to the state directory");
            }
        }
        report["revision"] = revision.into();
        report
    }
}
