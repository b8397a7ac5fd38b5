//! validate-jwt at run time: the token found, its signature checked against the inline keys
//! or the OpenID key sets, its lifetime, audiences, issuers and claims, and APIM's answer when
//! it is refused.

use super::*;

/// Why a token was refused: APIM's `LastError.Reason` and `.Message`, and whether the default
/// response message is "JWT not present." rather than "Invalid JWT.".
pub(super) struct Denial {
    pub(super) reason: &'static str,
    pub(super) message: String,
    pub(super) not_present: bool,
}

impl Denial {
    pub(super) fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Denial {
            reason,
            message: message.into(),
            not_present: false,
        }
    }

    pub(super) fn not_present() -> Self {
        Denial {
            reason: "TokenNotPresent",
            message: NOT_PRESENT_MESSAGE.into(),
            not_present: true,
        }
    }

    pub(super) fn invalid(message: impl fmt::Display) -> Self {
        Denial::new("JwtInvalid", format!("{message}"))
    }
}

pub(super) enum Refusal {
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

impl JwtStep {
    /// Validates the request's token; on success sets output-token-variable-name (if any) and
    /// returns Ok.
    pub(crate) async fn run(&self, ex: &mut dyn Exchange) -> Result<(), Failure> {
        let result = self.validate(ex).await;
        self.answer(result, ex)
    }

    /// APIM's answer to a refused token: `failed-validation-httpcode` with
    /// `{"statusCode", "message"}`, the reason and message kept for `context.LastError`.
    pub(super) fn answer(
        &self,
        result: Result<(), Refusal>,
        ex: &mut dyn Exchange,
    ) -> Result<(), Failure> {
        match result {
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

    pub(super) async fn validate(&self, ex: &mut dyn Exchange) -> Result<(), Refusal> {
        let raw = match self.token(ex)? {
            Some(t) => t,
            None => return Err(Denial::not_present().into()),
        };
        let token = parse_token(&raw)?;
        self.check_signature(&token, ex, &self.openid).await?;
        self.check_lifetime(&token, ex)?;
        self.check_audience(&token, ex)?;
        self.check_issuer(&token, ex, &self.openid)?;
        self.check_claims(&token, ex)?;
        self.store(&token, ex);
        Ok(())
    }

    /// Sets output-token-variable-name (if any) to the validated token.
    pub(super) fn store(&self, token: &Token<'_>, ex: &mut dyn Exchange) {
        if let Some(name) = &self.output_variable {
            ex.set_variable(name, jwt_value(token));
        }
    }

    /// The token text, `None` when absent or empty.
    pub(super) fn token(&self, ex: &mut dyn Exchange) -> Result<Option<String>, Refusal> {
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

    pub(super) async fn check_signature(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
        openid: &[Arc<OpenIdSource>],
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
        if !openid.is_empty() {
            let client = ex.http_client();
            let mut sets = Vec::new();
            for src in openid {
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
                for (src, set) in openid.iter().zip(sets.iter_mut()) {
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

    pub(super) fn check_lifetime(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
    ) -> Result<(), Refusal> {
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

    pub(super) fn check_audience(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
    ) -> Result<(), Refusal> {
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

    pub(super) fn check_issuer(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
        openid: &[Arc<OpenIdSource>],
    ) -> Result<(), Refusal> {
        let mut allowed = eval::strings(&self.issuers, ex)?;
        for src in openid {
            if let Some(issuer) = src.issuer() {
                allowed.push(issuer);
            }
        }
        if allowed.is_empty() {
            return Ok(());
        }
        issuer_allowed(token, &allowed)
    }
}

/// Ok when the token's `iss` is one of `allowed`; else APIM's TokenIssuerNotAllowed.
pub(super) fn issuer_allowed(token: &Token<'_>, allowed: &[String]) -> Result<(), Refusal> {
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

impl JwtStep {
    pub(super) fn check_claims(
        &self,
        token: &Token<'_>,
        ex: &mut dyn Exchange,
    ) -> Result<(), Refusal> {
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
pub(super) fn flag(
    op: Option<&Operand>,
    default: bool,
    ex: &mut dyn Exchange,
) -> Result<bool, Failure> {
    match op {
        None => Ok(default),
        Some(Operand::Literal(s)) => Ok(s.trim().eq_ignore_ascii_case("true")),
        Some(op) => eval::condition(op, ex),
    }
}

/// clock-skew in seconds: a number, a numeric string or a TimeSpan.
pub(super) fn skew_value(op: &Operand, ex: &mut dyn Exchange) -> Result<i64, Failure> {
    let v = eval::value(op, ex)?;
    let secs = match &v {
        Value::Int(i) | Value::Long(i) => Some(*i),
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
