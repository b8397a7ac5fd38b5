//! Building LINQ to XML: `new XElement(name, content…)`, `XAttribute`, `XText`, `XCData`,
//! `XComment`, `XProcessingInstruction`, `XDocument`, `XDeclaration`; `XNamespace`
//! (`XNamespace ns = "urn:x"; ns + "a"`) and `XName`; `XNode.DeepEquals`. The tree and its
//! printing are crates/expr/src/xml.rs.
//!
//! Content is added as .NET adds it: a string (or number, bool, date) is text, adjacent texts
//! merge, `null` is skipped, a sequence adds each item, an attribute goes to the attributes,
//! an element or other node is a child. Scalars are written as `XmlConvert` writes them:
//! `true`, `2.5`, dates as ISO 8601 (taken as UTC, the gateway's clock; doubles shortest
//! round-trip, where .NET Framework's "R" can print 17 digits).
//!
//! Namespaces as .NET's writer prints them: an element in a namespace uses the prefix an
//! `xmlns:p` attribute of its own declares, else declares the namespace as default
//! (`xmlns="…"`) unless its parent already has it; an element outside any namespace inside a
//! default namespace gets `xmlns=""`. Checked against Mono (mcs/mono); see
//! crates/expr/tests/xml_json.rs for the C# and its output.

use super::*;
use crate::xml::{XAttribute, XElement, XName, XNode};

const XMLNS: &str = "http://www.w3.org/2000/xmlns/";
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A name given to a constructor or method: a string (`"a"`, `"{urn}a"`) or an `XName`.
pub(crate) fn name_arg(v: &Value, at: usize) -> F<XName> {
    match v {
        Value::Object(Object::XName(n)) => Ok(n.as_ref().clone()),
        Value::String(s) => Ok(parse_name(s)),
        Value::Null => Err(rt(
            "ArgumentNullException",
            "Value cannot be null.\nParameter name: name",
            at,
        )),
        other => Err(cast_err(other, "System.Xml.Linq.XName", at)),
    }
}

fn parse_name(s: &str) -> XName {
    match s.strip_prefix('{').and_then(|r| r.split_once('}')) {
        Some((ns, local)) => XName {
            namespace: ns.to_string(),
            local: local.to_string(),
        },
        None => XName {
            namespace: String::new(),
            local: s.to_string(),
        },
    }
}

pub(crate) fn xname_value(n: XName) -> Value {
    Value::Object(Object::XName(Arc::new(n)))
}

/// `ns + "local"`: an `XNamespace` and a string make an `XName`; `None` for other operands.
pub(crate) fn xml_binary(op: BinOp, a: &Value, b: &Value) -> Option<Value> {
    match (op, a, b) {
        (BinOp::Add, Value::Object(Object::XNamespace(ns)), Value::String(local)) => {
            Some(xname_value(XName {
                namespace: ns.to_string(),
                local: local.to_string(),
            }))
        }
        _ => None,
    }
}

/// `XNamespace ns = "urn:x"`, `XName n = "a"`: the implicit conversions from string.
pub(crate) fn xml_implicit(ty: &str, v: &Value) -> Option<Value> {
    match (ty, v) {
        ("XNamespace", Value::String(s)) => Some(Value::Object(Object::XNamespace(s.clone()))),
        ("XName", Value::String(s)) => Some(xname_value(parse_name(s))),
        _ => None,
    }
}

/// `XmlConvert.ToString` of a scalar content value.
fn scalar_text(it: &mut Interp, v: &Value, at: usize) -> F<String> {
    match scalar_plain(v) {
        Some(s) => Ok(s),
        None => Ok(it.text(v, at)?.into_owned()),
    }
}

/// The scalars `XmlConvert` writes differently from `ToString()`; `None` for the rest.
pub(super) fn scalar_plain(v: &Value) -> Option<String> {
    Some(match v {
        Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Value::Double(d) if d.is_infinite() => if *d > 0.0 { "INF" } else { "-INF" }.to_string(),
        Value::DateTime(d) => {
            let s = format_datetime(*d, "o");
            // "o" writes seven fraction digits; XmlConvert drops trailing zeros (and the dot).
            let (main, frac) = s.trim_end_matches('Z').split_once('.').unwrap_or((&s, ""));
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{main}Z")
            } else {
                format!("{main}.{frac}Z")
            }
        }
        _ => return None,
    })
}

