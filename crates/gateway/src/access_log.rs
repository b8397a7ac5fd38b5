//! The access log: one structured line per request, written through `tracing` (target
//! `gatehouse::access`) when the response is done. It never holds the subscription key, only the
//! subscription id; the path is logged without its query (a key may travel in the query).

use crate::conn::ConnInfo;
use http::{Method, Uri, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A request id unique within this process (APIM's `context.RequestId` is per request too).
pub fn next_request_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug)]
pub struct AccessRecord {
    pub start: Instant,
    pub request_id: u64,
    pub conn: Arc<ConnInfo>,
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub api: Option<Arc<str>>,
    pub operation: Option<Arc<str>>,
    pub subscription: Option<Arc<str>>,
    pub backend: Option<Arc<str>>,
    pub status: u16,
    pub backend_time: Option<Duration>,
    pub error: Option<&'static str>,
    pub body_error: Option<String>,
    /// The request's client when it differs from the connection's (X-Forwarded-For).
    pub client_ip: Option<std::net::IpAddr>,
}

impl AccessRecord {
    pub fn new(
        start: Instant,
        conn: Arc<ConnInfo>,
        method: &Method,
        uri: &Uri,
        version: Version,
    ) -> AccessRecord {
        AccessRecord {
            start,
            request_id: next_request_id(),
            conn,
            method: method.clone(),
            uri: uri.clone(),
            version,
            api: None,
            operation: None,
            subscription: None,
            backend: None,
            status: 0,
            backend_time: None,
            error: None,
            body_error: None,
            client_ip: None,
        }
    }

    /// Writes the line. `aborted`: the response body was not sent whole.
    pub fn emit(self, bytes_sent: u64, aborted: bool) {
        let total_ms = self.start.elapsed().as_secs_f64() * 1000.0;
        let backend_ms = self.backend_time.map(|d| d.as_secs_f64() * 1000.0);
        tracing::info!(
            target: "gatehouse::access",
            request_id = self.request_id,
            client = %self.client_ip.unwrap_or(self.conn.admitted.client.ip()),
            peer = %self.conn.peer,
            private_endpoint = self.conn.admitted.private_endpoint.as_ref().map(|p| &*p.name),
            nsg_rule = self.conn.admitted.nsg_rule.as_ref().map(|r| &*r.name),
            nsg_priority = self.conn.admitted.nsg_rule.as_ref().map(|r| r.priority),
            listener = %self.conn.local,
            tls = self.conn.tls,
            method = %self.method,
            path = self.uri.path(),
            version = ?self.version,
            api = self.api.as_deref(),
            operation = self.operation.as_deref(),
            subscription = self.subscription.as_deref(),
            backend = self.backend.as_deref(),
            status = self.status,
            bytes_sent,
            backend_ms,
            total_ms,
            error = self.error,
            body_error = self.body_error.as_deref(),
            aborted,
            "request"
        );
    }
}
