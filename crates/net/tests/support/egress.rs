//! Helpers shared by the egress guard's tests (crates/net/tests/egress.rs) and its hyper
//! connector's (crates/gateway/tests/egress_connector.rs), included by both with `#[path]`:
//! configs, a scripted resolver, loopback listeners.

// Each including test file uses a different subset.
#![allow(dead_code)]

use gatehouse_model::network::Network;
use gatehouse_model::{Format, from_str};
use gatehouse_net::dns::{Answer, DnsError, Source};
use gatehouse_net::egress::{EgressPolicy, Resolve};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a listener that must get no connection is watched.
pub const QUIET: Duration = Duration::from_millis(300);

pub fn network(yaml: &str) -> Network {
    let text = format!("service: {{ name: t }}\nnetwork:\n{yaml}");
    from_str(&text, Format::Yaml, Path::new("egress.yaml"))
        .expect("test config parses")
        .network
}

pub fn policy(yaml: &str) -> EgressPolicy {
    EgressPolicy::compile(&network(yaml)).expect("compiles")
}

/// Type external on a virtual network at 127.10.0.0/16: 127.10.x.x is named, 127.0.0.1 is not.
pub fn loopback_vnet() -> EgressPolicy {
    policy(
        "  type: external\n  virtual_network: { address_space: [127.10.0.0/16], subnet: { prefix: 127.10.1.0/27 } }\n",
    )
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// Answers from a script, one entry per call (the last repeats), counting calls.
pub struct FakeResolver {
    script: Vec<Result<Vec<IpAddr>, DnsError>>,
    calls: AtomicUsize,
}

impl FakeResolver {
    pub fn new(script: Vec<Result<Vec<IpAddr>, DnsError>>) -> Arc<Self> {
        Arc::new(FakeResolver {
            script,
            calls: AtomicUsize::new(0),
        })
    }

    pub fn always(addrs: &[IpAddr]) -> Arc<Self> {
        Self::new(vec![Ok(addrs.to_vec())])
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Resolve for FakeResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.script[n.min(self.script.len() - 1)].clone();
        Box::pin(async move {
            step.map(|addrs| Answer {
                name: host.to_string(),
                addrs,
                source: Source::Server {
                    server: "fake".into(),
                },
                ttl_left: Duration::ZERO,
                cname_chain: Vec::new(),
            })
        })
    }
}

pub async fn listen(ip: &str) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((self::ip(ip), 0))
        .await
        .unwrap_or_else(|e| panic!("bind {ip}: {e}"));
    let a = l.local_addr().expect("local addr");
    (l, a)
}

/// A listener on `ip` and a "secret" one on 127.0.0.1 at the same port, so that an answer
/// rebound to 127.0.0.1 would really reach something if the guard let it.
pub async fn listen_pair(ip: &str) -> ((TcpListener, SocketAddr), (TcpListener, SocketAddr)) {
    for _ in 0..20 {
        let (l, a) = listen(ip).await;
        if let Ok(secret) = TcpListener::bind(("127.0.0.1", a.port())).await {
            let sa = secret.local_addr().expect("local addr");
            return ((l, a), (secret, sa));
        }
    }
    panic!("no port free on both {ip} and 127.0.0.1");
}

/// The listener got no connection within [`QUIET`].
pub async fn assert_untouched(listener: &TcpListener, what: &str) {
    if let Ok(Ok((_, peer))) = tokio::time::timeout(QUIET, listener.accept()).await {
        panic!("{what} got a connection from {peer}");
    }
}
