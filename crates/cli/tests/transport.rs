//! End to end: the transports the gateway speaks, with the real `gatehouse` binary between real
//! clients and the testkit's backend. TLS with certificates chosen by SNI (exact, wildcard,
//! default binding), HTTP/2 by ALPN and h2c by prior knowledge, WebSocket pass-through (plain
//! and over TLS), and 1 GiB streamed each way through a gateway whose memory stays bounded.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use gatehouse_testkit::backend::pattern_byte;
use gatehouse_testkit::{Gatehouse, MockBackend, Probe, TestCa, TestCert, free_addr};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY: &str = "transport-key-0123456789abcdef";
const KEY_HEADER: &str = "Ocp-Apim-Subscription-Key";
const API_HOST: &str = "api.gatehouse.test";
const PARTNER_HOST: &str = "x.partners.gatehouse.test";

/// A gateway with a TLS listener (two certificates, chosen by SNI) and a plain one, in front
/// of a mock backend.
struct Env {
    gw: Gatehouse,
    backend: MockBackend,
    /// The TLS listener.
    tls: SocketAddr,
    /// The plain listener (HTTP/1.1 and h2c).
    plain: SocketAddr,
    ca: TestCa,
    /// The certificate for `api.gatehouse.test`.
    api_cert: TestCert,
    /// The certificate for `*.partners.gatehouse.test`.
    partners_cert: TestCert,
    /// The certificate for `default.gatehouse.test`, the default SSL binding.
    default_cert: TestCert,
}

fn config(tls: SocketAddr, plain: SocketAddr, backend: &str) -> String {
    // The default binding is deliberately the last entry (without `default_ssl_binding` the
    // first one would be the default), and a third certificate, so that a name wrongly
    // matched by the wildcard can be told from one that falls back to the default.
    format!(
        r#"
service: {{ name: transport }}
network: {{ outbound: {{ allowed_destinations: [127.0.0.0/8] }} }}
gateway:
  listeners:
    - {{ address: "{tls}", tls: true }}
    - {{ address: "{plain}" }}
  hostnames:
    - {{ host_name: {API_HOST}, certificate: {{ cert_file: api.crt, key_file: api.key }} }}
    - host_name: "*.partners.gatehouse.test"
      certificate: {{ cert_file: partners.crt, key_file: partners.key }}
    - host_name: default.gatehouse.test
      certificate: {{ cert_file: default.crt, key_file: default.key }}
      default_ssl_binding: true
backends:
  mock: {{ url: "{backend}" }}
apis:
  - id: api
    path: api
    backend: mock
    protocols: [http, https, ws, wss]
    operations: [ {{ id: any, method: "*", url_template: "/*" }} ]
subscriptions:
  - {{ id: transport-sub, scope: all, primary_key: "{KEY}" }}
"#
    )
}

async fn setup() -> Env {
    let backend = MockBackend::start().await.expect("backend");
    let tls = free_addr();
    let plain = free_addr();
    let ca = TestCa::new();
    let api_cert = ca.issue(&[API_HOST]);
    let partners_cert = ca.issue(&["*.partners.gatehouse.test"]);
    let default_cert = ca.issue(&["default.gatehouse.test"]);
    let builder = Gatehouse::builder(Path::new(BIN)).expect("fixture dir");
    api_cert.write_pem(builder.dir(), "api");
    partners_cert.write_pem(builder.dir(), "partners");
    default_cert.write_pem(builder.dir(), "default");
    let gw = builder
        .probe(Probe::Http(plain))
        .start(&config(tls, plain, &backend.url()))
        .await
        .expect("gatehouse starts");
    Env {
        gw,
        backend,
        tls,
        plain,
        ca,
        api_cert,
        partners_cert,
        default_cert,
    }
}

