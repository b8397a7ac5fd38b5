//! What a request with policies costs the gateway beyond one without, with no network: the
//! steps `lifecycle.rs` and `policy_flow.rs` take for a request, driven in memory so that
//! `crates/gateway/benches/policy_request.rs` can measure them. Not part of the gateway's API.

use crate::conn::{ConnInfo, ConnState};
use crate::error::{ErrorKind, GatewayError};
use crate::exchange_seed::{Seed, key_text};
use crate::forward::{self, KeyNames};
use crate::request_body::RequestBody;
use crate::{Gateway, Services, keys, request_target};
use gatehouse_policy::pipeline::{Outcome, Section};
use http::{HeaderMap, HeaderValue, Request, header};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A gateway compiled from a config, a connection, and the backend's canned answer.
pub struct PolicyBench {
    snapshot: Arc<crate::Snapshot>,
    services: Arc<Services>,
    conn: Arc<ConnInfo>,
    backend_headers: HeaderMap,
}

/// Runs a future that never waits (policies without I/O) to its end.
fn now<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn failed(message: &str) -> GatewayError {
    GatewayError::new(ErrorKind::PolicyUnsupported, message.to_string())
}

impl PolicyBench {
    pub fn new(gateway: &Gateway, client: SocketAddr, local: SocketAddr) -> PolicyBench {
        let admitted = gatehouse_net::inbound::Admitted {
            client,
            private_endpoint: None,
            nsg_rule: None,
            public_access_denied: false,
            health_probe: false,
        };
        let state = Arc::new(ConnState::new(Arc::default()));
        let conn = Arc::new(ConnInfo::new(
            client, local, false, None, admitted, false, state,
        ));
        let mut backend_headers = HeaderMap::new();
        backend_headers.insert(header::SERVER, HeaderValue::from_static("nginx"));
        backend_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        backend_headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("6"));
        PolicyBench {
            snapshot: gateway.shared.snapshot.load_full(),
            services: gateway.shared.services.clone(),
            conn,
            backend_headers,
        }
    }

    /// One request through routing, the key check and — when `policies` and the route has a
    /// pipeline — the exchange, inbound, the backend request built from the exchange, the canned
    /// backend answer, outbound and the response; else the plain forward's rewrite in place.
    /// Returns the status and the number of headers sent to the backend.
    pub fn request(&self, req: &Request<()>, policies: bool) -> Result<(u16, usize), GatewayError> {
        let snap = &self.snapshot;
        let conn = &self.conn;
        let start = std::time::Instant::now();
        let mut req = req.clone();
        let uri = req.uri().clone();
        let path = request_target::normalize(uri.path())
            .map_err(|e| GatewayError::new(ErrorKind::RequestRejected, e.to_string()))?;
        let route = snap
            .router
            .route(req.method(), &path, uri.query())
            .map_err(|kind| GatewayError::new(kind, path.to_string()))?;
        let api = &snap.apis[route.api.index];
        let (key, sub) = keys::check(&snap.keys, api, route.api.index, req.headers(), uri.query())?;
        let target = &snap.targets[route.api.index];
        let pipeline = snap.policies.pipeline(
            route.api.index,
            route.operation.index,
            sub.and_then(|s| s.product),
        );
        let Some(pipeline) = pipeline.filter(|_| policies) else {
            forward::to_backend(
                &mut req,
                target,
                None,
                route.rest,
                KeyNames {
                    header: &api.key_header,
                    query: &api.key_query,
                },
                conn,
            )?;
            let mut resp = http::Response::new(());
            *resp.headers_mut() = self.backend_headers.clone();
            forward::to_client(&mut resp);
            return Ok((resp.status().as_u16(), req.headers().len()));
        };
        let key = key.as_ref().map(|(k, _)| key_text(k));
        let mut ex = crate::exchange_seed::exchange(
            &mut req,
            &uri,
            Seed {
                snap,
                services: &self.services,
                conn,
                route: &route,
                sub,
                key,
                target,
                path: &path,
                client_ip: conn.admitted.client.ip(),
                start,
            },
        );
        // The body stays with the client's request (streamed), as PolicyFlow::start keeps it.
        drop(req);
        if now(pipeline.run(Section::Inbound, &mut *ex)) != Some(Outcome::Continue) {
            return Err(failed("inbound did not continue"));
        }
        // forward-request (crates/gateway/src/forward_request.rs) without the send.
        let sent = ex.backend_request(RequestBody::full(Default::default()))?;
        let sent_headers = sent.request.headers().len();
        drop(sent);
        let mut answer = http::Response::new(());
        *answer.headers_mut() = self.backend_headers.clone();
        forward::to_client(&mut answer);
        let status = answer.status();
        let reason = status.canonical_reason().unwrap_or("").to_string();
        let (parts, ()) = answer.into_parts();
        ex.set_backend_response(status.as_u16(), &reason, parts.headers);
        if !pipeline.is_empty(Section::Outbound)
            && now(pipeline.run(Section::Outbound, &mut *ex)) != Some(Outcome::Continue)
        {
            return Err(failed("outbound did not continue"));
        }
        pipeline.count_deferred(&mut *ex);
        let resp = crate::policy_flow::response(&mut ex);
        Ok((resp.status().as_u16(), sent_headers))
    }
}
