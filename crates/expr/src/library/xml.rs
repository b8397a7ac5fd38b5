//! LINQ to XML at run time: `XElement.Parse`/`XDocument.Parse` into the tree of
//! crates/expr/src/xml.rs, and the members and methods expressions call on its nodes that
//! read it (the ones that edit it are crates/expr/src/library/xml_mutate.rs): properties,
//! the axes (`Elements`, `Descendants`, `Ancestors`, `NodesAfterSelf` …), document order
//! (`IsAfter`, `CompareDocumentOrder`), `DeepEquals`, and the `System.Xml.Linq.Extensions`
//! over sequences. Checked against Mono's System.Xml.Linq (the reference source .NET's is
//! built from), crates/expr/tests/xml_tree.rs and the oracle's `// xml tree` section.

use super::*;
use crate::xml::{MAX_XML_DEPTH, XData, XDeclaration, XKind, XName, XObject, XRef};

/// A node as a value of its .NET type.
pub(crate) fn xvalue(n: XRef) -> Value {
    Value::Object(match n.kind() {
        XKind::Document => Object::XDocument(n),
        XKind::Element => Object::XElement(n),
        XKind::Attribute => Object::XAttribute(n),
        _ => Object::XNode(n),
    })
}

pub(crate) fn element_value(e: XRef) -> Value {
    xvalue(e)
}

/// The node a value refers to, if it is one.
pub(crate) fn node_of(v: &Value) -> Option<&XRef> {
    match v {
        Value::Object(
            Object::XDocument(n) | Object::XElement(n) | Object::XAttribute(n) | Object::XNode(n),
        ) => Some(n),
        _ => None,
    }
}

fn seq(nodes: impl IntoIterator<Item = XRef>) -> Value {
    Value::Array(nodes.into_iter().map(xvalue).collect())
}

/// Parses text into a document (`XDocument.Parse`): its declaration, the comments and
/// processing instructions around the root, the document type and the root element.
/// Whitespace-only text is dropped unless `preserve` (`LoadOptions.PreserveWhitespace`).
pub(crate) fn parse_document(text: &str, at: usize) -> F<XRef> {
    parse_document_with(text, false, at)
}

pub(crate) fn parse_document_with(text: &str, preserve: bool, at: usize) -> F<XRef> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)
        .map_err(|e| rt("XmlException", e.to_string(), at))?;
    let d = XObject::new(XData::Document {
        declaration: declaration(text),
        nodes: Vec::new(),
    });
    let root_start = doc.root_element().range().start;
    let doctype = doctype(text, root_start);
    // roxmltree keeps no whitespace around the root: with `preserve`, what lies between the
    // top-level nodes (and after the last) is read back from the source.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut last_end: Option<usize> = Some(match &declaration_end(text) {
        Some(end) => *end,
        None => bom,
    });
    let gap = |d: &XRef, from: Option<usize>, to: usize| {
        if let Some(g) = from.and_then(|f| text.get(f..to))
            && !g.is_empty()
            && g.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        {
            d.push_node(XObject::new(XData::Text(newlines(g))));
        }
    };
    for c in doc.root().children() {
        if c.is_text() {
            continue;
        }
        if preserve {
            gap(&d, last_end, c.range().start);
        }
        last_end = Some(c.range().end);
        if let Some((pos, _)) = &doctype
            && c.range().start > *pos
            && d.nodes().iter().all(|n| n.kind() != XKind::DocumentType)
            && let Some((_, t)) = &doctype
        {
            d.push_node(t.deep_clone());
        }
        if c.is_element() {
            d.push_node(convert(c, 0, preserve, at)?);
        } else if c.is_comment() {
            d.push_node(XObject::new(XData::Comment(
                c.text().unwrap_or_default().to_string(),
            )));
        } else if let Some(pi) = c.pi() {
            d.push_node(XObject::new(XData::Pi(
                pi.target.to_string(),
                pi.value.unwrap_or_default().to_string(),
            )));
        }
    }
    if preserve {
        gap(&d, last_end, text.len());
    }
    Ok(d)
}

/// Parses text into its root element, on its own (`XElement.Parse`).
pub(crate) fn parse(text: &str, at: usize) -> F<XRef> {
    parse_with(text, false, at)
}

/// [`parse`] with `LoadOptions.PreserveWhitespace` when `preserve`.
pub(crate) fn parse_with(text: &str, preserve: bool, at: usize) -> F<XRef> {
    let d = parse_document_with(text, preserve, at)?;
    let root = d.elements().into_iter().next();
    match root {
        Some(r) => {
            r.detach();
            Ok(r)
        }
        None => Err(rt("XmlException", "Root element is missing.", at)),
    }
}

/// Where the declaration at the start of the text ends, if there is one.
fn declaration_end(text: &str) -> Option<usize> {
    declaration(text)?;
    text.find("?>").map(|i| i + 2)
}

/// `<?xml version="1.0" encoding="utf-8"?>` at the start of the text.
fn declaration(text: &str) -> Option<XDeclaration> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = t.strip_prefix("<?xml")?;
    if !body.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let body = &body[..body.find("?>")?];
    let mut d = XDeclaration::default();
    let mut rest = body.trim_start();
    while let Some((key, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let quote = after.chars().next()?;
        let value_end = after[1..].find(quote)? + 1;
        let value = after[1..value_end].to_string();
        match key.trim() {
            "version" => d.version = Some(value),
            "encoding" => d.encoding = Some(value),
            "standalone" => d.standalone = Some(value),
            _ => {}
        }
        rest = after[value_end + 1..].trim_start();
    }
    Some(d)
}

