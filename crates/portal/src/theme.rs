//! The portal's style: a fixed sheet (static/portal.css) and `/theme.css`, the colours set through
//! the management API (`gatehouse/portal`). Colours are validated as `#rgb`/`#rrggbb` by the model
//! (crates/model/src/portal.rs), so nothing else can reach the style sheet; served as files so the
//! Content-Security-Policy can forbid inline styles.

use crate::state::Portal;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header;
use std::sync::Arc;

pub fn routes() -> axum::Router<Arc<Portal>> {
    axum::Router::new()
        .route(
            "/static/portal.css",
            get(|| async { css(include_str!("../static/portal.css")) }),
        )
        .route(
            "/static/console.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    include_str!("../static/console.js"),
                )
            }),
        )
        .route("/theme.css", get(theme))
}

fn css(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

async fn theme(State(portal): State<Arc<Portal>>) -> Response {
    let mut out = String::from(":root {");
    if let Ok(config) = portal.config().await {
        let c = &config.portal.colors;
        for (name, value) in [
            ("primary", &c.primary),
            ("background", &c.background),
            ("text", &c.text),
        ] {
            if let Some(v) = value
                .as_deref()
                .filter(|v| gatehouse_model::portal::is_css_color(v))
            {
                out.push_str(&format!(" --{name}: {v};"));
            }
        }
    }
    out.push_str(" }\n");
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        out,
    )
        .into_response()
}
