//! Arbitrary rewrite-uri templates and parameter values: filling never panics; a value never
//! adds a path segment, a query or a fragment to what the template wrote (finding 2); and the
//! gateway's confinement of the filled path never panics and, when it accepts, leaves no dot
//! segment and no encoded one a backend could decode.

#![no_main]

use gatehouse_gateway::request_target::confine;
use gatehouse_policy::pipeline::fill_rewrite_template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `template \0 value1 \0 value2 ...`: values are handed out in order.
    let mut parts = text.split('\0');
    let template = parts.next().unwrap_or_default();
    let values: Vec<&str> = parts.collect();
    let mut next = 0;
    let filled = fill_rewrite_template(template, |_| {
        let v = values.get(next).map(|v| v.to_string());
        next += 1;
        v
    });
    let empty = fill_rewrite_template(template, |_| None);
    // Values add only unreserved characters and percent-escapes: the structure is the
    // template's own.
    let structure = |s: &str| {
        s.bytes()
            .filter(|b| matches!(b, b'/' | b'?' | b'#' | b'&' | b'='))
            .collect::<Vec<u8>>()
    };
    assert_eq!(structure(&filled), structure(&empty), "{template:?} -> {filled}");
    let path = filled.split(['?', '#']).next().unwrap_or_default();
    if let Ok(c) = confine(path) {
        assert!(!c.split('/').any(|s| s == "." || s == ".."), "{path} -> {c}");
    }
});
