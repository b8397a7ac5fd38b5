//! Serving the developer portal (crates/portal): on `--portal-listen`, else the config's
//! `network.endpoints.portal` (followed through reloads, judged by the network rules at accept
//! like every component: crates/cli/src/component_listener.rs), else (demo) on loopback.

use crate::component_listener::{self, ComponentAddr};
use anyhow::{Context, Result};
use gatehouse_gateway::Gateway;
use gatehouse_model::Config;
use std::net::SocketAddr;
use std::sync::Arc;

pub const DEMO_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8082);

pub fn configured_addrs(config: &Config) -> Vec<ComponentAddr> {
    crate::management::component_addrs(&config.network.endpoints.portal)
}

fn snapshot_addrs(snapshot: &gatehouse_gateway::Snapshot) -> Vec<ComponentAddr> {
    crate::management::component_addrs(&snapshot.network.endpoints.portal)
}

/// What the portal needs to start.
pub struct PortalStart {
    pub addrs: Vec<ComponentAddr>,
    /// On the command line's (or the demo's) address; else the config's, followed.
    pub fixed: bool,
    pub signing_key: [u8; 32],
    /// The gateway's first listener, where the "try it" console sends requests.
    pub gateway: Option<(SocketAddr, bool)>,
    pub public_url: Option<String>,
    pub mailer: Option<gatehouse_portal::Mailer>,
}

impl PortalStart {
    /// The SMTP mailer of `--smtp`, checked now so that a wrong URL fails the start.
    pub fn mailer(url: Option<&str>, from: &str) -> Result<Option<gatehouse_portal::Mailer>> {
        match url {
            None => Ok(None),
            Some(url) => Ok(Some(
                gatehouse_portal::Mailer::new(url, from).context("--smtp / --smtp-from")?,
            )),
        }
    }

    /// Binds and serves; returns the first address bound.
    pub async fn start(
        self,
        backing: Arc<dyn gatehouse_admin::Backing>,
        checker: gatehouse_admin::Checker,
        gateway: Gateway,
        stopped: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<(SocketAddr, bool)>> {
        let bound = component_listener::bind("portal", &self.addrs).await?;
        let first = bound.first().map(|b| (b.local, b.spec.tls));
        let public_url = self.public_url.clone().or_else(|| {
            first.map(|(addr, tls)| format!("{}://{addr}", if tls { "https" } else { "http" }))
        });
        match &self.mailer {
            Some(m) => {
                tracing::info!(smtp = %m.description, "the portal sends e-mail: new accounts confirm their address")
            }
            None => tracing::info!(
                "no SMTP server (--smtp): portal accounts are active at sign-up, without e-mail confirmation, and passwords cannot be reset by e-mail"
            ),
        }
        let router = gatehouse_portal::PortalOptions {
            backing,
            checker,
            signing_key: self.signing_key,
            gateway_url: self.gateway.map(|(addr, tls)| gateway_url(addr, tls)),
            public_url: public_url.unwrap_or_default(),
            mailer: self.mailer,
            secure_cookies: first.is_some_and(|(_, tls)| tls),
        }
        .router();
        let mut component = component_listener::Component::new("portal", gateway, router, stopped);
        for b in bound {
            tracing::info!(listener = %b.local, exposure = ?b.spec.exposure, "developer portal listening");
            component.start(b);
        }
        component.keep(self.fixed, snapshot_addrs);
        Ok(first)
    }
}

/// The gateway as the node itself reaches it: a wildcard listener through loopback.
fn gateway_url(addr: SocketAddr, tls: bool) -> String {
    let host = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
        _ => addr.ip().to_string(),
    };
    let host = if addr.is_ipv6() && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    format!(
        "{}://{host}:{}",
        if tls { "https" } else { "http" },
        addr.port()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcard_gateways_are_reached_through_loopback() {
        let url = |s: &str, tls| super::gateway_url(s.parse().expect("addr"), tls);
        assert_eq!(url("0.0.0.0:8080", false), "http://127.0.0.1:8080");
        assert_eq!(url("10.0.0.4:443", true), "https://10.0.0.4:443");
        assert_eq!(url("[::]:80", false), "http://[::1]:80");
        assert_eq!(url("[::1]:80", false), "http://[::1]:80");
    }
}
