//! The compiled pipeline the gateway runs per request.
//!
//! A composed policy ([`Composed`]) is compiled once per config snapshot into typed steps whose
//! expressions are already parsed ([`Program`](crate::expr::Program)), so a request never
//! re-reads XML or re-parses C#. The gateway exposes the request/response it is serving through
//! the [`Exchange`] trait and calls [`Pipeline::run`] once per section.
//!
//! Errors follow APIM: a failing policy (an expression that throws, an ip-filter refusal, a
//! failed check-header) sets `context.LastError`, presets the response APIM would send (500,
//! or the policy's own 403/…), and runs `on-error`; see [`Outcome`].

pub(crate) mod attrs;
mod caching;
mod calls;
mod compile;
mod concurrency;
mod eval;
mod exchange;
mod jwt;
mod limit;
mod redact;
mod run;

use std::fmt;

pub use compile::{BodyNeeds, Pipeline};
pub use concurrency::{Concurrency, ConcurrencySlot, ConcurrencySlots, Slot};
pub use exchange::{
    BackendChoice, BackendFailure, CREDENTIAL_HEADERS, CacheMiss, DeferredCount, Effects, Exchange,
    ForwardFuture, ForwardOptions, Forwarded, TestExchange,
};

pub use crate::document::Section;
pub use redact::scrub;
pub use run::fill_rewrite_template;

/// What a request's policies may spend: each expression evaluation's budgets, and the largest
/// body a policy may produce (find-and-replace, set-body, json-to-xml, xml-to-json, …). The
/// gateway fills it from `gateway.limits`; exceeding either fails the policy into `on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub expression: crate::expr::Limits,
    /// `gateway.limits.max_buffered_body_bytes`.
    pub max_body_bytes: usize,
}

/// Microsoft Entra ID's authority in Azure's public cloud: the default of
/// `gateway.entra_authority` (validate-azure-ad-token).
pub const DEFAULT_ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Default of `gateway.limits.max_buffered_body_bytes`.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            expression: crate::expr::Limits::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Which HTTP message a header or body operation targets. APIM decides it by section:
/// `inbound`/`backend` act on the request, `outbound`/`on-error` on the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    Request,
    Response,
}

impl Message {
    /// The message's name under `context` (`Request`, `Response`), as [`Context::body`]
    /// (crate::expr::Context::body) takes it.
    pub fn context_name(self) -> &'static str {
        match self {
            Message::Request => "Request",
            Message::Response => "Response",
        }
    }

    /// The message a section's set-header/set-body act on.
    pub fn of_section(section: Section) -> Message {
        match section {
            Section::Inbound | Section::Backend => Message::Request,
            Section::Outbound | Section::OnError => Message::Response,
        }
    }
}

/// APIM's `exists-action` of set-header and set-query-parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExistsAction {
    /// Replace the existing values (the default).
    #[default]
    Override,
    /// Leave an existing entry alone.
    Skip,
    /// Add the values after the existing ones.
    Append,
    /// Remove the entry.
    Delete,
}

impl ExistsAction {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "override" => ExistsAction::Override,
            "skip" => ExistsAction::Skip,
            "append" => ExistsAction::Append,
            "delete" => ExistsAction::Delete,
            _ => return None,
        })
    }

    /// The values an entry holds after applying the action, or `None` to remove it. Kept here
    /// (not in each gateway) so every [`Exchange`] gets APIM's semantics.
    pub fn apply(self, existing: Option<Vec<String>>, values: Vec<String>) -> Option<Vec<String>> {
        match (self, existing) {
            (ExistsAction::Delete, _) => None,
            (ExistsAction::Skip, Some(old)) => Some(old),
            (ExistsAction::Append, Some(mut old)) => {
                old.extend(values);
                Some(old)
            }
            _ => Some(values),
        }
    }
}

/// A complete response that ends the pipeline (return-response, mock-response, or an
/// on-error return-response). Headers keep their order; a name may repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Response {
    /// APIM's default response for return-response: 200 OK, no headers, no body.
    pub fn ok() -> Self {
        Response {
            status: 200,
            reason: "OK".into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// The values of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn apply_header(&mut self, name: &str, values: Vec<String>, action: ExistsAction) {
        let existing: Vec<String> = self.header(name).into_iter().map(String::from).collect();
        let existing = (!existing.is_empty()).then_some(existing);
        let next = action.apply(existing, values);
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        for v in next.unwrap_or_default() {
            self.headers.push((name.to_string(), v));
        }
    }
}

/// How a section ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Go on to the next stage (backend call, next section, or send the response).
    Continue,
    /// Stop here and send exactly this response (return-response, mock-response).
    Respond(Response),
    /// A policy failed and `on-error` ran to completion: send the response the exchange now
    /// holds. The pipeline preset it (500, or the failing policy's own status and message)
    /// before `on-error` ran, so `on-error` could amend it.
    Error(LastError),
}

/// `context.LastError` as APIM fills it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastError {
    /// The policy that failed, e.g. `set-header`, `ip-filter`.
    pub source: String,
    /// Machine-readable reason, e.g. `ExpressionValueEvaluationFailure`, `CallerIpBlocked`.
    pub reason: String,
    pub message: String,
    /// The scope the failing policy came from: `global`, `product`, `api` or `operation`
    /// (empty for the gateway's own forward and for hand-built compositions).
    pub scope: String,
    /// `inbound`, `backend`, `outbound` or `on-error`.
    pub section: String,
    /// The element path of the failing policy, e.g. `policies/inbound/choose/when[1]/set-header`.
    pub path: String,
    /// The policy's `id` attribute when it has one.
    pub policy_id: String,
}

impl LastError {
    /// `(member name, value)` pairs as `context.LastError.*` exposes them.
    pub fn members(&self) -> [(&'static str, &str); 7] {
        [
            ("Source", &self.source),
            ("Reason", &self.reason),
            ("Message", &self.message),
            ("Scope", &self.scope),
            ("Section", &self.section),
            ("Path", &self.path),
            ("PolicyId", &self.policy_id),
        ]
    }
}

/// Why a composed policy cannot be compiled. Any error refuses the whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at {path} ({line}:{column}) in <{policy}>: {message}")]
pub struct CompileError {
    pub kind: CompileErrorKind,
    /// The policy element concerned.
    pub policy: String,
    /// Its element path.
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// The class of a [`CompileError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    /// A policy (or a form of it) the pipeline cannot run: never silently skipped.
    Unsupported,
    /// A missing or invalid attribute or child.
    Attribute,
    /// An expression that does not parse.
    Expression,
}

impl fmt::Display for CompileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompileErrorKind::Unsupported => "unsupported",
            CompileErrorKind::Attribute => "attribute",
            CompileErrorKind::Expression => "expression",
        })
    }
}

/// The standard reason phrase of common status codes, for responses APIM builds itself.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}
