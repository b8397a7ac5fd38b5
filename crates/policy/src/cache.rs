//! The store behind APIM's caching policies — `cache-lookup`/`cache-store` (response caching)
//! and `cache-lookup-value`/`cache-store-value`/`cache-remove-value` — and their compile steps.
//!
//! - [`Cache`] is the store the gateway shares across requests; [`InMemoryCache`] bounds it by
//!   total bytes and expires each entry after its own TTL. APIM's `caching-type` picks the store
//!   ([`CachingType::external`]): `external` and `prefer-external` use the external cache (Redis)
//!   when the gateway has one, `internal` — and every type when there is none — this one.
//! - Response caching follows APIM's usage notes: only `GET` requests are looked up and stored
//!   ([`lookup_applies`]); only `200 OK` responses are stored unless `cache-response="true"`
//!   ([`store_applies`]); requests carrying `Authorization` bypass the cache unless
//!   `allow-private-response-caching` is true.
//! - The response key ([`response_key`]) varies only by what the policy lists: the API and
//!   operation, method and path, the `vary-by-query-parameter` and `vary-by-header` values, and
//!   the developer (or their groups) when asked.
//!
//! The compile steps are generic over the operand type `O` the caller builds from an attribute
//! (`pipeline::attrs::operand`), because attribute values such as `key`, `value` and `duration`
//! may be expressions evaluated per request.

use std::time::Duration;

mod memory;

pub use memory::InMemoryCache;

use crate::answer::Answer;
use crate::document::{PolicyElement, Value as AttrValue};
use crate::expr::Value;
use crate::pipeline::attrs::{error, literal, missing, not_bool, parse_bool};
use crate::pipeline::{CompileError, CompileErrorKind};

/// A shared cache of values and responses: [`InMemoryCache`] in the process, or an external one
/// (Redis, crates/store/src/redis/cache.rs) behind the same calls. Implementations must be cheap
/// to call from many requests at once, and never fail a request: an unreachable store is a miss
/// and a write not made.
pub trait Cache: Send + Sync {
    /// The live entry under `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> Answer<'a, Option<CachedEntry>>;
    /// Stores (or replaces) `key` for `ttl`. A zero TTL, or an entry the store cannot hold,
    /// removes the key instead, so a later lookup never sees the value it was meant to replace.
    fn put(&self, key: String, entry: CachedEntry, ttl: Duration) -> Answer<'_, ()>;
    fn remove<'a>(&'a self, key: &'a str) -> Answer<'a, ()>;

    /// The live entry and, when the store knows it, how long it has left to live (for the
    /// `max-age` of a replayed response). The default knows no TTL.
    fn get_with_ttl<'a>(
        &'a self,
        key: &'a str,
    ) -> Answer<'a, Option<(CachedEntry, Option<Duration>)>> {
        match self.get(key).now() {
            Ok(found) => Answer::ready(found.map(|e| (e, None))),
            Err(pending) => Answer::pending(async move { pending.await.map(|e| (e, None)) }),
        }
    }
}

/// What a cache holds: a value of `cache-store-value`, or a response of `cache-store`.
#[derive(Debug, Clone, PartialEq)]
pub enum CachedEntry {
    /// The expression value itself (it is `Send + Sync + Clone`, see the assertion below).
    /// Callers should store plain data: an `Object::Context` is a reference into the live
    /// request and would resolve against whichever request reads it later.
    Value(Value),
    Response(CachedResponse),
}

// `Value` is stored as is, which needs it to cross threads; fail the build, not a request, if
// that ever changes.
const _: fn() = || {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Value>();
};

/// A response as `cache-store` saved it and `cache-lookup` replays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CachedEntry {
    /// Approximate heap bytes, for the byte bound. Exactness does not matter; growing with the
    /// data does, so one huge value cannot hide behind a constant weight.
    pub fn approx_bytes(&self) -> usize {
        match self {
            CachedEntry::Value(v) => value_bytes(v),
            CachedEntry::Response(r) => {
                64 + r.reason.len()
                    + r.body.len()
                    + r.headers
                        .iter()
                        .map(|(n, v)| n.len() + v.len() + 48)
                        .sum::<usize>()
            }
        }
    }
}

fn value_bytes(v: &Value) -> usize {
    // The engine's own estimate (crates/expr/src/budget.rs), which knows every kind of value
    // (dictionaries, builders, XML nodes, exceptions, tuples, crypto objects).
    32 + v.estimated_size()
}

