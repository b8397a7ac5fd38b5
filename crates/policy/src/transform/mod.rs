//! Body transformations: the conversions of APIM's `json-to-xml` and `xml-to-json` policies as
//! pure functions over the body text, plus the policy attributes that shape them.
//!
//! APIM builds on Json.NET conventions but with its own surface (a `<Document>` root,
//! `xsi:nil` for null, `.NET` boolean spelling, `$` for `:` in JSON names); every rule below
//! names where it comes from. Both directions refuse hostile input with an error instead of
//! recursing without bound or expanding entities.

mod json_to_xml;
mod names;
mod xml_to_json;

use crate::document::PolicyElement;
use crate::pipeline::attrs::{error, literal, literal_bool, required_literal};
use crate::pipeline::{CompileError, CompileErrorKind};

pub use json_to_xml::{json_to_xml, json_to_xml_within};
pub use xml_to_json::{xml_to_json, xml_to_json_within};

/// How deep either converter follows nesting. Both recursions are bounded by it, so a hostile
/// body cannot overflow the stack; it matches serde_json's own recursion limit.
pub const MAX_DEPTH: usize = 128;

/// When a conversion runs, judged from the message's Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// `always`: convert whatever the Content-Type says.
    Always,
    /// `content-type-json` (json-to-xml): only when the Content-Type is JSON.
    ContentTypeJson,
    /// `content-type-xml` (xml-to-json): only when the Content-Type is XML.
    ContentTypeXml,
}

/// The `json-to-xml` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonToXml {
    pub apply: Apply,
    /// Convert only when the request's Accept asks for XML.
    pub consider_accept_header: bool,
    /// Rewrite ISO 8601 date-time strings as Json.NET does (see [`json_to_xml`]); when
    /// false they are copied as is.
    pub parse_date: bool,
    /// The character that separates a namespace prefix from a local name in JSON property
    /// names (APIM's default is `_`; [`compile_json_to_xml`] fills that in). `:` always
    /// separates too. A name is only split when the prefix is declared.
    pub namespace_separator: Option<char>,
    /// Properties whose names start with this (usually `xmlns`) declare namespaces.
    pub namespace_prefix: Option<String>,
    /// The property whose object holds the element's attributes.
    pub attribute_block_name: Option<String>,
}

/// Which JSON shape `xml-to-json` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlToJsonKind {
    /// `javascript-friendly`: no XML declaration, no namespace declarations.
    JavascriptFriendly,
    /// `direct`: the XML structure as is, declaration and namespace declarations included.
    Direct,
}

/// The `xml-to-json` policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlToJson {
    pub kind: XmlToJsonKind,
    pub apply: Apply,
    /// Convert only when the request's Accept asks for JSON.
    pub consider_accept_header: bool,
    /// Every child element becomes a JSON array, even a single one.
    pub always_array_child_elements: bool,
}

/// Why a body could not be converted. Messages name the problem and where it is, never the
/// whole body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("the body is not valid JSON: line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the body is not valid XML: line {line}, column {column}: {message}")]
    Xml {
        line: u32,
        column: u32,
        message: String,
    },
    #[error(
        "the XML body has a document type declaration (<!DOCTYPE>); DTDs and entity declarations are refused"
    )]
    Dtd,
    #[error(
        "the XML body has too many namespace declarations or attributes for its size (bookkeeping limit {limit})"
    )]
    Namespaces { limit: u64 },
    #[error("the body nests deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the JSON property name {name:?} cannot be an XML name")]
    Name { name: String },
    #[error("the JSON text contains U+{code:04X}, which XML 1.0 cannot carry")]
    Char { code: u32 },
    #[error("the JSON property {name:?} {problem}")]
    Property { name: String, problem: String },
    /// The converted body would exceed `gateway.limits.max_buffered_body_bytes`: refused as
    /// it grows past it, not after it was built.
    #[error(
        "the converted body would be larger than the limit of {limit} bytes (gateway.limits.max_buffered_body_bytes)"
    )]
    TooLarge { limit: usize },
}

impl JsonToXml {
    /// Whether the policy applies to a message with this Content-Type (and the request's
    /// Accept when `consider_accept_header`).
    pub fn applies(&self, content_type: Option<&str>, accept: Option<&str>) -> bool {
        applies(
            self.apply,
            self.consider_accept_header,
            content_type,
            accept,
            "json",
            "xml",
        )
    }

