//! Sign-in and sign-out. A wrong password and an unknown e-mail get the same answer (no
//! account enumeration); a blocked or pending account is named only once its password was
//! right. Failures are counted per account and per source address (crates/portal/src/accounts/limits.rs).

use super::limits::Limited;
use super::{SourceIp, already_signed_in, find_by_email, safe_return};
use crate::page::{Layout, Notice, PageError, render};
use crate::session::Visitor;
use crate::state::Portal;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_model::UserState;
use http::StatusCode;
use http::header::{HeaderValue, SET_COOKIE};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

#[derive(Template)]
#[template(path = "accounts/signin.html")]
struct SigninPage {
    l: Layout,
    notice: Option<Notice>,
    email: String,
    back: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SigninForm {
    email: String,
    password: String,
    #[serde(rename = "return")]
    back: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SigninQuery {
    #[serde(rename = "return")]
    back: String,
}

fn page(
    v: &Visitor,
    email: &str,
    back: &str,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    let page = SigninPage {
        l: Layout::new(v, "Sign in", "signin"),
        notice,
        email: email.to_string(),
        back: safe_return(back).unwrap_or("").to_string(),
    };
    (status, render(&page)).into_response()
}

pub(super) async fn form(v: Visitor, Query(q): Query<SigninQuery>) -> Response {
    if let Some(r) = already_signed_in(&v) {
        return r;
    }
    page(&v, "", &q.back, None, StatusCode::OK)
}

/// The one answer for a wrong password and an unknown e-mail.
const GENERIC: &str = "The e-mail address or the password is wrong.";

pub(super) async fn submit(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    SourceIp(source): SourceIp,
    Form(f): Form<SigninForm>,
) -> Response {
    let email = f.email.trim();
    let account = email.to_lowercase();
    let limits = &portal.signin_limits;
    if let Err(which) = limits.check(&account, source, Instant::now()) {
        tracing::warn!(
            source = ?source,
            limit = match which { Limited::Account => "account", Limited::Source => "source address" },
            "portal sign-in refused: too many failed attempts"
        );
        return PageError::TooMany.into_response();
    }
    let user = find_by_email(&v.config, email).cloned();
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // An unknown account still pays for a hash check (password::verify), so timing says nothing.
    let right = super::password::verify(f.password, hash).await;
    let Some(user) = user.filter(|_| right) else {
        limits.failed(&account, source, Instant::now());
        tracing::info!(source = ?source, "portal sign-in failed: unknown e-mail or wrong password");
        return page(
            &v,
            email,
            &f.back,
            Some(Notice::error(GENERIC)),
            StatusCode::UNAUTHORIZED,
        );
    };
    match user.state {
        UserState::Active => {}
        UserState::Blocked => {
            tracing::info!(user = %user.id, "portal sign-in refused: the account is blocked");
            return page(
                &v,
                email,
                &f.back,
                Some(Notice::error(
                    "This account is blocked. Contact the portal's administrators.",
                )),
                StatusCode::FORBIDDEN,
            );
        }
        UserState::Pending => {
            tracing::info!(user = %user.id, "portal sign-in refused: e-mail not confirmed yet");
            return page(
                &v,
                email,
                &f.back,
                Some(Notice::error(
                    "Confirm your e-mail first: open the link we sent when you signed up.",
                )),
                StatusCode::FORBIDDEN,
            );
        }
        UserState::Deleted => {
            // find_by_email skips deleted accounts; kept for exhaustiveness.
            return page(
                &v,
                email,
                &f.back,
                Some(Notice::error(GENERIC)),
                StatusCode::UNAUTHORIZED,
            );
        }
    }
    limits.succeeded(&account);
    tracing::info!(user = %user.id, "portal sign-in");
    super::signed_in(&portal, &user, safe_return(&f.back).unwrap_or("/profile"))
}

/// `POST /signout`: the session cookie is cleared. (Sessions are stateless, signed tokens:
/// clearing the cookie ends this browser's session; a password change ends every session.)
pub(super) async fn signout(State(portal): State<Arc<Portal>>, v: Visitor) -> Response {
    if let Some(id) = v.user_id() {
        tracing::info!(user = %id, "portal sign-out");
    }
    let mut resp = Redirect::to("/").into_response();
    if let Ok(h) = HeaderValue::from_str(&crate::session::end(&portal)) {
        resp.headers_mut().append(SET_COOKIE, h);
    }
    resp
}
