//! Running `git http-backend` (a CGI program, RFC 3875) for one HTTP request.
//!
//! Written by hand: no maintained crate hosts a CGI program under hyper/axum, and the part of
//! CGI that `git http-backend` uses is small — environment in, request body on stdin, a header
//! block then the body on stdout. The request body is streamed in and the response streamed
//! out, so a large clone or push is never held in memory.

use axum::body::Body;
use futures_util::TryStreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio_util::io::{ReaderStream, StreamReader};

/// The largest CGI header block read before the body.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// How long one request may run (a clone of a very large configuration included).
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// One request, as `git http-backend` needs it.
pub struct CgiRequest {
    /// `GIT_PROJECT_ROOT`: the directory holding the repository.
    pub project_root: PathBuf,
    /// `PATH_INFO`: `/<repository>/<git's path>`.
    pub path_info: String,
    pub method: String,
    pub query: String,
    pub headers: HeaderMap,
    pub remote_user: String,
    pub remote_addr: String,
    /// More environment (the push hook's socket and token).
    pub env: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum CgiError {
    #[error("cannot start git http-backend: {0}; install Git (Debian: apt-get install git)")]
    Spawn(#[source] std::io::Error),
    #[error("git http-backend answered badly: {0}")]
    Protocol(String),
}

/// Runs the backend. The response streams while the process runs; `done` is told when it has
/// exited (a push holds the repository until then).
pub async fn run(
    req: CgiRequest,
    body: Body,
    done: Option<tokio::sync::oneshot::Sender<()>>,
) -> Result<Response<Body>, CgiError> {
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &req.project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &req.method)
        .env("PATH_INFO", &req.path_info)
        .env("QUERY_STRING", &req.query)
        .env("REMOTE_USER", &req.remote_user)
        .env("REMOTE_ADDR", &req.remote_addr)
        .env("AUTH_TYPE", "Basic");
    for (name, var) in [
        (http::header::CONTENT_TYPE, "CONTENT_TYPE"),
        (http::header::CONTENT_LENGTH, "CONTENT_LENGTH"),
        (http::header::CONTENT_ENCODING, "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(v) = req.headers.get(&name).and_then(|v| v.to_str().ok()) {
            cmd.env(var, v);
        }
    }
    if let Some(v) = req
        .headers
        .get("git-protocol")
        .and_then(|v| v.to_str().ok())
    {
        cmd.env("GIT_PROTOCOL", v);
    }
    for (k, v) in &req.env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(CgiError::Spawn)?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(CgiError::Protocol("no pipes".to_string()));
    };
    // The request body goes in while the response comes out: a push's report only starts
    // after its whole pack has been read.
    tokio::spawn(async move {
        let stream = body
            .into_data_stream()
            .map_err(|e| std::io::Error::other(e.to_string()));
        let mut reader = StreamReader::new(stream);
        if let Err(e) = tokio::io::copy(&mut reader, &mut stdin).await {
            tracing::debug!(error = %e, "git http-backend: request body not fully sent");
        }
    });
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(%line, "git http-backend");
        }
    });
    let mut out = BufReader::new(stdout);
    let (status, headers) = read_head(&mut out).await?;
    // The process is reaped, and `done` told, when the body has been read to its end (or the
    // client went away), not before.
    tokio::spawn(async move {
        match tokio::time::timeout(MAX_DURATION, child.wait()).await {
            Ok(Ok(s)) if !s.success() => tracing::debug!(status = %s, "git http-backend exited"),
            Ok(_) => {}
            Err(_) => {
                tracing::warn!("git http-backend ran past {MAX_DURATION:?}: stopped");
                let _ = child.kill().await;
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    });
    let mut response = Response::new(Body::from_stream(ReaderStream::new(out)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// Reads the CGI header block: `Status: 200 OK` and header lines, then an empty line.
async fn read_head<R: tokio::io::AsyncBufRead + Unpin>(
    out: &mut R,
) -> Result<(StatusCode, HeaderMap), CgiError> {
    let mut status = StatusCode::OK;
    let mut headers = HeaderMap::new();
    let mut read = 0usize;
    loop {
        let mut line = Vec::new();
        let n = (&mut *out)
            .take((MAX_HEADER_BYTES - read) as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| CgiError::Protocol(e.to_string()))?;
        if n == 0 {
            return Err(CgiError::Protocol(
                "the header block ended early".to_string(),
            ));
        }
        read += n;
        if read >= MAX_HEADER_BYTES {
            return Err(CgiError::Protocol(
                "the header block is too long".to_string(),
            ));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return Ok((status, headers));
        }
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| CgiError::Protocol(format!("bad header line '{text}'")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or_default();
            status = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| CgiError::Protocol(format!("bad status '{value}'")))?;
        } else {
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| CgiError::Protocol(format!("bad header name '{name}'")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| CgiError::Protocol(format!("bad header value for '{name}'")))?;
            headers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_status_and_headers() {
        let mut input: &[u8] =
            b"Status: 404 Not Found\r\nContent-Type: text/plain\r\nExpires: x\r\n\r\nbody";
        let (status, headers) = read_head(&mut input).await.expect("head");
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers["content-type"], "text/plain");
        assert_eq!(input, b"body");
    }

    #[tokio::test]
    async fn refuses_a_broken_head() {
        let mut input: &[u8] = b"no colon here\n\n";
        assert!(read_head(&mut input).await.is_err());
        let mut input: &[u8] = b"Content-Type: x\n";
        assert!(read_head(&mut input).await.is_err());
    }
}
