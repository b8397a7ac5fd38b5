//! Accounts: sign up, confirm by e-mail, sign in, sign out, reset a password, and the profile.

pub mod limits;
pub mod profile;

use crate::state::Portal;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
}
