//! The cors policy through its public API: XML → document → `Cors` → per-request decisions.

use gatehouse_policy::cors::{Cors, CorsDecision};
use gatehouse_policy::document::parse_policies;
use gatehouse_policy::pipeline::CompileErrorKind;

fn try_cors(xml: &str) -> Result<Cors, gatehouse_policy::pipeline::CompileError> {
    let doc = format!("<policies><inbound>{xml}</inbound></policies>");
    let mut d = match parse_policies("t.xml", &doc, None) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    };
    Cors::from_element(&d.inbound.remove(0))
}

fn cors(xml: &str) -> Cors {
    match try_cors(xml) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn headers(d: &CorsDecision) -> Vec<(&str, &str)> {
    match d {
        CorsDecision::Preflight(h) | CorsDecision::Continue(h) => {
            h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
        }
        other => panic!("no headers in {other:?}"),
    }
}

fn header<'a>(d: &'a CorsDecision, name: &str) -> Option<&'a str> {
    match d {
        CorsDecision::Preflight(h) | CorsDecision::Continue(h) => h
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str()),
        _ => None,
    }
}

const LISTED: &str = r#"<cors allow-credentials="true">
    <allowed-origins><origin>https://app.example.com</origin><origin>http://localhost:8080/</origin></allowed-origins>
    <allowed-methods preflight-result-max-age="300"><method>GET</method><method>put</method></allowed-methods>
    <allowed-headers><header>Content-Type</header><header>X-Trace</header></allowed-headers>
    <expose-headers><header>X-Request-Id</header><header>ETag</header></expose-headers>
</cors>"#;

const ANY: &str = r#"<cors>
    <allowed-origins><origin>*</origin></allowed-origins>
    <allowed-methods><method>*</method></allowed-methods>
    <allowed-headers><header>*</header></allowed-headers>
</cors>"#;

#[test]
fn preflight_from_listed_origin_is_answered() {
    let c = cors(LISTED);
    let d = c.decide(
        "OPTIONS",
        Some("https://app.example.com"),
        Some("PUT"),
        Some("content-type, x-trace"),
    );
    assert!(matches!(d, CorsDecision::Preflight(_)), "{d:?}");
    assert_eq!(
        headers(&d),
        vec![
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "content-type, x-trace"),
            ("Access-Control-Max-Age", "300"),
        ]
    );
}

#[test]
fn origin_matching_ignores_case_default_port_and_trailing_slash() {
    let c = cors(LISTED);
    for o in [
        "HTTPS://APP.example.com",
        "https://app.example.com:443",
        "http://localhost:8080",
    ] {
        let d = c.decide("OPTIONS", Some(o), Some("GET"), None);
        assert!(matches!(d, CorsDecision::Preflight(_)), "{o}: {d:?}");
        // The origin is echoed as the browser sent it: browsers compare it byte for byte.
        assert_eq!(header(&d, "Access-Control-Allow-Origin"), Some(o));
    }
    for o in [
        "https://app.example.com:8443",
        "http://app.example.com",
        "https://evil.app.example.com",
        "http://localhost",
        "null",
    ] {
        let d = c.decide("OPTIONS", Some(o), Some("GET"), None);
        assert_eq!(d, CorsDecision::Terminate, "{o}");
    }
}

#[test]
fn unmatched_method_or_header_fails_the_preflight() {
    let c = cors(LISTED);
    let o = Some("https://app.example.com");
    assert_eq!(
        c.decide("OPTIONS", o, Some("DELETE"), None),
        CorsDecision::Terminate
    );
    assert_eq!(
        c.decide(
            "OPTIONS",
            o,
            Some("GET"),
            Some("content-type,authorization")
        ),
        CorsDecision::Terminate
    );
    // Header names match case-insensitively; empty entries are ignored.
    assert!(matches!(
        c.decide("OPTIONS", o, Some("get"), Some("X-TRACE, ,Content-type")),
        CorsDecision::Preflight(_)
    ));
}

#[test]
fn terminate_false_passes_preflight_and_lets_requests_go_on() {
    let c = cors(
        r#"<cors terminate-unmatched-request="false"><allowed-origins><origin>https://a.example</origin></allowed-origins></cors>"#,
    );
    assert_eq!(
        c.decide("OPTIONS", Some("https://b.example"), Some("GET"), None),
        CorsDecision::PassPreflight
    );
    // An actual request from a disallowed origin goes on with no CORS headers.
    assert_eq!(
        c.decide("GET", Some("https://b.example"), None, None),
        CorsDecision::Continue(vec![])
    );
    assert!(!c.terminate_unmatched_request());
}

