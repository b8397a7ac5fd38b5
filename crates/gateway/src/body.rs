//! The response body the gateway sends: a backend's body streamed through, or a small body of
//! the gateway's own. It counts the bytes it sends and, when it is dropped (sent, or abandoned by
//! the client), writes the request's access log line and ends the request's in-flight mark.

use crate::access_log::AccessRecord;
use crate::conn::InFlight;
use crate::upstream::Lease;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};

enum Inner {
    Full(Option<Bytes>),
    Stream(Incoming),
}

pub struct ProxyBody {
    inner: Inner,
    /// The backend connection the body comes from, reused once the body was read whole.
    lease: Option<Lease>,
    sent: u64,
    /// The last frame was read: the body was sent whole.
    finished: bool,
    log: Option<AccessRecord>,
    _in_flight: Option<InFlight>,
}

impl ProxyBody {
    pub fn full(bytes: Bytes) -> ProxyBody {
        ProxyBody {
            lease: None,
            inner: Inner::Full((!bytes.is_empty()).then_some(bytes)),
            sent: 0,
            finished: false,
            log: None,
            _in_flight: None,
        }
    }
    pub fn empty() -> ProxyBody {
        ProxyBody::full(Bytes::new())
    }
    pub fn stream(body: Incoming, lease: Option<Lease>) -> ProxyBody {
        ProxyBody {
            inner: Inner::Stream(body),
            lease,
            sent: 0,
            finished: false,
            log: None,
            _in_flight: None,
        }
    }
    /// Attaches the access log record written when this body is done.
    pub fn with_log(mut self, log: Option<AccessRecord>, in_flight: Option<InFlight>) -> ProxyBody {
        self.log = log;
        self._in_flight = in_flight;
        self
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = match &mut this.inner {
            Inner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Inner::Stream(s) => Pin::new(s).poll_frame(cx),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    this.sent += d.len() as u64;
                }
            }
            Poll::Ready(None) => this.finished = true,
            Poll::Ready(Some(Err(e))) => {
                if let Some(log) = this.log.as_mut() {
                    log.body_error = Some(e.to_string());
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Full(b) => b.is_none(),
            Inner::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Inner::Full(None) => SizeHint::with_exact(0),
            Inner::Stream(s) => s.size_hint(),
        }
    }
}

impl Drop for ProxyBody {
    fn drop(&mut self) {
        let whole = self.finished || self.is_end_stream();
        if let Some(lease) = self.lease.take()
            && whole
        {
            lease.release();
        }
        if let Some(log) = self.log.take() {
            log.emit(self.sent, !whole);
        }
    }
}
