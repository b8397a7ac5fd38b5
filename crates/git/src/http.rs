//! The Git endpoint's HTTP side: HTTP Basic authentication as APIM's (user `apim`, a password
//! from `POST users/git/token`), then `git http-backend` for clone, fetch and push. A push holds
//! the repository for its whole run and carries a one-time token its hook presents.

use crate::cgi::{self, CgiRequest};
use crate::hook::{EXE_ENV, SOCKET_ENV, TOKEN_ENV};
use crate::{Pending, REPO_NAME, Shared};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gatehouse_admin::{GIT_USER, verify_git_password};
use http::{HeaderValue, StatusCode, header};
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut r = (status, format!("{text}\n")).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn unauthorized(why: &str) -> Response {
    let mut r = plain(
        StatusCode::UNAUTHORIZED,
        format!(
            "{why}: sign in as user '{GIT_USER}' with a password from POST users/git/token or 'gatehouse admin git-token'"
        ),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"gatehouse Git\""),
    );
    r
}

/// The user and password of an `Authorization: Basic` header.
fn basic(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Git's path inside the repository: `/info/refs`, `/git-upload-pack`, ... The repository is
/// served at the root (as APIM's `https://NAME.scm.azure-api.net/`) and as `/config.git`.
fn git_path(path: &str) -> Option<String> {
    let rest = path
        .strip_prefix(&format!("/{REPO_NAME}"))
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .unwrap_or(path);
    if rest.split('/').any(|s| s == ".." || s == ".") {
        return None;
    }
    Some(format!("/{REPO_NAME}{rest}"))
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let Some((user, password)) = basic(&req) else {
        return unauthorized("this repository needs a user and password");
    };
    if user != GIT_USER {
        return unauthorized(&format!("unknown user '{user}'"));
    }
    let keys = match shared.backing.access_keys().await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %e, "Git endpoint: no access keys");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the access keys cannot be read now; try again".to_string(),
            );
        }
    };
    if let Err(e) = verify_git_password(&password, &keys, time::OffsetDateTime::now_utc()) {
        return unauthorized(&format!("password refused ({e})"));
    }
    let Some(path_info) = git_path(req.uri().path()) else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no such path '{}'", req.uri().path()),
        );
    };
    let remote_addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let is_push = path_info.ends_with("/git-receive-pack");
    let (parts, body) = req.into_parts();
    let mut cgi_req = CgiRequest {
        project_root: shared.dir.clone(),
        path_info,
        method: parts.method.to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts.headers,
        remote_user: user,
        remote_addr,
        env: Vec::new(),
    };
    if !is_push {
        return respond(cgi::run(cgi_req, body, None).await);
    }
    // A push: one at a time, and none while the committer writes.
    let guard = shared.lock.clone().lock_owned().await;
    let token = match new_token() {
        Some(t) => t,
        None => {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "no randomness for the push token; try again".to_string(),
            );
        }
    };
    if let Ok(mut p) = shared.pending.lock() {
        p.insert(token.clone(), Pending::default());
    }
    cgi_req.env = vec![
        (SOCKET_ENV.to_string(), shared.socket.display().to_string()),
        (TOKEN_ENV.to_string(), token.clone()),
        (EXE_ENV.to_string(), shared.exe.display().to_string()),
    ];
    let (done, finished) = tokio::sync::oneshot::channel();
    let response = cgi::run(cgi_req, body, Some(done)).await;
    let after = shared.clone();
    tokio::spawn(async move {
        let _ = finished.await;
        let deployed = after
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(&token))
            .and_then(|p| p.deployed);
        drop(guard);
        if let Some((revision, commit)) = deployed {
            // The store took the push; if git then failed to move main, the committer writes
            // the deployed configuration on top of main instead.
            if after.repo.head().await.ok().flatten().as_deref() != Some(commit.as_str()) {
                tracing::warn!(revision, "a deployed push did not move main: committing it");
                after.synced.store(0, std::sync::atomic::Ordering::SeqCst);
                if let Err(e) = crate::sync::catch_up(&after, "apim", "git push").await {
                    tracing::warn!(error = %e, "the Git repository could not record the push");
                }
            }
        }
    });
    respond(response)
}

fn respond(r: Result<Response<Body>, cgi::CgiError>) -> Response {
    r.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "Git endpoint");
        plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    })
}

fn new_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::git_path;

    #[test]
    fn paths_map_into_the_repository() {
        assert_eq!(
            git_path("/info/refs").as_deref(),
            Some("/config.git/info/refs")
        );
        assert_eq!(
            git_path("/config.git/git-upload-pack").as_deref(),
            Some("/config.git/git-upload-pack")
        );
        assert_eq!(
            git_path("/config.gitx/info").as_deref(),
            Some("/config.git/config.gitx/info")
        );
        assert_eq!(git_path("/../etc/passwd"), None);
        assert_eq!(git_path("/a/./b"), None);
    }
}
