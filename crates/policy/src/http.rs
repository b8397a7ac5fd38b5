//! Outgoing HTTP calls policies make themselves (send-request, send-one-way-request,
//! validate-jwt's OpenID/JWKS fetch). The pipeline only describes the call; the gateway sends it
//! through its egress guard (resolve once, judge every address, connect to the judged one), so a
//! policy can never reach what a backend could not.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A complete request a policy wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// Absolute `http://` or `https://` URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Time for the whole exchange (connect, send, response head and body).
    pub timeout: Duration,
}

impl HttpRequest {
    /// A GET without headers or body.
    pub fn get(url: impl Into<String>, timeout: Duration) -> Self {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout,
        }
    }
}

/// A complete (buffered) response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a call produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("no response within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The URL is not an absolute http(s) URL, or a header is invalid.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The egress guard refused every address of the destination.
    #[error("refused by the outbound network rules: {0}")]
    Refused(String),
    /// DNS, connect or protocol failure.
    #[error("{0}")]
    Failed(String),
}

/// The future of one call. `'static` so several calls can run at once (`<wait>`), independent
/// of the exchange that started them.
pub type HttpFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send>>;

/// Sends policy-made requests. The gateway's implementation goes through the egress guard;
/// tests use a closure (see [`FnClient`]).
pub trait HttpClient: Send + Sync {
    fn send(&self, request: HttpRequest) -> HttpFuture;
}

/// An [`HttpClient`] from a closure answering synchronously: for tests and dry runs.
pub struct FnClient<F>(pub F);

impl<F> HttpClient for FnClient<F>
where
    F: Fn(HttpRequest) -> Result<HttpResponse, HttpError> + Send + Sync,
{
    fn send(&self, request: HttpRequest) -> HttpFuture {
        let result = (self.0)(request);
        Box::pin(async move { result })
    }
}

/// The client of an exchange that has none: every call fails with a clear message.
pub struct NoClient;

impl HttpClient for NoClient {
    fn send(&self, request: HttpRequest) -> HttpFuture {
        let url = request.url;
        Box::pin(async move {
            Err(HttpError::Failed(format!(
                "no HTTP client is available to send a request to {url}"
            )))
        })
    }
}
