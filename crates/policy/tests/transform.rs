//! The json-to-xml and xml-to-json body conversions through their public API. Expected
//! outputs come from the APIM documentation and observed APIM output where those exist.

use gatehouse_policy::transform::{
    Apply, JsonToXml, MAX_DEPTH, TransformError, XmlToJson, XmlToJsonKind, json_to_xml, xml_to_json,
};
use serde_json::{Value, json};

fn j2x_opts() -> JsonToXml {
    JsonToXml {
        apply: Apply::Always,
        consider_accept_header: false,
        parse_date: true,
        namespace_separator: Some('_'),
        namespace_prefix: None,
        attribute_block_name: None,
    }
}

fn j2x(json: &str) -> String {
    j2x_with(json, &j2x_opts())
}

fn j2x_with(json: &str, opts: &JsonToXml) -> String {
    match json_to_xml(json, opts) {
        Ok(x) => x,
        Err(e) => panic!("{json}: {e}"),
    }
}

fn x2j_opts(kind: XmlToJsonKind) -> XmlToJson {
    XmlToJson {
        kind,
        apply: Apply::Always,
        consider_accept_header: false,
        always_array_child_elements: false,
    }
}

fn x2j_with(xml: &str, opts: &XmlToJson) -> String {
    match xml_to_json(xml, opts) {
        Ok(x) => x,
        Err(e) => panic!("{xml}: {e}"),
    }
}

/// Direct conversion, parsed (object comparison ignores property order).
fn direct(xml: &str) -> Value {
    parse(&x2j_with(xml, &x2j_opts(XmlToJsonKind::Direct)))
}

fn friendly(xml: &str) -> Value {
    parse(&x2j_with(xml, &x2j_opts(XmlToJsonKind::JavascriptFriendly)))
}

fn parse(s: &str) -> Value {
    match serde_json::from_str(s) {
        Ok(v) => v,
        Err(e) => panic!("output is not JSON ({e}): {s}"),
    }
}

// ---------------------------------------------------------------- json-to-xml

#[test]
fn documented_soap_example() {
    // The json-to-xml policy reference example (separator ':', prefix 'xmlns', '#attrs').
    let opts = JsonToXml {
        parse_date: false,
        namespace_separator: Some(':'),
        namespace_prefix: Some("xmlns".into()),
        attribute_block_name: Some("#attrs".into()),
        ..j2x_opts()
    };
    let json = r##"{
      "soapenv:Envelope": {
        "xmlns:soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
        "xmlns:v1": "http://localdomain.com/core/v1",
        "soapenv:Header": {},
        "soapenv:Body": {
          "v1:QueryList": {
            "#attrs": { "queryName": "test" },
            "v1:QueryItem": { "name": "dummy text" }
          }
        }
      }
    }"##;
    // The documentation's output omits the <v1:QueryItem> wrapper, which contradicts the
    // other rules it shows; the wrapper is kept here.
    let expected = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v1="http://localdomain.com/core/v1">
  <soapenv:Header />
  <soapenv:Body>
    <v1:QueryList queryName="test">
      <v1:QueryItem>
        <name>dummy text</name>
      </v1:QueryItem>
    </v1:QueryList>
  </soapenv:Body>
</soapenv:Envelope>"#;
    assert_eq!(j2x_with(json, &opts), expected);
}

#[test]
fn observed_document_root_example() {
    // APIM's output for a multi-property object: <Document> root, arrays repeat the
    // element, booleans as .NET spells them, [] an empty element, null xsi:nil.
    let json = r#"{
      "firstName": "John", "lastName": "Smith", "isAlive": true, "age": 25,
      "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": "10021-3100"},
      "phoneNumbers": [
        {"type": "home", "number": "212 555-1234"},
        {"type": "mobile", "number": "123 456-7890"}
      ],
      "children": [],
      "spouse": null
    }"#;
    let expected = r#"<Document>
  <firstName>John</firstName>
  <lastName>Smith</lastName>
  <isAlive>True</isAlive>
  <age>25</age>
  <address>
    <streetAddress>21 2nd Street</streetAddress>
    <city>New York</city>
    <state>NY</state>
    <postalCode>10021-3100</postalCode>
  </address>
  <phoneNumbers>
    <type>home</type>
    <number>212 555-1234</number>
  </phoneNumbers>
  <phoneNumbers>
    <type>mobile</type>
    <number>123 456-7890</number>
  </phoneNumbers>
  <children />
  <spouse xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />
