//! The egress guard as a hyper connector: every backend connection the gateway's HTTP client
//! opens goes through [`gatehouse_net::egress::connect`], which judges each resolved address
//! before connecting to it. The guard itself lives in crates/net/src/egress.rs and knows no
//! HTTP; this module is the only place where it meets `http::Uri` and hyper's I/O types.

use arc_swap::ArcSwap;
use gatehouse_net::egress::{ConnectError, EgressPolicy, Resolve, connect};
use hyper_util::rt::TokioIo;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;

/// Where a connector reads the egress rules and the resolver a new connection is judged by.
///
/// The gateway's source is its current snapshot (crates/gateway/src/snapshot.rs,
/// `SnapshotLink`): one store of a reload switches routes, egress rules and resolver together,
/// while the per-origin pools (crates/gateway/src/upstream.rs) that hold connectors outlive
/// snapshots. [`Handles`] is a stand-alone source with a handle of its own for each.
pub trait NetworkSource: Send + Sync + 'static {
    /// Both loaded at once, so one connection never mixes two configs; `None` when the source
    /// is gone (the gateway that owned it was dropped).
    fn load(&self) -> Option<(Arc<EgressPolicy>, Arc<dyn Resolve>)>;
}

/// A source with no rules yet (a client cache not linked to a gateway): every connection is
/// refused.
pub struct Unlinked;

impl NetworkSource for Unlinked {
    fn load(&self) -> Option<(Arc<EgressPolicy>, Arc<dyn Resolve>)> {
        None
    }
}

/// A policy and a resolver, each behind its own [`ArcSwap`] handle that its owner stores
/// into: the source of a connector used outside a gateway.
pub struct Handles {
    policy: Arc<ArcSwap<EgressPolicy>>,
    resolver: Arc<ArcSwap<Box<dyn Resolve>>>,
}

impl NetworkSource for Handles {
    fn load(&self) -> Option<(Arc<EgressPolicy>, Arc<dyn Resolve>)> {
        let resolver: Arc<dyn Resolve> = self.resolver.load_full();
        Some((self.policy.load_full(), resolver))
    }
}

/// A hyper connector (`tower_service::Service<http::Uri>`) that opens every backend connection
/// through [`gatehouse_net::egress::connect`], for hyper-util's legacy client directly or wrapped by hyper-rustls
/// (`HttpsConnectorBuilder::wrap_connector`).
///
/// The policy and the resolver are read from its [`NetworkSource`] at each connection, so a
/// config reload stores new ones and the next connection uses them, without rebuilding the
/// client or its pools (pooled connections stay: NSGs are stateful, NSG-5).
pub struct EgressConnector<S: ?Sized = Handles> {
    source: Arc<S>,
    connect_timeout: Duration,
}

// Derived Clone would ask `S: Clone`; the source is shared, never copied.
impl<S: ?Sized> Clone for EgressConnector<S> {
    fn clone(&self) -> Self {
        EgressConnector {
            source: self.source.clone(),
            connect_timeout: self.connect_timeout,
        }
    }
}

impl<S: ?Sized> fmt::Debug for EgressConnector<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EgressConnector")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl EgressConnector<Handles> {
    /// `policy` and `resolver` are the live handles the config reload stores into.
    pub fn new(
        policy: Arc<ArcSwap<EgressPolicy>>,
        resolver: Arc<ArcSwap<Box<dyn Resolve>>>,
        connect_timeout: Duration,
    ) -> Self {
        Self::with_source(Arc::new(Handles { policy, resolver }), connect_timeout)
    }

    /// The policy handle (for a reload to store into).
    pub fn policy(&self) -> &Arc<ArcSwap<EgressPolicy>> {
        &self.source.policy
    }

    /// The resolver handle (for a reload to store into).
    pub fn resolver(&self) -> &Arc<ArcSwap<Box<dyn Resolve>>> {
        &self.source.resolver
    }
}

impl<S: NetworkSource + ?Sized> EgressConnector<S> {
    /// A connector that reads the rules from `source` at each connection.
    pub fn with_source(source: Arc<S>, connect_timeout: Duration) -> Self {
        EgressConnector {
            source,
            connect_timeout,
        }
    }
}

/// Host (brackets stripped by [`connect`]) and port of a backend URI; the port defaults by
/// scheme, as HTTP clients do.
fn target(uri: &http::Uri) -> Result<(&str, u16), ConnectError> {
    let invalid = |reason| ConnectError::InvalidUri {
        uri: uri.to_string(),
        reason,
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("no host"))?;
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(p), _) => p,
        (None, Some(s)) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss") => 443,
        (None, Some(s)) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("ws") => 80,
        _ => return Err(invalid("no port and no http(s) scheme to infer it from")),
    };
    Ok((host, port))
}

impl<S: NetworkSource + ?Sized> tower_service::Service<http::Uri> for EgressConnector<S> {
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        // Loaded now: a reload during the connect does not mix two snapshots.
        let loaded = self.source.load();
        let timeout = self.connect_timeout;
        Box::pin(async move {
            let (host, port) = target(&uri)?;
            let Some((policy, resolver)) = loaded else {
                return Err(ConnectError::InvalidUri {
                    uri: uri.to_string(),
                    reason: "no network rules to judge it by: the gateway is gone",
                });
            };
            let (stream, connected) =
                connect(&policy, resolver.as_ref(), host, port, timeout).await?;
            tracing::trace!(
                host,
                addr = %connected.addr,
                rule = connected.allowed.rule.as_ref().map(|r| &*r.name),
                refused = connected.refused.len(),
                "backend connected"
            );
            Ok(TokioIo::new(stream))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_targets() {
        let t = |s: &str| {
            target(&s.parse::<http::Uri>().expect("uri")).map(|(h, p)| (h.to_string(), p))
        };
        assert_eq!(
            t("https://api.contoso.com/x").ok(),
            Some(("api.contoso.com".into(), 443))
        );
        assert_eq!(
            t("http://api.contoso.com").ok(),
            Some(("api.contoso.com".into(), 80))
        );
        assert_eq!(
            t("http://10.0.0.1:8080/").ok(),
            Some(("10.0.0.1".into(), 8080))
        );
        assert_eq!(t("http://[::1]:8080/").ok(), Some(("[::1]".into(), 8080)));
        assert!(matches!(
            t("/relative"),
            Err(ConnectError::InvalidUri { .. })
        ));
        assert!(matches!(
            t("ftp://h/"),
            Err(ConnectError::InvalidUri { .. })
        ));
    }
}