/// The key under which `cache-store-value`/`cache-lookup-value`/`cache-remove-value` keep a
/// user key. Prefixed so a user key can never collide with a [`response_key`].
pub fn value_key(key: &str) -> String {
    format!("value:{key}")
}

// ---------------------------------------------------------------------------------------------
// Compiled policies.

/// APIM's `caching-type`: which cache a policy uses (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CachingType {
    Internal,
    External,
    #[default]
    PreferExternal,
}

impl CachingType {
    /// Whether the policy uses the external cache when the gateway has one. `external` without
    /// an external cache falls back to the internal one rather than failing every request.
    pub fn external(self) -> bool {
        !matches!(self, CachingType::Internal)
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "internal" => CachingType::Internal,
            "external" => CachingType::External,
            "prefer-external" => CachingType::PreferExternal,
            _ => return None,
        })
    }
}

/// `downstream-caching-type`: what the gateway lets clients and proxies cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DownstreamCaching {
    #[default]
    None,
    Private,
    Public,
}

impl DownstreamCaching {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "none" => DownstreamCaching::None,
            "private" => DownstreamCaching::Private,
            "public" => DownstreamCaching::Public,
            _ => return None,
        })
    }
}

/// A compiled `cache-lookup`.
#[derive(Debug, Clone)]
pub struct CacheLookup<O> {
    pub vary_by_developer: bool,
    pub vary_by_developer_groups: bool,
    pub caching_type: CachingType,
    /// `downstream-caching-type`; may be an expression (evaluate, then
    /// [`DownstreamCaching::parse`]). `None`: the default, [`DownstreamCaching::None`]. A
    /// literal has been validated at compile time.
    pub downstream_caching_type: Option<O>,
    /// `must-revalidate` (default true): adds `must-revalidate` to the downstream Cache-Control.
    pub must_revalidate: bool,
    /// `allow-private-response-caching`; may be an expression (a bool). `None`: false.
    pub allow_private_response_caching: Option<O>,
    /// `vary-by-header` names, lower-cased, sorted, deduplicated.
    pub vary_by_headers: Vec<String>,
    /// `vary-by-query-parameter` names, lower-cased, sorted, deduplicated.
    pub vary_by_query_parameters: Vec<String>,
}

/// A compiled `cache-store`.
#[derive(Debug, Clone)]
pub struct CacheStore<O> {
    /// Seconds to keep the response; may be an expression (see [`parse_duration`]).
    pub duration: O,
    /// `cache-response`; may be an expression (a bool). `None`: false (only 200 is stored).
    pub cache_response: Option<O>,
}

/// A compiled `cache-lookup-value`.
#[derive(Debug, Clone)]
pub struct CacheLookupValue<O> {
    pub key: O,
    /// Assigned on a miss; without it APIM assigns null.
    pub default_value: Option<O>,
    pub variable_name: String,
    pub caching_type: CachingType,
}

/// A compiled `cache-store-value`.
#[derive(Debug, Clone)]
pub struct CacheStoreValue<O> {
    pub key: O,
    pub value: O,
    /// Seconds; may be an expression (see [`parse_duration`]).
    pub duration: O,
    pub caching_type: CachingType,
}

/// A compiled `cache-remove-value`.
#[derive(Debug, Clone)]
pub struct CacheRemoveValue<O> {
    pub key: O,
    pub caching_type: CachingType,
}

/// How the caller turns an attribute value into its operand (`pipeline::attrs::operand`).
pub(crate) type MakeOperand<O> = fn(&PolicyElement, &AttrValue) -> Result<O, CompileError>;

fn opt_operand<O>(
    e: &PolicyElement,
    name: &str,
    make: MakeOperand<O>,
) -> Result<Option<O>, CompileError> {
    e.attr(name).map(|v| make(e, v)).transpose()
}

fn req_operand<O>(e: &PolicyElement, name: &str, make: MakeOperand<O>) -> Result<O, CompileError> {
    opt_operand(e, name, make)?.ok_or_else(|| missing(e, name))
}

/// A boolean switch, required when `default` is `None`. The cache policies accept blanks
/// around `true`/`false`, so the value is trimmed before [`parse_bool`].
fn switch(e: &PolicyElement, name: &str, default: Option<bool>) -> Result<bool, CompileError> {
    match (literal(e, name)?, default) {
        (None, Some(d)) => Ok(d),
        (None, None) => Err(missing(e, name)),
        (Some(s), _) => parse_bool(s.trim()).ok_or_else(|| not_bool(e, name, s)),
    }
}

