//! validate-azure-ad-token: validate-jwt against Microsoft Entra ID's OpenID configuration for
//! the tenant. The keys and the issuer come from
//! `{authority}/{tenant}/v2.0/.well-known/openid-configuration`, fetched and cached like an
//! `<openid-config>` (crates/policy/src/pipeline/jwt/openid.rs) through the exchange's HTTP
//! client, which in the gateway is the egress guard's. The authority is the policy's
//! `authentication-endpoint`, else the gateway's `gateway.entra_authority` (Microsoft's public
//! cloud by default): a tenant's tokens carry the v2 issuer `{authority}/{tenant}/v2.0` or the
//! v1 issuer `https://sts.windows.net/{tenant}/`, and APIM accepts both.
//!
//! Beyond validate-jwt it requires the client application (`appid` in v1 tokens, `azp` in v2)
//! to be one of `<client-application-ids>`; `<backend-application-ids>` and `<audiences>` are
//! the allowed `aud` values.

use super::*;

/// The v1 token issuer of a tenant (Entra ID's, whatever the authority).
const V1_ISSUER: &str = "https://sts.windows.net";
/// At most this many tenants' key sets are kept per policy (a `tenant-id` expression may
/// name many); the oldest is dropped first.
const MAX_TENANTS: usize = 16;

/// A compiled `<validate-azure-ad-token>`.
#[derive(Debug, Clone)]
pub(crate) struct AadStep {
    /// The token source, response, audiences, claims and output variable, as validate-jwt.
    jwt: JwtStep,
    tenant: Operand,
    endpoint: Option<Operand>,
    client_ids: Vec<Operand>,
    /// The OpenID configurations met so far, by URL (shared by clones of the step).
    sources: Arc<Mutex<Vec<Arc<OpenIdSource>>>>,
}

pub(crate) fn compile_aad(e: &PolicyElement) -> Result<AadStep, CompileError> {
    // APIM's default: the Authorization header.
    let source = token_source(e, Some("Authorization"))?;
    let tenant = attrs::required(e, "tenant-id")?;
    if let Operand::Literal(t) = &tenant
        && tenant_path(t).is_none()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("attribute 'tenant-id' must be a tenant id or domain name, not '{t}'"),
        ));
    }
    let endpoint = attrs::attr(e, "authentication-endpoint")?;
    if let Some(Operand::Literal(a)) = &endpoint
        && authority_url(a).is_none()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!(
                "attribute 'authentication-endpoint' must be a host or an http(s) URL, not '{a}'"
            ),
        ));
    }
    let mut jwt = JwtStep {
        source,
        status: status_attr(e)?,
        error_message: attrs::attr(e, "failed-validation-error-message")?,
        require_expiration_time: None,
        // Entra ID's tokens travel as `Authorization: Bearer …`.
        require_scheme: Some(Operand::Literal("Bearer".into())),
        require_signed_tokens: None,
        clock_skew: None,
        output_variable: output_variable(e)?,
        keys: Arc::new(Vec::new()),
        openid: Arc::new(Vec::new()),
        audiences: Vec::new(),
        issuers: Vec::new(),
        claims: Vec::new(),
    };
    let mut client_ids = None;
    for child in attrs::only_children(
        e,
        &[
            "client-application-ids",
            "backend-application-ids",
            "audiences",
            "required-claims",
            "decryption-keys",
        ],
    )? {
        match child.name.as_str() {
            "client-application-ids" => {
                let ids: &mut Vec<Operand> = client_ids.get_or_insert_with(Vec::new);
                for a in attrs::only_children(child, &["application-id"])? {
                    ids.push(attrs::text(a)?);
                }
            }
            "backend-application-ids" => {
                for a in attrs::only_children(child, &["application-id"])? {
                    jwt.audiences.push(attrs::text(a)?);
                }
            }
            "audiences" => {
                for a in attrs::only_children(child, &["audience"])? {
                    jwt.audiences.push(attrs::text(a)?);
                }
            }
            "decryption-keys" => {
                return Err(error(
                    child,
                    CompileErrorKind::Unsupported,
                    "validate-azure-ad-token with <decryption-keys> (encrypted tokens) is not \
                     supported",
                ));
            }
            _ => {
                for c in attrs::only_children(child, &["claim"])? {
                    jwt.claims.push(compile_claim(c)?);
                }
            }
        }
    }
    let client_ids = match client_ids {
        Some(ids) if !ids.is_empty() => ids,
        _ => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "validate-azure-ad-token requires <client-application-ids> with at least one \
                 <application-id>",
            ));
        }
    };
    Ok(AadStep {
        jwt,
        tenant,
        endpoint,
        client_ids,
        sources: Arc::new(Mutex::new(Vec::new())),
    })
}

