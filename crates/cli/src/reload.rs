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

pub fn spawn(gateway: Gateway, path: PathBuf, listen: Vec<SocketAddr>) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let file_name = path.file_name().map(|n| n.to_os_string());
    let watch_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(ev) = event {
            let ours = ev
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == file_name);
            if ours && (ev.kind.is_modify() || ev.kind.is_create()) {
                let _ = watch_tx.send("file changed");
            }
        }
    })
    .context("cannot watch the config file")?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", dir.display()))?;

    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let _ = tx.send("SIGHUP");
        }
    });
    tokio::spawn(async move {
        let _watcher = watcher; // lives as long as this task
        while let Some(mut why) = rx.recv().await {
            // Collapse a burst of events into one reload.
            loop {
                match tokio::time::timeout(SETTLE, rx.recv()).await {
                    Ok(Some(w)) => why = w,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            reload(&gateway, &path, &listen, why);
        }
    });
    Ok(())
}

fn reload(gateway: &Gateway, path: &Path, listen: &[SocketAddr], why: &str) {
    let validated = match gatehouse_model::load_validated(path) {
        Ok(v) => crate::override_listeners(v, listen),
        Err(e) => {
            for issue in e.issues() {
                tracing::error!(config = %path.display(), path = %issue.path, trigger = why, "config refused: {}", issue.message);
            }
            tracing::error!(config = %path.display(), trigger = why, "config change refused: the running config stays");
            return;
        }
    };
    match gateway.reload(&validated) {
        Ok(report) => {
            let (apis, operations, products, subscriptions) = report.counts;
            for w in &validated.warnings {
                tracing::warn!(path = %w.path, "{}", w.message);
            }
            for setting in &report.needs_restart {
                tracing::warn!(setting = %setting, "changed, but applies only after a restart");
            }
            tracing::info!(config = %path.display(), trigger = why, apis, operations, products, subscriptions, "config reloaded");
        }
        Err(e) => {
            tracing::error!(config = %path.display(), trigger = why, error = %e, "config change refused: the running config stays")
        }
    }
}
