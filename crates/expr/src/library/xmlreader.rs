//! `System.Xml.XmlReader` as policies use it: `XmlReader.Create(new StringReader(s))`, then
//! `Read`/`MoveToContent`/`ReadToFollowing` and the current node's properties, and
//! `XElement.Load(reader)`/`XNode.ReadFrom(reader)` for the element under the cursor.
//!
//! A pull reader over the document parsed once by roxmltree (the crate LINQ to XML here
//! already uses, crates/expr/src/library/xml.rs), not a streaming parser: the body is in
//! memory anyway, and the whole document is charged to the memory budget before it is parsed,
//! as `XElement.Parse` is. Differences from .NET's reader, which policies are not expected to
//! observe: CDATA sections read as `Text` (roxmltree merges them with adjacent text) and entity
//! references are expanded (as .NET's default `EntityHandling.ExpandEntities` does). A DOCTYPE
//! is refused, as .NET's default `DtdProcessing.Prohibit` does. The cursor moves onto
//! attributes (`MoveToAttribute` …) and into an attribute's value (`ReadAttributeValue`) as
//! .NET's does; typed content (`ReadContentAs*`, `ReadElementContentAs*`, `ReadString`,
//! `ReadStartElement` …) is in xmlreader/content.rs, checked against Mono's reader, which
//! shares the reference source's `XmlReader` base class with .NET. The chunked readers
//! (`ReadValueChunk`, `ReadContentAsBase64` …) and the `NameTable` are in xmlreader/binary.rs,
//! the `…Async` members in xmlreader/asynchronous.rs.
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

mod asynchronous;
mod attributes;
mod binary;
mod content;
mod flatten;
mod names;
mod settings;

use super::*;
use crate::io::{IoState, ReaderAttr, ReaderNode, XmlReaderState};
use asynchronous::async_call;
pub(crate) use asynchronous::async_fill;
use attributes::{attribute_call, attribute_member, current_attr};
pub(crate) use binary::{CHUNK_READERS, xml_reader_fill};
use content::content_call;
use flatten::flatten;
pub(crate) use names::name_table_call;
pub(crate) use settings::{
    construct_settings, reader_static_exists, reader_static_property, settings_member, settings_set,
};

/// The `XmlNodeType` members' names (`reader.NodeType` is the enum value of its name,
/// crates/expr/src/library/enum_table.rs).
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

