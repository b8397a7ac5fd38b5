//! Sign-up and the confirmation link. With a mailer the new account is `pending` until its
//! owner follows the link sent to the address (proof the address is theirs); without one the
//! account is active at once and signed in (the log says so, crates/portal/src/lib.rs
//! `PortalOptions::mailer`).

use super::{actor, already_signed_in, email_problem, find_by_email, message, new_user_id};
use crate::page::{Layout, Notice, PageError, render};
use crate::session::Visitor;
use crate::sign::{self, Claims, Purpose};
use crate::state::Portal;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use gatehouse_model::{Config, User, UserState};
use http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

/// How long a confirmation link works.
const CONFIRM_SECS: i64 = 24 * 3600;

#[derive(Template)]
#[template(path = "accounts/signup.html")]
struct SignupPage {
    l: Layout,
    notice: Option<Notice>,
    email: String,
    first_name: String,
    last_name: String,
    terms: Option<String>,
    consent_required: bool,
    consent: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SignupForm {
    email: String,
    password: String,
    #[serde(rename = "firstName")]
    first_name: String,
    #[serde(rename = "lastName")]
    last_name: String,
    consent: Option<String>,
}

fn page(v: &Visitor, f: &SignupForm, notice: Option<Notice>, status: StatusCode) -> Response {
    let terms = &v.config.portal.signup.terms_of_service;
    let page = SignupPage {
        l: Layout::new(v, "Sign up", "signup"),
        notice,
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        terms: terms
            .enabled
            .then(|| terms.text.clone().unwrap_or_default()),
        consent_required: terms.enabled && terms.consent_required,
        consent: f.consent.is_some(),
    };
    (status, render(&page)).into_response()
}

fn disabled() -> Response {
    PageError::Forbidden("Sign-up is turned off on this portal.".into()).into_response()
}

pub(super) async fn form(v: Visitor) -> Response {
    if let Some(r) = already_signed_in(&v) {
        return r;
    }
    if !v.config.portal.signup.enabled {
        return disabled();
    }
    page(&v, &SignupForm::default(), None, StatusCode::OK)
}

/// What is wrong with the form, as the page says it (the password is checked, never echoed).
fn problem(config: &Config, f: &SignupForm) -> Option<&'static str> {
    if let Some(p) = email_problem(f.email.trim()) {
        return Some(p);
    }
    if let Some(p) = super::password::problem(&f.password, None) {
        return Some(p);
    }
    if f.first_name.trim().is_empty() || f.last_name.trim().is_empty() {
        return Some("Enter your first and last name.");
    }
    if f.first_name.len() > 100 || f.last_name.len() > 100 {
        return Some("Names are at most 100 characters.");
    }
    let terms = &config.portal.signup.terms_of_service;
    if terms.enabled && terms.consent_required && f.consent.is_none() {
        return Some("Agree to the terms of use to sign up.");
    }
    if find_by_email(config, &f.email).is_some() {
        return Some("An account with this e-mail address already exists: sign in instead.");
    }
    None
}

