//! Headers on every answer (Content-Security-Policy, no framing, no sniffing, no referrer to
//! other sites, no caching of pages that may show keys), the visitor's CSRF cookie, and the CSRF
//! check of every POST.

use crate::csrf::{self, CsrfCookie};
use crate::state::Portal;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use std::sync::Arc;

/// Scripts and styles only from the portal itself (the console's script is a file, not inline);
/// images from anywhere over http(s) (a logo may live on a CDN); forms post only to the portal.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Form bodies the portal reads are small: sign-up fields, a subscription name, a console request.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

pub async fn layer(
    State(portal): State<Arc<Portal>>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let existing = crate::session::cookie(&parts.headers, csrf::COOKIE).filter(|v| v.len() == 64);
    let fresh = existing.is_none();
    let cookie = existing.unwrap_or_else(|| crate::sign::random_hex(32));
    if parts.method == Method::POST {
        // The form is read here, bounded, so that the check precedes every handler; handlers get
        // the same bytes back.
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return crate::page::error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    "The form is larger than the portal accepts.",
                );
            }
        };
        let field = form_field(&bytes, csrf::FIELD);
        if fresh || !csrf::check(portal.key(), &cookie, field.as_deref()) {
            tracing::info!(path = %parts.uri.path(), "portal POST refused: missing or wrong CSRF token");
            let mut resp = crate::page::error_page(
                StatusCode::FORBIDDEN,
                "Security check failed",
                "The form's security token is missing or does not match this browser. Reload the page and send the form again.",
            );
            set_cookie(&mut resp, &portal, &cookie, fresh);
            return harden(resp);
        }
        parts.extensions.insert(CsrfCookie(cookie.clone()));
        let req = Request::from_parts(parts, Body::from(bytes));
        return harden(next.run(req).await);
    }
    parts.extensions.insert(CsrfCookie(cookie.clone()));
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    set_cookie(&mut resp, &portal, &cookie, fresh);
    harden(resp)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn set_cookie(resp: &mut Response, portal: &Portal, value: &str, fresh: bool) {
    if !fresh {
        return;
    }
    let cookie =
        crate::session::cookie_header(csrf::COOKIE, value, None, portal.options.secure_cookies);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn harden(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_decode() {
        let f = form_field(b"a=1&csrf=ab%2Bc+d&x", "csrf");
        assert_eq!(f.as_deref(), Some("ab+c d"));
        assert_eq!(form_field(b"a=1", "csrf"), None);
    }
}
