//! The steps that wait on something: retry, wait, send-request and send-one-way-request.
//!
//! Requests policies make go through the exchange's [`HttpClient`](crate::http::HttpClient)
//! (the gateway's is behind the egress guard); their futures own everything they need, so
//! `<wait>` can run several at once while the exchange stays borrowed by one step at a time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, select_all};

use super::compile::{RetryStep, SendRequestStep, Step, StepKind};
use super::eval::{Failure, condition, member_text, string, strings};
use super::run::{Flow, Run, at, run_steps};
use super::{Exchange, Message};
use crate::expr::{Object, Value};
use crate::http::{HttpError, HttpFuture, HttpRequest, HttpResponse};

/// `<retry>`: runs the steps once, then again while `condition` holds and fewer than `count`
/// retries were made, waiting `interval` (fixed), `interval + n·delta` (linear, with delta) or
/// `interval + (2ⁿ−1)·delta` capped at `max-interval` (exponential, with both), in seconds.
/// A failure inside the block is retried too when the condition (evaluated with
/// `context.LastError` set) holds; otherwise it goes on to on-error as it would without retry.
pub(super) async fn retry(step: &Step, r: &RetryStep, ex: &mut dyn Exchange) -> Run<Flow> {
    let count = whole(&r.count, "count", ex).map_err(at(step))?;
    let interval = whole(&r.interval, "interval", ex).map_err(at(step))?;
    let delta = match &r.delta {
        Some(d) => Some(whole(d, "delta", ex).map_err(at(step))?),
        None => None,
    };
    let max = match &r.max_interval {
        Some(m) => Some(whole(m, "max-interval", ex).map_err(at(step))?),
        None => None,
    };
    let mut retries = 0u64;
    loop {
        let result = run_steps(&r.steps, ex).await;
        let failed = match result {
            Ok(Flow::Respond(resp)) => return Ok(Flow::Respond(resp)),
            Ok(Flow::Continue) => None,
            Err(e) => Some(e),
        };
        if retries >= count {
            return failed.map_or(Ok(Flow::Continue), Err);
        }
        if let Some(e) = &failed {
            // Let the condition see what went wrong, as on-error would.
            let (origin, f) = &**e;
            ex.set_last_error(&super::LastError {
                source: origin.policy.clone(),
                scope: origin.scope.to_string(),
                reason: f.reason.clone(),
                message: f.message.clone(),
                path: origin.path.clone(),
                policy_id: origin.id.clone(),
                ..Default::default()
            });
        }
        let again = match condition(&r.condition, ex) {
            Ok(b) => b,
            // The condition cannot be judged (e.g. no response after a connection failure):
            // the original failure stands.
            Err(f) => return Err(failed.unwrap_or_else(|| at(step)(f))),
        };
        if !again {
            return failed.map_or(Ok(Flow::Continue), Err);
        }
        retries += 1;
        let wait = if r.first_fast_retry && retries == 1 {
            0
        } else {
            retry_wait(interval, delta, max, retries)
        };
        if wait > 0 {
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }
}

/// Seconds before retry number `n` (1-based).
fn retry_wait(interval: u64, delta: Option<u64>, max: Option<u64>, n: u64) -> u64 {
    match (delta, max) {
        (None, _) => interval,
        (Some(d), None) => interval.saturating_add(d.saturating_mul(n - 1)),
        (Some(d), Some(m)) => {
            let factor = 1u64
                .checked_shl(u32::try_from(n - 1).unwrap_or(u32::MAX))
                .unwrap_or(u64::MAX)
                .saturating_sub(1);
            interval.saturating_add(d.saturating_mul(factor)).min(m)
        }
    }
}

fn whole(op: &super::attrs::Operand, name: &str, ex: &mut dyn Exchange) -> Result<u64, Failure> {
    let s = string(op, ex)?;
    s.trim()
        .parse::<u64>()
        .map_err(|_| Failure::evaluation(format!("'{s}' is not a valid value for {name}.")))
}

/// A send-request started but not finished: its future and where its answer goes.
struct Pending<'a> {
    step: &'a Step,
    send: &'a SendRequestStep,
    future: HttpFuture,
}

