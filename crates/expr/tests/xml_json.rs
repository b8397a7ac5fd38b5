//! `System.Xml.XmlReader`, `System.IO.StringReader`/`StringWriter` and LINQ to XML loaded from
//! a reader. Expected values come from Mono (mcs + mono, System.Xml and System.Xml.Linq); the
//! C# that produced them is quoted beside each test.

mod support;

use gatehouse_expr::{MapContext, Value};
use support::{kind_of, no_findings, run_in, text_of};

fn run(src: &str) -> Result<Value, gatehouse_expr::RuntimeError> {
    let mut c = MapContext::new();
    c.body_text(
        "Request",
        "<root><h><k>1</k></h><item id=\"7\">seven</item><item id=\"8\">eight</item></root>",
    );
    run_in(src, &mut c)
}

fn text(src: &str) -> String {
    text_of(src, run(src))
}

fn kind(src: &str) -> &'static str {
    kind_of(src, run(src))
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

// Mono, System.Xml.Linq:
// new XElement("a", new XAttribute("b", 1), "text", new XElement("c", true), 2.5, null, new XElement("d"))
//   -> <a b="1">text<c>true</c>2.5<d /></a>
// new XElement("root", new XElement("x", "1"), new XComment("note"),
//     new XElement("y", new XElement("z", "q")), new XCData("<raw>"))
//   -> "<root>\n  <x>1</x>\n  <!--note-->\n  <y>\n    <z>q</z>\n  </y><![CDATA[<raw>]]></root>"
// the same without the CDATA, ToString(SaveOptions.DisableFormatting)
//   -> <root><x>1</x><!--note--><y><z>q</z></y></root>
// new XElement("n", new[] { new XElement("i", 1), new XElement("i", 2) }) -> "<n>\n  <i>1</i>\n  <i>2</i>\n</n>"
// new XElement("t", "a<b&c>\"'")  -> <t>a&lt;b&amp;c&gt;"'</t>
// new XAttribute("q", "a<\"&'>")  -> q="a&lt;&quot;&amp;'&gt;"
// new XComment("c") + "|" + new XCData("x]]>y") + "|" + new XText("a<b") + "|" + new XProcessingInstruction("pi", "d=1")
//   -> <!--c-->|<![CDATA[x]]]]><![CDATA[>y]]>|a&lt;b|<?pi d=1?>
// new XDocument(new XDeclaration("1.0", "utf-8", "yes"), new XElement("r", "v")) -> <r>v</r>
// XNode.DeepEquals(XElement.Parse("<a x='1'><b/></a>"), new XElement("a", new XAttribute("x", "1"), new XElement("b"))) -> True
// new XElement("e", false) + " " + new XElement("e", "") -> <e>false</e> <e></e>
// XElement.Parse("<a><!--c--><b>t</b><?p d?></a>") -> "<a>\n  <!--c-->\n  <b>t</b>\n  <?p d?>\n</a>"
// XElement.Parse("<a>x<!--c--></a>").Value -> x
// new XElement("a", new XElement("b", new XText("t"), new XElement("c"))) -> "<a>\n  <b>t<c /></b>\n</a>"
#[test]
fn linq_to_xml_construction_prints_like_dotnet() {
    let cases = [
        (
            "new XElement(\"a\", new XAttribute(\"b\", 1), \"text\", new XElement(\"c\", true), 2.5, null, new XElement(\"d\")).ToString()",
            "<a b=\"1\">text<c>true</c>2.5<d /></a>",
        ),
        (
            "new XElement(\"root\", new XElement(\"x\", \"1\"), new XComment(\"note\"), new XElement(\"y\", new XElement(\"z\", \"q\")), new XCData(\"<raw>\")).ToString()",
            "<root>\n  <x>1</x>\n  <!--note-->\n  <y>\n    <z>q</z>\n  </y><![CDATA[<raw>]]></root>",
        ),
        (
            "new XElement(\"root\", new XElement(\"x\", \"1\"), new XComment(\"note\"), new XElement(\"y\", new XElement(\"z\", \"q\"))).ToString(SaveOptions.DisableFormatting)",
            "<root><x>1</x><!--note--><y><z>q</z></y></root>",
        ),
        (
            "new XElement(\"n\", new[] { new XElement(\"i\", 1), new XElement(\"i\", 2) }).ToString()",
            "<n>\n  <i>1</i>\n  <i>2</i>\n</n>",
        ),
        (
            "new XElement(\"t\", \"a<b&c>\\\"'\").ToString()",
            "<t>a&lt;b&amp;c&gt;\"'</t>",
        ),
        (
            "new XAttribute(\"q\", \"a<\\\"&'>\").ToString()",
            "q=\"a&lt;&quot;&amp;'&gt;\"",
        ),
        (
            "new XComment(\"c\") + \"|\" + new XCData(\"x]]>y\") + \"|\" + new XText(\"a<b\") + \"|\" + new XProcessingInstruction(\"pi\", \"d=1\")",
            "<!--c-->|<![CDATA[x]]]]><![CDATA[>y]]>|a&lt;b|<?pi d=1?>",
        ),
        (
            "new XDocument(new XDeclaration(\"1.0\", \"utf-8\", \"yes\"), new XElement(\"r\", \"v\")).ToString()",
            "<r>v</r>",
        ),
        (
            "XNode.DeepEquals(XElement.Parse(\"<a x='1'><b/></a>\"), new XElement(\"a\", new XAttribute(\"x\", \"1\"), new XElement(\"b\")))",
            "True",
        ),
        (
            "new XElement(\"e\", false) + \" \" + new XElement(\"e\", \"\")",
            "<e>false</e> <e></e>",
        ),
        (
            "XElement.Parse(\"<a><!--c--><b>t</b><?p d?></a>\").ToString()",
            "<a>\n  <!--c-->\n  <b>t</b>\n  <?p d?>\n</a>",
        ),
        ("XElement.Parse(\"<a>x<!--c--></a>\").Value", "x"),
        (
            "new XElement(\"a\", new XElement(\"b\", new XText(\"t\"), new XElement(\"c\"))).ToString()",
            "<a>\n  <b>t<c /></b>\n</a>",
        ),
        (
            "XElement.Parse(\"<a><!--c--><b/></a>\").FirstNode.NodeType",
            "Comment",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(text(src), want, "{src}");
    }
    assert_eq!(
        kind("new XElement(\"a\", new XAttribute(\"b\", 1), new XAttribute(\"b\", 2))"),
        "InvalidOperationException"
    );
}

// XNamespace ns = "urn:s";
// new XElement(ns + "Envelope", new XAttribute(XNamespace.Xmlns + "s", ns),
//     new XElement(ns + "Body", new XElement("plain", "v")))
//   -> "<s:Envelope xmlns:s=\"urn:s\">\n  <s:Body>\n    <plain>v</plain>\n  </s:Body>\n</s:Envelope>"
// new XElement(ns + "a", new XElement(ns + "b"), new XElement("c"))
//   -> "<a xmlns=\"urn:s\">\n  <b />\n  <c xmlns=\"\" />\n</a>"
// ns.NamespaceName + " " + (ns + "x") + " " + (ns + "x").LocalName + " " + ns -> urn:s {urn:s}x x urn:s
#[test]
fn xnamespace_names_and_declarations() {
    assert_eq!(
        text(
            "{ XNamespace ns = \"urn:s\"; return new XElement(ns + \"Envelope\", new XAttribute(XNamespace.Xmlns + \"s\", ns), new XElement(ns + \"Body\", new XElement(\"plain\", \"v\"))).ToString(); }"
        ),
        "<s:Envelope xmlns:s=\"urn:s\">\n  <s:Body>\n    <plain>v</plain>\n  </s:Body>\n</s:Envelope>"
    );
    assert_eq!(
        text(
            "{ XNamespace ns = \"urn:s\"; return new XElement(ns + \"a\", new XElement(ns + \"b\"), new XElement(\"c\")).ToString(); }"
        ),
        "<a xmlns=\"urn:s\">\n  <b />\n  <c xmlns=\"\" />\n</a>"
    );
    assert_eq!(
        text(
            "{ XNamespace ns = \"urn:s\"; return ns.NamespaceName + \" \" + (ns + \"x\") + \" \" + (ns + \"x\").LocalName + \" \" + ns; }"
        ),
        "urn:s {urn:s}x x urn:s"
    );
    // Finding elements by namespace-qualified name in a parsed document.
    assert_eq!(
        text(
            "{ XNamespace s = \"urn:s\"; var d = XDocument.Parse(\"<e:Env xmlns:e='urn:s'><e:Body><v>1</v></e:Body></e:Env>\"); return d.Root.Element(s + \"Body\").Element(\"v\").Value + d.Root.Name.Namespace; }"
        ),
        "1urn:s"
    );
    no_findings(
        "XNamespace ns = XNamespace.Get(\"urn:x\"); var e = new XElement(ns + \"a\", new XAttribute(XNamespace.Xmlns + \"p\", ns)); return XNode.DeepEquals(e, e) ? e.ToString(SaveOptions.DisableFormatting) : XName.Get(\"a\", \"urn:x\").ToString();",
    );
}

// context.Request.Body.As<XNode>() gives the root element (an XElement in APIM).
#[test]
fn body_as_xnode() {
    assert_eq!(
        text("context.Request.Body.As<XNode>(preserveContent: true).NodeType.ToString()"),
        "Element"
    );
    assert_eq!(
        text("((XElement)context.Request.Body.As<XNode>()).Elements(\"item\").Count()"),
        "2"
    );
}

// Newtonsoft.Json under Mono:
// var o = JObject.Parse(@"{'a':{'b':[{'id':1,'n':'x'},{'id':2,'n':'y'}]},'n':'top'}");
// o.SelectToken("$.a.b[1].n")                          -> y
// string.Join(" ", o.SelectTokens("$..n"))             -> x y top
// o.SelectToken("$.a.b[?(@.id == 2)].n")               -> y
// string.Join(" ", o.SelectTokens("a.b[*].id"))        -> 1 2
// o.SelectToken("$.a.b[*].id")                         -> JsonException: Path returned multiple tokens.
// o.SelectToken("$.missing") == null                   -> True
// o.SelectToken("a['b'][0]['n']")                      -> x
// string.Join(" ", o.SelectTokens("$.a.b[?(@.id > 0 && @.n != 'x')].id")) -> 2
// string.Join(",", ((JArray)o["a"]["b"]).Children().Select(c => (string)c["n"])) -> x,y
// o.Children().Count()                                 -> 2
// new JArray(1,2,3).Values<int>().Sum()                -> 6
#[test]
fn json_select_tokens_and_children() {
    // Double quotes: serde_json, under JObject.Parse, does not take Newtonsoft's single quotes.
    let o = r#"JObject.Parse("{\"a\":{\"b\":[{\"id\":1,\"n\":\"x\"},{\"id\":2,\"n\":\"y\"}]},\"n\":\"top\"}")"#;
    let cases = [
        (format!("{o}.SelectToken(\"$.a.b[1].n\").ToString()"), "y"),
        (
            format!("string.Join(\" \", {o}.SelectTokens(\"$..n\"))"),
            "x y top",
        ),
        (
            format!("{o}.SelectToken(\"$.a.b[?(@.id == 2)].n\").ToString()"),
            "y",
        ),
        (
            format!("string.Join(\" \", {o}.SelectTokens(\"a.b[*].id\"))"),
            "1 2",
        ),
        (format!("{o}.SelectToken(\"$.missing\") == null"), "True"),
        (
            format!("{o}.SelectToken(\"a['b'][0]['n']\").ToString()"),
            "x",
        ),
        (
            format!(
                "string.Join(\" \", {o}.SelectTokens(\"$.a.b[?(@.id > 0 && @.n != 'x')].id\"))"
            ),
            "2",
        ),
        (
            format!(
                "string.Join(\",\", ((JArray){o}[\"a\"][\"b\"]).Children().Select(c => (string)c[\"n\"]))"
            ),
            "x,y",
        ),
        (format!("{o}.Children().Count()"), "2"),
        ("new JArray(1, 2, 3).Values<int>().Sum()".to_string(), "6"),
        (format!("{o}.SelectToken(\"$.a.b[-1].id\").ToString()"), "2"),
    ];
    for (src, want) in &cases {
        assert_eq!(text(src), *want, "{src}");
    }
    assert_eq!(
        kind(&format!("{o}.SelectToken(\"$.a.b[*].id\")")),
        "JsonException"
    );
}

// JObject.Parse("{'a': 'it\\'s \"q\"', b: 1, /* c */ 'c': [true, null] // end\n}")
//     .ToString(Formatting.None)  -> {"a":"it's \"q\"","b":1,"c":[true,null]}   (Newtonsoft, Mono)
#[test]
fn json_parse_takes_newtonsoft_syntax() {
    assert_eq!(
        text(
            r#"JObject.Parse("{'a': 'it\\'s \"q\"', b: 1, /* c */ 'c': [true, null] // end\n}").ToString(Formatting.None)"#
        ),
        r#"{"a":"it's \"q\"","b":1,"c":[true,null]}"#
    );
    // `undefined` is Newtonsoft's too (JsonToken.Undefined); an unknown word is not.
    assert_eq!(
        text("JObject.Parse(\"{a: undefined}\").ToString(Formatting.None)"),
        "{\"a\":undefined}"
    );
    assert_eq!(
        kind("JObject.Parse(\"{a: undefinedx}\")"),
        "JsonReaderException"
    );
}

// Newtonsoft keeps properties in document (then insertion) order (Mono):
// var o = JObject.Parse("{\"b\":1,\"a\":{\"z\":true,\"y\":[1,2]},\"c\":\"x\"}");
// o.Remove("b"); o["d"] = 4; o.Add("e", new JArray());
// o.ToString(Formatting.None) -> {"a":{"z":true,"y":[1,2]},"c":"x","d":4,"e":[]}
// o.ToString() -> indented by two spaces, arrays one item a line, "e": []
#[test]
fn jobject_keeps_property_order() {
    let src = r#"{ var o = JObject.Parse("{\"b\":1,\"a\":{\"z\":true,\"y\":[1,2]},\"c\":\"x\"}"); o.Remove("b"); o["d"] = 4; o.Add("e", new JArray()); return o.ToString(Formatting.None) + "|" + o.ToString(); }"#;
    assert_eq!(
        text(src),
        "{\"a\":{\"z\":true,\"y\":[1,2]},\"c\":\"x\",\"d\":4,\"e\":[]}|{\n  \"a\": {\n    \"z\": true,\n    \"y\": [\n      1,\n      2\n    ]\n  },\n  \"c\": \"x\",\n  \"d\": 4,\n  \"e\": []\n}"
    );
}

// var r = XmlReader.Create(new StringReader("<root><a x='1'><b>t&amp;</b><c/></a><d>z</d></root>"));
// r.ReadToFollowing("a");
// r.ReadOuterXml() + "|" + r.NodeType + "|" + r.Name  -> <a x="1"><b>t&amp;</b><c /></a>|Element|d
// r.ReadInnerXml() + "|" + r.NodeType + "|" + r.Name  -> z|EndElement|root
// new int[3].Rank                                      -> 1
#[test]
fn xml_reader_inner_and_outer_xml() {
    assert_eq!(
        text(
            "{ var r = XmlReader.Create(new StringReader(\"<root><a x='1'><b>t&amp;</b><c/></a><d>z</d></root>\")); r.ReadToFollowing(\"a\"); var o = r.ReadOuterXml() + \"|\" + r.NodeType + \"|\" + r.Name; var i = r.ReadInnerXml() + \"|\" + r.NodeType + \"|\" + r.Name; return o + \"\\n\" + i; }"
        ),
        "<a x=\"1\"><b>t&amp;</b><c /></a>|Element|d\nz|EndElement|root"
    );
    assert_eq!(text("new int[3].Rank"), "1");
}

// var root = new XElement("r");
// foreach (var i in new[] {1, 2}) root.Add(new XElement("i", i));
// root.Add("t"); root.AddFirst(new XComment("c"));
// root.SetAttributeValue("a", 5); root.SetAttributeValue("b", "x"); root.SetAttributeValue("b", null);
// root.SetElementValue("i", "one"); root.SetElementValue("k", 7);
// root.ToString(SaveOptions.DisableFormatting) -> <r a="5"><!--c--><i>one</i><i>2</i>t<k>7</k></r>
// var e = new XElement("e", new XAttribute("z", 1), new XElement("x")); e.SetValue(3); -> <e z="1">3</e>
// e.RemoveAll(); -> <e />
// var f = new XElement("f", new XAttribute("z", 1), "q"); f.RemoveNodes(); -> <f z="1" />
// f.ReplaceNodes(new XElement("n")); -> "<f z=\"1\">\n  <n />\n</f>"
// f.RemoveAttributes(); -> "<f>\n  <n />\n</f>"
#[test]
fn xelement_in_a_local_changes_like_dotnet() {
    assert_eq!(
        text(
            "{ var root = new XElement(\"r\"); foreach (var i in new[] { 1, 2 }) { root.Add(new XElement(\"i\", i)); } root.Add(\"t\"); root.AddFirst(new XComment(\"c\")); root.SetAttributeValue(\"a\", 5); root.SetAttributeValue(\"b\", \"x\"); root.SetAttributeValue(\"b\", null); root.SetElementValue(\"i\", \"one\"); root.SetElementValue(\"k\", 7); return root.ToString(SaveOptions.DisableFormatting); }"
        ),
        "<r a=\"5\"><!--c--><i>one</i><i>2</i>t<k>7</k></r>"
    );
    assert_eq!(
        text(
            "{ var e = new XElement(\"e\", new XAttribute(\"z\", 1), new XElement(\"x\")); e.SetValue(3); var a = e.ToString(); e.RemoveAll(); return a + \"|\" + e; }"
        ),
        "<e z=\"1\">3</e>|<e />"
    );
    assert_eq!(
        text(
            "{ var f = new XElement(\"f\", new XAttribute(\"z\", 1), \"q\"); f.RemoveNodes(); var a = f.ToString(); f.ReplaceNodes(new XElement(\"n\")); var b = f.ToString(); f.RemoveAttributes(); return a + \"|\" + b + \"|\" + f; }"
        ),
        "<f z=\"1\" />|<f z=\"1\">\n  <n />\n</f>|<f>\n  <n />\n</f>"
    );
}

// JContainer.Merge with the default JsonMergeSettings (Newtonsoft's documentation: arrays
// Concat, nulls Ignore; objects merge recursively). Newtonsoft.Json 5 under Mono predates
// Merge, so this one is not checked against a runtime.
#[test]
fn jobject_merge_is_deep() {
    assert_eq!(
        text(
            r#"{ var a = JObject.Parse("{\"x\":{\"p\":1,\"q\":[1]},\"y\":2,\"z\":3}"); a.Merge(JObject.Parse("{\"x\":{\"q\":[2],\"r\":true},\"y\":null,\"z\":4,\"w\":5}")); return a.ToString(Formatting.None); }"#
        ),
        r#"{"x":{"p":1,"q":[1,2],"r":true},"y":2,"z":4,"w":5}"#
    );
}

/// C# (Mono):
/// ```csharp
/// var e = XElement.Parse("<a><b/><c/><b/></a>"); e.Element("b").Remove();
/// e.ToString(SaveOptions.DisableFormatting)   // <a><c /><b /></a>
/// e.Elements("b").Remove(); ...               // <a><c /></a>
/// var x = XElement.Parse("<a>1<b/></a>"); x.Value = "2"; x.ToString()  // <a>2</a>
/// x.Value = null                               // ArgumentNullException
/// XElement.Parse("<a/>").Element("z").Remove() // NullReferenceException
/// ```
#[test]
fn xelement_in_a_local_loses_children_and_takes_a_value() {
    assert_eq!(
        text(
            r#"{ var e = XElement.Parse("<a><b/><c/><b/></a>"); e.Element("b").Remove(); return e.ToString(SaveOptions.DisableFormatting); }"#
        ),
        "<a><c /><b /></a>"
    );
    assert_eq!(
        text(
            r#"{ var e = XElement.Parse("<a><b/><c/><b/></a>"); e.Elements("b").Remove(); return e.ToString(SaveOptions.DisableFormatting); }"#
        ),
        "<a><c /></a>"
    );
    assert_eq!(
        text(r#"{ var e = XElement.Parse("<a>1<b/></a>"); e.Value = "2"; return e.ToString(); }"#),
        "<a>2</a>"
    );
    assert_eq!(
        kind(r#"{ var e = XElement.Parse("<a>1</a>"); e.Value = null; return e.Value; }"#),
        "ArgumentNullException"
    );
    assert_eq!(
        kind(r#"{ var e = XElement.Parse("<a/>"); e.Element("z").Remove(); return e; }"#),
        "NullReferenceException"
    );
}

// Mono's XmlReader (mcs/mono), on "<a xmlns='urn:d' xmlns:p='urn:p' x='1' p:y='2'><b>t</b></a>":
// MoveToFirstAttribute -> Attribute xmlns (namespace http://www.w3.org/2000/xmlns/, depth 1);
// ReadAttributeValue -> Text, depth 2; r["y", "urn:p"] -> 2; r[9] -> ArgumentOutOfRangeException;
// LookupNamespace("p") -> urn:p, ("") -> urn:d, ("q") -> null.
#[test]
fn xml_reader_attributes_and_namespaces() {
    let open = "var r = XmlReader.Create(new StringReader(\"<a xmlns='urn:d' xmlns:p='urn:p' x='1' p:y='2'><b xml:lang='en'>t</b></a>\")); r.Read();";
    assert_eq!(
        text(&format!(
            "{{ {open} r.MoveToFirstAttribute(); var s = r.NodeType + \" \" + r.Name + \" \" + r.NamespaceURI + \" \" + r.Depth; r.ReadAttributeValue(); return s + \"|\" + r.NodeType + \" \" + r.Value + \" \" + r.Depth; }}"
        )),
        "Attribute xmlns http://www.w3.org/2000/xmlns/ 1|Text urn:d 2"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} var s = \"\"; while (r.MoveToNextAttribute()) s += r.LocalName + \";\"; return s + r.MoveToElement() + r[\"y\", \"urn:p\"] + r[2]; }}"
        )),
        "xmlns;p;x;y;True21"
    );
    assert_eq!(
        kind(&format!("{{ {open} return r[9]; }}")),
        "ArgumentOutOfRangeException"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} return r.LookupNamespace(\"p\") + \"|\" + r.LookupNamespace(\"\") + \"|\" + (r.LookupNamespace(\"q\") == null); }}"
        )),
        "urn:p|urn:d|True"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} r.Read(); return r.XmlLang + r.XmlSpace; }}"
        )),
        "enNone"
    );
}

