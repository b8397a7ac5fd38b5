//! Composed policy elements → typed steps with pre-parsed expressions.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::attrs::*;
use super::{
    CompileError, CompileErrorKind, ExistsAction, ForwardOptions, Message, Section, reason_phrase,
};
use crate::cache;
use crate::document::{Composed, Node, PolicyElement};

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub origin: Origin,
    pub kind: StepKind,
}

/// One address rule of ip-filter, normalized to 128-bit numbers in one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpRange {
    pub v4: bool,
    pub from: u128,
    pub to: u128,
}

/// An edit a return-response child makes to the response it builds.
#[derive(Debug, Clone)]
pub(crate) enum ResponseEdit {
    Status {
        code: Operand,
        reason: Option<Operand>,
    },
    Header {
        name: String,
        action: ExistsAction,
        values: Vec<Operand>,
    },
    Body(Operand),
}

#[derive(Debug, Clone)]
pub(crate) enum StepKind {
    /// `<forward-request>`: sends the request to the backend, here.
    ForwardRequest(ForwardOptions),
    /// `<retry>`: runs its steps, then again while the condition holds and attempts remain.
    Retry(Box<RetryStep>),
    /// `<wait for="all|any">`: runs its send-request children at the same time.
    Wait {
        any: bool,
        steps: Vec<Step>,
    },
    /// send-request and send-one-way-request.
    SendRequest(Box<SendRequestStep>),
    /// `<limit-concurrency key max-count>` around its steps.
    LimitConcurrency {
        key: Operand,
        max_count: usize,
        steps: Vec<Step>,
    },
    AuthenticationBasic {
        username: Operand,
        password: Operand,
    },
    FindAndReplace {
        message: Message,
        from: Operand,
        to: Operand,
    },
    JsonToXml(Message, Box<crate::transform::JsonToXml>),
    XmlToJson(Message, Box<crate::transform::XmlToJson>),
    ValidateJwt(Box<super::jwt::JwtStep>),
    ValidateAzureAdToken(Box<super::jwt::AadStep>),
    Cors(Box<crate::cors::Cors>),
    CacheLookup(Box<cache::CacheLookup<Operand>>),
    CacheStore(Box<cache::CacheStore<Operand>>),
    CacheLookupValue(Box<cache::CacheLookupValue<Operand>>),
    CacheStoreValue(Box<cache::CacheStoreValue<Operand>>),
    CacheRemoveValue(Box<cache::CacheRemoveValue<Operand>>),
    Choose {
        branches: Vec<(Operand, Vec<Step>)>,
        otherwise: Vec<Step>,
    },
    SetVariable {
        name: String,
        value: Operand,
    },
    SetHeader {
        message: Message,
        name: String,
        action: ExistsAction,
        values: Vec<Operand>,
    },
    SetQueryParameter {
        name: String,
        action: ExistsAction,
        values: Vec<Operand>,
    },
    SetStatus {
        code: Operand,
        reason: Option<Operand>,
    },
    SetMethod(Operand),
    ReturnResponse(Vec<ResponseEdit>),
    MockResponse {
        status: u16,
        content_type: String,
    },
    RewriteUri {
        template: Operand,
        copy_unmatched_params: bool,
    },
    SetBackendService {
        /// `base-url` or `backend-id`.
        backend: Operand,
        by_id: bool,
    },
    IpFilter {
        allow: bool,
        ranges: Vec<IpRange>,
    },
    CheckHeader {
        name: String,
        code: u16,
        message: Operand,
        ignore_case: bool,
        values: Vec<Operand>,
    },
    Trace {
        source: String,
        message: Operand,
    },
    SetBody {
        message: Message,
        body: Operand,
    },
    /// rate-limit, rate-limit-by-key, quota, quota-by-key.
    Limit(Arc<LimitStep>),
}

