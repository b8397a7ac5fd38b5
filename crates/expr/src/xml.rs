//! LINQ to XML basics (`XElement`, `XDocument`, `XAttribute`, `XName`): the owned, immutable
//! tree built with roxmltree and how it prints. Parsing and the members expressions call are
//! in crates/expr/src/library/xml.rs. Elements are shared through `Arc`, so navigating never
//! copies a subtree.
//!
//! Names: an argument written `"{uri}local"` matches namespace and local name exactly; a plain
//! `"local"` matches the local name in any namespace. .NET would only match elements without a
//! namespace there; matching by local name is the deliberate simplification, since policies
//! written against namespaced payloads mostly care about the local name.
//!
//! The tree has no parent links (subtrees are shared, and values are immutable), so
//! `Parent`, `NextNode`, `PreviousNode` and the members that edit a tree in place (`Remove`,
//! `Add`, `SetValue`, `ReplaceWith`) are not supported; a policy builds a new tree instead
//! (`new XElement(name, content…)`, crates/expr/src/library/xml_build.rs).

use std::sync::Arc;

/// Documents deeper than this are refused: building, printing and dropping the tree recurse
/// once per level, and a hostile body must not exhaust the stack.
pub(crate) const MAX_XML_DEPTH: usize = 256;

/// An expanded name: namespace URI (empty for none) and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XName {
    pub namespace: String,
    pub local: String,
}

impl XName {
    /// `{uri}local`, or `local` without a namespace (`XName.ToString()`).
    pub fn expanded(&self) -> String {
        if self.namespace.is_empty() {
            self.local.clone()
        } else {
            format!("{{{}}}{}", self.namespace, self.local)
        }
    }

    /// Whether a name as written in a call (`"a"` or `"{uri}a"`) designates this name.
    pub(crate) fn matches(&self, wanted: &str) -> bool {
        match wanted.strip_prefix('{').and_then(|r| r.split_once('}')) {
            Some((ns, local)) => self.namespace == ns && self.local == local,
            None => self.local == wanted,
        }
    }
}

/// An attribute; namespace declarations (`xmlns`, `xmlns:p`) are attributes too, as in .NET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XAttribute {
    pub name: XName,
    /// The name as written, for printing (`p:a`, `xmlns:p`).
    pub qualified: String,
    pub value: String,
}

impl XAttribute {
    /// `ToString()`: `name="value"`.
    pub fn to_xml(&self) -> String {
        let mut s = format!("{}=\"", self.qualified);
        escape(&self.value, true, &mut s);
        s.push('"');
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XNode {
    Element(Arc<XElement>),
    Text(String),
    /// `XCData`: text that prints as `<![CDATA[…]]>`.
    CData(String),
    Comment(String),
    /// `XProcessingInstruction`: target and data.
    Pi(String, String),
}

impl XNode {
    /// `ToString()` of a node on its own (an element indented unless `compact`).
    pub fn to_xml(&self, compact: bool) -> String {
        let mut s = String::new();
        write_node(self, &mut s, 0, compact);
        s
    }

    /// The .NET type of the node.
    pub fn type_name(&self) -> &'static str {
        match self {
            XNode::Element(_) => "System.Xml.Linq.XElement",
            XNode::Text(_) => "System.Xml.Linq.XText",
            XNode::CData(_) => "System.Xml.Linq.XCData",
            XNode::Comment(_) => "System.Xml.Linq.XComment",
            XNode::Pi(..) => "System.Xml.Linq.XProcessingInstruction",
        }
    }

    /// `NodeType` (an `XmlNodeType` name).
    pub fn node_type(&self) -> &'static str {
        match self {
            XNode::Element(_) => "Element",
            XNode::Text(_) => "Text",
            XNode::CData(_) => "CDATA",
            XNode::Comment(_) => "Comment",
            XNode::Pi(..) => "ProcessingInstruction",
        }
    }

    fn is_text(&self) -> bool {
        matches!(self, XNode::Text(_) | XNode::CData(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XElement {
    pub name: XName,
    /// The name as written (`p:a`), for printing.
    pub qualified: String,
    pub attributes: Vec<XAttribute>,
    pub nodes: Vec<XNode>,
}

impl XElement {
    pub fn elements(&self) -> impl Iterator<Item = &Arc<XElement>> {
        self.nodes.iter().filter_map(|n| match n {
            XNode::Element(e) => Some(e),
            _ => None,
        })
    }

    /// `Value`: the text (and CDATA) of all descendants, in document order.
    pub fn value(&self) -> String {
        let mut s = String::new();
        self.collect_text(&mut s);
        s
    }

    fn collect_text(&self, out: &mut String) {
        for n in &self.nodes {
            match n {
                XNode::Text(t) | XNode::CData(t) => out.push_str(t),
                XNode::Element(e) => e.collect_text(out),
                XNode::Comment(_) | XNode::Pi(..) => {}
            }
        }
    }

    /// `ToString()`: indented by two spaces like .NET.
    pub fn to_xml(&self) -> String {
        self.to_xml_with(false)
    }

    /// `ToString(SaveOptions.DisableFormatting)` when `compact`.
    pub fn to_xml_with(&self, compact: bool) -> String {
        let mut s = String::new();
        self.write(&mut s, 0, compact);
        s
    }

    /// Writes the element as .NET's indenting XmlWriter does: each child on its own line,
    /// until a text (or CDATA) child is written — from there on, this element and everything
    /// inside it is written inline ("mixed content"), as `compact` writes everything.
    fn write(&self, out: &mut String, indent: usize, compact: bool) {
        out.push('<');
        out.push_str(&self.qualified);
        for a in &self.attributes {
            out.push(' ');
            out.push_str(&a.qualified);
            out.push_str("=\"");
            escape(&a.value, true, out);
            out.push('"');
        }
        if self.nodes.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        let mut mixed = compact;
        for n in &self.nodes {
            if n.is_text() {
                mixed = true;
            } else if !mixed {
                out.push('\n');
                out.push_str(&"  ".repeat(indent + 1));
            }
            write_node(n, out, indent + 1, mixed);
        }
        if !mixed {
            out.push('\n');
            out.push_str(&"  ".repeat(indent));
        }
        out.push_str("</");
        out.push_str(&self.qualified);
        out.push('>');
    }
}

fn write_node(n: &XNode, out: &mut String, indent: usize, compact: bool) {
    match n {
        XNode::Element(e) => e.write(out, indent, compact),
        XNode::Text(t) => escape(t, false, out),
        XNode::CData(t) => {
            // "]]>" cannot appear inside a section: .NET splits it across two.
            out.push_str("<![CDATA[");
            out.push_str(&t.replace("]]>", "]]]]><![CDATA[>"));
            out.push_str("]]>");
        }
        XNode::Comment(c) => {
            out.push_str("<!--");
            out.push_str(c);
            out.push_str("-->");
        }
        XNode::Pi(target, data) => {
            out.push_str("<?");
            out.push_str(target);
            if !data.is_empty() {
                out.push(' ');
                out.push_str(data);
            }
            out.push_str("?>");
        }
    }
}

fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
