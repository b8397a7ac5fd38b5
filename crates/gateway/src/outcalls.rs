//! The HTTP client policies call through (send-request, send-one-way-request, validate-jwt's
//! OpenID/JWKS fetch): the same pooled, egress-guarded connections as backends, so a policy
//! reaches exactly what the network rules let a backend reach.

use crate::backend::ClientCache;
use crate::backend_call;
use crate::error::ErrorKind;
use crate::request_body::RequestBody;
use gatehouse_policy::http::{HttpClient, HttpError, HttpFuture, HttpRequest, HttpResponse};
use http::header;
use std::sync::Arc;

pub struct GatewayHttp {
    clients: Arc<ClientCache>,
}

impl GatewayHttp {
    pub fn new(clients: Arc<ClientCache>) -> GatewayHttp {
        GatewayHttp { clients }
    }
}

impl HttpClient for GatewayHttp {
    fn send(&self, r: HttpRequest) -> HttpFuture {
        let clients = self.clients.clone();
        Box::pin(async move {
            let timeout = r.timeout;
            match tokio::time::timeout(timeout, call(&clients, r)).await {
                Ok(result) => result,
                Err(_) => Err(HttpError::Timeout(timeout)),
            }
        })
    }
}

async fn call(clients: &ClientCache, r: HttpRequest) -> Result<HttpResponse, HttpError> {
    let uri: http::Uri = r
        .url
        .parse()
        .map_err(|e| HttpError::Invalid(format!("URL '{}': {e}", r.url)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(HttpError::Invalid(format!(
            "URL '{}' is not an absolute http(s) URL",
            r.url
        )));
    }
    let target = clients
        .target_for_url(&r.url, r.timeout)
        .map_err(HttpError::Invalid)?;
    let method = http::Method::from_bytes(r.method.as_bytes())
        .map_err(|_| HttpError::Invalid(format!("method {:?}", r.method)))?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .body(RequestBody::full(r.body.into()))
        .map_err(|e| HttpError::Invalid(e.to_string()))?;
    let headers = req.headers_mut();
    for (n, v) in &r.headers {
        let name = header::HeaderName::from_bytes(n.as_bytes())
            .map_err(|_| HttpError::Invalid(format!("header name {n:?}")))?;
        let value = header::HeaderValue::from_str(v)
            .map_err(|_| HttpError::Invalid(format!("value of header {n:?}")))?;
        headers.append(name, value);
    }
    // The body is whole: its length is what the body says, whatever a copied header claimed.
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    headers.insert(header::HOST, target.host.clone());
    let (resp, lease) = backend_call::send(&target, req, r.timeout)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::EgressRefused => HttpError::Refused(e.detail),
            ErrorKind::BackendTimeout => HttpError::Timeout(r.timeout),
            _ => HttpError::Failed(format!("{}: {}", e.message(), e.detail)),
        })?;
    let (parts, body) = resp.into_parts();
    let body = clients.buffers.collect(body).await.map_err(|e| {
        if e.kind == ErrorKind::BodyTooLarge {
            HttpError::Failed(format!("the response body is too large: {}", e.detail))
        } else {
            HttpError::Failed(e.detail)
        }
    })?;
    lease.release();
    Ok(HttpResponse {
        status: parts.status.as_u16(),
        reason: parts.status.canonical_reason().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    })
}
