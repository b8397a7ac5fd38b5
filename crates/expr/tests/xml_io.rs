//! `StringReader`/`StringWriter`, the completed tasks of async members, `XmlReader`'s chunked
//! readers and LINQ to XML's writing members (crates/expr/src/library/textio.rs,
//! stringwriter.rs, tasks.rs, xmlreader/binary.rs, xml_save.rs). Expected values come from
//! Mono (mcs + mono) or, where APIM's .NET differs, from .NET 8's documented behaviour; the
//! oracle's expressions-xml.txt compares many more against the compiler.

mod support;

use gatehouse_expr::{ExprKind, MapContext, eval, parse};
use support::{no_findings, text_or_kind_as};

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

// .NET 8 (C#, as APIM runs it; Mono's System.Xml.Linq has no async members):
// var sw = new StringWriter();
// await XDocument.Parse("<a/>").SaveAsync(sw, SaveOptions.DisableFormatting, CancellationToken.None);
// sw.ToString()  // <?xml version="1.0" encoding="utf-16"?><a />
#[test]
fn async_linq_to_xml_members_do_their_work_at_once() {
    assert_eq!(
        text(
            r#"{ var sw = new StringWriter(); XDocument.Parse("<a/>").SaveAsync(sw, SaveOptions.DisableFormatting, CancellationToken.None).Wait(); return sw.ToString(); }"#
        ),
        r#"<?xml version="1.0" encoding="utf-16"?><a />"#
    );
    assert_eq!(
        text(
            r#"XElement.LoadAsync(new StringReader("<a><b/></a>"), LoadOptions.None, CancellationToken.None).Result.FirstNode.ToString()"#
        ),
        "<b />"
    );
    // Malformed XML faults the task: `.Result` wraps the XmlException, `await` rethrows it.
    assert_eq!(
        text(
            r#"XDocument.LoadAsync(new StringReader("<a></b>"), LoadOptions.None, default(CancellationToken)).Result"#
        ),
        "!AggregateException"
    );
    assert_eq!(
        text(
            r#"XDocument.LoadAsync(new StringReader("<a></b>"), LoadOptions.None, default(CancellationToken)).GetAwaiter().GetResult()"#
        ),
        "!XmlException"
    );
    no_findings(
        r#"var sw = new StringWriter(); XDocument.Parse("<a/>").SaveAsync(sw, SaveOptions.None, CancellationToken.None).Wait(); var w = XmlWriter.Create(sw); return XNode.ReadFromAsync(XmlReader.Create(new StringReader("<a/>")), CancellationToken.None).Result;"#,
    );
}

#[test]
fn save_writes_the_declaration_of_the_writer() {
    assert_eq!(
        text(
            r#"{ var sw = new StringWriter(); XDocument.Parse("<a><b/></a>").Save(sw); return sw.ToString(); }"#
        ),
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<a>\n  <b />\n</a>"
    );
    // A file would be written: APIM's sandbox has none.
    assert_eq!(
        text(r#"XDocument.Parse("<a/>").Save("out.xml")"#),
        "!UnauthorizedAccessException"
    );
}

#[test]
fn change_events_reach_the_changed_node_and_its_ancestors() {
    assert_eq!(
        text(
            r#"{ var log = ""; var d = XDocument.Parse("<r><a/></r>"); d.Changing += (o, e) => log += "d<" + e.ObjectChange; d.Root.Changed += (o, e) => log += "r>" + e.ObjectChange; d.Root.Element("a").Add(new XAttribute("x", 1)); d.Root.Element("a").Remove(); return log; }"#
        ),
        "d<Addr>Addd<Remover>Remove"
    );
    // `-=` with another lambda removes nothing (delegates are equal only to themselves);
    // text added after text changes that text's Value.
    assert_eq!(
        text(
            r#"{ var n = 0; var e = new XElement("a"); e.Changed += (o, x) => n++; e.Add(1); e.Changed -= (o, x) => n++; e.Add(2); return n; }"#
        ),
        "2"
    );
}

/// Nodes written into an XmlWriter count against the memory budget while it holds them.
#[test]
fn an_xml_writer_stops_at_the_memory_budget() {
    let src = r#"var sb = new StringBuilder(); var w = XmlWriter.Create(sb); w.WriteStartElement("r"); var s = new string('x', 100000); for (var i = 0; i < 100000; i++) { w.WriteElementString("e", s); } w.WriteEndElement(); w.Close(); return sb.Length;"#;
    let p = parse(src, ExprKind::Block).expect("parses");
    let e = eval(&p, &mut MapContext::new()).expect_err("over the memory budget");
    assert!(e.message.contains("memory budget"), "{}", e.message);
}

#[test]
fn chunked_reads_fill_the_callers_array() {
    assert_eq!(
        text(
            r#"{ var r = XmlReader.Create(new StringReader("<a>AQIDBA==</a>")); r.Read(); r.Read(); var b = new byte[3]; var n = r.ReadContentAsBase64(b, 0, 3); var m = r.ReadContentAsBase64(b, 0, 3); return n + "," + m + ":" + BitConverter.ToString(b); }"#
        ),
        "3,1:04-02-03"
    );
    assert_eq!(
        text(
            r#"{ var r = new StringReader("hello"); var c = new char[3]; r.ReadBlock(c, 0, 3); return new string(c) + r.ReadToEnd(); }"#
        ),
        "hello"
    );
}

/// `using` disposes its resource once the body has run: an `XmlWriter` hands on its output
/// (.NET: `<?xml version="1.0" encoding="utf-16"?><r><n>v</n></r>`), a `CreateWriter()`
/// writer adds its nodes to the container, a `StringWriter` is closed.
#[test]
fn using_disposes_its_resource() {
    assert_eq!(
        text(
            r#"{ var sb = new StringBuilder(); using (var w = XmlWriter.Create(sb)) { w.WriteStartElement("r"); w.WriteElementString("n", "v"); } return sb.ToString(); }"#
        ),
        r#"<?xml version="1.0" encoding="utf-16"?><r><n>v</n></r>"#
    );
    assert_eq!(
        text(
            r#"{ var e = new XElement("r"); using (var w = e.CreateWriter()) { w.WriteElementString("n", "v"); } return e.ToString(SaveOptions.DisableFormatting); }"#
        ),
        "<r><n>v</n></r>"
    );
    assert_eq!(
        text(
            r#"{ var sw = new StringWriter(); using (sw) { sw.Write("a"); } sw.Write("b"); return 1; }"#
        ),
        "!ObjectDisposedException"
    );
}
