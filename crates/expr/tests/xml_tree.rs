//! LINQ to XML as a tree of nodes with identity and parent links (crates/expr/src/xml.rs):
//! navigation up and sideways, editing a document through any reference to one of its nodes,
//! document order, the other node types, the sequence extensions. Expected values come from
//! Mono (mcs + mono, whose System.Xml.Linq is .NET's reference source); the C# is the input.
//! The oracle's `// xml tree` section (crates/expr/tests/oracle/expressions.txt) compares many
//! more against the compiler.

mod support;

use gatehouse_expr::{ExprKind, Limits, MapContext, Value, eval_with, parse};
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

// The policy of the issue, in C#:
// var doc = context.Request.Body.As<XDocument>();
// doc.Root.Element("header").Remove();
// doc.Descendants("password").ToList().ForEach(e => e.Value = "***");
// doc.Root.Add(new XElement("stamp", 5));
// var item = doc.Descendants("item").First(); item.AddAfterSelf(new XComment("x"));
// return doc.ToString();
#[test]
fn a_document_is_edited_through_references_to_its_nodes() {
    assert_eq!(
        text(
            r#"{ var doc = XDocument.Parse("<r><header>h</header><body><password>p</password><item>1</item><item>2</item></body></r>"); doc.Root.Element("header").Remove(); doc.Descendants("password").ToList().ForEach(e => e.Value = "***"); doc.Root.Add(new XElement("stamp", 5)); var item = doc.Descendants("item").First(); item.AddAfterSelf(new XComment("x")); return doc.ToString(); }"#
        ),
        "<r>\n  <body>\n    <password>***</password>\n    <item>1</item>\n    <!--x-->\n    <item>2</item>\n  </body>\n  <stamp>5</stamp>\n</r>"
    );
    // The same through the request body, as APIM gives it.
    let mut ctx = MapContext::new();
    ctx.body_text("Request", "<r><secret>s</secret><k>v</k></r>");
    let p = parse(
        r#"var doc = context.Request.Body.As<XDocument>(preserveContent: true); doc.Descendants("secret").Remove(); return doc.ToString(SaveOptions.DisableFormatting);"#,
        ExprKind::Block,
    )
    .expect("parses");
    let v = eval_with(&p, &mut ctx, &Limits::default()).expect("runs");
    assert_eq!(v.to_display(), "<r><k>v</k></r>");
    assert_eq!(
        text(
            r#"{ var doc = XDocument.Parse("<r><password>a</password><x><password>b</password></x></r>"); foreach (var p in doc.Descendants("password")) { p.Value = "***"; } return doc.ToString(SaveOptions.DisableFormatting); }"#
        ),
        "<r><password>***</password><x><password>***</password></x></r>"
    );
}

