//! What the gateway exposes to a running pipeline, and a map-backed implementation for tests.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::concurrency::{Concurrency, ConcurrencySlots};
use super::{LastError, Message, Response};
use crate::cache::{Cache, InMemoryCache};
use crate::expr::{Context, DateTime, MapContext, Value};
use crate::http::{HttpClient, NoClient};
use crate::limits::{Counters, InMemoryCounters};

/// The request/response being served, as the pipeline needs it. It extends
/// [`Context`] so expressions read the same state the policies change. Kept to primitive
/// get/replace/remove operations: APIM's semantics (`exists-action`, status presets, LastError)
/// live in the pipeline, so every gateway gets them identically.
pub trait Exchange: Context + Send {
    /// All values of a header (case-insensitive name), `None` when absent.
    fn header(&self, message: Message, name: &str) -> Option<Vec<String>>;
    /// Replaces a header's values.
    fn set_header(&mut self, message: Message, name: &str, values: Vec<String>);
    fn remove_header(&mut self, message: Message, name: &str);
    /// All values of a query parameter of the backend request, `None` when absent.
    fn query_parameter(&self, name: &str) -> Option<Vec<String>>;
    fn set_query_parameter(&mut self, name: &str, values: Vec<String>);
    fn remove_query_parameter(&mut self, name: &str);
    /// The backend request's method.
    fn set_method(&mut self, method: String);
    /// What the policies did that the caller applies afterwards (the setters below record
    /// into it; an implementation only hands out its own record).
    fn effects(&mut self) -> &mut Effects;
    /// The backend path and query from rewrite-uri's filled template; with
    /// `copy_unmatched_params` the original query parameters the template did not mention are
    /// kept (the gateway knows which ones the operation matched).
    fn rewrite_uri(&mut self, path_and_query: String, copy_unmatched_params: bool) {
        self.effects().rewritten_uri = Some((path_and_query, copy_unmatched_params));
    }
    /// The backend set-backend-service chose (a base URL, or a configured backend's id).
    fn set_backend(&mut self, backend: BackendChoice) {
        self.effects().backend = Some(backend);
    }
    /// Sends the request as the policies left it to the backend (`forward-request`) and takes
    /// the response: afterwards `context.Response` is the backend's. Called again (inside
    /// `retry`), it sends the request again.
    fn forward<'a>(&'a mut self, options: &'a ForwardOptions) -> ForwardFuture<'a>;
    /// The caller's address (after trusted-proxy resolution) for ip-filter.
    fn client_ip(&self) -> IpAddr;
    /// The response status and reason phrase.
    fn set_status(&mut self, code: u16, reason: String) {
        self.effects().status = Some((code, reason));
    }
    /// Replaces the body of the request or response.
    fn set_body(&mut self, message: Message, body: String) {
        let e = self.effects();
        match message {
            Message::Request => e.request_body = Some(body),
            Message::Response => e.response_body = Some(body),
        }
    }
    /// Records `context.LastError` for `on-error`; expressions must see it via
    /// `context.LastError.*`.
    fn set_last_error(&mut self, error: &LastError) {
        self.effects().last_error = Some(error.clone());
    }
    /// The counters the limit policies (rate-limit, quota, …) count in. They must outlive the
    /// request (and a config reload) for the limits to mean anything.
    fn counters(&self) -> &dyn Counters;
    /// Sends the requests policies make themselves (send-request, validate-jwt's key fetch).
    /// The gateway's client goes through the egress guard.
    fn http_client(&self) -> Arc<dyn HttpClient>;
    /// Microsoft Entra ID's authority, where validate-azure-ad-token finds a tenant's OpenID
    /// configuration (`{authority}/{tenant}/v2.0/.well-known/openid-configuration`). The
    /// gateway's comes from `gateway.entra_authority`; a policy's `authentication-endpoint`
    /// overrides it.
    fn entra_authority(&self) -> String {
        super::DEFAULT_ENTRA_AUTHORITY.to_string()
    }
    /// The cache of cache-lookup/-store and the -value policies (shared by every request).
    fn cache(&self) -> &dyn Cache;
    /// The external cache (`caching-type="external"`/`"prefer-external"`) when the gateway has
    /// one (Redis); `None` sends every caching policy to [`Exchange::cache`].
    fn external_cache(&self) -> Option<&dyn Cache> {
        None
    }
    /// The slots of limit-concurrency (shared by every request, kept across reloads).
    fn concurrency(&self) -> Arc<dyn Concurrency>;
    /// The response body as bytes, without consuming it, when the exchange holds it whole
    /// (cache-store keeps bytes, never a lossy text copy). The default goes through
    /// [`Context::body`](crate::expr::Context::body).
    fn response_bytes(&mut self) -> Option<Vec<u8>> {
        self.body("Response", true).map(String::into_bytes)
    }
    /// The id of the subscription the request came with: the key of rate-limit and quota.
    fn subscription_id(&self) -> Option<String>;
    /// What the policies of this request may spend (expression budgets, produced bodies).
    fn budgets(&self) -> super::Budgets {
        super::Budgets::default()
    }
    /// Values that must never appear in an error message, a log line or a trace: secret named
    /// values, the subscription key the request came with and the subscription's keys, the
    /// request's credentials headers. Asked only when a message is about to leave the pipeline
    /// (a failure, a trace), so it may build its answer.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
    /// A header to add to the response the client eventually gets, whatever produces it (the
    /// backend, after outbound): the limit policies' remaining/total calls headers.
    fn add_response_header(&mut self, name: &str, value: String) {
        self.effects()
            .added_response_headers
            .push((name.to_string(), value));
    }
}

