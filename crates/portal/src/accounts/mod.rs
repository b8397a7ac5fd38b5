//! Accounts: sign up, confirm by e-mail, sign in, sign out, reset a password, and the profile.
//! Pages in crates/portal/templates/accounts/. What the modules share lives here: e-mail
//! addresses as the forms take them, user ids made from them, safe return paths, the source
//! address of a request, and the answer that signs a user in.

pub mod limits;
pub mod password;
pub mod profile;
mod reset;
mod signin;
mod signup;

use crate::page::Notice;
use crate::session::Visitor;
use crate::state::Portal;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Redirect, Response};
use gatehouse_model::{Config, User, UserState};
use http::header::{HeaderValue, SET_COOKIE};
use http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/signup", get(signup::form).post(signup::submit))
        .route("/confirm", get(signup::confirm))
        .route("/signin", get(signin::form).post(signin::submit))
        .route("/signout", post(signin::signout))
        .route("/reset", get(reset::form).post(reset::submit))
        .route(
            "/reset/confirm",
            get(reset::confirm_form).post(reset::confirm_submit),
        )
        .route("/profile", get(profile::show))
        .route("/profile/name", post(profile::name))
        .route("/profile/password", post(profile::password))
}

/// Why an e-mail address is refused: lettre's parser (the address must be one we can send to)
/// and the config's own rule (a dot in the domain, crates/model/src/validate.rs).
pub(crate) fn email_problem(email: &str) -> Option<&'static str> {
    let shaped = email.len() <= 254
        && email.parse::<lettre::Address>().is_ok()
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
    (!shaped).then_some("Enter an e-mail address such as name@example.com.")
}

/// The account with this e-mail (case-insensitive); deleted accounts are gone.
pub(crate) fn find_by_email<'c>(config: &'c Config, email: &str) -> Option<&'c User> {
    config
        .users
        .iter()
        .find(|u| u.state != UserState::Deleted && u.email.eq_ignore_ascii_case(email.trim()))
}

/// A user id made from the e-mail (`ann.lee@example.com` → `ann.lee-example.com`), within the
/// config's id rules (crates/model/src/validate.rs: 1-80 of letters, digits, `-_.`, unique
/// case-insensitively), with `-2`, `-3`… when taken.
pub(crate) fn new_user_id(config: &Config, email: &str) -> String {
    let mut base: String = email
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(70)
        .collect();
    if base.is_empty() {
        base = "user".to_string();
    }
    let taken = |id: &str| config.users.iter().any(|u| u.id.eq_ignore_ascii_case(id));
    if !taken(&base) {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or(base)
}

/// `path` if it is a path on this portal (`/apis/x?y`), so a sign-in link cannot send the user
/// to another site (`//evil.example`, `https://…`, `/\evil`).
pub(crate) fn safe_return(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.len() <= 2048;
    ok.then_some(path)
}

/// The address a request came from, when the server was started with connect info (the CLI
/// serves with `into_make_service_with_connect_info`); `None` otherwise (tests, other servers).
pub(crate) struct SourceIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(SourceIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// 303 to `to` with a new session for `user` (after sign-in, sign-up, confirmation, a password
/// change: the session is bound to the password hash, so it must be made after the change).
pub(crate) fn signed_in(portal: &Portal, user: &User, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&crate::session::start(portal, user)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// A link in an e-mail: the configured public URL (never the request's Host header), `path`
/// and the token as its `token` query parameter.
pub(crate) fn mail_link(portal: &Portal, path: &str, token: &str) -> String {
    let base = portal.options.public_url.trim_end_matches('/');
    // Tokens are base64url and '.', left as they are; anything else is encoded.
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    let token = percent_encoding::utf8_percent_encode(token, KEEP);
    format!("{base}{path}?token={token}")
}

#[derive(askama::Template)]
#[template(path = "accounts/message.html")]
struct MessagePage {
    l: crate::page::Layout,
    notice: Option<Notice>,
    next: Option<(&'static str, &'static str)>,
}

/// A page that only says something (check your e-mail, link expired…), with `status`, and a
/// link onwards (`(href, text)`).
pub(crate) fn message(
    v: &Visitor,
    status: http::StatusCode,
    title: &str,
    notice: Notice,
    next: Option<(&'static str, &'static str)>,
) -> Response {
    let page = MessagePage {
        l: crate::page::Layout::new(v, title, ""),
        notice: Some(notice),
        next,
    };
    (status, crate::page::render(&page)).into_response()
}

/// The actor a change made by a portal user is recorded as in the store's revisions.
pub(crate) fn actor(user_id: &str) -> String {
    format!("portal/{user_id}")
}

/// The account pages for anonymous visitors send a signed-in user to the profile instead.
pub(crate) fn already_signed_in(v: &Visitor) -> Option<Response> {
    v.user
        .is_some()
        .then(|| Redirect::to("/profile").into_response())
}

/// Counts one e-mail to `address` asked from `source`; `Err` (429) past the limits of
/// crates/portal/src/accounts/limits.rs (5 per address, 20 per source, per 15 minutes).
pub(crate) fn count_mail(
    portal: &crate::state::Portal,
    address: &str,
    source: Option<IpAddr>,
) -> Result<(), crate::page::PageError> {
    let key = address.to_lowercase();
    let now = std::time::Instant::now();
    if portal.mail_limits.check(&key, source, now).is_err() {
        tracing::warn!(source = ?source, "portal: e-mail limit reached; nothing sent");
        return Err(crate::page::PageError::TooMany);
    }
    portal.mail_limits.failed(&key, source, now);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_shaped() {
        assert_eq!(email_problem("ann@example.com"), None);
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ids_follow_the_config_rules_and_stay_unique() {
        let mut c = Config::default();
        assert_eq!(
            new_user_id(&c, "Ann.Lee+x@Example.com"),
            "ann.lee-x-example.com"
        );
        c.users.push(User {
            id: "ann-example.com".into(),
            email: "ann@example.com".into(),
            first_name: None,
            last_name: None,
            state: UserState::Active,
            password_hash: None,
        });
        assert_eq!(new_user_id(&c, "ANN@example.com"), "ann-example.com-2");
        assert!(find_by_email(&c, " Ann@Example.COM ").is_some());
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return("/apis/x?y=1"), Some("/apis/x?y=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "apis",
            "/a\nb",
        ] {
            assert_eq!(safe_return(bad), None, "{bad}");
        }
    }
}
