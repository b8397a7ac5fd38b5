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
//! Not supported (compile errors): `<key certificate-id>` (no certificate store),
//! `<decryption-keys>` (encrypted tokens), and an expression as `<openid-config url>`.

use std::collections::BTreeMap;
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
use crate::expr::{DateTime, Object, Value};
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
    openid: Arc<Vec<OpenIdSource>>,
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

// ------------------------------------------------------------------------------------ compile

pub(crate) fn compile(e: &PolicyElement) -> Result<JwtStep, CompileError> {
    let sources = [
        ("header-name", attrs::attr(e, "header-name")?),
        (
            "query-parameter-name",
            attrs::attr(e, "query-parameter-name")?,
        ),
        ("token-value", attrs::attr(e, "token-value")?),
    ];
    let mut given = sources.into_iter().filter_map(|(n, o)| o.map(|o| (n, o)));
    let source = match (given.next(), given.next()) {
        (Some((name, op)), None) => match name {
            "header-name" => TokenSource::Header(op),
            "query-parameter-name" => TokenSource::Query(op),
            _ => TokenSource::Value(op),
        },
        _ => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "exactly one of 'header-name', 'query-parameter-name' or 'token-value' is required",
            ));
        }
    };

    let status = attrs::attr(e, "failed-validation-httpcode")?;
    if let Some(Operand::Literal(s)) = &status
        && attrs::parse_status(s.trim()).is_none()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!(
                "attribute 'failed-validation-httpcode' must be an HTTP status code (100-599), not '{s}'"
            ),
        ));
    }
    let require_expiration_time = bool_attr(e, "require-expiration-time")?;
    let require_signed_tokens = bool_attr(e, "require-signed-tokens")?;
    let clock_skew = attrs::attr(e, "clock-skew")?;
    if let Some(Operand::Literal(s)) = &clock_skew
        && parse_skew(s).is_none()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!(
                "attribute 'clock-skew' must be a whole number of seconds (0 or more), not '{s}'"
            ),
        ));
    }
    let output_variable = match attrs::literal(e, "output-token-variable-name")? {
        Some(n) if n.trim().is_empty() => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "attribute 'output-token-variable-name' must not be empty",
            ));
        }
        other => other.map(str::to_string),
    };

    let mut step = JwtStep {
        source,
        status,
        error_message: attrs::attr(e, "failed-validation-error-message")?,
        require_expiration_time,
        require_scheme: attrs::attr(e, "require-scheme")?,
        require_signed_tokens,
        clock_skew,
        output_variable,
        keys: Arc::new(Vec::new()),
        openid: Arc::new(Vec::new()),
        audiences: Vec::new(),
        issuers: Vec::new(),
        claims: Vec::new(),
    };
    let mut keys = Vec::new();
    let mut openid = Vec::new();
    for child in attrs::only_children(
        e,
        &[
            "openid-config",
            "issuer-signing-keys",
            "decryption-keys",
            "audiences",
            "issuers",
            "required-claims",
        ],
    )? {
        match child.name.as_str() {
            "openid-config" => {
                let url = attrs::required_literal(child, "url")?.trim();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(error(
                        child,
                        CompileErrorKind::Attribute,
                        format!("openid-config url must be an absolute http(s) URL, not '{url}'"),
                    ));
                }
                openid.push(OpenIdSource::new(url));
            }
            "issuer-signing-keys" => {
                for k in attrs::only_children(child, &["key"])? {
                    keys.push(compile_key(k)?);
                }
            }
            "decryption-keys" => {
                return Err(error(
                    child,
                    CompileErrorKind::Unsupported,
                    "validate-jwt with <decryption-keys> (encrypted tokens) is not supported",
                ));
            }
            "audiences" => {
                for a in attrs::only_children(child, &["audience"])? {
                    step.audiences.push(attrs::text(a)?);
                }
            }
            "issuers" => {
                for i in attrs::only_children(child, &["issuer"])? {
                    step.issuers.push(attrs::text(i)?);
                }
            }
            _ => {
                for c in attrs::only_children(child, &["claim"])? {
                    step.claims.push(compile_claim(c)?);
                }
            }
        }
    }
    step.keys = Arc::new(keys);
    step.openid = Arc::new(openid);
    Ok(step)
}

/// A boolean attribute that may be an expression; a literal must be true or false.
fn bool_attr(e: &PolicyElement, name: &str) -> Result<Option<Operand>, CompileError> {
    let op = attrs::attr(e, name)?;
    if let Some(Operand::Literal(s)) = &op
        && attrs::parse_bool(s.trim()).is_none()
    {
        return Err(attrs::not_bool(e, name, s));
    }
    Ok(op)
}

fn parse_skew(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok()
}

fn compile_key(k: &PolicyElement) -> Result<InlineKey, CompileError> {
    if let Some(cert) = attrs::literal(k, "certificate-id")? {
        return Err(error(
            k,
            CompileErrorKind::Unsupported,
            format!(
                "validate-jwt key with certificate-id '{cert}' is not supported (no certificate \
                 store); give the RSA public key as n and e, or use openid-config"
            ),
        ));
    }
    let id = attrs::literal(k, "id")?.map(str::to_string);
    let alg = match attrs::literal(k, "alg")? {
        None => None,
        Some(a) => Some(
            Algorithm::from_str(a.trim())
                .ok()
                .filter(|a| ALGORITHMS.contains(a))
                .ok_or_else(|| {
                    error(
                        k,
                        CompileErrorKind::Attribute,
                        format!("unsupported key algorithm '{a}'"),
                    )
                })?,
        ),
    };
    let n = attrs::literal(k, "n")?;
    let e = attrs::literal(k, "e")?;
    let material = match (n, e) {
        (Some(n), Some(e)) => {
            let valid = |s: &str| !s.trim().is_empty() && URL_SAFE_NO_PAD.decode(s.trim()).is_ok();
            if !valid(n) || !valid(e) {
                return Err(error(
                    k,
                    CompileErrorKind::Attribute,
                    "key n and e must be base64url-encoded RSA modulus and exponent",
                ));
            }
            let key = DecodingKey::from_rsa_components(n.trim(), e.trim()).map_err(|_| {
                error(
                    k,
                    CompileErrorKind::Attribute,
                    "key n and e are not a valid RSA public key",
                )
            })?;
            KeyMaterial::Fixed(AlgorithmFamily::Rsa, key)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(error(
                k,
                CompileErrorKind::Attribute,
                "key attributes n and e must be given together",
            ));
        }
        (None, None) => match attrs::text(k)? {
            Operand::Literal(s) => {
                let secret = decode_secret(&s).ok_or_else(|| {
                    error(
                        k,
                        CompileErrorKind::Attribute,
                        "key must contain a base64-encoded signing key (or have n and e)",
                    )
                })?;
                KeyMaterial::Fixed(AlgorithmFamily::Hmac, DecodingKey::from_secret(&secret))
            }
            op => KeyMaterial::Symmetric(op),
        },
    };
    Ok(InlineKey { id, alg, material })
}

/// A base64 symmetric key (standard or URL alphabet, padded or not); `None` when empty or
/// not base64.
fn decode_secret(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|eng| eng.decode(&s).ok())
        .filter(|k| !k.is_empty())
}

fn compile_claim(c: &PolicyElement) -> Result<RequiredClaim, CompileError> {
    let name = attrs::required_literal(c, "name")?.to_string();
    let matching = match attrs::literal(c, "match")?.map(str::trim) {
        None | Some("all") => Match::All,
        Some("any") => Match::Any,
        Some(other) => {
            return Err(error(
                c,
                CompileErrorKind::Attribute,
                format!("claim match must be 'all' or 'any', not '{other}'"),
            ));
        }
    };
    let separator = attrs::literal(c, "separator")?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let values = attrs::only_children(c, &["value"])?
        .into_iter()
        .map(attrs::text)
        .collect::<Result<_, _>>()?;
    Ok(RequiredClaim {
        name,
        matching,
        separator,
        values,
    })
}

