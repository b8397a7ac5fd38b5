//! The request lifecycle, in one place, as named phases (after Pingora's `ProxyHttp`): health
//! probe → request head (Host) → client address → limits → route (on the normalized path) →
//! intake (hop-by-hop headers, upgrades) → authorize (subscription key) → inbound → backend →
//! outbound → respond; the access log is written when the response body is done
//! (`body.rs`). Every phase hands on or ends the request: with a [`GatewayError`] before the
//! policies, or with the response a policy or on-error made after. A request without policies
//! runs the same phases, with nothing to run in inbound and outbound ([`PlainFlow`]).

use crate::Services;
use crate::access_log::AccessRecord;
use crate::body::ProxyBody;
use crate::client_body::ClientBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::exchange_seed::{Seed, key_text};
use crate::forward;
use crate::hop_by_hop;
use crate::host_header;
use crate::keys;
use crate::plain_flow::PlainFlow;
use crate::policy_flow::{PolicyFlow, Step};
use crate::request_target;
use crate::snapshot::Snapshot;
use http::{Request, Response};
use std::sync::Arc;
use std::time::Instant;

/// APIM's health endpoint: answered by every gateway without a key.
pub const HEALTH_PATH: &str = "/status-0123456789abcdef";

pub(crate) async fn run(
    mut req: Request<ClientBody>,
    start: Instant,
    conn: &Arc<ConnInfo>,
    snap: &Arc<Snapshot>,
    services: &Arc<Services>,
    log: &mut Option<AccessRecord>,
) -> Result<Response<ProxyBody>, GatewayError> {
    // Phase: host name. In internal mode the gateway answers only its host names, the health
    // probe included (docs/network.md); a precomputed list, no lock.
    let host_names = snap.host_names_of(gatehouse_model::hostnames::Component::Gateway);
    if host_names.enforced() {
        let host = host_header::request_host(req.uri(), req.headers());
        if let Err(message) = host_names.admit(host) {
            return Err(GatewayError::new(ErrorKind::UnknownHost, message.clone())
                .with_client_message(message));
        }
    }
    // Phase: health probe.
    if req.uri().path() == HEALTH_PATH {
        return Ok(Response::new(ProxyBody::empty()));
    }
    // Phase: request head. One valid Host on HTTP/1.1 (RFC 9112 §3.2).
    host_header::check(req.version(), req.headers())
        .map_err(|e| GatewayError::new(ErrorKind::RequestRejected, e.to_string()))?;
    // Phase: network. The client is the connection's (after PROXY), or the right-most untrusted
    // X-Forwarded-For hop when the connection comes from a trusted proxy. All the header's
    // lines are one list: a trusted proxy appends its own line after the client's.
    let client_ip = if conn.trusted_peer {
        let xff = forward::joined(req.headers(), &X_FORWARDED_FOR);
        gatehouse_net::client::client_from_forwarded_for(
            conn.admitted.client.ip(),
            xff.as_deref(),
            snap.inbound.trusted_proxies(),
        )
    } else {
        conn.admitted.client.ip()
    };
    if let Some(l) = log.as_mut() {
        l.client_ip = Some(client_ip);
    }
    if conn.admitted.public_access_denied {
        let message =
            gatehouse_net::inbound::public_access_disabled_message(client_ip, &snap.service_name);
        return Err(GatewayError::new(
            ErrorKind::PublicNetworkAccessDisabled,
            format!("{client_ip} is not through a private endpoint"),
        )
        .with_client_message(message));
    }
    // Phase: request limits (the head's size and count are enforced by the HTTP parser).
    let target_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target_len > snap.limits.max_request_line_bytes as usize {
        return Err(GatewayError::new(
            ErrorKind::UriTooLong,
            format!("request target of {target_len} bytes"),
        ));
    }
    // Phase: route, on the path with its dot segments removed; a path whose meaning depends on
    // who decodes it is refused. The URI is cloned (a reference count) so the match can outlive
    // the request.
    let uri = req.uri().clone();
    if req.method() == http::Method::CONNECT {
        // APIM has no CONNECT: a gateway that forwarded one would open a tunnel.
        return Err(GatewayError::new(
            ErrorKind::RequestRejected,
            format!("CONNECT {uri}"),
        ));
    }
    let path = request_target::normalize(uri.path()).map_err(|e| {
        GatewayError::new(ErrorKind::RequestRejected, format!("{}: {e}", uri.path()))
    })?;
    let route = snap
        .router
        .route(req.method(), &path, uri.query())
        .map_err(|kind| GatewayError::new(kind, format!("{} {}", req.method(), path)))?;
    let api = &snap.apis[route.api.index];
    if let Some(l) = log.as_mut() {
        l.api = Some(route.api.id.clone());
        l.operation = Some(route.operation.id.clone());
    }
    // Phase: intake. The client's hop-by-hop headers go before anything reads or sets headers;
    // a WebSocket upgrade is kept on a WebSocket API, every other upgrade is dropped.
    let websocket = api.websocket
        && hop_by_hop::is_websocket_upgrade(req.method(), req.version(), req.headers());
    hop_by_hop::strip_client(req.headers_mut(), websocket);
    let upgrade = websocket.then(|| hyper::upgrade::on(&mut req));
    // Phase: subscription.
    let (key, sub) = keys::check(&snap.keys, api, route.api.index, req.headers(), uri.query())?;
    if let (Some(l), Some(s)) = (log.as_mut(), sub) {
        l.subscription = Some(s.id.clone());
    }
    // The request's policies: with none, the phases below run on the request itself.
    let target = &snap.targets[route.api.index];
    let pipeline = snap.policies.pipeline(
        route.api.index,
        route.operation.index,
        sub.and_then(|s| s.product),
    );
    let mut flow = if let Some(pipeline) = pipeline {
        let key = key.as_ref().map(|(k, _)| key_text(k));
        let ex = crate::exchange_seed::exchange(
            &mut req,
            &uri,
            Seed {
                snap,
                services,
                conn,
                route: &route,
                sub,
                key,
                target,
                path: &path,
                client_ip,
                start,
            },
        );
        let flow = Box::pin(PolicyFlow::start(req, upgrade, ex, pipeline)).await?;
        Flow::Policy(flow)
    } else {
        Flow::Plain(PlainFlow::new(req, upgrade, target, api, route.rest))
    };
    // Phase: inbound.
    if let Step::Done(resp) = flow.inbound().await {
        return Ok(resp);
    }
    // Phase: backend.
    if let Step::Done(resp) = flow.backend(conn, log).await? {
        return Ok(resp);
    }
    // Phase: outbound.
    if let Step::Done(resp) = flow.outbound().await? {
        return Ok(resp);
    }
    // Phase: respond (the access log is written when the response body is done).
    flow.respond(conn)
}