</Document>"#;
    assert_eq!(j2x(json), expected);
}

#[test]
fn single_property_is_the_root() {
    assert_eq!(
        j2x(r#"{"order":{"id":1,"lines":[{"sku":"a"},{"sku":"b"}]}}"#),
        "<order>\n  <id>1</id>\n  <lines>\n    <sku>a</sku>\n  </lines>\n  <lines>\n    <sku>b</sku>\n  </lines>\n</order>"
    );
    assert_eq!(j2x(r#"{"a":"x"}"#), "<a>x</a>");
    // An array cannot be a single root: wrapped.
    assert_eq!(
        j2x(r#"{"a":[1,2]}"#),
        "<Document>\n  <a>1</a>\n  <a>2</a>\n</Document>"
    );
}

#[test]
fn scalar_and_array_roots() {
    assert_eq!(j2x(r#""hi""#), "<Document>hi</Document>");
    assert_eq!(j2x("42"), "<Document>42</Document>");
    assert_eq!(j2x("false"), "<Document>False</Document>");
    assert_eq!(
        j2x("null"),
        r#"<Document xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />"#
    );
    assert_eq!(j2x("{}"), "<Document />");
    assert_eq!(j2x("[]"), "<Document />");
    assert_eq!(
        j2x(r#"[1,{"a":2}]"#),
        "<Document>\n  <Item>1</Item>\n  <Item>\n    <a>2</a>\n  </Item>\n</Document>"
    );
}

#[test]
fn nested_arrays_and_empty_values() {
    assert_eq!(
        j2x(r#"{"m":{"a":[[1,2],3],"e":"","o":{}}}"#),
        "<m>\n  <a>\n    <a>1</a>\n    <a>2</a>\n  </a>\n  <a>3</a>\n  <e></e>\n  <o />\n</m>"
    );
}

#[test]
fn numbers_as_dotnet_writes_them() {
    assert_eq!(
        j2x(
            r#"{"n":{"i":-7,"f":1.5,"w":2.0,"big":1e20,"small":0.000001,"u":18446744073709551615}}"#
        ),
        "<n>\n  <i>-7</i>\n  <f>1.5</f>\n  <w>2</w>\n  <big>1E+20</big>\n  <small>1E-06</small>\n  <u>18446744073709551615</u>\n</n>"
    );
}

#[test]
fn property_names_are_encoded() {
    assert_eq!(
        j2x(r#"{"r":{"first name":1,"1st":2,"a@b":3,"$":4,"_x0041_":5,"ok-name.x":6}}"#),
        "<r>\n  <first_x0020_name>1</first_x0020_name>\n  <_x0031_st>2</_x0031_st>\n  <a_x0040_b>3</a_x0040_b>\n  <_x0024_>4</_x0024_>\n  <_x005F_x0041_>5</_x005F_x0041_>\n  <ok-name.x>6</ok-name.x>\n</r>"
    );
    // An undeclared prefix stays in the local name so the output is namespace well-formed.
    assert_eq!(
        j2x(r#"{"soap:Body":1}"#),
        "<soap_x003A_Body>1</soap_x003A_Body>"
    );
    // The default separator only splits declared prefixes: snake_case is untouched.
    assert_eq!(j2x(r#"{"first_name":"x"}"#), "<first_name>x</first_name>");
}

#[test]
fn empty_property_name_is_an_error() {
    let e = json_to_xml(r#"{"a":{"":1}}"#, &j2x_opts()).unwrap_err();
    assert!(matches!(e, TransformError::Name { .. }), "{e}");
}

#[test]
fn text_is_escaped() {
    assert_eq!(
        j2x(r#"{"t":"a < b && c > \"d\" 'e'\r\nf"}"#),
        "<t>a &lt; b &amp;&amp; c &gt; \"d\" 'e'&#xD;\nf</t>"
    );
    let opts = JsonToXml {
        attribute_block_name: Some("$attrs".into()),
        ..j2x_opts()
    };
    assert_eq!(
        j2x_with(r#"{"t":{"$attrs":{"v":"<\"&\"\t\n>"},"x":1}}"#, &opts),
        "<t v=\"&lt;&quot;&amp;&quot;&#x9;&#xA;&gt;\">\n  <x>1</x>\n</t>"
    );
}

#[test]
fn unicode_passes_through() {
    assert_eq!(
        j2x(r#"{"città":"naïve 😀 \u00e9 日本"}"#),
        "<città>naïve 😀 é 日本</città>"
    );
    // Outside the BMP, names escape as .NET's surrogate-pair encoding does.
    assert_eq!(j2x(r#"{"a😀":1}"#), "<a_x0001F600_>1</a_x0001F600_>");
}

#[test]
fn characters_xml_cannot_carry_are_refused() {
    let e = json_to_xml(r#"{"a":"x\u0001y"}"#, &j2x_opts()).unwrap_err();
    assert_eq!(e, TransformError::Char { code: 1 });
    assert!(e.to_string().contains("U+0001"), "{e}");
}

#[test]
fn attribute_block() {
    let opts = JsonToXml {
        attribute_block_name: Some("@attrs".into()),
        ..j2x_opts()
    };
    assert_eq!(
        j2x_with(
            r#"{"item":{"@attrs":{"id":7,"on":true,"note":null},"name":"x"}}"#,
            &opts
        ),
        "<item id=\"7\" on=\"True\" note=\"\">\n  <name>x</name>\n</item>"
    );
    // Attributes only: an empty element.
    assert_eq!(
        j2x_with(r#"{"item":{"@attrs":{"id":"a"}}}"#, &opts),
        "<item id=\"a\" />"
    );
    let e = json_to_xml(r#"{"item":{"@attrs":[1]}}"#, &opts).unwrap_err();
    assert!(e.to_string().contains("attribute block"), "{e}");
    let e = json_to_xml(r#"{"item":{"@attrs":{"a":{"b":1}}}}"#, &opts).unwrap_err();
    assert!(e.to_string().contains("\"a\""), "{e}");
    let e = json_to_xml(r#"{"item":{"@attrs":{"a":1,"a":2}}}"#, &opts).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    // Without the option the name is just an (encoded) element.
    assert_eq!(
        j2x(r#"{"item":{"@attrs":{"id":"a"}}}"#),
        "<item>\n  <_x0040_attrs>\n    <id>a</id>\n  </_x0040_attrs>\n</item>"
    );
}

#[test]
fn namespaces_with_the_default_separator() {
    let opts = JsonToXml {
        namespace_prefix: Some("xmlns".into()),
        ..j2x_opts()
    };
    assert_eq!(
        j2x_with(
            r#"{"s_Envelope":{"xmlns_s":"urn:s","xmlns":"urn:default","s_Body":{"Ping":{"s_id":1,"other_name":2}}}}"#,
            &opts
        ),
        "<s:Envelope xmlns:s=\"urn:s\" xmlns=\"urn:default\">\n  <s:Body>\n    <Ping>\n      <s:id>1</s:id>\n      <other_name>2</other_name>\n    </Ping>\n  </s:Body>\n</s:Envelope>"
    );
    // A prefix declared in a sibling is not in scope.
    assert_eq!(
        j2x_with(r#"{"r":{"a":{"xmlns_p":"urn:p"},"p_b":1}}"#, &opts),
        "<r>\n  <a xmlns:p=\"urn:p\" />\n  <p_b>1</p_b>\n</r>"
    );
    let e = json_to_xml(r#"{"r":{"xmlns_p":1}}"#, &opts).unwrap_err();
    assert!(e.to_string().contains("namespace"), "{e}");
    let e = json_to_xml(r#"{"r":{"xmlns_1p":"urn:x"}}"#, &opts).unwrap_err();
    assert!(e.to_string().contains("prefix"), "{e}");
}

#[test]
fn namespace_declared_in_attribute_block() {
    let opts = JsonToXml {
        namespace_separator: Some(':'),
        namespace_prefix: Some("xmlns".into()),
        attribute_block_name: Some("#attrs".into()),
        ..j2x_opts()
    };
    assert_eq!(
        j2x_with(
            r##"{"a:root":{"#attrs":{"xmlns:a":"urn:a","a:kind":"k"},"a:x":1}}"##,
            &opts
        ),
        "<a:root xmlns:a=\"urn:a\" a:kind=\"k\">\n  <a:x>1</a:x>\n</a:root>"
    );
}

#[test]
fn parse_date_rewrites_iso_dates_and_false_copies_them() {
    let json = r#"{"d":{"at":"2024-03-01T10:00:00.000+02:00","z":"2024-03-01T10:00:00.500Z","plain":"2024-03-01","text":"not a date"}}"#;
    assert_eq!(
        j2x(json),
        "<d>\n  <at>2024-03-01T08:00:00+00:00</at>\n  <z>2024-03-01T10:00:00.5Z</z>\n  <plain>2024-03-01</plain>\n  <text>not a date</text>\n</d>"
    );
    let copy = JsonToXml {
        parse_date: false,
        ..j2x_opts()
    };
    assert_eq!(
        j2x_with(json, &copy),
        "<d>\n  <at>2024-03-01T10:00:00.000+02:00</at>\n  <z>2024-03-01T10:00:00.500Z</z>\n  <plain>2024-03-01</plain>\n  <text>not a date</text>\n</d>"
    );
}

#[test]
fn invalid_json_is_reported_with_position() {
    let e = json_to_xml(r#"{"a": tru}"#, &j2x_opts()).unwrap_err();
    match &e {
        TransformError::Json { line, column, .. } => assert_eq!((*line, *column), (1, 10)),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("the body is not valid JSON: line 1, column 10: "),
        "{e}"
    );
    let e = json_to_xml("", &j2x_opts()).unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    let e = json_to_xml("{} x", &j2x_opts()).unwrap_err();
    assert!(e.to_string().contains("trailing"), "{e}");
}

#[test]
fn json_nesting_is_bounded() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        json_to_xml(&deep, &j2x_opts()),
        Err(TransformError::TooDeep { limit: MAX_DEPTH })
    );
    let deep = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    assert_eq!(
        json_to_xml(&deep, &j2x_opts()),
        Err(TransformError::TooDeep { limit: MAX_DEPTH })
    );
    // Within the limit it converts.
    let ok = format!("{}1{}", r#"{"a":"#.repeat(100), "}".repeat(100));
    assert!(json_to_xml(&ok, &j2x_opts()).is_ok());
}

#[test]
fn byte_order_mark_is_ignored() {
    assert_eq!(j2x("\u{FEFF}{\"a\":1}"), "<a>1</a>");
}

#[test]
fn json_to_xml_output_round_trips_through_a_parser() {
    let xml = j2x(r#"{"a b":{"c":[1,"<&>",null,{"d":true}],"x_y":"z","é":"\u2028"}}"#);
    assert!(roxmltree::Document::parse(&xml).is_ok(), "{xml}");
}

// ---------------------------------------------------------------- xml-to-json

#[test]
fn observed_direct_soap_example() {
    let xml = r#"<?xml version="1.0"?>
<soap:Envelope xmlns="http://fyicenter.com/"
    xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
    <soap:Body>
        <GetOrders>
            <Customer>1234567</Customer>
        </GetOrders>
    </soap:Body>
</soap:Envelope>"#;
    assert_eq!(
        direct(xml),
        json!({
            "version": "1.0",
            "soap$Envelope": {
                "@xmlns": "http://fyicenter.com/",
                "@xmlns$soap": "http://schemas.xmlsoap.org/soap/envelope/",
                "soap$Body": { "GetOrders": { "Customer": "1234567" } }
            }
        })
    );
    assert_eq!(
        friendly(xml),
        json!({ "soap$Envelope": { "soap$Body": { "GetOrders": { "Customer": "1234567" } } } })
    );
}

#[test]
fn direct_output_is_compact_and_ordered() {
    let out = x2j_with(
        r#"<?xml version="1.0" encoding="utf-8"?><r b="1" a="2"><z>1</z><y/><z>2</z></r>"#,
        &x2j_opts(XmlToJsonKind::Direct),
    );
    assert_eq!(
        out,
        r#"{"version":"1.0","encoding":"utf-8","r":{"@b":"1","@a":"2","z":["1","2"],"y":null}}"#
    );
}

#[test]
fn attributes_text_and_mixed_content() {
    assert_eq!(
        friendly(r#"<p id="1">hello</p>"#),
        json!({"p": {"@id": "1", "#text": "hello"}})
    );
    assert_eq!(
        friendly("<p>Hello <b>big</b> world<br/>!</p>"),
        json!({"p": {"#text": ["Hello ", " world", "!"], "b": "big", "br": null}})
    );
    assert_eq!(
        friendly(r#"<a x:y="1" xmlns:x="urn:x"/>"#),
        json!({"a": {"@x$y": "1"}})
    );
    assert_eq!(
        direct(r#"<a x:y="1" xmlns:x="urn:x"/>"#),
        json!({"a": {"@xmlns$x": "urn:x", "@x$y": "1"}})
    );
}

#[test]
fn empty_elements() {
    assert_eq!(
        friendly("<r><a/><b></b><c>  </c></r>"),
        json!({"r": {"a": null, "b": "", "c": ""}})
    );
    assert_eq!(friendly("<r/>"), json!({"r": null}));
}

#[test]
fn repeated_elements_become_arrays() {
    assert_eq!(
        friendly("<list><i>1</i><j>x</j><i>2</i><i><k>3</k></i></list>"),
        json!({"list": {"i": ["1", "2", {"k": "3"}], "j": "x"}})
    );
}

#[test]
fn always_array_child_elements() {
    let opts = XmlToJson {
        always_array_child_elements: true,
        ..x2j_opts(XmlToJsonKind::JavascriptFriendly)
    };
    assert_eq!(
        parse(&x2j_with(
            r#"<r id="1"><a>1</a><b><c>2</c></b><a>3</a>text</r>"#,
            &opts
        )),
        json!({"r": {"@id": "1", "a": ["1", "3"], "b": [{"c": ["2"]}], "#text": "text"}})
    );
}

#[test]
fn cdata_entities_and_unicode() {
    assert_eq!(
        friendly("<a><![CDATA[<x> & y]]></a>"),
        json!({"a": "<x> & y"})
    );
    assert_eq!(
        friendly("<a>&lt;&amp;&gt;&quot;&apos;&#233;&#x1F600;</a>"),
        json!({"a": "<&>\"'é😀"})
    );
    assert_eq!(
        x2j_with(
            "<a>line1\nline2\t\"q\" \\ ünï</a>",
            &x2j_opts(XmlToJsonKind::JavascriptFriendly)
        ),
        r#"{"a":"line1\nline2\t\"q\" \\ ünï"}"#
    );
}

#[test]
fn comments_and_processing_instructions_are_dropped() {
    assert_eq!(
        direct("<?xml version='1.0'?><!-- c --><r><?pi x?><a>1</a><!-- d --></r>"),
        json!({"version": "1.0", "r": {"a": "1"}})
    );
}

#[test]
fn namespace_declarations_as_written() {
    // Every declaration is kept where it is written, a redundant one too (XmlDocument keeps
    // it as an attribute), with its value resolved.
    assert_eq!(
        direct(r#"<a xmlns="urn:a"><b xmlns="urn:b"><c/></b><d xmlns="urn:a"/></a>"#),
        json!({"a": {"@xmlns": "urn:a", "b": {"@xmlns": "urn:b", "c": null}, "d": {"@xmlns": "urn:a"}}})
    );
    assert_eq!(
        direct(
            r#"<a id="1" xmlns:p = 'urn:p?x=1&amp;y=2' p:k="v" xmlns="urn:d"><b xmlns=""/></a>"#
        ),
        json!({"a": {"@xmlns$p": "urn:p?x=1&y=2", "@xmlns": "urn:d", "@id": "1", "@p$k": "v", "b": {"@xmlns": ""}}})
    );
}

#[test]
fn dtds_are_refused() {
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"#;
    let e = xml_to_json(xxe, &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert_eq!(e, TransformError::Dtd);
    assert!(e.to_string().contains("DTD"), "{e}");
    let laughs = r#"<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>"#;
    assert_eq!(
        xml_to_json(laughs, &x2j_opts(XmlToJsonKind::Direct)),
        Err(TransformError::Dtd)
    );
    // Without a DTD an unknown entity is simply an error.
    let e = xml_to_json("<r>&x;</r>", &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert!(matches!(e, TransformError::Xml { .. }), "{e}");
}

#[test]
fn invalid_xml_is_reported_with_position() {
    let e = xml_to_json("<a>\n  <b></a>", &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    match &e {
        TransformError::Xml { line, .. } => assert_eq!(*line, 2),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("the body is not valid XML: line 2, column "),
        "{e}"
    );
    let e = xml_to_json("", &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert!(e.to_string().contains("not valid XML"), "{e}");
    let e = xml_to_json("<p:a/>", &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert!(e.to_string().contains("not valid XML"), "{e}");
}

#[test]
fn xml_nesting_is_bounded() {
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert_eq!(
        xml_to_json(&deep, &x2j_opts(XmlToJsonKind::Direct)),
        Err(TransformError::TooDeep { limit: MAX_DEPTH })
    );
    let ok = format!("{}x{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(xml_to_json(&ok, &x2j_opts(XmlToJsonKind::Direct)).is_ok());
}

#[test]
fn round_trip_json_xml_json() {
    let xml = j2x(r#"{"order":{"id":"7","lines":[{"sku":"a"},{"sku":"b"}],"note":"x & y"}}"#);
    assert_eq!(
        friendly(&xml),
        json!({"order": {"id": "7", "lines": [{"sku": "a"}, {"sku": "b"}], "note": "x & y"}})
    );
}

// ---------------------------------------------------------------- no panics

#[test]
fn truncated_and_garbage_inputs_never_panic() {
    let json_seed = r##"{"soap:Envelope":{"xmlns:soap":"urn:s","#attrs":{"a":"1"},"soap:Body":{"x":[1,2.5e3,null,true,{"y":"z\u00e9"}],"":"e"}}}"##;
    let xml_seed = r#"<?xml version="1.0" encoding="utf-8"?><s:E xmlns:s="urn:s" a='1'><s:B><x>1</x><x/><![CDATA[c]]>&amp;&#233;<!--c--><?p?></s:B></s:E>"#;
    let j_opts = [
        j2x_opts(),
        JsonToXml {
            namespace_separator: Some(':'),
            namespace_prefix: Some("xmlns".into()),
            attribute_block_name: Some("#attrs".into()),
            ..j2x_opts()
        },
        JsonToXml {
            namespace_separator: None,
            namespace_prefix: Some("".into()),
            attribute_block_name: Some("".into()),
            ..j2x_opts()
        },
    ];
    let x_opts = [
        x2j_opts(XmlToJsonKind::Direct),
        XmlToJson {
            always_array_child_elements: true,
            ..x2j_opts(XmlToJsonKind::JavascriptFriendly)
        },
    ];
    let mut inputs: Vec<String> = Vec::new();
    for seed in [json_seed, xml_seed] {
        for (i, _) in seed.char_indices() {
            inputs.push(seed[..i].to_owned());
            inputs.push(seed[i..].to_owned());
        }
    }
    // Deterministic byte garbage (xorshift) mapped onto characters that matter to parsers.
    let alphabet: Vec<char> = "{}[]<>:\"',/\\=&;#!?-_ xmlns@0123456789.eE+\u{0}\u{1}\u{FEFF}é😀"
        .chars()
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2_000 {
        let mut s = String::new();
        for _ in 0..(state % 40) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        inputs.push(s);
    }
    for input in &inputs {
        for o in &j_opts {
            let _ = json_to_xml(input, o);
        }
        for o in &x_opts {
            let _ = xml_to_json(input, o);
        }
    }
}

// ---------------------------------------------------------------- apply / accept

#[test]
fn json_to_xml_applies() {
    let always = JsonToXml {
        apply: Apply::Always,
        consider_accept_header: false,
        ..j2x_opts()
    };
    assert!(always.applies(None, None));
    assert!(always.applies(Some("text/plain"), None));

    let by_type = JsonToXml {
        apply: Apply::ContentTypeJson,
        consider_accept_header: false,
        ..j2x_opts()
    };
    assert!(by_type.applies(Some("application/json"), None));
    assert!(by_type.applies(Some("application/json; charset=utf-8"), None));
    assert!(by_type.applies(Some("Application/Problem+JSON"), None));
    assert!(by_type.applies(Some("text/json"), None));
    assert!(!by_type.applies(Some("application/xml"), None));
    assert!(!by_type.applies(Some("application/jsonl"), None));
    assert!(!by_type.applies(None, None));

    let with_accept = JsonToXml {
        apply: Apply::ContentTypeJson,
        consider_accept_header: true,
        ..j2x_opts()
    };
    assert!(with_accept.applies(Some("application/json"), Some("application/xml")));
    assert!(with_accept.applies(Some("application/json"), Some("text/html, text/xml;q=0.5")));
    assert!(with_accept.applies(Some("application/json"), Some("application/soap+xml")));
    assert!(!with_accept.applies(Some("application/json"), Some("application/json")));
    assert!(!with_accept.applies(Some("application/json"), Some("*/*")));
    assert!(!with_accept.applies(Some("application/json"), Some("application/xml;q=0")));
    assert!(!with_accept.applies(Some("application/json"), None));
    assert!(!with_accept.applies(Some("text/plain"), Some("application/xml")));
    assert_eq!(with_accept.content_type(), "application/xml");
}

#[test]
fn xml_to_json_applies() {
    let by_type = XmlToJson {
        apply: Apply::ContentTypeXml,
        consider_accept_header: false,
        ..x2j_opts(XmlToJsonKind::Direct)
    };
    assert!(by_type.applies(Some("application/xml"), None));
    assert!(by_type.applies(Some("text/xml; charset=utf-8"), None));
    assert!(by_type.applies(Some("application/soap+xml"), None));
    assert!(!by_type.applies(Some("application/json"), None));
    assert!(!by_type.applies(None, None));

    let with_accept = XmlToJson {
        apply: Apply::Always,
        consider_accept_header: true,
        ..x2j_opts(XmlToJsonKind::Direct)
    };
    assert!(with_accept.applies(None, Some("application/json")));
    assert!(with_accept.applies(Some("text/plain"), Some("application/json, */*")));
    assert!(!with_accept.applies(Some("application/xml"), Some("application/xml")));
    assert!(!with_accept.applies(Some("application/xml"), None));
    assert_eq!(with_accept.content_type(), "application/json");
}

#[test]
fn wide_inputs_stay_linear() {
    // Many distinct names and declarations: grouping, duplicate checks and prefix lookups
    // must not be quadratic (a hostile body would otherwise pin a core).
    let n = 20_000;
    let mut json = String::from(r#"{"r":{"#);
    for i in 0..n {
        json.push_str(&format!(r#""xmlns_p{i}":"urn:{i}","p{i}_e":{i},"#));
    }
    json.push_str(r##""#attrs":{"##);
    for i in 0..n {
        json.push_str(&format!(r#""a{i}":{i},"#));
    }
    json.push_str(r#""last":0}}}"#);
    let opts = JsonToXml {
        namespace_prefix: Some("xmlns".into()),
        attribute_block_name: Some("#attrs".into()),
        ..j2x_opts()
    };
    let start = std::time::Instant::now();
    let xml = j2x_with(&json, &opts);
    assert!(xml.contains("<p19999:e>19999</p19999:e>"));
    let mut wide = String::from("<r>");
    for i in 0..n {
        wide.push_str(&format!("<e{i}>{i}</e{i}>"));
    }
    wide.push_str("</r>");
    let out = x2j_with(&wide, &x2j_opts(XmlToJsonKind::Direct));
    assert!(out.contains(r#""e19999":"19999""#));
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn namespace_heavy_xml_is_refused_before_parsing() {
    // 20,000 declarations on the root in scope for 20,000 elements: 4e8 element-namespace
    // pairs, which roxmltree would spend seconds on.
    let n = 20_000;
    let mut xml = String::from("<r");
    for i in 0..n {
        xml.push_str(&format!(" xmlns:p{i}=\"urn:{i}\""));
    }
    xml.push('>');
    for i in 0..n {
        xml.push_str(&format!("<e>{i}</e>"));
    }
    xml.push_str("</r>");
    let start = std::time::Instant::now();
    let e = xml_to_json(&xml, &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert!(matches!(e, TransformError::Namespaces { .. }), "{e}");
    assert!(e.to_string().contains("namespace declarations"), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    // A SOAP-sized set of declarations over many elements is fine.
    let mut soap =
        String::from(r#"<s:Envelope xmlns:s="urn:s" xmlns:a="urn:a" xmlns:b="urn:b"><s:Body>"#);
    for i in 0..n {
        soap.push_str(&format!(
            "<a:item xmlns:c=\"urn:c\"><c:v>{i}</c:v></a:item>"
        ));
    }
    soap.push_str("</s:Body></s:Envelope>");
    assert!(xml_to_json(&soap, &x2j_opts(XmlToJsonKind::Direct)).is_ok());
    // Thousands of attributes on one element are checked pairwise by the parser: a few
    // thousand are fine, tens of thousands are refused.
    let one = |n: usize| {
        let mut x = String::from("<r");
        for i in 0..n {
            x.push_str(&format!(" xmlns:p{i}=\"urn:{i}\" a{i}=\"{i}\""));
        }
        x.push_str("/>");
        x
    };
    let start = std::time::Instant::now();
    let out = x2j_with(&one(2_000), &x2j_opts(XmlToJsonKind::Direct));
    assert!(out.contains(r#""@xmlns$p1999":"urn:1999""#) && out.contains(r#""@a1999":"1999""#));
    let e = xml_to_json(&one(20_000), &x2j_opts(XmlToJsonKind::Direct)).unwrap_err();
    assert!(matches!(e, TransformError::Namespaces { .. }), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// The policies as the pipeline runs them: the response body converted, its Content-Type set,
/// and left alone when the Content-Type does not match `apply`.
#[tokio::test]
async fn the_pipeline_converts_the_response_body_and_content_type() {
    use gatehouse_policy::document::{compose, parse_policies};
    use gatehouse_policy::pipeline::{Message, Outcome, Pipeline, Section, TestExchange};
    let xml = r#"<policies><inbound /><outbound>
        <json-to-xml apply="content-type-json" consider-accept-header="false" parse-date="false" />
    </outbound></policies>"#;
    let doc = parse_policies("t.xml", xml, None).unwrap_or_else(|e| panic!("{e:?}"));
    let c = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:?}"));
    let p = Pipeline::compile(&c).unwrap_or_else(|e| panic!("{e}"));

    let mut ex = TestExchange::new();
    ex.response_headers
        .insert("content-type".into(), vec!["application/json".into()]);
    ex.effects.response_body = Some(r#"{"order":{"id":7}}"#.into());
    assert_eq!(p.run(Section::Outbound, &mut ex).await, Outcome::Continue);
    let body = ex.effects.response_body.clone().unwrap_or_default();
    assert!(
        body.contains("<order>") && body.contains("<id>7</id>"),
        "{body}"
    );
    assert_eq!(
        ex.header_joined(Message::Response, "content-type")
            .as_deref(),
        Some("application/xml")
    );

    let mut text = TestExchange::new();
    text.response_headers
        .insert("content-type".into(), vec!["text/plain".into()]);
    text.effects.response_body = Some("{not json".into());
    assert_eq!(p.run(Section::Outbound, &mut text).await, Outcome::Continue);
    assert_eq!(text.effects.response_body.as_deref(), Some("{not json"));

    let mut broken = TestExchange::new();
    broken
        .response_headers
        .insert("content-type".into(), vec!["application/json".into()]);
    broken.effects.response_body = Some("{not json".into());
    let Outcome::Error(e) = p.run(Section::Outbound, &mut broken).await else {
        panic!("a body that does not parse fails the policy");
    };
    assert_eq!(e.source, "json-to-xml");
}
