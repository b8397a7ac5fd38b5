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

#[cfg(test)]
mod tests {
    /// The default colours of static/portal.css.
    fn default_color(name: &str) -> (f64, f64, f64) {
        let css = include_str!("../static/portal.css");
        let at = css.find(&format!("--{name}: #")).expect("declared") + name.len() + 5;
        let hex = &css[at..at + 6];
        let c = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        (c(0), c(2), c(4))
    }

    /// WCAG 2's relative luminance and contrast ratio.
    fn contrast(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
        let lin = |c: f64| {
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let lum = |(r, g, b): (f64, f64, f64)| 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn default_colours_meet_wcag_aa_contrast() {
        let white = (1.0, 1.0, 1.0);
        let bg = default_color("background");
        for fg in ["text", "muted", "primary", "error", "ok"] {
            let ratio = contrast(default_color(fg), bg);
            assert!(ratio >= 4.5, "{fg} on the background: {ratio:.2}:1");
        }
        // Button labels: white on the primary colour and on the error colour.
        for bgname in ["primary", "error"] {
            let ratio = contrast(white, default_color(bgname));
            assert!(ratio >= 4.5, "white on {bgname}: {ratio:.2}:1");
        }
    }
}