/// Adds one content item to an element being built.
pub(super) fn add_content(
    text_of: &mut dyn FnMut(&Value) -> F<String>,
    v: &Value,
    attributes: &mut Vec<XAttribute>,
    nodes: &mut Vec<XNode>,
    at: usize,
) -> F<()> {
    let text = |nodes: &mut Vec<XNode>, t: String| {
        if let Some(XNode::Text(prev)) = nodes.last_mut() {
            prev.push_str(&t);
        } else {
            nodes.push(XNode::Text(t));
        }
    };
    match v {
        Value::Null => {}
        Value::Object(Object::XAttribute(a)) => {
            if attributes.iter().any(|x| x.name == a.name) {
                return Err(rt("InvalidOperationException", "Duplicate attribute.", at));
            }
            attributes.push(a.as_ref().clone());
        }
        Value::Object(Object::XElement(e)) => nodes.push(XNode::Element(e.clone())),
        // A document adds its root element.
        Value::Object(Object::XDocument(e)) => nodes.push(XNode::Element(e.clone())),
        Value::Object(Object::XNode(n)) => match n.as_ref() {
            XNode::Text(t) => text(nodes, t.clone()),
            other => nodes.push(other.clone()),
        },
        Value::Array(items) => {
            for i in items {
                add_content(text_of, i, attributes, nodes, at)?;
            }
        }
        Value::Object(Object::XName(_) | Object::XNamespace(_)) => {
            text(nodes, v.to_display());
        }
        other => {
            let t = text_of(other)?;
            text(nodes, t);
        }
    }
    Ok(())
}

/// An element whose printed names follow its namespace (see the module comment). Built
/// before its parent, it is printed as if alone; its parent re-scopes it ([`rescope`]).
pub(super) fn finish(name: XName, attributes: Vec<XAttribute>, nodes: Vec<XNode>) -> Arc<XElement> {
    let e = Arc::new(XElement {
        qualified: name.local.clone(),
        name,
        attributes,
        nodes,
    });
    rescope(&e, &[], "")
}

fn default_ns(ns: &str) -> XAttribute {
    XAttribute {
        name: XName {
            namespace: XMLNS.into(),
            local: "xmlns".into(),
        },
        qualified: "xmlns".into(),
        value: ns.to_string(),
    }
}

/// Names and declarations of an element (and its descendants) placed where `prefixes`
/// (prefix, namespace) are declared and `default` is the default namespace: an element in a
/// namespace takes a prefix in scope, or the default namespace when it is that, or declares
/// it (`xmlns="…"`); an element in no namespace under a default one declares `xmlns=""`.
/// Names already written with a prefix (parsed documents) are kept.
pub(super) fn rescope(
    e: &Arc<XElement>,
    prefixes: &[(String, String)],
    default: &str,
) -> Arc<XElement> {
    let mut el = e.as_ref().clone();
    let mut scope = prefixes.to_vec();
    for a in &el.attributes {
        if let Some(p) = a.qualified.strip_prefix("xmlns:") {
            scope.push((p.to_string(), a.value.clone()));
        }
    }
    if !el.qualified.contains(':') {
        let ns = el.name.namespace.clone();
        let own = el.attributes.iter().position(|a| a.qualified == "xmlns");
        let prefix = scope
            .iter()
            .rev()
            .find(|(_, u)| *u == ns && !ns.is_empty())
            .map(|(p, _)| p.clone());
        match (prefix, own) {
            (Some(p), own) => {
                el.qualified = format!("{p}:{}", el.name.local);
                if let Some(i) = own.filter(|i| el.attributes[*i].value == ns) {
                    el.attributes.remove(i);
                }
            }
            (None, Some(i)) if el.attributes[i].value == default => {
                el.attributes.remove(i);
            }
            (None, Some(_)) => {}
            (None, None) if ns != default => el.attributes.push(default_ns(&ns)),
            (None, None) => {}
        }
    }
    let inner_default = el
        .attributes
        .iter()
        .find(|a| a.qualified == "xmlns")
        .map_or(default.to_string(), |a| a.value.clone());
    for n in el.nodes.iter_mut() {
        if let XNode::Element(c) = n {
            *c = rescope(c, &scope, &inner_default);
        }
    }
    Arc::new(el)
}

