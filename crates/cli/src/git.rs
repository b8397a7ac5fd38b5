//! Serving the Git configuration repository (crates/git): on `--git-listen`, else the config's
//! `network.endpoints.git` (followed through reloads, judged by the network rules at accept like
//! every component: crates/cli/src/component_listener.rs), else (demo) on loopback. It needs a
//! store: a file-mode gateway's configuration lives in its file, not in a repository.

use crate::component_listener::{self, ComponentAddr};
use anyhow::{Context, Result};
use gatehouse_gateway::Gateway;
use gatehouse_model::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub const DEMO_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8083);

pub fn configured_addrs(config: &Config) -> Vec<ComponentAddr> {
    crate::management::component_addrs(&config.network.endpoints.git)
}

fn snapshot_addrs(snapshot: &gatehouse_gateway::Snapshot) -> Vec<ComponentAddr> {
    crate::management::component_addrs(&snapshot.network.endpoints.git)
}

/// What the Git endpoint needs to start.
pub struct GitStart {
    pub addrs: Vec<ComponentAddr>,
    /// On the command line's (or the demo's) address; else the config's, followed.
    pub fixed: bool,
    /// The private directory of the repository (`<state dir>/git`, `<data dir>/git` for the demo).
    pub dir: PathBuf,
}

impl GitStart {
    /// Opens the repository, binds and serves; returns the first address bound. Without a store
    /// (file mode) there is no repository: a configured endpoint is reported and left unserved.
    /// The listeners follow reloads once the endpoint is served.
    pub async fn start(
        self,
        store: Option<gatehouse_store::Store>,
        backing: Arc<dyn gatehouse_admin::Backing>,
        checker: gatehouse_admin::Checker,
        gateway: Gateway,
        stopped: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<(SocketAddr, bool)>> {
        if self.addrs.is_empty() {
            // No endpoint configured: no repository (an endpoint added later takes a restart).
            return Ok(None);
        }
        let Some(store) = store else {
            tracing::warn!(
                "network.endpoints.git is not served: the Git configuration repository needs a store (--store, or no arguments); a file-mode configuration lives in its file"
            );
            return Ok(None);
        };
        let exe = std::env::current_exe()
            .context("cannot find the gatehouse binary for the Git push hook")?;
        let service = gatehouse_git::GitService::start(gatehouse_git::GitOptions {
            dir: self.dir.clone(),
            store,
            backing,
            checker,
            exe,
        })
        .await
        .with_context(|| format!("the Git repository in {}", self.dir.display()))?;
        let bound = component_listener::bind("git", &self.addrs).await?;
        let first = bound.first().map(|b| (b.local, b.spec.tls));
        let mut component =
            component_listener::Component::new("git", gateway, service.router(), stopped);
        for b in bound {
            tracing::info!(listener = %b.local, exposure = ?b.spec.exposure, repository = %service.repo_dir().display(), "Git configuration repository listening");
            component.start(b);
        }
        component.keep(self.fixed, snapshot_addrs);
        Ok(first)
    }
}

/// `gatehouse git-hook pre-receive`: run by the repository's hook during a push.
pub fn hook(stage: &str) -> Result<std::process::ExitCode> {
    if stage != "pre-receive" {
        anyhow::bail!("unknown hook '{stage}': gatehouse installs pre-receive only");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let code = rt.block_on(gatehouse_git::hook::client(tokio::io::stdin()));
    Ok(if code == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}