// Mono: ReadElementContentAsInt on "<i> 12 </i>" -> 12; on "<f>x</f>" -> XmlException
// ("Content cannot be converted to the type Int. Line 1, position 33.") with the reader on
// the end tag; on "<e/>" -> FormatException; on "<l>-9000000000</l>" -> OverflowException.
#[test]
fn xml_reader_typed_content() {
    let open = "var r = XmlReader.Create(new StringReader(\"<a><i> 12 </i><d>1.5e3</d><f>x</f><e/><l>-9000000000</l><m>1<!--c-->2</m></a>\"));";
    assert_eq!(
        text(&format!(
            "{{ {open} r.ReadToFollowing(\"i\"); return r.ReadElementContentAsInt() + \"|\" + r.Name + \"|\" + r.ReadElementContentAsDouble(); }}"
        )),
        "12|d|1500"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} r.ReadToFollowing(\"f\"); try {{ r.ReadElementContentAsInt(); }} catch (Exception e) {{ return e.Message + \"|\" + r.NodeType; }} return \"\"; }}"
        )),
        "Content cannot be converted to the type Int. Line 1, position 33.|EndElement"
    );
    assert_eq!(
        kind(&format!(
            "{{ {open} r.ReadToFollowing(\"e\"); return r.ReadElementContentAsInt(); }}"
        )),
        "FormatException"
    );
    assert_eq!(
        kind(&format!(
            "{{ {open} r.ReadToFollowing(\"l\"); return r.ReadElementContentAsInt(); }}"
        )),
        "OverflowException"
    );
    // ReadString stops at a comment (Mono: "1", on the Comment), so ReadElementString fails.
    assert_eq!(
        kind(&format!(
            "{{ {open} r.ReadToFollowing(\"m\"); return r.ReadElementString(); }}"
        )),
        "XmlException"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} r.ReadToFollowing(\"m\"); return r.ReadString() + r.NodeType; }}"
        )),
        "1Comment"
    );
    assert_eq!(
        text(&format!(
            "{{ {open} r.ReadStartElement(\"a\"); r.ReadStartElement(); var s = r.ReadString(); r.ReadEndElement(); return s + r.Name; }}"
        )),
        " 12 d"
    );
}

