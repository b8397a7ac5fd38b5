//! Raw TCP exchanges for tests that need bytes no HTTP client would send: malformed
//! requests, request smuggling attempts, slow (slowloris) clients.
//!
//! Reading stops at EOF, at a connection reset, or when the read timeout expires; none of
//! these is an error: whatever arrived is returned, so a test can assert on what the server
//! answered (or that it answered nothing). Only failing to connect is an error.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

/// Read timeout used by [`send_raw`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `addr`, writes `bytes` (keeping the write side open), and reads until EOF,
/// reset or [`DEFAULT_READ_TIMEOUT`]; returns everything read.
pub async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>> {
    send_raw_timeout(addr, bytes, DEFAULT_READ_TIMEOUT).await
}

/// Like [`send_raw`] with an explicit read timeout (measured from the end of writing).
pub async fn send_raw_timeout(
    addr: SocketAddr,
    bytes: &[u8],
    read_timeout: Duration,
) -> Result<Vec<u8>> {
    send_raw_paced(addr, &[bytes], Duration::ZERO, read_timeout).await
}

/// Connects to `addr` and writes `chunks` one by one with `pause` between them (a slow
/// client), then reads until EOF or `read_timeout` after the last write. If the server
/// closes the connection while chunks remain, writing stops and the answer read so far (if
/// any) is returned.
pub async fn send_raw_paced(
    addr: SocketAddr,
    chunks: &[&[u8]],
    pause: Duration,
    read_timeout: Duration,
) -> Result<Vec<u8>> {
    let mut stream = connect(addr).await?;
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        if i > 0 && !pause.is_zero() {
            // Keep reading while pausing so an early answer (408, 400) is not missed.
            if read_for(&mut stream, &mut out, pause).await {
                return Ok(out);
            }
        }
        if stream.write_all(chunk).await.is_err() || stream.flush().await.is_err() {
            read_for(&mut stream, &mut out, read_timeout).await;
            return Ok(out);
        }
    }
    read_for(&mut stream, &mut out, read_timeout).await;
    Ok(out)
}

/// Opens a TCP connection to `addr` with [`CONNECT_TIMEOUT`], for tests that drive the
/// exchange themselves.
pub async fn connect(addr: SocketAddr) -> Result<TcpStream> {
    let stream = timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .with_context(|| format!("raw: connecting to {addr} timed out"))?
        .with_context(|| format!("raw: connecting to {addr}"))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Reads into `out` for at most `dur`; returns true when the connection ended (EOF or error).
async fn read_for(stream: &mut TcpStream, out: &mut Vec<u8>, dur: Duration) -> bool {
    let deadline = Instant::now() + dur;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_elapsed) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status code of the first HTTP/1.x status line in `response`
/// (`HTTP/1.1 400 Bad Request` gives `Some(400)`), or `None` if it does not start with one.
pub fn status_of(response: &[u8]) -> Option<u16> {
    let line_end = response
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(response.len());
    let line = std::str::from_utf8(&response[..line_end]).ok()?;
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// The head of the first response in `response` (status line and headers, without the
/// blank line), lossily decoded, or `None` if no complete head arrived.
pub fn head_of(response: &[u8]) -> Option<String> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(String::from_utf8_lossy(&response[..end]).into_owned())
}

/// The value of header `name` (case-insensitive) in the first response's head.
pub fn header_of(response: &[u8], name: &str) -> Option<String> {
    head_of(response)?.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// The bytes after the first response's head (its body and anything following it).
pub fn body_of(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(&response[end + 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        assert_eq!(status_of(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Some(400));
        assert_eq!(status_of(b"HTTP/1.0 200 OK\r\n"), Some(200));
        assert_eq!(status_of(b"HTTP/1.1 204\r\n"), Some(204));
        assert_eq!(status_of(b"HTTP/1.1 20"), None);
        assert_eq!(status_of(b""), None);
        assert_eq!(status_of(b"SSH-2.0-x\r\n"), None);
    }

    #[test]
    fn parses_heads() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi";
        assert_eq!(header_of(resp, "content-length").as_deref(), Some("2"));
        assert_eq!(header_of(resp, "x-a").as_deref(), Some("b"));
        assert_eq!(header_of(resp, "x-missing"), None);
        assert_eq!(body_of(resp), Some(&b"hi"[..]));
    }
}

/// One HTTP/1.1 response read off a raw connection by [`read_response`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// The status line and headers, as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body, lossily decoded.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response off `stream` (its body by `content-length`, `chunked`, or up to EOF)
/// within `within`, leaving the connection open for the next one; `None` if the connection
/// ended (or time ran out) before a whole response arrived.
pub async fn read_response(stream: &mut TcpStream, within: Duration) -> Option<RawResponse> {
    let deadline = Instant::now() + within;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let eof = match timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                false
            }
        };
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let status = status_of(&buf)?;
            let head = head_of(&buf)?;
            let body = &buf[end + 4..];
            let length = header_of(&buf, "content-length").and_then(|v| v.parse::<usize>().ok());
            let chunked = header_of(&buf, "transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
            let complete = match length {
                Some(n) => body.len() >= n,
                None if chunked => body.ends_with(b"0\r\n\r\n"),
                None => eof,
            };
            if complete {
                let body = match length {
                    Some(n) => body[..n].to_vec(),
                    None => body.to_vec(),
                };
                return Some(RawResponse { status, head, body });
            }
        }
        if eof {
            return None;
        }
    }
}

/// A backend on raw sockets: every connection it accepts gets `response` (written as is) to its
/// first request head, then is closed, whatever the response's own headers say. Use it where a
/// test needs a backend that closes connections a real server would keep (one connection per
/// request, or a keep-alive answer followed by a close). Returns how many connections it
/// accepted so far.
pub fn answer_once_per_connection(
    listener: tokio::net::TcpListener,
    response: &'static [u8],
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    // A head this large is not what these tests send.
                    if buf.len() > 64 * 1024 {
                        return;
                    }
                }
                let _ = s.write_all(response).await;
                let _ = s.shutdown().await;
            });
        }
    });
    accepted
}
