//! `StringReader`/`StringWriter`, the completed tasks of async members, `XmlReader`'s chunked
//! readers and LINQ to XML's writing members (crates/expr/src/library/textio.rs,
//! stringwriter.rs, tasks.rs, xmlreader/binary.rs, xml_save.rs). Expected values come from
//! Mono (mcs + mono) or, where APIM's .NET differs, from .NET 8's documented behaviour; the
//! oracle's expressions-xml.txt compares many more against the compiler.

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind_as;

/// The text of `src` (a `{ … }` block or one expression), or `!Kind` for an exception.
fn text(src: &str) -> String {
    match src
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
    {
        Some(body) => text_or_kind_as(body, ExprKind::Block),
        None => text_or_kind_as(src, ExprKind::Single),
    }
}

/// Prints what each entry of the file named by `XML_ADHOC` gives (entries separated by
/// `----` lines): a tool for writing oracle entries, a no-op otherwise.
#[test]
fn adhoc() {
    let Ok(path) = std::env::var("XML_ADHOC") else {
        return;
    };
    let src = std::fs::read_to_string(path).unwrap_or_default();
    for e in src.split("\n----\n") {
        if e.trim().is_empty() || e.trim_start().starts_with("//") {
            continue;
        }
        println!("{} => {}", e.trim(), text(e));
    }
}

#[test]
fn a_string_writer_writes_into_its_own_builder() {
    assert_eq!(
        text(
            r#"{ var w = new StringWriter(); w.Write("ab"); var sb = w.GetStringBuilder(); sb.Append("cd"); w.Write("e"); return w.ToString() + "|" + sb.ToString(); }"#
        ),
        "abcde|abcde"
    );
    assert_eq!(
        text(
            r#"{ var w = new StringWriter(); w.NewLine = "|"; w.WriteLine("a"); return w.ToString(); }"#
        ),
        "a|"
    );
    assert_eq!(text("new StringWriter().Encoding.WebName"), "utf-16");
}

#[test]
fn async_members_return_completed_tasks() {
    assert_eq!(
        text(
            r#"{ var r = new StringReader("l1\nl2"); return r.ReadLineAsync().Result + r.ReadToEndAsync().GetAwaiter().GetResult(); }"#
        ),
        "l1l2"
    );
    assert_eq!(
        text(
            r#"{ var r = new StringReader("abc"); var b = new char[3]; var n = r.ReadBlockAsync(b, 0, 3).Result; return n + "" + b[2]; }"#
        ),
        "3c"
    );
    // Without XmlReaderSettings.Async, .NET refuses the async members at the call.
    assert_eq!(
        text(r#"XmlReader.Create(new StringReader("<a/>")).ReadAsync()"#),
        "!InvalidOperationException"
    );
}

#[test]
fn remoting_members_are_not_supported_on_net_core() {
    assert_eq!(
        text("new StringWriter().GetLifetimeService()"),
        "!PlatformNotSupportedException"
    );
}