/// `<!DOCTYPE name PUBLIC "p" "s" [subset]>` before the root element: where it starts and the
/// node. roxmltree reads the DTD but keeps no node for it.
fn doctype(text: &str, before: usize) -> Option<(usize, XRef)> {
    let head = text.get(..before)?;
    let start = head.find("<!DOCTYPE")?;
    let mut rest = head[start + 9..].trim_start();
    let name_end = rest.find(|c: char| c.is_ascii_whitespace() || c == '[' || c == '>')?;
    let name = rest[..name_end].to_string();
    rest = rest[name_end..].trim_start();
    let quoted = |r: &str| -> Option<(String, usize)> {
        let q = r.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let end = r[1..].find(q)? + 1;
        Some((r[1..end].to_string(), end + 1))
    };
    let (mut public_id, mut system_id) = (None, None);
    if let Some(r) = rest.strip_prefix("PUBLIC") {
        let r = r.trim_start();
        let (p, n) = quoted(r)?;
        let r = r[n..].trim_start();
        let (s, n2) = quoted(r)?;
        public_id = Some(p);
        system_id = Some(s);
        rest = r[n2..].trim_start();
    } else if let Some(r) = rest.strip_prefix("SYSTEM") {
        let r = r.trim_start();
        let (s, n) = quoted(r)?;
        system_id = Some(s);
        rest = r[n..].trim_start();
    }
    // Without a subset the reader's value is empty, not null: it prints as `[]`.
    let internal_subset = match rest.strip_prefix('[') {
        Some(r) => Some(r[..r.rfind(']')?].to_string()),
        None => Some(String::new()),
    };
    Some((
        start,
        XObject::new(XData::DocumentType {
            name,
            public_id,
            system_id,
            internal_subset,
        }),
    ))
}

/// One element of a parsed document (with its subtree) as LINQ to XML; `depth` is how deep it
/// lies, counted against [`MAX_XML_DEPTH`].
pub(crate) fn convert_element(n: roxmltree::Node, depth: usize, at: usize) -> F<XRef> {
    convert(n, depth, false, at)
}

