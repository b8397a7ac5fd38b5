//! Password reset by e-mail. `POST /reset` always gives the same answer, whether or not the
//! account exists, and sends the e-mail in the background so that the answer's timing says
//! nothing either. The link is bound to a fingerprint of the current password hash
//! (crates/portal/src/sign.rs), so it dies as soon as the password changes: single use.

use super::{actor, already_signed_in, find_by_email, message};
use crate::page::{Layout, Notice, PageError, render};
use crate::session::Visitor;
use crate::sign::{self, Claims, Purpose};
use crate::state::Portal;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use gatehouse_model::UserState;
use http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

/// How long a reset link works.
const RESET_SECS: i64 = 3600;

#[derive(Template)]
#[template(path = "accounts/reset.html")]
struct ResetPage {
    l: Layout,
    notice: Option<Notice>,
    email: String,
}

#[derive(Template)]
#[template(path = "accounts/reset_confirm.html")]
struct ResetConfirmPage {
    l: Layout,
    notice: Option<Notice>,
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResetForm {
    email: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenQuery {
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NewPasswordForm {
    token: String,
    password: String,
    confirm: String,
}

fn no_mail(v: &Visitor) -> Response {
    message(
        v,
        StatusCode::OK,
        "Reset your password",
        Notice::error(
            "Password resets need e-mail, and this portal has none configured. Ask the portal's administrators to reset your password.",
        ),
        Some(("/signin", "Back to sign-in")),
    )
}

pub(super) async fn form(State(portal): State<Arc<Portal>>, v: Visitor) -> Response {
    if let Some(r) = already_signed_in(&v) {
        return r;
    }
    if portal.options.mailer.is_none() {
        return no_mail(&v);
    }
    let page = ResetPage {
        l: Layout::new(&v, "Reset your password", "signin"),
        notice: None,
        email: String::new(),
    };
    render(&page)
}

pub(super) async fn submit(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    super::SourceIp(source): super::SourceIp,
    Form(f): Form<ResetForm>,
) -> Response {
    let Some(mailer) = portal.options.mailer.clone() else {
        return no_mail(&v);
    };
    let email = f.email.trim();
    if let Some(p) = super::email_problem(email) {
        let page = ResetPage {
            l: Layout::new(&v, "Reset your password", "signin"),
            notice: Some(Notice::error(p)),
            email: email.to_string(),
        };
        return (StatusCode::BAD_REQUEST, render(&page)).into_response();
    }
    // Counted whether or not the account exists, so the limit tells nothing about it.
    if let Err(e) = super::count_mail(&portal, email, source) {
        return e.into_response();
    }
    let user = find_by_email(&v.config, email).filter(|u| u.state == UserState::Active);
    if let Some(user) = user {
        let claims = Claims {
            sub: user.id.clone(),
            exp: sign::now() + RESET_SECS,
            bind: sign::fingerprint(user.password_hash.as_deref()),
        };
        let link = super::mail_link(
            &portal,
            "/reset/confirm",
            &sign::issue(portal.key(), Purpose::Reset, &claims),
        );
        let title = crate::page::site_title(&v.config);
        let body = format!(
            "Someone (we hope you) asked to reset the password of your account on {title}.\n\nChoose a new password within an hour at:\n\n{link}\n\nThe link works once. If you did not ask, ignore this message: your password stays as it is.\n"
        );
        let (to, id) = (user.email.clone(), user.id.clone());
        let subject = format!("Reset your password on {title}");
        tokio::spawn(async move {
            match mailer.send(&to, &subject, body).await {
                Ok(()) => tracing::info!(user = %id, "portal: password reset e-mail sent"),
                Err(e) => {
                    tracing::error!(user = %id, error = %e, "portal: the password reset e-mail could not be sent")
                }
            }
        });
    } else {
        tracing::info!("portal: password reset asked for an address with no active account");
    }
    message(
        &v,
        StatusCode::OK,
        "Check your e-mail",
        Notice::ok(
            "If an account exists for this address, we sent it a link to choose a new password. The link works for an hour.",
        ),
        None,
    )
}

fn bad_link(v: &Visitor) -> Response {
    message(
        v,
        StatusCode::BAD_REQUEST,
        "Link not valid",
        Notice::error(
            "This reset link is not valid: it has expired or was already used. Ask for a new one.",
        ),
        Some(("/reset", "Ask for a new link")),
    )
}

/// The claims of a reset token still good for the current config (the password unchanged).
fn check(portal: &Portal, v: &Visitor, token: &str) -> Option<Claims> {
    let claims = sign::verify(portal.key(), Purpose::Reset, token, sign::now())?;
    let user = v.config.users.iter().find(|u| u.id == claims.sub)?;
    (user.state == UserState::Active
        && sign::fingerprint(user.password_hash.as_deref()) == claims.bind)
        .then_some(claims)
}

fn confirm_page(v: &Visitor, token: &str, notice: Option<Notice>, status: StatusCode) -> Response {
    let page = ResetConfirmPage {
        l: Layout::new(v, "Choose a new password", "signin"),
        notice,
        token: token.to_string(),
    };
    (status, render(&page)).into_response()
}

pub(super) async fn confirm_form(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    if check(&portal, &v, &q.token).is_none() {
        return bad_link(&v);
    }
    confirm_page(&v, &q.token, None, StatusCode::OK)
}

pub(super) async fn confirm_submit(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Form(f): Form<NewPasswordForm>,
) -> Response {
    let Some(claims) = check(&portal, &v, &f.token) else {
        tracing::info!("portal password reset refused: bad, expired or used link");
        return bad_link(&v);
    };
    if let Some(p) = super::password::problem(&f.password, Some(&f.confirm)) {
        return confirm_page(
            &v,
            &f.token,
            Some(Notice::error(p)),
            StatusCode::BAD_REQUEST,
        );
    }
    let hash = match super::password::hash(f.password).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    // The binding is checked again inside the commit: two tabs submitting the same link
    // concurrently change the password once.
    let done = crate::write::commit(&portal, &actor(&claims.sub), "password reset", |config| {
        let user = config
            .users
            .iter_mut()
            .find(|u| {
                u.id == claims.sub
                    && u.state == UserState::Active
                    && sign::fingerprint(u.password_hash.as_deref()) == claims.bind
            })
            .ok_or_else(|| PageError::NotFound("The account".into()))?;
        user.password_hash = Some(hash.clone());
        Ok(user.clone())
    })
    .await;
    match done {
        Ok(user) => {
            tracing::info!(user = %user.id, "portal: password reset");
            super::signed_in(&portal, &user, "/profile?done=reset")
        }
        Err(PageError::NotFound(_)) => bad_link(&v),
        Err(e) => e.into_response(),
    }
}
