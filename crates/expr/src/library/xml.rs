//! LINQ to XML at run time: `XElement.Parse`/`XDocument.Parse` into the tree of
//! crates/expr/src/xml.rs, and the members and methods expressions call on it.

use super::*;
use crate::xml::{MAX_XML_DEPTH, XAttribute, XElement, XName, XNode};

fn descendants(element: &Arc<XElement>, wanted: Option<&str>, out: &mut Vec<Value>) {
    for e in element.elements() {
        if wanted.is_none_or(|w| e.name.matches(w)) {
            out.push(element_value(e.clone()));
        }
        descendants(e, wanted, out);
    }
}

pub(crate) fn element_value(e: Arc<XElement>) -> Value {
    Value::Object(Object::XElement(e))
}

/// Parses text into the root element (`XElement.Parse`, `XDocument.Parse(...).Root`).
pub(crate) fn parse(text: &str, at: usize) -> F<Arc<XElement>> {
    let doc =
        roxmltree::Document::parse(text).map_err(|e| rt("XmlException", e.to_string(), at))?;
    convert(doc.root_element(), 0, at)
}

/// One element of a parsed document (with its subtree) as LINQ to XML; `depth` is how deep it
/// lies, counted against [`MAX_XML_DEPTH`].
pub(crate) fn convert_element(n: roxmltree::Node, depth: usize, at: usize) -> F<Arc<XElement>> {
    convert(n, depth, at)
}

fn convert(n: roxmltree::Node, depth: usize, at: usize) -> F<Arc<XElement>> {
    if depth > MAX_XML_DEPTH {
        return Err(rt(
            "XmlException",
            format!("The XML is nested deeper than {MAX_XML_DEPTH} levels."),
            at,
        ));
    }
    let qualify = |ns: Option<&str>, local: &str| -> String {
        match ns.and_then(|u| n.lookup_prefix(u)) {
            Some(p) if !p.is_empty() => format!("{p}:{local}"),
            _ => local.to_string(),
        }
    };
    let tag = n.tag_name();
    let mut attributes = Vec::new();
    // Declarations made on this element (not inherited ones) print as xmlns attributes.
    let parent_ns: Vec<(Option<&str>, &str)> = n
        .parent_element()
        .map(|p| p.namespaces().map(|x| (x.name(), x.uri())).collect())
        .unwrap_or_default();
    for d in n.namespaces() {
        if parent_ns.contains(&(d.name(), d.uri())) || d.name() == Some("xml") {
            continue;
        }
        let (local, qualified) = match d.name() {
            Some(p) => (p.to_string(), format!("xmlns:{p}")),
            None => ("xmlns".to_string(), "xmlns".to_string()),
        };
        attributes.push(XAttribute {
            name: XName {
                namespace: "http://www.w3.org/2000/xmlns/".into(),
                local,
            },
            qualified,
            value: d.uri().to_string(),
        });
    }
    for a in n.attributes() {
        attributes.push(XAttribute {
            name: XName {
                namespace: a.namespace().unwrap_or_default().to_string(),
                local: a.name().to_string(),
            },
            qualified: qualify(a.namespace(), a.name()),
            value: a.value().to_string(),
        });
    }
    let mut nodes = Vec::new();
    for c in n.children() {
        if c.is_element() {
            nodes.push(XNode::Element(convert(c, depth + 1, at)?));
        } else if c.is_comment() {
            nodes.push(XNode::Comment(c.text().unwrap_or_default().to_string()));
        } else if let Some(pi) = c.pi() {
            nodes.push(XNode::Pi(
                pi.target.to_string(),
                pi.value.unwrap_or_default().to_string(),
            ));
        } else if c.is_text()
            && let Some(t) = c.text()
        {
            // Adjacent text (text then CDATA) is one node, as XLinq merges them.
            if let Some(XNode::Text(prev)) = nodes.last_mut() {
                prev.push_str(t);
            } else {
                nodes.push(XNode::Text(t.to_string()));
            }
        }
    }
    // Whitespace between elements is not content (LoadOptions.None drops it).
    if nodes.iter().any(|x| !matches!(x, XNode::Text(_))) {
        nodes.retain(|x| !matches!(x, XNode::Text(t) if t.trim().is_empty()));
    }
    Ok(Arc::new(XElement {
        name: XName {
            namespace: tag.namespace().unwrap_or_default().to_string(),
            local: tag.name().to_string(),
        },
        qualified: qualify(tag.namespace(), tag.name()),
        attributes,
        nodes,
    }))
}