/// A compiled limit policy. `calls`, `renewal-period` and `increment-count` may be
/// expressions (APIM allows them in the `-by-key` forms); literals are checked here.
#[derive(Debug, Clone)]
pub(crate) struct LimitStep {
    /// quota/quota-by-key (fixed window, 403) rather than a rate limit (sliding window, 429).
    pub quota: bool,
    pub calls: Operand,
    pub renewal_period: Operand,
    /// `counter-key`; `None` counts per subscription (rate-limit, quota).
    pub counter_key: Option<Operand>,
    pub increment_condition: Option<Operand>,
    pub increment_count: Operand,
    pub headers: crate::limits::RateLimitHeaders,
    pub retry_after_variable: Option<String>,
    pub remaining_variable: Option<String>,
}

/// A compiled `<retry>`. Intervals are seconds, as in APIM.
#[derive(Debug, Clone)]
pub(crate) struct RetryStep {
    pub condition: Operand,
    pub count: Operand,
    pub interval: Operand,
    pub max_interval: Option<Operand>,
    pub delta: Option<Operand>,
    pub first_fast_retry: bool,
    pub steps: Vec<Step>,
}

/// A compiled send-request or send-one-way-request.
#[derive(Debug, Clone)]
pub(crate) struct SendRequestStep {
    /// `mode="copy"`: start from the current request (method, URL, headers, body).
    pub copy: bool,
    /// send-one-way-request: fire and forget.
    pub one_way: bool,
    pub response_variable_name: Option<String>,
    pub timeout: Duration,
    pub ignore_error: bool,
    pub url: Option<Operand>,
    pub method: Option<Operand>,
    pub headers: Vec<(String, ExistsAction, Vec<Operand>)>,
    pub body: Option<Operand>,
}

/// A composed policy compiled for per-request runs. Cheap to share behind an `Arc`: running
/// it never mutates it.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub(crate) inbound: Vec<Step>,
    pub(crate) backend: Vec<Step>,
    pub(crate) outbound: Vec<Step>,
    pub(crate) on_error: Vec<Step>,
    pub(crate) bodies: BodyNeeds,
}

/// Which bodies the policies read or send again, so the gateway buffers exactly those and
/// streams everything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyNeeds {
    /// The request body must be read whole before inbound: an expression reads it, a policy
    /// rewrites it, send-request copies it, or it may be sent more than once (retry,
    /// `buffer-request-body`).
    pub request: bool,
    /// The response body must be read whole before outbound.
    pub response: bool,
}

impl Pipeline {
    /// Compiles every section. The first problem refuses the whole pipeline: a config
    /// snapshot must be all or nothing.
    pub fn compile(composed: &Composed) -> Result<Pipeline, CompileError> {
        Ok(Pipeline {
            inbound: compile_section(composed, Section::Inbound)?,
            backend: compile_section(composed, Section::Backend)?,
            outbound: compile_section(composed, Section::Outbound)?,
            on_error: compile_section(composed, Section::OnError)?,
            bodies: BodyNeeds {
                request: composed.inbound.iter().any(|e| needs_body(e, false))
                    || composed.backend.iter().any(|e| needs_body(e, false))
                    || composed
                        .outbound
                        .iter()
                        .any(|e| mentions(e, "Request.Body"))
                    || composed
                        .on_error
                        .iter()
                        .any(|e| mentions(e, "Request.Body")),
                response: composed.outbound.iter().any(|e| needs_body(e, true))
                    || composed.on_error.iter().any(|e| needs_body(e, true))
                    || composed
                        .backend
                        .iter()
                        .any(|e| mentions(e, "Response.Body")),
            },
        })
    }

    /// The bodies the gateway must buffer for this pipeline.
    pub fn body_needs(&self) -> BodyNeeds {
        self.bodies
    }

    pub(crate) fn steps(&self, section: Section) -> &[Step] {
        match section {
            Section::Inbound => &self.inbound,
            Section::Backend => &self.backend,
            Section::Outbound => &self.outbound,
            Section::OnError => &self.on_error,
        }
    }

    /// How many top-level steps a section has (for diagnostics and tests).
    pub fn len(&self, section: Section) -> usize {
        self.steps(section).len()
    }

