//! `forward-request` in the gateway: the request as the policies left it (method, headers,
//! query, rewrite-uri, set-backend-service, set-body) is built anew on every call — so `retry`
//! can send it again — sent through the backend's pool, and its response handed to the
//! exchange for `outbound`: read whole when the policies need the body, streamed otherwise.

use crate::backend::BackendTarget;
use crate::backend_call;
use crate::error::{ErrorKind, GatewayError};
use crate::exchange::{GatewayExchange, encode_query, parse_query_pairs};
use crate::forward::{self, KeyNames};
use crate::request_body::RequestBody;
use bytes::Bytes;
use gatehouse_policy::pipeline::{BackendChoice, BackendFailure, ForwardOptions};
use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

/// Redirects followed at most by `follow-redirects="true"`.
const MAX_REDIRECTS: usize = 10;

/// A backend request ready to send, and where.
pub struct BackendRequest {
    pub request: Request<RequestBody>,
    pub target: Arc<BackendTarget>,
}

impl GatewayExchange {
    /// The backend request from the exchange's current state, with the given body. Errors are
    /// the policies' edits the gateway cannot apply (a bad method, header, URL or backend id).
    pub fn backend_request(&mut self, body: RequestBody) -> Result<BackendRequest, GatewayError> {
        let unsupported = |detail: String| GatewayError::new(ErrorKind::PolicyUnsupported, detail);
        if !self.problems.is_empty() {
            return Err(unsupported(self.problems.join("; ")));
        }
        let Some(route) = self.route.as_ref() else {
            return Err(unsupported("no backend route for this request".into()));
        };
        let method = Method::from_bytes(self.method.as_bytes())
            .map_err(|_| unsupported(format!("set-method: invalid method {:?}", self.method)))?;
        // rewrite-uri: a new path after the API prefix, and a new query. Without one (most
        // requests) the routed path and the query are used where they are, not copied.
        let mut rest = Cow::Borrowed(route.rest.as_str());
        let mut query = Cow::Borrowed(self.query.as_slice());
        let mut query_changed = self.query_changed;
        if let Some((path_and_query, copy_unmatched)) = &self.effects.rewritten_uri {
            let (path, q) = match path_and_query.split_once('?') {
                Some((p, q)) => (p.to_string(), Some(q)),
                None => (path_and_query.clone(), None),
            };
            let mut rewritten = parse_query_pairs(q);
            if *copy_unmatched {
                for (n, v) in &self.query {
                    if !rewritten.iter().any(|(m, _)| m == n) {
                        rewritten.push((n.clone(), v.clone()));
                    }
                }
            }
            query = Cow::Owned(rewritten);
            query_changed = true;
            rest = Cow::Owned(if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            });
        }
        // Only the query of this URI matters: to_backend builds the path from `rest` (and
        // strips the subscription key from the query).
        let pq = if query_changed {
            encode_query(&query).map(|q| format!("/?{q}"))
        } else {
            route.raw_query.as_ref().map(|q| format!("/?{q}"))
        };
        let pq = match pq {
            Some(pq) => http::Uri::try_from(pq),
            None => Ok(http::Uri::from_static("/")),
        }
        .map_err(|e| unsupported(format!("the request the policies built is invalid: {e}")))?;
        // set-backend-service: same origin keeps the pool and swaps the base path; another
        // origin or a backend id gets that target (still behind the egress guard).
        let (target, base_path) = match &self.effects.backend {
            None => (route.target.clone(), None),
            Some(BackendChoice::Id(id)) => match route.snapshot.backends.get(id) {
                Some(t) => (t.clone(), None),
                None => {
                    return Err(unsupported(format!(
                        "set-backend-service: backend-id '{id}' is not a configured backend"
                    )));
                }
            },
            Some(BackendChoice::Url(url)) => {
                let parsed: http::Uri = url.parse().map_err(|e| {
                    unsupported(format!(
                        "set-backend-service: invalid base-url '{url}': {e}"
                    ))
                })?;
                let same_origin = parsed
                    .scheme_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(route.target.scheme.as_str()))
                    && parsed.authority().is_some_and(|a| {
                        a.as_str()
                            .eq_ignore_ascii_case(route.target.authority.as_str())
                    });
                if same_origin {
                    let path = parsed.path().trim_end_matches('/').to_string();
                    (route.target.clone(), Some(path))
                } else {
                    let t = route
                        .clients
                        .target_for_url(url, route.target.timeout)
                        .map_err(|m| unsupported(format!("set-backend-service: {m}")))?;
                    (t, None)
                }
            }
        };
        let mut request = Request::builder()
            .method(method)
            .uri(pq)
            .body(body)
            .map_err(|e| unsupported(format!("the request the policies built is invalid: {e}")))?;
        *request.headers_mut() = self.request_headers.clone();
        // Make the routed query visible to to_backend, which strips the subscription key.
        let api = &route.snapshot.apis[route.api_index];
        forward::to_backend(
            &mut request,
            &target,
            base_path.as_deref(),
            &rest,
            KeyNames {
                header: &api.key_header,
                query: &api.key_query,
            },
            &route.conn,
        )?;
        Ok(BackendRequest { request, target })
    }

    /// The request body for the next send: one a policy set, the buffered original (unless a
    /// read without preserveContent consumed it), or the client's stream (once).
    fn next_body(&mut self) -> (RequestBody, bool) {
        if let Some(b) = &self.effects.request_body {
            return (RequestBody::full(Bytes::from(b.clone())), true);
        }
        if let Some(b) = &self.request_body {
            let b = if self.request_body_consumed {
                Bytes::new()
            } else {
                b.clone()
            };
            return (RequestBody::full(b), true);
        }
        match self.request_stream.take() {
            Some(s) => (RequestBody::Stream(s), false),
            None => (RequestBody::full(Bytes::new()), true),
        }
    }

    /// forward-request: sends, follows redirects when asked, takes the response.
    pub async fn forward_now(&mut self, options: &ForwardOptions) -> Result<(), BackendFailure> {
        // A response from an earlier try (retry) is dropped, with its connection: until this
        // send answers, there is no response (`context.Response` is null).
        self.response_stream = None;
        self.effects.status = None;
        self.response_headers.clear();
        self.response_body = None;
        self.response_body_consumed = false;
        let (body, whole) = self.next_body();
        let BackendRequest {
            mut request,
            mut target,
        } = self.backend_request(body).map_err(failure)?;
        if whole {
            request.headers_mut().remove(header::TRANSFER_ENCODING);
            request.headers_mut().remove(header::CONTENT_LENGTH);
        }
        let timeout = options.timeout.unwrap_or(target.timeout);
        self.backend_id = Some(target.id.clone());
        let sent_at = Instant::now();
        // Kept to send again on a redirect (only possible when the body is whole).
        let replay = whole.then(|| {
            (
                request.method().clone(),
                request.headers().clone(),
                self.effects
                    .request_body
                    .clone()
                    .map(Bytes::from)
                    .or_else(|| self.request_body.clone())
                    .unwrap_or_default(),
            )
        });
        let mut result = backend_call::send(&target, request, timeout).await;
        let mut hops = 0;
        while options.follow_redirects
            && hops < MAX_REDIRECTS
            && let Ok((resp, _)) = &result
            && let Some((method, headers, body)) = &replay
            && let Some(next) = redirect(resp, method)
        {
            hops += 1;
            let Some(route) = self.route.as_ref() else {
                break;
            };
            let location = resolve_location(&target, &next.1);
            let Some(location) = location else { break };
            let Ok(t) = route.clients.target_for_url(&location, target.timeout) else {
                break;
            };
            let Ok(uri) = location.parse::<http::Uri>() else {
                break;
            };
            let pq = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
            let body = if next.0 == Method::GET {
                Bytes::new()
            } else {
                body.clone()
            };
            let Ok(mut req) = Request::builder()
                .method(next.0.clone())
                .uri(pq)
                .body(RequestBody::full(body))
            else {
                break;
            };
            *req.headers_mut() = headers.clone();
            req.headers_mut().insert(header::HOST, t.host.clone());
            target = t;
            result = backend_call::send(&target, req, timeout).await;
        }
        self.backend_time = Some(sent_at.elapsed());
        let (mut resp, lease) = result.map_err(failure)?;
        let status = resp.status();
        // Upgrades never come here (they tunnel after inbound): a 101 is the backend's error.
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(failure(crate::respond::unasked_switch(&target.id)));
        }
        forward::to_client(&mut resp);
        if options.fail_on_error_status_code && (400..=599).contains(&status.as_u16()) {
            return Err(BackendFailure {
                reason: "BackendResponseError".into(),
                message: format!("The backend answered {status}."),
                status: status.as_u16(),
            });
        }
        let reason = status.canonical_reason().unwrap_or("").to_string();
        let (parts, body) = resp.into_parts();
        self.set_backend_response(status.as_u16(), &reason, parts.headers);
        if self.buffer_response && status != StatusCode::SWITCHING_PROTOCOLS {
            let buffers = self.buffers().map_err(failure)?;
            let bytes = buffers.collect(body).await.map_err(failure)?;
            lease.release();
            self.response_headers.remove(header::CONTENT_LENGTH);
            self.response_body = Some(bytes);
        } else {
            self.response_stream = Some((body, lease));
        }
        Ok(())
    }
}

