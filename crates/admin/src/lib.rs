//! gatehouse's management plane: Azure API Management's REST API in its ARM shapes, as an axum
//! [`Router`](axum::Router), over a [`Backing`] that holds the whole configuration.
//!
//! A request goes: ARM prefix stripped ([`route`]) → `api-version` checked → token checked
//! ([`auth`]) → dispatched ([`dispatch`]); a write applies its change to a clone of the current
//! config, checks the WHOLE candidate with the [`Checker`], and commits it with the revision it
//! read (optimistic; retried on conflict, If-Match re-checked each time).

pub mod auth;
pub mod backing;
mod dispatch;
pub mod error;
mod links;
mod nodes;
pub mod oas;
mod openapi;
pub mod password;
mod portal_settings;
mod query;
pub mod resources;
mod route;
mod service;
mod write;

pub use auth::{
    AuthError, GIT_USER, format_expiry, git_password, sas_token, verify, verify_git_password,
};
pub use backing::{
    AccessKeys, Backing, BackingError, Checker, Current, Node, NodeInfo, Problem, model_checker,
};
pub use nodes::ONLINE_WITHIN;

use std::sync::Arc;

/// The management API of one service.
pub struct ManagementApi {
    pub service_name: String,
    pub backing: Arc<dyn Backing>,
    pub checker: Checker,
    pub node: Arc<dyn Node>,
}

impl ManagementApi {
    /// Every path in both forms; `/openapi.json` without authentication.
    pub fn router(self) -> axum::Router {
        let state = Arc::new(dispatch::State {
            api: self,
            write_lock: tokio::sync::Mutex::new(()),
        });
        axum::Router::new()
            .route(
                "/openapi.json",
                axum::routing::get(|| async { axum::Json(openapi::document()) }),
            )
            .fallback(dispatch::handle)
            .with_state(state)
    }

    /// The OpenAPI document `/openapi.json` serves.
    pub fn openapi_json() -> serde_json::Value {
        openapi::document()
    }
}