async fn json(resp: reqwest::Response) -> serde_json::Value {
    let text = resp.text().await.expect("response body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// A rustls client trusting only the test CA, offering `alpn`.
fn client_trusting(ca: &TestCa, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert_der().clone()).expect("CA cert");
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// Accepts any server certificate (signatures are still checked), so the certificate served
/// for a name it does not cover can be looked at.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn client_accepting_any_cert() -> TlsConnector {
    let provider = provider();
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn handshake(
    connector: &TlsConnector,
    addr: SocketAddr,
    name: ServerName<'static>,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let tcp = TcpStream::connect(addr).await?;
    tokio::time::timeout(Duration::from_secs(20), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
}

fn dns(name: &str) -> ServerName<'static> {
    ServerName::try_from(name.to_owned()).expect("a DNS name")
}

fn leaf_of(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("the server sent a certificate")
        .clone()
}

/// A reqwest client that trusts only the test CA and resolves both test host names to the
/// gateway's TLS listener.
fn https_client(e: &Env) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(e.ca.cert_pem().as_bytes()).expect("CA")])
        .resolve(API_HOST, e.tls)
        .resolve(PARTNER_HOST, e.tls)
        .timeout(Duration::from_secs(30))
}

#[tokio::test]
async fn tls_certificate_is_chosen_by_sni() {
    let e = setup().await;
    let verifying = client_trusting(&e.ca, &[]);

    // Exact name: the api certificate, and it verifies for that name.
    let s = handshake(&verifying, e.tls, dns(API_HOST))
        .await
        .expect("handshake for the exact name");
    assert_eq!(&leaf_of(&s), e.api_cert.cert_der(), "exact SNI match");
    drop(s);

    // A name under the wildcard: the partners certificate.
    let s = handshake(&verifying, e.tls, dns(PARTNER_HOST))
        .await
        .expect("handshake for a wildcard name");
    assert_eq!(&leaf_of(&s), e.partners_cert.cert_der(), "wildcard SNI");
    drop(s);
    // Upper case in SNI is the same name.
    let s = handshake(&verifying, e.tls, dns("Other.Partners.Gatehouse.Test"))
        .await
        .expect("handshake for a wildcard name in upper case");
    assert_eq!(&leaf_of(&s), e.partners_cert.cert_der(), "SNI case");
    drop(s);

    // The default binding's own name.
    let s = handshake(&verifying, e.tls, dns("default.gatehouse.test"))
        .await
        .expect("handshake for the default binding's name");
    assert_eq!(&leaf_of(&s), e.default_cert.cert_der(), "exact SNI match");
    drop(s);

    // Unknown names get the default binding (the last entry, not the first). The wildcard
    // covers exactly one label, and an exact name covers no subdomains.
    let any = client_accepting_any_cert();
    for unknown in [
        "unknown.example.test",
        "a.b.partners.gatehouse.test",
        "partners.gatehouse.test",
        "x.api.gatehouse.test",
    ] {
        let s = handshake(&any, e.tls, dns(unknown))
            .await
            .unwrap_or_else(|err| panic!("handshake for {unknown}: {err}"));
        assert_eq!(
            &leaf_of(&s),
            e.default_cert.cert_der(),
            "unknown SNI {unknown} gets the default binding"
        );
    }
    // No SNI at all (rustls sends none for an IP address): the default binding too.
    let s = handshake(&any, e.tls, ServerName::IpAddress(e.tls.ip().into()))
        .await
        .expect("handshake without SNI");
    assert_eq!(&leaf_of(&s), e.default_cert.cert_der(), "no SNI");
    drop(s);

    // A verifying client refuses the default certificate for a name it does not cover.
    let refused = handshake(&verifying, e.tls, dns("unknown.example.test")).await;
    assert!(
        refused.is_err(),
        "the default cert must not verify for another name"
    );

    // A real HTTPS request through the gateway.
    let client = https_client(&e).build().expect("client");
    let resp = client
        .get(format!("https://{API_HOST}:{}/api/hello?x=1", e.tls.port()))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(resp.status(), 200);
    let echo: serde_json::Value = json(resp).await;
    assert_eq!(echo["path"], "/hello");
    let seen = e.backend.last_request().expect("backend saw the request");
    assert_eq!(seen.path_and_query, "/hello?x=1");
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
    let host = format!("{API_HOST}:{}", e.tls.port());
    assert_eq!(seen.header("x-forwarded-host"), Some(host.as_str()));
    assert_eq!(seen.header("ocp-apim-subscription-key"), None);

    // And through the wildcard name.
    let resp = client
        .get(format!("https://{PARTNER_HOST}:{}/api/p", e.tls.port()))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("HTTPS request to the wildcard name");
    assert_eq!(resp.status(), 200);
    assert_eq!(e.backend.last_request().unwrap().path, "/p");

    // The plain listener still says http.
    let resp = reqwest::Client::new()
        .get(format!("http://{}/api/plain", e.plain))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("plain request");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        e.backend
            .last_request()
            .unwrap()
            .header("x-forwarded-proto"),
        Some("http")
    );
}