// ---------------------------------------------------------------------------------------- run

/// Why a token was refused: APIM's `LastError.Reason` and `.Message`, and whether the default
/// response message is "JWT not present." rather than "Invalid JWT.".
struct Denial {
    reason: &'static str,
    message: String,
    not_present: bool,
}

impl Denial {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Denial {
            reason,
            message: message.into(),
            not_present: false,
        }
    }

    fn not_present() -> Self {
        Denial {
            reason: "TokenNotPresent",
            message: NOT_PRESENT_MESSAGE.into(),
            not_present: true,
        }
    }

    fn invalid(message: impl fmt::Display) -> Self {
        Denial::new("JwtInvalid", format!("{message}"))
    }
}

enum Refusal {
    Denied(Denial),
    /// An attribute expression failed: reported as such (500), not as a token problem.
    Failed(Failure),
}

impl From<Denial> for Refusal {
    fn from(d: Denial) -> Self {
        Refusal::Denied(d)
    }
}

impl From<Failure> for Refusal {
    fn from(f: Failure) -> Self {
        Refusal::Failed(f)
    }
}

/// A decoded token: header and claims (the signature is checked separately).
struct Token<'a> {
    header: serde_json::Map<String, J>,
    claims: serde_json::Map<String, J>,
    /// `header.payload`, the signed bytes.
    message: &'a str,
    signature: &'a str,
}

impl JwtStep {
    /// Validates the request's token; on success sets output-token-variable-name (if any) and
    /// returns Ok.
    pub(crate) async fn run(&self, ex: &mut dyn Exchange) -> Result<(), Failure> {
        match self.validate(ex).await {
            Ok(()) => Ok(()),
            Err(Refusal::Failed(f)) => Err(f),
            Err(Refusal::Denied(d)) => {
                let status = match &self.status {
                    Some(op) => eval::status(op, ex)?,
                    None => 401,
                };
                let message = match &self.error_message {
                    Some(op) => eval::string(op, ex)?,
                    None if d.not_present => NOT_PRESENT_MESSAGE.to_string(),
                    None => INVALID_MESSAGE.to_string(),
                };
                let body = serde_json::json!({ "statusCode": status, "message": message });
                Err(Failure {
                    reason: d.reason.to_string(),
                    message: d.message,
                    status,
                    body: Some(body.to_string()),
                })
            }
        }
    }

    async fn validate(&self, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let raw = match self.token(ex)? {
            Some(t) => t,
            None => return Err(Denial::not_present().into()),
        };
        let token = parse_token(&raw)?;
        self.check_signature(&token, ex).await?;
        self.check_lifetime(&token, ex)?;
        self.check_audience(&token, ex)?;
        self.check_issuer(&token, ex)?;
        self.check_claims(&token, ex)?;
        if let Some(name) = &self.output_variable {
            ex.set_variable(name, jwt_value(&token));
        }
        Ok(())
    }