fn convert(n: roxmltree::Node, depth: usize, preserve: bool, at: usize) -> F<XRef> {
    if depth > MAX_XML_DEPTH {
        return Err(rt(
            "XmlException",
            format!("The XML is nested deeper than {MAX_XML_DEPTH} levels."),
            at,
        ));
    }
    let tag = n.tag_name();
    let e = XObject::element(XName {
        namespace: tag.namespace().unwrap_or_default().to_string(),
        local: tag.name().to_string(),
    });
    // Attributes in source order, namespace declarations among them (`xmlns`, `xmlns:p`, as
    // .NET keeps them, a redundant one included): the start tag is read for their names and
    // order, roxmltree for the values. Without a readable start tag, the declarations this
    // element adds to its parent's come first.
    let decl = |prefix: Option<&str>| {
        let uri = n
            .lookup_namespace_uri(prefix)
            .unwrap_or_default()
            .to_string();
        // `xmlns:p` is `{http://www.w3.org/2000/xmlns/}p`; `xmlns` is in no namespace.
        let name = match prefix {
            Some(p) => XName {
                namespace: XMLNS_URI.into(),
                local: p.to_string(),
            },
            None => XName {
                namespace: String::new(),
                local: "xmlns".into(),
            },
        };
        attribute(name, uri)
    };
    let plain = |a: roxmltree::Attribute| {
        attribute(
            XName {
                namespace: a.namespace().unwrap_or_default().to_string(),
                local: a.name().to_string(),
            },
            a.value().to_string(),
        )
    };
    let mut plain_attrs = n.attributes();
    match start_tag_names(n) {
        Some(names) => {
            for raw in names {
                if raw == "xmlns" {
                    e.push_attribute(decl(None));
                } else if let Some(p) = raw.strip_prefix("xmlns:") {
                    e.push_attribute(decl(Some(p)));
                } else if let Some(a) = plain_attrs.next() {
                    e.push_attribute(plain(a));
                }
            }
            for a in plain_attrs {
                e.push_attribute(plain(a));
            }
        }
        None => {
            let parent_ns: Vec<(Option<&str>, &str)> = n
                .parent_element()
                .map(|p| p.namespaces().map(|x| (x.name(), x.uri())).collect())
                .unwrap_or_default();
            for d in n.namespaces() {
                if parent_ns.contains(&(d.name(), d.uri())) || d.name() == Some("xml") {
                    continue;
                }
                e.push_attribute(decl(d.name()));
            }
            for a in plain_attrs {
                e.push_attribute(plain(a));
            }
        }
    }
    let mut nodes: Vec<XRef> = Vec::new();
    let mut text: Option<String> = None;
    for c in n.children() {
        if c.is_text() {
            // roxmltree merges CDATA sections into the text around them; .NET keeps each
            // section an `XCData` node of its own, so the source is split again.
            match cdata_parts(c) {
                Some(parts) => {
                    for (cdata, t) in parts {
                        if cdata {
                            if let Some(t) = text.take() {
                                nodes.push(XObject::new(XData::Text(t)));
                            }
                            nodes.push(XObject::new(XData::CData(t)));
                        } else {
                            text.get_or_insert_with(String::new).push_str(&t);
                        }
                    }
                }
                None => {
                    if let Some(t) = c.text() {
                        text.get_or_insert_with(String::new).push_str(t);
                    }
                }
            }
            continue;
        }
        if let Some(t) = text.take() {
            nodes.push(XObject::new(XData::Text(t)));
        }
        if c.is_element() {
            nodes.push(convert(c, depth + 1, preserve, at)?);
        } else if c.is_comment() {
            nodes.push(XObject::new(XData::Comment(
                c.text().unwrap_or_default().to_string(),
            )));
        } else if let Some(pi) = c.pi() {
            nodes.push(XObject::new(XData::Pi(
                pi.target.to_string(),
                pi.value.unwrap_or_default().to_string(),
            )));
        }
    }
    if let Some(t) = text.take() {
        nodes.push(XObject::new(XData::Text(t)));
    }
    // Whitespace-only text is not content (the reader's whitespace nodes, which
    // LoadOptions.None ignores) …
    if !preserve {
        nodes.retain(|x| {
            !(x.kind() == XKind::Text
                && x.value()
                    .chars()
                    .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n')))
        });
    }
    // … but an element written with an end tag has (empty) content: `<a></a>`, not `<a />`.
    if nodes.is_empty()
        && !n
            .document()
            .input_text()
            .get(n.range())
            .is_some_and(|s| s.ends_with("/>"))
    {
        nodes.push(XObject::new(XData::Text(String::new())));
    }
    for c in nodes {
        e.push_node(c);
    }
    Ok(e)
}

/// The attribute names of an element's start tag, in order (`None` if it cannot be read).
fn start_tag_names<'a>(n: roxmltree::Node<'a, '_>) -> Option<Vec<&'a str>> {
    let src = n.document().input_text().get(n.range())?;
    let mut rest = src.strip_prefix('<')?;
    let name_end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    rest = &rest[name_end..];
    let mut names = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.starts_with('>') || rest.starts_with("/>") {
            return Some(names);
        }
        let eq = rest.find('=')?;
        names.push(rest[..eq].trim_end());
        rest = rest[eq + 1..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = rest[1..].find(quote)? + 1;
        rest = &rest[close + 1..];
    }
}

/// A text node's source split into plain text (entities decoded) and CDATA sections (`true`);
/// `None` when it has no section, or when the split does not give back roxmltree's text (an
/// entity of the DTD): then the text stays one node.
fn cdata_parts(c: roxmltree::Node) -> Option<Vec<(bool, String)>> {
    // The node's range covers its first piece only: it runs to the next sibling, or to the
    // parent's end tag.
    let input = c.document().input_text();
    let start = c.range().start;
    let end = match c.next_sibling() {
        Some(s) => s.range().start,
        None => {
            let p = c.parent()?.range();
            start + input.get(start..p.end)?.rfind("</")?
        }
    };
    let src = input.get(start..end)?;
    if !src.contains("<![CDATA[") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = src;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>")?;
            parts.push((true, newlines(&r[..end])));
            rest = &r[end + 3..];
        } else {
            let end = rest.find("<![CDATA[").unwrap_or(rest.len());
            let plain = decode_entities(&newlines(&rest[..end]))?;
            if !plain.is_empty() {
                parts.push((false, plain));
            }
            rest = &rest[end..];
        }
    }
    let joined: String = parts.iter().map(|(_, t)| t.as_str()).collect();
    (Some(joined.as_str()) == c.text()).then_some(parts)
}

/// XML's end-of-line handling: `\r\n` and `\r` read as `\n`.
fn newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// The predefined entities and character references; `None` for any other entity.
fn decode_entities(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';')?;
        let name = &after[..end];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = name.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

pub(crate) const XMLNS_URI: &str = "http://www.w3.org/2000/xmlns/";

pub(crate) fn attribute(name: XName, value: String) -> XRef {
    XObject::new(XData::Attribute { name, value })
}

/// `ToString(SaveOptions)`: `DisableFormatting` (1) prints without indentation.
fn compact_arg(args: &[Value]) -> bool {
    matches!(args.first(), Some(Value::Enum("SaveOptions", o)) if o & 1 == 1)
}

fn name_value(n: &XName) -> Value {
    Value::Object(Object::XName(Arc::new(n.clone())))
}

pub(crate) fn no_xml_member(t: &str, name: &str, at: usize) -> Flow {
    rt(
        "RuntimeBinderException",
        format!("'{t}' does not contain a definition for '{name}'"),
        at,
    )
}

fn opt(n: Option<XRef>) -> Value {
    n.map_or(Value::Null, xvalue)
}

/// `Parent`: the parent element (null at the top of a tree and for a document's children).
pub(crate) fn parent_element(n: &XRef) -> Option<XRef> {
    n.parent().filter(|p| p.kind() == XKind::Element)
}

/// The nodes beside `n` (after it when `after`), nearest first for `before` reversed back
/// into document order.
fn siblings(n: &XRef, after: bool) -> Vec<XRef> {
    let Some(p) = n.parent() else {
        return Vec::new();
    };
    let all = p.nodes();
    let Some(i) = all.iter().position(|x| Arc::ptr_eq(x, n)) else {
        return Vec::new();
    };
    if after {
        all[i + 1..].to_vec()
    } else {
        all[..i].to_vec()
    }
}

