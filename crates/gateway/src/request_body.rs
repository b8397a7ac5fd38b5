//! The body the gateway sends to a backend. Its own module because both the per-backend
//! clients (`backend.rs`) and the connection pool under them (`upstream.rs`) speak it.

/// The body the gateway sends to backends: the client's own body streamed through, or a
/// whole body (buffered for policies, or set by one).
pub enum RequestBody {
    Stream(crate::client_body::ClientBody),
    Full(Option<bytes::Bytes>),
}

impl RequestBody {
    pub fn full(b: bytes::Bytes) -> RequestBody {
        RequestBody::Full((!b.is_empty()).then_some(b))
    }
}

impl http_body::Body for RequestBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match self.get_mut() {
            RequestBody::Stream(b) => std::pin::Pin::new(b)
                .poll_frame(cx)
                .map_err(|e| Box::new(e) as Self::Error),
            RequestBody::Full(b) => {
                std::task::Poll::Ready(b.take().map(|b| Ok(http_body::Frame::data(b))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Stream(b) => b.is_end_stream(),
            RequestBody::Full(b) => b.is_none(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self {
            RequestBody::Stream(b) => b.size_hint(),
            RequestBody::Full(b) => {
                http_body::SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