/// `<wait for="all|any">`: starts every send-request child (choose children pick their branch
/// first; other steps, like cache-lookup-value, run at once), then waits for all of them or for
/// the first. With `any`, the others are cancelled and their variables stay unset.
pub(super) async fn wait(any: bool, steps: &[Step], ex: &mut dyn Exchange) -> Run<Flow> {
    let mut pending = Vec::new();
    if let Flow::Respond(r) = start(steps, &mut *ex, &mut pending).await? {
        return Ok(Flow::Respond(r));
    }
    if pending.is_empty() {
        return Ok(Flow::Continue);
    }
    let (futures, targets): (Vec<_>, Vec<_>) = pending
        .into_iter()
        .map(|p| (p.future, (p.step, p.send)))
        .unzip();
    if any {
        let (result, index, _rest) = select_all(futures).await;
        let (s, send) = targets[index];
        finish(send, result, ex).map_err(at(s))?;
    } else {
        let results = join_all(futures).await;
        for ((s, send), result) in targets.into_iter().zip(results) {
            finish(send, result, ex).map_err(at(s))?;
        }
    }
    Ok(Flow::Continue)
}

/// Starts the send-requests of `steps` (into `pending`) and runs the rest. Boxed because
/// choose branches recurse.
fn start<'a, 'b>(
    steps: &'a [Step],
    ex: &'b mut dyn Exchange,
    pending: &'b mut Vec<Pending<'a>>,
) -> super::run::StepsFuture<'b>
where
    'a: 'b,
{
    Box::pin(async move {
        for step in steps {
            match &step.kind {
                StepKind::SendRequest(send) => {
                    let request = build(send, ex).map_err(at(step))?;
                    let future = ex.http_client().send(request);
                    if send.one_way {
                        spawn_detached(future, ex.secrets());
                    } else {
                        pending.push(Pending { step, send, future });
                    }
                }
                StepKind::Choose {
                    branches,
                    otherwise,
                } => {
                    let mut chosen = otherwise.as_slice();
                    for (cond, branch) in branches {
                        if condition(cond, ex).map_err(at(step))? {
                            chosen = branch.as_slice();
                            break;
                        }
                    }
                    if let Flow::Respond(r) = start(chosen, &mut *ex, &mut *pending).await? {
                        return Ok(Flow::Respond(r));
                    }
                }
                _ => {
                    // Anything else in a branch (set-variable, cache-lookup-value …) does not wait
                    // on a backend (only, with Redis, on the shared store).
                    if let Flow::Respond(r) = super::run::run_leaf(step, &mut *ex)
                        .await
                        .map_err(at(step))?
                    {
                        return Ok(Flow::Respond(r));
                    }
                }
            }
        }
        Ok(Flow::Continue)
    })
}

/// send-request / send-one-way-request on their own.
pub(super) async fn send_request(
    s: &SendRequestStep,
    ex: &mut dyn Exchange,
) -> Result<(), Failure> {
    let request = build(s, ex)?;
    let future = ex.http_client().send(request);
    if s.one_way {
        spawn_detached(future, ex.secrets());
        return Ok(());
    }
    let result = future.await;
    finish(s, result, ex)
}

/// Fire and forget: send-one-way-request's answer (or failure) is only logged.
/// The error is scrubbed of `secrets` (its URL may carry a key).
fn spawn_detached(future: HttpFuture, secrets: Vec<String>) {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(async move {
                if let Err(e) = future.await {
                    let error = super::redact::scrub(e.to_string(), &secrets);
                    tracing::debug!(target: "gatehouse::policy", error, "send-one-way-request failed");
                }
            });
        }
        Err(_) => {
            tracing::warn!(target: "gatehouse::policy", "send-one-way-request outside a runtime: not sent")
        }
    }
}