/// The method of the next request when `resp` is a redirect to follow: 303 (and 301/302 after
/// anything but GET/HEAD) become GET, as user agents do; 307/308 keep the method and body.
fn redirect(resp: &Response<Incoming>, method: &Method) -> Option<(Method, String)> {
    let location = resp.headers().get(header::LOCATION)?.to_str().ok()?;
    let next = match resp.status().as_u16() {
        303 => Method::GET,
        301 | 302 if method != Method::GET && method != Method::HEAD => Method::GET,
        301 | 302 | 307 | 308 => method.clone(),
        _ => return None,
    };
    Some((next, location.to_string()))
}

/// An absolute URL for a Location header (relative ones resolve against the target).
fn resolve_location(target: &BackendTarget, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_string());
    }
    if location.starts_with('/') {
        return Some(format!(
            "{}://{}{location}",
            target.scheme, target.authority
        ));
    }
    None
}

/// A gateway error as forward-request's failure for `context.LastError`: the reasons APIM
/// reports for backend failures, and the status the client gets without on-error.
pub fn failure(e: GatewayError) -> BackendFailure {
    let reason = match e.kind {
        ErrorKind::BackendTimeout => "Timeout",
        ErrorKind::PolicyUnsupported => "PolicyNotApplicable",
        ErrorKind::BodyTooLarge => "BodyTooLarge",
        // APIM's reason when the client's side of the exchange failed.
        ErrorKind::ClientBodyTimeout | ErrorKind::ClientBodyBroken => "ClientConnectionFailure",
        _ => "BackendConnectionFailure",
    };
    BackendFailure {
        reason: reason.into(),
        message: e.message().to_string(),
        status: e.status().as_u16(),
    }
}