    /// Whether a section has no steps.
    pub fn is_empty(&self, section: Section) -> bool {
        self.steps(section).is_empty()
    }
}

/// Whether an element (or anything inside it) reads or rewrites the section's body, or sends
/// the request more than once. An over-approximation on purpose: an expression that merely
/// names `Body` makes the body buffered, which costs memory, never correctness.
fn needs_body(e: &PolicyElement, response: bool) -> bool {
    mentions(e, "Body") || uses_body(e, response)
}

/// Whether `e` or an element inside it is a policy that works on the whole body.
fn uses_body(e: &PolicyElement, response: bool) -> bool {
    let by_name = match e.name.as_str() {
        "set-body" | "find-and-replace" | "json-to-xml" | "xml-to-json" => true,
        "cache-store" => response,
        "retry" => !response && contains(e, "forward-request"),
        "send-request" | "send-one-way-request" => {
            !response && e.attr("mode").and_then(|m| m.as_literal()) == Some("copy")
        }
        "forward-request" => {
            !response && e.attr("buffer-request-body").and_then(|m| m.as_literal()) == Some("true")
        }
        _ => false,
    };
    by_name || e.elements().any(|c| uses_body(c, response))
}

/// Whether an expression anywhere in `e` contains `text` (e.g. `Request.Body` read in
/// outbound, or `Response.Body` in a retry condition).
fn mentions(e: &PolicyElement, text: &str) -> bool {
    let has = |v: &crate::document::Value| match v {
        crate::document::Value::Expression { source, .. } => source.contains(text),
        crate::document::Value::Literal { .. } => false,
    };
    e.attributes.iter().any(|(_, v)| has(v))
        || e.children.iter().any(|c| match c {
            Node::Element(child) => mentions(child, text),
            Node::Text(v) => has(v),
        })
}

fn contains(e: &PolicyElement, name: &str) -> bool {
    e.elements().any(|c| c.name == name || contains(c, name))
}

/// A section's steps, each (and everything inside it) tagged with the scope it came from.
fn compile_section(composed: &Composed, section: Section) -> Result<Vec<Step>, CompileError> {
    let mut steps = compile_steps(composed.section(section), section)?;
    for (i, step) in steps.iter_mut().enumerate() {
        set_scope(step, composed.scope_of(section, i));
    }
    Ok(steps)
}

fn set_scope(step: &mut Step, scope: &'static str) {
    step.origin.scope = scope;
    match &mut step.kind {
        StepKind::Choose {
            branches,
            otherwise,
        } => {
            for s in branches.iter_mut().flat_map(|(_, b)| b.iter_mut()) {
                set_scope(s, scope);
            }
            for s in otherwise {
                set_scope(s, scope);
            }
        }
        StepKind::Retry(r) => r.steps.iter_mut().for_each(|s| set_scope(s, scope)),
        StepKind::Wait { steps, .. } | StepKind::LimitConcurrency { steps, .. } => {
            steps.iter_mut().for_each(|s| set_scope(s, scope))
        }
        _ => {}
    }
}

fn compile_steps(elements: &[PolicyElement], section: Section) -> Result<Vec<Step>, CompileError> {
    elements.iter().map(|e| compile_step(e, section)).collect()
}

