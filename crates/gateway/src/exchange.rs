//! The request being served, as the policy pipeline sees it: [`GatewayExchange`] implements
//! the pipeline's `Exchange` (the edits policies make) and the expressions' `Context` (what
//! `context.…` reads). It holds owned copies of the request head, so the proxy applies the
//! edits to the real request after `inbound` and to the real response after `outbound`.

use crate::backend::{BackendTarget, ClientCache};
use crate::conn::ConnInfo;
use crate::snapshot::Snapshot;
use crate::upstream::Lease;
use bytes::Bytes;
use gatehouse_policy::cache::Cache;
use gatehouse_policy::expr::{Context, DateTime, MapContext, TimeSpan, Value};
use gatehouse_policy::http::HttpClient;
use gatehouse_policy::limits::Counters;
use gatehouse_policy::pipeline::{
    Budgets, CREDENTIAL_HEADERS, Concurrency, Effects, Exchange, ForwardFuture, ForwardOptions,
    Message, scrub,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use hyper::body::Incoming;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Characters a query name or value keeps unencoded (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What forwarding needs beyond the exchange's own state.
pub struct ForwardRoute {
    pub snapshot: Arc<Snapshot>,
    pub api_index: usize,
    /// The path after the API's prefix, as routed.
    pub rest: String,
    /// The original query string, forwarded as is unless a policy changed the query.
    pub raw_query: Option<String>,
    pub conn: Arc<ConnInfo>,
    pub target: Arc<BackendTarget>,
    pub clients: Arc<ClientCache>,
}

/// What the proxy knows about the request when the pipeline starts.
pub struct RequestInfo<'a> {
    pub method: &'a str,
    pub scheme: &'a str,
    pub host: String,
    pub port: u16,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The request's headers, moved in: the request's head is not used after the exchange is
    /// built (its body is), so the exchange's copy is the only one.
    pub headers: HeaderMap,
    pub client_ip: IpAddr,
    /// `client_ip` as text (crates/gateway/src/conn.rs: `ConnInfo::ip_text`).
    pub client_ip_text: Arc<str>,
    /// (template parameter name, value).
    pub matched: Vec<(&'a str, &'a str)>,
    pub facts: Facts,
    /// The limit policies' counters (shared by every request, kept across reloads).
    pub counters: Arc<dyn Counters>,
    /// The client policies' own requests go through.
    pub http: Arc<dyn HttpClient>,
    /// The cache policies' store.
    pub cache: Arc<dyn Cache>,
    /// The external cache (Redis), if the gateway has one.
    pub external_cache: Option<Arc<dyn Cache>>,
    /// limit-concurrency's slots.
    pub concurrency: Arc<dyn Concurrency>,
}

/// What `context` says about the request's API, operation, subscription, product, private
/// endpoint and deployment. Cheap to build (reference counts and indices into the snapshot):
/// a member becomes a value only when an expression reads it.
pub struct Facts {
    pub snapshot: Arc<crate::snapshot::Snapshot>,
    pub api: usize,
    pub operation: usize,
    pub product: Option<usize>,
    pub api_id: Arc<str>,
    pub operation_id: Arc<str>,
    /// (id, name).
    pub subscription: Option<(Arc<str>, Arc<str>)>,
    /// The private endpoint the connection came through.
    pub private_endpoint: Option<Arc<str>>,
    /// The subscription's owner (index in the snapshot's users).
    pub user: Option<usize>,
    /// The subscription key the request came with, and the subscription's own keys.
    pub key: Option<Arc<str>>,
    pub subscription_keys: Option<(Arc<str>, Option<Arc<str>>)>,
    /// When the gateway took the request (`context.Timestamp`, `context.Elapsed`).
    pub started: std::time::Instant,
    pub started_at: DateTime,
}

impl Facts {
    // Members held as `Arc<str>` become values by a reference count, not a copy: an expression
    // such as `counter-key="@(context.Subscription.Id)"` runs on every request.
    fn member(&self, path: &[&str]) -> Option<Option<Value>> {
        let snap = &self.snapshot;
        let api = snap.apis.get(self.api);
        let op = api.and_then(|a| a.operations.get(self.operation));
        let product = self.product.and_then(|p| snap.products.get(p));
        Some(match path {
            ["Deployment", "ServiceName"] => Some(Value::str(&*snap.service_name)),
            ["Deployment", "Region"] => Some(Value::str(&*snap.region)),
            ["Api", "Id"] => Some(Value::String(self.api_id.clone())),
            ["Api", "Name"] => api.map(|a| Value::str(&*a.name)),
            ["Api", "Path"] => api.map(|a| Value::str(&*a.path)),
            ["Operation", "Id"] => Some(Value::String(self.operation_id.clone())),
            ["Operation", "Name"] => op.map(|o| Value::str(&*o.0)),
            ["Operation", "Method"] => op.map(|o| Value::str(&*o.1)),
            ["Operation", "UrlTemplate"] => op.map(|o| Value::str(&*o.2)),
            ["Subscription", "Id"] => self
                .subscription
                .as_ref()
                .map(|s| Value::String(s.0.clone())),
            ["Subscription", "Name"] => self
                .subscription
                .as_ref()
                .map(|s| Value::String(s.1.clone())),
            ["Subscription", "Key"] => self
                .subscription
                .as_ref()
                .and(self.key.as_ref())
                .map(|k| Value::String(k.clone())),
            ["Subscription", "PrimaryKey"] => self
                .subscription_keys
                .as_ref()
                .map(|k| Value::String(k.0.clone())),
            ["Subscription", "SecondaryKey"] => self
                .subscription_keys
                .as_ref()
                .and_then(|k| k.1.as_ref())
                .map(|k| Value::String(k.clone())),
            ["User", field] => {
                let u = self.user.and_then(|i| snap.users.get(i))?;
                let i = ["Id", "Email", "FirstName", "LastName"]
                    .iter()
                    .position(|f| f == field)?;
                Some(Value::str(&*u[i]))
            }
            ["Timestamp"] => Some(Value::DateTime(self.started_at)),
            ["Elapsed"] => Some(Value::TimeSpan(TimeSpan(
                i64::try_from(self.started.elapsed().as_nanos() / 100).unwrap_or(i64::MAX),
            ))),
            ["Deployment", "GatewayId"] => Some(Value::str("managed")),
            ["Api", "ServiceUrl", part] => {
                let t = snap.targets.get(self.api)?;
                match *part {
                    "Scheme" => Some(Value::str(t.scheme.as_str())),
                    "Host" => Some(Value::str(t.authority.host())),
                    "Port" => Some(Value::Int(i64::from(t.authority.port_u16().unwrap_or(
                        if t.scheme.as_str() == "https" {
                            443
                        } else {
                            80
                        },
                    )))),
                    "Path" => Some(Value::str(if t.base_path.is_empty() {
                        "/"
                    } else {
                        &t.base_path
                    })),
                    "QueryString" => Some(Value::str("")),
                    _ => return None,
                }
            }
            ["Product", "Id"] => product.map(|p| Value::str(&*p.0)),
            ["Product", "Name"] => product.map(|p| Value::str(&*p.1)),
            ["Request", "PrivateEndpointConnection", "Name"] => self
                .private_endpoint
                .as_ref()
                .map(|n| Value::String(n.clone())),
            [
                "Request",
                "PrivateEndpointConnection",
                "GroupId" | "MemberName",
            ] => self
                .private_endpoint
                .as_ref()
                .map(|_| Value::str("Gateway")),
            _ => return None,
        })
    }

    fn object_exists(&self, path: &[&str]) -> Option<bool> {
        Some(match path {
            ["Subscription"] => self.subscription.is_some(),
            ["Product"] => self.product.is_some(),
            ["User"] => self.user.is_some(),
            ["Request", "PrivateEndpointConnection"] => self.private_endpoint.is_some(),
            _ => return None,
        })
    }
}

/// The request/response as the pipeline edits it.
pub struct GatewayExchange {
    /// Members and dictionaries that do not change: MatchedParameters and Variables (Api,
    /// Operation, Subscription, Deployment and PrivateEndpointConnection are in `facts`).
    ctx: MapContext,
    /// `context.RequestId`: a field rather than an entry of `ctx`, whose string-keyed map
    /// would cost a key and a node on every request.
    request_id: u128,
    pub method: String,
    scheme: String,
    host: String,
    port: u16,
    path: String,
    original_query: Vec<(String, String)>,
    /// The backend request's query, decoded, in order.
    pub query: Vec<(String, String)>,
    pub query_changed: bool,
    pub request_headers: HeaderMap,
    pub headers_changed: bool,
    client_ip: IpAddr,
    client_ip_text: Arc<str>,
    pub response_headers: HeaderMap,
    /// What the policies did, applied by the proxy afterwards.
    pub effects: Effects,
    /// Edits that could not be applied (an invalid header name or value): the proxy refuses
    /// to go on rather than silently drop them.
    pub problems: Vec<String>,
    counters: Arc<dyn Counters>,
    facts: Facts,
    http: Arc<dyn HttpClient>,
    cache: Arc<dyn Cache>,
    external_cache: Option<Arc<dyn Cache>>,
    concurrency: Arc<dyn Concurrency>,
    /// Where forward-request sends the request (set by the proxy before the pipeline runs).
    pub route: Option<ForwardRoute>,
    /// The client's body read whole (when the policies need it)…
    pub request_body: Option<Bytes>,
    /// …consumed by a read without `preserveContent: true`, as in APIM.
    pub request_body_consumed: bool,
    /// …or still streaming: the first forward takes it.
    pub request_stream: Option<crate::client_body::ClientBody>,
    /// Read the backend's response body whole before outbound.
    pub buffer_response: bool,
    /// The backend's body read whole…
    pub response_body: Option<Bytes>,
    pub response_body_consumed: bool,
    /// …or still streaming, with its connection's lease.
    pub response_stream: Option<(Incoming, Lease)>,
    /// For the access log: the backend called last and how long it took.
    pub backend_id: Option<Arc<str>>,
    pub backend_time: Option<std::time::Duration>,
}

/// Decoded (name, value) pairs of a query string (no `?`).
pub fn parse_query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (decode(n), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The query string (no `?`) of decoded pairs, or `None` when empty.
pub fn encode_query(pairs: &[(String, String)]) -> Option<String> {
    if pairs.is_empty() {
        return None;
    }
    Some(
        pairs
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(n, QUERY),
                    utf8_percent_encode(v, QUERY)
                )
            })
            .collect::<Vec<_>>()
            .join("&"),
    )
}

