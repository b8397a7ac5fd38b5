//! The "Limits" policies — `rate-limit`, `rate-limit-by-key`, `quota`, `quota-by-key` — and the
//! counters behind them.
//!
//! Counting sits behind one trait, [`Counters`], so that a cluster can later swap the store
//! (docs/architecture.md: Redis, with local counters as the fallback) without touching the
//! policies. The first implementation, [`InMemoryCounters`], is exact on one node: every hit on
//! a key is decided under that key's shard lock, so `N` concurrent callers against a limit of
//! `L` see exactly `min(N, L)` admissions, never more and never fewer.
//!
//! Semantics chosen (and why):
//! - **Rate limits use a sliding window** ([`WindowKind::Sliding`]), as APIM does: a call counts
//!   against the limit for `renewal-period` after it was made. The window is a log of hits
//!   coalesced into at most [`SLIDING_SLOTS`] slots per period, so memory per key is bounded
//!   whatever the call rate. A slot expires one period after its *latest* hit, so coalescing can
//!   only hold calls slightly longer (by at most `period / SLIDING_SLOTS`), never admit more than
//!   `calls` in any true sliding window.
//! - **Quotas use fixed periods aligned to first use** ([`WindowKind::Fixed`]): a period starts at
//!   the first counted call and lasts `renewal-period`; the first call after it ends starts the
//!   next one. A period in which nobody called is simply forgotten, which is also what lets
//!   expired keys be evicted without losing anything observable.
//! - **Rejected hits are not counted.** A caller hammering a limited key does not push its own
//!   recovery further out, and the exactness guarantee above ("exactly `L` admitted") holds.
//! - `amount == 0` is a *check*: admitted while the count is below the limit, nothing recorded.
//!   The pipeline uses it for `increment-condition`, where the count is only known afterwards.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::answer::Answer;

/// Longest renewal period honoured; longer configured periods are clamped. Ten years is beyond any
/// real quota and keeps every duration far from overflow.
pub const MAX_PERIOD: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

/// Slots per sliding window: the bound on memory per rate-limited key, and the granularity
/// (`period / SLIDING_SLOTS`) by which a call may be held a little longer than exactly one period.
pub const SLIDING_SLOTS: u32 = 256;

/// Lock shards: enough that unrelated keys rarely contend, few enough to cost nothing when idle.
const SHARDS: usize = 64;

/// A shard is swept for expired keys once it holds this many, at least; see [`Shard::sweep_at`].
const MIN_SWEEP_LEN: usize = 64;

/// How a window renews.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowKind {
    /// Each hit counts for one period after it happened (rate limits).
    Sliding,
    /// Hits count until the end of a fixed period that started with the first counted hit
    /// (quotas).
    Fixed,
}

/// A renewal period (APIM's `renewal-period`) and how it renews.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    kind: WindowKind,
    period: Duration,
}

impl Window {
    /// A sliding window of `period`, clamped to [`MAX_PERIOD`].
    pub fn sliding(period: Duration) -> Self {
        Self {
            kind: WindowKind::Sliding,
            period: period.min(MAX_PERIOD),
        }
    }

    /// A fixed window of `period` aligned to first use, clamped to [`MAX_PERIOD`].
    pub fn fixed(period: Duration) -> Self {
        Self {
            kind: WindowKind::Fixed,
            period: period.min(MAX_PERIOD),
        }
    }

    /// How the window renews.
    pub fn kind(&self) -> WindowKind {
        self.kind
    }

    /// The (clamped) renewal period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// Identifies one counter. `scope` names the policy instance (e.g. the API/operation and the
/// policy's position) so that two policies with the same `counter-key` value do not share a count
/// unless the caller wants them to; `key` is the evaluated `counter-key` (or the subscription id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CounterKey {
    /// The policy instance the counter belongs to.
    pub scope: String,
    /// The per-caller key within that policy.
    pub key: String,
}

impl CounterKey {
    /// A key for `key` within `scope`.
    pub fn new(scope: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
            key: key.into(),
        }
    }
}

