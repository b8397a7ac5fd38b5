//! LINQ to XML basics (`XElement`, `XDocument`, `XAttribute`, `XName`): the owned, immutable
//! tree built with roxmltree and how it prints. Parsing and the members expressions call are
//! in crates/expr/src/library/xml.rs. Elements are shared through `Arc`, so navigating never
//! copies a subtree.
//!
//! Names: an argument written `"{uri}local"` matches namespace and local name exactly; a plain
//! `"local"` matches the local name in any namespace. .NET would only match elements without a
//! namespace there; matching by local name is the deliberate simplification, since policies
//! written against namespaced payloads mostly care about the local name. `XNamespace` is not
//! supported.

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
            XNode::Text(_) => None,
        })
    }

    /// `Value`: the text of all descendants, in document order.
    pub fn value(&self) -> String {
        let mut s = String::new();
        self.collect_text(&mut s);
        s
    }

    fn collect_text(&self, out: &mut String) {
        for n in &self.nodes {
            match n {
                XNode::Text(t) => out.push_str(t),
                XNode::Element(e) => e.collect_text(out),
            }
        }
    }

    /// `ToString()`: indented by two spaces like .NET, except inside mixed content, which is
    /// printed as is.
    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, 0);
        s
    }

    fn write(&self, out: &mut String, indent: usize) {
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
        let mixed = self.nodes.iter().any(|n| matches!(n, XNode::Text(_)));
        for n in &self.nodes {
            match n {
                XNode::Text(t) => escape(t, false, out),
                XNode::Element(e) => {
                    if !mixed {
                        out.push('\n');
                        out.push_str(&"  ".repeat(indent + 1));
                    }
                    e.write(out, indent + 1);
                }
            }
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
