//! The document layer through its public API: parsing, named values, composition, fragments
//! and errors with original line/column.

use std::collections::HashMap;
use std::path::Path;

use gatehouse_policy::document::{
    CheckOutput, Document, ErrorKind, ExprKind, Fragment, NamedValue, NamedValues, Node,
    PolicyDocument, PolicyError, Section, Value, check_source, compose, parse_document,
    parse_fragment, parse_policies, resolve_fragments,
};

fn policies(src: &str) -> PolicyDocument {
    match parse_policies("t.xml", src, None) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    }
}

fn errors(src: &str) -> Vec<PolicyError> {
    match parse_document("t.xml", src, None) {
        Ok(d) => panic!("expected errors, parsed {d:#?}"),
        Err(e) => e,
    }
}

fn names(els: &[gatehouse_policy::document::PolicyElement]) -> Vec<String> {
    els.iter()
        .map(|e| match e.attr("name").and_then(Value::as_literal) {
            Some(n) => format!("{}:{n}", e.name),
            None => e.name.clone(),
        })
        .collect()
}

#[test]
fn parses_sections_expressions_and_paths() {
    let d = policies(
        r#"<policies>
  <inbound>
    <base />
    <choose>
      <when condition="@(context.Variables.GetValueOrDefault<bool>("ok"))">
        <set-header name="x" exists-action="override"><value>@{ return "<&>"; }</value></set-header>
      </when>
      <when condition="@(1 < 2)"><set-variable name="v" value="lit" /></when>
    </choose>
  </inbound>
  <outbound />
</policies>"#,
    );
    assert_eq!(names(&d.inbound), vec!["base", "choose"]);
    let choose = &d.inbound[1];
    let whens: Vec<_> = choose.elements().collect();
    assert_eq!(whens[0].path, "policies/inbound/choose/when[1]");
    assert_eq!(whens[1].path, "policies/inbound/choose/when[2]");
    assert_eq!(whens[0].position, (5, 7));
    match whens[0].attr("condition") {
        Some(Value::Expression {
            kind,
            source,
            position,
            ..
        }) => {
            assert_eq!(*kind, ExprKind::Single);
            assert_eq!(source, r#"context.Variables.GetValueOrDefault<bool>("ok")"#);
            assert_eq!(*position, (5, 24));
        }
        other => panic!("{other:?}"),
    }
    let value = whens[0].elements().next().and_then(|h| h.elements().next());
    let texts: Vec<_> = value
        .map(|v| v.text().cloned().collect())
        .unwrap_or_default();
    assert_eq!(texts.len(), 1, "whitespace around an expression is dropped");
    assert!(
        matches!(&texts[0], Value::Expression { kind: ExprKind::Block, source, .. } if source == r#" return "<&>"; "#)
    );
    // Missing sections inherit; an empty section cuts.
    assert_eq!(names(&d.backend), vec!["base"]);
    assert!(d.outbound.is_empty());
}

#[test]
fn mixed_text_and_literal_text() {
    let d = policies(
        "<policies><inbound><set-body>a &amp; b @(1) c</set-body><set-method>POST</set-method></inbound></policies>",
    );
    let body: Vec<_> = d.inbound[0].text().cloned().collect();
    assert_eq!(body.len(), 3);
    assert_eq!(body[0].as_literal(), Some("a & b "));
    assert!(body[1].is_expression());
    assert_eq!(body[2].as_literal(), Some(" c"));
    assert_eq!(
        d.inbound[1].text().next().and_then(Value::as_literal),
        Some("POST")
    );
}

#[test]
fn fragment_document() {
    match parse_document(
        "f.xml",
        "<fragment><set-variable name=\"a\" value=\"1\"/></fragment>",
        None,
    ) {
        Ok(Document::Fragment(f)) => assert_eq!(f.elements[0].path, "fragment/set-variable"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn liquid_body_keeps_template_elements() {
    let d = policies(
        r#"<policies><inbound><set-body template="liquid"><m a="{{ body.x }}">{{body.y}}</m></set-body></inbound></policies>"#,
    );
    let m = d.inbound[0].elements().next().map(|m| m.name.clone());
    assert_eq!(m.as_deref(), Some("m"));
}

// ---- named values ----

fn store() -> NamedValues {
    let mut m = HashMap::new();
    m.insert(
        "host".to_string(),
        NamedValue {
            value: "example.org".into(),
            secret: false,
        },
    );
    m.insert(
        "key".to_string(),
        NamedValue {
            value: "s3cr3t-value".into(),
            secret: true,
        },
    );
    m
}

#[test]
fn named_values_substituted_in_attributes_text_and_expressions() {
    let nv = store();
    let src = r#"<policies><inbound>
        <set-backend-service base-url="https://{{host}}/" />
        <set-header name="k"><value>{{key}}</value></set-header>
        <set-variable name="e" value="@("{{key}}" + "{{host}}")" />
    </inbound></policies>"#;
    let d = parse_policies("t.xml", src, Some(&nv)).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        d.inbound[0].attr("base-url").and_then(Value::as_literal),
        Some("https://example.org/")
    );
    let header_value = d.inbound[1]
        .elements()
        .next()
        .and_then(|v| v.text().next().cloned());
    assert_eq!(
        header_value.as_ref().and_then(Value::as_literal),
        Some("s3cr3t-value")
    );
    let debug = format!("{d:?}");
    assert!(
        !debug.contains("s3cr3t"),
        "secret leaked into Debug: {debug}"
    );
    assert!(debug.contains("example.org"));
    assert!(!format!("{nv:?}").contains("s3cr3t"));
}

#[test]
fn unknown_named_value_is_an_error_naming_it() {
    let nv = store();
    let e = parse_policies(
        "t.xml",
        "<policies><inbound><set-variable name=\"a\" value=\"{{nope}}\"/></inbound></policies>",
        Some(&nv),
    )
    .unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("'nope'"), "{}", e[0]);
    // Without a store (policy check) names stay as written.
    assert!(
        parse_policies(
            "t.xml",
            "<policies><inbound><set-variable name=\"a\" value=\"{{nope}}\"/></inbound></policies>",
            None
        )
        .is_ok()
    );
}

#[test]
fn secret_never_in_error_messages() {
    let nv = store();
    // The expression is broken after substitution; its error must not show the secret.
    let src = r#"<policies><inbound><set-variable name="a" value="@(f("{{key}}")" /><set-variable name="b" value="@({{key}})" bad="1"/></inbound></policies>"#;
    let errs = parse_policies("t.xml", src, Some(&nv)).unwrap_err();
    assert!(!errs.is_empty());
    for e in &errs {
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        assert!(!format!("{e:?}").contains("s3cr3t"), "{e:?}");
    }
}

// ---- composition ----

fn scope(file: &str, inbound: &str) -> PolicyDocument {
    let src = format!(
        "<policies><inbound>{inbound}</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"
    );
    match parse_policies(file, &src, None) {
        Ok(d) => d,
        Err(e) => panic!("{e:#?}"),
    }
}

fn sv(name: &str) -> String {
    format!("<set-variable name=\"{name}\" value=\"1\"/>")
}

#[test]
fn base_at_start_middle_end() {
    let g = scope("g", &format!("{}<base/>", sv("g")));
    let start = scope("o", &format!("<base/>{}", sv("o")));
    let middle = scope("o", &format!("{}<base/>{}", sv("o1"), sv("o2")));
    let end = scope("o", &format!("{}<base/>", sv("o")));
    let run =
        |op: &PolicyDocument| compose(Some(&g), None, None, Some(op)).map(|c| names(&c.inbound));
    assert_eq!(
        run(&start).ok(),
        Some(vec!["set-variable:g".to_string(), "set-variable:o".into()])
    );
    assert_eq!(
        run(&middle).ok(),
        Some(vec![
            "set-variable:o1".to_string(),
            "set-variable:g".into(),
            "set-variable:o2".into()
        ])
    );
    assert_eq!(
        run(&end).ok(),
        Some(vec!["set-variable:o".to_string(), "set-variable:g".into()])
    );
}

#[test]
fn four_scopes_nest_and_missing_scopes_inherit() {
    let g = scope("g", &format!("{}<base/>", sv("g")));
    let p = scope("p", &format!("<base/>{}", sv("p")));
    let a = scope("a", &format!("{}<base/>", sv("a")));
    let o = scope("o", &format!("<base/>{}", sv("o")));
    let c = compose(Some(&g), Some(&p), Some(&a), Some(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&c.inbound),
        vec![
            "set-variable:a",
            "set-variable:g",
            "set-variable:p",
            "set-variable:o"
        ]
    );
    assert!(
        c.section(Section::Backend).is_empty(),
        "global <base/> stands for nothing"
    );
    let c = compose(Some(&g), None, None, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&c.inbound), vec!["set-variable:g"]);
}

#[test]
fn missing_base_cuts_the_parent() {
    let g = scope("g", &format!("{}<base/>", sv("g")));
    let a = scope("a", &sv("a"));
    let o = scope("o", &format!("<base/>{}", sv("o")));
    let c = compose(Some(&g), None, Some(&a), Some(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&c.inbound), vec!["set-variable:a", "set-variable:o"]);
}

#[test]
fn two_bases_are_refused() {
    let errs = errors("<policies><inbound><base/><base/></inbound></policies>");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].message.contains("more than one <base/>"));
    assert_eq!((errs[0].line, errs[0].column), (1, 27));
    // compose guards hand-built documents too.
    let mut d = scope("x", "<base/>");
    let first = d.inbound[0].clone();
    d.inbound.push(first);
    assert!(compose(None, None, None, Some(&d)).is_err());
}