/// `new XElement(…)` and the other LINQ to XML constructors; `None` for another type.
pub(crate) fn construct_xml(
    it: &mut Interp,
    ty: &str,
    vals: &[Value],
    at: usize,
) -> Option<F<Value>> {
    if !matches!(
        ty,
        "XElement"
            | "XAttribute"
            | "XText"
            | "XCData"
            | "XComment"
            | "XProcessingInstruction"
            | "XDeclaration"
            | "XDocument"
    ) {
        return None;
    }
    Some((|| -> F<Value> {
        let a = |i: usize| {
            vals.get(i).ok_or_else(|| {
                rt(
                    "ArgumentException",
                    format!("missing argument {}", i + 1),
                    at,
                )
            })
        };
        let str_arg = |it: &mut Interp, i: usize| -> F<String> {
            match vals.get(i) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(v) => scalar_text(it, v, at),
            }
        };
        Ok(match ty {
            "XElement" => {
                // `new XElement(other)` copies; otherwise a name and content.
                if let [Value::Object(Object::XElement(e))] = vals {
                    return Ok(Value::Object(Object::XElement(e.clone())));
                }
                let name = name_arg(a(0)?, at)?;
                let mut attributes = Vec::new();
                let mut nodes = Vec::new();
                for v in &vals[1..] {
                    it.charge(it.size_of(v).saturating_add(SLOT), at)?;
                    add_content(
                        &mut |x| scalar_text(it, x, at),
                        v,
                        &mut attributes,
                        &mut nodes,
                        at,
                    )?;
                }
                Value::Object(Object::XElement(finish(name, attributes, nodes)))
            }
            "XAttribute" => {
                let name = name_arg(a(0)?, at)?;
                let value = match a(1)? {
                    Value::Null => {
                        return Err(rt(
                            "ArgumentNullException",
                            "Value cannot be null.\nParameter name: value",
                            at,
                        ));
                    }
                    v => scalar_text(it, v, at)?,
                };
                let qualified = match name.namespace.as_str() {
                    "" => name.local.clone(),
                    XMLNS => format!("xmlns:{}", name.local),
                    XML => format!("xml:{}", name.local),
                    // Printed with a prefix its element declares; without one, .NET makes
                    // one up (p1), which policies do not rely on.
                    _ => name.local.clone(),
                };
                Value::Object(Object::XAttribute(Arc::new(XAttribute {
                    name,
                    qualified,
                    value,
                })))
            }
            "XText" => node(XNode::Text(str_arg(it, 0)?)),
            "XCData" => node(XNode::CData(str_arg(it, 0)?)),
            "XComment" => node(XNode::Comment(str_arg(it, 0)?)),
            "XProcessingInstruction" => node(XNode::Pi(str_arg(it, 0)?, str_arg(it, 1)?)),
            "XDeclaration" => {
                // Only what `ToString()` of a document shows, which leaves it out.
                let mut r = BTreeMap::new();
                r.insert("Version".to_string(), Value::str(str_arg(it, 0)?));
                r.insert("Encoding".to_string(), Value::str(str_arg(it, 1)?));
                r.insert("Standalone".to_string(), Value::str(str_arg(it, 2)?));
                Value::Object(Object::Record(Arc::new(r)))
            }
            "XDocument" => {
                // The root element; a declaration, comments and processing instructions at
                // the document level are not kept (`ToString()` leaves the declaration out).
                let root = vals.iter().find_map(|v| match v {
                    Value::Object(Object::XElement(e) | Object::XDocument(e)) => Some(e.clone()),
                    Value::Array(items) => items.iter().find_map(|i| match i {
                        Value::Object(Object::XElement(e)) => Some(e.clone()),
                        _ => None,
                    }),
                    _ => None,
                });
                match root {
                    Some(e) => Value::Object(Object::XDocument(e)),
                    None => {
                        return Err(rt(
                            "NotSupportedException",
                            "An XDocument without a root element is not supported",
                            at,
                        ));
                    }
                }
            }
            _ => return Err(rt("NotSupportedException", "not an XML type", at)),
        })
    })())
}

