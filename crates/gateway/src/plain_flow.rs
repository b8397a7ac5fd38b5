//! The phases after authorization for a request whose composition has no policies: inbound and
//! outbound have nothing to run, the backend phase is the plain forward (the request rewritten
//! in place, its body streamed), the respond phase streams the answer back. Nothing is copied
//! into a policy exchange, which is what keeps such a request fast.

use crate::access_log::AccessRecord;
use crate::backend::BackendTarget;
use crate::backend_call;
use crate::body::ProxyBody;
use crate::client_body::ClientBody;
use crate::conn::ConnInfo;
use crate::error::GatewayError;
use crate::forward::{self, KeyNames};
use crate::request_body::RequestBody;
use crate::snapshot::ApiSettings;
use crate::upstream::Lease;
use http::{Request, Response};
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Instant;

pub struct PlainFlow<'a> {
    request: Option<Request<ClientBody>>,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
    target: &'a Arc<BackendTarget>,
    api: &'a ApiSettings,
    /// The path after the API prefix, as routed.
    rest: &'a str,
    answer: Option<(Response<Incoming>, Lease)>,
}

impl<'a> PlainFlow<'a> {
    pub fn new(
        request: Request<ClientBody>,
        upgrade: Option<hyper::upgrade::OnUpgrade>,
        target: &'a Arc<BackendTarget>,
        api: &'a ApiSettings,
        rest: &'a str,
    ) -> PlainFlow<'a> {
        PlainFlow {
            request: Some(request),
            upgrade,
            target,
            api,
            rest,
            answer: None,
        }
    }

    /// Phase: backend. The request rewritten for the backend and sent on its pool.
    pub async fn backend(
        &mut self,
        conn: &ConnInfo,
        log: &mut Option<AccessRecord>,
    ) -> Result<(), GatewayError> {
        let target = self.target;
        if let Some(l) = log.as_mut() {
            l.backend = Some(target.id.clone());
        }
        let Some(mut req) = self.request.take() else {
            return Ok(());
        };
        forward::to_backend(
            &mut req,
            target,
            None,
            self.rest,
            KeyNames {
                header: &self.api.key_header,
                query: &self.api.key_query,
            },
            conn,
        )?;
        let sent_at = Instant::now();
        let result = backend_call::send(target, req.map(RequestBody::Stream), target.timeout).await;
        if let Some(l) = log.as_mut() {
            l.backend_time = Some(sent_at.elapsed());
        }
        self.answer = Some(result?);
        Ok(())
    }

    /// Phase: respond. The backend's answer streamed back (a tunnel after a WebSocket 101).
    pub fn respond(&mut self, conn: &Arc<ConnInfo>) -> Result<Response<ProxyBody>, GatewayError> {
        let Some((resp, lease)) = self.answer.take() else {
            return Err(GatewayError::new(
                crate::error::ErrorKind::BackendBroken,
                "no backend answer to respond with",
            ));
        };
        crate::respond::respond_streamed(resp, lease, self.upgrade.take(), self.target, conn)
    }
}
