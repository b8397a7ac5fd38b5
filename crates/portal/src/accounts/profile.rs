//! The profile page: the user's name, password, and subscriptions.

use crate::page::{Layout, Notice, render};
use crate::session::Visitor;
use crate::state::Portal;
use askama::Template;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "accounts/profile.html")]
struct ProfilePage {
    l: Layout,
    notice: Option<Notice>,
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
    let _ = portal;
    if v.user.is_none() {
        return crate::page::PageError::SignInRequired.into_response();
    }
    render(&ProfilePage {
        l: Layout::new(v, "Profile", "profile"),
        notice,
        subscriptions_html: crate::subscriptions::section(v, reveal),
    })
}