/// A child node as a value: elements as `XElement`, the rest as `XNode`.
pub(crate) fn node_value(n: XNode) -> Value {
    match n {
        XNode::Element(e) => element_value(e),
        other => Value::Object(Object::XNode(Arc::new(other))),
    }
}

/// `ToString(SaveOptions)`: `DisableFormatting` (1) prints without indentation.
fn compact_arg(args: &[Value]) -> bool {
    matches!(args.first(), Some(Value::Int(o)) if o & 1 == 1)
}

fn name_value(n: &XName) -> Value {
    Value::Object(Object::XName(Arc::new(n.clone())))
}

fn no_member(t: &str, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!("'{t}' does not contain a definition for '{name}'"),
        at,
    )
}

/// Properties of the XML objects; `None` when `t` is not one.
pub(crate) fn member(t: &Value, name: &str, at: usize) -> Option<F<Value>> {
    let Value::Object(o) = t else { return None };
    Some(Ok(match (o, name) {
        (Object::XDocument(root), "Root") => element_value(root.clone()),
        (Object::XDocument(root), "Value") => Value::str(root.value()),
        (Object::XElement(e), "Name") => name_value(&e.name),
        (Object::XElement(e), "Value") => Value::str(e.value()),
        (Object::XElement(e), "HasElements") => Value::Bool(e.elements().next().is_some()),
        (Object::XElement(e), "HasAttributes") => Value::Bool(!e.attributes.is_empty()),
        (Object::XElement(e), "IsEmpty") => Value::Bool(e.nodes.is_empty()),
        (Object::XAttribute(a), "Name") => name_value(&a.name),
        (Object::XAttribute(a), "Value") => Value::str(&a.value),
        (Object::XName(n), "LocalName") => Value::str(&n.local),
        (Object::XName(n), "NamespaceName") => Value::str(&n.namespace),
        (Object::XName(n), "Namespace") => {
            Value::Object(Object::XNamespace(Arc::from(n.namespace.as_str())))
        }
        (Object::XNamespace(ns), "NamespaceName") => Value::String(Arc::from(&**ns)),
        (Object::XElement(_), "NodeType") => Value::str("Element"),
        (Object::XDocument(_), "NodeType") => Value::str("Document"),
        (Object::XAttribute(_), "NodeType") => Value::str("Attribute"),
        (Object::XElement(e), "FirstNode" | "LastNode") => {
            let n = if name == "FirstNode" {
                e.nodes.first()
            } else {
                e.nodes.last()
            };
            n.map_or(Value::Null, |n| node_value(n.clone()))
        }
        (Object::XDocument(r), "FirstNode" | "LastNode") => element_value(r.clone()),
        (Object::XNode(n), "NodeType") => Value::str(n.node_type()),
        (Object::XNode(n), "Value" | "Data" | "Target") => match (n.as_ref(), name) {
            (XNode::Text(t) | XNode::CData(t) | XNode::Comment(t), "Value") => Value::str(t),
            (XNode::Pi(target, _), "Target") => Value::str(target),
            (XNode::Pi(_, data), "Data") => Value::str(data),
            _ => return Some(Err(no_member(t.type_name(), name, at))),
        },
        (
            Object::XDocument(_) | Object::XElement(_) | Object::XNode(_),
            "Parent" | "NextNode" | "PreviousNode" | "Document",
        ) => {
            return Some(Err(rt(
                "NotSupportedException",
                format!(
                    "{name} is not supported: trees here have no parent links (values are immutable)"
                ),
                at,
            )));
        }
        (
            Object::XDocument(_)
            | Object::XElement(_)
            | Object::XAttribute(_)
            | Object::XName(_)
            | Object::XNamespace(_)
            | Object::XNode(_),
            _,
        ) => return Some(Err(no_member(t.type_name(), name, at))),
        _ => return None,
    }))
}