fn compile_step(e: &PolicyElement, section: Section) -> Result<Step, CompileError> {
    let origin = Origin {
        scope: "",
        policy: e.name.clone(),
        path: e.path.clone(),
        id: literal(e, "id")
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
    };
    let kind = match e.name.as_str() {
        "choose" => {
            let mut branches = Vec::new();
            let mut otherwise = Vec::new();
            for c in only_children(e, &["when", "otherwise"])? {
                let steps = c
                    .elements()
                    .map(|x| compile_step(x, section))
                    .collect::<Result<Vec<_>, _>>()?;
                if c.name == "when" {
                    branches.push((required(c, "condition")?, steps));
                } else {
                    otherwise = steps;
                }
            }
            StepKind::Choose {
                branches,
                otherwise,
            }
        }
        "set-variable" => StepKind::SetVariable {
            name: required_literal(e, "name")?.to_string(),
            value: required(e, "value")?,
        },
        "set-header" => StepKind::SetHeader {
            message: Message::of_section(section),
            name: required_literal(e, "name")?.to_string(),
            action: exists_action(e)?,
            values: values(e)?,
        },
        "set-query-parameter" => StepKind::SetQueryParameter {
            name: required_literal(e, "name")?.to_string(),
            action: exists_action(e)?,
            values: values(e)?,
        },
        "set-status" => {
            let (code, reason) = set_status(e)?;
            StepKind::SetStatus { code, reason }
        }
        "set-method" => StepKind::SetMethod(text(e)?),
        "return-response" => {
            reject_attrs(e, &["response-variable-name"])?;
            let mut edits = Vec::new();
            for c in only_children(e, &["set-status", "set-header", "set-body"])? {
                edits.push(match c.name.as_str() {
                    "set-status" => {
                        let (code, reason) = set_status(c)?;
                        ResponseEdit::Status { code, reason }
                    }
                    "set-header" => ResponseEdit::Header {
                        name: required_literal(c, "name")?.to_string(),
                        action: exists_action(c)?,
                        values: values(c)?,
                    },
                    _ => ResponseEdit::Body(set_body(c)?),
                });
            }
            StepKind::ReturnResponse(edits)
        }
        "mock-response" => {
            reject_attrs(e, &["index"])?;
            StepKind::MockResponse {
                status: literal_status(e, "status-code", 200)?,
                content_type: literal(e, "content-type")?
                    .unwrap_or("application/json")
                    .to_string(),
            }
        }
        "rewrite-uri" => StepKind::RewriteUri {
            template: required(e, "template")?,
            copy_unmatched_params: literal_bool(e, "copy-unmatched-params", true)?,
        },
        "set-backend-service" => {
            reject_attrs(
                e,
                &[
                    "sf-resolve-condition",
                    "sf-service-instance-name",
                    "sf-partition-key",
                    "sf-listener-name",
                    "sf-replica-type",
                ],
            )?;
            match (attr(e, "base-url")?, attr(e, "backend-id")?) {
                (Some(url), None) => StepKind::SetBackendService {
                    backend: url,
                    by_id: false,
                },
                (None, Some(id)) => StepKind::SetBackendService {
                    backend: id,
                    by_id: true,
                },
                _ => {
                    return Err(error(
                        e,
                        CompileErrorKind::Attribute,
                        "set-backend-service needs exactly one of 'base-url' and 'backend-id'",
                    ));
                }
            }
        }
        "ip-filter" => ip_filter(e)?,
        "check-header" => StepKind::CheckHeader {
            name: required_literal(e, "name")?.to_string(),
            code: literal_status(e, "failed-check-httpcode", 401)?,
            message: attr(e, "failed-check-error-message")?
                .unwrap_or_else(|| Operand::Literal(reason_phrase(401).into())),
            ignore_case: literal_bool(e, "ignore-case", false)?,
            values: values(e)?,
        },
        "forward-request" => StepKind::ForwardRequest(forward_options(e)?),
        "retry" => StepKind::Retry(Box::new(retry(e, section)?)),
        "wait" => {
            let any = match literal(e, "for")?.unwrap_or("all") {
                "all" => false,
                "any" => true,
                other => {
                    return Err(error(
                        e,
                        CompileErrorKind::Attribute,
                        format!("wait for must be all or any, not '{other}'"),
                    ));
                }
            };
            let steps = only_children(e, &["send-request", "cache-lookup-value", "choose"])?
                .into_iter()
                .map(|c| compile_step(c, section))
                .collect::<Result<_, _>>()?;
            StepKind::Wait { any, steps }
        }
        "send-request" | "send-one-way-request" => {
            StepKind::SendRequest(Box::new(send_request(e)?))
        }
        "limit-concurrency" => {
            let max = required_literal(e, "max-count")?;
            let max_count = max
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    error(
                        e,
                        CompileErrorKind::Attribute,
                        format!("max-count must be a whole number above 0, not '{max}'"),
                    )
                })?;
            StepKind::LimitConcurrency {
                key: required(e, "key")?,
                max_count,
                steps: e
                    .elements()
                    .map(|c| compile_step(c, section))
                    .collect::<Result<_, _>>()?,
            }
        }
        "authentication-basic" => StepKind::AuthenticationBasic {
            username: required(e, "username")?,
            password: required(e, "password")?,
        },
        "json-to-xml" => StepKind::JsonToXml(
            Message::of_section(section),
            Box::new(crate::transform::compile_json_to_xml(e)?),
        ),
        "xml-to-json" => StepKind::XmlToJson(
            Message::of_section(section),
            Box::new(crate::transform::compile_xml_to_json(e)?),
        ),
        "validate-jwt" => StepKind::ValidateJwt(Box::new(super::jwt::compile(e)?)),
        "validate-azure-ad-token" => {
            StepKind::ValidateAzureAdToken(Box::new(super::jwt::compile_aad(e)?))
        }
        "cors" => StepKind::Cors(Box::new(crate::cors::compile(e)?)),
        "cache-lookup" => StepKind::CacheLookup(Box::new(cache::compile_lookup(e, operand)?)),
        "cache-store" => StepKind::CacheStore(Box::new(cache::compile_store(e, operand)?)),
        "cache-lookup-value" => {
            StepKind::CacheLookupValue(Box::new(cache::compile_lookup_value(e, operand)?))
        }
        "cache-store-value" => {
            StepKind::CacheStoreValue(Box::new(cache::compile_store_value(e, operand)?))
        }
        "cache-remove-value" => {
            StepKind::CacheRemoveValue(Box::new(cache::compile_remove_value(e, operand)?))
        }
        "find-and-replace" => StepKind::FindAndReplace {
            message: Message::of_section(section),
            from: required(e, "from")?,
            to: required(e, "to")?,
        },
        "trace" => {
            let message = match e.elements().find(|c| c.name == "message") {
                Some(m) => text(m)?,
                None => text(e)?,
            };
            StepKind::Trace {
                source: required_literal(e, "source")?.to_string(),
                message,
            }
        }
        "set-body" => StepKind::SetBody {
            message: Message::of_section(section),
            body: set_body(e)?,
        },
        "rate-limit" | "rate-limit-by-key" | "quota" | "quota-by-key" => {
            StepKind::Limit(Arc::new(limit(e)?))
        }
        other => {
            return Err(error(
                e,
                CompileErrorKind::Unsupported,
                format!("policy <{other}> cannot run in the gatehouse pipeline yet"),
            ));
        }
    };
    Ok(Step { origin, kind })
}

