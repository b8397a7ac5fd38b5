//! What every page shares: the layout (site title, logo, who is signed in, the CSRF token, the
//! navigation), rendering, and the portal's one error type with the page it shows.

use crate::session::Visitor;
use askama::Template;
use axum::response::{Html, IntoResponse, Redirect, Response};
use gatehouse_admin::BackingError;
use gatehouse_model::Config;
use http::StatusCode;

/// A line on top of a page after an action: `ok` (green) or an error (red).
#[derive(Debug, Clone)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

impl Notice {
    pub fn ok(text: impl Into<String>) -> Notice {
        Notice {
            ok: true,
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            ok: false,
            text: text.into(),
        }
    }
}

/// What the base template (templates/base.html) shows around every page.
pub struct Layout {
    /// The page's own title (`<title>` and `<h1>`).
    pub title: String,
    pub site_title: String,
    pub logo_url: Option<String>,
    /// The signed-in user's display name.
    pub user_name: Option<String>,
    pub csrf: String,
    /// Which navigation entry is current (`home`, `apis`, `products`, `profile`, `signin`, `signup`).
    pub nav: &'static str,
    pub signup_enabled: bool,
}

impl Layout {
    pub fn new(v: &Visitor, title: impl Into<String>, nav: &'static str) -> Layout {
        let mut l = Layout::anonymous(&v.config, title, nav);
        l.user_name = v.user.as_ref().map(display_name);
        l.csrf = v.csrf.clone();
        l
    }

    fn anonymous(config: &Config, title: impl Into<String>, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            site_title: site_title(config),
            logo_url: config.portal.logo_url.clone(),
            user_name: None,
            csrf: String::new(),
            nav,
            signup_enabled: config.portal.signup.enabled,
        }
    }
}

pub fn site_title(config: &Config) -> String {
    config
        .portal
        .title
        .clone()
        .unwrap_or_else(|| format!("{} developer portal", config.service.name))
}

pub fn display_name(u: &gatehouse_model::User) -> String {
    match (&u.first_name, &u.last_name) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(f), None) => f.clone(),
        (None, Some(l)) => l.clone(),
        (None, None) => u.email.clone(),
    }
}

/// Renders a template to an HTML answer (a template error is a 500 page, logged).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "portal template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    message: String,
}

/// The portal's errors, each with the page a visitor sees.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("sign in first")]
    SignInRequired,
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The change is not valid for the configuration (the whole-config check refused it).
    #[error("refused: {0}")]
    Refused(String),
    #[error("too many attempts")]
    TooMany,
    #[error("the store is busy: too many concurrent changes")]
    Busy,
    #[error("store: {0}")]
    Backing(#[from] BackingError),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::SignInRequired => return Redirect::to("/signin").into_response(),
            PageError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("{what} was not found."),
            ),
            PageError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", why.clone()),
            PageError::Refused(why) => (
                StatusCode::BAD_REQUEST,
                "Change refused",
                format!("The change was refused: {why}"),
            ),
            PageError::TooMany => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Too many attempts: wait a few minutes and try again.".to_string(),
            ),
            PageError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "The portal is busy; try again.".to_string(),
            ),
            PageError::Backing(BackingError::ReadOnly(why)) => (
                StatusCode::CONFLICT,
                "Read-only",
                format!("This portal cannot make changes: {why}"),
            ),
            PageError::Backing(e) => {
                tracing::error!(error = %e, "portal: store error");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "The configuration store cannot be reached; try again shortly.".to_string(),
                )
            }
            PageError::Internal(e) => {
                tracing::error!(error = %e, "portal: internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "Something went wrong on our side.".to_string(),
                )
            }
        };
        error_page(status, title, message)
    }
}

/// A page that says what went wrong, in the site's layout, outside any visitor's context (errors
/// may come before the visitor is known): the site's generic title, no navigation state.
pub fn error_page(status: StatusCode, title: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    let page = ErrorPage {
        l: Layout {
            title: title.to_string(),
            site_title: "Developer portal".to_string(),
            logo_url: None,
            user_name: None,
            csrf: String::new(),
            nav: "",
            signup_enabled: false,
        },
        message,
    };
    (status, render(&page)).into_response()
}

pub async fn not_found() -> PageError {
    PageError::NotFound("This page".to_string())
}