/// The phases after authorization, for a request with policies (on its exchange) or without
/// (on the request itself, with nothing to run in inbound and outbound).
// The plain variant holds the request and the backend's answer, as the request's future did
// before; boxing it would add an allocation to every request without policies.
#[allow(clippy::large_enum_variant)]
enum Flow<'a> {
    Plain(PlainFlow<'a>),
    Policy(PolicyFlow<'a>),
}

// The policy phases' futures are boxed: they are large (pipelines, forward-request, retries),
// and inline they would enlarge — and be copied with — the future of every request without
// policies too.
impl Flow<'_> {
    async fn inbound(&mut self) -> Step {
        match self {
            Flow::Plain(_) => Step::Next,
            Flow::Policy(p) => Box::pin(p.inbound()).await,
        }
    }

    async fn backend(
        &mut self,
        conn: &Arc<ConnInfo>,
        log: &mut Option<AccessRecord>,
    ) -> Result<Step, GatewayError> {
        match self {
            Flow::Plain(p) => p.backend(conn, log).await.map(|()| Step::Next),
            Flow::Policy(p) => Box::pin(p.backend(conn, log)).await,
        }
    }

    async fn outbound(&mut self) -> Result<Step, GatewayError> {
        match self {
            Flow::Plain(_) => Ok(Step::Next),
            Flow::Policy(p) => Box::pin(p.outbound()).await,
        }
    }

    // By reference: moving the flow out would copy it whole.
    fn respond(&mut self, conn: &Arc<ConnInfo>) -> Result<Response<ProxyBody>, GatewayError> {
        match self {
            Flow::Plain(p) => p.respond(conn),
            Flow::Policy(p) => Ok(p.respond()),
        }
    }
}

static X_FORWARDED_FOR: http::HeaderName = http::HeaderName::from_static("x-forwarded-for");