    /// The token text, `None` when absent or empty.
    fn token(&self, ex: &mut dyn Exchange) -> Result<Option<String>, Refusal> {
        let raw = match &self.source {
            TokenSource::Header(name) => {
                let name = eval::string(name, ex)?;
                let value = ex
                    .header(Message::Request, &name)
                    .and_then(|vs| vs.into_iter().find(|v| !v.trim().is_empty()));
                let Some(value) = value else {
                    return Ok(None);
                };
                let value = value.trim();
                // The scheme is enforced only on the Authorization header (APIM ignores
                // require-scheme for other headers).
                let scheme = match &self.require_scheme {
                    Some(op) if name.eq_ignore_ascii_case("authorization") => {
                        Some(eval::string(op, ex)?).filter(|s| !s.trim().is_empty())
                    }
                    _ => None,
                };
                if scheme
                    .as_deref()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case(value))
                {
                    // "Bearer" without a token.
                    return Ok(None);
                }
                let (given_scheme, rest) = match value.split_once(char::is_whitespace) {
                    Some((s, r)) => (Some(s), r.trim()),
                    None => (None, value),
                };
                if let Some(required) = scheme {
                    let required = required.trim();
                    if !given_scheme.is_some_and(|s| s.eq_ignore_ascii_case(required)) {
                        return Err(Denial::invalid(format!(
                            "The Authorization header does not use the required scheme \
                             '{required}'. Access denied."
                        ))
                        .into());
                    }
                }
                rest.to_string()
            }
            TokenSource::Query(name) => {
                let name = eval::string(name, ex)?;
                match ex.lookup(&["Request", "Url", "Query"], &name) {
                    Some(v) => v.to_display(),
                    None => return Ok(None),
                }
            }
            TokenSource::Value(op) => match eval::value(op, ex)? {
                Value::Null => return Ok(None),
                v => v.to_display(),
            },
        };
        let raw = raw.trim().to_string();
        Ok((!raw.is_empty()).then_some(raw))
    }

    async fn check_signature(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
    ) -> Result<(), Refusal> {
        let alg_name = token.header.get("alg").and_then(J::as_str).unwrap_or("");
        let require_signed = flag(self.require_signed_tokens.as_ref(), true, ex)?;
        if alg_name.eq_ignore_ascii_case("none") || alg_name.is_empty() {
            if require_signed {
                return Err(Denial::new(
                    "TokenSignatureInvalid",
                    "Signature validation failed. The token is not signed. Access denied.",
                )
                .into());
            }
            if !token.signature.is_empty() {
                return Err(Denial::invalid(
                    "The token declares no algorithm but carries a signature.",
                )
                .into());
            }
            return Ok(());
        }
        let alg = Algorithm::from_str(alg_name)
            .ok()
            .filter(|a| ALGORITHMS.contains(a))
            .ok_or_else(|| {
                Denial::new(
                    "TokenSignatureInvalid",
                    format!(
                        "Signature validation failed. The algorithm '{}' is not supported. \
                         Access denied.",
                        printable(alg_name)
                    ),
                )
            })?;
        let family = alg.family();
        let kid = token.header.get("kid").and_then(J::as_str);

        let mut candidates: Vec<DecodingKey> = Vec::new();
        for k in self.keys.iter() {
            if k.alg.is_some_and(|a| a != alg) {
                continue;
            }
            if let (Some(kid), Some(id)) = (kid, &k.id)
                && kid != id
            {
                continue;
            }
            match &k.material {
                KeyMaterial::Fixed(f, key) if *f == family => candidates.push(key.clone()),
                KeyMaterial::Fixed(..) => {}
                KeyMaterial::Symmetric(op) if family == AlgorithmFamily::Hmac => {
                    let text = eval::string(op, ex)?;
                    // A key that does not decode cannot verify anything; it is skipped, and the
                    // message never shows it.
                    if let Some(secret) = decode_secret(&text) {
                        candidates.push(DecodingKey::from_secret(&secret));
                    }
                }
                KeyMaterial::Symmetric(_) => {}
            }
        }

        let verify = |keys: &[DecodingKey]| {
            keys.iter().any(|key| {
                jsonwebtoken::crypto::verify(token.signature, token.message.as_bytes(), key, alg)
                    .unwrap_or(false)
            })
        };
        // Inline keys first: a token they verify needs no key download.
        if verify(&candidates) {
            return Ok(());
        }
        let tried_inline = !candidates.is_empty();
        candidates.clear();

        let mut unavailable = Vec::new();
        if !self.openid.is_empty() {
            let client = ex.http_client();
            let mut sets = Vec::new();
            for src in self.openid.iter() {
                match src.keys(&client, None).await {
                    Ok(set) => sets.push(Some(set)),
                    Err(e) => {
                        unavailable.push(e);
                        sets.push(None);
                    }
                }
            }
            // An unknown kid may be a rotated key: reload (at most once per interval per URL).
            if let Some(kid) = kid
                && !sets.iter().flatten().any(|s| s.has_kid(kid))
            {
                for (src, set) in self.openid.iter().zip(sets.iter_mut()) {
                    if set.is_some()
                        && let Ok(fresh) = src.keys(&client, Some(kid)).await
                    {
                        *set = Some(fresh);
                    }
                }
            }
            for set in sets.iter().flatten() {
                for k in &set.keys {
                    if k.family != family || k.alg.is_some_and(|a| a != alg) {
                        continue;
                    }
                    if kid.is_some() && k.kid.as_deref() != kid {
                        continue;
                    }
                    candidates.push(k.key.clone());
                }
            }
        }

        if candidates.is_empty() && !tried_inline {
            if !unavailable.is_empty() {
                return Err(Denial::new(
                    "TokenSignatureKeyNotFound",
                    format!(
                        "Signature validation failed. {} Access denied.",
                        unavailable.join(" ")
                    ),
                )
                .into());
            }
            return Err(match kid {
                Some(kid) => Denial::new(
                    "TokenSignatureKeyNotFound",
                    format!(
                        "Signature validation failed. Unable to match key: kid: '{}'. Access \
                         denied.",
                        printable(kid)
                    ),
                ),
                None => Denial::new(
                    "TokenSignatureInvalid",
                    "Signature validation failed. No security keys were provided to validate \
                     the signature. Access denied.",
                ),
            }
            .into());
        }
        if verify(&candidates) {
            Ok(())
        } else {
            Err(Denial::new(
                "TokenSignatureInvalid",
                "Signature validation failed. Access denied.",
            )
            .into())
        }
    }

    fn check_lifetime(&self, token: &Token<'_>, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let require_exp = flag(self.require_expiration_time.as_ref(), true, ex)?;
        let skew = match &self.clock_skew {
            None => 0,
            Some(op) => skew_value(op, ex)?,
        };
        let now = ex.now().unix_seconds();
        let exp = time_claim(&token.claims, "exp")?;
        let nbf = time_claim(&token.claims, "nbf")?;
        if let (Some(exp), Some(nbf)) = (exp, nbf)
            && nbf > exp
        {
            return Err(Denial::invalid(format!(
                "Lifetime validation failed. The NotBefore: '{}' is after Expires: '{}'.",
                show_time(nbf),
                show_time(exp)
            ))
            .into());
        }
        match exp {
            None if require_exp => {
                return Err(Denial::invalid(
                    "Lifetime validation failed. The token is missing an Expiration Time.",
                )
                .into());
            }
            Some(exp) if exp.saturating_add(skew) < now => {
                return Err(Denial::new(
                    "TokenExpired",
                    format!(
                        "Lifetime validation failed. The token is expired. ValidTo: '{}', \
                         Current time: '{}'. Access denied.",
                        show_time(exp),
                        show_time(now)
                    ),
                )
                .into());
            }
            _ => {}
        }
        if let Some(nbf) = nbf
            && nbf > now.saturating_add(skew)
        {
            return Err(Denial::invalid(format!(
                "Lifetime validation failed. The token is not yet valid. ValidFrom: '{}', \
                 Current time: '{}'.",
                show_time(nbf),
                show_time(now)
            ))
            .into());
        }
        Ok(())
    }

    fn check_audience(&self, token: &Token<'_>, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        let allowed = eval::strings(&self.audiences, ex)?;
        let given = token
            .claims
            .get("aud")
            .map(claim_strings)
            .unwrap_or_default();
        let same = |a: &str, b: &str| a == b || a.trim_end_matches('/') == b.trim_end_matches('/');
        if given
            .iter()
            .any(|g| allowed.iter().any(|a| same(a.trim(), g)))
        {
            return Ok(());
        }
        let shown = if given.is_empty() {
            "empty".to_string()
        } else {
            printable(&given.join(", "))
        };
        Err(Denial::new(
            "TokenAudienceNotAllowed",
            format!(
                "Audience validation failed. Audiences: '{shown}'. Did not match any allowed \
                 audience. Access denied."
            ),
        )
        .into())
    }

    fn check_issuer(&self, token: &Token<'_>, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let mut allowed = eval::strings(&self.issuers, ex)?;
        for src in self.openid.iter() {
            if let Some(issuer) = src.issuer() {
                allowed.push(issuer);
            }
        }
        if allowed.is_empty() {
            return Ok(());
        }
        let given = token.claims.get("iss").and_then(J::as_str);
        if let Some(iss) = given
            && allowed.iter().any(|a| a.trim() == iss)
        {
            return Ok(());
        }
        Err(Denial::new(
            "TokenIssuerNotAllowed",
            format!(
                "Issuer validation failed. Issuer: '{}'. Did not match any allowed issuer. \
                 Access denied.",
                given.map(printable).unwrap_or_else(|| "empty".into())
            ),
        )
        .into())
    }

    fn check_claims(&self, token: &Token<'_>, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let missing: Vec<&str> = self
            .claims
            .iter()
            .filter(|c| !token.claims.contains_key(&c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Denial::new(
                "TokenClaimNotFound",
                format!(
                    "JWT token is missing the following claims: {}. Access denied.",
                    missing.join(", ")
                ),
            )
            .into());
        }
        for c in &self.claims {
            if c.values.is_empty() {
                continue;
            }
            let expected = eval::strings(&c.values, ex)?;
            let raw = token
                .claims
                .get(&c.name)
                .map(claim_strings)
                .unwrap_or_default();
            let present: Vec<&str> = match &c.separator {
                Some(sep) => raw
                    .iter()
                    .flat_map(|v| v.split(sep.as_str()))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect(),
                None => raw.iter().map(String::as_str).collect(),
            };
            let has = |v: &String| present.contains(&v.as_str());
            let ok = match c.matching {
                Match::All => expected.iter().all(has),
                Match::Any => expected.iter().any(has),
            };
            if !ok {
                return Err(Denial::new(
                    "TokenClaimValueNotAllowed",
                    format!(
                        "Claim {} value of {} is not allowed. Access denied.",
                        c.name,
                        printable(&raw.join(","))
                    ),
                )
                .into());
            }
        }
        Ok(())
    }
}

/// A boolean attribute's value, `default` when absent.
fn flag(op: Option<&Operand>, default: bool, ex: &mut dyn Exchange) -> Result<bool, Failure> {
    match op {
        None => Ok(default),
        Some(Operand::Literal(s)) => Ok(s.trim().eq_ignore_ascii_case("true")),
        Some(op) => eval::condition(op, ex),
    }
}

/// clock-skew in seconds: a number, a numeric string or a TimeSpan.
fn skew_value(op: &Operand, ex: &mut dyn Exchange) -> Result<i64, Failure> {
    let v = eval::value(op, ex)?;
    let secs = match &v {
        Value::Int(i) => Some(*i),
        Value::Double(d) if d.is_finite() => Some(d.trunc() as i64),
        Value::TimeSpan(t) => Some(t.0 / 10_000_000),
        other => parse_skew(&other.to_display()).and_then(|s| i64::try_from(s).ok()),
    };
    secs.filter(|s| *s >= 0).ok_or_else(|| {
        Failure::evaluation(format!(
            "'{}' is not a valid clock-skew (seconds).",
            v.to_display()
        ))
    })
}

/// Splits and decodes a compact JWS. Encrypted tokens (five parts) are refused.
fn parse_token(raw: &str) -> Result<Token<'_>, Denial> {
    let malformed = || Denial::invalid("The token is not a well-formed JWT.");
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() == 5 {
        return Err(Denial::invalid(
            "The token is encrypted (JWE); decryption is not supported.",
        ));
    }
    let [header, payload, signature] = parts[..] else {
        return Err(malformed());
    };
    let object = |part: &str| -> Option<serde_json::Map<String, J>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        match serde_json::from_slice::<J>(&bytes).ok()? {
            J::Object(m) => Some(m),
            _ => None,
        }
    };
    let header_map = object(header).ok_or_else(malformed)?;
    let claims = object(payload).ok_or_else(malformed)?;
    let message_len = header.len() + 1 + payload.len();
    Ok(Token {
        header: header_map,
        claims,
        message: &raw[..message_len],
        signature,
    })
}