fn query_values(pairs: &[(String, String)], name: &str) -> Option<Vec<String>> {
    let v: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .collect();
    (!v.is_empty()).then_some(v)
}

fn query_keys(pairs: &[(String, String)]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (n, _) in pairs {
        if !keys.contains(n) {
            keys.push(n.clone());
        }
    }
    keys
}

fn header_values(map: &HeaderMap, name: &str) -> Option<Vec<String>> {
    let v: Vec<String> = map
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!v.is_empty()).then_some(v)
}

fn header_keys(map: &HeaderMap) -> Vec<String> {
    map.keys().map(|k| k.as_str().to_string()).collect()
}

/// A unique-enough request id: the time the gateway took the request (`context.Timestamp`,
/// read once for both) and a counter mixed into a GUID.
fn request_id(at: DateTime) -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = (at.0 as u64) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (u128::from(mixed) << 64) | u128::from(n ^ u64::from(std::process::id()))
}

impl GatewayExchange {
    pub fn new(info: RequestInfo<'_>) -> Self {
        let mut ctx = MapContext::new();
        for (name, value) in info.matched {
            let value = percent_decode_str(value).decode_utf8_lossy();
            ctx.entry("Request.MatchedParameters", name, Value::str(value));
        }
        let query = parse_query_pairs(info.query);
        GatewayExchange {
            ctx,
            request_id: request_id(info.facts.started_at),
            method: info.method.to_string(),
            scheme: info.scheme.to_string(),
            host: info.host,
            port: info.port,
            path: info.path.to_string(),
            original_query: query.clone(),
            query,
            query_changed: false,
            request_headers: info.headers,
            headers_changed: false,
            client_ip: info.client_ip,
            client_ip_text: info.client_ip_text,
            effects: Effects::default(),
            response_headers: HeaderMap::new(),
            problems: Vec::new(),
            facts: info.facts,
            counters: info.counters,
            http: info.http,
            cache: info.cache,
            external_cache: info.external_cache,
            concurrency: info.concurrency,
            route: None,
            request_body: None,
            request_body_consumed: false,
            request_stream: None,
            buffer_response: false,
            response_body: None,
            response_body_consumed: false,
            response_stream: None,
            backend_id: None,
            backend_time: None,
        }
    }

