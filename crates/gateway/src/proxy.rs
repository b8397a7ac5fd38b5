//! The request lifecycle, one phase after another: health probe → limits → route → subscription
//! → forward → respond. Every phase either hands on or ends the request with a [`GatewayError`].

use crate::access_log::AccessRecord;
use crate::body::ProxyBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::exchange::{GatewayExchange, RequestInfo, encode_query};
use crate::forward::{self, KeyNames};
use crate::keys;
use crate::snapshot::Snapshot;
use crate::upstream::{UpstreamError, error_chain};
use gatehouse_policy::limits::InMemoryCounters;
use gatehouse_policy::pipeline::{self as policy, Outcome, Section};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
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
    counters: Arc<InMemoryCounters>,
) -> Result<Response<ProxyBody>, Infallible> {
    let start = Instant::now();
    let in_flight = conn.state.begin();
    let mut log = snapshot
        .access_log
        .then(|| AccessRecord::new(start, conn.clone(), req.method(), req.uri(), req.version()));
    let resp = match proxy(req, &conn, &snapshot, &counters, &mut log).await {
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
    counters: &Arc<InMemoryCounters>,
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
    // Phase: policies (inbound), when the request's composition has any.
    let target = &snap.targets[route.api.index];
    let pipeline = snap.policies.pipeline(
        route.api.index,
        route.operation.index,
        sub.and_then(|s| s.product),
    );
    let mut exchange = None;
    let mut rest: std::borrow::Cow<'_, str> = route.rest.into();
    let mut base_path: Option<String> = None;
    if let Some(pipeline) = pipeline {
        let op = &api.operations[route.operation.index];
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| uri.authority().map(|a| a.as_str()))
            .unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let mut ex = GatewayExchange::new(RequestInfo {
            method: req.method().as_str(),
            scheme: if conn.tls { "https" } else { "http" },
            host,
            port: conn.local.port(),
            path: uri.path(),
            query: uri.query(),
            headers: req.headers(),
            client_ip,
            private_endpoint: conn.admitted.private_endpoint.as_ref().map(|p| &*p.name),
            matched: route
                .operation
                .template
                .param_names()
                .iter()
                .map(String::as_str)
                .zip(route.params.iter().copied())
                .collect(),
            subscription: sub.map(|s| (&*s.id, &*s.name)),
            api: (&route.api.id, &api.name, &api.path),
            operation: (&route.operation.id, &op.0, &op.1, &op.2),
            service_name: &snap.service_name,
            region: &snap.region,
            counters: counters.clone(),
        });
        match pipeline.run(Section::Inbound, &mut ex) {
            Outcome::Continue => {}
            Outcome::Respond(r) => return Ok(policy_response(r)),
            Outcome::Error(e) => {
                tracing::info!(target: "gatehouse::policy", source = %e.source, reason = %e.reason, message = %e.message, path = %e.path, "inbound policy failed");
                return Ok(exchange_response(&mut ex, &e));
            }
        }
        apply_inbound(
            &mut req,
            &mut ex,
            target,
            route.rest,
            &mut rest,
            &mut base_path,
        )?;
        exchange = Some((pipeline, ex));
    }
    // Phase: forward.
    if let Some(l) = log.as_mut() {
        l.backend = Some(target.id.clone());
    }
    let upgrade = forward::is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));
    forward::to_backend(
        &mut req,
        target,
        base_path.as_deref(),
        &rest,
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
    // Headers the inbound policies left for the client's response (rate-limit's remaining and
    // total calls): added to whatever response the client gets from here on.
    let mut added = exchange
        .as_mut()
        .map(|(_, ex)| std::mem::take(&mut ex.effects.added_response_headers))
        .unwrap_or_default();
    // Phase: policies (outbound), on the response head.
    if let Some((pipeline, mut ex)) = exchange
        && !pipeline.is_empty(Section::Outbound)
        && resp.status() != StatusCode::SWITCHING_PROTOCOLS
    {
        let reason = resp.status().canonical_reason().unwrap_or("").to_string();
        ex.set_backend_response(
            resp.status().as_u16(),
            &reason,
            std::mem::take(resp.headers_mut()),
        );
        let outcome = pipeline.run(Section::Outbound, &mut ex);
        added.append(&mut ex.effects.added_response_headers);
        match outcome {
            Outcome::Continue => {}
            Outcome::Respond(r) => return Ok(with_headers(policy_response(r), &added)),
            Outcome::Error(e) => {
                tracing::info!(target: "gatehouse::policy", source = %e.source, reason = %e.reason, message = %e.message, path = %e.path, "outbound policy failed");
                return Ok(with_headers(exchange_response(&mut ex, &e), &added));
            }
        }
        if !ex.problems.is_empty() {
            return Err(GatewayError::new(
                ErrorKind::PolicyUnsupported,
                ex.problems.join("; "),
            ));
        }
        *resp.headers_mut() = std::mem::take(&mut ex.response_headers);
        if let Some((code, _)) = ex.effects.status
            && let Ok(code) = StatusCode::from_u16(code)
        {
            *resp.status_mut() = code;
        }
        if let Some(body) = ex.effects.response_body.take() {
            resp.headers_mut().remove(header::CONTENT_LENGTH);
            add_headers(resp.headers_mut(), &added);
            let (parts, _) = resp.into_parts();
            return Ok(Response::from_parts(parts, ProxyBody::full(body.into())));
        }
    }
    add_headers(resp.headers_mut(), &added);
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

/// Appends policy-provided headers (already checked when the limit policy compiled: names are
/// literals; values are numbers), dropping any the HTTP types refuse.
fn add_headers(map: &mut http::HeaderMap, added: &[(String, String)]) {
    for (name, value) in added {
        match (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                map.append(n, v);
            }
            _ => {
                tracing::warn!(target: "gatehouse::policy", header = %name, "invalid policy header dropped")
            }
        }
    }
}