/// The answer to one [`Counters::hit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the hit was admitted (and, if `amount > 0`, counted).
    pub allowed: bool,
    /// Calls still available in the window after this hit.
    pub remaining: u64,
    /// When rejected, how long until the same hit would be admitted; zero when allowed. If the
    /// amount alone exceeds the limit it can never be admitted, and this is one full period.
    pub retry_after: Duration,
    /// How long until the counter is back to zero: the end of the fixed period, or when the
    /// newest sliding hit expires. Zero when nothing is counted.
    pub reset: Duration,
}

/// Counter storage for the limit policies: one node in memory ([`InMemoryCounters`]), or a store
/// shared by a cluster (Redis, crates/store/src/redis/counters.rs), all behind this one call so
/// the policies never see the difference.
pub trait Counters: Send + Sync {
    /// Records `amount` against `key` if that keeps it within `limit` in `window` at `now`, and
    /// says what happened. A rejected hit records nothing. `amount == 0` only checks whether the
    /// count is below `limit`. `now` is passed in so tests (and a caller's clock) decide time; a
    /// shared store uses its own clock instead (nodes' `Instant`s are not comparable).
    ///
    /// The answer owns what it needs (`'static`): a count made after the response
    /// ([`crate::pipeline::Pipeline::count_deferred`]) is spawned, not awaited.
    fn hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Answer<'static, Decision>;
}

/// One coalesced slot of a sliding log.
#[derive(Debug)]
struct Slot {
    /// First hit in the slot: later hits join it while within the slot width of this.
    start: Instant,
    /// Latest hit in the slot: the slot expires one period after this (conservative).
    last: Instant,
    amount: u64,
}

#[derive(Debug)]
enum State {
    Sliding { slots: VecDeque<Slot>, used: u64 },
    Fixed { start: Instant, used: u64 },
}

#[derive(Debug)]
struct Entry {
    window: Window,
    state: State,
}

/// Time elapsed from `at` to `now`, zero if `now` is earlier (an injected or racing clock).
fn since(now: Instant, at: Instant) -> Duration {
    now.saturating_duration_since(at)
}

/// Time left until `at + period`, computed without `Instant` addition (which can panic).
fn left(now: Instant, at: Instant, period: Duration) -> Duration {
    period.saturating_sub(since(now, at))
}

/// Whether `used + amount` fits in `limit`; an `amount` of zero asks whether one more would.
fn admits(used: u64, amount: u64, limit: u64) -> bool {
    if amount == 0 {
        used < limit
    } else {
        used.checked_add(amount).is_some_and(|total| total <= limit)
    }
}

impl Entry {
    fn new(window: Window, now: Instant) -> Self {
        let state = match window.kind {
            WindowKind::Sliding => State::Sliding {
                slots: VecDeque::new(),
                used: 0,
            },
            WindowKind::Fixed => State::Fixed {
                start: now,
                used: 0,
            },
        };
        Self { window, state }
    }

    /// Nothing counted: not worth keeping.
    fn is_empty(&self) -> bool {
        match &self.state {
            State::Sliding { slots, .. } => slots.is_empty(),
            State::Fixed { used, .. } => *used == 0,
        }
    }

    /// Everything counted has expired: evicting loses nothing observable.
    fn is_expired(&self, now: Instant) -> bool {
        let period = self.window.period;
        match &self.state {
            State::Sliding { slots, .. } => {
                slots.iter().all(|slot| since(now, slot.last) >= period)
            }
            State::Fixed { start, used } => *used == 0 || since(now, *start) >= period,
        }
    }