/// A literal number of seconds (fractions allowed), checked now.
fn seconds(e: &PolicyElement, name: &str) -> Result<Option<Duration>, CompileError> {
    let Some(s) = literal(e, name)? else {
        return Ok(None);
    };
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && *n <= 86_400.0)
        .map(|n| Some(Duration::from_secs_f64(n)))
        .ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Attribute,
                format!("attribute '{name}' must be a number of seconds (0-86400), not '{s}'"),
            )
        })
}

fn forward_options(e: &PolicyElement) -> Result<ForwardOptions, CompileError> {
    reject_attrs(e, &["http-version"])?;
    let d = ForwardOptions::default();
    Ok(ForwardOptions {
        timeout: seconds(e, "timeout")?,
        follow_redirects: literal_bool(e, "follow-redirects", d.follow_redirects)?,
        buffer_request_body: literal_bool(e, "buffer-request-body", d.buffer_request_body)?,
        buffer_response: literal_bool(e, "buffer-response", d.buffer_response)?,
        fail_on_error_status_code: literal_bool(
            e,
            "fail-on-error-status-code",
            d.fail_on_error_status_code,
        )?,
    })
}

fn retry(e: &PolicyElement, section: Section) -> Result<RetryStep, CompileError> {
    let count = count(e, "count", None)?;
    if let Operand::Literal(c) = &count
        && !(1..=50).contains(&c.trim().parse::<u64>().unwrap_or(0))
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("retry count must be between 1 and 50, not '{c}'"),
        ));
    }
    Ok(RetryStep {
        condition: required(e, "condition")?,
        count,
        interval: count_or_default(e, "interval")?,
        max_interval: attr(e, "max-interval")?,
        delta: attr(e, "delta")?,
        first_fast_retry: literal_bool(e, "first-fast-retry", false)?,
        steps: e
            .elements()
            .map(|c| compile_step(c, section))
            .collect::<Result<_, _>>()?,
    })
}