#[test]
fn base_only_directly_in_a_section() {
    let errs = errors(
        "<policies><inbound><choose><when condition=\"true\"><base/></when></choose></inbound></policies>",
    );
    assert!(
        errs[0].message.contains("only directly inside a section"),
        "{}",
        errs[0]
    );
}

// ---- fragments ----

fn frag(id: &str, body: &str) -> (String, Fragment) {
    let f = parse_fragment(id, &format!("<fragment>{body}</fragment>"), None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    (id.to_string(), f)
}

fn include(id: &str) -> String {
    format!("<include-fragment fragment-id=\"{id}\"/>")
}

#[test]
fn fragments_expand_recursively_and_inside_choose() {
    let frags: HashMap<_, _> = [
        frag("a", &format!("{}{}", sv("a"), include("b"))),
        frag("b", &sv("b")),
    ]
    .into_iter()
    .collect();
    let d = scope(
        "o",
        &format!(
            "{}<choose><when condition=\"true\">{}</when></choose>",
            include("a"),
            include("b")
        ),
    );
    let r = resolve_fragments(&d, &frags).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        names(&r.inbound),
        vec!["set-variable:a", "set-variable:b", "choose"]
    );
    let inner: Vec<_> = r.inbound[2]
        .elements()
        .flat_map(|w| w.elements().cloned().collect::<Vec<_>>())
        .collect();
    assert_eq!(names(&inner), vec!["set-variable:b"]);
}