/// XML 1.0 (fifth edition) `NameStartChar`, the table .NET's `XmlCharType` follows.
fn is_name_start(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// `XmlReader.IsName(s)` / `XmlReader.IsNameToken(s)`: a non-empty XML name (colons
/// allowed anywhere, as .NET's check without namespaces) or name token.
pub(crate) fn xml_reader_is_name(args: &Args, token: bool, at: usize) -> F<Value> {
    let s = match arg(args, 0, at)? {
        // .NET throws NullReferenceException here (kept from .NET Framework).
        Value::Null => return Err(null_ref(at)),
        v => as_str(v, at)?,
    };
    let mut chars = s.chars();
    let ok = match chars.next() {
        None => false,
        Some(first) => {
            (if token {
                is_name_char(first)
            } else {
                is_name_start(first)
            }) && chars.all(is_name_char)
        }
    };
    Ok(Value::Bool(ok))
}

/// `XmlReader.Create(TextReader[, settings])`: a `StringReader`'s remaining text, or a string
/// (which .NET would take as a URL: refused, as APIM refuses file and network access).
pub(crate) fn xml_reader_create(args: &Args, at: usize) -> F<Value> {
    let settings = settings::settings_arg(args.get(1).map(|(_, v)| v), at)?;
    let text = match arg(args, 0, at)? {
        Value::Object(Object::Io(io)) => match &mut *io.state() {
            IoState::StringReader { closed: true, .. } => {
                return Err(rt(
                    "ObjectDisposedException",
                    "Cannot read from a closed TextReader.",
                    at,
                ));
            }
            IoState::StringReader { text, pos, .. } => {
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
    Ok(io_value(IoState::XmlReader(XmlReaderState::new(
        text, settings,
    ))))
}

fn nodes<'s>(it: &mut Interp, s: &'s mut XmlReaderState, at: usize) -> F<&'s [ReaderNode]> {
    if s.nodes.is_none() {
        s.nodes = Some(flatten(it, &s.text, &s.settings, at)?);
    }
    Ok(s.nodes.as_deref().unwrap_or_default())
}

/// The index past the last node the reader reads: the document's end, or a subtree's.
fn limit(s: &XmlReaderState) -> usize {
    match s.subtree {
        Some((_, last, _)) => last + 1,
        None => s.nodes.as_ref().map_or(0, Vec::len),
    }
}

/// The depth a reader reports for a node: a subtree reader counts from its element.
fn depth_of(s: &XmlReaderState, n: &ReaderNode) -> i64 {
    n.depth - s.subtree.map_or(0, |(_, _, d)| d)
}

/// The node under the cursor (the element, when the cursor is on one of its attributes).
fn current(s: &XmlReaderState) -> Option<&ReaderNode> {
    if s.closed {
        return None;
    }
    let p = s.pos.filter(|p| *p < limit(s))?;
    s.nodes.as_ref()?.get(p)
}

/// Moves off an attribute back to its element; whether the cursor was on one.
fn to_element(s: &mut XmlReaderState) -> bool {
    // Moving ends a chunked read (`ReadValueChunk`, `ReadContentAsBase64` …).
    s.chunk = None;
    s.binary = None;
    let was = s.attr.is_some();
    s.attr = None;
    s.attr_text = false;
    was
}

/// The `XmlNodeType` the cursor is on.
fn kind_of(s: &XmlReaderState) -> &'static str {
    match (current(s), s.attr, s.attr_text) {
        (None, ..) => "None",
        (Some(_), Some(_), true) => "Text",
        (Some(_), Some(_), false) => "Attribute",
        (Some(n), None, _) => n.kind,
    }
}

/// .NET's line information for the node under the cursor, appended to an `XmlException`'s
/// message: ` Line 1, position 2.` (`Line 0, position 0` before the first `Read`; the end of
/// the text at the end).
fn line_info(s: &XmlReaderState) -> String {
    let offset = match (current(s), current_attr(s)) {
        (_, Some(a)) => a.offset,
        (Some(n), None) => n.offset,
        (None, _) if s.pos.is_none() => return " Line 0, position 0.".to_string(),
        (None, _) => s.text.len(),
    };
    let before = s.text.get(..offset).unwrap_or(&s.text);
    // \r\n, \r and \n each end a line (the reader normalises them to \n).
    let mut line = 1;
    let mut col = 1;
    let mut prev_cr = false;
    for c in before.chars() {
        match c {
            '\n' if prev_cr => {}
            '\n' | '\r' => {
                line += 1;
                col = 1;
            }
            _ => col += 1,
        }
        prev_cr = c == '\r';
    }
    format!(" Line {line}, position {col}.")
}

/// An `XmlException` about the node under the cursor, with its line information.
fn xml_err(s: &XmlReaderState, message: impl Into<String>, at: usize) -> Flow {
    rt("XmlException", message.into() + &line_info(s), at)
}

/// `'Text' is an invalid XmlNodeType.`, about the current node.
fn invalid_node(s: &XmlReaderState, at: usize) -> Flow {
    xml_err(
        s,
        format!("'{}' is an invalid XmlNodeType.", kind_of(s)),
        at,
    )
}

/// Moves to the next node; whether there was one.
fn advance(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<bool> {
    to_element(s);
    if s.closed {
        return Ok(false);
    }
    nodes(it, s, at)?;
    let len = limit(s);
    let first = s.subtree.map_or(0, |(f, _, _)| f);
    let next = s.pos.map_or(first, |p| (p + 1).min(len));
    s.pos = Some(next);
    // The reader's NameTable gets the names it reads.
    names::name_table(s);
    Ok(next < len)
}

/// Moves to the node after the current element's end (`Skip`, and after reading an element).
fn past_element(s: &mut XmlReaderState) {
    to_element(s);
    if let (Some(n), Some(p)) = (current(s), s.pos) {
        let after = if n.kind == "Element" {
            n.end + 1
        } else {
            p + 1
        };
        s.pos = Some(after.min(limit(s)));
    }
    names::name_table(s);
}

fn is_content(kind: &str) -> bool {
    matches!(
        kind,
        "Element" | "Text" | "CDATA" | "EndElement" | "EntityReference" | "EndEntity"
    )
}

/// `MoveToContent()`: from an attribute to its element, else on to the next content node
/// (element, end tag, text); its `XmlNodeType`.
fn move_to_content(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<&'static str> {
    to_element(s);
    if s.pos.is_none() {
        advance(it, s, at)?;
    }
    while let Some(n) = current(s) {
        if is_content(n.kind) {
            break;
        }
        advance(it, s, at)?;
    }
    Ok(kind_of(s))
}

/// The element a `ReadTo…(name)` or `ReadTo…(localName, namespaceURI)` looks for.
enum NameTest {
    Name(String),
    Qualified(String, String),
}

impl NameTest {
    fn of(args: &Args, at: usize) -> F<NameTest> {
        let name = match arg(args, 0, at)? {
            Value::Null => String::new(),
            v => as_str(v, at)?,
        };
        if name.is_empty() {
            let param = if args.len() > 1 { "localName" } else { "name" };
            return Err(rt(
                "ArgumentException",
                format!("The empty string '' is not a valid name. (Parameter '{param}')"),
                at,
            ));
        }
        Ok(match args.get(1) {
            Some((_, Value::Null)) => {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'namespaceURI')",
                    at,
                ));
            }
            Some((_, ns)) => NameTest::Qualified(name, as_str(ns, at)?),
            None => NameTest::Name(name),
        })
    }

    fn matches(&self, n: &ReaderNode) -> bool {
        match self {
            NameTest::Name(w) => n.name == *w,
            NameTest::Qualified(l, ns) => n.local == *l && n.namespace == *ns,
        }
    }
}

