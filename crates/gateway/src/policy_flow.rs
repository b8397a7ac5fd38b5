//! The phases after authorization when policies apply, in APIM's order: inbound → backend (the
//! composition's `<backend>` section, or a plain forward when it has none) → outbound →
//! respond, with `on-error` after any failure; `lifecycle.rs` runs them in sequence. Bodies are
//! read whole only when the pipeline needs them
//! ([`BodyNeeds`](gatehouse_policy::pipeline::BodyNeeds)); everything else streams.

use crate::access_log::AccessRecord;
use crate::backend_call;
use crate::body::ProxyBody;
use crate::client_body::ClientBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::exchange::GatewayExchange;
use crate::request_body::RequestBody;
use gatehouse_policy::pipeline::{self as policy, ForwardOptions, Outcome, Pipeline, Section};
use http::{HeaderValue, Request, Response, StatusCode, header};
use std::sync::Arc;

/// What a phase left for the lifecycle: go on, or this response ends the request.
// `Done` is the response itself, returned by value as any handler returns it.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    Next,
    Done(Response<ProxyBody>),
}

/// The phases after authorization for a request with policies: each runs its section of the
/// pipeline on the exchange; an early answer (return-response, a limit's 429, a failure after
/// on-error) ends the request there.
pub struct PolicyFlow<'p> {
    ex: Box<GatewayExchange>,
    pipeline: &'p Pipeline,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
    buffer_response: bool,
}

impl<'p> PolicyFlow<'p> {
    /// Takes the request's body: read whole when the pipeline needs it, else kept streaming.
    pub async fn start(
        req: Request<ClientBody>,
        upgrade: Option<hyper::upgrade::OnUpgrade>,
        mut ex: Box<GatewayExchange>,
        pipeline: &'p Pipeline,
    ) -> Result<PolicyFlow<'p>, GatewayError> {
        let needs = pipeline.body_needs();
        let (_, body) = req.into_parts();
        if needs.request && upgrade.is_none() {
            ex.request_body = Some(ex.buffers()?.collect(body).await?);
        } else {
            ex.request_stream = Some(body);
        }
        ex.buffer_response = needs.response;
        Ok(PolicyFlow {
            ex,
            pipeline,
            upgrade,
            buffer_response: needs.response,
        })
    }

    /// Phase: inbound.
    pub async fn inbound(&mut self) -> Step {
        match self.pipeline.run(Section::Inbound, &mut *self.ex).await {
            Outcome::Continue => Step::Next,
            outcome => Step::Done(finish(&mut self.ex, self.pipeline, outcome, "inbound")),
        }
    }

    /// Phase: backend. The composition's `<backend>` section, or the plain forward when it has
    /// none. A WebSocket upgrade goes to the backend as inbound left it and tunnels after a 101:
    /// there is no response message for backend or outbound policies to work on.
    pub async fn backend(
        &mut self,
        conn: &Arc<ConnInfo>,
        log: &mut Option<AccessRecord>,
    ) -> Result<Step, GatewayError> {
        if let Some(client_side) = self.upgrade.take() {
            return upgrade_through(&mut self.ex, client_side, conn, log)
                .await
                .map(Step::Done);
        }
        let (ex, pipeline) = (&mut self.ex, self.pipeline);
        let outcome = if pipeline.is_empty(Section::Backend) {
            let options = ForwardOptions {
                buffer_response: self.buffer_response,
                ..Default::default()
            };
            match ex.forward_now(&options).await {
                Ok(()) => Outcome::Continue,
                Err(f) => {
                    pipeline
                        .fail_outside(&mut **ex, Section::Backend, "forward-request", f)
                        .await
                }
            }
        } else {
            pipeline.run(Section::Backend, &mut **ex).await
        };
        if let Some(l) = log.as_mut() {
            l.backend = ex.backend_id.clone();
            l.backend_time = ex.backend_time;
        }
        Ok(match outcome {
            Outcome::Continue => Step::Next,
            outcome => Step::Done(finish(ex, pipeline, outcome, "backend")),
        })
    }

    /// Phase: outbound.
    pub async fn outbound(&mut self) -> Result<Step, GatewayError> {
        let (ex, pipeline) = (&mut self.ex, self.pipeline);
        if !pipeline.is_empty(Section::Outbound) {
            match pipeline.run(Section::Outbound, &mut **ex).await {
                Outcome::Continue => {}
                outcome => return Ok(Step::Done(finish(ex, pipeline, outcome, "outbound"))),
            }
        }
        pipeline.count_deferred(&mut **ex);
        if !ex.problems.is_empty() {
            return Err(GatewayError::new(
                ErrorKind::PolicyUnsupported,
                ex.problems.join("; "),
            ));
        }
        Ok(Step::Next)
    }

    /// Phase: respond. The response as outbound left it.
    pub fn respond(&mut self) -> Response<ProxyBody> {
        response(&mut self.ex)
    }
}

