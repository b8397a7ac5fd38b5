//! Reusable test support for gatehouse's end-to-end tests.
//!
//! Everything here binds to loopback only (127.0.0.0/8) and is meant to be used from
//! `#[tokio::test]` functions in `crates/cli/tests/`:
//!
//! - [`backend::MockBackend`]: a real HTTP/1.1 + h2c server with echo, status, delay,
//!   streaming-download and WebSocket-echo routes that records every request it sees.
//! - [`tls::TestCa`] / [`tls::TestCert`]: a throw-away CA and leaf certificates written as PEM.
//! - [`process::Gatehouse`]: runs the real `gatehouse` binary with a config in a fresh temp
//!   directory, captures its output and waits for its health probe.
//! - [`raw`]: raw TCP exchanges for malformed-HTTP and slow-client tests.
//! - [`dns::DnsServer`]: a scripted DNS server (UDP and TCP) whose answers, TTLs and failures
//!   (SERVFAIL, silence) each test chooses per name and per query, and which counts queries.
//! - [`scripted::ScriptedBackend`]: a server answering from a closure that keeps every request
//!   with its whole body (fail-then-succeed backends, fixed documents, exact body checks).
//! - `browser::Browser` (feature `browser`): a headless Chromium driven over WebDriver
//!   (chromedriver + fantoccini), killed with its processes on drop; screenshots go to
//!   `target/portal-screenshots/`.
//! - `smtp_sink::SmtpSink` (feature `smtp`): an SMTP server that records and decodes every
//!   message (the portal's confirmation and password-reset mail).
//!
//! The two HTTP servers need the `http-mocks` feature (on by default).

#[cfg(feature = "http-mocks")]
pub mod backend;
#[cfg(feature = "browser")]
pub mod browser;
pub mod dns;
#[cfg(any(feature = "postgres", feature = "redis", feature = "browser"))]
pub mod external;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod process;
pub mod raw;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "http-mocks")]
pub mod scripted;
#[cfg(feature = "smtp")]
pub mod smtp_sink;
pub mod tls;
mod wait;

#[cfg(feature = "http-mocks")]
pub use backend::{MockBackend, RecordedRequest};
#[cfg(feature = "browser")]
pub use browser::Browser;
pub use dns::DnsServer;
pub use process::{
    Gatehouse, GatehouseBuilder, Probe, TempDir, free_addr, free_addr_on, free_port,
};
#[cfg(feature = "http-mocks")]
pub use scripted::{ScriptedBackend, ScriptedRequest, ScriptedResponse};
#[cfg(feature = "smtp")]
pub use smtp_sink::{Mail, SmtpSink};
pub use tls::{TestCa, TestCert};
