//! [`Answer`]: what a shared store (counters, cache, concurrency slots) returns — at once for the
//! in-memory stores, later for one behind the network (Redis, crates/store/src/redis/).
//!
//! Why not `async fn` in the traits: an `async fn` behind `dyn` is boxed on every call, and the
//! in-memory path (the default, and the hot one) would pay an allocation per hit for nothing.
//! An `Answer::Ready` costs nothing; only a store that really waits boxes its future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed future of a store that waits.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store's answer: known now, or pending on I/O. It is a future either way, so callers just
/// `.await` it; [`Answer::now`] lets a synchronous caller take a ready answer.
#[must_use = "an answer does nothing until awaited"]
pub enum Answer<'a, T> {
    /// Decided already (an in-memory store).
    Ready(std::future::Ready<T>),
    /// Decided once the future completes (a networked store).
    Pending(Pending<'a, T>),
}

impl<'a, T> Answer<'a, T> {
    /// An answer known now.
    pub fn ready(value: T) -> Self {
        Answer::Ready(std::future::ready(value))
    }

    /// An answer that waits on `future`.
    pub fn pending(future: impl Future<Output = T> + Send + 'a) -> Self {
        Answer::Pending(Box::pin(future))
    }

    /// The value when it is known without waiting; the answer back otherwise.
    pub fn now(self) -> Result<T, Self> {
        match self {
            Answer::Ready(r) => Ok(r.into_inner()),
            pending => Err(pending),
        }
    }
}

impl<T> Future for Answer<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // Both variants are Unpin (`Ready<T>` is, a `Pin<Box<_>>` is), so the enum is too.
        match self.get_mut() {
            Answer::Ready(r) => Pin::new(r).poll(cx),
            Answer::Pending(f) => f.as_mut().poll(cx),
        }
    }
}

impl<T> std::fmt::Debug for Answer<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Answer::Ready(_) => "Answer::Ready",
            Answer::Pending(_) => "Answer::Pending",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_and_pending_answers_resolve() {
        assert_eq!(Answer::ready(3).await, 3);
        assert_eq!(Answer::pending(async { 4 }).await, 4);
        assert_eq!(Answer::ready(5).now().ok(), Some(5));
        assert!(Answer::pending(async { 6 }).now().is_err());
    }
}