fn caching_type(e: &PolicyElement) -> Result<CachingType, CompileError> {
    match literal(e, "caching-type")? {
        None => Ok(CachingType::default()),
        Some(s) => CachingType::parse(s).ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Attribute,
                format!("caching-type must be internal, external or prefer-external, not '{s}'"),
            )
        }),
    }
}

/// Checks a literal attribute now so a typo fails the config load, not a request.
fn check_literal(
    e: &PolicyElement,
    name: &str,
    valid: impl Fn(&str) -> bool,
    expected: &str,
) -> Result<(), CompileError> {
    match e.attr(name).and_then(AttrValue::as_literal) {
        Some(s) if !valid(s) => Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("attribute '{name}' must be {expected}, not '{s}'"),
        )),
        _ => Ok(()),
    }
}

/// A TTL in whole seconds as APIM reads `duration`: a non-negative integer.
pub fn parse_duration(s: &str) -> Option<Duration> {
    s.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Compiles `cache-lookup`.
pub(crate) fn compile_lookup<O>(
    e: &PolicyElement,
    make: MakeOperand<O>,
) -> Result<CacheLookup<O>, CompileError> {
    check_literal(
        e,
        "downstream-caching-type",
        |s| DownstreamCaching::parse(s).is_some(),
        "none, private or public",
    )?;
    check_literal(
        e,
        "allow-private-response-caching",
        |s| parse_bool(s.trim()).is_some(),
        "true or false",
    )?;
    let mut headers = Vec::new();
    let mut params = Vec::new();
    for c in e.elements() {
        let list = match c.name.as_str() {
            "vary-by-header" => &mut headers,
            "vary-by-query-parameter" => &mut params,
            other => {
                return Err(error(
                    c,
                    CompileErrorKind::Unsupported,
                    format!("<{other}> is not supported inside <cache-lookup>"),
                ));
            }
        };
        let mut name = String::new();
        for t in c.text() {
            name.push_str(t.as_literal().ok_or_else(|| {
                error(
                    c,
                    CompileErrorKind::Unsupported,
                    format!("<{}> must be a literal name, not an expression", c.name),
                )
            })?);
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(error(
                c,
                CompileErrorKind::Attribute,
                format!(
                    "<{}> must name a {}",
                    c.name,
                    if c.name == "vary-by-header" {
                        "header"
                    } else {
                        "query parameter"
                    }
                ),
            ));
        }
        // Header names are case-insensitive; APIM's query dictionary is too.
        list.push(name.to_ascii_lowercase());
    }
    for l in [&mut headers, &mut params] {
        l.sort();
        l.dedup();
    }
    Ok(CacheLookup {
        vary_by_developer: switch(e, "vary-by-developer", None)?,
        vary_by_developer_groups: switch(e, "vary-by-developer-groups", None)?,
        caching_type: caching_type(e)?,
        downstream_caching_type: opt_operand(e, "downstream-caching-type", make)?,
        must_revalidate: switch(e, "must-revalidate", Some(true))?,
        allow_private_response_caching: opt_operand(e, "allow-private-response-caching", make)?,
        vary_by_headers: headers,
        vary_by_query_parameters: params,
    })
}

/// Compiles `cache-store`.
pub(crate) fn compile_store<O>(
    e: &PolicyElement,
    make: MakeOperand<O>,
) -> Result<CacheStore<O>, CompileError> {
    check_literal(
        e,
        "duration",
        |s| parse_duration(s).is_some(),
        "a whole number of seconds",
    )?;
    check_literal(
        e,
        "cache-response",
        |s| parse_bool(s.trim()).is_some(),
        "true or false",
    )?;
    Ok(CacheStore {
        duration: req_operand(e, "duration", make)?,
        cache_response: opt_operand(e, "cache-response", make)?,
    })
}

/// Compiles `cache-lookup-value`.
pub(crate) fn compile_lookup_value<O>(
    e: &PolicyElement,
    make: MakeOperand<O>,
) -> Result<CacheLookupValue<O>, CompileError> {
    let variable_name = literal(e, "variable-name")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(e, "variable-name"))?
        .to_string();
    Ok(CacheLookupValue {
        key: req_operand(e, "key", make)?,
        default_value: opt_operand(e, "default-value", make)?,
        variable_name,
        caching_type: caching_type(e)?,
    })
}

/// Compiles `cache-store-value`.
pub(crate) fn compile_store_value<O>(
    e: &PolicyElement,
    make: MakeOperand<O>,
) -> Result<CacheStoreValue<O>, CompileError> {
    check_literal(
        e,
        "duration",
        |s| parse_duration(s).is_some(),
        "a whole number of seconds",
    )?;
    Ok(CacheStoreValue {
        key: req_operand(e, "key", make)?,
        value: req_operand(e, "value", make)?,
        duration: req_operand(e, "duration", make)?,
        caching_type: caching_type(e)?,
    })
}

