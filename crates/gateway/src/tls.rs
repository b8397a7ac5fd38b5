//! TLS for the listeners of every component: certificates from PEM files (APIM's hostname
//! configurations, crates/model/src/hostnames.rs), chosen by SNI (exact name, then wildcard,
//! then the default binding), ALPN h2 and http/1.1. The gateway's listeners and those of the
//! management API, portal and Git endpoint (crates/cli/src/component_listener.rs) each get the
//! configuration built here from their own entries.

use crate::error::CompileError;
use gatehouse_model::hostnames::HostEntry;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
struct SniResolver {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.contoso.com` stored as `contoso.com`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // rustls hands us the SNI already lower-cased and without a trailing dot.
        if let Some(name) = hello.server_name() {
            if let Some(k) = self.exact.get(name) {
                return Some(k.clone());
            }
            if let Some((_, parent)) = name.split_once('.')
                && let Some(k) = self.wildcard.get(parent)
            {
                return Some(k.clone());
            }
        }
        self.default.clone()
    }
}

fn load_key(
    h: &HostEntry<'_>,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<Option<Arc<CertifiedKey>>, CompileError> {
    let Some(certificate) = h.certificate else {
        return Ok(None);
    };
    let path = format!("{}.certificate", h.path());
    let cert_file = &certificate.cert_file;
    let key_file = &certificate.key_file;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| CompileError {
            path: format!("{path}.cert_file"),
            message: format!("cannot read certificates from '{cert_file}': {e}"),
        })?;
    if certs.is_empty() {
        return Err(CompileError {
            path: format!("{path}.cert_file"),
            message: format!("no certificate in '{cert_file}'"),
        });
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| CompileError {
        path: format!("{path}.key_file"),
        message: format!("cannot read a private key from '{key_file}': {e}"),
    })?;
    let ck = CertifiedKey::from_der(certs, key, provider).map_err(|e| CompileError {
        path: path.clone(),
        message: format!("certificate and key do not fit together: {e}"),
    })?;
    Ok(Some(Arc::new(ck)))
}

/// The server TLS configuration for the given host name entries (those without a certificate
/// are skipped), or `None` when none has a certificate.
pub fn server_config(
    hostnames: &[HostEntry<'_>],
) -> Result<Option<Arc<rustls::ServerConfig>>, CompileError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut resolver = SniResolver::default();
    let mut explicit_default = false;
    for h in hostnames {
        let Some(key) = load_key(h, &provider)? else {
            continue;
        };
        let name = h.host_name.to_ascii_lowercase();
        // Without an explicit default binding, the first host name serves clients without SNI.
        if (h.default_ssl_binding && !explicit_default) || resolver.default.is_none() {
            resolver.default = Some(key.clone());
            explicit_default |= h.default_ssl_binding;
        }
        match name.strip_prefix("*.") {
            Some(parent) => resolver.wildcard.insert(parent.to_string(), key),
            None => resolver.exact.insert(name, key),
        };
    }
    if resolver.default.is_none() {
        return Ok(None);
    }
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CompileError {
            path: "hostname_configurations".into(),
            message: format!("TLS: {e}"),
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}
