//! The management API's error answers in ARM's shape:
//! `{"error":{"code","message","details":[{"code","target","message"}]}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One entry of `error.details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub code: String,
    pub target: String,
    pub message: String,
}

/// An answer other than success; every handler returns `Result<_, ApiError>`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    /// 405: the methods the path serves, sent as `Allow`.
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            allow: None,
        }
    }
    /// 405's `Allow` header.
    pub fn with_allow(mut self, methods: String) -> Self {
        self.allow = Some(methods);
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }
    /// A request body property that cannot be read: 400 with the property as target.
    pub fn property(target: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let target = target.into();
        let mut e = Self::bad_request("One or more fields contain incorrect values:");
        e.details.push(Detail {
            code: "ValidationError".into(),
            target,
            message,
        });
        e
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("{} not found.", what.into()),
        )
    }
    pub fn precondition() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "The entity tag in If-Match does not match the resource's current ETag.",
        )
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }
    pub fn body(&self) -> serde_json::Value {
        let details: Vec<_> = self
            .details
            .iter()
            .map(|d| json!({"code": d.code, "target": d.target, "message": d.message}))
            .collect();
        json!({"error": {"code": self.code, "message": self.message, "details": details}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("SharedAccessSignature"),
            );
        }
        if let Some(v) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            r.headers_mut().insert(header::ALLOW, v);
        }
        r
    }
}
