//! `System.Xml.XmlReader` as policies use it: `XmlReader.Create(new StringReader(s))`, then
//! `Read`/`MoveToContent`/`ReadToFollowing` and the current node's properties, and
//! `XElement.Load(reader)`/`XNode.ReadFrom(reader)` for the element under the cursor.
//!
//! A pull reader over the document parsed once by roxmltree (the crate LINQ to XML here
//! already uses, crates/expr/src/library/xml.rs), not a streaming parser: the body is in
//! memory anyway, and the whole document is charged to the memory budget before it is parsed,
//! as `XElement.Parse` is. Differences from .NET's reader, which policies are not expected to
//! observe: CDATA sections read as `Text` (roxmltree merges them with adjacent text), entity
//! references are expanded, and attributes are reached with `GetAttribute`, not by moving
//! onto them. A DOCTYPE is refused, as .NET's default `DtdProcessing.Prohibit` does.
//!
//! Checked against Mono (mcs/mono), `XmlReader.Create(new StringReader(
//! "<?xml version=\"1.0\"?><a x=\"1\"><b>t</b><c/></a>"))`, printing NodeType Name Depth
//! IsEmptyElement Value for each Read():
//! ```text
//! XmlDeclaration xml 0 False version="1.0"
//! Element a 0 False
//! Element b 1 False
//! Text  2 False t
//! EndElement b 1 False
//! Element c 1 True
//! EndElement a 0 False
//! ```

mod flatten;

use super::*;
use crate::io::{IoState, ReaderNode, XmlReaderState};
use flatten::flatten;

/// The `XmlNodeType` members (their names are the values: `reader.NodeType ==
/// XmlNodeType.Element` compares names, and `ToString()` prints them).
pub(crate) const XML_NODE_TYPES: &[&str] = &[
    "None",
    "Element",
    "Attribute",
    "Text",
    "CDATA",
    "EntityReference",
    "Entity",
    "ProcessingInstruction",
    "Comment",
    "Document",
    "DocumentType",
    "DocumentFragment",
    "Notation",
    "Whitespace",
    "SignificantWhitespace",
    "EndElement",
    "EndEntity",
    "XmlDeclaration",
];

/// `XmlReader.Create(TextReader[, settings])`: a `StringReader`'s remaining text, or a string
/// (which .NET would take as a URL: refused, as APIM refuses file and network access).
pub(crate) fn xml_reader_create(args: &Args, at: usize) -> F<Value> {
    let text = match arg(args, 0, at)? {
        Value::Object(Object::Io(io)) => match &mut *io.state() {
            IoState::StringReader { text, pos } => {
                let rest: Arc<str> = Arc::from(text.get(*pos..).unwrap_or_default());
                *pos = text.len();
                rest
            }
            _ => return Err(cast_err(arg(args, 0, at)?, "System.IO.TextReader", at)),
        },
        Value::Null => {
            return Err(rt(
                "ArgumentNullException",
                "Value cannot be null.\nParameter name: input",
                at,
            ));
        }
        other => {
            return Err(rt(
                "NotSupportedException",
                format!(
                    "XmlReader.Create({}) would read a file or URL; pass new StringReader(text)",
                    other.type_name()
                ),
                at,
            ));
        }
    };
    Ok(io_value(IoState::XmlReader(XmlReaderState {
        text,
        nodes: None,
        pos: None,
    })))
}

fn nodes<'s>(it: &mut Interp, s: &'s mut XmlReaderState, at: usize) -> F<&'s [ReaderNode]> {
    if s.nodes.is_none() {
        s.nodes = Some(flatten(it, &s.text, at)?);
    }
    Ok(s.nodes.as_deref().unwrap_or_default())
}

fn current(s: &XmlReaderState) -> Option<&ReaderNode> {
    s.nodes.as_ref()?.get(s.pos?)
}