/// The tenant as it stands in a URL path: `tenant-id` may be given as a URL
/// (`https://contoso.onmicrosoft.com`); `None` when empty or not a single path segment.
pub(super) fn tenant_path(t: &str) -> Option<&str> {
    let t = t.trim();
    let t = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .unwrap_or(t)
        .trim_end_matches('/');
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    ok.then_some(t)
}

/// The authority as a base URL without a trailing slash; `https://` is added to a bare host
/// (APIM: "prefix https:// is optional"). `None` when it is not a plain http(s) origin/path.
pub(super) fn authority_url(a: &str) -> Option<String> {
    let a = a.trim().trim_end_matches('/');
    let url = if a.starts_with("https://") || a.starts_with("http://") {
        a.to_string()
    } else {
        format!("https://{a}")
    };
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let host = rest.split('/').next().unwrap_or_default();
    let plain = !host.is_empty()
        && !url.contains(['?', '#', '@'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    plain.then_some(url)
}

impl AadStep {
    pub(crate) async fn run(&self, ex: &mut dyn Exchange) -> Result<(), Failure> {
        let result = self.validate(ex).await;
        self.jwt.answer(result, ex)
    }

    async fn validate(&self, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let raw = match self.jwt.token(ex)? {
            Some(t) => t,
            None => return Err(Denial::not_present().into()),
        };
        let token = parse_token(&raw)?;
        let tenant_text = eval::string(&self.tenant, ex)?;
        let tenant = tenant_path(&tenant_text)
            .ok_or_else(|| {
                Failure::evaluation(format!(
                    "'{}' is not a valid tenant-id.",
                    printable(&tenant_text)
                ))
            })?
            .to_string();
        let authority_text = match &self.endpoint {
            Some(op) => eval::string(op, ex)?,
            None => ex.entra_authority(),
        };
        let authority = authority_url(&authority_text).ok_or_else(|| {
            Failure::evaluation(format!(
                "'{}' is not a valid authentication-endpoint.",
                printable(&authority_text)
            ))
        })?;
        let source = self.source(&format!(
            "{authority}/{tenant}/v2.0/.well-known/openid-configuration"
        ));
        let sources = [source.clone()];
        self.jwt.check_signature(&token, ex, &sources).await?;
        self.jwt.check_lifetime(&token, ex)?;
        self.jwt.check_audience(&token, ex)?;
        issuer_allowed(&token, &allowed_issuers(&authority, &tenant, &source))?;
        self.check_client(&token, ex)?;
        self.jwt.check_claims(&token, ex)?;
        self.jwt.store(&token, ex);
        Ok(())
    }

    /// The cached OpenID source for `url`, created on first use.
    fn source(&self, url: &str) -> Arc<OpenIdSource> {
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = sources.iter().find(|s| s.url == url) {
            return s.clone();
        }
        if sources.len() >= MAX_TENANTS {
            sources.remove(0);
        }
        let s = Arc::new(OpenIdSource::new(url));
        sources.push(s.clone());
        s
    }

    /// The token's client application (`appid`, v1; `azp`, v2) must be an allowed one.
    fn check_client(&self, token: &Token<'_>, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let allowed = eval::strings(&self.client_ids, ex)?;
        let given = ["appid", "azp"]
            .iter()
            .find_map(|c| token.claims.get(*c).and_then(J::as_str));
        if let Some(id) = given
            && allowed.iter().any(|a| a.trim().eq_ignore_ascii_case(id))
        {
            return Ok(());
        }
        Err(Denial::new(
            "TokenClaimValueNotAllowed",
            format!(
                "Client application validation failed. Client application id: '{}'. Did not \
                 match any allowed client application. Access denied.",
                given.map(printable).unwrap_or_else(|| "empty".into())
            ),
        )
        .into())
    }
}

/// The issuers a tenant's tokens may carry: its v2 issuer under the authority and its v1
/// issuer, for the tenant as written and for the tenant id the OpenID configuration's issuer
/// names (a tenant given by domain name issues tokens naming its GUID).
pub(super) fn allowed_issuers(authority: &str, tenant: &str, source: &OpenIdSource) -> Vec<String> {
    let mut tenants = vec![tenant.to_string()];
    let mut allowed = Vec::new();
    if let Some(issuer) = source.issuer() {
        let id = issuer
            .trim_end_matches('/')
            .trim_end_matches("/v2.0")
            .rsplit('/')
            .next()
            .filter(|id| !id.is_empty() && !id.contains(['{', '}']))
            .map(str::to_string);
        tenants.extend(id);
        allowed.push(issuer);
    }
    for t in &tenants {
        allowed.push(format!("{authority}/{t}/v2.0"));
        allowed.push(format!("{V1_ISSUER}/{t}/"));
    }
    allowed
}