fn count_or_default(e: &PolicyElement, name: &str) -> Result<Operand, CompileError> {
    count(e, name, Some("0"))
}

fn send_request(e: &PolicyElement) -> Result<SendRequestStep, CompileError> {
    let one_way = e.name == "send-one-way-request";
    let copy = match literal(e, "mode")?.unwrap_or("new") {
        "new" => false,
        "copy" => true,
        other => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                format!("mode must be new or copy, not '{other}'"),
            ));
        }
    };
    let mut step = SendRequestStep {
        copy,
        one_way,
        response_variable_name: if one_way {
            None
        } else {
            literal(e, "response-variable-name")?.map(str::to_string)
        },
        timeout: seconds(e, "timeout")?.unwrap_or(Duration::from_secs(60)),
        ignore_error: literal_bool(e, "ignore-error", false)?,
        url: None,
        method: None,
        headers: Vec::new(),
        body: None,
    };
    for c in only_children(e, &["set-url", "set-method", "set-header", "set-body"])? {
        match c.name.as_str() {
            "set-url" => step.url = Some(text(c)?),
            "set-method" => step.method = Some(text(c)?),
            "set-header" => step.headers.push((
                required_literal(c, "name")?.to_string(),
                exists_action(c)?,
                values(c)?,
            )),
            _ => step.body = Some(set_body(c)?),
        }
    }
    if step.url.is_none() && !copy {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("<{}> needs a <set-url> child (or mode=\"copy\")", e.name),
        ));
    }
    if !one_way && step.response_variable_name.is_none() {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            "missing attribute 'response-variable-name'",
        ));
    }
    Ok(step)
}

/// The code (checked now when literal) and reason of set-status.
fn set_status(e: &PolicyElement) -> Result<(Operand, Option<Operand>), CompileError> {
    let code = required(e, "code")?;
    if let Operand::Literal(s) = &code
        && parse_status(s.trim()).is_none()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("code must be an HTTP status code (100-599), not '{s}'"),
        ));
    }
    Ok((code, attr(e, "reason")?))
}

/// set-body: literal text or an expression. Liquid templates and XML element bodies are not
/// supported yet and refused rather than sent verbatim.
fn set_body(e: &PolicyElement) -> Result<Operand, CompileError> {
    if literal(e, "template")? == Some("liquid") {
        return Err(error(
            e,
            CompileErrorKind::Unsupported,
            "set-body template=\"liquid\" is not supported yet",
        ));
    }
    if e.children.iter().any(|c| matches!(c, Node::Element(_))) {
        return Err(error(
            e,
            CompileErrorKind::Unsupported,
            "set-body with an XML element body is not supported yet",
        ));
    }
    text(e)
}

/// A count attribute: an expression, or a literal whole number checked now.
fn count(e: &PolicyElement, name: &str, default: Option<&str>) -> Result<Operand, CompileError> {
    let op = match (attr(e, name)?, default) {
        (Some(op), _) => op,
        (None, Some(d)) => Operand::Literal(d.to_string()),
        (None, None) => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                format!("missing attribute '{name}'"),
            ));
        }
    };
    if let Operand::Literal(s) = &op
        && s.trim().parse::<u64>().is_err()
    {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("attribute '{name}' must be a whole number, not '{s}'"),
        ));
    }
    Ok(op)
}

