//! One backend call: send on the target's pool within a time limit, and classify what went
//! wrong (egress refusal, DNS, unreachable, timeout, broken connection) into a [`GatewayError`]
//! with a log line that names the backend. Shared by the plain forward, forward-request and
//! the requests policies make (send-request, JWKS fetches).

use crate::backend::BackendTarget;
use crate::client_body::ClientBodyError;
use crate::error::{ErrorKind, GatewayError};
use crate::request_body::RequestBody;
use crate::upstream::{Lease, UpstreamError, error_chain};
use http::{Request, Response};
use hyper::body::Incoming;
use std::time::Duration;

/// Sends `req` to `target` and waits at most `timeout` for the response head.
pub async fn send(
    target: &BackendTarget,
    req: Request<RequestBody>,
    timeout: Duration,
) -> Result<(Response<Incoming>, Lease), GatewayError> {
    match tokio::time::timeout(timeout, target.upstream.send(req)).await {
        Err(_) => {
            let e = GatewayError::new(
                ErrorKind::BackendTimeout,
                format!("no response headers within {} ms", timeout.as_millis()),
            );
            tracing::warn!(backend = &*target.id, url = %format_args!("{}://{}", target.scheme, target.authority), error = %e, "backend timed out");
            Err(e)
        }
        Ok(Err(err)) => {
            let e = match err {
                UpstreamError::Connect(err) => connect_error(&*err, &target.id),
                UpstreamError::Request(err) => {
                    // The body streamed from the client failed (timed out, bad framing): the
                    // client's error, not the backend's.
                    if let Some(c) = ClientBodyError::find(&err) {
                        let e = GatewayError::new(c.kind(), c.to_string());
                        tracing::info!(backend = &*target.id, error = %e, "request body from the client failed: backend request aborted");
                        return Err(e);
                    }
                    GatewayError::new(ErrorKind::BackendBroken, error_chain(&err))
                }
                UpstreamError::PoolExhausted { waited } => {
                    let e = GatewayError::new(
                        ErrorKind::BackendPoolExhausted,
                        format!(
                            "no connection of the origin's max_connections_per_backend became free within {} ms",
                            waited.as_millis()
                        ),
                    );
                    tracing::warn!(backend = &*target.id, url = %format_args!("{}://{}", target.scheme, target.authority), error = %e, "backend connection pool exhausted");
                    return Err(e);
                }
            };
            tracing::warn!(backend = &*target.id, url = %format_args!("{}://{}", target.scheme, target.authority), error = %e, "backend request failed");
            Err(e)
        }
        Ok(Ok(sent)) => Ok(sent),
    }
}

/// Classifies a failed backend connection: refused by the egress guard, a DNS failure, or an
/// unreachable backend — each a 502 whose body names no internal address, and a log line (and
/// for refusals a counter) that names the backend, the addresses and the rule or reason.
pub fn connect_error(err: &(dyn std::error::Error + 'static), backend: &str) -> GatewayError {
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
                            stage = r.stage.as_str(),
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
                        metrics::counter!("gatehouse_egress_refused_total", "stage" => r.stage.as_str(), "rule" => rule).increment(1);
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