// Mono: XmlReaderSettings { IgnoreWhitespace = true } drops the whitespace between elements
// but keeps the SignificantWhitespace under xml:space="preserve"; IgnoreComments and
// IgnoreProcessingInstructions drop those nodes; a DTD is refused by default.
#[test]
fn xml_reader_settings() {
    let doc = "<?xml version='1.0'?><!--c--><a>\\n <b xml:space='preserve'> <c/> </b><?p x?>\\n<!--d--></a>";
    let walk = |settings: &str| {
        text(&format!(
            "{{ var r = XmlReader.Create(new StringReader(\"{doc}\"){settings}); var s = \"\"; while (r.Read()) s += r.NodeType + \":\" + r.Name + \";\"; return s; }}"
        ))
    };
    assert_eq!(
        walk(", new XmlReaderSettings { IgnoreWhitespace = true }"),
        "XmlDeclaration:xml;Comment:;Element:a;Element:b;SignificantWhitespace:;Element:c;SignificantWhitespace:;EndElement:b;ProcessingInstruction:p;Comment:;EndElement:a;"
    );
    assert_eq!(
        walk(
            ", new XmlReaderSettings { IgnoreWhitespace = true, IgnoreComments = true, IgnoreProcessingInstructions = true }"
        ),
        "XmlDeclaration:xml;Element:a;Element:b;SignificantWhitespace:;Element:c;SignificantWhitespace:;EndElement:b;EndElement:a;"
    );
    assert_eq!(
        text(
            "{ var s = new XmlReaderSettings(); s.DtdProcessing = DtdProcessing.Ignore; return s.DtdProcessing + \"|\" + s.IgnoreComments; }"
        ),
        "Ignore|False"
    );
    assert_eq!(
        kind(
            "{ var r = XmlReader.Create(new StringReader(\"<!DOCTYPE a><a/>\"), new XmlReaderSettings()); return r.Read(); }"
        ),
        "XmlException"
    );
    no_findings(
        "var r = XmlReader.Create(new StringReader(\"<a/>\"), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true }); return r.Read();",
    );
}

// Mono: ReadSubtree on <a x='1'><b>x</b></a> reads a(0) b(1) text(2) /b(1) /a(0), then
// EndOfFile; once it is closed the original reader is on </a>.
#[test]
fn xml_reader_subtree() {
    assert_eq!(
        text(
            "{ var r = XmlReader.Create(new StringReader(\"<r><a x='1'><b>x</b></a><c/></r>\")); r.Read(); r.Read(); var sub = r.ReadSubtree(); var s = \"\"; while (sub.Read()) s += sub.NodeType + \":\" + sub.Name + \":\" + sub.Depth + \";\"; sub.Close(); return s + sub.ReadState + \"|\" + r.NodeType + \"|\" + r.Name; }"
        ),
        "Element:a:0;Element:b:1;Text::2;EndElement:b:1;EndElement:a:0;Closed|EndElement|a"
    );
    assert_eq!(
        kind("{ var r = XmlReader.Create(new StringReader(\"<r/>\")); return r.ReadSubtree(); }"),
        "InvalidOperationException"
    );
}
