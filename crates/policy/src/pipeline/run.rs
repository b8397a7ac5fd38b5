//! Running compiled steps against an [`Exchange`], with APIM's error flow into `on-error`.

use super::attrs::{Operand, Origin};
use super::compile::ip_key;
use super::compile::{IpRange, Pipeline, ResponseEdit, Step, StepKind};
use super::eval::*;
use super::{
    BackendChoice, Exchange, ExistsAction, LastError, Message, Outcome, Response, Section,
    reason_phrase,
};
use std::future::Future;
use std::pin::Pin;

pub(super) enum Flow {
    Continue,
    Respond(Response),
}

/// A failure with the step it came from, boxed: the happy path stays small.
pub(super) type Run<T> = Result<T, Box<(Origin, Failure)>>;

impl Pipeline {
    /// Runs one section. On a failure it sets `context.LastError`, presets the response
    /// (status, and body for policies that define one) on the exchange and runs `on-error`;
    /// a failure inside `on-error` ends with 500 without running it again, as in APIM.
    pub async fn run(&self, section: Section, ex: &mut dyn Exchange) -> Outcome {
        let (origin, failure) = match run_steps(self.steps(section), ex).await {
            Ok(Flow::Continue) => return Outcome::Continue,
            Ok(Flow::Respond(r)) => return Outcome::Respond(r),
            Err(e) => *e,
        };
        let last = fail(ex, section, origin, failure);
        if section == Section::OnError {
            return Outcome::Error(last);
        }
        self.on_error(ex, last).await
    }

    /// Runs `on-error` after a failure outside the pipeline (the gateway's own forward when
    /// the composition has no backend section), with `context.LastError` set from `failure`.
    pub async fn fail_outside(
        &self,
        ex: &mut dyn Exchange,
        section: Section,
        source: &str,
        failure: super::BackendFailure,
    ) -> Outcome {
        let origin = Origin {
            scope: "",
            policy: source.to_string(),
            path: format!("policies/{}/{source}", section.name()),
            id: String::new(),
        };
        let f = Failure {
            reason: failure.reason,
            message: failure.message,
            status: failure.status,
            body: None,
        };
        let last = fail(ex, section, origin, f);
        self.on_error(ex, last).await
    }

    async fn on_error(&self, ex: &mut dyn Exchange, last: LastError) -> Outcome {
        match run_steps(&self.on_error, ex).await {
            Ok(Flow::Respond(r)) => Outcome::Respond(r),
            Ok(Flow::Continue) => Outcome::Error(last),
            Err(e) => {
                let (origin, mut failure) = *e;
                failure.status = 500;
                failure.body = None;
                Outcome::Error(fail(ex, Section::OnError, origin, failure))
            }
        }
    }
}

/// Records a failure on the exchange as APIM does: LastError, then the preset response.
/// The message is scrubbed of the request's secrets first: it reaches `on-error`'s
/// `context.LastError.Message`, the client's error body and the gateway's log.
fn fail(ex: &mut dyn Exchange, section: Section, origin: Origin, f: Failure) -> LastError {
    let message = super::redact::scrub(f.message, &ex.secrets());
    let last = LastError {
        source: origin.policy,
        reason: f.reason,
        message,
        scope: origin.scope.to_string(),
        section: section.name().to_string(),
        path: origin.path,
        policy_id: origin.id,
    };
    ex.set_last_error(&last);
    ex.set_status(f.status, reason_phrase(f.status).to_string());
    if let Some(body) = f.body {
        ex.set_body(Message::Response, body);
    }
    last
}

/// The future of a block of steps. Boxed because blocks nest (choose, retry, wait,
/// limit-concurrency): one allocation per block run.
pub(super) type StepsFuture<'a> = Pin<Box<dyn Future<Output = Run<Flow>> + Send + 'a>>;

pub(super) fn run_steps<'a>(steps: &'a [Step], ex: &'a mut dyn Exchange) -> StepsFuture<'a> {
    Box::pin(async move {
        let mut since_yield = std::time::Instant::now();
        for step in steps {
            if let Flow::Respond(r) = run_step(step, ex).await? {
                return Ok(Flow::Respond(r));
            }
            // Steps run synchronously on the worker; after a stretch of expression-heavy
            // ones, let the worker's other requests run before going on. Only on a tokio
            // runtime: a caller polling the pipeline itself (a dry run, a test) gets it whole.
            if since_yield.elapsed() >= YIELD_AFTER && tokio::runtime::Handle::try_current().is_ok()
            {
                tokio::task::yield_now().await;
                since_yield = std::time::Instant::now();
            }
        }
        Ok(Flow::Continue)
    })
}