fn limit(e: &PolicyElement) -> Result<LimitStep, CompileError> {
    let quota = e.name.starts_with("quota");
    let by_key = e.name.ends_with("-by-key");
    // Per-API/operation children of rate-limit/quota, bandwidth quotas and aligned periods
    // are not implemented: refused rather than ignored.
    only_children(e, &[])?;
    reject_attrs(e, &["bandwidth", "first-period-start"])?;
    let header_or_var = |name: &str| -> Result<Option<String>, CompileError> {
        Ok(literal(e, name)?.map(str::to_string))
    };
    let (headers, retry_after_variable, remaining_variable) = if quota {
        Default::default()
    } else {
        (
            crate::limits::RateLimitHeaders {
                remaining_calls_header_name: header_or_var("remaining-calls-header-name")?,
                retry_after_header_name: header_or_var("retry-after-header-name")?,
                total_calls_header_name: header_or_var("total-calls-header-name")?,
            },
            header_or_var("retry-after-variable-name")?,
            header_or_var("remaining-calls-variable-name")?,
        )
    };
    Ok(LimitStep {
        quota,
        calls: count(e, "calls", None)?,
        renewal_period: count(e, "renewal-period", None)?,
        counter_key: if by_key {
            Some(required(e, "counter-key")?)
        } else {
            None
        },
        increment_condition: if by_key {
            attr(e, "increment-condition")?
        } else {
            None
        },
        increment_count: count(e, "increment-count", Some("1"))?,
        headers,
        retry_after_variable,
        remaining_variable,
    })
}

fn ip_filter(e: &PolicyElement) -> Result<StepKind, CompileError> {
    let allow = match required_literal(e, "action")? {
        "allow" => true,
        "forbid" => false,
        other => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                format!("ip-filter action must be allow or forbid, not '{other}'"),
            ));
        }
    };
    let mut ranges = Vec::new();
    for c in only_children(e, &["address", "address-range"])? {
        let parse = |s: &str| {
            s.trim().parse::<IpAddr>().map(ip_key).map_err(|_| {
                error(
                    c,
                    CompileErrorKind::Attribute,
                    format!("'{s}' is not an IP address"),
                )
            })
        };
        if c.name == "address" {
            let Operand::Literal(s) = text(c)? else {
                return Err(error(
                    c,
                    CompileErrorKind::Unsupported,
                    "ip-filter addresses must be literals",
                ));
            };
            let (v4, a) = parse(&s)?;
            ranges.push(IpRange { v4, from: a, to: a });
        } else {
            let (v4f, from) = parse(required_literal(c, "from")?)?;
            let (v4t, to) = parse(required_literal(c, "to")?)?;
            if v4f != v4t || from > to {
                return Err(error(
                    c,
                    CompileErrorKind::Attribute,
                    "address-range needs from <= to in the same address family",
                ));
            }
            ranges.push(IpRange { v4: v4f, from, to });
        }
    }
    Ok(StepKind::IpFilter { allow, ranges })
}

/// An address as (is IPv4, number); IPv4-mapped IPv6 addresses count as IPv4 so a dual-stack
/// listener matches IPv4 rules.
pub(crate) fn ip_key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (true, u128::from(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (true, u128::from(u32::from(v4))),
            None => (false, u128::from(a)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap_or(IpAddr::from([0u8; 16]));
        assert_eq!(ip_key(mapped), (true, 0x0a00_0001));
        assert_eq!(ip_key(IpAddr::from([10, 0, 0, 1])), (true, 0x0a00_0001));
        assert!(!ip_key(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])).0);
    }

    #[test]
    fn status_codes_are_range_checked() {
        assert_eq!(parse_status("404"), Some(404));
        assert_eq!(parse_status("99"), None);
        assert_eq!(parse_status("600"), None);
        assert_eq!(parse_status("abc"), None);
    }
}