    /// Hands the backend's response head to the exchange before `outbound`.
    pub fn set_backend_response(&mut self, status: u16, reason: &str, headers: HeaderMap) {
        self.effects.status = Some((status, reason.to_string()));
        self.response_headers = headers;
    }

    fn url_member(&self, original: bool, member: &str) -> Option<Value> {
        Some(match member {
            "Scheme" => Value::str(&self.scheme),
            "Host" => Value::str(&self.host),
            "Port" => Value::Int(i64::from(self.port)),
            "Path" => Value::str(&self.path),
            "QueryString" => {
                let q = if original {
                    &self.original_query
                } else {
                    &self.query
                };
                Value::str(encode_query(q).map_or(String::new(), |q| format!("?{q}")))
            }
            _ => return None,
        })
    }

    fn headers_mut(&mut self, message: Message) -> &mut HeaderMap {
        match message {
            Message::Request => {
                self.headers_changed = true;
                &mut self.request_headers
            }
            Message::Response => &mut self.response_headers,
        }
    }
}

impl Context for GatewayExchange {
    fn member(&mut self, path: &[&str]) -> Option<Value> {
        match path {
            ["RequestId"] => Some(Value::Guid(self.request_id)),
            ["Request", "Method"] => Some(Value::str(&self.method)),
            ["Request", "IpAddress"] => Some(Value::String(self.client_ip_text.clone())),
            ["Request", "Url", m] => self.url_member(false, m),
            ["Request", "OriginalUrl", m] => self.url_member(true, m),
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
            _ => match self.facts.member(path) {
                Some(v) => v,
                None => self.ctx.member(path),
            },
        }
    }

