//! APIM's credential extensions on strings (crates/expr/src/library/apim_auth.rs), read from a
//! request's Authorization header as policies do.

mod support;

use gatehouse_expr::MapContext;
use support::{run_in, text_of};

/// {"alg":"none","typ":"JWT"} . {"sub":"ada","aud":["x","y"],"exp":1700000000,"roles":["a","b"]}
const TOKEN: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZGEiLCJhdWQiOlsieCIsInkiXSwiZXhwIjoxNzAwMDAwMDAwLCJyb2xlcyI6WyJhIiwiYiJdfQ.";

fn with_header(value: &str) -> MapContext {
    let mut c = MapContext::new();
    c.header("Request", "Authorization", value);
    c
}

fn run(header: &str, src: &str) -> String {
    text_of(src, run_in(src, &mut with_header(header)))
}

#[test]
fn as_jwt_reads_a_bearer_header() {
    let h = format!("Bearer {TOKEN}");
    let jwt = r#"context.Request.Headers.GetValueOrDefault("Authorization", "").AsJwt()"#;
    assert_eq!(run(&h, &format!("{jwt}.Subject")), "ada");
    assert_eq!(run(&h, &format!("{jwt}.Type")), "JWT");
    assert_eq!(
        run(&h, &format!("string.Join(\"|\", {jwt}.Audiences)")),
        "x|y"
    );
    assert_eq!(
        run(&h, &format!("{jwt}.ExpirationTime.Value.ToString(\"o\")")),
        "2023-11-14T22:13:20.0000000Z"
    );
    // APIM's GetValueOrDefault joins a multi-valued claim; .NET's with a string[] default
    // gives the values.
    assert_eq!(
        run(
            &h,
            &format!("{jwt}.Claims.GetValueOrDefault(\"roles\", \"-\")")
        ),
        "a,b"
    );
    assert_eq!(
        run(
            &h,
            &format!("{jwt}.Claims.GetValueOrDefault(\"roles\", new string[0])[1]")
        ),
        "b"
    );
    assert_eq!(
        run(
            &h,
            &format!("{jwt}.Claims.GetValueOrDefault(\"nope\", \"-\")")
        ),
        "-"
    );
}

#[test]
fn anything_else_is_null_or_false() {
    let get = r#"context.Request.Headers.GetValueOrDefault("Authorization", "")"#;
    assert_eq!(
        run("Bearer abc.def", &format!("{get}.AsJwt() == null")),
        "True"
    );
    assert_eq!(
        run("Bearer a.b.c", &format!("{get}.AsJwt() == null")),
        "True"
    );
    assert_eq!(
        run(
            "x",
            &format!("{{ Jwt j; return {get}.TryParseJwt(out j) + \"|\" + (j == null); }}")
        ),
        "False|True"
    );
    assert_eq!(
        run("Basic !!!", &format!("{get}.AsBasic() == null")),
        "True"
    );
}

#[test]
fn as_basic_reads_user_and_password() {
    // "user:pa:ss": the password keeps its colons.
    let h = "Basic dXNlcjpwYTpzcw==";
    let get = r#"context.Request.Headers.GetValueOrDefault("Authorization", "")"#;
    assert_eq!(run(h, &format!("{get}.AsBasic().UserId")), "user");
    assert_eq!(run(h, &format!("{get}.AsBasic().Password")), "pa:ss");
    assert_eq!(
        run(
            h,
            &format!(
                "{{ BasicAuthCredentials c; return {get}.TryParseBasic(out c) + \"|\" + c.UserId; }}"
            )
        ),
        "True|user"
    );
}
