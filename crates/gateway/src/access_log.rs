//! The access log: one structured line per request, target `gatehouse::access`, when the
//! response is done. It never holds the subscription key, only the subscription id; the path is
//! logged without its query (a key may travel in the query).
//!
//! Two paths, one line: with a JSON [`set_sink`] (the binary's JSON log format), the line is
//! written here straight into a per-thread buffer and handed to the sink — no tracing event,
//! field visitor or `Debug` formatting, which cost about 3 µs per request (an eighth of the
//! gateway's CPU) in the profile of bench/run.sh; otherwise through `tracing` as any event.
//! Both honour the log filter (`gatehouse::access=off`) and give the same JSON.

use crate::conn::ConnInfo;
use crate::json_line::{write_json_str, write_timestamp};
use http::{Method, Uri, Version};
use std::cell::RefCell;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Takes each access log line (a whole JSON object and its newline).
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

thread_local! {
    /// The line being written on this thread (a worker's buffer, reused for every request).
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
}

/// Where JSON access log lines go, set once at start by a binary whose log format is the JSON
/// lines of crates/cli/src/json_log.rs. Later calls are ignored.
pub fn set_sink(sink: Sink) {
    let _ = SINK.set(sink);
}

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

    /// The request's client: the connection's, unless `X-Forwarded-For` named another.
    fn client(&self) -> std::net::IpAddr {
        self.client_ip.unwrap_or(self.conn.admitted.client.ip())
    }

    /// Writes the line. `aborted`: the response body was not sent whole.
    pub fn emit(self, bytes_sent: u64, aborted: bool) {
        if !tracing::enabled!(target: "gatehouse::access", tracing::Level::INFO) {
            return;
        }
        let Some(sink) = SINK.get() else {
            return self.emit_event(bytes_sent, aborted);
        };
        let written = LINE.with(|line| {
            // A sink that logs through this thread's access log again would find the buffer
            // borrowed: that line goes through tracing instead.
            let Ok(mut line) = line.try_borrow_mut() else {
                return false;
            };
            line.clear();
            if self.write_json(&mut line, bytes_sent, aborted).is_ok() {
                sink(&line);
            }
            true
        });
        if !written {
            self.emit_event(bytes_sent, aborted);
        }
    }

    /// The line as crates/cli/src/json_log.rs writes a tracing event: timestamp, level,
    /// message, the fields in order (absent ones left out), target. Written without `fmt`
    /// machinery: integers by `itoa`, the connection's fields once per connection, the
    /// timestamp's date and time once per second (crates/gateway/src/json_line.rs).
    fn write_json(&self, w: &mut String, bytes_sent: u64, aborted: bool) -> std::fmt::Result {
        let total = self.start.elapsed();
        let mut n = itoa::Buffer::new();
        w.push_str("{\"timestamp\":\"");
        write_timestamp(w, SystemTime::now())?;
        w.push_str("\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":");
        w.push_str(n.format(self.request_id));
        w.push_str(",\"client\":\"");
        w.push_str(&self.conn.ip_text(self.client()));
        w.push('"');
        w.push_str(self.conn.log_fields.get_or_init(|| conn_fields(&self.conn)));
        w.push_str(",\"method\":");
        write_json_str(w, self.method.as_str())?;
        w.push_str(",\"path\":");
        write_json_str(w, self.uri.path())?;
        w.push_str(",\"version\":");
        write_json_str(w, &format_version(self.version))?;
        for (key, value) in [
            ("api", &self.api),
            ("operation", &self.operation),
            ("subscription", &self.subscription),
            ("backend", &self.backend),
        ] {
            if let Some(v) = value {
                w.push_str(",\"");
                w.push_str(key);
                w.push_str("\":");
                write_json_str(w, v)?;
            }
        }
        w.push_str(",\"status\":");
        w.push_str(n.format(self.status));
        w.push_str(",\"bytes_sent\":");
        w.push_str(n.format(bytes_sent));
        if let Some(d) = self.backend_time {
            write_ms(w, "backend_ms", d);
        }
        write_ms(w, "total_ms", total);
        if let Some(e) = self.error {
            w.push_str(",\"error\":");
            write_json_str(w, e)?;
        }
        if let Some(e) = &self.body_error {
            w.push_str(",\"body_error\":");
            write_json_str(w, e)?;
        }
        w.push_str(if aborted {
            ",\"aborted\":true,\"target\":\"gatehouse::access\"}\n"
        } else {
            ",\"aborted\":false,\"target\":\"gatehouse::access\"}\n"
        });
        Ok(())
    }

    /// The same line through `tracing` (the text log format, or no JSON sink).
    fn emit_event(self, bytes_sent: u64, aborted: bool) {
        let total_ms = millis(self.start.elapsed());
        let backend_ms = self.backend_time.map(millis);
        tracing::info!(
            target: "gatehouse::access",
            request_id = self.request_id,
            client = %self.client(),
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

/// Milliseconds with microsecond precision, as both paths log them.
fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// `"key":value` in milliseconds with microsecond precision (`12.345`), written from the
/// integer microseconds: a float's shortest-representation formatting cost more than the rest
/// of the field.
fn write_ms(w: &mut String, key: &str, d: Duration) {
    let micros = d.as_micros();
    let mut n = itoa::Buffer::new();
    w.push_str(",\"");
    w.push_str(key);
    w.push_str("\":");
    w.push_str(n.format(micros / 1000));
    let frac = (micros % 1000) as u32;
    w.push('.');
    for digit in [frac / 100, frac / 10 % 10, frac % 10] {
        w.push(char::from(b'0' + digit as u8));
    }
}

/// The fields of a connection, from `,"peer":` to `"tls":…`, in the line's order.
fn conn_fields(conn: &ConnInfo) -> Box<str> {
    let mut w = String::with_capacity(128);
    let _ = write!(w, ",\"peer\":\"{}\"", conn.peer);
    if let Some(p) = &conn.admitted.private_endpoint {
        w.push_str(",\"private_endpoint\":");
        let _ = write_json_str(&mut w, &p.name);
    }
    if let Some(r) = &conn.admitted.nsg_rule {
        w.push_str(",\"nsg_rule\":");
        let _ = write_json_str(&mut w, &r.name);
        let _ = write!(w, ",\"nsg_priority\":{}", r.priority);
    }
    let _ = write!(w, ",\"listener\":\"{}\"", conn.local);
    w.push_str(if conn.tls {
        ",\"tls\":true"
    } else {
        ",\"tls\":false"
    });
    w.into_boxed_str()
}

/// The version as `Debug` writes it (`HTTP/1.1`), without formatting machinery.
fn format_version(v: Version) -> std::borrow::Cow<'static, str> {
    match v {
        Version::HTTP_09 => "HTTP/0.9".into(),
        Version::HTTP_10 => "HTTP/1.0".into(),
        Version::HTTP_11 => "HTTP/1.1".into(),
        Version::HTTP_2 => "HTTP/2.0".into(),
        Version::HTTP_3 => "HTTP/3.0".into(),
        other => format!("{other:?}").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_have_microsecond_precision() {
        let mut s = String::new();
        write_ms(&mut s, "total_ms", Duration::from_nanos(12_345_678));
        write_ms(&mut s, "backend_ms", Duration::from_micros(7));
        write_ms(&mut s, "x", Duration::from_secs(3));
        assert_eq!(s, r#","total_ms":12.345,"backend_ms":0.007,"x":3000.000"#);
        let v: serde_json::Value = serde_json::from_str(&format!("{{{}}}", &s[1..])).unwrap();
        assert_eq!(v["total_ms"], 12.345);
        assert_eq!(millis(Duration::from_nanos(12_345_678)), 12.345);
    }
}