/// The request a send-request describes: a new one, or a copy of the current request, with
/// its set-url/set-method/set-header/set-body applied.
fn build(s: &SendRequestStep, ex: &mut dyn Exchange) -> Result<HttpRequest, Failure> {
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    let (mut method, mut url, mut body) = ("GET".to_string(), String::new(), Vec::new());
    if s.copy {
        method = ex
            .member(&["Request", "Method"])
            .map(|v| v.to_display())
            .unwrap_or(method);
        url = current_url(ex);
        for name in ex.keys(&["Request", "Headers"]) {
            if let Some(v) = ex.header(Message::Request, &name) {
                headers.push((name, v));
            }
        }
        body = ex.body("Request", true).unwrap_or_default().into_bytes();
    }
    if let Some(u) = &s.url {
        url = string(u, ex)?.trim().to_string();
    }
    if let Some(m) = &s.method {
        method = string(m, ex)?.trim().to_string();
    }
    for (name, action, values) in &s.headers {
        let values = strings(values, ex)?;
        let i = headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name));
        let existing = i.map(|i| headers[i].1.clone());
        match (action.apply(existing, values), i) {
            (Some(v), Some(i)) => headers[i].1 = v,
            (Some(v), None) => headers.push((name.clone(), v)),
            (None, Some(i)) => {
                headers.remove(i);
            }
            (None, None) => {}
        }
    }
    if let Some(b) = &s.body {
        body = string(b, ex)?.into_bytes();
    }
    Ok(HttpRequest {
        method,
        url,
        headers: headers
            .into_iter()
            .flat_map(|(n, vs)| vs.into_iter().map(move |v| (n.clone(), v)))
            .collect(),
        body,
        timeout: s.timeout,
    })
}

/// `context.Request.Url` as one string.
fn current_url(ex: &mut dyn Exchange) -> String {
    let mut get = |m: &str| member_text(ex, &["Request", "Url", m]);
    let (scheme, host, port, path, query) = (
        get("Scheme"),
        get("Host"),
        get("Port"),
        get("Path"),
        get("QueryString"),
    );
    let default_port = matches!(
        (scheme.as_str(), port.as_str()),
        ("http", "80") | ("https", "443")
    );
    if port.is_empty() || default_port {
        format!("{scheme}://{host}{path}{query}")
    } else {
        format!("{scheme}://{host}:{port}{path}{query}")
    }
}

/// Stores a send-request's answer in its response variable (as APIM's `IResponse`), or turns
/// its failure into the step's failure unless `ignore-error`, which stores null instead.
fn finish(
    s: &SendRequestStep,
    result: Result<HttpResponse, HttpError>,
    ex: &mut dyn Exchange,
) -> Result<(), Failure> {
    let Some(var) = &s.response_variable_name else {
        return Ok(());
    };
    match result {
        Ok(r) => {
            ex.set_variable(var, response_value(r));
            Ok(())
        }
        Err(_) if s.ignore_error => {
            ex.set_variable(var, Value::Null);
            Ok(())
        }
        Err(e) => Err(Failure {
            reason: match e {
                HttpError::Timeout(_) => "Timeout",
                HttpError::Refused(_) => "OutboundRequestRefused",
                _ => "BackendConnectionFailure",
            }
            .into(),
            message: format!("Error occurred while sending the request: {e}"),
            status: 500,
            body: None,
        }),
    }
}

/// An `IResponse`: StatusCode, StatusReason, Headers (joined values), Body.
pub(crate) fn response_value(r: HttpResponse) -> Value {
    let mut headers: BTreeMap<String, Value> = BTreeMap::new();
    for (n, v) in r.headers {
        match headers.get_mut(&n) {
            Some(Value::String(prev)) => *prev = format!("{prev},{v}").into(),
            _ => {
                headers.insert(n, Value::str(v));
            }
        }
    }
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    m.insert("StatusCode".into(), Value::Int(i64::from(r.status)));
    m.insert("StatusReason".into(), Value::str(r.reason));
    m.insert(
        "Headers".into(),
        Value::Object(Object::Dictionary(Arc::new(headers))),
    );
    m.insert(
        "Body".into(),
        Value::Object(Object::Body(
            String::from_utf8_lossy(&r.body).into_owned().into(),
        )),
    );
    Value::Object(Object::Record(Arc::new(m)))
}

#[cfg(test)]
mod tests {
    use super::retry_wait;

    #[test]
    fn retry_intervals_follow_apim_fixed_linear_exponential() {
        assert_eq!(retry_wait(2, None, None, 3), 2);
        assert_eq!(retry_wait(2, Some(3), None, 1), 2);
        assert_eq!(retry_wait(2, Some(3), None, 3), 8);
        assert_eq!(retry_wait(1, Some(2), Some(10), 1), 1);
        assert_eq!(retry_wait(1, Some(2), Some(10), 3), 7);
        assert_eq!(retry_wait(1, Some(2), Some(10), 4), 10);
        assert_eq!(retry_wait(1, Some(2), Some(10), 60), 10);
    }
}