/// Properties of an `XmlReader`; `None` for a name it does not have.
pub(crate) fn xml_reader_member(s: &XmlReaderState, name: &str) -> Option<Value> {
    if let Some(v) = attribute_member(s, name) {
        return Some(v);
    }
    let n = current(s);
    let len = if s.nodes.is_some() {
        limit(s)
    } else {
        usize::MAX
    };
    let text = |f: fn(&ReaderNode) -> &str| Value::str(n.map_or("", f));
    Some(match name {
        "NodeType" => enum_member("XmlNodeType", kind_of(s)).unwrap_or(Value::Null),
        "Name" => text(|n| &n.name),
        "LocalName" => text(|n| &n.local),
        "NamespaceURI" => text(|n| &n.namespace),
        "Prefix" => text(|n| n.name.split_once(':').map_or("", |(p, _)| p)),
        "Value" => text(|n| &n.value),
        "HasValue" => Value::Bool(n.is_some_and(|n| n.kind != "Element" && n.kind != "EndElement")),
        "Depth" => Value::Int(n.map_or(0, |n| depth_of(s, n))),
        "IsEmptyElement" => Value::Bool(n.is_some_and(|n| n.empty)),
        "HasAttributes" => Value::Bool(n.is_some_and(|n| !n.attributes.is_empty())),
        "AttributeCount" => Value::Int(n.map_or(0, |n| n.attributes.len() as i64)),
        "EOF" => Value::Bool(!s.closed && s.pos.is_some_and(|p| p >= len)),
        "ReadState" => Value::str(match s.pos {
            _ if s.closed => "Closed",
            None => "Initial",
            Some(p) if p >= len => "EndOfFile",
            _ => "Interactive",
        }),
        // No schema, no DTD defaults, no base URI: a reader over a string.
        "IsDefault" => Value::Bool(false),
        "QuoteChar" => Value::Char('"'),
        "BaseURI" => Value::str(""),
        "SchemaInfo" => Value::Null,
        "CanResolveEntity" => Value::Bool(true),
        "CanReadBinaryContent" | "CanReadValueChunk" => Value::Bool(!s.node_reader),
        // A copy: changing it does not change the reader, as .NET's is read-only.
        "Settings" => io_value(IoState::XmlReaderSettings(s.settings.clone())),
        "NameTable" => names::name_table(s),
        // A reader without a schema types every value as a string.
        "ValueType" => Value::str("System.String"),
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
    Ok(match name {
        "Read" => Value::Bool(advance(it, s, at)?),
        "MoveToContent" => {
            let kind = move_to_content(it, s, at)?;
            enum_member("XmlNodeType", kind).unwrap_or(Value::Null)
        }
        "ReadToFollowing" => {
            let w = NameTest::of(args, at)?;
            while advance(it, s, at)? {
                if current(s).is_some_and(|n| n.kind == "Element" && w.matches(n)) {
                    return Ok(Value::Bool(true));
                }
            }
            Value::Bool(false)
        }
        "ReadToDescendant" | "ReadToNextSibling" => {
            let w = NameTest::of(args, at)?;
            to_element(s);
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
                if at_level && n.kind == "Element" && w.matches(n) {
                    return Ok(Value::Bool(true));
                }
                if !descend && n.kind == "Element" {
                    past_element(s);
                    s.pos = s.pos.map(|p| p.saturating_sub(1));
                }
            }
            Value::Bool(false)
        }
        "Skip" => {
            if s.pos.is_none() {
                advance(it, s, at)?;
            } else {
                past_element(s);
            }
            Value::Null
        }
        "ReadOuterXml" => read_xml(it, s, true, at)?,
        "ReadInnerXml" => read_xml(it, s, false, at)?,
        "ReadSubtree" => read_subtree(it, s, at)?,
        "Close" | "Dispose" => {
            to_element(s);
            s.closed = true;
            Value::Null
        }
        // Entities are expanded, so the reader is never on an `EntityReference`.
        "ResolveEntity" => {
            return Err(rt(
                "InvalidOperationException",
                "Operation is not valid due to the current state of the object.",
                at,
            ));
        }
        _ => {
            if let Some(r) = async_call(it, s, name, args, at) {
                return r;
            }
            // The chunked readers, their array not a variable's: the count only.
            if let Some(r) = xml_reader_fill(it, s, name, args, at) {
                return r.map(|(v, _)| v);
            }
            if let Some(v) = attribute_call(it, s, name, args, at)? {
                return Ok(v);
            }
            if let Some(v) = content_call(it, s, name, args, at)? {
                return Ok(v);
            }
            return Err(rt(
                "RuntimeBinderException",
                format!("'System.Xml.XmlReader' does not contain a definition for '{name}'"),
                at,
            ));
        }
    })
}

/// `ReadSubtree()`: a reader over the current element and its content, which starts before
/// it and ends after its end tag. .NET's shares the cursor with this one, which must not be
/// used until the subtree reader is closed and is then on the element's end tag (still on
/// an empty element); this one is put there at once, and the subtree reader reads a copy.
fn read_subtree(it: &mut Interp, s: &mut XmlReaderState, at: usize) -> F<Value> {
    let Some(n) = current(s).filter(|n| n.kind == "Element" && s.attr.is_none()) else {
        return Err(rt(
            "InvalidOperationException",
            "ReadSubtree() can be called only if the reader is on an element node.",
            at,
        ));
    };
    let (first, last, depth) = (s.pos.unwrap_or_default(), n.end, n.depth);
    let nodes = s.nodes.clone();
    it.charge(
        nodes.as_ref().map_or(0, |n| n.len()).saturating_mul(128),
        at,
    )?;
    let sub = XmlReaderState {
        text: s.text.clone(),
        nodes,
        pos: None,
        attr: None,
        attr_text: false,
        closed: false,
        settings: s.settings.clone(),
        subtree: Some((first, last, depth)),
        names: s.names.clone(),
        chunk: None,
        binary: None,
        node_reader: s.node_reader,
    };
    s.pos = Some(last);
    Ok(io_value(IoState::XmlReader(sub)))
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
    if let Some(a) = current_attr(s) {
        // On an attribute: its markup, the cursor left there.
        let mut value = String::new();
        crate::xml::escape(&a.value, false, &mut value);
        return Ok(Value::str(if outer {
            format!("{}=\"{}\"", a.name, value.replace('"', "&quot;"))
        } else {
            value
        }));
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
    move_to_content(it, s, at)?;
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
        move_to_content(it, s, at)?;
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
