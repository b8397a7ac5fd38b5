//! APIM's `cors` policy: compiled once from the policy XML, then a pure per-request decision
//! ([`Cors::decide`]) the pipeline turns into a response or extra response headers.
//!
//! Semantics follow the APIM policy reference:
//! - a request is cross-origin when it carries `Origin`; it is a **preflight** when it is also
//!   an `OPTIONS` carrying `Access-Control-Request-Method`;
//! - a matching preflight is answered by the gateway itself (200, CORS headers, no body) and
//!   no other policy runs on it;
//! - `terminate-unmatched-request` (default `true`) decides what happens to requests that do not
//!   match: an unmatched preflight ends with an empty 200, an unmatched `GET`/`HEAD` carrying
//!   `Origin` ends with an empty 200 too; with `false` the preflight is handed to the next `cors`
//!   policy of the inbound section (an empty 200 if there is none) and an actual request goes on
//!   without CORS headers (the browser then refuses to expose the response);
//! - `allowed-methods` defaults to `GET` and `POST` when absent, as APIM documents;
//! - `*` as an origin together with `allow-credentials="true"` is refused at compile time, as
//!   APIM refuses to save it (browsers ignore a credentialed response with a wildcard origin).

use crate::document::PolicyElement;
use crate::pipeline::attrs::{self, error};
use crate::pipeline::{CompileError, CompileErrorKind};

/// A compiled `cors` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    allow_credentials: bool,
    terminate_unmatched: bool,
    origins: Allowed,
    methods: Allowed,
    headers: Allowed,
    expose_headers: Vec<String>,
    max_age: Option<u64>,
}

/// A list from the policy, or `*`. List entries are kept normalized (origins by
/// [`normalize_origin`], methods upper-case, headers lower-case) so matching is a plain compare.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Any,
    List(Vec<String>),
}

impl Allowed {
    fn contains(&self, normalized: &str) -> bool {
        match self {
            Allowed::Any => true,
            Allowed::List(l) => l.iter().any(|x| x == normalized),
        }
    }
}

/// What the gateway does with a request after the `cors` policy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsDecision {
    /// A matching preflight: answer it here with 200, these headers and no body; nothing else
    /// runs (APIM evaluates only `cors` on a preflight).
    Preflight(Vec<(String, String)>),
    /// An unmatched request with `terminate-unmatched-request="true"` (a preflight, or a `GET`/
    /// `HEAD` from a disallowed origin): answer 200 with no body and no CORS headers.
    Terminate,
    /// An unmatched preflight with `terminate-unmatched-request="false"`: APIM hands it to the
    /// next `cors` policy that is a direct child of `inbound` (another scope's); when none
    /// matches, it answers 200 with no body and no CORS headers. Never forward it to the backend.
    PassPreflight,
    /// Not a preflight: go on with the pipeline and add these headers to whatever response is
    /// eventually sent (empty when the request is not cross-origin or its origin is not allowed).
    Continue(Vec<(String, String)>),
}

impl Cors {
    /// Compiles a `<cors>` element (public so that tests and tools can build one from XML; the
    /// pipeline uses [`compile`]).
    pub fn from_element(e: &PolicyElement) -> Result<Cors, CompileError> {
        compile(e)
    }

    /// `allow-credentials`.
    pub fn allow_credentials(&self) -> bool {
        self.allow_credentials
    }

    /// `terminate-unmatched-request`.
    pub fn terminate_unmatched_request(&self) -> bool {
        self.terminate_unmatched
    }

    /// Whether a request is a CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`. A plain `OPTIONS` is an ordinary request.
    pub fn is_preflight(method: &str, origin: Option<&str>, request_method: Option<&str>) -> bool {
        method.eq_ignore_ascii_case("OPTIONS") && origin.is_some() && request_method.is_some()
    }

