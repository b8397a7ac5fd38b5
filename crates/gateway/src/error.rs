//! One error type for the request path, recording where an error came from and whether the
//! request may be retried (after Pingora's `Error`), and how it is answered: APIM's JSON shape
//! `{"statusCode": N, "message": "..."}`.

use bytes::Bytes;
use http::StatusCode;
use std::fmt;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The client's request (no route, no key, bad request).
    Client,
    /// The gateway itself (a limit, a bug).
    Gateway,
    /// The backend (refused, unreachable, timed out, broke the connection).
    Backend,
}

impl ErrorSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Client => "client",
            ErrorSource::Gateway => "gateway",
            ErrorSource::Backend => "backend",
        }
    }
}

/// What went wrong; each kind has one status and one APIM-style message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    ApiNotFound,
    OperationNotFound,
    SubscriptionKeyMissing,
    SubscriptionKeyInvalid,
    SubscriptionInactive,
    UriTooLong,
    BadRequest,
    PublicNetworkAccessDisabled,
    EgressRefused,
    BackendDnsFailed,
    BackendUnreachable,
    BackendTimeout,
    BackendBroken,
    /// The policies asked for something the gateway cannot do yet (or an invalid edit).
    PolicyUnsupported,
    /// A body the policies need whole is larger than the gateway buffers.
    BodyTooLarge,
    /// The client stopped sending its request body (`body_read_timeout_ms`).
    ClientBodyTimeout,
    /// The client's request body is malformed (a bad chunk, shorter than its length).
    ClientBodyBroken,
    /// A request the gateway refuses to interpret: an ambiguous path (encoded dot segments or
    /// slashes), a missing or repeated `Host`, an upgrade the API does not speak.
    RequestRejected,
    /// Too many requests in flight on the gateway (`max_requests_in_flight`).
    Overloaded,
    /// No backend connection became free within `backend_queue_timeout_ms`.
    BackendPoolExhausted,
    /// The memory for buffered bodies (`max_buffered_total_bytes`) is in use.
    BufferBudgetExhausted,
    /// Internal mode: the request's host is not a host name of the gateway
    /// (crates/gateway/src/host_header.rs).
    UnknownHost,
}

/// An error on the request path.
#[derive(Debug, Clone)]
pub struct GatewayError {
    pub kind: ErrorKind,
    pub source: ErrorSource,
    /// Whether sending the same request again could succeed (nothing reached the backend).
    pub retryable: bool,
    /// Detail for the log only (may name internal addresses; never sent to the client).
    pub detail: String,
    /// A message made for this request, sent instead of the kind's fixed one.
    pub client_message: Option<String>,
}

impl GatewayError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> GatewayError {
        let (source, retryable) = match kind {
            ErrorKind::BackendUnreachable | ErrorKind::BackendDnsFailed => {
                (ErrorSource::Backend, true)
            }
            ErrorKind::EgressRefused | ErrorKind::PolicyUnsupported => {
                (ErrorSource::Gateway, false)
            }
            ErrorKind::BackendTimeout | ErrorKind::BackendBroken => (ErrorSource::Backend, false),
            ErrorKind::Overloaded
            | ErrorKind::BackendPoolExhausted
            | ErrorKind::BufferBudgetExhausted => (ErrorSource::Gateway, true),
            _ => (ErrorSource::Client, false),
        };
        GatewayError {
            kind,
            source,
            retryable,
            detail: detail.into(),
            client_message: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self.kind {
            ErrorKind::ApiNotFound | ErrorKind::OperationNotFound | ErrorKind::UnknownHost => {
                StatusCode::NOT_FOUND
            }
            ErrorKind::SubscriptionKeyMissing | ErrorKind::SubscriptionKeyInvalid => {
                StatusCode::UNAUTHORIZED
            }
            ErrorKind::SubscriptionInactive => StatusCode::FORBIDDEN,
            ErrorKind::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::PublicNetworkAccessDisabled => StatusCode::FORBIDDEN,
            ErrorKind::BackendUnreachable
            | ErrorKind::BackendBroken
            | ErrorKind::EgressRefused
            | ErrorKind::BackendDnsFailed => StatusCode::BAD_GATEWAY,
            ErrorKind::BackendTimeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::PolicyUnsupported => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::ClientBodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::ClientBodyBroken | ErrorKind::RequestRejected => StatusCode::BAD_REQUEST,
            ErrorKind::Overloaded
            | ErrorKind::BackendPoolExhausted
            | ErrorKind::BufferBudgetExhausted => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The message the client sees, in APIM's words where APIM has them.
    pub fn message(&self) -> &'static str {
        match self.kind {
            ErrorKind::ApiNotFound | ErrorKind::OperationNotFound | ErrorKind::UnknownHost => {
                "Resource not found"
            }
            ErrorKind::SubscriptionKeyMissing => {
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
            }
            ErrorKind::SubscriptionKeyInvalid => {
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
            }
            ErrorKind::SubscriptionInactive => {
                "Access denied due to inactive subscription. Make sure to provide a valid key for an active subscription."
            }
            ErrorKind::UriTooLong => "Request URI is too long",
            ErrorKind::BadRequest => "Bad request",
            ErrorKind::PublicNetworkAccessDisabled => "Public network access is disabled",
            ErrorKind::BackendUnreachable => "Bad gateway: the backend service is unreachable",
            ErrorKind::EgressRefused => {
                "Bad gateway: the backend's address is not allowed by the gateway's network rules"
            }
            ErrorKind::BackendDnsFailed => {
                "Bad gateway: the backend's host name could not be resolved"
            }
            ErrorKind::BackendTimeout => {
                "Gateway timeout: the backend service did not answer in time"
            }
            ErrorKind::BackendBroken => "Bad gateway: the backend service closed the connection",
            ErrorKind::PolicyUnsupported => "Internal server error",
            ErrorKind::BodyTooLarge => "Request entity too large",
            ErrorKind::ClientBodyTimeout => {
                "Request timeout: the request body did not arrive in time"
            }
            ErrorKind::ClientBodyBroken => "Bad request: the request body is malformed",
            ErrorKind::RequestRejected => "Bad request",
            ErrorKind::Overloaded => "Service unavailable: the gateway is at its request limit",
            ErrorKind::BackendPoolExhausted => {
                "Service unavailable: no connection to the backend service became free in time"
            }
            ErrorKind::BufferBudgetExhausted => {
                "Service unavailable: the gateway's memory for request bodies is in use"
            }
        }
    }

    /// A short, stable name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            ErrorKind::ApiNotFound => "api_not_found",
            ErrorKind::OperationNotFound => "operation_not_found",
            ErrorKind::SubscriptionKeyMissing => "subscription_key_missing",
            ErrorKind::SubscriptionKeyInvalid => "subscription_key_invalid",
            ErrorKind::SubscriptionInactive => "subscription_inactive",
            ErrorKind::UriTooLong => "uri_too_long",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::PublicNetworkAccessDisabled => "public_network_access_disabled",
            ErrorKind::BackendUnreachable => "backend_unreachable",
            ErrorKind::EgressRefused => "egress_refused",
            ErrorKind::BackendDnsFailed => "backend_dns_failed",
            ErrorKind::BackendTimeout => "backend_timeout",
            ErrorKind::BackendBroken => "backend_broken",
            ErrorKind::PolicyUnsupported => "policy_unsupported",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::ClientBodyTimeout => "client_body_timeout",
            ErrorKind::ClientBodyBroken => "client_body_broken",
            ErrorKind::RequestRejected => "request_rejected",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::BackendPoolExhausted => "backend_pool_exhausted",
            ErrorKind::BufferBudgetExhausted => "buffer_budget_exhausted",
            ErrorKind::UnknownHost => "unknown_host",
        }
    }

    /// The JSON body: `{"statusCode": 404, "message": "Resource not found"}`. Errors whose
    /// message names the request (public network access) carry it in `client_message`.
    pub fn body(&self) -> Bytes {
        json_error_body(
            self.status(),
            self.client_message.as_deref().unwrap_or(self.message()),
        )
    }

    /// Replaces the client-facing message with one made for this request.
    pub fn with_client_message(mut self, message: String) -> GatewayError {
        self.client_message = Some(message);
        self
    }
}