pub(super) async fn submit(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    super::SourceIp(source): super::SourceIp,
    Form(f): Form<SignupForm>,
) -> Response {
    if let Some(r) = already_signed_in(&v) {
        return r;
    }
    if !v.config.portal.signup.enabled {
        return disabled();
    }
    if let Some(p) = problem(&v.config, &f) {
        return page(&v, &f, Some(Notice::error(p)), StatusCode::BAD_REQUEST);
    }
    // A confirmation e-mail will be sent: counted against the mail limits first.
    if portal.options.mailer.is_some()
        && let Err(e) = super::count_mail(&portal, f.email.trim(), source)
    {
        return e.into_response();
    }
    let hash = match super::password::hash(f.password.clone()).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let mailer = portal.options.mailer.clone();
    let state = if mailer.is_some() {
        UserState::Pending
    } else {
        UserState::Active
    };
    let email = f.email.trim().to_string();
    // The e-mail is checked again inside the commit: another sign-up may have taken it since.
    let created = crate::write::commit(&portal, "portal/signup", "sign-up", |config| {
        if find_by_email(config, &email).is_some() {
            return Err(PageError::Refused("the e-mail address is taken".into()));
        }
        let user = User {
            id: new_user_id(config, &email),
            email: email.clone(),
            first_name: Some(f.first_name.trim().to_string()),
            last_name: Some(f.last_name.trim().to_string()),
            state,
            password_hash: Some(hash.clone()),
        };
        config.users.push(user.clone());
        Ok(user)
    })
    .await;
    let user = match created {
        Ok(u) => u,
        Err(PageError::Refused(_)) => {
            // Checked before the commit; a refusal here is a race on the address or a config
            // rule the form does not know: say it without details.
            return page(
                &v,
                &f,
                Some(Notice::error(
                    "This account cannot be created: the e-mail address may already be in use.",
                )),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(e) => return e.into_response(),
    };
    let Some(mailer) = mailer else {
        tracing::info!(user = %user.id, "portal sign-up: account active at once (no SMTP configured, so no e-mail confirmation)");
        return super::signed_in(&portal, &user, "/profile?done=welcome");
    };
    let claims = Claims {
        sub: user.id.clone(),
        exp: sign::now() + CONFIRM_SECS,
        bind: sign::fingerprint(user.password_hash.as_deref()),
    };
    let link = super::mail_link(
        &portal,
        "/confirm",
        &sign::issue(portal.key(), Purpose::Confirm, &claims),
    );
    let title = crate::page::site_title(&v.config);
    let body = format!(
        "Hello {},\n\nconfirm your account on {title} by opening this link within 24 hours:\n\n{link}\n\nIf you did not sign up, ignore this message.\n",
        f.first_name.trim()
    );
    if let Err(e) = mailer
        .send(&email, &format!("Confirm your account on {title}"), body)
        .await
    {
        tracing::error!(user = %user.id, error = %e, "portal sign-up: the confirmation e-mail could not be sent");
        // Without the e-mail the account could never be confirmed: take it back so the
        // visitor can try again.
        let id = user.id.clone();
        let undo = crate::write::commit(&portal, "portal/signup", "sign-up undone", |c| {
            c.users
                .retain(|u| !(u.id == id && u.state == UserState::Pending));
            Ok(())
        })
        .await;
        if let Err(e) = undo {
            tracing::error!(user = %user.id, error = %e, "portal sign-up: the pending account could not be removed");
        }
        return page(
            &v,
            &f,
            Some(Notice::error(
                "The confirmation e-mail could not be sent. Try again later.",
            )),
            StatusCode::SERVICE_UNAVAILABLE,
        );
    }
    tracing::info!(user = %user.id, "portal sign-up: pending until the e-mail is confirmed");
    message(
        &v,
        StatusCode::OK,
        "Check your e-mail",
        Notice::ok(format!(
            "Check your e-mail: we sent a link to {email}. Open it within 24 hours to activate your account."
        )),
        None,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenQuery {
    token: String,
}

fn bad_link(v: &Visitor) -> Response {
    message(
        v,
        StatusCode::BAD_REQUEST,
        "Link not valid",
        Notice::error(
            "This confirmation link is not valid or has expired. Sign up again, or sign in if your account is already active.",
        ),
        Some(("/signin", "Sign in")),
    )
}

/// `GET /confirm?token=…`: a pending account becomes active and is signed in.
pub(super) async fn confirm(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(claims) = sign::verify(portal.key(), Purpose::Confirm, &q.token, sign::now()) else {
        tracing::info!("portal confirmation refused: bad or expired token");
        return bad_link(&v);
    };
    let matches = |u: &User| {
        u.id == claims.sub && sign::fingerprint(u.password_hash.as_deref()) == claims.bind
    };
    match v.config.users.iter().find(|u| matches(u)).map(|u| u.state) {
        Some(UserState::Pending) => {}
        Some(UserState::Active) => {
            return message(
                &v,
                StatusCode::OK,
                "Already confirmed",
                Notice::ok("Your account is already confirmed: sign in."),
                Some(("/signin", "Sign in")),
            );
        }
        _ => return bad_link(&v),
    }
    let done = crate::write::commit(&portal, &actor(&claims.sub), "e-mail confirmed", |config| {
        let user = config
            .users
            .iter_mut()
            .find(|u| matches(u) && u.state == UserState::Pending)
            .ok_or_else(|| PageError::NotFound("The pending account".into()))?;
        user.state = UserState::Active;
        Ok(user.clone())
    })
    .await;
    match done {
        Ok(user) => {
            tracing::info!(user = %user.id, "portal: e-mail confirmed, account active");
            super::signed_in(&portal, &user, "/profile?done=confirmed")
        }
        Err(PageError::NotFound(_)) => bad_link(&v),
        Err(e) => e.into_response(),
    }
}
