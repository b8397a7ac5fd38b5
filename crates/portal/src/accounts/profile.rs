//! The profile page: the user's name, password, and subscriptions (the subscriptions section
//! is crates/portal/src/subscriptions.rs). Changing the password ends every other session: a
//! session is bound to the password hash (crates/portal/src/session.rs), so this browser gets
//! a new one.

use super::actor;
use crate::page::{Layout, Notice, PageError, render};
use crate::session::Visitor;
use crate::sign;
use crate::state::Portal;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "accounts/profile.html")]
struct ProfilePage {
    l: Layout,
    notice: Option<Notice>,
    email: String,
    first_name: String,
    last_name: String,
    subscriptions_html: String,
}

/// The profile of the signed-in visitor, with `notice` on top and the keys of subscription
/// `reveal` shown (every other key stays hidden).
pub async fn page(
    portal: &Portal,
    v: &Visitor,
    notice: Option<Notice>,
    reveal: Option<&str>,
) -> Response {
    page_with(portal, v, notice, reveal, None)
}

/// As [`page`], with the name fields as the user typed them (`names`) instead of as stored.
fn page_with(
    portal: &Portal,
    v: &Visitor,
    notice: Option<Notice>,
    reveal: Option<&str>,
    names: Option<(&str, &str)>,
) -> Response {
    let _ = portal;
    let Some(user) = v.user.as_ref() else {
        return PageError::SignInRequired.into_response();
    };
    let (first_name, last_name) = match names {
        Some((f, l)) => (f.to_string(), l.to_string()),
        None => (
            user.first_name.clone().unwrap_or_default(),
            user.last_name.clone().unwrap_or_default(),
        ),
    };
    render(&ProfilePage {
        l: Layout::new(v, "Profile", "profile"),
        notice,
        email: user.email.clone(),
        first_name,
        last_name,
        subscriptions_html: crate::subscriptions::section(v, reveal),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: String,
}

/// `GET /profile[?done=…]`: after a redirect, `done` names what happened (a fixed set: the
/// page never echoes text from the URL).
pub(super) async fn show(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Query(q): Query<Done>,
) -> Response {
    let notice = match q.done.as_str() {
        "welcome" => Some("Welcome! Your account is ready."),
        "confirmed" => Some("Your e-mail address is confirmed and your account is active."),
        "reset" => Some("Your new password is set."),
        "name" => Some("Your name is saved."),
        "password" => Some("Your password is changed. Your other sessions are signed out."),
        _ => None,
    };
    let notice = notice
        .map(Notice::ok)
        .or_else(|| crate::subscriptions::done_notice(&q.done));
    page(&portal, &v, notice, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NameForm {
    #[serde(rename = "firstName")]
    first_name: String,
    #[serde(rename = "lastName")]
    last_name: String,
}

pub(super) async fn name(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Form(f): Form<NameForm>,
) -> Response {
    let id = match v.require_user() {
        Ok(u) => u.id.clone(),
        Err(e) => return e.into_response(),
    };
    let (first, last) = (f.first_name.trim(), f.last_name.trim());
    let problem = if first.is_empty() || last.is_empty() {
        Some("Enter your first and last name.")
    } else if first.len() > 100 || last.len() > 100 {
        Some("Names are at most 100 characters.")
    } else {
        None
    };
    if let Some(p) = problem {
        let resp = page_with(
            &portal,
            &v,
            Some(Notice::error(p)),
            None,
            Some((&f.first_name, &f.last_name)),
        );
        return (StatusCode::BAD_REQUEST, resp).into_response();
    }
    let done = crate::write::commit(&portal, &actor(&id), "profile name", |config| {
        let user = config
            .users
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(|| PageError::NotFound("Your account".into()))?;
        user.first_name = Some(first.to_string());
        user.last_name = Some(last.to_string());
        Ok(())
    })
    .await;
    match done {
        Ok(()) => {
            tracing::info!(user = %id, "portal: profile name changed");
            Redirect::to("/profile?done=name").into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub(super) async fn password(
    State(portal): State<Arc<Portal>>,
    v: Visitor,
    Form(f): Form<PasswordForm>,
) -> Response {
    let user = match v.require_user() {
        Ok(u) => u.clone(),
        Err(e) => return e.into_response(),
    };
    let refuse = |text: &str| {
        let resp = page(&portal, &v, Some(Notice::error(text)), None);
        async move { (StatusCode::BAD_REQUEST, resp.await).into_response() }
    };
    if !super::password::verify(f.current, user.password_hash.clone()).await {
        tracing::info!(user = %user.id, "portal: password change refused, wrong current password");
        return refuse("The current password is wrong.").await;
    }
    if let Some(p) = super::password::problem(&f.new, Some(&f.confirm)) {
        return refuse(p).await;
    }
    let hash = match super::password::hash(f.new).await {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let bind = sign::fingerprint(user.password_hash.as_deref());
    let done = crate::write::commit(&portal, &actor(&user.id), "profile password", |config| {
        // The password checked above must still be the stored one.
        let u = config
            .users
            .iter_mut()
            .find(|u| u.id == user.id && sign::fingerprint(u.password_hash.as_deref()) == bind)
            .ok_or_else(|| {
                PageError::Forbidden("The password changed meanwhile; sign in again.".into())
            })?;
        u.password_hash = Some(hash.clone());
        Ok(u.clone())
    })
    .await;
    match done {
        Ok(updated) => {
            tracing::info!(user = %updated.id, "portal: password changed; other sessions ended");
            super::signed_in(&portal, &updated, "/profile?done=password")
        }
        Err(e) => e.into_response(),
    }
}
