//! gatehouse's developer portal: API consumers find APIs, sign up, subscribe to products and
//! manage their keys. Server-rendered HTML (askama templates escape by construction) over the
//! same [`Backing`] the management API writes through, so every change the portal makes is one
//! store commit, checked whole by the same [`Checker`], and live on every gateway like any other.
//!
//! A request goes: security headers and the CSRF cookie ([`security`]) → the visitor from the
//! session cookie ([`session`]) → a page ([`catalogue`], [`accounts`], [`subscriptions`],
//! [`console`]). Every POST carries the CSRF token ([`csrf`]).

pub mod accounts;
mod catalogue;
mod console;
pub mod csrf;
pub mod mail;
mod page;
mod refs;
mod security;
pub mod session;
pub mod sign;
mod state;
mod subscribe;
mod subscriptions;
mod theme;
mod views;
mod write;

pub use mail::{MailError, Mailer};
pub use state::Portal;

use gatehouse_admin::{Backing, Checker};
use std::sync::Arc;

/// What the CLI gives the portal.
pub struct PortalOptions {
    pub backing: Arc<dyn Backing>,
    /// The same whole-config check the management API runs before a commit.
    pub checker: Checker,
    /// Signs sessions, CSRF tokens and e-mail links; the same on every node of a cluster
    /// (the CLI derives it from the store's secret key).
    pub signing_key: [u8; 32],
    /// Where the "try it" console sends requests: the gateway's base URL (`http://127.0.0.1:8080`).
    pub gateway_url: Option<String>,
    /// The portal's own URL as users reach it, for links in e-mails (never taken from a request's
    /// Host header, which a sender controls).
    pub public_url: String,
    /// `None`: accounts are active at sign-up and no e-mail is sent (said in the log).
    pub mailer: Option<Mailer>,
    /// The portal is served over TLS: cookies get `Secure`.
    pub secure_cookies: bool,
}

impl PortalOptions {
    /// Every page of the portal.
    pub fn router(self) -> axum::Router {
        let state = Arc::new(Portal::new(self));
        axum::Router::new()
            .merge(catalogue::routes())
            .merge(accounts::routes())
            .merge(subscriptions::routes())
            .merge(console::routes())
            .merge(theme::routes())
            .fallback(page::not_found)
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                security::layer,
            ))
            .with_state(state)
    }
}