/// The effects of a pipeline run that the exchange's owner applies after it: one record
/// shared by every [`Exchange`] implementation.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// The last rewrite-uri: (path and query, copy-unmatched-params).
    pub rewritten_uri: Option<(String, bool)>,
    /// The backend of the last set-backend-service.
    pub backend: Option<BackendChoice>,
    /// The response status and reason phrase.
    pub status: Option<(u16, String)>,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    /// `context.LastError`, once a policy failed.
    pub last_error: Option<LastError>,
    /// Headers for the client's response, in order (the limit policies' remaining/total calls).
    pub added_response_headers: Vec<(String, String)>,
    /// A cache-lookup missed: where cache-store saves the response, and the downstream
    /// caching it asked for.
    pub cache_miss: Option<CacheMiss>,
    /// Limit policies with an `increment-condition`: counted once the response is known
    /// ([`Pipeline::count_deferred`](super::Pipeline::count_deferred)).
    pub deferred_counts: Vec<DeferredCount>,
}

/// A request a rate-limit-by-key/quota-by-key admitted without counting it yet, because its
/// `increment-condition` is judged on the response (e.g. `context.Response.StatusCode == 200`).
#[derive(Debug, Clone)]
pub struct DeferredCount {
    pub(crate) step: Arc<super::compile::LimitStep>,
    pub(crate) key: crate::limits::CounterKey,
    pub(crate) calls: u64,
    pub(crate) period: u64,
}

/// What cache-store needs from the cache-lookup that missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheMiss {
    pub key: String,
    pub downstream: crate::cache::DownstreamCaching,
    pub must_revalidate: bool,
    /// Whether the lookup used the external cache: cache-store writes where lookup read.
    pub external: bool,
}

/// Where set-backend-service sends the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// `base-url`: the API's path suffix is appended to it.
    Url(String),
    /// `backend-id`: a backend of the configuration, by id.
    Id(String),
}

/// forward-request's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardOptions {
    /// `timeout` (seconds in APIM): time for the backend's response head; `None` keeps the
    /// backend's own `timeout_ms`.
    pub timeout: Option<Duration>,
    /// `follow-redirects`: follow 3xx answers (GET-safe ones) instead of returning them.
    pub follow_redirects: bool,
    /// `buffer-request-body`: read the request body whole first, so it can be sent again.
    pub buffer_request_body: bool,
    /// `buffer-response`: read the response body whole before outbound (APIM: default true).
    pub buffer_response: bool,
    /// `fail-on-error-status-code`: a 4xx/5xx answer goes to on-error.
    pub fail_on_error_status_code: bool,
}

