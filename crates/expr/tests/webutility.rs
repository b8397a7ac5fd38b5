//! `System.Net.WebUtility` (crates/expr/src/library/webutility.rs). Expected values are .NET's
//! (WebUtility.cs); Mono agrees except where noted.

mod support;

use support::text_or_kind;

#[test]
fn html_decode_uses_dotnets_entity_table() {
    let cases = [
        (
            r#"WebUtility.HtmlDecode("&lt;a&gt;&amp;&quot;&apos;&#39;&#x41;&#66;&eacute;&euro;&hearts;")"#,
            "<a>&\"''ABé€♥",
        ),
        // Unknown names, case, an empty or malformed reference, a missing ';' stay as written.
        (
            r#"WebUtility.HtmlDecode("&Lt; &unknown; &#; &#xZZ; &#65 &amp")"#,
            "&Lt; &unknown; &#; &#xZZ; &#65 &amp",
        ),
        // Scalar values only: a surrogate or a value past U+10FFFF stays.
        (
            r#"WebUtility.HtmlDecode("&#128512;&#xD800;&#1114112;&#+65;")"#,
            "😀&#xD800;&#1114112;A",
        ),
        (r#"WebUtility.HtmlDecode(null) == null"#, "True"),
    ];
    for (src, want) in cases {
        assert_eq!(text_or_kind(src), want, "{src}");
    }
}

// .NET: only U+00A0–U+00FF and non-BMP characters become references (Mono: all from U+00A0).
#[test]
fn html_encode_and_url_encoding() {
    let cases = [
        (
            r#"WebUtility.HtmlEncode("<a href=\"x\">'&'</a>")"#,
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
        ),
        (
            r#"WebUtility.HtmlEncode("café \u0100 \U0001F600")"#,
            "caf&#233; \u{100} &#128512;",
        ),
        (
            r#"WebUtility.UrlEncode("a b~c!*()'-_.é/")"#,
            "a+b%7Ec!*()%27-_.%C3%A9%2F",
        ),
        (
            r#"WebUtility.UrlDecode("a+b%20c%2x%41%C3%A9")"#,
            "a b c%2xAé",
        ),
        (
            r#"BitConverter.ToString(WebUtility.UrlEncodeToBytes(Encoding.UTF8.GetBytes("xa b"), 1, 2))"#,
            "61-2B",
        ),
        (
            r#"BitConverter.ToString(WebUtility.UrlDecodeToBytes(Encoding.UTF8.GetBytes("a+%2F"), 0, 5))"#,
            "61-20-2F",
        ),
        (
            "WebUtility.UrlEncodeToBytes(new byte[] { 1 }, 1, 1)",
            "!ArgumentOutOfRangeException",
        ),
        ("WebUtility.UrlDecodeToBytes(null, 0, 0) == null", "True"),
        (
            "WebUtility.UrlDecodeToBytes(null, 0, 1)",
            "!ArgumentNullException",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text_or_kind(src), want, "{src}");
    }
}
