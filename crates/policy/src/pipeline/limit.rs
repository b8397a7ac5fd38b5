//! Running the limit policies (rate-limit, quota and their by-key forms) against an exchange:
//! the counting lives in [`crate::limits`]; this module evaluates the attributes, waits for
//! the counters' answer (at once in memory, a round trip with Redis) and applies it.

use std::sync::Arc;

use super::attrs::{Operand, Origin};
use super::compile::{LimitStep, Pipeline};
use super::eval::*;
use super::run::Flow;
use super::{DeferredCount, Exchange, Response, reason_phrase};
use crate::answer::Answer;
use crate::expr::Value;
use crate::limits::{CounterKey, Decision, Limit, LimitOutcome, Quota, RateLimit};

fn number(op: &Operand, name: &str, ex: &mut dyn Exchange) -> Result<u64, Failure> {
    // calls, renewal-period and increment-count are literals in most documents: parsed where
    // they are, with no copy per request.
    if let Operand::Literal(s) = op
        && let Ok(n) = s.trim().parse::<u64>()
    {
        return Ok(n);
    }
    let s = string(op, ex)?;
    s.trim()
        .parse::<u64>()
        .map_err(|_| Failure::evaluation(format!("'{s}' is not a valid value for {name}.")))
}

/// Counts the request against a limit policy's counter. The counter belongs to this policy
/// instance in this API and operation (its scope is their ids and the element path), so two
/// policies never share counts. A rejection answers with APIM's 429/403; an admission leaves
/// the remaining/total headers for the client's response.
pub(super) async fn run_limit(
    origin: &Origin,
    l: &Arc<LimitStep>,
    ex: &mut dyn Exchange,
) -> Result<Flow, Failure> {
    let calls = number(&l.calls, "calls", ex)?;
    let period = number(&l.renewal_period, "renewal-period", ex)?;
    let key = match &l.counter_key {
        Some(op) => string(op, ex)?,
        // Per subscription; requests without one share one anonymous counter.
        None => ex.subscription_id().unwrap_or_default(),
    };
    // An increment-condition is judged on the response, as in APIM: now the request is only
    // checked against the limit; it is counted (or not) by count_deferred.
    let deferred = l.increment_condition.is_some();
    let amount = if deferred {
        0
    } else {
        number(&l.increment_count, "increment-count", ex)?
    };
    let counter_key = CounterKey::new(counter_scope(origin, ex), key);
    let (policy, answer) = hit(l, calls, period, &counter_key, amount, ex);
    let outcome = policy.outcome(answer.await);
    if let Some(name) = &l.remaining_variable {
        let remaining = i64::try_from(outcome.decision.remaining).unwrap_or(i64::MAX);
        ex.set_variable(name, Value::Int(remaining));
    }
    if let Some(name) = &l.retry_after_variable {
        let secs = if outcome.is_allowed() {
            0
        } else {
            crate::limits::retry_after_secs(outcome.decision.retry_after)
        };
        ex.set_variable(name, Value::Int(i64::try_from(secs).unwrap_or(i64::MAX)));
    }
    match outcome.rejection {
        Some(rejection) => {
            let mut r = Response::ok();
            r.status = rejection.status;
            r.reason = reason_phrase(rejection.status).to_string();
            r.headers = rejection.headers.clone();
            r.headers
                .push(("Content-Type".into(), "application/json".into()));
            r.body = Some(rejection.body());
            Ok(Flow::Respond(r))
        }
        None => {
            for (name, value) in outcome.headers {
                ex.add_response_header(&name, value);
            }
            if deferred {
                ex.effects().deferred_counts.push(DeferredCount {
                    step: l.clone(),
                    key: counter_key,
                    calls,
                    period,
                });
            }
            Ok(Flow::Continue)
        }
    }
}

/// Whose calls a limit counts: the scope it is declared in, as in APIM — declared on an
/// operation it counts that operation's calls, on an API all of the API's calls, on a product
/// (or globally) every call the key makes there. The element path keeps two policies of one
/// document apart.
pub(super) fn counter_scope(origin: &Origin, ex: &mut dyn Exchange) -> String {
    let mut get = |p: &[&str]| member_text(ex, p);
    match origin.scope {
        "global" => format!("global|{}", origin.path),
        "product" => format!("product|{}|{}", get(&["Product", "Id"]), origin.path),
        "api" => format!("api|{}|{}", get(&["Api", "Id"]), origin.path),
        _ => format!(
            "operation|{}|{}|{}",
            get(&["Api", "Id"]),
            get(&["Operation", "Id"]),
            origin.path
        ),
    }
}

/// The limit policy as configured, and its counter's answer to this hit (owned, so no borrow of
/// the exchange is held while it is awaited).
fn hit(
    l: &LimitStep,
    calls: u64,
    period: u64,
    key: &CounterKey,
    amount: u64,
    ex: &dyn Exchange,
) -> (LimitPolicy, Answer<'static, Decision>) {
    let now = std::time::Instant::now();
    if l.quota {
        let q = Quota::new(calls, period, key.clone());
        let answer = q.count_in(ex.counters(), amount, now);
        (LimitPolicy::Quota(q), answer)
    } else {
        let mut rl = RateLimit::new(calls, period, key.clone());
        rl.headers = l.headers.clone();
        let answer = rl.count_in(ex.counters(), amount, now);
        (LimitPolicy::Rate(rl), answer)
    }
}

/// A limit policy ready to turn its counter's decision into an answer.
enum LimitPolicy {
    Quota(Quota),
    Rate(RateLimit),
}

impl LimitPolicy {
    fn outcome(&self, decision: Decision) -> LimitOutcome {
        match self {
            LimitPolicy::Quota(q) => q.outcome(decision),
            LimitPolicy::Rate(r) => r.outcome(decision),
        }
    }
}

impl Pipeline {
    /// Counts the requests whose limit policies have an `increment-condition`, now that the
    /// response is known: call it once, after outbound (or after on-error). A condition that
    /// fails to evaluate does not count the request.
    ///
    /// The count is made now in memory; a shared store's count (Redis) is spawned on the
    /// runtime rather than awaited: the response is already decided, and nothing reads the
    /// decision. Without a runtime such a count is dropped (logged).
    pub fn count_deferred(&self, ex: &mut dyn Exchange) {
        for d in std::mem::take(&mut ex.effects().deferred_counts) {
            let counted = match &d.step.increment_condition {
                Some(c) => condition(c, ex).unwrap_or(false),
                None => true,
            };
            if !counted {
                continue;
            }
            let Ok(amount) = number(&d.step.increment_count, "increment-count", ex) else {
                continue;
            };
            let (_, answer) = hit(&d.step, d.calls, d.period, &d.key, amount, ex);
            if let Err(pending) = answer.now() {
                match tokio::runtime::Handle::try_current() {
                    Ok(handle) => {
                        handle.spawn(pending);
                    }
                    Err(_) => tracing::warn!(
                        target: "gatehouse::policy",
                        "a deferred limit count was dropped: no runtime to run it on"
                    ),
                }
            }
        }
    }
}