impl Default for ForwardOptions {
    fn default() -> Self {
        ForwardOptions {
            timeout: None,
            follow_redirects: false,
            buffer_request_body: false,
            buffer_response: true,
            fail_on_error_status_code: false,
        }
    }
}

/// Why forward-request got no usable response: sets `context.LastError` and runs on-error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendFailure {
    /// e.g. `BackendConnectionFailure`, `Timeout`.
    pub reason: String,
    pub message: String,
    /// The status the client gets unless on-error answers otherwise.
    pub status: u16,
}

/// The future of [`Exchange::forward`].
pub type ForwardFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BackendFailure>> + Send + 'a>>;

/// What a [`TestExchange`] sent to its scripted backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    pub method: String,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: Option<String>,
    pub options: ForwardOptions,
}

/// An [`Exchange`] over plain maps, for tests and dry runs. Headers and query parameters are
/// kept by lower-cased name; everything else expressions can read comes from `context`.
#[derive(Clone)]
pub struct TestExchange {
    /// Scalars, dictionaries and variables expressions read (`Request.Url.Path`, …).
    pub context: MapContext,
    pub request_headers: BTreeMap<String, Vec<String>>,
    pub response_headers: BTreeMap<String, Vec<String>>,
    pub query: BTreeMap<String, Vec<String>>,
    pub method: String,
    pub client_ip: IpAddr,
    /// What the policies did.
    pub effects: Effects,
    /// The limit policies' counters; share one `Arc` between exchanges to count across them.
    pub counters: Arc<dyn Counters>,
    /// `context.Subscription.Id` as the limit policies see it.
    pub subscription_id: Option<String>,
    /// What send-request and validate-jwt's key fetch call (by default: nothing reachable).
    pub http: Arc<dyn HttpClient>,
    /// The backend's answers to forward-request, in order (then 200 with no body).
    pub backend: VecDeque<Result<Response, BackendFailure>>,
    /// Every request forward-request sent.
    pub forwarded: Vec<Forwarded>,
    /// The cache policies' store; share one `Arc` between exchanges to cache across them.
    pub cache: Arc<dyn Cache>,
    /// The external cache, if the test gives one.
    pub external_cache: Option<Arc<dyn Cache>>,
    /// limit-concurrency's slots; share one `Arc` between exchanges to limit across them.
    pub concurrency: Arc<dyn Concurrency>,
    /// What the policies may spend.
    pub budgets: super::Budgets,
    /// Values the pipeline must keep out of messages (see [`Exchange::secrets`]).
    pub secrets: Vec<String>,
    /// [`Exchange::entra_authority`]; `None` is the default (Microsoft's public cloud).
    pub entra_authority: Option<String>,
}

impl Default for TestExchange {
    fn default() -> Self {
        TestExchange {
            context: MapContext::new(),
            request_headers: BTreeMap::new(),
            response_headers: BTreeMap::new(),
            query: BTreeMap::new(),
            method: "GET".into(),
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            effects: Effects::default(),
            counters: Arc::new(InMemoryCounters::new()),
            subscription_id: None,
            http: Arc::new(NoClient),
            backend: VecDeque::new(),
            forwarded: Vec::new(),
            cache: Arc::new(InMemoryCache::new(16 * 1024 * 1024)),
            external_cache: None,
            concurrency: Arc::new(ConcurrencySlots::default()),
            budgets: super::Budgets::default(),
            secrets: Vec::new(),
            entra_authority: None,
        }
    }
}