/// A NumericDate claim in whole seconds; a non-numeric value makes the token invalid.
fn time_claim(claims: &serde_json::Map<String, J>, name: &str) -> Result<Option<i64>, Denial> {
    match claims.get(name) {
        None | Some(J::Null) => Ok(None),
        Some(J::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| Denial::invalid(format!("The '{name}' claim is not a valid time."))),
        Some(_) => Err(Denial::invalid(format!(
            "The '{name}' claim is not a valid time."
        ))),
    }
}

fn show_time(unix: i64) -> String {
    match DateTime::from_unix_seconds(unix) {
        Some(t) => {
            let p = t.parts();
            format!(
                "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
                p.month, p.day, p.year, p.hour, p.minute, p.second
            )
        }
        None => unix.to_string(),
    }
}

/// Text from the token shown in a message: control characters removed, length bounded.
fn printable(s: &str) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// A claim's values as strings, as .NET's JWT handler exposes them.
fn claim_strings(v: &J) -> Vec<String> {
    match v {
        J::Array(items) => items.iter().map(scalar_string).collect(),
        other => vec![scalar_string(other)],
    }
}

fn scalar_string(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Null => String::new(),
        other => other.to_string(),
    }
}

/// The `Jwt` object APIM stores in output-token-variable-name.
fn jwt_value(token: &Token<'_>) -> Value {
    let str_claim = |name: &str| match token.claims.get(name) {
        Some(J::String(s)) => Value::str(s),
        _ => Value::Null,
    };
    let time = |name: &str| {
        time_claim(&token.claims, name)
            .ok()
            .flatten()
            .and_then(DateTime::from_unix_seconds)
            .map_or(Value::Null, Value::DateTime)
    };
    let header_str = |name: &str| match token.header.get(name) {
        Some(J::String(s)) => Value::str(s),
        _ => Value::Null,
    };
    let audiences = token
        .claims
        .get("aud")
        .map(claim_strings)
        .unwrap_or_default()
        .into_iter()
        .map(Value::str)
        .collect();
    let claims: BTreeMap<String, Value> = token
        .claims
        .iter()
        .map(|(k, v)| {
            let values = claim_strings(v).into_iter().map(Value::str).collect();
            (k.clone(), Value::Array(values))
        })
        .collect();
    let mut r = BTreeMap::new();
    r.insert("Algorithm".to_string(), header_str("alg"));
    r.insert("Type".to_string(), header_str("typ"));
    r.insert("Id".to_string(), str_claim("jti"));
    r.insert("Issuer".to_string(), str_claim("iss"));
    r.insert("Subject".to_string(), str_claim("sub"));
    r.insert("Audiences".to_string(), Value::Array(audiences));
    r.insert("ExpirationTime".to_string(), time("exp"));
    r.insert("NotBefore".to_string(), time("nbf"));
    r.insert("IssuedAt".to_string(), time("iat"));
    r.insert(
        "Claims".to_string(),
        Value::Object(Object::Dictionary(Arc::new(claims))),
    );
    Value::Object(Object::Record(Arc::new(r)))
}

// ------------------------------------------------------------------------ OpenID key sets

/// One `<openid-config>`: its URL and the cached key set.
struct OpenIdSource {
    url: String,
    state: Mutex<SourceState>,
    /// Held while downloading, so one request fetches and the others wait or use the old set.
    gate: tokio::sync::Mutex<()>,
}

impl fmt::Debug for OpenIdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdSource")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct SourceState {
    set: Option<Arc<KeySet>>,
    fresh_until: Option<Instant>,
    last_attempt: Option<Instant>,
    /// The last reload for a kid missing from a fresh set.
    last_forced: Option<Instant>,
    last_error: Option<String>,
}

/// The signing keys and issuer an OpenID configuration publishes.
struct KeySet {
    issuer: Option<String>,
    keys: Vec<JwksKey>,
}

struct JwksKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    key: DecodingKey,
}

