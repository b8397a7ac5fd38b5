//! Running cors and the cache policies against an exchange: the decisions live in
//! [`crate::cors`] and [`crate::cache`]; this module feeds them the request and applies the
//! answer.

use super::attrs::Operand;
use super::eval::{Failure, condition, member_text, string, value};
use super::run::Flow;
use super::{CacheMiss, Exchange, Message, Response};
use crate::cache::{
    self, Cache, CacheLookup, CacheLookupValue, CacheRemoveValue, CacheStore, CacheStoreValue,
    CachedEntry, CachedResponse, CachingType, DownstreamCaching, ResponseCacheKeyParts,
};
use crate::cors::{Cors, CorsDecision};
use crate::expr::Value;

fn first_header(ex: &dyn Exchange, name: &str) -> Option<String> {
    ex.header(Message::Request, name)
        .and_then(|v| v.into_iter().next())
}

/// `<cors>`: a matching preflight is answered here; an actual request goes on with the CORS
/// headers for its response.
pub(super) fn cors(c: &Cors, ex: &mut dyn Exchange) -> Flow {
    let method = member_text(ex, &["Request", "Method"]);
    let origin = first_header(ex, "Origin");
    let request_method = first_header(ex, "Access-Control-Request-Method");
    let request_headers = ex
        .header(Message::Request, "Access-Control-Request-Headers")
        .map(|v| v.join(","));
    let empty = |headers: Vec<(String, String)>| {
        let mut r = Response::ok();
        r.headers = headers;
        Flow::Respond(r)
    };
    match c.decide(
        &method,
        origin.as_deref(),
        request_method.as_deref(),
        request_headers.as_deref(),
    ) {
        CorsDecision::Preflight(headers) => empty(headers),
        // An unmatched preflight never reaches the backend: without another cors policy
        // to match it, APIM answers 200 without CORS headers.
        CorsDecision::Terminate | CorsDecision::PassPreflight => empty(Vec::new()),
        CorsDecision::Continue(headers) => {
            for (n, v) in headers {
                ex.add_response_header(&n, v);
            }
            Flow::Continue
        }
    }
}

/// Whether a policy of `caching_type` uses the external cache: when it asks for one (`external`,
/// `prefer-external`) and the gateway has one (crates/policy/src/cache.rs, module docs).
fn uses_external(ex: &dyn Exchange, caching_type: CachingType) -> bool {
    caching_type.external() && ex.external_cache().is_some()
}

/// The cache a policy reads and writes.
fn store_for(ex: &dyn Exchange, external: bool) -> &dyn Cache {
    match ex.external_cache() {
        Some(cache) if external => cache,
        _ => ex.cache(),
    }
}

fn flag(op: Option<&Operand>, ex: &mut dyn Exchange) -> Result<bool, Failure> {
    op.map_or(Ok(false), |o| condition(o, ex))
}

fn seconds(op: &Operand, ex: &mut dyn Exchange) -> Result<std::time::Duration, Failure> {
    let s = string(op, ex)?;
    cache::parse_duration(&s)
        .ok_or_else(|| Failure::evaluation(format!("'{s}' is not a valid duration in seconds.")))
}

/// `<cache-lookup>`: a stored response for this request ends the pipeline; a miss remembers
/// the key for cache-store and strips the client's cache headers so the backend answers whole.
pub(super) async fn lookup(
    l: &CacheLookup<Operand>,
    ex: &mut dyn Exchange,
) -> Result<Flow, Failure> {
    let method = member_text(ex, &["Request", "Method"]);
    let allow_private = flag(l.allow_private_response_caching.as_ref(), ex)?;
    let has_auth = ex.header(Message::Request, "Authorization").is_some();
    if !cache::lookup_applies(&method, has_auth, allow_private) {
        return Ok(Flow::Continue);
    }
    let downstream = match &l.downstream_caching_type {
        None => DownstreamCaching::None,
        Some(op) => {
            let s = string(op, ex)?;
            DownstreamCaching::parse(s.trim()).ok_or_else(|| {
                Failure::evaluation(format!("'{s}' is not a downstream-caching-type."))
            })?
        }
    };
    let api_id = member_text(ex, &["Api", "Id"]);
    let operation_id = member_text(ex, &["Operation", "Id"]);
    let path = member_text(ex, &["Request", "Url", "Path"]);
    let mut query = Vec::new();
    for name in ex.keys(&["Request", "Url", "Query"]) {
        for v in ex.query_parameter(&name).unwrap_or_default() {
            query.push((name.clone(), v));
        }
    }
    let developer = ex.subscription_id();
    let key = {
        let exr: &dyn Exchange = &*ex;
        let headers = |n: &str| exr.header(Message::Request, n).map(|v| v.join(","));
        cache::response_key(
            &ResponseCacheKeyParts {
                api_id: &api_id,
                operation_id: &operation_id,
                method: &method,
                path: &path,
                query: &query,
                developer: developer.as_deref(),
                developer_groups: &[],
            },
            &headers,
            l,
        )
    };
    let external = uses_external(ex, l.caching_type);
    let found = store_for(ex, external).get_with_ttl(&key).await;
    if let Some((CachedEntry::Response(hit), ttl)) = found {
        let mut r = Response::ok();
        r.status = hit.status;
        r.reason = hit.reason;
        r.headers = hit.headers;
        r.body = Some(String::from_utf8_lossy(&hit.body).into_owned());
        if let Some(ttl) = ttl {
            r.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("Cache-Control"));
            r.headers.push((
                "Cache-Control".into(),
                cache::downstream_cache_control(downstream, l.must_revalidate, ttl),
            ));
        }
        return Ok(Flow::Respond(r));
    }
    for h in cache::MISS_REMOVED_REQUEST_HEADERS {
        ex.remove_header(Message::Request, h);
    }
    ex.effects().cache_miss = Some(CacheMiss {
        key,
        downstream,
        must_revalidate: l.must_revalidate,
        external,
    });
    Ok(Flow::Continue)
}