fn attribute_sibling(a: &XRef, next: bool) -> Option<XRef> {
    let p = a.parent()?;
    let all = p.attributes();
    let i = all.iter().position(|x| Arc::ptr_eq(x, a))?;
    if next {
        all.get(i + 1).cloned()
    } else {
        i.checked_sub(1).and_then(|j| all.get(j).cloned())
    }
}

/// Descendant nodes in document order.
pub(crate) fn descendant_nodes(n: &XRef, out: &mut Vec<XRef>) {
    for c in n.nodes() {
        out.push(c.clone());
        if c.is_container() {
            descendant_nodes(&c, out);
        }
    }
}

fn ancestors(n: &XRef, self_too: bool) -> Vec<XRef> {
    let mut out = Vec::new();
    if self_too {
        out.push(n.clone());
    }
    let mut cur = parent_element(n);
    while let Some(p) = cur {
        cur = parent_element(&p);
        out.push(p);
    }
    out
}

/// The indices from the root down to `n` (attributes ranked before the element's nodes, as
/// .NET orders them), and the root.
fn path(n: &XRef) -> (XRef, Vec<usize>) {
    let mut p = Vec::new();
    let mut cur = n.clone();
    while let Some(parent) = cur.parent() {
        let i = parent.index_of(&cur).unwrap_or(0);
        let rank = if cur.kind() == XKind::Attribute {
            i
        } else {
            i + parent.attributes().len()
        };
        p.push(rank);
        cur = parent;
    }
    p.reverse();
    (cur, p)
}

/// `XNode.CompareDocumentOrder`: -1, 0 or 1; nodes of different trees have no order.
pub(crate) fn document_order(a: Option<&XRef>, b: Option<&XRef>, at: usize) -> F<i64> {
    let (a, b) = match (a, b) {
        (None, None) => return Ok(0),
        (None, Some(_)) => return Ok(-1),
        (Some(_), None) => return Ok(1),
        (Some(a), Some(b)) => (a, b),
    };
    if Arc::ptr_eq(a, b) {
        return Ok(0);
    }
    let (ra, pa) = path(a);
    let (rb, pb) = path(b);
    if !Arc::ptr_eq(&ra, &rb) {
        return Err(rt(
            "InvalidOperationException",
            "A common ancestor is missing.",
            at,
        ));
    }
    Ok(match pa.cmp(&pb) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

fn node_arg(v: Option<&Value>, at: usize) -> F<Option<XRef>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(Object::XElement(n) | Object::XDocument(n) | Object::XNode(n))) => {
            Ok(Some(n.clone()))
        }
        Some(other) => Err(cast_err(other, "System.Xml.Linq.XNode", at)),
    }
}

fn null_arg_err(param: &str, at: usize) -> Flow {
    rt(
        "ArgumentNullException",
        format!("Value cannot be null.\nParameter name: {param}"),
        at,
    )
}