#[test]
fn fragment_cycle_and_unknown_id_are_errors() {
    let frags: HashMap<_, _> = [frag("a", &include("b")), frag("b", &include("a"))]
        .into_iter()
        .collect();
    let d = scope("o", &include("a"));
    let e = resolve_fragments(&d, &frags).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
    let d = scope("o", &include("zzz"));
    let e = resolve_fragments(&d, &frags).unwrap_err();
    assert!(e.message.contains("unknown fragment 'zzz'"), "{e}");
}

// ---- errors ----

#[test]
fn mismatched_tag_reports_original_line_and_column() {
    let src = "<policies>\n  <inbound>\n    <set-variable name=\"a\" value=\"@(\"<x>\" + 1)\" />\n  </outbound>\n</policies>";
    let errs = errors(src);
    assert_eq!(errs[0].kind, ErrorKind::Syntax);
    assert_eq!(errs[0].line, 4, "{}", errs[0]);
    assert!(errs[0].to_string().starts_with("t.xml:4:"), "{}", errs[0]);
}

#[test]
fn unknown_policy_and_attribute_errors() {
    let src = "<policies>\n<inbound>\n  <set-headr name=\"x\"/>\n  <set-header nme=\"x\"/>\n  <retry condition=\"@(true)\" count=\"many\" interval=\"1\"><forward-request/></retry>\n</inbound>\n</policies>";
    let errs = errors(src);
    let kinds: Vec<_> = errs.iter().map(|e| (e.kind, e.line)).collect();
    assert_eq!(
        kinds,
        vec![
            (ErrorKind::Syntax, 3),
            (ErrorKind::Attribute, 4),
            (ErrorKind::Attribute, 4),
            (ErrorKind::Attribute, 5)
        ],
        "{errs:#?}"
    );
    assert!(errs[0].message.contains("unknown policy <set-headr>"));
    assert_eq!(
        errs[0].to_string(),
        "t.xml:3:3: syntax: unknown policy <set-headr> (at policies/inbound/set-headr)"
    );
    assert!(errs[3].message.contains("integer"));
}

