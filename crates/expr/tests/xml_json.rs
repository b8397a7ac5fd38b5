//! `System.Xml.XmlReader`, `System.IO.StringReader`/`StringWriter` and LINQ to XML loaded from
//! a reader. Expected values come from Mono (mcs + mono, System.Xml and System.Xml.Linq); the
//! C# that produced them is quoted beside each test.

use gatehouse_expr::{ExprKind, MapContext, Value, eval, parse};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    let kind = if src.trim_start().starts_with('{') {
        ExprKind::Block
    } else {
        ExprKind::Single
    };
    let body = if kind == ExprKind::Block {
        let t = src.trim();
        &t[1..t.len() - 1]
    } else {
        src
    };
    let p = parse(body, kind).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    let mut c = MapContext::new();
    c.body_text(
        "Request",
        "<root><h><k>1</k></h><item id=\"7\">seven</item><item id=\"8\">eight</item></root>",
    );
    eval(&p, &mut c)
}

fn text(src: &str) -> String {
    match run(src) {
        Ok(v) => v.to_display(),
        Err(e) => panic!("{src:?} failed: {e:?}"),
    }
}

fn kind(src: &str) -> &'static str {
    match run(src) {
        Ok(v) => panic!("{src:?} gave {v:?}, not an error"),
        Err(e) => e.kind,
    }
}

fn no_findings(src: &str) {
    let p = parse(src, ExprKind::Block).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    let found = p.unsupported_members();
    assert!(found.is_empty(), "{src:?}: {found:?}");
}

// var r = XmlReader.Create(new StringReader(
//     "<?xml version=\"1.0\"?><a x=\"1\"><!--c--><b>t &amp; u</b>\n <c/><d></d></a>"));
// Console.WriteLine(r.NodeType + " " + r.EOF + " " + r.ReadState);   // None False Initial
// while (r.Read()) Console.WriteLine(r.NodeType + "|" + r.Name + "|" + r.Depth + "|"
//     + r.IsEmptyElement + "|" + r.Value + "|" + r.HasAttributes);
// Console.WriteLine(r.NodeType + " " + r.EOF);                       // None True
#[test]
fn xml_reader_walks_nodes_like_dotnet() {
    let src = r#"{
        var r = XmlReader.Create(new StringReader("<?xml version=\"1.0\"?><a x=\"1\"><!--c--><b>t &amp; u</b>\n <c/><d></d></a>"));
        var w = new StringWriter();
        w.WriteLine(r.NodeType + " " + r.EOF + " " + r.ReadState);
        while (r.Read()) {
            w.WriteLine(r.NodeType + "|" + r.Name + "|" + r.Depth + "|" + r.IsEmptyElement + "|" + r.Value + "|" + r.HasAttributes);
        }
        w.Write(r.NodeType + " " + r.EOF);
        return w.ToString();
    }"#;
    let want = [
        "None False Initial",
        "XmlDeclaration|xml|0|False|version=\"1.0\"|True",
        "Element|a|0|False||True",
        "Comment||1|False|c|False",
        "Element|b|1|False||False",
        "Text||2|False|t & u|False",
        "EndElement|b|1|False||False",
        "Whitespace||1|False|\n |False",
        "Element|c|1|True||False",
        "Element|d|1|False||False",
        "EndElement|d|1|False||False",
        "EndElement|a|0|False||False",
        "None True",
    ]
    .join("\r\n");
    assert_eq!(text(src), want);
}