/// `XNode.DeepEquals`: same kinds, names, attributes (in order, prefixes aside) and child
/// nodes; text nodes side by side compare as the one text they print.
pub(crate) fn deep_equals(a: Option<&XRef>, b: Option<&XRef>) -> bool {
    let (a, b) = match (a, b) {
        (None, None) => return true,
        (Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    if Arc::ptr_eq(a, b) {
        return true;
    }
    if a.kind() != b.kind() {
        return false;
    }
    let attrs = |x: &XRef| -> Vec<(XName, String)> {
        x.attributes()
            .iter()
            .filter_map(|n| match &*n.data() {
                XData::Attribute { name, value, .. } => Some((name.clone(), value.clone())),
                _ => None,
            })
            .collect()
    };
    match a.kind() {
        XKind::Element | XKind::Document => {
            if a.name() != b.name() || attrs(a) != attrs(b) {
                return false;
            }
            let (na, nb) = (merged(a), merged(b));
            na.len() == nb.len()
                && na.iter().zip(&nb).all(|(x, y)| match (x, y) {
                    (Merged::Text(s), Merged::Text(t)) => s == t,
                    (Merged::Node(x), Merged::Node(y)) => deep_equals(Some(x), Some(y)),
                    _ => false,
                })
        }
        _ => {
            let (x, y) = (a.data(), b.data());
            match (&*x, &*y) {
                (XData::CData(s), XData::CData(t)) | (XData::Comment(s), XData::Comment(t)) => {
                    s == t
                }
                (XData::Text(s), XData::Text(t)) => s == t,
                (XData::Pi(a1, b1), XData::Pi(a2, b2)) => a1 == a2 && b1 == b2,
                (
                    XData::DocumentType {
                        name: n1,
                        public_id: p1,
                        system_id: s1,
                        internal_subset: i1,
                    },
                    XData::DocumentType {
                        name: n2,
                        public_id: p2,
                        system_id: s2,
                        internal_subset: i2,
                    },
                ) => n1 == n2 && p1 == p2 && s1 == s2 && i1 == i2,
                (
                    XData::Attribute {
                        name: n1,
                        value: v1,
                        ..
                    },
                    XData::Attribute {
                        name: n2,
                        value: v2,
                        ..
                    },
                ) => n1 == n2 && v1 == v2,
                _ => false,
            }
        }
    }
}

enum Merged {
    Text(String),
    Node(XRef),
}

/// Child nodes with adjacent `XText` nodes taken as one text (`XContainer.ContentsEqual`).
fn merged(n: &XRef) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::new();
    for c in n.nodes() {
        if c.kind() == XKind::Text {
            let t = c.value();
            if let Some(Merged::Text(prev)) = out.last_mut() {
                prev.push_str(&t);
            } else {
                out.push(Merged::Text(t));
            }
        } else {
            out.push(Merged::Node(c));
        }
    }
    // An empty text (`new XElement("a", "")`) is content, but no node to compare.
    out.retain(|m| !matches!(m, Merged::Text(t) if t.is_empty()));
    out
}

fn declaration_value(d: &XDeclaration) -> Value {
    let s = |x: &Option<String>| x.as_ref().map_or(Value::Null, Value::str);
    let mut r = BTreeMap::new();
    r.insert("Version".to_string(), s(&d.version));
    r.insert("Encoding".to_string(), s(&d.encoding));
    r.insert("Standalone".to_string(), s(&d.standalone));
    Value::Object(Object::Record(Arc::new(r)))
}

/// Properties of the XML objects; `None` when `t` is not one.
pub(crate) fn member(t: &Value, name: &str, at: usize) -> Option<F<Value>> {
    let Value::Object(o) = t else { return None };
    match o {
        Object::XName(n) => {
            return Some(Ok(match name {
                "LocalName" => Value::str(&n.local),
                "NamespaceName" => Value::str(&n.namespace),
                "Namespace" => Value::Object(Object::XNamespace(Arc::from(n.namespace.as_str()))),
                _ => return Some(Err(no_xml_member(t.type_name(), name, at))),
            }));
        }
        Object::XNamespace(ns) => {
            return Some(match name {
                "NamespaceName" => Ok(Value::String(Arc::from(&**ns))),
                _ => Err(no_xml_member(t.type_name(), name, at)),
            });
        }
        _ => {}
    }
    let n = node_of(t)?;
    let kind = n.kind();
    let is_node = kind != XKind::Attribute;
    Some(Ok(match name {
        "NodeType" => enum_member("XmlNodeType", n.node_type()).unwrap_or(Value::Null),
        "BaseUri" => Value::str(""),
        "Parent" => opt(parent_element(n)),
        "Document" => {
            let r = n.root();
            if r.kind() == XKind::Document {
                xvalue(r)
            } else {
                Value::Null
            }
        }
        "NextNode" | "PreviousNode" if is_node => opt(n.sibling(name == "NextNode")),
        "FirstNode" | "LastNode" if n.is_container() => {
            let nodes = n.nodes();
            // `new XElement("a", "")` holds an empty text, which is no node.
            if nodes.len() == 1 && nodes[0].kind() == XKind::Text && nodes[0].value().is_empty() {
                Value::Null
            } else if name == "FirstNode" {
                opt(nodes.first().cloned())
            } else {
                opt(nodes.last().cloned())
            }
        }
        "Root" if kind == XKind::Document => opt(n.elements().into_iter().next()),
        "Declaration" if kind == XKind::Document => match &*n.data() {
            XData::Document {
                declaration: Some(d),
                ..
            } => declaration_value(d),
            _ => Value::Null,
        },
        "DocumentType" if kind == XKind::Document => opt(n
            .nodes()
            .into_iter()
            .find(|c| c.kind() == XKind::DocumentType)),
        "Name" if matches!(kind, XKind::Element | XKind::Attribute) => match n.name() {
            Some(x) => name_value(&x),
            None => Value::Null,
        },
        "Value"
            if matches!(
                kind,
                XKind::Element | XKind::Attribute | XKind::Text | XKind::CData | XKind::Comment
            ) =>
        {
            Value::str(n.value())
        }
        "HasElements" if kind == XKind::Element => Value::Bool(!n.elements().is_empty()),
        "HasAttributes" if kind == XKind::Element => Value::Bool(!n.attributes().is_empty()),
        "IsEmpty" if kind == XKind::Element => Value::Bool(n.nodes().is_empty()),
        "FirstAttribute" if kind == XKind::Element => opt(n.attributes().first().cloned()),
        "LastAttribute" if kind == XKind::Element => opt(n.attributes().last().cloned()),
        "NextAttribute" if kind == XKind::Attribute => opt(attribute_sibling(n, true)),
        "PreviousAttribute" if kind == XKind::Attribute => opt(attribute_sibling(n, false)),
        "IsNamespaceDeclaration" if kind == XKind::Attribute => {
            Value::Bool(n.name().is_some_and(|x| {
                x.namespace == XMLNS_URI || (x.namespace.is_empty() && x.local == "xmlns")
            }))
        }
        "Target" | "Data" if kind == XKind::Pi => match &*n.data() {
            XData::Pi(target, data) => Value::str(if name == "Target" { target } else { data }),
            _ => Value::Null,
        },
        "Name" | "PublicId" | "SystemId" | "InternalSubset" if kind == XKind::DocumentType => {
            match &*n.data() {
                XData::DocumentType {
                    name: dn,
                    public_id,
                    system_id,
                    internal_subset,
                } => {
                    let s = |x: &Option<String>| x.as_ref().map_or(Value::Null, Value::str);
                    match name {
                        "Name" => Value::str(dn),
                        "PublicId" => s(public_id),
                        "SystemId" => s(system_id),
                        _ => s(internal_subset),
                    }
                }
                _ => Value::Null,
            }
        }
        _ => return Some(Err(no_xml_member(t.type_name(), name, at))),
    }))
}

/// The name argument of an axis (`Elements("a")`): a string or an `XName`; `None` for none.
fn wanted_arg(args: &[Value], at: usize) -> F<Option<Option<String>>> {
    Ok(Some(match args.first() {
        None => None,
        Some(Value::String(s)) => Some(s.to_string()),
        Some(Value::Object(Object::XName(n))) => Some(n.expanded()),
        // `Elements(null)` selects nothing in .NET (a null XName matches no element).
        Some(Value::Null) => return Ok(None),
        Some(other) => return Err(cast_err(other, "System.Xml.Linq.XName", at)),
    }))
}

/// Methods of the XML objects that read them; `None` when `t` is not one (or the method is
/// one that edits, crates/expr/src/library/xml_mutate.rs).
pub(crate) fn call(t: &Value, name: &str, args: &[Value], at: usize) -> Option<F<Value>> {
    let Value::Object(o) = t else { return None };
    match o {
        Object::XNamespace(ns) => {
            return Some(match (name, args.first()) {
                ("ToString", _) => Ok(Value::String(Arc::from(&**ns))),
                ("Equals", o) => Ok(Value::Bool(
                    matches!(o, Some(Value::Object(Object::XNamespace(m))) if m == ns),
                )),
                ("GetName", Some(local)) => match local {
                    Value::String(l) => Ok(name_value(&XName {
                        namespace: ns.to_string(),
                        local: l.to_string(),
                    })),
                    other => Err(cast_err(other, "System.String", at)),
                },
                _ => Err(no_xml_member(t.type_name(), name, at)),
            });
        }
        Object::XName(n) => {
            return Some(match name {
                "ToString" => Ok(Value::str(n.expanded())),
                // Names are atomized in .NET: equal names are the same object.
                "Equals" => Ok(Value::Bool(
                    matches!(args.first(), Some(Value::Object(Object::XName(m))) if m == n),
                )),
                _ => Err(no_xml_member(t.type_name(), name, at)),
            });
        }
        Object::XComparer(order) => {
            return Some(comparer_call(t, *order, name, args, at));
        }
        _ => {}
    }
    let n = node_of(t)?;
    Some(read_call(t, n, name, args, at))
}

/// `XNodeEqualityComparer.Equals(a, b)` (`DeepEquals`) and `XNodeDocumentOrderComparer
/// .Compare(a, b)` (`CompareDocumentOrder`); objects other than nodes are refused as .NET's
/// non-generic `IComparer` refuses them. `GetHashCode(node)` is left out: .NET's mixes in
/// string hashes that are randomized per process.
fn comparer_call(t: &Value, order: bool, name: &str, args: &[Value], at: usize) -> F<Value> {
    let node = |i: usize| -> F<Option<XRef>> {
        match args.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v {
                Value::Object(Object::XElement(n) | Object::XDocument(n) | Object::XNode(n)) => {
                    Ok(Some(n.clone()))
                }
                _ => Err(rt(
                    "ArgumentException",
                    "The argument must be derived from XNode.",
                    at,
                )),
            },
        }
    };
    match (order, name, args.len()) {
        (_, "ToString", 0) => Ok(Value::str(t.type_name())),
        (false, "Equals", 2) => Ok(Value::Bool(deep_equals(
            node(0)?.as_ref(),
            node(1)?.as_ref(),
        ))),
        (_, "Equals", 1) => Ok(Value::Bool(args.first() == Some(t))),
        (true, "Compare", 2) => Ok(Value::Int(document_order(
            node(0)?.as_ref(),
            node(1)?.as_ref(),
            at,
        )?)),
        _ => Err(no_xml_member(t.type_name(), name, at)),
    }
}