fn node(n: XNode) -> Value {
    Value::Object(Object::XNode(Arc::new(n)))
}

/// `XNamespace.Get`, `XName.Get`, `XNode.DeepEquals`; `None` for another member.
pub(crate) fn xml_build_static(ty: &str, name: &str, args: &Args, at: usize) -> F<Option<Value>> {
    let a = |i: usize| arg(args, i, at);
    Ok(Some(match (ty, name) {
        ("XNamespace", "Get") => Value::Object(Object::XNamespace(Arc::from(as_str(a(0)?, at)?))),
        ("XName", "Get") => match args.get(1) {
            Some((_, ns)) => xname_value(XName {
                namespace: as_str(ns, at)?,
                local: as_str(a(0)?, at)?,
            }),
            None => xname_value(parse_name(&as_str(a(0)?, at)?)),
        },
        ("XNode", "DeepEquals") => Value::Bool(deep_equals(a(0)?, a(1)?)),
        _ => return Ok(None),
    }))
}

/// `XNamespace.Xmlns`, `XNamespace.Xml`, `XNamespace.None`, `SaveOptions.*`, `LoadOptions.*`.
pub(crate) fn xml_static_property(ty: &str, name: &str) -> Option<Value> {
    let ns = |s: &str| Value::Object(Object::XNamespace(Arc::from(s)));
    Some(match (ty, name) {
        ("XNamespace", "Xmlns") => ns(XMLNS),
        ("XNamespace", "Xml") => ns(XML),
        ("XNamespace", "None") => ns(""),
        ("SaveOptions", "None") | ("LoadOptions", "None") => Value::Int(0),
        ("SaveOptions", "DisableFormatting") | ("LoadOptions", "PreserveWhitespace") => {
            Value::Int(1)
        }
        ("SaveOptions", "OmitDuplicateNamespaces") | ("LoadOptions", "SetBaseUri") => Value::Int(2),
        ("LoadOptions", "SetLineInfo") => Value::Int(4),
        _ => return None,
    })
}

/// Whether `policy check` knows `ty.name` among the members above.
pub(crate) fn xml_build_member_exists(ty: &str, name: &str, call: bool) -> bool {
    if call {
        return matches!(
            (ty, name),
            ("XNamespace", "Get") | ("XName", "Get") | ("XNode", "DeepEquals" | "ReadFrom")
        );
    }
    xml_static_property(ty, name).is_some()
}

/// `XNode.DeepEquals`: same names, attributes (in order) and child nodes, prefixes aside.
fn deep_equals(a: &Value, b: &Value) -> bool {
    fn el(x: &XElement, y: &XElement) -> bool {
        x.name == y.name
            && x.attributes.len() == y.attributes.len()
            && x.attributes
                .iter()
                .zip(&y.attributes)
                .all(|(p, q)| p.name == q.name && p.value == q.value)
            && x.nodes.len() == y.nodes.len()
            && x.nodes.iter().zip(&y.nodes).all(|(p, q)| match (p, q) {
                (XNode::Element(p), XNode::Element(q)) => el(p, q),
                (p, q) => p == q,
            })
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (
            Value::Object(Object::XElement(x) | Object::XDocument(x)),
            Value::Object(Object::XElement(y) | Object::XDocument(y)),
        ) => el(x, y),
        (Value::Object(Object::XNode(x)), Value::Object(Object::XNode(y))) => x == y,
        _ => false,
    }
}