impl KeySet {
    fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

enum Plan {
    Use(Arc<KeySet>),
    Fail(String),
    Fetch {
        wait: bool,
        forced: bool,
        seen: Option<Instant>,
        stale: Option<Arc<KeySet>>,
    },
}

impl OpenIdSource {
    fn new(url: &str) -> Self {
        OpenIdSource {
            url: url.to_string(),
            state: Mutex::new(SourceState::default()),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SourceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The issuer of the last good configuration.
    fn issuer(&self) -> Option<String> {
        self.lock().set.as_ref().and_then(|s| s.issuer.clone())
    }

    fn plan(&self, kid: Option<&str>) -> Plan {
        let now = Instant::now();
        let st = self.lock();
        let stale = st.fresh_until.is_none_or(|t| now >= t);
        let kid_missing = match (&st.set, kid) {
            (Some(set), Some(kid)) => !set.has_kid(kid),
            _ => false,
        };
        if let Some(set) = &st.set
            && !stale
            && !kid_missing
        {
            return Plan::Use(set.clone());
        }
        let elapsed =
            |t: Option<Instant>| t.is_none_or(|t| now.duration_since(t) >= REFETCH_INTERVAL);
        // A fresh set lacking the kid: reload for a rotated key, at most once per interval. A
        // missing or stale set: reload, at most once per interval after the last attempt.
        let forced = !stale && kid_missing;
        let may_attempt = if forced {
            elapsed(st.last_forced)
        } else {
            elapsed(st.last_attempt)
        };
        if !may_attempt {
            return match &st.set {
                Some(set) => Plan::Use(set.clone()),
                None => Plan::Fail(st.last_error.clone().unwrap_or_else(|| self.unavailable())),
            };
        }
        Plan::Fetch {
            wait: st.set.is_none() || kid_missing,
            forced,
            seen: st.last_attempt,
            stale: st.set.clone(),
        }
    }

    fn unavailable(&self) -> String {
        format!(
            "Signing keys from the OpenID configuration '{}' are not available.",
            self.url
        )
    }

    /// The key set, downloading it when missing, stale, or (with `kid`) lacking that key —
    /// at most once per [`REFETCH_INTERVAL`] for each reason. A failed download keeps
    /// the last good set; without one, the error names the URL.
    async fn keys(
        &self,
        client: &Arc<dyn HttpClient>,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, String> {
        for _ in 0..3 {
            let (wait, forced, seen, stale) = match self.plan(kid) {
                Plan::Use(set) => return Ok(set),
                Plan::Fail(e) => return Err(e),
                Plan::Fetch {
                    wait,
                    forced,
                    seen,
                    stale,
                } => (wait, forced, seen, stale),
            };
            let _guard = if wait {
                self.gate.lock().await
            } else {
                match self.gate.try_lock() {
                    Ok(g) => g,
                    // Someone is refreshing: the stale set serves meanwhile.
                    Err(_) => return stale.ok_or_else(|| self.unavailable()),
                }
            };
            {
                let mut st = self.lock();
                if st.last_attempt != seen {
                    // Another request fetched while this one waited: look again.
                    continue;
                }
                st.last_attempt = Some(Instant::now());
                if forced {
                    st.last_forced = st.last_attempt;
                }
            }
            let result = fetch_key_set(client.as_ref(), &self.url).await;
            let mut st = self.lock();
            match result {
                Ok((set, ttl)) => {
                    let set = Arc::new(set);
                    st.set = Some(set.clone());
                    st.fresh_until = Some(Instant::now() + ttl);
                    st.last_error = None;
                    return Ok(set);
                }
                Err(e) => {
                    st.last_error = Some(e.clone());
                    return st.set.clone().ok_or(e);
                }
            }
        }
        self.lock().set.clone().ok_or_else(|| self.unavailable())
    }
}

async fn fetch_key_set(client: &dyn HttpClient, url: &str) -> Result<(KeySet, Duration), String> {
    let fail = |what: &str| {
        format!("Unable to obtain signing keys from the OpenID configuration '{url}': {what}.")
    };
    let (config, config_age) = get_json(client, url).await.map_err(|e| fail(&e))?;
    let jwks_uri = config
        .get("jwks_uri")
        .and_then(J::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| fail("the configuration has no http(s) jwks_uri"))?;
    let issuer = config
        .get("issuer")
        .and_then(J::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let (jwks, jwks_age) = get_json(client, jwks_uri)
        .await
        .map_err(|e| fail(&format!("JWKS '{jwks_uri}': {e}")))?;
    let entries = jwks
        .get("keys")
        .and_then(J::as_array)
        .ok_or_else(|| fail(&format!("JWKS '{jwks_uri}' has no keys array")))?;
    let keys = entries
        .iter()
        .filter(|k| k.get("use").and_then(J::as_str).is_none_or(|u| u == "sig"))
        .filter_map(|k| {
            let jwk: Jwk = serde_json::from_value(k.clone()).ok()?;
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            let family = key.family();
            if family == AlgorithmFamily::Ed {
                return None;
            }
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| Algorithm::from_str(&a.to_string()).ok());
            Some(JwksKey {
                kid: jwk.common.key_id.clone(),
                alg,
                family,
                key,
            })
        })
        .collect();
    let ttl = jwks_age
        .or(config_age)
        .unwrap_or(DEFAULT_TTL)
        .clamp(MIN_TTL, MAX_TTL);
    Ok((KeySet { issuer, keys }, ttl))
}

/// GETs a JSON document; also returns its `Cache-Control: max-age`.
async fn get_json(client: &dyn HttpClient, url: &str) -> Result<(J, Option<Duration>), String> {
    let mut request = HttpRequest::get(url, FETCH_TIMEOUT);
    request
        .headers
        .push(("Accept".into(), "application/json".into()));
    let response = client.send(request).await.map_err(|e| e.to_string())?;
    if !(200..300).contains(&response.status) {
        return Err(format!("HTTP status {}", response.status));
    }
    if response.body.len() > MAX_DOCUMENT {
        return Err(format!("document larger than {MAX_DOCUMENT} bytes"));
    }
    let json: J = serde_json::from_slice(&response.body)
        .map_err(|_| "the response is not JSON".to_string())?;
    let max_age = response.header("cache-control").and_then(|cc| {
        cc.split(',').find_map(|d| {
            let (k, v) = d.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
                .map(Duration::from_secs)
        })
    });
    Ok((json, max_age))
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;
    use crate::document::{Section, Value as DocValue, parse_policies};
    use crate::http::{FnClient, HttpError, HttpResponse};
    use crate::pipeline::TestExchange;

    /// 2026-01-01T00:00:00Z, the exchange's clock in every test.
    const NOW: i64 = 1_767_225_600;
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const CONFIG_URL: &str = "https://idp.example/.well-known/openid-configuration";
    const JWKS_URL: &str = "https://idp.example/keys";

    fn secret_b64() -> String {
        STANDARD.encode(SECRET)
    }

    fn element(policy: &str) -> PolicyElement {
        let src = format!(
            "<policies><inbound>{policy}</inbound><backend /><outbound /><on-error /></policies>"
        );
        let doc = parse_policies("test.xml", &src, None).expect("test policy parses");
        doc.section(Section::Inbound)[0].clone()
    }

    fn step(policy: &str) -> JwtStep {
        compile(&element(policy)).expect("test policy compiles")
    }

    /// `<validate-jwt header-name="Authorization" require-scheme="Bearer" …>` with the HMAC key.
    fn hs_step(attrs: &str, children: &str) -> JwtStep {
        step(&format!(
            r#"<validate-jwt header-name="Authorization" require-scheme="Bearer" {attrs}>
                 <issuer-signing-keys><key>{}</key></issuer-signing-keys>{children}
               </validate-jwt>"#,
            secret_b64()
        ))
    }

    fn sign(alg: Algorithm, kid: Option<&str>, claims: &J, key: &EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_string);
        encode(&header, claims, key).expect("test token encodes")
    }

    fn hs256(claims: J) -> String {
        sign(
            Algorithm::HS256,
            None,
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
    }

    fn exchange() -> TestExchange {
        let mut ex = TestExchange::new();
        ex.context.now = DateTime::from_unix_seconds(NOW);
        ex
    }

    fn bearer(token: &str) -> TestExchange {
        exchange().with_request_header("Authorization", &format!("Bearer {token}"))
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        futures_util::FutureExt::now_or_never(f).expect("no pending I/O with FnClient")
    }

    fn run(step: &JwtStep, ex: &mut TestExchange) -> Result<(), Failure> {
        block(step.run(ex))
    }

    fn refused(step: &JwtStep, ex: &mut TestExchange) -> Failure {
        match run(step, ex) {
            Ok(()) => panic!("token was accepted"),
            Err(f) => f,
        }
    }

    fn body(f: &Failure) -> J {
        serde_json::from_str(f.body.as_deref().expect("failure has a body")).expect("json body")
    }

    fn valid_claims() -> J {
        json!({ "sub": "alice", "exp": NOW + 600, "iss": "https://issuer.example/", "aud": "api://gatehouse" })
    }

    // ------------------------------------------------------------------------------ HMAC

    #[tokio::test]
    async fn hs256_inline_key_accepts_and_stores_the_jwt() {
        let s = hs_step(r#"output-token-variable-name="jwt""#, "");
        let token = hs256(json!({
            "sub": "alice", "exp": NOW + 600, "iat": NOW - 10, "jti": "id-1",
            "aud": ["a1", "a2"], "roles": ["admin", "ops"]
        }));
        let mut ex = bearer(&token);
        s.run(&mut ex).await.expect("valid token");
        let Some(Value::Object(Object::Record(jwt))) = ex.variable("jwt").cloned() else {
            panic!("jwt variable is a record");
        };
        assert_eq!(jwt.get("Subject"), Some(&Value::str("alice")));
        assert_eq!(jwt.get("Id"), Some(&Value::str("id-1")));
        assert_eq!(jwt.get("Algorithm"), Some(&Value::str("HS256")));
        assert_eq!(
            jwt.get("Audiences"),
            Some(&Value::Array(vec![Value::str("a1"), Value::str("a2")]))
        );
        assert_eq!(
            jwt.get("ExpirationTime"),
            DateTime::from_unix_seconds(NOW + 600)
                .map(Value::DateTime)
                .as_ref()
        );
        let Some(Value::Object(Object::Dictionary(claims))) = jwt.get("Claims") else {
            panic!("Claims is a dictionary");
        };
        assert_eq!(
            claims.get("roles"),
            Some(&Value::Array(vec![Value::str("admin"), Value::str("ops")]))
        );
    }

    #[tokio::test]
    async fn wrong_key_is_token_signature_invalid() {
        let s = hs_step("", "");
        let token = sign(
            Algorithm::HS256,
            None,
            &valid_claims(),
            &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
        );
        let f = refused(&s, &mut bearer(&token));
        assert_eq!(f.reason, "TokenSignatureInvalid");
        assert_eq!(f.status, 401);
        assert_eq!(
            body(&f),
            json!({ "statusCode": 401, "message": "Invalid JWT." })
        );
        assert!(!f.message.contains(&token));
        assert!(!f.message.contains(&secret_b64()));
    }

    #[tokio::test]
    async fn tampered_payload_is_refused() {
        let s = hs_step("", "");
        let token = hs256(valid_claims());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            json!({ "sub": "mallory", "exp": NOW + 600 })
                .to_string()
                .as_bytes(),
        );
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(
            refused(&s, &mut bearer(&tampered)).reason,
            "TokenSignatureInvalid"
        );
    }

    #[tokio::test]
    async fn hs384_and_hs512_verify_with_the_same_key() {
        let s = hs_step("", "");
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let token = sign(
                alg,
                None,
                &valid_claims(),
                &EncodingKey::from_secret(SECRET),
            );
            run(&s, &mut bearer(&token)).expect("HS384/HS512 token");
        }
    }

    #[tokio::test]
    async fn expired_token_is_token_expired() {
        let s = hs_step("", "");
        let token = hs256(json!({ "exp": NOW - 1 }));
        let f = refused(&s, &mut bearer(&token));
        assert_eq!(f.reason, "TokenExpired");
        assert!(f.message.contains("expired"), "{}", f.message);
        assert!(f.message.ends_with("Access denied."), "{}", f.message);
    }

    #[tokio::test]
    async fn clock_skew_tolerates_recently_expired_and_early_tokens() {
        let token = hs256(json!({ "exp": NOW - 30 }));
        run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&token)).expect("within skew");
        let f = refused(&hs_step(r#"clock-skew="10""#, ""), &mut bearer(&token));
        assert_eq!(f.reason, "TokenExpired");

        let early = hs256(json!({ "exp": NOW + 600, "nbf": NOW + 30 }));
        run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&early)).expect("nbf within skew");
        // Expiry exactly at the skew boundary is still accepted.
        let edge = hs256(json!({ "exp": NOW - 60 }));
        run(&hs_step(r#"clock-skew="60""#, ""), &mut bearer(&edge)).expect("boundary");
    }

    #[tokio::test]
    async fn not_yet_valid_token_is_refused() {
        let s = hs_step("", "");
        let token = hs256(json!({ "exp": NOW + 600, "nbf": NOW + 120 }));
        let f = refused(&s, &mut bearer(&token));
        assert_eq!(f.reason, "JwtInvalid");
        assert!(f.message.contains("not yet valid"), "{}", f.message);
    }

    #[tokio::test]
    async fn missing_exp_is_refused_unless_not_required() {
        let token = hs256(json!({ "sub": "alice" }));
        let f = refused(&hs_step("", ""), &mut bearer(&token));
        assert_eq!(f.reason, "JwtInvalid");
        assert!(f.message.contains("Expiration Time"), "{}", f.message);
        run(
            &hs_step(r#"require-expiration-time="false""#, ""),
            &mut bearer(&token),
        )
        .expect("exp not required");
    }

    #[tokio::test]
    async fn audiences_allow_list() {
        let s = hs_step(
            "",
            "<audiences><audience>api://other</audience><audience>api://gatehouse</audience></audiences>",
        );
        run(&s, &mut bearer(&hs256(valid_claims()))).expect("allowed audience");
        let arr = hs256(json!({ "exp": NOW + 60, "aud": ["x", "api://gatehouse"] }));
        run(&s, &mut bearer(&arr)).expect("one of several audiences");
        let f = refused(
            &s,
            &mut bearer(&hs256(json!({ "exp": NOW + 60, "aud": "api://evil" }))),
        );
        assert_eq!(f.reason, "TokenAudienceNotAllowed");
        assert!(f.message.contains("api://evil"), "{}", f.message);
        let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW + 60 }))));
        assert_eq!(f.reason, "TokenAudienceNotAllowed");
    }

    #[tokio::test]
    async fn issuers_allow_list() {
        let s = hs_step(
            "",
            "<issuers><issuer>https://issuer.example/</issuer></issuers>",
        );
        run(&s, &mut bearer(&hs256(valid_claims()))).expect("allowed issuer");
        let f = refused(
            &s,
            &mut bearer(&hs256(
                json!({ "exp": NOW + 60, "iss": "https://evil.example/" }),
            )),
        );
        assert_eq!(f.reason, "TokenIssuerNotAllowed");
        let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW + 60 }))));
        assert_eq!(f.reason, "TokenIssuerNotAllowed");
    }

    #[tokio::test]
    async fn required_claims_all_and_any_with_separator() {
        let s = hs_step(
            "",
            r#"<required-claims>
                 <claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim>
                 <claim name="group" match="any"><value>finance</value><value>logistics</value></claim>
               </required-claims>"#,
        );
        let ok = hs256(
            json!({ "exp": NOW + 60, "scp": "read write admin", "group": ["hr", "logistics"] }),
        );
        run(&s, &mut bearer(&ok)).expect("claims match");

        let partial = hs256(json!({ "exp": NOW + 60, "scp": "read", "group": "finance" }));
        let f = refused(&s, &mut bearer(&partial));
        assert_eq!(f.reason, "TokenClaimValueNotAllowed");
        assert!(
            f.message.starts_with("Claim scp value of read"),
            "{}",
            f.message
        );

        let none = hs256(json!({ "exp": NOW + 60, "scp": "read write", "group": "hr" }));
        assert_eq!(
            refused(&s, &mut bearer(&none)).reason,
            "TokenClaimValueNotAllowed"
        );

        let missing = hs256(json!({ "exp": NOW + 60 }));
        let f = refused(&s, &mut bearer(&missing));
        assert_eq!(f.reason, "TokenClaimNotFound");
        assert_eq!(
            f.message,
            "JWT token is missing the following claims: scp, group. Access denied."
        );
    }

    #[tokio::test]
    async fn missing_token_is_token_not_present_with_configured_response() {
        let f = refused(&hs_step("", ""), &mut exchange());
        assert_eq!(f.reason, "TokenNotPresent");
        assert_eq!(f.message, "JWT not present.");
        assert_eq!(
            body(&f),
            json!({ "statusCode": 401, "message": "JWT not present." })
        );

        let s = hs_step(
            r#"failed-validation-httpcode="403" failed-validation-error-message="Unauthorized. Access token is missing or invalid.""#,
            "",
        );
        let f = refused(
            &s,
            &mut exchange().with_request_header("Authorization", "Bearer "),
        );
        assert_eq!(f.reason, "TokenNotPresent");
        assert_eq!(f.status, 403);
        assert_eq!(
            body(&f),
            json!({ "statusCode": 403, "message": "Unauthorized. Access token is missing or invalid." })
        );
    }

    #[tokio::test]
    async fn scheme_is_required_on_authorization_only() {
        let token = hs256(valid_claims());
        let s = hs_step("", "");
        let mut basic = exchange().with_request_header("Authorization", &format!("Basic {token}"));
        assert_eq!(refused(&s, &mut basic).reason, "JwtInvalid");
        let mut bare = exchange().with_request_header("Authorization", &token);
        assert_eq!(refused(&s, &mut bare).reason, "JwtInvalid");
        let mut lower = exchange().with_request_header("Authorization", &format!("bearer {token}"));
        run(&s, &mut lower).expect("scheme compares case-insensitively");

        // APIM ignores require-scheme on a custom header; a scheme there is still stripped.
        let custom = step(&format!(
            r#"<validate-jwt header-name="X-Token" require-scheme="Bearer">
                 <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
            secret_b64()
        ));
        run(
            &custom,
            &mut exchange().with_request_header("X-Token", &token),
        )
        .expect("bare");
        run(
            &custom,
            &mut exchange().with_request_header("X-Token", &format!("Bearer {token}")),
        )
        .expect("with scheme");
    }

    #[tokio::test]
    async fn query_parameter_source() {
        let s = step(&format!(
            r#"<validate-jwt query-parameter-name="access_token">
                 <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
            secret_b64()
        ));
        let mut ex = exchange();
        ex.query
            .insert("access_token".into(), vec![hs256(valid_claims())]);
        run(&s, &mut ex).expect("token from the query");
        assert_eq!(refused(&s, &mut exchange()).reason, "TokenNotPresent");
    }

    #[tokio::test]
    async fn token_value_expression_source() {
        let s = step(&format!(
            r#"<validate-jwt token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Jwt&quot;, &quot;&quot;))">
                 <issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
            secret_b64()
        ));
        let mut ex = exchange().with_request_header("X-Jwt", &hs256(valid_claims()));
        run(&s, &mut ex).expect("token from the expression");
        assert_eq!(refused(&s, &mut exchange()).reason, "TokenNotPresent");
    }

    #[tokio::test]
    async fn unsigned_tokens_only_when_allowed() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(json!({ "exp": NOW + 60 }).to_string().as_bytes());
        let token = format!("{header}.{payload}.");
        let f = refused(&hs_step("", ""), &mut bearer(&token));
        assert_eq!(f.reason, "TokenSignatureInvalid");
        run(
            &hs_step(r#"require-signed-tokens="false""#, ""),
            &mut bearer(&token),
        )
        .expect("unsigned allowed");
    }

    #[tokio::test]
    async fn malformed_token_is_jwt_invalid() {
        let f = refused(&hs_step("", ""), &mut bearer("not-a-jwt"));
        assert_eq!(f.reason, "JwtInvalid");
        assert!(!f.message.contains("not-a-jwt"));
    }

    // ------------------------------------------------------------------------ RSA and EC

    struct KeyPair {
        encoding: EncodingKey,
        jwk: Jwk,
    }

    fn key_pair(alg: &'static rcgen::SignatureAlgorithm, jwt_alg: Algorithm) -> KeyPair {
        let kp = rcgen::KeyPair::generate_for(alg).expect("test key generates");
        let pem = kp.serialize_pem();
        let encoding = match jwt_alg.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem.as_bytes()),
            _ => EncodingKey::from_ec_pem(pem.as_bytes()),
        }
        .expect("test key loads");
        let jwk = Jwk::from_encoding_key(&encoding, jwt_alg).expect("public jwk");
        KeyPair { encoding, jwk }
    }

    static RSA: LazyLock<KeyPair> =
        LazyLock::new(|| key_pair(&rcgen::PKCS_RSA_SHA256, Algorithm::RS256));
    static RSA2: LazyLock<KeyPair> =
        LazyLock::new(|| key_pair(&rcgen::PKCS_RSA_SHA256, Algorithm::RS256));
    static EC: LazyLock<KeyPair> =
        LazyLock::new(|| key_pair(&rcgen::PKCS_ECDSA_P256_SHA256, Algorithm::ES256));

    fn jwk_json(k: &KeyPair, kid: &str) -> J {
        let mut v = serde_json::to_value(&k.jwk).expect("jwk serializes");
        if let J::Object(m) = &mut v {
            m.insert("kid".into(), J::String(kid.into()));
            m.insert("use".into(), J::String("sig".into()));
        }
        v
    }

    #[tokio::test]
    async fn rs256_with_modulus_and_exponent() {
        let AlgorithmParameters::RSA(rsa) = &RSA.jwk.algorithm else {
            panic!("RSA jwk");
        };
        let s = step(&format!(
            r#"<validate-jwt header-name="Authorization">
                 <issuer-signing-keys><key n="{}" e="{}" /></issuer-signing-keys></validate-jwt>"#,
            rsa.n, rsa.e
        ));
        let token = sign(Algorithm::RS256, None, &valid_claims(), &RSA.encoding);
        run(&s, &mut bearer(&token)).expect("RS256 with n/e");
        let other = sign(Algorithm::RS256, None, &valid_claims(), &RSA2.encoding);
        assert_eq!(
            refused(&s, &mut bearer(&other)).reason,
            "TokenSignatureInvalid"
        );
        // An HMAC token cannot use the RSA key (no algorithm confusion).
        assert_eq!(
            refused(&s, &mut bearer(&hs256(valid_claims()))).reason,
            "TokenSignatureInvalid"
        );
    }

    /// An identity provider whose JWKS can change; counts requests per URL.
    struct Idp {
        jwks: Arc<Mutex<J>>,
        config_hits: Arc<AtomicUsize>,
        jwks_hits: Arc<AtomicUsize>,
        down: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Idp {
        fn new(keys: Vec<J>) -> Self {
            Idp {
                jwks: Arc::new(Mutex::new(json!({ "keys": keys }))),
                config_hits: Arc::new(AtomicUsize::new(0)),
                jwks_hits: Arc::new(AtomicUsize::new(0)),
                down: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            }
        }

        fn client(&self) -> Arc<dyn HttpClient> {
            let (jwks, config_hits, jwks_hits, down) = (
                self.jwks.clone(),
                self.config_hits.clone(),
                self.jwks_hits.clone(),
                self.down.clone(),
            );
            Arc::new(FnClient(move |req: HttpRequest| {
                if down.load(Ordering::SeqCst) {
                    return Err(HttpError::Failed("connection refused".into()));
                }
                let body = match req.url.as_str() {
                    CONFIG_URL => {
                        config_hits.fetch_add(1, Ordering::SeqCst);
                        json!({ "issuer": "https://idp.example/", "jwks_uri": JWKS_URL })
                    }
                    JWKS_URL => {
                        jwks_hits.fetch_add(1, Ordering::SeqCst);
                        jwks.lock().map(|j| j.clone()).unwrap_or(J::Null)
                    }
                    _ => {
                        return Ok(HttpResponse {
                            status: 404,
                            ..Default::default()
                        });
                    }
                };
                Ok(HttpResponse {
                    status: 200,
                    reason: "OK".into(),
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: body.to_string().into_bytes(),
                })
            }))
        }

        fn exchange(&self, token: &str) -> TestExchange {
            let mut ex = bearer(token);
            ex.http = self.client();
            ex
        }
    }

    fn openid_step(children: &str) -> JwtStep {
        step(&format!(
            r#"<validate-jwt header-name="Authorization" require-scheme="Bearer">
                 <openid-config url="{CONFIG_URL}" />{children}</validate-jwt>"#
        ))
    }

    fn idp_claims() -> J {
        json!({ "sub": "alice", "exp": NOW + 600, "iss": "https://idp.example/" })
    }

    #[tokio::test]
    async fn rs256_via_openid_config_is_cached() {
        let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
        let s = openid_step("");
        let token = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
        s.run(&mut idp.exchange(&token))
            .await
            .expect("first request");
        s.run(&mut idp.exchange(&token))
            .await
            .expect("second request");
        // A clone of the step (a recompiled pipeline shares nothing, a clone shares the cache).
        s.clone()
            .run(&mut idp.exchange(&token))
            .await
            .expect("clone");
        assert_eq!(idp.config_hits.load(Ordering::SeqCst), 1);
        assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

        // The configuration's issuer is the allowed issuer when none is configured.
        let foreign = sign(
            Algorithm::RS256,
            Some("k1"),
            &json!({ "exp": NOW + 600, "iss": "https://other.example/" }),
            &RSA.encoding,
        );
        let f = refused(&s, &mut idp.exchange(&foreign));
        assert_eq!(f.reason, "TokenIssuerNotAllowed");
    }

    #[tokio::test]
    async fn unknown_kid_refetches_once_per_interval() {
        let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
        let s = openid_step("");
        let t1 = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
        s.run(&mut idp.exchange(&t1)).await.expect("k1");
        assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

        // Key rotation: k2 appears at the IdP; the first k2 token triggers one reload.
        if let Ok(mut j) = idp.jwks.lock() {
            *j = json!({ "keys": [jwk_json(&RSA, "k1"), jwk_json(&RSA2, "k2")] });
        }
        let t2 = sign(Algorithm::RS256, Some("k2"), &idp_claims(), &RSA2.encoding);
        s.run(&mut idp.exchange(&t2))
            .await
            .expect("k2 after reload");
        assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);

        // Unknown kids do not flood the IdP: one more reload at most, then none.
        let bogus = sign(
            Algorithm::RS256,
            Some("nope"),
            &idp_claims(),
            &RSA2.encoding,
        );
        for _ in 0..5 {
            let f = refused(&s, &mut idp.exchange(&bogus));
            assert_eq!(f.reason, "TokenSignatureKeyNotFound");
            assert!(f.message.contains("'nope'"), "{}", f.message);
        }
        assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);
        s.run(&mut idp.exchange(&t1)).await.expect("k1 still valid");
        assert_eq!(idp.config_hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn es256_via_openid_config() {
        let idp = Idp::new(vec![jwk_json(&RSA, "r1"), jwk_json(&EC, "e1")]);
        let s = openid_step("<audiences><audience>api://gatehouse</audience></audiences>");
        let claims =
            json!({ "exp": NOW + 600, "iss": "https://idp.example/", "aud": "api://gatehouse" });
        let token = sign(Algorithm::ES256, Some("e1"), &claims, &EC.encoding);
        s.run(&mut idp.exchange(&token)).await.expect("ES256 token");
        // Same kid, wrong key type: refused.
        let mismatched = sign(Algorithm::RS256, Some("e1"), &claims, &RSA.encoding);
        assert_eq!(
            refused(&s, &mut idp.exchange(&mismatched)).reason,
            "TokenSignatureKeyNotFound"
        );
        assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn openid_fetch_failure_is_401_naming_the_url() {
        let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
        idp.down.store(true, Ordering::SeqCst);
        let s = openid_step("");
        let token = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
        let f = refused(&s, &mut idp.exchange(&token));
        assert_eq!(f.status, 401);
        assert_eq!(f.reason, "TokenSignatureKeyNotFound");
        assert!(f.message.contains(CONFIG_URL), "{}", f.message);
        assert!(!f.message.contains(&token));
        // The failure is remembered: no retry storm within the interval.
        idp.down.store(false, Ordering::SeqCst);
        assert_eq!(refused(&s, &mut idp.exchange(&token)).status, 401);
        assert_eq!(idp.config_hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn failed_reload_keeps_the_last_good_key_set() {
        let idp = Idp::new(vec![jwk_json(&RSA, "k1")]);
        let s = openid_step("");
        let t1 = sign(Algorithm::RS256, Some("k1"), &idp_claims(), &RSA.encoding);
        s.run(&mut idp.exchange(&t1)).await.expect("k1");
        idp.down.store(true, Ordering::SeqCst);
        let t2 = sign(Algorithm::RS256, Some("k2"), &idp_claims(), &RSA2.encoding);
        assert_eq!(
            refused(&s, &mut idp.exchange(&t2)).reason,
            "TokenSignatureKeyNotFound"
        );
        s.run(&mut idp.exchange(&t1))
            .await
            .expect("old set still serves");
    }

    #[tokio::test]
    async fn inline_key_ids_select_by_kid() {
        let other = b"ffffffffffffffffffffffffffffffff";
        let s = step(&format!(
            r#"<validate-jwt header-name="Authorization">
                 <issuer-signing-keys><key id="a">{}</key><key id="b">{}</key></issuer-signing-keys>
               </validate-jwt>"#,
            STANDARD.encode(other),
            secret_b64()
        ));
        let key = EncodingKey::from_secret(SECRET);
        run(
            &s,
            &mut bearer(&sign(Algorithm::HS256, Some("b"), &valid_claims(), &key)),
        )
        .expect("kid b");
        run(
            &s,
            &mut bearer(&sign(Algorithm::HS256, None, &valid_claims(), &key)),
        )
        .expect("no kid: every key is tried");
        let f = refused(
            &s,
            &mut bearer(&sign(Algorithm::HS256, Some("a"), &valid_claims(), &key)),
        );
        assert_eq!(f.reason, "TokenSignatureInvalid");
    }

    #[tokio::test]
    async fn clock_skew_may_be_an_expression() {
        let s = hs_step(r#"clock-skew="@(30 * 2)""#, "");
        run(&s, &mut bearer(&hs256(json!({ "exp": NOW - 45 })))).expect("within 60 s");
        let f = refused(&s, &mut bearer(&hs256(json!({ "exp": NOW - 90 }))));
        assert_eq!(f.reason, "TokenExpired");
    }

    #[tokio::test]
    async fn key_set_lifetime_follows_max_age_within_bounds() {
        for (header, expected) in [
            (None, DEFAULT_TTL),
            (Some("public, max-age=60"), MIN_TTL),
            (Some("max-age=7200"), Duration::from_secs(7200)),
            (Some("max-age=9999999"), MAX_TTL),
        ] {
            let client = FnClient(move |req: HttpRequest| {
                let body = if req.url == CONFIG_URL {
                    json!({ "issuer": "https://idp.example/", "jwks_uri": JWKS_URL })
                } else {
                    json!({ "keys": [jwk_json(&EC, "e1"), { "kty": "unknown" }] })
                };
                let headers = header
                    .map(|h| vec![("Cache-Control".to_string(), h.to_string())])
                    .unwrap_or_default();
                Ok(HttpResponse {
                    status: 200,
                    reason: "OK".into(),
                    headers,
                    body: body.to_string().into_bytes(),
                })
            });
            let (set, ttl) = fetch_key_set(&client, CONFIG_URL)
                .await
                .expect("key set loads");
            assert_eq!(ttl, expected, "{header:?}");
            assert_eq!(set.issuer.as_deref(), Some("https://idp.example/"));
            assert_eq!(set.keys.len(), 1, "unknown key types are skipped");
            assert!(set.has_kid("e1"));
        }
    }

    #[test]
    fn run_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let s = hs_step("", "");
        let mut ex = exchange();
        let fut = s.run(&mut ex);
        assert_send(&fut);
    }

    // ---------------------------------------------------------------------------- compile

    fn compile_error(e: &PolicyElement) -> CompileError {
        match compile(e) {
            Ok(_) => panic!("compiled"),
            Err(err) => err,
        }
    }

    #[test]
    fn two_token_sources_do_not_compile() {
        let mut e = element(&format!(
            r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{}</key></issuer-signing-keys></validate-jwt>"#,
            secret_b64()
        ));
        e.attributes
            .push(("query-parameter-name".into(), DocValue::literal("t")));
        let err = compile_error(&e);
        assert_eq!(err.kind, CompileErrorKind::Attribute);
        assert!(err.message.contains("exactly one"), "{}", err.message);
    }

    #[test]
    fn certificate_id_is_unsupported_and_named() {
        let e = element(
            r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="my-rsa-cert" /></issuer-signing-keys></validate-jwt>"#,
        );
        let err = compile_error(&e);
        assert_eq!(err.kind, CompileErrorKind::Unsupported);
        assert!(err.message.contains("my-rsa-cert"), "{}", err.message);
    }

    #[test]
    fn decryption_keys_are_unsupported() {
        let e = element(&format!(
            r#"<validate-jwt header-name="Authorization"><decryption-keys><key>{}</key></decryption-keys></validate-jwt>"#,
            secret_b64()
        ));
        assert_eq!(compile_error(&e).kind, CompileErrorKind::Unsupported);
    }

    #[test]
    fn bad_clock_skew_and_keys_do_not_compile() {
        let mut e = element(r#"<validate-jwt header-name="Authorization" />"#);
        e.attributes
            .push(("clock-skew".into(), DocValue::literal("five")));
        let err = compile_error(&e);
        assert_eq!(err.kind, CompileErrorKind::Attribute);
        assert!(err.message.contains("clock-skew"), "{}", err.message);

        let e = element(
            r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key>not base64!</key></issuer-signing-keys></validate-jwt>"#,
        );
        let err = compile_error(&e);
        assert_eq!(err.kind, CompileErrorKind::Attribute);
        assert!(!err.message.contains("not base64!"), "{}", err.message);

        let e = element(
            r#"<validate-jwt header-name="Authorization"><issuer-signing-keys><key n="AQAB" /></issuer-signing-keys></validate-jwt>"#,
        );
        assert_eq!(compile_error(&e).kind, CompileErrorKind::Attribute);
    }
}