    fn hit(&mut self, window: Window, amount: u64, limit: u64, now: Instant) -> Decision {
        if self.window != window {
            // The same key used with another window (a changed config): start afresh rather than
            // reinterpret counts kept under different rules.
            *self = Entry::new(window, now);
        }
        let period = window.period;
        match &mut self.state {
            State::Sliding { slots, used } => {
                while let Some(front) = slots.front() {
                    if since(now, front.last) < period {
                        break;
                    }
                    *used = used.saturating_sub(front.amount);
                    slots.pop_front();
                }
                let allowed = admits(*used, amount, limit);
                if allowed && amount > 0 {
                    let width = period / SLIDING_SLOTS;
                    match slots.back_mut() {
                        Some(back) if since(now, back.start) < width => {
                            back.last = back.last.max(now);
                            back.amount = back.amount.saturating_add(amount);
                        }
                        _ => slots.push_back(Slot {
                            start: now,
                            last: now,
                            amount,
                        }),
                    }
                    *used = used.saturating_add(amount);
                }
                let retry_after = if allowed {
                    Duration::ZERO
                } else {
                    sliding_retry_after(slots, *used, amount, limit, now, period)
                };
                Decision {
                    allowed,
                    remaining: limit.saturating_sub(*used),
                    retry_after,
                    reset: slots
                        .back()
                        .map_or(Duration::ZERO, |back| left(now, back.last, period)),
                }
            }
            State::Fixed { start, used } => {
                if since(now, *start) >= period || *used == 0 {
                    // A new period starts with this (first) call after the last one ended.
                    *start = now;
                    *used = 0;
                }
                let allowed = admits(*used, amount, limit);
                if allowed {
                    *used = used.saturating_add(amount);
                }
                let reset = left(now, *start, period);
                Decision {
                    allowed,
                    remaining: limit.saturating_sub(*used),
                    retry_after: if allowed { Duration::ZERO } else { reset },
                    reset,
                }
            }
        }
    }
}

/// How long until enough of the sliding log expires for `amount` to fit under `limit`.
fn sliding_retry_after(
    slots: &VecDeque<Slot>,
    used: u64,
    amount: u64,
    limit: u64,
    now: Instant,
    period: Duration,
) -> Duration {
    let amount = amount.max(1);
    if amount > limit {
        return period;
    }
    let need = used.saturating_add(amount).saturating_sub(limit);
    let mut freed = 0u64;
    for slot in slots {
        freed = freed.saturating_add(slot.amount);
        if freed >= need {
            return left(now, slot.last, period);
        }
    }
    period
}

/// One lock's worth of keys.
#[derive(Debug, Default)]
struct Shard {
    map: HashMap<CounterKey, Entry>,
    /// The map is swept for expired keys when it reaches this size, then the mark is set to twice
    /// what survived: eviction costs O(1) amortised per hit and a shard never holds more than
    /// about twice its live keys (or [`MIN_SWEEP_LEN`]).
    sweep_at: usize,
}

impl Shard {
    fn sweep(&mut self, now: Instant) -> usize {
        let before = self.map.len();
        self.map.retain(|_, entry| !entry.is_expired(now));
        self.sweep_at = (self.map.len() * 2).max(MIN_SWEEP_LEN);
        before - self.map.len()
    }
}

/// Exact, in-process [`Counters`]: keys are spread over lock shards and each hit is decided under
/// its shard's lock. Expired keys are evicted as the map grows (and by [`Self::evict_expired`]),
/// so memory follows the live keys, not every key ever seen.
#[derive(Debug)]
pub struct InMemoryCounters {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl Default for InMemoryCounters {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryCounters {
    /// Empty counters.
    pub fn new() -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    map: HashMap::new(),
                    sweep_at: MIN_SWEEP_LEN,
                })
            })
            .collect();
        Self {
            shards,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &CounterKey) -> &Mutex<Shard> {
        // Truncating the hash is fine: it only picks a shard.
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        &self.shards[index]
    }

    /// Keys currently held, including expired ones not yet evicted.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .map
                    .len()
            })
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evicts every key whose counts have all expired at `now`; returns how many went. Not needed
    /// for bounded memory (hits sweep as the maps grow) but lets an idle node give memory back.
    pub fn evict_expired(&self, now: Instant) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .sweep(now)
            })
            .sum()
    }
}

impl Counters for InMemoryCounters {
    fn hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Answer<'static, Decision> {
        Answer::ready(InMemoryCounters::hit(self, key, window, amount, limit, now))
    }
}

impl InMemoryCounters {
    /// [`Counters::hit`], decided now. Named like the trait method on purpose: a caller holding
    /// the concrete type (tests, the Redis fallback) gets the decision without awaiting.
    pub fn hit(
        &self,
        key: &CounterKey,
        window: Window,
        amount: u64,
        limit: u64,
        now: Instant,
    ) -> Decision {
        // A poisoned lock still guards consistent state: no code under it panics mid-update.
        let mut guard = self
            .shard(key)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *guard;
        if let Some(entry) = shard.map.get_mut(key) {
            return entry.hit(window, amount, limit, now);
        }
        if shard.map.len() >= shard.sweep_at {
            shard.sweep(now);
        }
        let mut entry = Entry::new(window, now);
        let decision = entry.hit(window, amount, limit, now);
        if !entry.is_empty() {
            shard.map.insert(key.clone(), entry);
        }
        decision
    }
}