// XElement.Parse("<a><b><c/></b></a>").Element("b").Element("c").Parent.Parent.Name -> a
// XDocument.Parse("<r/>").Root.Parent -> null; ….Root.Document.NodeType -> Document
// nodes around: b.NextNode is the text "t", c.PreviousNode.ToString() -> "t"
#[test]
fn parents_siblings_and_ancestors() {
    let cases = [
        (
            r#"XElement.Parse("<a><b><c/></b></a>").Element("b").Element("c").Parent.Parent.Name.LocalName"#,
            "a",
        ),
        (r#"XDocument.Parse("<r/>").Root.Parent == null"#, "True"),
        (
            r#"XDocument.Parse("<r><a/></r>").Root.Element("a").Document.NodeType"#,
            "Document",
        ),
        (
            r#"XElement.Parse("<a><b/></a>").Element("b").Document == null"#,
            "True",
        ),
        (
            r#"XElement.Parse("<a><b/>t<c/></a>").Element("b").NextNode.NodeType"#,
            "Text",
        ),
        (
            r#"XElement.Parse("<a><b/>t<c/></a>").Element("c").PreviousNode.ToString()"#,
            "t",
        ),
        (
            r#"XElement.Parse("<a><b/>t<c/></a>").Element("c").NextNode == null"#,
            "True",
        ),
        (
            r#"string.Join(",", XElement.Parse("<a><b/>t<c/><d/><c/></a>").Element("b").ElementsAfterSelf("c").Select(x => x.Name.LocalName))"#,
            "c,c",
        ),
        (
            r#"string.Join(",", XElement.Parse("<r><a><b><c/></b></a></r>").Descendants("c").First().AncestorsAndSelf().Select(x => x.Name.LocalName))"#,
            "c,b,a,r",
        ),
        (
            r#"{ var e = XElement.Parse("<a x='1' y='2' z='3'/>"); e.Attribute("y").Remove(); return e.ToString() + "|" + e.FirstAttribute.NextAttribute.Name + "|" + (e.LastAttribute.PreviousAttribute == e.FirstAttribute); }"#,
            "<a x=\"1\" z=\"3\" />|z|True",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

// A node that has a parent is added as a copy; so is the root of the tree it is added into
// (e.Add(e)); a node without one is moved in, keeping its identity.
#[test]
fn adding_copies_a_parented_node_and_never_makes_a_cycle() {
    assert_eq!(
        text(
            r#"{ var e = new XElement("a", new XElement("b")); e.Element("b").Add(e); return e.ToString(SaveOptions.DisableFormatting); }"#
        ),
        "<a><b><a><b /></a></b></a>"
    );
    assert_eq!(
        text(
            r#"{ var r = new XElement("r"); var c = new XElement("c"); r.Add(c); var s = new XElement("s", c); return (c.Parent == r) + " " + (s.Element("c") == c) + " " + s.Element("c").Parent.Name; }"#
        ),
        "True False s"
    );
    assert_eq!(
        text(
            r#"{ var r = XElement.Parse("<r><a/><b/></r>"); var a = r.Element("a"); a.Remove(); r.Add(a); return r.ToString(SaveOptions.DisableFormatting) + " " + (a.Parent == r) + " " + (r.LastNode == a); }"#
        ),
        "<r><b /><a /></r> True True"
    );
    // Growing a tree by adding it to itself doubles it: the memory budget ends it.
    let p = parse(
        r#"var e = new XElement("a", new string('x', 1000)); while (true) { e.Add(e); } return e;"#,
        ExprKind::Block,
    )
    .expect("parses");
    let err = eval_with(&p, &mut MapContext::new(), &Limits::default()).expect_err("bounded");
    assert!(err.budget.is_some(), "{err:?}");
}

#[test]
fn editing_members_follow_dotnet() {
    let cases = [
        (
            r#"{ var e = XElement.Parse("<a><b/><c/><d/></a>"); e.Element("c").ReplaceWith(new XElement("x", "1"), "t"); return e.ToString(SaveOptions.DisableFormatting); }"#,
            "<a><b /><x>1</x>t<d /></a>",
        ),
        (
            r#"{ var e = new XElement("a", "t", new XElement("b")); e.Element("b").AddBeforeSelf("u", "v"); return e.Nodes().Count() + " " + e.ToString(SaveOptions.DisableFormatting); }"#,
            "2 <a>tuv<b /></a>",
        ),
        (
            r#"{ var e = XElement.Parse("<a k='v'><b/>t</a>"); e.ReplaceAll(new XAttribute("z", 1), e.Nodes()); return e.ToString(SaveOptions.DisableFormatting); }"#,
            "<a z=\"1\"><b />t</a>",
        ),
        (
            r#"{ var d = XDocument.Parse("<r/>"); d.Root.AddBeforeSelf(new XComment("c")); d.Root.AddAfterSelf(new XProcessingInstruction("p", "q")); return d.ToString(); }"#,
            "<!--c-->\n<r />\n<?p q?>",
        ),
        (
            r#"{ var e = XElement.Parse("<a x='1' y='2'><b z='3'/></a>"); e.DescendantsAndSelf().Attributes().Where(a => a.Value != "2").Remove(); return e.ToString(SaveOptions.DisableFormatting); }"#,
            "<a y=\"2\"><b /></a>",
        ),
        (
            r#"{ var e = XElement.Parse("<p:r xmlns:p='u'><a/></p:r>"); e.Element("a").Name = "{u}b"; return e.ToString(); }"#,
            "<p:r xmlns:p=\"u\">\n  <p:b />\n</p:r>",
        ),
        (
            r#"{ XNamespace ns = "urn:s"; var doc = XDocument.Parse("<s:Env xmlns:s='urn:s'><s:Body/></s:Env>"); doc.Root.Element(ns + "Body").Add(new XElement(ns + "Item", "v")); return doc.ToString(); }"#,
            "<s:Env xmlns:s=\"urn:s\">\n  <s:Body>\n    <s:Item>v</s:Item>\n  </s:Body>\n</s:Env>",
        ),
        (
            r#"{ var e = new XElement("a", "x"); var t = (XText)e.FirstNode; t.Value = "y<"; return e.ToString() + " " + t.Parent.Name; }"#,
            "<a>y&lt;</a> a",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
    // What .NET refuses.
    let refused = [
        (
            r#"{ new XElement("a").AddAfterSelf("x"); return 1; }"#,
            "!InvalidOperationException",
        ),
        (
            r#"{ var a = new XAttribute("a", 1); a.Remove(); return a; }"#,
            "!InvalidOperationException",
        ),
        (
            r#"{ var e = new XElement("a"); e.AddFirst(new XAttribute("x", 1)); return e; }"#,
            "!ArgumentException",
        ),
        (
            r#"new XElement("a", new XDocument(new XElement("r")))"#,
            "!ArgumentException",
        ),
        (
            r#"{ var d = new XDocument(new XElement("r")); d.Add(new XElement("s")); return d; }"#,
            "!InvalidOperationException",
        ),
        (
            r#"{ var d = new XDocument(new XElement("r")); d.Add("x"); return d; }"#,
            "!ArgumentException",
        ),
        (
            r#"{ var e = new XElement("a"); e.Value = null; return e; }"#,
            "!ArgumentNullException",
        ),
        (
            r#"XNode.CompareDocumentOrder(new XElement("a"), new XElement("b"))"#,
            "!InvalidOperationException",
        ),
    ];
    for (src, want) in refused {
        assert_eq!(text(src), want, "{src}");
    }
}

#[test]
fn document_order_and_equality() {
    assert_eq!(
        text(
            r#"{ var e = XElement.Parse("<a><b/><c><d/></c></a>"); var b = e.Element("b"); var d = e.Descendants("d").First(); return b.IsBefore(d) + " " + b.IsAfter(d) + " " + XNode.CompareDocumentOrder(d, b) + " " + XNode.CompareDocumentOrder(e, d); }"#
        ),
        "True False 1 -1"
    );
    assert_eq!(
        text(
            r#"{ var r = XElement.Parse("<r><a/><b/><c/></r>"); var list = new List<XElement> { r.Element("c"), r.Element("a"), r.Element("b") }; return string.Join(",", list.InDocumentOrder().Select(x => x.Name.LocalName)); }"#
        ),
        "a,b,c"
    );
    assert_eq!(
        text(
            r#"XNode.DeepEquals(new XElement("a", "x", "y"), new XElement("a", new XText("x"), new XText("y")))"#
        ),
        "True"
    );
    assert_eq!(
        text(
            r#"XNode.DeepEquals(XElement.Parse("<a><!--c--><b/></a>"), XElement.Parse("<a><b/></a>"))"#
        ),
        "False"
    );
    assert_eq!(
        text(
            r#"XNode.EqualityComparer.Equals(XElement.Parse("<a><b/></a>"), new XElement("a", new XElement("b")))"#
        ),
        "True"
    );
    assert_eq!(
        text(
            r#"{ var e = XElement.Parse("<a><b/><c/></a>"); return new XNodeDocumentOrderComparer().Compare(e.Element("c"), e.Element("b")); }"#
        ),
        "1"
    );
    // Reference equality, as `==` on XElement.
    assert_eq!(
        text(
            r#"XElement.Parse("<a><b/></a>").Element("b") == XElement.Parse("<a><b/></a>").Element("b")"#
        ),
        "False"
    );
}

#[test]
fn documents_keep_their_other_nodes() {
    let cases = [
        (
            r#"XDocument.Parse("<?xml version='1.0'?><!--c--><?p d?><r><s/></r><!--e-->").ToString()"#,
            "<!--c-->\n<?p d?>\n<r>\n  <s />\n</r>\n<!--e-->",
        ),
        (
            r#"XDocument.Parse("<?xml version='1.0' encoding='utf-8' standalone='yes'?><r/>").Declaration.Encoding"#,
            "utf-8",
        ),
        (
            r#"XDocument.Parse("<!DOCTYPE r PUBLIC 'p' 'r.dtd'><r/>").ToString()"#,
            "<!DOCTYPE r PUBLIC \"p\" \"r.dtd\"[]>\n<r />",
        ),
        (
            r#"XDocument.Parse("<!DOCTYPE r [<!ELEMENT r ANY>]><r/>").DocumentType.InternalSubset"#,
            "<!ELEMENT r ANY>",
        ),
        (
            r#"new XDocument(new XDocumentType("html", null, null, null), new XElement("html")).ToString()"#,
            "<!DOCTYPE html >\n<html />",
        ),
        (
            r#"{ var p = new XProcessingInstruction("t", "d"); p.Data = "e"; p.Target = "u"; return p.ToString() + " " + p.Target + " " + p.Data; }"#,
            "<?u e?> u e",
        ),
        (
            r#"{ var d = new XDocument(new XComment("c"), new XElement("r")); d.Add("  "); return d.Nodes().Count() + " " + d; }"#,
            "3 <!--c-->\n<r />  ",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

/// A value kept beyond the evaluation (a cache) is a copy that shares no node.
#[test]
fn detached_xml_shares_nothing() {
    let p = parse(r#"XElement.Parse("<a><b/></a>")"#, ExprKind::Single).expect("parses");
    let v = eval_with(&p, &mut MapContext::new(), &Limits::default()).expect("runs");
    let copy = v.detached();
    let (
        Value::Object(gatehouse_expr::Object::XElement(a)),
        Value::Object(gatehouse_expr::Object::XElement(b)),
    ) = (&v, &copy)
    else {
        panic!("{v:?}");
    };
    assert!(!std::sync::Arc::ptr_eq(a, b));
    assert_eq!(copy.to_display(), v.to_display());
    assert!(!std::sync::Arc::ptr_eq(&a.nodes()[0], &b.nodes()[0]));
}

// XElement.Parse("<p:a xmlns:p='u'><p:b x='1'><p:c/><d/></p:b></p:a>").Element("{u}b")
//   -> "<p:b x=\"1\" xmlns:p=\"u\">\n  <p:c />\n  <d />\n</p:b>"
// (its element removed from the document: "<b xmlns=\"u\" />")
// new XElement("a", new XAttribute(v + "x", 1), new XAttribute(u + "y", 2))
//   -> <a p1:x="1" p2:y="2" xmlns:p2="u" xmlns:p1="v" />
#[test]
fn namespaces_print_where_the_node_is_written() {
    let cases = [
        (
            r#"XElement.Parse("<p:a xmlns:p='u'><p:b x='1'><p:c/><d/></p:b></p:a>").Element("{u}b").ToString()"#,
            "<p:b x=\"1\" xmlns:p=\"u\">\n  <p:c />\n  <d />\n</p:b>",
        ),
        (
            r#"{ var d = XElement.Parse("<p:a xmlns:p='u'><p:b/></p:a>"); var b = d.Element("{u}b"); b.Remove(); return b.ToString(); }"#,
            "<b xmlns=\"u\" />",
        ),
        (
            r#"{ XNamespace u = "u"; XNamespace v = "v"; return new XElement("a", new XAttribute(v + "x", 1), new XAttribute(u + "y", 2)).ToString(); }"#,
            "<a p1:x=\"1\" p2:y=\"2\" xmlns:p2=\"u\" xmlns:p1=\"v\" />",
        ),
        (
            r#"{ XNamespace u = "u"; return new XElement(u + "a", new XAttribute("xmlns", "w")).ToString(); }"#,
            "!XmlException",
        ),
        (
            r#"string.Join(",", XElement.Parse("<r xmlns='u' xmlns:p='v' a='1'/>").Attributes().Select(a => a.Name))"#,
            "xmlns,{http://www.w3.org/2000/xmlns/}p,a",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
}

// e.AddAnnotation("s"); e.AddAnnotation(1); e.AddAnnotation("t");
// e.Annotation<string>() + " " + e.Annotations<object>().Count() -> "s 3"
// var r = XElement.Parse("<a><b>t</b></a>").CreateReader(); r.Read();
// r.NodeType + " " + r.Name + " " + r.ReadOuterXml() -> "Element a <a><b>t</b></a>"
#[test]
fn annotations_and_readers() {
    assert_eq!(
        text(
            r#"{ var e = new XElement("a"); e.AddAnnotation("s"); e.AddAnnotation(1); e.AddAnnotation("t"); return e.Annotation<string>() + " " + e.Annotations<object>().Count(); }"#
        ),
        "s 3"
    );
    // An annotation holding its own node: the cycle ends with the evaluation.
    assert_eq!(
        text(
            r#"{ var e = new XElement("a"); e.AddAnnotation(e); e.RemoveAnnotations<string>(); return e.Annotation<XElement>() == e; }"#
        ),
        "True"
    );
    assert_eq!(
        text(
            r#"{ var r = XElement.Parse("<a><b>t</b></a>").CreateReader(); r.Read(); return r.NodeType + " " + r.Name + " " + r.ReadOuterXml(); }"#
        ),
        "Element a <a><b>t</b></a>"
    );
}

/// Within an evaluation a node keeps its ancestors (and its annotations) alive, as in .NET;
/// when it ends, parent links turn weak and annotations go, so no cycle outlives it: the
/// parsed root below, held only by its child's link and its own annotation, is freed.
#[test]
fn trees_are_freed_when_the_evaluation_ends() {
    let p = parse(
        r#"var e = XElement.Parse("<a><b/></a>"); e.AddAnnotation(e); var b = e.Element("b"); return b.Parent == e ? b : null;"#,
        ExprKind::Block,
    )
    .expect("parses");
    let v = eval_with(&p, &mut MapContext::new(), &Limits::default()).expect("runs");
    let Value::Object(gatehouse_expr::Object::XElement(b)) = &v else {
        panic!("{v:?}");
    };
    assert!(b.parent().is_none());
    assert_eq!(std::sync::Arc::strong_count(b), 1);
}

/// `policy check` knows the static members used here.
#[test]
fn policy_check_accepts_the_tree_members() {
    support::no_findings(
        r#"var doc = XDocument.Parse("<r><a/></r>"); var a = doc.Root.Element("a"); a.AddAfterSelf(new XComment("c"), new XDocumentType("x", null, null, null) == null ? null : "t"); var o = XNode.CompareDocumentOrder(a, doc.Root) + XElement.EmptySequence.Count(); var same = XNode.EqualityComparer.Equals(a, a) && XNode.DeepEquals(a, a) && XText.DeepEquals(null, null); return doc.ToString() + o + same + XNode.DocumentOrderComparer.Compare(a, a) + new XDeclaration("1.0", null, null);"#,
    );
}

// XElement.Parse("<a>t<![CDATA[<c>&amp;]]>u&amp;<b/></a>").ToString()
//   -> "<a>t<![CDATA[<c>&amp;]]>u&amp;<b /></a>" (XText, XCData, XText, XElement)
// XElement.Parse("<a>t<![CDATA[c]]><b/></a>").Nodes().OfType<XElement>().Count() -> 1
#[test]
fn parsed_cdata_stays_a_node() {
    assert_eq!(
        text(r#"XElement.Parse("<a>t<![CDATA[<c>&amp;]]>u&amp;<b/></a>").ToString()"#),
        "<a>t<![CDATA[<c>&amp;]]>u&amp;<b /></a>"
    );
    assert_eq!(
        text(r#"XElement.Parse("<a>t<![CDATA[c]]><b/></a>").Nodes().Count()"#),
        "3"
    );
    assert_eq!(
        text(r#"XElement.Parse("<a>t<![CDATA[c]]><b/></a>").Nodes().OfType<XElement>().Count()"#),
        "1"
    );
}

// XElement.Parse("<a> </a>") -> "<a></a>" (IsEmpty False, no nodes);
// XElement.Parse("<a>\n  <b> </b>\n</a>", LoadOptions.PreserveWhitespace).Nodes().Count() -> 3
// XDocument.Parse("<!--c-->\n<a>\n  <b/>\n</a>\n", LoadOptions.PreserveWhitespace).ToString()
//   -> "<!--c-->\n<a>\n  <b />\n</a>\n"
#[test]
fn whitespace_as_the_load_options_say() {
    assert_eq!(
        text(
            r#"XElement.Parse("<a> </a>").ToString() + "|" + XElement.Parse("<a> </a>").IsEmpty + "|" + XElement.Parse("<a> </a>").Nodes().Count()"#
        ),
        "<a></a>|False|0"
    );
    assert_eq!(
        text(
            r#"XElement.Parse("<a>\n  <b> </b>\n</a>", LoadOptions.PreserveWhitespace).Nodes().Count()"#
        ),
        "3"
    );
    assert_eq!(
        text(
            r#"XDocument.Parse("<!--c-->\n<a>\n  <b/>\n</a>\n", LoadOptions.PreserveWhitespace).ToString()"#
        ),
        "<!--c-->\n<a>\n  <b />\n</a>\n"
    );
}

// var found = doc.Descendants("a"); found.Remove(); -> "<r><b /></r>" (the extension, not a
// list's Remove, even on a local)
#[test]
fn removing_a_sequence_held_in_a_local() {
    assert_eq!(
        text(
            r#"{ var doc = XDocument.Parse("<r><a/><b/><a/></r>"); var found = doc.Descendants("a").ToList(); found.Remove(); return doc.ToString(SaveOptions.DisableFormatting) + " " + found.Count; }"#
        ),
        "<r><b /></r> 2"
    );
}

// XElement.Parse("<a x='1' xmlns:p='u' p:y='2'/>") -> <a x="1" xmlns:p="u" p:y="2" />
// a redundant xmlns:p on a child is kept (and dropped by OmitDuplicateNamespaces)
#[test]
fn parsed_declarations_keep_their_place() {
    assert_eq!(
        text(r#"XElement.Parse("<a x='1' xmlns:p='u' p:y='2'/>").ToString()"#),
        "<a x=\"1\" xmlns:p=\"u\" p:y=\"2\" />"
    );
    assert_eq!(
        text(
            r#"XElement.Parse("<p:a xmlns:p='u'><p:b xmlns:p='u'/></p:a>").ToString(SaveOptions.DisableFormatting)"#
        ),
        "<p:a xmlns:p=\"u\"><p:b xmlns:p=\"u\" /></p:a>"
    );
    assert_eq!(
        text(
            r#"XElement.Parse("<p:a xmlns:p='u'><p:b xmlns:p='u'/></p:a>").ToString(SaveOptions.OmitDuplicateNamespaces | SaveOptions.DisableFormatting)"#
        ),
        "<p:a xmlns:p=\"u\"><p:b /></p:a>"
    );
}

/// A returned element is printed by the policy after the evaluation, when its ancestors may
/// be gone: it prints as .NET prints it with them, `<s:Body xmlns:s="urn:s">…`.
#[test]
fn a_returned_element_prints_with_its_ancestors_declarations() {
    let p = parse(
        r#"XDocument.Parse("<s:Env xmlns:s='urn:s'><s:Body q:a='1' xmlns:q='urn:q'><s:X/></s:Body></s:Env>").Root.Elements().First()"#,
        ExprKind::Single,
    )
    .expect("parses");
    let v = eval_with(&p, &mut MapContext::new(), &Limits::default()).expect("runs");
    let want = "<s:Body q:a=\"1\" xmlns:q=\"urn:q\" xmlns:s=\"urn:s\">\n  <s:X />\n</s:Body>";
    assert_eq!(v.to_display(), want);
    // So does the copy a cache keeps.
    assert_eq!(v.detached().to_display(), want);
    let p = parse(
        r#"XElement.Parse("<a xmlns:q='urn:q'><b q:x='1'/></a>").Element("b").Attribute("{urn:q}x")"#,
        ExprKind::Single,
    )
    .expect("parses");
    let v = eval_with(&p, &mut MapContext::new(), &Limits::default()).expect("runs");
    assert_eq!(v.to_display(), "q:x=\"1\"");
}
