//! Phase: respond — the backend's response as the client gets it, streamed; a `101` to a
//! WebSocket upgrade becomes a tunnel between the two connections. Shared by the plain forward
//! (`proxy.rs`) and the policy lifecycle (`policy_flow.rs`, `forward_request.rs`).

use crate::backend::BackendTarget;
use crate::body::ProxyBody;
use crate::conn::ConnInfo;
use crate::error::{ErrorKind, GatewayError};
use crate::forward;
use crate::upstream::Lease;
use http::{Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::sync::Arc;

/// Phase: respond. The backend's response for the client, its body streamed; a 101 answer
/// to an upgrade request becomes a tunnel between the two connections. A 101 to a request that
/// asked for no upgrade is the backend's error: no tunnel is ever opened the gateway did not
/// agree to.
pub fn respond_streamed(
    mut resp: Response<Incoming>,
    lease: Lease,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
    target: &BackendTarget,
    conn: &Arc<ConnInfo>,
) -> Result<Response<ProxyBody>, GatewayError> {
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS && upgrade.is_none() {
        return Err(unasked_switch(&target.id));
    }
    forward::to_client(&mut resp);
    // An upgraded connection is the tunnel's now, never the pool's.
    let lease = (resp.status() != StatusCode::SWITCHING_PROTOCOLS).then_some(lease);
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = upgrade
    {
        let backend_side = hyper::upgrade::on(&mut resp);
        let backend_id = target.id.clone();
        // The tunnel keeps the connection's place under max_connections.
        let conn_hold = conn.clone();
        tokio::spawn(async move {
            let _conn = conn_hold;
            match tokio::try_join!(client_side, backend_side) {
                Ok((c, b)) => {
                    let (mut c, mut b) = (TokioIo::new(c), TokioIo::new(b));
                    if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut b).await {
                        tracing::debug!(backend = &*backend_id, error = %e, "upgraded connection ended");
                    }
                }
                Err(e) => {
                    tracing::warn!(backend = &*backend_id, error = %e, "protocol upgrade failed")
                }
            }
        });
    }
    let (parts, body) = resp.into_parts();
    Ok(Response::from_parts(parts, ProxyBody::stream(body, lease)))
}

/// The error for a backend that switched protocols unasked.
pub fn unasked_switch(backend: &str) -> GatewayError {
    let e = GatewayError::new(
        ErrorKind::BackendBroken,
        "the backend answered 101 Switching Protocols to a request that asked for no upgrade",
    );
    tracing::warn!(backend, error = %e, "backend switched protocols unasked");
    e
}