/// Compiles `cache-remove-value`.
pub(crate) fn compile_remove_value<O>(
    e: &PolicyElement,
    make: MakeOperand<O>,
) -> Result<CacheRemoveValue<O>, CompileError> {
    Ok(CacheRemoveValue {
        key: req_operand(e, "key", make)?,
        caching_type: caching_type(e)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Response caching at run time (pure).

/// What identifies a request for response caching, besides what the policy varies by.
#[derive(Debug, Clone, Default)]
pub struct ResponseCacheKeyParts<'a> {
    pub api_id: &'a str,
    pub operation_id: &'a str,
    pub method: &'a str,
    /// The request path (template parameters are part of it, so `/users/1` and `/users/2`
    /// never share an entry).
    pub path: &'a str,
    /// The request's query parameters in order; a name may repeat.
    pub query: &'a [(String, String)],
    /// The developer (user) id behind the subscription, if any.
    pub developer: Option<&'a str>,
    /// The developer's group ids, if any.
    pub developer_groups: &'a [String],
}

/// The cache key of a response: only what the policy says to vary by, so requests that differ
/// elsewhere share the entry. Serialized as a JSON array, which makes it unambiguous whatever
/// the names and values contain. When vary-by-developer (or -groups) is set and the request
/// has no developer, the key says so explicitly: anonymous callers share one entry, never a
/// developer's.
pub fn response_key<O>(
    parts: &ResponseCacheKeyParts<'_>,
    headers: &dyn Fn(&str) -> Option<String>,
    lookup: &CacheLookup<O>,
) -> String {
    use serde_json::{Value as J, json};
    let query: Vec<J> = lookup
        .vary_by_query_parameters
        .iter()
        .map(|name| {
            let values: Vec<&str> = parts
                .query
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            json!([name, values])
        })
        .collect();
    let headers: Vec<J> = lookup
        .vary_by_headers
        .iter()
        .map(|name| json!([name, headers(name)]))
        .collect();
    let developer = if lookup.vary_by_developer {
        json!(parts.developer)
    } else {
        J::Null
    };
    let groups = if lookup.vary_by_developer_groups {
        let mut g: Vec<&str> = parts.developer_groups.iter().map(String::as_str).collect();
        g.sort_unstable();
        g.dedup();
        json!(g)
    } else {
        J::Null
    };
    let key = json!([
        parts.api_id,
        parts.operation_id,
        parts.method.to_ascii_uppercase(),
        parts.path,
        query,
        headers,
        developer,
        groups,
    ]);
    format!("response:{key}")
}

/// Whether `cache-lookup` (and later `cache-store`) applies to a request at all: APIM caches
/// only responses to `GET`, and skips requests carrying `Authorization` unless
/// `allow-private-response-caching` is true (they are usually per-caller).
pub fn lookup_applies(method: &str, has_authorization: bool, allow_private: bool) -> bool {
    method.eq_ignore_ascii_case("GET") && (!has_authorization || allow_private)
}

/// Request headers APIM removes on a cache miss before calling the backend, so the backend
/// sends a complete `200` that can be stored rather than a `304` or a response shaped by the
/// client's own cache directives (APIM's trace reports "Cache headers listed below were
/// removed from the request"; it names `Cache-Control` there, the conditional headers follow
/// from the same purpose).
pub const MISS_REMOVED_REQUEST_HEADERS: &[&str] = &[
    "Cache-Control",
    "Pragma",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "If-Range",
];

/// Whether `cache-store` stores a response: `200 OK` only, unless `cache-response` is true.
pub fn store_applies(status: u16, cache_response: bool) -> bool {
    status == 200 || cache_response
}

/// The `Cache-Control` the gateway puts on responses under `cache-lookup`, for the client and
/// proxies: `private`/`public` with the stored entry's `max-age` (and `must-revalidate` when
/// asked); `none` forbids downstream caching with `no-store`, since a response the gateway
/// caches itself should not also be cached downstream when the policy says so.
pub fn downstream_cache_control(
    kind: DownstreamCaching,
    must_revalidate: bool,
    max_age: Duration,
) -> String {
    let scope = match kind {
        DownstreamCaching::None => return "no-store".to_string(),
        DownstreamCaching::Private => "private",
        DownstreamCaching::Public => "public",
    };
    let mut s = format!("{scope}, max-age={}", max_age.as_secs());
    if must_revalidate {
        s.push_str(", must-revalidate");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_policies;

    fn element(xml: &str) -> PolicyElement {
        let doc = format!("<policies><inbound>{xml}</inbound></policies>");
        match parse_policies("t.xml", &doc, None) {
            Ok(mut d) => d.inbound.remove(0),
            Err(e) => panic!("{e:#?}"),
        }
    }

    /// Operands as the raw attribute values, enough to see what was compiled.
    fn raw(_: &PolicyElement, v: &AttrValue) -> Result<AttrValue, CompileError> {
        Ok(v.clone())
    }

    #[test]
    fn lookup_compiles_and_sorts() {
        let l = compile_lookup(
            &element(
                r#"<cache-lookup vary-by-developer="true" vary-by-developer-groups="false" downstream-caching-type="private" caching-type="external">
                <vary-by-query-parameter>version</vary-by-query-parameter>
                <vary-by-header>Accept</vary-by-header>
                <vary-by-query-parameter>A</vary-by-query-parameter>
                </cache-lookup>"#,
            ),
            raw,
        )
        .unwrap();
        assert!(l.vary_by_developer && !l.vary_by_developer_groups && l.must_revalidate);
        assert_eq!(l.caching_type, CachingType::External);
        assert_eq!(l.vary_by_headers, vec!["accept"]);
        assert_eq!(l.vary_by_query_parameters, vec!["a", "version"]);
        assert_eq!(
            l.downstream_caching_type
                .as_ref()
                .and_then(AttrValue::as_literal),
            Some("private")
        );
    }

    /// An element built by hand, for values the document checker would already refuse.
    fn manual(name: &str, attrs: &[(&str, &str)]) -> PolicyElement {
        PolicyElement {
            name: name.into(),
            attributes: attrs
                .iter()
                .map(|(n, v)| (n.to_string(), AttrValue::literal(*v)))
                .collect(),
            children: Vec::new(),
            position: (1, 1),
            path: format!("policies/inbound/{name}"),
        }
    }

    #[test]
    fn lookup_errors() {
        let bad = manual(
            "cache-lookup",
            &[
                ("vary-by-developer", "false"),
                ("vary-by-developer-groups", "false"),
                ("downstream-caching-type", "shared"),
            ],
        );
        let e = compile_lookup(&bad, raw).unwrap_err();
        assert_eq!(e.kind, CompileErrorKind::Attribute);
        let missing = manual("cache-lookup", &[("vary-by-developer", "false")]);
        assert!(compile_lookup(&missing, raw).is_err());
        let expr = element(
            r#"<cache-lookup vary-by-developer="false" vary-by-developer-groups="false" allow-private-response-caching="@(true)"/>"#,
        );
        assert!(compile_lookup(&expr, raw).is_ok());
    }

    #[test]
    fn store_and_values_compile() {
        let s = compile_store(&element(r#"<cache-store duration="60" />"#), raw).unwrap();
        assert_eq!(s.duration.as_literal(), Some("60"));
        assert!(s.cache_response.is_none());
        assert!(compile_store(&manual("cache-store", &[("duration", "soon")]), raw).is_err());
        assert!(compile_store(&manual("cache-store", &[]), raw).is_err());
        assert!(compile_store(&element(r#"<cache-store duration="@(30)" />"#), raw).is_ok());

        let lv = compile_lookup_value(
            &element(r#"<cache-lookup-value key="k" variable-name="v" default-value="d" />"#),
            raw,
        )
        .unwrap();
        assert_eq!(lv.variable_name, "v");
        assert_eq!(lv.caching_type, CachingType::PreferExternal);
        assert!(lv.default_value.is_some());

        let sv = compile_store_value(
            &element(r#"<cache-store-value key="@("k" + 1)" value="x" duration="5" caching-type="internal" />"#),
            raw,
        )
        .unwrap();
        assert!(sv.key.is_expression());
        assert_eq!(sv.caching_type, CachingType::Internal);

        let rv = compile_remove_value(&element(r#"<cache-remove-value key="k" />"#), raw).unwrap();
        assert_eq!(rv.key.as_literal(), Some("k"));
    }

    #[test]
    fn cache_control() {
        let d = Duration::from_secs(30);
        assert_eq!(
            downstream_cache_control(DownstreamCaching::Private, true, d),
            "private, max-age=30, must-revalidate"
        );
        assert_eq!(
            downstream_cache_control(DownstreamCaching::Public, false, d),
            "public, max-age=30"
        );
        assert_eq!(
            downstream_cache_control(DownstreamCaching::None, true, d),
            "no-store"
        );
    }
}