    fn object_exists(&mut self, path: &[&str]) -> bool {
        if let Some(exists) = self.facts.object_exists(path) {
            return exists;
        }
        match path {
            ["LastError"] => self.effects.last_error.is_some(),
            ["Response"] => {
                self.effects.status.is_some()
                    || !self.response_headers.is_empty()
                    || self.effects.response_body.is_some()
            }
            _ => self.ctx.object_exists(path),
        }
    }

    fn lookup(&mut self, dictionary: &[&str], key: &str) -> Option<Value> {
        let values = match dictionary {
            ["Request", "Headers"] => header_values(&self.request_headers, key),
            ["Response", "Headers"] => header_values(&self.response_headers, key),
            ["Request", "Url", "Query"] => query_values(&self.query, key),
            ["Request", "OriginalUrl", "Query"] => query_values(&self.original_query, key),
            _ => return self.ctx.lookup(dictionary, key),
        };
        values.map(|v| Value::str(v.join(",")))
    }

    fn lookup_values(&mut self, dictionary: &[&str], key: &str) -> Option<Vec<String>> {
        match dictionary {
            ["Request", "Headers"] => header_values(&self.request_headers, key)
                .map(|lines| gatehouse_policy::expr::list_values(key, &lines)),
            ["Response", "Headers"] => header_values(&self.response_headers, key)
                .map(|lines| gatehouse_policy::expr::list_values(key, &lines)),
            ["Request", "Url", "Query"] => query_values(&self.query, key),
            ["Request", "OriginalUrl", "Query"] => query_values(&self.original_query, key),
            _ => self.ctx.lookup_values(dictionary, key),
        }
    }

