//! The exchange a request with policies starts from: the request's head moved in, the facts
//! policies read (route, subscription, key, client), and the route its `forward-request` takes.
//! Shared by the lifecycle (crates/gateway/src/lifecycle.rs) and the policy benchmark
//! (crates/gateway/src/bench_support.rs), so that the benchmark measures the gateway's own path.

use crate::Services;
use crate::backend::BackendTarget;
use crate::conn::ConnInfo;
use crate::exchange::{Facts, ForwardRoute, GatewayExchange, RequestInfo};
use crate::keys::SubscriptionEntry;
use crate::router::RouteMatch;
use crate::snapshot::Snapshot;
use http::{Request, Uri, header};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the lifecycle knows of a request when its policies begin.
pub(crate) struct Seed<'a, 'r, 'p> {
    pub snap: &'a Arc<Snapshot>,
    pub services: &'a Arc<Services>,
    pub conn: &'a Arc<ConnInfo>,
    pub route: &'a RouteMatch<'r, 'p>,
    pub sub: Option<&'a SubscriptionEntry>,
    /// The subscription key as the request carried it (see [`key_text`]).
    pub key: Option<Arc<str>>,
    pub target: &'a Arc<BackendTarget>,
    /// The normalized path the request was routed on.
    pub path: &'a str,
    pub client_ip: IpAddr,
    pub start: Instant,
}

/// The exchange for `req`, whose headers it takes (the request keeps only its body). Boxed: the
/// exchange is large and moves through several futures.
pub(crate) fn exchange<B>(
    req: &mut Request<B>,
    uri: &Uri,
    seed: Seed<'_, '_, '_>,
) -> Box<GatewayExchange> {
    let Seed {
        snap,
        services,
        conn,
        route,
        sub,
        key,
        target,
        path,
        client_ip,
        start,
    } = seed;
    let host = request_host_name(req.headers(), uri).to_string();
    let headers = std::mem::take(req.headers_mut());
    let mut ex = Box::new(GatewayExchange::new(RequestInfo {
        method: req.method().as_str(),
        scheme: if conn.tls { "https" } else { "http" },
        host,
        port: conn.local.port(),
        path,
        query: uri.query(),
        headers,
        client_ip,
        client_ip_text: conn.ip_text(client_ip),
        matched: route
            .operation
            .template
            .param_names()
            .iter()
            .map(String::as_str)
            .zip(route.params.iter().copied())
            .collect(),
        facts: Facts {
            snapshot: snap.clone(),
            api: route.api.index,
            operation: route.operation.index,
            product: sub.and_then(|s| s.product),
            api_id: route.api.id.clone(),
            operation_id: route.operation.id.clone(),
            subscription: sub.map(|s| (s.id.clone(), s.name.clone())),
            user: sub.and_then(|s| s.owner),
            private_endpoint: conn
                .admitted
                .private_endpoint
                .as_ref()
                .map(|p| p.name.clone()),
            key,
            subscription_keys: sub.map(|s| (s.keys.primary.clone(), s.keys.secondary.clone())),
            started: start,
            started_at: gatehouse_policy::expr::DateTime::now_utc(),
        },
        counters: services.counters.clone(),
        http: services.http.clone(),
        cache: services.cache.clone(),
        external_cache: services.external_cache.clone(),
        concurrency: services.concurrency.clone(),
    }));
    ex.route = Some(ForwardRoute {
        snapshot: snap.clone(),
        api_index: route.api.index,
        rest: route.rest.to_string(),
        raw_query: uri.query().map(String::from),
        conn: conn.clone(),
        target: target.clone(),
        clients: services.clients.clone(),
    });
    ex
}

/// The key as `context.Subscription`'s policies read it. Taken before the exchange takes the
/// request's headers, where the key was found.
pub(crate) fn key_text(key: &[u8]) -> Arc<str> {
    Arc::from(String::from_utf8_lossy(key).as_ref())
}

/// `context.Request.Url.Host`: the Host header (else the URI's authority) without its port.
fn request_host_name<'h>(headers: &'h http::HeaderMap, uri: &'h Uri) -> &'h str {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}