fn with_headers(mut resp: Response<ProxyBody>, added: &[(String, String)]) -> Response<ProxyBody> {
    add_headers(resp.headers_mut(), added);
    resp
}

/// A response a policy built (return-response, mock-response).
fn policy_response(r: policy::Response) -> Response<ProxyBody> {
    let mut resp = Response::new(
        r.body
            .map_or_else(ProxyBody::empty, |b| ProxyBody::full(b.into())),
    );
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &r.headers {
        match (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                resp.headers_mut().append(n, v);
            }
            _ => {
                tracing::warn!(target: "gatehouse::policy", header = %name, "invalid header in a policy response dropped")
            }
        }
    }
    resp
}

/// The response a failed pipeline leaves in the exchange (preset by the pipeline, amended by
/// `on-error`).
fn exchange_response(ex: &mut GatewayExchange, error: &policy::LastError) -> Response<ProxyBody> {
    let status = ex
        .effects
        .status
        .as_ref()
        .and_then(|(c, _)| StatusCode::from_u16(*c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Without a body from the policies, APIM's JSON error with the failure's message.
    let (body, json) = match ex.effects.response_body.take() {
        Some(b) => (ProxyBody::full(b.into()), false),
        None => (
            ProxyBody::full(crate::error::json_error_body(status, &error.message)),
            true,
        ),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let mut headers = std::mem::take(&mut ex.response_headers);
    if json && !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    *resp.headers_mut() = headers;
    resp
}

/// Applies what `inbound` changed to the request before it is forwarded: method, headers,
/// query, rewrite-uri (into `rest`), set-backend-service (into `base_path`, same origin only).
fn apply_inbound<B>(
    req: &mut Request<B>,
    ex: &mut GatewayExchange,
    target: &crate::backend::BackendTarget,
    route_rest: &str,
    rest: &mut std::borrow::Cow<'_, str>,
    base_path: &mut Option<String>,
) -> Result<(), GatewayError> {
    let unsupported = |detail: String| GatewayError::new(ErrorKind::PolicyUnsupported, detail);
    if !ex.problems.is_empty() {
        return Err(unsupported(ex.problems.join("; ")));
    }
    if ex.effects.request_body.is_some() {
        tracing::error!(target: "gatehouse::policy", "set-body on the request is not supported yet");
        return Err(unsupported(
            "set-body on the request is not supported yet".into(),
        ));
    }
    if ex.method != req.method().as_str() {
        *req.method_mut() = Method::from_bytes(ex.method.as_bytes())
            .map_err(|_| unsupported(format!("set-method: invalid method {:?}", ex.method)))?;
    }
    if ex.headers_changed {
        *req.headers_mut() = std::mem::take(&mut ex.request_headers);
    }
    let mut query_changed = ex.query_changed;
    if let Some((path_and_query, copy_unmatched)) = ex.effects.rewritten_uri.take() {
        let (path, q) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path_and_query, None),
        };
        let mut query = crate::exchange::parse_query_pairs(q.as_deref());
        if copy_unmatched {
            for (n, v) in &ex.query {
                if !query.iter().any(|(m, _)| m == n) {
                    query.push((n.clone(), v.clone()));
                }
            }
        }
        ex.query = query;
        query_changed = true;
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        *rest = path.into();
    } else {
        *rest = route_rest.to_string().into();
    }
    if query_changed {
        let pq = match encode_query(&ex.query) {
            Some(q) => format!("{}?{q}", req.uri().path()),
            None => req.uri().path().to_string(),
        };
        *req.uri_mut() = http::Uri::builder()
            .path_and_query(pq)
            .build()
            .map_err(|e| unsupported(format!("the query a policy set is invalid: {e}")))?;
    }
    if let Some(url) = ex.effects.backend.take() {
        let parsed: Option<http::Uri> = url.parse().ok();
        let same_origin = parsed.as_ref().is_some_and(|u| {
            u.scheme_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(target.scheme.as_str()))
                && u.authority()
                    .is_some_and(|a| a.as_str().eq_ignore_ascii_case(target.authority.as_str()))
        });
        if !same_origin {
            tracing::error!(target: "gatehouse::policy", base_url = %url, backend = &*target.id, "set-backend-service to another origin is not supported yet");
            return Err(unsupported(format!(
                "set-backend-service to another origin is not supported yet ({url})"
            )));
        }
        let path = parsed
            .as_ref()
            .map_or("", |u| u.path())
            .trim_end_matches('/');
        *base_path = Some(path.to_string());
    }
    Ok(())
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
