//! The request lifecycle, one phase after another: health probe → limits → route → subscription
//! → forward → respond. Every phase either hands on or ends the request with a [`GatewayError`].

use crate::access_log::AccessRecord;
use crate::body::ProxyBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::forward::{self, KeyNames};
use crate::keys;
use crate::snapshot::Snapshot;
use crate::upstream::{UpstreamError, error_chain};
use http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// APIM's health endpoint: answered by every gateway without a key.
pub const HEALTH_PATH: &str = "/status-0123456789abcdef";

/// Serves one request. Never fails: errors become APIM-style responses.
pub async fn handle(
    req: Request<Incoming>,
    conn: Arc<ConnInfo>,
    snapshot: Arc<Snapshot>,
) -> Result<Response<ProxyBody>, Infallible> {
    let start = Instant::now();
    let in_flight = conn.state.begin();
    let mut log = snapshot
        .access_log
        .then(|| AccessRecord::new(start, conn.clone(), req.method(), req.uri(), req.version()));
    let resp = match proxy(req, &conn, &snapshot, &mut log).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e, &mut log),
    };
    let (parts, body) = resp.into_parts();
    if let Some(l) = log.as_mut() {
        l.status = parts.status.as_u16();
    }
    Ok(Response::from_parts(
        parts,
        body.with_log(log, Some(in_flight)),
    ))
}

fn error_response(e: &GatewayError, log: &mut Option<AccessRecord>) -> Response<ProxyBody> {
    if let Some(l) = log.as_mut() {
        l.error = Some(e.reason());
    }
    let mut resp = Response::new(ProxyBody::full(e.body()));
    *resp.status_mut() = e.status();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

async fn proxy(
    mut req: Request<Incoming>,
    conn: &Arc<ConnInfo>,
    snap: &Snapshot,
    log: &mut Option<AccessRecord>,
) -> Result<Response<ProxyBody>, GatewayError> {
    // Phase: health probe.
    if req.uri().path() == HEALTH_PATH {
        return Ok(Response::new(ProxyBody::empty()));
    }
    // Phase: network. The client is the connection's (after PROXY), or the right-most untrusted
    // X-Forwarded-For hop when the connection comes from a trusted proxy.
    let client_ip = if conn.trusted_peer {
        let xff = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        gatehouse_net::client::client_from_forwarded_for(
            conn.admitted.client.ip(),
            xff,
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
    // Phase: route. The URI is cloned (a reference count) so the match can outlive the request.
    let uri = req.uri().clone();
    let route = snap
        .router
        .route(req.method(), uri.path(), uri.query())
        .map_err(|kind| GatewayError::new(kind, format!("{} {}", req.method(), uri.path())))?;
    let api = &snap.apis[route.api.index];
    if let Some(l) = log.as_mut() {
        l.api = Some(route.api.id.clone());
        l.operation = Some(route.operation.id.clone());
    }
    // Phase: subscription.
    let key = keys::find_key(
        req.headers(),
        uri.query(),
        api.key_header.as_str(),
        &api.key_query,
    );
    let sub = keys::authorize(
        &snap.keys,
        key.as_ref().map(|(k, _)| k.as_ref()),
        route.api.index,
        api.subscription_required,
    )?;
    if let (Some(l), Some(s)) = (log.as_mut(), sub) {
        l.subscription = Some(s.id.clone());
    }
    // Phase: forward.
    let target = &snap.targets[route.api.index];
    if let Some(l) = log.as_mut() {
        l.backend = Some(target.id.clone());
    }
    let upgrade = forward::is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));
    forward::to_backend(
        &mut req,
        target,
        route.rest,
        KeyNames {
            header: &api.key_header,
            query: &api.key_query,
        },
        conn,
    )?;
    let sent_at = Instant::now();
    let result = tokio::time::timeout(target.timeout, target.upstream.send(req)).await;
    if let Some(l) = log.as_mut() {
        l.backend_time = Some(sent_at.elapsed());
    }
    let (mut resp, lease) = match result {
        Err(_) => {
            let e = GatewayError::new(
                ErrorKind::BackendTimeout,
                format!(
                    "no response headers within {} ms",
                    target.timeout.as_millis()
                ),
            );
            tracing::warn!(backend = &*target.id, url = %format_args!("{}://{}", target.scheme, target.authority), error = %e, "backend timed out");
            return Err(e);
        }
        Ok(Err(err)) => {
            let e = match err {
                UpstreamError::Connect(err) => connect_error(&*err, &target.id),
                UpstreamError::Request(err) => {
                    GatewayError::new(ErrorKind::BackendBroken, error_chain(&err))
                }
            };
            tracing::warn!(backend = &*target.id, url = %format_args!("{}://{}", target.scheme, target.authority), error = %e, "backend request failed");
            return Err(e);
        }
        Ok(Ok(sent)) => sent,
    };
    // Phase: respond.
    forward::to_client(&mut resp);
    // An upgraded connection is the tunnel's now, never the pool's.
    let lease = (resp.status() != StatusCode::SWITCHING_PROTOCOLS).then_some(lease);
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = upgrade
    {
        let backend_side = hyper::upgrade::on(&mut resp);
        let backend_id = target.id.clone();
        // The tunnel keeps the connection's place under max_connections.
        let conn_hold = conn.clone();
        tokio::spawn(async move {
            let _conn = conn_hold;
            match tokio::try_join!(client_side, backend_side) {
                Ok((c, b)) => {
                    let (mut c, mut b) = (TokioIo::new(c), TokioIo::new(b));
                    if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut b).await {
                        tracing::debug!(backend = &*backend_id, error = %e, "upgraded connection ended");
                    }
                }
                Err(e) => {
                    tracing::warn!(backend = &*backend_id, error = %e, "protocol upgrade failed")
                }
            }
        });
    }
    let (parts, body) = resp.into_parts();
    Ok(Response::from_parts(parts, ProxyBody::stream(body, lease)))
}

/// Classifies a failed backend connection: refused by the egress guard, a DNS failure, or an
/// unreachable backend — each a 502 whose body names no internal address, and a log line (and
/// for refusals a counter) that names the backend, the addresses and the rule or reason.
fn connect_error(err: &(dyn std::error::Error + 'static), backend: &str) -> GatewayError {
    use gatehouse_net::egress::ConnectError;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(ce) = e.downcast_ref::<ConnectError>() {
            return match ce {
                ConnectError::AllRefused { refused, .. } => {
                    for r in refused {
                        tracing::warn!(
                            target: "gatehouse::network",
                            backend,
                            destination = %r.destination,
                            class = r.class.as_str(),
                            stage = r.stage,
                            rule = r.rule.as_ref().map(|x| &*x.name),
                            priority = r.rule.as_ref().map(|x| x.priority),
                            reason = %r.reason,
                            "backend address refused by the egress guard"
                        );
                        let rule = r
                            .rule
                            .as_ref()
                            .map(|x| x.name.to_string())
                            .unwrap_or_default();
                        metrics::counter!("gatehouse_egress_refused_total", "stage" => r.stage, "rule" => rule).increment(1);
                    }
                    GatewayError::new(ErrorKind::EgressRefused, ce.to_string())
                }
                ConnectError::Dns(_) | ConnectError::NoAddresses { .. } => {
                    GatewayError::new(ErrorKind::BackendDnsFailed, ce.to_string())
                }
                _ => GatewayError::new(ErrorKind::BackendUnreachable, ce.to_string()),
            };
        }
        cause = e.source();
    }
    GatewayError::new(ErrorKind::BackendUnreachable, error_chain(err))
}
