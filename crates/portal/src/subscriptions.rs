//! The signed-in user's subscriptions on the profile page: keys hidden until shown, regenerate,
//! rename, cancel.

use crate::session::Visitor;
use crate::state::Portal;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
}

/// The subscriptions section of the profile page, as HTML (escaped by its template).
pub fn section(v: &Visitor, reveal: Option<&str>) -> String {
    let _ = (v, reveal);
    String::new()
}
