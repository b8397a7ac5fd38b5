//! `policy check` on expressions: the engine's unsupported-member findings reported at their
//! line and column in the policy document. (The engine's own tests are in crates/expr/tests.)

#[test]
fn policy_check_reports_unsupported_members() {
    use gatehouse_policy::document::{ErrorKind, check_source};
    let xml = r#"<policies>
    <inbound>
        <base />
        <set-header name="x" exists-action="override">
            <value>@(context.Request.Headers.GetValueOrDefault("a", ""))</value>
        </set-header>
        <set-variable name="v" value="@{
            var s = &quot;x&quot;;
            return char.IsAsciiHexDigit(s[0]);
        }" />
        <set-variable name="w" value="@(context.Nope)" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>"#;
    let r = check_source(std::path::Path::new("t.xml"), xml);
    assert!(!r.ok);
    let errs: Vec<_> = r
        .errors
        .iter()
        .map(|e| {
            (
                e.line,
                e.column,
                e.kind,
                e.policy.clone(),
                e.message.clone(),
            )
        })
        .collect();
    assert_eq!(
        errs,
        [
            (
                9,
                20,
                ErrorKind::Unsupported,
                Some("set-variable".to_string()),
                "expression uses the method 'char.IsAsciiHexDigit', which gatehouse does not support yet"
                    .to_string()
            ),
            (
                11,
                41,
                ErrorKind::Unsupported,
                Some("set-variable".to_string()),
                "expression uses the member 'context.Nope', which gatehouse does not support yet"
                    .to_string()
            ),
        ]
    );
    // A policy using only supported members is still ok.
    let fine = xml
        .replace("char.IsAsciiHexDigit(s[0])", "s.Length > 0")
        .replace("context.Nope", "context.RequestId");
    let r = check_source(std::path::Path::new("t.xml"), &fine);
    assert!(r.ok, "{:?}", r.errors);
}

/// C#'s compile-time checks of constant expressions: APIM refuses to save a policy whose
/// expression divides by a constant zero or overflows a constant, so `policy check` reports it
/// at its place; `unchecked(…)` allows the overflow, as in C#.
#[test]
fn policy_check_refuses_what_the_csharp_compiler_refuses() {
    use gatehouse_policy::document::{ErrorKind, check_source};
    let doc = |expr: &str| {
        format!(
            r#"<policies>
    <inbound>
        <set-variable name="v" value="@({expr})" />
    </inbound>
</policies>"#
        )
    };
    for (expr, code) in [
        ("1 / 0", "CS0020"),
        ("int.MaxValue + 1", "CS0220"),
        ("(byte)300", "CS0221"),
    ] {
        let r = check_source(std::path::Path::new("t.xml"), &doc(expr));
        assert!(!r.ok, "{expr} passed");
        let e = &r.errors[0];
        assert_eq!(
            (e.line, e.kind),
            (3, ErrorKind::Expression),
            "{expr}: {e:?}"
        );
        assert!(e.message.contains(code), "{expr}: {}", e.message);
    }
    for expr in ["unchecked(int.MaxValue + 1)", "(byte)255", "1.0 / 0"] {
        let r = check_source(std::path::Path::new("t.xml"), &doc(expr));
        assert!(r.ok, "{expr}: {:?}", r.errors);
    }
}