/// The namespace bound to `prefix` (`""` for the default) at `e`, by the `xmlns`
/// attributes of `e` and its ancestors; `xml` and `xmlns` are always bound.
fn namespace_of_prefix(e: &XRef, prefix: &str) -> Option<String> {
    match prefix {
        "xml" => return Some("http://www.w3.org/XML/1998/namespace".into()),
        "xmlns" => return Some(XMLNS_URI.into()),
        _ => {}
    }
    let mut cur = Some(e.clone());
    while let Some(n) = cur {
        for a in n.attributes() {
            if let XData::Attribute { name, value, .. } = &*a.data() {
                let declares = if prefix.is_empty() {
                    name.namespace.is_empty() && name.local == "xmlns"
                } else {
                    name.namespace == XMLNS_URI && name.local == prefix
                };
                if declares {
                    return Some(value.clone());
                }
            }
        }
        cur = parent_element(&n);
    }
    None
}

/// The prefix bound to `ns` at `e` (innermost declaration whose prefix is not redeclared
/// closer), `None` when there is none.
fn prefix_of_namespace(e: &XRef, ns: &str) -> Option<String> {
    match ns {
        "http://www.w3.org/XML/1998/namespace" => return Some("xml".into()),
        XMLNS_URI => return Some("xmlns".into()),
        _ => {}
    }
    let mut cur = Some(e.clone());
    while let Some(n) = cur {
        for a in n.attributes() {
            let found = match &*a.data() {
                XData::Attribute { name, value, .. }
                    if name.namespace == XMLNS_URI && value == ns =>
                {
                    Some(name.local.clone())
                }
                _ => None,
            };
            if let Some(p) = found
                && namespace_of_prefix(e, &p).as_deref() == Some(ns)
            {
                return Some(p);
            }
        }
        cur = parent_element(&n);
    }
    None
}