/// Moves to the next node; whether there was one.
fn advance(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<bool> {
    let len = nodes(it, s, at)?.len();
    let next = s.pos.map_or(0, |p| (p + 1).min(len));
    s.pos = Some(next);
    Ok(next < len)
}

/// Moves to the node after the current element's end (`Skip`, and after reading an element).
fn past_element(s: &mut XmlReaderState) {
    if let (Some(n), Some(p)) = (current(s), s.pos) {
        let after = if n.kind == "Element" {
            n.end + 1
        } else {
            p + 1
        };
        let len = s.nodes.as_ref().map_or(0, Vec::len);
        s.pos = Some(after.min(len));
    }
}

fn is_content(kind: &str) -> bool {
    matches!(
        kind,
        "Element" | "Text" | "CDATA" | "EndElement" | "EntityReference" | "EndEntity"
    )
}

fn not_element(kind: &str, at: usize) -> Flow {
    rt(
        "XmlException",
        format!("'{kind}' is an invalid XmlNodeType."),
        at,
    )
}

/// Properties of an `XmlReader`; `None` for a name it does not have.
pub(crate) fn xml_reader_member(s: &XmlReaderState, name: &str) -> Option<Value> {
    let n = current(s);
    let len = s.nodes.as_ref().map_or(usize::MAX, Vec::len);
    let text = |f: fn(&ReaderNode) -> &str| Value::str(n.map_or("", f));
    Some(match name {
        "NodeType" => Value::str(n.map_or("None", |n| n.kind)),
        "Name" => text(|n| &n.name),
        "LocalName" => text(|n| &n.local),
        "NamespaceURI" => text(|n| &n.namespace),
        "Prefix" => text(|n| n.name.split_once(':').map_or("", |(p, _)| p)),
        "Value" => text(|n| &n.value),
        "HasValue" => Value::Bool(n.is_some_and(|n| n.kind != "Element" && n.kind != "EndElement")),
        "Depth" => Value::Int(n.map_or(0, |n| n.depth)),
        "IsEmptyElement" => Value::Bool(n.is_some_and(|n| n.empty)),
        "HasAttributes" => Value::Bool(n.is_some_and(|n| !n.attributes.is_empty())),
        "AttributeCount" => Value::Int(n.map_or(0, |n| n.attributes.len() as i64)),
        "EOF" => Value::Bool(s.pos.is_some_and(|p| p >= len)),
        "ReadState" => Value::str(match s.pos {
            None => "Initial",
            Some(p) if p >= len => "EndOfFile",
            _ => "Interactive",
        }),
        _ => return None,
    })
}

/// Methods of an `XmlReader`.
pub(crate) fn xml_reader_call(
    it: &mut Interp,
    s: &mut XmlReaderState,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    let wanted = |i: usize| -> F<String> { as_str(arg(args, i, at)?, at) };
    Ok(match name {
        "Read" => Value::Bool(advance(it, s, at)?),
        "MoveToContent" => {
            if s.pos.is_none() {
                advance(it, s, at)?;
            }
            while let Some(n) = current(s) {
                if is_content(n.kind) {
                    break;
                }
                advance(it, s, at)?;
            }
            Value::str(current(s).map_or("None", |n| n.kind))
        }
        "IsStartElement" => {
            let kind = xml_reader_call(it, s, "MoveToContent", &Vec::new(), at)?;
            let name_ok = match args.first() {
                Some(_) => current(s).is_some_and(|n| n.name == wanted(0).unwrap_or_default()),
                None => true,
            };
            Value::Bool(kind.to_display() == "Element" && name_ok)
        }
        "ReadToFollowing" => {
            let w = wanted(0)?;
            while advance(it, s, at)? {
                if current(s).is_some_and(|n| n.kind == "Element" && n.name == w) {
                    return Ok(Value::Bool(true));
                }
            }
            Value::Bool(false)
        }
        "ReadToDescendant" | "ReadToNextSibling" => {
            let w = wanted(0)?;
            if s.pos.is_none() {
                advance(it, s, at)?;
            }
            let Some(start) = current(s).cloned() else {
                return Ok(Value::Bool(false));
            };
            let descend = name == "ReadToDescendant";
            if descend && (start.kind != "Element" || start.empty) {
                return Ok(Value::Bool(false));
            }
            if !descend {
                past_element(s);
                s.pos = s.pos.map(|p| p.saturating_sub(1));
            }
            while advance(it, s, at)? {
                let Some(n) = current(s) else { break };
                if n.depth < start.depth
                    || (descend && n.depth == start.depth && n.kind == "EndElement")
                {
                    break;
                }
                let at_level = if descend {
                    n.depth > start.depth
                } else {
                    n.depth == start.depth
                };
                if at_level && n.kind == "Element" && n.name == w {
                    return Ok(Value::Bool(true));
                }
                if !descend && n.kind == "Element" {
                    past_element(s);
                    s.pos = s.pos.map(|p| p.saturating_sub(1));
                }
            }
            Value::Bool(false)
        }
        "ReadElementContentAsString" | "ReadElementString" => {
            xml_reader_call(it, s, "MoveToContent", &Vec::new(), at)?;
            let Some(n) = current(s).cloned() else {
                return Err(not_element("None", at));
            };
            if n.kind != "Element" {
                return Err(not_element(n.kind, at));
            }
            let all = s.nodes.as_deref().unwrap_or_default();
            let mut out = String::new();
            if let Some(inner) = s.pos.and_then(|p| all.get(p + 1..n.end)) {
                for c in inner {
                    match c.kind {
                        "Text" | "Whitespace" | "CDATA" => out.push_str(&c.value),
                        "Comment" | "ProcessingInstruction" => {}
                        _ => {
                            return Err(rt(
                                "XmlException",
                                "ReadElementContentAs() methods cannot be called on an element that has child elements.",
                                at,
                            ));
                        }
                    }
                }
            }
            past_element(s);
            Value::str(out)
        }
        "Skip" => {
            if s.pos.is_none() {
                advance(it, s, at)?;
            } else {
                past_element(s);
            }
            Value::Null
        }
        "GetAttribute" => {
            let n = current(s);
            match arg(args, 0, at)? {
                Value::Int(i) => {
                    let a =
                        n.and_then(|n| usize::try_from(*i).ok().and_then(|i| n.attributes.get(i)));
                    match a {
                        Some((_, v)) => Value::str(v),
                        None => return Err(arg_range("Index was out of range.", at)),
                    }
                }
                v => {
                    let w = as_str(v, at)?;
                    n.and_then(|n| n.attributes.iter().find(|(q, _)| *q == w))
                        .map_or(Value::Null, |(_, v)| Value::str(v))
                }
            }
        }
        "ReadOuterXml" => read_xml(it, s, true, at)?,
        "ReadInnerXml" => read_xml(it, s, false, at)?,
        "Close" | "Dispose" => Value::Null,
        _ => {
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Xml.XmlReader' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// `XElement.Load(reader)`, `XNode.ReadFrom(reader)`, `XDocument.Load(reader)`: the element
/// at the cursor (after `MoveToContent`) as LINQ to XML, the reader left after its end.
/// `Load` (`whole`) wants the element to end the document, as .NET checks.
/// The element `n` (the cursor's) as LINQ to XML. The document is parsed again to find the
/// element with its namespace scope: a reader is loaded into a tree once or twice per policy,
/// and a second parse costs what the first did.
fn element_at(
    it: &mut Interp,
    s: &XmlReaderState,
    n: &ReaderNode,
    at: usize,
) -> F<crate::xml::XRef> {
    it.charge(budget::xml_parse_cost(&s.text), at)?;
    let doc =
        roxmltree::Document::parse(&s.text).map_err(|e| rt("XmlException", e.to_string(), at))?;
    let Some(node) = doc.descendants().filter(|d| d.is_element()).nth(n.ordinal) else {
        return Err(rt("XmlException", "element not found", at));
    };
    xml::convert_element(node, n.depth.max(0) as usize, at)
}

/// `ReadOuterXml()` / `ReadInnerXml()`: the element under the cursor (or its content) as
/// markup, the reader moved past it; text as its escaped value. Written without formatting
/// (as the reader's source is, when it has no whitespace between elements: whitespace-only
/// text between elements is not kept, as LINQ to XML's default loading drops it).
fn read_xml(it: &mut Interp, s: &mut XmlReaderState, outer: bool, at: usize) -> F<Value> {
    if s.pos.is_none() {
        advance(it, s, at)?;
    }
    let Some(n) = current(s).cloned() else {
        return Ok(Value::str(""));
    };
    let text = match n.kind {
        "Element" => {
            let e = element_at(it, s, &n, at)?;
            let markup = if outer {
                e.to_xml(true)
            } else {
                e.nodes().iter().map(|c| c.to_xml(true)).collect::<String>()
            };
            past_element(s);
            markup
        }
        "Text" | "Whitespace" | "CDATA" => {
            advance(it, s, at)?;
            crate::xml::XObject::new(crate::xml::XData::Text(n.value.clone())).to_xml(true)
        }
        _ => {
            advance(it, s, at)?;
            String::new()
        }
    };
    Ok(Value::str(text))
}

pub(crate) fn load_from_reader(
    it: &mut Interp,
    s: &mut XmlReaderState,
    document: bool,
    whole: bool,
    at: usize,
) -> F<Value> {
    xml_reader_call(it, s, "MoveToContent", &Vec::new(), at)?;
    let Some(n) = current(s).cloned() else {
        return Err(rt(
            "InvalidOperationException",
            "The XmlReader state should be Interactive.",
            at,
        ));
    };
    if n.kind != "Element" {
        return Err(rt(
            "InvalidOperationException",
            "The XmlReader must be on a node of type Element instead of a node of type "
                .to_string()
                + n.kind
                + ".",
            at,
        ));
    }
    let element = element_at(it, s, &n, at)?;
    past_element(s);
    if whole {
        xml_reader_call(it, s, "MoveToContent", &Vec::new(), at)?;
        if current(s).is_some() {
            return Err(rt(
                "InvalidOperationException",
                "The XmlReader state should be EndOfFile after this operation.",
                at,
            ));
        }
    }
    Ok(if document {
        let d = crate::xml::XObject::new(crate::xml::XData::Document {
            declaration: None,
            nodes: Vec::new(),
        });
        d.push_node(element);
        xml::xvalue(d)
    } else {
        xml::element_value(element)
    })
}