/// How long a section's steps may hold the worker before yielding to it.
const YIELD_AFTER: std::time::Duration = std::time::Duration::from_millis(2);

/// Tags a failure with the step it came from.
pub(super) fn at(step: &Step) -> impl Fn(Failure) -> Box<(Origin, Failure)> + '_ {
    |f| Box::new((step.origin.clone(), f))
}

/// Runs one step. A failure inside a block keeps the innermost policy as its origin, so
/// LastError names the policy that failed, not the enclosing choose or retry.
async fn run_step(step: &Step, ex: &mut dyn Exchange) -> Run<Flow> {
    match &step.kind {
        StepKind::Choose {
            branches,
            otherwise,
        } => {
            for (cond, steps) in branches {
                if condition(cond, ex).map_err(at(step))? {
                    return run_steps(steps, ex).await;
                }
            }
            run_steps(otherwise, ex).await
        }
        StepKind::ForwardRequest(options) => {
            ex.forward(options).await.map_err(|b| {
                at(step)(Failure {
                    reason: b.reason,
                    message: b.message,
                    status: b.status,
                    body: None,
                })
            })?;
            Ok(Flow::Continue)
        }
        StepKind::Retry(r) => super::calls::retry(step, r, ex).await,
        StepKind::Wait { any, steps } => super::calls::wait(*any, steps, ex).await,
        StepKind::ValidateJwt(j) => {
            j.run(ex).await.map_err(at(step))?;
            Ok(Flow::Continue)
        }
        StepKind::ValidateAzureAdToken(j) => {
            j.run(ex).await.map_err(at(step))?;
            Ok(Flow::Continue)
        }
        StepKind::SendRequest(s) => {
            super::calls::send_request(s, ex).await.map_err(at(step))?;
            Ok(Flow::Continue)
        }
        StepKind::LimitConcurrency {
            key,
            max_count,
            steps,
        } => {
            let key = string(key, ex).map_err(at(step))?;
            // The slots outlive the snapshot: counted per policy (its scope and path) and key.
            let key = format!("{}|{key}", super::limit::counter_scope(&step.origin, ex));
            // The slot is an owned answer (no borrow of the exchange across the wait).
            let taken = ex.concurrency().take(key, *max_count);
            let Some(_slot) = taken.await else {
                let mut r = Response::ok();
                r.status = 429;
                r.reason = reason_phrase(429).to_string();
                r.headers
                    .push(("Content-Type".into(), "application/json".into()));
                r.body = Some(
                    serde_json::json!({
                        "statusCode": 429,
                        "message": "Too many concurrent requests. Try again later."
                    })
                    .to_string(),
                );
                return Ok(Flow::Respond(r));
            };
            run_steps(steps, ex).await
        }
        _ => run_leaf(step, ex).await.map_err(at(step)),
    }
}

/// A step that neither nests nor calls a backend: run at once, waiting only on a shared store
/// (the counters of the limit policies, an external cache), which answers at once in memory.
pub(super) async fn run_leaf(step: &Step, ex: &mut dyn Exchange) -> Result<Flow, Failure> {
    match &step.kind {
        StepKind::Limit(limit) => super::limit::run_limit(&step.origin, limit, ex).await,
        StepKind::CacheLookup(l) => super::caching::lookup(l, ex).await,
        StepKind::CacheStore(s) => super::caching::store(s, ex).await,
        StepKind::CacheLookupValue(l) => super::caching::lookup_value(l, ex).await,
        StepKind::CacheStoreValue(s) => super::caching::store_value(s, ex).await,
        StepKind::CacheRemoveValue(r) => super::caching::remove_value(r, ex).await,
        _ => run_simple(step, ex),
    }
}