impl TestExchange {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a request header value (builder style for tests).
    pub fn with_request_header(mut self, name: &str, value: &str) -> Self {
        self.request_headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.to_string());
        self
    }

    /// Counts in `counters` (builder style for tests).
    pub fn with_counters(mut self, counters: Arc<dyn Counters>) -> Self {
        self.counters = counters;
        self
    }

    /// Comes with subscription `id`, also visible as `context.Subscription.Id`.
    pub fn with_subscription(mut self, id: &str) -> Self {
        self.subscription_id = Some(id.to_string());
        self.context.set("Subscription.Id", Value::str(id));
        self
    }

    pub fn with_client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = ip;
        self
    }

    /// A variable as set by set-variable.
    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.context.dictionaries.get("Variables")?.get(name)
    }

    /// A request or response header's values joined with `,`, as APIM's dictionary shows them.
    pub fn header_joined(&self, message: Message, name: &str) -> Option<String> {
        self.headers(message)
            .get(&name.to_ascii_lowercase())
            .map(|v| v.join(","))
    }

    fn headers(&self, message: Message) -> &BTreeMap<String, Vec<String>> {
        match message {
            Message::Request => &self.request_headers,
            Message::Response => &self.response_headers,
        }
    }

    fn headers_mut(&mut self, message: Message) -> &mut BTreeMap<String, Vec<String>> {
        match message {
            Message::Request => &mut self.request_headers,
            Message::Response => &mut self.response_headers,
        }
    }

    fn dictionary(&self, path: &[&str]) -> Option<&BTreeMap<String, Vec<String>>> {
        match path {
            ["Request", "Headers"] => Some(&self.request_headers),
            ["Response", "Headers"] => Some(&self.response_headers),
            ["Request", "Url", "Query"] => Some(&self.query),
            _ => None,
        }
    }
}

impl Context for TestExchange {
    fn member(&mut self, path: &[&str]) -> Option<Value> {
        match path {
            ["Request", "Method"] => Some(Value::str(&self.method)),
            ["Request", "IpAddress"] => Some(Value::str(self.client_ip.to_string())),
            ["Response", "StatusCode"] => self
                .effects
                .status
                .as_ref()
                .map(|(c, _)| Value::Int(i64::from(*c))),
            ["Response", "StatusReason"] => {
                self.effects.status.as_ref().map(|(_, r)| Value::str(r))
            }
            ["LastError", member] => self.effects.last_error.as_ref().and_then(|e| {
                e.members()
                    .into_iter()
                    .find(|(n, _)| n == member)
                    .map(|(_, v)| Value::str(v))
            }),
            _ => self.context.member(path),
        }
    }

    fn object_exists(&mut self, path: &[&str]) -> bool {
        match path {
            ["LastError"] => self.effects.last_error.is_some(),
            ["Response"] => {
                self.effects.status.is_some()
                    || !self.response_headers.is_empty()
                    || self.effects.response_body.is_some()
                    || self.context.object_exists(path)
            }
            _ => self.context.object_exists(path),
        }
    }

    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value> {
        match self.dictionary(dictionary) {
            Some(map) => {
                let key = if dictionary.ends_with(&["Headers"]) {
                    key.to_ascii_lowercase()
                } else {
                    key.to_string()
                };
                map.get(&key).map(|v| Value::str(v.join(",")))
            }
            None => self.context.lookup(dictionary, key),
        }
    }

    fn lookup_values(&mut self, dictionary: &[&str], key: &str) -> Option<Vec<String>> {
        match self.dictionary(dictionary) {
            Some(map) if dictionary.ends_with(&["Headers"]) => map
                .get(&key.to_ascii_lowercase())
                .map(|lines| crate::expr::list_values(key, lines)),
            Some(map) => map.get(key).cloned(),
            None => self.context.lookup_values(dictionary, key),
        }
    }

    fn keys(&mut self, dictionary: &[&str]) -> Vec<String> {
        match self.dictionary(dictionary) {
            Some(map) => map.keys().cloned().collect(),
            None => self.context.keys(dictionary),
        }
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        self.context.set_variable(name, value);
    }

    fn body(&mut self, message: &str, preserve_content: bool) -> Option<String> {
        match message {
            "Request" if self.effects.request_body.is_some() => self.effects.request_body.clone(),
            "Response" if self.effects.response_body.is_some() => {
                self.effects.response_body.clone()
            }
            _ => self.context.body(message, preserve_content),
        }
    }