fn read_call(t: &Value, n: &XRef, name: &str, args: &[Value], at: usize) -> F<Value> {
    let kind = n.kind();
    let container = n.is_container();
    let element = kind == XKind::Element;
    let is_node = kind != XKind::Attribute;
    let wanted = |args: &[Value]| wanted_arg(args, at);
    let named = |x: &XRef, w: &Option<String>| w.as_deref().is_none_or(|w| x.name_matches(w));
    Ok(match name {
        "ToString" => {
            // `SaveOptions.OmitDuplicateNamespaces` (2).
            let omit = matches!(args.first(), Some(Value::Enum("SaveOptions", o)) if o & 2 == 2);
            Value::str(
                n.try_to_xml_with(compact_arg(args), omit)
                    .map_err(|e| rt("XmlException", e, at))?,
            )
        }
        "Equals" => Value::Bool(node_of(args.first().unwrap_or(&Value::Null)) == Some(n)),
        "Element" if container => {
            let Some(Some(w)) = wanted(args)? else {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'name')",
                    at,
                ));
            };
            opt(n.elements().into_iter().find(|e| e.name_matches(&w)))
        }
        "Elements" if container => match wanted(args)? {
            Some(w) => seq(n.elements().into_iter().filter(|e| named(e, &w))),
            None => Value::Array(Vec::new()),
        },
        "Nodes" if container => {
            let nodes = n.nodes();
            if nodes.len() == 1 && nodes[0].kind() == XKind::Text && nodes[0].value().is_empty() {
                Value::Array(Vec::new())
            } else {
                seq(nodes)
            }
        }
        "Descendants" | "DescendantsAndSelf" | "DescendantNodes" | "DescendantNodesAndSelf"
            if container && (element || !name.ends_with("AndSelf")) =>
        {
            let mut all = Vec::new();
            if name.ends_with("AndSelf") {
                all.push(n.clone());
            }
            descendant_nodes(n, &mut all);
            if name.starts_with("DescendantNodes") {
                seq(all)
            } else {
                match wanted(args)? {
                    Some(w) => seq(all
                        .into_iter()
                        .filter(|x| x.kind() == XKind::Element && named(x, &w))),
                    None => Value::Array(Vec::new()),
                }
            }
        }
        "Attribute" if element => {
            let Some(Some(w)) = wanted(args)? else {
                return Err(rt(
                    "ArgumentNullException",
                    "Value cannot be null. (Parameter 'name')",
                    at,
                ));
            };
            opt(n.attributes().into_iter().find(|a| a.name_matches(&w)))
        }
        "Attributes" if element => match wanted(args)? {
            Some(w) => seq(n.attributes().into_iter().filter(|a| named(a, &w))),
            None => Value::Array(Vec::new()),
        },
        "Ancestors" | "AncestorsAndSelf" if is_node && (element || name == "Ancestors") => {
            match wanted(args)? {
                Some(w) => seq(ancestors(n, name == "AncestorsAndSelf")
                    .into_iter()
                    .filter(|x| named(x, &w))),
                None => Value::Array(Vec::new()),
            }
        }
        "NodesAfterSelf" | "NodesBeforeSelf" if is_node => {
            seq(siblings(n, name == "NodesAfterSelf"))
        }
        "ElementsAfterSelf" | "ElementsBeforeSelf" if is_node => match wanted(args)? {
            Some(w) => seq(siblings(n, name == "ElementsAfterSelf")
                .into_iter()
                .filter(|x| x.kind() == XKind::Element && named(x, &w))),
            None => Value::Array(Vec::new()),
        },
        "IsAfter" | "IsBefore" if is_node => {
            let other = node_arg(args.first(), at)?;
            let o = document_order(Some(n), other.as_ref(), at)?;
            Value::Bool(if name == "IsAfter" { o > 0 } else { o < 0 })
        }
        "CompareDocumentOrder" if is_node && args.len() == 2 => Value::Int(document_order(
            node_arg(args.first(), at)?.as_ref(),
            node_arg(args.get(1), at)?.as_ref(),
            at,
        )?),
        // An XmlReader over the node's markup (written without formatting, so with no
        // whitespace nodes, as XNodeReader reports none): the XmlReader of
        // crates/expr/src/library/xmlreader.rs, made as `XmlReader.Create(new StringReader(…))`.
        "CreateReader" if container && args.is_empty() => {
            let markup = n.try_to_xml(true).map_err(|e| rt("XmlException", e, at))?;
            let input = io_value(crate::io::IoState::StringReader {
                text: Arc::from(markup),
                pos: 0,
                closed: false,
            });
            let reader = xml_reader_create(&vec![(None, input)], at)?;
            if let Value::Object(Object::Io(io)) = &reader
                && let crate::io::IoState::XmlReader(s) = &mut *io.state()
            {
                s.node_reader = true;
            }
            reader
        }
        "GetDefaultNamespace" if element => Value::Object(Object::XNamespace(Arc::from(
            namespace_of_prefix(n, "").unwrap_or_default().as_str(),
        ))),
        "GetNamespaceOfPrefix" if element => match args.first() {
            Some(Value::String(p)) if !p.is_empty() => match namespace_of_prefix(n, p) {
                Some(ns) => Value::Object(Object::XNamespace(Arc::from(ns.as_str()))),
                None => Value::Null,
            },
            Some(Value::String(_)) => {
                return Err(rt(
                    "ArgumentException",
                    "'' is an invalid string for prefix.",
                    at,
                ));
            }
            Some(Value::Null) | None => return Err(null_arg_err("prefix", at)),
            Some(other) => return Err(cast_err(other, "System.String", at)),
        },
        "GetPrefixOfNamespace" if element => match args.first() {
            Some(Value::Object(Object::XNamespace(ns))) => {
                prefix_of_namespace(n, ns).map_or(Value::Null, Value::str)
            }
            Some(Value::String(ns)) => prefix_of_namespace(n, ns).map_or(Value::Null, Value::str),
            Some(Value::Null) | None => return Err(null_arg_err("ns", at)),
            Some(other) => return Err(cast_err(other, "System.Xml.Linq.XNamespace", at)),
        },
        "DeepEquals" if is_node && args.len() == 2 => Value::Bool(deep_equals(
            node_arg(args.first(), at)?.as_ref(),
            node_arg(args.get(1), at)?.as_ref(),
        )),
        _ => return Err(no_xml_member(t.type_name(), name, at)),
    })
}