pub(super) fn run_simple(step: &Step, ex: &mut dyn Exchange) -> Result<Flow, Failure> {
    match &step.kind {
        // Asynchronous or block steps: handled by run_step.
        StepKind::Choose { .. }
        | StepKind::ForwardRequest(_)
        | StepKind::Retry(_)
        | StepKind::Wait { .. }
        | StepKind::SendRequest(_)
        | StepKind::LimitConcurrency { .. }
        | StepKind::ValidateJwt(_)
        | StepKind::ValidateAzureAdToken(_) => {}
        // Waiting on a shared store: handled by run_leaf.
        StepKind::Limit(_)
        | StepKind::CacheLookup(_)
        | StepKind::CacheStore(_)
        | StepKind::CacheLookupValue(_)
        | StepKind::CacheStoreValue(_)
        | StepKind::CacheRemoveValue(_) => {}
        StepKind::Cors(c) => return Ok(super::caching::cors(c, ex)),
        StepKind::JsonToXml(message, t) => {
            let accept = accept(ex);
            convert(
                ex,
                *message,
                |ct| t.applies(ct, accept.as_deref()),
                t.content_type(),
                |b, max| crate::transform::json_to_xml_within(b, t, max),
            )?;
        }
        StepKind::XmlToJson(message, t) => {
            let accept = accept(ex);
            convert(
                ex,
                *message,
                |ct| t.applies(ct, accept.as_deref()),
                t.content_type(),
                |b, max| crate::transform::xml_to_json_within(b, t, max),
            )?;
        }
        StepKind::AuthenticationBasic { username, password } => {
            use base64::Engine as _;
            let credentials = format!("{}:{}", string(username, ex)?, string(password, ex)?);
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            ex.set_header(
                Message::Request,
                "Authorization",
                vec![format!("Basic {encoded}")],
            );
        }
        StepKind::FindAndReplace { message, from, to } => {
            let from = string(from, ex)?;
            let to = string(to, ex)?;
            if let Some(body) = ex.body(message.context_name(), true)
                && !from.is_empty()
                && body.contains(&from)
            {
                // The result's size is known before it is built: refuse it rather than
                // build a body many times the limit.
                let max = ex.budgets().max_body_bytes;
                let grows_by = to.len().saturating_sub(from.len());
                if grows_by > 0 {
                    let n = body.matches(from.as_str()).count();
                    if body.len().saturating_add(n.saturating_mul(grows_by)) > max {
                        return Err(Failure::too_large(max));
                    }
                }
                ex.set_body(*message, body.replace(&from, &to));
            }
        }
        StepKind::SetVariable { name, value: v } => {
            let v = value(v, ex)?;
            ex.set_variable(name, v);
        }
        StepKind::SetHeader {
            message,
            name,
            action,
            values,
        } => {
            let values = strings(values, ex)?;
            let next = action.apply(ex.header(*message, name), values);
            match next {
                Some(v) => ex.set_header(*message, name, v),
                None => ex.remove_header(*message, name),
            }
        }
        StepKind::SetQueryParameter {
            name,
            action,
            values,
        } => {
            let values = strings(values, ex)?;
            match action.apply(ex.query_parameter(name), values) {
                Some(v) => ex.set_query_parameter(name, v),
                None => ex.remove_query_parameter(name),
            }
        }
        StepKind::SetStatus { code, reason: r } => {
            let code = status(code, ex)?;
            let r = reason(r.as_ref(), code, ex)?;
            ex.set_status(code, r);
        }
        StepKind::SetMethod(m) => {
            let m = string(m, ex)?;
            ex.set_method(m.trim().to_string());
        }
        StepKind::ReturnResponse(edits) => {
            let mut r = Response::ok();
            for edit in edits {
                match edit {
                    ResponseEdit::Status { code, reason: why } => {
                        r.status = status(code, ex)?;
                        r.reason = reason(why.as_ref(), r.status, ex)?;
                    }
                    ResponseEdit::Header {
                        name,
                        action,
                        values,
                    } => {
                        let values = strings(values, ex)?;
                        r.apply_header(name, values, *action);
                    }
                    ResponseEdit::Body(b) => r.body = Some(body_text(b, ex)?),
                }
            }
            return Ok(Flow::Respond(r));
        }
        StepKind::MockResponse {
            status,
            content_type,
        } => {
            let mut r = Response::ok();
            r.status = *status;
            r.reason = reason_phrase(*status).to_string();
            r.apply_header(
                "Content-Type",
                vec![content_type.clone()],
                ExistsAction::Override,
            );
            return Ok(Flow::Respond(r));
        }
        StepKind::RewriteUri {
            template,
            copy_unmatched_params,
        } => {
            let t = string(template, ex)?;
            let uri = fill_template(&t, ex);
            ex.rewrite_uri(uri, *copy_unmatched_params);
        }
        StepKind::SetBackendService { backend, by_id } => {
            let b = string(backend, ex)?.trim().to_string();
            ex.set_backend(if *by_id {
                BackendChoice::Id(b)
            } else {
                BackendChoice::Url(b)
            });
        }
        StepKind::IpFilter { allow, ranges } => {
            let ip = ex.client_ip();
            let hit = matches(ranges, ip_key(ip));
            if *allow && !hit {
                return Err(Failure {
                    reason: "CallerIpNotAllowed".into(),
                    message: format!("Caller IP address {ip} is not allowed. Access denied."),
                    status: 403,
                    body: None,
                });
            }
            if !*allow && hit {
                return Err(Failure {
                    reason: "CallerIpBlocked".into(),
                    message: "Caller IP address is blocked. Access denied.".into(),
                    status: 403,
                    body: None,
                });
            }
        }
        StepKind::CheckHeader {
            name,
            code,
            message,
            ignore_case,
            values,
        } => {
            let allowed = strings(values, ex)?;
            let body = |ex: &mut dyn Exchange| -> Result<Option<String>, Failure> {
                let m = string(message, ex)?;
                Ok(Some(
                    serde_json::json!({ "statusCode": code, "message": m }).to_string(),
                ))
            };
            let Some(present) = ex.header(Message::Request, name) else {
                return Err(Failure {
                    reason: "HeaderNotFound".into(),
                    message: format!("Header {name} was not found in the request. Access denied."),
                    status: *code,
                    body: body(ex)?,
                });
            };
            if !allowed.is_empty() {
                let eq = |a: &str, b: &str| {
                    if *ignore_case {
                        a.eq_ignore_ascii_case(b)
                    } else {
                        a == b
                    }
                };
                let ok = present
                    .iter()
                    .any(|p| allowed.iter().any(|a| eq(p.trim(), a.trim())));
                if !ok {
                    return Err(Failure {
                        reason: "HeaderValueNotAllowed".into(),
                        message: format!(
                            "Header {name} value of {} is not allowed. Access denied.",
                            present.join(",")
                        ),
                        status: *code,
                        body: body(ex)?,
                    });
                }
            }
        }
        StepKind::Trace { source, message } => {
            let m = super::redact::scrub(string(message, ex)?, &ex.secrets());
            ex.trace(source, &m);
        }
        StepKind::SetBody { message, body } => {
            let b = body_text(body, ex)?;
            ex.set_body(*message, b);
        }
    }
    Ok(Flow::Continue)
}