#[tokio::test]
async fn tls_listener_refuses_plain_http() {
    let e = setup().await;
    // Plain HTTP sent to the TLS listener is not served (the handshake fails, no response).
    let answer = gatehouse_testkit::raw::send_raw_timeout(
        e.tls,
        format!("GET /api/x HTTP/1.1\r\nHost: x\r\n{KEY_HEADER}: {KEY}\r\n\r\n").as_bytes(),
        Duration::from_secs(10),
    )
    .await
    .expect("connect");
    assert_eq!(
        gatehouse_testkit::raw::status_of(&answer),
        None,
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(e.backend.request_count(), 0);
    // The listener still works afterwards.
    let s = handshake(&client_trusting(&e.ca, &[]), e.tls, dns(API_HOST))
        .await
        .expect("handshake after a bad client");
    assert_eq!(&leaf_of(&s), e.api_cert.cert_der());
}

#[tokio::test]
async fn http2_by_alpn_and_h2c_prior_knowledge() {
    let e = setup().await;

    // ALPN: the gateway picks h2 when offered, http/1.1 otherwise.
    let s = handshake(
        &client_trusting(&e.ca, &[b"h2", b"http/1.1"]),
        e.tls,
        dns(API_HOST),
    )
    .await
    .expect("handshake");
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    drop(s);
    let s = handshake(
        &client_trusting(&e.ca, &[b"http/1.1"]),
        e.tls,
        dns(API_HOST),
    )
    .await
    .expect("handshake");
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    drop(s);

    // HTTP/2 over TLS (reqwest offers h2 by ALPN and uses it).
    let h2 = https_client(&e).build().expect("client");
    let url = format!("https://{API_HOST}:{}/api/h2/tls", e.tls.port());
    let resp = h2
        .get(&url)
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("h2 request");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let echo: serde_json::Value = json(resp).await;
    assert_eq!(
        echo["version"], "HTTP/1.1",
        "the backend is spoken to in HTTP/1.1"
    );
    let seen = e.backend.last_request().unwrap();
    assert_eq!(seen.version, reqwest::Version::HTTP_11);
    assert_eq!(seen.path, "/h2/tls");
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
    let host = format!("{API_HOST}:{}", e.tls.port());
    assert_eq!(
        seen.header("x-forwarded-host"),
        Some(host.as_str()),
        "HTTP/2's :authority is the forwarded host"
    );
    // A POST body over h2.
    let resp = h2
        .post(&url)
        .header(KEY_HEADER, KEY)
        .body(vec![1u8; 300_000])
        .send()
        .await
        .expect("h2 POST");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    assert_eq!(e.backend.last_request().unwrap().body_bytes, 300_000);
    // Without a key, the gateway's own answers come over h2 too.
    let resp = h2.get(&url).send().await.expect("h2 request");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 401);

    // Many concurrent streams on one h2 connection, all forwarded.
    let before = e.backend.request_count();
    let requests = (0..20).map(|i| {
        h2.get(format!("https://{API_HOST}:{}/api/many/{i}", e.tls.port()))
            .header(KEY_HEADER, KEY)
            .send()
    });
    for resp in futures_util::future::join_all(requests).await {
        let resp = resp.expect("concurrent h2 request");
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(e.backend.request_count(), before + 20);

    // HTTP/1.1 over TLS still works for clients that do not offer h2.
    let h1 = https_client(&e).http1_only().build().expect("client");
    let resp = h1
        .get(format!("https://{API_HOST}:{}/api/h1/tls", e.tls.port()))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("http/1.1 over TLS");
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status(), 200);

    // h2c with prior knowledge on the plain listener.
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let resp = h2c
        .get(format!("http://{}/api/h2c?y=2", e.plain))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("h2c request");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let echo: serde_json::Value = json(resp).await;
    assert_eq!(echo["version"], "HTTP/1.1");
    let seen = e.backend.last_request().unwrap();
    assert_eq!(seen.version, reqwest::Version::HTTP_11);
    assert_eq!(seen.path_and_query, "/h2c?y=2");
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    // The health probe answers over h2c as well.
    let resp = h2c
        .get(format!("http://{}/status-0123456789abcdef", e.plain))
        .send()
        .await
        .expect("h2c health probe");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
}

