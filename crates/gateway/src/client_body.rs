//! The client's request body as the gateway reads it: every read is bounded by
//! `body_read_timeout_ms` (nginx's `client_body_timeout`: the longest gap between two reads,
//! not the whole upload), and every failure is the client's, so the request is answered 408 or
//! 400 — not 502 — whether the body was being buffered for policies or streamed to a backend.

use crate::error::ErrorKind;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Why the client's body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientBodyError {
    /// No bytes arrived for the body read timeout.
    #[error("no request body bytes for {} ms", .0.as_millis())]
    Timeout(Duration),
    /// Bad framing (a malformed chunk), a body shorter than its length, a reset stream.
    #[error("the request body is malformed or ended early")]
    Broken(#[source] hyper::Error),
}

impl ClientBodyError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientBodyError::Timeout(_) => ErrorKind::ClientBodyTimeout,
            ClientBodyError::Broken(_) => ErrorKind::ClientBodyBroken,
        }
    }

    /// The client's body error somewhere in `err`'s chain of causes (a backend request whose
    /// streamed body failed carries it as its source).
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a ClientBodyError> {
        let mut cause = Some(err);
        while let Some(e) = cause {
            if let Some(found) = e.downcast_ref::<ClientBodyError>() {
                return Some(found);
            }
            cause = e.source();
        }
        None
    }
}

/// Whether an answer with this error must close the client's connection: the rest of the
/// body is unread (or unreadable), so the connection cannot carry another request.
pub fn ends_connection(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ClientBodyTimeout | ErrorKind::ClientBodyBroken
    )
}

/// The client's request body with a read deadline.
pub struct ClientBody {
    inner: Incoming,
    timeout: Duration,
    /// Armed at the first read that finds nothing (a body that arrives with its head never
    /// allocates one); re-armed after progress.
    timer: Option<Pin<Box<Sleep>>>,
    /// A frame arrived since the timer was armed: the next wait starts a new gap.
    progressed: bool,
}

impl ClientBody {
    pub fn new(inner: Incoming, timeout: Duration) -> ClientBody {
        ClientBody {
            inner,
            timeout,
            timer: None,
            progressed: false,
        }
    }
}

impl std::fmt::Debug for ClientBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBody")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ClientBodyError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.progressed = true;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(ClientBodyError::Broken(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let timer = match &mut this.timer {
                    Some(t) => {
                        if this.progressed {
                            t.as_mut().reset(Instant::now() + this.timeout);
                        }
                        t
                    }
                    None => this
                        .timer
                        .insert(Box::pin(tokio::time::sleep(this.timeout))),
                };
                this.progressed = false;
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Some(Err(ClientBodyError::Timeout(this.timeout))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