    /// The Content-Type to set after converting.
    pub fn content_type(&self) -> &'static str {
        "application/xml"
    }
}

impl XmlToJson {
    /// Whether the policy applies to a message with this Content-Type (and the request's
    /// Accept when `consider_accept_header`).
    pub fn applies(&self, content_type: Option<&str>, accept: Option<&str>) -> bool {
        applies(
            self.apply,
            self.consider_accept_header,
            content_type,
            accept,
            "xml",
            "json",
        )
    }

    /// The Content-Type to set after converting.
    pub fn content_type(&self) -> &'static str {
        "application/json"
    }
}

fn applies(
    apply: Apply,
    consider_accept: bool,
    content_type: Option<&str>,
    accept: Option<&str>,
    source: &str,
    target: &str,
) -> bool {
    let by_type = match apply {
        Apply::Always => true,
        // Both content-type variants mean "the body is in the source format": a json-to-xml
        // policy holding ContentTypeXml (only possible when built by hand) reads the same way.
        Apply::ContentTypeJson | Apply::ContentTypeXml => {
            content_type.is_some_and(|ct| media_type_is(media_type(ct), source))
        }
    };
    by_type && (!consider_accept || accepts(accept, target))
}

/// The `type/subtype` of a header value, parameters dropped.
fn media_type(v: &str) -> &str {
    v.split(';').next().unwrap_or("").trim()
}

/// `application/{f}`, `text/{f}` or any `+{f}` suffix type, case-insensitively. Wildcards are
/// not a request for the format: the policy converts only when the client names it.
fn media_type_is(mt: &str, format: &str) -> bool {
    let Some((top, sub)) = mt.split_once('/') else {
        return false;
    };
    let (top, sub) = (top.trim(), sub.trim());
    if top.contains('*') || sub.contains('*') {
        return false;
    }
    ((top.eq_ignore_ascii_case("application") || top.eq_ignore_ascii_case("text"))
        && sub.eq_ignore_ascii_case(format))
        || sub.len() > format.len()
            && sub.as_bytes()[sub.len() - format.len() - 1] == b'+'
            && sub[sub.len() - format.len()..].eq_ignore_ascii_case(format)
}

/// Whether an Accept header lists the format with a non-zero quality.
fn accepts(accept: Option<&str>, format: &str) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let mt = parts.next().unwrap_or("").trim();
        let q_zero = parts.any(|p| {
            let p = p.trim();
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => {
                    v.trim().parse::<f32>().map(|q| q <= 0.0).unwrap_or(false)
                }
                _ => false,
            }
        });
        !q_zero && media_type_is(mt, format)
    })
}

fn apply_attr(e: &PolicyElement, content_type: &str, apply: Apply) -> Result<Apply, CompileError> {
    let v = required_literal(e, "apply")?;
    if v.eq_ignore_ascii_case("always") {
        Ok(Apply::Always)
    } else if v.eq_ignore_ascii_case(content_type) {
        Ok(apply)
    } else {
        Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("attribute 'apply' must be 'always' or '{content_type}', not '{v}'"),
        ))
    }
}

/// A literal attribute that, when present, must not be empty.
fn non_empty<'a>(e: &'a PolicyElement, name: &str) -> Result<Option<&'a str>, CompileError> {
    match literal(e, name)? {
        Some("") => Err(error(
            e,
            CompileErrorKind::Attribute,
            format!("attribute '{name}' must not be empty"),
        )),
        v => Ok(v),
    }
}

/// Reads `<json-to-xml>`. Attributes that APIM allows as expressions must be literals here:
/// they shape the conversion, which is fixed at compile time.
pub(crate) fn compile_json_to_xml(e: &PolicyElement) -> Result<JsonToXml, CompileError> {
    no_children(e)?;
    let apply = apply_attr(e, "content-type-json", Apply::ContentTypeJson)?;
    let namespace_separator = match literal(e, "namespace-separator")? {
        // APIM documents the underscore as the default separator.
        None => Some('_'),
        Some(s) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_whitespace() => Some(c),
                _ => {
                    return Err(error(
                        e,
                        CompileErrorKind::Attribute,
                        format!(
                            "attribute 'namespace-separator' must be a single non-space character, not '{s}'"
                        ),
                    ));
                }
            }
        }
    };
    Ok(JsonToXml {
        apply,
        consider_accept_header: literal_bool(e, "consider-accept-header", true)?,
        parse_date: literal_bool(e, "parse-date", true)?,
        namespace_separator,
        namespace_prefix: non_empty(e, "namespace-prefix")?.map(str::to_owned),
        attribute_block_name: non_empty(e, "attribute-block-name")?.map(str::to_owned),
    })
}

