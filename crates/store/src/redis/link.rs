//! The one connection a node keeps to Redis, and whether it is usable now.
//!
//! Every call is bounded by [`CALL_TIMEOUT`]: a request never waits longer on Redis. A failed
//! or timed-out call marks the link down (logged once, `gatehouse_shared_counters_available` 0)
//! and the callers serve from their local stores at once, without trying Redis, until the
//! background probe (every [`PROBE_EVERY`]) gets a PING answered on a fresh connection: the
//! link is up again (logged once, gauge 1) well within 5 s of Redis returning.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};

/// The longest a request waits on one Redis call before serving locally.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(200);

/// How often a down link is probed.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Gauge: 1 while the shared stores are in use, 0 while nodes count locally.
pub const AVAILABLE_METRIC: &str = "gatehouse_shared_counters_available";
/// Counter: calls served locally because Redis was unreachable.
pub const FALLBACK_METRIC: &str = "gatehouse_shared_counters_fallback_total";

/// Why a Redis call was not answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("redis is unreachable")]
    Down,
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis call failed")]
    Redis(#[from] redis::RedisError),
}

pub(crate) struct Link {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    up: AtomicBool,
    /// Whether a refused call (an error answer) was logged at warn already: an operational
    /// refusal (OOM, a read-only replica) would otherwise log once per request.
    refusal_logged: AtomicBool,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client's connection info may hold a password: never printed.
        f.debug_struct("Link")
            .field("up", &self.up.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT))
        .set_response_timeout(Some(CALL_TIMEOUT))
}

impl Link {
    /// Connects (bounded by [`CALL_TIMEOUT`]) and starts the probe on the current runtime. A
    /// Redis that does not answer leaves the link down, not an error: the node starts counting
    /// locally and the probe brings it up later.
    pub(crate) async fn open(client: Client) -> Arc<Link> {
        let link = Arc::new(Link {
            client,
            conn: Mutex::new(None),
            up: AtomicBool::new(false),
            refusal_logged: AtomicBool::new(false),
        });
        metrics::gauge!(AVAILABLE_METRIC).set(0.0);
        match link.connect().await {
            Ok(conn) => link.set_up(conn, false),
            Err(e) => tracing::warn!(
                target: "gatehouse::shared",
                error = %e,
                "redis is unreachable at start: counting limits on this node only until it answers"
            ),
        }
        tokio::spawn(probe(Arc::downgrade(&link)));
        link
    }

    /// Whether calls go to Redis now.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    async fn connect(&self) -> Result<MultiplexedConnection, CallError> {
        let config = config();
        let connecting = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        let mut conn = tokio::time::timeout(CALL_TIMEOUT, connecting)
            .await
            .map_err(|_| CallError::Timeout(CALL_TIMEOUT))??;
        let ping = redis::cmd("PING");
        tokio::time::timeout(CALL_TIMEOUT, ping.query_async::<String>(&mut conn))
            .await
            .map_err(|_| CallError::Timeout(CALL_TIMEOUT))??;
        Ok(conn)
    }

    fn set_up(&self, conn: MultiplexedConnection, log: bool) {
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        if !self.up.swap(true, Ordering::AcqRel) {
            metrics::gauge!(AVAILABLE_METRIC).set(1.0);
            if log {
                tracing::warn!(target: "gatehouse::shared", "shared counters back: limits are counted across nodes again");
            }
        }
    }

    /// Marks the link down after a failed call; logs the first time only.
    fn set_down(&self, error: &CallError) {
        if self.up.swap(false, Ordering::AcqRel) {
            metrics::gauge!(AVAILABLE_METRIC).set(0.0);
            tracing::warn!(
                target: "gatehouse::shared",
                error = %error,
                "redis is unreachable: limits are counted per node and the external cache misses until it returns"
            );
        }
    }

    /// Counts one call served locally.
    pub(crate) fn count_fallback(&self) {
        metrics::counter!(FALLBACK_METRIC).increment(1);
    }

    /// Runs `call` on the connection within [`CALL_TIMEOUT`]; any failure marks the link down.
    pub(crate) async fn call<T, F, Fut>(&self, call: F) -> Result<T, CallError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = if self.is_up() {
            self.conn
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        } else {
            None
        };
        let Some(conn) = conn else {
            return Err(CallError::Down);
        };
        let error = match tokio::time::timeout(CALL_TIMEOUT, call(conn)).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if !is_outage(&e) => {
                // Redis answered, with an error (a script or type error): a bug to see, not an
                // outage, so the link stays up; this call is served locally.
                if self.refusal_logged.swap(true, Ordering::Relaxed) {
                    tracing::debug!(target: "gatehouse::shared", error = %e, "redis refused a call: served locally");
                } else {
                    tracing::warn!(target: "gatehouse::shared", error = %e, "redis refused a call: served locally (further refusals are logged at debug level)");
                }
                return Err(CallError::Redis(e));
            }
            Ok(Err(e)) => CallError::Redis(e),
            Err(_) => CallError::Timeout(CALL_TIMEOUT),
        };
        self.set_down(&error);
        Err(error)
    }
}

/// Whether `e` means Redis cannot be reached (rather than that it answered with an error).
fn is_outage(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// Reconnects a down link every [`PROBE_EVERY`]; ends when the link is dropped.
async fn probe(link: Weak<Link>) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(link) = link.upgrade() else {
            return;
        };
        if link.is_up() {
            continue;
        }
        if let Ok(conn) = link.connect().await {
            link.set_up(conn, true);
        }
    }
}
