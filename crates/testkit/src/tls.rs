//! Throw-away certificates for TLS tests: a self-signed CA ([`TestCa`]) issuing leaf
//! certificates ([`TestCert`]) for DNS names, IP addresses or client identities.
//!
//! ```no_run
//! # fn demo(dir: &std::path::Path) {
//! use gatehouse_testkit::tls::TestCa;
//! let ca = TestCa::new();
//! let cert = ca.issue(&["api.contoso.test", "*.contoso.test", "127.0.0.1"]);
//! let (cert_path, key_path) = cert.write_pem(dir, "gateway");
//! // client side: reqwest::Certificate::from_pem(ca.cert_pem().as_bytes())
//! # }
//! ```
//!
//! Certificates use ECDSA P-256 keys and rcgen's default validity (1975 to 4096).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed certificate authority that issues [`TestCert`]s.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// Generates a new CA named "gatehouse test CA". Panics if key generation fails.
    pub fn new() -> TestCa {
        Self::named("gatehouse test CA")
    }

    /// Generates a new CA with the given common name. Panics if key generation fails.
    pub fn named(common_name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .expect("testkit: CA params without SANs are valid");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "gatehouse tests");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("testkit: generating the CA key");
        let cert = params
            .self_signed(&key)
            .expect("testkit: self-signing the CA certificate");
        let key_pem = key.serialize_pem();
        TestCa {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate in PEM form (for `reqwest::Certificate::from_pem`, curl `--cacert`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate in DER form (for a rustls `RootCertStore`).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA private key in PKCS#8 PEM form.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Writes the CA certificate to `dir/{name}.crt` and returns its path. Panics on I/O
    /// errors.
    pub fn write_pem(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(format!("{name}.crt"));
        write_file(&path, &self.cert_pem);
        path
    }

    /// Issues a server certificate (extended key usage serverAuth and clientAuth) for `names`:
    /// DNS names (wildcards like `*.contoso.test` allowed) or IP addresses, all as subject
    /// alternative names; the first name is also the common name. Panics on invalid names.
    pub fn issue(&self, names: &[&str]) -> TestCert {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans)
            .unwrap_or_else(|e| panic!("testkit: invalid certificate names {names:?}: {e}"));
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        self.sign(params)
    }

    /// Issues a client certificate (extended key usage clientAuth only, no SANs) with the
    /// given subject common name, for mutual-TLS tests.
    pub fn issue_client(&self, common_name: &str) -> TestCert {
        let mut params = CertificateParams::new(Vec::<String>::new())
            .expect("testkit: client params without SANs are valid");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, mut params: CertificateParams) -> TestCert {
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("testkit: generating a leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("testkit: signing a leaf certificate");
        TestCert {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
            ca_pem: self.cert_pem.clone(),
        }
    }
}

/// A leaf certificate and its private key, issued by a [`TestCa`].
#[derive(Clone)]
pub struct TestCert {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
    ca_pem: String,
}

impl fmt::Debug for TestCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCert").finish_non_exhaustive()
    }
}

impl TestCert {
    /// The leaf certificate in PEM form.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The leaf certificate followed by the issuing CA's certificate, in PEM form.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.ca_pem)
    }

    /// The issuing CA's certificate in PEM form.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The private key in PKCS#8 PEM form (`-----BEGIN PRIVATE KEY-----`).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The leaf certificate in DER form.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The private key in DER (PKCS#8) form, ready for a rustls config.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// Writes `dir/{name}.crt` (the leaf certificate) and `dir/{name}.key` (its PKCS#8 key)
    /// and returns `(cert_path, key_path)`. Panics on I/O errors.
    pub fn write_pem(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        write_file(&cert_path, &self.cert_pem);
        write_file(&key_path, &self.key_pem);
        (cert_path, key_path)
    }

    /// Like [`TestCert::write_pem`] but the certificate file holds the leaf followed by the
    /// CA certificate (a "fullchain" file).
    pub fn write_chain_pem(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let (cert_path, key_path) = self.write_pem(dir, name);
        write_file(&cert_path, &self.chain_pem());
        (cert_path, key_path)
    }
}

fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents)
        .unwrap_or_else(|e| panic!("testkit: writing {}: {e}", path.display()));
}