#[test]
fn actual_requests_from_disallowed_origins() {
    let c = cors(LISTED);
    let bad = Some("https://b.example");
    // Terminated by default for simple reads, as APIM documents.
    assert_eq!(c.decide("GET", bad, None, None), CorsDecision::Terminate);
    assert_eq!(c.decide("HEAD", bad, None, None), CorsDecision::Terminate);
    // Anything else goes on without CORS headers; the browser withholds the response.
    assert_eq!(
        c.decide("POST", bad, None, None),
        CorsDecision::Continue(vec![])
    );
    // A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
    assert_eq!(
        c.decide("OPTIONS", bad, None, None),
        CorsDecision::Continue(vec![])
    );
}

#[test]
fn actual_request_from_allowed_origin_gets_headers() {
    let c = cors(LISTED);
    let d = c.decide("POST", Some("https://app.example.com"), None, None);
    assert_eq!(
        headers(&d),
        vec![
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "X-Request-Id,ETag"),
        ]
    );
    assert!(matches!(d, CorsDecision::Continue(_)));
}

#[test]
fn no_origin_means_no_cors() {
    let c = cors(LISTED);
    assert_eq!(
        c.decide("GET", None, None, None),
        CorsDecision::Continue(vec![])
    );
    assert_eq!(
        c.decide("OPTIONS", None, Some("GET"), None),
        CorsDecision::Continue(vec![])
    );
    assert!(!Cors::is_preflight("OPTIONS", None, Some("GET")));
    assert!(Cors::is_preflight("options", Some("x"), Some("GET")));
}

#[test]
fn wildcards_without_credentials_answer_star() {
    let c = cors(ANY);
    let d = c.decide(
        "OPTIONS",
        Some("https://anything.example"),
        Some("PATCH"),
        Some("X-Whatever"),
    );
    assert_eq!(
        headers(&d),
        vec![
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "PATCH"),
            ("Access-Control-Allow-Headers", "X-Whatever"),
        ]
    );
    let d = c.decide("GET", Some("null"), None, None);
    assert_eq!(headers(&d), vec![("Access-Control-Allow-Origin", "*")]);
}

#[test]
fn default_methods_are_get_and_post() {
    let c = cors(r#"<cors><allowed-origins><origin>*</origin></allowed-origins></cors>"#);
    let o = Some("https://a.example");
    assert!(matches!(
        c.decide("OPTIONS", o, Some("POST"), None),
        CorsDecision::Preflight(_)
    ));
    assert!(matches!(
        c.decide("OPTIONS", o, Some("GET"), None),
        CorsDecision::Preflight(_)
    ));
    assert_eq!(
        c.decide("OPTIONS", o, Some("PUT"), None),
        CorsDecision::Terminate
    );
    // No <allowed-headers>: any non-safelisted header fails the preflight.
    assert_eq!(
        c.decide("OPTIONS", o, Some("GET"), Some("X-Custom")),
        CorsDecision::Terminate
    );
    // No max-age attribute: no Access-Control-Max-Age.
    let d = c.decide("OPTIONS", o, Some("GET"), None);
    assert_eq!(header(&d, "Access-Control-Max-Age"), None);
}

#[test]
fn compile_errors() {
    let e = match try_cors(
        r#"<cors allow-credentials="true"><allowed-origins><origin>*</origin></allowed-origins></cors>"#,
    ) {
        Err(e) => e,
        Ok(c) => panic!("compiled {c:?}"),
    };
    assert_eq!(e.kind, CompileErrorKind::Attribute);
    assert!(try_cors("<cors></cors>").is_err());
    assert!(try_cors("<cors><allowed-origins></allowed-origins></cors>").is_err());
    assert!(
        try_cors("<cors><allowed-origins><origin> </origin></allowed-origins></cors>").is_err()
    );
    let e = match try_cors(
        r#"<cors allow-credentials="@(true)"><allowed-origins><origin>https://a</origin></allowed-origins></cors>"#,
    ) {
        Err(e) => e,
        Ok(c) => panic!("compiled {c:?}"),
    };
    assert_eq!(e.kind, CompileErrorKind::Unsupported);
}
