//! `System.Uri` and `System.Net.IPAddress` (crates/expr/src/library/net): results as .NET gives
//! them (checked against Mono by crates/expr/tests/oracle/expressions.txt).

mod support;

use support::text_or_kind as run;

#[test]
fn uri_parts_are_dotnet_canonical() {
    let u = r#"new Uri("HTTPS://Ex.COM:443/a/../b%41/c%20d?x=%2f#f")"#;
    assert_eq!(run(&format!("{u}.Host")), "ex.com");
    assert_eq!(run(&format!("{u}.Port")), "443");
    assert_eq!(run(&format!("{u}.IsDefaultPort")), "True");
    assert_eq!(run(&format!("{u}.AbsolutePath")), "/bA/c%20d");
    assert_eq!(run(&format!("{u}.LocalPath")), "/bA/c d");
    assert_eq!(run(&format!("{u}.Query")), "?x=%2F");
    assert_eq!(
        run(&format!("{u}.AbsoluteUri")),
        "https://ex.com/bA/c%20d?x=%2F#f"
    );
    assert_eq!(
        run(&format!("{u}.ToString()")),
        "https://ex.com/bA/c d?x=%2F#f"
    );
    assert_eq!(
        run(&format!("{u}.GetLeftPart(UriPartial.Path)")),
        "https://ex.com/bA/c%20d"
    );
    assert_eq!(run(&format!("{u}.Segments.Length")), "3");
    assert_eq!(run(&format!("{u}.GetType().ToString()")), "System.Uri");
}

#[test]
fn relative_uris_and_errors() {
    assert_eq!(run(r#"new Uri("a/b", UriKind.Relative).ToString()"#), "a/b");
    assert_eq!(
        run(r#"new Uri("a/b", UriKind.Relative).Host"#),
        "!InvalidOperationException"
    );
    assert_eq!(run(r#"new Uri("nope")"#), "!UriFormatException");
    assert_eq!(
        run(r#"new Uri("https://a/b/c").MakeRelativeUri(new Uri("https://a/b/d?q")).ToString()"#),
        "d?q"
    );
    assert_eq!(run(r#"Uri.CheckHostName("::1")"#), "IPv6");
    assert_eq!(run("Uri.HexEscape('a')"), "%61");
}

#[test]
fn ip_addresses() {
    assert_eq!(run(r#"IPAddress.Parse("1.2.3").ToString()"#), "1.2.0.3");
    assert_eq!(
        run(r#"IPAddress.Parse("::ffff:1.2.3.4").ToString()"#),
        "::ffff:1.2.3.4"
    );
    assert_eq!(
        run(r#"IPAddress.Parse("::ffff:1.2.3.4").MapToIPv4().ToString()"#),
        "1.2.3.4"
    );
    assert_eq!(run(r#"IPAddress.Parse("256.0.0.1")"#), "!FormatException");
    assert_eq!(
        run("IPAddress.IPv6Loopback.AddressFamily"),
        "InterNetworkV6"
    );
    assert_eq!(
        run(r#"IPAddress.IsLoopback(IPAddress.Parse("127.1.2.3"))"#),
        "True"
    );
    assert_eq!(
        run("new IPAddress(new byte[] { 10, 0, 0, 9 }).GetAddressBytes()[3]"),
        "9"
    );
    assert_eq!(
        run(r#"IPAddress.Parse("10.0.0.1").GetType().ToString()"#),
        "System.Net.IPAddress"
    );
}

#[test]
fn qualified_type_names() {
    assert_eq!(
        run(r#"System.Net.IPAddress.Parse("1.2.3.4").ToString()"#),
        "1.2.3.4"
    );
}