    fn keys(&mut self, dictionary: &[&str]) -> Vec<String> {
        match dictionary {
            ["Request", "Headers"] => header_keys(&self.request_headers),
            ["Response", "Headers"] => header_keys(&self.response_headers),
            ["Request", "Url", "Query"] => query_keys(&self.query),
            ["Request", "OriginalUrl", "Query"] => query_keys(&self.original_query),
            _ => self.ctx.keys(dictionary),
        }
    }

    fn set_variable(&mut self, name: &str, value: Value) {
        self.ctx.set_variable(name, value);
    }

    fn body(&mut self, message: &str, preserve_content: bool) -> Option<String> {
        // A body a policy set wins; else the original, read whole before the section ran
        // (the pipeline's body needs say when). As in APIM, reading without
        // `preserveContent: true` consumes it: later reads and the forwarded message get none.
        let (set, original, consumed) = match message {
            "Request" => (
                &self.effects.request_body,
                &self.request_body,
                &mut self.request_body_consumed,
            ),
            "Response" => (
                &self.effects.response_body,
                &self.response_body,
                &mut self.response_body_consumed,
            ),
            _ => return None,
        };
        if let Some(b) = set {
            return Some(b.clone());
        }
        let original = original.as_ref()?;
        if *consumed {
            return Some(String::new());
        }
        if !preserve_content {
            *consumed = true;
        }
        Some(String::from_utf8_lossy(original).into_owned())
    }

    fn now(&mut self) -> DateTime {
        DateTime::now_utc()
    }

    fn trace(&mut self, source: &str, message: &str) {
        // `context.Trace(…)` from an expression: its text is the policy's, secrets included.
        let message = scrub(message.to_string(), &self.secrets());
        let message = crate::error::clip_for_log(&message);
        tracing::debug!(target: "gatehouse::policy", source, message, "trace");
    }
}

impl Exchange for GatewayExchange {
    fn http_client(&self) -> Arc<dyn HttpClient> {
        self.http.clone()
    }

    fn entra_authority(&self) -> String {
        match &self.facts.snapshot.entra_authority {
            Some(a) => a.to_string(),
            None => gatehouse_policy::pipeline::DEFAULT_ENTRA_AUTHORITY.to_string(),
        }
    }

    fn forward<'a>(&'a mut self, options: &'a ForwardOptions) -> ForwardFuture<'a> {
        Box::pin(self.forward_now(options))
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

    fn response_bytes(&mut self) -> Option<Vec<u8>> {
        if let Some(b) = &self.effects.response_body {
            return Some(b.clone().into_bytes());
        }
        match &self.response_body {
            Some(_) if self.response_body_consumed => Some(Vec::new()),
            Some(b) => Some(b.to_vec()),
            None => None,
        }
    }

    fn header(&self, message: Message, name: &str) -> Option<Vec<String>> {
        match message {
            Message::Request => header_values(&self.request_headers, name),
            Message::Response => header_values(&self.response_headers, name),
        }
    }

    fn set_header(&mut self, message: Message, name: &str, values: Vec<String>) {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.problems.push(format!("invalid header name {name:?}"));
            return;
        };
        let mut parsed = Vec::with_capacity(values.len());
        for v in &values {
            match HeaderValue::from_str(v) {
                Ok(v) => parsed.push(v),
                Err(_) => {
                    self.problems
                        .push(format!("invalid value for header {name:?}"));
                    return;
                }
            }
        }
        let map = self.headers_mut(message);
        map.remove(&header);
        for v in parsed {
            map.append(header.clone(), v);
        }
    }