/// The `System.Xml.Linq.Extensions` over a sequence (`doc.Descendants("a").Elements("b")`,
/// `InDocumentOrder()`): each item's axis, concatenated; `None` for another method or a
/// sequence that is not of nodes.
pub(crate) fn sequence_call(
    items: &[Value],
    name: &str,
    args: &[Value],
    at: usize,
) -> Option<F<Value>> {
    if !matches!(
        name,
        "Ancestors"
            | "AncestorsAndSelf"
            | "Attributes"
            | "DescendantNodes"
            | "DescendantNodesAndSelf"
            | "Descendants"
            | "DescendantsAndSelf"
            | "Elements"
            | "InDocumentOrder"
            | "Nodes"
    ) || !items.iter().all(|i| i.is_null() || node_of(i).is_some())
    {
        return None;
    }
    Some((|| {
        if name == "InDocumentOrder" {
            let mut nodes: Vec<XRef> = Vec::new();
            for i in items {
                match node_of(i) {
                    Some(n) => nodes.push(n.clone()),
                    None => return Err(null_ref(at)),
                }
            }
            // A merge sort: a failed comparison (no common ancestor) is remembered and
            // reported, as .NET's sort throws it.
            let mut failure = None;
            nodes.sort_by(|a, b| match document_order(Some(a), Some(b), at) {
                Ok(o) => o.cmp(&0),
                Err(e) => {
                    failure.get_or_insert(e);
                    std::cmp::Ordering::Equal
                }
            });
            if let Some(e) = failure {
                return Err(e);
            }
            return Ok(seq(nodes));
        }
        let mut out = Vec::new();
        for item in items {
            // The extensions skip null items.
            if item.is_null() {
                continue;
            }
            let r = match call(item, name, args, at) {
                Some(r) => r?,
                None => return Err(no_xml_member(item.type_name(), name, at)),
            };
            match r {
                Value::Array(found) => out.extend(found),
                other => out.push(other),
            }
        }
        // Ancestors of several nodes come in document order, each once (.NET's
        // `GetAncestors` yields per node; duplicates stay): nothing to merge.
        Ok(Value::Array(out))
    })())
}

/// `AddAnnotation(o)`, `Annotation<T>()`, `Annotations<T>()`, `RemoveAnnotations<T>()` on any
/// node or attribute (annotations of type `T` are those `is T`); `None` for another member
/// (or the `Type`-argument forms, not supported).
pub(crate) fn annotation_call(
    t: &Value,
    name: &str,
    generics: &[TypeRef],
    args: &[Value],
    at: usize,
) -> Option<F<Value>> {
    let n = node_of(t)?;
    match (name, generics.first(), args) {
        ("AddAnnotation", None, [v]) => Some(if v.is_null() {
            Err(rt(
                "ArgumentNullException",
                "Value cannot be null.\nParameter name: annotation",
                at,
            ))
        } else {
            n.add_annotation(v.clone());
            Ok(Value::Null)
        }),
        ("Annotation" | "Annotations" | "RemoveAnnotations", Some(ty), []) => {
            let mut list = n.annotations();
            Some(Ok(match name {
                "Annotation" => list
                    .iter()
                    .find(|a| is_instance(a, ty))
                    .cloned()
                    .unwrap_or(Value::Null),
                "Annotations" => Value::Array(
                    list.iter()
                        .filter(|a| is_instance(a, ty))
                        .cloned()
                        .collect(),
                ),
                _ => {
                    list.retain(|a| !is_instance(a, ty));
                    Value::Null
                }
            }))
        }
        _ => None,
    }
}

/// `(string)x`, `(int)x` … on an element or attribute: its value converted, as XLinq's
/// explicit operators do. `None` when `v` is not an element or attribute.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(Object::XElement(e) | Object::XAttribute(e)) => Some(e.value()),
        _ => None,
    }
}