/// Methods of the XML objects; `None` when `t` is not one.
pub(crate) fn call(t: &Value, name: &str, args: &[Value], at: usize) -> Option<F<Value>> {
    let Value::Object(o) = t else { return None };
    match o {
        Object::XNode(n) => {
            return Some(match name {
                "ToString" => Ok(Value::str(n.to_xml(compact_arg(args)))),
                _ => Err(no_member(t.type_name(), name, at)),
            });
        }
        Object::XNamespace(ns) => {
            return Some(match (name, args.first()) {
                ("ToString", _) => Ok(Value::String(Arc::from(&**ns))),
                ("GetName", Some(local)) => match local {
                    Value::String(l) => Ok(name_value(&XName {
                        namespace: ns.to_string(),
                        local: l.to_string(),
                    })),
                    other => Err(cast_err(other, "System.String", at)),
                },
                _ => Err(no_member(t.type_name(), name, at)),
            });
        }
        _ => {}
    }
    if name == "ToString"
        && let Object::XElement(e) | Object::XDocument(e) = o
    {
        return Some(Ok(Value::str(e.to_xml_with(compact_arg(args)))));
    }
    let wanted = match args.first() {
        None => None,
        Some(Value::String(s)) => Some(s.to_string()),
        Some(Value::Object(Object::XName(n))) => Some(n.expanded()),
        Some(other) => {
            return Some(Err(rt(
                "InvalidCastException",
                format!(
                    "Unable to cast object of type '{}' to type 'System.Xml.Linq.XName'.",
                    other.type_name()
                ),
                at,
            )));
        }
    };
    let wanted = wanted.as_deref();
    // A document behaves as a container whose only child is the root element.
    let (element, in_document) = match o {
        Object::XElement(e) => (e, false),
        Object::XDocument(r) => (r, true),
        Object::XAttribute(a) => {
            return match name {
                "ToString" => Some(Ok(Value::str(a.to_xml()))),
                _ => Some(Err(no_member(t.type_name(), name, at))),
            };
        }
        Object::XName(n) => {
            return match name {
                "ToString" => Some(Ok(Value::str(n.expanded()))),
                _ => Some(Err(no_member(t.type_name(), name, at))),
            };
        }
        _ => return None,
    };
    let children: Vec<&Arc<XElement>> = if in_document {
        vec![element]
    } else {
        element.elements().collect()
    };
    Some(Ok(match name {
        "ToString" => Value::str(element.to_xml()),
        "Element" => {
            let Some(w) = wanted else {
                return Some(Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'name')",
                    at,
                )));
            };
            children
                .into_iter()
                .find(|e| e.name.matches(w))
                .map(|e| element_value(e.clone()))
                .unwrap_or(Value::Null)
        }
        "Elements" => Value::Array(
            children
                .into_iter()
                .filter(|e| wanted.is_none_or(|w| e.name.matches(w)))
                .map(|e| element_value(e.clone()))
                .collect(),
        ),
        "Descendants" | "DescendantsAndSelf" => {
            let mut out = Vec::new();
            let self_too = name == "DescendantsAndSelf" || in_document;
            if self_too && wanted.is_none_or(|w| element.name.matches(w)) {
                out.push(element_value(element.clone()));
            }
            descendants(element, wanted, &mut out);
            Value::Array(out)
        }
        "Attribute" if !in_document => {
            let Some(w) = wanted else {
                return Some(Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'name')",
                    at,
                )));
            };
            element
                .attributes
                .iter()
                .find(|a| a.name.matches(w))
                .map(|a| Value::Object(Object::XAttribute(Arc::new(a.clone()))))
                .unwrap_or(Value::Null)
        }
        "Nodes" => Value::Array(if in_document {
            vec![element_value(element.clone())]
        } else {
            element.nodes.iter().cloned().map(node_value).collect()
        }),
        "Attributes" if !in_document => Value::Array(
            element
                .attributes
                .iter()
                .filter(|a| wanted.is_none_or(|w| a.name.matches(w)))
                .map(|a| Value::Object(Object::XAttribute(Arc::new(a.clone()))))
                .collect(),
        ),
        _ => return Some(Err(no_member(t.type_name(), name, at))),
    }))
}

/// `(string)x`, `(int)x` … on an element or attribute: its value converted, as XLinq's
/// explicit operators do. `None` when `v` is not an element or attribute.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(Object::XElement(e)) => Some(e.value()),
        Value::Object(Object::XAttribute(a)) => Some(a.value.clone()),
        _ => None,
    }
}