#[test]
fn azure_only_policy_is_unsupported_naming_it() {
    let errs = errors(
        "<policies><inbound><authentication-managed-identity resource=\"x\"/><llm-token-limit/></inbound></policies>",
    );
    assert_eq!(errs.len(), 2);
    for (e, p) in errs
        .iter()
        .zip(["authentication-managed-identity", "llm-token-limit"])
    {
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert_eq!(e.policy.as_deref(), Some(p));
    }
}

#[test]
fn unbalanced_expression_is_an_expression_error_at_its_position() {
    let errs = errors(
        "<policies>\n<inbound>\n  <set-variable name=\"a\" value=\"@(f(\"x)\" />\n</inbound></policies>",
    );
    assert_eq!(errs[0].kind, ErrorKind::Expression, "{errs:?}");
    assert_eq!(errs[0].line, 3);
}

#[test]
fn check_report_json_shape() {
    let r = check_source(
        Path::new("p.xml"),
        "<policies><inbound><emit-metric name=\"m\"/><set-status code=\"x\"/></inbound></policies>",
    );
    assert!(!r.ok);
    assert_eq!(r.unsupported, vec!["emit-metric"]);
    assert!(r.policies_used.contains("set-status"));
    let json = serde_json::to_value(CheckOutput { files: &[r] }).unwrap_or_default();
    let err0 = &json["files"][0]["errors"][0];
    assert_eq!(json["files"][0]["path"], "p.xml");
    assert_eq!(json["files"][0]["ok"], false);
    assert_eq!(err0["kind"], "unsupported");
    assert_eq!(err0["policy"], "emit-metric");
    assert_eq!(err0["line"], 1);
    let keys: Vec<_> = err0
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 5);
    assert_eq!(json["files"][0]["errors"][1]["kind"], "attribute");
    let ok = check_source(
        Path::new("q.xml"),
        "<policies><inbound><base/></inbound></policies>",
    );
    assert!(ok.ok && ok.errors.is_empty());
}

#[test]
fn node_enum_is_usable() {
    let d = policies("<policies><inbound><set-method>GET</set-method></inbound></policies>");
    assert!(matches!(d.inbound[0].children.first(), Some(Node::Text(_))));
}
