//! Building LINQ to XML: `new XElement(name, content…)`, `XAttribute`, `XText`, `XCData`,
//! `XComment`, `XProcessingInstruction`, `XDocumentType`, `XDocument`, `XDeclaration`, the
//! node comparers; `XNamespace` (`XNamespace ns = "urn:x"; ns + "a"`) and `XName`; the node
//! types' statics (`XNode.DeepEquals`, `CompareDocumentOrder`, `EqualityComparer` …). The tree
//! and its printing are crates/expr/src/xml.rs.
//!
//! Content is added as .NET adds it (crates/expr/src/library/xml_mutate.rs): a string (or
//! number, bool, date) is text, `null` is skipped, a sequence adds each item, an attribute
//! goes to the attributes, a node is a child (a copy when it has a parent). Scalars are
//! written as `XmlConvert` writes them:
//! `true`, `2.5`, dates as ISO 8601 (taken as UTC, the gateway's clock; doubles shortest
//! round-trip, where .NET Framework's "R" can print 17 digits).
//!
//! Namespaces are printed where the element is written (crates/expr/src/xml.rs): an element in
//! a namespace uses a prefix bound to it in scope, else declares the namespace as default
//! (`xmlns="…"`); an element outside any namespace inside a default namespace gets
//! `xmlns=""`. Checked against Mono (mcs/mono); see crates/expr/tests/xml_json.rs and
//! crates/expr/tests/xml_tree.rs for the C# and its output.

use super::xml::{attribute, deep_equals, document_order, node_of, xvalue};
use super::xml_mutate::add_content;
use super::*;
use crate::xml::{XData, XName, XObject};

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
pub(super) fn scalar_text(it: &mut Interp, v: &Value, at: usize) -> F<String> {
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
            | "XDocumentType"
            | "XNodeEqualityComparer"
            | "XNodeDocumentOrderComparer"
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
        let text_node = |it: &mut Interp, data: fn(String) -> XData| -> F<Value> {
            // `new XText(x)` copies another text (and so on); a null is refused.
            let v = match vals.first() {
                Some(Value::Null) | None => return Err(null_arg("value", at)),
                Some(v) => v,
            };
            if let Some(n) = node_of(v) {
                return Ok(xvalue(n.deep_clone()));
            }
            let s = scalar_text(it, v, at)?;
            it.charge(s.len().saturating_add(SLOT), at)?;
            Ok(xvalue(XObject::new(data(s))))
        };
        Ok(match ty {
            "XElement" => {
                // `new XElement(other)` copies; otherwise a name and content.
                if let [Value::Object(Object::XElement(e))] = vals {
                    it.charge(it.size_of(&vals[0]), at)?;
                    return Ok(xvalue(e.deep_clone()));
                }
                let name = name_arg(a(0)?, at)?;
                let e = XObject::element(name);
                add_content(it, &e, &vals[1..], at)?;
                xvalue(e)
            }
            "XAttribute" => {
                if let [Value::Object(Object::XAttribute(a))] = vals {
                    return Ok(xvalue(a.deep_clone()));
                }
                let name = name_arg(a(0)?, at)?;
                let value = match a(1)? {
                    Value::Null => return Err(null_arg("value", at)),
                    v => scalar_text(it, v, at)?,
                };
                xvalue(attribute(name, value))
            }
            "XText" => text_node(it, XData::Text)?,
            "XCData" => text_node(it, XData::CData)?,
            "XComment" => text_node(it, XData::Comment)?,
            "XProcessingInstruction" => {
                if let [v] = vals
                    && let Some(n) = node_of(v)
                {
                    return Ok(xvalue(n.deep_clone()));
                }
                let target = match a(0)? {
                    Value::Null => return Err(null_arg("target", at)),
                    v => scalar_text(it, v, at)?,
                };
                let data = match a(1)? {
                    Value::Null => return Err(null_arg("data", at)),
                    v => scalar_text(it, v, at)?,
                };
                xvalue(XObject::new(XData::Pi(target, data)))
            }
            "XDocumentType" => {
                if let [v] = vals
                    && let Some(n) = node_of(v)
                {
                    return Ok(xvalue(n.deep_clone()));
                }
                let s = |i: usize| -> F<Option<String>> {
                    match vals.get(i) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.to_string())),
                        Some(other) => Err(cast_err(other, "System.String", at)),
                    }
                };
                xvalue(XObject::new(XData::DocumentType {
                    name: s(0)?.ok_or_else(|| null_arg("name", at))?,
                    public_id: s(1)?,
                    system_id: s(2)?,
                    internal_subset: s(3)?,
                }))
            }
            "XNodeEqualityComparer" => Value::Object(Object::XComparer(false)),
            "XNodeDocumentOrderComparer" => Value::Object(Object::XComparer(true)),
            "XDeclaration" => {
                let mut r = BTreeMap::new();
                for (i, k) in ["Version", "Encoding", "Standalone"]
                    .into_iter()
                    .enumerate()
                {
                    let v = match vals.get(i) {
                        None | Some(Value::Null) => Value::Null,
                        Some(v) => Value::str(scalar_text(it, v, at)?),
                    };
                    r.insert(k.to_string(), v);
                }
                Value::Object(Object::Record(Arc::new(r)))
            }
            "XDocument" => {
                // `new XDocument(other)` copies; otherwise an optional declaration and content.
                if let [Value::Object(Object::XDocument(d))] = vals {
                    it.charge(it.size_of(&vals[0]), at)?;
                    return Ok(xvalue(d.deep_clone()));
                }
                let (declaration, content) = match vals.first() {
                    Some(Value::Object(Object::Record(r))) if crate::xml::is_declaration(r) => {
                        (Some(crate::xml::declaration_of(r)), &vals[1..])
                    }
                    _ => (None, vals),
                };
                let d = XObject::new(XData::Document {
                    declaration,
                    nodes: Vec::new(),
                });
                add_content(it, &d, content, at)?;
                xvalue(d)
            }
            _ => return Err(rt("NotSupportedException", "not an XML type", at)),
        })
    })())
}