async fn next_data_message<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an echo within 20 s")
            .expect("the WebSocket stays open")
            .expect("a WebSocket message");
        if msg.is_text() || msg.is_binary() || msg.is_close() {
            return msg;
        }
    }
}

async fn echo_round_trips<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let text = Message::text("hello through the gateway");
    ws.send(text.clone()).await.expect("send text");
    assert_eq!(next_data_message(ws).await, text);

    let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    ws.send(Message::binary(binary.clone()))
        .await
        .expect("send binary");
    assert_eq!(next_data_message(ws).await, Message::binary(binary));

    // Several messages in flight at once come back in order.
    for i in 0..10 {
        ws.send(Message::text(format!("message {i}")))
            .await
            .expect("send");
    }
    for i in 0..10 {
        assert_eq!(
            next_data_message(ws).await,
            Message::text(format!("message {i}"))
        );
    }
    ws.close(None).await.expect("close");
}

#[tokio::test]
async fn websocket_echo_through_the_gateway() {
    let e = setup().await;

    // ws:// on the plain listener, key in the header.
    let mut req = format!("ws://{}/api/ws", e.plain)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert(KEY_HEADER, KEY.parse().expect("header value"));
    let (mut ws, resp) = tokio::time::timeout(
        Duration::from_secs(20),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect("handshake within 20 s")
    .expect("WebSocket handshake through the gateway");
    assert_eq!(resp.status(), 101);
    echo_round_trips(&mut ws).await;
    let seen = e
        .backend
        .requests()
        .into_iter()
        .find(|r| r.path == "/ws")
        .expect("the backend saw the upgrade");
    assert_eq!(seen.header("upgrade"), Some("websocket"));
    assert_eq!(seen.header("ocp-apim-subscription-key"), None);
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));

    // Without a key the upgrade is refused with APIM's 401 and never reaches the backend.
    let before = e.backend.request_count();
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/api/ws", e.plain)).await;
    match refused {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    assert_eq!(e.backend.request_count(), before);

    // wss:// on the TLS listener (ALPN http/1.1: WebSocket upgrades are HTTP/1.1).
    let tls = handshake(
        &client_trusting(&e.ca, &[b"http/1.1"]),
        e.tls,
        dns(API_HOST),
    )
    .await
    .expect("TLS handshake");
    let mut req = format!("wss://{API_HOST}:{}/api/ws", e.tls.port())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert(KEY_HEADER, KEY.parse().expect("header value"));
    let (mut ws, resp) = tokio::time::timeout(
        Duration::from_secs(20),
        tokio_tungstenite::client_async(req, tls),
    )
    .await
    .expect("handshake within 20 s")
    .expect("wss handshake through the gateway");
    assert_eq!(resp.status(), 101);
    echo_round_trips(&mut ws).await;
    let seen = e.backend.last_request().expect("the backend saw it");
    assert_eq!(seen.path, "/ws");
    assert_eq!(seen.header("x-forwarded-proto"), Some("https"));
}

