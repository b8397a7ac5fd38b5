//! Certificates from TestCa: the PEM files parse, a rustls server built from them is trusted
//! by reqwest through the CA (DNS, wildcard and IP names), wrong names and unknown CAs are
//! refused, and client certificates work for mutual TLS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use gatehouse_testkit::tls::{TestCa, TestCert};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::RootCertStore;
use rustls::crypto::aws_lc_rs;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gatehouse-testkit-tls-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts an HTTPS server on 127.0.0.1 with the cert and key read back from PEM files;
/// `client_ca` turns on required client certificates. It answers "client-cert: yes|no".
async fn tls_server(cert: &TestCert, client_ca: Option<&TestCa>, name: &str) -> SocketAddr {
    let dir = temp_dir(name);
    let (cert_path, key_path) = cert.write_chain_pem(&dir, "server");
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(chain.len(), 2, "leaf + CA");
    assert_eq!(&chain[0], cert.cert_der());
    let key = PrivateKeyDer::from_pem_file(&key_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.cert_der().clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let has_client_cert = tls.get_ref().1.peer_certificates().is_some();
                let svc = service_fn(move |_req| async move {
                    let body = if has_client_cert {
                        "client-cert: yes"
                    } else {
                        "client-cert: no"
                    };
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(body))))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

fn client_trusting(ca: &TestCa) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
}

#[test]
fn pem_files_parse() {
    let ca = TestCa::new();
    let cert = ca.issue(&["api.contoso.test", "*.contoso.test", "127.0.0.1"]);
    let dir = temp_dir("parse");
    let ca_path = ca.write_pem(&dir, "ca");
    let (cert_path, key_path) = cert.write_pem(&dir, "gateway");
    assert_eq!(cert_path, dir.join("gateway.crt"));
    assert_eq!(key_path, dir.join("gateway.key"));

    let ca_der = CertificateDer::from_pem_file(&ca_path).unwrap();
    assert_eq!(&ca_der, ca.cert_der());
    let certs: Vec<_> = CertificateDer::pem_file_iter(&cert_path)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(&certs[0], cert.cert_der());
    let key = PrivateKeyDer::from_pem_file(&key_path).unwrap();
    assert!(matches!(key, PrivateKeyDer::Pkcs8(_)));
    assert_eq!(key.secret_der(), cert.key_der().secret_der());
    assert!(cert.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(cert.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(cert.ca_pem(), ca.cert_pem());
    assert!(ca.key_pem().contains("PRIVATE KEY"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn reqwest_trusts_the_ca_for_dns_wildcard_and_ip_names() {
    let ca = TestCa::new();
    let cert = ca.issue(&["api.contoso.test", "*.contoso.test", "127.0.0.1"]);
    let addr = tls_server(&cert, None, "names").await;
    let client = client_trusting(&ca)
        .resolve("api.contoso.test", addr)
        .resolve("portal.contoso.test", addr)
        .resolve("api.fabrikam.test", addr)
        .build()
        .unwrap();

    for url in [
        format!("https://api.contoso.test:{}/", addr.port()),
        format!("https://portal.contoso.test:{}/", addr.port()),
        format!("https://127.0.0.1:{}/", addr.port()),
    ] {
        let resp = client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(resp.text().await.unwrap(), "client-cert: no");
    }

    // A name the certificate does not cover is refused.
    let err = client
        .get(format!("https://api.fabrikam.test:{}/", addr.port()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    // A client that does not trust this CA refuses the server.
    let other = client_trusting(&TestCa::new())
        .resolve("api.contoso.test", addr)
        .build()
        .unwrap();
    assert!(
        other
            .get(format!("https://api.contoso.test:{}/", addr.port()))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn client_certificates_work_for_mutual_tls() {
    let ca = TestCa::new();
    let server_cert = ca.issue(&["api.contoso.test"]);
    let client_cert = ca.issue_client("partner-a");
    let addr = tls_server(&server_cert, Some(&ca), "mtls").await;
    let url = format!("https://api.contoso.test:{}/", addr.port());

    let identity = reqwest::Identity::from_pem(
        format!("{}{}", client_cert.cert_pem(), client_cert.key_pem()).as_bytes(),
    )
    .unwrap();
    let with_cert = client_trusting(&ca)
        .identity(identity)
        .resolve("api.contoso.test", addr)
        .build()
        .unwrap();
    let resp = with_cert.get(&url).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "client-cert: yes");

    // A client certificate from another CA is refused.
    let stranger = TestCa::named("stranger CA").issue_client("partner-b");
    let identity = reqwest::Identity::from_pem(
        format!("{}{}", stranger.cert_pem(), stranger.key_pem()).as_bytes(),
    )
    .unwrap();
    let wrong = client_trusting(&ca)
        .identity(identity)
        .resolve("api.contoso.test", addr)
        .build()
        .unwrap();
    assert!(wrong.get(&url).send().await.is_err());

    // No certificate at all is refused.
    let without = client_trusting(&ca)
        .resolve("api.contoso.test", addr)
        .build()
        .unwrap();
    assert!(without.get(&url).send().await.is_err());
}
