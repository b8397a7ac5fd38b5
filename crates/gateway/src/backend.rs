//! Backends: where a request goes (scheme, authority, base path, timeout) and the pooled HTTP
//! client that takes it there. Clients are cached by connection profile across snapshots, so a
//! config reload keeps the warm connection pools.

use crate::buffers::BufferBudget;
use crate::egress_connector::EgressConnector;
use crate::egress_connector::NetworkSource;
use crate::error::CompileError;
use crate::origins::{IDLE_AFTER, MAX_ORIGINS, Origins};
use crate::upstream::{ConnectionLimit, Upstream};
use gatehouse_model::{BackendTls, Limits, Validated};
use http::uri::{Authority, Scheme};
use hyper_rustls::HttpsConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where an API's requests go.
#[derive(Debug)]
pub struct BackendTarget {
    /// The `backends` id, or the URL when an API names a URL directly.
    pub id: Arc<str>,
    pub scheme: Scheme,
    pub authority: Authority,
    /// The URL's path without a trailing '/': replaces the API's path prefix.
    pub base_path: Box<str>,
    /// Time to wait for response headers.
    pub timeout: Duration,
    /// The `Host` header backend requests carry: the URL's authority.
    pub host: http::HeaderValue,
    pub upstream: Arc<Upstream>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
struct ClientProfile {
    connect_timeout_ms: u64,
    tls: BackendTls,
}

/// Connection pools by destination and connection profile, shared by every snapshot, so a
/// reload keeps the warm connections. Every connection goes through the egress guard, which
/// reads the egress rules and resolver of the gateway's current snapshot (through `network`)
/// at connect time.
pub struct ClientCache {
    /// Per (profile, origin), its pool: looked up without a lock on the request path,
    /// bounded, idle origins evicted (crates/gateway/src/origins.rs).
    upstreams: Origins<(ClientProfile, String), Upstream>,
    /// What only a new origin needs, under one lock taken on that rare path alone.
    slow: Mutex<SlowPath>,
    /// `max_connections_per_backend` as the gateway started (a semaphore's size is fixed:
    /// a new value needs a restart).
    max_per_origin: u32,
    /// `backend_queue_timeout_ms`, live.
    queue_timeout_ms: Arc<AtomicU64>,
    /// The memory for buffered bodies, shared by every request.
    pub(crate) buffers: Arc<BufferBudget>,
    /// Where the connectors find the current snapshot.
    network: Arc<dyn NetworkSource>,
}

#[derive(Default)]
struct SlowPath {
    connectors: HashMap<ClientProfile, HttpsConnector<EgressConnector<dyn NetworkSource>>>,
    /// Per origin, the bound on its open connections, whatever the profile or target. An
    /// origin's entry goes once no pool holds it and no connection is open (an upgraded
    /// connection still counts after its pool was evicted).
    origin_limits: HashMap<String, Arc<ConnectionLimit>>,
}

impl ClientCache {
    /// `network`: where the connectors read the egress rules and resolver at each connect (the
    /// gateway's current snapshot, through `snapshot::SnapshotLink`).
    pub fn new(limits: &Limits, network: Arc<dyn NetworkSource>) -> ClientCache {
        ClientCache {
            upstreams: Origins::new(MAX_ORIGINS, IDLE_AFTER),
            slow: Mutex::default(),
            max_per_origin: limits.max_connections_per_backend,
            queue_timeout_ms: Arc::new(AtomicU64::new(limits.backend_queue_timeout_ms)),
            buffers: Arc::new(BufferBudget::new(limits)),
            network,
        }
    }

    /// Takes the limits of a reloaded config that apply without a restart.
    pub fn configure(&self, limits: &Limits) {
        self.queue_timeout_ms
            .store(limits.backend_queue_timeout_ms, Ordering::Relaxed);
        self.buffers.configure(limits);
        // A reload may have released backends: their pools go once idle.
        self.upstreams.sweep_now();
    }

