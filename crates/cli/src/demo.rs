//! The demo backend `gatehouse serve` starts when run without a config file: an echo server on
//! loopback that answers every request with a JSON description of what it received.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The embedded default config; `${DEMO_BACKEND}` becomes the demo backend's URL.
pub const DEMO_CONFIG: &str = include_str!("demo.yaml");
pub const DEMO_KEY: &str = "demo-primary-key-0123456789abcdef";
/// The demo config's backend id, re-pointed at the demo backend on every start.
pub const DEMO_BACKEND_ID: &str = "echo";

/// The demo config with the demo backend's address.
pub fn config(backend: SocketAddr) -> anyhow::Result<gatehouse_model::Config> {
    let text = DEMO_CONFIG.replace("${DEMO_BACKEND}", &format!("http://{backend}"));
    gatehouse_model::from_str(
        &text,
        gatehouse_model::Format::Yaml,
        std::path::Path::new("<embedded demo config>"),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    // The demo answers with the body's size only: it never needs to keep a body.
    let mut size = 0usize;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => size += f.data_ref().map_or(0, |d| d.len()),
            Err(_) => break,
        }
    }
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
            )
        })
        .collect();
    let answer = serde_json::json!({
        "backend": "gatehouse demo echo",
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_bytes": size,
    });
    let mut resp = Response::new(Full::new(Bytes::from(format!("{answer:#}\n"))));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// Starts the echo backend on 127.0.0.1 (a free port) and returns its address.
pub async fn start() -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service_fn(echo))
                    .await;
            });
        }
    });
    Ok(addr)
}
