//! Who is visiting: the signed session cookie `gh_session` (crates/portal/src/sign.rs) names a
//! user; the user must still exist, be active and have the password the session was made with,
//! else the visitor is anonymous (a guest). HttpOnly, SameSite=Lax, Secure on TLS.

use crate::csrf::CsrfCookie;
use crate::page::PageError;
use crate::sign::{self, Claims, Purpose};
use crate::state::Portal;
use axum::extract::FromRequestParts;
use gatehouse_model::{Config, User, UserState};
use http::HeaderMap;
use http::request::Parts;
use std::sync::Arc;

pub const COOKIE: &str = "gh_session";
/// A session lasts a working day or so; signing in again is cheap.
pub const LIFETIME_SECS: i64 = 12 * 3600;

/// The visitor of a request.
#[derive(Clone)]
pub struct Visitor {
    pub config: Arc<Config>,
    pub user: Option<User>,
    /// The built-in and custom groups the visitor belongs to.
    pub groups: Vec<String>,
    /// The token this visitor's forms carry.
    pub csrf: String,
}

impl Visitor {
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }

    /// The signed-in user, or the sign-in page.
    pub fn require_user(&self) -> Result<&User, PageError> {
        self.user.as_ref().ok_or(PageError::SignInRequired)
    }
}

impl FromRequestParts<Arc<Portal>> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        portal: &Arc<Portal>,
    ) -> Result<Self, PageError> {
        let config = portal.config().await?;
        let csrf_cookie = parts
            .extensions
            .get::<CsrfCookie>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let user = cookie(&parts.headers, COOKIE)
            .and_then(|t| sign::verify(portal.key(), Purpose::Session, &t, sign::now()))
            .and_then(|claims| session_user(&config, &claims));
        let groups =
            gatehouse_model::groups::of_visitor(&config, user.as_ref().map(|u| u.id.as_str()));
        Ok(Visitor {
            csrf: crate::csrf::token(portal.key(), &csrf_cookie),
            config,
            user,
            groups,
        })
    }
}

/// The user a session names, if it may still act.
fn session_user(config: &Config, claims: &Claims) -> Option<User> {
    let user = config.users.iter().find(|u| u.id == claims.sub)?;
    let ok = user.state == UserState::Active
        && sign::fingerprint(user.password_hash.as_deref()) == claims.bind;
    ok.then(|| user.clone())
}

/// The `Set-Cookie` value that starts a session for `user`.
pub fn start(portal: &Portal, user: &User) -> String {
    let claims = Claims {
        sub: user.id.clone(),
        exp: sign::now() + LIFETIME_SECS,
        bind: sign::fingerprint(user.password_hash.as_deref()),
    };
    let token = sign::issue(portal.key(), Purpose::Session, &claims);
    cookie_header(
        COOKIE,
        &token,
        Some(LIFETIME_SECS),
        portal.options.secure_cookies,
    )
}

/// The `Set-Cookie` value that ends the session.
pub fn end(portal: &Portal) -> String {
    cookie_header(COOKIE, "", Some(0), portal.options.secure_cookies)
}

/// A cookie as the portal sets them: whole site, HttpOnly, SameSite=Lax, Secure on TLS.
pub fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut c = cookie::Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(age));
    }
    c.build().to_string()
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}