    /// The decision for one request. `origin`, `request_method` and `request_headers` are the
    /// request's `Origin`, `Access-Control-Request-Method` and `Access-Control-Request-Headers`.
    pub fn decide(
        &self,
        method: &str,
        origin: Option<&str>,
        request_method: Option<&str>,
        request_headers: Option<&str>,
    ) -> CorsDecision {
        // No Origin: same-origin or not from a browser; CORS does not apply.
        let Some(origin) = origin else {
            return CorsDecision::Continue(Vec::new());
        };
        let origin_ok = self.origin_allowed(origin);
        if let (true, Some(requested)) = (method.eq_ignore_ascii_case("OPTIONS"), request_method) {
            let requested = requested.trim();
            let headers = requested_headers(request_headers);
            let matched = origin_ok
                && self.methods.contains(&requested.to_ascii_uppercase())
                && headers
                    .iter()
                    .all(|h| self.headers.contains(&h.to_ascii_lowercase()));
            if !matched {
                return if self.terminate_unmatched {
                    CorsDecision::Terminate
                } else {
                    CorsDecision::PassPreflight
                };
            }
            let mut out = self.origin_headers(origin);
            // Echo what was asked rather than the configured list: it is always a subset of
            // what is allowed here, and it is the only correct answer for `*` with credentials
            // (browsers read `*` literally in a credentialed preflight).
            out.push(("Access-Control-Allow-Methods".into(), requested.to_string()));
            if !headers.is_empty() {
                out.push(("Access-Control-Allow-Headers".into(), headers.join(", ")));
            }
            if let Some(age) = self.max_age {
                out.push(("Access-Control-Max-Age".into(), age.to_string()));
            }
            return CorsDecision::Preflight(out);
        }
        if !origin_ok {
            // APIM ends unmatched simple reads (GET/HEAD) when told to terminate; anything else
            // goes on without CORS headers, so the browser keeps the response from the page.
            let simple_read =
                method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
            return if self.terminate_unmatched && simple_read {
                CorsDecision::Terminate
            } else {
                CorsDecision::Continue(Vec::new())
            };
        }
        let mut out = self.origin_headers(origin);
        if !self.expose_headers.is_empty() {
            out.push((
                "Access-Control-Expose-Headers".into(),
                self.expose_headers.join(","),
            ));
        }
        CorsDecision::Continue(out)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.origins.contains(&normalize_origin(origin))
    }

    /// Allow-Origin (echoed unless the policy allows any origin without credentials), `Vary:
    /// Origin` whenever the answer depends on the origin (so shared caches keep them apart),
    /// and Allow-Credentials.
    fn origin_headers(&self, origin: &str) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(4);
        if self.origins == Allowed::Any && !self.allow_credentials {
            out.push(("Access-Control-Allow-Origin".into(), "*".into()));
        } else {
            out.push((
                "Access-Control-Allow-Origin".into(),
                origin.trim().to_string(),
            ));
            out.push(("Vary".into(), "Origin".into()));
        }
        if self.allow_credentials {
            out.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
        out
    }
}

/// The names in `Access-Control-Request-Headers`, trimmed, empty entries dropped.
fn requested_headers(v: Option<&str>) -> Vec<&str> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// An origin in comparable form: scheme and host lower-cased (both are case-insensitive), the
/// scheme's default port dropped (`https://a:443` is `https://a`), any path or trailing `/`
/// dropped (configs often write `https://a/`; browsers never send one). Anything without
/// `://` (e.g. the opaque origin `null`) is only lower-cased.
pub fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim();
    let Some((scheme, rest)) = origin.split_once("://") else {
        return origin.to_ascii_lowercase();
    };
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    };
    // Only strip a port after the host (an IPv6 literal ends in `]`).
    let host = match (authority.rsplit_once(':'), default_port) {
        (Some((host, port)), Some(d)) if port == d && !host.is_empty() => host,
        _ => authority.as_str(),
    };
    format!("{scheme}://{host}")
}

/// A literal attribute. Expressions in the cors policy are refused: the decision is made
/// before any other policy runs and without an exchange, so there is nothing to evaluate them
/// against (APIM allows them; gatehouse reports the policy as unsupported instead of guessing).
/// The shared helper's refusal, reworded to say why cors in particular refuses it.
fn literal<'a>(e: &'a PolicyElement, name: &str) -> Result<Option<&'a str>, CompileError> {
    attrs::literal(e, name).map_err(|mut err| {
        err.message = format!("attribute '{name}' of cors must be a literal, not an expression");
        err
    })
}

/// cors has always accepted blanks around `true`/`false` (`allow-credentials=" true "`).
fn literal_bool(e: &PolicyElement, name: &str, default: bool) -> Result<bool, CompileError> {
    match literal(e, name)?.map(str::trim) {
        None => Ok(default),
        Some(s) => attrs::parse_bool(s).ok_or_else(|| attrs::not_bool(e, name, s)),
    }
}

/// The literal text of `<origin>`, `<method>` or `<header>`, trimmed; empty is an error.
fn item_text(e: &PolicyElement) -> Result<String, CompileError> {
    let mut out = String::new();
    for v in e.text() {
        let s = v.as_literal().ok_or_else(|| {
            error(
                e,
                CompileErrorKind::Unsupported,
                format!(
                    "<{}> of cors must be literal text, not an expression",
                    e.name
                ),
            )
        })?;
        out.push_str(s);
    }
    let out = out.trim();
    if out.is_empty() {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("<{}> must not be empty", e.name),
        ));
    }
    Ok(out.to_string())
}

/// The items of a list element (`<allowed-origins>` …): `*` anywhere means any.
fn items(
    list: &PolicyElement,
    item: &str,
    normalize: fn(&str) -> String,
) -> Result<Allowed, CompileError> {
    let mut out = Vec::new();
    let mut any = false;
    for c in list.elements() {
        if c.name != item {
            return Err(error(
                c,
                CompileErrorKind::Unsupported,
                format!("<{}> is not supported inside <{}>", c.name, list.name),
            ));
        }
        let t = item_text(c)?;
        if t == "*" {
            any = true;
        } else {
            out.push(normalize(&t));
        }
    }
    if !any && out.is_empty() {
        return Err(error(
            list,
            CompileErrorKind::Attribute,
            format!("<{}> needs at least one <{item}>", list.name),
        ));
    }
    Ok(if any {
        Allowed::Any
    } else {
        Allowed::List(out)
    })
}

