//! The memory the gateway spends on bodies it holds whole (a request body read for policies,
//! a backend response read for outbound, a send-request answer): each body is bounded by
//! `max_buffered_body_bytes`, and all of them together by `max_buffered_total_bytes`. A body
//! reserves its bytes from the shared budget before they are read — its announced length up
//! front, the rest as it arrives — and the reservation travels with the [`Bytes`] it becomes,
//! so the memory is given back exactly when the last copy of the body is dropped.

use crate::client_body::ClientBodyError;
use crate::error::{ErrorKind, GatewayError};
use bytes::Bytes;
use gatehouse_model::Limits;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The shared budget. Both bounds are read at each reservation, so a reload applies at once.
#[derive(Debug)]
pub struct BufferBudget {
    max_body: AtomicU64,
    max_total: AtomicU64,
    used: AtomicU64,
}

impl BufferBudget {
    pub fn new(limits: &Limits) -> BufferBudget {
        let b = BufferBudget {
            max_body: AtomicU64::new(0),
            max_total: AtomicU64::new(0),
            used: AtomicU64::new(0),
        };
        b.configure(limits);
        b
    }

    /// Takes the bounds of a new config (reservations already held stay).
    pub fn configure(&self, limits: &Limits) {
        self.max_body
            .store(limits.max_buffered_body_bytes, Ordering::Relaxed);
        self.max_total
            .store(limits.max_buffered_total_bytes, Ordering::Relaxed);
    }

    /// Bytes reserved now, over all bodies.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn try_take(&self, n: u64) -> bool {
        let max = self.max_total.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|total| *total <= max)
            })
            .is_ok()
    }

    /// Reserves `n` bytes, or `None` when the budget has not that much left.
    pub fn reserve(self: &Arc<Self>, n: u64) -> Option<Reservation> {
        self.try_take(n).then(|| Reservation {
            budget: self.clone(),
            bytes: n,
        })
    }

    /// Reads `body` whole within the bounds: 413 (BodyTooLarge) beyond `max_buffered_body_bytes`,
    /// 503 (BufferBudgetExhausted) when the shared budget cannot hold it, 408/400 when the
    /// client's body times out or breaks, 502 when a backend's body breaks.
    pub async fn collect<B>(self: &Arc<Self>, body: B) -> Result<Bytes, GatewayError>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let max = self.max_body.load(Ordering::Relaxed);
        let too_large = || {
            GatewayError::new(
                ErrorKind::BodyTooLarge,
                format!("body larger than {max} bytes"),
            )
        };
        let exhausted = |n: u64| {
            GatewayError::new(
                ErrorKind::BufferBudgetExhausted,
                format!(
                    "{n} more bytes do not fit: {} of {} bytes for buffered bodies in use",
                    self.in_use(),
                    self.max_total.load(Ordering::Relaxed)
                ),
            )
        };
        // The announced length (Content-Length) is refused or reserved before a byte is read.
        let announced = body.size_hint().lower();
        if announced > max {
            return Err(too_large());
        }
        let mut reservation = self
            .reserve(announced)
            .ok_or_else(|| exhausted(announced))?;
        let mut body = std::pin::pin!(body);
        // One frame is kept as it came (no copy); more are joined.
        let mut first: Option<Bytes> = None;
        let mut joined: Vec<u8> = Vec::new();
        let mut len: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| read_error(e.into()))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers: not part of the body
            };
            len += data.len() as u64;
            if len > max {
                return Err(too_large());
            }
            if len > reservation.bytes && !reservation.grow_to(len) {
                return Err(exhausted(len - reservation.bytes));
            }
            match first.take() {
                None if joined.is_empty() => first = Some(data),
                Some(f) => {
                    joined.reserve_exact(announced.max(len) as usize - f.len());
                    joined.extend_from_slice(&f);
                    joined.extend_from_slice(&data);
                }
                None => joined.extend_from_slice(&data),
            }
        }
        // Only what the body turned out to be stays reserved.
        reservation.shrink_to(len);
        Ok(match first {
            _ if len == 0 => Bytes::new(),
            Some(one) => Bytes::from_owner(Held {
                bytes: one,
                _reservation: reservation,
            }),
            None => Bytes::from_owner(Held {
                bytes: Bytes::from(joined),
                _reservation: reservation,
            }),
        })
    }
}

/// A read error: the client's (408, 400) when the body was the client's, else the backend's.
fn read_error(e: Box<dyn std::error::Error + Send + Sync>) -> GatewayError {
    match ClientBodyError::find(&*e) {
        Some(c) => GatewayError::new(c.kind(), c.to_string()),
        None => GatewayError::new(
            ErrorKind::BackendBroken,
            format!(
                "body could not be read: {}",
                crate::upstream::error_chain(&*e)
            ),
        ),
    }
}

/// Bytes taken from the budget; given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<BufferBudget>,
    bytes: u64,
}

impl Reservation {
    fn grow_to(&mut self, total: u64) -> bool {
        let more = total.saturating_sub(self.bytes);
        if self.budget.try_take(more) {
            self.bytes = total;
            true
        } else {
            false
        }
    }

    fn shrink_to(&mut self, total: u64) {
        if total < self.bytes {
            self.budget
                .used
                .fetch_sub(self.bytes - total, Ordering::AcqRel);
            self.bytes = total;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// A buffered body with its reservation: what a [`Bytes`] owns.
struct Held {
    bytes: Bytes,
    _reservation: Reservation,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn budget(max_body: u64, max_total: u64) -> Arc<BufferBudget> {
        let limits = Limits {
            max_buffered_body_bytes: max_body,
            max_buffered_total_bytes: max_total,
            ..Limits::default()
        };
        Arc::new(BufferBudget::new(&limits))
    }

    type Frames = std::vec::IntoIter<Result<http_body::Frame<Bytes>, std::convert::Infallible>>;

    /// A body of `parts`, announcing no length.
    fn chunks(parts: &[&'static [u8]]) -> StreamBody<futures_util::stream::Iter<Frames>> {
        let frames: Vec<_> = parts
            .iter()
            .map(|p| Ok(http_body::Frame::data(Bytes::from_static(p))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn the_reservation_lives_as_long_as_the_body() {
        let b = budget(1024, 4096);
        let body = b.collect(chunks(&[b"hello ", b"world"])).await.unwrap();
        assert_eq!(&body[..], b"hello world");
        assert_eq!(b.in_use(), 11);
        let copy = body.clone();
        drop(body);
        assert_eq!(b.in_use(), 11);
        drop(copy);
        assert_eq!(b.in_use(), 0);
    }

    #[tokio::test]
    async fn bounds_one_body_and_all_of_them() {
        let b = budget(1024, 2048);
        // Announced beyond the body limit: refused before reading.
        let e = b
            .collect(Full::new(Bytes::from(vec![0u8; 1025])))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BodyTooLarge);
        // Unannounced, found beyond it while reading.
        let e = b
            .collect(chunks(&[&[1u8; 1000], &[2u8; 100]]))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BodyTooLarge);
        assert_eq!(b.in_use(), 0);
        let one = b
            .collect(Full::new(Bytes::from(vec![0u8; 1024])))
            .await
            .unwrap();
        let two = b
            .collect(Full::new(Bytes::from(vec![0u8; 1000])))
            .await
            .unwrap();
        // 2024 of 2048 in use: 100 more do not fit.
        let e = b.collect(chunks(&[&[3u8; 100]])).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferBudgetExhausted);
        drop(one);
        assert_eq!(b.collect(chunks(&[&[3u8; 100]])).await.unwrap().len(), 100);
        drop(two);
        assert_eq!(b.in_use(), 0);
    }
}
