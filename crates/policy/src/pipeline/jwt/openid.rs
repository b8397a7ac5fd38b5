//! The key sets of `<openid-config>`: the configuration and its JWKS fetched, cached per URL
//! with `Cache-Control: max-age` bounds, refetched at most once per interval.

use super::*;

/// One `<openid-config>`: its URL and the cached key set.
pub(super) struct OpenIdSource {
    pub(super) url: String,
    pub(super) state: Mutex<SourceState>,
    /// Held while downloading, so one request fetches and the others wait or use the old set.
    pub(super) gate: tokio::sync::Mutex<()>,
}

impl fmt::Debug for OpenIdSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdSource")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub(super) struct SourceState {
    pub(super) set: Option<Arc<KeySet>>,
    pub(super) fresh_until: Option<Instant>,
    pub(super) last_attempt: Option<Instant>,
    /// The last reload for a kid missing from a fresh set.
    pub(super) last_forced: Option<Instant>,
    pub(super) last_error: Option<String>,
}

/// The signing keys and issuer an OpenID configuration publishes.
pub(super) struct KeySet {
    pub(super) issuer: Option<String>,
    pub(super) keys: Vec<JwksKey>,
}

pub(super) struct JwksKey {
    pub(super) kid: Option<String>,
    pub(super) alg: Option<Algorithm>,
    pub(super) family: AlgorithmFamily,
    pub(super) key: DecodingKey,
}

impl KeySet {
    pub(super) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

pub(super) enum Plan {
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
    pub(super) fn new(url: &str) -> Self {
        OpenIdSource {
            url: url.to_string(),
            state: Mutex::new(SourceState::default()),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, SourceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The issuer of the last good configuration.
    pub(super) fn issuer(&self) -> Option<String> {
        self.lock().set.as_ref().and_then(|s| s.issuer.clone())
    }

    pub(super) fn plan(&self, kid: Option<&str>) -> Plan {
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

    pub(super) fn unavailable(&self) -> String {
        format!(
            "Signing keys from the OpenID configuration '{}' are not available.",
            self.url
        )
    }

    /// The key set, downloading it when missing, stale, or (with `kid`) lacking that key —
    /// at most once per [`REFETCH_INTERVAL`] for each reason. A failed download keeps
    /// the last good set; without one, the error names the URL.
    pub(super) async fn keys(
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

pub(super) async fn fetch_key_set(
    client: &dyn HttpClient,
    url: &str,
) -> Result<(KeySet, Duration), String> {
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
pub(super) async fn get_json(
    client: &dyn HttpClient,
    url: &str,
) -> Result<(J, Option<Duration>), String> {
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