    fn remove_header(&mut self, message: Message, name: &str) {
        self.headers_mut(message).remove(name);
    }

    fn query_parameter(&self, name: &str) -> Option<Vec<String>> {
        query_values(&self.query, name)
    }

    fn set_query_parameter(&mut self, name: &str, values: Vec<String>) {
        self.query_changed = true;
        match self.query.iter().position(|(n, _)| n == name) {
            Some(at) => {
                self.query.retain(|(n, _)| n != name);
                for (k, v) in values.into_iter().enumerate() {
                    self.query.insert(at + k, (name.to_string(), v));
                }
            }
            None => self
                .query
                .extend(values.into_iter().map(|v| (name.to_string(), v))),
        }
    }

    fn remove_query_parameter(&mut self, name: &str) {
        self.query_changed = true;
        self.query.retain(|(n, _)| n != name);
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

    fn counters(&self) -> &dyn Counters {
        &*self.counters
    }

    fn subscription_id(&self) -> Option<String> {
        self.facts
            .subscription
            .as_ref()
            .map(|(id, _)| id.to_string())
    }

    fn budgets(&self) -> Budgets {
        let l = &self.facts.snapshot.limits;
        Budgets {
            expression: gatehouse_policy::expr::Limits {
                time: std::time::Duration::from_millis(l.expression_timeout_ms),
                memory: usize::try_from(l.expression_memory_bytes).unwrap_or(usize::MAX),
                ..gatehouse_policy::expr::Limits::default()
            },
            max_body_bytes: usize::try_from(l.max_buffered_body_bytes).unwrap_or(usize::MAX),
        }
    }

    fn secrets(&self) -> Vec<String> {
        let facts = &self.facts;
        let mut out: Vec<String> = facts.snapshot.policies.secrets.to_vec();
        out.extend(facts.key.iter().map(|k| k.to_string()));
        if let Some((primary, secondary)) = &facts.subscription_keys {
            out.push(primary.to_string());
            out.extend(secondary.iter().map(|k| k.to_string()));
        }
        // The credentials the request carried, valid or not: its Authorization headers and
        // the API's subscription-key header and query parameter.
        let api = facts.snapshot.apis.get(facts.api);
        let key_header = api.map(|a| a.key_header.as_str());
        for name in CREDENTIAL_HEADERS.iter().copied().chain(key_header) {
            out.extend(header_values(&self.request_headers, name).unwrap_or_default());
        }
        if let Some(a) = api {
            out.extend(query_values(&self.original_query, &a.key_query).unwrap_or_default());
        }
        out
    }
}

impl GatewayExchange {
    /// The budget this request's buffered bodies are read within.
    pub fn buffers(&self) -> Result<Arc<crate::buffers::BufferBudget>, crate::error::GatewayError> {
        match &self.route {
            Some(route) => Ok(route.clients.buffers.clone()),
            None => Err(crate::error::GatewayError::new(
                crate::error::ErrorKind::PolicyUnsupported,
                "no backend route for this request",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip_and_edits() {
        let q = parse_query_pairs(Some("a=1&b=x%20y&a=2"));
        assert_eq!(query_values(&q, "a"), Some(vec!["1".into(), "2".into()]));
        assert_eq!(query_values(&q, "b"), Some(vec!["x y".into()]));
        assert_eq!(encode_query(&q).as_deref(), Some("a=1&b=x%20y&a=2"));
        assert_eq!(query_keys(&q), vec!["a".to_string(), "b".to_string()]);
    }
}