/// Bytes streamed each way in [`large_bodies_stream_with_bounded_memory`].
const STREAM_BYTES: u64 = 1 << 30;
/// The gateway's peak RSS must stay under this while streaming.
const MAX_PEAK_RSS_KIB: u64 = 150 * 1024;

/// VmHWM (peak resident set size) of process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test]
async fn large_bodies_stream_with_bounded_memory() {
    let e = setup().await;
    let pid = e.gw.pid();
    let client = reqwest::Client::new();
    let base_rss = peak_rss_kib(pid);

    // Upload: a generated chunked body, never held in memory by the client either.
    const CHUNK: usize = 256 * 1024;
    let chunk = Bytes::from(vec![0x5au8; CHUNK]);
    let chunks = STREAM_BYTES / CHUNK as u64;
    let body = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())),
    );
    let started = Instant::now();
    let resp = tokio::time::timeout(
        Duration::from_secs(600),
        client
            .post(format!("http://{}/api/upload", e.plain))
            .header(KEY_HEADER, KEY)
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    )
    .await
    .expect("upload within 10 minutes")
    .expect("upload");
    assert_eq!(resp.status(), 200);
    let echo: serde_json::Value = json(resp).await;
    let upload_time = started.elapsed();
    assert_eq!(echo["body_bytes"], STREAM_BYTES, "{echo}");
    let seen = e.backend.last_request().expect("backend saw the upload");
    assert_eq!(seen.body_bytes, STREAM_BYTES);
    assert_eq!(seen.body_error, None);
    let rss_after_upload = peak_rss_kib(pid);

    // Download, counting chunk by chunk and spot-checking the content. Reading stalls for a
    // few seconds midway: a gateway that buffered instead of applying backpressure would
    // fill its memory from the backend meanwhile.
    let started = Instant::now();
    let mut resp = client
        .get(format!("http://{}/api/bytes/{STREAM_BYTES}", e.plain))
        .header(KEY_HEADER, KEY)
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(STREAM_BYTES));
    let mut received = 0u64;
    let mut stalled = false;
    let deadline = Instant::now() + Duration::from_secs(600);
    while let Some(chunk) = resp.chunk().await.expect("download chunk") {
        assert!(Instant::now() < deadline, "download took over 10 minutes");
        if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
            assert_eq!(*first, pattern_byte(received), "byte {received}");
            let end = received + chunk.len() as u64 - 1;
            assert_eq!(*last, pattern_byte(end), "byte {end}");
        }
        received += chunk.len() as u64;
        if !stalled && received >= STREAM_BYTES / 4 {
            stalled = true;
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    let download_time = started.elapsed();
    assert_eq!(received, STREAM_BYTES);
    let peak = peak_rss_kib(pid);

    let mib = STREAM_BYTES as f64 / (1024.0 * 1024.0);
    eprintln!(
        "streamed {mib:.0} MiB: upload {upload_time:.1?} ({:.0} MiB/s), download {download_time:.1?} \
         ({:.0} MiB/s, incl. a 3 s stall); gateway peak RSS: {} KiB at start, {} KiB after the \
         upload, {} KiB after the download",
        mib / upload_time.as_secs_f64(),
        mib / download_time.as_secs_f64(),
        base_rss,
        rss_after_upload,
        peak
    );
    assert!(
        peak < MAX_PEAK_RSS_KIB,
        "gateway peak RSS {peak} KiB while streaming {mib:.0} MiB each way (limit {MAX_PEAK_RSS_KIB} KiB)"
    );
}