/// The response the exchange holds after the pipeline went through: status and headers as
/// outbound left them, the body a policy set, the buffered backend body, or the stream.
pub(crate) fn response(ex: &mut GatewayExchange) -> Response<ProxyBody> {
    let status = ex
        .effects
        .status
        .as_ref()
        .and_then(|(c, _)| StatusCode::from_u16(*c).ok())
        .unwrap_or(StatusCode::OK);
    let mut headers = std::mem::take(&mut ex.response_headers);
    let body = if let Some(b) = ex.effects.response_body.take() {
        headers.remove(header::CONTENT_LENGTH);
        ProxyBody::full(b.into())
    } else if let Some(b) = ex.response_body.take() {
        let b = if ex.response_body_consumed {
            Default::default()
        } else {
            b
        };
        ProxyBody::full(b)
    } else if let Some((stream, lease)) = ex.response_stream.take() {
        ProxyBody::stream(stream, Some(lease))
    } else {
        ProxyBody::empty()
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    add_headers(resp.headers_mut(), &ex.effects.added_response_headers);
    resp
}

/// The response when a section ended early: a policy's own response (return-response,
/// mock-response, a limit's 429), or the one a failure preset and on-error amended.
fn finish(
    ex: &mut GatewayExchange,
    pipeline: &Pipeline,
    outcome: Outcome,
    section: &str,
) -> Response<ProxyBody> {
    // The limits' increment-conditions see the response the client gets.
    if let Outcome::Respond(r) = &outcome {
        ex.effects.status = Some((r.status, r.reason.clone()));
    }
    pipeline.count_deferred(ex);
    let added = std::mem::take(&mut ex.effects.added_response_headers);
    let mut resp = match outcome {
        Outcome::Respond(r) => policy_response(r),
        Outcome::Error(e) => {
            tracing::info!(target: "gatehouse::policy", section, source = %e.source, reason = %e.reason, message = %crate::error::clip_for_log(&e.message), path = %e.path, "policy failed");
            exchange_response(ex, &e)
        }
        Outcome::Continue => response(ex),
    };
    add_headers(resp.headers_mut(), &added);
    resp
}

/// WebSocket and other upgrades with policies: the request as inbound left it goes to the
/// backend; a 101 answer becomes a tunnel.
async fn upgrade_through(
    ex: &mut GatewayExchange,
    client_side: hyper::upgrade::OnUpgrade,
    conn: &Arc<ConnInfo>,
    log: &mut Option<AccessRecord>,
) -> Result<Response<ProxyBody>, GatewayError> {
    let body = ex.request_stream.take().map_or_else(
        || RequestBody::full(Default::default()),
        RequestBody::Stream,
    );
    let sent = ex.backend_request(body)?;
    if let Some(l) = log.as_mut() {
        l.backend = Some(sent.target.id.clone());
    }
    let timeout = sent.target.timeout;
    let (resp, lease) = backend_call::send(&sent.target, sent.request, timeout).await?;
    crate::respond::respond_streamed(resp, lease, Some(client_side), &sent.target, conn)
}

/// Appends headers a policy produced (a limit's remaining calls, a return-response's own, CORS
/// headers), dropping — with a warning — any the HTTP types refuse.
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

/// A response a policy built (return-response, mock-response).
fn policy_response(r: policy::Response) -> Response<ProxyBody> {
    let mut resp = Response::new(
        r.body
            .map_or_else(ProxyBody::empty, |b| ProxyBody::full(b.into())),
    );
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    add_headers(resp.headers_mut(), &r.headers);
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