// var r2 = XmlReader.Create(new StringReader(body));
// r2.MoveToContent() + " " + r2.Name                                  -> Element root
// r2.ReadToFollowing("item") + " " + r2.GetAttribute("id") + " " + (r2.GetAttribute("nope") == null)
//                                                                     -> True 7 True
// r2.ReadElementContentAsString() + " " + r2.NodeType + " " + r2.Name -> seven Element item
// XElement.Load(r2) (not at the end of the document)                 -> InvalidOperationException
// var r3 = ...("<root><h><k>1</k></h></root>"); r3.MoveToContent();
// r3.ReadToDescendant("k") + " " + r3.Depth                           -> True 2
// XNode.ReadFrom(r3).ToString() + " " + r3.NodeType + " " + r3.Name   -> <k>1</k> EndElement h
// XmlReader on "<a><b/></a>": ReadElementContentAsString()            -> XmlException
// XmlNodeType.Element.ToString() + " " + (r4.NodeType == XmlNodeType.Element) -> Element True
// XElement.Load(XmlReader.Create(new StringReader("<!--x--><a><b>1</b></a>\n"))) -> <a>\n  <b>1</b>\n</a>, reader None, EOF True
// XDocument.Load(XmlReader.Create(new StringReader("<p:a xmlns:p=\"urn:x\"><p:b/></p:a>"))).Root.Name -> {urn:x}a
#[test]
fn xml_reader_navigation_and_loading() {
    let open = "var r = XmlReader.Create(new StringReader(context.Request.Body.As<string>(preserveContent: true)));";
    assert_eq!(
        text(&format!(
            "{{ {open} return r.MoveToContent() + \" \" + r.Name; }}"
        )),
        "Element root"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} var found = r.ReadToFollowing(\"item\"); return found + \" \" + r.GetAttribute(\"id\") + \" \" + (r.GetAttribute(\"nope\") == null); }}"
        )),
        "True 7 True"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} r.ReadToFollowing(\"item\"); var s = r.ReadElementContentAsString(); return s + \" \" + r.NodeType + \" \" + r.Name + \" \" + r.GetAttribute(\"id\"); }}"
        )),
        "seven Element item 8"
    );
    assert_eq!(
        kind(&format!(
            "{{ {open} r.ReadToFollowing(\"item\"); XElement.Load(r); return 1; }}"
        )),
        "InvalidOperationException"
    );
    assert_eq!(
        text(
            "{ var r = XmlReader.Create(new StringReader(\"<root><h><k>1</k></h></root>\")); r.MoveToContent(); var ok = r.ReadToDescendant(\"k\"); var d = r.Depth; var n = XNode.ReadFrom(r); return ok + \" \" + d + \" \" + n.ToString() + \" \" + r.NodeType + \" \" + r.Name; }"
        ),
        "True 2 <k>1</k> EndElement h"
    );
    assert_eq!(
        kind(
            "{ var r = XmlReader.Create(new StringReader(\"<a><b/></a>\")); r.MoveToContent(); return r.ReadElementContentAsString(); }"
        ),
        "XmlException"
    );
    assert_eq!(
        text(
            "{ var r = XmlReader.Create(new StringReader(\"<a><b/></a>\")); r.MoveToContent(); return XmlNodeType.Element.ToString() + \" \" + (r.NodeType == XmlNodeType.Element); }"
        ),
        "Element True"
    );
    assert_eq!(
        text(
            "{ var r = XmlReader.Create(new StringReader(\"<!--x--><a><b>1</b></a>\\n\")); var e = XElement.Load(r); return e.ToString() + \"|\" + r.NodeType + \"|\" + r.EOF; }"
        ),
        "<a>\n  <b>1</b>\n</a>|None|True"
    );
    assert_eq!(
        text(
            "XDocument.Load(XmlReader.Create(new StringReader(\"<p:a xmlns:p=\\\"urn:x\\\"><p:b/></p:a>\"))).Root.Name"
        ),
        "{urn:x}a"
    );
    assert_eq!(
        kind("XmlReader.Create(new StringReader(\"<a>\")).Read()"),
        "XmlException"
    );
    no_findings(
        "var r = System.Xml.XmlReader.Create(new System.IO.StringReader(context.Request.Body.As<string>())); while (r.Read()) { if (r.NodeType == XmlNodeType.Element && r.Name == \"item\") { return XNode.ReadFrom(r).ToString(); } } return XElement.Load(r).ToString();",
    );
}

// var sr = new StringReader("ab\r\ncd\nef");
// sr.Peek() -> 97; sr.ReadLine() -> ab; sr.Read() -> 99; sr.ReadToEnd() -> "d\nef";
// sr.ReadLine() == null -> True; sr.Read() -> -1
// var w = new StringWriter(); w.Write(1); w.Write("x"); w.Write(true); w.Write("{0}-{1}", 1, "b");
// w.ToString() -> 1xTrue1-b
#[test]
fn string_reader_and_writer() {
    assert_eq!(
        text(
            "{ var sr = new StringReader(\"ab\\r\\ncd\\nef\"); var a = sr.Peek(); var b = sr.ReadLine(); var c = sr.Read(); var d = sr.ReadToEnd(); var e = sr.ReadLine() == null; return a + \"|\" + b + \"|\" + c + \"|\" + d + \"|\" + e + \"|\" + sr.Read(); }"
        ),
        "97|ab|99|d\nef|True|-1"
    );
    assert_eq!(
        text(
            "{ var w = new StringWriter(); w.Write(1); w.Write(\"x\"); w.Write(true); w.Write(\"{0}-{1}\", 1, \"b\"); return w.ToString(); }"
        ),
        "1xTrue1-b"
    );
    // A copy is the same object, as with any .NET reference type.
    assert_eq!(
        text(
            "{ var w = new StringWriter(); var w2 = w; w2.Write(\"shared\"); return w.ToString(); }"
        ),
        "shared"
    );
}