/// Longest text a single log field carries: a policy's trace or failure message may be as large
/// as an expression's memory budget, and one request must not write megabytes of log.
pub const MAX_LOGGED_TEXT: usize = 8 * 1024;

/// `text` cut to [`MAX_LOGGED_TEXT`] bytes (on a character boundary), for a log field.
pub fn clip_for_log(text: &str) -> &str {
    if text.len() <= MAX_LOGGED_TEXT {
        return text;
    }
    let mut end = MAX_LOGGED_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// APIM's error body for any status and message.
pub fn json_error_body(status: StatusCode, message: &str) -> Bytes {
    // Written by hand to keep APIM's field order: statusCode first.
    let message = serde_json::Value::from(message);
    Bytes::from(format!(
        "{{\"statusCode\":{},\"message\":{message}}}",
        status.as_u16()
    ))
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} error): {}",
            self.reason(),
            self.source.as_str(),
            self.detail
        )
    }
}

impl std::error::Error for GatewayError {}

/// An error compiling one setting of a validated config (certificates that do not load...).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CompileError {
    /// Where in the config file (`gateway.hostnames[0].certificate.cert_file`).
    pub path: String,
    pub message: String,
}

/// Why a validated config does not compile into a snapshot: a setting, or its policies. The
/// policies' error keeps its fields (file, line, column, policy) apart until the final display
/// (`gatehouse config validate --json`, the reload report: crates/cli/src/main.rs,
/// crates/cli/src/reload.rs); both display as `{path}: {message}`.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Setting(#[from] CompileError),
    #[error(transparent)]
    Policies(#[from] gatehouse_policy::config::ConfigPolicyError),
}

impl SnapshotError {
    /// Where in the config file the error is.
    pub fn path(&self) -> &str {
        match self {
            SnapshotError::Setting(e) => &e.path,
            SnapshotError::Policies(e) => &e.path,
        }
    }

    /// The policies' problems as JSON objects with separate fields (empty for a setting).
    pub fn policy_errors_json(&self) -> Vec<serde_json::Value> {
        match self {
            SnapshotError::Setting(_) => Vec::new(),
            SnapshotError::Policies(e) => e.to_json(),
        }
    }
}

/// An error starting the gateway.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

#[cfg(test)]
mod clip_tests {
    use super::*;

    #[test]
    fn long_log_text_is_clipped_on_a_char_boundary() {
        assert_eq!(clip_for_log("short"), "short");
        let long = "é".repeat(MAX_LOGGED_TEXT);
        let clipped = clip_for_log(&long);
        assert!(clipped.len() <= MAX_LOGGED_TEXT && clipped.len() >= MAX_LOGGED_TEXT - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apim_shape() {
        let e = GatewayError::new(ErrorKind::OperationNotFound, "GET /x");
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"statusCode": 404, "message": "Resource not found"})
        );
        assert!(GatewayError::new(ErrorKind::BackendUnreachable, "").retryable);
        assert_eq!(
            GatewayError::new(ErrorKind::BackendTimeout, "").source,
            ErrorSource::Backend
        );
    }
}
