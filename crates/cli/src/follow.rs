//! Store mode: the node follows the store. Every revision the change feed announces (and, as a
//! safety net after a lost notification, a periodic revision check finds) is loaded, validated
//! and compiled like a config file, and swapped in atomically; an invalid one is refused with
//! every error logged and the running config stays.

use crate::serve::ConfigCheck;
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

/// The node's view of the store: what it applied, and the one path that applies a revision.
#[derive(Clone)]
pub struct Follower {
    store: Store,
    gateway: Gateway,
    check: ConfigCheck,
    applied: Arc<AtomicU64>,
    /// One apply at a time (the feed, the safety net, applynetworkconfigurationupdates).
    applying: Arc<Mutex<()>>,
}

impl Follower {
    pub fn new(store: Store, gateway: Gateway, check: ConfigCheck, applied: u64) -> Follower {
        Follower {
            store,
            gateway,
            check,
            applied: Arc::new(AtomicU64::new(applied)),
            applying: Arc::default(),
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
            loop {
                let announced = tokio::select! {
                    r = feed.next() => match r {
                        Ok(rev) => Some(rev),
                        Err(e) => {
                            tracing::warn!(error = %e, "store change feed interrupted; checking the revision periodically until it returns");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            None
                        }
                    },
                    _ = tick.tick() => None,
                };
                let newest = match announced {
                    Some(rev) => rev,
                    None => match self.store.revision().await {
                        Ok(rev) => rev,
                        Err(e) => {
                            tracing::warn!(error = %e, "store unreachable: serving the last applied revision");
                            continue;
                        }
                    },
                };
                if newest > self.applied() {
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
            self.applied.fetch_max(revision, Ordering::AcqRel);
        }
        report["revision"] = revision.into();
        report
    }
}