fn null_arg(param: &str, at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        format!("Value cannot be null.\nParameter name: {param}"),
        at,
    )
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
        (
            "XNode"
            | "XElement"
            | "XDocument"
            | "XContainer"
            | "XText"
            | "XCData"
            | "XComment"
            | "XProcessingInstruction"
            | "XDocumentType",
            "DeepEquals" | "CompareDocumentOrder",
        ) => {
            let (x, y) = (optional_node(a(0)?, at)?, optional_node(a(1)?, at)?);
            if name == "DeepEquals" {
                Value::Bool(deep_equals(x.as_ref(), y.as_ref()))
            } else {
                Value::Int(document_order(x.as_ref(), y.as_ref(), at)?)
            }
        }
        _ => return Ok(None),
    }))
}

/// An `XNode` argument that may be null; anything else is an InvalidCastException.
fn optional_node(v: &Value, at: usize) -> F<Option<crate::xml::XRef>> {
    match v {
        Value::Null => Ok(None),
        v => node_of(v)
            .cloned()
            .map(Some)
            .ok_or_else(|| cast_err(v, "System.Xml.Linq.XNode", at)),
    }
}

/// `XNamespace.Xmlns`, `XNamespace.Xml`, `XNamespace.None`, `SaveOptions.*`, `LoadOptions.*`.
pub(crate) fn xml_static_property(ty: &str, name: &str) -> Option<Value> {
    let ns = |s: &str| Value::Object(Object::XNamespace(Arc::from(s)));
    Some(match (ty, name) {
        ("XNamespace", "Xmlns") => ns(XMLNS),
        ("XNamespace", "Xml") => ns(XML),
        ("XNamespace", "None") => ns(""),
        (
            "XNode"
            | "XElement"
            | "XDocument"
            | "XContainer"
            | "XText"
            | "XCData"
            | "XComment"
            | "XProcessingInstruction"
            | "XDocumentType",
            "EqualityComparer",
        ) => Value::Object(Object::XComparer(false)),
        (
            "XNode"
            | "XElement"
            | "XDocument"
            | "XContainer"
            | "XText"
            | "XCData"
            | "XComment"
            | "XProcessingInstruction"
            | "XDocumentType",
            "DocumentOrderComparer",
        ) => Value::Object(Object::XComparer(true)),
        ("XElement" | "XAttribute", "EmptySequence") => Value::Array(Vec::new()),
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
            ("XNamespace", "Get")
                | ("XName", "Get")
                | (
                    "XNode"
                        | "XElement"
                        | "XDocument"
                        | "XContainer"
                        | "XText"
                        | "XCData"
                        | "XComment"
                        | "XProcessingInstruction"
                        | "XDocumentType",
                    "ReadFrom" | "DeepEquals" | "CompareDocumentOrder" | "ReadFromAsync"
                )
                | ("XElement" | "XDocument", "LoadAsync")
        );
    }
    xml_static_property(ty, name).is_some()
}