/// `<cache-store>`: saves the response under the key of the cache-lookup that missed.
pub(super) async fn store(s: &CacheStore<Operand>, ex: &mut dyn Exchange) -> Result<Flow, Failure> {
    let Some(miss) = ex.effects().cache_miss.clone() else {
        return Ok(Flow::Continue);
    };
    let status = ex.effects().status.clone().unwrap_or((200, "OK".into()));
    let cache_response = flag(s.cache_response.as_ref(), ex)?;
    if !cache::store_applies(status.0, cache_response) {
        return Ok(Flow::Continue);
    }
    let ttl = seconds(&s.duration, ex)?;
    let mut headers = Vec::new();
    for name in ex.keys(&["Response", "Headers"]) {
        for v in ex.header(Message::Response, &name).unwrap_or_default() {
            headers.push((name.clone(), v));
        }
    }
    let body = ex.response_bytes().unwrap_or_default();
    // A hit is replayed as text (policy responses carry text bodies): a body that is not
    // UTF-8 is not stored rather than stored damaged.
    if std::str::from_utf8(&body).is_err() {
        ex.trace(
            "cache-store",
            "the response body is not UTF-8 text: not cached",
        );
        return Ok(Flow::Continue);
    }
    let entry = CachedEntry::Response(CachedResponse {
        status: status.0,
        reason: status.1,
        headers,
        body,
    });
    store_for(ex, miss.external).put(miss.key, entry, ttl).await;
    let control = cache::downstream_cache_control(miss.downstream, miss.must_revalidate, ttl);
    ex.set_header(Message::Response, "Cache-Control", vec![control]);
    Ok(Flow::Continue)
}

pub(super) async fn lookup_value(
    l: &CacheLookupValue<Operand>,
    ex: &mut dyn Exchange,
) -> Result<Flow, Failure> {
    let key = cache::value_key(&string(&l.key, ex)?);
    let external = uses_external(ex, l.caching_type);
    let found = match store_for(ex, external).get(&key).await {
        // A copy of its own: objects with identity (StringBuilder, readers, sets) in a cached
        // value must not be shared by the requests that read the same entry.
        Some(CachedEntry::Value(v)) => v.detached(),
        _ => match &l.default_value {
            Some(d) => value(d, ex)?,
            None => Value::Null,
        },
    };
    ex.set_variable(&l.variable_name, found);
    Ok(Flow::Continue)
}

pub(super) async fn store_value(
    s: &CacheStoreValue<Operand>,
    ex: &mut dyn Exchange,
) -> Result<Flow, Failure> {
    let key = cache::value_key(&string(&s.key, ex)?);
    // Detached: the request that stored it may go on changing its StringBuilder or reader.
    let v = value(&s.value, ex)?.detached();
    let ttl = seconds(&s.duration, ex)?;
    let external = uses_external(ex, s.caching_type);
    store_for(ex, external)
        .put(key, CachedEntry::Value(v), ttl)
        .await;
    Ok(Flow::Continue)
}

pub(super) async fn remove_value(
    r: &CacheRemoveValue<Operand>,
    ex: &mut dyn Exchange,
) -> Result<Flow, Failure> {
    let key = cache::value_key(&string(&r.key, ex)?);
    let external = uses_external(ex, r.caching_type);
    store_for(ex, external).remove(&key).await;
    Ok(Flow::Continue)
}
