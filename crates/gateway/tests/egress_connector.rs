//! The egress guard's hyper connector (crates/gateway/src/egress_connector.rs) on real sockets:
//! alone as a tower service following a config reload, in hyper-util's client, and wrapped by
//! hyper-rustls as the gateway builds it. The guard itself (judging, DNS rebinding, fall-through
//! between addresses) is tested in crates/net/tests/egress.rs; the helpers below are the same.

use arc_swap::ArcSwap;
use bytes::Bytes;
use gatehouse_gateway::egress_connector::EgressConnector;
use gatehouse_model::network::Network;
use gatehouse_model::{Format, from_str};
use gatehouse_net::dns::{Answer, DnsError, Source};
use gatehouse_net::egress::{ConnectError, EgressPolicy, EgressStage, Resolve};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tower_service::Service;

const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a listener that must get no connection is watched.
const QUIET: Duration = Duration::from_millis(300);

fn network(yaml: &str) -> Network {
    let text = format!("service: {{ name: t }}\nnetwork:\n{yaml}");
    from_str(&text, Format::Yaml, Path::new("egress.yaml"))
        .expect("test config parses")
        .network
}

fn policy(yaml: &str) -> EgressPolicy {
    EgressPolicy::compile(&network(yaml)).expect("compiles")
}

/// Type external on a virtual network at 127.10.0.0/16: 127.10.x.x is named, 127.0.0.1 is not.
fn loopback_vnet() -> EgressPolicy {
    policy(
        "  type: external\n  virtual_network: { address_space: [127.10.0.0/16], subnet: { prefix: 127.10.1.0/27 } }\n",
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// Answers from a script, one entry per call (the last repeats), counting calls.
struct FakeResolver {
    script: Vec<Result<Vec<IpAddr>, DnsError>>,
    calls: AtomicUsize,
}

impl FakeResolver {
    fn new(script: Vec<Result<Vec<IpAddr>, DnsError>>) -> Arc<Self> {
        Arc::new(FakeResolver {
            script,
            calls: AtomicUsize::new(0),
        })
    }

    fn always(addrs: &[IpAddr]) -> Arc<Self> {
        Self::new(vec![Ok(addrs.to_vec())])
    }

    fn calls(&self) -> usize {
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

async fn listen(ip: &str) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((self::ip(ip), 0))
        .await
        .unwrap_or_else(|e| panic!("bind {ip}: {e}"));
    let a = l.local_addr().expect("local addr");
    (l, a)
}

/// A listener on `ip` and a "secret" one on 127.0.0.1 at the same port, so that an answer
/// rebound to 127.0.0.1 would really reach something if the guard let it.
async fn listen_pair(ip: &str) -> ((TcpListener, SocketAddr), (TcpListener, SocketAddr)) {
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
async fn assert_untouched(listener: &TcpListener, what: &str) {
    if let Ok(Ok((_, peer))) = tokio::time::timeout(QUIET, listener.accept()).await {
        panic!("{what} got a connection from {peer}");
    }
}

/// A minimal HTTP/1.1 backend: answers every request with `200 ok` and closes, so each request
/// of a test opens a new connection (and meets the current policy).
async fn http_backend(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        });
    }
}

/// The first [`ConnectError`] in an error's source chain (what the gateway does too).
fn connect_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a ConnectError> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(ce) = c.downcast_ref::<ConnectError>() {
            return Some(ce);
        }
        cause = c.source();
    }
    None
}

fn connector(policy: EgressPolicy, resolver: Arc<FakeResolver>) -> EgressConnector {
    let resolver: Box<dyn Resolve> = Box::new(resolver);
    EgressConnector::new(
        Arc::new(ArcSwap::from_pointee(policy)),
        Arc::new(ArcSwap::from_pointee(resolver)),
        TIMEOUT,
    )
}

#[tokio::test]
async fn connector_as_a_tower_service_follows_a_reload() {
    let (listener, addr) = listen("127.10.0.11").await;
    let resolver = FakeResolver::always(&[addr.ip()]);
    let mut c = connector(loopback_vnet(), resolver.clone());
    let uri: http::Uri = format!("http://backend.test:{}/x", addr.port())
        .parse()
        .expect("uri");
    let io = c.call(uri.clone()).await.expect("connects");
    assert_eq!(io.inner().peer_addr().expect("peer"), addr);
    let (_server, _) = listener.accept().await.expect("accepted");

    // A reload: type none, no integration. The same connector refuses the next connection
    // (the address space still names 127.10.x.x, but type none reaches public addresses only).
    c.policy().store(Arc::new(policy(
        "  type: none\n  virtual_network: { address_space: [127.10.0.0/16] }\n",
    )));
    let err = c.call(uri.clone()).await.expect_err("refused after reload");
    assert!(
        matches!(&err, ConnectError::AllRefused { refused, .. } if refused[0].stage == EgressStage::NetworkType),
        "{err}"
    );
    // And a new resolver is picked up the same way.
    c.policy().store(Arc::new(loopback_vnet()));
    let other = FakeResolver::always(&[ip("127.0.0.1")]);
    let boxed: Box<dyn Resolve> = Box::new(other.clone());
    c.resolver().store(Arc::new(boxed));
    assert!(c.call(uri).await.is_err());
    assert_eq!((resolver.calls(), other.calls()), (2, 1));
    assert!(matches!(
        c.call("/no-host".parse().expect("uri")).await,
        Err(ConnectError::InvalidUri { .. })
    ));
}

#[tokio::test]
async fn connector_in_hyper_and_wrapped_by_hyper_rustls() {
    let ((listener, addr), (secret, secret_addr)) = listen_pair("127.10.0.12").await;
    tokio::spawn(http_backend(listener));
    let resolver = FakeResolver::new(vec![Ok(vec![addr.ip()])]);
    let egress = connector(loopback_vnet(), resolver.clone());

    // Plain hyper-util client.
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(egress.clone());
    let uri: http::Uri = format!("http://backend.test:{}/", addr.port())
        .parse()
        .expect("uri");
    let resp = client.get(uri).await.expect("200");
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"ok");

    // As the gateway builds it: hyper-rustls over the egress connector (http or https).
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(egress.clone());
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(https);
    let uri: http::Uri = format!("http://backend.test:{}/", addr.port())
        .parse()
        .expect("uri");
    assert_eq!(client.get(uri).await.expect("200").status(), 200);

    // A refused backend: the client error carries the guard's ConnectError in its chain.
    egress.resolver().store(Arc::new(
        Box::new(FakeResolver::always(&[secret_addr.ip()])) as Box<dyn Resolve>,
    ));
    let uri: http::Uri = format!("https://backend.test:{}/", secret_addr.port())
        .parse()
        .expect("uri");
    let err = client.get(uri).await.expect_err("refused");
    let ce = connect_error(&err).expect("a ConnectError in the chain");
    assert!(
        matches!(ce, ConnectError::AllRefused { refused, .. } if refused[0].destination == secret_addr),
        "{ce}"
    );
    assert_untouched(&secret, "127.0.0.1").await;
}