/// A body a policy produces (set-body, return-response's set-body), within
/// `max_buffered_body_bytes`. An expression's text is already bounded by its memory budget;
/// this bounds a body however it was made.
fn body_text(op: &Operand, ex: &mut dyn Exchange) -> Result<String, Failure> {
    let b = string(op, ex)?;
    let max = ex.budgets().max_body_bytes;
    if b.len() > max {
        return Err(Failure::too_large(max));
    }
    Ok(b)
}

fn accept(ex: &dyn Exchange) -> Option<String> {
    ex.header(Message::Request, "Accept").map(|v| v.join(","))
}

/// json-to-xml / xml-to-json: converts the section's body when the policy applies to its
/// Content-Type, and sets the new Content-Type. A body that does not parse fails the policy.
fn convert(
    ex: &mut dyn Exchange,
    message: Message,
    applies: impl Fn(Option<&str>) -> bool,
    content_type: &str,
    transform: impl Fn(&str, usize) -> Result<String, crate::transform::TransformError>,
) -> Result<(), Failure> {
    let ct = ex
        .header(message, "Content-Type")
        .and_then(|v| v.into_iter().next());
    if !applies(ct.as_deref()) {
        return Ok(());
    }
    let body = ex.body(message.context_name(), true).unwrap_or_default();
    let max = ex.budgets().max_body_bytes;
    let converted = transform(&body, max).map_err(|e| match e {
        crate::transform::TransformError::TooLarge { limit } => Failure::too_large(limit),
        e => Failure {
            reason: "InvalidBody".into(),
            message: e.to_string(),
            status: 500,
            body: None,
        },
    })?;
    ex.set_body(message, converted);
    ex.set_header(message, "Content-Type", vec![content_type.to_string()]);
    Ok(())
}

