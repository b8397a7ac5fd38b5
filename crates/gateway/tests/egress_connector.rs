//! The egress guard's hyper connector (crates/gateway/src/egress_connector.rs) on real sockets:
//! alone as a tower service following a config reload, in hyper-util's client, and wrapped by
//! hyper-rustls as the gateway builds it. The guard itself (judging, DNS rebinding, fall-through
//! between addresses) is tested in crates/net/tests/egress.rs; both share crates/net/tests/support/egress.rs.

use arc_swap::ArcSwap;
use bytes::Bytes;
use gatehouse_gateway::egress_connector::EgressConnector;
use gatehouse_net::egress::{ConnectError, EgressPolicy, EgressStage, Resolve};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use tower_service::Service;

#[path = "../../net/tests/support/egress.rs"]
mod support;
use support::*;

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
    // Every request of a test opens a new connection (and meets the current policy).
    gatehouse_testkit::raw::answer_once_per_connection(
        listener,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
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