/// Reads `<xml-to-json>`.
pub(crate) fn compile_xml_to_json(e: &PolicyElement) -> Result<XmlToJson, CompileError> {
    no_children(e)?;
    let kind = match required_literal(e, "kind")? {
        k if k.eq_ignore_ascii_case("javascript-friendly") => XmlToJsonKind::JavascriptFriendly,
        k if k.eq_ignore_ascii_case("direct") => XmlToJsonKind::Direct,
        k => {
            return Err(error(
                e,
                CompileErrorKind::Attribute,
                format!("attribute 'kind' must be 'javascript-friendly' or 'direct', not '{k}'"),
            ));
        }
    };
    let apply = apply_attr(e, "content-type-xml", Apply::ContentTypeXml)?;
    // Older APIM docs spell the attribute `always-array-children`; both are read.
    let always_array = if e.attr("always-array-child-elements").is_some() {
        literal_bool(e, "always-array-child-elements", false)?
    } else {
        literal_bool(e, "always-array-children", false)?
    };
    Ok(XmlToJson {
        kind,
        apply,
        consider_accept_header: literal_bool(e, "consider-accept-header", true)?,
        always_array_child_elements: always_array,
    })
}

/// These policies take no child elements.
fn no_children(e: &PolicyElement) -> Result<(), CompileError> {
    match e.elements().next() {
        None => Ok(()),
        Some(c) => Err(error(
            c,
            CompileErrorKind::Unsupported,
            format!("<{}> is not supported inside <{}>", c.name, e.name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Value, parse_fragment};

    fn element(xml: &str) -> PolicyElement {
        let src = format!("<fragment>{xml}</fragment>");
        match parse_fragment("t.xml", &src, None) {
            Ok(mut f) if !f.elements.is_empty() => f.elements.remove(0),
            Ok(_) => panic!("no element in {xml}"),
            Err(e) => panic!("{xml}: {e:?}"),
        }
    }

    /// An element built by hand: the document schema already refuses most bad values, so the
    /// compile step's own checks are reached this way.
    fn synth(name: &str, attrs: &[(&str, &str)]) -> PolicyElement {
        PolicyElement {
            name: name.to_owned(),
            attributes: attrs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), Value::literal(*v)))
                .collect(),
            children: Vec::new(),
            position: (1, 1),
            path: format!("policies/outbound/{name}"),
        }
    }

    fn j2x(xml: &str) -> Result<JsonToXml, CompileError> {
        compile_json_to_xml(&element(xml))
    }

    fn x2j(xml: &str) -> Result<XmlToJson, CompileError> {
        compile_xml_to_json(&element(xml))
    }

    fn j2x_attrs(attrs: &[(&str, &str)]) -> Result<JsonToXml, CompileError> {
        compile_json_to_xml(&synth("json-to-xml", attrs))
    }

    fn x2j_attrs(attrs: &[(&str, &str)]) -> Result<XmlToJson, CompileError> {
        compile_xml_to_json(&synth("xml-to-json", attrs))
    }

    fn err_message<T: std::fmt::Debug>(r: Result<T, CompileError>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn json_to_xml_defaults() {
        let p = j2x(r#"<json-to-xml apply="always" />"#).unwrap();
        assert_eq!(
            p,
            JsonToXml {
                apply: Apply::Always,
                consider_accept_header: true,
                parse_date: true,
                namespace_separator: Some('_'),
                namespace_prefix: None,
                attribute_block_name: None,
            }
        );
    }

    #[test]
    fn json_to_xml_all_attributes() {
        let p = j2x(r##"<json-to-xml apply="content-type-json" consider-accept-header="false" parse-date="false" namespace-separator=":" namespace-prefix="xmlns" attribute-block-name="#attrs" />"##).unwrap();
        assert_eq!(p.apply, Apply::ContentTypeJson);
        assert!(!p.consider_accept_header);
        assert!(!p.parse_date);
        assert_eq!(p.namespace_separator, Some(':'));
        assert_eq!(p.namespace_prefix.as_deref(), Some("xmlns"));
        assert_eq!(p.attribute_block_name.as_deref(), Some("#attrs"));
    }

    #[test]
    fn json_to_xml_bad_values() {
        let m = err_message(j2x_attrs(&[("apply", "sometimes")]));
        assert!(m.contains("'apply'") && m.contains("sometimes"), "{m}");
        let m = err_message(j2x_attrs(&[("apply", "content-type-xml")]));
        assert!(m.contains("content-type-json"), "{m}");
        let m = err_message(j2x_attrs(&[]));
        assert!(m.contains("missing attribute 'apply'"), "{m}");
        let m = err_message(j2x_attrs(&[
            ("apply", "always"),
            ("consider-accept-header", "yes"),
        ]));
        assert!(m.contains("consider-accept-header"), "{m}");
        let m = err_message(j2x_attrs(&[("apply", "always"), ("parse-date", "no")]));
        assert!(m.contains("parse-date"), "{m}");
        let m = err_message(j2x(
            r#"<json-to-xml apply="always" namespace-separator="::" />"#,
        ));
        assert!(m.contains("namespace-separator"), "{m}");
        let m = err_message(j2x_attrs(&[
            ("apply", "always"),
            ("namespace-separator", ""),
        ]));
        assert!(m.contains("namespace-separator"), "{m}");
        let m = err_message(j2x_attrs(&[
            ("apply", "always"),
            ("attribute-block-name", ""),
        ]));
        assert!(m.contains("attribute-block-name"), "{m}");
        let m = err_message(j2x_attrs(&[("apply", "always"), ("namespace-prefix", "")]));
        assert!(m.contains("namespace-prefix"), "{m}");
        let e =
            j2x(r#"<json-to-xml apply="always" consider-accept-header="@(true)" />"#).unwrap_err();
        assert_eq!(e.kind, CompileErrorKind::Unsupported);
        assert!(
            e.message.contains("consider-accept-header"),
            "{}",
            e.message
        );
        assert_eq!(e.policy, "json-to-xml");
    }

    #[test]
    fn xml_to_json_attributes() {
        let p = x2j(r#"<xml-to-json kind="direct" apply="always" />"#).unwrap();
        assert_eq!(
            p,
            XmlToJson {
                kind: XmlToJsonKind::Direct,
                apply: Apply::Always,
                consider_accept_header: true,
                always_array_child_elements: false,
            }
        );
        let p = x2j(r#"<xml-to-json kind="javascript-friendly" apply="content-type-xml" consider-accept-header="false" always-array-child-elements="true" />"#).unwrap();
        assert_eq!(p.kind, XmlToJsonKind::JavascriptFriendly);
        assert_eq!(p.apply, Apply::ContentTypeXml);
        assert!(!p.consider_accept_header);
        assert!(p.always_array_child_elements);
    }

    #[test]
    fn xml_to_json_bad_values() {
        let m = err_message(x2j_attrs(&[("kind", "pretty"), ("apply", "always")]));
        assert!(m.contains("'kind'") && m.contains("pretty"), "{m}");
        let m = err_message(x2j_attrs(&[("apply", "always")]));
        assert!(m.contains("missing attribute 'kind'"), "{m}");
        let m = err_message(x2j_attrs(&[
            ("kind", "direct"),
            ("apply", "content-type-json"),
        ]));
        assert!(m.contains("content-type-xml"), "{m}");
        let m = err_message(x2j_attrs(&[
            ("kind", "direct"),
            ("apply", "always"),
            ("always-array-child-elements", "1"),
        ]));
        assert!(m.contains("always-array-child-elements"), "{m}");
        // The older spelling is read too.
        let p = x2j_attrs(&[
            ("kind", "direct"),
            ("apply", "always"),
            ("always-array-children", "true"),
        ])
        .unwrap();
        assert!(p.always_array_child_elements);
    }

    #[test]
    fn media_types() {
        assert!(media_type_is("application/json", "json"));
        assert!(media_type_is("TEXT/JSON", "json"));
        assert!(media_type_is("application/problem+json", "json"));
        assert!(!media_type_is("application/jsonx", "json"));
        assert!(!media_type_is("application/*", "json"));
        assert!(!media_type_is("+json", "json"));
        assert!(media_type_is("application/soap+xml", "xml"));
        assert!(accepts(Some("text/html, application/xml;q=0.9"), "xml"));
        assert!(!accepts(Some("application/xml;q=0"), "xml"));
        assert!(!accepts(Some("*/*"), "xml"));
        assert!(!accepts(None, "xml"));
    }
}