/// Compiles `<cors>`.
pub(crate) fn compile(e: &PolicyElement) -> Result<Cors, CompileError> {
    let allow_credentials = literal_bool(e, "allow-credentials", false)?;
    let terminate_unmatched = literal_bool(e, "terminate-unmatched-request", true)?;
    let mut origins = None;
    // APIM's default when <allowed-methods> is absent.
    let mut methods = Allowed::List(vec!["GET".into(), "POST".into()]);
    let mut headers = Allowed::List(Vec::new());
    let mut expose_headers = Vec::new();
    let mut max_age = None;
    for c in e.elements() {
        match c.name.as_str() {
            "allowed-origins" => origins = Some(items(c, "origin", normalize_origin)?),
            "allowed-methods" => {
                methods = items(c, "method", |m| m.to_ascii_uppercase())?;
                max_age = match literal(c, "preflight-result-max-age")? {
                    None => None,
                    Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
                        error(
                            c,
                            CompileErrorKind::Attribute,
                            format!(
                                "attribute 'preflight-result-max-age' must be a number of seconds, not '{s}'"
                            ),
                        )
                    })?),
                };
            }
            "allowed-headers" => headers = items(c, "header", |h| h.to_ascii_lowercase())?,
            "expose-headers" => {
                // Exposed names are sent as written: they are not matched against anything.
                for h in c.elements() {
                    if h.name != "header" {
                        return Err(error(
                            h,
                            CompileErrorKind::Unsupported,
                            format!("<{}> is not supported inside <expose-headers>", h.name),
                        ));
                    }
                    expose_headers.push(item_text(h)?);
                }
            }
            other => {
                return Err(error(
                    c,
                    CompileErrorKind::Unsupported,
                    format!("<{other}> is not supported inside <cors>"),
                ));
            }
        }
    }
    let origins = origins.ok_or_else(|| {
        error(
            e,
            CompileErrorKind::Attribute,
            "cors needs <allowed-origins> with at least one <origin>",
        )
    })?;
    if allow_credentials && origins == Allowed::Any {
        return Err(error(
            e,
            CompileErrorKind::Attribute,
            "the wildcard origin '*' cannot be used with allow-credentials=\"true\"; list the allowed origins",
        ));
    }
    Ok(Cors {
        allow_credentials,
        terminate_unmatched,
        origins,
        methods,
        headers,
        expose_headers,
        max_age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_policies;

    fn element(cors: &str) -> PolicyElement {
        let xml = format!("<policies><inbound>{cors}</inbound></policies>");
        match parse_policies("t.xml", &xml, None) {
            Ok(mut d) => d.inbound.remove(0),
            Err(e) => panic!("{e:#?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = compile(&element(
            "<cors><allowed-origins><origin>https://A.example/</origin></allowed-origins></cors>",
        ))
        .unwrap();
        assert!(!c.allow_credentials);
        assert!(c.terminate_unmatched);
        assert_eq!(c.origins, Allowed::List(vec!["https://a.example".into()]));
        assert_eq!(c.methods, Allowed::List(vec!["GET".into(), "POST".into()]));
        assert_eq!(c.headers, Allowed::List(vec![]));
        assert_eq!(c.max_age, None);
    }

    #[test]
    fn wildcard_with_credentials_is_refused() {
        let e = compile(&element(
            r#"<cors allow-credentials="true"><allowed-origins><origin>https://a</origin><origin>*</origin></allowed-origins></cors>"#,
        ))
        .unwrap_err();
        assert_eq!(e.kind, CompileErrorKind::Attribute);
        assert!(e.message.contains("allow-credentials"), "{}", e.message);
    }

    #[test]
    fn bad_max_age_and_missing_origins() {
        let e = compile(&element(
            r#"<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-methods preflight-result-max-age="-1"><method>PUT</method></allowed-methods></cors>"#,
        ));
        assert!(e.is_err());
        let e = compile(&element(
            r#"<cors><allowed-methods><method>PUT</method></allowed-methods></cors>"#,
        ));
        assert!(e.is_err());
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_origin("HTTPS://Api.Example.com:443"),
            "https://api.example.com"
        );
        assert_eq!(normalize_origin("http://a.example:80/"), "http://a.example");
        assert_eq!(
            normalize_origin("http://a.example:8080"),
            "http://a.example:8080"
        );
        assert_eq!(normalize_origin("https://[::1]:443"), "https://[::1]");
        assert_eq!(normalize_origin("https://[::1]"), "https://[::1]");
        assert_eq!(normalize_origin("null"), "null");
    }
}
