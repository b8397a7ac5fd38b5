//! validate-jwt compiled from its attributes and children: where the token is, the inline
//! keys, the OpenID configurations, audiences, issuers and required claims.

use super::*;

pub(crate) fn compile(e: &PolicyElement) -> Result<JwtStep, CompileError> {
    let source = token_source(e, None)?;

    let status = status_attr(e)?;
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
    let output_variable = output_variable(e)?;

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
                openid.push(Arc::new(OpenIdSource::new(url)));
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

/// `failed-validation-httpcode`: an expression, or a literal HTTP status code.
pub(super) fn status_attr(e: &PolicyElement) -> Result<Option<Operand>, CompileError> {
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
    Ok(status)
}

/// `output-token-variable-name`, which must not be empty when given.
pub(super) fn output_variable(e: &PolicyElement) -> Result<Option<String>, CompileError> {
    Ok(match attrs::literal(e, "output-token-variable-name")? {
        Some(n) if n.trim().is_empty() => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "attribute 'output-token-variable-name' must not be empty",
            ));
        }
        other => other.map(str::to_string),
    })
}

/// A boolean attribute that may be an expression; a literal must be true or false.
pub(super) fn bool_attr(e: &PolicyElement, name: &str) -> Result<Option<Operand>, CompileError> {
    let op = attrs::attr(e, name)?;
    if let Some(Operand::Literal(s)) = &op
        && attrs::parse_bool(s.trim()).is_none()
    {
        return Err(attrs::not_bool(e, name, s));
    }
    Ok(op)
}

pub(super) fn parse_skew(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok()
}

pub(super) fn compile_key(k: &PolicyElement) -> Result<InlineKey, CompileError> {
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
pub(super) fn decode_secret(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return None;
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|eng| eng.decode(&s).ok())
        .filter(|k| !k.is_empty())
}

pub(super) fn compile_claim(c: &PolicyElement) -> Result<RequiredClaim, CompileError> {
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

/// Where the token is: exactly one of `header-name`, `query-parameter-name` or `token-value`.
/// With none given, `default_header` is used if the policy has one (validate-azure-ad-token's
/// `Authorization`); validate-jwt has none and requires one.
pub(crate) fn token_source(
    e: &PolicyElement,
    default_header: Option<&str>,
) -> Result<TokenSource, CompileError> {
    let sources = [
        ("header-name", attrs::attr(e, "header-name")?),
        (
            "query-parameter-name",
            attrs::attr(e, "query-parameter-name")?,
        ),
        ("token-value", attrs::attr(e, "token-value")?),
    ];
    let mut given = sources.into_iter().filter_map(|(n, o)| o.map(|o| (n, o)));
    Ok(match (given.next(), given.next(), default_header) {
        (Some(("header-name", op)), None, _) => TokenSource::Header(op),
        (Some(("query-parameter-name", op)), None, _) => TokenSource::Query(op),
        (Some((_, op)), None, _) => TokenSource::Value(op),
        (None, _, Some(h)) => TokenSource::Header(Operand::Literal(h.into())),
        (None, _, None) | (Some(_), Some(_), None) => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "exactly one of 'header-name', 'query-parameter-name' or 'token-value' is required",
            ));
        }
        (Some(_), Some(_), Some(_)) => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                "at most one of 'header-name', 'query-parameter-name' or 'token-value' may be given",
            ));
        }
    })
}
