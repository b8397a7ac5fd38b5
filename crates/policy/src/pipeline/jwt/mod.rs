//! validate-jwt: checks the request's JSON web token as APIM does — presence (header, query
//! parameter or expression), signature (inline HMAC keys, RSA modulus/exponent, or the JWKS of
//! OpenID configurations, cached per URL), lifetime with clock skew, audiences, issuers and
//! required claims — and on success stores the token as a `Jwt` object in a variable.
//!
//! Failures carry APIM's `context.LastError` reasons (`TokenNotPresent`,
//! `TokenSignatureInvalid`, `TokenSignatureKeyNotFound`, `TokenExpired`,
//! `TokenAudienceNotAllowed`, `TokenIssuerNotAllowed`, `TokenClaimNotFound`,
//! `TokenClaimValueNotAllowed`, and `JwtInvalid` for everything else) and the response APIM
//! sends: `failed-validation-httpcode` (401) with `{"statusCode": …, "message": …}`. Neither the
//! token nor any key ever appears in a message.
//!
//! validate-azure-ad-token (azure_ad.rs) is the same validation against Microsoft Entra ID's
//! OpenID configuration for a tenant.
//!
//! Not supported (compile errors): `<key certificate-id>` (no certificate store),
//! `<decryption-keys>` (encrypted tokens), and an expression as `<openid-config url>`.

// One module per concern; the types shared by all of them live here, and each child sees the
// others' `pub(super)` items through these glob imports (`use super::*`).
mod attributes;
mod azure_ad;
#[cfg(test)]
mod azure_ad_tests;
mod openid;
#[cfg(test)]
mod tests;
mod token;
mod validate;

pub(crate) use attributes::compile;
use attributes::*;
pub(crate) use azure_ad::{AadStep, compile_aad};
use openid::*;
use token::*;
use validate::*;

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde_json::Value as J;

use super::attrs::{self, Operand, error};
use super::eval::{self, Failure};
use super::{CompileError, CompileErrorKind, Exchange, Message};
use crate::document::PolicyElement;
use crate::expr::{DateTime, Value};
use crate::http::{HttpClient, HttpRequest};

/// Time allowed for each OpenID configuration or JWKS download.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a key set stays fresh without a `Cache-Control: max-age` (APIM: 1 hour).
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Bounds applied to a `max-age`.
const MIN_TTL: Duration = Duration::from_secs(5 * 60);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// At most one download per URL in this interval for an unknown `kid` or after a failure
/// (APIM: at most once per 5 minutes).
const REFETCH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Largest OpenID configuration or JWKS document accepted.
const MAX_DOCUMENT: usize = 1024 * 1024;

const NOT_PRESENT_MESSAGE: &str = "JWT not present.";
const INVALID_MESSAGE: &str = "Invalid JWT.";

/// Algorithms validate-jwt accepts (APIM's set; EdDSA is not among them).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// A compiled `<validate-jwt>`.
#[derive(Debug, Clone)]
pub(crate) struct JwtStep {
    source: TokenSource,
    status: Option<Operand>,
    error_message: Option<Operand>,
    require_expiration_time: Option<Operand>,
    require_scheme: Option<Operand>,
    require_signed_tokens: Option<Operand>,
    clock_skew: Option<Operand>,
    output_variable: Option<String>,
    keys: Arc<Vec<InlineKey>>,
    openid: Arc<Vec<Arc<OpenIdSource>>>,
    audiences: Vec<Operand>,
    issuers: Vec<Operand>,
    claims: Vec<RequiredClaim>,
}

#[derive(Debug, Clone)]
enum TokenSource {
    Header(Operand),
    Query(Operand),
    Value(Operand),
}

/// An `<issuer-signing-keys>/<key>`.
#[derive(Clone)]
struct InlineKey {
    id: Option<String>,
    alg: Option<Algorithm>,
    material: KeyMaterial,
}

#[derive(Clone)]
enum KeyMaterial {
    /// Decoded at compile time: a base64 HMAC secret, or RSA `n`/`e`.
    Fixed(AlgorithmFamily, DecodingKey),
    /// A base64 HMAC secret produced by an expression.
    Symmetric(Operand),
}

impl fmt::Debug for InlineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.material {
            KeyMaterial::Fixed(AlgorithmFamily::Hmac, _) | KeyMaterial::Symmetric(_) => "symmetric",
            KeyMaterial::Fixed(..) => "rsa",
        };
        f.debug_struct("InlineKey")
            .field("id", &self.id)
            .field("alg", &self.alg)
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    All,
    Any,
}

#[derive(Debug, Clone)]
struct RequiredClaim {
    name: String,
    matching: Match,
    separator: Option<String>,
    values: Vec<Operand>,
}
