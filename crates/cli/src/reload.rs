//! Live reload: the config file is watched (its directory, so editors that replace the file
//! are seen) and SIGHUP forces a reload. A valid file is compiled and swapped in atomically; an
//! invalid one is refused with every error logged, and the running config stays.

use anyhow::{Context, Result};
use gatehouse_gateway::Gateway;
use notify::{RecursiveMode, Watcher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Editors write a file in several steps: wait for quiet before reading it.
const SETTLE: Duration = Duration::from_millis(200);
/// How often a vanished config file is looked for.
const REARM_EVERY: Duration = Duration::from_millis(500);

pub fn spawn(gateway: Gateway, path: PathBuf, listen: Vec<SocketAddr>) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let watch_tx = tx.clone();
    // The file itself is watched, not its directory: a log file written next to the config would
    // otherwise wake the watcher on every request. Editors that replace the file (write a copy,
    // rename it over) end the watch on the old inode, so it is re-armed after every event.
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(ev) = event
            && !ev.kind.is_access()
        {
            let _ = watch_tx.send("file changed");
        }
    })
    .context("cannot watch the config file")?;
    watcher
        .watch(&path, RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", path.display()))?;

    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let _ = tx.send("SIGHUP");
        }
    });
    tokio::spawn(async move {
        let mut armed = true;
        loop {
            // While the file is missing (deleted, between an editor's steps), look for it again.
            let first = if armed {
                rx.recv().await
            } else {
                tokio::time::timeout(REARM_EVERY, rx.recv())
                    .await
                    .unwrap_or(Some("file reappeared"))
            };
            let Some(mut why) = first else { return };
            // Collapse a burst of events into one reload.
            loop {
                match tokio::time::timeout(SETTLE, rx.recv()).await {
                    Ok(Some(w)) => why = w,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            if why != "SIGHUP" || !armed {
                let _ = watcher.unwatch(&path);
                armed = watcher.watch(&path, RecursiveMode::NonRecursive).is_ok();
                if !armed {
                    continue;
                }
            }
            let _ = reload(&gateway, &path, &listen, why);
        }
    });
    Ok(())
}

/// Reloads `path` now: logs what happened and returns it as one JSON object (the answer of
/// `gatehouse net apply`).
pub fn reload(
    gateway: &Gateway,
    path: &Path,
    listen: &[SocketAddr],
    why: &str,
) -> serde_json::Value {
    let validated = match gatehouse_model::load_validated(path) {
        Ok(v) => crate::override_listeners(v, listen),
        Err(e) => {
            let issues = e.issues();
            for issue in &issues {
                tracing::error!(config = %path.display(), path = %issue.path, trigger = why, "config refused: {}", issue.message);
            }
            tracing::error!(config = %path.display(), trigger = why, "config change refused: the running config stays");
            return serde_json::json!({ "ok": false, "errors": issues.iter().map(|i| i.to_string()).collect::<Vec<_>>() });
        }
    };
    apply_validated(gateway, &validated, &path.display().to_string(), why)
}

/// Swaps in a validated config (from the file, or a store revision): logs what happened and
/// returns it as one JSON object.
pub fn apply_validated(
    gateway: &Gateway,
    validated: &gatehouse_model::Validated,
    source: &str,
    why: &str,
) -> serde_json::Value {
    match gateway.reload(validated) {
        Ok(report) => {
            let (apis, operations, products, subscriptions) = report.counts;
            for w in &validated.warnings {
                tracing::warn!(path = %w.path, "{}", w.message);
            }
            for setting in &report.needs_restart {
                tracing::warn!(setting = %setting, "changed, but applies only after a restart");
            }
            for addr in &report.listeners_added {
                tracing::info!(listener = %addr, "listening (added by reload)");
            }
            for addr in &report.listeners_removed {
                tracing::info!(listener = %addr, "stopped listening (removed by reload); its connections drain");
            }
            for change in &report.network_changes {
                tracing::info!(change = %change, "network change applied");
            }
            tracing::info!(config = %source, trigger = why, apis, operations, products, subscriptions, "config reloaded");
            serde_json::json!({
                "ok": true,
                "counts": { "apis": apis, "operations": operations, "products": products, "subscriptions": subscriptions },
                "listeners_added": report.listeners_added.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "listeners_removed": report.listeners_removed.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "network_changes": report.network_changes,
                "needs_restart": report.needs_restart,
                "warnings": validated.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            })
        }
        Err(e) => {
            tracing::error!(config = %source, trigger = why, error = %e, "config change refused: the running config stays");
            serde_json::json!({ "ok": false, "errors": [format!("error: {e}")], "policy_errors": e.policy_errors_json() })
        }
    }
}