    fn now(&mut self) -> DateTime {
        self.context.now()
    }

    fn trace(&mut self, source: &str, message: &str) {
        self.context.trace(source, message);
    }
}

impl Exchange for TestExchange {
    fn header(&self, message: Message, name: &str) -> Option<Vec<String>> {
        self.headers(message)
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn set_header(&mut self, message: Message, name: &str, values: Vec<String>) {
        self.headers_mut(message)
            .insert(name.to_ascii_lowercase(), values);
    }

    fn remove_header(&mut self, message: Message, name: &str) {
        self.headers_mut(message).remove(&name.to_ascii_lowercase());
    }

    fn query_parameter(&self, name: &str) -> Option<Vec<String>> {
        self.query.get(name).cloned()
    }

    fn set_query_parameter(&mut self, name: &str, values: Vec<String>) {
        self.query.insert(name.to_string(), values);
    }

    fn remove_query_parameter(&mut self, name: &str) {
        self.query.remove(name);
    }

    fn set_method(&mut self, method: String) {
        self.method = method;
    }

    fn effects(&mut self) -> &mut Effects {
        &mut self.effects
    }

    fn client_ip(&self) -> IpAddr {
        self.client_ip
    }

    fn http_client(&self) -> Arc<dyn HttpClient> {
        self.http.clone()
    }

    fn entra_authority(&self) -> String {
        self.entra_authority
            .clone()
            .unwrap_or_else(|| super::DEFAULT_ENTRA_AUTHORITY.to_string())
    }

    fn cache(&self) -> &dyn Cache {
        &*self.cache
    }

    fn external_cache(&self) -> Option<&dyn Cache> {
        self.external_cache.as_deref()
    }

    fn concurrency(&self) -> Arc<dyn Concurrency> {
        self.concurrency.clone()
    }

    fn forward<'a>(&'a mut self, options: &'a ForwardOptions) -> ForwardFuture<'a> {
        self.forwarded.push(Forwarded {
            method: self.method.clone(),
            headers: self.request_headers.clone(),
            body: self.effects.request_body.clone(),
            options: options.clone(),
        });
        let answer = self
            .backend
            .pop_front()
            .unwrap_or_else(|| Ok(Response::ok()));
        Box::pin(async move {
            let r = answer?;
            self.response_headers.clear();
            for (n, v) in r.headers {
                self.response_headers
                    .entry(n.to_ascii_lowercase())
                    .or_default()
                    .push(v);
            }
            self.effects.status = Some((r.status, r.reason));
            self.effects.response_body = r.body;
            Ok(())
        })
    }

    fn counters(&self) -> &dyn Counters {
        &*self.counters
    }

    fn subscription_id(&self) -> Option<String> {
        self.subscription_id.clone()
    }

    fn budgets(&self) -> super::Budgets {
        self.budgets
    }

    fn secrets(&self) -> Vec<String> {
        let mut s = self.secrets.clone();
        // As a gateway would: the subscription's keys and the request's credentials headers.
        for key in ["Key", "PrimaryKey", "SecondaryKey"] {
            if let Some(v) = self.context.members.get(&format!("Subscription.{key}")) {
                s.push(v.to_display());
            }
        }
        for name in CREDENTIAL_HEADERS {
            if let Some(v) = self.request_headers.get(*name) {
                s.extend(v.iter().cloned());
            }
        }
        s
    }
}

/// Request headers that carry credentials: their values are secrets (see
/// [`Exchange::secrets`]). Lower-case.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "ocp-apim-subscription-key",
];

impl std::fmt::Debug for TestExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestExchange")
            .field("context", &self.context)
            .field("request_headers", &self.request_headers)
            .field("response_headers", &self.response_headers)
            .field("query", &self.query)
            .field("method", &self.method)
            .field("client_ip", &self.client_ip)
            .field("effects", &self.effects)
            .field("subscription_id", &self.subscription_id)
            .finish_non_exhaustive()
    }
}