    /// `max_connections_per_backend` in force (the value the gateway started with).
    pub fn max_per_origin(&self) -> u32 {
        self.max_per_origin
    }
}

impl ClientCache {
    /// A target for a URL no backend names (set-backend-service base-url to another origin,
    /// send-request): default connection profile, pooled per origin, through the egress guard.
    pub fn target_for_url(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<Arc<BackendTarget>, String> {
        let profile = ClientProfile {
            connect_timeout_ms: 10_000,
            tls: BackendTls::default(),
        };
        target(url, url, timeout, &profile, self)
    }

    fn get(&self, profile: &ClientProfile, origin: &http::Uri) -> Result<Arc<Upstream>, String> {
        let key = (profile.clone(), origin.to_string());
        self.upstreams.get_or_insert_with(&key, || {
            let mut slow = self.slow.lock().unwrap_or_else(|p| p.into_inner());
            let connector = match slow.connectors.get(profile) {
                Some(c) => c.clone(),
                None => {
                    let c = build_connector(profile, &self.network)?;
                    slow.connectors.insert(profile.clone(), c.clone());
                    c
                }
            };
            slow.origin_limits
                .retain(|_, l| Arc::strong_count(l) > 1 || l.open() > 0);
            let limit = slow
                .origin_limits
                .entry(key.1.clone())
                .or_insert_with(|| {
                    Arc::new(ConnectionLimit::new(
                        self.max_per_origin,
                        self.queue_timeout_ms.clone(),
                    ))
                })
                .clone();
            Ok(Upstream::new(origin.clone(), connector, limit))
        })
    }
}

fn build_connector(
    profile: &ClientProfile,
    network: &Arc<dyn NetworkSource>,
) -> Result<HttpsConnector<EgressConnector<dyn NetworkSource>>, String> {
    let http = EgressConnector::with_source(
        network.clone(),
        Duration::from_millis(profile.connect_timeout_ms),
    );
    let tls = client_tls_config(&profile.tls)?;
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// TLS towards backends: the system's CA certificates plus `ca_file`, and Azure's two switches
/// `validate_certificate_chain` and `validate_certificate_name`.
fn client_tls_config(tls: &BackendTls) -> Result<rustls::ClientConfig, String> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(ca) = &tls.ca_file {
        let certs = CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("cannot read CA file '{ca}': {e}"))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("bad certificate in CA file '{ca}': {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("bad certificate in CA file '{ca}': {e}"))?;
        }
    }
    let verifier: Arc<dyn ServerCertVerifier> = if !tls.validate_certificate_chain {
        Arc::new(FixedVerdict {
            provider: provider.clone(),
            refusal: None,
        })
    } else if roots.is_empty() {
        Arc::new(FixedVerdict {
            provider: provider.clone(),
            refusal: Some(
                "no trusted CA certificates: install the system's CA bundle or set the backend's tls.ca_file",
            ),
        })
    } else {
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .map_err(|e| format!("cannot build certificate verifier: {e}"))?;
        if tls.validate_certificate_name {
            webpki
        } else {
            Arc::new(IgnoreName(webpki))
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// A verifier whose answer about the chain is fixed, handshake signatures still checked:
/// `refusal: None` accepts any certificate (Azure's `validate_certificate_chain: false`);
/// `Some(why)` refuses every chain with a message that says why (no CA certificate anywhere).
#[derive(Debug)]
struct FixedVerdict {
    provider: Arc<CryptoProvider>,
    refusal: Option<&'static str>,
}

/// `validate_certificate_name: false`: the chain must be trusted, the name may differ.
#[derive(Debug)]
struct IgnoreName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for FixedVerdict {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.refusal {
            None => Ok(ServerCertVerified::assertion()),
            Some(why) => Err(rustls::Error::General(why.into())),
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ServerCertVerifier for IgnoreName {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        inter: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end, inter, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The targets of a snapshot: one per API (in API order), and every configured backend by id
/// (for set-backend-service backend-id).
pub struct Targets {
    pub per_api: Vec<Arc<BackendTarget>>,
    pub by_id: HashMap<String, Arc<BackendTarget>>,
}

pub fn build_targets(v: &Validated, cache: &ClientCache) -> Result<Targets, CompileError> {
    let mut by_id: HashMap<String, Arc<BackendTarget>> = HashMap::new();
    for (id, b) in &v.config.backends {
        let profile = ClientProfile {
            connect_timeout_ms: b.connect_timeout_ms,
            tls: b.tls.clone(),
        };
        let t = target(
            id,
            &b.url,
            Duration::from_millis(b.timeout_ms),
            &profile,
            cache,
        )
        .map_err(|message| CompileError {
            path: format!("backends.{id}"),
            message,
        })?;
        by_id.insert(id.clone(), t);
    }
    let mut per_api = Vec::with_capacity(v.config.apis.len());
    let mut by_url: HashMap<&str, Arc<BackendTarget>> = HashMap::new();
    for (i, api) in v.config.apis.iter().enumerate() {
        if let Some(t) = by_id
            .get(&api.backend)
            .or_else(|| by_url.get(api.backend.as_str()))
        {
            per_api.push(t.clone());
            continue;
        }
        let profile = ClientProfile {
            connect_timeout_ms: 10_000,
            tls: BackendTls::default(),
        };
        let t = target(
            &api.backend,
            &api.backend,
            Duration::from_millis(300_000),
            &profile,
            cache,
        )
        .map_err(|message| CompileError {
            path: format!("apis[{i}].backend"),
            message,
        })?;
        by_url.insert(api.backend.as_str(), t.clone());
        per_api.push(t);
    }
    Ok(Targets { per_api, by_id })
}

fn target(
    id: &str,
    url: &str,
    timeout: Duration,
    profile: &ClientProfile,
    cache: &ClientCache,
) -> Result<Arc<BackendTarget>, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("invalid URL '{url}': {e}"))?;
    let scheme = uri
        .scheme()
        .cloned()
        .ok_or_else(|| format!("URL '{url}' has no scheme"))?;
    let authority = uri
        .authority()
        .cloned()
        .ok_or_else(|| format!("URL '{url}' has no host"))?;
    let origin = http::Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query("/")
        .build()
        .map_err(|e| format!("invalid URL '{url}': {e}"))?;
    let host = http::HeaderValue::from_str(authority.as_str())
        .map_err(|e| format!("invalid host in '{url}': {e}"))?;
    let upstream = cache
        .get(profile, &origin)
        .map_err(|m| format!("tls: {m}"))?;
    Ok(Arc::new(BackendTarget {
        id: id.into(),
        scheme,
        authority,
        base_path: uri.path().trim_end_matches('/').into(),
        timeout,
        host,
        upstream,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_has_one_connection_limit_and_one_pool_per_profile() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let cache = ClientCache::new(
            &Limits::default(),
            Arc::new(crate::egress_connector::Unlinked),
        );
        let timeout = Duration::from_secs(1);
        let a = cache
            .target_for_url("http://backend.test:8080/a", timeout)
            .expect("target");
        let b = cache
            .target_for_url("http://backend.test:8080/b?x", timeout)
            .expect("target");
        // One origin, one profile: one pool, found again without building another.
        assert!(Arc::ptr_eq(&a.upstream, &b.upstream));
        let other_profile = ClientProfile {
            connect_timeout_ms: 1,
            tls: BackendTls::default(),
        };
        let origin: http::Uri = "http://backend.test:8080/".parse().expect("uri");
        let c = cache.get(&other_profile, &origin).expect("pool");
        // Another profile, another pool, but the origin's one limit.
        assert!(!Arc::ptr_eq(&a.upstream, &c));
        assert!(Arc::ptr_eq(a.upstream.limit(), c.limit()));
        let other = cache
            .target_for_url("http://other.test/", timeout)
            .expect("target");
        assert!(!Arc::ptr_eq(a.upstream.limit(), other.upstream.limit()));
    }
}