/// An answer the pipeline emits instead of calling the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitResponse {
    /// 429 for rate limits, 403 for quotas (as APIM).
    pub status: u16,
    /// APIM's message text.
    pub message: String,
    /// Headers of the answer (`Retry-After` and any configured ones).
    pub headers: Vec<(String, String)>,
}

impl LimitResponse {
    /// APIM's JSON body for these answers: `{"statusCode": …, "message": "…"}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "statusCode": self.status, "message": self.message }).to_string()
    }
}

/// What a limit policy decided for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitOutcome {
    /// The counter's answer, for `*-variable-name` attributes.
    pub decision: Decision,
    /// Headers the configured `*-header-name` attributes add to the eventual response.
    pub headers: Vec<(String, String)>,
    /// Set when the request must be answered with this instead of going on.
    pub rejection: Option<LimitResponse>,
}

impl LimitOutcome {
    /// Whether the request may go on.
    pub fn is_allowed(&self) -> bool {
        self.rejection.is_none()
    }
}

/// Whole seconds for `Retry-After` and APIM's message: rounded up, so a client that waits that
/// long is admitted, and at least 1 (a zero would invite an immediate retry).
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    secs.max(1)
}

/// `d` as .NET's `TimeSpan` prints it (`hh:mm:ss`, `d.hh:mm:ss` past a day), rounded up to whole
/// seconds: APIM's quota message uses this form.
pub fn format_timespan(d: Duration) -> String {
    let total = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    let (days, rest) = (total / 86_400, total % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 {
        format!("{days}.{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// What `rate-limit` ([`RateLimit`]) and `quota` ([`Quota`]) share: `calls` per window on a
/// counter key, `increment-count` per call. They differ only in the window (sliding, fixed) and
/// in how a decision is answered (429 with headers, 403), so those are the two methods each
/// writes; counting is written once, here.
pub trait Limit: Sync {
    /// `counter-key` (or the subscription).
    fn counter_key(&self) -> &CounterKey;
    /// `calls`.
    fn calls(&self) -> u64;
    /// `increment-count`.
    fn increment_count(&self) -> u64;
    /// The window this policy counts in.
    fn window(&self) -> Window;
    /// The policy's answer to the counters' decision.
    fn outcome(&self, decision: Decision) -> LimitOutcome;

    /// Counts this call (`increment-count`) in in-memory counters and decides.
    fn check(&self, counters: &InMemoryCounters, now: Instant) -> LimitOutcome {
        self.hit(counters, self.increment_count(), now)
    }

    /// Counts `amount` (0 to only check, for `increment-condition`) in in-memory counters and
    /// decides.
    fn hit(&self, counters: &InMemoryCounters, amount: u64, now: Instant) -> LimitOutcome {
        let decision = counters.hit(self.counter_key(), self.window(), amount, self.calls(), now);
        self.outcome(decision)
    }

    /// Counts `amount` in any [`Counters`]: the counters' answer, for [`Limit::outcome`].
    fn count_in(
        &self,
        counters: &dyn Counters,
        amount: u64,
        now: Instant,
    ) -> Answer<'static, Decision> {
        counters.hit(self.counter_key(), self.window(), amount, self.calls(), now)
    }

    /// Counts `amount` in any [`Counters`] and decides.
    fn hit_in(
        &self,
        counters: &dyn Counters,
        amount: u64,
        now: Instant,
    ) -> impl Future<Output = LimitOutcome> + Send + '_ {
        let answer = self.count_in(counters, amount, now);
        async move { self.outcome(answer.await) }
    }
}

/// [`Limit`]'s accessors for a policy with the fields `counter_key`, `calls` and
/// `increment_count`, as [`RateLimit`] and [`Quota`] both have.
macro_rules! limit_fields {
    () => {
        fn counter_key(&self) -> &CounterKey {
            &self.counter_key
        }

        fn calls(&self) -> u64 {
            self.calls
        }

        fn increment_count(&self) -> u64 {
            self.increment_count
        }
    };
}

/// The optional header attributes of `rate-limit` / `rate-limit-by-key`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `remaining-calls-header-name`: calls left after this one.
    pub remaining_calls_header_name: Option<String>,
    /// `retry-after-header-name`: seconds to wait, only when the limit is exceeded.
    pub retry_after_header_name: Option<String>,
    /// `total-calls-header-name`: the configured `calls`.
    pub total_calls_header_name: Option<String>,
}

/// `rate-limit` / `rate-limit-by-key`: at most `calls` per sliding `renewal-period`, answered
/// with 429 and `Retry-After` when exceeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// `calls`.
    pub calls: u64,
    /// `renewal-period` (APIM gives it in seconds).
    pub renewal_period: Duration,
    /// The subscription (`rate-limit`) or the evaluated `counter-key` (`rate-limit-by-key`).
    pub counter_key: CounterKey,
    /// `increment-count` (default 1).
    pub increment_count: u64,
    /// The optional header attributes.
    pub headers: RateLimitHeaders,
}