fn matches(ranges: &[IpRange], (v4, n): (bool, u128)) -> bool {
    ranges
        .iter()
        .any(|r| r.v4 == v4 && (r.from..=r.to).contains(&n))
}

/// Replaces `{name}` in a rewrite-uri template by the matched template parameter of that name
/// (empty when absent, as APIM drops unmatched optional parameters). Values arrive decoded
/// (`a%2Fb` matched as `a/b`), so each is encoded again as RFC 6570's simple expansion does:
/// everything but the unreserved characters. A value can then never add a path segment, a
/// `..`, a query or a fragment to the backend URL: it stays the one segment or one query
/// value the template put it in.
fn fill_template(t: &str, ex: &mut dyn Exchange) -> String {
    fill_rewrite_template(t, |name| {
        ex.lookup(&["Request", "MatchedParameters"], name)
            .map(|v| v.to_display())
    })
}

/// [`fill_template`] over any source of parameter values (public for the fuzz target).
pub fn fill_rewrite_template(t: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &after[..j];
        if let Some(v) = value(name) {
            encode_component(&v, &mut out);
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes `value` as one URI component (RFC 6570 simple expansion, which in the
/// query is also a valid query component): only RFC 3986's unreserved characters stay as
/// they are, so `/`, `?`, `#`, `&`, `=`, `%` and `.`-only segments cannot change the URL's
/// structure (`..` stays literal text inside a segment that also holds other bytes, and a
/// bare `..` value is encoded as `%2E%2E`).
fn encode_component(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // A value of only dots would be a dot-segment (`.`/`..`) that the backend's URL
    // normalisation resolves: encode those dots too.
    let dots_only = !value.is_empty() && value.bytes().all(|b| b == b'.');
    for b in value.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'~')
            || (b == b'.' && !dots_only);
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::TestExchange;

    #[test]
    fn template_fills_matched_parameters_and_drops_unknown_ones() {
        let mut ex = TestExchange::new();
        ex.context
            .entry("Request.MatchedParameters", "id", "7")
            .entry("Request.MatchedParameters", "q", "x y");
        assert_eq!(
            fill_template("/a/{id}?q={q}&z={nope}", &mut ex),
            "/a/7?q=x%20y&z="
        );
        assert_eq!(fill_template("/open/{id", &mut ex), "/open/{id");
    }

    /// Finding 2: a decoded parameter must not add segments, a query or a fragment.
    #[test]
    fn template_values_are_encoded_as_one_component() {
        let mut ex = TestExchange::new();
        ex.context
            .entry("Request.MatchedParameters", "id", "../../private/secret")
            .entry("Request.MatchedParameters", "q", "a?admin=true")
            .entry("Request.MatchedParameters", "f", "x#frag&y=1%2F")
            .entry("Request.MatchedParameters", "dots", "..")
            .entry("Request.MatchedParameters", "ok", "v1.2_a-b~c");
        assert_eq!(
            fill_template("/public/items/{id}", &mut ex),
            "/public/items/..%2F..%2Fprivate%2Fsecret"
        );
        assert_eq!(
            fill_template("/public/items/{q}", &mut ex),
            "/public/items/a%3Fadmin%3Dtrue"
        );
        assert_eq!(
            fill_template("/s?x={f}&y={q}", &mut ex),
            "/s?x=x%23frag%26y%3D1%252F&y=a%3Fadmin%3Dtrue"
        );
        assert_eq!(fill_template("/a/{dots}/b", &mut ex), "/a/%2E%2E/b");
        assert_eq!(fill_template("/v/{ok}", &mut ex), "/v/v1.2_a-b~c");
    }

    #[test]
    fn ranges_match_inclusively_within_one_family() {
        let r = [IpRange {
            v4: true,
            from: 10,
            to: 20,
        }];
        assert!(matches(&r, (true, 10)));
        assert!(matches(&r, (true, 20)));
        assert!(!matches(&r, (true, 21)));
        assert!(!matches(&r, (false, 15)));
    }
}
