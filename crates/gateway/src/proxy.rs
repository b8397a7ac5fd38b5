//! Where a request enters and leaves the gateway: it is counted in flight (and refused over
//! `max_requests_in_flight`), its body gets its read timeout, [`crate::lifecycle::run`] serves
//! it, an error becomes APIM's JSON answer, and the access log is attached to the response body.

use crate::Services;
use crate::access_log::AccessRecord;
use crate::body::ProxyBody;
use crate::client_body::ClientBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::snapshot::Snapshot;
use http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// Serves one request. Never fails: errors become APIM-style responses.
pub async fn handle(
    req: Request<Incoming>,
    conn: Arc<ConnInfo>,
    snapshot: Arc<Snapshot>,
    services: Arc<Services>,
) -> Result<Response<ProxyBody>, Infallible> {
    let start = Instant::now();
    let in_flight = conn.state.begin();
    let mut log = snapshot
        .access_log
        .then(|| AccessRecord::new(start, conn.clone(), req.method(), req.uri(), req.version()));
    let read_timeout = std::time::Duration::from_millis(snapshot.limits.body_read_timeout_ms);
    let req = req.map(|b| ClientBody::new(b, read_timeout));
    // HTTP/1 only: HTTP/2 has no Connection header (a failed body ends just its stream).
    let http1 = req.version() <= http::Version::HTTP_11;
    let resp = if in_flight.within(snapshot.limits.max_requests_in_flight) {
        // Boxed: the lifecycle's state is about 3 KiB, and hyper moves the request's future
        // into its dispatcher; a pointer is moved instead of the whole state (memmove was the
        // largest user-space item of the profile).
        Box::pin(crate::lifecycle::run(
            req, start, &conn, &snapshot, &services, &mut log,
        ))
        .await
    } else {
        Err(GatewayError::new(
            ErrorKind::Overloaded,
            "max_requests_in_flight reached",
        ))
    };
    let resp = match resp {
        Ok(resp) => resp,
        Err(e) => {
            let mut resp = error_response(&e, &mut log);
            if http1 && crate::client_body::ends_connection(&e.kind) {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
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