impl RateLimit {
    /// `calls` per `renewal_period_secs` on `counter_key`, counting 1 per call, no extra headers.
    pub fn new(calls: u64, renewal_period_secs: u64, counter_key: CounterKey) -> Self {
        Self {
            calls,
            renewal_period: Duration::from_secs(renewal_period_secs),
            counter_key,
            increment_count: 1,
            headers: RateLimitHeaders::default(),
        }
    }
}

impl Limit for RateLimit {
    limit_fields!();

    /// The sliding window this policy counts in.
    fn window(&self) -> Window {
        Window::sliding(self.renewal_period)
    }

    /// The policy's answer to the counters' decision.
    fn outcome(&self, decision: Decision) -> LimitOutcome {
        let mut headers = Vec::new();
        if let Some(name) = &self.headers.remaining_calls_header_name {
            headers.push((name.clone(), decision.remaining.to_string()));
        }
        if let Some(name) = &self.headers.total_calls_header_name {
            headers.push((name.clone(), self.calls.to_string()));
        }
        let rejection = (!decision.allowed).then(|| {
            let secs = retry_after_secs(decision.retry_after);
            let mut answer = vec![("Retry-After".to_owned(), secs.to_string())];
            if let Some(name) = &self.headers.retry_after_header_name {
                answer.push((name.clone(), secs.to_string()));
            }
            answer.extend(headers.iter().cloned());
            LimitResponse {
                status: 429,
                message: format!("Rate limit is exceeded. Try again in {secs} seconds."),
                headers: answer,
            }
        });
        LimitOutcome {
            decision,
            headers,
            rejection,
        }
    }
}

/// `quota` / `quota-by-key` (call volume): at most `calls` per fixed `renewal-period` aligned to
/// first use, answered with 403 when exhausted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    /// `calls`.
    pub calls: u64,
    /// `renewal-period` (APIM gives it in seconds).
    pub renewal_period: Duration,
    /// The subscription (`quota`) or the evaluated `counter-key` (`quota-by-key`).
    pub counter_key: CounterKey,
    /// `increment-count` (default 1).
    pub increment_count: u64,
}

impl Quota {
    /// `calls` per `renewal_period_secs` on `counter_key`, counting 1 per call.
    pub fn new(calls: u64, renewal_period_secs: u64, counter_key: CounterKey) -> Self {
        Self {
            calls,
            renewal_period: Duration::from_secs(renewal_period_secs),
            counter_key,
            increment_count: 1,
        }
    }
}

impl Limit for Quota {
    limit_fields!();

    /// The fixed window this policy counts in.
    fn window(&self) -> Window {
        Window::fixed(self.renewal_period)
    }

    /// The policy's answer to the counters' decision.
    fn outcome(&self, decision: Decision) -> LimitOutcome {
        let rejection = (!decision.allowed).then(|| LimitResponse {
            status: 403,
            message: format!(
                "Out of call volume quota. Quota will be replenished in {}.",
                format_timespan(decision.retry_after)
            ),
            headers: Vec::new(),
        });
        LimitOutcome {
            decision,
            headers: Vec::new(),
            rejection,
        }
    }
}
